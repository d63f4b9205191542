#include "model/addr.hpp"

#include <algorithm>
#include <iterator>

#include <arpa/inet.h>

#include <cstring>

namespace dfa {

std::optional<IpAddr> IpAddr::parse(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  std::string t(s);
  IpAddr a;
  if (t.find(':') != std::string::npos) {
    a.family = 6;
    if (inet_pton(AF_INET6, t.c_str(), a.b.data()) != 1) return std::nullopt;
  } else {
    a.family = 4;
    if (inet_pton(AF_INET, t.c_str(), a.b.data()) != 1) return std::nullopt;
  }
  return a;
}

std::string IpAddr::str() const {
  if (family == 4) {  // by hand: glibc's inet_ntop formats IPv4 through sprintf
    std::string s;
    s.reserve(15);
    for (int i = 0; i < 4; ++i) {
      if (i) s += '.';
      unsigned v = b[static_cast<std::size_t>(i)];
      if (v >= 100) s += static_cast<char>('0' + v / 100);
      if (v >= 10) s += static_cast<char>('0' + v / 10 % 10);
      s += static_cast<char>('0' + v % 10);
    }
    return s;
  }
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(family == 6 ? AF_INET6 : AF_INET, b.data(), buf, sizeof buf);
  return buf;
}

bool IpAddr::is_loopback() const {
  if (family == 4) return b[0] == 127;
  for (int i = 0; i < 15; ++i)
    if (b[i]) return false;
  return b[15] == 1;
}

bool IpAddr::is_v4_mapped() const {
  if (family != 6) return false;
  for (int i = 0; i < 10; ++i)
    if (b[i]) return false;
  return b[10] == 0xff && b[11] == 0xff;
}

std::optional<Prefix> Prefix::parse(std::string_view s) {
  auto slash = s.find('/');
  auto a = IpAddr::parse(s.substr(0, slash));
  if (!a) return std::nullopt;
  Prefix p{*a, a->bytes() * 8};
  if (slash == std::string_view::npos) return p;
  std::string_view rest = s.substr(slash + 1);
  if (rest.find('.') != std::string_view::npos || rest.find(':') != std::string_view::npos) {
    auto m = IpAddr::parse(rest);
    if (!m || m->family != a->family) return std::nullopt;
    int bits = 0, i = 0;
    for (; i < m->bytes() && m->b[i] == 0xff; ++i) bits += 8;
    if (i < m->bytes())
      for (uint8_t v = m->b[i]; v & 0x80; v = static_cast<uint8_t>(v << 1)) ++bits;
    p.len = bits;
    return p;
  }
  // At most three digits: a longer length is no length (and would overflow).
  if (rest.empty() || rest.size() > 3) return std::nullopt;
  p.len = 0;
  for (char c : rest) {
    if (c < '0' || c > '9') return std::nullopt;
    p.len = p.len * 10 + (c - '0');
  }
  if (p.len > a->bytes() * 8) return std::nullopt;
  return p;
}

bool Prefix::contains(const IpAddr& a) const {
  if (a.family != addr.family) return false;
  int full = len / 8, rem = len % 8;
  if (std::memcmp(a.b.data(), addr.b.data(), static_cast<size_t>(full)) != 0) return false;
  if (rem == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rem));
  return (a.b[full] & mask) == (addr.b[full] & mask);
}

Prefix Prefix::network() const {
  Prefix n = *this;
  int full = len / 8, rem = len % 8;
  for (int i = full; i < n.addr.bytes(); ++i) {
    if (i == full && rem) n.addr.b[static_cast<size_t>(i)] &= static_cast<uint8_t>(0xff << (8 - rem));
    else n.addr.b[static_cast<size_t>(i)] = 0;
  }
  return n;
}

IpAddr Prefix::last() const {
  IpAddr a = addr;
  int full = len / 8, rem = len % 8;
  for (int i = full; i < a.bytes(); ++i) {
    if (i == full && rem) a.b[static_cast<size_t>(i)] |= static_cast<uint8_t>(0xff >> rem);
    else a.b[static_cast<size_t>(i)] = 0xff;
  }
  return a;
}

void AddrIntervals::normalize() {
  std::sort(ranges_.begin(), ranges_.end(), [](const AddrRange& x, const AddrRange& y) { return x.lo < y.lo; });
  std::vector<AddrRange> out;
  for (const auto& r : ranges_) {
    if (r.hi < r.lo) continue;  // an empty range matches nothing
    if (!out.empty() && out.back().lo.family == r.lo.family && r.lo <= out.back().hi) {
      if (out.back().hi < r.hi) out.back().hi = r.hi;
    } else {
      out.push_back(r);
    }
  }
  ranges_ = std::move(out);
}

bool AddrIntervals::contains(const IpAddr& a) const {
  // The last range starting at or before a.
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), a, [](const IpAddr& x, const AddrRange& r) { return x < r.lo; });
  return it != ranges_.begin() && std::prev(it)->contains(a);
}

std::string Prefix::str() const { return addr.str() + "/" + std::to_string(len); }

std::string bracketed(const IpAddr& a) { return a.family == 6 ? "[" + a.str() + "]" : a.str(); }
std::string bracketed(std::string_view addr) {
  return addr.find(':') != std::string_view::npos ? "[" + std::string(addr) + "]" : std::string(addr);
}

NatDest split_nat_dest(std::string_view s) {
  NatDest d{std::string(s), std::nullopt, false, false};
  std::string_view port;
  if (!s.empty() && s[0] == '[') {
    auto close = s.find(']');
    d.addr = std::string(s.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
    if (close != std::string_view::npos && close + 1 < s.size() && s[close + 1] == ':') port = s.substr(close + 2);
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    d.addr = std::string(s.substr(0, s.find(':')));
    port = s.substr(s.find(':') + 1);
  }
  if (port.empty()) return d;
  d.port_range = port.find('-') != std::string_view::npos;
  d.ports = parse_port_range(port, '-');
  d.bad_port = !d.ports;
  return d;
}

std::optional<unsigned> parse_port(std::string_view t) {
  if (t.empty() || t.size() > 5 || t.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  unsigned v = 0;
  for (char c : t) v = v * 10 + static_cast<unsigned>(c - '0');
  return v <= 65535 ? std::optional(v) : std::nullopt;
}

std::optional<std::pair<unsigned, unsigned>> parse_port_range(std::string_view s, char sep) {
  auto at = s.find(sep);
  auto lo = parse_port(s.substr(0, at));
  auto hi = at == std::string_view::npos ? lo : parse_port(s.substr(at + 1));
  if (!lo || !hi) return std::nullopt;
  return std::pair{*lo, *hi};
}

}  // namespace dfa
