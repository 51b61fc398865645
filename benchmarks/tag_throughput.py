"""Throughput and peak memory of `csvnlp tag`, against two references measured in the same run.

    python benchmarks/tag_throughput.py                    # 10^4, 10^5, 10^6 rows
    python benchmarks/tag_throughput.py --sizes 10000      # a quick look

Input: real ERDF/ESF operation summaries and CORDIS objectives from ../shared/data/external,
cycled to each size (benchmarks/make_input.py; written under benchmarks/work/, not in git).
For each size it runs `csvnlp tag` with --jobs 1 and 2, with and without entities (at 10^6
only the target configuration, --jobs 2 with entities, unless --full), and two references:

- floor: read the CSV in chunks with pandas and tokenize every text with spacy.blank("en")
  (one process) -- the least any tagger that tokenizes its input can do;
- naive: a loop that classifies one row at a time with the same model (on 10^4 rows).

Peak RSS is the largest sum of resident memory over the process and its children, sampled
every 0.1 s. Results go to benchmarks/results/tagging.json and tagging.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work"
RESULTS = ROOT / "benchmarks" / "results"

FLOOR = """
import sys, spacy, pandas as pd
nlp = spacy.blank("en"); n = 0
for chunk in pd.read_csv(sys.argv[1], sep=";", dtype=str, keep_default_na=False, chunksize=1000):
    for doc in nlp.pipe(chunk["text"].tolist(), batch_size=1000):
        n += 1
print(n)
"""

NAIVE = """
import csv, sys
from csvnlp.persistence import load_bundle
bundle = load_bundle()
with open(sys.argv[1], encoding="utf-8", newline="") as src, open(sys.argv[2], "w", encoding="utf-8", newline="") as dst:
    reader, writer = csv.DictReader(src, delimiter=";"), csv.writer(dst)
    for row in reader:
        result = bundle.classify([row["text"]])[0]
        writer.writerow([row["id"], result["status"], ";".join(result["predicted"])]
                        + [level["probability"] for level in result["levels"]]
                        + [";".join(e["text"] for e in result["entities"])])
"""


def measure(command: list[str]) -> dict[str, float]:
    """Wall time and peak RSS (process tree) of one command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    handle = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            rss = handle.memory_info().rss + sum(c.memory_info().rss for c in handle.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.1)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()[-2000:]}")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(peak / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--full", action="store_true", help="every configuration at every size")
    parser.add_argument("--entities-only", action="store_true",
                        help="only the runs with entities (--jobs 1 and 2) beside the floor: the issue-20 targets")
    args = parser.parse_args()
    csvnlp = str(Path(sys.executable).with_name("csvnlp"))
    rows_out = []
    # the fixed cost every run below includes: imports, model load, writing a 10-row output
    tiny = WORK / "rows-10.csv"
    if not tiny.exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_input.py"), "10", str(tiny)], check=True)
    load_before = os.getloadavg()[0]
    figures = measure([csvnlp, "tag", str(tiny), "--out", str(WORK / "tagged-10.csv"), "-t", "text", "--id-column", "id",
                       "--force", "--quiet"])
    figures.update(size=10, run="start-up: csvnlp tag --jobs 1 on 10 rows", rows_per_s=round(10 / figures["seconds"], 1),
                   load_1min_before=round(load_before, 2), load_1min_after=round(os.getloadavg()[0], 2))
    rows_out.append(figures)
    print(json.dumps(figures), flush=True)
    for size in args.sizes:
        source = WORK / f"rows-{size}.csv"
        if not source.exists():
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_input.py"), str(size), str(source)], check=True)
        runs = [("floor: read + spacy.blank tokenize (1 process)", [sys.executable, "-c", FLOOR, str(source)])]
        if size <= 10_000:
            runs.append(("naive: one row at a time", [sys.executable, "-c", NAIVE, str(source), str(WORK / "naive.csv")]))
        configurations = [(2, True)] if size >= 1_000_000 and not args.full else [(1, True), (2, True), (1, False), (2, False)]
        if args.entities_only:
            configurations = [(1, True), (2, True)]
        for jobs, entities in configurations:
            command = [csvnlp, "tag", str(source), "--out", str(WORK / f"tagged-{size}.csv"), "-t", "text",
                       "--id-column", "id", "--jobs", str(jobs), "--force", "--quiet"]
            if not entities:
                command.append("--no-entities")
            runs.append((f"csvnlp tag --jobs {jobs}" + ("" if entities else " --no-entities"), command))
        for name, command in runs:
            load_before = os.getloadavg()[0]
            figures = measure(command)
            figures.update(size=size, run=name, rows_per_s=round(size / figures["seconds"], 1),
                           load_1min_before=round(load_before, 2), load_1min_after=round(os.getloadavg()[0], 2))
            rows_out.append(figures)
            print(json.dumps(figures), flush=True)

    def find(size: int, prefix: str) -> dict | None:
        return next((r for r in rows_out if r["size"] == size and r["run"].startswith(prefix)), None)

    naive = next((r for r in rows_out if r["run"].startswith("naive")), None)
    summary = []
    for size in args.sizes:
        target = next((r for r in rows_out if r["size"] == size and r["run"] == "csvnlp tag --jobs 2"), None)
        one = next((r for r in rows_out if r["size"] == size and r["run"] == "csvnlp tag --jobs 1"), None)
        floor = find(size, "floor")
        if target and floor:
            summary.append({
                "size": size,
                "jobs1_entities_rows_per_s": one["rows_per_s"] if one else None,
                "jobs1_share_of_floor": round(one["rows_per_s"] / floor["rows_per_s"], 3) if one else None,
                "jobs2_entities_rows_per_s": target["rows_per_s"],
                "share_of_floor": round(target["rows_per_s"] / floor["rows_per_s"], 3),
                "times_naive": round(target["rows_per_s"] / naive["rows_per_s"], 1) if naive else None,
                "seconds": target["seconds"],
                "peak_rss_mb": target["peak_rss_mb"],
            })
    smallest = next((s for s in summary if s["size"] == min(args.sizes)), None)
    largest = next((s for s in summary if s["size"] == max(args.sizes)), None)
    rss_ratio = round(largest["peak_rss_mb"] / smallest["peak_rss_mb"], 3) if smallest and largest else None
    result = {
        "machine": {"cores": psutil.cpu_count(), "python": platform.python_version()},
        "runs": rows_out,
        "summary": summary,
        "peak_rss_ratio_largest_over_smallest": rss_ratio,
        "targets": {"jobs1_share_of_floor": ">= 0.6 (issue 20)", "share_of_floor": ">= 1.0 (issue 20; was >= 0.5)",
                    "times_naive": ">= 20", "seconds_at_1e6": "< 600", "peak_rss_ratio": "<= 1.2"},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tagging.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# `csvnlp tag` throughput and memory",
        "",
        f"Command: `python benchmarks/tag_throughput.py --sizes {' '.join(map(str, args.sizes))}"
        + (" --entities-only" if args.entities_only else "") + "`; "
        f"{psutil.cpu_count()} cores; input: real ERDF/ESF summaries and CORDIS objectives cycled to each size. "
        "The machine is shared: each run's 1-minute load average before and after it is listed (a ratio to the floor "
        "is only fair when the load did not change much between the floor's run and the run).",
        "",
        "| rows | run | seconds | rows/s | peak RSS (MB) | load before / after |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [f"| {r['size']:,} | {r['run']} | {r['seconds']} | {r['rows_per_s']:,.0f} | {r['peak_rss_mb']} | "
              f"{r.get('load_1min_before', '')} / {r.get('load_1min_after', '')} |" for r in rows_out]
    lines += ["", "| rows | `--jobs 1` with entities, rows/s | share of floor (target >= 0.6) | `--jobs 2` with entities, rows/s | share of floor (target >= 1.0) | x naive (target >= 20) | seconds | peak RSS MB |",
              "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {s['size']:,} | {s['jobs1_entities_rows_per_s'] or 0:,.0f} | {s['jobs1_share_of_floor']} | {s['jobs2_entities_rows_per_s']:,.0f} | "
              f"{s['share_of_floor']} | {s['times_naive']} | {s['seconds']} | {s['peak_rss_mb']} |" for s in summary]
    lines += ["", f"Peak RSS at the largest size / at the smallest (target <= 1.2): {rss_ratio}", "",
              "Notes:",
              "- Each figure is one wall-clock run including start-up (imports, model load: the 10-row run above), which is why "
              "10^4 rows look slow; the machine is a shared 2-core VM, so repeat runs vary by about 10%.",
              "- The floor reads the CSV with pandas and tokenizes every text with `spacy.blank(\"en\")` in one process, "
              "start-up included, and writes nothing; `csvnlp tag` also detects each text's language, runs the level "
              "model, finds names (spaCy on the texts that can hold one), writes a Parquet part per chunk (fsynced "
              "ledger) and assembles the output.",
              "- The naive loop is measured on 10^4 rows only (its rate does not depend on size) and the "
              "`x naive` column divides by that rate.",
              "- Peak RSS sums the resident memory of the main process and its workers; forked workers share "
              "the model's pages, which this sum counts once per process, so `--jobs 2` looks larger than it is.",
              "- Texts in which no learned name and no name shape can occur skip the spaCy pipeline "
              "(`entities.extract_entities`); that is why levels + entities can come close to the "
              "read + tokenize floor. The output is the same as tokenizing every text (a test pins this).",
              ""]
    (RESULTS / "tagging.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
