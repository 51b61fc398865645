"""Languages in the real multilingual extracts, and the detector's accuracy on a hand-checked sample.

    python benchmarks/language_detection.py

1. Share per detected language, and the share csvnlp sends to `unsupported_language`, over
   every text of the Kohesio beneficiary export (names, 11 countries) and the five ESIF
   operation lists (English summaries) in ../shared/data/external.
2. Accuracy on a hand-checked sample: 100 records (5 Kohesio names per country, 9 ESIF
   summaries per file; rows of ../shared/data/reserved.jsonl left out) drawn by
   ``draw_sample`` (seed 13), whose language a person judged by reading each one, without
   the detector's answer. reports/languages/sample.csv holds each record's source file, row
   and key (the texts stay in ../shared/data) with the judgement (``und`` = no words to
   judge: a brand and a legal form). Two figures: the language code (where judged), and the
   decision csvnlp takes (classify as English, or unsupported_language).
3. Cost of the check in the prediction path: the shipped model's ``classify`` (levels and
   entities) on 2,000 real ESIF summaries and CORDIS objectives, with and without the language
   check, interleaved, median of 3 rounds, one process.
Writes reports/languages/languages.json and reports/languages/README.md.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from csvnlp.language import plainly_english, rank_languages, supported_check

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = ROOT.parent / "shared" / "data" / "external"
OUT = ROOT / "reports" / "languages"
SOURCES = {
    "kohesio_beneficiaries_zachz3394/kohesio-data-export.tsv": "Beneficiary Name",
    "esif_operations_os_data/Final LoB S&E ROP 2007-2013.csv": "Project Summary",
    "esif_operations_os_data/data.csv": "Non Technical Short Summary Of Project",
    "esif_operations_os_data/ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv": "Summary of project (max 100 words)",
    "esif_operations_os_data/ESF-and-ERDF-Scotland-2014-2020.csv": "Description",
    "esif_operations_os_data/ESF_Northern_Ireland_2014-2020.csv": "Operation Summary",
}
SUPPORTED = ("en",)


def shares() -> dict[str, dict]:
    result = {}
    for name, column in SOURCES.items():
        frame = pd.read_csv(EXTERNAL / name, sep="\t" if name.endswith(".tsv") else ",", dtype=str, keep_default_na=False)
        texts = [t for t in frame[column] if t.strip()]
        start = time.perf_counter()
        checks = [supported_check(t, SUPPORTED) for t in texts]
        seconds = time.perf_counter() - start
        languages = Counter(g.code for g, _ in checks)
        # the fast path must agree with the detector wherever it answers
        fast = [t for t in texts if plainly_english(t)]
        disagree = [i for i, t in enumerate(fast) if rank_languages(t)[0][0] != "en"]
        unsupported = sum(not ok for _, ok in checks)
        entry = {
            "texts": len(texts), "texts_per_s": round(len(texts) / seconds),
            "unsupported_language": unsupported, "unsupported_share": round(unsupported / len(texts), 4),
            "languages": {code: round(n / len(texts), 4) for code, n in languages.most_common(12)},
            "fast_path": len(fast), "fast_path_detector_disagrees": len(disagree), "fast_path_disagreements_at": disagree[:5],
        }
        if "Country" in frame.columns:  # Kohesio: per country, which share is unsupported
            countries = frame.loc[frame[column].str.strip() != "", "Country"].tolist()
            per = Counter(countries)
            refused = Counter(c for c, (_, ok) in zip(countries, checks) if not ok)
            entry["unsupported_share_by_country"] = {c: round(refused[c] / per[c], 3) for c in sorted(per)}
        result[name] = entry
    return result


_frames: dict[str, pd.DataFrame] = {}


def _frame(name: str) -> pd.DataFrame:
    if name not in _frames:
        _frames[name] = pd.read_csv(EXTERNAL / name, sep="\t" if name.endswith(".tsv") else ",", dtype=str, keep_default_na=False)
    return _frames[name]


ESIF_KEYS = {  # file -> the key column reserved.jsonl uses for it
    "esif_operations_os_data/ESF-and-ERDF-Scotland-2014-2020.csv": "(data row index, 0-based, header excluded)",
    "esif_operations_os_data/ESF_Northern_Ireland_2014-2020.csv": "Ref No",
    "esif_operations_os_data/ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv": "Name of Project",
    "esif_operations_os_data/Final LoB S&E ROP 2007-2013.csv": "Unique code number of the operation",
    "esif_operations_os_data/data.csv": "Code",
}
KOHESIO = "kohesio_beneficiaries_zachz3394/kohesio-data-export.tsv"


def draw_sample(seed: int = 13) -> list[tuple[str, int]]:
    """(source file, 0-based data row) of the 100 records judged by hand, reserved rows left out."""
    import random

    reserved = {(r["source_file"], r["row_key"]["value"]) for r in map(json.loads, (ROOT.parent / "shared" / "data" / "reserved.jsonl").open())}
    rng = random.Random(seed)
    drawn = []
    kohesio = _frame(KOHESIO)
    for _, group in kohesio.groupby("Country"):
        drawn += [(KOHESIO, int(i)) for i in rng.sample(list(group.index), 5)]
    for name, key_column in ESIF_KEYS.items():
        frame = _frame(name)
        candidates = [
            int(i) for i, row in frame.iterrows()
            if row[SOURCES[name]].strip()
            and (name, str(i) if key_column.startswith("(") else row[key_column]) not in reserved
        ]
        drawn += [(name, i) for i in rng.sample(candidates, 9)]
    return drawn


def sample_accuracy() -> dict:
    sample = list(csv.DictReader((OUT / "sample.csv").open(encoding="utf-8")))
    assert [(r["source_file"], int(r["row"])) for r in sample] == draw_sample(), "sample.csv is not the seed-13 draw"
    rows, code_hits, code_total, decision_hits, decision_total = [], 0, 0, 0, 0
    for judgement in sample:
        text = _frame(judgement["source_file"]).loc[int(judgement["row"]), SOURCES[judgement["source_file"]]]
        guess, ok = supported_check(text, SUPPORTED)
        right = {judgement["judged_language"]} | ({judgement["also_right"]} if judgement["also_right"] else set())
        row = {"n": int(judgement["n"]), "source": f"{judgement['source_file'].split('/')[-1]} row {judgement['row']}",
               "judged": judgement["judged_language"], "note": judgement["note"],
               "detected": guess.code, "probability": round(guess.probability, 3),
               "decision": "classified" if ok else "unsupported_language"}
        if judgement["judged_language"] != "und":
            code_total += 1
            code_hits += guess.code in right
            decision_total += 1
            should_classify = bool(right & set(SUPPORTED))
            decision_hits += ok == should_classify
            row["code_right"] = guess.code in right
            row["decision_right"] = ok == should_classify
        rows.append(row)
    undetermined = [r for r in rows if r["judged"] == "und"]
    by_kind = {}
    for kind, members in (("Kohesio names", [r for r in rows if r["n"] <= 55]), ("ESIF summaries", [r for r in rows if r["n"] > 55])):
        judged_members = [r for r in members if "code_right" in r]
        by_kind[kind] = {
            "records": len(members), "judged": len(judged_members),
            "code_accuracy": round(sum(r["code_right"] for r in judged_members) / len(judged_members), 3),
            "decision_accuracy": round(sum(r["decision_right"] for r in judged_members) / len(judged_members), 3),
        }
    return {
        "records": len(rows), "judged": code_total, "undetermined": len(undetermined),
        "code_accuracy": round(code_hits / code_total, 3), "decision_accuracy": round(decision_hits / decision_total, 3),
        "by_kind": by_kind,
        "undetermined_decisions": dict(Counter(r["decision"] for r in undetermined)),
        "misses": [r for r in rows if r.get("code_right") is False or r.get("decision_right") is False],
    }


def overhead(rounds: int = 3) -> dict:
    import statistics

    from csvnlp.persistence import load_bundle
    from csvnlp.language import _identifier, classify_in_supported_languages

    esif = pd.read_csv(EXTERNAL / "esif_operations_os_data/ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv", dtype=str, keep_default_na=False)
    cordis = pd.read_csv(EXTERNAL / "cordis_fp7_sample_bowowzahoya/fp7_test_projects.csv", sep=";", dtype=str, keep_default_na=False)
    pool = [t for t in list(esif["Summary of project (max 100 words)"]) + list(cordis["objective"]) if t.strip()]
    texts = (pool * (2000 // len(pool) + 1))[:2000]
    bundle = load_bundle()
    _identifier()
    plain, checked = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        bundle.classify(texts)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        classify_in_supported_languages(bundle, texts)
        checked.append(time.perf_counter() - start)
    a, b = statistics.median(plain), statistics.median(checked)
    return {"texts": len(texts), "mean_chars": round(sum(map(len, texts)) / len(texts)),
            "classify_texts_per_s": round(len(texts) / a), "with_language_check_texts_per_s": round(len(texts) / b),
            "extra_time_share": round(b / a - 1, 3)}


def main() -> None:
    result = {"command": "python benchmarks/language_detection.py", "detector": "py3langid (model inside the package)",
              "supported": list(SUPPORTED), "shares": shares(), "sample": sample_accuracy(), "overhead": overhead()}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "languages.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    s = result["sample"]
    lines = [
        "# Languages in the funding extracts, and how well csvnlp tells them",
        "",
        f"Command: `{result['command']}`. Detector: {result['detector']}, limited to the EU's languages "
        "(plus no, is, ca); the shipped model reads English only, so any other language gets "
        "`status=unsupported_language` (see `src/csvnlp/language.py` for the rule).",
        "",
        "## Share per language (every non-empty text)",
        "",
        "| extract | texts | sent to unsupported_language | detected languages (share) | texts/s | English fast path (detector disagrees) |",
        "| --- | ---: | ---: | --- | ---: | ---: |",
    ]
    for name, entry in result["shares"].items():
        langs = ", ".join(f"{k} {v:.1%}" for k, v in list(entry["languages"].items())[:8])
        lines.append(f"| {name} | {entry['texts']:,} | {entry['unsupported_share']:.1%} | {langs} | {entry['texts_per_s']:,} | "
                     f"{entry['fast_path']:,} ({entry['fast_path_detector_disagrees']}) |")
    kohesio = result["shares"]["kohesio_beneficiaries_zachz3394/kohesio-data-export.tsv"]["unsupported_share_by_country"]
    lines += ["", "Kohesio, share sent to unsupported_language by country: " + ", ".join(f"{c} {v:.0%}" for c, v in kohesio.items()) + ".",
              "The rest are mostly English names of institutions and names with no words to judge (a brand and a",
              "legal form), which go to the English model as before.", ""]
    lines += [
        "## Accuracy on a hand-checked sample of 100 records",
        "",
        "`sample.csv`: the records (source file and row; seed 13, reserved rows left out; the texts stay in",
        "`../shared/data`) and one person's judgement per record, made by reading it without the detector's",
        "answer (`und` where a record has no words to judge: a brand name and a legal form).",
        "",
        f"- judged records: {s['judged']} of {s['records']} ({s['undetermined']} `und`)",
        f"- language code right: **{s['code_accuracy']:.1%}**",
        f"- decision right (classified as English vs unsupported_language): **{s['decision_accuracy']:.1%}**",
    ]
    for kind, k in s["by_kind"].items():
        lines.append(f"- {kind}: {k['judged']} judged, code {k['code_accuracy']:.1%}, decision {k['decision_accuracy']:.1%}")
    lines.append(f"- `und` records: {s['undetermined_decisions']}")
    lines += ["", "Misses:", "", "| n | record | judged | detected (p) | decision | judge's note |", "| ---: | --- | --- | --- | --- | --- |"]
    for r in s["misses"]:
        lines.append(f"| {r['n']} | {r['source']} | {r['judged']} | {r['detected']} ({r['probability']}) | {r['decision']} | {r['note']} |")
    o = result["overhead"]
    lines += ["", "## Cost in the prediction path", "",
              f"The shipped model's `classify` (levels + entities) on {o['texts']:,} real ESIF summaries and CORDIS objectives "
              f"(mean {o['mean_chars']} characters), one process, median of 3 interleaved rounds: "
              f"{o['classify_texts_per_s']:,} texts/s without the language check, {o['with_language_check_texts_per_s']:,} with it "
              f"({o['extra_time_share']:+.0%} time). Loading the detector's model adds ~0.6 s per process."]
    (OUT / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in s.items() if k != "misses"}, indent=1))
    print(len(s["misses"]), "misses")


if __name__ == "__main__":
    main()
