// The man page and the shell completions, generated from the command table
// itself (the CLI11 app main builds), so that --help, the man page and the
// completions cannot disagree: one source for every command and option.
#pragma once
#include <CLI/CLI.hpp>

#include <string>

namespace dfa {

// dockfw-audit(8) in roff: every command with its options, exit codes,
// environment and files. `date` is the page's date (YYYY-MM-DD).
std::string man_page(CLI::App& app, const std::string& version, const std::string& date);

// Completion scripts: `source <(dockfw-audit completion bash)`.
std::string bash_completion(CLI::App& app);
std::string zsh_completion(CLI::App& app);

}  // namespace dfa
