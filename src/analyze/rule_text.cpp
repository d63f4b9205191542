// nft rules and set elements as nft prints them (render_nft_rule,
// render_nft_element): for findings, drift and explain.
#include "analyze/ruleset.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "analyze/rule_detail.hpp"

namespace dfa {

using namespace rule_detail;

namespace rule_detail {

// ---- nft rule text ----------------------------------------------------------

std::string render_right(const Json& r) {
  if (r.is_string()) return r.get<std::string>();
  if (r.is_number()) return r.dump();
  if (r.is_array()) {
    std::string s;
    for (const auto& x : r) s += (s.empty() ? "" : ",") + render_right(x);
    return s;
  }
  if (r.contains("prefix")) return fmt::format("{}/{}", r["prefix"].value("addr", ""), r["prefix"].value("len", 0));
  if (r.contains("range")) return render_right(r["range"][0]) + "-" + render_right(r["range"][1]);
  if (r.contains("set")) {
    std::string s;
    const Json& e = r["set"];
    if (e.is_array())
      for (const auto& x : e) s += (s.empty() ? "" : ", ") + render_right(x);
    else s = render_right(e);
    return "{ " + s + " }";
  }
  if (r.contains("concat")) {
    std::string s;
    for (const auto& x : r["concat"]) s += (s.empty() ? "" : " . ") + render_right(x);
    return s;
  }
  return r.dump();
}

std::string render_left(const Json& l) {
  if (l.contains("&") && l["&"].is_array() && l["&"].size() == 2)
    return render_left(l["&"][0]) + " & " + render_right(l["&"][1]);
  if (l.contains("meta")) return l["meta"].value("key", "");
  if (l.contains("payload")) return l["payload"].value("protocol", "") + " " + l["payload"].value("field", "");
  if (l.contains("ct")) {
    std::string dir = l["ct"].value("dir", "");
    return "ct " + (dir.empty() ? "" : dir + " ") + l["ct"].value("key", "");
  }
  if (l.contains("fib")) {
    std::string flags;
    const Json& f = l["fib"]["flags"];
    if (f.is_string()) flags = f.get<std::string>();
    else for (const auto& x : f) flags += (flags.empty() ? "" : " . ") + x.get<std::string>();
    return "fib " + flags + " " + l["fib"].value("result", "");
  }
  if (l.contains("concat")) {
    std::string s;
    for (const auto& x : l["concat"]) s += (s.empty() ? "" : " . ") + render_left(x);
    return s;
  }
  return l.dump();
}

}  // namespace rule_detail


namespace rule_detail {
std::string render_nft_rule_of(const Json& r) {
  std::string s;
  auto add = [&](const std::string& x) { s += (s.empty() ? "" : " ") + x; };
  for (const auto& e : array_member(r, "expr")) {
    if (e.contains("match")) {
      const Json& m = e["match"];
      std::string op = m.value("op", "==");
      add(render_left(m["left"]) + (op == "==" || op == "in" ? " " : " " + op + " ") + render_right(m["right"]));
    } else if (e.contains("counter")) {
    } else if (e.contains("xt")) {
      const Json& x = e["xt"];
      add(fmt::format("xt {} {}{}", x.value("type", ""), x.value("name", ""), x.value("text", "")));
    } else if (e.contains("jump")) add("jump " + e["jump"].value("target", ""));
    else if (e.contains("goto")) add("goto " + e["goto"].value("target", ""));
    else if (e.contains("dnat")) {
      const Json& d = e["dnat"];
      add("dnat to " + (d.contains("addr") ? render_right(d["addr"]) : "") + (d.contains("port") ? ":" + render_right(d["port"]) : ""));
    } else if (e.contains("vmap")) add(render_left(e["vmap"]["key"]) + " vmap " + render_right(e["vmap"]["data"]));
    else if (e.contains("mangle")) add(render_left(e["mangle"]["key"]) + " set " + render_right(e["mangle"]["value"]));
    else if (e.contains("set") && e["set"].is_object())
      add(fmt::format("{} {} {{ {} }}", e["set"].value("op", ""), e["set"].value("set", ""),
                      e["set"].contains("elem") ? render_left(e["set"]["elem"]) : ""));
    else {
      auto it = e.begin();
      add(it.key());
    }
  }
  return s;
}
}  // namespace rule_detail

// On a rule it cannot read: no text.
std::string render_nft_rule(const Json& r) {
  return or_claim_nothing([&] { return render_nft_rule_of(r); }, std::string("(unreadable rule)"));
}

namespace rule_detail {
// A map's data: a verdict as nft writes it ("accept", "jump NAME"), else a value.
std::string render_data(const Json& d) {
  if (d.is_object() && d.size() == 1) {
    const auto it = d.begin();
    if (it.value().is_null()) return it.key();  // accept, drop, continue, return
    if ((it.key() == "jump" || it.key() == "goto") && it.value().is_object() && it.value().contains("target"))
      return it.key() + " " + it.value()["target"].get<std::string>();
  }
  return render_right(d);
}

std::string render_nft_element_of(const Json& el) {
  if (el.is_array() && el.size() == 2) return render_nft_element_of(el[0]) + " : " + render_data(el[1]);
  auto e = el.is_object() ? el.find("elem") : el.end();
  if (e == el.end() || !e->is_object() || !e->contains("val")) return render_right(el);
  std::string s = render_right((*e)["val"]);
  for (const auto& [k, v] : e->items()) {
    if (k == "val" || k == "expires" || k == "counter" || k == "counters") continue;  // what changes on its own
    if (k == "comment" && v.is_string()) s += fmt::format(" comment \"{}\"", v.get<std::string>());
    else s += fmt::format(" {} {}", k, v.is_object() || v.is_array() ? v.dump() : render_right(v));
  }
  return s;
}
}  // namespace rule_detail

// On an element it cannot read: its JSON (dumped only then).
std::string render_nft_element(const Json& el) {
  if (auto t = or_claim_nothing([&] { return std::optional(render_nft_element_of(el)); }, std::optional<std::string>()))
    return std::move(*t);
  return el.dump();
}
}  // namespace dfa
