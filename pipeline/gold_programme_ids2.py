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
    "Adaptation Mission": ("mission-adaptation", "the Adaptation to Climate Change Mission"),
    "Mission Adaptation": ("mission-adaptation", "the Adaptation to Climate Change Mission"),
    "Adaptation to Climate Change": ("mission-adaptation", "named in a list of EU Missions"),
    "Agroecology": ("he-partnership-agroecology", "'the Horizon Europe Partnership Agroecology'"),
    "Alternative Fuel Infrastructure Facility": ("cef", "a Connecting Europe Facility (Transport) facility"),
    "CL5-2022-D5-01-08": ("horizon-europe", "a Horizon Europe Cluster 5 topic id without its HORIZON- prefix"),
    "CL5-2022-D5-01-10": ("horizon-europe", "a Horizon Europe Cluster 5 topic id without its HORIZON- prefix"),
    "Choose Europe for Science": ("msca", "the MSCA Choose Europe for Science action"),
    "MSCA Choose Europe for Science": ("msca", "an MSCA action"),
    "Circular Biobased Europe (CBE) Joint Undertaking": ("ju-cbe", "the CBE JU with its abbreviation inside"),
    "Circular Economy and Quality of Life": ("life-circular", "the LIFE sub-programme"),
    "Clean Energy Technology (CET) Partnership": ("he-partnership-cetp", "the CET Partnership (Clean Energy Transition)"),
    "DUT": ("he-partnership-dut", "the Driving Urban Transitions partnership's abbreviation"),
    "Driving Urban Transition Partnership": ("he-partnership-dut", "a spelling of the DUT partnership"),
    "EDCTP1": ("ju-edctp3", "the first EDCTP programme, the same entry as EDCTP and EDCTP2"),
    "EIC Transition Open": ("eic-transition", "the open call of the EIC Transition"),
    "ERA-NET BESTF3": ("era-net", "an ERA-NET"),
    "ERA-NET-Bioenergy": ("era-net", "an ERA-NET"),
    "EURO HPC": ("ju-eurohpc", "a spelling of EuroHPC"),
    "European Partnership Made in Europe": ("he-partnership-made-in-europe", "the Made in Europe partnership"),
    "European Partnership on 'People-centric Sustainable Built Environment'": ("he-partnership-built4people", "Built4People's long name"),
    "European Partnership on AI, data, and robotics": ("he-partnership-adra", "the ADR partnership"),
    "Partnership in AI, Data and Robotics": ("he-partnership-adra", "the ADR partnership"),
    "European Researchersâ€™ Night": ("msca-night", "European Researchers' Night with mojibake"),
    "MSCA and Citizens": ("msca-night", "MSCA & Citizens"),
    "Researchers at School": ("msca-night", "an MSCA & Citizens action"),
    "Science Comes To Town": ("msca-night", "an MSCA & Citizens (Researchers' Night) action"),
    "Europeâ€™s Rail Joint Undertaking": ("ju-europes-rail", "Europe's Rail JU with mojibake"),
    "Global Postdoctoral Fellowships": ("msca-pf", "the global strand of MSCA Postdoctoral Fellowships"),
    "H2020 Swafs": ("h2020-swafs", "Science with and for Society"),
    "H2020.CS2-LPA-01-D01": ("ju-clean-sky", "a Clean Sky 2 topic"),
    "Horizon": ("horizon-europe", "'Horizon Pillar II' of the Widening text: Horizon Europe"),
    "Horizon 2020 European Green Deal Call": ("h2020", "a Horizon 2020 call"),
    "InvestEU Advisory Hub": ("investeu", "a part of InvestEU"),
    "JUST": ("justice", "the Justice programme's code"),
    "MEDIA Strand": ("creative-europe", "Creative Europe's MEDIA strand"),
    "Marie SkÅ‚odowska-Curie Actions": ("msca", "MSCA with mojibake"),
    "Marie SkÅ‚odowska-Curie actions": ("msca", "MSCA with mojibake"),
    "Mission Ocean and Waters": ("mission-ocean", "the Ocean and Waters Mission"),
    "Partnership Water Security for the Planet": ("he-partnership-water4all", "Water4All's long name"),
    "Water Security for the Planet": ("he-partnership-water4all", "Water4All's long name"),
    "Partnership for Research and Innovation in the Mediterranean areas": ("prima", "PRIMA's long name"),
    "ZEWT Partnership": ("he-partnership-zewt", "the ZEWT partnership"),
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
