"""Rebuild corpus/, models/ and reports/ from the report, skipping stages whose inputs did not change.

Usage (from the repository root):
    python pipeline/run.py                 # every stage, in order, when its inputs changed
    python pipeline/run.py train           # one stage (and nothing else)
    python pipeline/run.py --force         # run every stage even when nothing changed
    python pipeline/run.py --dry-run       # say what would run

Each stage declares its inputs and outputs. After a stage succeeds, the sha256 of its inputs is
recorded in pipeline/state.json; a stage runs again only when an input's hash differs from the
record or an output is missing. Stages run the same `csvnlp` commands a user would.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATE_FILE = ROOT / "pipeline" / "state.json"
CODE = "src/csvnlp"

STAGES = {
    "build-corpus": {
        "command": ["corpus", "build"],
        "inputs": [
            "corpus/source/clusters-and-shared-value-report.txt", "corpus/table1.csv",
            "corpus/entity_annotations.json", "corpus/real/records.jsonl", "corpus/real/entity_records.jsonl",
            f"{CODE}/report_source.py",
            f"{CODE}/corpus.py", f"{CODE}/real_records.py", f"{CODE}/levels.py",
        ],
        "outputs": ["corpus/cases.jsonl"],
    },
    "train": {
        "command": ["train", "--out", "models/csvnlp-base", "--force"],
        "inputs": [
            "corpus/cases.jsonl", "corpus/extra", "corpus/entities", "corpus/gazetteers",
            "corpus/source/clusters-and-shared-value-report.txt",
            f"{CODE}/features.py", f"{CODE}/model.py", f"{CODE}/selection.py", f"{CODE}/training.py",
            "corpus/registry", f"{CODE}/entities", f"{CODE}/levels.py", f"{CODE}/persistence.py",
        ],
        "outputs": ["models/csvnlp-base/meta.json"],
    },
    "reference-outputs": {
        "script": "pipeline/reference_outputs.py",
        "inputs": ["models/csvnlp-base/meta.json", "pipeline/reference_outputs.py"],
        "outputs": ["tests/data/reference_outputs.json"],
    },
    "evaluate": {
        "command": ["evaluate", "--model", "models/csvnlp-base", "--out", "reports/evaluation", "--force"],
        "inputs": [
            "corpus/cases.jsonl", "corpus/extra", "corpus/external_test", "corpus/entity_test", "models/csvnlp-base/meta.json",
            f"{CODE}/evaluation.py", f"{CODE}/external_evaluation.py", f"{CODE}/metrics.py", f"{CODE}/selection.py",
            f"{CODE}/reporting.py", f"{CODE}/external_sets.py", f"{CODE}/language.py",
        ],
        "outputs": ["reports/evaluation/metrics.json", "reports/evaluation/report.md", "reports/evaluation/report.html"],
    },
}


def fingerprint(paths: list[str]) -> dict[str, str]:
    """sha256 per input; a directory hashes its files' names and contents, sorted."""
    result = {}
    for name in paths:
        path = ROOT / name
        digest = hashlib.sha256()
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path] if path.exists() else []
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
        result[name] = digest.hexdigest() if files else "absent"
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stages", nargs="*", help=f"stages to run: {', '.join(STAGES)} (default: all)")
    parser.add_argument("--force", action="store_true", help="run even when inputs did not change")
    parser.add_argument("--dry-run", action="store_true", help="only say what would run")
    args = parser.parse_args()
    unknown = [name for name in args.stages if name not in STAGES]
    if unknown:
        parser.error(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    state = json.loads(STATE_FILE.read_text()) if STATE_FILE.exists() else {}
    for name in args.stages or list(STAGES):
        stage = STAGES[name]
        inputs = fingerprint(stage["inputs"])
        outputs_present = all((ROOT / out).exists() for out in stage["outputs"])
        if not args.force and outputs_present and state.get(name) == inputs:
            print(f"[{name}] up to date, skipped")
            continue
        if "script" in stage:
            command = [sys.executable, stage["script"]]
            print(f"[{name}] running: python {stage['script']}")
        else:
            command = [sys.executable, "-m", "csvnlp.cli", *stage["command"]]
            print(f"[{name}] running: csvnlp {' '.join(stage['command'])}")
        if args.dry_run:
            continue
        done = subprocess.run(command, cwd=ROOT)
        if done.returncode != 0:
            print(f"[{name}] failed with exit status {done.returncode}", file=sys.stderr)
            return done.returncode
        state[name] = fingerprint(stage["inputs"])
        STATE_FILE.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
