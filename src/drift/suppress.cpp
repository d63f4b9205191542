#include "drift/suppress.hpp"

#include "findings/report.hpp"

#include <fmt/format.h>

#include <ctime>
#include <chrono>
#include <regex>

namespace dfa {
namespace {

// Byte offsets of the elements of the top-level object's array member `key`.
// Runs only on text that already parsed, so it can be simple.
std::vector<std::size_t> element_offsets(std::string_view t, std::string_view key) {
  std::vector<std::size_t> out;
  int depth = 0;
  bool in_array = false;  // inside the member's array (at depth 2)
  bool want_array = false;
  bool expect_element = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (in_array && depth == 2 && expect_element && c != ']') {
      out.push_back(i);
      expect_element = false;
    }
    if (c == '"') {
      std::size_t start = i + 1;
      for (++i; i < t.size() && t[i] != '"'; ++i)
        if (t[i] == '\\') ++i;
      if (depth == 1 && t.substr(start, i - start) == key) want_array = true;
      continue;
    }
    if (c == ':' || c == ',') {
      if (c == ',' && in_array && depth == 2) expect_element = true;
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
      if (c == '[' && depth == 2 && want_array) {
        in_array = true;
        expect_element = true;
      }
      want_array = false;
      continue;
    }
    if (c == '}' || c == ']') {
      if (depth == 2 && in_array) in_array = false;
      --depth;
      continue;
    }
    want_array = false;
  }
  return out;
}

// YYYY-MM-DD naming a day of the calendar (2027-02-31 is not one).
bool valid_date(const std::string& s) {
  static const std::regex re("^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
  if (!std::regex_match(s, re)) return false;
  std::chrono::year_month_day d{std::chrono::year{std::stoi(s.substr(0, 4))},
                                std::chrono::month{static_cast<unsigned>(std::stoi(s.substr(5, 2)))},
                                std::chrono::day{static_cast<unsigned>(std::stoi(s.substr(8, 2)))}};
  return d.ok();
}

}  // namespace

std::string today_utc() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

Result<std::vector<Suppression>> load_suppressions(const std::string& path) {
  auto text = read_input_file(path, kMaxConfigBytes);
  if (!text) return text.error();
  return parse_suppressions(*text, path);
}

Result<std::vector<Suppression>> parse_suppressions(std::string_view text, const std::string& path) {
  auto doc = parse_json_text(text, path);
  if (!doc) return doc.error();
  if (!doc->is_object()) return input_error(fmt::format("{}:1:1: the top level must be an object", path));
  auto v = doc->find("schema_version");
  if (v == doc->end() || !v->is_number_integer())
    return input_error(fmt::format("{}: /schema_version: expected an integer (1)", path));
  if (v->get<int>() > kSuppressionsSchemaVersion)
    return input_error(fmt::format("{}: /schema_version: suppressions schema {} is newer than this dockfw-audit supports "
                                   "({}); upgrade dockfw-audit",
                                   path, v->get<int>(), kSuppressionsSchemaVersion));
  auto list = doc->find("suppressions");
  if (list == doc->end() || !list->is_array())
    return input_error(fmt::format("{}: /suppressions: expected an array of suppressions", path));
  auto offsets = element_offsets(text, "suppressions");
  std::vector<Suppression> out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const Json& e = (*list)[i];
    TextPos p = i < offsets.size() ? pos_of(text, offsets[i]) : TextPos{};
    std::string where = fmt::format("{}:{}:{}", path, p.line, p.column);
    auto fail = [&](const std::string& what) {
      return input_error(fmt::format("{}: suppression {}: {}", where, i + 1, what));
    };
    if (!e.is_object()) return fail("expected an object");
    for (const auto& [k, val] : e.items()) {
      if (k != "rule" && k != "fingerprint" && k != "match" && k != "justification" && k != "expires")
        return fail(fmt::format("unknown member \"{}\" (rule, fingerprint, match, justification, expires)", k));
      if (!val.is_string()) return fail(fmt::format("\"{}\" must be a string, found {}", k, val.type_name()));
    }
    Suppression s;
    s.rule = e.value("rule", "");
    s.fingerprint = e.value("fingerprint", "");
    s.match = e.value("match", "");
    s.justification = e.value("justification", "");
    s.expires = e.value("expires", "");
    s.where = where;
    if (s.rule.empty()) return fail("\"rule\" is required (a catalogue id such as DFA003, or \"*\")");
    if (s.rule != "*" && !find_rule(s.rule)) return fail(fmt::format("unknown rule \"{}\"", s.rule));
    if (s.justification.empty()) return fail("\"justification\" is required: say why this is accepted");
    if (!s.expires.empty() && !valid_date(s.expires))
      return fail(fmt::format("\"expires\" must be a date YYYY-MM-DD, found \"{}\"", s.expires));
    if (s.rule == "*" && s.fingerprint.empty() && s.match.empty())
      return fail("a suppression of every rule needs a \"fingerprint\" or a \"match\"");
    out.push_back(std::move(s));
  }
  return out;
}

void apply_suppressions(std::vector<Finding>& findings, const std::vector<Suppression>& sups, const std::string& today) {
  for (auto& f : findings) {
    for (const auto& s : sups) {
      if (s.rule != "*" && s.rule != f.rule_id) continue;
      if (!s.fingerprint.empty() && s.fingerprint != fingerprint(f)) continue;
      if (!s.match.empty() && f.message.find(s.match) == std::string::npos &&
          f.identity.find(s.match) == std::string::npos)
        continue;
      f.suppressed = s.justification;
      f.suppression_expires = s.expires;
      f.suppression_expired = !s.expires.empty() && s.expires < today;
      if (!f.suppression_expired) break;  // expired: keep looking for one in force
    }
  }
}

}  // namespace dfa
