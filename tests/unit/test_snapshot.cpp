#include <doctest/doctest.h>

#include "fixtures.hpp"
#include "model/snapshot.hpp"

using dfa::Json;

namespace {
Json minimal() {
  return Json::parse(R"({"schema_version": 1,
    "collectors": {"nftables": {"status": "ok", "reason": ""}, "docker_api": {"status": "absent", "reason": "no socket"}},
    "nftables": {"ruleset": [{"metainfo": {}}]}})");
}
}  // namespace

TEST_CASE("given a minimal valid snapshot, then it validates") {
  CHECK(dfa::validate_snapshot(minimal(), "s.json").ok());
}

TEST_CASE("given malformed JSON, then the error names file, line and column") {
  auto r = dfa::parse_json_text("{\n  \"schema_version\": 1,\n  \"collectors\": {,\n}", "snap.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.rfind("snap.json:3:18: ", 0) == 0);
}

TEST_CASE("given a snapshot from a newer schema, then it is refused with advice") {
  Json j = minimal();
  j["schema_version"] = 99;
  auto r = dfa::validate_snapshot(j, "s.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "s.json: /schema_version: snapshot schema 99 is newer than this dockfw-audit supports (1); upgrade dockfw-audit");
}

TEST_CASE("given structural errors, then the error names the JSON pointer") {
  Json j = minimal();
  j["nftables"]["ruleset"].push_back(7);
  auto r = dfa::validate_snapshot(j, "s.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "s.json: /nftables/ruleset/1: expected an object, found number");

  Json k = minimal();
  k["collectors"]["nftables"]["status"] = "maybe";
  CHECK(dfa::validate_snapshot(k, "s.json").error().message ==
        "s.json: /collectors/nftables/status: expected one of ok, absent, denied, error");

  Json m = minimal();
  m.erase("nftables");
  CHECK(dfa::validate_snapshot(m, "s.json").error().message ==
        "s.json: /collectors/nftables: collector is ok but section /nftables is missing");
}

TEST_CASE("given a collector that was denied, then its section is not offered as data") {
  Json j = minimal();
  j["collectors"]["nftables"]["status"] = "denied";
  dfa::Snapshot s{j};
  CHECK(s.section("nftables") == nullptr);
  CHECK(s.collector("nftables").status == dfa::CollectorStatus::denied);
  CHECK(s.collector("iptables_legacy").status == dfa::CollectorStatus::unknown);
}

namespace {
// Same values and the same number types, key order included.
bool identical(const dfa::Json& a, const dfa::Json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y)
      if (x.key() != y.key() || !identical(x.value(), y.value())) return false;
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!identical(a[i], b[i])) return false;
    return true;
  }
  return a == b;
}
}  // namespace

TEST_CASE("given any JSON text, then the fast reader makes the tree Json::parse makes") {
  // parse_json_text reads with simdjson and falls back to nlohmann where
  // the two could differ; either way the tree must be nlohmann's.
  const char* texts[] = {
      R"({"a": 1, "b": -1, "c": 1.5, "d": 1e3, "e": 18446744073709551615, "f": -9223372036854775808})",
      R"({"big": 123456789012345678901234567890, "x": [true, false, null]})",  // beyond uint64: a float
      R"({"k": 1, "j": 2, "k": 3})",                                         // duplicate: last value, first place
      R"({"s": "tab\there\nand a newline", "u": "\u00e9\ud83d\ude00\u0000", "q": "\"\\/"})",
      R"([[], {}, "", 0, [[[{"deep": [1, 2, {"z": "y"}]}]]]])",
      R"(  {"spaces": "around"}  )",
  };
  for (const char* t : texts) {
    CAPTURE(t);
    auto r = dfa::parse_json_text(t, "t.json");
    REQUIRE(r.ok());
    CHECK(identical(*r, dfa::Json::parse(t)));
  }
  std::string deep(3000, '[');
  deep += std::string(3000, ']');
  auto r = dfa::parse_json_text(deep, "deep.json");  // deeper than simdjson reads
  REQUIRE(r.ok());
  CHECK(identical(*r, dfa::Json::parse(deep)));
}

TEST_CASE("given JSON that only one parser would accept, then it is refused with a position") {
  for (const char* t : {"{\"a\": \"raw\ttab\"}", "{\"a\": 1} trailing", "{\"a\": 01}", "[1, 2,]", "",
                        "[\"\\ud800\"]", "{\"a\": \"\x01\"}"}) {
    CAPTURE(t);
    auto r = dfa::parse_json_text(t, "bad.json");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.rfind("bad.json:1:", 0) == 0);
  }
}
