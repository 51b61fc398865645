"""Development figure of the entity extractor as the code and corpus now build it (issue 17).

    python pipeline/score_entity_dev.py

Builds the entity pipeline the way ``csvnlp train`` does (training records and names-only
training records of ``corpus/``, gazetteers, registry, cluster list, rule reliability learned on
the training records; no recognizer, as the shipped model's policy is rules) and scores it on all
480 records of the FIRST fresh entity split, which is development data since its one scoring
(reports/SCORING_LEDGER.md). Prints and writes ``reports/entity_fresh/dev-all.md`` and ``.json``
with every false hit and miss, for error analysis. Never run on the second fresh split.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    from csvnlp.corpus import load_corpus, split_records
    from csvnlp.entities import ENTITY_LABELS, extract_entities, train_entity_pipeline
    from csvnlp.entities.scoring import score_entities
    from csvnlp.real_records import entity_training_records, gazetteer_entries

    corpus = [ROOT / "corpus"]
    records, _ = split_records(load_corpus(corpus))
    nlp, _ = train_entity_pipeline(list(records) + entity_training_records(corpus), seed=13, gazetteer=gazetteer_entries(corpus), recognizer=False)
    dev = [json.loads(line) for line in (ROOT / "corpus/real/entity_fresh_records.jsonl").open(encoding="utf-8")]
    texts = [r["text"] for r in dev]
    found = list(extract_entities(nlp, texts))
    scores = score_entities(nlp, texts, [r["entities"] for r in dev], found)
    errors = []
    for record, spans in zip(dev, found):
        gold = {(e["start"], e["end"], e["label"]) for e in record["entities"]}
        got = {(e["start"], e["end"], e["label"]) for e in spans}
        if gold != got:
            errors.append({"id": record["id"], "source": record["source"],
                           "false_hits": [(record["text"][s:e], lab) for s, e, lab in sorted(got - gold)],
                           "misses": [(record["text"][s:e], lab) for s, e, lab in sorted(gold - got)]})
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    out = ROOT / "reports" / "entity_fresh"
    (out / "dev-all.json").write_text(json.dumps({"commit": commit, "records": len(dev), **scores, "errors": errors}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = ["# Entity extraction on the first fresh split, all 480 records (development data)", "",
             f"Command: `python pipeline/score_entity_dev.py`; commit {commit}; the pipeline built from the corpus as `csvnlp train` "
             "builds it (no recognizer). The split was scored once as a test (ea6e2ed) and is development data since.", "",
             "| label | gold | found | exact P | exact R | exact F1 | overlap F1 |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label in ENTITY_LABELS:
        ex, ov = scores["exact"][label], scores["partial"][label]
        lines.append(f"| {label} | {ex['gold']} | {ex['found']} | {ex['precision']:.3f} | {ex['recall']:.3f} | {ex['f1']:.3f} | {ov['f1']:.3f} |")
    lines += ["", f"{len(errors)} records with a false hit or a miss: see `dev-all.json`."]
    (out / "dev-all.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
