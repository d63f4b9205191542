#!/usr/bin/python3
"""One answer, every view: on every recording, the counts of scan's JSON
(each entry's summary) are recomputed from its own cells, and text, exposure
text, HTML and SARIF must say the same; the HTML report must be
self-contained and must render its exposure matrix in headless Chromium: in a
screenshot, each state's colour covers at least a cell's area for every
matrix cell in that state, and no pixel for a state no cell has.

Run by Debian's python3 (python3-pil): tests/cli/report_views.sh."""
import glob
import html.parser
import json
import os
import re
import subprocess
import sys
import tempfile

from PIL import Image

binary, src, tmp = sys.argv[1], sys.argv[2], sys.argv[3]
failures, stats = [], {"recordings": 0, "entries": 0, "screenshots": 0, "findings": 0}
# The matrix's colours (src/findings/html.cpp): used nowhere else on the page.
COLOURS = {"open": (0xD3, 0x2F, 0x2F), "uncertain": (0xF9, 0xA8, 0x25), "closed": (0x38, 0x8E, 0x3C)}
MIN_CELL_PIXELS = 1500  # a cell is at least 9em wide and two lines high


def run(*args, ok=(0, 1)):
    p = subprocess.run([binary, *args], capture_output=True, text=True)
    if p.returncode not in ok:
        failures.append(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.strip()[:300]}")
    return p.stdout


def recount(entry, sets):
    """The summary's counts from the entry's own cells: a source is open when
    one of its cells is delivered, uncertain when none is and one is uncertain.
    A cell names its sources by set (schema 2: source_sets)."""
    state = {}
    for c in entry["cells"]:
        for s in sets[c["source_set"]]:
            now = {"delivered": "open", "uncertain": "uncertain"}.get(c["outcome"], "closed")
            was = state.get(s, "closed")
            state[s] = "open" if "open" in (was, now) else "uncertain" if "uncertain" in (was, now) else "closed"
    vals = list(state.values())
    return len(state), vals.count("open"), vals.count("uncertain")


class Matrix(html.parser.HTMLParser):
    """Rows of table.matrix: entry -> ([sources text], {audience: state})."""

    def __init__(self):
        super().__init__()
        self.rows, self.row, self.in_matrix, self.cell, self.text = {}, None, False, 0, ""
        self.forbidden = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "link", "img", "iframe", "object", "embed") or "src" in a:
            self.forbidden.append(tag)
        if "href" in a and not a["href"].startswith("#"):
            self.forbidden.append(f"href={a['href']}")
        if tag == "table" and a.get("class") == "matrix":
            self.in_matrix = True
        if self.in_matrix and tag == "tr" and "data-entry" in a:
            self.row = self.rows.setdefault(a["data-entry"], {"cells": 0, "states": {}, "text": []})
            self.cell = 0
        if self.row is not None and tag == "td":
            self.cell += 1
            self.text = ""
            if "data-audience" in a and a["data-state"] != "none":
                self.row["states"][a["data-audience"]] = a["data-state"]

    def handle_endtag(self, tag):
        if tag == "td" and self.row is not None:
            self.row["text"].append(self.text.strip())
        if tag == "tr":
            self.row = None
        if tag == "table":
            self.in_matrix = False

    def handle_data(self, data):
        self.text += data


def text_headlines(text, indent):
    """'published WHAT (IPvF): HEADLINE' lines of a text report -> {(what, family): headline}."""
    out = {}
    for m in re.finditer(rf"^{indent}(?:published|host socket) (.*) \(IPv(\d)\): (.*)$", text, re.M):
        out[(m.group(1), int(m.group(2)))] = m.group(3)
    return out


def screenshot(page, height):
    png = os.path.join(tmp, "shot.png")
    if os.path.exists(png):
        os.unlink(png)
    p = subprocess.run(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--disable-background-networking", "--no-first-run", f"--user-data-dir={tmp}/chromium",
                        f"--window-size=1400,{height}", f"--screenshot={png}", "file://" + page],
                       capture_output=True, text=True, timeout=120)
    if p.returncode or not os.path.exists(png):
        failures.append(f"chromium could not screenshot {page}: exit {p.returncode}: {p.stderr.strip()[-300:]}")
        return None
    counts = {k: 0 for k in COLOURS}
    by_colour = {v: k for k, v in COLOURS.items()}
    for n, px in Image.open(png).convert("RGB").getcolors(maxcolors=1 << 24):
        if px in by_colour:
            counts[by_colour[px]] += n
    return counts


scenarios = os.path.join(src, "fixtures/scenarios")
snaps = sorted(glob.glob(os.path.join(scenarios, "*/snapshot.json")) +
               glob.glob(os.path.join(scenarios, "*/docker-*/snapshot.json")))
for snap in snaps:
    what = os.path.relpath(snap, scenarios)
    stats["recordings"] += 1
    scan = json.loads(run("scan", "--snapshot", snap, "--format", "json", "--fail-on", "none") or "{}")
    entries = scan.get("exposure", {}).get("entries", [])
    sets = scan.get("exposure", {}).get("source_sets", [])
    text = run("scan", "--snapshot", snap, "--fail-on", "none")
    exposure_text = run("exposure", "--snapshot", snap)
    page = os.path.join(tmp, "report.html")
    run("scan", "--snapshot", snap, "--format", "html", "--fail-on", "none", "-o", page)
    parser = Matrix()
    parser.feed(open(page, encoding="utf-8").read())
    if parser.forbidden:
        failures.append(f"{what}: the HTML report is not self-contained: {parser.forbidden[:5]}")
    scan_heads, exp_heads = text_headlines(text, "  "), text_headlines(exposure_text, "")
    want_cells = {"open": 0, "uncertain": 0, "closed": 0}
    for e in entries:
        stats["entries"] += 1
        key, s = (e["what"], e["family"]), e["summary"]
        if (s["sources"], s["open"], s["uncertain"]) != recount(e, sets):
            failures.append(f"{what}: {key}: summary {s['sources']}/{s['open']}/{s['uncertain']} "
                            f"but its cells give {recount(e, sets)}")
        if sum(a["open"] + a["uncertain"] + a["closed"] for a in s["audiences"]) != s["sources"]:
            failures.append(f"{what}: {key}: the audiences do not add up to {s['sources']} sources")
        for view, heads in (("scan text", scan_heads), ("exposure text", exp_heads)):
            if heads.get(key) != s["headline"]:
                failures.append(f"{what}: {key}: {view} says {heads.get(key)!r}, JSON {s['headline']!r}")
        row = parser.rows.get(e["what"] if e["kind"] == "published" else e["what"])
        want = {a["audience"]: a["state"] for a in s["audiences"]}
        if row is None or row["states"] != want:
            failures.append(f"{what}: {key}: the HTML matrix shows {row and row['states']}, JSON {want}")
        elif s["headline"] not in row["text"]:
            failures.append(f"{what}: {key}: the HTML matrix row does not say {s['headline']!r}")
        for a in s["audiences"]:
            want_cells[a["state"]] += 1
    # Findings: the same messages in JSON, text and SARIF.
    sarif = json.loads(run("scan", "--snapshot", snap, "--format", "sarif", "--fail-on", "none") or "{}")
    sarif_msgs = sorted(r["message"]["text"] for run_ in sarif.get("runs", []) for r in run_["results"])
    json_msgs = sorted(f["message"] for f in scan.get("findings", []))
    stats["findings"] += len(json_msgs)
    if sarif_msgs != json_msgs:
        failures.append(f"{what}: SARIF and JSON findings differ: {set(sarif_msgs) ^ set(json_msgs)}")
    for m in json_msgs:
        if m not in text:
            failures.append(f"{what}: the text report lacks the finding {m[:100]!r}")
    # The page in a real browser: the matrix is at the top, each state's
    # colour covering its cells. Base recordings only (Docker 20.10).
    if "/docker-" in what:
        continue
    counts = screenshot(page, min(16000, 500 + 90 * len(entries)))
    if counts is None:
        continue
    stats["screenshots"] += 1
    for state, n in want_cells.items():
        if n and counts[state] < n * MIN_CELL_PIXELS:
            failures.append(f"{what}: screenshot: {n} matrix cells are {state} but only {counts[state]} pixels have its colour")
        if not n and counts[state]:
            failures.append(f"{what}: screenshot: no matrix cell is {state} but {counts[state]} pixels have its colour")

for f in failures[:25]:
    print("FAIL", f)
print("report views:", ", ".join(f"{k} {v}" for k, v in stats.items()), f"checked; {len(failures)} failures")
sys.exit(1 if failures or stats["screenshots"] < 30 else 0)
