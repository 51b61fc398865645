"""Draw the SECOND fresh entity test split (issue 17), committed before any rule or registry change.

The first fresh split (``corpus/real/entity_fresh_pool.jsonl``) was scored once at ea6e2ed; it is
now development data. This script draws 480 records that no corpus file has annotated before,
with a fixed seed, all of them ``test`` (frozen, scored once, at the end): error analysis uses
the first fresh split, so this draw keeps no dev share.

Excluded, by source file and row key and by near-duplicate text (the first 400 characters of
the lower-cased words): every annotated file under ``corpus/`` (``ANNOTATED`` below: the level
records, the issue-18 transfer pool, the issue-10 entity pool and the first fresh pool, and the
derived train/test files), and every row of ``../shared/data/reserved.jsonl``. Organisation
names are excluded by their case-folded name, as issue 10 and the first fresh draw did.

Strata, in order (a record goes to the first that matches):

- ``text-cluster-candidate``: EVERY eligible text that may name a cluster organisation: the
  word "cluster" in the languages of the sources (issue 10's rule, plus "kluster" and
  "clustering"); a name of the cluster registry (``corpus/registry/clusters.jsonl``, name or
  alias) or a CLUSTER name of an annotated record, written as a whole word in the same case;
  or a capitalised name ending in Network, Skillnet, Forum, Association, Alliance, Consortium,
  Pole or Cluster (where firm networks of a sector or territory live: guideline 6.2, clusters
  named without the word). The shared data hold few such texts; this takes all of them.
- ``name-cluster-candidate``: EVERY eligible organisation name that says cluster or pole in an
  EU language (issue 10's ``CLUSTER_TERM`` plus Nordic "kluster", "pôle"/"polo", Italian
  "distretto", Spanish "agrupación empresarial") or contains a cluster-registry name.
- ``text-funder``: texts naming a funder, programme or call (``sample_entity_fresh.FUNDER_NAMES``),
  round-robin over sources (seeded), ``QUOTAS``;
- ``text-organising-body``: texts naming networks, associations, platforms, hubs...
  (``sample_entity_fresh.ORGANISING_TEXT``), round-robin over sources;
- ``text-random``: a uniform seeded draw of the remaining texts, up to ``TOTAL``.

Run: ``CSVNLP_SHARED_DATA=/work/shared/data python pipeline/sample_entity_fresh2.py [OUT_DIR]``
(writes ``entity_fresh2_pool.jsonl``; default ``corpus/real``).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sample_entity_fresh  # noqa: E402  (sets the shared-data path from CSVNLP_SHARED_DATA)
from sample_entity_fresh import FUNDER_NAMES, MIN_WORDS, ORGANISING_TEXT, fingerprint, read_jsonl, round_robin  # noqa: E402
from sample_entity_records import CLUSTER_TERM, name_key, organisation_names  # noqa: E402
from sample_real_records import ROOT, clean, read_sources, reserved_filter, words  # noqa: E402

SEED = 20261214
TOTAL = 480
QUOTAS = {"text-cluster-candidate": None, "name-cluster-candidate": None, "text-funder": 200,
          "text-organising-body": 70, "text-random": None}
# Every file under corpus/ whose records were annotated (or are being annotated: the issue-18 pool).
ANNOTATED = [
    "corpus/real/records.jsonl", "corpus/real/transfer/pool.jsonl", "corpus/real/entity_pool.jsonl",
    "corpus/real/entity_fresh_pool.jsonl", "corpus/external_test/real-test.jsonl", "corpus/extra/real-train.jsonl",
    "corpus/entity_test/entity-test.jsonl", "corpus/entities/train.jsonl",
]
CLUSTER_WORD = re.compile(r"\b(clusters?|clustering|clustered|clust-er|klast\w*|kluster\w*|p[ôo]les? de comp\w*)\b", re.IGNORECASE)
NAMED_NETWORK = re.compile(
    r"\b[A-Z][\w&'’-]*(?: (?:[A-Z&][\w'’&-]*|of|for|and|the|in))* (?:Networks?|Skillnets?|Forum|Association|Alliance|Consortium|Pole|Cluster)\b"
)
NAME_CLUSTER_TERM = re.compile(CLUSTER_TERM.pattern + r"|klust|\bp[oô]le\b|\bpolo\b|distrett|agrupaci[oó]n empresarial", re.IGNORECASE)


def cluster_names() -> set[str]:
    """Registry cluster names and aliases, and every CLUSTER span of an annotated record."""
    found: set[str] = set()
    for row in read_jsonl(ROOT / "corpus/registry/clusters.jsonl"):
        found.add(row["name"])
        found.update(row.get("aliases") or [])
    for path in ("corpus/real/records.jsonl", "corpus/real/entity_records.jsonl", "corpus/real/entity_fresh_records.jsonl"):
        for record in read_jsonl(ROOT / path):
            found.update(e["text"] for e in record.get("entities") or [] if e.get("label") == "CLUSTER")
    annotations = json.loads((ROOT / "corpus/entity_annotations.json").read_text(encoding="utf-8"))
    for value in annotations.values():
        if isinstance(value, dict):
            found.update(value.get("CLUSTER") or [])
    return {name.strip() for name in found if len(name.strip()) >= 4}


def main(out_dir: Path) -> None:
    rng = random.Random(SEED)
    is_reserved = reserved_filter()
    seen_keys: set[tuple[str, str, str]] = set()
    seen_texts: set[str] = set()
    seen_names: set[str] = set()
    for path in ANNOTATED:
        for record in read_jsonl(ROOT / path):
            kind = record.get("kind", "text")
            seen_keys.add((kind, record["source_file"], record["row_key"]["value"]))
            if kind == "name":
                seen_names.add(name_key(record["text"]))
                continue
            text = record["text"]
            if record.get("title") and not text.startswith(record["title"]):
                text = record["title"] + "\n" + text
            seen_texts.add(fingerprint(text))
            seen_texts.add(fingerprint(record["text"]))

    names = sorted(cluster_names(), key=lambda n: (-len(n), n))
    in_text = re.compile("|".join(r"(?<![\w-])" + re.escape(n) + r"(?![\w-])" for n in names))
    in_name = re.compile("|".join(r"(?<!\w)" + re.escape(n) + r"(?!\w)" for n in names), re.IGNORECASE)

    strata: dict[str, list[dict]] = {s: [] for s in QUOTAS}
    for row in read_sources():
        text = row["title"] + "\n" + row["text"]
        if len(words(row["text"])) < MIN_WORDS or ("text", row["source_file"], row["row_key"]["value"]) in seen_keys:
            continue
        if fingerprint(text) in seen_texts or fingerprint(row["text"]) in seen_texts or is_reserved(row):
            continue
        seen_keys.add(("text", row["source_file"], row["row_key"]["value"]))
        seen_texts.add(fingerprint(text))
        seen_texts.add(fingerprint(row["text"]))
        row = {**row, "kind": "text", "text": text}
        if CLUSTER_WORD.search(text) or in_text.search(text) or NAMED_NETWORK.search(text):
            stratum = "text-cluster-candidate"
        elif FUNDER_NAMES.search(text):
            stratum = "text-funder"
        elif ORGANISING_TEXT.search(text):
            stratum = "text-organising-body"
        else:
            stratum = "text-random"
        strata[stratum].append(row)
    for row in organisation_names():
        name = clean(row["name"]).strip(" ;")
        if len(name) < 3 or not re.search(r"[^\W\d_]", name) or name_key(name) in seen_names:
            continue
        if ("name", row["source_file"], row["row_key"]["value"]) in seen_keys:
            continue
        seen_keys.add(("name", row["source_file"], row["row_key"]["value"]))
        seen_names.add(name_key(name))
        if NAME_CLUSTER_TERM.search(name) or in_name.search(name):
            strata["name-cluster-candidate"].append({**row, "kind": "name", "text": name})

    pool: list[dict] = []
    drawn_rows: set[int] = set()
    for stratum, quota in QUOTAS.items():
        rows = strata[stratum]
        if stratum == "text-random":
            rows = rows + [r for s in ("text-funder", "text-organising-body") for r in strata[s] if id(r) not in drawn_rows]
            rows.sort(key=lambda r: (r["source_file"], r["row_key"]["value"]))
            drawn = rng.sample(rows, min(TOTAL - len(pool), len(rows)))
        else:
            drawn = round_robin(rows, quota, rng)
        print(f"{stratum}: {len(rows)} eligible, took {len(drawn)}", file=sys.stderr)
        drawn_rows.update(id(r) for r in drawn)
        for row in drawn:
            digest = hashlib.sha256(f"{row['kind']}|{row['source_file']}|{row['row_key']['value']}".encode()).hexdigest()[:12]
            pool.append({"id": f"fresh2-{digest}", "kind": row["kind"], "text": row["text"], "source": row["source"],
                         "source_file": row["source_file"], "row_key": row["row_key"], "sampling": stratum,
                         "context": row.get("context", {}), "split": "test"})
    assert len({r["id"] for r in pool}) == len(pool)
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "entity_fresh2_pool.jsonl").open("w", encoding="utf-8") as handle:
        for record in sorted(pool, key=lambda r: r["id"]):
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(pool)} records (all test)", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "corpus" / "real")
