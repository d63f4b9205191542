// Docker's configuration as the running daemon sees it: the flags of the
// dockerd in our network namespace, and the daemon.json it reads.
#include <dirent.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "collect/collect.hpp"
#include "collect/daemon_json.hpp"
#include "collect/proc_parse.hpp"

namespace dfa {
namespace {

ino_t netns_inode(const std::string& pid) {
  struct stat st {};
  if (stat(fmt::format("/proc/{}/ns/net", pid).c_str(), &st) != 0) return 0;
  return st.st_ino;
}

// The parent of a process (the fourth field of /proc/PID/stat, after the
// command in parentheses, which may itself hold spaces and parentheses); 0
// when unknown.
int parent_pid(int pid) {
  auto stat = read_text_file(fmt::format("/proc/{}/stat", pid));
  if (!stat) return 0;
  auto close = (*stat).rfind(')');
  if (close == std::string::npos) return 0;
  char state = 0;
  int ppid = 0;
  return std::sscanf((*stat).c_str() + close + 1, " %c %d", &state, &ppid) == 2 ? ppid : 0;
}

struct Dockerd {
  int pid = 0;
  std::vector<std::string> argv;
  int candidates = 0;  // dockerd processes in our namespace
  int elsewhere = 0;   // dockerd processes in other namespaces (ignored)
};

Dockerd find_dockerd() {
  Dockerd d;
  ino_t self = netns_inode("self");
  std::unique_ptr<DIR, int (*)(DIR*)> proc(opendir("/proc"), closedir);
  if (!proc) return d;
  std::vector<int> pids;
  while (dirent* e = readdir(proc.get())) {
    if (!std::all_of(e->d_name, e->d_name + std::strlen(e->d_name), ::isdigit)) continue;
    auto comm = read_trimmed(fmt::format("/proc/{}/comm", e->d_name));
    if (!comm || *comm != "dockerd") continue;
    if (netns_inode(e->d_name) != self || self == 0) {
      ++d.elsewhere;
      continue;
    }
    pids.push_back(std::atoi(e->d_name));
  }
  std::sort(pids.begin(), pids.end());
  // dockerd forks to run other programs (`runc --version` while it answers
  // the API, which collect asks at the same time): between fork and exec the
  // child is a "dockerd" too, and by the time its command line is read it
  // may be runc's. A daemon is a "dockerd" whose command line still starts
  // with dockerd and whose parent is not one of them.
  std::vector<std::pair<int, std::vector<std::string>>> daemons;
  for (int pid : pids) {
    auto raw = read_text_file(fmt::format("/proc/{}/cmdline", pid));
    if (!raw) continue;
    std::vector<std::string> argv = split_cmdline(*raw);
    if (argv.empty() || argv[0].substr(argv[0].rfind('/') + 1) != "dockerd") continue;
    if (std::binary_search(pids.begin(), pids.end(), parent_pid(pid))) continue;
    daemons.emplace_back(pid, std::move(argv));
  }
  d.candidates = static_cast<int>(daemons.size());
  if (!daemons.empty()) {
    d.pid = daemons.front().first;
    d.argv = std::move(daemons.front().second);
  }
  return d;
}

}  // namespace

Collected collect_docker_config(const CollectOptions& o) {
  Json data;
  Dockerd d = find_dockerd();
  if (d.pid) {
    Json dj = parse_dockerd_flags(d.argv);
    dj["pid"] = d.pid;
    dj["candidates"] = d.candidates;
    data["dockerd"] = std::move(dj);
  } else {
    data["dockerd"] = nullptr;
  }
  data["dockerd_in_other_namespaces"] = d.elsewhere;

  std::string path = o.daemon_config, source = o.daemon_config_explicit ? "option" : "default";
  if (!o.daemon_config_explicit && d.pid) {
    const Json& flags = data["dockerd"]["flags"];
    if (flags.contains("config-file") && !flags["config-file"].empty()) {
      path = flags["config-file"].back().get<std::string>();
      source = "dockerd --config-file";
    }
  }
  Json dj;
  dj["path"] = path;
  dj["source"] = source;
  CollectorReport rep;
  auto text = read_input_file(path, kMaxConfigBytes);
  if (!text) {
    dj["present"] = false;
    if (text.error().kind == Error::Kind::absent) {
      // No daemon.json: Docker runs on its defaults. Not an error.
      if (o.daemon_config_explicit) {
        rep = {CollectorStatus::error, text.error().message};
      } else if (!d.pid) {
        rep = {CollectorStatus::absent, fmt::format("no dockerd in this network namespace and no {}", path)};
      }
    } else {
      rep = {text.error().kind == Error::Kind::denied ? CollectorStatus::denied : CollectorStatus::error,
             text.error().message};
    }
  } else {
    dj["present"] = true;
    auto parsed = parse_daemon_json(*text, path);
    if (!parsed) {
      dj["error"] = parsed.error().message;
      rep = {CollectorStatus::error, parsed.error().message};
    } else {
      dj["content"] = (*parsed)["content"];
      dj["key_lines"] = (*parsed)["key_lines"];
    }
  }
  data["daemon_json"] = std::move(dj);
  return {rep, std::move(data)};
}

}  // namespace dfa
