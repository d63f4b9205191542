// scan on every lab scenario: the findings it should give and no others
// (golden text reports, reviewed by hand; DFA_REGEN=1 rewrites them), SARIF
// that holds together, and byte-identical output for the same snapshot.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "analyze/audience.hpp"
#include "findings/artifact.hpp"
#include "findings/check.hpp"
#include "findings/report.hpp"
#include "findings/manager_terms.hpp"
#include "fixtures.hpp"

using dfa::Json;

namespace {
const dfa::Snapshot* last_snapshot = nullptr;
dfa::ScanResult scan(const std::string& scenario) {
  auto snap = dfa::load_snapshot(fixture_path("scenarios/" + scenario + "/snapshot.json"));
  REQUIRE(snap.ok());
  static std::vector<std::unique_ptr<dfa::Snapshot>> keep;  // the engine refers to its snapshot
  keep.push_back(std::make_unique<dfa::Snapshot>(std::move(*snap)));
  last_snapshot = keep.back().get();
  dfa::Engine engine(*keep.back());
  return dfa::run_scan(engine);
}

// The findings of one rule that scan reports on a snapshot document.
std::vector<dfa::Finding> findings_of(const Json& doc, const char* rule) {
  dfa::Snapshot s{doc};
  dfa::Engine engine(s);
  std::vector<dfa::Finding> got;
  for (auto& f : dfa::run_scan(engine).findings)
    if (f.rule_id == rule) got.push_back(f);
  return got;
}

// Line n (1-based) of text, "" past its end.
std::string line_of(const std::string& text, int n) {
  std::istringstream in(text);
  std::string line;
  for (int i = 0; i < n; ++i)
    if (!std::getline(in, line)) return "";
  return line;
}
}  // namespace

TEST_CASE("given evidence set in any order, then JSON reports write it in that order, nested values included") {
  dfa::Evidence ev{{"published", "web 0.0.0.0:8080->80/tcp"}, {"port", std::size_t{8080}}};
  ev["reached_by"] = dfa::Evidence::Strings{"203.0.113.7 to 198.51.100.1:8080/tcp"};
  ev["port"] = "unpublished";  // set again: keeps its place
  ev["open_family"] = nullptr;
  ev["other_is_ufw"] = true;
  ev["ufw"] = dfa::Evidence::Objects{{{"rule", "nft ip filter ufw-user-input #2"}, {"ufw", "ufw deny 8080/tcp"}}};
  ev["before"] = dfa::Evidence{{"image", "busybox"}, {"running", false}};
  ev["now"] = dfa::Evidence::Document{R"({"size":24,"mtu":1400.5})"};
  std::string text;
  dfa::JsonWriter w(text, false);
  dfa::write_evidence(w, ev);
  CHECK(text == R"({"published":"web 0.0.0.0:8080->80/tcp","port":"unpublished","reached_by":["203.0.113.7 to )"
                R"(198.51.100.1:8080/tcp"],"open_family":null,"other_is_ufw":true,"ufw":[{"rule":"nft ip filter )"
                R"(ufw-user-input #2","ufw":"ufw deny 8080/tcp"}],"before":{"image":"busybox","running":false},)"
                R"("now":{"size":24,"mtu":1400.5}})");
  CHECK(ev.strings("published") == std::vector<std::string>{"web 0.0.0.0:8080->80/tcp"});
  CHECK(ev.strings("reached_by").size() == 1);
  CHECK(ev.strings("open_family").empty());
  CHECK(ev.strings("absent").empty());
  dfa::Evidence same = ev;
  CHECK(same == ev);
  same["before"] = dfa::Evidence{{"image", "busybox"}, {"running", true}};
  CHECK_FALSE(same == ev);
}

TEST_CASE("given the host artifact, then each SARIF result points at the line of its cause") {
  // scenario 01: the input rule the DNAT bypasses, the container; 12: the sysctl.
  for (const std::string sc : {"01-bypass-nft", "12-route-localnet", "02-bypass-legacy"}) {
    auto r = scan(sc);
    dfa::HostArtifact art = dfa::make_host_artifact(*last_snapshot, r.exposure);
    Json s = dfa::to_sarif(r, {&art, "host.txt", ""});
    for (const auto& res : s["runs"][0]["results"]) {
      CAPTURE(sc);
      CAPTURE(res.dump());
      const Json& phys = res["locations"][0]["physicalLocation"];
      REQUIRE(phys["artifactLocation"]["uri"] == "host.txt");
      std::string line = line_of(art.text, phys["region"]["startLine"].get<int>());
      std::string id = res["ruleId"];
      if (id == "DFA001") CHECK(line.find("tcp dport 8080 drop") != std::string::npos);
      if (id == "DFA003" || id == "DFA005") CHECK(line.rfind("container web ", 0) == 0);
      if (id == "DFA007") CHECK(line.find("route_localnet = 1") != std::string::npos);
      if (id == "DFA002") CHECK(line == ":DOCKER -");
      // The packet path's rules point at their own lines.
      for (const auto& tl : res.value("codeFlows", Json::array()))
        for (const auto& step : tl["threadFlows"][0]["locations"]) {
          const Json& l = step["location"];
          if (!l.contains("physicalLocation")) continue;
          std::string fq = l["logicalLocations"][0]["fullyQualifiedName"];
          std::string rule_line = line_of(art.text, l["physicalLocation"]["region"]["startLine"].get<int>());
          CAPTURE(fq);
          CHECK(!rule_line.empty());
          CHECK(rule_line.find("chain ") == std::string::npos);  // a rule, not a chain header
        }
    }
  }
}

TEST_CASE("given each lab scenario, then scan reports exactly the golden findings") {
  int n = 0;
  for (const auto& rec : lab_recordings()) {
    std::string name = rec.name();
    CAPTURE(name);
    check_golden("scenarios/" + name + "/scan.txt", dfa::render_text(scan(name), false));
    ++n;
  }
  CHECK(n >= 14);
}

TEST_CASE("given the bypass scenario, then the findings name the input rule and the forward path") {
  auto r = scan("01-bypass-nft");
  std::set<std::string> ids;
  for (const auto& f : r.findings) ids.insert(f.rule_id);
  CHECK(ids.count("DFA001"));
  CHECK(ids.count("DFA004"));  // IPv6 goes through docker-proxy and the input drop
  for (const auto& f : r.findings)
    if (f.rule_id == "DFA001") {
      CHECK(f.location.logical == "nft:inet/filter/input");
      CHECK(evidence_json(f.evidence)["blocking_rule"] == "nft inet filter input #1");
      CHECK(!f.flow.empty());
    }
}

TEST_CASE("given the admin's correct forward guard, then IPv4 through the published port is not reported") {
  auto r = scan("07-forward-guard");
  for (const auto& f : r.findings) {
    CHECK(f.rule_id != "DFA001");
    if (f.rule_id == "DFA003") CHECK(f.message.find("[::]") != std::string::npos);  // only the IPv6 binding
  }
}

TEST_CASE("given a scan, then SARIF holds together and output is deterministic") {
  auto r = scan("04-localhost-binding");
  Json s = dfa::to_sarif(r);
  CHECK(s["version"] == "2.1.0");
  const Json& run = s["runs"][0];
  const Json& rules = run["tool"]["driver"]["rules"];
  REQUIRE(rules.size() == dfa::catalogue().size());
  REQUIRE(!run["results"].empty());
  for (const auto& res : run["results"]) {
    CAPTURE(res.dump());
    CHECK(rules[res["ruleIndex"].get<std::size_t>()]["id"] == res["ruleId"]);
    CHECK(!res["locations"].empty());
    CHECK(res["partialFingerprints"]["dockfwAuditIdentity/v1"].get<std::string>().size() == 16);
    CHECK((res["level"] == "error" || res["level"] == "warning" || res["level"] == "note"));
  }
  CHECK(dfa::dump_json(dfa::to_sarif(scan("04-localhost-binding"))) == dfa::dump_json(s));
  CHECK(dfa::dump_json(dfa::to_json(scan("04-localhost-binding"))) == dfa::dump_json(dfa::to_json(r)));
}

TEST_CASE("given the catalogue, then every rule has an id, a title, why, a fix and a severity") {
  std::set<std::string> ids;
  for (const auto& r : dfa::catalogue()) {
    CHECK(r.id.rfind("DFA", 0) == 0);
    CHECK(ids.insert(r.id).second);
    CHECK(!r.title.empty());
    CHECK(!r.why.empty());
    CHECK(!r.fix.empty());
    CHECK(r.severity != dfa::Severity::none);
  }
  CHECK(ids.size() >= 11);
}

TEST_CASE("given a DNAT to an address no container holds and no DOCKER-USER jump, then both are reported") {
  Json doc = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  auto& rs = doc["nftables"]["ruleset"];
  for (auto it = rs.begin(); it != rs.end();) {
    bool drop_jump = false;
    if (it->contains("rule") && (*it)["rule"]["chain"] == "FORWARD")
      for (const auto& e : (*it)["rule"]["expr"])
        if (e.contains("jump") && e["jump"]["target"] == "DOCKER-USER") drop_jump = true;
    it = drop_jump ? rs.erase(it) : it + 1;
  }
  rs.push_back(Json::parse(R"({"rule": {"family": "ip", "table": "nat", "chain": "DOCKER", "handle": 999, "expr": [
    {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 9999}},
    {"dnat": {"addr": "172.17.0.77", "port": 80}}]}})"));
  dfa::Snapshot s{doc};
  dfa::Engine engine(s);
  dfa::ScanResult r = dfa::run_scan(engine);
  std::set<std::string> ids;
  for (const auto& f : r.findings) ids.insert(f.rule_id);
  CHECK(ids.count("DFA012"));
  CHECK(ids.count("DFA013"));
  for (const auto& f : r.findings)
    if (f.rule_id == "DFA013") CHECK(f.message.find("172.17.0.77:80") != std::string::npos);
}

TEST_CASE("given a published port that several input rules drop, then one finding names them all") {
  // A hosting node's tenant chains each reject at input: one DFA001 per
  // published port, at the first rule, naming the others, not one per rule.
  Json doc = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  auto& rs = doc["nftables"]["ruleset"];
  rs.push_back(Json::parse(R"({"table": {"family": "inet", "name": "lan", "handle": 900}})"));
  rs.push_back(Json::parse(R"({"chain": {"family": "inet", "table": "lan", "name": "input", "handle": 901, "type": "filter",
                                         "hook": "input", "prio": -5, "policy": "accept"}})"));
  rs.push_back(Json::parse(R"({"rule": {"family": "inet", "table": "lan", "chain": "input", "handle": 902, "expr": [
      {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                 "right": {"prefix": {"addr": "198.51.100.0", "len": 24}}}},
      {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 8080}},
      {"drop": null}]}})"));
  dfa::Snapshot snap{doc};
  dfa::Engine engine(snap);
  dfa::ScanResult r = dfa::run_scan(engine);
  int dfa001 = 0;
  for (const auto& f : r.findings)
    if (f.rule_id == "DFA001") {
      ++dfa001;
      CAPTURE(f.message);
      CHECK(evidence_json(f.evidence)["blocking_rules"].size() == 2);
      CHECK(f.message.find("and 1 other input rule(s) drop it") != std::string::npos);
      CHECK(evidence_json(f.evidence)["reached_by"].size() >= 2);
      CHECK(!f.flow.empty());
    }
  CHECK(dfa001 == 1);
}

TEST_CASE("given published ports an input rule treats alike or apart, then DFA001 walks alike ones once and tells apart the rest") {
  // Scenario 03 publishes 7000-7002; an input chain drops some of them, a
  // forward chain may hold rules of its own. DFA001 keeps one port's walks
  // for the next port its rules treat alike (checks/dfa001_input_bypass.cpp).
  struct Run {
    std::map<std::string, dfa::Finding> dfa001;  // published entry -> its finding
    std::set<std::string> delivered;             // "ENTRY|SOURCE to DESTINATION"
  };
  auto dfa001_with = [](const char* dport, std::vector<std::string> forward = {}) {
    Json doc = fixture_json("scenarios/03-ports/snapshot.json");
    auto& rs = doc["nftables"]["ruleset"];
    auto add_chain = [&](const char* table, const char* hook, int prio) {
      rs.push_back({{"table", {{"family", "inet"}, {"name", table}, {"handle", 900}}}});
      rs.push_back({{"chain",
                     {{"family", "inet"}, {"table", table}, {"name", hook}, {"handle", 901}, {"type", "filter"},
                      {"hook", hook}, {"prio", prio}, {"policy", "accept"}}}});
    };
    auto add_rule = [&](const char* table, const char* chain, const std::string& expr) {
      rs.push_back({{"rule", {{"family", "inet"}, {"table", table}, {"chain", chain}, {"expr", Json::parse(expr)}}}});
    };
    auto dport_is = [](const std::string& v) {
      return R"({"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": )" + v + "}}";
    };
    add_chain("lan", "input", 0);
    add_rule("lan", "input", "[" + dport_is(dport) + R"(, {"drop": null}])");
    if (!forward.empty()) add_chain("fwd", "forward", -5);
    for (const auto& f : forward) add_rule("fwd", "forward", f);
    dfa::Snapshot snap{doc};
    dfa::Engine engine(snap);
    const dfa::ScanResult r = dfa::run_scan(engine);
    Run out;
    for (const auto& f : r.findings)
      if (f.rule_id == "DFA001") out.dfa001.emplace(evidence_json(f.evidence)["published"].get<std::string>(), f);
    for (const auto& en : r.exposure.entries)
      for (const dfa::ExposureCell c : en.cells())
        if (c.outcome->result == dfa::Outcome::Result::delivered)
          out.delivered.insert(en.what + "|" + c.source + " to " + c.destination);
    // Every example a finding names is a cell delivered to its port.
    for (const auto& [what, f] : out.dfa001)
      for (const auto& e : f.evidence.strings("reached_by")) {
        CAPTURE(what);
        CHECK(out.delivered.count(what + "|" + e));
      }
    return out;
  };
  auto where = [](const char* port) { return fmt::format("ranged 0.0.0.0:{0}->{0}/tcp", port); };
  const Run one = dfa001_with("7001");
  REQUIRE(one.dfa001.size() == 1);
  CHECK(one.dfa001.begin()->first == where("7001"));
  const Run all = dfa001_with(R"({"range": [7000, 7002]})");
  REQUIRE(all.dfa001.size() == 3);
  for (const char* port : {"7000", "7001", "7002"}) {
    REQUIRE(all.dfa001.count(where(port)));
    const std::string& m = all.dfa001.at(where(port)).message;
    CAPTURE(m);
    // Each names its own port in its example, and all reach alike.
    CHECK(m.find(fmt::format(":{}/tcp) although", port)) != std::string::npos);
    const std::string& first = all.dfa001.begin()->second.message;
    CHECK(m.substr(m.find(" is reachable from "), 40) == first.substr(first.find(" is reachable from "), 40));
  }
  // A forward rule of the admin's own that accepts 7001 (`ufw route allow
  // 7001`): meant to pass, not a bypass, though 7001's classes share walks
  // as 7000's do and its input walks are 7000's.
  const Run meant = dfa001_with(R"({"range": [7000, 7002]})", {"[" + std::string(R"({"match": {"op": "==", "left":
      {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 7001}}, {"accept": null}])")});
  CHECK(meant.dfa001.size() == 2);
  CHECK(meant.dfa001.count(where("7000")));
  CHECK(meant.dfa001.count(where("7002")));
  // Forward drops one network at 7000 and another at 7001: as many walks,
  // delivered alike, but not the same classes on them.
  auto drop_from_at = [](const char* net, int len, int port) {
    return fmt::format(R"([{{"match": {{"op": "==", "left": {{"payload": {{"protocol": "ip", "field": "saddr"}}}},
        "right": {{"prefix": {{"addr": "{}", "len": {}}}}}}}}}, {{"match": {{"op": "==", "left": {{"payload":
        {{"protocol": "tcp", "field": "dport"}}}}, "right": {}}}}}, {{"drop": null}}])",
                       net, len, port);
  };
  const Run swapped = dfa001_with(R"({"range": [7000, 7002]})",
                                  {drop_from_at("192.0.2.0", 24, 7000), drop_from_at("198.18.0.0", 15, 7001)});
  CHECK(swapped.dfa001.size() == 3);
}

TEST_CASE("given ufw on iptables-legacy and Docker on iptables-nft, then DFA016 names the split, and not where they share one") {
  // Scenario 24: ufw's legacy FORWARD policy drops the published 8080 that
  // Docker's nft rules accept; real packets: closed to wan and lan.
  std::vector<dfa::Finding> split;
  for (auto& f : scan("24-ufw-legacy-docker-nft").findings)
    if (f.rule_id == "DFA016") split.push_back(f);
  REQUIRE(split.size() == 1);
  CAPTURE(split[0].message);
  CHECK(evidence_json(split[0].evidence)["docker_backend"] == "iptables-nft");
  CHECK(evidence_json(split[0].evidence)["other_backend"] == "iptables-legacy");
  CHECK(evidence_json(split[0].evidence)["other_is_ufw"] == true);
  CHECK(split[0].location.logical == "iptables-legacy:ipv4/filter/FORWARD");
  // The same ufw on Docker's backend, Docker on legacy beside an nftables
  // host firewall (DFA002's case, not this one): no DFA016.
  for (const char* name : {"22-ufw-default-deny", "23-ufw-docker-recipe", "02-bypass-legacy", "01-bypass-nft"})
    for (const auto& f : scan(name).findings) {
      CAPTURE(name);
      CHECK(f.rule_id != "DFA016");
    }
}

TEST_CASE("given Docker's nftables backend and a DOCKER-USER nothing jumps to, then DFA015 reports it, and only then") {
  // Scenario 16 (Docker 29 replay): the admin's DOCKER-USER restricts 8080
  // to the LAN, but no packet meets it; real packets: wan reaches 8080.
  auto ids_of = [](const Json& doc) {
    dfa::Snapshot s{doc};
    dfa::Engine engine(s);
    std::multiset<std::string> ids;
    for (const auto& f : dfa::run_scan(engine).findings) ids.insert(f.rule_id);
    return ids;
  };
  const Json base = fixture_json("scenarios/16-docker29-user-migration/docker-29/snapshot.json");
  CHECK(ids_of(base).count("DFA015") == 1);
  CHECK(ids_of(base).count("DFA012") == 0);

  // The backend said by daemon.json alone (a daemon that does not say it in /info).
  Json said_by_file = base;
  said_by_file["docker_api"].erase("firewall_backend");
  CHECK(ids_of(said_by_file).count("DFA015") == 1);

  // The backend said by dockerd's flag alone (it wins over daemon.json).
  Json said_by_flag = said_by_file;
  said_by_flag["docker_config"]["daemon_json"]["content"]["firewall-backend"] = "iptables";
  said_by_flag["docker_config"]["dockerd"]["flags"]["firewall-backend"] = Json::array({"nftables"});
  CHECK(ids_of(said_by_flag).count("DFA015") == 1);
  said_by_flag["docker_config"]["dockerd"]["flags"]["firewall-backend"] = Json::array({"iptables"});
  said_by_flag["docker_config"]["daemon_json"]["content"]["firewall-backend"] = "nftables";
  CHECK(ids_of(said_by_flag).count("DFA015") == 0);

  // Docker on iptables: DOCKER-USER is Docker's own business (DFA012's).
  Json iptables = said_by_file;
  iptables["docker_config"]["daemon_json"]["content"].erase("firewall-backend");
  CHECK(ids_of(iptables).count("DFA015") == 0);

  // A jump left from the iptables days still runs the chain: not DFA015.
  Json jumped = base;
  auto& rs = jumped["nftables"]["ruleset"];
  rs.push_back(Json::parse(R"({"chain": {"family": "ip", "table": "filter", "name": "FORWARD", "handle": 990,
                                         "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}})"));
  rs.push_back(Json::parse(R"({"rule": {"family": "ip", "table": "filter", "chain": "FORWARD", "handle": 991,
                                        "expr": [{"jump": {"target": "DOCKER-USER"}}]}})"));
  CHECK(ids_of(jumped).count("DFA015") == 0);
}

TEST_CASE("given a published port whose IPv6 path is uncertain, then DFA004 does not call it closed") {
  // Scenario 1: IPv4 bypasses the input drop, IPv6 meets it: DFA004. An
  // accept on an expression the walk cannot decide, before the drop, makes
  // IPv6 uncertain: neither open nor closed, so no asymmetry is claimed.
  auto dfa004 = [](const Json& doc) {
    dfa::Snapshot s{doc};
    dfa::Engine engine(s);
    int n = 0;
    for (const auto& f : dfa::run_scan(engine).findings) n += f.rule_id == "DFA004";
    return n;
  };
  Json doc = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  REQUIRE(dfa004(doc) == 1);
  auto& rs = doc["nftables"]["ruleset"];
  for (auto it = rs.begin(); it != rs.end(); ++it)
    if (it->contains("rule") && (*it)["rule"]["family"] == "inet" && (*it)["rule"]["chain"] == "input") {
      rs.insert(it, Json::parse(R"({"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 90,
        "expr": [{"match": {"op": "==", "left": {"osf": {"key": "name"}}, "right": "Linux"}}, {"accept": null}]}})"));
      break;
    }
  CHECK(dfa004(doc) == 0);
}

TEST_CASE("given a scan, then its JSON says which host and when its snapshot was read") {
  Json doc = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  dfa::Snapshot s{doc};
  dfa::Engine engine(s);
  Json j = dfa::to_json(dfa::run_scan(engine));
  CHECK(j["host"]["hostname"] == doc["host"]["hostname"]);
  CHECK(j["host"]["collected_at"] == doc["collected_at"]);
  CHECK(!j["host"]["collected_at"].get<std::string>().empty());
}

TEST_CASE("given networks reached on different interfaces, then the audience line names each with its own") {
  auto cls = [](std::string what, std::string iif) {
    dfa::SourceClass c;
    c.label = what + " on " + iif;
    c.source.iif = std::move(iif);
    return c;
  };
  auto classes = std::make_shared<std::vector<dfa::SourceClass>>();
  classes->push_back(cls("10.0.0.0/8", "eth0"));
  classes->push_back(cls("192.0.2.0/24", "eth0"));
  classes->push_back(cls("10.0.0.0/8", "eth1"));
  dfa::ExposureEntry en;
  en.classes = classes;
  dfa::AudienceRow row;
  row.who = dfa::Audience::networks;
  row.by_reach[0] = {0, 1, 2};
  CHECK(dfa::describe(en, row) == "OPEN 10.0.0.0/8 on eth0, eth1; 192.0.2.0/24 on eth0");
  // Alike on every interface: said once at the end; past twelve, counted.
  classes->clear();
  for (int i = 0; i < 14; ++i)
    for (const char* iif : {"eth0", "eth1"}) classes->push_back(cls(fmt::format("10.{}.0.0/16", i), iif));
  row.by_reach[0].clear();
  row.by_reach[2].clear();
  for (std::size_t i = 0; i < classes->size(); ++i) row.by_reach[i < 4 ? 2 : 0].push_back(i);
  CHECK(dfa::describe(en, row) ==
        "OPEN 10.2.0.0/16, 10.3.0.0/16, 10.4.0.0/16, 10.5.0.0/16, 10.6.0.0/16, 10.7.0.0/16, 10.8.0.0/16, "
        "10.9.0.0/16, 10.10.0.0/16, 10.11.0.0/16, 10.12.0.0/16, 10.13.0.0/16 on eth0, eth1; "
        "closed 10.0.0.0/16, 10.1.0.0/16 on eth0, eth1");
  classes->push_back(cls("10.99.0.0/16", "eth2"));
  row.by_reach[0].push_back(classes->size() - 1);
  CHECK(dfa::describe(en, row).find("10.13.0.0/16 on eth0, eth1; and 1 more; closed") != std::string::npos);
}

TEST_CASE("given nftables.conf with flush ruleset, then DFA009 fires only when nftables.service loads it or that is unknown") {
  Json base = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  base["host"]["nftables_config"] = Json{{"path", "/etc/nftables.conf"}, {"present", true}, {"flush_ruleset", true},
                                         {"flush_ruleset_lines", Json::array({3})}, {"includes", Json::array()}};
  auto dfa009 = [](const Json& doc) { return findings_of(doc, "DFA009"); };
  // A snapshot that does not record services: as before, reported.
  CHECK(dfa009(base).size() == 1);
  auto with = [&](const char* state, Json wanted_by = Json::array()) {
    Json doc = base;
    doc["host"]["services"]["nftables.service"] = Json{{"state", state}, {"wanted_by", wanted_by}};
    return dfa009(doc);
  };
  auto enabled = with("enabled", Json::array({"sysinit.target"}));
  REQUIRE(enabled.size() == 1);
  CHECK(enabled[0].message.find("nftables.service is enabled (wanted by sysinit.target)") != std::string::npos);
  CHECK(enabled[0].location.line == 3);
  REQUIRE(with("unknown").size() == 1);
  CHECK(with("unknown")[0].message.find("could not be read") != std::string::npos);
  // Debian's stock file on a host that never loads it: nothing to report.
  CHECK(with("disabled").empty());
  CHECK(with("masked").empty());
  CHECK(with("absent").empty());
}

TEST_CASE("given a ufw host, then findings name ufw's commands beside the kernel rules, and only while files and kernel agree") {
  // Scenario 22: ufw default deny incoming, allow 22/tcp, deny 8080/tcp;
  // the DNAT passes 8080 by the deny (real packets: open from wan).
  auto r = scan("22-ufw-default-deny");
  const dfa::Finding* bypass = nullptr;
  for (const auto& f : r.findings)
    if (f.rule_id == "DFA001") bypass = &f;
  REQUIRE(bypass);
  CAPTURE(bypass->message);
  CHECK(bypass->message.find("although nft ip filter ufw-user-input #2 (ufw deny 8080/tcp) drops it") !=
        std::string::npos);
  REQUIRE(bypass->evidence.contains("ufw"));
  CHECK(evidence_json(bypass->evidence)["ufw"][0] == Json{{"rule", "nft ip filter ufw-user-input #2"}, {"ufw", "ufw deny 8080/tcp"}});

  const Json base = fixture_json("scenarios/22-ufw-default-deny/snapshot.json");
  {
    dfa::Snapshot s{base};
    dfa::UfwNames n(s);
    CHECK(n.name("policy drop of nft ip filter INPUT") == "ufw default deny incoming");
    CHECK(n.name("policy drop of nft ip6 filter FORWARD") == "ufw default deny routed");
    CHECK(n.name("policy accept of nft ip filter OUTPUT") == "");
    CHECK(n.name("nft ip6 filter ufw6-user-input #1 (handle 40)") == "ufw allow 22/tcp");
    CHECK(n.name("nft ip filter ufw-user-input #2") == "ufw deny 8080/tcp");
    CHECK(n.name("nft ip filter ufw-user-input #3") == "");
    CHECK(n.name("nft ip filter DOCKER #1 (handle 19)") == "");
  }
  {
    // user.rules lost a rule the kernel still has (edited, not reloaded):
    // positions no longer say which is which, so nothing is named.
    Json doc = base;
    auto& rules = doc["host"]["ufw"]["rules"];
    for (auto it = rules.begin(); it != rules.end(); ++it)
      if ((*it)["family"] == 4 && (*it)["command"] == "ufw allow 22/tcp") {
        rules.erase(it);
        break;
      }
    dfa::Snapshot s{doc};
    CHECK(dfa::UfwNames(s).name("nft ip filter ufw-user-input #1") == "");
    CHECK(dfa::UfwNames(s).name("nft ip6 filter ufw6-user-input #1") == "ufw allow 22/tcp");
  }
  {
    Json doc = base;
    doc["host"]["ufw"]["enabled"] = false;  // ENABLED=no: the kernel's chains are not what the files say
    dfa::Snapshot s{doc};
    CHECK(dfa::UfwNames(s).name("policy drop of nft ip filter INPUT") == "");
  }
  // ufw's own chains by before.rules' and after.rules' lines (the package's
  // files the lab's ufw loaded): the jump to the user chain ufw appends to a
  // before chain is not a line of them.
  const std::string dir = base["host"]["ufw"]["dir"].get<std::string>();
  {
    dfa::Snapshot s{base};
    dfa::UfwNames n(s);
    CHECK(n.name("nft ip filter ufw-before-input #1 (handle 50)") ==
          dir + "/before.rules line 21: -A ufw-before-input -i lo -j ACCEPT");
    CHECK(n.name("nft ip6 filter ufw6-before-input #1") == dir + "/before6.rules line 20: -A ufw6-before-input -i lo -j ACCEPT");
    CHECK(n.name("nft ip filter ufw-after-input #1").rfind(dir + "/after.rules line ", 0) == 0);
    CHECK(n.name("nft ip filter ufw-before-input #13") == "");  // -j ufw-user-input
  }
  {
    // A line of before.rules that the kernel does not hold (edited, not reloaded).
    Json doc = base;
    for (auto& f : doc["host"]["ufw"]["files"])
      if (f["file"] == "before.rules") f["lines"].push_back({{"chain", "ufw-before-input"}, {"line", 99}, {"text", "-A ufw-before-input -j DROP"}});
    dfa::Snapshot s{doc};
    CHECK(dfa::UfwNames(s).name("nft ip filter ufw-before-input #1") == "");
    CHECK(dfa::UfwNames(s).name("nft ip6 filter ufw6-before-input #1") != "");
  }
  // Scenario 23, the ufw-docker recipe: DOCKER-USER is after.rules' block.
  auto recipe = scan("23-ufw-docker-recipe");
  const dfa::Finding* recipe_bypass = nullptr;
  for (const auto& f : recipe.findings)
    if (f.rule_id == "DFA001") recipe_bypass = &f;
  REQUIRE(recipe_bypass);
  CHECK(evidence_json(recipe_bypass->evidence)["ufw"].dump().find(
            "\"nft ip filter DOCKER-USER #2\",\"ufw\":\"" + dir + "/after.rules line 38: -A DOCKER-USER -j RETURN -s 10.0.0.0/8\"") !=
        std::string::npos);
  {
    // An -I line in the block: its place is not the file's order.
    Json doc = fixture_json("scenarios/23-ufw-docker-recipe/snapshot.json");
    for (auto& f : doc["host"]["ufw"]["files"])
      for (auto& l : f["lines"])
        if (l["chain"] == "DOCKER-USER" && l["line"] == 40) l["insert"] = true;
    dfa::Snapshot s{doc};
    CHECK(dfa::UfwNames(s).name("nft ip filter DOCKER-USER #2") == "");
  }
}

TEST_CASE("given a message naming ufw-user-input #12 before #1, then the ufw command goes after #1 only") {
  dfa::Snapshot s{fixture_json("scenarios/22-ufw-default-deny/snapshot.json")};
  dfa::Finding f;
  f.rule_id = "DFA001";
  f.message = "x nft ip filter ufw-user-input #12 and nft ip filter ufw-user-input #1 drop it";
  f.location.rule = "nft ip filter ufw-user-input #1";
  std::vector<dfa::Finding> fs{f};
  dfa::name_in_ufw_terms(s, fs);
  CHECK(fs[0].message ==
        "x nft ip filter ufw-user-input #12 and nft ip filter ufw-user-input #1 (ufw allow 22/tcp) drop it");
}

TEST_CASE("given firewalld's files, then a rich rule that rejects or drops is named as the file writes it, or as runtime only") {
  // Scenario 26: policy blockweb's file holds one rich rule, and its deny
  // part in the kernel one rule.
  Json doc = fixture_json("scenarios/26-firewalld-policy-direct/snapshot.json");
  const std::string origin = "nft inet firewalld filter_FWD_policy_blockweb_deny #1 (handle 302)";
  const std::string file = "/run/dfa-lab/firewalld/etc/firewalld/policies/blockweb.xml";
  Json* rich = nullptr;
  for (auto& p : doc["host"]["firewalld"]["policies"])
    if (p["name"] == "blockweb") rich = &p["rich_rules"];
  REQUIRE(rich);
  auto named = [&] { return dfa::FirewalldNames(dfa::Snapshot{doc}).name(origin); };
  CHECK(named() == "firewalld policy blockweb: forwarded, a rich rule that rejects or drops, "
                   "`rule family=\"ipv4\" port port=\"8080\" protocol=\"tcp\" reject` in " + file);
  // Rules of other parts are not counted: a priority (_pre, _post), an
  // accept, and "drop" only inside quotes.
  rich->push_back("rule priority=\"-5\" family=\"ipv4\" source address=\"10.0.0.0/8\" drop");
  rich->push_back("rule family=\"ipv4\" service name=\"drop\" log prefix=\"reject \" accept");
  CHECK(named().ends_with(", `rule family=\"ipv4\" port port=\"8080\" protocol=\"tcp\" reject` in " + file));
  // Two in the file, one in the kernel: not told apart, and said so.
  rich->push_back("rule family=\"ipv4\" port port=\"9090\" protocol=\"tcp\" drop");
  CHECK(named() == "firewalld policy blockweb: forwarded, a rich rule that rejects or drops; " + file +
                       " holds 2 such rule(s) and the kernel 1: some were added or removed at runtime");
  // Without the files (an older snapshot), the part alone.
  doc["host"].erase("firewalld");
  CHECK(named() == "firewalld policy blockweb: forwarded, a rich rule that rejects or drops");
}

TEST_CASE("given firewalld's table, then its rules are named by zone, policy and part, or by what its own rule does") {
  const Json doc = fixture_json("scenarios/25-firewalld-public/snapshot.json");
  dfa::Snapshot s{doc};
  dfa::FirewalldNames n(s);
  REQUIRE(n.active());
  // Scenario 25's rich rules were added without --permanent: the package's
  // file of zone public (the lab's package cache) holds none.
  CHECK(n.name("nft inet firewalld filter_IN_public_deny #1 (handle 254)") ==
        "firewalld zone public: a rich rule that rejects or drops, added at runtime: "
        "/var/cache/dfa-lab/pkg/firewalld-bookworm/usr/lib/firewalld/zones/public.xml holds none");
  CHECK(n.name("nft inet firewalld filter_IN_public_allow #1") ==
        "firewalld zone public: a service, port, protocol or rich rule that allows");
  CHECK(n.name("nft inet firewalld filter_IN_public #9") == "firewalld zone public: its target");
  CHECK(n.name("nft inet firewalld filter_IN_docker #8") == "firewalld zone docker: its target");
  // DFA018 asks the place, not the text: the docker zone's target for input.
  REQUIRE(n.rule("nft inet firewalld filter_IN_docker #8"));
  CHECK(n.rule("nft inet firewalld filter_IN_docker #8")->zone_target());
  CHECK(n.rule("nft inet firewalld filter_IN_docker #8")->direction == "IN");
  CHECK(!n.rule("nft inet firewalld filter_IN_public_allow #1")->zone_target());
  CHECK(n.rule("nft inet firewalld filter_FORWARD #2 (handle 37)")->kind == dfa::FirewalldRule::Kind::own);
  // DFA017 asks what the rule does, not its text.
  CHECK(n.rule("nft inet firewalld filter_FORWARD #2 (handle 37)")->own == dfa::FirewalldOwn::dnat_accept);
  CHECK(n.rule("nft inet firewalld filter_INPUT #1")->own == dfa::FirewalldOwn::established);
  CHECK(!n.rule("nft ip filter DOCKER #1"));
  CHECK(n.name("nft inet firewalld filter_FWD_public #8") == "firewalld zone public: forwarded, its target");
  CHECK(n.name("nft inet firewalld filter_IN_policy_allow-host-ipv6_allow #1") ==
        "firewalld policy allow-host-ipv6: a service, port, protocol or rich rule that allows");
  CHECK(n.name("nft inet firewalld filter_FORWARD #2 (handle 37)") ==
        "firewalld accepts every DNATed connection before its zones and policies");
  CHECK(n.name("nft inet firewalld filter_PREROUTING #2") == "firewalld's IPv6 reverse path filter, IPv6_rpfilter");
  CHECK(n.name("nft inet firewalld filter_INPUT #1") == "firewalld accepts established and related connections");
  CHECK(n.name("nft inet firewalld filter_INPUT #6") == "firewalld rejects what no zone or policy accepted");
  CHECK(n.name("nft inet firewalld filter_INPUT_ZONES #1") == "firewalld's choice of zone by interface or source");
  // Not firewalld's, or not a rule it holds.
  CHECK(n.name("nft ip filter DOCKER #1") == "");
  CHECK(n.name("nft inet firewalld filter_INPUT #7") == "");
  CHECK(n.name("nft inet firewalld filter_INPUT") == "");
  CHECK(n.name("policy drop of nft ip filter FORWARD") == "");
}

TEST_CASE("given a firewalld policy whose name ends like a part chain, then its own chain is not taken for a part") {
  // firewalld makes filter_FWD_policy_NAME and NAME_pre/_log/_deny/_allow/_post:
  // a policy named lan_allow has a chain lan_allow_allow, a policy named lan none.
  auto has = [](std::set<std::string> names) {
    return [names](const std::string& n) { return names.count(n) > 0; };
  };
  auto lan = dfa::firewalld_owner("lan_allow", has({"lan", "lan_allow", "lan_deny"}));
  CHECK(lan.owner == "lan");
  CHECK(lan.part == "_allow");
  auto own = dfa::firewalld_owner("lan_allow", has({"lan_allow", "lan_allow_allow"}));
  CHECK(own.owner == "lan_allow");
  CHECK(own.part == "");
  auto part = dfa::firewalld_owner("lan_allow_deny", has({"lan_allow", "lan_allow_allow", "lan_allow_deny"}));
  CHECK(part.owner == "lan_allow");
  CHECK(part.part == "_deny");
  CHECK(dfa::firewalld_owner("public", has({"public_allow"})).owner == "public");

  Json doc = fixture_json("scenarios/25-firewalld-public/snapshot.json");
  Json& rs = doc["nftables"]["ruleset"];
  for (std::string suffix : {"", "_pre", "_log", "_deny", "_allow", "_post"}) {
    const std::string chain = "filter_FWD_policy_lan_allow" + suffix;
    rs.push_back({{"chain", {{"family", "inet"}, {"table", "firewalld"}, {"name", chain}, {"handle", 9000}}}});
    rs.push_back({{"rule", {{"family", "inet"}, {"table", "firewalld"}, {"chain", chain}, {"handle", 9001},
                            {"expr", Json::array({Json{{"accept", nullptr}}})}}}});
  }
  dfa::Snapshot s{doc};
  dfa::FirewalldNames n(s);
  CHECK(n.name("nft inet firewalld filter_FWD_policy_lan_allow #1") == "firewalld policy lan_allow: forwarded, its target");
  CHECK(n.name("nft inet firewalld filter_FWD_policy_lan_allow_allow #1") ==
        "firewalld policy lan_allow: forwarded, a service, port, protocol or rich rule that allows");
  CHECK(n.name("nft inet firewalld filter_FWD_policy_lan_allow_deny #1") ==
        "firewalld policy lan_allow: forwarded, a rich rule that rejects or drops");
}

TEST_CASE("given IPv4 DOCKER-USER restrictions and no IPv6 DOCKER-USER, then DFA012 is medium, else low") {
  // Scenario 27: Docker 20.10 with ip6tables makes no ip6 DOCKER-USER; its
  // IPv4 chain holds Docker's bare RETURN only.
  Json doc = fixture_json("scenarios/27-firewalld-ipv6/snapshot.json");
  auto dfa012 = [](const Json& d) { return findings_of(d, "DFA012"); };
  auto before = dfa012(doc);
  REQUIRE(before.size() == 1);
  CHECK(dfa::severity_of(before[0]) == dfa::Severity::low);
  CHECK(before[0].message.find("(1 rule now)") != std::string::npos);
  // The admin restricts 8080 in the IPv4 chain: IPv6 escapes it.
  Json rule = {{"rule",
                {{"family", "ip"}, {"table", "filter"}, {"chain", "DOCKER-USER"}, {"handle", 9999},
                 {"expr", Json::array({Json{{"match", {{"op", "=="}, {"left", {{"meta", {{"key", "l4proto"}}}}}, {"right", "tcp"}}}},
                                       Json{{"match", {{"op", "=="}, {"left", {{"payload", {{"protocol", "tcp"}, {"field", "dport"}}}}}, {"right", 80}}}},
                                       Json{{"drop", nullptr}}})}}}};
  Json& rs = doc["nftables"]["ruleset"];
  for (std::size_t i = 0; i < rs.size(); ++i)
    if (rs[i].contains("rule") && rs[i]["rule"].value("chain", "") == "DOCKER-USER" && rs[i]["rule"].value("family", "") == "ip") {
      rs.insert(rs.begin() + static_cast<std::ptrdiff_t>(i), rule);
      break;
    }
  auto after = dfa012(doc);
  REQUIRE(after.size() == 1);
  CHECK(dfa::severity_of(after[0]) == dfa::Severity::medium);
  CHECK(after[0].message.find("(2 rules now, 1 besides a bare RETURN)") != std::string::npos);
  // Reporters use the finding's own severity.
  CHECK(dfa::render_findings_text("scan", after, false, "finding").find("MEDIUM") != std::string::npos);
}

TEST_CASE("given many examples under several rules, then ExampleSample keeps what ordered would pick from them all") {
  // DFA001 keeps at most kMaxExamples of each rank per blocking rule instead
  // of every cell; what it shows must be what ordering every cell gives.
  auto snap = dfa::load_snapshot(fixture_path("scenarios/01-bypass-nft/snapshot.json"));
  REQUIRE(snap.ok());
  std::vector<dfa::SourceClass> classes;
  for (int i = 0; i < 60; ++i) {
    dfa::SourceClass c;
    c.label = fmt::format("class {}", i);
    c.unnamed = i == 0 || i == 30;
    // Some inside Docker's default subnet (rank 2), the others named prefixes.
    c.source.addr = dfa::IpAddr::parse(i % 3 == 0 ? fmt::format("172.17.0.{}", i + 2) : fmt::format("198.51.100.{}", i));
    classes.push_back(c);
  }
  const dfa::checks::ExampleRank rank(*snap);
  std::vector<int> seen(3);
  for (const auto& c : classes) ++seen[static_cast<std::size_t>(rank(c))];
  REQUIRE(seen[0] > 0);
  REQUIRE(seen[2] > 0);
  const std::string dests[] = {"203.0.113.1:80/tcp", "198.51.100.1:80/tcp", ""};
  std::vector<dfa::checks::ExampleSample> samples(4);
  std::vector<std::vector<dfa::checks::Example>> per_rule(4);
  std::uint32_t x = 12345;
  for (int n = 0; n < 500; ++n) {
    x = x * 1103515245u + 12345u;
    const std::size_t rule = (x >> 8) % 4, cls = (x >> 12) % classes.size(), d = (x >> 20) % 3;
    dfa::checks::Example e{&classes[cls], dests[d]};
    samples[rule].add(rank(classes[cls]), e);
    per_rule[rule].push_back(e);
  }
  std::vector<dfa::checks::Example> all;
  std::vector<const dfa::checks::ExampleSample*> in_order;
  for (std::size_t r = 0; r < 4; ++r) {
    all.insert(all.end(), per_rule[r].begin(), per_rule[r].end());
    in_order.push_back(&samples[r]);
    CHECK(samples[r].total() == per_rule[r].size());
  }
  const auto want = dfa::checks::texts(dfa::checks::ordered(all, *snap, dfa::checks::kMaxExamples));
  const auto got = dfa::checks::texts(dfa::checks::ExampleSample::first(in_order));
  CHECK(got == want);
  CHECK(got.size() == dfa::checks::kMaxExamples);
}

TEST_CASE("given classes of one network on two interfaces, then number_networks gives them one number, others their own") {
  std::vector<dfa::SourceClass> classes(4);
  const char* labels[][2] = {{"10.0.0.0/8 on eth0", "eth0"},
                             {"10.0.0.0/8 on eth1", "eth1"},
                             {"any other IPv4 address on eth0", "eth0"},
                             {"203.0.113.0/24 on eth0", "eth0"}};
  for (std::size_t i = 0; i < classes.size(); ++i) {
    classes[i].label = labels[i][0];
    classes[i].source.iif = labels[i][1];
  }
  dfa::number_networks(classes);
  CHECK(classes[0].network == classes[1].network);
  CHECK(classes[2].network != classes[0].network);
  CHECK(classes[3].network != classes[0].network);
  CHECK(classes[3].network != classes[2].network);
  for (const auto& c : classes) CHECK(c.network < classes.size());
}
