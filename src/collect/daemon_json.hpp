// Docker's daemon configuration: daemon.json with positions, and the flags
// of a dockerd command line.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "model/json_io.hpp"
#include "model/result.hpp"

namespace dfa {

// Parses daemon.json. On success: {"content": {...}, "key_lines": {"iptables": 3, ...}}.
// A syntax error or a network setting of the wrong type is an input error
// "PATH:LINE:COL: ...", positioned at the offending value.
Result<Json> parse_daemon_json(std::string_view text, const std::string& path);

// dockerd's argv as {"argv": [...], "flags": {"iptables": ["false"], "H": [...]}}:
// every flag keeps all its values in order; a boolean flag given bare is "true".
Json parse_dockerd_flags(const std::vector<std::string>& argv);

}  // namespace dfa
