#include "collect/xt.hpp"

#include <fmt/format.h>

#include "collect/xt_decode.h"

namespace dfa {

std::string hex(const void* data, std::size_t len) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(len * 2, '0');
  auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < len; ++i) {
    s[2 * i] = digits[p[i] >> 4];
    s[2 * i + 1] = digits[p[i] & 15];
  }
  return s;
}

std::string proto_name(unsigned proto) {
  switch (proto) {
    case 1: return "icmp";
    case 6: return "tcp";
    case 17: return "udp";
    case 50: return "esp";
    case 51: return "ah";
    case 58: return "ipv6-icmp";
    case 132: return "sctp";
    case 135: return "mobility-header";
    case 136: return "udplite";
  }
  return std::to_string(proto);
}

namespace {

struct Ctx {
  Json params = Json::object();
  const SetNameResolver* sets = nullptr;
};

void on_kv(void* c, const char* key, const char* value, int type) {
  auto* ctx = static_cast<Ctx*>(c);
  switch (type) {
    case DFA_KV_BOOL: ctx->params[key] = std::string_view(value) == "true"; break;
    case DFA_KV_INT: ctx->params[key] = std::stoll(value); break;
    default: ctx->params[key] = value;
  }
}

int on_setname(void* c, unsigned index, char* name, size_t cap) {
  auto* ctx = static_cast<Ctx*>(c);
  if (!ctx->sets || !*ctx->sets) return 0;
  std::string n;
  if (!(*ctx->sets)(index, n)) return 0;
  fmt::format_to_n(name, cap - 1, "{}", n);
  name[std::min(n.size(), cap - 1)] = 0;
  return 1;
}

}  // namespace

Json decode_xt(int family, XtKind kind, std::string_view name, unsigned revision, const void* data,
               std::size_t len, const SetNameResolver& sets) {
  Ctx ctx;
  ctx.sets = &sets;
  dfa_xt_out out{};
  out.kv = on_kv;
  out.kv_ctx = &ctx;
  out.setname = on_setname;
  out.setname_ctx = &ctx;
  std::string n(name);
  int ok = dfa_xt_decode(family, kind == XtKind::match ? DFA_XT_MATCH : DFA_XT_TARGET, n.c_str(),
                         revision, data, len, &out);
  Json j;
  j["name"] = n;
  j["revision"] = revision;
  j["decoded"] = ok == 1;
  // The raw payload always travels with the decoding: a newer dockfw-audit
  // can re-decode an old snapshot, and tests replay captured payloads.
  j["raw"] = hex(data, len);
  if (ok) {
    j["params"] = std::move(ctx.params);
    j["text"] = out.text;
    if (kind == XtKind::match && n != out.save_name) j["save_name"] = out.save_name;
  } else {
    j["params"] = Json::object();
    j["reason"] = fmt::format("no decoder for {} {} revision {} ({} bytes)",
                              kind == XtKind::match ? "match" : "target", n, revision, len);
  }
  return j;
}

std::string legacy_rule_text(std::string_view chain, const Json& r) {
  std::string s = fmt::format("-A {}", chain);
  auto inv = [&](const char* key) { return r.value(key, false) ? " !" : ""; };
  if (auto v = r.value("src", ""); !v.empty()) s += fmt::format("{} -s {}", inv("src_invert"), v);
  if (auto v = r.value("dst", ""); !v.empty()) s += fmt::format("{} -d {}", inv("dst_invert"), v);
  if (auto v = r.value("in_iface", ""); !v.empty()) s += fmt::format("{} -i {}", inv("in_invert"), v);
  if (auto v = r.value("out_iface", ""); !v.empty()) s += fmt::format("{} -o {}", inv("out_invert"), v);
  if (auto v = r.value("protocol", ""); !v.empty()) s += fmt::format("{} -p {}", inv("protocol_invert"), v);
  if (auto v = r.value("fragment", ""); v == "only") s += " -f";
  else if (v == "not") s += " ! -f";
  for (const auto& m : r.at("matches")) {
    s += fmt::format(" -m {}", m.value("save_name", m.value("name", "")));
    s += m.value("text", "");
  }
  const Json& t = r.at("target");
  std::string kind = t.value("kind", "");
  if (kind == "goto")
    s += fmt::format(" -g {}", t.value("name", ""));
  else if (kind != "none")
    s += fmt::format(" -j {}", t.value("name", ""));
  s += t.value("text", "");
  return s;
}

}  // namespace dfa
