"""Add the issue-18 records (kinds the corpus lacked) to corpus/real/records.jsonl.

Two rounds, each assembled the same way (``ROUNDS``): ``transfer`` (the first 321 records) and
``value_chain`` (round 2: kinds that carry value_chain outside Ireland, drawn by
``pipeline/sample_value_chain_records.py`` into ``corpus/real/value_chain/``, annotated in
``corpus/real/annotations/value_chain/``).

Inputs (committed): ``corpus/real/transfer/pool.jsonl`` (the draw of
``pipeline/sample_transfer_records.py``, made before annotation), the annotators' files in
``corpus/real/annotations/transfer/`` (``first-pass-*.jsonl``: each record once;
``second-pass.jsonl``: the blind second annotation of the seeded 60 in
``corpus/real/transfer/blind.jsonl``; ``adjudication.jsonl``: the decision on every record the
two passes label differently).

Every new record is a training record (``split: train``): the frozen test split stays as it
was drawn. Records already in records.jsonl from this pool are replaced, so the script can run
again. The record text is the title, a line break and the source's description, as for the
earlier records; entity spans are placed by ``assemble_real_records.entity_spans``.
Writes corpus/real/records.jsonl, corpus/real/transfer/agreement.json and the issue-18
section of corpus/real/AGREEMENT.md. Usage: python pipeline/assemble_transfer_records.py
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from assemble_real_records import RECORD_KEYS, ROOT, entity_spans, kappa_report, level_set, read_jsonl  # noqa: E402

REAL = ROOT / "corpus" / "real"
GUIDELINE_VERSION = "real-3"


@dataclass(frozen=True)
class Round:
    name: str          # folder under corpus/real/ (the draw) and corpus/real/annotations/ (the passes)
    section: str       # its heading in corpus/real/AGREEMENT.md
    what: str          # the agreement section's first sentence: which records, drawn how
    annotators: str    # who annotated them
    seed: str          # how the blind ids were drawn

    @property
    def pool_dir(self) -> Path:
        return REAL / self.name

    @property
    def annotations(self) -> Path:
        return REAL / "annotations" / self.name


ROUNDS = [
    Round("transfer", "## Issue 18: the blind second pass on the transfer records (guideline real-3)",
          "(kinds the corpus lacked: defence, security, space,\naeronautics, health, education and energy products of firms, public services;\n"
          "`pipeline/sample_transfer_records.py`)", "five first-pass\nannotators",
          "`random.Random(20261208)` in `pipeline/sample_transfer_records.py`"),
    Round("value_chain", "## Issue 18, round 2: the blind second pass on the value-chain records (guideline real-3)",
          "(round 2: kinds where a firm or public body changes its own or its chain's processes,\nmostly from families other than Ireland's;"
          " `pipeline/sample_value_chain_records.py`)", "three first-pass\nannotators",
          "`random.Random(SEED + 3)` in `pipeline/sample_value_chain_records.py`"),
]


def record_text(row: dict) -> str:
    return (row["title"] or "").strip() + "\n" + row["text"]


def agreement_section(report: dict, n_records: int, round_: Round) -> str:
    lines = [
        round_.section,
        "",
        f"The {n_records} records issue 18 added {round_.what} were annotated under guideline real-3 by {round_.annotators};"
        f" a seeded random {report['records']} (`corpus/real/{round_.name}/blind.jsonl`, {round_.seed})",
        "were annotated again, blind, by another annotator who saw only the guideline and the texts.",
        "",
        "| | kappa | raw agreement | positives, first pass | positives, second pass |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, row in report["per_level"].items():
        lines.append(f"| `{key}` | {row['kappa']:.3f} | {row['agreement']:.2f} | {row['positives_first']} | {row['positives_second']} |")
    nv = report["none_vs_any"]
    lines += [f"| none vs any level | {nv['kappa']:.3f} | {nv['agreement']:.2f} | | |", "",
              f"Same level set in both passes: {report['exact_set_agreement']:.0%} of records. The same caveat as above",
              "applies: both passes are instances of one language model, so this is an upper bound.", "",
              "| id | first | second | final | adjudication |", "| --- | --- | --- | --- | --- |"]
    show = lambda levels: ", ".join(levels) or "none"  # noqa: E731
    for d in report["disagreements"]:
        lines.append(f"| `{d['id']}` | {show(d['first'])} | {show(d['second'])} | {show(d['final'])} | {d['adjudication']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    for round_ in ROUNDS:
        if (round_.annotations / "second-pass.jsonl").exists():
            assemble(round_)
        else:
            print(f"round {round_.name}: not annotated yet, skipped", file=sys.stderr)


def assemble(round_: Round) -> None:
    from csvnlp.entities import blank_pipeline

    TRANSFER, ANNOTATIONS = round_.pool_dir, round_.annotations
    pool = {row["id"]: row for row in read_jsonl(TRANSFER / "pool.jsonl")}
    first: dict[str, dict] = {}
    for path in sorted(ANNOTATIONS.glob("first-pass-*.jsonl")):
        for row in read_jsonl(path):
            if row["id"] in first:
                raise SystemExit(f"{path}: {row['id']} annotated twice in the first pass")
            first[row["id"]] = row
    if set(first) != set(pool):
        raise SystemExit(f"first pass and pool differ: {sorted(set(first) ^ set(pool))[:5]}")
    second = {row["id"]: row for row in read_jsonl(ANNOTATIONS / "second-pass.jsonl")}
    blind = {row["id"] for row in read_jsonl(TRANSFER / "blind.jsonl")}
    if set(second) != blind:
        raise SystemExit("the second pass does not cover exactly the seeded blind ids")
    adjudicated = {row["id"]: row for row in read_jsonl(ANNOTATIONS / "adjudication.jsonl")}
    unresolved = [i for i in second if level_set(first[i]["levels"]) != level_set(second[i]["levels"]) and i not in adjudicated]
    if unresolved:
        raise SystemExit(f"{len(unresolved)} disagreement(s) without adjudication, e.g. {sorted(unresolved)[:5]}")
    existing = [r for r in read_jsonl(REAL / "records.jsonl") if r["id"] not in pool]
    clash = {r["id"] for r in existing} & set(pool)
    assert not clash
    from csvnlp.corpus import text_fingerprint

    # The draw compared descriptions with the earlier records' title-plus-description texts, so
    # a row whose description repeats an annotated row's under another key slipped through
    # (esif_scotland-42 = esif_scotland-36): such a record is left out here, not added twice.
    known = {text_fingerprint(r["text"]) for r in existing}
    # The same slip against issue 17's fresh entity pools (their texts are title plus description):
    # a row whose text repeats a fresh-pool text under another key (esif_malta ERDF 136.2 = the
    # first pool's ERDF 136.1) would put a test text into training, so it is left out too.
    fresh = {text_fingerprint(r["text"]) for name in ("entity_fresh_pool.jsonl", "entity_fresh2_pool.jsonl")
             for r in read_jsonl(REAL / name) if r.get("kind", "text") == "text"}
    tokenizer = blank_pipeline()
    added, problems = [], []
    for record_id, row in pool.items():
        text = record_text(row)
        fingerprint = text_fingerprint(text)
        if fingerprint in known:
            print(f"  left out {record_id}: its text is already in the corpus", file=sys.stderr)
            continue
        if fingerprint in fresh:
            print(f"  left out {record_id}: its text is in a fresh entity test pool", file=sys.stderr)
            continue
        known.add(fingerprint)
        label, annotation = adjudicated.get(record_id, first[record_id]), first[record_id]
        spans, dropped = entity_spans(record_id, text, annotation.get("clusters", []), annotation.get("programmes", []), tokenizer)
        problems += dropped
        annotator = annotation["annotator"]
        if record_id in second:
            annotator += f"; second pass {second[record_id]['annotator']}"
        if record_id in adjudicated:
            annotator += "; adjudicated by the issue-18 engineer"
        added.append({"id": record_id, "title": row["title"], "text": text, "levels": list(level_set(label["levels"])),
                      "confidence": label["confidence"], "why": label["why"], "entities": spans, "source": row["source"],
                      "source_file": row["source_file"], "row_key": row["row_key"], "sampling": row["sampling"],
                      "guideline_version": GUIDELINE_VERSION, "annotator": annotator, "split": "train"})
    with (REAL / "records.jsonl").open("w", encoding="utf-8") as handle:
        for record in existing + added:
            handle.write(json.dumps({k: record[k] for k in RECORD_KEYS}, ensure_ascii=False) + "\n")
    report = kappa_report({i: first[i] for i in second}, second, {i: adjudicated.get(i, first[i]) for i in second})
    (TRANSFER / "agreement.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    agreement = (REAL / "AGREEMENT.md").read_text(encoding="utf-8")
    agreement = _replace_section(agreement, round_.section, agreement_section(report, len(added), round_))
    (REAL / "AGREEMENT.md").write_text(agreement, encoding="utf-8")
    counts = Counter(("+".join(r["levels"]) or "none") for r in added) + Counter(r["confidence"] for r in added)
    print(f"round {round_.name}: {len(added)} records added ({dict(counts)}); {sum(len(r['entities']) for r in added)} entity spans; "
          f"{len(existing) + len(added)} records in all", file=sys.stderr)
    for p in problems[:20]:
        print("  dropped span:", p, file=sys.stderr)


def _replace_section(document: str, heading: str, section: str) -> str:
    """``document`` with the section under ``heading`` (up to the next "## " heading) replaced, or appended."""
    if heading not in document:
        return document.rstrip("\n") + "\n\n" + section
    before, after = document.split(heading, 1)
    rest = after.split("\n## ", 1)
    tail = ("\n## " + rest[1]) if len(rest) > 1 else ""
    return before.rstrip("\n") + "\n\n" + section.rstrip("\n") + ("\n" + tail if tail else "\n")


if __name__ == "__main__":
    main()
