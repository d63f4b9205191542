// Generates dockfw-audit(8) and the bash and zsh completions from the CLI11
// app (docs_gen.hpp): the text of every option is the one --help prints.
#include "cli/docs_gen.hpp"

#include <fmt/format.h>

#include <string>
#include <vector>

namespace dfa {
namespace {

// Commands as --help lists them (hidden ones, group "", left out).
std::vector<CLI::App*> visible_commands(CLI::App& app) {
  return app.get_subcommands([](CLI::App* s) { return !s->get_group().empty(); });
}

std::vector<CLI::Option*> visible_options(CLI::App& app) {
  return app.get_options([](CLI::Option* o) { return !o->get_group().empty(); });
}

// The values an option accepts when its check names them: CLI11 shows them
// in the type, "TEXT:{text,json}".
std::vector<std::string> choices(const CLI::Option& o) {
  std::string t = o.get_type_name();
  auto open = t.find('{'), close = t.rfind('}');
  std::vector<std::string> out;
  if (open == std::string::npos || close == std::string::npos || close < open) return out;
  std::string list = t.substr(open + 1, close - open - 1);
  for (std::size_t at = 0; at <= list.size();) {
    auto comma = list.find(',', at);
    if (comma == std::string::npos) comma = list.size();
    if (comma > at) out.push_back(list.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

bool takes_value(const CLI::Option& o) { return o.get_type_size_max() > 0 && o.get_expected_max() > 0; }

std::vector<std::string> switches(const CLI::Option& o) {
  std::vector<std::string> out;
  for (const auto& s : o.get_snames()) out.push_back("-" + s);
  for (const auto& l : o.get_lnames()) out.push_back("--" + l);
  return out;
}

// roff: a backslash doubled, a leading dot or quote escaped, '-' as \-.
std::string roff(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

std::string value_name(const CLI::Option& o) {
  auto c = choices(o);
  if (!c.empty()) return fmt::format("{}", fmt::join(c, "|"));
  if (o.get_positional() && !o.nonpositional()) return o.get_name(true);
  std::string t = o.get_type_name();  // main names each: FILE, URL, IFACE, ...
  return t.empty() ? "VALUE" : t;
}

std::string man_options(CLI::App& app) {
  std::string out;
  for (CLI::Option* o : visible_options(app)) {
    out += ".TP\n";
    if (o->nonpositional()) {
      std::string head;
      for (const auto& s : switches(*o)) head += fmt::format("{}\\fB{}\\fR", head.empty() ? "" : ", ", roff(s));
      if (takes_value(*o)) head += fmt::format(" \\fI{}\\fR", roff(value_name(*o)));
      out += head + "\n";
    } else {
      out += fmt::format("\\fI{}\\fR\n", roff(o->get_name(true)));
    }
    std::string desc = o->get_description();
    if (!o->get_default_str().empty()) desc += fmt::format(" (default: {})", o->get_default_str());
    if (o->get_required()) desc += " Required.";
    out += roff(desc) + "\n";
  }
  return out;
}

}  // namespace

std::string man_page(CLI::App& app, const std::string& version, const std::string& date) {
  std::string out;
  out += fmt::format(".TH DOCKFW\\-AUDIT 8 \"{}\" \"dockfw-audit {}\" \"System Administration\"\n", date, version);
  out += ".SH NAME\ndockfw\\-audit \\- which Docker container ports and host sockets are reachable, from where, "
         "and which firewall rule decides\n";
  out += ".SH SYNOPSIS\n.B dockfw\\-audit\n[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n";
  out += ".SH DESCRIPTION\n"
         "dockfw\\-audit reads the live state of a Docker host (nftables through libnftables, iptables\\-legacy "
         "through libiptc, daemon.json and dockerd's flags, the Docker Engine API, addresses, routes, sysctls and "
         "sockets), or a snapshot of it, and models the netfilter packet path: hooks and priorities, legacy and "
         "nftables base chains on the same hook, DNAT turning input into forward, the routing decision, bridged "
         "traffic and docker\\-proxy. It reports which published ports and host sockets each class of sources "
         "reaches, which rule decides, and what to change. Where it cannot model a construct on a path it says "
         "\\fIuncertain\\fR, never open or closed.\n.PP\n"
         "It never changes a ruleset, a sysctl or a file it audits, and never loads a kernel module: remediation "
         "is printed or written to a file the user names.\n";
  out += ".SH GLOBAL OPTIONS\n" + man_options(app);
  out += ".SH COMMANDS\n";
  for (CLI::App* c : visible_commands(app)) {
    auto subs = visible_commands(*c);
    out += fmt::format(".SS {}\n{}\n", roff(c->get_name()), roff(c->get_description()));
    out += man_options(*c);
    for (CLI::App* s : subs) {
      out += fmt::format(".PP\n\\fB{} {}\\fR: {}\n", roff(c->get_name()), roff(s->get_name()),
                         roff(s->get_description()));
      out += man_options(*s);
    }
  }
  out += R"(.SH EXIT STATUS
.TP
.B 0
Success; no finding at or above \fB\-\-fail\-on\fR.
.TP
.B 1
Findings at or above \fB\-\-fail\-on\fR (scan, drift); holes or uncertain ports left after remediation (remediate).
.TP
.B 2
Bad arguments or bad input: a malformed snapshot, baseline, daemon.json, suppressions or policy file. The message names the file and the line and column or JSON pointer.
.TP
.B 3
Collection failed: nothing could be read from the live host (or, with \fBcollect \-\-strict\fR, a collector was denied or failed).
.TP
.B 4
The output could not be written.
.SH ENVIRONMENT
.TP
.B DOCKER_HOST
Docker API endpoint when \fB\-\-docker\-host\fR is not given.
.TP
.B NO_COLOR
Set: no colour in text reports (as \fB\-\-color never\fR).
.TP
.B DFA_MAX_INPUT_MB
Size bound of snapshots and baselines read, in MiB (default 256).
.TP
.B DFA_TIMING
Set: the time and memory of each phase on standard error.
.SH FILES
.TP
.I /etc/docker/daemon.json
Read when the running dockerd names no \fB\-\-config\-file\fR.
.TP
.I /etc/nftables.conf
Inspected for a ruleset flush that would remove Docker's rules when loaded.
.TP
.I /var/lib/dockfw-audit/baseline.json
The baseline the packaged drift timer compares with (dockfw\-audit\-drift.service).
.SH EXAMPLES
.nf
dockfw\-audit scan
dockfw\-audit scan \-\-format sarif \-o dockfw.sarif \-\-fail\-on high
dockfw\-audit collect \-o host.json; dockfw\-audit exposure \-\-snapshot host.json
dockfw\-audit explain \-\-from 203.0.113.7 \-\-to 192.0.2.10:8080/tcp
dockfw\-audit baseline save /var/lib/dockfw\-audit/baseline.json
dockfw\-audit drift \-\-baseline /var/lib/dockfw\-audit/baseline.json
dockfw\-audit remediate \-o /root/guard.nft
.fi
.SH SEE ALSO
.BR nft (8),
.BR iptables (8),
.BR dockerd (8),
.BR systemd.timer (5)
)";
  return out;
}

std::string bash_completion(CLI::App& app) {
  std::string cases, top_words;
  auto opts_of = [](CLI::App& a) {
    std::string w;
    for (CLI::Option* o : visible_options(a))
      for (const auto& s : switches(*o)) w += (w.empty() ? "" : " ") + s;
    return w;
  };
  auto value_cases = [](CLI::App& a) {
    std::string v;
    for (CLI::Option* o : visible_options(a)) {
      if (!o->nonpositional() || !takes_value(*o)) continue;
      auto c = choices(*o);
      // A value with no list and no file (an address, a URL): nothing to offer.
      v += fmt::format("      {}) COMPREPLY=({}); return;;\n", fmt::join(switches(*o), "|"),
                       !c.empty()                   ? fmt::format("$(compgen -W '{}' -- \"$cur\")", fmt::join(c, " "))
                       : value_name(*o) == "FILE" ? std::string("$(compgen -f -- \"$cur\")")
                       : value_name(*o) == "DIR"  ? std::string("$(compgen -d -- \"$cur\")")
                                                  : std::string());
    }
    return v;
  };
  for (CLI::App* c : visible_commands(app)) {
    top_words += (top_words.empty() ? "" : " ") + c->get_name();
    std::string words = opts_of(*c);
    for (CLI::App* s : visible_commands(*c)) {
      words += " " + s->get_name();
      std::string sw = opts_of(*s);
      if (!sw.empty()) words += " " + sw;
    }
    std::string values = value_cases(*c);
    for (CLI::App* s : visible_commands(*c)) values += value_cases(*s);
    cases += fmt::format("    {})\n      case \"$prev\" in\n{}      esac\n      words='{}';;\n", c->get_name(), values,
                         words);
  }
  return fmt::format(R"(# bash completion for dockfw-audit (generated by: dockfw-audit completion bash)
_dockfw_audit() {{
  local cur prev cmd="" i words
  cur="${{COMP_WORDS[COMP_CWORD]}}"
  prev="${{COMP_WORDS[COMP_CWORD-1]}}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${{COMP_WORDS[i]}}" in -*) ;; *) cmd="${{COMP_WORDS[i]}}"; break;; esac
  done
  case "$prev" in
{}  esac
  case "$cmd" in
    "") words='{} {}';;
{}    *) words='';;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}
complete -o default -F _dockfw_audit dockfw-audit
)",
                     value_cases(app), top_words, opts_of(app), cases);
}

std::string zsh_completion(CLI::App& app) {
  // zsh's _arguments: one spec per option, quoted for the shell.
  auto quote = [](std::string s) {
    std::string out;
    for (char c : s) {
      if (c == '\'') out += "'\\''";
      else if (c == '[' || c == ']' || c == ':') out += std::string("\\") + c;
      else out += c;
    }
    return out;
  };
  auto specs = [&](CLI::App& a) {
    std::string out;
    for (CLI::Option* o : visible_options(a)) {
      if (!o->nonpositional()) {
        out += fmt::format("    ':{}:_files' \\\n", quote(o->get_name(true)));
        continue;
      }
      auto sw = switches(*o);
      std::string head = sw.size() == 1 ? sw[0] : fmt::format("({}){{{}}}", fmt::join(sw, " "), fmt::join(sw, ","));
      std::string action;
      if (takes_value(*o)) {
        auto c = choices(*o);
        action = fmt::format(":{}:{}", quote(value_name(*o)),
                             !c.empty()                   ? fmt::format("({})", fmt::join(c, " "))
                             : value_name(*o) == "FILE" ? std::string("_files")
                             : value_name(*o) == "DIR"  ? std::string("_files -/")
                                                        : std::string(" "));
      }
      out += fmt::format("    '{}[{}]{}' \\\n", head, quote(o->get_description()), action);
    }
    return out;
  };
  std::string commands, cases;
  for (CLI::App* c : visible_commands(app)) {
    std::string d = c->get_description();
    for (std::size_t at = 0; (at = d.find('\'', at)) != std::string::npos; at += 4) d.replace(at, 1, "'\\''");
    commands += fmt::format("    '{}:{}'\n", c->get_name(), d);
    std::string sub = specs(*c);
    auto subs = visible_commands(*c);
    if (!subs.empty()) {
      // baseline save FILE: the second word, then its own options.
      std::string names;
      for (CLI::App* s : subs) names += " " + s->get_name();
      sub += fmt::format("    ':action:({})' \\\n", names.substr(1));
      for (CLI::App* s : subs) sub += specs(*s);
    }
    cases += fmt::format("    {})\n      _arguments \\\n{}        && return;;\n", c->get_name(), sub);
  }
  return fmt::format(R"(#compdef dockfw-audit
# zsh completion for dockfw-audit (generated by: dockfw-audit completion zsh)
_dockfw_audit() {{
  local -a commands
  commands=(
{}  )
  local curcontext="$curcontext" state line
  _arguments -C \
{}    '1:command:->command' \
    '*::arg:->args'
  case $state in
    command) _describe 'command' commands;;
    args)
      case $line[1] in
{}      esac;;
  esac
}}
_dockfw_audit "$@"
)",
                     commands, specs(app), cases);
}

}  // namespace dfa
