// Baselines and drift (docs/drift.md). A baseline records what matters when a
// host changes: the exposure matrix, the findings, every table and chain
// (rules normalized: no handles, no counters), Docker's configuration, the
// network sysctls, and the containers with their bindings. Drift compares two
// of them: the saved one and one made from the host now.
#pragma once
#include <string>
#include <vector>

#include "analyze/engine.hpp"
#include "findings/report.hpp"
#include "model/result.hpp"

namespace dfa {

// 3: a set's or map's elements are texts (elements[], each its own identity,
// without expires or counters); 2 (still read): cells name their sources by
// set (source_sets, each distinct set once), elements were rules[{text, id}];
// 1 (still read): each cell lists its sources.
inline constexpr int kBaselineSchemaVersion = 3;

Json make_baseline(const Engine& engine, const ScanResult& scan);

// Reads and checks a baseline file; errors name the file and the position
// (FILE:LINE:COL for syntax, FILE: /json/pointer for structure).
Result<Json> load_baseline(const std::string& path);
// The same for a baseline's text already read; `path` names it in errors.
Result<Json> parse_baseline(std::string_view text, const std::string& path);

// What changed from `base` to `now` (both from make_baseline): findings of
// the drift rules DFA101-DFA108, and every finding of `now` that the baseline
// did not have (under its own rule, "new since the baseline"). Sorted by rule
// id, then identity.
std::vector<Finding> compare_baselines(const Json& base, const Json& now, const std::vector<Finding>& now_findings);

}  // namespace dfa
