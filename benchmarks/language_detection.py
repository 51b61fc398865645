"""Languages in the real multilingual extracts, and the detector's accuracy on a hand-checked sample.

    python benchmarks/language_detection.py

1. Share per detected language, and the share csvnlp sends to `unsupported_language`, over
   every text of the Kohesio beneficiary export (names, 11 countries) and the five ESIF
   operation lists (English summaries) in ../shared/data/external.
2. Accuracy on reports/languages/sample_blind.csv: 100 records (5 Kohesio names per country,
   9 ESIF summaries per file; rows of ../shared/data/reserved.jsonl left out), drawn with
   seed 13, whose language a person judged by reading each one, without the detector's
   answer, in reports/languages/sample_judged.csv (``und`` = no words to judge: a brand and
   a legal form). Two figures: the language code (where judged), and the decision csvnlp
   takes (classify as English, or unsupported_language).
Writes reports/languages/languages.json and reports/languages/README.md.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from csvnlp.language import supported_check

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
        unsupported = sum(not ok for _, ok in checks)
        entry = {
            "texts": len(texts), "texts_per_s": round(len(texts) / seconds),
            "unsupported_language": unsupported, "unsupported_share": round(unsupported / len(texts), 4),
            "languages": {code: round(n / len(texts), 4) for code, n in languages.most_common(12)},
        }
        if "Country" in frame.columns:  # Kohesio: per country, which share is unsupported
            countries = frame.loc[frame[column].str.strip() != "", "Country"].tolist()
            per = Counter(countries)
            refused = Counter(c for c, (_, ok) in zip(countries, checks) if not ok)
            entry["unsupported_share_by_country"] = {c: round(refused[c] / per[c], 3) for c in sorted(per)}
        result[name] = entry
    return result


def sample_accuracy() -> dict:
    blind = list(csv.DictReader((OUT / "sample_blind.csv").open(encoding="utf-8")))
    judged = {row["n"]: row for row in csv.DictReader((OUT / "sample_judged.csv").open(encoding="utf-8"))}
    rows, code_hits, code_total, decision_hits, decision_total = [], 0, 0, 0, 0
    for record in blind:
        judgement = judged[record["n"]]
        guess, ok = supported_check(record["text"], SUPPORTED)
        right = {judgement["judged_language"]} | ({judgement["also_right"]} if judgement["also_right"] else set())
        row = {"n": int(record["n"]), "text": record["text"][:80], "judged": judgement["judged_language"],
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


def main() -> None:
    result = {"command": "python benchmarks/language_detection.py", "detector": "py3langid (model inside the package)",
              "supported": list(SUPPORTED), "shares": shares(), "sample": sample_accuracy()}
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
        "| extract | texts | sent to unsupported_language | detected languages (share) | texts/s |",
        "| --- | ---: | ---: | --- | ---: |",
    ]
    for name, entry in result["shares"].items():
        langs = ", ".join(f"{k} {v:.1%}" for k, v in list(entry["languages"].items())[:8])
        lines.append(f"| {name} | {entry['texts']:,} | {entry['unsupported_share']:.1%} | {langs} | {entry['texts_per_s']:,} |")
    kohesio = result["shares"]["kohesio_beneficiaries_zachz3394/kohesio-data-export.tsv"]["unsupported_share_by_country"]
    lines += ["", "Kohesio, share sent to unsupported_language by country: " + ", ".join(f"{c} {v:.0%}" for c, v in kohesio.items()) + ".",
              "The rest are mostly English names of institutions (\"Warsaw University of Technology\") and names with",
              "no words to judge (\"OTK Group\", \"PELICAN IMPEX SRL\"), which go to the English model as before.", ""]
    lines += [
        "## Accuracy on a hand-checked sample of 100 records",
        "",
        "`sample_blind.csv` (the records, seed 13, reserved rows left out) and `sample_judged.csv` (one",
        "person's judgement per record, made by reading it without the detector's answer; `und` where a",
        "record has no words to judge, e.g. \"FUKS D.O.O.\").",
        "",
        f"- judged records: {s['judged']} of {s['records']} ({s['undetermined']} `und`)",
        f"- language code right: **{s['code_accuracy']:.1%}**",
        f"- decision right (classified as English vs unsupported_language): **{s['decision_accuracy']:.1%}**",
    ]
    for kind, k in s["by_kind"].items():
        lines.append(f"- {kind}: {k['judged']} judged, code {k['code_accuracy']:.1%}, decision {k['decision_accuracy']:.1%}")
    lines.append(f"- `und` records: {s['undetermined_decisions']}")
    lines += ["", "Misses:", "", "| n | text | judged | detected (p) | decision |", "| ---: | --- | --- | --- | --- |"]
    for r in s["misses"]:
        lines.append(f"| {r['n']} | {r['text']} | {r['judged']} | {r['detected']} ({r['probability']}) | {r['decision']} |")
    (OUT / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in s.items() if k != "misses"}, indent=1))
    print(len(s["misses"]), "misses")


if __name__ == "__main__":
    main()
