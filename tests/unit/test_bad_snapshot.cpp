// Damaged snapshots: every value of real lab snapshots changed to another
// type or removed, one at a time, then read by every reader the commands
// use. Each must be refused with a JSON pointer or analyzed to the end:
// never an exception, never undefined behaviour (the ASan/UBSan pass runs
// this too).
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>

#include "../fuzz/pipeline.hpp"
#include "fixtures.hpp"
#include "model/shape.hpp"

using dfa::Json;

namespace {

// Every place in doc, as the JSON pointer of a value and a way to damage it.
void places(const Json& j, const std::string& ptr, std::vector<std::string>& out) {
  out.push_back(ptr);
  if (j.is_object())
    for (const auto& [k, v] : j.items()) places(v, ptr + "/" + dfa::pointer_token(k), out);
  else if (j.is_array())
    for (std::size_t i = 0; i < j.size(); ++i) places(j[i], ptr + "/" + std::to_string(i), out);
}

// The value at ptr replaced by one of another type, or (mode 1) removed.
Json damaged(Json doc, const std::string& ptr, int mode) {
  Json::json_pointer p(ptr);
  Json& v = doc[p];
  if (mode == 1) {
    Json& parent = doc[p.parent_pointer()];
    if (parent.is_object()) parent.erase(p.back());
    else parent.erase(parent.begin() + static_cast<long>(std::stoul(p.back())));
    return doc;
  }
  if (v.is_string()) v = 7;
  else if (v.is_number()) v = mode == 2 ? Json(-1) : Json("7");
  else if (v.is_boolean() || v.is_null()) v = "x";
  else if (v.is_array()) v = Json::object();
  else v = Json::array();
  return doc;
}

void damage_all(const char* scenario, std::size_t stride) {
  Json doc = fixture_json(std::string("scenarios/") + scenario + "/snapshot.json");
  std::vector<std::string> ptrs;
  places(doc, "", ptrs);
  std::size_t refused = 0, analyzed = 0;
  for (std::size_t i = 1; i < ptrs.size(); i += stride)
    for (int mode : {0, 1, 2}) {
      std::string text = dfa::dump_json(damaged(doc, ptrs[i], mode));
      CAPTURE(ptrs[i]);
      CAPTURE(mode);
      bool accepted = false;
      CHECK_NOTHROW(accepted = dfa::fuzz::run_snapshot_pipeline(text, i % (stride * 8) == 1));
      (accepted ? analyzed : refused) += 1;
    }
  MESSAGE(scenario << ": " << refused << " damaged snapshots refused, " << analyzed << " analyzed");
  CHECK(refused > 0);
  CHECK(analyzed > 0);
}

}  // namespace

TEST_CASE("given a scenario snapshot with any one value damaged, then it is refused or analyzed, never a crash") {
  damage_all("01-bypass-nft", 3);
  damage_all("02-bypass-legacy", 3);
  damage_all("09-handwritten-nat", 5);
}

TEST_CASE("given a value of the wrong type, then the refusal names its JSON pointer") {
  Json doc = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  doc["host"]["listening_sockets"][1]["port"] = "8080";
  auto r = dfa::validate_snapshot(doc, "s.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "s.json: /host/listening_sockets/1/port: expected a whole number from 0, found string");
  doc = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  doc["host"].erase("sysctls");
  r = dfa::validate_snapshot(doc, "s.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "s.json: /host: missing member \"sysctls\"");
  doc = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  doc["host"]["sysctls"]["net/ipv4/ip_forward"] = 1;
  r = dfa::validate_snapshot(doc, "s.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "s.json: /host/sysctls/net~1ipv4~1ip_forward: expected a string or null, found number");
  doc = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  doc["docker_api"]["containers"][0]["ports"][0]["host_port"] = 70000;
  r = dfa::validate_snapshot(doc, "s.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "s.json: /docker_api/containers/0/ports/0/host_port: 70000 is out of range (at most 65535)");
}

TEST_CASE("given an nft expression the compiler cannot read, then walks through its rule are uncertain") {
  Json doc = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  std::size_t changed = 0;
  for (auto& o : doc["nftables"]["ruleset"])
    if (o.contains("rule") && o["rule"]["chain"] == "input" && !changed++)
      o["rule"]["expr"].insert(o["rule"]["expr"].begin(), Json{{"match", {{"left", 5}, {"right", {{"set", 3}}}}}});
  REQUIRE(changed == 1);
  dfa::Snapshot s{doc};
  dfa::Engine e(s);
  dfa::Source src;
  src.kind = dfa::Source::Kind::remote;
  src.addr = dfa::IpAddr::parse("2001:db8:1::2");
  // IPv6 to 8080 reaches docker-proxy through the input chain, whose
  // `tcp dport 8080 drop` decided it; with a test that cannot be read in
  // front of it, the rule may drop the packet or not.
  auto out = e.run(src, *dfa::IpAddr::parse("2001:db8:1::1"), 8080, "tcp");
  CHECK(out.result == dfa::Outcome::Result::uncertain);
}

TEST_CASE("given every input the fuzzers found a defect with, then it is refused or read, never an exception") {
  // fixtures/fuzz/KIND-HASH: the inputs libFuzzer kept (docs/fuzzing.md).
  namespace fs = std::filesystem;
  std::size_t n = 0;
  for (const auto& f : fs::directory_iterator(fixture_path("fuzz"))) {
    std::string name = f.path().filename().string();
    std::string text = fixture_text("fuzz/" + name);
    CAPTURE(name);
    ++n;
    if (name.rfind("snapshot-", 0) == 0) {
      CHECK_NOTHROW((void)dfa::fuzz::run_snapshot_pipeline(text));
    } else if (name.rfind("baseline-", 0) == 0) {
      auto base = dfa::parse_baseline(text, name);
      if (base) {
        Json doc = fixture_json("scenarios/01-bypass-nft/snapshot.json");
        dfa::Snapshot s{doc};
        dfa::Engine e(s);
        auto scan = dfa::run_scan(e);
        CHECK_NOTHROW((void)dfa::compare_baselines(*base, dfa::make_baseline(e, scan), scan.findings));
      }
    } else if (name.rfind("policy-", 0) == 0) {
      CHECK_NOTHROW((void)dfa::parse_guard_policy(text, name));
    }
  }
  CHECK(n >= 3);
}
