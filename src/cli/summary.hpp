// `dockfw-audit summary`: a readable account of what a snapshot holds.
#pragma once
#include <string>

#include "model/snapshot.hpp"

namespace dfa {
std::string render_summary(const Snapshot& s);
}
