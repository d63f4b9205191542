// libFuzzer: Docker Engine API answers (a container's inspect, the network
// list) as the collector normalizes them.
#include "collect/docker_parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = dfa::parse_json_text(std::string_view(reinterpret_cast<const char*>(data), size), "answer");
  if (!j) return 0;
  // The collector takes an answer of an unknown shape as its error; the
  // normalizers must never do worse than throw nlohmann's exception.
  try {
    (void)dfa::normalize_container(*j);
  } catch (const dfa::Json::exception&) {
  }
  try {
    if (j->is_array())
      for (const auto& n : *j) (void)dfa::normalize_network(n);
  } catch (const dfa::Json::exception&) {
  }
  return 0;
}
