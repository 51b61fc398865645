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
    # test split (reviewed after the registry and linker were frozen at a13ccfb)
    "ADRA Partnership": ("he-partnership-adra", "the AI, Data and Robotics partnership"),
    "D2N2 LEP Growth Hub": ("uk-growth-hub", "a named Growth Hub"),
    "Circular Bio-based Europe (CBE) Joint Undertaking": ("ju-cbe", "the CBE JU's full name with its abbreviation inside"),
    "Circular Biobased Europe Joint Undertaking": ("ju-cbe", "a spelling of the CBE JU"),
    "Climate neutral and smart cities": ("mission-cities", "the Cities Mission"),
    "Compet-8-2014": ("h2020", "a Horizon 2020 topic (COMPET, space) of 2014"),
    "DEP": ("digital-europe", "the Digital Europe Programme's abbreviation"),
    "EDF": ("edf", "the European Defence Fund (its call topics)"),
    "EIC Accelerator Fast Track": ("eic-accelerator", "a route into the EIC Accelerator"),
    "ERDF national Operational Programme": ("erdf", "an ERDF operational programme, not named further"),
    "European Partnership on Batteries": ("he-partnership-batt4eu", "the Batteries partnership (BATT4EU)"),
    "European Partnership on Transforming Health and Care Systems": ("he-partnership-thcs", "the THCS partnership"),
    "European Partnership on photonics": ("he-partnership-photonics", "the Photonics partnership"),
    "INTERREG IVB NWE": ("interreg-nwe", "Interreg North-West Europe, period IV"),
    "Interreg Instrument for Pre-Accession Assistance â€“ Cross-Border Cooperation": ("interreg", "an Interreg IPA cross-border strand"),
    "Made in Europe": ("he-partnership-made-in-europe", "the Made in Europe partnership"),
    "MiE": ("he-partnership-made-in-europe", "the Made in Europe partnership's abbreviation"),
    "Marie Curie CIG": ("msca", "an FP7 Marie Curie Career Integration Grant"),
    "Mission Ocean & Waters": ("mission-ocean", "the Ocean and Waters Mission"),
    "Processess4Planet": ("he-partnership-processes4planet", "a misspelling of Processes4Planet"),
    "horizon-miss-2023-cit-01-02": ("horizon-europe", "a Horizon Europe Missions topic id in lower case"),
    "JTI-CS2-2015-CFP02-LPA-02-10": ("ju-clean-sky", "a Clean Sky 2 call (JTI-CS2) topic"),
    "EU Missions on Adaptation to Climate Change": ("mission-adaptation", "the Adaptation Mission (adjudicated span)"),
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
