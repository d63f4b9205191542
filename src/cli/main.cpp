// dockfw-audit: the command table and option parsing over the libraries.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli/exit_codes.hpp"
#include "cli/docs_gen.hpp"
#include "cli/summary.hpp"
#include "analyze/endpoint.hpp"
#include "analyze/engine.hpp"
#include "analyze/exposure.hpp"
#include "findings/artifact.hpp"
#include "findings/graph.hpp"
#include "findings/html.hpp"
#include "findings/report.hpp"
#include "collect/collect.hpp"
#include "drift/baseline.hpp"
#include "drift/metrics.hpp"
#include "drift/suppress.hpp"
#include "remediate/guard.hpp"
#include "dfa/version.hpp"

namespace dfa {
namespace {

void warn(const std::string& msg) { std::fprintf(stderr, "dockfw-audit: %s\n", msg.c_str()); }

// Options shared by every command that can collect live.
struct LiveOptions {
  CollectOptions collect;
  std::string snapshot;  // when set: read this instead of collecting
};

void add_live_options(CLI::App* cmd, LiveOptions& o, bool with_snapshot) {
  if (with_snapshot)
    cmd->add_option("--snapshot", o.snapshot, "Analyze this snapshot file instead of the live host")->type_name("FILE");
  cmd->add_option_function<std::string>(
         "--daemon-config",
         [&o](const std::string& p) {
           o.collect.daemon_config = p;
           o.collect.daemon_config_explicit = true;
         },
         "daemon.json to read (default: the running dockerd's --config-file, else /etc/docker/daemon.json)")
      ->type_name("FILE");
  cmd->add_option("--docker-host", o.collect.docker_host,
                  "Docker API endpoint, unix:///PATH or tcp://HOST:PORT (default: $DOCKER_HOST, then "
                  "unix:///var/run/docker.sock)")->type_name("URL");
  cmd->add_option("--nftables-config", o.collect.nftables_config,
                  "System nftables configuration file to inspect")->type_name("FILE")
      ->capture_default_str();
  cmd->add_option("--ufw-dir", o.collect.ufw_dir, "ufw's configuration directory (ufw.conf, user.rules, user6.rules)")
      ->type_name("DIR")
      ->capture_default_str();
  cmd->add_option("--ufw-defaults", o.collect.ufw_defaults, "ufw's default policies file")
      ->type_name("FILE")
      ->capture_default_str();
  cmd->add_option("--firewalld-dir", o.collect.firewalld_dir,
                  "firewalld's configuration directory (firewalld.conf, zones/, policies/)")
      ->type_name("DIR")
      ->capture_default_str();
  cmd->add_option("--firewalld-system-dir", o.collect.firewalld_system_dir,
                  "firewalld's package directory (its zones/ and policies/)")
      ->type_name("DIR")
      ->capture_default_str();
}

// -v: notes as well as warnings on standard error; -q: neither, and no
// report on standard output; --color: auto (a terminal without NO_COLOR),
// always or never.
bool g_verbose = false;
bool g_quiet = false;
std::string g_color = "auto";

// Collects live and reports every collector that did not succeed. A part
// of the host that is simply not there (no iptables-legacy tables, the
// usual case) is a note, printed with -v only, so that cron and systemd
// runs stay quiet; a Docker part that is absent, denied or failed, and
// anything denied or failed, is a warning.
CollectSummary collect_live(const CollectOptions& o) {
  CollectSummary s = collect_snapshot(o);
  for (auto name : kCollectors) {
    auto r = s.snapshot.collector(name);
    if (r.status == CollectorStatus::ok && r.reason.empty()) continue;
    bool docker = std::string_view(name).substr(0, 6) == "docker";
    bool note = r.status == CollectorStatus::ok || (r.status == CollectorStatus::absent && !docker);
    if ((note && !g_verbose) || g_quiet) continue;
    warn(fmt::format("{}: {}: {}", name, to_string(r.status), r.reason.empty() ? "-" : r.reason));
  }
  return s;
}

// DFA_TIMING=1: what each phase of a command cost, on standard error
// (docs/benchmarks.md). Each call reports the time since the previous one.
void timing(const char* phase) {
  static const bool on = std::getenv("DFA_TIMING") != nullptr;
  static auto last = std::chrono::steady_clock::now();
  if (!on) return;
  auto now = std::chrono::steady_clock::now();
  // Resident memory now and at its peak so far, from /proc/self/status.
  long rss_kb = 0, peak_kb = 0;
  if (auto st = read_text_file("/proc/self/status")) {
    for (auto [key, kb] : {std::pair{"VmRSS:", &rss_kb}, {"VmHWM:", &peak_kb}})
      if (auto at = st->find(key); at != std::string::npos) *kb = std::strtol(st->c_str() + at + 6, nullptr, 10);
  }
  fmt::print(stderr, "dockfw-audit: timing: {} {:.1f} ms, resident {} MiB, peak {} MiB\n", phase,
             std::chrono::duration<double, std::milli>(now - last).count(), rss_kb / 1024, peak_kb / 1024);
  last = now;
}

Result<Snapshot> obtain_snapshot(const LiveOptions& o, int& exit_code) {
  timing("start");
  if (!o.snapshot.empty()) {
    auto s = load_snapshot(o.snapshot);
    timing("load snapshot");
    if (!s) exit_code = kExitUsage;
    return s;
  }
  CollectSummary c = collect_live(o.collect);
  if (!c.anything_collected) {
    exit_code = kExitCollectFailed;
    return Error{Error::Kind::io, "nothing could be collected"};
  }
  return std::move(c.snapshot);
}

// Runs fn on the snapshot the options name (or a live collection); a
// snapshot or collection that fails ends the command with its exit code.
int with_snapshot(const LiveOptions& o, const std::function<int(const Snapshot&)>& fn) {
  int code = kExitOk;
  auto s = obtain_snapshot(o, code);
  if (!s) {
    warn(s.error().message);
    return code;
  }
  // Kept alive to the end of the process, like collect's snapshot: freeing
  // a large one node by node costs more than the command that read it.
  static Snapshot* kept = nullptr;
  kept = new Snapshot(std::move(*s));
  return fn(*kept);
}

struct Command {
  const char* name;
  const char* summary;
  std::function<std::function<int()>(CLI::App*)> setup;  // adds options, returns the runner
};

// What --pretty means for a JSON document (the snapshot's, the reports').
int indent_of(bool pretty) { return pretty ? 2 : -1; }

std::function<int()> setup_collect(CLI::App* cmd) {
  auto o = std::make_shared<LiveOptions>();
  auto out = std::make_shared<std::string>("-");
  auto strict = std::make_shared<bool>(false);
  auto pretty = std::make_shared<bool>(false);
  cmd->add_flag("--pretty", *pretty, "Indent the snapshot for reading (larger; default is one compact line)");
  cmd->add_option("-o,--output", *out, "Write the snapshot here ('-' for standard output)")->type_name("FILE")->capture_default_str();
  cmd->add_flag("--strict", *strict,
                "Exit 3 when any collector was denied or failed (default: only when nothing could be collected)");
  add_live_options(cmd, *o, false);
  return [o, out, strict, pretty]() {
    // The snapshot of a large ruleset is millions of small nodes; freeing
    // them at exit would cost more than writing them. The process is about
    // to end, so it is kept alive (reachable, so not a leak) instead.
    static CollectSummary* kept = nullptr;
    timing("start");
    kept = new CollectSummary(collect_live(o->collect));
    timing("collect");
    CollectSummary& c = *kept;
    bool partial = false;
    for (auto name : kCollectors) {
      auto st = c.snapshot.collector(name).status;
      partial |= st == CollectorStatus::denied || st == CollectorStatus::error;
    }
    if (!c.anything_collected || (*strict && partial)) {
      warn(c.anything_collected ? "a collector was denied or failed (--strict)" : "nothing could be collected");
      if (!c.anything_collected) return int(kExitCollectFailed);
    }
    // With --strict the snapshot is still written: it shows what failed.
    auto w = write_json_file(*out, c.snapshot.doc, indent_of(*pretty));
    timing("output");
    if (!w) {
      warn(w.error().message);
      return int(kExitOutputFailed);
    }
    return int(*strict && partial ? kExitCollectFailed : kExitOk);
  };
}

// The exit code of a command that printed its result on standard output:
// a write that failed (a full disk, a closed pipe) is output not written.
int stdout_written() {
  if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return kExitOk;
  warn(fmt::format("standard output: write failed: {}", std::strerror(errno)));
  return kExitOutputFailed;
}

std::function<int()> setup_summary(CLI::App* cmd) {
  auto o = std::make_shared<LiveOptions>();
  add_live_options(cmd, *o, true);
  return [o]() {
    return with_snapshot(*o, [](const Snapshot& s) {
      std::fputs(render_summary(s).c_str(), stdout);
      return stdout_written();
    });
  };
}

// JSON reports are one compact line, as `nft -j` and `ip -j` write theirs
// (a large host's scan is a third smaller); --pretty indents them.
void add_pretty_flag(CLI::App* cmd, bool& pretty) {
  cmd->add_flag("--pretty", pretty, "Indent JSON and SARIF for reading (default: one compact line)");
}

std::function<int()> setup_explain(CLI::App* cmd) {
  auto o = std::make_shared<LiveOptions>();
  auto from = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  auto iif = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("text");
  cmd->add_option("--from", *from, "Source: an address (a remote host), host, host:ADDR, or container:NAME")->type_name("SOURCE")->required();
  cmd->add_option("--to", *to, "Destination ADDR:PORT/PROTO, IPv6 as [ADDR]:PORT/PROTO (PROTO tcp or udp)")->type_name("ADDR:PORT/PROTO")->required();
  cmd->add_option("--iif", *iif, "Interface a remote packet arrives on (default: from the routes)")->type_name("IFACE");
  cmd->add_option("--format", *format, "text, json, dot (Graphviz) or mermaid: a picture of the path, hooks as clusters")
      ->check(CLI::IsMember({"text", "json", "dot", "mermaid"}))
      ->capture_default_str();
  auto pretty = std::make_shared<bool>(false);
  add_pretty_flag(cmd, *pretty);
  add_live_options(cmd, *o, true);
  return [o, from, to, iif, format, pretty]() {
    auto src = parse_source(*from, *iif);
    if (!src) {
      warn(src.error().message);
      return int(kExitUsage);
    }
    auto dst = parse_destination(*to);
    if (!dst) {
      warn(dst.error().message);
      return int(kExitUsage);
    }
    if (src->kind == Source::Kind::remote && src->addr->family != dst->addr.family) {
      warn("--from and --to must be of the same address family");
      return int(kExitUsage);
    }
    return with_snapshot(*o, [&](const Snapshot& s) {
      Engine engine(s);
      if (src->kind == Source::Kind::container) {
        auto names = engine.container_names();
        if (std::find(names.begin(), names.end(), src->container) == names.end()) {
          warn(fmt::format("--from container:{}: no such container in the snapshot ({})", src->container,
                           names.empty() ? std::string("it has none") : fmt::format("{}", fmt::join(names, ", "))));
          return int(kExitUsage);
        }
      }
      Outcome out = engine.run(*src, dst->addr, dst->port, dst->proto);
      if (*format == "json") {
        Json j;
        j["schema_version"] = 1;
        j["tool"] = tool_json();
        j["host"] = host_json(s);
        j["from"] = *from;
        j["to"] = *to;
        j.update(to_json(out));
        std::fputs(dump_json(j, indent_of(*pretty)).c_str(), stdout);
      } else if (*format == "dot" || *format == "mermaid") {
        std::fputs(render_graph(out, *from, *to, *format == "dot" ? GraphFormat::dot : GraphFormat::mermaid).c_str(),
                   stdout);
      } else {
        std::printf("%s -> %s\n%s", from->c_str(), to->c_str(), render_text(out).c_str());
      }
      return stdout_written();
    });
  };
}

std::function<int()> setup_exposure(CLI::App* cmd) {
  auto o = std::make_shared<LiveOptions>();
  auto format = std::make_shared<std::string>("text");
  auto pretty = std::make_shared<bool>(false);
  cmd->add_option("--format", *format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  add_pretty_flag(cmd, *pretty);
  add_live_options(cmd, *o, true);
  return [o, format, pretty]() {
    return with_snapshot(*o, [&](const Snapshot& s) {
      // Both kept to the end of the process (see with_snapshot).
      static Engine* engine = nullptr;
      engine = new Engine(s);
      timing("engine");
      static Exposure* kept = nullptr;
      kept = new Exposure(compute_exposure(*engine));
      const Exposure& x = *kept;
      timing("exposure");
      if (*format == "json")
        write_json(
            x, [](std::string_view b) { std::fwrite(b.data(), 1, b.size(), stdout); }, *pretty,
            {{"tool", tool_json()}, {"host", host_json(s)}});
      else
        std::fputs(render_text(x).c_str(), stdout);
      int code = stdout_written();
      timing("output");
      return code;
    });
  };
}

// Options of the commands that report findings: scan and drift.
struct ReportOptions {
  std::string format = "text";
  std::string out = "-";
  std::string fail_on;
  std::string suppressions;
  std::string prometheus;
  std::string artifact;    // also write the host artifact here; SARIF points at its lines
  std::string sarif_root;  // SARIF URIs relative to this directory
  bool pretty = false;     // indented json and sarif (default: one compact line)
};

void add_report_options(CLI::App* cmd, ReportOptions& r, const char* fail_on_default) {
  r.fail_on = fail_on_default;
  cmd->add_option("--format", r.format,
                  "text, json, jsonl (one finding per line, for log shippers), sarif, or html (one self-contained page: "
                  "the exposure matrix, the findings and their paths)")
      ->check(CLI::IsMember({"text", "json", "jsonl", "sarif", "html"}))
      ->capture_default_str();
  cmd->add_option("-o,--output", r.out, "Write the report here ('-' for standard output)")->type_name("FILE")->capture_default_str();
  cmd->add_option("--fail-on", r.fail_on,
                  "Exit 1 when a finding is at least this severe: none, info, low, medium, high, critical")
      ->transform(CLI::IsMember({"none", "info", "low", "medium", "high", "critical"}, CLI::ignore_case))
      ->capture_default_str();
  cmd->add_option("--suppressions", r.suppressions,
                  "Accepted findings (docs/drift.md): reported as suppressed, not counted for the exit code")->type_name("FILE");
  cmd->add_option("--prometheus", r.prometheus,
                  "Also write node_exporter textfile metrics here (counts by severity, exposure, time of this run)")
      ->type_name("FILE");
  cmd->add_option("--artifact", r.artifact,
                  "Also write the host's rules and state here as text, one rule a line (nft listing, iptables-save, "
                  "Docker, sysctls): SARIF results point at its lines, for code scanning")
      ->type_name("FILE");
  cmd->add_option("--sarif-root", r.sarif_root,
                  "Write SARIF file locations relative to this directory, the repository's root (default: the "
                  "--artifact path as given, other files as absolute URIs)")
      ->type_name("DIR");
  add_pretty_flag(cmd, r.pretty);
}

// Applies --suppressions, writes the report and the metrics, and returns the
// exit code. `text` renders the text format (drift prints nothing when
// nothing changed). `host` (null when unknown) goes on every jsonl line.
int finish_report(const ReportOptions& o, const std::string& command, std::vector<Finding>& findings,
                  const Exposure& exposure, const std::function<std::string(bool pretty)>& json,
                  const std::function<std::string(bool colour)>& text, const Snapshot& snapshot,
                  const Json& host = Json(), const std::string& title = "") {
  if (!o.suppressions.empty()) {
    auto sup = load_suppressions(o.suppressions);
    if (!sup) {
      warn(sup.error().message);
      return int(kExitUsage);
    }
    apply_suppressions(findings, *sup, today_utc());
  }
  // The host artifact first: the SARIF points at its lines.
  std::optional<HostArtifact> artifact;
  if (!o.artifact.empty()) {
    artifact = make_host_artifact(snapshot, exposure);
    auto w = write_text_file(o.artifact, artifact->text);
    if (!w) {
      warn(w.error().message);
      return int(kExitOutputFailed);
    }
  }
  std::string body;
  if (o.format == "json") body = json(o.pretty);
  else if (o.format == "jsonl") {
    // One finding a line, each whole: what the command was and on which host
    // (not the whole JSON report, whose exposure can run to hundreds of MB).
    for (const auto& f : findings) {
      Json line = finding_json(f);
      line["command"] = command;
      if (!host.is_null()) line["host"] = host;
      body += dump_json(line, -1);
    }
  } else if (o.format == "sarif") {
    SarifPlaces places;
    if (artifact) {
      places.artifact = &*artifact;
      places.artifact_path = o.artifact;
    }
    if (!o.sarif_root.empty()) {
      // The root and the artifact (written above, so it exists) resolved
      // alike, so that one compares with the other ("../x" and links too).
      auto resolved = [](const std::string& path) -> std::optional<std::string> {
        char* real = realpath(path.c_str(), nullptr);
        if (!real) return std::nullopt;
        std::string r = real;
        std::free(real);
        return r;
      };
      auto root = resolved(o.sarif_root);
      if (!root) {
        warn(fmt::format("--sarif-root {}: {}", o.sarif_root, std::strerror(errno)));
        return int(kExitUsage);
      }
      places.root = *root;
      if (artifact)
        if (auto a = resolved(o.artifact)) places.artifact_path = *a;
    }
    body = dump_json(to_sarif(findings, places), indent_of(o.pretty));
  }
  else if (o.format == "html") {
    HtmlReport h;
    h.title = title.empty() ? "dockfw-audit " + command : title;
    h.noun = command == "drift" ? "Changes" : "Findings";
    if (snapshot.host) h.hostname = snapshot.host->hostname;
    h.collected_at = snapshot.doc.value("collected_at", "");
    h.findings = &findings;
    h.exposure = &exposure;
    body = render_html(h);
  } else
    body = text(g_color == "always" || (g_color == "auto" && o.out == "-" && isatty(1) && !std::getenv("NO_COLOR")));
  if (!(body.empty() && o.out == "-")) {
    auto w = write_text_file(o.out, body);
    if (!w) {
      warn(w.error().message);
      return int(kExitOutputFailed);
    }
  }
  if (!o.prometheus.empty()) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    auto w = write_text_file(o.prometheus, prometheus_text(command, findings, exposure, double(ts.tv_sec)));
    if (!w) {
      warn(w.error().message);
      return int(kExitOutputFailed);
    }
  }
  Severity limit = *severity_from(o.fail_on);
  return int(limit != Severity::none && highest(findings) >= limit ? kExitFindings : kExitOk);
}

std::function<int()> setup_scan(CLI::App* cmd) {
  auto o = std::make_shared<LiveOptions>();
  auto r = std::make_shared<ReportOptions>();
  add_report_options(cmd, *r, "high");
  add_live_options(cmd, *o, true);
  return [o, r]() {
    return with_snapshot(*o, [&](const Snapshot& s) {
      Engine engine(s);
      timing("engine");
      ScanResult res = run_scan(engine);
      timing("scan");
      int code = finish_report(
          *r, "scan", res.findings, res.exposure, [&](bool pretty) { return dump_scan_json(res, pretty); },
          [&](bool colour) { return render_text(res, colour); }, s, host_json(res));
      timing("output");
      return code;
    });
  };
}

std::function<int()> setup_baseline(CLI::App* cmd) {
  auto o = std::make_shared<LiveOptions>();
  auto file = std::make_shared<std::string>();
  cmd->require_subcommand(1);
  CLI::App* save = cmd->add_subcommand("save", "Record what drift compares: exposure, findings, rules, Docker, sysctls");
  save->add_option("FILE", *file, "Where to write the baseline ('-' for standard output)")->required();
  add_live_options(save, *o, true);
  return [o, file]() {
    return with_snapshot(*o, [&](const Snapshot& s) {
      Engine engine(s);
      timing("engine");
      ScanResult res = run_scan(engine);
      timing("scan");
      Baseline b = make_baseline(engine, res);
      timing("baseline");
      auto w = write_text_file(*file, baseline_text(b));  // a file for drift, compact as the snapshot
      timing("output");
      if (!w) {
        warn(w.error().message);
        return int(kExitOutputFailed);
      }
      return int(kExitOk);
    });
  };
}

std::function<int()> setup_drift(CLI::App* cmd) {
  auto o = std::make_shared<LiveOptions>();
  auto r = std::make_shared<ReportOptions>();
  auto baseline = std::make_shared<std::string>();
  cmd->add_option("--baseline", *baseline, "The baseline to compare with (from dockfw-audit baseline save)")->type_name("FILE")->required();
  add_report_options(cmd, *r, "info");
  add_live_options(cmd, *o, true);
  return [o, r, baseline]() {
    // The baseline first: a broken one must not cost a collection.
    auto base = load_baseline(*baseline);
    if (!base) {
      warn(base.error().message);
      return int(kExitUsage);
    }
    return with_snapshot(*o, [&](const Snapshot& s) {
      Engine engine(s);
      timing("engine");
      ScanResult now = run_scan(engine);
      timing("scan");
      Baseline now_base = make_baseline(engine, now);
      timing("baseline");
      std::vector<Finding> changes = compare_baselines(*base, now_base, now.findings);
      timing("compare");
      auto json = [&] {
        Json j;
        j["schema_version"] = 2;  // 2: paths as indexes into steps
        j["kind"] = "drift";
        j["tool"] = tool_json();
        j["host"] = host_json(s);
        j["baseline"] = {{"path", *baseline}, {"snapshot_collected_at", base->snapshot_collected_at}};
        j["snapshot_collected_at"] = s.doc.value("collected_at", "");
        j["summary"] = severity_summary(changes, "changes");
        add_findings_json(j, "changes", changes);
        return j;
      };
      std::string title =
          fmt::format("dockfw-audit drift since the baseline of {}",
                      base->snapshot_collected_at.empty() ? "?" : base->snapshot_collected_at);
      auto text = [&](bool colour) {
        bool any = std::any_of(changes.begin(), changes.end(), [](const Finding& f) { return !f.is_suppressed(); });
        if (!any) return std::string();  // quiet when nothing changed: cron mails only on change
        return render_findings_text(title, changes, colour, "change");
      };
      int code = finish_report(*r, "drift", changes, now.exposure, [&](bool pretty) { return dump_json(json(), indent_of(pretty)); }, text, s, Json(), title);
      timing("output");
      return code;
    });
  };
}

std::function<int()> setup_remediate(CLI::App* cmd) {
  auto o = std::make_shared<LiveOptions>();
  auto style = std::make_shared<std::string>("guard");
  auto policy_file = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>("-");
  cmd->add_option("--style", *style,
                  "guard: a table of its own in front of Docker's rules; owner: NAT, isolation and protection for "
                  "Docker with \"iptables\": false; ufw, firewalld: the guard's rules in DOCKER-USER, as lines for ufw's "
                  "after.rules or as firewall-cmd direct rules")
      ->check(CLI::IsMember({"guard", "owner", "ufw", "firewalld"}))
      ->capture_default_str();
  cmd->add_option("--policy", *policy_file,
                  "Intended exposure (docs/remediate.md); default: inferred from the host's own filter rules")->type_name("FILE");
  cmd->add_option("-o,--output", *out, "Write the script here (nftables; ufw's file blocks or firewall-cmd commands with those styles) ('-' for standard output)")->type_name("FILE")->capture_default_str();
  add_live_options(cmd, *o, true);
  return [o, style, policy_file, out]() {
    GuardPolicy policy;
    if (!policy_file->empty()) {
      auto p = load_guard_policy(*policy_file);
      if (!p) {
        warn(p.error().message);
        return int(kExitUsage);
      }
      policy = std::move(*p);
    }
    return with_snapshot(*o, [&](const Snapshot& s) {
      Engine engine(s);
      timing("engine");
      ScanResult before = run_scan(engine, true);
      timing("scan");
      Remediation rem;
      if (*style != "guard") {
        auto r = *style == "owner" ? make_owner(engine, before.exposure, policy)
                 : *style == "ufw" ? make_ufw(engine, before.exposure, policy)
                                   : make_firewalld(engine, before.exposure, policy);
        if (!r) {
          warn(r.error().message);
          return int(kExitUsage);
        }
        rem = std::move(*r);
      } else {
        rem = make_guard(engine, before.exposure, policy);
      }
      timing("guard");
      Verification v = verify_guard(engine, before, rem);
      timing("proof");
      auto w = write_text_file(*out, rem.script + v.report);
      timing("output");
      if (!w) {
        warn(w.error().message);
        return int(kExitOutputFailed);
      }
      int holes_after = v.holes_after;
      if (holes_after) warn(fmt::format("{} hole(s) remain with the guard loaded (listed at the end of the script)", holes_after));
      // Uncertain is never closed: a hole that might remain fails the run too.
      if (v.uncertain_after)
        warn(fmt::format("{} published port(s) are not proven closed with the guard loaded: the analysis is uncertain "
                         "(listed at the end of the script)",
                         v.uncertain_after));
      if (v.egress_cut)
        warn(fmt::format("the table would cut {} container connection(s) to outside hosts (listed at the end of the script)",
                         v.egress_cut));
      return int(holes_after || v.uncertain_after || v.egress_cut ? kExitFindings : kExitOk);
    });
  };
}

std::function<int()> setup_completion(CLI::App* cmd) {
  auto shell = std::make_shared<std::string>();
  cmd->add_option("SHELL", *shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  CLI::App* app = cmd->get_parent();
  return [shell, app]() {
    std::fputs((*shell == "bash" ? bash_completion(*app) : zsh_completion(*app)).c_str(), stdout);
    return stdout_written();
  };
}

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"scan", "Find what is wrong: exposure, bypassed filters, risky settings; text, JSON or SARIF, exit 1 at --fail-on",
       setup_scan},
      {"collect", "Read the live host (nftables, iptables-legacy, Docker, routes, sockets) into a snapshot file",
       setup_collect},
      {"summary", "Summarize a snapshot (or the live host): collectors, DNAT rules, containers, sockets",
       setup_summary},
      {"explain", "Trace one packet through the host's netfilter path, hook by hook, and say where it ends",
       setup_explain},
      {"exposure", "For every published port and host socket: which sources reach it, and which rule decides",
       setup_exposure},
      {"baseline", "Save a baseline of what is reachable and how the host is configured (baseline save FILE)",
       setup_baseline},
      {"drift", "Compare the host with a baseline: new exposure, rules, Docker and sysctl changes; quiet when none",
       setup_drift},
      {"remediate", "Write an nftables table that closes the holes scan finds, verified on the snapshot first",
       setup_remediate},
      {"completion", "Print a completion script: source <(dockfw-audit completion bash), or zsh's fpath",
       setup_completion},
  };
  return table;
}

}  // namespace
}  // namespace dfa

int main(int argc, char** argv) {
  using namespace dfa;
  // A large ruleset means millions of small JSON nodes allocated and freed in
  // bursts; glibc's fastbins then spend more time consolidating than
  // allocating (measured: bench/collect_bench.sh, docs/benchmarks.md).
  mallopt(M_MXFAST, 0);
  CLI::App app{"dockfw-audit: which Docker container ports and host sockets are reachable, from where, "
               "and which firewall rule decides.\nExit codes: 0 ok, 1 findings, 2 usage or input error, "
               "3 collection failed, 4 output not written."};
  app.set_version_flag("--version", fmt::format("dockfw-audit {}", kVersion));
  app.add_flag("-v,--verbose", g_verbose, "Also print notes (collectors that found nothing to read) on standard error");
  app.add_flag("-q,--quiet", g_quiet,
               "Print no report on standard output and no collector warnings: the exit code is the answer "
               "(files named with -o are still written; errors are still printed)");
  app.add_option("--color", g_color, "Colour in text reports: auto (a terminal, and NO_COLOR unset), always or never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  app.fallthrough();  // -v after the command too
  app.require_subcommand(1);
  // A mistyped command gets its name said back, and the nearest command.
  if (argc > 1 && argv[1][0] != '-') {
    std::string_view word = argv[1];
    const Command* nearest = nullptr;
    std::size_t best = 3;  // at most two edits away
    auto distance = [](std::string_view a, std::string_view b) {
      std::vector<std::size_t> d(b.size() + 1);
      for (std::size_t j = 0; j <= b.size(); ++j) d[j] = j;
      for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = d[0];
        d[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
          std::size_t up = d[j];
          d[j] = std::min({d[j] + 1, d[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
          diag = up;
        }
      }
      return d[b.size()];
    };
    bool known = false;
    std::string names;
    for (const auto& c : commands()) {
      known |= word == c.name;
      names += fmt::format("{}{}", names.empty() ? "" : ", ", c.name);
      if (std::size_t dist = distance(word, c.name); dist < best) {
        best = dist;
        nearest = &c;
      }
    }
    if (!known) {
      std::fprintf(stderr, "dockfw-audit: unknown command \"%.*s\"%s; the commands are: %s (--help)\n",
                   static_cast<int>(word.size()), word.data(),
                   nearest ? fmt::format(" (did you mean \"{}\"?)", nearest->name).c_str() : "", names.c_str());
      return kExitUsage;
    }
  }
  std::vector<std::pair<CLI::App*, std::function<int()>>> runners;
  for (const auto& c : commands()) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    runners.emplace_back(sub, c.setup(sub));
  }
  // The man page, from this same table (the build writes dockfw-audit.8).
  // The snapshot's JSON Schema, from the shapes the reader checks
  // (docs/schemas/snapshot.schema.json is this output; a test compares).
  if (argc == 2 && std::string_view(argv[1]) == "--snapshot-schema") {
    std::fputs(dump_json(snapshot_json_schema(), 2).c_str(), stdout);
    return stdout_written();
  }
  if (argc == 3 && std::string_view(argv[1]) == "--man-page") {
    std::fputs(man_page(app, kVersion, argv[2]).c_str(), stdout);
    return stdout_written();
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  // Quiet: standard output goes nowhere, whatever writes to it.
  if (g_quiet && !std::freopen("/dev/null", "w", stdout)) {
    warn(fmt::format("-q: cannot open /dev/null: {}", std::strerror(errno)));
    return kExitOutputFailed;
  }
  for (auto& [sub, run] : runners)
    if (sub->parsed()) {
      // The last net, not the design: inputs are checked where they are
      // read (snapshot shapes, rules the compiler cannot read become
      // uncertain), so reaching this is a defect. Still an input the tool
      // could not analyze, with the documented exit code, never an abort.
      try {
        return run();
      } catch (const std::exception& e) {
        std::fprintf(stderr,
                     "dockfw-audit: cannot analyze this input: %s (a defect of dockfw-audit: please report it "
                     "with the input)\n",
                     e.what());
        return kExitUsage;
      }
    }
  return kExitUsage;
}
