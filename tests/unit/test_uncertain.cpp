// When the analyzer cannot model something it says uncertain, naming the
// rule, and never safe. Each case edits a real lab snapshot (scenario 1).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "analyze/engine.hpp"
#include "analyze/exposure.hpp"
#include "fixtures.hpp"

using dfa::Json;

namespace {

Json scenario1() { return fixture_json("scenarios/01-bypass-nft/snapshot.json"); }

Json* find_rule(Json& doc, const std::string& table, const std::string& chain, std::size_t nth = 0) {
  std::size_t seen = 0;
  for (auto& o : doc["nftables"]["ruleset"])
    if (o.contains("rule") && o["rule"]["table"] == table && o["rule"]["chain"] == chain && seen++ == nth)
      return &o["rule"];
  return nullptr;
}

dfa::Outcome run(const Json& doc, const char* from, const char* to, unsigned port) {
  dfa::Snapshot s{doc};
  dfa::Engine e(s);
  dfa::Source src;
  src.kind = dfa::Source::Kind::remote;
  src.addr = dfa::IpAddr::parse(from);
  return e.run(src, *dfa::IpAddr::parse(to), port, "tcp");
}

dfa::Outcome from_container(const Json& doc, const char* name, const std::string& to, unsigned port) {
  dfa::Snapshot s{doc};
  dfa::Engine e(s);
  dfa::Source src;
  src.kind = dfa::Source::Kind::container;
  src.container = name;
  return e.run(src, *dfa::IpAddr::parse(to), port, "tcp");
}

bool mentions(const dfa::Outcome& o, const std::string& what) {
  for (const auto& u : o.uncertain)
    if (u.find(what) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("given the unmodified scenario, then both families are certain") {
  Json doc = scenario1();
  CHECK(run(doc, "203.0.113.2", "203.0.113.1", 8080).result == dfa::Outcome::Result::delivered);
  CHECK(run(doc, "203.0.113.2", "203.0.113.1", 22).result == run(scenario1(), "203.0.113.2", "203.0.113.1", 22).result);
  CHECK(run(doc, "203.0.113.2", "203.0.113.1", 22).result != dfa::Outcome::Result::uncertain);
}

TEST_CASE("given a limit before the input drop, then IPv6 to 8080 is uncertain, naming the rule") {
  Json doc = scenario1();
  Json* drop = find_rule(doc, "filter", "input");
  REQUIRE(drop);
  Json limited = *drop;
  limited["handle"] = 99;
  limited["expr"] = Json::parse(R"([{"limit": {"rate": 10, "per": "second"}}, {"accept": null}])");
  auto& rs = doc["nftables"]["ruleset"];
  for (auto it = rs.begin(); it != rs.end(); ++it)
    if (it->contains("rule") && &(*it)["rule"] == drop) {
      rs.insert(it, Json{{"rule", limited}});
      break;
    }
  dfa::Outcome o = run(doc, "2001:db8:1::2", "2001:db8:1::1", 8080);
  CHECK(o.result == dfa::Outcome::Result::uncertain);
  CHECK(mentions(o, "handle 99"));
  CHECK(mentions(o, "limit"));
}

TEST_CASE("given Docker's DNAT could not be decoded, then the bypass is uncertain, not closed") {
  Json doc = scenario1();
  Json* dnat = find_rule(doc, "nat", "DOCKER", 1);
  REQUIRE(dnat);
  for (auto& e : (*dnat)["expr"])
    if (e.contains("xt")) {
      e["xt"]["decoded"] = false;
      e["xt"]["params"] = Json::object();
      e["xt"]["reason"] = "test: undecodable";
    }
  dfa::Outcome o = run(doc, "203.0.113.2", "203.0.113.1", 8080);
  CHECK(o.result == dfa::Outcome::Result::uncertain);
  CHECK(mentions(o, "DNAT could not be decoded"));
}

TEST_CASE("given the nftables collector was denied, then nothing is reported closed") {
  Json doc = scenario1();
  doc["collectors"]["nftables"] = {{"status", "denied"}, {"reason", "needs CAP_NET_ADMIN"}};
  dfa::Outcome o = run(doc, "2001:db8:1::2", "2001:db8:1::1", 8080);
  CHECK(o.result == dfa::Outcome::Result::uncertain);
  CHECK(mentions(o, "nftables collector denied"));
}

TEST_CASE("given two nat chains at the same priority that bind differently, then the outcome is uncertain") {
  Json doc = scenario1();
  // A second DNAT for 8080 at dstnat (-100), like Docker's PREROUTING chain.
  auto& rs = doc["nftables"]["ruleset"];
  rs.push_back(Json::parse(R"({"table": {"family": "ip", "name": "other", "handle": 50}})"));
  rs.push_back(Json::parse(R"({"chain": {"family": "ip", "table": "other", "name": "pre", "handle": 1,
    "type": "nat", "hook": "prerouting", "prio": -100, "policy": "accept"}})"));
  rs.push_back(Json::parse(R"({"rule": {"family": "ip", "table": "other", "chain": "pre", "handle": 2, "expr": [
    {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 8080}},
    {"dnat": {"addr": "10.9.9.9", "port": 80}}]}})"));
  dfa::Outcome o = run(doc, "203.0.113.2", "203.0.113.1", 8080);
  CHECK(o.result == dfa::Outcome::Result::uncertain);
  CHECK(mentions(o, "same priority"));
}

TEST_CASE("given a container reaching its own published port through NAT, then the bridge's hairpin mode decides") {
  // Scenario 9 with the owner table: the proxy is off, so DNAT brings the
  // packet back to the bridge port it came from; Docker set hairpin mode on.
  Json doc = fixture_json("scenarios/09-handwritten-nat-owned/snapshot.json");
  auto from_web = [](const Json& d) { return from_container(d, "web", "203.0.113.1", 8080); };
  CHECK(from_web(doc).result == dfa::Outcome::Result::delivered);
  // Seen in the lab: without hairpin mode the kernel never answers.
  for (auto& i : doc["host"]["interfaces"])
    if (i.contains("hairpin")) i["hairpin"] = false;
  dfa::Outcome off = from_web(doc);
  CHECK(off.result == dfa::Outcome::Result::dropped);
  CHECK(off.decided_by.find("no hairpin mode") != std::string::npos);
  // A snapshot without the field: not known, so uncertain.
  for (auto& i : doc["host"]["interfaces"]) i.erase("hairpin");
  dfa::Outcome unknown = from_web(doc);
  CHECK(unknown.result == dfa::Outcome::Result::uncertain);
  CHECK(unknown.decided_by.find("hairpin mode") != std::string::npos);
}

TEST_CASE("given a physdev test of a port name on a bridge with several ports, then the outcome is uncertain") {
  // Scenario 11 (icc off, br_netfilter on): alpha's packets to beta on
  // docker0 meet the forward hook, where Docker drops them. Which of
  // docker0's two ports is beta's is not in the snapshot, so an accept of
  // "--physdev-out PORT" before Docker's drop may or may not apply;
  // with one port on the bridge the name is known and the accept decides.
  Json doc = fixture_json("scenarios/11-icc-brnf-on/snapshot.json");
  // docker0's two ports, as recorded: the test keeps the first, removes the second.
  std::vector<std::string> ports;
  for (const auto& i : doc["host"]["interfaces"])
    if (i.value("master", "") == "docker0") ports.push_back(i["name"]);
  REQUIRE(ports.size() == 2);
  Json* first = find_rule(doc, "filter", "FORWARD");
  REQUIRE(first);
  Json physdev = *first;
  physdev["handle"] = 98;
  physdev["expr"] = Json::parse(R"([{"xt": {"type": "match", "name": "physdev", "revision": 0, "decoded": true,
      "params": {"physdev_out": "PORT", "physdev_out_invert": false}, "text": " --physdev-out PORT"}},
      {"accept": null}])");
  physdev["expr"][0]["xt"]["params"]["physdev_out"] = ports[0];
  physdev["expr"][0]["xt"]["text"] = " --physdev-out " + ports[0];
  auto& rs = doc["nftables"]["ruleset"];
  for (auto it = rs.begin(); it != rs.end(); ++it)
    if (it->contains("rule") && &(*it)["rule"] == first) {
      rs.insert(it, Json{{"rule", physdev}});
      break;
    }
  auto alpha_to_beta = [](const Json& d) {
    std::string beta;
    for (const auto& c : d["docker_api"]["containers"])
      if (c["name"] == "beta") beta = c["networks"][0]["ipv4"];
    return from_container(d, "alpha", beta, 80);
  };
  dfa::Outcome o = alpha_to_beta(doc);
  CHECK(o.result == dfa::Outcome::Result::uncertain);
  CHECK(mentions(o, "which port of bridge docker0 leads to container beta"));
  // One port left on the bridge: it is beta's, and the accept applies.
  auto& ifs = doc["host"]["interfaces"];
  for (auto it = ifs.begin(); it != ifs.end(); ++it)
    if ((*it)["name"] == ports[1]) {
      ifs.erase(it);
      break;
    }
  dfa::Outcome known = alpha_to_beta(doc);
  CHECK(known.result == dfa::Outcome::Result::delivered);
  CHECK(known.decided_by.find("handle 98") != std::string::npos);
}

TEST_CASE("given a bond with one member, then its member is not a bridge port for physdev") {
  // Scenario 1 with eth1 made a bond of eth9: a reply coming back in on eth1
  // has no bridge port (br_netfilter only sees bridges), so a physdev drop
  // of eth9 does not apply and the forwarded connection works.
  Json doc = scenario1();
  for (auto& o : doc["nftables"]["ruleset"])
    if (o.contains("chain") && o["chain"].value("name", "") == "FORWARD") o["chain"]["policy"] = "accept";
  for (auto& i : doc["host"]["interfaces"])
    if (i["name"] == "eth1") i["kind"] = "bond";
  doc["host"]["interfaces"].push_back(Json::parse(
      R"({"index": 99, "name": "eth9", "up": true, "loopback": false, "kind": "veth", "master": "eth1", "addresses": []})"));
  auto& rs = doc["nftables"]["ruleset"];
  rs.push_back(Json::parse(R"({"table": {"family": "inet", "name": "t", "handle": 900}})"));
  rs.push_back(Json::parse(R"({"chain": {"family": "inet", "table": "t", "name": "c", "handle": 901, "type": "filter",
                                         "hook": "forward", "prio": -5, "policy": "accept"}})"));
  rs.push_back(Json::parse(R"({"rule": {"family": "inet", "table": "t", "chain": "c", "handle": 902, "expr": [
      {"xt": {"type": "match", "name": "physdev", "revision": 0, "decoded": true,
              "params": {"physdev_in": "eth9", "physdev_in_invert": false}, "text": " --physdev-in eth9"}},
      {"drop": null}]}})"));
  dfa::Outcome o = run(doc, "203.0.113.2", "198.51.100.7", 80);
  CHECK(o.result == dfa::Outcome::Result::delivered);
  CHECK(o.target.find("out of eth1") != std::string::npos);
}

namespace {

// Scenario 1 with a raw-priority prerouting chain of our own holding one
// rule (its statements as nft JSON).
Json with_prerouting_rule(const std::string& expr) {
  Json doc = scenario1();
  auto& rs = doc["nftables"]["ruleset"];
  rs.push_back({{"table", {{"family", "inet"}, {"name", "t"}, {"handle", 90}}}});
  rs.push_back({{"chain",
                 {{"family", "inet"}, {"table", "t"}, {"name", "pre"}, {"handle", 1}, {"type", "filter"},
                  {"hook", "prerouting"}, {"prio", -300}, {"policy", "accept"}}}});
  rs.push_back({{"rule", {{"family", "inet"}, {"table", "t"}, {"chain", "pre"}, {"handle", 2}, {"expr", Json::parse(expr)}}}});
  return doc;
}

}  // namespace

TEST_CASE("given a statement the engine does not model on the path, then the walk is uncertain, naming the rule") {
  // synproxy answers the handshake itself: nothing after it is what the model says.
  Json doc = with_prerouting_rule(
      R"([{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 8080}},
          {"synproxy": {"mss": 1460, "wscale": 7}}])");
  dfa::Outcome o = run(doc, "203.0.113.2", "203.0.113.1", 8080);
  CHECK(o.result == dfa::Outcome::Result::uncertain);
  CHECK(o.decided_by.find("synproxy") != std::string::npos);
  CHECK(o.decided_by.find("nft inet t pre #1") != std::string::npos);
  // Off its path the rule changes nothing: port 22 is not tested by it.
  CHECK(run(doc, "203.0.113.2", "203.0.113.1", 22).result == run(scenario1(), "203.0.113.2", "203.0.113.1", 22).result);
  CHECK(run(doc, "203.0.113.2", "203.0.113.1", 22).result != dfa::Outcome::Result::uncertain);
}

TEST_CASE("given only counting and logging statements on the path, then the walk stays certain") {
  Json doc = with_prerouting_rule(R"([{"counter": {"packets": 0, "bytes": 0}}, {"log": {"prefix": "x "}}])");
  CHECK(run(doc, "203.0.113.2", "203.0.113.1", 8080).result == dfa::Outcome::Result::delivered);
}

TEST_CASE("given a set filled from the packet path, then its own element matches and others are uncertain") {
  Json doc = with_prerouting_rule(R"([{"set": {"op": "update", "elem": {"payload": {"protocol": "ip", "field": "saddr"}},
                                                 "set": "@seen"}}])");
  auto& rs = doc["nftables"]["ruleset"];
  rs.push_back({{"set", {{"family", "inet"}, {"table", "t"}, {"name", "seen"}, {"type", "ipv4_addr"}, {"handle", 3}}}});
  auto lookup = [](const char* field, const char* verdict) {
    return Json::parse(fmt::format(R"([{{"match": {{"op": "==", "left": {{"payload": {{"protocol": "ip", "field": "{}"}}}},
                                          "right": "@seen"}}}}, {{"{}": null}}])",
                                   field, verdict));
  };
  rs.push_back({{"rule", {{"family", "inet"}, {"table", "t"}, {"chain", "pre"}, {"handle", 4}, {"expr", lookup("saddr", "drop")}}}});
  CHECK(run(doc, "203.0.113.2", "203.0.113.1", 8080).result == dfa::Outcome::Result::dropped);
  // A lookup by the destination: not what this packet added, so it depends on earlier packets.
  rs.back()["rule"]["expr"] = lookup("daddr", "drop");
  dfa::Outcome o = run(doc, "203.0.113.2", "203.0.113.1", 8080);
  CHECK(o.result == dfa::Outcome::Result::uncertain);
  CHECK(mentions(o, "set seen is filled from the packet path"));
}

TEST_CASE("given a published port no class is proven to reach but some may, then exposure does not call it closed") {
  // Every packet to 8080 meets synproxy, which the engine does not model: no
  // class is open, none is closed.
  Json doc = with_prerouting_rule(
      R"([{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 8080}},
          {"synproxy": {"mss": 1460}}])");
  dfa::Snapshot s{doc};
  dfa::Engine e(s);
  std::string table = dfa::render_open_table(dfa::compute_exposure(e));
  CAPTURE(table);
  CHECK(table.find("0.0.0.0:8080->80/tcp") != std::string::npos);
  for (std::size_t at = table.find("8080->80/tcp"); at != std::string::npos; at = table.find("8080->80/tcp", at + 1)) {
    std::string line = table.substr(at, table.find('\n', at) - at);
    CHECK(line.find("closed to every source class") == std::string::npos);
  }
  CHECK(table.find("not proven closed: uncertain for") != std::string::npos);
}

TEST_CASE("given a rule that drops the later ACKs of a connection, then the connection is dropped, not delivered") {
  // The SYN passes "tcp flags & (syn | ack) == ack"; the handshake's last
  // packet does not (edge case 36b holds the same with real packets).
  Json doc = with_prerouting_rule(
      R"([{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 8080}},
          {"match": {"op": "==", "left": {"&": [{"payload": {"protocol": "tcp", "field": "flags"}}, ["syn", "ack"]]},
                     "right": "ack"}},
          {"drop": null}])");
  dfa::Outcome o = run(doc, "203.0.113.2", "203.0.113.1", 8080);
  CHECK(o.result == dfa::Outcome::Result::dropped);
  CHECK(o.decided_by.find("a later packet of the connection (ACK) is dropped") != std::string::npos);
}

TEST_CASE("given strict rp_filter and a mark rule that routes the way back elsewhere, then the outcome is uncertain") {
  // With src_valid_mark (not in any snapshot) the reverse path lookup uses
  // the packet's mark and finds eth1, so strict rp_filter drops; without it
  // the main table finds eth0 and it passes. Neither is certain.
  Json doc = with_prerouting_rule(R"([{"mangle": {"key": {"meta": {"key": "mark"}}, "value": 1}}])");
  Json& h = doc["host"];
  h["sysctls"]["net/ipv4/conf/all/rp_filter"] = "1";
  h["policy_rules"].push_back({{"family", 4}, {"priority", 100}, {"table", "100"}, {"action", "lookup"}, {"src", ""},
                               {"dst", ""}, {"iif", ""}, {"oif", ""}, {"fwmark", 1}, {"fwmask", 4294967295u},
                               {"invert", false}, {"unmodeled", Json::array()}});
  h["routes"].push_back({{"family", 4}, {"table", "100"}, {"type", "unicast"}, {"dst", "203.0.113.0/24"}, {"dev", "eth1"},
                         {"gateway", ""}, {"prefsrc", ""}, {"metric", 0}});
  dfa::Outcome o = run(doc, "203.0.113.2", "203.0.113.1", 8080);
  CHECK(o.result == dfa::Outcome::Result::uncertain);
  CHECK(o.decided_by.find("src_valid_mark") != std::string::npos);
  // Without the mark rule the way back is eth0 either way: certain again.
  h["policy_rules"].erase(h["policy_rules"].size() - 1);
  CHECK(run(doc, "203.0.113.2", "203.0.113.1", 8080).result == dfa::Outcome::Result::delivered);
}

TEST_CASE("given a container's egress masqueraded out of a device without an address, then the outcome is uncertain") {
  // Scenario 1 on Docker 28.5: web reaches wan through Docker's MASQUERADE
  // (the lab's egress probe). With eth0's IPv4 address gone, masquerade has
  // no address to take: not modeled, so not delivered with certainty.
  Json doc = fixture_json("scenarios/01-bypass-nft/docker-28.5/snapshot.json");
  CHECK(from_container(doc, "web", "203.0.113.2", 80).result == dfa::Outcome::Result::delivered);
  for (auto& i : doc["host"]["interfaces"])
    if (i["name"] == "eth0") {
      Json kept = Json::array();
      for (const auto& a : i["addresses"])
        if (a["family"] != 4) kept.push_back(a);
      i["addresses"] = kept;
    }
  dfa::Outcome o = from_container(doc, "web", "203.0.113.2", 80);
  CHECK(o.result == dfa::Outcome::Result::uncertain);
  CHECK(o.decided_by.find("masquerade out of eth0, which has no IPv4 address") != std::string::npos);
}

namespace {
// Scenario 1 with a chain of our own (hook, priority) of 20 rules, long
// enough for the port index: `ct original proto-dst P drop` for 19 other
// ports, then for `port`.
Json with_ct_port_chain(const char* hook, int prio, unsigned port) {
  Json doc = scenario1();
  auto& rs = doc["nftables"]["ruleset"];
  rs.push_back({{"table", {{"family", "inet"}, {"name", "t"}, {"handle", 90}}}});
  rs.push_back({{"chain",
                 {{"family", "inet"}, {"table", "t"}, {"name", "c"}, {"handle", 1}, {"type", "filter"},
                  {"hook", hook}, {"prio", prio}, {"policy", "accept"}}}});
  for (unsigned i = 0; i < 20; ++i) {
    const unsigned p = i < 19 ? 9000 + i : port;
    Json expr = Json::parse(fmt::format(
        R"([{{"match": {{"op": "==", "left": {{"ct": {{"key": "proto-dst", "dir": "original"}}}}, "right": {}}}}},
            {{"drop": null}}])",
        p));
    rs.push_back({{"rule", {{"family", "inet"}, {"table", "t"}, {"chain", "c"}, {"handle", 10 + i}, {"expr", expr}}}});
  }
  return doc;
}
}  // namespace

TEST_CASE("given a long chain testing the connection's original port, then the index finds the rule after DNAT") {
  // In forward the packet's own port is the container's (80) after DNAT;
  // `ct original proto-dst` is still the published port.
  dfa::Outcome o = run(with_ct_port_chain("forward", -10, 8080), "203.0.113.2", "203.0.113.1", 8080);
  CHECK(o.result == dfa::Outcome::Result::dropped);
  CHECK(o.decided_by.find("nft inet t c #20") != std::string::npos);
  // Another port's rule does not drop it.
  CHECK(run(with_ct_port_chain("forward", -10, 8081), "203.0.113.2", "203.0.113.1", 8080).result ==
        dfa::Outcome::Result::delivered);
  // Before conntrack (raw priority) there is no connection: no such rule matches.
  CHECK(run(with_ct_port_chain("prerouting", -300, 8080), "203.0.113.2", "203.0.113.1", 8080).result ==
        dfa::Outcome::Result::delivered);
  // After conntrack, before DNAT: the packet's port and the original are one.
  o = run(with_ct_port_chain("prerouting", -150, 8080), "203.0.113.2", "203.0.113.1", 8080);
  CHECK(o.result == dfa::Outcome::Result::dropped);
  CHECK(o.decided_by.find("nft inet t c #20") != std::string::npos);
}

namespace {

// Scenario 2 (iptables-legacy) with a REDIRECT of tcp 9000 first in nat
// PREROUTING, to_ports as the collector writes them.
Json with_legacy_redirect(const std::string& to_ports, bool random) {
  Json doc = fixture_json("scenarios/02-bypass-legacy-guarded/snapshot.json");
  for (auto& t : doc["iptables_legacy"]["ipv4"]["tables"])
    if (t["name"] == "nat")
      for (auto& c : t["chains"])
        if (c["name"] == "PREROUTING") {
          Json r = c["rules"][0];
          r["protocol"] = "tcp";
          r["protocol_number"] = 6;
          r["matches"] = Json::parse(
              R"([{"name": "tcp", "revision": 0, "decoded": true, "raw": "", "text": " --dport 9000",
                   "params": {"dport": "9000", "dport_invert": false, "sport_invert": false}}])");
          r["target"] = {{"kind", "extension"}, {"name", "REDIRECT"}, {"decoded", true}, {"text", ""},
                         {"params", {{"to_ports", to_ports}, {"random", random}}}};
          r["text"] = "-A PREROUTING -p tcp --dport 9000 -j REDIRECT --to-ports " + to_ports;
          c["rules"].insert(c["rules"].begin(), r);
        }
  return doc;
}

}  // namespace

TEST_CASE("given a redirect to a port range, then the packet's port is kept inside it and a random pick is uncertain") {
  // Inside 8000-9000 the kernel keeps 9000 (nf_nat_l4proto_unique_tuple);
  // tests/kernel/edge_cases.sh (case 41) shows it with a real packet.
  dfa::Outcome kept = run(with_legacy_redirect("8000-9000", false), "203.0.113.2", "203.0.113.1", 9000);
  CHECK(kept.result != dfa::Outcome::Result::uncertain);
  bool redirected_to_9000 = false;
  for (const auto& s : kept.steps) redirected_to_9000 |= s.verdict.find("redirect to :8000-9000") != std::string::npos;
  CHECK(redirected_to_9000);
  // --random picks any port of the range: which one, no snapshot shows.
  dfa::Outcome random = run(with_legacy_redirect("8000-9000", true), "203.0.113.2", "203.0.113.1", 9000);
  CHECK(random.result == dfa::Outcome::Result::uncertain);
  CHECK(mentions(random, "REDIRECT to a random port of 8000-9000"));
  // Ports that are no numbers leave the action unknown, never a guess.
  dfa::Outcome bad = run(with_legacy_redirect("80x", false), "203.0.113.2", "203.0.113.1", 9000);
  CHECK(bad.result == dfa::Outcome::Result::uncertain);
  CHECK(mentions(bad, "REDIRECT to ports that are no port numbers: 80x"));
  // A port list the compiler cannot read is not a certain miss: the walk
  // names it (here both ways end dropped).
  Json odd = with_legacy_redirect("8000-9000", false);
  for (auto& t : odd["iptables_legacy"]["ipv4"]["tables"])
    if (t["name"] == "nat") t["chains"][0]["rules"][0]["matches"][0]["params"]["dport"] = "90x0";
  dfa::Outcome unread = run(odd, "203.0.113.2", "203.0.113.1", 9000);
  CHECK(mentions(unread, "match tcp with ports that are no port numbers: 90x0"));
  // nftables' redirect to a range (or any expression) is not followed.
  Json doc = scenario1();
  auto& rs = doc["nftables"]["ruleset"];
  rs.push_back({{"table", {{"family", "ip"}, {"name", "r"}, {"handle", 90}}}});
  rs.push_back({{"chain", {{"family", "ip"}, {"table", "r"}, {"name", "pre"}, {"handle", 1}, {"type", "nat"},
                           {"hook", "prerouting"}, {"prio", -150}, {"policy", "accept"}}}});
  rs.push_back({{"rule", {{"family", "ip"}, {"table", "r"}, {"chain", "pre"}, {"handle", 2},
                          {"expr", Json::parse(R"([{"match": {"op": "==", "left": {"payload": {"protocol": "tcp",
                               "field": "dport"}}, "right": 9000}}, {"redirect": {"port": {"range": [8000, 9000]}}}])")}}}});
  dfa::Outcome nft = run(doc, "203.0.113.2", "203.0.113.1", 9000);
  CHECK(nft.result == dfa::Outcome::Result::uncertain);
  CHECK(mentions(nft, "redirect to a port expression"));
}

namespace {

// Scenario 2 (iptables-legacy) with one rule first in filter INPUT: a drop
// of tcp with the given x_tables match, as the collector writes it.
Json with_legacy_input_drop(const std::string& match, const Json& params) {
  Json doc = fixture_json("scenarios/02-bypass-legacy/snapshot.json");
  for (auto& t : doc["iptables_legacy"]["ipv4"]["tables"])
    if (t["name"] == "filter")
      for (auto& c : t["chains"])
        if (c["name"] == "INPUT") {
          Json r = {{"index", 1}, {"src", ""}, {"src_invert", false}, {"dst", ""}, {"dst_invert", false},
                    {"in_iface", ""}, {"in_invert", false}, {"out_iface", ""}, {"out_invert", false},
                    {"protocol", "tcp"}, {"protocol_number", 6}, {"protocol_invert", false}, {"fragment", ""},
                    {"counters", {{"packets", 0}, {"bytes", 0}}}};
          r["matches"] = Json::array({{{"name", match}, {"revision", 0}, {"decoded", true}, {"raw", ""}, {"text", ""},
                                       {"params", params}}});
          r["target"] = {{"kind", "verdict"}, {"name", "DROP"}, {"decoded", true}, {"params", Json::object()}, {"text", ""}};
          r["text"] = "-A INPUT -p tcp -m " + match + " -j DROP";
          c["rules"].insert(c["rules"].begin(), r);
        }
  return doc;
}

bool drops(const std::string& match, const Json& params, unsigned port) {
  dfa::Outcome o = run(with_legacy_input_drop(match, params), "203.0.113.2", "203.0.113.1", port);
  CHECK(o.result != dfa::Outcome::Result::uncertain);
  return o.result == dfa::Outcome::Result::dropped && o.decided_by.find("filter INPUT") != std::string::npos;
}

}  // namespace

TEST_CASE("given legacy matches of ports, TCP flags, connection state and address type, then each is read as iptables does") {
  // The model's first packet is a SYN of a new connection to a local address;
  // 9100 is no published port (8080 is: DNAT would take it past INPUT).
  // Without the rule, what ends the packet is that no socket listens there.
  dfa::Outcome none = run(fixture_json("scenarios/02-bypass-legacy/snapshot.json"), "203.0.113.2", "203.0.113.1", 9100);
  REQUIRE(none.decided_by.find("no socket") != std::string::npos);
  Json list = {{"dports", "7000:7002,9100"}};
  CHECK(drops("multiport", list, 9100));
  CHECK(drops("multiport", list, 7001));
  CHECK_FALSE(drops("multiport", list, 7003));
  CHECK(drops("tcp", {{"dport", "9000:9200"}, {"dport_invert", false}}, 9100));
  CHECK_FALSE(drops("tcp", {{"dport", "9000:9200"}, {"dport_invert", true}}, 9100));
  CHECK(drops("tcp", {{"tcp_flags", "SYN,ACK SYN"}}, 9100));  // --syn's test
  CHECK_FALSE(drops("tcp", {{"tcp_flags", "SYN,ACK ACK"}}, 9100));
  CHECK_FALSE(drops("tcp", {{"tcp_flags", "SYN,ACK SYN"}, {"tcp_flags_invert", true}}, 9100));
  CHECK(drops("conntrack", {{"ctstate", "INVALID,NEW"}}, 9100));
  CHECK_FALSE(drops("conntrack", {{"ctstate", "RELATED,ESTABLISHED"}}, 9100));
  CHECK(drops("conntrack", {{"ctstate", "RELATED,ESTABLISHED"}, {"ctstate_invert", true}}, 9100));
  CHECK(drops("addrtype", {{"dst_type", "BROADCAST,LOCAL"}}, 9100));
  CHECK_FALSE(drops("addrtype", {{"dst_type", "UNICAST"}}, 9100));
  CHECK(drops("addrtype", {{"src_type", "UNICAST"}}, 9100));
}
