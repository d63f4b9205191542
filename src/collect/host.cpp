// The host as the routing decision sees it: interfaces and addresses, IPv4
// and IPv6 routes in every table (the local table decides what is "local"),
// policy rules, the sysctls that gate forwarding and loopback routing,
// listening sockets with their processes (docker-proxy matters), and the
// system nftables configuration file. Everything is read in the collector's
// own network namespace: netlink and /proc/net, /proc/sys/net are per netns.
#include <arpa/inet.h>
#include <dirent.h>
#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <linux/rtnetlink.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <memory>

#include "collect/collect.hpp"
#include "collect/proc_parse.hpp"

namespace dfa {
namespace {

using AttrMap = std::map<int, const nlattr*>;

// One rtnetlink dump; fn sees every message. Returns an error message or "".
std::string rtnl_dump(int type, int family, std::size_t hdr_len, const std::function<void(const nlmsghdr*)>& fn) {
  std::unique_ptr<mnl_socket, int (*)(mnl_socket*)> nl(mnl_socket_open(NETLINK_ROUTE), mnl_socket_close);
  if (!nl) return fmt::format("netlink: {}", std::strerror(errno));
  if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) return fmt::format("netlink bind: {}", std::strerror(errno));
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 4);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = static_cast<uint16_t>(type);
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = static_cast<uint32_t>(time(nullptr));
  auto* gen = static_cast<rtgenmsg*>(mnl_nlmsg_put_extra_header(nlh, hdr_len));
  gen->rtgen_family = static_cast<unsigned char>(family);
  unsigned portid = mnl_socket_get_portid(nl.get());
  if (mnl_socket_sendto(nl.get(), nlh, nlh->nlmsg_len) < 0) return fmt::format("netlink send: {}", std::strerror(errno));
  struct Ctx {
    const std::function<void(const nlmsghdr*)>* fn;
  } ctx{&fn};
  auto cb = [](const nlmsghdr* n, void* d) -> int {
    (*static_cast<Ctx*>(d)->fn)(n);
    return MNL_CB_OK;
  };
  uint32_t seq = nlh->nlmsg_seq;
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl.get(), buf.data(), buf.size());
    if (n <= 0) return n < 0 ? fmt::format("netlink recv: {}", std::strerror(errno)) : "";
    int r = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid, cb, &ctx);
    if (r < 0) return fmt::format("netlink dump: {}", std::strerror(errno));
    if (r == MNL_CB_STOP) return "";
  }
}

AttrMap attrs(const nlmsghdr* nlh, std::size_t hdr_len) {
  AttrMap m;
  auto cb = [](const nlattr* a, void* d) -> int {
    (*static_cast<AttrMap*>(d))[mnl_attr_get_type(a)] = a;
    return MNL_CB_OK;
  };
  mnl_attr_parse(nlh, static_cast<unsigned>(hdr_len), cb, &m);
  return m;
}

std::string addr_text(int family, const nlattr* a) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (a) inet_ntop(family, mnl_attr_get_payload(a), buf, sizeof buf);
  return buf;
}

std::string route_type(unsigned t) {
  switch (t) {
    case RTN_UNICAST: return "unicast";
    case RTN_LOCAL: return "local";
    case RTN_BROADCAST: return "broadcast";
    case RTN_ANYCAST: return "anycast";
    case RTN_MULTICAST: return "multicast";
    case RTN_BLACKHOLE: return "blackhole";
    case RTN_UNREACHABLE: return "unreachable";
    case RTN_PROHIBIT: return "prohibit";
    case RTN_THROW: return "throw";
    case RTN_NAT: return "nat";
  }
  return std::to_string(t);
}

std::string table_name(unsigned t) {
  switch (t) {
    case RT_TABLE_LOCAL: return "local";
    case RT_TABLE_MAIN: return "main";
    case RT_TABLE_DEFAULT: return "default";
  }
  return std::to_string(t);
}

struct Links {
  Json list = Json::array();
  std::map<int, std::string> names;
};

std::string read_links(Links& out) {
  std::vector<std::pair<int, Json>> rows;
  auto err = rtnl_dump(RTM_GETLINK, AF_UNSPEC, sizeof(ifinfomsg), [&](const nlmsghdr* n) {
    if (n->nlmsg_type != RTM_NEWLINK) return;
    auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(n));
    AttrMap a = attrs(n, sizeof *ifi);
    Json j;
    j["index"] = ifi->ifi_index;
    j["name"] = a.count(IFLA_IFNAME) ? mnl_attr_get_str(a[IFLA_IFNAME]) : "";
    j["up"] = (ifi->ifi_flags & IFF_UP) != 0;
    j["loopback"] = (ifi->ifi_flags & IFF_LOOPBACK) != 0;
    std::string kind;
    if (a.count(IFLA_LINKINFO)) {
      AttrMap li;
      mnl_attr_parse_nested(a[IFLA_LINKINFO], [](const nlattr* x, void* d) -> int {
        (*static_cast<AttrMap*>(d))[mnl_attr_get_type(x)] = x;
        return MNL_CB_OK;
      }, &li);
      if (li.count(IFLA_INFO_KIND)) kind = mnl_attr_get_str(li[IFLA_INFO_KIND]);
    }
    j["kind"] = kind;
    j["master_index"] = a.count(IFLA_MASTER) ? Json(mnl_attr_get_u32(a[IFLA_MASTER])) : Json(nullptr);
    j["addresses"] = Json::array();
    out.names[ifi->ifi_index] = j["name"];
    rows.emplace_back(ifi->ifi_index, std::move(j));
  });
  // Bridge ports: whether the bridge may send a frame back out of the port it
  // came in on (hairpin mode). Docker turns it on when the userland proxy is
  // off, so that a container reaches its own published port through NAT.
  std::map<int, bool> hairpin;
  if (err.empty())
    err = rtnl_dump(RTM_GETLINK, AF_BRIDGE, sizeof(ifinfomsg), [&](const nlmsghdr* n) {
      if (n->nlmsg_type != RTM_NEWLINK) return;
      auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(n));
      AttrMap a = attrs(n, sizeof *ifi);
      if (!a.count(IFLA_PROTINFO)) return;
      AttrMap pi;
      mnl_attr_parse_nested(a[IFLA_PROTINFO], [](const nlattr* x, void* d) -> int {
        (*static_cast<AttrMap*>(d))[mnl_attr_get_type(x)] = x;
        return MNL_CB_OK;
      }, &pi);
      if (pi.count(IFLA_BRPORT_MODE)) hairpin[ifi->ifi_index] = mnl_attr_get_u8(pi[IFLA_BRPORT_MODE]) != 0;
    });
  std::sort(rows.begin(), rows.end(), [](auto& x, auto& y) { return x.first < y.first; });
  for (auto& [idx, j] : rows) {
    if (auto h = hairpin.find(idx); h != hairpin.end()) j["hairpin"] = h->second;
    if (!j["master_index"].is_null()) {
      auto it = out.names.find(j["master_index"].get<int>());
      j["master"] = it == out.names.end() ? "" : it->second;
    } else {
      j["master"] = "";
    }
    j.erase("master_index");
    out.list.push_back(std::move(j));
  }
  return err;
}

std::string read_addresses(Links& links) {
  return rtnl_dump(RTM_GETADDR, AF_UNSPEC, sizeof(ifaddrmsg), [&](const nlmsghdr* n) {
    if (n->nlmsg_type != RTM_NEWADDR) return;
    auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(n));
    AttrMap a = attrs(n, sizeof *ifa);
    const nlattr* addr = a.count(IFA_LOCAL) ? a[IFA_LOCAL] : (a.count(IFA_ADDRESS) ? a[IFA_ADDRESS] : nullptr);
    if (!addr) return;
    Json j;
    j["family"] = ifa->ifa_family == AF_INET6 ? 6 : 4;
    j["address"] = addr_text(ifa->ifa_family, addr);
    j["prefix_len"] = ifa->ifa_prefixlen;
    j["scope"] = ifa->ifa_scope == RT_SCOPE_HOST ? "host" : ifa->ifa_scope == RT_SCOPE_LINK ? "link" : "global";
    for (auto& l : links.list)
      if (l["index"] == static_cast<int>(ifa->ifa_index)) l["addresses"].push_back(std::move(j));
  });
}

std::string read_routes(int family, const std::map<int, std::string>& names, Json& out) {
  return rtnl_dump(RTM_GETROUTE, family, sizeof(rtmsg), [&](const nlmsghdr* n) {
    if (n->nlmsg_type != RTM_NEWROUTE) return;
    auto* rt = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(n));
    if (rt->rtm_family != family) return;
    AttrMap a = attrs(n, sizeof *rt);
    unsigned table = a.count(RTA_TABLE) ? mnl_attr_get_u32(a[RTA_TABLE]) : rt->rtm_table;
    Json j;
    j["family"] = family == AF_INET6 ? 6 : 4;
    j["table"] = table_name(table);
    j["type"] = route_type(rt->rtm_type);
    std::string dst = a.count(RTA_DST) ? addr_text(family, a[RTA_DST]) : (family == AF_INET6 ? "::" : "0.0.0.0");
    j["dst"] = fmt::format("{}/{}", dst, rt->rtm_dst_len);
    j["gateway"] = a.count(RTA_GATEWAY) ? addr_text(family, a[RTA_GATEWAY]) : "";
    int oif = a.count(RTA_OIF) ? static_cast<int>(mnl_attr_get_u32(a[RTA_OIF])) : 0;
    auto it = names.find(oif);
    j["dev"] = it == names.end() ? "" : it->second;
    j["prefsrc"] = a.count(RTA_PREFSRC) ? addr_text(family, a[RTA_PREFSRC]) : "";
    j["metric"] = a.count(RTA_PRIORITY) ? mnl_attr_get_u32(a[RTA_PRIORITY]) : 0;
    out.push_back(std::move(j));
  });
}

std::string read_policy_rules(int family, Json& out) {
  return rtnl_dump(RTM_GETRULE, family, sizeof(fib_rule_hdr), [&](const nlmsghdr* n) {
    if (n->nlmsg_type != RTM_NEWRULE) return;
    auto* fr = static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(n));
    AttrMap a = attrs(n, sizeof *fr);
    Json j;
    j["family"] = family == AF_INET6 ? 6 : 4;
    j["priority"] = a.count(FRA_PRIORITY) ? mnl_attr_get_u32(a[FRA_PRIORITY]) : 0;
    unsigned table = a.count(FRA_TABLE) ? mnl_attr_get_u32(a[FRA_TABLE]) : fr->table;
    j["table"] = table_name(table);
    j["action"] = fr->action == FR_ACT_TO_TBL      ? "lookup"
                  : fr->action == FR_ACT_BLACKHOLE   ? "blackhole"
                  : fr->action == FR_ACT_UNREACHABLE ? "unreachable"
                  : fr->action == FR_ACT_PROHIBIT    ? "prohibit"
                  : fr->action == FR_ACT_GOTO        ? "goto"
                  : fr->action == FR_ACT_NOP         ? "nop"
                                                     : std::to_string(fr->action);
    j["src"] = a.count(FRA_SRC) ? fmt::format("{}/{}", addr_text(family, a[FRA_SRC]), fr->src_len) : "";
    j["dst"] = a.count(FRA_DST) ? fmt::format("{}/{}", addr_text(family, a[FRA_DST]), fr->dst_len) : "";
    j["iif"] = a.count(FRA_IIFNAME) ? mnl_attr_get_str(a[FRA_IIFNAME]) : "";
    j["oif"] = a.count(FRA_OIFNAME) ? mnl_attr_get_str(a[FRA_OIFNAME]) : "";
    j["fwmark"] = a.count(FRA_FWMARK) ? mnl_attr_get_u32(a[FRA_FWMARK]) : 0;
    j["fwmask"] = a.count(FRA_FWMASK) ? mnl_attr_get_u32(a[FRA_FWMASK]) : (a.count(FRA_FWMARK) ? 0xffffffffu : 0u);
    j["invert"] = (fr->flags & FIB_RULE_INVERT) != 0;
    // Selectors and actions the analysis does not model: it says uncertain
    // where such a rule could apply, rather than read it as "from all".
    Json other = Json::array();
    if (fr->tos) other.push_back("tos");
    if (a.count(FRA_UID_RANGE)) other.push_back("uidrange");
    if (a.count(FRA_IP_PROTO)) other.push_back("ipproto");
    if (a.count(FRA_SPORT_RANGE)) other.push_back("sport");
    if (a.count(FRA_DPORT_RANGE)) other.push_back("dport");
    if (a.count(FRA_L3MDEV)) other.push_back("l3mdev");
    if (a.count(FRA_TUN_ID)) other.push_back("tun_id");
    if (a.count(FRA_SUPPRESS_PREFIXLEN) && mnl_attr_get_u32(a[FRA_SUPPRESS_PREFIXLEN]) != 0xffffffffu)
      other.push_back("suppress_prefixlength");
    if (a.count(FRA_SUPPRESS_IFGROUP) && mnl_attr_get_u32(a[FRA_SUPPRESS_IFGROUP]) != 0xffffffffu)
      other.push_back("suppress_ifgroup");
    j["unmodeled"] = std::move(other);
    out.push_back(std::move(j));
  });
}

Json read_sysctls(const Json& links) {
  Json s = Json::object();
  auto put = [&](const std::string& key) {
    auto v = read_trimmed("/proc/sys/" + key);
    s[key] = v ? Json(*v) : Json(nullptr);  // null: not present in this kernel or netns
  };
  put("net/ipv4/ip_forward");
  put("net/ipv6/conf/all/forwarding");
  put("net/ipv6/conf/all/disable_ipv6");
  put("net/ipv4/conf/all/route_localnet");
  put("net/ipv4/conf/all/rp_filter");
  put("net/bridge/bridge-nf-call-iptables");
  put("net/bridge/bridge-nf-call-ip6tables");
  for (const auto& l : links) {
    std::string n = l["name"];
    put(fmt::format("net/ipv4/conf/{}/route_localnet", n));
    put(fmt::format("net/ipv4/conf/{}/forwarding", n));
    put(fmt::format("net/ipv4/conf/{}/rp_filter", n));
    put(fmt::format("net/ipv6/conf/{}/forwarding", n));
    put(fmt::format("net/ipv6/conf/{}/disable_ipv6", n));
  }
  return s;
}

// inode -> IPV6_V6ONLY of every listening TCP and unconnected UDP IPv6
// socket, from sock_diag (INET_DIAG_SKV6ONLY): /proc/net/tcp6 does not carry
// the flag, and whether [::]:P takes IPv4 too depends on it (docker-proxy
// sets it for its [::] sockets since Docker 28). Returns an error or "".
std::string v6only_by_inode(std::map<unsigned long, bool>& out) {
  std::unique_ptr<mnl_socket, int (*)(mnl_socket*)> nl(mnl_socket_open(NETLINK_SOCK_DIAG), mnl_socket_close);
  if (!nl) return fmt::format("sock_diag: {}", std::strerror(errno));
  if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) return fmt::format("sock_diag bind: {}", std::strerror(errno));
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 4);
  for (int proto : {IPPROTO_TCP, IPPROTO_UDP}) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = static_cast<uint32_t>(time(nullptr)) + static_cast<uint32_t>(proto);
    auto* req = static_cast<inet_diag_req_v2*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
    req->sdiag_family = AF_INET6;
    req->sdiag_protocol = static_cast<uint8_t>(proto);
    // TCP: listening (state 10); UDP: unconnected sockets are in state 7 (close).
    req->idiag_states = proto == IPPROTO_TCP ? (1u << 10) : (1u << 7);
    unsigned portid = mnl_socket_get_portid(nl.get());
    if (mnl_socket_sendto(nl.get(), nlh, nlh->nlmsg_len) < 0) return fmt::format("sock_diag send: {}", std::strerror(errno));
    auto cb = [](const nlmsghdr* n, void* d) -> int {
      if (n->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) return MNL_CB_OK;
      const auto* m = static_cast<const inet_diag_msg*>(mnl_nlmsg_get_payload(n));
      AttrMap a = attrs(n, sizeof(inet_diag_msg));
      if (auto it = a.find(INET_DIAG_SKV6ONLY); it != a.end() && mnl_attr_get_payload_len(it->second) >= 1)
        (*static_cast<std::map<unsigned long, bool>*>(d))[m->idiag_inode] = mnl_attr_get_u8(it->second) != 0;
      return MNL_CB_OK;
    };
    uint32_t seq = nlh->nlmsg_seq;
    for (;;) {
      ssize_t n = mnl_socket_recvfrom(nl.get(), buf.data(), buf.size());
      if (n <= 0) {
        if (n < 0) return fmt::format("sock_diag recv: {}", std::strerror(errno));
        break;
      }
      int r = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid, cb, &out);
      if (r < 0) return fmt::format("sock_diag dump: {}", std::strerror(errno));
      if (r == MNL_CB_STOP) break;
    }
  }
  return "";
}

// socket inode -> (pid, process name), from every /proc/PID/fd we may read.
struct Owners {
  std::map<unsigned long, std::pair<int, std::string>> by_inode;
  bool complete = true;
};

Owners socket_owners() {
  Owners o;
  std::unique_ptr<DIR, int (*)(DIR*)> proc(opendir("/proc"), closedir);
  if (!proc) {
    o.complete = false;
    return o;
  }
  while (dirent* d = readdir(proc.get())) {
    if (!std::all_of(d->d_name, d->d_name + std::strlen(d->d_name), ::isdigit)) continue;
    int pid = std::atoi(d->d_name);
    std::string fddir = fmt::format("/proc/{}/fd", pid);
    std::unique_ptr<DIR, int (*)(DIR*)> fds(opendir(fddir.c_str()), closedir);
    if (!fds) {
      if (errno == EACCES) o.complete = false;
      continue;
    }
    std::string comm;
    while (dirent* f = readdir(fds.get())) {
      char target[64];
      std::string p = fddir + "/" + f->d_name;
      ssize_t n = readlink(p.c_str(), target, sizeof target - 1);
      if (n <= 0) continue;
      target[n] = 0;
      unsigned long inode = 0;
      if (std::sscanf(target, "socket:[%lu]", &inode) != 1) continue;
      if (comm.empty()) comm = read_trimmed(fmt::format("/proc/{}/comm", pid)).value_or("?");
      o.by_inode.emplace(inode, std::make_pair(pid, comm));
    }
  }
  return o;
}

std::string read_sockets(Json& out, bool& owners_complete) {
  Owners owners = socket_owners();
  owners_complete = owners.complete;
  std::vector<std::string> errors;
  std::vector<ProcSocket> all;
  for (auto [file, proto, family] : {std::tuple{"tcp", "tcp", 4}, {"tcp6", "tcp", 6}, {"udp", "udp", 4}, {"udp6", "udp", 6}}) {
    std::string path = fmt::format("/proc/net/{}", file);
    auto text = read_text_file(path);
    if (!text) {
      if (text.error().kind != Error::Kind::absent) errors.push_back(text.error().message);
      continue;  // e.g. no IPv6 in this kernel
    }
    auto socks = parse_proc_net_sockets(*text, proto, family, path);
    if (!socks) {
      errors.push_back(socks.error().message);
      continue;
    }
    all.insert(all.end(), socks->begin(), socks->end());
  }
  std::map<unsigned long, bool> v6only;
  std::string v6err;
  if (std::any_of(all.begin(), all.end(), [](const ProcSocket& s) { return s.family == 6; }))
    v6err = v6only_by_inode(v6only);
  if (!v6err.empty()) errors.push_back(v6err + " (IPV6_V6ONLY of IPv6 sockets unknown)");
  std::sort(all.begin(), all.end(), [](const ProcSocket& a, const ProcSocket& b) {
    return std::tie(a.proto, a.family, a.port, a.address) < std::tie(b.proto, b.family, b.port, b.address);
  });
  for (const auto& s : all) {
    Json j;
    j["protocol"] = s.proto;
    j["family"] = s.family;
    j["address"] = s.address;
    j["port"] = s.port;
    j["inode"] = s.inode;
    if (s.family == 6) {
      auto v = v6only.find(s.inode);
      j["v6only"] = v == v6only.end() ? Json(nullptr) : Json(v->second);
    }
    j["uid"] = s.uid;
    auto it = owners.by_inode.find(s.inode);
    j["pid"] = it == owners.by_inode.end() ? Json(nullptr) : Json(it->second.first);
    j["process"] = it == owners.by_inode.end() ? Json(nullptr) : Json(it->second.second);
    // Where docker-proxy forwards: its own argv says (Docker 28 sends an
    // IPv6 binding to the container's IPv6 address, 20.10 to its IPv4 one).
    if (it != owners.by_inode.end() && it->second.second == "docker-proxy")
      if (auto raw = read_text_file(fmt::format("/proc/{}/cmdline", it->second.first)))
        if (auto t = docker_proxy_target(split_cmdline(*raw)))
          j["proxy_to"] = Json{{"address", t->container_ip}, {"port", t->container_port}};
    out.push_back(std::move(j));
  }
  return fmt::format("{}", fmt::join(errors, "; "));
}

std::string netns_id() {
  struct stat st {};
  if (stat("/proc/self/ns/net", &st) != 0) return "";
  return fmt::format("net:[{}]", st.st_ino);
}

}  // namespace

// ufw's own configuration, read-only: whether it is enabled, its default
// policies and its user rules with the commands they came from (findings
// name them). Absent when there is no ufw.conf.
static Json read_ufw(const CollectOptions& o) {
  Json u{{"dir", o.ufw_dir}};
  auto conf = read_input_file(o.ufw_dir + "/ufw.conf", kMaxConfigBytes);
  if (!conf) {
    u["present"] = false;
    if (conf.error().kind != Error::Kind::absent) u["error"] = conf.error().message;
    return u;
  }
  u["present"] = true;
  std::vector<std::string> problems;
  const auto vars = parse_shell_vars(*conf);
  if (auto it = vars.find("ENABLED"); it != vars.end()) u["enabled"] = it->second == "yes";
  Json defaults = Json::object();
  if (auto d = read_input_file(o.ufw_defaults, kMaxConfigBytes)) {
    const auto dv = parse_shell_vars(*d);
    for (const auto& [key, name] : {std::pair{"DEFAULT_INPUT_POLICY", "incoming"}, std::pair{"DEFAULT_OUTPUT_POLICY", "outgoing"},
                                    std::pair{"DEFAULT_FORWARD_POLICY", "routed"}})
      if (auto it = dv.find(key); it != dv.end()) defaults[name] = it->second;
    if (auto it = dv.find("IPV6"); it != dv.end()) u["ipv6"] = it->second == "yes";
  } else if (d.error().kind != Error::Kind::absent) {
    problems.push_back(d.error().message);
  }
  u["defaults"] = std::move(defaults);
  Json rules = Json::array();
  for (int fam : {4, 6}) {
    auto text = read_input_file(o.ufw_dir + (fam == 4 ? "/user.rules" : "/user6.rules"), kMaxConfigBytes);
    if (!text) {
      if (text.error().kind != Error::Kind::absent) problems.push_back(text.error().message);
      continue;
    }
    for (auto& r : parse_ufw_user_rules(*text, fam)) rules.push_back(std::move(r));
  }
  u["rules"] = std::move(rules);
  // The files around the user rules: what findings name ufw's own chains
  // and the ufw-docker recipe's DOCKER-USER block by.
  Json files = Json::array();
  for (const auto& [name, fam] : {std::pair{"before.rules", 4}, std::pair{"after.rules", 4},
                                  std::pair{"before6.rules", 6}, std::pair{"after6.rules", 6}}) {
    auto text = read_input_file(o.ufw_dir + "/" + name, kMaxConfigBytes);
    if (!text) {
      if (text.error().kind != Error::Kind::absent) problems.push_back(text.error().message);
      continue;
    }
    files.push_back({{"file", name}, {"family", fam}, {"lines", parse_ufw_rules_file(*text)}});
  }
  u["files"] = std::move(files);
  if (!problems.empty()) u["error"] = fmt::format("{}", fmt::join(problems, "; "));
  return u;
}

// firewalld's permanent configuration, read-only: firewalld.conf (its
// default zone and backend) and every zone and policy file, the package's
// (/usr/lib/firewalld) with the admin's of the same name (/etc/firewalld) in
// their place, as firewalld loads them. Absent when neither directory holds
// any of it.
static Json read_firewalld(const CollectOptions& o) {
  Json f{{"dir", o.firewalld_dir}};
  std::vector<std::string> problems;
  bool present = false;
  if (auto conf = read_input_file(o.firewalld_dir + "/firewalld.conf", kMaxConfigBytes)) {
    present = true;
    const auto vars = parse_shell_vars(*conf);
    Json c = Json::object();
    for (const auto& [key, name] : {std::pair{"DefaultZone", "default_zone"}, std::pair{"FirewallBackend", "backend"},
                                    std::pair{"IPv6_rpfilter", "ipv6_rpfilter"}, std::pair{"StrictForwardPorts", "strict_forward_ports"}})
      if (auto it = vars.find(key); it != vars.end()) c[name] = it->second;
    f["conf"] = std::move(c);
  } else if (conf.error().kind != Error::Kind::absent) {
    present = true;
    problems.push_back(conf.error().message);
  }
  constexpr std::size_t kMaxFiles = 1000;  // per directory
  for (const auto& [kind, sub] : {std::pair{"zone", "zones"}, std::pair{"policy", "policies"}}) {
    std::map<std::string, std::pair<std::string, std::string>> files;  // name -> (path, origin)
    for (const auto& [dir, origin] : {std::pair{o.firewalld_system_dir, "usr"}, std::pair{o.firewalld_dir, "etc"}}) {
      const std::string d = dir + "/" + sub;
      std::unique_ptr<DIR, int (*)(DIR*)> dh(opendir(d.c_str()), closedir);
      if (!dh) {
        if (errno != ENOENT) {  // there, but not readable (not root): said, not taken for absent
          present = true;
          problems.push_back(fmt::format("{}: {}", d, std::strerror(errno)));
        }
        continue;
      }
      std::size_t n = 0;
      while (dirent* e = readdir(dh.get())) {
        std::string name = e->d_name;
        if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".xml") != 0) continue;
        if (++n > kMaxFiles) {
          problems.push_back(fmt::format("{}: more than {} files, the rest not read", d, kMaxFiles));
          break;
        }
        files[name.substr(0, name.size() - 4)] = {d + "/" + name, origin};
      }
    }
    Json list = Json::array();
    for (const auto& [name, where] : files) {
      present = true;
      Json x{{"name", name}, {"file", where.first}, {"origin", where.second}};
      if (auto text = read_input_file(where.first, kMaxConfigBytes)) x.update(parse_firewalld_xml(*text, kind, where.first));
      else x["error"] = text.error().message;
      list.push_back(std::move(x));
    }
    f[sub] = std::move(list);
  }
  f["present"] = present;
  if (!problems.empty()) f["error"] = fmt::format("{}", fmt::join(problems, "; "));
  return f;
}

Collected collect_host(const CollectOptions& o) {
  Json h;
  std::vector<std::string> problems;
  utsname u{};
  uname(&u);
  char hn[256] = "";
  gethostname(hn, sizeof hn - 1);
  h["hostname"] = hn;
  h["kernel"] = u.release;
  h["netns"] = netns_id();

  Links links;
  if (auto e = read_links(links); !e.empty()) problems.push_back("links: " + e);
  if (auto e = read_addresses(links); !e.empty()) problems.push_back("addresses: " + e);
  h["interfaces"] = links.list;
  Json routes = Json::array(), rules = Json::array();
  for (int fam : {AF_INET, AF_INET6}) {
    if (auto e = read_routes(fam, links.names, routes); !e.empty()) problems.push_back("routes: " + e);
    if (auto e = read_policy_rules(fam, rules); !e.empty()) problems.push_back("policy rules: " + e);
  }
  h["routes"] = std::move(routes);
  h["policy_rules"] = std::move(rules);
  h["sysctls"] = read_sysctls(links.list);
  Json socks = Json::array();
  bool owners_complete = true;
  if (auto e = read_sockets(socks, owners_complete); !e.empty()) problems.push_back("sockets: " + e);
  h["listening_sockets"] = std::move(socks);
  // Without root, other users' processes hide which process owns a socket.
  h["socket_owners_complete"] = owners_complete;

  Json cfg;
  cfg["path"] = o.nftables_config;
  auto text = read_input_file(o.nftables_config, kMaxConfigBytes);
  if (text) {
    cfg["present"] = true;
    cfg.update(scan_nftables_config(*text));
  } else {
    cfg["present"] = false;
    if (text.error().kind != Error::Kind::absent) cfg["error"] = text.error().message;
  }
  h["nftables_config"] = std::move(cfg);
  // Whether these start at boot: DFA009 asks whether anything loads
  // nftables.conf; summary names the firewall managers.
  Json services = Json::object();
  for (const char* unit : {"nftables.service", "firewalld.service", "ufw.service"})
    services[unit] = systemd_unit_state("/", unit);
  h["services"] = std::move(services);
  h["ufw"] = read_ufw(o);
  h["firewalld"] = read_firewalld(o);

  CollectorReport rep;
  if (!problems.empty()) {
    rep.status = CollectorStatus::error;
    rep.reason = fmt::format("{}", fmt::join(problems, "; "));
  }
  return {rep, std::move(h)};
}

}  // namespace dfa
