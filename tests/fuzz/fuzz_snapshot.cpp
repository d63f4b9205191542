// libFuzzer: a snapshot file, read, checked and analyzed by every command.
#include "pipeline.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dfa::fuzz::run_snapshot_pipeline(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
