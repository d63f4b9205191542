// Reporters for findings: text for people, JSON and SARIF 2.1.0 for machines.
// All output is deterministic: the same snapshot gives the same bytes.
#pragma once
#include <string>
#include <vector>

#include "findings/findings.hpp"

namespace dfa {

struct ScanResult {
  std::vector<Finding> findings;
  Exposure exposure;
};

std::string render_text(const ScanResult& r, bool colour);
Json to_json(const ScanResult& r);
Json to_sarif(const ScanResult& r);
std::string fingerprint(const Finding& f);  // stable hash of rule id and identity
Severity highest(const std::vector<Finding>& f);

}  // namespace dfa
