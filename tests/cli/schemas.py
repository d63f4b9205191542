#!/usr/bin/env python3
"""Every JSON output of dockfw-audit fits its published schema (docs/schemas,
JSON Schema draft 2020-12): each lab recording's snapshot, and scan, jsonl,
exposure, explain, baseline and drift run on it. The snapshot schema is the
one the binary makes from the reader's own shapes (--snapshot-schema), so it
must equal the file in the tree. Usage: schemas.py DFA_BIN DFA_SRC TMPDIR"""
import glob, json, os, subprocess, sys

import jsonschema

binary, src, tmp = sys.argv[1:4]
schema_dir = os.path.join(src, "docs/schemas")
schemas = {}
for path in glob.glob(os.path.join(schema_dir, "*.schema.json")):
    doc = json.load(open(path))
    jsonschema.Draft202012Validator.check_schema(doc)
    schemas[os.path.basename(path)] = doc
store = {doc["$id"]: doc for doc in schemas.values()}


def validator(name):
    doc = schemas[name]
    resolver = jsonschema.RefResolver(base_uri=doc["$id"], referrer=doc, store=store)
    return jsonschema.Draft202012Validator(doc, resolver=resolver)


validators = {name.split(".")[0]: validator(name) for name in schemas}
failures = []
checked = {}


def check(kind, doc, what):
    checked[kind] = checked.get(kind, 0) + 1
    errors = sorted(validators[kind].iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        failures.append(f"{what}: {kind} schema: /{'/'.join(map(str, e.path))}: {e.message[:300]}")


def run(*args, ok=(0, 1)):
    p = subprocess.run([binary, *args], capture_output=True, text=True)
    if p.returncode not in ok:
        failures.append(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.strip()[:300]}")
    return p.stdout


generated = json.loads(run("--snapshot-schema", ok=(0,)))
if generated != schemas["snapshot.schema.json"]:
    failures.append("docs/schemas/snapshot.schema.json differs from `dockfw-audit --snapshot-schema` (regenerate it)")

scenarios = os.path.join(src, "fixtures/scenarios")
snaps = sorted(glob.glob(os.path.join(scenarios, "*/snapshot.json")) +
               glob.glob(os.path.join(scenarios, "*/docker-*/snapshot.json")))
base = os.path.join(tmp, "base.json")
run("baseline", "save", base, "--snapshot", os.path.join(scenarios, "01-bypass-nft/snapshot.json"), ok=(0,))
for snap in snaps:
    what = os.path.relpath(snap, scenarios)
    check("snapshot", json.load(open(snap)), what)
    check("scan", json.loads(run("scan", "--snapshot", snap, "--format", "json", "--fail-on", "none")), what)
    for line in run("scan", "--snapshot", snap, "--format", "jsonl", "--fail-on", "none").splitlines():
        check("jsonl", json.loads(line), what)
    exposure = json.loads(run("exposure", "--snapshot", snap, "--format", "json"))
    check("exposure", exposure, what)
    # One packet per recording: the first cell, from the first outside host.
    cells = [c for e in exposure["entries"] for c in e["cells"]]
    if cells:
        dst = cells[0]["destinations"][0]
        src_addr = "2001:db8::7" if dst.startswith("[") else "203.0.113.7"
        check("explain", json.loads(run("explain", "--snapshot", snap, "--from", src_addr, "--to", dst,
                                        "--format", "json", ok=(0,))), what)
    saved = os.path.join(tmp, "saved.json")
    run("baseline", "save", saved, "--snapshot", snap, ok=(0,))
    check("baseline", json.load(open(saved)), what)
    check("drift", json.loads(run("drift", "--baseline", base, "--snapshot", snap, "--format", "json",
                                  "--fail-on", "none")), what)

for f in failures[:20]:
    print("FAIL", f)
print("schemas:", ", ".join(f"{k} {n}" for k, n in sorted(checked.items())), f"validated; {len(failures)} failures")
sys.exit(1 if failures or len(snaps) < 100 else 0)
