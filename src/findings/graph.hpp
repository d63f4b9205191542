// A picture of one packet's path (explain --format dot|mermaid): the hooks it
// crosses as clusters, in order; in each, the rules that matched with their
// verdicts; and the outcome with the rule that decided it. Graphviz's dot
// language or a Mermaid flowchart, both deterministic text.
#pragma once
#include <string>
#include <string_view>

#include "analyze/engine.hpp"

namespace dfa {

enum class GraphFormat { dot, mermaid };
// `from` and `to` are the question as asked (--from, --to): the title.
std::string render_graph(const Outcome& o, std::string_view from, std::string_view to, GraphFormat f);

}  // namespace dfa
