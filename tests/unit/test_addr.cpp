// Addresses print as inet_ntop prints them; the engine formats them in every
// outcome, so IPv4 is formatted by hand and checked against the C library.
#include <doctest/doctest.h>

#include <arpa/inet.h>

#include "model/addr.hpp"

TEST_CASE("given IPv4 and IPv6 addresses, then str() is what inet_ntop prints and parses back") {
  for (const char* a : {"0.0.0.0", "255.255.255.255", "10.0.100.9", "1.20.3.40", "172.17.0.2", "100.64.0.77",
                        "::", "::1", "2001:db8::1", "fe80::1:2", "::ffff:10.0.0.1"}) {
    CAPTURE(a);
    auto ip = dfa::IpAddr::parse(a);
    REQUIRE(ip);
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(ip->family == 6 ? AF_INET6 : AF_INET, ip->b.data(), buf, sizeof buf);
    CHECK(ip->str() == buf);
    CHECK(dfa::IpAddr::parse(ip->str()) == ip);
  }
  // Every IPv4 octet value in every position.
  for (unsigned v = 0; v < 256; ++v) {
    dfa::IpAddr ip;
    ip.b[0] = static_cast<uint8_t>(v);
    ip.b[1] = static_cast<uint8_t>(255 - v);
    ip.b[2] = static_cast<uint8_t>(v / 2);
    ip.b[3] = static_cast<uint8_t>(v % 10);
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, ip.b.data(), buf, sizeof buf);
    CHECK(ip.str() == buf);
  }
}

TEST_CASE("given a prefix length that is no length, then the prefix is refused") {
  // Found by fuzz_policy: a length of thirty digits overflowed an int (UBSan).
  for (const char* s : {"198.5.0.0/101233333333333333333333333333", "198.5.0.0/33", "10.0.0.0/", "10.0.0.0/8x",
                        "2001:db8::/129", "2001:db8::/0128"})
    CHECK_FALSE(dfa::Prefix::parse(s).has_value());
  CHECK(dfa::Prefix::parse("10.0.0.0/8")->len == 8);
  CHECK(dfa::Prefix::parse("2001:db8::/128")->len == 128);
}

TEST_CASE("given an address before a port, then IPv6 is bracketed and IPv4 is not, as text or parsed") {
  CHECK(dfa::bracketed(*dfa::IpAddr::parse("203.0.113.7")) == "203.0.113.7");
  CHECK(dfa::bracketed(*dfa::IpAddr::parse("2001:db8::7")) == "[2001:db8::7]");
  CHECK(dfa::bracketed(*dfa::IpAddr::parse("::ffff:203.0.113.7")) == "[::ffff:203.0.113.7]");
  CHECK(dfa::bracketed("0.0.0.0") == "0.0.0.0");
  CHECK(dfa::bracketed("::") == "[::]");
  CHECK(dfa::bracketed("") == "");  // Docker's unset HostIp stays unset
}

TEST_CASE("given iptables DNAT destinations, then address and ports are read one way for every reader") {
  auto d = dfa::split_nat_dest("172.17.0.2:80");
  CHECK(d.addr == "172.17.0.2");
  CHECK(d.ports == std::pair{80u, 80u});
  CHECK_FALSE(d.port_range);
  d = dfa::split_nat_dest("172.17.0.2:7000-7002");
  CHECK(d.ports == std::pair{7000u, 7002u});
  CHECK(d.port_range);
  d = dfa::split_nat_dest("[2001:db8::2]:8080");
  CHECK(d.addr == "2001:db8::2");
  CHECK(d.ports == std::pair{8080u, 8080u});
  d = dfa::split_nat_dest("2001:db8::2");  // a bare IPv6 address has no port
  CHECK(d.addr == "2001:db8::2");
  CHECK_FALSE(d.ports);
  d = dfa::split_nat_dest("[2001:db8::2]");
  CHECK(d.addr == "2001:db8::2");
  CHECK_FALSE(d.ports);
  d = dfa::split_nat_dest("10.0.0.1-10.0.0.9:80");
  CHECK(d.addr == "10.0.0.1-10.0.0.9");
  CHECK(d.ports == std::pair{80u, 80u});
  for (const char* bad : {"10.0.0.1:http", "10.0.0.1:70000", "10.0.0.1:80-", "10.0.0.1:", "[2001:db8::2]:8x"}) {
    CAPTURE(bad);
    d = dfa::split_nat_dest(bad);
    CHECK((d.bad_port || !d.ports));
    CHECK_FALSE(d.ports);
  }
  CHECK(dfa::split_nat_dest("10.0.0.1:http").bad_port);
}

TEST_CASE("given iptables port texts, then only plain port numbers are read, never a prefix of one") {
  CHECK(dfa::parse_port("0") == 0u);
  CHECK(dfa::parse_port("65535") == 65535u);
  for (const char* bad : {"", "65536", "-1", " 80", "80 ", "80x", "+80", "0x50", "123456"}) {
    CAPTURE(bad);
    CHECK_FALSE(dfa::parse_port(bad));
  }
  CHECK(dfa::parse_port_range("7000:7002", ':') == std::pair{7000u, 7002u});
  CHECK(dfa::parse_port_range("8080", ':') == std::pair{8080u, 8080u});
  CHECK(dfa::parse_port_range("8080-9000", '-') == std::pair{8080u, 9000u});
  CHECK_FALSE(dfa::parse_port_range("8080-9000", ':'));  // the other separator is no port
  CHECK_FALSE(dfa::parse_port_range("8080:", ':'));
  CHECK_FALSE(dfa::parse_port_range(":80", ':'));
}
