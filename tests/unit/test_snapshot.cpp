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
