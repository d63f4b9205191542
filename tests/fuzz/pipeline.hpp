// Every reader of a snapshot, as the commands run them: shared by the
// libFuzzer targets and the unit test that damages real snapshots. A
// snapshot that passes validation must go through all of it without an
// exception, a sanitizer report or a crash.
#pragma once
#include <string>

#include "analyze/engine.hpp"
#include "drift/baseline.hpp"
#include "findings/report.hpp"
#include "model/snapshot.hpp"
#include "remediate/guard.hpp"

namespace dfa::fuzz {

// Parses and validates text as `name`; on success analyzes it like scan,
// baseline save, drift and remediate do. Returns whether it was accepted.
inline bool run_snapshot_pipeline(std::string_view text, bool with_remediate = true) {
  auto j = parse_json_text(text, "fuzz.json");
  if (!j) return false;
  if (!validate_snapshot(*j, "fuzz.json")) return false;
  Snapshot s{std::move(*j)};
  Engine engine(s);
  ScanResult scan = run_scan(engine);
  (void)dump_json(to_json(scan));
  (void)dump_json(to_sarif(scan.findings));
  (void)render_text(scan, false);
  Baseline base = make_baseline(engine, scan);
  (void)compare_baselines(base, base, scan.findings);
  (void)baseline_text(base);
  if (with_remediate) {
    Remediation rem = make_guard(engine, scan.exposure, GuardPolicy{});
    (void)verify_guard(engine, scan, rem);
  }
  return true;
}

}  // namespace dfa::fuzz
