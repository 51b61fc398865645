"""Draw the pool of real funding records to annotate (issue 9), seeded and reproducible.

Reads the extracts in ../shared/data/external, keeps English free-text rows with enough words,
drops every row listed in ../shared/data/reserved.jsonl (by source and row key, and by the
same 5-gram overlap test as ../shared/tools/reserved-check) and near-duplicate texts, then
draws from each source a fixed quota in three strata, recorded per row as ``sampling``:

- ``random``: a seeded uniform draw, keyword-free, so the set holds what the sources hold;
- ``definition``: rows naming a term of the report's own level definitions (section 2,
  quoted in ``DEFINITION_TERMS``), so the rarer levels get enough positives;
- ``suggest``: rows the shipped model was least sure of (closest to a level threshold), the
  ``csvnlp suggest`` rule.

The ``suggest`` stratum depends on the model shipped when the pool was drawn (commit 87514a0,
with that commit's ``levels.py``); run the script at that commit to redraw the same pool. The
annotated records themselves (``corpus/real/records.jsonl``) keep each row's provenance and
stratum, so the corpus never depends on redrawing.

Writes pool/<batch>.jsonl files (text and provenance, no labels) for annotators, and
pool/manifest.jsonl (provenance only). Usage: python pipeline/sample_real_records.py OUT_DIR
"""

from __future__ import annotations

import csv
import gzip
import json
import random
import re
import sys
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
EXTERNAL = SHARED / "external"
SEED = 20261126

# Terms of the report's definitions of the three levels (section 2, p. 9, repeated in
# section 6): "Meeting societal needs through products and addressing unserved or underserved
# customers"; "Changing practices in the value chain to drive productivity through better
# utilizing resources, employees, and business partners"; "Improving the available skills,
# supplier base, and supporting institutions in the communities where a company operates".
# Used only to enrich the pool for the rarer levels, never as a feature or a rule.
DEFINITION_TERMS = {
    "products_markets": ["societal need", "underserved", "unserved"],
    "value_chain": ["value chain", "productivity", "resource", "supplier", "business partner"],
    "cluster_development": ["cluster", "skills", "supplier base", "supporting institution", "communities"],
}

# quota per source: (random, definition, suggest)
QUOTAS = {
    "cordis_h2020": (60, 40, 30),
    "cordis_fp7": (25, 10, 10),
    "cordis_horizon_europe": (30, 15, 15),
    "cordis_water_sme": (50, 25, 25),
    "cordis_water_fp7": (15, 8, 7),
    "cordis_h2020_xml": (20, 10, 10),
    "esif_england": (55, 45, 30),
    "esif_scotland": (30, 25, 15),
    "esif_northern_ireland": (20, 15, 10),
    "esif_malta": (30, 25, 15),
    "esif_ireland": (35, 25, 20),
    "call_topics": (40, 30, 20),
}
MIN_WORDS = 12


def words(text: str) -> list[str]:
    return re.sub(r"[^0-9a-z]+", " ", text.lower()).split()


def grams(ws: list[str], n: int = 5) -> set[str]:
    return {" ".join(ws[i:i + n]) for i in range(max(0, len(ws) - n + 1))}


def clean(text: str | None) -> str:
    text = (text or "").replace("_x000D_", " ").replace("\r", "")
    return re.sub(r"[ \t]+", " ", text).strip()


def first(value):
    return value[0] if isinstance(value, list) and value else (value if not isinstance(value, list) else "")


def csv_rows(path: Path, delimiter: str = ",", encoding: str = "utf-8-sig") -> Iterator[dict]:
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding=encoding, errors="replace", newline="") as handle:
        yield from csv.DictReader(handle, delimiter=delimiter)


def read_sources() -> Iterator[dict]:
    """Every candidate row: source, source_file, row_key, title, text."""
    base = "cordis_h2020_textile_subset_aguesses/training_corrected.csv"
    for row in csv_rows(EXTERNAL / base, ";"):
        yield {"source": "cordis_h2020", "source_file": base, "row_key": {"column": "(unnamed first column)", "value": row[""]},
               "title": row["titleProject"], "text": clean(row["objective"]), "context": {"programme": row["call"], "topic": row["topics"]}}
    base = "cordis_fp7_sample_bowowzahoya/fp7_test_projects.csv"
    for row in csv_rows(EXTERNAL / base, ";"):
        yield {"source": "cordis_fp7", "source_file": base, "row_key": {"column": "id", "value": row["id"]},
               "title": row["title"], "text": clean(row["objective"]), "context": {"call": row.get("subCall", "")}}
    base = "cordis_horizon_europe_head100_voteveto2/project_df_100.csv"
    for row in csv_rows(EXTERNAL / base):
        yield {"source": "cordis_horizon_europe", "source_file": base, "row_key": {"column": "id", "value": row["id"]},
               "title": row["title"], "text": clean(row["objective"]), "context": {"topic": row.get("topics", "")}}
    for name in sorted((EXTERNAL / "cordis_water_scrape_poltys").glob("*.json")):
        base = f"cordis_water_scrape_poltys/{name.name}"
        source = "cordis_water_sme" if name.name.startswith("SME") else "cordis_water_fp7"
        for item in json.loads(name.read_text(encoding="utf-8")):
            yield {"source": source, "source_file": base, "row_key": {"column": "Project_ID", "value": str(first(item.get("Project_ID")))},
                   "title": first(item.get("Project_Title")), "text": clean(first(item.get("Technology_Description"))),
                   "context": {"call": first(item.get("Call_for_Proposal")), "topic": first(item.get("Topic_s"))}}
    for name in sorted((EXTERNAL / "cordis_h2020_xml_sample_erenaliaslangiray/Dataset_Example").glob("*.xml")):
        base = f"cordis_h2020_xml_sample_erenaliaslangiray/Dataset_Example/{name.name}"
        xml = name.read_text(encoding="utf-8", errors="replace")
        def tag(t: str) -> str:
            m = re.search(rf"<{t}>(.*?)</{t}>", xml, re.S)
            return clean(re.sub(r"<[^>]+>", " ", m.group(1))) if m else ""
        yield {"source": "cordis_h2020_xml", "source_file": base, "row_key": {"column": "reference", "value": tag("reference")},
               "title": tag("title"), "text": tag("objective"), "context": {}}
    esif = "esif_operations_os_data"
    base = f"{esif}/ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv"
    for row in csv_rows(EXTERNAL / base):
        yield {"source": "esif_england", "source_file": base, "row_key": {"column": "Name of Project", "value": row["Name of Project"]},
               "title": row["Name of Project"], "text": clean(row["Summary of project (max 100 words)"]),
               "context": {"fund": row["Type of fund"], "beneficiary": row["Recipient of funds"]}}
    base = f"{esif}/ESF-and-ERDF-Scotland-2014-2020.csv"
    for index, row in enumerate(csv_rows(EXTERNAL / base)):
        yield {"source": "esif_scotland", "source_file": base,
               "row_key": {"column": "(data row index, 0-based, header excluded)", "value": str(index)},
               "title": clean(row["Operation Name"]), "text": clean(row["Description"]),
               "context": {"fund": row["Programme"], "beneficiary": row["Recipient organisation"], "theme": row["Theme"]}}
    base = f"{esif}/ESF_Northern_Ireland_2014-2020.csv"
    for row in csv_rows(EXTERNAL / base):
        yield {"source": "esif_northern_ireland", "source_file": base, "row_key": {"column": "Ref No", "value": row["Ref No"]},
               "title": row["Operation Name"], "text": clean(row["Operation Summary"]),
               "context": {"fund": "ESF", "beneficiary": row["Beneficiary Name"]}}
    base = f"{esif}/data.csv"
    for row in csv_rows(EXTERNAL / base):
        parts = [clean(row[c]) for c in ("Non Technical Short Summary Of Project", "Project Objectives")]
        yield {"source": "esif_malta", "source_file": base, "row_key": {"column": "Code", "value": row["Code"]},
               "title": row["Title"], "text": "\n".join(p for p in parts if p),
               "context": {"fund": row["Fund"], "beneficiary": row["Beneficiary"], "theme": row["Focus Area Of Intervention"]}}
    base = f"{esif}/Final LoB S&E ROP 2007-2013.csv"
    for row in csv_rows(EXTERNAL / base):
        yield {"source": "esif_ireland", "source_file": base,
               "row_key": {"column": "Unique code number of the operation", "value": row["Unique code number of the operation"]},
               "title": clean(row["Project Name (Beneficiary)"]), "text": clean(row["Project Summary"]),
               "context": {"fund": row["Type of Grant"], "theme": row["Theme/subtheme"]}}
    base = "ft_portal_calls_oscarsalgado/open.jsonl.gz"
    raw = gzip.open(EXTERNAL / base, "rt", encoding="utf-8-sig").read()
    decoder, at = json.JSONDecoder(), 0
    while at < len(raw):
        while at < len(raw) and raw[at].isspace():
            at += 1
        if at >= len(raw):
            break
        item, at = decoder.raw_decode(raw, at)
        text = clean(re.sub(r"<[^>]+>", " ", item.get("description") or ""))
        yield {"source": "call_topics", "source_file": base, "row_key": {"column": "topicId", "value": item.get("topicId", "")},
               "title": item.get("title", ""), "text": text, "context": {"programme": item.get("programme", ""), "callIdentifier": item.get("callIdentifier", "")}}


# A fourth stratum, drawn after the first pool once its first batch showed few value_chain
# records: rows picked by the *source's own* category field (an ERDF theme, a CORDIS call or
# topic code, a call's programme), not by words of the text, so no lexicon decides them.
# (source, category field, case-insensitive substrings of that field, quota)
CATEGORY_QUOTAS = [
    ("esif_ireland", "theme", ["chp & bioheat"], 30),
    ("esif_ireland", "theme", ["energy for business"], 20),
    ("esif_scotland", "theme", ["circular economy", "low carbon infrastructure"], 12),
    ("esif_scotland", "theme", ["business competitiveness", "innovation"], 15),
    ("esif_malta", "theme", ["opipa4 energy", "opipa5 solid waste"], 22),
    ("esif_malta", "theme", ["aid schemes", "enterprise infrastructure", "product development"], 12),
    ("cordis_h2020", "programme", ["circ", "spire", "waste", "-ee-", "sfs-", "bbi"], 25),
    ("cordis_h2020", "programme", ["innosup", "inno-"], 6),
    ("cordis_water_sme", "topic", ["resource", "eco-innovat", "food", "circular", "waste"], 20),
    ("call_topics", "programme", ["interregional innovation", "single market", "life"], 15),
]
# A second supplement, drawn when the first pool plus the first supplement still held fewer
# than 100 value_chain and 150 cluster_development records: more rows by category, and more
# keyword-free random rows of the ERDF/ESF sources (field None = uniform draw).
SECOND_SUPPLEMENT = [
    ("esif_ireland", "theme", ["chp & bioheat"], 40),
    ("esif_ireland", "theme", ["energy for business"], 25),
    ("esif_malta", "theme", ["opipa4 energy", "opipa5 solid waste"], 15),
    ("cordis_water_sme", "topic", ["resource", "eco-innovat", "food", "circular", "waste"], 20),
    ("esif_england", None, [], 60),
    ("esif_scotland", None, [], 30),
]


THIRD_SUPPLEMENT = [
    ("call_topics", 40), ("esif_england", 50), ("cordis_horizon_europe", 15), ("cordis_h2020", 25),
    ("esif_scotland", 15), ("esif_malta", 15),
]


def reserved_filter():
    reserved = [json.loads(line) for line in (SHARED / "reserved.jsonl").open(encoding="utf-8") if line.strip()]
    keys = {(r["source_file"], r["row_key"]["value"]) for r in reserved}
    reserved_grams = [g for g in (grams(words(r["description"])[:80]) for r in reserved) if g]

    def is_reserved(row: dict) -> bool:
        if (row["source_file"], row["row_key"]["value"]) in keys:
            return True
        have = grams(words(row["title"] + " " + row["text"]))
        return any(len(g & have) >= 0.5 * len(g) for g in reserved_grams)
    return is_reserved


def model_margins(rows: list[dict]) -> list[float]:
    """Distance of each row to its nearest level threshold under the shipped model."""
    sys.path.insert(0, str(ROOT / "src"))
    from csvnlp.annotation import uncertainty
    from csvnlp.bundle import load_bundle
    classifier = load_bundle().classifier
    results = classifier.classify([r["text"] for r in rows])
    return [uncertainty(r["probabilities"], classifier.thresholds)[0] for r in results]


def draw_supplement(rng: random.Random, by_source: dict[str, list[dict]], taken_ids: set[int], specs: list) -> list[dict]:
    """One supplement: per (source, quota, predicate, sampling label, log name), a seeded draw of
    ``quota`` rows not yet taken that satisfy the predicate; then the whole supplement shuffled."""
    drawn = []
    for source, quota, predicate, sampling, name in specs:
        candidates = [r for r in by_source.get(source, []) if id(r) not in taken_ids and predicate(r)]
        rng.shuffle(candidates)
        for row in candidates[:quota]:
            row["sampling"] = sampling
            taken_ids.add(id(row))
            drawn.append(row)
        print(f"{name}: {len(candidates)} eligible, took {min(quota, len(candidates))}", file=sys.stderr)
    rng.shuffle(drawn)
    return drawn



# ---------------------------------------------------------------- shared by the later draws
# (sample_transfer_records.py, sample_value_chain_records.py: a draw that adds to the corpus)


def fingerprint(text: str) -> str:
    """The draws' near-duplicate key: the text's first 400 characters of words."""
    return " ".join(words(text))[:400]


def field_has(field: str | None, needles: list[str]) -> Callable[[dict], bool]:
    """A draw predicate: the row's context ``field`` holds one of ``needles`` (case-insensitive);
    field None: every row (a keyword-free uniform draw)."""
    return lambda r: field is None or any(n in str(r["context"].get(field, "")).lower() for n in needles)


def annotated_records() -> list[dict]:
    path = ROOT / "corpus" / "real" / "records.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def unseen_rows(existing: list[dict], excluded: dict[str, Callable[[dict], bool]]) -> tuple[dict[str, list[dict]], dict[str, int]]:
    """Rows of the sources with enough words, grouped by source, leaving out rows already
    annotated (by source file and row key, or by text), reserved rows, rows any of the named
    ``excluded`` filters holds, and repeats of a text kept before; with the count of each."""
    annotated = {(r["source_file"], r["row_key"]["value"]) for r in existing}
    seen = {fingerprint(r["text"]) for r in existing}
    is_reserved = reserved_filter()
    by_source: dict[str, list[dict]] = {}
    dropped = {"reserved": 0, "annotated": 0, **{name: 0 for name in excluded}}
    for row in read_sources():
        if len(words(row["text"])) < MIN_WORDS:
            continue
        key = fingerprint(row["text"])
        if (row["source_file"], row["row_key"]["value"]) in annotated or key in seen:
            dropped["annotated"] += 1
            continue
        if is_reserved(row):
            dropped["reserved"] += 1
            continue
        name = next((name for name, holds in excluded.items() if holds(row)), None)
        if name is not None:
            dropped[name] += 1
            continue
        seen.add(key)
        by_source.setdefault(row["source"], []).append(row)
    return by_source, dropped


def assign_ids(rows: list[dict], used_ids: set[str]) -> None:
    """Each row's id: its source and row key, numbered when already used (a row key can repeat
    within a source)."""
    for row in rows:
        stem = f"{row['source']}-{re.sub(r'[^0-9A-Za-z]+', '-', row['row_key']['value']).strip('-')[:60]}"
        row["id"], n = stem, 1
        while row["id"] in used_ids:
            n += 1
            row["id"] = f"{stem}-{n}"
        used_ids.add(row["id"])


def write_pool(out_dir: Path, chosen: list[dict], blind: list[str]) -> None:
    """OUT_DIR/pool.jsonl (text and provenance, no labels) and OUT_DIR/blind.jsonl (the ids of
    the blind second pass)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "pool.jsonl").open("w", encoding="utf-8") as handle:
        for row in chosen:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out_dir / "blind.jsonl").write_text("".join(json.dumps({"id": i}) + "\n" for i in blind), encoding="utf-8")
    print(f"{len(chosen)} records -> {out_dir}", file=sys.stderr)

def main(out_dir: Path) -> None:
    rng = random.Random(SEED)
    is_reserved = reserved_filter()
    by_source: dict[str, list[dict]] = {}
    seen: set[str] = set()
    for row in read_sources():
        if len(words(row["text"])) < MIN_WORDS or is_reserved(row):
            continue
        fingerprint = " ".join(words(row["text"]))[:400]
        if fingerprint in seen:
            continue
        seen.add(fingerprint)
        by_source.setdefault(row["source"], []).append(row)
    chosen: list[dict] = []
    for source, (n_random, n_definition, n_suggest) in QUOTAS.items():
        rows = by_source[source]
        rng.shuffle(rows)
        taken = rows[:n_random]
        for row in taken:
            row["sampling"] = "random"
        rest = rows[n_random:]
        lowered = [" " + " ".join(words(r["title"] + " " + r["text"])) for r in rest]
        # rarer levels first: cluster_development and value_chain terms before products_markets
        definition = []
        for level in ("cluster_development", "value_chain", "products_markets"):
            for row, text in zip(rest, lowered):
                if len(definition) >= n_definition:
                    break
                if row not in definition and any(" " + term in text for term in DEFINITION_TERMS[level]):
                    row["sampling"] = "definition"
                    definition.append(row)
        rest = [r for r in rest if r not in definition]
        margins = model_margins(rest) if rest else []
        suggested = [r for _, r in sorted(zip(margins, rest), key=lambda p: p[0])][:n_suggest]
        for row in suggested:
            row["sampling"] = "suggest"
        picked = taken + definition + suggested
        print(f"{source}: {len(rows)} eligible, took {len(taken)} random + {len(definition)} definition + {len(suggested)} suggest", file=sys.stderr)
        chosen.extend(picked)
    rng.shuffle(chosen)
    taken_ids = {id(r) for r in chosen}

    chosen += draw_supplement(
        random.Random(SEED + 2), by_source, taken_ids,
        [(source, quota, field_has(field_name, needles), "category", f"{source} by {field_name} {needles}")
         for source, field_name, needles, quota in CATEGORY_QUOTAS])
    chosen += draw_supplement(
        random.Random(SEED + 3), by_source, taken_ids,
        [(source, quota, field_has(field_name, needles), "random" if field_name is None else "category",
          f"second supplement {source} by {field_name} {needles}")
         for source, field_name, needles, quota in SECOND_SUPPLEMENT])
    # A third supplement, drawn when the assembled set held only 8 *clear* cluster_development
    # records in its would-be test split: rows naming the terms of the cluster_development
    # definition, or an ecosystem or sector (the labelling rules' "clear when a cluster, an
    # ecosystem or a sector focus is explicit"). Recorded as sampling "definition".
    terms = DEFINITION_TERMS["cluster_development"] + ["ecosystem", "sector"]

    def names_a_term(r):
        return any(" " + t in " " + " ".join(words(r["title"] + " " + r["text"])) for t in terms)

    chosen += draw_supplement(
        random.Random(SEED + 4), by_source, taken_ids,
        [(source, quota, names_a_term, "definition", f"third supplement {source}") for source, quota in THIRD_SUPPLEMENT])
    out_dir.mkdir(parents=True, exist_ok=True)
    assign_ids(chosen, set())  # (England lists some project names twice)
    ids = [r["id"] for r in chosen]
    assert len(ids) == len(set(ids)), "record ids must be unique"
    with (out_dir / "manifest.jsonl").open("w", encoding="utf-8") as handle:
        for row in chosen:
            handle.write(json.dumps({k: row[k] for k in ("id", "source", "source_file", "row_key", "sampling")}, ensure_ascii=False) + "\n")
    with (out_dir / "pool.jsonl").open("w", encoding="utf-8") as handle:
        for row in chosen:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(chosen)} records -> {out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
