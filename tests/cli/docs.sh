#!/usr/bin/env bash
# The man page and the completions come from the command table: every option
# --help lists is in the page, the page renders without groff warnings, and
# the completions offer the commands, the options and the values a check
# names. Fails when a command or option is added without reaching them.
set -euo pipefail
source "$DFA_SRC/tests/lib.sh"
dfa_tmpdir tmp
bin=${DFA_BIN:?}
"$bin" --man-page 2026-01-01 >"$tmp/page.8"
"$bin" completion bash >"$tmp/comp.bash"
"$bin" completion zsh >"$tmp/_comp"

# Every option of every command's --help is in the page, under that command.
commands=$("$bin" --help | sed -n '/^Subcommands:/,$p' | awk 'NR>1 && NF {print $1}')
[ -n "$commands" ] || dfa_fail "no commands in --help"
for c in "" $commands; do
  # shellcheck disable=SC2086
  opts=$("$bin" $c --help | grep -E '^  +-' | awk '{print $1}' | tr ',' '\n' | sort -u)
  for o in $opts; do
    grep -q -- "$(printf '%s' "$o" | sed 's/-/\\\\-/g')" "$tmp/page.8" || dfa_fail "${c:-global} option $o not in the man page"
    grep -qw -- "$o" "$tmp/comp.bash" || dfa_fail "${c:-global} option $o not in the bash completion"
  done
  [ -z "$c" ] || grep -q "^\.SS $c\$" "$tmp/page.8" || dfa_fail "command $c has no section in the man page"
done

# groff's own warnings, as lintian runs it.
warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$tmp/page.8" 2>&1 >/dev/null)
[ -z "$warnings" ] || dfa_fail "man page warnings: $warnings"

# bash: what a user gets after TAB.
complete_words() {  # WORDS... (the last is the one being completed)
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _dockfw_audit; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$tmp/comp.bash" "$@"
}
# grep reads the offers from a here-string, never a pipe: with pipefail,
# grep -q leaving at its first match would kill the writer (SIGPIPE) and
# fail the check now and then.
grep -qx scan <<<"$(complete_words dockfw-audit sc)" || dfa_fail "bash: 'sc' does not complete to scan"
formats=$(complete_words dockfw-audit scan --format "" | sort | tr '\n' ' ')
[ "$formats" = "html json jsonl sarif text " ] || dfa_fail "bash: scan --format offers: $formats"
grep -qx never <<<"$(complete_words dockfw-audit --color "")" || dfa_fail "bash: --color offers no values"
grep -qx -- --fail-on <<<"$(complete_words dockfw-audit -v drift --fail)" || dfa_fail "bash: drift --fail does not complete"
grep -qx save <<<"$(complete_words dockfw-audit baseline "")" || dfa_fail "bash: baseline offers no save"
mkdir -p "$tmp/somedir" && touch "$tmp/somefile"
offered=$(cd "$tmp" && complete_words dockfw-audit scan --sarif-root some)
[ "$offered" = somedir ] || dfa_fail "bash: --sarif-root offers '$offered' (want the directory only)"
if command -v zsh >/dev/null; then
  zsh -n "$tmp/_comp" || dfa_fail "zsh completion does not parse"
fi
grep -q "'drift:" "$tmp/_comp" || dfa_fail "zsh: no drift command"
echo "ok docs: man page, bash and zsh completions cover every command and option"

# The global options the page documents do what it says.
snap=$DFA_SRC/fixtures/scenarios/01-bypass-nft/snapshot.json
set +e
out=$("$bin" -q scan --snapshot "$snap"); rc=$?
set -e
[ "$rc" = 1 ] && [ -z "$out" ] || dfa_fail "-q scan: exit $rc (want 1, the findings) and output '${out:0:80}' (want none)"
"$bin" scan -q --snapshot "$snap" -o "$tmp/report.txt" || true
grep -q "DFA001" "$tmp/report.txt" || dfa_fail "-q did not write the -o file"
grep -q $'\033\[' <<<"$("$bin" scan --color always --fail-on none --snapshot "$snap")" || dfa_fail "--color always: no colour"
! "$bin" scan --color never --fail-on none --snapshot "$snap" | grep -q $'\033' || dfa_fail "--color never: colour"
