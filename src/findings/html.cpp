#include "findings/html.hpp"

#include <fmt/format.h>

#include <map>

#include "analyze/audience.hpp"
#include "dfa/version.hpp"
#include "findings/report.hpp"

namespace dfa {
namespace {

std::string esc(std::string_view t) {
  std::string s;
  s.reserve(t.size());
  for (char c : t) {
    switch (c) {
      case '&': s += "&amp;"; break;
      case '<': s += "&lt;"; break;
      case '>': s += "&gt;"; break;
      case '"': s += "&quot;"; break;
      case '\'': s += "&#39;"; break;
      default: s += c;
    }
  }
  return s;
}

// The matrix's four colours are used nowhere else on the page: tests/cli/
// report_views.py finds the matrix in a screenshot by them.
constexpr const char* kStyle = R"(
body { font-family: "DejaVu Sans", sans-serif; margin: 1.5em; color: #1b1b1b; background: #ffffff; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #cccccc; }
.meta { color: #555555; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #bbbbbb; padding: 0.35em 0.6em; text-align: left; vertical-align: top; }
th { background: #eeeeee; }
table.matrix td.state { min-width: 9em; font-weight: bold; }
table.matrix td.open { background: #d32f2f; color: #ffffff; }
table.matrix td.uncertain { background: #f9a825; color: #000000; }
table.matrix td.closed { background: #388e3c; color: #ffffff; }
table.matrix td.none { background: #f3f3f3; color: #777777; }
td.outcome.open { background: #f8d7d5; } td.outcome.uncertain { background: #fdecc0; } td.outcome.closed { background: #d9ecd9; }
td.state small { display: block; font-weight: normal; }
.sev { display: inline-block; min-width: 5em; padding: 0.1em 0.4em; border-radius: 3px; font-weight: bold; color: #ffffff; }
.sev.critical { background: #6a1b9a; } .sev.high { background: #c62828; } .sev.medium { background: #ef6c00; }
.sev.low { background: #1565c0; } .sev.info { background: #607d8b; }
.finding { margin: 0.6em 0 0.6em 1em; }
.fix { margin: 0.3em 0 1em 1em; padding: 0.4em 0.6em; background: #f1f8e9; border-left: 4px solid #689f38; }
code, .mono { font-family: "DejaVu Sans Mono", monospace; font-size: 0.9em; }
details { margin: 0.3em 0 0.3em 1em; }
ol.path li { margin: 0.15em 0; }
ol.path li.drop { color: #b3261e; }
.hook { display: inline-block; min-width: 7em; color: #555555; }
)";

std::string state_cell(const ExposureEntry& en, const AudienceRow* row, std::string_view audience) {
  if (!row) return fmt::format("<td class=\"state none\" data-audience=\"{}\" data-state=\"none\">-</td>", esc(audience));
  Reach r = row->state();
  std::string word = r == Reach::open ? "OPEN" : r == Reach::uncertain ? "UNCERTAIN" : "closed";
  // One state: the word, then who ("on eth0, eth1"); mixed: each state with its sources.
  bool one = (!row->of(Reach::open).empty()) + (!row->of(Reach::uncertain).empty()) +
                 (!row->of(Reach::closed).empty()) == 1;
  return fmt::format("<td class=\"state {}\" data-audience=\"{}\" data-state=\"{}\">{}<small>{}</small></td>",
                     to_string(r), esc(audience), to_string(r), word,
                     esc(one ? describe(en, *row, r) : describe(en, *row)));
}

void matrix(std::string& s, const Exposure& x) {
  s += "<h2 id=\"exposure\">Exposure: who reaches each published port and host socket</h2>\n";
  if (x.entries.empty()) {
    s += "<p>No published port and no listening socket.</p>\n";
    return;
  }
  s += "<p>A source is a class of addresses the rules treat alike; it is open when it reaches one of the entry's "
       "addresses, uncertain when the analysis cannot tell (never counted as closed).</p>\n";
  s += "<table class=\"matrix\">\n<tr><th>entry</th><th>family</th><th>sources</th>";
  const Audience order[] = {Audience::any, Audience::networks, Audience::host, Audience::containers};
  for (Audience a : order) s += fmt::format("<th>{}</th>", esc(to_string(a)));
  s += "</tr>\n";
  for (std::size_t i = 0; i < x.entries.size(); ++i) {
    const ExposureEntry& en = x.entries[i];
    EntrySummary sum = summarize(en);
    s += fmt::format("<tr data-entry=\"{}\"><td><a href=\"#entry-{}\" class=\"mono\">{}</a>{}</td><td>IPv{}</td><td>{}</td>",
                     esc(en.what), i, esc(en.what), en.kind == EntryKind::socket ? " (host socket)" : "", en.family,
                     esc(sum.headline()));
    for (Audience a : order) {
      const AudienceRow* row = nullptr;
      for (const auto& r : sum.rows)
        if (r.who == a) row = &r;
      s += state_cell(en, row, to_string(a));
    }
    s += "</tr>\n";
  }
  s += "</table>\n";
}

void path(std::string& s, const std::vector<Step>& steps) {
  if (steps.empty()) return;
  s += "<details><summary>packet path</summary><ol class=\"path\">\n";
  for (const Step& st : steps) {
    s += fmt::format("<li{}><span class=\"hook\">{}</span> {}", st.drops ? " class=\"drop\"" : "", esc(st.hook),
                     esc(st.where));
    if (!st.rule.empty()) s += fmt::format(": <code>{}</code> [{}]", esc(st.rule), esc(st.origin));
    s += fmt::format(" &rarr; {}</li>\n", esc(st.verdict));
  }
  s += "</ol></details>\n";
}

void findings(std::string& s, const std::vector<Finding>& fs, const std::string& noun) {
  std::size_t active = 0;
  for (const auto& f : fs) active += !f.is_suppressed();
  s += fmt::format("<h2 id=\"findings\">{} ({})</h2>\n", esc(noun), active);
  if (!active) s += "<p>None.</p>\n";
  for (Severity sev : {Severity::critical, Severity::high, Severity::medium, Severity::low, Severity::info}) {
    // Per rule: its title once, each finding, its fix once (as in text).
    std::map<std::string, std::vector<const Finding*>> by_rule;
    for (const auto& f : fs)
      if (!f.is_suppressed() && severity_of(f) == sev) by_rule[f.rule_id].push_back(&f);
    for (const auto& [id, list] : by_rule) {
      const RuleDef* rule = find_rule(id);
      s += fmt::format("<h3><span class=\"sev {}\">{}</span> {} {}</h3>\n", to_string(sev), to_string(sev), esc(id),
                       esc(rule->title));
      for (const Finding* f : list) {
        const Location& l = f->location;
        std::string at = !l.file.empty() ? (l.line ? fmt::format("{}:{}", l.file, l.line) : l.file) : l.logical;
        s += fmt::format("<div class=\"finding\" data-rule=\"{}\">{}<br><small>at <span class=\"mono\">{}</span></small>\n",
                         esc(id), esc(f->message), esc(at));
        path(s, f->flow);
        s += "</div>\n";
      }
      if (sev > Severity::info) s += fmt::format("<div class=\"fix\"><b>Fix:</b> {}</div>\n", esc(rule->fix));
    }
  }
  std::vector<const Finding*> suppressed;
  for (const auto& f : fs)
    if (f.is_suppressed()) suppressed.push_back(&f);
  if (!suppressed.empty()) {
    s += fmt::format("<h3>Suppressed ({})</h3>\n<ul>\n", suppressed.size());
    for (const Finding* f : suppressed)
      s += fmt::format("<li>{} {} <small>(accepted{}: {})</small></li>\n", esc(f->rule_id), esc(f->message),
                       f->suppression_expires.empty() ? "" : " until " + esc(f->suppression_expires), esc(f->suppressed));
    s += "</ul>\n";
  }
}

// Per entry, each destination's outcome with its deciding rule and sources
// (a long source list is cut: the JSON report has every one).
void destinations(std::string& s, const Exposure& x) {
  constexpr std::size_t kMaxSources = 40;
  s += "<h2 id=\"destinations\">By destination</h2>\n";
  for (std::size_t i = 0; i < x.entries.size(); ++i) {
    const ExposureEntry& en = x.entries[i];
    s += fmt::format("<h3 id=\"entry-{}\" class=\"mono\">{} (IPv{})</h3>\n<table>\n"
                     "<tr><th>destination</th><th>outcome</th><th>target or deciding rule</th><th>from</th></tr>\n",
                     i, esc(en.what), en.family);
    for (const CellGroup& g : group_cells(en)) {
      const Outcome& o = *g.outcome;
      const auto& cls = g.sources;
      std::string from;
      for (std::size_t j = 0; j < cls.size() && j < kMaxSources; ++j)
        from += (j ? "; " : "") + esc((*en.classes)[cls[j]].label);
      if (cls.size() > kMaxSources) from += fmt::format("; and {} more", cls.size() - kMaxSources);
      std::string state = o.result == Outcome::Result::delivered ? "open"
                          : o.result == Outcome::Result::dropped ? "closed" : "uncertain";
      std::string why = o.result == Outcome::Result::delivered
                            ? o.target + (o.decided_by.empty() ? "" : " [" + o.decided_by + "]")
                            : o.decided_by;
      for (const auto& u : o.uncertain) why += "; uncertain: " + u;
      s += fmt::format("<tr><td class=\"mono\">{}</td><td class=\"outcome {}\">{}</td><td>{}</td><td>{}</td></tr>\n",
                       esc(en.destinations[g.destination]), state, state, esc(why), from);
    }
    s += "</table>\n";
  }
}

}  // namespace

std::string render_html(const HtmlReport& r) {
  std::string s = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  s += fmt::format("<title>{}{}</title>\n", esc(r.title), r.hostname.empty() ? "" : " on " + esc(r.hostname));
  s += "<meta name=\"generator\" content=\"dockfw-audit " + esc(kVersion) + "\">\n";
  s += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  s += fmt::format("<h1>{}</h1>\n<p class=\"meta\">host <b>{}</b>, read at {}; dockfw-audit {}</p>\n", esc(r.title),
                   esc(r.hostname.empty() ? "(unknown)" : r.hostname),
                   esc(r.collected_at.empty() ? "(unknown)" : r.collected_at), esc(kVersion));
  static const Exposure none;
  const Exposure& x = r.exposure ? *r.exposure : none;
  matrix(s, x);
  static const std::vector<Finding> no_findings;
  findings(s, r.findings ? *r.findings : no_findings, r.noun);
  if (!x.entries.empty()) destinations(s, x);
  s += "</body>\n</html>\n";
  return s;
}

}  // namespace dfa
