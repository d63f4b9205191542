// libFuzzer: a baseline file, read and compared both ways with a real scan.
#include "scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& s = dfa::fuzz::scenario();
  auto base = dfa::parse_baseline(dfa::fuzz::text_of(data, size), "fuzz.json");
  if (!base) return 0;
  (void)dfa::compare_baselines(*base, s.baseline, s.scan.findings);
  (void)dfa::compare_baselines(s.baseline, *base, s.scan.findings);
  return 0;
}
