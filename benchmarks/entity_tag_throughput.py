"""`csvnlp tag` with entities: this checkout against a base checkout, on the same input.

    git worktree add --detach ../base <commit>       # the code and shipped model to compare with
    python benchmarks/make_input.py 100000 benchmarks/work/rows-100000.csv
    python benchmarks/entity_tag_throughput.py --base ../base --base-python OTHER_VENV/bin/python --rows 100000 --repeats 2

Runs `python -m csvnlp.cli tag INPUT -t text --jobs 1` (entities on) with each checkout's own
code (``PYTHONPATH=<checkout>/src``) and its own shipped model (the base in a Python environment
where this csvnlp is not installed, ``--base-python``: spaCy loads every installed
``spacy_factories`` entry point when it builds a pipeline, and this checkout's names a module
the base's code does not have), alternating base and this
checkout ``--repeats`` times so both see the same machine load, and reports the best wall time
of each (rows/s, including start-up) and their ratio. Issue 17's target: this checkout within
10% of the base. Results go to benchmarks/results/entity_throughput.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work"
RESULTS = ROOT / "benchmarks" / "results"


def run(checkout: Path, source: Path, out: Path, python: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(checkout / "src")}
    command = [python, "-m", "csvnlp.cli", "tag", str(source), "--out", str(out), "-t", "text", "--id-column", "id",
               "--model", str(checkout / "models" / "csvnlp-base"), "--jobs", "1", "--quiet", "--force"]
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--base-python", default=sys.executable)
    parser.add_argument("--rows", type=int, default=100000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    source = WORK / f"rows-{args.rows}.csv"
    if not source.exists():
        sys.exit(f"no input {source}: run python benchmarks/make_input.py {args.rows} {source}")
    times: dict[str, list[float]] = {"base": [], "this": []}
    for _ in range(args.repeats):
        for name, checkout, python in (("base", args.base.resolve(), args.base_python), ("this", ROOT, sys.executable)):
            times[name].append(run(checkout, source, WORK / f"entity-throughput-{name}.csv", python))
            print(f"{name}: {times[name][-1]:.1f} s", file=sys.stderr)
    commit = lambda path: subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=path, capture_output=True, text=True).stdout.strip()  # noqa: E731
    best = {name: min(values) for name, values in times.items()}
    result = {"rows": args.rows, "base_commit": commit(args.base), "this_commit": commit(ROOT), "seconds": times,
              "rows_per_s": {name: round(args.rows / s) for name, s in best.items()}, "ratio_this_to_base": round(best["base"] / best["this"], 3)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "entity_throughput.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    lines = ["# `csvnlp tag` with entities: before and after issue 17", "",
             f"Command: `python benchmarks/entity_tag_throughput.py --base <checkout of {result['base_commit']}> --rows {args.rows} "
             f"--repeats {args.repeats}`; `--jobs 1`, entities on, each checkout with its own shipped model; runs alternate, best of each.", "",
             "| checkout | commit | best seconds | rows/s | all runs (s) |", "| --- | --- | ---: | ---: | --- |"]
    for name in ("base", "this"):
        lines.append(f"| {name} | {result[name + '_commit']} | {best[name]:.1f} | {result['rows_per_s'][name]:,} | "
                     + ", ".join(f"{s:.1f}" for s in times[name]) + " |")
    lines += ["", f"This checkout's throughput is {result['ratio_this_to_base']:.3f} x the base's (target: >= 0.90).",
              "The machine is a shared 2-core VM; runs alternate so both see the same load, and repeat runs vary by about 10%."]
    (RESULTS / "entity_throughput.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
