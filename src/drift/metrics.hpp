// A Prometheus textfile-collector file (node_exporter --collector.textfile):
// counts of findings or drift changes by severity, of open exposure cells,
// and the time of this run. Written only when a run completes, so an alert on
// the age of dockfw_audit_last_success_timestamp_seconds catches runs that fail.
#pragma once
#include <string>
#include <vector>

#include "findings/report.hpp"

namespace dfa {

// command: "scan" or "drift"; now: seconds since the epoch.
std::string prometheus_text(const std::string& command, const std::vector<Finding>& findings, const Exposure& exposure,
                            double now);

}  // namespace dfa
