#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "model/json_io.hpp"

inline std::string fixture_path(const std::string& rel) { return std::string(DFA_FIXTURES) + "/" + rel; }

inline std::string fixture_text(const std::string& rel) {
  auto t = dfa::read_text_file(fixture_path(rel));
  REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
  return t.value();
}

inline dfa::Json fixture_json(const std::string& rel) {
  auto j = dfa::read_json_file(fixture_path(rel));
  REQUIRE_MESSAGE(j.ok(), (j.ok() ? "" : j.error().message));
  return j.value();
}

// Adds to a snapshot's nftables ruleset a table with one base chain of the
// hook at prio (policy accept), and returns the ruleset to add rules to.
inline dfa::Json& add_nft_base_chain(dfa::Json& doc, const std::string& family, const std::string& table,
                                     const std::string& chain, const std::string& hook, int prio) {
  dfa::Json& rs = doc["nftables"]["ruleset"];
  rs.push_back({{"table", {{"family", family}, {"name", table}, {"handle", 900}}}});
  rs.push_back({{"chain", {{"family", family}, {"table", table}, {"name", chain}, {"handle", 901}, {"type", "filter"},
                           {"hook", hook}, {"prio", prio}, {"policy", "accept"}}}});
  return rs;
}

// Holds got to the reviewed golden file fixtures/REL; DFA_REGEN=1 rewrites
// the file with got first (then review the diff).
inline void check_golden(const std::string& rel, const std::string& got) {
  if (std::getenv("DFA_REGEN") != nullptr) std::ofstream(fixture_path(rel)) << got;
  CHECK(got == fixture_text(rel));
}

// A lab recording: fixtures/scenarios/NAME (Docker 20.10, the first one
// recorded) or NAME/docker-VERSION (tests/lab/scenario.sh, DFA_LAB_DOCKER).
struct LabRecording {
  std::string scenario;  // NAME
  std::string version;   // "20.10", "28.5", ...
  // The path under fixtures/scenarios: NAME or NAME/docker-VERSION.
  std::string name() const { return version == "20.10" ? scenario : scenario + "/docker-" + version; }
  // The same Docker version's recording of another scenario.
  std::string of(const std::string& other) const { return LabRecording{other, version}.name(); }
};

// Every recording of every lab scenario, in a stable order.
inline std::vector<LabRecording> lab_recordings() {
  std::vector<LabRecording> out;
  for (const auto& dir : std::filesystem::directory_iterator(fixture_path("scenarios"))) {
    std::string scenario = dir.path().filename().string();
    // A scenario of features 20.10 lacks has no 20.10 recording.
    if (std::filesystem::exists(dir.path() / "observed.json")) out.push_back({scenario, "20.10"});
    for (const auto& sub : std::filesystem::directory_iterator(dir.path())) {
      std::string n = sub.path().filename().string();
      if (sub.is_directory() && n.rfind("docker-", 0) == 0 && std::filesystem::exists(sub.path() / "observed.json"))
        out.push_back({scenario, n.substr(7)});
    }
  }
  std::sort(out.begin(), out.end(), [](const LabRecording& a, const LabRecording& b) { return a.name() < b.name(); });
  return out;
}
