// The live nftables ruleset through libnftables (JSON), with the parameters
// of iptables-nft's compat expressions recovered from the kernel through
// libnftnl and attached to each {"xt": ...} expression in place.
#include <fmt/format.h>
#include <nftables/libnftables.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <map>
#include <set>
#include <memory>
#include <tuple>

#include "collect/collect.hpp"
#include "collect/nft_compat.h"
#include "collect/xt.hpp"
#include "collect/xt_decode.h"

namespace dfa {
namespace {

// One owner for the libnftables context.
class NftCtx {
 public:
  NftCtx() : ctx_(nft_ctx_new(NFT_CTX_DEFAULT)) {}
  ~NftCtx() {
    if (ctx_) nft_ctx_free(ctx_);
  }
  NftCtx(const NftCtx&) = delete;
  NftCtx& operator=(const NftCtx&) = delete;
  nft_ctx* get() const { return ctx_; }

 private:
  nft_ctx* ctx_;
};

struct ListResult {
  bool ok = false;
  std::string output, error;
};

ListResult list_ruleset(const std::string& cmd = "list ruleset", bool json = true) {
  NftCtx ctx;
  ListResult r;
  if (!ctx.get()) {
    r.error = "nft_ctx_new failed";
    return r;
  }
  nft_ctx_output_set_flags(ctx.get(), json ? NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE : 0);
  nft_ctx_buffer_output(ctx.get());
  nft_ctx_buffer_error(ctx.get());
  int rc = nft_run_cmd_from_buffer(ctx.get(), cmd.c_str());
  // Copy both buffers now: the next read would rewind them.
  const char* out = nft_ctx_get_output_buffer(ctx.get());
  const char* err = nft_ctx_get_error_buffer(ctx.get());
  r.output = out ? out : "";
  r.error = err ? err : "";
  r.ok = rc == 0;
  return r;
}

using RuleKey = std::tuple<std::string, std::string, std::string, uint64_t>;

struct CompatIndex {
  std::map<RuleKey, std::map<unsigned, Json>> by_rule;  // ordinal -> decoded
};

void on_compat(void* c, const dfa_nft_xt* x) {
  auto* idx = static_cast<CompatIndex*>(c);
  std::string fam = x->family;
  int family = fam == "ip6" ? 6 : 4;
  Json d;
  if (fam == "ip" || fam == "ip6")
    d = decode_xt(family, x->kind == DFA_XT_MATCH ? XtKind::match : XtKind::target, x->name,
                  x->revision, x->data, x->len);
  else {
    d["name"] = x->name;
    d["revision"] = x->revision;
    d["decoded"] = false;
    d["params"] = Json::object();
    d["raw"] = hex(x->data, x->len);
    d["reason"] = fmt::format("no decoder for {} compat expressions", fam);
  }
  idx->by_rule[{fam, x->table, x->chain, x->handle}][x->ordinal] = std::move(d);
}

// The (family, table) pairs whose rules hold compat expressions.
std::set<std::pair<std::string, std::string>> tables_with_xt(const Json& ruleset) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& obj : ruleset)
    if (auto r = obj.find("rule"); r != obj.end())
      for (const auto& e : array_member(*r, "expr"))
        if (e.contains("xt")) {
          out.emplace(r->value("family", ""), r->value("table", ""));
          break;
        }
  return out;
}

// Attaches decoded parameters to every xt expression; returns the ones that
// could not be decoded (kept by name and flagged, never dropped).
Json attach_compat(Json& ruleset, const CompatIndex& idx) {
  Json undecoded = Json::array();
  for (auto& obj : ruleset) {
    auto r = obj.find("rule");
    if (r == obj.end()) continue;
    RuleKey key{r->value("family", ""), r->value("table", ""), r->value("chain", ""), r->value("handle", uint64_t{0})};
    auto found = idx.by_rule.find(key);
    unsigned ordinal = 0;
    for (auto& e : (*r)["expr"]) {
      auto xt = e.find("xt");
      if (xt == e.end()) continue;
      unsigned k = ordinal++;
      const Json* d = nullptr;
      if (found != idx.by_rule.end())
        if (auto it = found->second.find(k); it != found->second.end()) d = &it->second;
      if (d && d->value("name", "") == xt->value("name", "")) {
        for (auto& [kk, vv] : d->items())
          if (kk != "name") (*xt)[kk] = vv;
      } else {
        (*xt)["decoded"] = false;
        (*xt)["reason"] = "compat expression not found in the kernel dump";
      }
      if (!xt->value("decoded", false))
        undecoded.push_back({{"family", std::get<0>(key)}, {"table", std::get<1>(key)},
                             {"chain", std::get<2>(key)}, {"handle", std::get<3>(key)},
                             {"name", xt->value("name", "")}, {"reason", xt->value("reason", "")}});
    }
  }
  return undecoded;
}

// libnftables 1.0.6's JSON leaves out the device of an ingress or egress
// chain; its text listing has it ("hook ingress device "eth0"" or
// "devices = { eth0, eth1 }"). Adds "dev" to each such chain where found.
void add_chain_devices(Json& ruleset) {
  for (auto& o : ruleset) {
    auto c = o.find("chain");
    if (c == o.end() || c->contains("dev")) continue;
    std::string hook = c->value("hook", "");
    if (hook != "ingress" && hook != "egress") continue;
    std::string fam = c->value("family", ""), table = c->value("table", ""), name = c->value("name", "");
    // Names nft's grammar takes unquoted only; any other stays without a
    // device, and the analysis says so.
    auto plain = [](const std::string& x) {
      return !x.empty() && std::all_of(x.begin(), x.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.';
      });
    };
    if (!plain(fam) || !plain(table) || !plain(name)) continue;
    ListResult lr = list_ruleset(fmt::format("list chain {} {} {}", fam, table, name), false);
    if (!lr.ok) continue;
    std::vector<std::string> devs;
    auto word = [](const std::string& t, std::size_t i) {
      while (i < t.size() && (t[i] == ' ' || t[i] == '"')) ++i;
      std::size_t j = i;
      while (j < t.size() && t[j] != '"' && t[j] != ' ' && t[j] != ',' && t[j] != '}' && t[j] != '\n' && t[j] != ';') ++j;
      return t.substr(i, j - i);
    };
    const std::string& t = lr.output;
    if (auto k = t.find(" devices = {"); k != std::string::npos) {
      std::size_t end = t.find('}', k);
      for (std::size_t i = k + 12; i < end && end != std::string::npos;) {
        std::string w = word(t, i);
        if (!w.empty()) devs.push_back(w);
        std::size_t comma = t.find(',', i);
        if (comma == std::string::npos || comma > end) break;
        i = comma + 1;
      }
    } else if (auto d = t.find(" device "); d != std::string::npos) {
      std::string w = word(t, d + 8);
      if (!w.empty()) devs.push_back(w);
    }
    if (devs.size() == 1) (*c)["dev"] = devs.front();
    else if (!devs.empty()) (*c)["dev"] = devs;
  }
}

}  // namespace

Collected collect_nftables(const CollectOptions&) {
  if (!has_cap_net_admin())
    return {{CollectorStatus::denied, denied_reason("listing the nftables ruleset")}, nullptr};
  // The JSON listing and the compat dump are two reads; retry if the ruleset
  // generation changed between them, so the parameters belong to these rules.
  for (int attempt = 0; attempt < 5; ++attempt) {
    char err[256];
    uint32_t gen_before = 0, gen_after = 0;
    bool have_gen = dfa_nft_genid(&gen_before, err, sizeof err) == 0;
    ListResult lr = list_ruleset();
    if (!lr.ok) {
      return {{CollectorStatus::error, fmt::format("nft list ruleset failed: {}", lr.error)}, nullptr};
    }
    auto parsed = parse_json_text(lr.output.empty() ? std::string("{\"nftables\":[]}") : lr.output,
                                  "nft list ruleset output");
    if (!parsed) return {{CollectorStatus::error, parsed.error().message}, nullptr};
    Json ruleset = parsed->contains("nftables") ? std::move((*parsed)["nftables"]) : Json::array();
    Json out;
    Json meta = Json::object();
    for (const auto& o : ruleset)
      if (o.contains("metainfo")) meta = o["metainfo"];
    out["version"] = meta.value("version", "");
    out["json_schema_version"] = meta.value("json_schema_version", 0);
    if (meta.value("json_schema_version", 0) != 1) {
      return {{CollectorStatus::error,
               fmt::format("unsupported libnftables JSON schema version {}", meta.value("json_schema_version", 0))},
              nullptr};
    }
    add_chain_devices(ruleset);
    Json undecoded = Json::array();
    if (auto tables = tables_with_xt(ruleset); !tables.empty()) {
      CompatIndex idx;
      std::string failures;
      for (const auto& [family, table] : tables)
        if (dfa_nft_compat_dump(family.c_str(), table.c_str(), on_compat, &idx, err, sizeof err) != 0)
          failures += fmt::format("{}{} {}: {}", failures.empty() ? "" : "; ", family, table, err);
      undecoded = attach_compat(ruleset, idx);
      if (!failures.empty())
        for (auto& u : undecoded) u["reason"] = fmt::format("reading compat expressions failed: {}", failures);
    }
    if (have_gen && dfa_nft_genid(&gen_after, err, sizeof err) == 0 && gen_after != gen_before) continue;
    out["generation"] = have_gen ? Json(gen_before) : Json(nullptr);
    out["ruleset"] = std::move(ruleset);
    out["undecoded_xt"] = std::move(undecoded);
    CollectorReport rep;
    if (!out["undecoded_xt"].empty())
      rep.reason = fmt::format("{} iptables-nft expression(s) could not be decoded", out["undecoded_xt"].size());
    return {rep, std::move(out)};
  }
  return {{CollectorStatus::error, "the nftables ruleset kept changing while it was read"}, nullptr};
}

}  // namespace dfa
