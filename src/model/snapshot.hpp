// The snapshot: everything the collectors read from one host, as one JSON
// document (docs/snapshot.md). Everything after collection is a pure function
// of it, so a snapshot taken on a host can be analyzed anywhere.
#pragma once
#include <string>
#include <string_view>

#include <optional>

#include "model/docker.hpp"
#include "model/host.hpp"
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
  Snapshot() = default;
  // Takes a document that fits the snapshot's shapes (validate_snapshot, or
  // a collector's own output) and lowers its sections.
  explicit Snapshot(Json document);

  Json doc;  // the whole document; sections are described in docs/snapshot.md
  // The sections lowered into typed values, engaged when their collector
  // succeeded (as section() says): the analysis reads these, not doc.
  std::optional<HostFacts> host;
  std::optional<DockerState> docker;
  // Docker's settings, engaged whenever the section is there: a broken
  // daemon.json (collector error) still records dockerd's flags.
  std::optional<DockerDaemon> daemon;

  CollectorReport collector(std::string_view name) const;
  const Json* section(std::string_view name) const;  // null when absent or not ok
  // (Re)lowers host, docker and daemon from doc.
  void lower();
};

// The lowering of each section from JSON that fits its shape.
HostFacts lower_host(const Json& section);
DockerState lower_docker_api(const Json& section);
DockerDaemon lower_docker_config(const Json& section);

// Checks the structure a reader relies on. Errors name the JSON pointer of the
// offending value, e.g. "snap.json: /nftables/ruleset/3: expected an object".
Result<bool> validate_snapshot(const Json& doc, const std::string& name);
Result<Snapshot> load_snapshot(const std::string& path);
// The JSON Schema (draft 2020-12) of what validate_snapshot accepts, made from
// the same shapes (docs/schemas/snapshot.schema.json is this, checked by a test).
Json snapshot_json_schema();

}  // namespace dfa
