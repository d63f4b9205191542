// Suppressions: findings and drift changes an admin has accepted, each with a
// justification and an optional expiry date (docs/drift.md). A suppressed item
// is still reported, marked as such, and never counts for the exit code; once
// its suppression has expired it counts again and says so.
#pragma once
#include <string>
#include <vector>

#include "findings/findings.hpp"
#include "model/result.hpp"

namespace dfa {

inline constexpr int kSuppressionsSchemaVersion = 1;

struct Suppression {
  std::string rule;         // a catalogue id, or "*" for any
  std::string fingerprint;  // optional: exactly this finding
  std::string match;        // optional: a substring of the finding's message or identity
  std::string justification;
  std::string expires;      // "YYYY-MM-DD" (the last day it applies) or ""
  std::string where;        // "FILE:LINE:COL" of the entry, for messages
};

// Reads a suppressions file; errors name the file, the line and the column of
// the offending entry.
Result<std::vector<Suppression>> load_suppressions(const std::string& path);
Result<std::vector<Suppression>> parse_suppressions(std::string_view text, const std::string& path);

// Marks each finding the first applicable suppression matches. `today` is
// "YYYY-MM-DD" (UTC); a suppression whose expiry is before it has expired.
void apply_suppressions(std::vector<Finding>& findings, const std::vector<Suppression>& s, const std::string& today);
std::string today_utc();

}  // namespace dfa
