// A lab snapshot analyzed once, for targets that fuzz the files read beside
// a snapshot (baselines, suppressions, policies).
#pragma once
#include <cstdlib>

#include "pipeline.hpp"

namespace dfa::fuzz {

struct Scenario {
  Snapshot snapshot;
  std::unique_ptr<Engine> engine;
  ScanResult scan;
  Baseline baseline;
};

inline const Scenario& scenario() {
  static const Scenario* s = [] {
    auto* sc = new Scenario;
    auto loaded = load_snapshot(DFA_FIXTURES "/scenarios/01-bypass-nft/snapshot.json");
    if (!loaded) std::abort();
    sc->snapshot = std::move(*loaded);
    sc->engine = std::make_unique<Engine>(sc->snapshot);
    sc->scan = run_scan(*sc->engine);
    sc->baseline = make_baseline(*sc->engine, sc->scan);
    return sc;
  }();
  return *s;
}

inline std::string_view text_of(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace dfa::fuzz
