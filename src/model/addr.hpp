// IP addresses and prefixes, IPv4 and IPv6, for matching packets to rules.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dfa {

struct IpAddr {
  int family = 4;                 // 4 or 6
  std::array<uint8_t, 16> b{};    // IPv4 in the first 4 bytes
  static std::optional<IpAddr> parse(std::string_view s);
  std::string str() const;
  int bytes() const { return family == 6 ? 16 : 4; }
  bool is_loopback() const;       // 127.0.0.0/8 or ::1
  bool is_v4_mapped() const;
  auto operator<=>(const IpAddr&) const = default;
};

// An address as it stands before ":PORT": IPv6 in brackets
// ("[2001:db8::1]"), IPv4 as it is. The text form takes an address as
// text: one with a colon is IPv6.
std::string bracketed(const IpAddr& a);
std::string bracketed(std::string_view addr);

// A port number as iptables writes one: decimal digits only, 0-65535;
// nullopt for anything else (a sign, a space, a trailing letter).
std::optional<unsigned> parse_port(std::string_view s);
// "80" as {80, 80}, "LO<sep>HI" as {LO, HI} (iptables writes ranges with ':'
// in matches and '-' in NAT targets); nullopt unless both are ports.
std::optional<std::pair<unsigned, unsigned>> parse_port_range(std::string_view s, char sep);

// An iptables DNAT destination as the xt decoder writes it
// (to_destination): "ADDR", "ADDR:PORT", "ADDR:LO-HI", "[V6]", "[V6]:PORT",
// a bare IPv6 address (no port), or an address range "A-B" with or without
// ports. One reader for the compiler, exposure and the checks.
struct NatDest {
  std::string addr;  // without brackets; "A-B" for a range
  std::optional<std::pair<unsigned, unsigned>> ports;  // none given: nullopt; "80": {80, 80}
  bool port_range = false;                             // ports given as LO-HI
  bool bad_port = false;                               // a port part that is no port number
};
NatDest split_nat_dest(std::string_view s);

struct Prefix {
  IpAddr addr;
  int len = 0;
  // "a.b.c.d", "a.b.c.d/24", "a.b.c.d/255.255.0.0", "2001:db8::/32", "[v6]".
  static std::optional<Prefix> parse(std::string_view s);
  bool contains(const IpAddr& a) const;
  Prefix network() const;  // host bits cleared: 203.0.113.1/24 -> 203.0.113.0/24
  IpAddr last() const;     // host bits set: 203.0.113.1/24 -> 203.0.113.255
  std::string str() const;
};

// An inclusive address range (iprange, nft ranges).
struct AddrRange {
  IpAddr lo, hi;
  bool contains(const IpAddr& a) const { return a.family == lo.family && lo <= a && a <= hi; }
};

// Addresses as sorted, disjoint ranges: a set of prefixes and ranges (an nft
// interval set, a blocklist of 100,000 entries) tested in log time.
class AddrIntervals {
 public:
  void add(const AddrRange& r) { ranges_.push_back(r); }
  void add(const Prefix& p) { ranges_.push_back({p.network().addr, p.last()}); }
  void normalize();  // sorts and merges; call after the last add
  bool contains(const IpAddr& a) const;
  bool empty() const { return ranges_.empty(); }
  const std::vector<AddrRange>& ranges() const { return ranges_; }

 private:
  std::vector<AddrRange> ranges_;
};

}  // namespace dfa
