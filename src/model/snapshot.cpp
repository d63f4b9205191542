#include "model/snapshot.hpp"

#include <fmt/format.h>

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

// A tiny structural checker: each expectation names a JSON pointer.
struct Checker {
  const std::string& name;
  std::string first_error;

  bool fail(const std::string& ptr, const std::string& what) {
    if (first_error.empty()) first_error = fmt::format("{}: {}: {}", name, ptr.empty() ? "/" : ptr, what);
    return false;
  }
  bool object(const Json& j, const std::string& ptr) {
    return j.is_object() || fail(ptr, fmt::format("expected an object, found {}", j.type_name()));
  }
  bool array(const Json& j, const std::string& ptr) {
    return j.is_array() || fail(ptr, fmt::format("expected an array, found {}", j.type_name()));
  }
  const Json* member(const Json& j, const std::string& ptr, const char* key) {
    auto it = j.find(key);
    if (it == j.end()) {
      fail(ptr, fmt::format("missing member \"{}\"", key));
      return nullptr;
    }
    return &*it;
  }
};

void check_nftables(Checker& c, const Json& s) {
  if (!c.object(s, "/nftables")) return;
  const Json* rs = c.member(s, "/nftables", "ruleset");
  if (!rs || !c.array(*rs, "/nftables/ruleset")) return;
  for (std::size_t i = 0; i < rs->size(); ++i)
    if (!c.object((*rs)[i], fmt::format("/nftables/ruleset/{}", i))) return;
}

void check_legacy(Checker& c, const Json& s) {
  if (!c.object(s, "/iptables_legacy")) return;
  for (const char* fam : {"ipv4", "ipv6"}) {
    std::string p = fmt::format("/iptables_legacy/{}", fam);
    const Json* f = c.member(s, "/iptables_legacy", fam);
    if (!f || !c.object(*f, p)) return;
    const Json* tables = c.member(*f, p, "tables");
    if (!tables || !c.array(*tables, p + "/tables")) return;
    for (std::size_t t = 0; t < tables->size(); ++t) {
      std::string tp = fmt::format("{}/tables/{}", p, t);
      const Json& tab = (*tables)[t];
      if (!c.object(tab, tp)) return;
      const Json* chains = c.member(tab, tp, "chains");
      if (!chains || !c.array(*chains, tp + "/chains")) return;
      for (std::size_t k = 0; k < chains->size(); ++k) {
        std::string cp = fmt::format("{}/chains/{}", tp, k);
        if (!c.object((*chains)[k], cp)) return;
        const Json* rules = c.member((*chains)[k], cp, "rules");
        if (!rules || !c.array(*rules, cp + "/rules")) return;
      }
    }
  }
}

}  // namespace

Result<bool> validate_snapshot(const Json& doc, const std::string& name) {
  Checker c{name, {}};
  if (!c.object(doc, "")) return input_error(c.first_error);
  const Json* v = c.member(doc, "", "schema_version");
  if (!v) return input_error(c.first_error);
  if (!v->is_number_integer())
    return input_error(fmt::format("{}: /schema_version: expected an integer", name));
  int version = v->get<int>();
  if (version > kSnapshotSchemaVersion)
    return input_error(fmt::format(
        "{}: /schema_version: snapshot schema {} is newer than this dockfw-audit supports ({}); "
        "upgrade dockfw-audit",
        name, version, kSnapshotSchemaVersion));
  if (version < 1) return input_error(fmt::format("{}: /schema_version: invalid version {}", name, version));

  const Json* cols = c.member(doc, "", "collectors");
  if (!cols || !c.object(*cols, "/collectors")) return input_error(c.first_error);
  for (auto& [key, val] : cols->items()) {
    std::string p = "/collectors/" + key;
    if (!c.object(val, p)) return input_error(c.first_error);
    const Json* st = c.member(val, p, "status");
    if (!st) return input_error(c.first_error);
    if (!st->is_string() || collector_status_from(st->get<std::string>()) == CollectorStatus::unknown)
      return input_error(fmt::format("{}: {}/status: expected one of ok, absent, denied, error", name, p));
    if (st->get<std::string>() == "ok" && !doc.contains(key))
      return input_error(fmt::format("{}: {}: collector is ok but section /{} is missing", name, p, key));
  }
  if (auto it = doc.find("nftables"); it != doc.end() && !it->is_null()) check_nftables(c, *it);
  if (auto it = doc.find("iptables_legacy"); it != doc.end() && !it->is_null()) check_legacy(c, *it);
  if (!c.first_error.empty()) return input_error(c.first_error);
  return true;
}

Result<Snapshot> load_snapshot(const std::string& path) {
  auto j = read_json_file(path);
  if (!j) return j.error();
  auto v = validate_snapshot(*j, path);
  if (!v) return v.error();
  return Snapshot{std::move(*j)};
}

}  // namespace dfa
