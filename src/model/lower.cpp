// JSON -> typed model, one function per section. The input has passed its
// shape check (snapshot.cpp), so every member read here has its documented
// type when present; absent optional members take their defaults.
#include <algorithm>

#include "model/snapshot.hpp"

namespace dfa {
namespace {

std::string str(const Json& j, const char* key) { return j.value(key, std::string()); }
template <class T>
T num(const Json& j, const char* key, T def = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<T>() : def;
}
bool flag(const Json& j, const char* key, bool def = false) { return j.value(key, def); }
std::optional<bool> opt_flag(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? std::optional<bool>(it->get<bool>()) : std::nullopt;
}
const Json& list(const Json& j, const char* key) { return array_member(j, key); }
std::map<std::string, std::string> strings(const Json& j, const char* key) {
  std::map<std::string, std::string> m;
  if (auto it = j.find(key); it != j.end() && it->is_object())
    for (const auto& [k, v] : it->items()) m[k] = v.get<std::string>();
  return m;
}

PortBinding binding(const Json& b) {
  PortBinding p;
  p.container_port = num<unsigned>(b, "container_port");
  p.container_port_end = num<unsigned>(b, "container_port_end", p.container_port);
  p.protocol = str(b, "protocol");
  p.host_ip = str(b, "host_ip");
  p.host_port = num<unsigned>(b, "host_port");
  p.host_port_end = num<unsigned>(b, "host_port_end", p.host_port);
  return p;
}

std::vector<Interface> lower_interfaces(const Json& h) {
  std::vector<Interface> out;
  for (const auto& i : list(h, "interfaces")) {
    Interface x;
    x.index = num<unsigned>(i, "index");
    x.name = str(i, "name");
    x.up = flag(i, "up");
    x.loopback = flag(i, "loopback");
    x.kind = str(i, "kind");
    x.master = str(i, "master");
    x.hairpin = opt_flag(i, "hairpin");
    for (const auto& a : list(i, "addresses"))
      x.addresses.push_back(
          {num<int>(a, "family", 4), str(a, "address"), num<unsigned>(a, "prefix_len"), str(a, "scope")});
    out.push_back(std::move(x));
  }
  return out;
}

std::vector<Route> lower_routes(const Json& h) {
  std::vector<Route> out;
  for (const auto& r : list(h, "routes")) {
    Route x;
    x.family = num<int>(r, "family", 4);
    x.table = str(r, "table");
    x.type = r.value("type", std::string("unicast"));
    x.dst = str(r, "dst");
    x.dst_prefix = Prefix::parse(x.dst);
    x.gateway = str(r, "gateway");
    x.dev = str(r, "dev");
    x.prefsrc = str(r, "prefsrc");
    x.metric = num<std::uint64_t>(r, "metric");
    out.push_back(std::move(x));
  }
  return out;
}

std::vector<PolicyRule> lower_policy_rules(const Json& h) {
  std::vector<PolicyRule> out;
  for (const auto& r : list(h, "policy_rules")) {
    PolicyRule x;
    x.family = num<int>(r, "family", 4);
    x.priority = num<std::uint64_t>(r, "priority");
    x.table = str(r, "table");
    x.action = str(r, "action");
    x.src = str(r, "src");
    x.dst = str(r, "dst");
    x.src_prefix = Prefix::parse(x.src);
    x.dst_prefix = Prefix::parse(x.dst);
    x.iif = str(r, "iif");
    x.oif = str(r, "oif");
    x.fwmark = num<std::uint32_t>(r, "fwmark");
    // Older snapshots have no mask: a mark was then compared whole.
    x.fwmask = r.contains("fwmask") ? num<std::uint32_t>(r, "fwmask") : (x.fwmark ? 0xffffffffu : 0u);
    x.invert = flag(r, "invert");
    if (auto u = r.find("unmodeled"); u != r.end())
      for (const auto& v : *u) x.unmodeled.push_back(v.get<std::string>());
    out.push_back(std::move(x));
  }
  return out;
}

std::vector<ListeningSocket> lower_sockets(const Json& h) {
  std::vector<ListeningSocket> out;
  for (const auto& s : list(h, "listening_sockets")) {
    ListeningSocket x;
    x.protocol = str(s, "protocol");
    x.family = num<int>(s, "family", 4);
    x.address = str(s, "address");
    x.addr = IpAddr::parse(x.address);
    x.port = num<unsigned>(s, "port");
    x.inode = num<std::uint64_t>(s, "inode");
    if (auto it = s.find("v6only"); it != s.end() && it->is_boolean()) x.v6only = it->get<bool>();
    if (auto it = s.find("uid"); it != s.end() && it->is_number()) x.uid = it->get<std::uint64_t>();
    if (auto it = s.find("pid"); it != s.end() && it->is_number()) x.pid = it->get<std::uint64_t>();
    if (auto it = s.find("process"); it != s.end() && it->is_string()) x.process = it->get<std::string>();
    if (auto it = s.find("proxy_to"); it != s.end() && it->is_object()) {
      x.proxy_addr = IpAddr::parse(str(*it, "address"));
      x.proxy_port = num<unsigned>(*it, "port");
    }
    out.push_back(std::move(x));
  }
  return out;
}

NftablesConfig lower_nftables_config(const Json& c) {
  NftablesConfig n;
  n.path = str(c, "path");
  n.present = flag(c, "present");
  n.flush_ruleset = flag(c, "flush_ruleset");
  for (const auto& l : list(c, "flush_ruleset_lines")) n.flush_ruleset_lines.push_back(l.get<std::uint64_t>());
  for (const auto& i : list(c, "includes"))
    n.includes.push_back({num<std::uint64_t>(i, "line"), str(i, "pattern")});
  n.error = str(c, "error");
  return n;
}

UfwConfig lower_ufw(const Json& u) {
  UfwConfig c;
  c.present = flag(u, "present");
  c.dir = str(u, "dir");
  if (auto e = u.find("enabled"); e != u.end() && e->is_boolean()) c.enabled = e->get<bool>();
  if (auto e = u.find("ipv6"); e != u.end() && e->is_boolean()) c.ipv6 = e->get<bool>();
  if (auto d = u.find("defaults"); d != u.end() && d->is_object())
    for (const auto& [k, v] : d->items()) c.defaults[k] = v.get<std::string>();
  for (const auto& r : list(u, "rules")) {
    UfwConfig::Rule x;
    x.family = num<int>(r, "family", 4);
    x.tuple = str(r, "tuple");
    x.command = str(r, "command");
    for (const auto& l : list(r, "lines")) x.lines.push_back({str(l, "chain"), num<std::uint64_t>(l, "position")});
    c.rules.push_back(std::move(x));
  }
  for (const auto& fl : list(u, "files")) {
    UfwConfig::File x;
    x.name = str(fl, "file");
    x.family = num<int>(fl, "family", 4);
    for (const auto& l : list(fl, "lines"))
      x.lines.push_back({str(l, "chain"), str(l, "text"), num<std::uint64_t>(l, "line"), flag(l, "insert")});
    c.files.push_back(std::move(x));
  }
  c.error = str(u, "error");
  return c;
}

FirewalldConfig lower_firewalld(const Json& fw) {
  FirewalldConfig c;
  c.present = flag(fw, "present");
  c.dir = str(fw, "dir");
  if (auto cf = fw.find("conf"); cf != fw.end() && cf->is_object())
    for (const auto& [k, v] : cf->items()) c.conf[k] = v.get<std::string>();
  auto strings = [](const Json& o, const char* key) {
    std::vector<std::string> v;
    for (const auto& x : list(o, key)) v.push_back(x.get<std::string>());
    return v;
  };
  for (const auto& [key, parts] : {std::pair{"zones", &c.zones}, std::pair{"policies", &c.policies}})
    for (const auto& p : list(fw, key)) {
      FirewalldConfig::Part x;
      x.name = str(p, "name");
      x.file = str(p, "file");
      x.origin = str(p, "origin");
      x.target = str(p, "target");
      x.priority = str(p, "priority");
      x.short_name = str(p, "short");
      x.interfaces = strings(p, "interfaces");
      x.sources = strings(p, "sources");
      x.services = strings(p, "services");
      x.ports = strings(p, "ports");
      x.protocols = strings(p, "protocols");
      x.forward_ports = strings(p, "forward_ports");
      x.rich_rules = strings(p, "rich_rules");
      x.ingress_zones = strings(p, "ingress_zones");
      x.egress_zones = strings(p, "egress_zones");
      x.forward = flag(p, "forward");
      x.masquerade = flag(p, "masquerade");
      x.error = str(p, "error");
      parts->push_back(std::move(x));
    }
  c.error = str(fw, "error");
  return c;
}

}  // namespace

HostFacts lower_host(const Json& h) {
  HostFacts f;
  f.hostname = str(h, "hostname");
  f.kernel = str(h, "kernel");
  f.netns = str(h, "netns");
  f.interfaces = lower_interfaces(h);
  f.routes = lower_routes(h);
  f.policy_rules = lower_policy_rules(h);
  if (auto it = h.find("sysctls"); it != h.end() && it->is_object())
    for (const auto& [k, v] : it->items())
      f.sysctls[k] = v.is_string() ? std::optional<std::string>(v.get<std::string>()) : std::nullopt;
  f.listening_sockets = lower_sockets(h);
  f.socket_owners_complete = flag(h, "socket_owners_complete", true);
  if (auto it = h.find("nftables_config"); it != h.end() && it->is_object())
    f.nftables_config = lower_nftables_config(*it);
  if (auto it = h.find("ufw"); it != h.end() && it->is_object()) f.ufw = lower_ufw(*it);
  if (auto it = h.find("firewalld"); it != h.end() && it->is_object()) f.firewalld = lower_firewalld(*it);
  if (auto it = h.find("services"); it != h.end() && it->is_object())
    for (const auto& [unit, v] : it->items()) {
      ServiceState st;
      st.state = str(v, "state");
      for (const auto& w : list(v, "wanted_by")) st.wanted_by.push_back(w.get<std::string>());
      f.services[unit] = std::move(st);
    }
  return f;
}

DockerState lower_docker_api(const Json& d) {
  DockerState s;
  s.endpoint = str(d, "endpoint");
  s.engine_version = str(d, "engine_version");
  s.api_version = str(d, "api_version");
  s.os = str(d, "os");
  s.arch = str(d, "arch");
  s.firewall_backend = str(d, "firewall_backend");
  for (const auto& c : list(d, "containers")) {
    Container x;
    x.id = str(c, "id");
    x.name = str(c, "name");
    x.image = str(c, "image");
    x.state = str(c, "state");
    x.running = flag(c, "running");
    x.pid = num<std::uint64_t>(c, "pid");
    x.labels = strings(c, "labels");
    x.compose_project = str(c, "compose_project");
    x.compose_service = str(c, "compose_service");
    x.network_mode = str(c, "network_mode");
    for (const auto& n : list(c, "networks")) {
      ContainerNetwork y;
      y.network = str(n, "network");
      y.network_id = str(n, "network_id");
      y.ipv4 = str(n, "ipv4");
      y.ipv4_prefix_len = num<unsigned>(n, "ipv4_prefix_len");
      y.ipv6 = str(n, "ipv6");
      y.ipv6_prefix_len = num<unsigned>(n, "ipv6_prefix_len");
      y.gateway = str(n, "gateway");
      y.ipv6_gateway = str(n, "ipv6_gateway");
      for (const auto& a : list(n, "aliases")) y.aliases.push_back(a.get<std::string>());
      x.networks.push_back(std::move(y));
    }
    for (const auto& b : list(c, "ports")) x.ports.push_back(binding(b));
    for (const auto& b : list(c, "ports_requested")) x.ports_requested.push_back(binding(b));
    x.publish_all = flag(c, "publish_all");
    s.containers.push_back(std::move(x));
  }
  for (const auto& n : list(d, "networks")) {
    DockerNetwork x;
    x.id = str(n, "id");
    x.name = str(n, "name");
    x.driver = str(n, "driver");
    x.scope = str(n, "scope");
    x.internal = flag(n, "internal");
    x.enable_ipv6 = flag(n, "enable_ipv6");
    x.bridge = str(n, "bridge");
    for (const auto& sn : list(n, "subnets")) x.subnets.push_back({str(sn, "subnet"), str(sn, "gateway")});
    x.options = strings(n, "options");
    x.labels = strings(n, "labels");
    x.compose_project = str(n, "compose_project");
    x.enable_icc = opt_flag(n, "enable_icc");
    x.enable_ip_masquerade = opt_flag(n, "enable_ip_masquerade");
    x.host_binding_ipv4 = str(n, "host_binding_ipv4");
    x.gateway_mode_ipv4 = str(n, "gateway_mode_ipv4");
    x.gateway_mode_ipv6 = str(n, "gateway_mode_ipv6");
    s.networks.push_back(std::move(x));
  }
  return s;
}

DockerDaemon lower_docker_config(const Json& c) {
  DockerDaemon d;
  if (auto it = c.find("dockerd"); it != c.end() && it->is_object()) {
    DockerDaemon::Dockerd x;
    x.pid = num<std::uint64_t>(*it, "pid");
    x.candidates = num<std::uint64_t>(*it, "candidates");
    for (const auto& a : list(*it, "argv")) x.argv.push_back(a.get<std::string>());
    if (auto f = it->find("flags"); f != it->end() && f->is_object())
      for (const auto& [k, v] : f->items())
        for (const auto& a : v) x.flags[k].push_back(a.get<std::string>());
    d.dockerd = std::move(x);
  }
  d.dockerd_in_other_namespaces = num<std::uint64_t>(c, "dockerd_in_other_namespaces");
  if (auto it = c.find("daemon_json"); it != c.end() && it->is_object()) {
    d.daemon_json.path = str(*it, "path");
    d.daemon_json.source = str(*it, "source");
    d.daemon_json.error = str(*it, "error");
    d.daemon_json.present = flag(*it, "present");
    if (auto ct = it->find("content"); ct != it->end()) d.daemon_json.content = *ct;
    if (auto kl = it->find("key_lines"); kl != it->end() && kl->is_object())
      for (const auto& [k, v] : kl->items()) d.daemon_json.key_lines[k] = v.get<std::uint64_t>();
  }
  return d;
}

std::optional<std::string> HostFacts::sysctl(std::string_view key) const {
  auto it = sysctls.find(key);
  return it == sysctls.end() ? std::nullopt : it->second;
}

const Interface* HostFacts::interface(std::string_view name) const {
  for (const auto& i : interfaces)
    if (i.name == name) return &i;
  return nullptr;
}

std::vector<const Container*> DockerState::running() const {
  std::vector<const Container*> v;
  for (const auto& c : containers)
    if (c.running) v.push_back(&c);
  return v;
}

const Container* DockerState::container(std::string_view name) const {
  for (const auto& c : containers)
    if (c.name == name) return &c;
  return nullptr;
}

const DockerNetwork* DockerState::network(std::string_view name) const {
  for (const auto& n : networks)
    if (n.name == name) return &n;
  return nullptr;
}

std::string DockerState::bridge_of(std::string_view network_name) const {
  const DockerNetwork* n = network(network_name);
  return n ? n->bridge : std::string();
}

}  // namespace dfa
