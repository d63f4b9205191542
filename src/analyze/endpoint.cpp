#include "analyze/endpoint.hpp"

#include <fmt/format.h>

namespace dfa {

Result<Source> parse_source(const std::string& s, const std::string& iif) {
  Source src;
  if (s == "host" || s.rfind("host:", 0) == 0) {
    src.kind = Source::Kind::host;
    if (s.size() > 5) {
      auto a = IpAddr::parse(s.substr(5));
      if (!a) return input_error(fmt::format("--from {}: not an address", s));
      src.addr = a;
    }
    return src;
  }
  if (s.rfind("container:", 0) == 0) {
    src.kind = Source::Kind::container;
    src.container = s.substr(10);
    if (src.container.empty()) return input_error("--from container:NAME needs a name");
    return src;
  }
  auto a = IpAddr::parse(s);
  if (!a) return input_error(fmt::format("--from {}: expected an address, host, host:ADDR or container:NAME", s));
  src.kind = Source::Kind::remote;
  src.addr = a;
  src.iif = iif;
  return src;
}

Result<Destination> parse_destination(const std::string& s) {
  Destination d;
  std::string rest = s;
  if (auto slash = rest.rfind('/'); slash != std::string::npos) {
    d.proto = rest.substr(slash + 1);
    rest.resize(slash);
  }
  if (d.proto != "tcp" && d.proto != "udp")
    return input_error(fmt::format("--to {}: protocol must be tcp or udp", s));
  std::string addr, port;
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
      return input_error(fmt::format("--to {}: write IPv6 as [ADDR]:PORT/PROTO", s));
    addr = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string::npos || rest.find(':') != colon)
      return input_error(fmt::format("--to {}: expected ADDR:PORT/PROTO (IPv6 as [ADDR]:PORT/PROTO)", s));
    addr = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  auto a = IpAddr::parse(addr);
  if (!a) return input_error(fmt::format("--to {}: {} is not an address", s, addr));
  d.addr = *a;
  try {
    std::size_t used = 0;
    unsigned long n = std::stoul(port, &used);
    if (used != port.size() || n == 0 || n > 65535) throw std::out_of_range("port");
    d.port = static_cast<unsigned>(n);
  } catch (...) {
    return input_error(fmt::format("--to {}: port must be 1-65535", s));
  }
  return d;
}

}  // namespace dfa
