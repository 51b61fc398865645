"""Merge the annotators' files into corpus/real/records.jsonl, measure agreement, freeze the split.

Inputs (all committed under corpus/real/):
- ``annotations/first-pass-*.jsonl``: one line per record (id, levels, confidence, why,
  clusters, programmes, annotator), each record annotated once;
- ``annotations/second-pass.jsonl``: the blind second annotation of a seeded random 100;
- ``annotations/adjudication.jsonl``: the decision on every record where the two passes
  disagree (id, levels, confidence, why);
- the pool drawn by ``pipeline/sample_real_records.py`` (text and provenance), given as argument.

Outputs: ``corpus/real/records.jsonl`` (text, provenance, labels, entity spans, split),
``corpus/real/agreement.json`` and ``corpus/real/AGREEMENT.md``.

The split is drawn once, here, by a seeded rule stratified by source and level set, and is
then frozen: a record keeps the split it has in records.jsonl when this script runs again, and
records added later go to ``train`` (so the test split is never reshuffled by new annotations).

Usage: python pipeline/assemble_real_records.py POOL.jsonl
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from csvnlp.levels import LEVEL_KEYS  # noqa: E402

REAL = ROOT / "corpus" / "real"
ANNOTATIONS = REAL / "annotations"
RECORDS = REAL / "records.jsonl"
GUIDELINE_VERSION = "real-1"
SPLIT_SEED = "csvnlp-real-split-2026-11-26"
TEST_FRACTION = 0.32
RECORD_KEYS = (
    "id", "title", "text", "levels", "confidence", "why", "entities", "source", "source_file",
    "row_key", "sampling", "guideline_version", "annotator", "split",
)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def level_set(levels: list[str]) -> tuple[str, ...]:
    unknown = set(levels) - set(LEVEL_KEYS)
    if unknown:
        raise ValueError(f"unknown level(s) {sorted(unknown)}")
    return tuple(key for key in LEVEL_KEYS if key in levels)


def entity_spans(record_id: str, text: str, clusters: list[str], programmes: list[str], tokenizer,
                 token_boundaries: bool = True) -> tuple[list[dict], list[str]]:
    """Every whole-word occurrence of each listed name, longest first, on token boundaries
    (or, with ``token_boundaries=False``, between any two characters that are not ASCII
    letters, digits or dashes: mojibake glues "â€™" to a name, "2020.The" glues a sentence)."""
    import re

    doc = tokenizer(text)
    starts = {token.idx for token in doc}
    ends = {token.idx + len(token.text) for token in doc}
    wanted = sorted({(n.strip(), "CLUSTER") for n in clusters if n.strip()} | {(n.strip(), "PROGRAMME") for n in programmes if n.strip()},
                    key=lambda pair: (-len(pair[0]), pair))
    taken = [False] * len(text)
    spans, dropped = [], []
    for name, label in wanted:
        found = False
        boundary = (r"(?<![\w-])", r"(?![\w-])") if token_boundaries else (r"(?<![A-Za-z0-9-])", r"(?![A-Za-z0-9-])")
        for match in re.finditer(boundary[0] + re.escape(name) + boundary[1], text):
            start, end = match.span()
            if any(taken[start:end]):
                found = True
                continue
            if token_boundaries and (start not in starts or end not in ends):
                continue
            found = True
            taken[start:end] = [True] * (end - start)
            spans.append({"start": start, "end": end, "label": label, "text": name})
        if not found:
            dropped.append(f"{record_id}: {label} {name!r} not found on token boundaries")
    return sorted(spans, key=lambda s: s["start"]), dropped


def stratified_split(records: list[dict]) -> dict[str, str]:
    """Seeded, stratified by source x level set: each stratum's records in hash order, every
    k-th (with a hashed offset) to test, so each stratum gives ~TEST_FRACTION of its rows."""
    strata: dict[str, list[dict]] = {}
    for record in records:
        key = record["source"] + "|" + ("+".join(record["levels"]) or "none")
        strata.setdefault(key, []).append(record)
    split = {}
    for key, members in sorted(strata.items()):
        members.sort(key=lambda r: hashlib.sha256(f"{SPLIT_SEED}:{r['id']}".encode()).hexdigest())
        offset = int(hashlib.sha256(f"{SPLIT_SEED}:{key}".encode()).hexdigest(), 16) % 1000 / 1000
        for i, record in enumerate(members):
            # systematic sampling: record i goes to test when a multiple of 1/f falls in [i, i+1)
            split[record["id"]] = "test" if int((i + 1) * TEST_FRACTION + offset) > int(i * TEST_FRACTION + offset) else "train"
    return split


def kappa_report(first: dict[str, dict], second: dict[str, dict], final: dict[str, dict]) -> dict:
    from sklearn.metrics import cohen_kappa_score

    ids = sorted(set(first) & set(second))
    result: dict = {"records": len(ids), "per_level": {}, "disagreements": []}
    for key in LEVEL_KEYS:
        a = [int(key in first[i]["levels"]) for i in ids]
        b = [int(key in second[i]["levels"]) for i in ids]
        result["per_level"][key] = {
            "kappa": round(float(cohen_kappa_score(a, b)), 3),
            "agreement": round(sum(x == y for x, y in zip(a, b)) / len(ids), 3),
            "positives_first": sum(a), "positives_second": sum(b),
        }
    a = [int(bool(first[i]["levels"])) for i in ids]
    b = [int(bool(second[i]["levels"])) for i in ids]
    result["none_vs_any"] = {"kappa": round(float(cohen_kappa_score(a, b)), 3),
                             "agreement": round(sum(x == y for x, y in zip(a, b)) / len(ids), 3)}
    result["exact_set_agreement"] = round(sum(level_set(first[i]["levels"]) == level_set(second[i]["levels"]) for i in ids) / len(ids), 3)
    for i in ids:
        if level_set(first[i]["levels"]) != level_set(second[i]["levels"]):
            result["disagreements"].append({
                "id": i, "first": list(level_set(first[i]["levels"])), "second": list(level_set(second[i]["levels"])),
                "final": list(level_set(final[i]["levels"])), "first_why": first[i]["why"], "second_why": second[i]["why"],
                "adjudication": final[i].get("why", ""),
            })
    return result


def agreement_markdown(report: dict) -> str:
    lines = [
        "# Inter-annotator agreement on real records",
        "",
        f"A seeded random {report['records']} of the annotated records (`random.Random(20261127)` over the pool,",
        "`pipeline/sample_real_records.py` order) were annotated a second time, blind: by a different",
        "annotator who saw only the text and the guideline, never the first labels. Cohen's kappa",
        "(`sklearn.metrics.cohen_kappa_score`) per level (present or not) and for none-vs-any:",
        "",
        "| | kappa | raw agreement | positives, first pass | positives, second pass |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, row in report["per_level"].items():
        lines.append(f"| `{key}` | {row['kappa']:.3f} | {row['agreement']:.2f} | {row['positives_first']} | {row['positives_second']} |")
    nv = report["none_vs_any"]
    lines += [
        f"| none vs any level | {nv['kappa']:.3f} | {nv['agreement']:.2f} | | |",
        "",
        f"Same level set in both passes: {report['exact_set_agreement']:.0%} of records. These figures are the",
        "ceiling a model can be held to on these sources: where two careful readers under one",
        "guideline disagree, no model can be scored as reliably right.",
        "",
        "**Read these figures with their caveat.** Both passes were made by AI annotators (separate",
        "instances of one language model, each given only the guideline and the texts), not by",
        "people. Two instances of one model share its reading habits, so this agreement says the",
        "guideline is determinate *for that annotator*; two human annotators would very likely agree",
        "less, and the ceiling for a model scored against human labels would be lower.",
        "",
        f"## The {len(report['disagreements'])} disagreements and how they were adjudicated",
        "",
        "The adjudicator read the text, both whys and the guideline, and chose the final set",
        "(`annotations/adjudication.jsonl`); records where the passes disagreed are marked `borderline`",
        "unless the adjudication found one pass plainly against a rule.",
        "",
        "| id | first | second | final | adjudication |",
        "| --- | --- | --- | --- | --- |",
    ]
    def show(levels):
        return ", ".join(levels) or "none"
    for d in report["disagreements"]:
        lines.append(f"| `{d['id']}` | {show(d['first'])} | {show(d['second'])} | {show(d['final'])} | {d['adjudication']} |")
    return "\n".join(lines) + "\n"


def main(pool_path: Path) -> None:
    from csvnlp.entities import blank_pipeline

    pool = {row["id"]: row for row in read_jsonl(pool_path)}
    first: dict[str, dict] = {}
    for path in sorted(ANNOTATIONS.glob("first-pass-*.jsonl")):
        for row in read_jsonl(path):
            if row["id"] in first:
                raise SystemExit(f"{path}: {row['id']} annotated twice in the first pass")
            first[row["id"]] = row
    second = {row["id"]: row for row in read_jsonl(ANNOTATIONS / "second-pass.jsonl")} if (ANNOTATIONS / "second-pass.jsonl").exists() else {}
    adjudicated = {row["id"]: row for row in read_jsonl(ANNOTATIONS / "adjudication.jsonl")} if (ANNOTATIONS / "adjudication.jsonl").exists() else {}
    missing = sorted(set(first) - set(pool))
    if missing:
        raise SystemExit(f"annotated ids not in the pool: {missing[:5]}")
    unresolved = [i for i in set(first) & set(second)
                  if level_set(first[i]["levels"]) != level_set(second[i]["levels"]) and i not in adjudicated]
    if unresolved:
        raise SystemExit(f"{len(unresolved)} disagreement(s) without adjudication, e.g. {sorted(unresolved)[:5]}")
    previous_split = {r["id"]: r["split"] for r in read_jsonl(RECORDS)} if RECORDS.exists() else {}
    tokenizer = blank_pipeline()
    records, problems = [], []
    for record_id in sorted(first):
        label = adjudicated.get(record_id, first[record_id])
        row, annotation = pool[record_id], first[record_id]
        spans, dropped = entity_spans(record_id, row["text"], annotation.get("clusters", []), annotation.get("programmes", []), tokenizer)
        problems += dropped
        annotator = annotation["annotator"]
        if record_id in second:
            annotator += f"; second pass {second[record_id]['annotator']}"
        if record_id in adjudicated:
            annotator += "; adjudicated by the lead engineer"
        records.append({
            "id": record_id, "title": row["title"], "text": row["text"], "levels": list(level_set(label["levels"])),
            "confidence": label["confidence"], "why": label["why"], "entities": spans, "source": row["source"],
            "source_file": row["source_file"], "row_key": row["row_key"], "sampling": row["sampling"],
            "guideline_version": GUIDELINE_VERSION, "annotator": annotator,
        })
    fresh = stratified_split([r for r in records if r["id"] not in previous_split]) if not previous_split else {}
    for record in records:
        record["split"] = previous_split.get(record["id"]) or fresh.get(record["id"], "train")
    with RECORDS.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps({k: record[k] for k in RECORD_KEYS}, ensure_ascii=False) + "\n")
    if second:
        report = kappa_report(first, second, {i: adjudicated.get(i, first[i]) for i in first})
        (REAL / "agreement.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        (REAL / "AGREEMENT.md").write_text(agreement_markdown(report), encoding="utf-8")
    counts = Counter()
    for r in records:
        counts[r["split"]] += 1
        counts["none" if not r["levels"] else "positive"] += 1
        for key in r["levels"]:
            counts[key] += 1
        counts[r["confidence"]] += 1
    print(f"{len(records)} records: {dict(counts)}; {sum(len(r['entities']) for r in records)} entity spans", file=sys.stderr)
    for p in problems[:30]:
        print("  dropped span:", p, file=sys.stderr)
    print(f"  ({len(problems)} listed names not placed)", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
