#!/usr/bin/env bash
# The integration files work with the tools they are for: the Prometheus
# rules pass promtool's check and their unit tests, and every metric they use
# is one dockfw-audit writes; the Ansible playbook passes ansible-playbook
# --syntax-check; the GitHub Actions example is YAML whose dockfw-audit
# options all exist and which uploads SARIF. Skips (77) without the tools.
set -euo pipefail
source "$DFA_SRC/tests/lib.sh"
for t in promtool ansible-playbook python3; do
  command -v "$t" >/dev/null || dfa_skip "$t is not installed (ci/install-deps.sh installs it)"
done
dfa_tmpdir tmp
rules=$DFA_SRC/packaging/prometheus
promtool check rules "$rules/dockfw-audit.rules.yml" >"$tmp/check" 2>&1 || dfa_fail "promtool check rules: $(cat "$tmp/check")"
(cd "$rules" && promtool test rules dockfw-audit.rules.test.yml) >"$tmp/test" 2>&1 ||
  dfa_fail "promtool test rules: $(cat "$tmp/test")"

# Every metric the rules use is one the tool writes.
"$DFA_BIN" scan --snapshot "$DFA_SRC/fixtures/scenarios/01-bypass-nft/snapshot.json" --fail-on none -o /dev/null \
  --prometheus "$tmp/metrics.prom"
for m in $(grep -o 'dockfw_audit_[a-z_]*' "$rules/dockfw-audit.rules.yml" | sort -u); do
  grep -q "^# TYPE $m " "$tmp/metrics.prom" || dfa_fail "the rules use $m, which dockfw-audit does not write"
done

ansible-playbook -i localhost, --syntax-check "$DFA_SRC/docs/examples/ansible-playbook.yml" >"$tmp/ansible" 2>&1 ||
  dfa_fail "ansible-playbook --syntax-check: $(cat "$tmp/ansible")"

python3 - "$DFA_SRC/docs/examples/github-actions.yml" "$DFA_BIN" <<'PY' || dfa_fail "the GitHub Actions example"
import re, subprocess, sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
steps = wf["jobs"]["scan"]["steps"]
uses = [s.get("uses", "") for s in steps]
assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses), "no upload-sarif step"
run = "\n".join(s.get("run", "") for s in steps)
calls = re.findall(r"dockfw-audit (\w+)((?:[^\n]|\\\n)*)", run)
assert calls, "no dockfw-audit command"
for cmd, args in calls:
    help_text = subprocess.run([sys.argv[2], cmd, "--help"], capture_output=True, text=True, check=True).stdout
    for opt in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", args):
        assert opt in help_text, f"dockfw-audit {cmd} has no option {opt}"
print("ok workflow: upload-sarif, and", ", ".join(sorted({c for c, _ in calls})), "with options that exist")
PY
# summary on a ufw host: ufw's state, defaults, the commands of its rules and
# the ufw-docker recipe's block in after.rules.
"$DFA_BIN" summary --snapshot "$DFA_SRC/fixtures/scenarios/23-ufw-docker-recipe/snapshot.json" >"$tmp/summary" ||
  dfa_fail "summary failed"
for want in "default incoming DROP, outgoing ACCEPT, routed DROP" "  ufw route allow to 172.17.0.2 port 80 proto tcp" \
  "  ufw route allow from 198.51.100.0/24 to 172.17.0.3 port 80 proto tcp" \
  "  after.rules adds 12 rule(s) to DOCKER-USER (lines 36-51)"; do
  grep -qF -- "$want" "$tmp/summary" || dfa_fail "summary does not say: $want"
done
# summary on a firewalld host: the zones its input dispatch sends packets to, and its policies.
"$DFA_BIN" summary --snapshot "$DFA_SRC/fixtures/scenarios/26-firewalld-policy-direct/snapshot.json" >"$tmp/summary" ||
  dfa_fail "summary failed"
for want in "firewalld (nft inet firewalld, from the kernel's tables)" "  trusted (iifname eth1)" \
  "  docker (iifname docker0)" "  public (every other packet: the default zone)" "  policies: allow-host-ipv6, blockweb" \
  "firewalld configuration (/run/dfa-lab/firewalld/etc/firewalld): default zone public, backend nftables" \
  "  policy blockweb (the admin's /run/dfa-lab/firewalld/etc/firewalld/policies/blockweb.xml): target CONTINUE; priority -10; from public to ANY" \
  '    rule family="ipv4" port port="8080" protocol="tcp" reject' \
  "  zone docker (the admin's /run/dfa-lab/firewalld/etc/firewalld/zones/docker.xml): target ACCEPT; forward" \
  "or NetworkManager): eth1 in trusted, eth0 in public, docker0 in docker"; do
  grep -qF -- "$want" "$tmp/summary" || dfa_fail "summary does not say: $want"
done
# eth1 written into trusted's file: bound by the files, no longer named as runtime only.
python3 - "$DFA_SRC/fixtures/scenarios/26-firewalld-policy-direct/snapshot.json" "$tmp/fw26.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for z in d["host"]["firewalld"]["zones"]:
    if z["name"] == "trusted":
        z["interfaces"].append("eth1")
json.dump(d, open(sys.argv[2], "w"))
PY
"$DFA_BIN" summary --snapshot "$tmp/fw26.json" | grep -qF "or NetworkManager): eth0 in public, docker0 in docker" ||
  dfa_fail "summary names eth1 as bound at runtime although trusted's file lists it"
# firewalld's files there but not readable (collect without root): said, never taken for no firewalld.
chmod 711 "$tmp"
mkdir -p "$tmp/fw/zones"
echo '<zone/>' >"$tmp/fw/zones/a.xml"
chmod 000 "$tmp/fw/zones"
setpriv --reuid=65534 --regid=65534 --clear-groups "$DFA_BIN" collect --firewalld-dir "$tmp/fw" \
  --firewalld-system-dir "$tmp/none" -o - 2>/dev/null >"$tmp/fw.json" || true
chmod 755 "$tmp/fw/zones"
python3 - "$tmp/fw.json" "$tmp/fw/zones" <<'PY' || dfa_fail "collect took unreadable firewalld files for none"
import json, sys
f = json.load(open(sys.argv[1]))["host"]["firewalld"]
assert f["present"] is True and f["error"] == sys.argv[2] + ": Permission denied", f
PY
echo "ok integration: promtool rules and tests, ansible syntax, GitHub Actions example, summary of ufw and firewalld"
