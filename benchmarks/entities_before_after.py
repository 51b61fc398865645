"""Entity extraction before and after issue 10, on the same frozen entity split.

    python benchmarks/entities_before_after.py                 # before = ad806d4 (the last commit before issue 10)
    python benchmarks/entities_before_after.py --before REF

The frozen entity split is the level test split's records (corpus/external_test/real-test.jsonl)
plus the names-only test records (corpus/entity_test/entity-test.jsonl). "Before" is the code
and shipped model of REF, checked out in a temporary git worktree; "after" is this checkout's
shipped model. Both run their own `extract_entities` on the same texts. Results go to
benchmarks/results/entities_before_after.md and .json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SCORE = """
import json, sys
sys.path.insert(0, sys.argv[1] + "/src")
from pathlib import Path
from csvnlp.entities import extract_entities
from csvnlp.metrics import entity_scores
from csvnlp.persistence import load_bundle
bundle = load_bundle(Path(sys.argv[1]) / "models" / "csvnlp-base")
records = [json.loads(l) for f in sys.argv[2:] for l in open(f, encoding="utf-8") if l.strip()]
gold = [{(e["start"], e["end"], e["label"]) for e in r["entities"]} for r in records]
found = [{(e["start"], e["end"], e["label"]) for e in s} for s in extract_entities(bundle.entity_pipeline, [r["text"] for r in records])]
print(json.dumps({"records": len(records), **entity_scores(gold, found)}))
"""


def score(checkout: Path, files: list[Path]) -> dict:
    done = subprocess.run([sys.executable, "-c", SCORE, str(checkout), *map(str, files)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="ad806d4")
    args = parser.parse_args()
    files = [ROOT / "corpus" / "external_test" / "real-test.jsonl", ROOT / "corpus" / "entity_test" / "entity-test.jsonl"]
    with tempfile.TemporaryDirectory() as tmp:
        worktree = Path(tmp) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(worktree), args.before], cwd=ROOT, check=True, capture_output=True)
        try:
            before = score(worktree, files)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=True)
    after = score(ROOT, files)
    result = {"before_ref": args.before, "before": before, "after": after}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "entities_before_after.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = ["# Entity extraction before and after issue 10", "",
             f"Command: `python benchmarks/entities_before_after.py --before {args.before}`; the frozen entity split "
             f"({after['records']} records: the level test split plus the names-only test records).", "",
             "| extractor | label | match | precision | recall | F1 | gold | found |", "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, scores in ((f"before ({args.before})", before), ("after (shipped)", after)):
        for label in ("CLUSTER", "PROGRAMME"):
            for mode in ("exact", "partial"):
                s = scores[mode][label]
                lines.append(f"| {name} | {label} | {mode} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['gold']} | {s['found']} |")
    (RESULTS / "entities_before_after.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
