// C++ face of the x_tables decoder: one extension payload becomes a JSON
// object the analyzer reads ({name, revision, decoded, params, text}).
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "model/json_io.hpp"

namespace dfa {

enum class XtKind { match, target };
using SetNameResolver = std::function<bool(unsigned index, std::string& name)>;

// An extension this decoder does not know keeps its name, revision and raw
// bytes (hex) with "decoded": false, so nothing is ever silently dropped.
Json decode_xt(int family, XtKind kind, std::string_view name, unsigned revision, const void* data,
               std::size_t len, const SetNameResolver& sets = {});

// The iptables-save line of a legacy rule ("-A CHAIN -s ... -j TARGET ...")
// from its snapshot JSON.
std::string legacy_rule_text(std::string_view chain, const Json& rule);

// Protocol number to the name iptables-save prints (tcp, udp, ipv6-icmp, ...).
std::string proto_name(unsigned proto);

std::string hex(const void* data, std::size_t len);

}  // namespace dfa
