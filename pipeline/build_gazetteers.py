"""Write ``corpus/gazetteers/programmes.jsonl`` (funding-programme names from the call topics)
and ``corpus/registry/clusters.jsonl`` (cluster organisations with their sources).

The Funding & Tenders call topics in ``../shared/data`` name their programme in a structured
field (``programme``: "Horizon Europe", "Connecting Europe Facility", "EU External Action -
Prospect (RELEX-PROSPECT)", ...). Each distinct value becomes a PROGRAMME entry, and a code in
brackets a second entry, each with the rows it came from. Rows of either frozen test split
and reserved rows are skipped, so the gazetteer is built from training-side rows only.
"EU Agencies" is left out (agencies are funders' administrations, not programmes: guideline,
section 6).

The cluster list (issue 17) gathers cluster organisations from three kinds of source, each
entry with ``name``, ``label`` (CLUSTER), ``id`` and ``source``:

- the report: every CLUSTER span of the 27 cases (``corpus/cases.jsonl``, hand-reviewed names);
- the beneficiary and participant lists of the shared data: the CLUSTER spans of the names-only
  records of the *training* split, annotated under guideline 6.1 (``corpus/real/entity_records.jsonl``);
- public pages: ``PUBLIC_PAGES`` below, each name with the address of a stored page that
  presents it as a cluster organisation or competitiveness pole.

Rows of either frozen test split, of the fresh entity split (issue 17) and reserved rows are
never read.

Run: ``python pipeline/build_gazetteers.py`` (needs ``../shared/data``).
"""

from __future__ import annotations

import json
import os
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sample_real_records  # noqa: E402

if os.environ.get("CSVNLP_SHARED_DATA"):
    sample_real_records.SHARED = Path(os.environ["CSVNLP_SHARED_DATA"])
    sample_real_records.EXTERNAL = sample_real_records.SHARED / "external"
from sample_real_records import ROOT, read_sources, reserved_filter  # noqa: E402

NOT_PROGRAMMES = {"EU Agencies", "Justice"}
OUT = ROOT / "corpus" / "gazetteers" / "programmes.jsonl"
CLUSTERS = ROOT / "corpus" / "registry" / "clusters.jsonl"
# name -> address of a public page that presents it as a cluster organisation or pole
PUBLIC_PAGES = {
    "Aerospace Valley": "https://toulouse.latribune.fr/entreprises/business/2023-03-28/aeronautique-aerospace-valley-reconduit-sa-labellisation-pour-quatre-ans-et-fourmille-d-idees-pour-la-filiere-956841.html",
    "Systematic Paris-Region": "https://systematic-paris-region.org/innover-dans-les-territoires-avec-les-poles-de-competitivite",
    "Xylofutur": "https://lawinsider.com/fr/contracts/ihfUTKO6qaY",
    "Route des Lasers": "https://aboironassocies.wordpress.com/2013/05/02/les-poles-de-competitivite-a-lhorizon-2018/",
    "Optics Valley": "https://aboironassocies.wordpress.com/2013/05/02/les-poles-de-competitivite-a-lhorizon-2018/",
    "Agrimip": "https://aboironassocies.wordpress.com/2013/05/02/les-poles-de-competitivite-a-lhorizon-2018/",
    "Astech": "https://www.journal-aviation.com/actualites-industrie-aeronautique/dossier-les-poles-de-competitivite-aeronautiques-et-spatiaux-francais-20131204.html",
    "Pégase": "https://www.journal-aviation.com/actualites-industrie-aeronautique/dossier-les-poles-de-competitivite-aeronautiques-et-spatiaux-francais-20131204.html",
    "Infr@2050": "https://www.lejournaldesentreprises.com/france/article/quels-sont-les-55-poles-de-competitivite-labellises-par-les-pouvoirs-publics-jusquen-2026-2057938",
    "Materalia": "https://www.lejournaldesentreprises.com/france/article/quels-sont-les-55-poles-de-competitivite-labellises-par-les-pouvoirs-publics-jusquen-2026-2057938",
    "Fibres-Energivie": "https://www.lejournaldesentreprises.com/france/article/quels-sont-les-55-poles-de-competitivite-labellises-par-les-pouvoirs-publics-jusquen-2026-2057938",
    "EuraMaterials": "https://www.lejournaldesentreprises.com/france/article/quels-sont-les-55-poles-de-competitivite-labellises-par-les-pouvoirs-publics-jusquen-2026-2057938",
    "Team²": "https://www.lejournaldesentreprises.com/france/article/quels-sont-les-55-poles-de-competitivite-labellises-par-les-pouvoirs-publics-jusquen-2026-2057938",
    "UP-TEX": "http://fr.m.wiki.x.io/wiki/P%C3%B4les_de_comp%C3%A9titivit%C3%A9s_fran%C3%A7ais",
    "Agri Sud-Ouest Innovation": "https://impr-0001-1260-partners.eccp.hosted-temp.com/tags/esca",
    "Packaging Cluster": "https://impr-0001-1260-partners.eccp.hosted-temp.com/tags/esca",
    "Valorial": "https://impr-0001-1260-partners.eccp.hosted-temp.com/tags/esca",
    "Český optický klastr": "https://www.optickyklastr.cz/prvni-krok-ke-klastrove-excelenci-cesky-opticky-klastr-ziskal-bronzovou-znamku/",
    "Danish Food Cluster": "http://danishfoodcluster.dk/",
    "Food & Bio Cluster Denmark": "https://danishfoodcluster.dk/food-bio-cluster-denmark/",
    "Agro Business Park": "https://danishfoodcluster.dk/formation-of-a-national-cluster-organisation-within-foods-and-bioresources/",
    "Basque Energy Cluster": "https://www.eurofound.europa.eu/observatories/emcc/erm/restructuring-case-studies/basque-energy-cluster",
    "Cluster de Energia": "https://www.eurofound.europa.eu/observatories/emcc/erm/restructuring-case-studies/basque-energy-cluster",
    "Blue Cluster": "https://www.offshore-energy.biz/basque-and-flemish-blue-clusters-sign-offshore-energy-pact/",
    "De Blauwe Cluster": "https://flanders-maritime-cluster.be/nieuws?page=3",
    "Cluster GAIA": "https://www.clustercollaboration.eu/content/cluster-gaia-basque-country-spain",
}


def test_keys() -> set[tuple[str, str]]:
    keys = set()
    for path in (ROOT / "corpus/external_test/real-test.jsonl", ROOT / "corpus/entity_test/entity-test.jsonl",
                 ROOT / "corpus/real/entity_fresh_pool.jsonl"):
        for line in path.open(encoding="utf-8"):
            record = json.loads(line)
            keys.add((record["source_file"], record["row_key"]["value"]))
    return keys


def main() -> None:
    is_reserved = reserved_filter()
    held_out = test_keys()
    rows_of: dict[str, list[str]] = defaultdict(list)
    for row in read_sources():
        if row["source"] != "call_topics" or (row["source_file"], row["row_key"]["value"]) in held_out or is_reserved(row):
            continue
        value = " ".join((row["context"].get("programme") or "").split())
        if not value or value in NOT_PROGRAMMES:
            continue
        bracket = re.match(r"^(.*?)\s*\(([^()]+)\)$", value)
        for name in ([bracket.group(1), bracket.group(2)] if bracket else [value]):
            rows_of[name].append(row["row_key"]["value"])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as handle:
        for name in sorted(rows_of):
            keys = rows_of[name]
            source = f"ft_portal_calls_oscarsalgado/open.jsonl.gz field programme, topicId {keys[0]}" + (f" and {len(keys) - 1} more" if len(keys) > 1 else "")
            handle.write(json.dumps({"label": "PROGRAMME", "pattern": name, "source": source}, ensure_ascii=False) + "\n")
    print(f"{OUT.relative_to(ROOT)}: {len(rows_of)} entries", file=sys.stderr)
    write_cluster_list(held_out)


def slug(name: str) -> str:
    return "cluster:" + re.sub(r"[^0-9a-z]+", "-", unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()).strip("-")


def write_cluster_list(held_out: set[tuple[str, str]]) -> None:
    entries: dict[str, dict[str, str]] = {}
    for line in (ROOT / "corpus/cases.jsonl").open(encoding="utf-8"):
        case = json.loads(line)
        for entity in case.get("entities") or []:
            if entity["label"] == "CLUSTER":
                name = case["text"][entity["start"]:entity["end"]]
                entries.setdefault(name, {"name": name, "label": "CLUSTER", "id": slug(name),
                                          "source": f"corpus/source/clusters-and-shared-value-report.txt, case {case['id']} (corpus/cases.jsonl)"})
    for line in (ROOT / "corpus/real/entity_records.jsonl").open(encoding="utf-8"):
        record = json.loads(line)
        if record["split"] != "train" or (record["source_file"], record["row_key"]["value"]) in held_out:
            continue
        for entity in record.get("entities") or []:
            if entity["label"] == "CLUSTER":
                name = record["text"][entity["start"]:entity["end"]]
                entries.setdefault(name, {"name": name, "label": "CLUSTER", "id": slug(name),
                                          "source": f"{record['source_file']} {record['row_key']['column']}={record['row_key']['value']} "
                                                    f"(annotated under guideline 6.1, record {record['id']})"})
    for name, address in PUBLIC_PAGES.items():
        entries.setdefault(name, {"name": name, "label": "CLUSTER", "id": slug(name), "source": address})
    with CLUSTERS.open("w", encoding="utf-8") as handle:
        for entry in entries.values():
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
    print(f"{CLUSTERS.relative_to(ROOT)}: {len(entries)} entries", file=sys.stderr)


if __name__ == "__main__":
    main()
