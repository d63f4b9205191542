// Docker's configuration as the running daemon sees it: the flags of the
// dockerd in our network namespace, and the daemon.json it reads.
#include <dirent.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
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
  d.candidates = static_cast<int>(pids.size());
  if (!pids.empty()) {
    d.pid = pids.front();
    auto raw = read_text_file(fmt::format("/proc/{}/cmdline", d.pid));
    if (raw) d.argv = split_cmdline(*raw);
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
