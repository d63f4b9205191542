// Parsing what users type for explain: sources and destinations.
#pragma once
#include <string>

#include "analyze/engine.hpp"
#include "model/result.hpp"

namespace dfa {

struct Destination {
  IpAddr addr;
  unsigned port = 0;
  std::string proto = "tcp";
};

// "203.0.113.9", "host", "host:127.0.0.1", "container:web".
Result<Source> parse_source(const std::string& s, const std::string& iif);
// "203.0.113.1:8080/tcp", "[2001:db8::1]:8080/udp", "172.17.0.2:80" (tcp).
Result<Destination> parse_destination(const std::string& s);

}  // namespace dfa
