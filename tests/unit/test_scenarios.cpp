// For every lab scenario, the analyzer, given only the snapshot, must
// reproduce every cell of the reachability that real packets observed.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "analyze/engine.hpp"
#include "analyze/exposure.hpp"
#include "findings/report.hpp"
#include "fixtures.hpp"

using dfa::Json;

namespace {

dfa::Source source_of(const std::string& name, int family) {
  dfa::Source s;
  if (name == "host") {
    s.kind = dfa::Source::Kind::host;
  } else if (name.rfind("container:", 0) == 0) {
    s.kind = dfa::Source::Kind::container;
    s.container = name.substr(10);
  } else {
    s.kind = dfa::Source::Kind::remote;
    const char* a = name == "wan" ? (family == 6 ? "2001:db8:1::2" : "203.0.113.2")
                                  : (family == 6 ? "2001:db8:2::2" : "198.51.100.2");
    s.addr = dfa::IpAddr::parse(a);
  }
  return s;
}

}  // namespace

TEST_CASE("given each lab scenario's snapshot, then explain reproduces every observed cell") {
  int scenarios = 0, cells = 0;
  for (const auto& rec : lab_recordings()) {
    ++scenarios;
    std::string name = rec.name();
    auto snap = dfa::load_snapshot(fixture_path("scenarios/" + name + "/snapshot.json"));
    REQUIRE_MESSAGE(snap.ok(), (snap.ok() ? "" : snap.error().message));
    dfa::Engine engine(*snap);
    Json observed = fixture_json("scenarios/" + name + "/observed.json");
    for (const auto& o : observed["observations"]) {
      ++cells;
      auto dst = dfa::IpAddr::parse(o["dst"].get<std::string>());
      REQUIRE(dst);
      dfa::Outcome out = engine.run(source_of(o["source"], o["family"]), *dst, o["port"], o["proto"]);
      bool open = o["result"] == "open";
      std::string cell = fmt::format("{}: {} -> {}:{}/{} observed {} {}; analyzer {} {}\n{}", name,
                                     o["source"].get<std::string>(), o["dst"].get<std::string>(), o["port"].get<int>(),
                                     o["proto"].get<std::string>(), o["result"].get<std::string>(),
                                     o["answer"].get<std::string>(), dfa::to_string(out.result), out.target,
                                     dfa::render_text(out));
      CAPTURE(cell);
      CHECK(out.result != dfa::Outcome::Result::uncertain);
      CHECK((out.result == dfa::Outcome::Result::delivered) == open);
      if (open && !out.container.empty()) CHECK(out.container == o["answer"].get<std::string>());
    }
  }
  CHECK(scenarios >= 14);
  MESSAGE(fmt::format("{} cells in {} scenarios", cells, scenarios));
}

TEST_CASE("given each lab scenario, then exposure agrees with every observed cell from outside hosts") {
  int checked = 0;
  for (const auto& rec : lab_recordings()) {
    std::string name = rec.name();
    auto snap = dfa::load_snapshot(fixture_path("scenarios/" + name + "/snapshot.json"));
    REQUIRE(snap.ok());
    dfa::Engine engine(*snap);
    dfa::Exposure x = dfa::compute_exposure(engine);
    const std::map<int, dfa::SourcePartition>& parts = x.partitions;
    Json observed = fixture_json("scenarios/" + name + "/observed.json");
    for (const auto& o : observed["observations"]) {
      std::string src = o["source"];
      if (src != "wan" && src != "lan") continue;
      int fam = o["family"];
      std::string iif = src == "wan" ? "eth0" : "eth1";
      auto saddr = dfa::IpAddr::parse(src == "wan" ? (fam == 6 ? "2001:db8:1::2" : "203.0.113.2")
                                                   : (fam == 6 ? "2001:db8:2::2" : "198.51.100.2"));
      std::string label = parts.at(fam).label_of(*saddr, iif);
      std::string a = o["dst"].get<std::string>();
      std::string dest = fmt::format("{}:{}/{}", fam == 6 ? "[" + a + "]" : a, o["port"].get<int>(), o["proto"].get<std::string>());
      for (const auto& en : x.entries)
        for (const auto& c : en.cells())
          if (c.source == label && c.destination == dest) {
            ++checked;
            CAPTURE(name);
            CAPTURE(label);
            CAPTURE(dest);
            CHECK((c.outcome->result == dfa::Outcome::Result::delivered) == (o["result"] == "open"));
          }
    }
  }
  CHECK(checked > 100);
  MESSAGE(fmt::format("{} exposure cells checked against observations", checked));
}

TEST_CASE("given each lab scenario, when its entries are walked on several threads, then the exposure is the one walked on one") {
  // compute_exposure hands entries to threads; each must come out as walked
  // alone and in the order of the entries, whatever thread walked it.
  int compared = 0;
  for (const auto& rec : lab_recordings()) {
    auto snap = dfa::load_snapshot(fixture_path("scenarios/" + rec.name() + "/snapshot.json"));
    REQUIRE(snap.ok());
    dfa::Engine engine(*snap);
    const std::string one = dfa::dump_json(dfa::to_json(dfa::compute_exposure(engine, 1)));
    CAPTURE(rec.name());
    for (unsigned threads : {2u, 5u}) CHECK(dfa::dump_json(dfa::to_json(dfa::compute_exposure(engine, threads))) == one);
    ++compared;
  }
  CHECK(compared >= 14);
}

TEST_CASE("given each lab scenario, then the streamed exposure JSON is the document to_json builds") {
  // exposure --format json streams (write_json); scan embeds to_json. The
  // two must not drift apart, and the streamed text must parse.
  int compared = 0;
  for (const auto& rec : lab_recordings()) {
    auto snap = dfa::load_snapshot(fixture_path("scenarios/" + rec.name() + "/snapshot.json"));
    REQUIRE(snap.ok());
    dfa::Engine engine(*snap);
    dfa::Exposure x = dfa::compute_exposure(engine);
    CAPTURE(rec.name());
    dfa::ScanResult r = dfa::run_scan(engine);
    for (bool pretty : {true, false}) {
      CAPTURE(pretty);
      const int indent = pretty ? 2 : -1;
      std::string streamed;
      dfa::write_json(x, [&](std::string_view b) { streamed += b; }, pretty);
      CHECK(streamed == dfa::dump_json(dfa::to_json(x), indent));
      CHECK(Json::parse(streamed)["entries"].size() == x.entries.size());
      // scan --format json streams its exposure too, one level deeper.
      CHECK(dfa::dump_scan_json(r, pretty) == dfa::dump_json(dfa::to_json(r), indent));
    }
    ++compared;
  }
  CHECK(compared >= 14);
}

namespace {
// Every cell of the exposure is what a walk from its own class's
// representative gives: the classes that share a walk must really be alike.
int check_cells_walk_alone(const dfa::Engine& engine, const dfa::Exposure& x) {
  int cells = 0;
  for (const auto& en : x.entries)
    for (const auto& c : en.cells()) {
      std::string d = c.destination.substr(0, c.destination.rfind(':'));
      if (d.front() == '[') d = d.substr(1, d.size() - 2);
      unsigned port = static_cast<unsigned>(std::stoul(c.destination.substr(c.destination.rfind(':') + 1)));
      std::string proto = c.destination.substr(c.destination.find('/') + 1);
      dfa::Outcome direct = engine.run(c.source_class.source, *dfa::IpAddr::parse(d), port, proto, false);
      CAPTURE(en.what);
      CAPTURE(c.source);
      CAPTURE(c.destination);
      CHECK(c.outcome->result == direct.result);
      CHECK(c.outcome->decided_by == direct.decided_by);
      CHECK(c.outcome->target == direct.target);
      ++cells;
    }
  return cells;
}

// Adds a forward chain that drops FIELD (saddr or daddr) 203.0.113.128/25 at
// tcp dport PORT, holds every cell to its own class's walk, and returns the
// cells of that /25 and of the rest of 203.0.113.0/24 to scenario 1's web
// port at 203.0.113.1.
std::pair<dfa::Outcome, dfa::Outcome> with_quarter_dropped(Json doc, const char* field, unsigned port) {
  Json& rs = add_nft_base_chain(doc, "inet", "t2", "c", "forward", -5);
  Json addr = {{"match", {{"op", "=="}, {"left", {{"payload", {{"protocol", "ip"}, {"field", field}}}}},
                          {"right", {{"prefix", {{"addr", "203.0.113.128"}, {"len", 25}}}}}}}};
  Json dport = {{"match", {{"op", "=="}, {"left", {{"payload", {{"protocol", "tcp"}, {"field", "dport"}}}}}, {"right", port}}}};
  rs.push_back({{"rule", {{"family", "inet"}, {"table", "t2"}, {"chain", "c"}, {"handle", 902},
                          {"expr", {addr, dport, {{"drop", nullptr}}}}}}});
  dfa::Snapshot snap{doc};
  dfa::Engine engine(snap);
  dfa::Exposure x = dfa::compute_exposure(engine);
  CHECK(check_cells_walk_alone(engine, x) > 50);
  auto cell = [&](const std::string& label) {
    for (const auto& en : x.entries)
      if (en.family == 4 && en.what.find(":8080->") != std::string::npos)
        for (const auto& c : en.cells())
          if (c.source == label && c.destination.rfind("203.0.113.1:", 0) == 0) return *c.outcome;
    FAIL("no cell from " << label);
    return dfa::Outcome{};
  };
  return {cell("203.0.113.128/25 on eth0"), cell("203.0.113.0/24 on eth0")};
}
}  // namespace

TEST_CASE("given each lab scenario, then every exposure cell is what its own class's walk gives") {
  int cells = 0;
  for (const auto& rec : lab_recordings()) {
    auto snap = dfa::load_snapshot(fixture_path("scenarios/" + rec.name() + "/snapshot.json"));
    REQUIRE(snap.ok());
    dfa::Engine engine(*snap);
    CAPTURE(rec.name());
    cells += check_cells_walk_alone(engine, dfa::compute_exposure(engine));
  }
  CHECK(cells > 1000);
}

TEST_CASE("given a rule testing a prefix as the destination of replies, then that prefix is its own class") {
  // A source shows up as a destination address only on the way back: a
  // forward rule dropping packets to 203.0.113.128/25 at the client's port
  // drops the replies of the published port for those sources only.
  auto [quarter, rest] = with_quarter_dropped(fixture_json("scenarios/01-bypass-nft/snapshot.json"), "daddr", 40000);
  CHECK(quarter.result == dfa::Outcome::Result::dropped);
  CHECK(rest.result == dfa::Outcome::Result::delivered);
}

namespace {
// Scenario 1 with Docker 28's raw rules for a network: a prerouting chain
// (before conntrack) dropping packets to each of 203.0.113.130..149 unless
// they come in on BRIDGE, long enough to be looked up by destination. Holds
// every cell to its own class's walk; returns the web port's cells from
// 203.0.113.130 and from the rest of 203.0.113.0/24, and how many walks
// the entry made.
struct RawCells {
  dfa::Outcome listed, rest;
  std::size_t walks = 0;
};
// odd: the bridge of the rules for odd addresses, when not BRIDGE.
RawCells with_raw_rules(const std::string& bridge, const std::string& odd = "") {
  Json doc = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  Json& rs = add_nft_base_chain(doc, "ip", "rawx", "PREROUTING", "prerouting", -300);
  for (int i = 130; i < 150; ++i) {
    Json iif = {{"match", {{"op", "!="}, {"left", {{"meta", {{"key", "iifname"}}}}}, {"right", i % 2 && !odd.empty() ? odd : bridge}}}};
    Json daddr = {{"match", {{"op", "=="}, {"left", {{"payload", {{"protocol", "ip"}, {"field", "daddr"}}}}},
                             {"right", fmt::format("203.0.113.{}", i)}}}};
    rs.push_back({{"rule", {{"family", "ip"}, {"table", "rawx"}, {"chain", "PREROUTING"}, {"handle", 1000 + i},
                            {"expr", {iif, daddr, {{"drop", nullptr}}}}}}});
  }
  dfa::Snapshot snap{doc};
  dfa::Engine engine(snap);
  dfa::Exposure x = dfa::compute_exposure(engine);
  CHECK(check_cells_walk_alone(engine, x) > 50);
  RawCells r;
  bool listed = false, rest = false;
  for (const auto& en : x.entries)
    if (en.family == 4 && en.what.find(":8080->") != std::string::npos) {
      r.walks = en.outcomes.size() / en.destinations.size();
      for (const auto& c : en.cells())
        if (c.destination.rfind("203.0.113.1:", 0) == 0) {
          if (c.source == "203.0.113.130/32 on eth0") listed = true, r.listed = *c.outcome;
          if (c.source == "203.0.113.0/24 on eth0") rest = true, r.rest = *c.outcome;
        }
    }
  CHECK(listed);
  CHECK(rest);
  return r;
}
}  // namespace

TEST_CASE("given Docker 28's raw rules for another network, then replies to those addresses are dropped, walk by walk") {
  // The reply from the container comes in on docker0, which is not br-x:
  // each rule reads the reply's destination, the sender's address. The
  // rules are looked up by destination, so a reply to any other sender
  // skips them; that skip must not make them shared.
  RawCells r = with_raw_rules("br-x");
  CHECK(r.listed.result == dfa::Outcome::Result::dropped);
  CHECK(r.rest.result == dfa::Outcome::Result::delivered);
}

TEST_CASE("given Docker 28's raw rules for the container's own network, then their addresses share the others' walks") {
  // Replies come in on docker0: every rule's interface test fails before
  // its address is read, so the twenty /32 classes take the path of the
  // rest of the /24 (one walk each otherwise: compare with br-x).
  RawCells own = with_raw_rules("docker0"), other = with_raw_rules("br-x");
  CHECK(own.listed.result == dfa::Outcome::Result::delivered);
  CHECK(own.rest.result == dfa::Outcome::Result::delivered);
  CHECK(own.walks + 20 <= other.walks);
  MESSAGE(own.walks << " walks with docker0's rules, " << other.walks << " with br-x's");
}

TEST_CASE("given raw rules for two bridges interleaved, then each rule's interface test decides, not its neighbour's") {
  // A walk skipping rules it is not looked up for tests each group of
  // rules with the same interface test once (PortIndex::lead_group): the
  // docker0 rules close for a reply from docker0, the br-x rules do not.
  // Every cell is held to its own class's walk inside with_raw_rules.
  RawCells r = with_raw_rules("docker0", "br-x");
  CHECK(r.listed.result == dfa::Outcome::Result::delivered);  // .130: a docker0 rule
  CHECK(r.rest.result == dfa::Outcome::Result::delivered);
}

TEST_CASE("given a run of single-address rules with different verdicts, then the run's addresses are not shared") {
  // The engine looks such a run up by address (RuleRun) without reading
  // its rules one by one; the partition names each address (the verdicts
  // differ, so they are no one set). A walk that looked the run up must
  // count every address of its chain.
  Json doc = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  Json& rs = add_nft_base_chain(doc, "inet", "t3", "c", "forward", -5);
  for (int i = 130; i < 150; ++i) {
    Json saddr = {{"match", {{"op", "=="}, {"left", {{"payload", {{"protocol", "ip"}, {"field", "saddr"}}}}},
                             {"right", fmt::format("203.0.113.{}", i)}}}};
    Json verdict = i % 2 ? Json{{"accept", nullptr}} : Json{{"drop", nullptr}};
    rs.push_back({{"rule", {{"family", "inet"}, {"table", "t3"}, {"chain", "c"}, {"handle", 1000 + i},
                            {"expr", {saddr, verdict}}}}});
  }
  dfa::Snapshot snap{doc};
  dfa::Engine engine(snap);
  dfa::Exposure x = dfa::compute_exposure(engine);
  CHECK(check_cells_walk_alone(engine, x) > 50);
  int dropped = 0;
  for (const auto& en : x.entries)
    if (en.family == 4 && en.what.find(":8080->") != std::string::npos)
      for (const auto& c : en.cells())
        dropped += c.source == "203.0.113.130/32 on eth0" && c.outcome->result == dfa::Outcome::Result::dropped;
  CHECK(dropped > 0);
}

TEST_CASE("given a DNAT to another port and a forward rule for that port, then the prefix is its own class") {
  // A prefix tells sources apart only for the ports its rules can match,
  // and a DNAT's translated port is one of them: "172.17.0.2:81" (iptables
  // to_destination syntax) must count, or 203.0.113.128/25 would share the
  // walk of every other address and be reported with their outcome.
  Json doc = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  bool changed = false;
  for (auto& o : doc["nftables"]["ruleset"])
    if (o.contains("rule"))
      for (auto& e : o["rule"]["expr"])
        if (e.contains("xt") && e["xt"].value("name", "") == "DNAT" &&
            e["xt"]["params"].value("to_destination", "") == "172.17.0.2:80") {
          e["xt"]["params"]["to_destination"] = "172.17.0.2:81";
          changed = true;
        }
  REQUIRE(changed);
  auto [quarter, rest] = with_quarter_dropped(doc, "saddr", 81);
  CHECK(quarter.result == dfa::Outcome::Result::dropped);
  CHECK(quarter.decided_by.find("t2 c") != std::string::npos);
  CHECK(rest.decided_by.find("t2 c") == std::string::npos);
}

namespace {
// Scenario 1 with an admin table: a 40-element interval set dropped at
// forward (addresses, prefixes and ranges, some inside 203.0.113.0/24), a
// source-address verdict map, and a chain nothing jumps to.
Json with_blocklist_table() {
  Json doc = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  auto& rs = doc["nftables"]["ruleset"];
  Json elems = Json::array();
  for (int i = 0; i < 20; ++i) elems.push_back(fmt::format("192.0.2.{}", 3 * i + 1));
  for (int i = 0; i < 10; ++i) elems.push_back({{"prefix", {{"addr", fmt::format("100.{}.0.0", 64 + i)}, {"len", 16}}}});
  elems.push_back({{"prefix", {{"addr", "203.0.113.64"}, {"len", 28}}}});
  elems.push_back({{"range", {"203.0.113.200", "203.0.113.210"}}});
  elems.push_back("203.0.113.7");
  for (int i = 0; i < 7; ++i) elems.push_back({{"range", {fmt::format("10.{}.0.5", i), fmt::format("10.{}.1.9", i)}}});
  rs.push_back(Json::parse(R"({"table": {"family": "inet", "name": "hostfw", "handle": 900}})"));
  rs.push_back({{"set", {{"family", "inet"}, {"name", "blocklist"}, {"table", "hostfw"}, {"type", "ipv4_addr"},
                         {"handle", 901}, {"flags", {"interval"}}, {"elem", elems}}}});
  rs.push_back(Json::parse(R"({"map": {"family": "inet", "name": "tenants", "table": "hostfw", "type": "ipv4_addr",
      "handle": 902, "map": "verdict", "flags": ["interval"],
      "elem": [[{"prefix": {"addr": "203.0.113.32", "len": 28}}, {"drop": null}],
               [{"prefix": {"addr": "203.0.113.48", "len": 28}}, {"accept": null}],
               ["203.0.113.99", {"drop": null}]]}})"));
  rs.push_back(Json::parse(R"({"chain": {"family": "inet", "table": "hostfw", "name": "forward", "handle": 903,
      "type": "filter", "hook": "forward", "prio": -5, "policy": "accept"}})"));
  rs.push_back(Json::parse(R"({"chain": {"family": "inet", "table": "hostfw", "name": "unreached", "handle": 904}})"));
  auto rule = [&](const char* chain, int handle, Json expr) {
    rs.push_back({{"rule", {{"family", "inet"}, {"table", "hostfw"}, {"chain", chain}, {"handle", handle}, {"expr", expr}}}});
  };
  Json saddr = {{"payload", {{"protocol", "ip"}, {"field", "saddr"}}}};
  rule("forward", 905, {{{"match", {{"op", "=="}, {"left", saddr}, {"right", "@blocklist"}}}}, {{"drop", nullptr}}});
  rule("forward", 906, {{{"vmap", {{"key", saddr}, {"data", "@tenants"}}}}});
  rule("unreached", 907, {{{"match", {{"op", "=="}, {"left", saddr}, {"right", {{"prefix", {{"addr", "203.0.113.128"}, {"len", 26}}}}}}}},
                          {{"drop", nullptr}}});
  return doc;
}
}  // namespace

TEST_CASE("given a named interval set and map, then each is one branch and every address behaves as its class") {
  // A set lookup splits sources in two (member or not), a map by its values,
  // and a chain nothing jumps to splits nothing: a 100,000-entry blocklist
  // must not make 100,000 classes. Exact, not a sample: every address near
  // an element's edges walks alone to the outcome its class's cell shows.
  Json doc = with_blocklist_table();
  dfa::Snapshot snap{doc};
  dfa::Engine engine(snap);
  dfa::Exposure x = dfa::compute_exposure(engine);
  CHECK(check_cells_walk_alone(engine, x) > 50);
  std::set<std::string> labels;
  for (const auto& c : x.classes) labels.insert(c.label);
  CHECK(labels.count("an address of set inet hostfw blocklist on eth0"));
  CHECK(labels.count("an address of map inet hostfw tenants (drop) within 203.0.113.0/24 on eth0"));
  CHECK(labels.count("an address of map inet hostfw tenants (accept) within 203.0.113.0/24 on eth0"));
  for (const auto& l : labels) CHECK_MESSAGE(l.find("203.0.113.128/26") == std::string::npos, l);  // unreached
  for (const auto& l : labels) CHECK_MESSAGE(l.find("100.6") == std::string::npos, l);             // no element alone
  const dfa::ExposureEntry* web = nullptr;
  for (const auto& en : x.entries)
    if (en.family == 4 && en.what.find(":8080->") != std::string::npos) web = &en;
  REQUIRE(web);
  std::vector<std::string> probes;
  for (int i = 0; i < 64; ++i) probes.push_back(fmt::format("192.0.2.{}", i));
  for (int i : {0, 1, 6, 7, 8, 31, 32, 47, 48, 63, 64, 79, 80, 98, 99, 100, 199, 200, 205, 210, 211})
    probes.push_back(fmt::format("203.0.113.{}", i));
  for (const char* a : {"100.63.255.255", "100.64.0.0", "100.73.255.255", "100.74.0.0", "10.0.0.4", "10.0.0.5", "10.0.0.255",
                        "10.0.1.9", "10.0.1.10", "10.6.1.9", "10.7.0.5", "8.8.4.4"})
    probes.push_back(a);
  std::size_t dst = 0;
  while (dst < web->destination_addrs.size() && web->destination_addrs[dst].str() != "203.0.113.1") ++dst;
  REQUIRE(dst < web->destination_addrs.size());
  const dfa::SourcePartition& part = x.partitions.at(4);
  int checked = 0, dropped = 0;
  for (const auto& p : probes) {
    auto addr = *dfa::IpAddr::parse(p);
    std::string label = part.label_of(addr, "eth0");
    CAPTURE(p);
    CAPTURE(label);
    std::size_t ci = 0;
    while (ci < web->classes->size() && (*web->classes)[ci].label != label) ++ci;
    REQUIRE(ci < web->classes->size());
    dfa::Outcome direct = engine.run({dfa::Source::Kind::remote, addr, "eth0", ""}, web->destination_addrs[dst], web->port,
                                     web->proto, false);
    const auto& cell = *web->cell(ci, dst).outcome;
    CHECK(cell.result == direct.result);
    CHECK(cell.decided_by == direct.decided_by);
    dropped += direct.result == dfa::Outcome::Result::dropped;
    ++checked;
  }
  CHECK(checked == static_cast<int>(probes.size()));
  CHECK(dropped > 30);  // the blocklist and the map's drops are met, not only the rest
}

// Each lab recording with its engine and exposure, for a test to walk.
template <class F>
void each_exposure(F&& f) {
  for (const auto& rec : lab_recordings()) {
    auto snap = dfa::load_snapshot(fixture_path("scenarios/" + rec.name() + "/snapshot.json"));
    REQUIRE(snap.ok());
    dfa::Engine engine(*snap);
    dfa::Exposure x = dfa::compute_exposure(engine);
    f(rec.name(), engine, x);
  }
}

TEST_CASE("given each lab scenario, then an untraced walk knows what its trace shows: a drop at the input hook") {
  // DFA001 asks whether the walk without NAT is dropped at input, without a
  // trace (one per class and destination costs most of a scan); the flag must
  // say what the steps say, with and without NAT, for every cell.
  int walks = 0, at_input = 0;
  each_exposure([&](const std::string& name, const dfa::Engine& engine, const dfa::Exposure& x) {
    for (const auto& en : x.entries)
      for (std::size_t ci = 0; ci < en.walk.size(); ++ci)
        for (std::size_t k = 0; k < en.destinations.size(); ++k)
          for (bool skip_nat : {false, true}) {
            const auto& src = (*en.classes)[ci].source;
            dfa::Outcome traced = engine.run(src, en.destination_addrs[k], en.port, en.proto, true, skip_nat);
            dfa::Outcome bare = engine.run(src, en.destination_addrs[k], en.port, en.proto, false, skip_nat);
            bool seen = std::any_of(traced.steps.begin(), traced.steps.end(),
                                    [](const dfa::Step& st) { return st.hook == "input" && st.drops; });
            bool in_filter = std::any_of(traced.steps.begin(), traced.steps.end(), [](const dfa::Step& st) {
              return (st.hook == "prerouting" || st.hook == "input" || st.hook == "forward") && st.drops;
            });
            CHECK(traced.dropped_in_filter == in_filter);
            CHECK(bare.dropped_in_filter == in_filter);
            CAPTURE(name);
            CAPTURE(en.what);
            CAPTURE((*en.classes)[ci].label);
            CHECK(traced.dropped_at_input == seen);
            CHECK(bare.dropped_at_input == seen);
            CHECK(bare.decided_by == traced.decided_by);
            ++walks;
            at_input += seen;
          }
  });
  CHECK(walks > 1000);
  CHECK(at_input > 20);
}

namespace {
// Every remote class of `en`'s family walked to dst:port alone, and through
// SharedWalks (en's facts, its prefixes as en counts them): a class that
// takes a recorded walk's path must get that walk's outcome and deciding rule.
void check_shared_walks(const dfa::Engine& engine, const dfa::ExposureEntry& en, const dfa::IpAddr& dst, bool skip_nat,
                        const std::string& what, int& checked, int& shared_hits) {
  dfa::SharedWalks shared(en);
  std::vector<dfa::Outcome> walks;
  for (std::size_t ci = 0; ci < en.classes->size(); ++ci) {
    const auto& src = (*en.classes)[ci].source;
    if (src.kind != dfa::Source::Kind::remote) continue;
    dfa::VisitedChains visited;
    dfa::Outcome own = engine.run(src, dst, en.port, en.proto, false, skip_nat, &visited);
    if (auto w = shared.find(ci)) {
      CAPTURE(what);
      CAPTURE((*en.classes)[ci].label);
      CHECK(own.result == walks[*w].result);
      CHECK(own.decided_by == walks[*w].decided_by);
      CHECK(own.dropped_at_input == walks[*w].dropped_at_input);
      ++shared_hits;
    } else {
      shared.add(ci, static_cast<std::uint32_t>(walks.size()), visited);
      walks.push_back(own);
    }
    ++checked;
  }
}
}  // namespace

TEST_CASE("given each lab scenario, then walks without NAT shared by SharedWalks are what each class's own walk gives") {
  // DFA001 and remediate's intent walk a packet without Docker's NAT once
  // per shared walk: every class that SharedWalks says takes a recorded
  // walk's path must give that walk's outcome and deciding rule.
  int checked = 0, shared_hits = 0;
  each_exposure([&](const std::string& name, const dfa::Engine& engine, const dfa::Exposure& x) {
    for (const auto& en : x.entries)
      for (std::size_t k = 0; k < en.destinations.size(); ++k)
        check_shared_walks(engine, en, en.destination_addrs[k], true, name + " " + en.what, checked, shared_hits);
  });
  CHECK(checked > 1000);
  CHECK(shared_hits > 100);
  MESSAGE(checked << " walks without NAT, " << shared_hits << " of them shared");
}

namespace {
// Walks without NAT shared between ports (ExposureEntry::bare_walk): a walk
// that met no socket stands for every port each chain it entered treats as
// its own (PortCuts). Checked two ways: each port's walk against the walks
// to the edges and the middle of its cell; and every entry's bare_walk, in
// the order the checks ask, against its own walk.
int check_port_cells(const dfa::Engine& engine, const dfa::Exposure& x, const std::string& name, int& across) {
  int checked = 0;
  std::set<unsigned> ports = {22, 1000, 8081, 9000, 9001, 30001, 65535};
  for (const auto& en : x.entries) ports.insert(en.port);
  for (const auto& en : x.entries) {
    if (en.kind != dfa::EntryKind::published) continue;
    for (std::size_t ci = 0; ci < en.walk.size(); ++ci) {
      const auto& src = (*en.classes)[ci].source;
      if (src.kind != dfa::Source::Kind::remote) continue;
      for (std::size_t k = 0; k < en.destinations.size(); ++k)
        for (unsigned p : ports) {
          dfa::VisitedChains visited;
          dfa::Outcome own = engine.run(src, en.destination_addrs[k], p, en.proto, false, true, &visited);
          if (own.met_socket) continue;
          unsigned lo = 0, hi = 65535;
          bool opaque = false;
          for (const auto& bc : visited.chains) {
            opaque = opaque || bc.chain->ports.opaque;
            auto [l, h] = bc.chain->ports.cell(p);
            lo = std::max(lo, l);
            hi = std::min(hi, h);
          }
          if (opaque) continue;
          for (unsigned q : {lo, hi, lo + (hi - lo) / 2, std::min(hi, lo + 1)}) {
            if (q == p) continue;
            dfa::Outcome other = engine.run(src, en.destination_addrs[k], q, en.proto, false, true);
            CAPTURE(name);
            CAPTURE((*en.classes)[ci].label);
            CAPTURE(p);
            CAPTURE(q);
            CHECK(other.result == own.result);
            CHECK(other.decided_by == own.decided_by);
            CHECK(other.dropped_at_input == own.dropped_at_input);
            CHECK(other.dropped_in_filter == own.dropped_in_filter);
            ++checked;
          }
        }
    }
  }
  for (const auto& en : x.entries)
    for (std::size_t ci = 0; ci < en.walk.size(); ++ci)
      for (std::size_t k = 0; k < en.destinations.size(); ++k) {
        const auto& src = (*en.classes)[ci].source;
        const dfa::ExposureEntry::Bare b = en.bare_walk(engine, ci, k);
        dfa::Outcome own = engine.run(src, en.destination_addrs[k], en.port, en.proto, false, true);
        CAPTURE(name);
        CAPTURE(en.what);
        CAPTURE((*en.classes)[ci].label);
        CHECK(b.result == own.result);
        CHECK(*b.decided_by == own.decided_by);
        CHECK(b.dropped_at_input == own.dropped_at_input);
        CHECK(b.dropped_in_filter == own.dropped_in_filter);
        across += !own.met_socket;
      }
  return checked;
}
}  // namespace

TEST_CASE("given each lab scenario, then a walk without NAT that met no socket is the walk to every port of its cell") {
  int checked = 0, across = 0;
  each_exposure([&](const std::string& name, const dfa::Engine& engine, const dfa::Exposure& x) {
    checked += check_port_cells(engine, x, name, across);
  });
  CHECK(checked > 1000);
  CHECK(across > 100);
  MESSAGE(checked << " ports walked against their cell's edges; " << across << " bare walks could be shared across ports");
}

namespace {
// Every bare_walk of every published entry against the class's own walk,
// asked in DFA001's order (classes outer, destinations inner); returns how
// many classes fare differently at two plain local destinations (what
// sharing a walk between them would get wrong).
int check_bare_walks_apart(const Json& doc, const std::string& what) {
  dfa::Snapshot s{doc};
  dfa::Engine engine(s);
  dfa::Exposure x = dfa::compute_exposure(engine, 1);
  int apart = 0;
  for (const auto& en : x.entries) {
    if (en.kind != dfa::EntryKind::published) continue;
    for (std::size_t ci = 0; ci < en.walk.size(); ++ci) {
      const auto& src = (*en.classes)[ci].source;
      std::set<std::string> plain_outcomes;
      for (std::size_t k = 0; k < en.destinations.size(); ++k) {
        const dfa::ExposureEntry::Bare b = en.bare_walk(engine, ci, k);
        dfa::Outcome own = engine.run(src, en.destination_addrs[k], en.port, en.proto, false, true);
        CAPTURE(what);
        CAPTURE(en.destinations[k]);
        CAPTURE((*en.classes)[ci].label);
        CHECK(b.result == own.result);
        CHECK(*b.decided_by == own.decided_by);
        CHECK(b.dropped_at_input == own.dropped_at_input);
        if (src.kind == dfa::Source::Kind::remote &&
            !en.destination_addrs[k].is_loopback() && en.destination_addrs[k].family == 4)
          plain_outcomes.insert(own.decided_by);
      }
      apart += plain_outcomes.size() > 1;
    }
  }
  return apart;
}
}  // namespace

TEST_CASE("given host addresses a rule or the routing tells apart, then a walk without NAT to one stands for no other") {
  // bare_walk gives a class's walk to one address of the host for another
  // when nothing on its way read the destination (Chain::reads_destination,
  // Engine::plain_local). Scenario 1's input chain drops 8080 for every
  // address; each variant makes 198.51.100.1 fare otherwise than
  // 203.0.113.1 for the classes from eth0, and the walks must say so.
  Json base = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  CHECK(check_bare_walks_apart(base, "scenario 1") == 0);
  auto with_input_rule = [&](const char* expr) {
    Json doc = base;
    auto& rs = doc["nftables"]["ruleset"];
    for (std::size_t i = 0; i < rs.size(); ++i)
      if (rs[i].contains("rule") && rs[i]["rule"]["table"] == "filter" && rs[i]["rule"]["chain"] == "input") {
        Json r = rs[i];
        r["rule"]["handle"] = 9001;
        r["rule"]["expr"] = Json::parse(expr);
        rs.insert(rs.begin() + static_cast<std::ptrdiff_t>(i), r);
        break;
      }
    return doc;
  };
  // A test of the destination address, as a payload and as conntrack's
  // original tuple: accepted to 198.51.100.1, dropped to 203.0.113.1.
  CHECK(check_bare_walks_apart(with_input_rule(R"([
      {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "198.51.100.1"}},
      {"accept": null}])"), "ip daddr") > 0);
  CHECK(check_bare_walks_apart(with_input_rule(R"([
      {"match": {"op": "==", "left": {"ct": {"key": "daddr", "dir": "original"}}, "right": "198.51.100.1"}},
      {"accept": null}])"), "ct original daddr") > 0);
  // Strict rp_filter's reverse lookup goes through the policy rules with the
  // packet's destination as its source: from 198.51.100.1 the way back to
  // 203.0.113.0/24 is eth1, so what arrives on eth0 for that address is
  // dropped before the input chain.
  Json doc = base;
  Json& h = doc["host"];
  h["sysctls"]["net/ipv4/conf/all/rp_filter"] = "1";
  h["policy_rules"].push_back({{"family", 4}, {"priority", 100}, {"table", "100"}, {"action", "lookup"},
                               {"src", "198.51.100.1/32"}, {"dst", ""}, {"iif", ""}, {"oif", ""}, {"fwmark", 0},
                               {"fwmask", 0}, {"invert", false}, {"unmodeled", Json::array()}});
  h["routes"].push_back({{"family", 4}, {"table", "100"}, {"type", "unicast"}, {"dst", "203.0.113.0/24"}, {"dev", "eth1"},
                         {"gateway", ""}, {"prefsrc", ""}, {"metric", 0}});
  CHECK(check_bare_walks_apart(doc, "rp_filter through a policy rule") > 0);
}

TEST_CASE("given rules of each kind, then exactly those that may read a request's destination are said to") {
  auto nft = [](const char* expr) {
    return dfa::rule_reads_destination(Json{{"family", "inet"}, {"table", "t"}, {"chain", "c"}, {"expr", Json::parse(expr)}},
                                       false);
  };
  // The shapes a hosting node's input chain carries: none reads it.
  CHECK_FALSE(nft(R"([{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}},
                      {"accept": null}])"));
  CHECK_FALSE(nft(R"([{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "lo"}}, {"accept": null}])"));
  CHECK_FALSE(nft(R"([{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "@blocklist"}},
                      {"counter": {"packets": 0, "bytes": 0}}, {"drop": null}])"));
  CHECK_FALSE(nft(R"([{"vmap": {"key": {"payload": {"protocol": "tcp", "field": "dport"}}, "data": "@services"}}])"));
  CHECK_FALSE(nft(R"([{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                                 "right": {"prefix": {"addr": "10.0.0.0", "len": 8}}}}, {"jump": {"target": "t1"}}])"));
  CHECK_FALSE(nft(R"([{"limit": {"rate": 10, "per": "minute", "burst": 5}}, {"log": {"prefix": "drop: "}},
                      {"reject": {"type": "icmpx", "expr": "port-unreachable"}}])"));
  CHECK_FALSE(nft(R"([{"mangle": {"key": {"meta": {"key": "mark"}}, "value": 16}}])"));
  // What does, or may.
  CHECK(nft(R"([{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": "2001:db8::1"}},
                {"drop": null}])"));
  CHECK(nft(R"([{"match": {"op": "==", "left": {"fib": {"flags": ["daddr"], "result": "type"}}, "right": "local"}},
                {"accept": null}])"));
  CHECK(nft(R"([{"match": {"op": "==", "left": {"meta": {"key": "oifname"}}, "right": "eth0"}}, {"accept": null}])"));
  CHECK(nft(R"([{"match": {"op": "==", "left": {"ct": {"key": "daddr", "dir": "original"}}, "right": "10.0.0.1"}},
                {"accept": null}])"));
  CHECK(nft(R"([{"match": {"op": "==", "left": {"concat": [{"payload": {"protocol": "ip", "field": "saddr"}},
                                                          {"payload": {"protocol": "ip", "field": "daddr"}}]},
                           "right": "@pairs"}}, {"accept": null}])"));
  CHECK(nft(R"([{"mangle": {"key": {"payload": {"protocol": "ip", "field": "daddr"}}, "value": "10.0.0.1"}}])"));
  CHECK(nft(R"([{"mangle": {"key": {"meta": {"key": "mark"}}, "value": {"payload": {"protocol": "ip", "field": "daddr"}}}}])"));
  CHECK(nft(R"([{"xt": {"type": "match", "name": "addrtype"}}, {"accept": null}])"));
  CHECK(nft(R"([{"set": {"op": "add", "elem": {"payload": {"protocol": "ip", "field": "saddr"}}, "set": "@seen"}}])"));
  CHECK(nft(R"([{"match": {"op": "==", "left": {"payload": {"base": "nh", "offset": 128, "len": 32}}, "right": 1}}])"));
  CHECK(nft(R"([{"match": {"op": "==", "left": {"rt": {"key": "nexthop"}}, "right": "10.0.0.1"}}])"));
  CHECK(nft(R"({"not": "an array"})"));
  auto legacy = [](Json r) {
    for (auto [k, v] : {std::pair{"src", ""}, {"dst", ""}, {"in_iface", ""}, {"out_iface", ""}, {"protocol", "tcp"}})
      if (!r.contains(k)) r[k] = v;
    if (!r.contains("matches")) r["matches"] = Json::array();
    if (!r.contains("target")) r["target"] = {{"kind", "verdict"}, {"name", "DROP"}};
    return dfa::rule_reads_destination(r, true);
  };
  CHECK_FALSE(legacy(Json{{"src", "10.0.0.0/8"}, {"in_iface", "eth0"}}));
  CHECK_FALSE(legacy(Json{{"matches", Json::parse(R"([{"name": "tcp", "decoded": true, "params": {"dport": "22"}},
      {"name": "conntrack", "decoded": true, "params": {"ctstate": "NEW", "ctstate_invert": false}}])")},
                          {"target", {{"kind", "extension"}, {"name", "REJECT"}}}}));
  CHECK_FALSE(legacy(Json{{"target", {{"kind", "jump"}, {"name", "ufw-user-input"}}}}));
  CHECK(legacy(Json{{"dst", "203.0.113.1/32"}}));
  CHECK(legacy(Json{{"out_iface", "docker0"}}));
  CHECK(legacy(Json{{"matches", Json::parse(R"([{"name": "addrtype", "decoded": true, "params": {"dst_type": "LOCAL"}}])")}}));
  CHECK(legacy(Json{{"matches", Json::parse(R"([{"name": "conntrack", "decoded": true,
      "params": {"ctorigdst": "203.0.113.1", "ctorigdst_invert": false, "ctdir": "ORIGINAL"}}])")}}));
  CHECK(legacy(Json{{"matches", Json::parse(R"([{"name": "tcp", "decoded": false}])")}}));
  CHECK(legacy(Json{{"target", {{"kind", "extension"}, {"name", "DNAT"}}}}));
}

TEST_CASE("given each lab scenario, then walks straight to a container address shared by SharedWalks are each class's own") {
  // DFA005 walks every remote class to each container address, sharing walks
  // as exposure does through an entry that is not one of the exposure's
  // (every prefix counts): each shared result must be the class's own walk.
  int checked = 0, shared_hits = 0;
  each_exposure([&](const std::string& name, const dfa::Engine& engine, const dfa::Exposure& x) {
    const auto& snap = engine.snapshot();
    if (!snap.docker) return;
    for (const dfa::Container* c : snap.docker->running())
      for (const auto& n : c->networks)
        for (const std::string* k : {&n.ipv4, &n.ipv6}) {
          auto a = dfa::IpAddr::parse(*k);
          if (!a) continue;
          const dfa::ExposureEntry* like = nullptr;
          for (const auto& en : x.entries)
            if (en.family == a->family && en.facts) like = &en;
          if (!like) continue;
          std::set<std::pair<unsigned, std::string>> ports = {{1, "tcp"}};
          for (const auto& b : c->ports) ports.insert({b.container_port, b.protocol});
          for (const auto& [port, proto] : ports) {
            dfa::ExposureEntry probe;
            probe.family = a->family;
            probe.facts = like->facts;
            probe.classes = like->classes;
            probe.relevant.assign(like->relevant.size(), 1);
            probe.port = port;
            probe.proto = proto;
            check_shared_walks(engine, probe, *a, false, name + " " + a->str(), checked, shared_hits);
          }
        }
  });
  CHECK(checked > 1000);
  CHECK(shared_hits > 100);
  MESSAGE(checked << " walks to container addresses, " << shared_hits << " of them shared");
}

TEST_CASE("given port tests the cuts cannot describe, then their chain is opaque and no two ports share a walk") {
  // Scenario 1's input chain with a mask on the port (odd ports dropped) and
  // a set filled from the packet: neither is a test against constants.
  Json doc = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  auto& rs = doc["nftables"]["ruleset"];
  for (const char* r : {R"({"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 90, "expr": [
                           {"match": {"op": "==", "right": 1,
                                      "left": {"&": [{"payload": {"protocol": "tcp", "field": "dport"}}, 1]}}},
                           {"drop": null}]}})",
                        R"({"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 91, "expr": [
                           {"match": {"op": "<", "right": 9000, "left": {"payload": {"protocol": "tcp", "field": "dport"}}}},
                           {"accept": null}]}})"})
    rs.push_back(Json::parse(r));
  dfa::Snapshot snap{doc};
  dfa::Engine engine(snap);
  dfa::Exposure x = dfa::compute_exposure(engine);
  int across = 0;
  check_port_cells(engine, x, "01 with a masked port", across);
  // The chain is opaque: the mask is not a cut, and a cut that ignored it
  // would put 9001 (dropped) and 9002 (accepted) in one cell.
  dfa::Source from;
  from.addr = dfa::IpAddr::parse("203.0.113.7");
  dfa::VisitedChains visited;
  dfa::Outcome o = engine.run(from, *dfa::IpAddr::parse("203.0.113.1"), 9001, "tcp", false, true, &visited);
  CHECK(o.dropped_at_input);
  bool opaque = false;
  for (const auto& bc : visited.chains) opaque = opaque || bc.chain->ports.opaque;
  CHECK(opaque);
  CHECK(!engine.run(from, *dfa::IpAddr::parse("203.0.113.1"), 9002, "tcp", false, true).dropped_at_input);
}

TEST_CASE("given a route to a prefix no rule names and strict rp_filter, then its sources are a class of their own") {
  // Scenario 1 with 10.3.0.0/16 routed via eth1 and rp_filter 1: a packet
  // from 10.3.0.5 arriving on eth1 passes the reverse path filter (the way
  // back leaves by eth1), one from any other address on eth1 does not (the
  // way back is the default route, eth0). A partition blind to routes put
  // both in "any other IPv4 address on eth1" and called 10.3.0.5 closed.
  Json doc = fixture_json("scenarios/01-bypass-nft/snapshot.json");
  Json route;
  for (const auto& r : doc["host"]["routes"])
    if (r.value("family", 4) == 4 && r.value("table", "") == "main" && r.value("dst", "") == "198.51.100.0/24") route = r;
  REQUIRE(route.is_object());
  route["dst"] = "10.3.0.0/16";
  route["gateway"] = "198.51.100.254";
  doc["host"]["routes"].push_back(route);
  for (auto& [k, v] : doc["host"]["sysctls"].items())
    if (k.size() > 10 && k.substr(k.size() - 10) == "/rp_filter") v = "1";
  dfa::Snapshot snap{doc};
  dfa::Engine engine(snap);
  dfa::Exposure x = dfa::compute_exposure(engine);
  CHECK(check_cells_walk_alone(engine, x) > 50);
  const dfa::IpAddr dst = *dfa::IpAddr::parse("203.0.113.1");
  int seen = 0;
  for (const auto& en : x.entries)
    if (en.family == 4 && en.what.find(":8080->") != std::string::npos)
      for (const auto& c : en.cells())
        if (c.destination_addr == dst && c.source_class.source.iif == "eth1") {
          if (c.source == "10.3.0.0/16 on eth1") {
            CHECK(c.outcome->result == dfa::Outcome::Result::delivered);
            ++seen;
          }
          if (c.source == "any other IPv4 address on eth1") {
            CHECK(c.outcome->result == dfa::Outcome::Result::dropped);
            ++seen;
          }
        }
  CHECK(seen == 2);
  // And the address itself, walked alone, is what its class says.
  dfa::Source from;
  from.addr = dfa::IpAddr::parse("10.3.0.5");
  from.iif = "eth1";
  CHECK(engine.run(from, dst, 8080, "tcp").result == dfa::Outcome::Result::delivered);
}

TEST_CASE("given firewalld's IPv6 reverse path test, then what comes back by another device is dropped in prerouting") {
  // Scenario 25: firewalld's "meta nfproto ipv6 fib saddr . mark . iif oif
  // missing drop". eth0 holds the default route and 2001:db8:1::/64, eth1
  // 2001:db8:2::/64; ssh (22) is allowed by the zone public.
  Json doc = fixture_json("scenarios/25-firewalld-public/snapshot.json");
  dfa::Snapshot snap{doc};
  dfa::Engine engine(snap);
  auto walk = [&](const char* from, const char* iif, const char* to) {
    return engine.run({dfa::Source::Kind::remote, dfa::IpAddr::parse(from), iif, ""}, *dfa::IpAddr::parse(to), 22, "tcp",
                      false);
  };
  const std::string rpf = "nft inet firewalld filter_PREROUTING #2";
  struct Case {
    const char *from, *iif;
    bool passes;
  } cases[] = {
      {"2001:db8:2::2", "eth1", true},       // its own network's route leaves by eth1
      {"2001:db8:1::2", "eth0", true},       // likewise on eth0
      {"2001:db8:ffff::77", "eth0", true},   // the default route leaves by eth0
      {"2001:db8:ffff::77", "eth1", false},  // ... not by eth1
      {"2001:db8:1::2", "eth1", false},      // eth0's network arriving on eth1
      {"2001:db8:2::9", "eth0", false},
      {"fe80::77", "eth1", true},            // link-local: looked up on the input device
      {"fe80::77", "eth0", true},
      {"2001:db8:1::1", "eth0", false},      // the host's own address: a local route
  };
  for (const auto& c : cases) {
    CAPTURE(c.from);
    CAPTURE(c.iif);
    dfa::Outcome o = walk(c.from, c.iif, c.iif == std::string("eth0") ? "2001:db8:1::1" : "2001:db8:2::1");
    CHECK(o.uncertain.empty());
    if (c.passes) {
      CHECK(o.result == dfa::Outcome::Result::delivered);
    } else {
      CHECK(o.result == dfa::Outcome::Result::dropped);
      CHECK(o.decided_by.rfind(rpf, 0) == 0);
    }
  }
  // Over IPv4 firewalld does not test it, and its classes behave as their walks.
  dfa::Exposure x = dfa::compute_exposure(engine);
  CHECK(check_cells_walk_alone(engine, x) > 50);
}

TEST_CASE("given a [::] socket without IPV6_V6ONLY, then its IPv4 side is an entry of its own, unless 0.0.0.0 holds the port") {
  Json doc = fixture_json("scenarios/25-firewalld-public/snapshot.json");
  auto ipv4_entries = [](const Json& d, unsigned port) {
    dfa::Snapshot s{d};
    dfa::Engine engine(s);
    dfa::Exposure x = dfa::compute_exposure(engine);
    std::vector<std::string> out;
    for (const auto& en : x.entries)
      if (en.kind == dfa::EntryKind::socket && en.port == port && en.family == 4) out.push_back(en.what);
    return out;
  };
  CHECK(ipv4_entries(doc, 8081) == std::vector<std::string>{"busybox [::]:8081/tcp (dual-stack)"});
  Json& socks = doc["host"]["listening_sockets"];
  for (auto& so : socks)
    if (so.value("port", 0) == 8081) so["v6only"] = true;
  CHECK(ipv4_entries(doc, 8081).empty());
  for (auto& so : socks)
    if (so.value("port", 0) == 8081) so["v6only"] = false;
  Json v4 = socks[0];
  v4["family"] = 4;
  v4["address"] = "0.0.0.0";
  v4["port"] = 8081;
  v4["process"] = "other";
  v4.erase("proxy_to");
  socks.push_back(v4);
  CHECK(ipv4_entries(doc, 8081) == std::vector<std::string>{"other 0.0.0.0:8081/tcp"});
}
