#include "model/snapshot.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <map>
#include <string_view>
#include <unordered_map>

#include "model/shape.hpp"

namespace dfa {

std::string_view to_string(CollectorStatus s) {
  switch (s) {
    case CollectorStatus::ok: return "ok";
    case CollectorStatus::absent: return "absent";
    case CollectorStatus::denied: return "denied";
    case CollectorStatus::error: return "error";
    case CollectorStatus::unknown: break;
  }
  return "unknown";
}

CollectorStatus collector_status_from(std::string_view s) {
  if (s == "ok") return CollectorStatus::ok;
  if (s == "absent") return CollectorStatus::absent;
  if (s == "denied") return CollectorStatus::denied;
  if (s == "error") return CollectorStatus::error;
  return CollectorStatus::unknown;
}

Json to_json(const CollectorReport& r) {
  Json j;
  j["status"] = to_string(r.status);
  j["reason"] = r.reason;
  return j;
}

Snapshot::Snapshot(Json document) : doc(std::move(document)) { lower(); }

void Snapshot::lower() {
  host.reset();
  docker.reset();
  daemon.reset();
  if (const Json* h = section("host")) host = lower_host(*h);
  if (const Json* d = section("docker_api")) docker = lower_docker_api(*d);
  if (auto it = doc.find("docker_config"); it != doc.end() && it->is_object()) daemon = lower_docker_config(*it);
}

CollectorReport Snapshot::collector(std::string_view name) const {
  CollectorReport r{CollectorStatus::unknown, "not in snapshot"};
  auto c = doc.find("collectors");
  if (c == doc.end() || !c->is_object()) return r;
  auto it = c->find(std::string(name));
  if (it == c->end()) return r;
  r.status = collector_status_from(it->value("status", ""));
  r.reason = it->value("reason", "");
  return r;
}

const Json* Snapshot::section(std::string_view name) const {
  if (collector(name).status != CollectorStatus::ok) return nullptr;
  auto it = doc.find(std::string(name));
  return it == doc.end() ? nullptr : &*it;
}

namespace {

using namespace shape;

// The sections as docs/snapshot.md describes them. Members marked req are
// the ones readers cannot do without; every member present must have its
// documented type. Free-form values (daemon.json's content, xt parameters,
// nft expressions and set elements) are the rule compiler's to read, which
// takes what it does not know as uncertain.
// A firewalld zone or policy file (collect: parse_firewalld_xml).
Shape firewalld_part() {
  return object({req("name", str()), opt("file", str()), opt("origin", str()), opt("target", str()),
                 opt("priority", str()), opt("short", str()), opt("interfaces", array(str())),
                 opt("sources", array(str())), opt("services", array(str())), opt("ports", array(str())),
                 opt("protocols", array(str())), opt("forward_ports", array(str())), opt("rich_rules", array(str())),
                 opt("ingress_zones", array(str())), opt("egress_zones", array(str())), opt("forward", boolean()),
                 opt("masquerade", boolean()), opt("error", str())});
}

const Shape& host_shape() {
  static const Shape s = object({
      opt("hostname", str()), opt("kernel", str()), opt("netns", str()),
      req("interfaces", array(object({
                            req("name", str()), opt("index", uint()), opt("up", boolean()),
                            opt("loopback", boolean()), opt("kind", str()), opt("master", str()),
                            opt("hairpin", boolean()),
                            opt("addresses", array(object({req("family", uint(6)), req("address", str()),
                                                           opt("prefix_len", uint(128)), opt("scope", str())}))),
                        }))),
      req("routes", array(object({req("family", uint(6)), req("dst", str()), opt("table", str()), opt("type", str()),
                                  opt("gateway", str()), opt("dev", str()), opt("prefsrc", str()),
                                  opt("metric", uint())}))),
      opt("policy_rules", array(object({opt("family", uint(6)), opt("priority", uint()), opt("table", str()),
                                        opt("action", str()), opt("src", str()), opt("dst", str()), opt("iif", str()),
                                        opt("oif", str()), opt("fwmark", uint(0xffffffff)),
                                        opt("fwmask", uint(0xffffffff)), opt("invert", boolean()),
                                        opt("unmodeled", array(str()))}))),
      req("sysctls", map(nullable(str()))),
      req("listening_sockets",
          array(object({req("protocol", str()), req("family", uint(6)), req("address", str()),
                        req("port", uint(65535)), opt("inode", uint()), opt("v6only", nullable(boolean())),
                        opt("uid", nullable(uint())),
                        opt("pid", nullable(uint())), opt("process", nullable(str())),
                        opt("proxy_to", object({req("address", str()), req("port", uint(65535))}))}))),
      opt("socket_owners_complete", boolean()),
      req("nftables_config", object({opt("path", str()), opt("present", boolean()), opt("flush_ruleset", boolean()),
                                     opt("flush_ruleset_lines", array(uint())),
                                     opt("includes", array(object({opt("line", uint()), opt("pattern", str())}))),
                                     opt("error", str())})),
      opt("services", map(object({req("state", str()), opt("wanted_by", array(str()))}))),
      opt("ufw", object({req("present", boolean()), opt("dir", str()), opt("enabled", boolean()),
                         opt("ipv6", boolean()), opt("defaults", map(str())),
                         opt("rules", array(object({req("family", uint(6)), req("tuple", str()), opt("command", str()),
                                                    req("lines", array(object({req("chain", str()),
                                                                               req("position", uint())})))}))),
                         opt("files", array(object({req("file", str()), req("family", uint(6)),
                                                    req("lines", array(object({req("chain", str()), req("line", uint()),
                                                                               req("text", str()),
                                                                               opt("insert", boolean())})))}))),
                         opt("error", str())})),
      opt("firewalld",
          object({req("present", boolean()), opt("dir", str()), opt("conf", map(str())),
                  opt("zones", array(firewalld_part())), opt("policies", array(firewalld_part())), opt("error", str())})),
  });
  return s;
}

const Shape& docker_config_shape() {
  static const Shape s = object({
      req("dockerd", nullable(object({opt("pid", uint()), opt("argv", array(str())), req("flags", map(array(str()))),
                                      opt("candidates", uint())}))),
      opt("dockerd_in_other_namespaces", uint()),
      req("daemon_json", object({opt("path", str()), opt("source", str()), opt("present", boolean()),
                                 opt("content", any()), opt("key_lines", map(uint())), opt("error", str())})),
  });
  return s;
}

const Shape& docker_api_shape() {
  static const Shape binding = object({req("container_port", uint(65535)), req("protocol", str()),
                                       req("host_ip", str()), req("host_port", uint(65535)),
                                       opt("container_port_end", uint(65535)), opt("host_port_end", uint(65535))});
  static const Shape s = object({
      opt("endpoint", str()), opt("engine_version", str()), opt("api_version", str()), opt("os", str()),
      opt("arch", str()), opt("firewall_backend", str()),
      req("containers",
          array(object({
              opt("id", str()), req("name", str()), opt("image", str()), opt("state", str()),
              req("running", boolean()), opt("pid", uint()), opt("labels", map(str())),
              opt("compose_project", str()), opt("compose_service", str()), opt("network_mode", str()),
              req("networks", array(object({req("network", str()), opt("network_id", str()), opt("ipv4", str()),
                                            opt("ipv4_prefix_len", uint(32)), opt("ipv6", str()),
                                            opt("ipv6_prefix_len", uint(128)), opt("gateway", str()),
                                            opt("ipv6_gateway", str()), opt("aliases", array(str()))}))),
              req("ports", array(binding)), opt("ports_requested", array(binding)), opt("publish_all", boolean()),
          }))),
      req("networks",
          array(object({opt("id", str()), req("name", str()), opt("driver", str()), opt("scope", str()),
                        opt("internal", boolean()), opt("enable_ipv6", boolean()), opt("bridge", str()),
                        opt("subnets", array(object({opt("subnet", str()), opt("gateway", str())}))),
                        opt("options", map(str())), opt("labels", map(str())), opt("compose_project", str()),
                        opt("enable_icc", boolean()), opt("enable_ip_masquerade", boolean()),
                        opt("host_binding_ipv4", str()), opt("gateway_mode_ipv4", str()),
                        opt("gateway_mode_ipv6", str())}))),
  });
  return s;
}

const Shape& legacy_shape() {
  static const Shape extension = object({req("name", str()), opt("revision", uint()), opt("decoded", boolean()),
                                         opt("raw", str()), opt("params", map(any())), opt("text", str()),
                                         opt("reason", str()), opt("kind", str())});
  static const Shape counters = map(uint());
  static const Shape rule = object({
      opt("index", uint()), opt("src", str()), opt("src_invert", boolean()), opt("dst", str()),
      opt("dst_invert", boolean()), opt("in_iface", str()), opt("in_invert", boolean()), opt("out_iface", str()),
      opt("out_invert", boolean()), opt("protocol", str()), opt("protocol_number", uint(255)),
      opt("protocol_invert", boolean()), opt("fragment", str()), req("matches", array(extension)),
      req("target", extension), opt("counters", counters), opt("text", str()),
  });
  static const Shape family = object({
      opt("status", str()), opt("reason", str()),
      req("tables", array(object({req("name", str()),
                                  req("chains", array(object({req("name", str()), opt("builtin", boolean()),
                                                              opt("policy", nullable(str())),
                                                              opt("counters", counters),
                                                              req("rules", array(rule))})))}))),
  });
  static const Shape s = object({req("ipv4", family), req("ipv6", family)});
  return s;
}

// The objects of an nft -j ruleset that readers use; others pass unread.
const Shape* nft_object_shape(const std::string& kind) {
  static const Shape str_or_list = either(str(), array(str()));
  static const Shape table = object({req("family", str()), req("name", str()), opt("handle", uint())});
  static const Shape chain = object({req("family", str()), req("table", str()), req("name", str()),
                                     opt("handle", uint()), opt("type", str()), opt("hook", str()),
                                     opt("prio", integer()), opt("policy", str()), opt("dev", str_or_list)});
  // Every statement is an object of one member naming it (libnftables-json(5)).
  static const Shape rule = object({req("family", str()), req("table", str()), req("chain", str()),
                                    opt("handle", uint()), req("expr", array(object({}))), opt("comment", str())});
  static const Shape set = object({req("family", str()), req("table", str()), req("name", str()),
                                   opt("handle", uint()), opt("type", str_or_list), opt("map", str_or_list),
                                   opt("flags", str_or_list), opt("elem", array(any()))});
  static const Shape element = object({req("family", str()), req("table", str()), req("name", str()),
                                       opt("elem", array(any()))});
  if (kind == "table") return &table;
  if (kind == "chain") return &chain;
  if (kind == "rule") return &rule;
  if (kind == "set" || kind == "map") return &set;
  if (kind == "element") return &element;
  return nullptr;
}

// The statements of libnftables-json(5) that the readers know, with the
// shape each must have. Statements not listed pass unread by this check;
// the compiler takes them as constructs it does not model.
const Shape* nft_statement_shape(std::string_view key) {
  static const Shape null_or_object = nullable(object({}));
  static const std::unordered_map<std::string_view, Shape> vocabulary = {
      {"match", object({req("op", str()), req("left", any()), req("right", any())})},
      {"jump", object({req("target", str())})},
      {"goto", object({req("target", str())})},
      {"dnat", null_or_object},
      {"snat", null_or_object},
      {"masquerade", null_or_object},
      {"redirect", null_or_object},
      {"vmap", object({req("key", any()), req("data", any())})},
      {"mangle", object({req("key", any()), req("value", any())})},
      {"xt", object({opt("type", str()), req("name", str()), opt("decoded", boolean()), opt("params", map(any())),
                     opt("text", str()), opt("save_name", str()), opt("revision", uint())})},
      {"counter", null_or_object},
  };
  auto it = vocabulary.find(key);
  return it == vocabulary.end() ? nullptr : &it->second;
}

// A statement's own shape (its one member, when the vocabulary names it).
// Expressions nested deeper are the readers' to take or leave: the compiler
// makes a rule it cannot read uncertain, the other readers claim nothing of
// it. Checking every node would cost as much as parsing the snapshot.
std::optional<std::string> check_statement(const Json& stmt, JsonPath& path) {
  auto it = stmt.begin();
  const Shape* sh = nft_statement_shape(it.key());
  if (!sh) return std::nullopt;
  path.push(it.key());
  auto e = check_shape(*sh, it.value(), path);
  path.pop();
  return e;
}

// The nftables section around its ruleset (each entry is checked by kind).
const Shape& nftables_shape() {
  static const Shape s = object({opt("version", str()), opt("json_schema_version", uint()), opt("generation", uint()),
                                 req("ruleset", array(object({}))), opt("undecoded_xt", array(any()))});
  return s;
}

std::optional<std::string> check_nftables(const Json& s) {
  if (auto e = check_shape(nftables_shape(), s, "/nftables")) return e;
  const Json& rs = s["ruleset"];
  JsonPath path([] { return std::string("/nftables/ruleset"); });
  for (std::size_t i = 0; i < rs.size(); ++i) {
    path.push(i);
    if (rs[i].size() != 1)
      return fmt::format("{}: expected an object of one member (table, chain, rule, ...)", path.str());
    auto kv = rs[i].begin();
    const Shape* sh = nft_object_shape(kv.key());
    if (sh) {
      path.push(kv.key());
      if (auto e = check_shape(*sh, kv.value(), path)) return e;
      if (kv.key() == "rule") {
        const Json& expr = kv.value()["expr"];
        path.push("expr");
        for (std::size_t k = 0; k < expr.size(); ++k) {
          path.push(k);
          if (expr[k].size() != 1)
            return fmt::format("{}: expected an object of one member naming the statement", path.str());
          if (auto e = check_statement(expr[k], path)) return e;
          path.pop();
        }
        path.pop();
      }
      path.pop();
    }
    path.pop();
  }
  return std::nullopt;
}

}  // namespace

Result<bool> validate_snapshot(const Json& doc, const std::string& name) {
  auto fail = [&](const std::string& what) { return input_error(fmt::format("{}: {}", name, what)); };
  if (!doc.is_object()) return fail(fmt::format("/: expected an object, found {}", doc.type_name()));
  auto v = doc.find("schema_version");
  if (v == doc.end()) return fail("/: missing member \"schema_version\"");
  if (!v->is_number_integer()) return fail("/schema_version: expected an integer");
  auto version = v->get<std::int64_t>();
  if (version > kSnapshotSchemaVersion)
    return fail(fmt::format(
        "/schema_version: snapshot schema {} is newer than this dockfw-audit supports ({}); upgrade dockfw-audit",
        version, kSnapshotSchemaVersion));
  if (version < 1) return fail(fmt::format("/schema_version: invalid version {}", version));

  auto cols = doc.find("collectors");
  if (cols == doc.end()) return fail("/: missing member \"collectors\"");
  if (!cols->is_object()) return fail(fmt::format("/collectors: expected an object, found {}", cols->type_name()));
  for (auto& [key, val] : cols->items()) {
    std::string p = "/collectors/" + pointer_token(key);
    if (auto e = check_shape(object({req("status", str()), opt("reason", str())}), val, p)) return fail(*e);
    if (collector_status_from(val["status"].get<std::string>()) == CollectorStatus::unknown)
      return fail(fmt::format("{}/status: expected one of ok, absent, denied, error", p));
    if (val["status"] == "ok" && (!doc.contains(key) || doc[key].is_null()))
      return fail(fmt::format("{}: collector is ok but section /{} is missing", p, key));
  }
  for (auto& [key, val] : doc.items()) {
    if (val.is_null()) continue;
    std::optional<std::string> e;
    if (key == "host") e = check_shape(host_shape(), val, "/host");
    else if (key == "docker_config") e = check_shape(docker_config_shape(), val, "/docker_config");
    else if (key == "docker_api") e = check_shape(docker_api_shape(), val, "/docker_api");
    else if (key == "iptables_legacy") e = check_shape(legacy_shape(), val, "/iptables_legacy");
    else if (key == "nftables") e = check_nftables(val);
    else if (key == "collected_at") e = check_shape(str(), val, "/collected_at");
    if (e) return fail(*e);
  }
  return true;
}

Json snapshot_json_schema() {
  using namespace shape;
  Json objects = Json::object();
  for (const char* kind : {"table", "chain", "rule", "set", "map", "element"})
    objects[kind] = to_json_schema(*nft_object_shape(kind));
  Json nft = to_json_schema(nullable(nftables_shape()));
  // Each ruleset entry is an object of one member naming its kind; the
  // kinds the readers use have their shape, the others pass.
  nft["properties"]["ruleset"]["items"] = {{"type", "object"},
                                          {"minProperties", 1},
                                          {"maxProperties", 1},
                                          {"properties", std::move(objects)}};
  Json collector = {{"type", "object"},
                    {"required", {"status"}},
                    {"properties",
                     {{"status", {{"enum", {"ok", "absent", "denied", "error"}}}}, {"reason", {{"type", "string"}}}}}};
  return {
      {"$schema", "https://json-schema.org/draft/2020-12/schema"},
      {"$id", "https://dockfw-audit.invalid/schemas/snapshot.schema.json"},
      {"title", "dockfw-audit snapshot"},
      {"description",
       "What dockfw-audit collect writes (docs/snapshot.md). Generated from the shapes the reader checks "
       "(src/model/snapshot.cpp): a snapshot this schema accepts is one the tool reads. A collector whose status is "
       "ok has its section."},
      {"type", "object"},
      {"required", {"schema_version", "collectors"}},
      {"properties",
       {{"schema_version", {{"type", "integer"}, {"minimum", 1}, {"maximum", kSnapshotSchemaVersion}}},
        {"tool", {{"type", "object"}}},
        {"collected_at", {{"type", "string"}}},
        {"collectors", {{"type", "object"}, {"additionalProperties", collector}}},
        {"host", to_json_schema(nullable(host_shape()))},
        {"nftables", std::move(nft)},
        {"iptables_legacy", to_json_schema(nullable(legacy_shape()))},
        {"docker_config", to_json_schema(nullable(docker_config_shape()))},
        {"docker_api", to_json_schema(nullable(docker_api_shape()))}}}};
}

Result<Snapshot> load_snapshot(const std::string& path) {
  auto j = read_json_file(path);
  if (!j) return j.error();
  auto v = validate_snapshot(*j, path);
  if (!v) return v.error();
  return Snapshot(std::move(*j));
}

}  // namespace dfa
