// One normalized rule form for every source: nftables JSON (native
// expressions and iptables-nft xt expressions with their recovered
// parameters) and iptables-legacy rules, IPv4 and IPv6. The engine walks
// these; it never looks at nft JSON or libiptc structures again.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/addr.hpp"
#include "model/snapshot.hpp"

namespace dfa {

enum class Tri { no, yes, unknown };

// A packet on its way through the host, and what netfilter has done to it.
struct Packet {
  int family = 4;
  IpAddr saddr, daddr;
  std::string proto = "tcp";  // "tcp" or "udp"
  unsigned sport = 40000, dport = 0;
  std::string iif, oif;         // current interfaces ("" when none yet)
  std::string physin, physout;  // bridge ports under br_netfilter
  // Non-empty: the packet has a bridge port (physin/physout hold "?") but
  // which one is not in the snapshot (a bridge with several ports); says why.
  std::string physin_unknown, physout_unknown;
  bool bridged = false;         // bridged frame seen by the ip hooks (br_netfilter)
  // Bridged between two ports of one bridge without br_netfilter calling
  // the ip hooks: neither the frame nor its reply meets any ip hook.
  bool bridged_unseen = false;
  bool local_origin = false;
  // Conntrack: the first packet of a new connection, and its original tuple.
  // ct is false until the packet passes conntrack (priority -200 at
  // prerouting and output): chains before it see no connection at all.
  bool ct = false;
  bool reply = false;  // a reply of the connection (ct state established, direction reply)
  // Conntrack leaves it alone: IPv6 neighbour discovery, or a notrack rule
  // before conntrack. No NAT runs for it; ct state is "untracked".
  bool untracked = false;
  bool nd = false;  // IPv6 neighbour discovery: conntrack leaves it untracked when it passes
  // Non-empty: what ct expressions see for this packet is not modeled (the
  // reply to an untracked request meets conntrack as a packet of its own);
  // every ct test of it is then uncertain, naming this.
  std::string ct_unknown;
  // TCP flags of the packet: SYN for a first request, SYN|ACK for the first
  // reply, ACK for the later packets of either direction.
  unsigned tcp_flags = 0x02;
  // A later packet of the connection (ACK after the handshake's SYN): ct state
  // established; the NAT binding the first packet made applies, but no nat
  // chain runs for it.
  bool later = false;
  // Non-empty: a payload statement rewrote a field of the connection's tuple
  // (this rule): the reply carries the rewritten value back, which the model
  // does not follow, so a delivered answer is uncertain.
  std::string rewritten;
  // Elements this packet added to (or deleted from) sets that rules fill
  // from the packet path: (set, element as text). A later lookup of the
  // same packet sees them; what other packets added is not known.
  std::vector<std::pair<const std::string*, std::string>> set_adds, set_dels;
  std::string_view hook;    // the hook whose chains run ("prerouting", ...; a literal)
  std::string icmp_type;    // for proto "ipv6-icmp": "nd-neighbor-advert", ...
  // The IPv6 hop limit or IPv4 TTL as the host sees it; -1 where it depends
  // on the sender and the hops between (every probe but neighbour discovery,
  // whose packets carry 255 by RFC 4861).
  int hop_limit = -1;
  IpAddr orig_daddr;
  unsigned orig_dport = 0;
  bool dnat_done = false;
  // Source NAT. A request: the source it had before SNAT/masquerade at
  // postrouting (saddr is then the translated one). A reply: the address
  // conntrack puts back as its destination at the NAT priority (-100) of
  // prerouting; chains before it see the reply addressed to the translated
  // address. snat_unknown: the translated address is not known (a range or
  // an expression); says which rule.
  std::optional<IpAddr> snat_from;
  std::string snat_unknown;
  // The packet mark and the connection mark. A rule that sets one from
  // something the model does not follow makes it unknown (and every later
  // test of it uncertain), naming that rule.
  uint32_t mark = 0;
  uint32_t ctmark = 0;
  std::string mark_unknown, ctmark_unknown;  // non-empty: unknown, because of this rule
};

// Host facts rules consult (fib/addrtype, interface addresses).
struct HostView {
  std::vector<Prefix> local;                          // local-table entries
  // The same, looked up: single addresses (sorted) and wider prefixes.
  std::vector<IpAddr> local_addrs;
  std::vector<Prefix> local_nets;
  std::map<std::string, std::vector<IpAddr>> iface_addrs;
  bool is_local(const IpAddr& a) const;
  bool is_local_on(const IpAddr& a, const std::string& iface) const;
  // IPv6's reverse path test as nftables makes it (firewalld's
  // "fib saddr . mark . iif oif missing drop"): the main table's IPv6 routes,
  // and why the lookup is not modeled on this host (policy routing, VRFs,
  // no routes in the snapshot).
  struct Route6 {
    Prefix dst;
    std::string dev, type;
    uint64_t metric = 0;
  };
  std::vector<Route6> main6;
  std::vector<IpAddr> anycast6;  // the local table's anycast addresses (RTF_ANYCAST)
  std::string fib6_unmodeled;
  // Whether the route to saddr leaves by iif (nft_fib6_eval with saddr and
  // iif, at prerouting): yes (oif found), no (missing), unknown (why says).
  Tri fib6_saddr_iif(const IpAddr& saddr, const std::string& iif, std::string& why) const;
};

struct Rule;
struct Action {
  enum Kind { none, accept, drop, reject, ret, jump, go, dnat, redirect, snat, queue, vmap, unknown } kind = none;
  std::string chain;                // jump/goto target
  const struct Chain* target = nullptr;  // jump/goto: that chain in the rule's table, once the table is built
  std::optional<IpAddr> addr;       // dnat target address; snat's address when it names one
  // snat: masquerade (the address of the way out), or snat to addr; with
  // neither, the address is a range or an expression (reason says which).
  bool masquerade = false;
  unsigned port = 0;                // dnat/redirect port (0: keep)
  std::optional<std::pair<unsigned, unsigned>> port_range;  // dnat/redirect to a port range (port is its first)
  std::string reason;               // unknown: why
  std::vector<Rule> vmap_entries;   // vmap: one pseudo-rule per element
  // vmap keyed by one expression whose elements are all numbers (a map of
  // service ports): the key's value when it is a number (nullopt: unknown
  // or not a number, so the entries are scanned), and the first entry per
  // value. Exactly what scanning the entries gives, in one lookup.
  struct VmapIndex {
    std::function<std::optional<uint64_t>(const struct Packet&)> key;
    std::unordered_map<uint64_t, std::size_t> first;
  };
  std::shared_ptr<const VmapIndex> vmap_index;
};

using Cond = std::function<Tri(const Packet&, std::string& why)>;

// A rule whose only test is one exact address: many of them in a row (a
// blocklist, fail2ban's chains) are looked up instead of scanned.
struct AddrTest {
  bool src = true;  // saddr (or legacy -s); false: daddr
  int family = 4;
  IpAddr addr;
};
struct RuleRun;

// What a test reads, when it reads nothing but (against constants, so it
// never answers "unknown"): things every packet on one path has alike
// (interfaces, ports, protocol), the source address, or the destination
// address. A request's sender is its source, a reply's its destination.
enum class TestReads : std::uint8_t { path, saddr, daddr };

struct Rule {
  std::optional<AddrTest> addr_test;
  std::vector<unsigned> dports;  // non-empty: it can only match packets to one of these ports
  // Non-empty: it can only match packets of a connection first sent to one
  // of these ports (`ct original proto-dst`).
  std::vector<unsigned> ct_dports;
  std::optional<IpAddr> daddr;   // set: it can only match packets to this address
  bool names_sources = false;    // it can only match packets from some sources (names_sources)
  std::shared_ptr<RuleRun> run;  // set: this stands for a run of AddrTest rules
  std::vector<Cond> conds;
  std::vector<std::function<void(Packet&)>> effects;  // non-terminal: mark set, notrack, payload rewrite, set update
  // Non-empty: a statement of this rule is not modeled (this says which):
  // a walk that runs the rule is uncertain, whatever it ends in.
  std::string taint;
  // It tests TCP flags (nft "tcp flags", iptables --tcp-flags/--syn): the
  // first and the later packets of a connection may fare differently.
  bool tests_tcp_flags = false;
  Action action;
  // Walk sharing (SharedWalks): the rule's JSON in the snapshot, and what
  // its first tests read, up to the first test of another kind (TestReads).
  // Where one that reads no address of the sender's fails, the rule fails
  // for every sender on the same path: its tests of the sender's address,
  // evaluated or not, tell no two senders apart.
  const Json* json = nullptr;
  std::vector<TestReads> lead;
  std::string text;    // nft-like or iptables-save text, for people
  std::string origin;  // "nft inet filter input #3 (handle 5)" / "iptables-legacy ipv4 filter FORWARD #1"

  // Moved, not copied, when a chain's vector grows (Action holds Rules, so
  // the implicit move would not be noexcept).
  Rule() = default;
  Rule(const Rule&) = default;
  Rule(Rule&&) noexcept = default;
  Rule& operator=(const Rule&) = default;
  Rule& operator=(Rule&&) noexcept = default;
};

// Consecutive rules of one chain that each test only one exact address of
// the same field and family, in order: the first rule whose address is the
// packet's is the one that matches, exactly as a scan would find it.
struct RuleRun {
  bool src = true;
  int family = 4;
  std::map<IpAddr, std::size_t> first;  // address -> index of its first rule
  std::vector<Rule> rules;
};

// Rules of a long chain by the destination port they require, so a walk
// skips rules a packet's port cannot match.
struct PortIndex {
  std::vector<std::size_t> any;  // rules without a single-port or address requirement
  std::map<unsigned, std::vector<std::size_t>> by_port;
  std::map<IpAddr, std::vector<std::size_t>> by_daddr;
  std::vector<std::size_t> with_daddr;  // every rule of by_daddr, ascending
  // Per rule of with_daddr: two rules with one number have the same plain
  // tests (Rule::lead) but for those of the destination address, so they
  // close alike for any packet (Docker 28's `iifname != "docker0" ip daddr
  // X drop`, one per container address).
  std::vector<std::uint32_t> lead_group;
  // Rules by the port their connection was first sent to (Rule::ct_dports),
  // and all of them, ascending.
  std::map<unsigned, std::vector<std::size_t>> by_ct_port;
  std::vector<std::size_t> with_ct_port;
  // What a packet's `ct original proto-dst` loads, as the engine reads it:
  // nothing (no connection yet, or untracked: such a rule cannot match),
  // the port, or not known (every such rule may match).
  struct CtPort {
    enum Known { no, yes, unknown } known = no;
    unsigned port = 0;
  };
  // The first rule at or after i that a packet to daddr:dport may match.
  std::size_t next(const IpAddr& daddr, unsigned dport, CtPort ct, std::size_t i, std::size_t end) const;
};

// What a chain's rules can tell apart in a packet's ports (destination,
// source, and conntrack's copies of them): each port test against constants
// cuts the port space, and two ports in one cell fare alike in every rule of
// the chain. opaque: a rule reads a port some other way (a mask, a
// concatenated set, a set filled from the packet, a port range mapped by
// offset, a rule that could not be read), so no two ports are known alike.
struct PortCuts {
  bool opaque = false;
  std::vector<unsigned> cuts;  // sorted, unique: a cut c parts c-1 from c
  // The ports [lo, hi] that every rule of the chain treats as it treats port.
  std::pair<unsigned, unsigned> cell(unsigned port) const;
};

struct Chain {
  std::string name;
  std::vector<Rule> rules;
  std::shared_ptr<const PortIndex> index;  // for long chains
  PortCuts ports;
  // Whether a rule of the chain may read a request's destination address,
  // or anything that depends on it (rule_reads_destination). False: two
  // requests that differ only in their destination fare alike in every rule.
  bool reads_destination = true;
};

// Whether an nft rule object or a legacy rule may read a request's
// destination address, or anything routing makes of it (fib, rt, addrtype,
// oif, conntrack's tuple addresses, a payload rewrite, an unread construct).
// Exact in one direction only: false is said only of rules built from tests
// known not to (interfaces in, protocol, ports, source address, ct state,
// mark, TCP flags, ICMP, constant sets and maps) and known statements. A
// reply's source is the request's destination, so this says nothing of
// replies.
bool rule_reads_destination(const Json& rule, bool legacy);

// The exact-address test of an nft rule object or a legacy rule, if that is
// its only test (counters and log statements aside).
std::optional<AddrTest> single_address_test(const Json& rule, bool legacy, int legacy_family);

// What an nft match reads, when it is one of TestReads; and whether a
// rule's first test is (Rule::lead).
std::optional<TestReads> plain_test(const Json& match);
bool opens_with_plain_test(const Json& rule, bool legacy);

using PortRanges = std::vector<std::pair<unsigned, unsigned>>;
// "8080", "7000:7002", 8080 or {"range": [a, b]}.
std::optional<std::pair<unsigned, unsigned>> port_range(const Json& v);
// The destination ports a rule can match, when it tests them against
// constants (nft tcp/udp/th dport ==, iptables --dport); nullopt: any. A
// necessary condition only: a packet to another port cannot match the rule.
std::optional<PortRanges> dport_constraint(const Json& rule, bool legacy);
// The same for `ct original proto-dst` in an nft rule.
std::optional<PortRanges> ct_dport_constraint(const Json& rule);
// The one destination address a rule requires (nft ip daddr ==, iptables -d
// ADDR/32), if any: a necessary condition like dport_constraint.
std::optional<IpAddr> daddr_constraint(const Json& rule, bool legacy);
// Whether the rule matches only packets from some source addresses (ip saddr
// ==/in a prefix, address or set; iptables -s), other than everyone (/0).
bool names_sources(const Json& rule, bool legacy);
// Whether two nft rule objects are in the same chain (family, table, chain):
// a ruleset lists each chain's rules together, so readers look a chain up
// only when this changes.
bool same_nft_chain(const Json& a, const Json& b);
inline constexpr std::size_t kAddrRunMin = 8;  // shorter runs are scanned

// A base chain at a hook: an nft base chain or a legacy builtin chain.
struct BaseChain {
  std::string source;  // "nft" or "legacy"
  std::string family;  // nft family ("ip", "ip6", "inet") or "ipv4"/"ipv6" for legacy
  std::string table, chain, hook, type;
  int priority = 0;
  std::string policy = "accept";
  std::vector<std::string> devices;  // netdev/inet ingress and egress chains: the devices they are bound to
  bool can_drop = true;  // false: an accept policy and no rule in its table (it cannot change a verdict)
  const std::map<std::string, Chain>* chains = nullptr;  // the chains of its table
  std::string label_text;  // set by build_ruleset (walks read it for every packet)
  std::string policy_text;  // "policy accept of LABEL", likewise
  const Chain* start = nullptr;  // its chain in `chains`, likewise
  const std::string& label() const { return label_text; }  // "nft inet filter input" / "iptables-legacy ipv4 nat PREROUTING"
  bool applies_to(int family) const;
};
// "nft inet filter input", "iptables-legacy ipv4 filter DOCKER": a chain of
// b's table as the source partition names it (exposure.cpp).
std::string chain_label(const BaseChain& b, const Chain& c);

struct Ruleset {
  // (source, family, table) -> chains
  std::map<std::string, std::map<std::string, Chain>> tables;
  std::vector<BaseChain> base;
  std::vector<std::string> problems;  // collectors denied/failed: analysis uncertain
  // Sets ("family table name") that rules fill from the packet path: their
  // contents depend on earlier packets.
  std::set<std::string> dynamic_sets;
  // Base chains of families the walks do not run (netdev, bridge, arp), as
  // "nft FAMILY TABLE CHAIN (hook HOOK[, devices])": any of them that can drop
  // makes the paths it sees uncertain (see the engine).
  std::vector<BaseChain> unmodeled_base;
  // Conntrack runs in a network namespace only once something uses it (a ct
  // expression, a NAT statement, a conntrack match, a NAT target). Without
  // it no nat chain runs at all, not even to drop.
  bool conntrack_active = false;
  // Some rule tests TCP flags (Rule::tests_tcp_flags): the first packet of a
  // connection (SYN) may be let through while later ones (ACK) are not, so
  // walks check those too.
  bool tests_tcp_flags = false;
};

Ruleset build_ruleset(const Snapshot& s, const HostView& host);
HostView build_host_view(const Snapshot& s);
// An nft rule (a "rule" object of the JSON ruleset) as nft-like text.
std::string render_nft_rule(const Json& rule);
// An element of an nft set or map (one of a set's "elem") as nft-like text
// ("10.0.0.0/8", "80 : accept", "docker0 : jump x", "192.0.2.1 timeout 600"),
// without what changes on its own (expires, counters): its identity in a
// baseline. Values render_nft_rule cannot name keep their JSON.
std::string render_nft_element(const Json& el);

}  // namespace dfa
