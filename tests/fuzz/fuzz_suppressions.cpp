// libFuzzer: a suppressions file, read and applied to a real scan's findings.
#include "drift/suppress.hpp"
#include "scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto sup = dfa::parse_suppressions(dfa::fuzz::text_of(data, size), "fuzz.json");
  if (!sup) return 0;
  auto findings = dfa::fuzz::scenario().scan.findings;
  dfa::apply_suppressions(findings, *sup, "2026-12-02");
  (void)dfa::to_sarif(findings);
  return 0;
}
