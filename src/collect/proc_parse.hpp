// Pure parsers for text the kernel and files give us: /proc/net socket
// tables, /proc/PID/cmdline, nftables configuration files. Kept apart from
// the I/O so unit tests run them on captured fixtures.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/json_io.hpp"
#include "model/result.hpp"

namespace dfa {

Result<std::vector<std::string>> read_lines(const std::string& path);
// First line of a file with surrounding whitespace removed (sysctls, comm).
std::optional<std::string> read_trimmed(const std::string& path);

struct ProcSocket {
  std::string proto;   // "tcp" or "udp"
  int family = 4;      // 4 or 6
  std::string address; // textual, "0.0.0.0", "::", "127.0.0.1"
  unsigned port = 0;
  unsigned long inode = 0;
  unsigned uid = 0;
};

// Parses /proc/net/{tcp,tcp6,udp,udp6}; keeps listening TCP sockets and
// unconnected UDP sockets (the ones that accept new peers). Malformed lines
// are an error naming the line.
Result<std::vector<ProcSocket>> parse_proc_net_sockets(std::string_view text, std::string_view proto,
                                                      int family, const std::string& name);

std::vector<std::string> split_cmdline(std::string_view raw);  // NUL-separated argv

// Where a docker-proxy process forwards to, from its argv
// (`-container-ip ADDR -container-port N`, Go's flag syntax: one or two
// dashes, `-flag value` or `-flag=value`). nullopt when either is missing.
struct ProxyTarget {
  std::string container_ip;
  unsigned container_port = 0;
};
std::optional<ProxyTarget> docker_proxy_target(const std::vector<std::string>& argv);

// What an nftables configuration file does that matters to Docker: a
// `flush ruleset` (which destroys Docker's tables on every reload), includes.
Json scan_nftables_config(std::string_view text);

// Whether systemd starts a unit at boot, read from its unit directories under
// `root` ("/" on a live host) without asking systemd: {"state", "wanted_by"}.
// state: "enabled" (a .wants/ or .requires/ link names it: systemctl's
// enabled, static or runtime), "disabled" (its unit file, no link), "masked"
// (/etc or /run links it to /dev/null), "absent" (no unit file), "unknown"
// (systemd is not the init: no /run/systemd/system). wanted_by lists the
// units whose .wants/.requires hold it ("multi-user.target").
Json systemd_unit_state(const std::string& root, std::string_view unit);

// KEY=VALUE lines of a shell-style file (ufw.conf, /etc/default/ufw), quotes
// removed; comments and anything else are skipped.
std::map<std::string, std::string> parse_shell_vars(std::string_view text);

// The user rules ufw keeps (/etc/ufw/user.rules, user6.rules) between
// `### RULES ###` and `### END RULES ###`: each `### tuple ###` comment and
// the iptables lines it became, as [{family, tuple, command, lines:
// [{chain, position}]}]; position counts the file's `-A CHAIN` lines from 1,
// which is the rule's place in the kernel's chain once ufw has loaded the file.
Json parse_ufw_user_rules(std::string_view text, int family);
// ufw's before.rules/after.rules (before6.rules/after6.rules): the lines of
// their *filter sections that add rules, in order, [{chain, line, text,
// insert}] (line from 1 in the file; insert: an -I line, whose place ufw's
// loading does not fix). ufw loads before.rules, then the user rules, then
// after.rules with iptables-restore -n: a chain's -A lines are its rules in
// that order.
Json parse_ufw_rules_file(std::string_view text);
// A firewalld zone or policy file (kind "zone" or "policy"): {target,
// priority (policy), short, interfaces, sources, services, ports
// ("8080/tcp"), protocols, forward_ports and rich_rules (each as
// firewall-cmd writes it: `rule family="ipv4" port port="8080"
// protocol="tcp" reject`), ingress_zones and egress_zones (policy), forward,
// masquerade}; or {error: "FILE:LINE: message"} when it is not such a file.
// Read with libxml2, without network, DTDs or entity substitution.
Json parse_firewalld_xml(std::string_view text, std::string_view kind, const std::string& file);
// The ufw command a tuple came from, as `ufw show added` writes it:
// "route:allow tcp 80 172.17.0.2 any 0.0.0.0/0 in" -> "ufw route allow to
// 172.17.0.2 port 80 proto tcp". Empty when the tuple is not understood.
std::string ufw_command(std::string_view tuple);

}  // namespace dfa
