// libFuzzer: the text files collect reads from /proc, nftables.conf and
// firewalld's zone and policy files.
#include "collect/proc_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view t(reinterpret_cast<const char*>(data), size);
  for (auto [proto, family] : {std::pair{"tcp", 4}, {"tcp", 6}, {"udp", 4}, {"udp", 6}})
    (void)dfa::parse_proc_net_sockets(t, proto, family, "/proc/net/x");
  (void)dfa::split_cmdline(t);
  (void)dfa::scan_nftables_config(t);
  (void)dfa::parse_firewalld_xml(t, "zone", "fuzz.xml");
  (void)dfa::parse_firewalld_xml(t, "policy", "fuzz.xml");
  return 0;
}
