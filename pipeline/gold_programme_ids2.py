"""Write the gold canonical ids of the PROGRAMME names of the second fresh entity split to
``corpus/real/annotations/entities-fresh2/gold_ids.jsonl`` (append-only: a name already there keeps
its id).

Each distinct gold name gets, in order: the reviewed id the first fresh split's gold already gives
the same name (``annotations/entities-fresh/gold_ids.jsonl``); else the id the registry's linker
proposes, replaced by the hand review in ``REVIEW`` (name -> id or None, with why) where the
proposal is wrong. A name the registry has no entry for gets None. Each row records the proposal,
the gold id and where it came from. The registry and the linker are those frozen before the gold
was read (see reports/SCORING_LEDGER.md).

Run after ``pipeline/assemble_entity_fresh2.py`` (which needs no ids), then run the assembler again
to attach them: ``python pipeline/gold_programme_ids2.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
GOLD = ROOT / "corpus/real/annotations/entities-fresh2/gold_ids.jsonl"
FIRST_ROUND = ROOT / "corpus/real/annotations/entities-fresh/gold_ids.jsonl"

# The hand review: names whose proposed id is wrong, with the id they refer to (None: a programme
# the registry does not hold) and why.
REVIEW: dict[str, tuple[str | None, str]] = {
}


def main() -> None:
    from csvnlp.entities import load_registry

    registry = load_registry()
    first_round = {row["name"]: row["id"] for row in map(json.loads, FIRST_ROUND.read_text(encoding="utf-8").splitlines()) if row}
    records = [json.loads(line) for line in (ROOT / "corpus/real/entity_fresh2_records.jsonl").open(encoding="utf-8")]
    names = sorted({e["text"] for r in records for e in r["entities"] if e["label"] == "PROGRAMME"})
    existing = {json.loads(line)["name"] for line in GOLD.open(encoding="utf-8")} if GOLD.exists() else set()
    added = 0
    with GOLD.open("a", encoding="utf-8") as handle:
        for name in names:
            if name in existing:
                continue
            proposed = registry.link(name)
            if name in first_round:
                gold, how = first_round[name], "as the first fresh split's reviewed gold id"
            elif name in REVIEW:
                gold, how = REVIEW[name][0], f"review changed it: {REVIEW[name][1]}"
            else:
                gold, how = proposed, "review kept the proposal"
            handle.write(json.dumps({"name": name, "id": gold, "proposed": proposed, "how": how}, ensure_ascii=False) + "\n")
            added += 1
    print(f"{GOLD.relative_to(ROOT)}: {added} names added", file=sys.stderr)


if __name__ == "__main__":
    main()
