#!/usr/bin/env python3
"""explain --format dot|mermaid against explain --format json, on every
recording: for packets from an outside host, the host and a container to the
first destination of each entry, the dot graph must render with Graphviz
(no warning) into one cluster per run of steps at a hook and one node per
step plus the outcome, in order, each holding its rule and verdict; the
Mermaid flowchart must define the same nodes in the same clusters, chained
in order, with labels that decode to the same text and no raw markup."""
import glob
import html
import json
import os
import re
import subprocess
import sys

binary, src = sys.argv[1], sys.argv[2]
failures, checked = [], 0


def run(*args):
    p = subprocess.run([binary, *args], capture_output=True, text=True)
    if p.returncode not in (0, 1):
        failures.append(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.strip()[:300]}")
    return p.stdout


def runs(steps):
    """The clusters a trace has: (hook, [step indexes]) per run of one hook."""
    out = []
    for i, st in enumerate(steps):
        if not out or out[-1][0] != st["hook"]:
            out.append((st["hook"], []))
        out[-1][1].append(i)
    return out


def step_lines(st):
    lines = [st["where"]] if st["where"] else []
    if st["rule"]:
        lines.append(f"{st['rule']}  [{st['origin']}]")
    lines.append("-> " + st["verdict"])
    return lines


def outcome_lines(j):
    lines = [j["outcome"] + (" to " + j["target"] if j["target"] else "")]
    if j["decided_by"]:
        lines.append("decided by " + j["decided_by"])
    return lines + ["uncertain: " + u for u in j["uncertain"]]


def check_dot(what, j, dot):
    global checked
    p = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True)
    if p.returncode or p.stderr.strip():
        failures.append(f"{what}: dot -Tsvg: exit {p.returncode}: {p.stderr.strip()[:300]}")
        return
    svg = p.stdout
    clusters = re.findall(r'<g id="clust\d+" class="cluster">\s*<title>([^<]*)</title>', svg)
    want = runs(j["steps"])
    if len(clusters) != len(want):
        failures.append(f"{what}: dot: {len(clusters)} clusters rendered, the trace has {len(want)} runs of hooks")
    nodes = re.findall(r'<g id="node\d+" class="node">\s*<title>(n\d+)</title>(.*?)</g>', svg, re.S)
    if [n for n, _ in nodes] != [f"n{i}" for i in range(len(j["steps"]) + 1)]:
        failures.append(f"{what}: dot: nodes {[n for n, _ in nodes][:5]}... are not n0..n{len(j['steps'])}")
        return
    # SVG keeps runs of spaces as no-break spaces.
    texts = [[html.unescape(t).replace("\xa0", " ") for t in re.findall(r"<text[^>]*>([^<]*)</text>", body)] for _, body in nodes]
    for i, st in enumerate(j["steps"]):
        if texts[i] != step_lines(st):
            failures.append(f"{what}: dot: node n{i} reads {texts[i]}, the step is {step_lines(st)}")
    if texts[-1] != outcome_lines(j):
        failures.append(f"{what}: dot: the outcome node reads {texts[-1]}, not {outcome_lines(j)}")
    edges = re.findall(r"<title>(n\d+)&#45;&gt;(n\d+)</title>", svg)
    if edges != [(f"n{i}", f"n{i+1}") for i in range(len(j["steps"]))]:
        failures.append(f"{what}: dot: edges {edges[:4]}... do not chain the steps in order")
    checked += 1


def mermaid_decode(label):
    if re.search(r'["<>]', label.replace("<br/>", "")):
        failures.append(f"raw markup in a Mermaid label: {label[:120]}")
    return [re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), part) for part in label.split("<br/>")]


def check_mermaid(what, j, text):
    global checked
    lines = text.splitlines()
    if lines[:1] != ["---"] or not lines[1].startswith("title: ") or lines[2:4] != ["---", "flowchart TB"]:
        failures.append(f"{what}: mermaid: no front matter title and flowchart header: {lines[:4]}")
        return
    clusters, nodes, edges, depth, current = [], {}, [], 0, None
    for line in lines[4:]:
        m = re.fullmatch(r'  subgraph (c\d+)\["([^"]*)"\]', line)
        if m:
            depth += 1
            current = (m.group(2), [])
            clusters.append(current)
            continue
        if line == "  end":
            depth -= 1
            current = None
            continue
        m = re.fullmatch(r'\s+(n\d+)(?:\["([^"]*)"\]|\{\{"([^"]*)"\}\})', line)
        if m:
            nodes[m.group(1)] = mermaid_decode(m.group(2) if m.group(2) is not None else m.group(3))
            if current is not None:
                current[1].append(int(m.group(1)[1:]))
            continue
        m = re.fullmatch(r"  (n\d+) --> (n\d+)", line)
        if m:
            edges.append((m.group(1), m.group(2)))
            continue
        m = re.fullmatch(r"  class (n\d+) (\w+)", line)
        if m:
            if m.group(1) not in nodes:
                failures.append(f"{what}: mermaid: class for undefined node {m.group(1)}")
            continue
        if not re.fullmatch(r"  classDef \w+ [\w:#,.-]+", line):
            failures.append(f"{what}: mermaid: unexpected line {line!r}")
    if depth != 0:
        failures.append(f"{what}: mermaid: subgraph and end do not balance")
    if [(h, ns) for h, ns in clusters] != runs(j["steps"]):
        failures.append(f"{what}: mermaid: clusters {clusters[:3]}... differ from the trace's hooks")
    for i, st in enumerate(j["steps"]):
        if nodes.get(f"n{i}") != step_lines(st):
            failures.append(f"{what}: mermaid: node n{i} reads {nodes.get(f'n{i}')}, the step is {step_lines(st)}")
    if nodes.get(f"n{len(j['steps'])}") != outcome_lines(j):
        failures.append(f"{what}: mermaid: the outcome node differs from {outcome_lines(j)}")
    if edges != [(f"n{i}", f"n{i+1}") for i in range(len(j["steps"]))]:
        failures.append(f"{what}: mermaid: edges do not chain the steps in order")
    checked += 1


scenarios = os.path.join(src, "fixtures/scenarios")
snaps = sorted(glob.glob(os.path.join(scenarios, "*/snapshot.json")) +
               glob.glob(os.path.join(scenarios, "*/docker-*/snapshot.json")))
for snap in snaps:
    exposure = json.loads(run("exposure", "--snapshot", snap, "--format", "json"))
    containers = [c for c in json.load(open(snap)).get("docker", {}).get("containers", []) if c.get("running", True)]
    for e in exposure["entries"]:
        if not e["cells"]:
            continue
        dst = e["cells"][0]["destinations"][0]
        if re.search(r":0/\w+$", dst):
            continue  # a socket bound to port 0 (an address no packet is sent to)
        froms = ["2001:db8::7" if dst.startswith("[") else "203.0.113.7", "host"]
        if containers:
            froms.append("container:" + containers[0]["name"].lstrip("/"))
        for frm in froms:
            what = f"{os.path.relpath(snap, scenarios)}: --from {frm} --to {dst}"
            args = ["explain", "--snapshot", snap, "--from", frm, "--to", dst, "--format"]
            j = json.loads(run(*args, "json") or "{}")
            if "steps" not in j:
                continue
            check_dot(what, j, run(*args, "dot"))
            check_mermaid(what, j, run(*args, "mermaid"))

for f in failures[:20]:
    print("FAIL", f)
print(f"graphs: {checked} dot and mermaid renderings checked; {len(failures)} failures")
sys.exit(1 if failures or checked < 200 else 0)
