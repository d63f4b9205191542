// The guard's chains before they are written (private to src/remediate/):
// make_guard writes them as one nftables table; the ufw style
// (docker_user.cpp) writes the same rules as iptables rules in DOCKER-USER.
#pragma once
#include <string>
#include <vector>

#include "model/addr.hpp"
#include "model/json_io.hpp"
#include "remediate/guard.hpp"

namespace dfa::guard_detail {

// What a match or statement is, for a writer other than nft's.
struct Part {
  enum Kind {
    other,     // no iptables counterpart (fib, oifname, dnat)
    iif,       // names: the interfaces (any of them)
    iif_not,   // names[0]
    nfproto,   // family
    daddr,     // prefixes (any of them), family
    saddr,     // prefixes, family
    l4proto,   // names[0]
    dport,     // names[0] the protocol, port
    ct_new,    // ct state new
    ct_dnat,   // ct status dnat
    ct_odport,  // ct original proto-dst port
    verdict,   // names[0]: drop, return, accept
    jump,      // names[0]: the chain
  } kind = other;
  std::vector<std::string> names;
  std::vector<Prefix> prefixes;
  int family = 0;
  unsigned port = 0;
  static Part of(Kind k, std::vector<std::string> names = {}, std::vector<Prefix> prefixes = {}, int family = 0,
                 unsigned port = 0) {
    Part p;
    p.kind = k;
    p.names = std::move(names);
    p.prefixes = std::move(prefixes);
    p.family = family;
    p.port = port;
    return p;
  }
};

// One match or statement of a rule, as nft text, as libnftables JSON and as
// what it is.
struct Expr {
  Expr(std::string t, Json j, Part p = {}) : text(std::move(t)), json(std::move(j)), part(std::move(p)) {}
  std::string text;
  Json json;
  Part part;
};
struct GRule {
  std::vector<Expr> exprs;
  std::string comment;  // a line above the rule in the script
};
struct GChain {
  std::string name, hook;  // hook "" for a regular chain
  int prio = 0;
  std::string prio_text;  // "raw", "filter - 10"
  std::vector<GRule> rules;
  std::string type = "filter";  // or "nat"
};

// The guard's chains for this exposure and policy, base chains first; the
// intent lines go to rem.intent. Chains without rules are left out.
std::vector<GChain> guard_chains(const Engine& engine, const Exposure& x, const GuardPolicy& policy, Remediation& rem);

// libnftables JSON: a match, meta KEY, payload PROTO FIELD, an address or
// prefix (a plain address when it is one host).
Json match(const char* op, Json left, Json right);
Json meta(const char* key);
Json payload(const char* proto, const char* field);
Json prefix_json(const Prefix& p);

// The ufw style's rules put into the snapshot document (docker_user.cpp).
void with_iptables_rules(Json& doc, const Remediation& r);

}  // namespace dfa::guard_detail
