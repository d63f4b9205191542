#include "collect/proc_parse.hpp"

#include <algorithm>
#include <set>

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

namespace dfa {

Result<std::vector<std::string>> read_lines(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return text.error();
  std::vector<std::string> lines;
  std::istringstream in(*text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

std::optional<std::string> read_trimmed(const std::string& path) {
  auto text = read_text_file(path);
  if (!text) return std::nullopt;
  std::string s = *text;
  auto nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  return s;
}

namespace {

// The line of `text` at `pos` (without its newline); moves `pos` past it.
std::string_view next_line(std::string_view text, std::size_t& pos) {
  const std::size_t nl = text.find('\n', pos);
  std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
  pos = nl == std::string_view::npos ? text.size() : nl + 1;
  return line;
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> f;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) f.push_back(line.substr(i, j - i));
    i = j;
  }
  return f;
}

// "0100007F:1F90" (IPv4) or 32 hex digits (IPv6): the kernel prints each
// 32-bit word of the network-order address as a host-order integer.
bool parse_hex_endpoint(std::string_view s, int family, std::string& addr, unsigned& port) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view a = s.substr(0, colon), p = s.substr(colon + 1);
  std::size_t words = family == 6 ? 4 : 1;
  if (a.size() != words * 8) return false;
  unsigned char bytes[16];
  for (std::size_t w = 0; w < words; ++w) {
    std::string part(a.substr(w * 8, 8));
    char* end = nullptr;
    uint32_t v = static_cast<uint32_t>(std::strtoul(part.c_str(), &end, 16));
    if (*end) return false;
    std::memcpy(bytes + 4 * w, &v, 4);
  }
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(family == 6 ? AF_INET6 : AF_INET, bytes, buf, sizeof buf);
  addr = buf;
  std::string ps(p);
  char* end = nullptr;
  port = static_cast<unsigned>(std::strtoul(ps.c_str(), &end, 16));
  return !ps.empty() && *end == 0;
}

}  // namespace

Result<std::vector<ProcSocket>> parse_proc_net_sockets(std::string_view text, std::string_view proto,
                                                      int family, const std::string& name) {
  std::vector<ProcSocket> out;
  std::size_t lineno = 0, pos = 0;
  while (pos < text.size()) {
    std::string_view line = next_line(text, pos);
    ++lineno;
    if (lineno == 1) continue;  // header
    auto f = fields(line);
    if (f.empty()) continue;
    if (f.size() < 10) return input_error(fmt::format("{}:{}: expected at least 10 fields", name, lineno));
    ProcSocket s;
    s.proto = std::string(proto);
    s.family = family;
    std::string raddr;
    unsigned rport = 0;
    if (!parse_hex_endpoint(f[1], family, s.address, s.port) || !parse_hex_endpoint(f[2], family, raddr, rport))
      return input_error(fmt::format("{}:{}: malformed address field", name, lineno));
    std::string st(f[3]);
    s.uid = static_cast<unsigned>(std::strtoul(std::string(f[7]).c_str(), nullptr, 10));
    s.inode = std::strtoul(std::string(f[9]).c_str(), nullptr, 10);
    bool keep = proto == "tcp" ? st == "0A" /* TCP_LISTEN */ : (st == "07" && rport == 0);
    if (keep) out.push_back(std::move(s));
  }
  return out;
}

std::optional<ProxyTarget> docker_proxy_target(const std::vector<std::string>& argv) {
  std::optional<std::string> ip, port;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    std::string_view a = argv[i];
    if (a.starts_with("--")) a.remove_prefix(2);
    else if (a.starts_with("-")) a.remove_prefix(1);
    else continue;
    std::string_view name = a.substr(0, a.find('='));
    std::optional<std::string> value;
    if (a.find('=') != std::string_view::npos) value = std::string(a.substr(a.find('=') + 1));
    else if (i + 1 < argv.size()) value = argv[i + 1];
    if (name == "container-ip") ip = value;
    else if (name == "container-port") port = value;
  }
  if (!ip || !port || port->empty() || port->size() > 5 ||
      !std::all_of(port->begin(), port->end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  unsigned n = static_cast<unsigned>(std::stoul(*port));
  if (n > 65535) return std::nullopt;
  return ProxyTarget{*ip, n};
}

std::vector<std::string> split_cmdline(std::string_view raw) {
  std::vector<std::string> argv;
  std::size_t i = 0;
  while (i < raw.size()) {
    std::size_t j = raw.find('\0', i);
    if (j == std::string_view::npos) j = raw.size();
    argv.emplace_back(raw.substr(i, j - i));
    i = j + 1;
  }
  return argv;
}

Json scan_nftables_config(std::string_view text) {
  Json j;
  Json flush_lines = Json::array(), includes = Json::array();
  std::size_t lineno = 0, pos = 0;
  while (pos < text.size()) {
    std::string line(next_line(text, pos));
    ++lineno;
    if (auto h = line.find('#'); h != std::string::npos) line.resize(h);
    // Statements may share a line, separated by ';'.
    std::istringstream stmts(line);
    for (std::string stmt; std::getline(stmts, stmt, ';');) {
      std::istringstream words(stmt);
      std::string w1, w2;
      words >> w1 >> w2;
      if (w1 == "flush" && w2 == "ruleset") flush_lines.push_back(lineno);
      if (w1 == "include") includes.push_back({{"line", lineno}, {"pattern", w2}});
    }
  }
  j["flush_ruleset"] = !flush_lines.empty();
  j["flush_ruleset_lines"] = std::move(flush_lines);
  j["includes"] = std::move(includes);
  return j;
}

Json systemd_unit_state(const std::string& root, std::string_view unit) {
  namespace fs = std::filesystem;
  const fs::path base = root.empty() ? fs::path("/") : fs::path(root);
  auto under = [&](std::string_view dir) { return base / fs::path(dir).relative_path(); };
  Json j{{"state", "unknown"}, {"wanted_by", Json::array()}};
  std::error_code ec;
  if (!fs::is_directory(under("/run/systemd/system"), ec)) return j;  // sd_booted()
  // systemd's search path for system units, highest precedence first.
  static constexpr std::string_view dirs[] = {"/etc/systemd/system", "/run/systemd/system",
                                              "/usr/local/lib/systemd/system", "/usr/lib/systemd/system",
                                              "/lib/systemd/system"};
  bool present = false, masked = false;
  for (std::string_view d : dirs) {
    const fs::path f = under(d) / std::string(unit);
    const auto st = fs::symlink_status(f, ec);
    if (ec || !fs::exists(st)) continue;
    if (!present && (d == dirs[0] || d == dirs[1])) {
      // The first unit file found decides; a mask is a link to /dev/null.
      if (fs::is_symlink(st) && fs::read_symlink(f, ec) == "/dev/null") masked = true;
      if (fs::is_character_file(fs::status(f, ec))) masked = true;
    }
    present = true;
  }
  std::set<std::string> wanted_by;
  for (std::string_view d : dirs) {
    fs::directory_iterator it(under(d), fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      std::error_code link_ec;  // not found sets it: keep the iterator's apart
      for (std::string_view suffix : {".wants", ".requires"})
        if (name.size() > suffix.size() && name.ends_with(suffix) &&
            fs::exists(fs::symlink_status(it->path() / std::string(unit), link_ec)))
          wanted_by.insert(name.substr(0, name.size() - suffix.size()));
    }
    ec.clear();
  }
  j["wanted_by"] = wanted_by;
  j["state"] = masked ? "masked" : !present ? "absent" : !wanted_by.empty() ? "enabled" : "disabled";
  return j;
}

std::map<std::string, std::string> parse_shell_vars(std::string_view text) {
  std::map<std::string, std::string> vars;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::string_view line = next_line(text, pos);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string key(line.substr(0, eq));
    if (key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
      continue;
    std::string_view v = line.substr(eq + 1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
    vars[key] = std::string(v);
  }
  return vars;
}

namespace {

bool any_address(const std::string& a) { return a == "0.0.0.0/0" || a == "::/0" || a == "any"; }

std::string from_hex(const std::string& h) {
  std::string s;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    unsigned v = 0;
    if (std::sscanf(h.c_str() + i, "%2x", &v) != 1) return "";
    s += static_cast<char>(v);
  }
  return s;
}

}  // namespace

std::string ufw_command(std::string_view tuple) {
  // action proto dport dst sport src [dapp sapp] direction [comment=HEX]
  const auto f = fields(tuple);
  std::vector<std::string> w(f.begin(), f.end());
  std::string comment;
  if (!w.empty() && w.back().rfind("comment=", 0) == 0) {
    comment = from_hex(w.back().substr(8));
    w.pop_back();
  }
  if (w.size() != 7 && w.size() != 9) return "";
  std::string action = w[0], proto = w[1], dport = w[2], dst = w[3], sport = w[4], src = w[5];
  const std::string dir = w.back();
  std::string dapp = w.size() == 9 ? w[6] : "-", sapp = w.size() == 9 ? w[7] : "-";
  if (dapp != "-") dport = dapp, proto = "any";
  if (sapp != "-") sport = sapp, proto = "any";
  const bool route = action.rfind("route:", 0) == 0;
  if (route) action = action.substr(6);
  std::string log;
  if (auto u = action.find('_'); u != std::string::npos) {
    log = action.substr(u + 1);  // "log" or "log-all"
    action.resize(u);
  }
  if (action != "allow" && action != "deny" && action != "reject" && action != "limit") return "";
  // Direction: "in", "out", "in_eth0", "out_eth1", "in_eth0!out_docker0".
  std::string where;
  bool out_only = false;
  {
    std::string d = dir;
    std::string in_if, out_if;
    std::size_t bang = d.find('!');
    for (std::string part : {d.substr(0, bang), bang == std::string::npos ? std::string() : d.substr(bang + 1)}) {
      if (part.empty()) continue;
      std::string side = part.substr(0, part.find('_'));
      std::string ifname = part.find('_') == std::string::npos ? "" : part.substr(part.find('_') + 1);
      if (side != "in" && side != "out") return "";
      if (side == "out" && ifname.empty()) out_only = true;
      if (!ifname.empty()) (side == "in" ? in_if : out_if) = ifname;
    }
    if (!in_if.empty()) where += " in on " + in_if;
    if (!out_if.empty()) where += " out on " + out_if;
    if (where.empty() && out_only) where = " out";
  }
  std::string cmd = std::string("ufw") + (route ? " route " : " ") + action + where + (log.empty() ? "" : " " + log);
  const bool apps = dapp != "-" || sapp != "-";
  if (any_address(src) && any_address(dst) && sport == "any" && dport != "any" && !apps) {
    cmd += " " + dport + (proto == "any" ? "" : "/" + proto);
  } else {
    if (!any_address(src) || sport != "any")
      cmd += " from " + (any_address(src) ? std::string("any") : src) +
             (sport == "any" ? "" : (sapp != "-" ? " app " : " port ") + sport);
    if (!any_address(dst) || dport != "any")
      cmd += " to " + (any_address(dst) ? std::string("any") : dst) +
             (dport == "any" ? "" : (dapp != "-" ? " app " : " port ") + dport);
    if (proto != "any") cmd += " proto " + proto;
  }
  if (!comment.empty()) cmd += " comment '" + comment + "'";
  return cmd;
}

Json parse_ufw_rules_file(std::string_view text) {
  Json lines = Json::array();
  bool in_filter = false;
  std::size_t pos = 0;
  std::uint64_t n = 0;
  while (pos < text.size()) {
    std::string_view line = next_line(text, pos);
    ++n;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (!line.empty() && line[0] == '*') in_filter = line == "*filter";
    if (line == "COMMIT") in_filter = false;
    const bool append = line.substr(0, 3) == "-A ", insert = line.substr(0, 3) == "-I ";
    if (!in_filter || (!append && !insert)) continue;
    const auto w = fields(line);
    if (w.size() < 2) continue;
    lines.push_back({{"chain", std::string(w[1])}, {"line", n}, {"text", std::string(line)}, {"insert", insert}});
  }
  return lines;
}

Json parse_ufw_user_rules(std::string_view text, int family) {
  Json rules = Json::array();
  std::map<std::string, std::uint64_t> appended;  // chain -> -A lines so far
  std::map<std::string, std::uint64_t> inserted;  // chain -> -I lines (no number: each at the top)
  bool in_rules = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::string_view line = next_line(text, pos);
    if (line == "### RULES ###") in_rules = true;
    if (line == "### END RULES ###") in_rules = false;
    constexpr std::string_view tag = "### tuple ### ";
    if (in_rules && line.substr(0, tag.size()) == tag) {
      std::string tuple(line.substr(tag.size()));
      rules.push_back({{"family", family}, {"tuple", tuple}, {"command", ufw_command(tuple)}, {"lines", Json::array()}});
      continue;
    }
    const bool append = line.substr(0, 3) == "-A ", insert = line.substr(0, 3) == "-I ";
    if (!append && !insert) continue;
    const auto w = fields(line);
    if (w.size() < 2) continue;
    const std::string chain(w[1]);
    if (insert) {
      ++inserted[chain];  // at the top: every -A line of the chain moves down
      continue;
    }
    const std::uint64_t n = ++appended[chain];
    if (in_rules && !rules.empty()) rules.back()["lines"].push_back({{"chain", chain}, {"position", n}});
  }
  for (auto& r : rules)
    for (auto& l : r["lines"])
      if (auto it = inserted.find(l["chain"].get<std::string>()); it != inserted.end())
        l["position"] = l["position"].get<std::uint64_t>() + it->second;
  return rules;
}

}  // namespace dfa
