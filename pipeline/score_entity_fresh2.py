"""Score the shipped model's entity extraction ONCE on the second fresh entity test split (issue 17).

    flock -s /work/coord/cpu.lock python pipeline/score_entity_fresh2.py

Reads ``corpus/real/entity_fresh2_records.jsonl`` (``pipeline/assemble_entity_fresh2.py``) and the
model (default ``models/csvnlp-base``). The headline is the records marked ``split: test`` (the
records development had read before the draw are left out); the same figures over all records
are printed beside it. Per label: character-exact and overlap precision/recall/F1 with gold and
found counts, spaCy's ``Scorer`` figures, the share of exactly found programmes that carry the gold
canonical id, and exact F1 per source and per sampling stratum. Writes
``reports/entity_fresh2/test.json`` and ``.md``; it never lists a record's errors (a frozen split is
scored once, and the scoring is a row in ``reports/SCORING_LEDGER.md``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def figures(nlp, records: list[dict], found: list[list[dict]]) -> dict:
    from csvnlp.entities import ENTITY_LABELS
    from csvnlp.entities.scoring import score_entities
    from csvnlp.metrics import entity_scores

    texts = [r["text"] for r in records]
    gold = [r["entities"] for r in records]
    scores = score_entities(nlp, texts, gold, found)
    as_sets = lambda rows: [{(e["start"], e["end"], e["label"]) for e in entities} for entities in rows]  # noqa: E731
    groups = {}
    for field in ("source", "sampling"):
        groups[field] = {}
        for value in sorted({r[field] for r in records}):
            idx = [i for i, r in enumerate(records) if r[field] == value]
            exact = entity_scores(as_sets([gold[i] for i in idx]), as_sets([found[i] for i in idx]))["exact"]
            groups[field][value] = {"records": len(idx), **{label: {k: exact[label][k] for k in ("f1", "gold", "found")} for label in ENTITY_LABELS}}
    return {"records": len(records), **scores, "exact_by_source": groups["source"], "exact_by_sampling": groups["sampling"]}


def table(name: str, result: dict) -> list[str]:
    from csvnlp.entities import ENTITY_LABELS

    lines = [f"### {name} ({result['records']} records)", "",
             "| label | gold | found | exact P | exact R | exact F1 | overlap F1 | spaCy Scorer F |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label in ENTITY_LABELS:
        ex, ov, sp = result["exact"][label], result["partial"][label], result["spacy_scorer"]["per_label"][label]
        lines.append(f"| {label} | {ex['gold']} | {ex['found']} | {ex['precision']:.3f} | {ex['recall']:.3f} | {ex['f1']:.3f} | {ov['f1']:.3f} | {sp['f']:.3f} |")
    link = result["linking"]
    lines += ["", f"Programme linking: {link['correct']} of {link['found_exactly']} exactly found programmes carry the gold canonical id "
              f"({link['accuracy']:.3f}).", ""]
    for field in ("source", "sampling"):
        lines += [f"| {field} | records | CLUSTER F1 (gold) | PROGRAMME F1 (gold) |", "| --- | ---: | ---: | ---: |"]
        for value, row in result[f"exact_by_{field}"].items():
            lines.append(f"| {value} | {row['records']} | {row['CLUSTER']['f1']:.3f} ({row['CLUSTER']['gold']}) | "
                         f"{row['PROGRAMME']['f1']:.3f} ({row['PROGRAMME']['gold']}) |")
        lines.append("")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "csvnlp-base")
    parser.add_argument("--records", type=Path, default=ROOT / "corpus/real/entity_fresh2_records.jsonl",
                        help="annotated records (default: the second fresh split); another file writes to --out")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "entity_fresh2")
    args = parser.parse_args()

    from csvnlp.entities import extract_entities
    from csvnlp.persistence import load_bundle

    records = [json.loads(line) for line in args.records.open(encoding="utf-8")]
    bundle = load_bundle(args.model)
    found = list(extract_entities(bundle.entity_pipeline, [r["text"] for r in records]))
    test = [i for i, r in enumerate(records) if r["split"] == "test"]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    result = {"split": "second fresh entity test split", "commit": commit,
              "model": str(args.model.relative_to(ROOT) if args.model.is_relative_to(ROOT) else args.model),
              "headline": figures(bundle.entity_pipeline, [records[i] for i in test], [found[i] for i in test]),
              "all_records": figures(bundle.entity_pipeline, records, found)}
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "test.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = ["# Entity extraction on the second fresh entity test split (issue 17)", "",
             f"Command: `python pipeline/score_entity_fresh2.py`; commit {commit}; model {result['model']}. Scored once; "
             "the scoring is a row in reports/SCORING_LEDGER.md.", "",
             *table("Headline: records marked split test", result["headline"]),
             *table("All records (with those development had read before the draw)", result["all_records"])]
    (out / "test.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
