"""Score a model's entity extraction on the fresh entity split (issue 17).

    python pipeline/score_entity_fresh.py --split dev     # error analysis: figures and every error
    python pipeline/score_entity_fresh.py --split test    # the frozen split: figures only, once

Reads ``corpus/real/entity_fresh_records.jsonl`` (``pipeline/assemble_entity_fresh.py``) and the
model (default ``models/csvnlp-base``). Prints, per label, character-exact and overlap
precision/recall/F1 with gold and found counts, spaCy's ``Scorer`` figures, the share of
exactly found programmes that carry the gold canonical id, and exact F1 per source; writes them
to ``reports/entity_fresh/<split>.json`` and ``.md``. The dev split also lists every false hit
and miss; the test split never does (a frozen split is scored once, and each scoring is a row
in ``reports/SCORING_LEDGER.md``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("dev", "test"), required=True)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "csvnlp-base")
    args = parser.parse_args()

    from csvnlp.entities import ENTITY_LABELS, extract_entities
    from csvnlp.entities.scoring import score_entities
    from csvnlp.metrics import entity_scores
    from csvnlp.persistence import load_bundle

    records = [json.loads(line) for line in (ROOT / "corpus/real/entity_fresh_records.jsonl").open(encoding="utf-8")]
    records = [r for r in records if r["split"] == args.split]
    bundle = load_bundle(args.model)
    texts = [r["text"] for r in records]
    gold = [r["entities"] for r in records]
    found = list(extract_entities(bundle.entity_pipeline, texts))
    scores = score_entities(bundle.entity_pipeline, texts, gold, found)
    as_sets = lambda rows: [{(e["start"], e["end"], e["label"]) for e in entities} for entities in rows]  # noqa: E731
    by_source = {}
    for source in sorted({r["source"] for r in records}):
        idx = [i for i, r in enumerate(records) if r["source"] == source]
        exact = entity_scores(as_sets([gold[i] for i in idx]), as_sets([found[i] for i in idx]))["exact"]
        by_source[source] = {"records": len(idx), **{label: {k: exact[label][k] for k in ("f1", "gold", "found")} for label in ENTITY_LABELS}}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    result = {"split": args.split, "records": len(records), "commit": commit, "model": str(args.model.relative_to(ROOT) if args.model.is_relative_to(ROOT) else args.model),
              **scores, "exact_by_source": by_source}
    if args.split == "dev":
        errors = []
        for record, g, f in zip(records, gold, found):
            g_set = {(e["start"], e["end"], e["label"]) for e in g}
            f_set = {(e["start"], e["end"], e["label"]) for e in f}
            wrong_id = [(e["text"], e.get("id"), next(x.get("id") for x in g if (x["start"], x["end"]) == (e["start"], e["end"])))
                        for e in f if e["label"] == "PROGRAMME" and (e["start"], e["end"], e["label"]) in g_set
                        and (e.get("id") or None) != next(x.get("id") for x in g if (x["start"], x["end"]) == (e["start"], e["end"]))]
            errors.append({"id": record["id"],
                           "false_hits": [(record["text"][s:e], lab) for s, e, lab in sorted(f_set - g_set)],
                           "misses": [(record["text"][s:e], lab) for s, e, lab in sorted(g_set - f_set)],
                           "wrong_ids": wrong_id})
        result["errors"] = [e for e in errors if e["false_hits"] or e["misses"] or e["wrong_ids"]]
    out = ROOT / "reports" / "entity_fresh"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.split}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = [f"# Entity extraction on the fresh {args.split} split (issue 17)", "",
             f"Command: `python pipeline/score_entity_fresh.py --split {args.split}`; commit {commit}; {len(records)} records.", "",
             "| label | gold | found | exact P | exact R | exact F1 | overlap F1 | spaCy Scorer F |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label in ENTITY_LABELS:
        ex, ov, sp = scores["exact"][label], scores["partial"][label], scores["spacy_scorer"]["per_label"][label]
        lines.append(f"| {label} | {ex['gold']} | {ex['found']} | {ex['precision']:.3f} | {ex['recall']:.3f} | {ex['f1']:.3f} | {ov['f1']:.3f} | {sp['f']:.3f} |")
    link = scores["linking"]
    lines += ["", f"Programme linking: {link['correct']} of {link['found_exactly']} exactly found programmes carry the gold canonical id "
              f"({link['accuracy']:.3f}).", "", "| source | records | CLUSTER F1 (gold) | PROGRAMME F1 (gold) |", "| --- | ---: | ---: | ---: |"]
    for source, row in by_source.items():
        lines.append(f"| {source} | {row['records']} | {row['CLUSTER']['f1']:.3f} ({row['CLUSTER']['gold']}) | {row['PROGRAMME']['f1']:.3f} ({row['PROGRAMME']['gold']}) |")
    (out / f"{args.split}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
