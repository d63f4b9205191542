// Baselines and drift (docs/drift.md). A baseline records what matters when a
// host changes: the exposure matrix, the findings, every table and chain
// (rules normalized: no handles, no counters), Docker's configuration, the
// network sysctls, and the containers with their bindings. Drift compares two
// of them: the saved one and one made from the host now. A baseline is typed;
// JSON appears only where its file is read (parse_baseline) or written
// (baseline_text).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
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

struct Baseline {
  struct Class {
    std::string label, representative;
    std::optional<std::string> iif;  // remote classes: the interface they arrive on
  };
  // One outcome at one destination, for a set of sources (source_sets).
  struct Cell {
    std::string destination, outcome, decided_by;
    std::uint32_t source_set = 0;
  };
  struct Entry {
    std::string kind, what;
    int family = 0;
    std::vector<Cell> cells;
  };
  struct FindingRecord {
    std::string rule_id, fingerprint, identity, message;
  };
  struct Rule {
    std::string text, id;
    bool operator==(const Rule&) const = default;
  };
  // A chain's rules, each with its identity, or a set's or map's elements,
  // each its own identity; the digest of both in order, with the header.
  struct RuleList {
    std::string header;
    bool is_set = false;
    std::vector<Rule> rules;
    std::vector<std::string> elements;
    std::string digest;
    bool operator==(const RuleList&) const = default;
  };
  struct DaemonJson {
    std::string path;
    bool present = false;
    Json content;  // the file's own document, compared key by key
    std::map<std::string, long long> key_lines;
    std::string error;
  };
  struct Container {
    std::string image;
    bool running = false;
    std::vector<std::string> ports, addresses;
  };

  int schema_version = kBaselineSchemaVersion;  // as read (older ones are upgraded on reading)
  std::string snapshot_collected_at;
  std::map<std::string, std::string> collectors;  // name -> ok, absent, denied, error
  // The partition of source addresses (family -> prefixes), so that a later
  // run whose rules mention other prefixes can find, for each of its source
  // classes, the class of the baseline its representative belonged to.
  std::map<int, std::vector<std::string>> source_prefixes;
  std::vector<Class> source_classes;
  std::vector<Entry> exposure;
  std::vector<std::vector<std::uint32_t>> source_sets;  // indexes into source_classes
  std::vector<FindingRecord> findings;
  std::map<std::string, RuleList> rules;  // "nft inet filter chain input", "nft inet f2b set blocklist", ...
  std::optional<DaemonJson> daemon_json;
  std::optional<std::vector<std::string>> dockerd_argv;  // none: dockerd not running
  std::map<std::string, std::optional<std::string>> sysctls;  // none: unset
  std::map<std::string, Container> containers;
};

Baseline make_baseline(const Engine& engine, const ScanResult& scan);

// The baseline file's text: one compact line, as the snapshot is.
std::string baseline_text(const Baseline& b);

// Reads and checks a baseline file; errors name the file and the position
// (FILE:LINE:COL for syntax, FILE: /json/pointer for structure).
Result<Baseline> load_baseline(const std::string& path);
// The same for a baseline's text already read; `path` names it in errors.
Result<Baseline> parse_baseline(std::string_view text, const std::string& path);

// What changed from `base` to `now`: findings of the drift rules
// DFA101-DFA108, and every finding of `now` that the baseline did not have
// (under its own rule, "new since the baseline"). Sorted by rule id, then
// identity.
std::vector<Finding> compare_baselines(const Baseline& base, const Baseline& now, const std::vector<Finding>& now_findings);

}  // namespace dfa
