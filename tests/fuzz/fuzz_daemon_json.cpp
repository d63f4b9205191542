// libFuzzer: daemon.json as collect reads it.
#include "collect/daemon_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)dfa::parse_daemon_json(std::string_view(reinterpret_cast<const char*>(data), size), "daemon.json");
  return 0;
}
