// The live nftables ruleset through libnftables (JSON), with the parameters
// of iptables-nft's compat expressions recovered from the kernel through
// libnftnl and attached to each {"xt": ...} expression in place.
#include <fmt/format.h>
#include <nftables/libnftables.h>

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>
#include <stdexcept>
#include <vector>
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

ListResult list_ruleset(const std::string& cmd = "list ruleset", bool json = true, bool terse = false) {
  NftCtx ctx;
  ListResult r;
  if (!ctx.get()) {
    r.error = "nft_ctx_new failed";
    return r;
  }
  unsigned flags = json ? NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE : 0;
  if (terse) flags |= NFT_CTX_OUTPUT_TERSE;
  nft_ctx_output_set_flags(ctx.get(), flags);
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

// Named sets' elements. Listing a 100,000-element interval set costs
// libnftables about 0.6 s of its own (interval decomposition, JSON) beside
// the kernel's 0.4 s dump, and the rest of such a ruleset 0.07 s; decoding
// the kernel's elements here costs a fraction of that. So the ruleset is
// listed terse (every named set, map and meter without its elements), and
// each gets them back:
// - a set of addresses (ipv4_addr, ipv6_addr, plain or interval, no flags
//   but those) from the kernel's own elements, decoded here into what
//   libnftables prints: addresses, prefixes where a range is one, ranges,
//   in ascending order (the kernel collector test compares the whole
//   listing with nft's on sets of every shape, and a random one);
// - every other set, map or meter, and an address set whose elements carry
//   anything beside a key (a timeout, a comment, a counter), through
//   libnftables one set at a time, with a JSON command so any name works.
// DFA_NFT_ELEMENTS=libnftables lists every element through libnftables;
// DFA_NFT_ELEMENTS=kernel (for the kernel collector test) makes an address
// set of plain elements that cannot be decoded here an error instead of a
// quiet fallback, so the test shows the decoding, not the fallback, right.
enum class ElementsVia { fast, library, strict };

ElementsVia elements_via() {
  static const ElementsVia via = [] {
    const char* e = std::getenv("DFA_NFT_ELEMENTS");
    std::string v = e ? e : "";
    return v == "libnftables" ? ElementsVia::library : v == "kernel" ? ElementsVia::strict : ElementsVia::fast;
  }();
  return via;
}
struct RawElem {
  unsigned __int128 key;
  bool end;
};

struct ElemDump {
  std::size_t width;  // key bytes: 4 or 16
  std::vector<RawElem> elems;
  bool ok = true;     // every key of the set's width
  bool plain = true;  // no element carries more than its key
};

int on_elem(void* c, const dfa_nft_elem* e) {
  auto* d = static_cast<ElemDump*>(c);
  if (!e->plain) {
    d->plain = false;
    return 1;
  }
  if (!e->key || e->key_len != d->width) {
    d->ok = false;
    return 1;
  }
  unsigned __int128 k = 0;
  for (std::size_t i = 0; i < d->width; ++i) k = (k << 8) | static_cast<const unsigned char*>(e->key)[i];
  d->elems.push_back({k, e->end != 0});
  return 0;
}

std::string address_text(unsigned __int128 v, std::size_t width) {
  unsigned char b[16];
  for (std::size_t i = width; i-- > 0;) {
    b[i] = static_cast<unsigned char>(v & 0xff);
    v >>= 8;
  }
  char text[INET6_ADDRSTRLEN];
  inet_ntop(width == 4 ? AF_INET : AF_INET6, b, text, sizeof text);
  return text;
}

// What libnftables prints for [lo, hi]: one address, a prefix when the
// range is exactly one, else a range.
Json interval_json(unsigned __int128 lo, unsigned __int128 hi, std::size_t width) {
  if (lo == hi) return address_text(lo, width);
  const unsigned __int128 span = hi - lo;  // all ones below some bit: a prefix
  if ((span & (span + 1)) == 0 && (lo & span) == 0) {
    int host_bits = 0;
    for (unsigned __int128 x = span; x; x >>= 1) ++host_bits;
    return {{"prefix", {{"addr", address_text(lo, width)}, {"len", static_cast<int>(width * 8) - host_bits}}}};
  }
  return {{"range", Json::array({address_text(lo, width), address_text(hi, width)})}};
}

// The elements as libnftables lists them, or nullopt for a shape this does
// not know (then libnftables lists the set).
std::optional<Json> decode_elements(ElemDump& d, bool interval) {
  auto& v = d.elems;
  // Ascending; at one key an interval's end (exclusive) before the next start.
  std::sort(v.begin(), v.end(), [](const RawElem& a, const RawElem& b) {
    return a.key != b.key ? a.key < b.key : a.end && !b.end;
  });
  Json out = Json::array();
  if (!interval) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i].end || (i && v[i].key == v[i - 1].key)) return std::nullopt;
      out.push_back(address_text(v[i].key, d.width));
    }
    return out;
  }
  const unsigned __int128 max = d.width == 4 ? 0xffffffffu : ~static_cast<unsigned __int128>(0);
  std::optional<unsigned __int128> open;
  for (const auto& e : v) {
    if (!e.end) {
      if (open) return std::nullopt;  // two starts in a row: not the rbtree's shape
      open = e.key;
    } else if (open) {
      if (e.key <= *open) return std::nullopt;
      out.push_back(interval_json(*open, e.key - 1, d.width));
      open.reset();
    }
    // An end with no start before it closes nothing (nft marks the
    // addresses below the first interval that way).
  }
  if (open) out.push_back(interval_json(*open, max, d.width));  // up to the last address
  return out;
}

std::optional<Json> kernel_elements(const Json& set) {
  const std::string type = set.value("type", "");
  if (type != "ipv4_addr" && type != "ipv6_addr") return std::nullopt;
  bool interval = false;
  if (auto f = set.find("flags"); f != set.end()) {
    if (!f->is_array()) return std::nullopt;
    for (const auto& x : *f) {
      if (x == "interval")
        interval = true;
      else if (x != "constant")
        return std::nullopt;
    }
  }
  if (set.contains("stmt") || set.contains("timeout")) return std::nullopt;
  ElemDump d{type == "ipv4_addr" ? std::size_t{4} : std::size_t{16}, {}, true, true};
  char err[256];
  int rc = dfa_nft_set_elems(set.value("family", "").c_str(), set.value("table", "").c_str(),
                             set.value("name", "").c_str(), on_elem, &d, err, sizeof err);
  if (rc == 0 && !d.plain) return std::nullopt;  // comments, timeouts, counters: libnftables prints them
  std::optional<Json> out = rc == 0 && d.ok ? decode_elements(d, interval) : std::nullopt;
  if (!out && elements_via() == ElementsVia::strict)
    throw std::runtime_error(fmt::format("set {} {} {}: its elements could not be decoded from the kernel ({})",
                                         set.value("family", ""), set.value("table", ""), set.value("name", ""),
                                         rc ? err : "an unknown shape"));
  return out;
}

// One set, map or meter listed by libnftables; nullopt when that fails.
std::optional<Json> libnftables_elements(const std::string& kind, const Json& set) {
  Json what = {{"family", set.value("family", "")}, {"table", set.value("table", "")}, {"name", set.value("name", "")}};
  Json list = Json::object();
  list["list"][kind] = std::move(what);
  Json cmd;
  cmd["nftables"] = Json::array({std::move(list)});
  ListResult lr = list_ruleset(cmd.dump());
  if (!lr.ok) return std::nullopt;
  auto parsed = parse_json_text(lr.output, "nft list " + kind + " output");
  if (!parsed || !parsed->contains("nftables")) return std::nullopt;
  for (auto& o : (*parsed)["nftables"])
    if (auto it = o.find(kind); it != o.end() && it->value("handle", uint64_t{0}) == set.value("handle", uint64_t{1}))
      return it->contains("elem") ? std::move((*it)["elem"]) : Json::array();
  return std::nullopt;
}

// The kernel's element dumps of address sets, started before the ruleset is
// listed. The dump of a 100,000-interval set (the kernel restarts its walk
// of the set for every netlink message) and libnftables' listing of the
// rest (Docker's rules) are the collector's two largest costs and share
// nothing, so on two cores the collector costs the longer, not the sum. The
// sets come from a terse `list sets`; a set is taken from here only where
// the ruleset's own listing shows it with the same definition, handle
// included, and the generation check around both reads holds the rest.
using SetKey = std::tuple<std::string, std::string, std::string>;
struct EarlySet {
  Json set;                    // the definition `list sets` showed
  std::optional<Json> elems;   // what kernel_elements gave for it
};
using EarlySets = std::map<SetKey, EarlySet>;

SetKey set_key(const Json& set) {
  return {set.value("family", ""), set.value("table", ""), set.value("name", "")};
}

// The address sets to dump, read here (libnftables stays on one thread);
// empty when `list sets` fails, and every set is then dumped in order.
std::vector<Json> address_sets() {
  std::vector<Json> out;
  ListResult lr = list_ruleset("list sets", true, true);
  if (!lr.ok) return out;
  auto parsed = parse_json_text(lr.output.empty() ? std::string("{\"nftables\":[]}") : lr.output,
                                "nft list sets output");
  if (!parsed || !parsed->contains("nftables")) return out;
  for (auto& o : (*parsed)["nftables"])
    if (auto it = o.find("set"); it != o.end() && it->is_object()) {
      const std::string type = it->value("type", "");
      if (type == "ipv4_addr" || type == "ipv6_addr") out.push_back(std::move(*it));
    }
  return out;
}

// Runs on a thread of its own: kernel_elements uses only its own netlink
// socket and builds its own values.
// DFA_TIMING=1 prints what the dumps cost beside the listing.
EarlySets dump_early(std::vector<Json> sets) {
  const auto t0 = std::chrono::steady_clock::now();
  EarlySets out;
  for (auto& s : sets) {
    std::optional<Json> elems = kernel_elements(s);
    SetKey k = set_key(s);
    out.insert_or_assign(std::move(k), EarlySet{std::move(s), std::move(elems)});
  }
  if (std::getenv("DFA_TIMING"))
    std::fprintf(stderr, "dockfw-audit: timing: nftables set elements (beside the listing) %.1f ms\n",
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  return out;
}

// Gives every named set of a terse listing its elements; false when one
// could not be read (the caller then lists the whole ruleset).
bool fill_elements(Json& ruleset, EarlySets early) {
  for (auto& o : ruleset)
    for (const char* kind : {"set", "map", "meter"}) {
      auto it = o.find(kind);
      if (it == o.end() || !it->is_object()) continue;
      std::optional<Json> elems;
      if (std::string(kind) == "set") {
        auto e = early.find(set_key(*it));
        elems = e != early.end() && e->second.set == *it ? std::move(e->second.elems) : kernel_elements(*it);
      }
      if (!elems) elems = libnftables_elements(kind, *it);
      if (!elems) return false;
      if (!elems->empty()) (*it)["elem"] = std::move(*elems);
    }
  return true;
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
    const bool via_library = elements_via() == ElementsVia::library;
    std::future<EarlySets> early;
    if (!via_library) early = std::async(std::launch::async, dump_early, address_sets());
    ListResult lr = list_ruleset("list ruleset", true, !via_library);
    if (!lr.ok) {
      return {{CollectorStatus::error, fmt::format("nft list ruleset failed: {}", lr.error)}, nullptr};
    }
    auto parsed = parse_json_text(lr.output.empty() ? std::string("{\"nftables\":[]}") : lr.output,
                                  "nft list ruleset output");
    if (!parsed) return {{CollectorStatus::error, parsed.error().message}, nullptr};
    Json ruleset = parsed->contains("nftables") ? std::move((*parsed)["nftables"]) : Json::array();
    Json out = object_with_room(8);  // "ruleset" is the fourth of five members
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
    bool filled = via_library;
    if (!filled) try {
        filled = fill_elements(ruleset, early.get());
      } catch (const std::runtime_error& e) {
        return {{CollectorStatus::error, e.what()}, nullptr};
      }
    if (!filled) {
      lr = list_ruleset();  // a set could not be listed alone: list everything
      if (!lr.ok) return {{CollectorStatus::error, fmt::format("nft list ruleset failed: {}", lr.error)}, nullptr};
      parsed = parse_json_text(lr.output.empty() ? std::string("{\"nftables\":[]}") : lr.output,
                               "nft list ruleset output");
      if (!parsed) return {{CollectorStatus::error, parsed.error().message}, nullptr};
      ruleset = parsed->contains("nftables") ? std::move((*parsed)["nftables"]) : Json::array();
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
