// Findings: what is wrong, by rule of the catalogue (rules/), with evidence.
#pragma once
#include <string>
#include <vector>

#include "analyze/engine.hpp"
#include "analyze/exposure.hpp"
#include "findings/evidence.hpp"
#include "model/snapshot.hpp"

namespace dfa {

// info: a fact worth knowing that needs no action (a drift that closed a port).
enum class Severity { none, info, low, medium, high, critical };
std::string_view to_string(Severity s);
std::optional<Severity> severity_from(std::string_view s);

struct RuleDef {
  std::string id, name, title, why, fix;
  Severity severity = Severity::medium;
  std::vector<std::string> references;
};
// The catalogue, sorted by id. Aborts the program if a rules/ file is broken
// (a build-time input: tests catch it before any release).
const std::vector<RuleDef>& catalogue();
const RuleDef* find_rule(const std::string& id);

struct Location {
  std::string file;      // a file such as /etc/docker/daemon.json
  int line = 0;
  std::string logical;   // e.g. "nft:inet/filter/input", "sysctl:net.ipv4.conf.all.route_localnet"
  std::string rule{};    // the rule itself when one is the cause: "nft inet filter input #3" (no handle)
};

struct Finding {
  std::string rule_id;
  std::string message;
  Location location;
  std::string identity;  // stable across runs: no handles, no counters
  Evidence evidence;
  std::vector<Step> flow;  // the packet path, for SARIF codeFlows
  // This finding's severity where it differs from its rule's (severity_of).
  std::optional<Severity> severity;
  // Set by apply_suppressions (drift/suppress.hpp): the suppression that
  // matched. In force, the finding is reported as suppressed and does not
  // count for exit codes; expired, it counts again and says so.
  std::string suppressed;           // its justification ("" when none matched)
  std::string suppression_expires;  // "YYYY-MM-DD" or ""
  bool suppression_expired = false;
  bool is_suppressed() const { return !suppressed.empty() && !suppression_expired; }
};

// A boolean setting dockerd runs with (its command-line flag wins over
// daemon.json), and where it is set; nullopt when set nowhere.
std::optional<bool> docker_flag(const Snapshot& s, const char* key, Location& where);
// Which firewall Docker writes its rules with (Docker 29: "firewall-backend"):
// what the daemon says in /info, else its --firewall-backend flag, else
// daemon.json, else iptables, Docker's default (where is then empty).
struct FirewallBackend {
  bool nftables = false;
  std::string said;  // as written ("nftables+firewalld"); "" for the default
  Location where;
};
FirewallBackend docker_firewall_backend(const Snapshot& s);

// Runs every check. Findings come sorted by rule id, then identity.
std::vector<Finding> run_checks(const Engine& engine, const Exposure& exposure);

}  // namespace dfa
