"""Assemble the second fresh entity split (issue 17) into ``corpus/real/entity_fresh2_records.jsonl``.

Inputs, all committed:
- ``corpus/real/entity_fresh2_pool.jsonl``: the 480 records drawn by ``pipeline/sample_entity_fresh2.py``
  and committed (and landed on main) before any rule or registry change;
- ``corpus/real/annotations/entities-fresh2/batch-0{1..6}.jsonl``: the first pass (one annotator per
  batch, guideline real-2.1, entities only); ``blind-01.jsonl``: a blind second pass on a seeded 100;
- ``.../entities-fresh2/adjudication.jsonl``: decisions where the two passes differ (each with why);
- ``.../entities-fresh2/gold_ids.jsonl``: the canonical id of each distinct gold PROGRAMME name
  (``pipeline/gold_programme_ids2.py``);
- ``.../entities-fresh2/seen_in_development.json``: records development had read before the draw
  (fixed real rows of the registry test); they get ``"split": "seen-in-development"`` and stay out
  of the headline, every other record is ``"split": "test"``.

Spans are found as in ``pipeline/assemble_entity_fresh.py`` (every occurrence of each listed name).
Writes the records and ``corpus/real/ENTITY_FRESH2_AGREEMENT.md``. These records are never training data.

Run: ``python pipeline/assemble_entity_fresh2.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from assemble_entity_fresh import LABELS, agreement, entity_spans, names, read_jsonl  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "corpus" / "real"
ANNOTATIONS = REAL / "annotations" / "entities-fresh2"
GUIDELINE_VERSION = "real-2.1"
FIRST_PASS = tuple(f"batch-0{i}" for i in range(1, 7))


def main() -> None:
    pool = read_jsonl(REAL / "entity_fresh2_pool.jsonl")
    seen = {row["id"] for row in json.loads((ANNOTATIONS / "seen_in_development.json").read_text(encoding="utf-8"))["records"]}
    first: dict[str, dict] = {}
    annotator_of: dict[str, str] = {}
    for batch in FIRST_PASS:
        for row in read_jsonl(ANNOTATIONS / f"{batch}.jsonl"):
            first[row["id"]] = row
            annotator_of[row["id"]] = f"ai-annotator-issue17-2-{batch}"
    second = {row["id"]: row for row in read_jsonl(ANNOTATIONS / "blind-01.jsonl") if row["id"] in first}
    decisions = {row["id"]: row for row in read_jsonl(ANNOTATIONS / "adjudication.jsonl")}
    gold_ids = {row["name"]: row["id"] for row in read_jsonl(ANNOTATIONS / "gold_ids.jsonl")}
    missing = [r["id"] for r in pool if r["id"] not in first]
    if missing:
        raise SystemExit(f"{len(missing)} pool records have no first-pass annotation yet, e.g. {missing[0]}")
    undecided = [i for i, s in second.items() if any(names(first[i], lab) != names(s, lab) for lab in LABELS) and i not in decisions]
    if undecided:
        raise SystemExit(f"{len(undecided)} records differ between the two passes and are not adjudicated, e.g. {undecided[0]}")

    records, dropped, unlinked = [], [], set()
    for item in pool:
        note = first[item["id"]]
        chosen = {label: names(note, label) for label in LABELS}
        decision = decisions.get(item["id"])
        if decision:
            chosen = {label: set(decision[label.lower() + "s"]) for label in LABELS}
        spans, lost = entity_spans(item["id"], item["text"], sorted(chosen["CLUSTER"]), sorted(chosen["PROGRAMME"]))
        dropped.extend(lost)
        for span in spans:
            if span["label"] == "PROGRAMME":
                if span["text"] not in gold_ids:
                    unlinked.add(span["text"])
                span["id"] = gold_ids.get(span["text"])
        records.append({
            "id": item["id"], "kind": item["kind"], "text": item["text"], "entities": spans,
            "confidence": note.get("confidence", "clear"),
            "why": note.get("why", "") + (f" | adjudicated: {decision['why']}" if decision else ""),
            "source": item["source"], "source_file": item["source_file"], "row_key": item["row_key"],
            "sampling": item["sampling"], "guideline_version": GUIDELINE_VERSION, "annotator": annotator_of[item["id"]],
            "split": "seen-in-development" if item["id"] in seen else "test",
        })
    if dropped:
        print("\n".join(dropped), file=sys.stderr)
        raise SystemExit("annotated names not found in their text: fix the annotation files")
    if unlinked and gold_ids:
        print(f"{len(unlinked)} gold PROGRAMME names have no row in gold_ids.jsonl yet", file=sys.stderr)
    with (REAL / "entity_fresh2_records.jsonl").open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")

    agree = {label: agreement(first, second, label) for label in LABELS}
    same = sum(all(names(first[i], lab) == names(s, lab) for lab in LABELS) for i, s in second.items())

    def counts(rows: list[dict]) -> dict[str, int]:
        return {label: sum(e["label"] == label for r in rows for e in r["entities"]) for label in LABELS} | {
            "records": len(rows), "with_cluster": sum(any(e["label"] == "CLUSTER" for e in r["entities"]) for r in rows)}

    test, everything = counts([r for r in records if r["split"] == "test"]), counts(records)
    lines = [
        "# Second fresh entity split (issue 17): agreement and counts",
        "",
        "Generated by `python pipeline/assemble_entity_fresh2.py`; do not edit by hand.",
        "",
        f"- Records: {len(records)} ({sum(r['kind'] == 'name' for r in records)} organisation names, "
        f"{sum(r['kind'] == 'text' for r in records)} texts), guideline {GUIDELINE_VERSION}, drawn by "
        "`pipeline/sample_entity_fresh2.py` and committed (b192c43, landed on main) before any rule or registry change.",
        f"- Headline (split `test`): {test['records']} records, {test['CLUSTER']} CLUSTER spans (in {test['with_cluster']} records), "
        f"{test['PROGRAMME']} PROGRAMME spans. All {everything['records']} records (with the {everything['records'] - test['records']} "
        f"development had read): {everything['CLUSTER']} CLUSTER, {everything['PROGRAMME']} PROGRAMME spans.",
        f"- Blind second pass on {len(second)} records (seeded): {same} of {len(second)} with the same names.",
        *[f"  - {label} names: first {agree[label]['names_first']}, second {agree[label]['names_second']}, "
          f"agreed {agree[label]['agreed']}, F1 {agree[label]['f1']}." for label in LABELS],
        f"- Adjudication: {len(decisions)} records decided, each with its reason in "
        "`annotations/entities-fresh2/adjudication.jsonl`.",
        f"- Gold programme ids: {len(gold_ids)} distinct names in `annotations/entities-fresh2/gold_ids.jsonl`.",
        "",
        "Caveat: every annotator is an instance of the same language model working from the same",
        "guideline, so this agreement is an upper bound on what two people would reach.",
        "",
    ]
    (REAL / "ENTITY_FRESH2_AGREEMENT.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
