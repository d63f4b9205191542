#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "collect/proc_parse.hpp"
#include "fixtures.hpp"

TEST_CASE("given /proc/net/tcp and tcp6 with docker-proxy listening, then both sockets are found") {
  auto v4 = dfa::parse_proc_net_sockets(fixture_text("proc/tcp"), "tcp", 4, "tcp");
  auto v6 = dfa::parse_proc_net_sockets(fixture_text("proc/tcp6"), "tcp", 6, "tcp6");
  REQUIRE(v4.ok());
  REQUIRE(v6.ok());
  REQUIRE(v4->size() == 1);
  CHECK(v4->at(0).address == "0.0.0.0");
  CHECK(v4->at(0).port == 8080);
  REQUIRE(v6->size() == 1);
  CHECK(v6->at(0).address == "::");
  CHECK(v6->at(0).port == 8080);
  CHECK(v6->at(0).inode > 0);
}

TEST_CASE("given a loopback listener and a connected socket, then only the listener is kept") {
  std::string text =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 0100007F:2382 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0\n"
      "   1: 0100007F:2382 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 112 1 0 100 0 0 10 0\n";
  auto s = dfa::parse_proc_net_sockets(text, "tcp", 4, "tcp");
  REQUIRE(s.ok());
  REQUIRE(s->size() == 1);
  CHECK(s->at(0).address == "127.0.0.1");
  CHECK(s->at(0).port == 9090);
  CHECK(s->at(0).inode == 111);
}

TEST_CASE("given a malformed line, then the error names the line") {
  std::string text = "header\n   0: ZZZ\n";
  auto s = dfa::parse_proc_net_sockets(text, "udp", 4, "/proc/net/udp");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message == "/proc/net/udp:2: expected at least 10 fields");
}

TEST_CASE("given an nftables.conf with flush ruleset, then it is reported with its line") {
  auto j = dfa::scan_nftables_config("#!/usr/sbin/nft -f\n\nflush ruleset # reset\ninclude \"/etc/nft.d/*.nft\"\n"
                                     "# flush ruleset in a comment does not count\n");
  CHECK(j["flush_ruleset"] == true);
  CHECK(j["flush_ruleset_lines"] == dfa::Json::array({3}));
  CHECK(j["includes"][0]["line"] == 4);
  auto k = dfa::scan_nftables_config("table inet filter { }\nflush table inet filter\n");
  CHECK(k["flush_ruleset"] == false);
}

TEST_CASE("given a NUL-separated cmdline, then argv is split") {
  std::string raw("dockerd\0--iptables=false\0", 25);
  auto argv = dfa::split_cmdline(raw);
  REQUIRE(argv.size() == 2);
  CHECK(argv[1] == "--iptables=false");
}

TEST_CASE("given docker-proxy's argv, then its container address and port are read, in Go's flag forms") {
  // The long form (flags then values, a trailing boolean flag) and the "=" form.
  auto t = dfa::docker_proxy_target({"/usr/sbin/docker-proxy", "-proto", "tcp", "-host-ip", "::", "-host-port", "8080",
                                     "-container-ip", "fd00:1::2", "-container-port", "80", "-use-listen-fd"});
  REQUIRE(t);
  CHECK(t->container_ip == "fd00:1::2");
  CHECK(t->container_port == 80);
  t = dfa::docker_proxy_target({"docker-proxy", "--container-ip=172.17.0.2", "--container-port=8443"});
  REQUIRE(t);
  CHECK(t->container_ip == "172.17.0.2");
  CHECK(t->container_port == 8443);
  CHECK_FALSE(dfa::docker_proxy_target({"docker-proxy", "-container-ip", "172.17.0.2"}));
  CHECK_FALSE(dfa::docker_proxy_target({"docker-proxy", "-container-ip", "172.17.0.2", "-container-port", "99999"}));
  CHECK_FALSE(dfa::docker_proxy_target({"docker-proxy", "-container-ip", "172.17.0.2", "-container-port", "8x"}));
  CHECK_FALSE(dfa::docker_proxy_target({"docker-proxy", "-container-ip", "172.17.0.2", "-container-port"}));
}

TEST_CASE("given systemd unit directories, then a unit's boot state is read from its links") {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("dfa-units-" + std::to_string(::getpid()));
  fs::remove_all(root);
  auto state = [&](const char* unit) { return dfa::systemd_unit_state(root.string(), unit); };
  // No /run/systemd/system: systemd is not the init, nothing can be said.
  fs::create_directories(root / "lib/systemd/system");
  std::ofstream(root / "lib/systemd/system/nftables.service") << "[Service]\n";
  CHECK(state("nftables.service")["state"] == "unknown");
  fs::create_directories(root / "run/systemd/system");
  CHECK(state("nftables.service")["state"] == "disabled");
  CHECK(state("firewalld.service")["state"] == "absent");
  // systemctl enable: a link in multi-user.target.wants.
  fs::create_directories(root / "etc/systemd/system/multi-user.target.wants");
  fs::create_symlink("/lib/systemd/system/nftables.service",
                     root / "etc/systemd/system/multi-user.target.wants/nftables.service");
  CHECK(state("nftables.service")["state"] == "enabled");
  CHECK(state("nftables.service")["wanted_by"] == dfa::Json::array({"multi-user.target"}));
  CHECK(state("ufw.service")["state"] == "absent");
  // systemctl mask: /etc's link to /dev/null wins over the link that wants it.
  fs::create_symlink("/dev/null", root / "etc/systemd/system/nftables.service");
  CHECK(state("nftables.service")["state"] == "masked");
  fs::remove_all(root);
}

TEST_CASE("given the files the real ufw wrote, then each user rule is its `ufw show added` command at its kernel place") {
  // fixtures/ufw/lab: Debian 12's ufw run in the lab (nft backend) with the
  // commands of show-added.txt; iptables-save.txt is what it then loaded.
  std::set<std::string> want;
  {
    std::istringstream in(fixture_text("ufw/lab/show-added.txt"));
    for (std::string l; std::getline(in, l);)
      if (l.rfind("ufw ", 0) == 0) want.insert(l);
  }
  std::set<std::string> got;
  for (int fam : {4, 6}) {
    const std::string save = fixture_text(fam == 4 ? "ufw/lab/iptables-save.txt" : "ufw/lab/ip6tables-save.txt");
    std::map<std::string, std::vector<std::string>> kernel;  // chain -> its rules in order
    std::istringstream in(save);
    for (std::string l; std::getline(in, l);)
      if (l.rfind("-A ", 0) == 0) kernel[l.substr(3, l.find(' ', 3) - 3)].push_back(l);
    const auto rules = dfa::parse_ufw_user_rules(fixture_text(fam == 4 ? "ufw/lab/user.rules" : "ufw/lab/user6.rules"), fam);
    CHECK(rules.size() == (fam == 4 ? 8u : 6u));
    for (const auto& r : rules) {
      CAPTURE(r.dump());
      CHECK(r["family"] == fam);
      got.insert(r["command"].get<std::string>());
      REQUIRE(!r["lines"].empty());
      for (const auto& l : r["lines"]) {
        const auto& chain = kernel[l["chain"].get<std::string>()];
        const auto pos = l["position"].get<std::size_t>();
        REQUIRE(pos >= 1);
        REQUIRE(pos <= chain.size());
        // The kernel's rule at that place is the rule's: its port is there.
        const std::string& k = chain[pos - 1];
        CAPTURE(k);
        std::istringstream tuple(r["tuple"].get<std::string>());
        std::string action, proto, dport;
        tuple >> action >> proto >> dport;
        if (dport != "any") CHECK(k.find(dport) != std::string::npos);
      }
    }
  }
  CHECK(got == want);
  // The deny of 8080 is the 4th and 5th rule of ufw-user-input (tcp, udp)
  // after the three of the limit on 22.
  const auto v4 = dfa::parse_ufw_user_rules(fixture_text("ufw/lab/user.rules"), 4);
  CHECK(v4[1]["command"] == "ufw deny 8080");
  CHECK(v4[1]["lines"] == dfa::Json::parse(R"([{"chain": "ufw-user-input", "position": 4}, {"chain": "ufw-user-input", "position": 5}])"));
  // A chain with -I lines: those go to the top, every -A below them.
  const auto ins = dfa::parse_ufw_user_rules("### RULES ###\n### tuple ### deny any 8080 0.0.0.0/0 any 0.0.0.0/0 in\n"
                                             "-A ufw-user-input -p tcp --dport 8080 -j DROP\n### END RULES ###\n"
                                             "-I ufw-user-input -j RETURN\n", 4);
  CHECK(ins[0]["lines"][0]["position"] == 2);
  CHECK(dfa::ufw_command("frobnicate tcp 80 0.0.0.0/0 any 0.0.0.0/0 in").empty());
  CHECK(dfa::ufw_command("allow tcp 80").empty());
  auto vars = dfa::parse_shell_vars(fixture_text("ufw/lab/default-ufw"));
  CHECK(vars["DEFAULT_FORWARD_POLICY"] == "DROP");
  CHECK(vars["IPV6"] == "yes");
  CHECK(dfa::parse_shell_vars(fixture_text("ufw/lab/ufw.conf"))["ENABLED"] == "yes");
}

TEST_CASE("given ufw's before.rules and after.rules, then their lines are the rules of ufw's own chains in load order") {
  // fixtures/ufw/lab: the files Debian 12's ufw loaded in the lab (the
  // package's) and the kernel's rules after loading them.
  auto target = [](const std::string& line) {
    const auto j = line.find(" -j ");
    return j == std::string::npos ? std::string() : line.substr(j + 4, line.find(' ', j + 4) - j - 4);
  };
  for (int fam : {4, 6}) {
    CAPTURE(fam);
    std::map<std::string, std::vector<std::string>> kernel, files;  // chain -> rules, lines
    std::istringstream in(fixture_text(fam == 4 ? "ufw/lab/iptables-save.txt" : "ufw/lab/ip6tables-save.txt"));
    for (std::string l; std::getline(in, l);)
      if (l.rfind("-A ", 0) == 0) kernel[l.substr(3, l.find(' ', 3) - 3)].push_back(l);
    for (const char* f : {"before", "after"})
      for (const auto& l : dfa::parse_ufw_rules_file(fixture_text(fmt::format("ufw/lab/{}{}.rules", f, fam == 6 ? "6" : "")))) {
        CHECK(l["insert"] == false);
        files[l["chain"].get<std::string>()].push_back(l["text"].get<std::string>());
      }
    const std::string ufw = fam == 6 ? "ufw6-" : "ufw-";
    for (const auto& [chain, lines] : files) {
      CAPTURE(chain);
      // ufw appends the jump to the user chain to each before chain.
      const bool before = chain.rfind(ufw + "before-", 0) == 0 && chain.find("logging") == std::string::npos;
      REQUIRE(kernel[chain].size() == lines.size() + (before ? 1 : 0));
      for (std::size_t i = 0; i < lines.size(); ++i) CHECK(target(lines[i]) == target(kernel[chain][i]));
      if (before) CHECK(target(kernel[chain].back()) == ufw + "user-" + chain.substr(chain.rfind('-') + 1));
    }
    CHECK(files.count(ufw + "before-input"));
  }
  // Only *filter's lines, numbered in the file; -I lines flagged.
  const auto before = dfa::parse_ufw_rules_file(fixture_text("ufw/lab/before.rules"));
  CHECK(before[0] == dfa::Json::parse(R"({"chain": "ufw-before-input", "line": 21, "text":
                                          "-A ufw-before-input -i lo -j ACCEPT", "insert": false})"));
  const auto mixed = dfa::parse_ufw_rules_file("*nat\n-A POSTROUTING -j MASQUERADE\nCOMMIT\n*filter\n:DOCKER-USER - [0:0]\n"
                                               "-I DOCKER-USER -j RETURN  \r\n-A DOCKER-USER -j DROP\nCOMMIT\n-A x -j DROP\n");
  CHECK(mixed == dfa::Json::parse(R"([{"chain": "DOCKER-USER", "line": 6, "text": "-I DOCKER-USER -j RETURN", "insert": true},
                                      {"chain": "DOCKER-USER", "line": 7, "text": "-A DOCKER-USER -j DROP", "insert": false}])"));
}

TEST_CASE("given firewalld's zone and policy files, then each is read as firewall-cmd shows it") {
  // The package's public zone and host policy (Debian 12's firewalld 1.3).
  auto z = dfa::parse_firewalld_xml(fixture_text("firewalld/package-public.xml"), "zone", "public.xml");
  CHECK(z.value("error", "") == "");
  CHECK(z["services"] == dfa::Json::parse(R"(["ssh", "dhcpv6-client"])"));
  CHECK(z["forward"] == true);
  CHECK(z["masquerade"] == false);
  CHECK(z["short"] == "Public");
  auto p = dfa::parse_firewalld_xml(fixture_text("firewalld/package-allow-host-ipv6.xml"), "policy", "a.xml");
  CHECK(p["target"] == "CONTINUE");
  CHECK(p["priority"] == "-15000");
  CHECK(p["ingress_zones"] == dfa::Json::parse(R"(["ANY"])"));
  CHECK(p["egress_zones"] == dfa::Json::parse(R"(["HOST"])"));
  REQUIRE(p["rich_rules"].size() == 4);
  CHECK(p["rich_rules"][0] == R"(rule family="ipv6" icmp-type name="neighbour-advertisement" accept)");
  // Scenario 26's policy, as firewall-cmd --permanent wrote it.
  auto b = dfa::parse_firewalld_xml(fixture_text("firewalld/admin-blockweb.xml"), "policy", "blockweb.xml");
  CHECK(b["priority"] == "-10");
  CHECK(b["ingress_zones"] == dfa::Json::parse(R"(["public"])"));
  CHECK(b["rich_rules"] == dfa::Json::parse(R"(["rule family=\"ipv4\" port port=\"8080\" protocol=\"tcp\" reject"])"));
  // Every part of a zone, and rich rules with NOT, a log limit and a reject type.
  auto a = dfa::parse_firewalld_xml(fixture_text("firewalld/admin-public.xml"), "zone", "public.xml");
  CHECK(a["target"] == "default");
  CHECK(a["interfaces"] == dfa::Json::parse(R"(["eth0"])"));
  CHECK(a["sources"] == dfa::Json::parse(R"(["192.0.2.0/24"])"));
  CHECK(a["ports"] == dfa::Json::parse(R"(["8080/tcp"])"));
  CHECK(a["masquerade"] == true);
  CHECK(a["forward_ports"] ==
        dfa::Json::parse(R"(["forward-port port=\"2222\" protocol=\"tcp\" to-port=\"22\" to-addr=\"10.0.0.5\""])"));
  REQUIRE(a["rich_rules"].size() == 2);
  CHECK(a["rich_rules"][0] ==
        R"(rule family="ipv4" source NOT address="10.0.0.0/8" service name="http" log prefix="web " level="info" limit value="1/m" accept)");
  CHECK(a["rich_rules"][1] == R"(rule family="ipv6" port port="8080" protocol="tcp" reject type="icmp6-port-unreachable")");
  CHECK_FALSE(a.contains("ingress_zones"));
}

TEST_CASE("given a firewalld file that is not a zone or policy, then it is an error naming the file and line") {
  auto bad = dfa::parse_firewalld_xml("<?xml version=\"1.0\"?>\n<zone>\n  <service name=\"ssh\">\n</zone>\n", "zone",
                                      "/etc/firewalld/zones/public.xml");
  CAPTURE(bad.dump());
  CHECK(bad.value("error", "").rfind("/etc/firewalld/zones/public.xml:4: ", 0) == 0);
  CHECK_FALSE(bad.contains("services"));
  auto root = dfa::parse_firewalld_xml("<policy/>", "zone", "z.xml");
  CHECK(root.value("error", "") == "z.xml:1: the root element is not <zone>");
  CHECK(dfa::parse_firewalld_xml("", "zone", "e.xml").contains("error"));
  // Entities are neither fetched nor expanded past libxml2's limits: an
  // exponential one is an error, not gigabytes.
  std::string laughs = "<?xml version=\"1.0\"?><!DOCTYPE zone [<!ENTITY a \"aaaaaaaaaa\">";
  for (char c = 'b'; c <= 'k'; ++c)
    laughs += fmt::format("<!ENTITY {} \"&{};&{};&{};&{};&{};&{};&{};&{};&{};&{};\">", c, c - 1, c - 1, c - 1, c - 1, c - 1,
                          c - 1, c - 1, c - 1, c - 1, c - 1);
  laughs += "]><zone><short>&k;</short><service name=\"&k;\"/></zone>";
  auto l = dfa::parse_firewalld_xml(laughs, "zone", "l.xml");
  CHECK(l.dump().size() < 100000);
  auto ext = dfa::parse_firewalld_xml(
      "<?xml version=\"1.0\"?><!DOCTYPE zone [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><zone><short>&x;</short></zone>",
      "zone", "x.xml");
  CHECK(ext.dump().find("root:") == std::string::npos);
  // Nesting past libxml2's depth limit.
  std::string deep = "<zone>";
  for (int i = 0; i < 100000; ++i) deep += "<rule>";
  CHECK(dfa::parse_firewalld_xml(deep, "zone", "d.xml").contains("error"));
}
