"""Add gold canonical ids for the PROGRAMME names of one split of the fresh entity split to
``corpus/real/annotations/entities-fresh/gold_ids.jsonl`` (append-only: a name already there keeps
its id, so gold never moves when the linker changes).

Each distinct gold name gets the id the registry's linker proposes, then the hand review in
``REVIEW`` (name -> id or None, with why) replaces it where the proposal is wrong. The gold id of a
name the registry has no entry for is None. Each row records the proposal, the gold id and whether
the review kept or changed it.

Run: ``python pipeline/gold_programme_ids.py --split dev`` (then ``--split test``), after
``pipeline/assemble_entity_fresh.py``; run the assembler again afterwards to attach the ids.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
GOLD = ROOT / "corpus/real/annotations/entities-fresh/gold_ids.jsonl"

# The hand review: names whose proposed id is wrong, with the id they refer to (None: a
# programme the registry does not hold) and why.
REVIEW: dict[str, tuple[str | None, str]] = {
    # dev split
    "100 Climate-Neutral and Smart Cities": ("mission-cities", "the Cities Mission's own name (Horizon Europe mission)"),
    "ESI Fund": ("esif", "singular of the European Structural and Investment Funds"),
    "HE": ("horizon-europe", "the abbreviation the text defines for Horizon Europe"),
    "ERDF Research and Development Grant scheme": (None, "a Maltese scheme co-funded by the ERDF, not the ERDF itself; not in the registry"),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", choices=("dev", "test"), required=True)
    args = parser.parse_args()
    from csvnlp.entities import load_registry

    registry = load_registry()
    records = [json.loads(line) for line in (ROOT / "corpus/real/entity_fresh_records.jsonl").open(encoding="utf-8")]
    names = sorted({e["text"] for r in records if r["split"] == args.split for e in r["entities"] if e["label"] == "PROGRAMME"})
    existing = {json.loads(line)["name"] for line in GOLD.open(encoding="utf-8")} if GOLD.exists() else set()
    added = 0
    with GOLD.open("a", encoding="utf-8") as handle:
        for name in names:
            if name in existing:
                continue
            proposed = registry.link(name)
            gold, why = REVIEW.get(name, (proposed, "review kept the proposal"))
            handle.write(json.dumps({"name": name, "id": gold, "proposed": proposed, "review": "kept" if gold == proposed else f"changed: {why}",
                                     "first_split": args.split}, ensure_ascii=False) + "\n")
            added += 1
    print(f"{GOLD.relative_to(ROOT)}: {added} names added for the {args.split} split", file=sys.stderr)


if __name__ == "__main__":
    main()
