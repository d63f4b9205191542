// Baselines, drift, suppressions and metrics, on real lab snapshots
// (fixtures/scenarios) and edits of them.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "analyze/exposure.hpp"
#include "drift/baseline.hpp"
#include "drift/metrics.hpp"
#include "drift/suppress.hpp"
#include "fixtures.hpp"

using dfa::Finding;
using dfa::Json;

namespace {

struct Run {
  dfa::Snapshot snap;
  dfa::ScanResult scan;
  dfa::Baseline baseline;
};

// A baseline's file as a document, to edit as a user or an old version would.
Json document(const dfa::Baseline& b) { return Json::parse(dfa::baseline_text(b)); }

Run analyze(const Json& doc) {
  Run r{dfa::Snapshot{doc}, {}, {}};
  dfa::Engine e(r.snap);
  r.scan = dfa::run_scan(e);
  r.baseline = dfa::make_baseline(e, r.scan);
  return r;
}

Json scenario(const char* name) { return fixture_json(std::string("scenarios/") + name + "/snapshot.json"); }

std::vector<Finding> drift(const Json& base_doc, const Json& now_doc) {
  Run b = analyze(base_doc), n = analyze(now_doc);
  return dfa::compare_baselines(b.baseline, n.baseline, n.scan.findings);
}

std::vector<const Finding*> of(const std::vector<Finding>& fs, const std::string& rule) {
  std::vector<const Finding*> v;
  for (const auto& f : fs)
    if (f.rule_id == rule) v.push_back(&f);
  return v;
}

bool any_message(const std::vector<Finding>& fs, const std::string& rule, const std::string& part) {
  for (const auto* f : of(fs, rule))
    if (f->message.find(part) != std::string::npos) return true;
  return false;
}

// A file in a fresh temporary directory, removed with it.
struct TempFile {
  std::string dir, path;
  explicit TempFile(const std::string& text, const char* name = "f.json") {
    char tmpl[] = "/tmp/dfa-unit-XXXXXX";
    dir = mkdtemp(tmpl);
    path = dir + "/" + name;
    std::ofstream(path) << text;
  }
  ~TempFile() {
    std::remove(path.c_str());
    rmdir(dir.c_str());
  }
};

}  // namespace

TEST_CASE("given the same snapshot twice, then nothing drifts") {
  for (const char* name : {"01-bypass-nft", "02-bypass-legacy", "05-compose-networks", "10-ipv6-ip6tables"}) {
    CAPTURE(name);
    CHECK(drift(scenario(name), scenario(name)).empty());
  }
}

TEST_CASE("given a baseline saved with the forward guard, when the guard is gone, then IPv4 8080 is opened (high)") {
  auto fs = drift(scenario("07-forward-guard"), scenario("01-bypass-nft"));
  // The guard only let 198.51.100.0/24 in; now everyone on eth0 reaches the container.
  CHECK(any_message(fs, "DFA101", "web 0.0.0.0:8080->80/tcp is now open at 127.0.0.1:8080/tcp, 172.17.0.1:8080/tcp, 198.51.100.1:8080/tcp, 203.0.113.1:8080/tcp from any other IPv4 address on eth0"));
  CHECK(any_message(fs, "DFA101", "any other IPv4 address on eth0"));
  CHECK(dfa::find_rule("DFA101")->severity == dfa::Severity::high);
  CHECK(any_message(fs, "DFA104", "nft inet guard chain forward: is gone"));
  CHECK(any_message(fs, "DFA003", "new since the baseline"));
  CHECK(dfa::highest(fs) == dfa::Severity::high);
}

TEST_CASE("given the reverse, then the same cells are reported closed (info), not opened") {
  auto fs = drift(scenario("01-bypass-nft"), scenario("07-forward-guard"));
  CHECK(any_message(fs, "DFA102", "web 0.0.0.0:8080->80/tcp was open at"));
  // Nothing from outside is opened (the host and containers do gain 8080:
  // scenario 7 has no input drop).
  CHECK_FALSE(any_message(fs, "DFA101", "any other IPv4 address on eth0"));
  CHECK(any_message(fs, "DFA104", "nft inet guard chain forward: appeared"));
  CHECK(dfa::find_rule("DFA102")->severity == dfa::Severity::info);
}

TEST_CASE("given a source class split by a new prefix, then the new class is compared with the one it came from") {
  // Scenario 7's rules mention 198.51.100.0/24; scenario 1's do not. From 1 to 7
  // the class "198.51.100.0/24 on eth0" is new and maps to "any other" of 1;
  // it stays open, so it must not be reported as opened.
  auto fs = drift(scenario("01-bypass-nft"), scenario("07-forward-guard"));
  for (const auto* f : of(fs, "DFA101")) CHECK(f->message.find("198.51.100.0/24 on eth0") == std::string::npos);
}

TEST_CASE("given daemon.json, a sysctl and a container changed, then each is reported with its rule") {
  Json base = scenario("01-bypass-nft");
  Json now = base;
  auto& dj = now["docker_config"]["daemon_json"];
  dj["content"] = Json::parse(R"({"userland-proxy": false})");
  dj["key_lines"] = Json::parse(R"({"userland-proxy": 2})");
  now["host"]["sysctls"]["net/ipv4/conf/all/route_localnet"] = "1";
  auto& containers = now["docker_api"]["containers"];
  containers[0]["ports"] = Json::array();
  auto fs = drift(base, now);
  REQUIRE(of(fs, "DFA105").size() == 1);
  const Finding& cfg = *of(fs, "DFA105")[0];
  CHECK(cfg.message.find("\"userland-proxy\": (unset) -> false") != std::string::npos);
  CHECK(cfg.location.file == dj["path"].get<std::string>());
  CHECK(cfg.location.line == 2);
  CHECK(any_message(fs, "DFA106", "net.ipv4.conf.all.route_localnet: \"0\" -> \"1\""));
  CHECK(any_message(fs, "DFA107", "container web published 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp -> none"));
  // Its published entries are gone: every open cell of them is closed.
  CHECK(any_message(fs, "DFA102", "web 0.0.0.0:8080->80/tcp"));
}

TEST_CASE("given a collector denied now, then its part is not compared and the change is uncertain") {
  Json base = scenario("01-bypass-nft");
  Json now = base;
  now["collectors"]["nftables"] = {{"status", "denied"}, {"reason", "test"}};
  now["nftables"] = nullptr;
  auto fs = drift(base, now);
  CHECK(any_message(fs, "DFA103", "collector nftables was ok at the baseline and is denied now"));
  CHECK(of(fs, "DFA104").empty());  // not "every chain is gone"
  CHECK(of(fs, "DFA102").empty());  // unknown is not closed
}

TEST_CASE("given a baseline file, then it loads; newer, foreign and corrupt ones are refused with their position") {
  Run r = analyze(scenario("01-bypass-nft"));
  {
    TempFile f(dfa::baseline_text(r.baseline));
    auto b = dfa::load_baseline(f.path);
    REQUIRE(b.ok());
    CHECK(dfa::compare_baselines(*b, r.baseline, r.scan.findings).empty());
  }
  {
    Json newer = document(r.baseline);
    newer["schema_version"] = 99;
    TempFile f(dfa::dump_json(newer));
    auto b = dfa::load_baseline(f.path);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().message == f.path + ": /schema_version: baseline schema 99 is newer than this dockfw-audit supports "
                                        "(3); upgrade dockfw-audit or save the baseline again");
  }
  {
    TempFile f(dfa::dump_json(scenario("01-bypass-nft")));  // a snapshot, not a baseline
    auto b = dfa::load_baseline(f.path);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().message.find(": /kind: not a dockfw-audit baseline") != std::string::npos);
  }
  {
    TempFile f("{\n  \"kind\": \"dockfw-audit-baseline\",\n  \"schema_version\": 1,\n  \"exposure\": [\n}\n");
    auto b = dfa::load_baseline(f.path);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().message.rfind(f.path + ":5:1: ", 0) == 0);
  }
  {
    Json bad = document(r.baseline);
    bad["source_sets"][0][0] = 999;
    TempFile f(dfa::dump_json(bad));
    auto b = dfa::load_baseline(f.path);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().message.rfind(f.path + ": /source_sets/0: expected indexes of /source_classes (0-", 0) == 0);
  }
  {
    Json bad = document(r.baseline);
    bad["exposure"][0]["cells"][0]["source_set"] = 999;
    TempFile f(dfa::dump_json(bad));
    auto b = dfa::load_baseline(f.path);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().message.rfind(f.path + ": /exposure/0/cells/0/source_set: expected an index of /source_sets (0-", 0) == 0);
  }
}

namespace {
// A schema 2 baseline as schema 1 wrote it: each cell lists its sources.
Json as_schema_1(Json b) {
  for (auto& en : b["exposure"])
    for (auto& c : en["cells"]) {
      c["sources"] = b["source_sets"][c["source_set"].get<std::size_t>()];
      c.erase("source_set");
    }
  b.erase("source_sets");
  b["schema_version"] = 1;
  return b;
}
}  // namespace

TEST_CASE("given a baseline saved by schema 1, then it loads and drifts as its schema 2 twin does") {
  // Baselines on disk outlive upgrades: one saved before source sets must
  // still be read, and compare exactly as the same baseline saved now.
  Run guarded = analyze(scenario("07-forward-guard")), open = analyze(scenario("01-bypass-nft"));
  TempFile f(dfa::dump_json(as_schema_1(document(guarded.baseline))));
  auto old = dfa::load_baseline(f.path);
  REQUIRE(old.ok());
  auto from_old = dfa::compare_baselines(*old, open.baseline, open.scan.findings);
  auto from_new = dfa::compare_baselines(guarded.baseline, open.baseline, open.scan.findings);
  REQUIRE(from_new.size() == from_old.size());
  CHECK(!of(from_new, "DFA101").empty());
  for (std::size_t i = 0; i < from_new.size(); ++i) {
    CHECK(from_new[i].rule_id == from_old[i].rule_id);
    CHECK(from_new[i].message == from_old[i].message);
    CHECK(from_new[i].evidence == from_old[i].evidence);
  }
  CHECK(dfa::compare_baselines(*old, guarded.baseline, guarded.scan.findings).empty());
}

namespace {
// 01-bypass-nft with a table of its own holding a blocklist whose elements
// time out (as fail2ban's and crowdsec's do) and a verdict map.
const char* const kPorts = R"([[22, {"accept": null}], [8080, {"jump": {"target": "web"}}]])";
Json with_sets(const Json& blocklist) {
  Json doc = scenario("01-bypass-nft");
  auto& rs = doc["nftables"]["ruleset"];
  rs.push_back({{"table", {{"family", "inet"}, {"name", "f2b"}, {"handle", 90}}}});
  rs.push_back({{"set",
                 {{"family", "inet"}, {"table", "f2b"}, {"name", "blocklist"}, {"type", "ipv4_addr"}, {"handle", 1},
                  {"flags", {"timeout"}}, {"elem", blocklist}}}});
  rs.push_back({{"map",
                 {{"family", "inet"}, {"table", "f2b"}, {"name", "ports"}, {"type", "inet_service"}, {"map", "verdict"},
                  {"handle", 2}, {"elem", Json::parse(kPorts)}}}});
  return doc;
}
Json timed(const char* addr, int expires, int packets) {
  return {{"elem", {{"val", addr}, {"timeout", 600}, {"expires", expires}, {"counter", {{"packets", packets}, {"bytes", 60 * packets}}}}}};
}
std::vector<std::string> messages(const std::vector<Finding>& fs) {
  std::vector<std::string> v;
  for (const auto& f : fs) v.push_back(f.rule_id + " " + f.message);
  return v;
}
const dfa::Finding* set_change(const std::vector<Finding>& fs, const std::string& key) {
  for (const auto* f : of(fs, "DFA104"))
    if (f->identity == key) return f;
  return nullptr;
}
}  // namespace

TEST_CASE("given a set whose elements time out, then elements added or removed drift, their expires and counters not") {
  const Json blocklist = {timed("192.0.2.1", 590, 1), timed("192.0.2.2", 100, 0)};
  Run base = analyze(with_sets(blocklist));
  CHECK(base.baseline.rules.at("nft inet f2b set blocklist").elements ==
        std::vector<std::string>{"192.0.2.1 timeout 600", "192.0.2.2 timeout 600"});
  CHECK(base.baseline.rules.at("nft inet f2b map ports").elements == std::vector<std::string>{"22 : accept", "8080 : jump web"});
  // A minute later: the same elements, with less time left and more packets.
  Run later = analyze(with_sets({timed("192.0.2.1", 530, 9), timed("192.0.2.2", 40, 3)}));
  CHECK(set_change(dfa::compare_baselines(base.baseline, later.baseline, later.scan.findings), "nft inet f2b set blocklist") ==
        nullptr);
  // 192.0.2.2 timed out, 203.0.113.9 was banned.
  Run next = analyze(with_sets({timed("192.0.2.1", 500, 9), timed("203.0.113.9", 600, 0)}));
  const std::vector<Finding> changes = dfa::compare_baselines(base.baseline, next.baseline, next.scan.findings);
  const Finding* f = set_change(changes, "nft inet f2b set blocklist");
  REQUIRE(f != nullptr);
  CHECK(f->message ==
        "nft inet f2b set blocklist: 1 element added, 1 element removed; + 203.0.113.9 timeout 600; - 192.0.2.2 timeout 600");

  SUBCASE("a schema 2 baseline (elements as rules of their JSON, expires included) compares as if saved now") {
    Json old = document(base.baseline);
    old["schema_version"] = 2;
    for (const auto& [key, elems] : {std::pair{"nft inet f2b set blocklist", blocklist},
                                     std::pair{"nft inet f2b map ports", Json::parse(kPorts)}}) {
      Json& e = old["rules"][key];
      Json rules = Json::array();
      for (const auto& el : elems) rules.push_back({{"text", el.dump()}, {"id", dfa::stable_hash(el.dump())}});
      e.erase("elements");
      e["rules"] = rules;
      e["digest"] = "schema 2 digest";
    }
    TempFile file(dfa::dump_json(old));
    auto loaded = dfa::load_baseline(file.path);
    REQUIRE(loaded.ok());
    CHECK(loaded->rules == base.baseline.rules);
    CHECK(messages(dfa::compare_baselines(*loaded, later.baseline, later.scan.findings)) ==
          messages(dfa::compare_baselines(base.baseline, later.baseline, later.scan.findings)));
    const std::vector<Finding> from_old = dfa::compare_baselines(*loaded, next.baseline, next.scan.findings);
    const Finding* g = set_change(from_old, "nft inet f2b set blocklist");
    REQUIRE(g != nullptr);
    CHECK(g->message == f->message);
  }
}

TEST_CASE("given a rule with counters, then its identity leaves them out and is the one earlier baselines saved") {
  auto with_rule = [](int packets) {
    Json doc = scenario("01-bypass-nft");
    auto& rs = doc["nftables"]["ruleset"];
    rs.push_back({{"table", {{"family", "inet"}, {"name", "count"}, {"handle", 91}}}});
    rs.push_back({{"chain", {{"family", "inet"}, {"table", "count"}, {"name", "c"}, {"handle", 1}}}});
    rs.push_back({{"rule",
                   {{"family", "inet"}, {"table", "count"}, {"chain", "c"}, {"handle", 2}, {"comment", "say \"hi\""},
                    {"expr", Json::parse(fmt::format(R"([{{"match": {{"op": "==", "left": {{"payload": {{"protocol":
                      "tcp", "field": "dport"}}}}, "right": 8080}}}}, {{"counter": {{"packets": {0}, "bytes": {1}}}}},
                      {{"limit": {{"rate": 5, "per": "minute", "counters": {0}}}}}, {{"drop": null}}])",
                                                   packets, 60 * packets))}}}});
    return doc;
  };
  const Run a = analyze(with_rule(1)), b = analyze(with_rule(900));
  const auto& ra = a.baseline.rules.at("nft inet count chain c").rules;
  REQUIRE(ra.size() == 1);
  CHECK(ra == b.baseline.rules.at("nft inet count chain c").rules);
  // The text the identity hashed since schema 1 (nlohmann's compact dump of
  // the expressions without counters, then the comment): baselines saved by
  // earlier versions keep matching.
  CHECK(ra[0].id ==
        dfa::stable_hash(R"([{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":8080}},)"
                         R"({"counter":null},{"limit":{"rate":5,"per":"minute"}},{"drop":null}])"
                         "say \"hi\""));
}

TEST_CASE("given suppressions, then matching findings are suppressed until they expire") {
  TempFile f(R"({
  "schema_version": 1,
  "suppressions": [
    {"rule": "DFA003", "match": "0.0.0.0:8080", "justification": "the public web server", "expires": "2099-12-31"},
    {"rule": "DFA004", "justification": "accepted long ago", "expires": "2020-01-31"}
  ]
})");
  auto s = dfa::load_suppressions(f.path);
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  Run r = analyze(scenario("01-bypass-nft"));
  auto fs = r.scan.findings;
  dfa::apply_suppressions(fs, *s, "2026-11-26");
  int suppressed = 0, expired = 0;
  for (const auto& x : fs) {
    if (x.is_suppressed()) {
      ++suppressed;
      CHECK(x.rule_id == "DFA003");
      CHECK(x.message.find("0.0.0.0:8080") != std::string::npos);
      CHECK(x.suppressed == "the public web server");
    }
    if (x.suppression_expired) {
      ++expired;
      CHECK(x.rule_id == "DFA004");
      CHECK(x.suppression_expires == "2020-01-31");
    }
  }
  CHECK(suppressed == 1);
  CHECK(expired >= 1);
  Json sarif = dfa::to_sarif(fs);
  int sarif_suppressed = 0;
  for (const auto& res : sarif["runs"][0]["results"])
    if (res.contains("suppressions")) {
      ++sarif_suppressed;
      CHECK(res["suppressions"][0]["justification"] == "the public web server");
    }
  CHECK(sarif_suppressed == 1);
  // The day after the expiry it no longer applies.
  auto again = r.scan.findings;
  dfa::apply_suppressions(again, *s, "2100-01-01");
  for (const auto& x : again) CHECK_FALSE(x.is_suppressed());
}

TEST_CASE("given a broken suppressions file, then the error names the file, line and column of the entry") {
  struct Case {
    const char* text;
    const char* want;
  };
  const Case cases[] = {
      {"{\n \"schema_version\": 1,\n \"suppressions\": [\n  {\"rule\": \"DFA003\"}\n ]\n}",
       ":4:3: suppression 1: \"justification\" is required: say why this is accepted"},
      {"{\n \"schema_version\": 1,\n \"suppressions\": [\n  {\"rule\": \"DFA003\", \"justification\": \"x\"},\n"
       "  {\"rule\": \"DFA003\", \"justification\": \"x\", \"expires\": \"soon\"}\n ]\n}",
       ":5:3: suppression 2: \"expires\" must be a date YYYY-MM-DD, found \"soon\""},
      {"{\"schema_version\": 1, \"suppressions\": [{\"rule\": \"DFA999\", \"justification\": \"x\"}]}",
       ":1:40: suppression 1: unknown rule \"DFA999\""},
      {"{\"schema_version\": 1, \"suppressions\": [{\"rule\": \"*\", \"justification\": \"x\"}]}",
       ":1:40: suppression 1: a suppression of every rule needs a \"fingerprint\" or a \"match\""},
      {"{\"schema_version\": 1, \"suppressions\": [{\"rule\": \"DFA003\", \"justification\": \"x\", \"until\": \"x\"}]}",
       ":1:40: suppression 1: unknown member \"until\""},
      {"{\"schema_version\": 1,\n \"suppressions\": [\n  {\"rule\": \"DFA003\",, }]}", ":3:21: "},
      {"{\"schema_version\": 2, \"suppressions\": []}", ": /schema_version: suppressions schema 2 is newer"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    TempFile f(c.text);
    auto s = dfa::load_suppressions(f.path);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message.find(f.path + c.want) == 0);
  }
}

TEST_CASE("given a scan, then the Prometheus textfile counts findings, exposure and the run time") {
  Run r = analyze(scenario("01-bypass-nft"));
  std::string t = dfa::prometheus_text("scan", r.scan.findings, r.scan.exposure, 1764150000);
  CHECK(t.find("# TYPE dockfw_audit_findings gauge\n") != std::string::npos);
  CHECK(t.find("dockfw_audit_findings{command=\"scan\",severity=\"high\"} ") != std::string::npos);
  CHECK(t.find("dockfw_audit_exposed{command=\"scan\",kind=\"published\",family=\"ipv4\"} 1\n") != std::string::npos);
  CHECK(t.find("dockfw_audit_last_success_timestamp_seconds{command=\"scan\"} 1764150000\n") != std::string::npos);
  // Every sample line is NAME{LABELS} VALUE, every family has HELP and TYPE.
  std::size_t pos = 0;
  while (pos < t.size()) {
    std::size_t end = t.find('\n', pos);
    std::string line = t.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("# ", 0) == 0) continue;
    CAPTURE(line);
    CHECK(line.rfind("dockfw_audit_", 0) == 0);
    CHECK(line.find("} ") != std::string::npos);
  }
}
