"""Assemble the fresh entity split (issue 17) into ``corpus/real/entity_fresh_records.jsonl``.

Inputs, all committed:
- ``corpus/real/entity_fresh_pool.jsonl``: the 480 records drawn before any change, each with
  its split (``test``: frozen, scored once at the end; ``dev``: error analysis);
- ``corpus/real/annotations/entities-fresh/batch-0{1..6}.jsonl``: the first pass (one annotator
  per batch, guideline real-2.1, entities only); ``blind-01.jsonl``: a blind second pass on a
  seeded 100, for agreement;
- ``corpus/real/annotations/entities-fresh/adjudication.jsonl``: decisions on the records where
  the two passes differ (each with why);
- ``corpus/real/annotations/entities-fresh/gold_ids.jsonl``: the canonical id of each distinct
  gold PROGRAMME name (proposed by the registry's linker, then reviewed by hand: each row says
  whether the review kept or changed it), for the linking figure.

Every listed name is marked at each occurrence not glued to another ASCII letter, digit or dash
(as for issue 10's names-only records), except that a dash before a lower-case word ends a name
("ERC-funded", "Horizon Europe-funded") and a capitalised name may follow digits glued to it
("2011Genesis Enterprise Programme", a database's missing space). Writes the records and
``corpus/real/ENTITY_FRESH_AGREEMENT.md``. These records are never training data.

Run: ``python pipeline/assemble_entity_fresh.py``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "corpus" / "real"
ANNOTATIONS = REAL / "annotations" / "entities-fresh"
GUIDELINE_VERSION = "real-2.1"
FIRST_PASS = tuple(f"batch-0{i}" for i in range(1, 7))
LABELS = ("CLUSTER", "PROGRAMME")


START = r"(?:(?<![A-Za-z0-9-])|(?<=[0-9])(?=[A-Z][a-z]))"
END = r"(?![A-Za-z0-9]|-[A-Z0-9])"


def entity_spans(record_id: str, text: str, clusters: list[str], programmes: list[str]) -> tuple[list[dict], list[str]]:
    """Every occurrence of each listed name (longest first, never overlapping), as spans."""
    wanted = sorted({(n.strip(), "CLUSTER") for n in clusters if n.strip()} | {(n.strip(), "PROGRAMME") for n in programmes if n.strip()},
                    key=lambda pair: (-len(pair[0]), pair))
    taken = [False] * len(text)
    spans, dropped = [], []
    for name, label in wanted:
        found = False
        for match in re.finditer(START + re.escape(name) + END, text):
            start, end = match.span()
            found = True
            if not any(taken[start:end]):
                taken[start:end] = [True] * (end - start)
                spans.append({"start": start, "end": end, "label": label, "text": name})
        if not found:
            dropped.append(f"{record_id}: {label} {name!r} not found as a whole name")
    return sorted(spans, key=lambda s: s["start"]), dropped


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()] if path.exists() else []


def names(row: dict, label: str) -> set[str]:
    return {e["text"] for e in row.get("entities") or [] if e.get("label") == label and e.get("text", "").strip()}


def agreement(first: dict[str, dict], second: dict[str, dict], label: str) -> dict[str, float]:
    both = sum(len(names(first[i], label) & names(s, label)) for i, s in second.items())
    n_first = sum(len(names(first[i], label)) for i in second)
    n_second = sum(len(names(s, label)) for s in second.values())
    f1 = 2 * both / (n_first + n_second) if n_first + n_second else 1.0
    return {"names_first": n_first, "names_second": n_second, "agreed": both, "f1": round(f1, 3)}


def main() -> None:
    pool = read_jsonl(REAL / "entity_fresh_pool.jsonl")
    first: dict[str, dict] = {}
    annotator_of: dict[str, str] = {}
    for batch in FIRST_PASS:
        for row in read_jsonl(ANNOTATIONS / f"{batch}.jsonl"):
            first[row["id"]] = row
            annotator_of[row["id"]] = f"ai-annotator-issue17-{batch}"
    second = {row["id"]: row for row in read_jsonl(ANNOTATIONS / "blind-01.jsonl")}
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
            "split": item["split"],
        })
    if dropped:
        print("\n".join(dropped), file=sys.stderr)
        raise SystemExit("annotated names not found in their text: fix the annotation files")
    if unlinked and gold_ids:
        print(f"{len(unlinked)} gold PROGRAMME names have no row in gold_ids.jsonl yet", file=sys.stderr)
    with (REAL / "entity_fresh_records.jsonl").open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")

    agree = {label: agreement(first, second, label) for label in LABELS}
    same = sum(all(names(first[i], lab) == names(s, lab) for lab in LABELS) for i, s in second.items())
    counts = {split: {label: sum(e["label"] == label for r in records if r["split"] == split for e in r["entities"]) for label in LABELS}
              | {"records": sum(r["split"] == split for r in records)} for split in ("test", "dev")}
    lines = [
        "# Fresh entity split (issue 17): agreement and counts",
        "",
        "Generated by `python pipeline/assemble_entity_fresh.py`; do not edit by hand.",
        "",
        f"- Records: {len(records)} ({sum(r['kind'] == 'name' for r in records)} organisation names, "
        f"{sum(r['kind'] == 'text' for r in records)} texts), guideline {GUIDELINE_VERSION}, drawn by "
        "`pipeline/sample_entity_fresh.py` and committed before any change.",
        f"- Split (fixed at draw time): test {counts['test']['records']} records ({counts['test']['CLUSTER']} CLUSTER, "
        f"{counts['test']['PROGRAMME']} PROGRAMME spans), dev {counts['dev']['records']} ({counts['dev']['CLUSTER']} CLUSTER, "
        f"{counts['dev']['PROGRAMME']} PROGRAMME spans).",
        f"- Blind second pass on {len(second)} records (seeded): {same} of {len(second)} with the same names.",
        *[f"  - {label} names: first {agree[label]['names_first']}, second {agree[label]['names_second']}, "
          f"agreed {agree[label]['agreed']}, F1 {agree[label]['f1']}." for label in LABELS],
        f"- Adjudication: {len(decisions)} records decided, each with its reason in "
        "`annotations/entities-fresh/adjudication.jsonl`.",
        f"- Gold programme ids: {len(gold_ids)} distinct names in `annotations/entities-fresh/gold_ids.jsonl`.",
        "",
        "Caveat: every annotator is an instance of the same language model working from the same",
        "guideline, so this agreement is an upper bound on what two people would reach.",
        "",
    ]
    (REAL / "ENTITY_FRESH_AGREEMENT.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
