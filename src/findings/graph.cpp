#include "findings/graph.hpp"

#include <fmt/format.h>

#include <vector>

namespace dfa {
namespace {

// A node's lines: where the step is, the rule with its origin, the verdict.
struct Node {
  std::vector<std::string> lines;
  enum class Kind { step, drop, outcome_delivered, outcome_dropped, outcome_uncertain } kind = Kind::step;
  bool decides = false;  // the rule the outcome names as deciding
};

// Consecutive steps at the same hook share a cluster; a hook met again later
// (the reply's forward hook) is a cluster of its own, so order reads top down.
struct Cluster {
  std::string hook;
  std::vector<std::size_t> nodes;
};

void build(const Outcome& o, std::vector<Node>& nodes, std::vector<Cluster>& clusters) {
  for (const Step& st : o.steps) {
    Node n;
    if (!st.where.empty()) n.lines.push_back(st.where);
    if (!st.rule.empty()) n.lines.push_back(st.rule + "  [" + st.origin + "]");
    n.lines.push_back("-> " + st.verdict);
    if (st.drops) n.kind = Node::Kind::drop;
    n.decides = !st.origin.empty() && st.origin == o.decided_by;
    if (clusters.empty() || clusters.back().hook != st.hook) clusters.push_back({st.hook, {}});
    clusters.back().nodes.push_back(nodes.size());
    nodes.push_back(std::move(n));
  }
  Node end;
  end.lines.push_back(to_string(o.result) + (o.target.empty() ? "" : " to " + o.target));
  if (!o.decided_by.empty()) end.lines.push_back("decided by " + o.decided_by);
  for (const auto& u : o.uncertain) end.lines.push_back("uncertain: " + u);
  end.kind = o.result == Outcome::Result::delivered ? Node::Kind::outcome_delivered
             : o.result == Outcome::Result::dropped ? Node::Kind::outcome_dropped
                                                    : Node::Kind::outcome_uncertain;
  nodes.push_back(std::move(end));
}

// Inside a dot double-quoted string: backslash and quote escaped, each line
// left-justified (\l).
std::string dot_text(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) {
    for (char c : l) {
      if (c == '"' || c == '\\') s += '\\';
      if (c == '\n') {
        s += "\\l";
        continue;
      }
      s += c;
    }
    s += "\\l";
  }
  return s;
}

// A double-quoted string with backslash and quote escaped, as dot and YAML
// both read it.
std::string dq_string(std::string_view t) {
  std::string s = "\"";
  for (char c : t) {
    if (c == '"' || c == '\\') s += '\\';
    s += c == '\n' ? ' ' : c;
  }
  return s + "\"";
}

// Inside a Mermaid "..." label: characters Mermaid would read as markup as
// its numeric entity codes (#35; is '#'), lines joined by <br/>.
std::string mermaid_escape(std::string_view t) {
  std::string s;
  for (char c : t) {
    switch (c) {
      case '"': s += "#34;"; break;
      case '#': s += "#35;"; break;
      case '<': s += "#60;"; break;
      case '>': s += "#62;"; break;
      case '&': s += "#38;"; break;
      case '\n': s += ' '; break;
      default: s += c;
    }
  }
  return s;
}

std::string mermaid_text(const std::vector<std::string>& lines) {
  std::string s;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i) s += "<br/>";
    s += mermaid_escape(lines[i]);
  }
  return s;
}

const char* dot_style(Node::Kind k) {
  switch (k) {
    case Node::Kind::drop: return ", style=filled, fillcolor=\"#f4c7c3\", color=\"#b3261e\"";
    case Node::Kind::outcome_delivered: return ", shape=doubleoctagon, style=filled, fillcolor=\"#f4c7c3\"";
    case Node::Kind::outcome_dropped: return ", shape=doubleoctagon, style=filled, fillcolor=\"#c8e6c9\"";
    case Node::Kind::outcome_uncertain: return ", shape=doubleoctagon, style=filled, fillcolor=\"#ffe0a3\"";
    case Node::Kind::step: break;
  }
  return "";
}

const char* mermaid_class(Node::Kind k) {
  switch (k) {
    case Node::Kind::drop: return "drop";
    case Node::Kind::outcome_delivered: return "delivered";
    case Node::Kind::outcome_dropped: return "dropped";
    case Node::Kind::outcome_uncertain: return "uncertain";
    case Node::Kind::step: break;
  }
  return nullptr;
}

}  // namespace

std::string render_graph(const Outcome& o, std::string_view from, std::string_view to, GraphFormat f) {
  std::vector<Node> nodes;
  std::vector<Cluster> clusters;
  build(o, nodes, clusters);
  const std::string title = fmt::format("{} -> {}", from, to);
  std::string s;
  if (f == GraphFormat::dot) {
    // Delivered is the red one: the graph answers "does it get in?".
    s += "digraph explain {\n";
    s += fmt::format("  label={};\n  labelloc=t;\n  fontname=\"monospace\";\n", dq_string(title));
    s += "  node [shape=box, fontname=\"monospace\", fontsize=10];\n  edge [color=\"#555555\"];\n";
    for (std::size_t c = 0; c < clusters.size(); ++c) {
      s += fmt::format("  subgraph cluster_{} {{\n    label={};\n    style=rounded;\n    color=\"#8888aa\";\n", c,
                       dq_string(clusters[c].hook));
      for (std::size_t n : clusters[c].nodes)
        s += fmt::format("    n{} [label=\"{}\"{}{}];\n", n, dot_text(nodes[n].lines), dot_style(nodes[n].kind),
                         nodes[n].decides ? ", penwidth=3" : "");
      s += "  }\n";
    }
    const std::size_t last = nodes.size() - 1;
    s += fmt::format("  n{} [label=\"{}\"{}];\n", last, dot_text(nodes[last].lines), dot_style(nodes[last].kind));
    for (std::size_t n = 0; n + 1 < nodes.size(); ++n) s += fmt::format("  n{} -> n{};\n", n, n + 1);
    s += "}\n";
    return s;
  }
  // The title is YAML front matter, not a label: a double-quoted scalar.
  s += fmt::format("---\ntitle: {}\n---\nflowchart TB\n", dq_string(title));
  for (std::size_t c = 0; c < clusters.size(); ++c) {
    s += fmt::format("  subgraph c{}[\"{}\"]\n", c, mermaid_escape(clusters[c].hook));
    for (std::size_t n : clusters[c].nodes) s += fmt::format("    n{}[\"{}\"]\n", n, mermaid_text(nodes[n].lines));
    s += "  end\n";
  }
  const std::size_t last = nodes.size() - 1;
  s += fmt::format("  n{}{{{{\"{}\"}}}}\n", last, mermaid_text(nodes[last].lines));
  for (std::size_t n = 0; n + 1 < nodes.size(); ++n) s += fmt::format("  n{} --> n{}\n", n, n + 1);
  s += "  classDef drop fill:#f4c7c3,stroke:#b3261e\n";
  s += "  classDef delivered fill:#f4c7c3,stroke:#b3261e\n";
  s += "  classDef dropped fill:#c8e6c9,stroke:#2e7d32\n";
  s += "  classDef uncertain fill:#ffe0a3,stroke:#b26a00\n";
  s += "  classDef decides stroke-width:3px\n";
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    if (const char* k = mermaid_class(nodes[n].kind)) s += fmt::format("  class n{} {}\n", n, k);
    if (nodes[n].decides) s += fmt::format("  class n{} decides\n", n);
  }
  return s;
}

}  // namespace dfa
