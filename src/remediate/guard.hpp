// Remediation, guard style (docs/remediate.md): keeps Docker's rules and adds
// one nftables table of its own, inet dockfw_guard, that enforces the
// intended exposure in front of them:
//   - raw prerouting: packets for 127.0.0.0/8 from other hosts (moby#45610)
//     and for container addresses arriving on external interfaces (direct
//     routing) are dropped before conntrack or NAT;
//   - forward and input at priority filter - 10: new connections to a
//     published host port (by the connection's original destination port, so
//     both the DNAT path and docker-proxy are covered) from sources the
//     intent closes are dropped.
// The intent comes from a policy file, or is inferred from the admin's own
// filter rules: a port is meant closed to a source class when the filter
// chains drop it on the path without Docker's NAT (the input chain that the
// DNAT bypasses), or on the real path; and a port closed to a whole interface
// in one IP family is meant closed in the other.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "analyze/exposure.hpp"
#include "findings/report.hpp"
#include "model/result.hpp"

namespace dfa {

struct GuardPolicy {
  struct Port {
    std::string spec;  // "8080/tcp" or "*"
    bool any = false;  // "allow": ["any"]
    std::vector<Prefix> allow;
  };
  bool given = false;  // false: infer the intent from the rules
  std::vector<Port> ports;
  bool deny_direct_routing = true;
  bool deny_remote_loopback = true;
};
inline constexpr int kGuardPolicySchemaVersion = 1;
Result<GuardPolicy> load_guard_policy(const std::string& path);
Result<GuardPolicy> parse_guard_policy(std::string_view text, const std::string& path);

// The ufw style (docs/remediate.md): the guard's forward rules as iptables
// rules in chains of its own, jumped first from Docker's DOCKER-USER, for
// ufw's after.rules and after6.rules.
struct IptRule {
  std::string chain;
  std::string iif;
  bool iif_not = false;
  std::optional<Prefix> src;
  std::string proto;  // "" any
  struct Conntrack {  // one -m conntrack
    std::string state;  // NEW, DNAT; "" none
    bool state_invert = false;
    std::optional<Prefix> origdst;
    unsigned origdstport = 0;  // 0 none
  };
  std::vector<Conntrack> conntrack;
  std::string target;  // DROP, RETURN, ACCEPT or a chain of ours
  bool jump() const { return target != "DROP" && target != "RETURN" && target != "ACCEPT"; }
  std::string text(bool insert_first = false) const;  // -A CHAIN ... (-I CHAIN 1 ...)
};
struct IptFamily {
  int family = 4;
  std::string backend;  // where Docker's DOCKER-USER is: "nft" (iptables-nft) or "legacy"
  // The block declares DOCKER-USER (ufw creates it when it loads before
  // Docker, and flushes it on every load): ufw's files do not fill it yet.
  bool declare_docker_user = false;
  std::vector<std::string> chains;  // ours, in the order declared
  std::vector<IptRule> rules;       // the jump from DOCKER-USER (inserted first) leads
};

struct Remediation {
  std::string style;           // "guard", "owner", "ufw" or "firewalld"
  std::string table;           // inet TABLE, the only one it touches
  std::string script;          // for nft -f: replaces table inet dockfw_guard atomically
  Json ruleset = Json::array();  // the same table as libnftables lists it (nft -j), for verification
  std::vector<std::string> intent;  // one line per published port: closed to, open to, not decided
  std::vector<IptFamily> iptables;  // the ufw and firewalld styles' rules, per family (table and ruleset stay empty)
};

Remediation make_guard(const Engine& engine, const Exposure& exposure, const GuardPolicy& policy);

// Owner style, for hosts that run Docker with "iptables": false: the table
// inet dockfw_owner does what Docker's rules would, from Docker's own state:
// DNAT of every published binding (from outside and from the host itself),
// masquerading and hairpin NAT for every bridge network, isolation between
// networks (and within icc=false ones), plus the guard's raw protections.
// An input error when Docker's iptables integration is on.
Result<Remediation> make_owner(const Engine& engine, const Exposure& exposure, const GuardPolicy& policy);

// ufw style, for hosts whose firewall is ufw: the guard's rules for
// forwarded traffic (remote loopback, direct routing to containers,
// published ports by the port the client asked for) as iptables rules in
// chains dockfw-*, jumped first from DOCKER-USER, written as the blocks to
// append to /etc/ufw/after.rules and after6.rules; `ufw reload` loads them.
// An input error when ufw's chains are not in the kernel's tables, or are on
// another iptables backend than Docker's DOCKER-USER (DFA016).
Result<Remediation> make_ufw(const Engine& engine, const Exposure& exposure, const GuardPolicy& policy);
// firewalld style: the same rules as permanent direct rules (a shell script
// of firewall-cmd commands ending in --reload). An input error when
// firewalld's table (inet firewalld) is not in the kernel's tables.
Result<Remediation> make_firewalld(const Engine& engine, const Exposure& exposure, const GuardPolicy& policy);

// The snapshot as it would be with the guard loaded (its table replacing any
// previous inet dockfw_guard), to analyze the result before applying it.
Snapshot with_remediation(const Snapshot& s, const Remediation& r);

// The proof on the snapshot: scan with the table loaded. The holes a guard is
// meant to close are DFA001 (bypassed input drop), DFA004 (one family open
// where the other is closed), DFA005 (direct container access) and DFA006
// (remote loopback); an owner table, which publishes by intent, DFA005 and
// DFA006. `report` is a comment block for the end of the script.
struct Verification {
  ScanResult after;
  int holes_before = 0, holes_after = 0;
  // Published ports some outside source class may still reach: the analysis
  // is uncertain there, so the table is not proven to close them.
  int uncertain_after = 0;
  // Connections a container opened to an outside host that worked before
  // and not with the table loaded: a table that cuts them is refused.
  int egress_cut = 0;
  std::string report;
};
// engine: the one `before` was computed with (the snapshot without the table).
Verification verify_guard(const Engine& engine, const ScanResult& before, const Remediation& r);
bool is_hole(const Finding& f, const std::string& style = "guard");

}  // namespace dfa
