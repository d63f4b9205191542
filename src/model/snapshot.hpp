// The snapshot: everything the collectors read from one host, as one JSON
// document (docs/snapshot.md). Everything after collection is a pure function
// of it, so a snapshot taken on a host can be analyzed anywhere.
#pragma once
#include <string>
#include <string_view>

#include "model/json_io.hpp"
#include "model/result.hpp"

namespace dfa {

inline constexpr int kSnapshotSchemaVersion = 1;

// Each collector says how it fared. Absent is not failure: no legacy tables or
// no Docker socket are facts about the host. Denied and error mean "could not
// look", which the analyzer must treat as unknown, never as empty.
enum class CollectorStatus { ok, absent, denied, error, unknown };
std::string_view to_string(CollectorStatus s);
CollectorStatus collector_status_from(std::string_view s);

struct CollectorReport {
  CollectorStatus status = CollectorStatus::ok;
  std::string reason;  // empty when ok
};
Json to_json(const CollectorReport& r);

// The collectors, in the order they run and appear in the snapshot.
inline constexpr std::string_view kCollectors[] = {"host", "nftables", "iptables_legacy",
                                                    "docker_config", "docker_api"};

struct Snapshot {
  Json doc;  // the whole document; sections are described in docs/snapshot.md

  CollectorReport collector(std::string_view name) const;
  const Json* section(std::string_view name) const;  // null when absent or not ok
};

// Checks the structure a reader relies on. Errors name the JSON pointer of the
// offending value, e.g. "snap.json: /nftables/ruleset/3: expected an object".
Result<bool> validate_snapshot(const Json& doc, const std::string& name);
Result<Snapshot> load_snapshot(const std::string& path);

}  // namespace dfa
