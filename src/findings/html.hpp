// The HTML report (scan and drift --format html): one self-contained page,
// no script, no network, no file beside it. Who reaches each published port
// and host socket first (the exposure matrix: entries by audience, coloured
// by state), then the findings with their fixes and the packet path of each,
// then every entry's destinations with the deciding rule.
#pragma once
#include <string>
#include <vector>

#include "analyze/exposure.hpp"
#include "findings/findings.hpp"

namespace dfa {

struct HtmlReport {
  std::string title;  // "dockfw-audit scan", "dockfw-audit drift since the baseline of ..."
  std::string noun = "Findings";  // "Changes" for drift
  std::string hostname, collected_at;
  const std::vector<Finding>* findings = nullptr;
  const Exposure* exposure = nullptr;
};
std::string render_html(const HtmlReport& r);

}  // namespace dfa
