// dockfw-audit: the command table and option parsing over the libraries.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "cli/exit_codes.hpp"
#include "cli/summary.hpp"
#include "analyze/endpoint.hpp"
#include "analyze/engine.hpp"
#include "analyze/exposure.hpp"
#include "findings/report.hpp"
#include "collect/collect.hpp"
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
    cmd->add_option("--snapshot", o.snapshot, "Analyze this snapshot file instead of the live host");
  cmd->add_option_function<std::string>(
         "--daemon-config",
         [&o](const std::string& p) {
           o.collect.daemon_config = p;
           o.collect.daemon_config_explicit = true;
         },
         "daemon.json to read (default: the running dockerd's --config-file, else /etc/docker/daemon.json)");
  cmd->add_option("--docker-host", o.collect.docker_host,
                  "Docker API endpoint, unix:///PATH or tcp://HOST:PORT (default: $DOCKER_HOST, then "
                  "unix:///var/run/docker.sock)");
  cmd->add_option("--nftables-config", o.collect.nftables_config,
                  "System nftables configuration file to inspect")
      ->capture_default_str();
}

// Collects live and reports every collector that did not succeed.
CollectSummary collect_live(const CollectOptions& o) {
  CollectSummary s = collect_snapshot(o);
  for (auto name : kCollectors) {
    auto r = s.snapshot.collector(name);
    if (r.status != CollectorStatus::ok || !r.reason.empty())
      warn(fmt::format("{}: {}: {}", name, to_string(r.status), r.reason.empty() ? "-" : r.reason));
  }
  return s;
}

Result<Snapshot> obtain_snapshot(const LiveOptions& o, int& exit_code) {
  if (!o.snapshot.empty()) {
    auto s = load_snapshot(o.snapshot);
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
  return fn(*s);
}

struct Command {
  const char* name;
  const char* summary;
  std::function<std::function<int()>(CLI::App*)> setup;  // adds options, returns the runner
};

std::function<int()> setup_collect(CLI::App* cmd) {
  auto o = std::make_shared<LiveOptions>();
  auto out = std::make_shared<std::string>("-");
  auto strict = std::make_shared<bool>(false);
  auto pretty = std::make_shared<bool>(false);
  cmd->add_flag("--pretty", *pretty, "Indent the snapshot for reading (larger; default is one compact line)");
  cmd->add_option("-o,--output", *out, "Write the snapshot here ('-' for standard output)")->capture_default_str();
  cmd->add_flag("--strict", *strict,
                "Exit 3 when any collector was denied or failed (default: only when nothing could be collected)");
  add_live_options(cmd, *o, false);
  return [o, out, strict, pretty]() {
    // The snapshot of a large ruleset is millions of small nodes; freeing
    // them at exit would cost more than writing them. The process is about
    // to end, so it is kept alive (reachable, so not a leak) instead.
    static CollectSummary* kept = nullptr;
    kept = new CollectSummary(collect_live(o->collect));
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
    auto w = write_json_file(*out, c.snapshot.doc, *pretty ? 2 : -1);
    if (!w) {
      warn(w.error().message);
      return int(kExitOutputFailed);
    }
    return int(*strict && partial ? kExitCollectFailed : kExitOk);
  };
}

std::function<int()> setup_summary(CLI::App* cmd) {
  auto o = std::make_shared<LiveOptions>();
  add_live_options(cmd, *o, true);
  return [o]() {
    return with_snapshot(*o, [](const Snapshot& s) {
      std::fputs(render_summary(s).c_str(), stdout);
      return int(kExitOk);
    });
  };
}

std::function<int()> setup_explain(CLI::App* cmd) {
  auto o = std::make_shared<LiveOptions>();
  auto from = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  auto iif = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("text");
  cmd->add_option("--from", *from, "Source: an address (a remote host), host, host:ADDR, or container:NAME")->required();
  cmd->add_option("--to", *to, "Destination ADDR:PORT/PROTO, IPv6 as [ADDR]:PORT/PROTO (PROTO tcp or udp)")->required();
  cmd->add_option("--iif", *iif, "Interface a remote packet arrives on (default: from the routes)");
  cmd->add_option("--format", *format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  add_live_options(cmd, *o, true);
  return [o, from, to, iif, format]() {
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
        j["from"] = *from;
        j["to"] = *to;
        j.update(to_json(out));
        std::fputs(dump_json(j).c_str(), stdout);
      } else {
        std::printf("%s -> %s\n%s", from->c_str(), to->c_str(), render_text(out).c_str());
      }
      return int(kExitOk);
    });
  };
}

std::function<int()> setup_exposure(CLI::App* cmd) {
  auto o = std::make_shared<LiveOptions>();
  auto format = std::make_shared<std::string>("text");
  cmd->add_option("--format", *format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  add_live_options(cmd, *o, true);
  return [o, format]() {
    return with_snapshot(*o, [&](const Snapshot& s) {
      Engine engine(s);
      Exposure x = compute_exposure(engine);
      std::fputs(*format == "json" ? dump_json(to_json(x)).c_str() : render_text(x).c_str(), stdout);
      return int(kExitOk);
    });
  };
}

std::function<int()> setup_scan(CLI::App* cmd) {
  auto o = std::make_shared<LiveOptions>();
  auto format = std::make_shared<std::string>("text");
  auto out = std::make_shared<std::string>("-");
  auto fail_on = std::make_shared<std::string>("high");
  cmd->add_option("--format", *format, "text, json or sarif")->check(CLI::IsMember({"text", "json", "sarif"}))->capture_default_str();
  cmd->add_option("-o,--output", *out, "Write the report here ('-' for standard output)")->capture_default_str();
  cmd->add_option("--fail-on", *fail_on, "Exit 1 when a finding is at least this severe: none, low, medium, high, critical")
      ->check(CLI::IsMember({"none", "low", "medium", "high", "critical"}))
      ->capture_default_str();
  add_live_options(cmd, *o, true);
  return [o, format, out, fail_on]() {
    return with_snapshot(*o, [&](const Snapshot& s) {
      Engine engine(s);
      ScanResult r;
      r.exposure = compute_exposure(engine);
      r.findings = run_checks(engine, r.exposure);
      std::string text;
      if (*format == "json") text = dump_json(to_json(r));
      else if (*format == "sarif") text = dump_json(to_sarif(r));
      else text = render_text(r, *out == "-" && isatty(1) && !std::getenv("NO_COLOR"));
      auto w = write_text_file(*out, text);
      if (!w) {
        warn(w.error().message);
        return int(kExitOutputFailed);
      }
      Severity limit = *severity_from(*fail_on);
      return int(limit != Severity::none && highest(r.findings) >= limit ? kExitFindings : kExitOk);
    });
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
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, std::function<int()>>> runners;
  for (const auto& c : commands()) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    runners.emplace_back(sub, c.setup(sub));
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
  for (auto& [sub, run] : runners)
    if (sub->parsed()) return run();
  return kExitUsage;
}
