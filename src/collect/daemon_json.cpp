#include "collect/daemon_json.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

namespace dfa {
namespace {

struct KeyPos {
  std::size_t line, column, value_offset;
};

// Positions of the members of the top-level object. Runs only on text that
// already parsed, so it can be simple.
std::map<std::string, KeyPos> top_level_keys(std::string_view t) {
  std::map<std::string, KeyPos> keys;
  int depth = 0;
  std::size_t i = 0;
  while (i < t.size()) {
    char c = t[i];
    if (c == '"') {
      std::size_t start = i;
      std::string s;
      for (++i; i < t.size() && t[i] != '"'; ++i) {
        if (t[i] == '\\' && i + 1 < t.size()) ++i;
        s += t[i];
      }
      ++i;
      if (depth == 1) {
        std::size_t j = i;
        while (j < t.size() && std::isspace(static_cast<unsigned char>(t[j]))) ++j;
        if (j < t.size() && t[j] == ':') {
          std::size_t v = j + 1;
          while (v < t.size() && std::isspace(static_cast<unsigned char>(t[v]))) ++v;
          TextPos p = pos_of(t, start);
          keys.emplace(s, KeyPos{p.line, p.column, v});
        }
      }
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    ++i;
  }
  return keys;
}

// Network settings whose type we check, because a wrong type means dockerd
// refuses to start or, worse, the admin's intent is not what runs.
const std::map<std::string, Json::value_t>& typed_keys() {
  static const std::map<std::string, Json::value_t> k = {
      {"iptables", Json::value_t::boolean},        {"ip6tables", Json::value_t::boolean},
      {"ip-forward", Json::value_t::boolean},      {"ip-masq", Json::value_t::boolean},
      {"icc", Json::value_t::boolean},             {"userland-proxy", Json::value_t::boolean},
      {"ipv6", Json::value_t::boolean},            {"experimental", Json::value_t::boolean},
      {"bip", Json::value_t::string},              {"ip", Json::value_t::string},
      {"fixed-cidr", Json::value_t::string},       {"fixed-cidr-v6", Json::value_t::string},
      {"bridge", Json::value_t::string},           {"default-address-pools", Json::value_t::array},
      {"default-network-opts", Json::value_t::object}, {"firewall-backend", Json::value_t::string},
      {"userland-proxy-path", Json::value_t::string},
  };
  return k;
}

const char* type_word(Json::value_t t) {
  switch (t) {
    case Json::value_t::boolean: return "a boolean (true or false)";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    default: return "another type";
  }
}

}  // namespace

Result<Json> parse_daemon_json(std::string_view text, const std::string& path) {
  auto parsed = parse_json_text(text, path);
  if (!parsed) return parsed.error();
  if (!parsed->is_object())
    return input_error(fmt::format("{}:1:1: the top level must be an object, found {}", path, parsed->type_name()));
  auto keys = top_level_keys(text);
  Json lines = Json::object();
  for (const auto& [k, v] : parsed->items()) {
    auto it = keys.find(k);
    if (it != keys.end()) lines[k] = it->second.line;
    auto want = typed_keys().find(k);
    if (want == typed_keys().end()) continue;
    bool ok = v.type() == want->second ||
              (want->second == Json::value_t::string && v.is_string());
    if (!ok) {
      TextPos p = it != keys.end() ? pos_of(text, it->second.value_offset) : TextPos{};
      return input_error(fmt::format("{}:{}:{}: \"{}\" must be {}, found {}", path, p.line, p.column, k,
                                     type_word(want->second), v.type_name()));
    }
  }
  Json out;
  out["content"] = std::move(*parsed);
  out["key_lines"] = std::move(lines);
  return out;
}

Json parse_dockerd_flags(const std::vector<std::string>& argv) {
  static const std::set<std::string> bools = {
      "iptables", "ip6tables", "ip-forward", "ip-forward-no-drop", "ip-masq", "icc", "userland-proxy",
      "ipv6", "experimental", "live-restore", "debug", "D", "tls", "tlsverify", "selinux-enabled",
      "no-new-privileges", "raw-logs", "init", "rootless", "validate", "allow-direct-routing"};
  Json flags = Json::object();
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() < 2 || a[0] != '-') continue;
    std::string body = a.substr(a[1] == '-' ? 2 : 1);
    std::string name = body, value;
    bool has_value = false;
    if (auto eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    if (!has_value) {
      if (bools.count(name)) {
        value = "true";
      } else if (i + 1 < argv.size()) {
        value = argv[++i];
      }
    }
    flags[name].push_back(value);
  }
  Json j;
  j["argv"] = argv;
  j["flags"] = std::move(flags);
  return j;
}

}  // namespace dfa
