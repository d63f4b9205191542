// Reporters for findings: text for people, JSON and SARIF 2.1.0 for machines.
// All output is deterministic: the same snapshot gives the same bytes.
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

#include "findings/findings.hpp"

namespace dfa {

class JsonWriter;

// Where SARIF's file locations point (docs/findings.md, "SARIF for code
// scanning"). With a host artifact (artifact.hpp) written beside the report,
// a result whose cause lives in the kernel points at the artifact's line;
// paths under `root` are written relative to it, the others as file:// URIs.
struct HostArtifact;
struct SarifPlaces {
  const HostArtifact* artifact = nullptr;
  std::string artifact_path;  // as written
  std::string root;           // "" : the artifact's path as given, other files absolute
};
struct ScanResult {
  std::vector<Finding> findings;
  Exposure exposure;
  // Which host, read when: from the snapshot ("" when it does not say).
  std::string hostname, collected_at;
};

std::string render_text(const ScanResult& r, bool colour);
Json to_json(const ScanResult& r);
// The text of dump_json(to_json(r), pretty ? 2 : -1), made without building
// the exposure's tree (scan --format json on a large host).
std::string dump_scan_json(const ScanResult& r, bool pretty);
// Which host and when its snapshot was read: scan JSON's and jsonl's "host".
Json host_json(const ScanResult& r);
Json host_json(const Snapshot& s);  // the same from the snapshot
Json tool_json();                   // {"name": "dockfw-audit", "version": ...}
Json to_sarif(const ScanResult& r, const SarifPlaces& places = {});
// What scan reports on: the exposure and every check of the catalogue on it.
// keep_bare_walks: keep the walks without NAT the checks made, for
// remediate's intent (memory the size of the exposure; Exposure::keep_bare_walks).
ScanResult run_scan(const Engine& engine, bool keep_bare_walks = false);

// The parts, shared with drift reports. `what` heads the text
// ("dockfw-audit scan"); suppressed findings are listed apart at the end.
std::string render_findings_text(const std::string& what, const std::vector<Finding>& fs, bool colour,
                                 const std::string& noun = "finding");
// Counts by severity, suppressed ones apart; `noun` names the total.
Json severity_summary(const std::vector<Finding>& fs, const std::string& noun = "findings");
// Each distinct step of the findings' packet paths once: scan's and drift's
// JSON write a finding's path as indexes into it (a thousand findings of one
// rule share most of their steps).
class StepTable {
 public:
  std::uint32_t index(const Step& st);
  Json take() { return std::move(steps_); }

 private:
  std::unordered_map<std::string, std::uint32_t> index_;
  Json steps_ = Json::array();
};
// A finding as JSON; its path as steps, or as indexes into `steps` when given.
Json finding_json(const Finding& f, StepTable* steps = nullptr);
// A finding's members, written into the object w is in.
void write_finding(JsonWriter& w, const Finding& f, StepTable* steps = nullptr);
// A finding's evidence as the JSON reports write it (an object, keys in order).
void write_evidence(JsonWriter& w, const Evidence& ev);
Json evidence_json(const Evidence& ev);
// The members `key` (the findings) and "steps", as add_findings_json makes them.
void write_findings(JsonWriter& w, const char* key, const std::vector<Finding>& fs);
// j[key]: the findings, their paths indexes into j["steps"], which it adds.
void add_findings_json(Json& j, const char* key, const std::vector<Finding>& fs);
Json to_sarif(const std::vector<Finding>& findings, const SarifPlaces& places = {});
// 64-bit FNV-1a as 16 hex digits: the same across runs, builds and hosts.
std::string stable_hash(std::string_view s);
std::string fingerprint(const Finding& f);  // stable hash of rule id and identity
// A finding's severity: its own where a check set one, else its rule's.
Severity severity_of(const Finding& f);
Severity highest(const std::vector<Finding>& f);  // suppressed ones do not count

}  // namespace dfa
