// firewalld's zone and policy files (firewalld.zone(5), firewalld.policy(5)),
// read with libxml2: what the admin configured, beside what the kernel holds.
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <fmt/format.h>

#include <limits>
#include <memory>

#include "collect/proc_parse.hpp"

namespace dfa {

namespace {

std::string attr(xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  if (!v) return "";
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

std::string name_of(const xmlNode* n) { return reinterpret_cast<const char*>(n->name); }

// An element as firewall-cmd writes a rich rule's parts: its name, NOT where
// it is inverted, its other attributes as key="value", then its children.
void render(xmlNode* n, std::string& out, int depth) {
  if (depth > 8) return;  // a rich rule is three levels deep at most
  if (!out.empty()) out += ' ';
  out += name_of(n);
  std::string inv = attr(n, "invert");
  if (inv == "True" || inv == "true" || inv == "yes") out += " NOT";
  for (xmlAttr* a = n->properties; a; a = a->next) {
    std::string k = reinterpret_cast<const char*>(a->name);
    if (k == "invert") continue;
    out += fmt::format(" {}=\"{}\"", k, attr(n, k.c_str()));
  }
  for (xmlNode* c = n->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE) render(c, out, depth + 1);
}

}  // namespace

Json parse_firewalld_xml(std::string_view text, std::string_view kind, const std::string& file) {
  Json out = Json::object();
  if (text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    out["error"] = fmt::format("{}: too large", file);
    return out;
  }
  // No network, no entity substitution, no DTD loading. The first error is
  // kept (what the admin has to fix first), none is printed.
  struct First {
    int line = 0;
    std::string message;
  } first;
  xmlSetStructuredErrorFunc(&first, [](void* ctx, xmlErrorPtr e) {
    auto* f = static_cast<First*>(ctx);
    if (!e || e->level < XML_ERR_ERROR || !f->message.empty()) return;
    f->line = e->line;
    f->message = e->message ? e->message : "not XML";
    while (!f->message.empty() && (f->message.back() == '\n' || f->message.back() == ' ')) f->message.pop_back();
  });
  std::unique_ptr<xmlDoc, void (*)(xmlDoc*)> doc(
      xmlReadMemory(text.data(), static_cast<int>(text.size()), file.c_str(), nullptr, XML_PARSE_NONET), xmlFreeDoc);
  xmlSetStructuredErrorFunc(nullptr, nullptr);
  if (!doc || !first.message.empty()) {
    out["error"] = fmt::format("{}:{}: {}", file, first.line, first.message.empty() ? "not XML" : first.message);
    return out;
  }
  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!root || name_of(root) != kind) {
    out["error"] = fmt::format("{}:{}: the root element is not <{}>", file, root ? root->line : 0, kind);
    return out;
  }
  out["target"] = attr(root, "target");
  if (kind == "policy") out["priority"] = attr(root, "priority");
  Json lists = {{"interfaces", Json::array()}, {"sources", Json::array()}, {"services", Json::array()},
                {"ports", Json::array()},      {"protocols", Json::array()}, {"forward_ports", Json::array()},
                {"rich_rules", Json::array()}};
  if (kind == "policy") {
    lists["ingress_zones"] = Json::array();
    lists["egress_zones"] = Json::array();
  }
  bool forward = false, masquerade = false;
  std::size_t elements = 0;
  for (xmlNode* c = root->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (++elements > 100000) {
      out["error"] = fmt::format("{}: more than 100,000 elements", file);
      break;
    }
    const std::string n = name_of(c);
    if (n == "short") {
      xmlChar* t = xmlNodeGetContent(c);
      if (t) {
        out["short"] = std::string(reinterpret_cast<const char*>(t));
        xmlFree(t);
      }
    } else if (n == "interface") {
      lists["interfaces"].push_back(attr(c, "name"));
    } else if (n == "source") {
      std::string a = attr(c, "address");
      if (a.empty()) a = attr(c, "ipset").empty() ? "mac " + attr(c, "mac") : "ipset " + attr(c, "ipset");
      lists["sources"].push_back(a);
    } else if (n == "service") {
      lists["services"].push_back(attr(c, "name"));
    } else if (n == "port") {
      lists["ports"].push_back(attr(c, "port") + "/" + attr(c, "protocol"));
    } else if (n == "protocol") {
      lists["protocols"].push_back(attr(c, "value"));
    } else if (n == "forward-port") {
      std::string r;
      render(c, r, 0);
      lists["forward_ports"].push_back(r);
    } else if (n == "rule") {
      std::string r;
      render(c, r, 0);
      lists["rich_rules"].push_back(r);
    } else if (n == "forward") {
      forward = true;
    } else if (n == "masquerade") {
      masquerade = true;
    } else if (kind == "policy" && (n == "ingress-zone" || n == "egress-zone")) {
      lists[n == "ingress-zone" ? "ingress_zones" : "egress_zones"].push_back(attr(c, "name"));
    }
  }
  out.update(lists);
  out["forward"] = forward;
  out["masquerade"] = masquerade;
  return out;
}

}  // namespace dfa
