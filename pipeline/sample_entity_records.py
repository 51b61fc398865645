"""Draw the cluster-rich entity pool (issue 10) and fix its train/test split before annotation.

Real project texts rarely name a cluster organisation: the 1,340 records annotated for levels
hold 13 CLUSTER spans. Cluster organisations appear where funding databases list who got the
money: beneficiary and participant names (Kohesio, the ERDF/ESF lists of operations, CORDIS
participants). This script draws, with a fixed seed:

- ``name-cluster-term``: every distinct organisation name that contains the word "cluster" in
  one of the EU languages the sources use (the translations below; a dictionary fact, not a
  choice made on the records), or "competitiveness pole", the French form of the same policy
  instrument. This is the only way to find cluster organisations among 33,000 names, and it
  also catches non-clusters that carry the word (monasteries: Polish "klasztor"; firms named
  "Cluster ... Ltd"; research on nanoparticle clusters);
- ``name-organising-body``: a seeded sample of names of associations, networks, partnerships,
  platforms, chambers and agencies: the hard cases, organisations that organise something but
  are clusters only sometimes (and never a Local Enterprise Partnership);
- ``name-random``: a seeded sample of the remaining names;
- ``text-cluster-term``: every description (CORDIS objective, ERDF/ESF summary, call topic) not
  yet annotated and not reserved that contains the word "cluster", which is where research
  "clusters" and "Horizon Europe Cluster 4" live.

Each record's split is drawn here, by a seeded rule stratified by stratum, *before* it is
annotated: ``TEST_SHARE`` of each stratum goes to the frozen entity test split. The split is
committed with the pool, so no recognizer change can have seen it.

Run: ``python pipeline/sample_entity_records.py OUT_DIR`` (needs ``../shared/data``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
import sys
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sample_real_records import EXTERNAL, ROOT, clean, csv_rows, read_sources, reserved_filter  # noqa: E402

SEED = 20261127
# "cluster" in the languages of the name lists: English/Romanian "cluster(ul)", Czech "klastr",
# Slovak/Croatian/Slovenian/Polish/Estonian "klaster", Lithuanian/Latvian "klasteris",
# Hungarian "klaszter", Bulgarian "клъстер", Slovenian also "grozd", Spanish "clúster",
# French "pôle de compétitivité". Polish "klasztor" (monastery) matches too, on purpose.
CLUSTER_TERM = re.compile(r"clust|cl[uú]ster|klast|klasz|клъст|\bgrozd|p[oô]les? de comp", re.IGNORECASE)
ORGANISING_BODY = re.compile(
    r"associa|asocia|sdru|сдруж|egyes[uü]let|udruga|združen|stowarzysz|spolek|z\.\s?s\.|"
    r"network|netzwerk|partnership|platform|chamber|kamara|komora|izba|agency|agencija|"
    r"federa|alliance|consortium|hub\b|technology park|science park|innovation cent",
    re.IGNORECASE,
)
QUOTAS = {"name-cluster-term": None, "name-organising-body": 150, "name-random": 150, "text-cluster-term": None}
TEST_SHARE = 0.6
TEXT_CLUSTER = re.compile(r"\b(clusters?|klast\w*|clust-er|p[ôo]les? de comp\w*)\b", re.IGNORECASE)
MIN_WORDS = 12


def organisation_names() -> Iterator[dict]:
    """Every listed beneficiary or participant name: source, source_file, row_key, name."""
    base = "kohesio_beneficiaries_zachz3394/kohesio-data-export.tsv"
    with (EXTERNAL / base).open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE), start=2):
            yield {"source": "kohesio_names", "source_file": base, "row_key": {"column": "(file line, 1-based, header is line 1)", "value": str(line)},
                   "name": row["Beneficiary Name"], "context": {"country": row["Country"], "region": row["Region"]}}
    base = "cordis_horizon_europe_head100_voteveto2/organization_df_100.csv"
    for row in csv_rows(EXTERNAL / base):
        yield {"source": "cordis_horizon_europe_organisations", "source_file": base,
               "row_key": {"column": "projectID+organisationID", "value": f"{row['projectID']}+{row['organisationID']}"},
               "name": row["name"], "context": {"country": row["country"], "activityType": row["activityType"]}}
    base = "cordis_h2020_textile_subset_aguesses/training_corrected.csv"
    for row in csv_rows(EXTERNAL / base, ";"):
        names = [row["coordinator"]] + row["participants"].split(";")
        for position, name in enumerate(names):
            yield {"source": "cordis_h2020_participants", "source_file": base,
                   "row_key": {"column": "(unnamed first column)+position in coordinator;participants", "value": f"{row['']}+{position}"},
                   "name": name, "context": {}}
    for path in sorted((EXTERNAL / "cordis_h2020_xml_sample_erenaliaslangiray/Dataset_Example").glob("*.xml")):
        base = f"cordis_h2020_xml_sample_erenaliaslangiray/Dataset_Example/{path.name}"
        xml = path.read_text(encoding="utf-8", errors="replace")
        for position, match in enumerate(re.finditer(r"<organization [^>]*>.*?<legalName>(.*?)</legalName>", xml, re.S)):
            yield {"source": "cordis_h2020_xml_participants", "source_file": base,
                   "row_key": {"column": "position of <organization>", "value": str(position)}, "name": match.group(1), "context": {}}
    for path in sorted((EXTERNAL / "cordis_water_scrape_poltys").glob("*.json")):
        base = f"cordis_water_scrape_poltys/{path.name}"
        for item in json.loads(path.read_text(encoding="utf-8")):
            partners = item.get("Partners") or []
            project = item.get("Project_ID")
            project = project[0] if isinstance(project, list) and project else project
            for position, name in enumerate(partners if isinstance(partners, list) else [partners]):
                yield {"source": "cordis_water_partners", "source_file": base,
                       "row_key": {"column": "Project_ID+position in Partners", "value": f"{project}+{position}"}, "name": str(name), "context": {}}
    esif = "esif_operations_os_data"
    for name, column, key in [
        ("ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv", "Recipient of funds", "Name of Project"),
        ("ESF-and-ERDF-Scotland-2014-2020.csv", "Recipient organisation", None),
        ("ESF_Northern_Ireland_2014-2020.csv", "Beneficiary Name", "Ref No"),
        ("data.csv", "Beneficiary", "Code"),
        ("Final LoB S&E ROP 2007-2013.csv", "Project Name (Beneficiary)", "Unique code number of the operation"),
    ]:
        base = f"{esif}/{name}"
        for index, row in enumerate(csv_rows(EXTERNAL / base)):
            row_key = {"column": key, "value": row[key]} if key else {"column": "(data row index, 0-based, header excluded)", "value": str(index)}
            yield {"source": "esif_beneficiaries", "source_file": base, "row_key": row_key, "name": row[column], "context": {}}


def name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def assign_split(record_id: str, stratum_ids: list[str]) -> str:
    """Seeded, stratified: the first round(TEST_SHARE * n) ids of the stratum's seeded order."""
    order = sorted(stratum_ids, key=lambda i: hashlib.sha256(f"{SEED}:{i}".encode()).hexdigest())
    return "test" if order.index(record_id) < round(TEST_SHARE * len(order)) else "train"


def main(out_dir: Path) -> None:
    rng = random.Random(SEED)
    is_reserved = reserved_filter()
    annotated = set()
    for line in (ROOT / "corpus/real/records.jsonl").open(encoding="utf-8"):
        record = json.loads(line)
        annotated.add((record["source_file"], record["row_key"]["value"]))

    distinct: dict[str, dict] = {}
    for row in organisation_names():
        name = clean(row["name"]).strip(" ;")
        if len(name) < 3 or not re.search(r"[^\W\d_]", name):
            continue
        kept = distinct.setdefault(name_key(name), {**row, "name": name, "occurrences": 0})
        kept["occurrences"] += 1
    names = list(distinct.values())
    strata: dict[str, list[dict]] = {s: [] for s in QUOTAS}
    for row in names:
        stratum = ("name-cluster-term" if CLUSTER_TERM.search(row["name"])
                   else "name-organising-body" if ORGANISING_BODY.search(row["name"]) else "name-random")
        strata[stratum].append(row)
    for row in read_sources():
        text = row["title"] + "\n" + row["text"]
        if (row["source_file"], row["row_key"]["value"]) in annotated or len(text.split()) < MIN_WORDS:
            continue
        if TEXT_CLUSTER.search(text) and not is_reserved(row):
            strata["text-cluster-term"].append(row)

    pool = []
    for stratum, quota in QUOTAS.items():
        rows = strata[stratum]
        rows.sort(key=lambda r: (r["source_file"], r["row_key"]["value"]))
        if quota is not None:
            rows = rng.sample(rows, min(quota, len(rows)))
        print(f"{stratum}: {len(strata[stratum])} eligible, took {len(rows)}", file=sys.stderr)
        for row in rows:
            kind = "name" if stratum.startswith("name") else "text"  # a name and a text can share a row
            digest = hashlib.sha256(f"{kind}|{row['source_file']}|{row['row_key']['value']}".encode()).hexdigest()[:12]
            text = row["name"] if kind == "name" else row["title"] + "\n" + row["text"]
            pool.append({"id": f"ent-{digest}", "kind": kind, "text": text,
                         "source": row["source"], "source_file": row["source_file"], "row_key": row["row_key"],
                         "sampling": stratum, "context": row.get("context", {})})
    for stratum in QUOTAS:
        ids = [r["id"] for r in pool if r["sampling"] == stratum]
        for record in pool:
            if record["sampling"] == stratum:
                record["split"] = assign_split(record["id"], ids)
    assert len({r["id"] for r in pool}) == len(pool)
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "entity_pool.jsonl").open("w", encoding="utf-8") as handle:
        for record in sorted(pool, key=lambda r: r["id"]):
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(pool)} records, {sum(r['split'] == 'test' for r in pool)} test", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "corpus" / "real")
