// libFuzzer: x_tables extension payloads (the bytes libiptc and the kernel's
// nft compat expressions hand over) through the C decoder.
#include <array>
#include <string_view>

#include "collect/xt.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static constexpr std::array<std::string_view, 24> kNames = {
      "tcp",     "udp",       "addrtype", "conntrack", "state",  "physdev", "mark",    "set",
      "comment", "multiport", "iprange",  "limit",     "DNAT",   "SNAT",    "MASQUERADE", "REDIRECT",
      "MARK",    "CONNMARK",  "REJECT",   "LOG",       "icmp",   "icmp6",   "pkttype", "connmark"};
  if (size < 4) return 0;
  int family = data[0] & 1 ? 6 : 4;
  auto kind = data[1] & 1 ? dfa::XtKind::target : dfa::XtKind::match;
  std::string_view name = kNames[data[2] % kNames.size()];
  unsigned revision = data[3] % 4;
  (void)dfa::decode_xt(family, kind, name, revision, data + 4, size - 4,
                       [](unsigned index, std::string& n) {
                         n = "set" + std::to_string(index);
                         return index % 2 == 0;
                       });
  return 0;
}
