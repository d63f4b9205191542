// libFuzzer: a remediation policy, read, turned into a guard table and proven.
#include "scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& s = dfa::fuzz::scenario();
  auto policy = dfa::parse_guard_policy(dfa::fuzz::text_of(data, size), "fuzz.json");
  if (!policy) return 0;
  dfa::Remediation rem = dfa::make_guard(*s.engine, s.scan.exposure, *policy);
  (void)dfa::verify_guard(*s.engine, s.scan, rem);
  return 0;
}
