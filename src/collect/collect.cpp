#include "collect/collect.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <iterator>
#include <vector>

#include "collect/proc_parse.hpp"
#include "dfa/version.hpp"

namespace dfa {

bool has_cap_net_admin() {
  // CAP_NET_ADMIN is bit 12 of the effective set. Checked up front because
  // libnftables reports EPERM on the process's real stderr, not its buffer.
  auto lines = read_lines("/proc/self/status");
  if (!lines) return geteuid() == 0;
  for (const auto& l : *lines)
    if (l.rfind("CapEff:", 0) == 0) {
      unsigned long long caps = std::strtoull(l.c_str() + 7, nullptr, 16);
      return (caps >> 12) & 1;
    }
  return geteuid() == 0;
}

std::string denied_reason(const char* what) {
  return fmt::format("{} needs CAP_NET_ADMIN: run dockfw-audit as root (sudo dockfw-audit collect)", what);
}

CollectSummary collect_snapshot(const CollectOptions& o) {
  CollectSummary s;
  Json& doc = s.snapshot.doc;
  // Room for every member (object_with_room): grown at the ninth, Docker's
  // answer, the top level copied the nftables ruleset just collected (120
  // ms for a 100,000-element set).
  doc = object_with_room(16);
  doc["schema_version"] = kSnapshotSchemaVersion;
  doc["tool"] = {{"name", "dockfw-audit"}, {"version", kVersion}};
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  doc["collected_at"] = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", now);
  doc["collectors"] = Json::object();
  using Fn = Collected (*)(const CollectOptions&);
  const std::pair<const char*, Fn> collectors[] = {
      {"host", collect_host},
      {"nftables", collect_nftables},
      {"iptables_legacy", collect_iptables_legacy},
      {"docker_config", collect_docker_config},
      {"docker_api", collect_docker_api},
  };
  // DFA_TIMING=1 prints what each collector cost (see docs/benchmarks.md).
  const bool timing = std::getenv("DFA_TIMING") != nullptr;
  auto run = [&o, timing](const char* name, Fn fn) {
    auto t0 = std::chrono::steady_clock::now();
    Collected c = fn(o);
    if (timing)
      std::fprintf(stderr, "dockfw-audit: timing: %s %.1f ms\n", name,
                   std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    return c;
  };
  // The Docker API collector mostly waits for dockerd (a request per
  // container); nftables is the longest of the rest (the kernel's dump of a
  // large set); host, iptables-legacy and daemon.json read /proc, libiptc
  // and files. They share no state (only docker_api uses libcurl, only
  // nftables libnftables), so the API and nftables each run on a thread of
  // their own while the rest run here: collect costs the longest of the
  // three, not their sum. Results go into the snapshot in the fixed order
  // above.
  constexpr std::size_t kNft = 1, kApi = std::size(collectors) - 1;
  auto api = std::async(std::launch::async, run, collectors[kApi].first, collectors[kApi].second);
  auto nft = std::async(std::launch::async, run, collectors[kNft].first, collectors[kNft].second);
  std::vector<Collected> results(std::size(collectors));
  for (std::size_t i = 0; i < kApi; ++i)
    if (i != kNft) results[i] = run(collectors[i].first, collectors[i].second);
  results[kNft] = nft.get();
  results[kApi] = api.get();
  for (std::size_t i = 0; i < std::size(collectors); ++i) {
    const char* name = collectors[i].first;
    Collected& c = results[i];
    doc["collectors"][name] = to_json(c.report);
    doc[name] = std::move(c.data);
    if (c.report.status == CollectorStatus::ok) s.anything_collected = true;
  }
  auto t0 = std::chrono::steady_clock::now();
  s.snapshot.lower();
  if (timing)
    std::fprintf(stderr, "dockfw-audit: timing: lowering the snapshot %.1f ms\n",
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  return s;
}

}  // namespace dfa
