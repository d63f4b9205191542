#include "drift/metrics.hpp"

#include <fmt/format.h>

#include <map>

namespace dfa {

std::string prometheus_text(const std::string& command, const std::vector<Finding>& findings, const Exposure& exposure,
                            double now) {
  std::string s;
  auto family = [&s](const char* name, const char* type, const char* help) {
    s += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  const Json counts = severity_summary(findings);  // the report's own counts
  family("dockfw_audit_findings", "gauge",
         "Findings of the last run (drift: changes since the baseline) by severity, suppressed ones not counted.");
  for (Severity sev : {Severity::critical, Severity::high, Severity::medium, Severity::low, Severity::info})
    s += fmt::format("dockfw_audit_findings{{command=\"{}\",severity=\"{}\"}} {}\n", command, to_string(sev),
                     counts.value(std::string(to_string(sev)), 0));
  family("dockfw_audit_findings_suppressed", "gauge", "Findings of the last run matched by a suppression in force.");
  s += fmt::format("dockfw_audit_findings_suppressed{{command=\"{}\"}} {}\n", command, counts.value("suppressed", 0));

  // Per kind and family: entries open to at least one source class other
  // than the host itself, and open or uncertain (entry, source class, destination) cells.
  std::map<std::pair<std::string, int>, int> open_entries, open_cells, uncertain_cells;
  for (const auto& en : exposure.entries) {
    auto k = std::pair{std::string(to_string(en.kind)), en.family};
    open_entries[k] += 0;
    open_cells[k] += 0;
    uncertain_cells[k] += 0;
    bool open = false;
    for (const auto& c : en.cells()) {
      if (c.outcome->result == Outcome::Result::delivered) {
        open_cells[k]++;
        open |= c.source_class.source.kind != Source::Kind::host;
      }
      if (c.outcome->result == Outcome::Result::uncertain) uncertain_cells[k]++;
    }
    if (open) open_entries[k]++;
  }
  family("dockfw_audit_exposed", "gauge",
         "Published ports (kind=published) and host sockets (kind=socket) open to at least one source other than the host.");
  for (const auto& [k, n] : open_entries)
    s += fmt::format("dockfw_audit_exposed{{command=\"{}\",kind=\"{}\",family=\"ipv{}\"}} {}\n", command, k.first, k.second, n);
  family("dockfw_audit_open_cells", "gauge", "Exposure cells (port, source class, destination address) that are open.");
  for (const auto& [k, n] : open_cells)
    s += fmt::format("dockfw_audit_open_cells{{command=\"{}\",kind=\"{}\",family=\"ipv{}\"}} {}\n", command, k.first, k.second, n);
  family("dockfw_audit_uncertain_cells", "gauge", "Exposure cells the analyzer could not decide.");
  for (const auto& [k, n] : uncertain_cells)
    s += fmt::format("dockfw_audit_uncertain_cells{{command=\"{}\",kind=\"{}\",family=\"ipv{}\"}} {}\n", command, k.first, k.second, n);
  family("dockfw_audit_last_success_timestamp_seconds", "gauge", "When the last run that completed its analysis ended.");
  s += fmt::format("dockfw_audit_last_success_timestamp_seconds{{command=\"{}\"}} {:.0f}\n", command, now);
  return s;
}

}  // namespace dfa
