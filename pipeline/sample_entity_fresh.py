"""Draw the fresh entity split (issue 17) and fix its test/dev split before anything else changes.

Issue 10's entity test split was scored three times during development and its per-record
errors were printed in a committed report, so it is spent. This script draws records that were
never annotated before (not in ``corpus/real/records.jsonl``, not in
``corpus/real/entity_pool.jsonl``, not reserved, not a near-duplicate of any of those), with a
fixed seed, over-sampling texts that name funders and cluster-like organising bodies:

- ``text-cluster-word``: every remaining description that says "cluster" (few are left: issue 9
  and issue 10 took the rest);
- ``text-funder``: descriptions that name a funder, programme or call in a written form: a
  capitalised name ending in Fund/Programme/Lottery/Partnership/Mission/Initiative/Scheme, one of
  the EU programme abbreviations in ``FUNDER_NAMES``, or a call identifier shape;
- ``text-organising-body``: descriptions naming networks, associations, consortia, platforms,
  poles, hubs, alliances or chambers (where clusters named without the word live);
- ``text-random``: a uniform draw of the remaining descriptions (so precision is measured on
  texts no cue chose);
- ``name-organising-body``: beneficiary/participant names of associations, networks, agencies
  (issue 10's stratum; names it did not draw).

Within each stratum rows are taken round-robin over sources in a seeded order, so one large
source (the Irish ERDF list) cannot fill a stratum. The regular expressions are written from
the issue's description of what to over-sample, before any record of the pool was read.

Each record's split is fixed here: in each stratum a seeded ``DEV_SHARE`` goes to ``dev``
(error analysis may look at those) and the rest to ``test`` (frozen, scored once, at the end).

Run: ``python pipeline/sample_entity_fresh.py [OUT_DIR]`` (needs ``../shared/data``; set
``CSVNLP_SHARED_DATA`` to its path when the repository is not beside it, e.g. in a worktree).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sample_real_records  # noqa: E402

if os.environ.get("CSVNLP_SHARED_DATA"):
    sample_real_records.SHARED = Path(os.environ["CSVNLP_SHARED_DATA"])
    sample_real_records.EXTERNAL = sample_real_records.SHARED / "external"
import sample_entity_records  # noqa: E402

sample_entity_records.EXTERNAL = sample_real_records.EXTERNAL
from sample_entity_records import ORGANISING_BODY, CLUSTER_TERM, name_key, organisation_names  # noqa: E402
from sample_real_records import ROOT, clean, read_sources, reserved_filter, words  # noqa: E402

SEED = 20261204
TOTAL = 480
DEV_SHARE = 0.125  # 60 of 480 for error analysis; the rest (>= 400) is the frozen test split
# quotas; None = every eligible row; text-random takes what is left of TOTAL
QUOTAS = {"text-cluster-word": None, "text-funder": 230, "text-organising-body": 125, "name-organising-body": 44, "text-random": None}
MIN_WORDS = 12

CLUSTER_WORD = re.compile(r"\b(clusters?|clust-er|p[ôo]les? de comp\w*)\b", re.IGNORECASE)
FUNDER_NAMES = re.compile(
    r"\b[A-Z][\w'-]*(?: (?:[A-Z&][\w'-]*|of|for|and|the))* (?:Fund|Programme|Program|Lottery|Partnership|Mission|Initiative|Scheme)\b"
    r"|\b(?:Horizon 2020|Horizon Europe|H2020|FP7|ERDF|ESF|EAFRD|EMFF|ERC|MSCA|Marie Sk\w+|LIFE|COSME|EIC|EIT|INNOSUP|Interreg|INTERREG"
    r"|Erasmus\+?|CEF|Digital Europe|InvestEU|Copernicus|Galileo|EGNOS|Euratom|Eurostars|EUREKA|Creative Europe)\b"
    r"|\b[A-Z][A-Z0-9]+(?:-[A-Z0-9]+){2,}\b"
)
ORGANISING_TEXT = re.compile(
    r"\b(networks?|associations?|consortium|consortia|platforms?|p[ôo]les?|hubs?|alliances?|chambers?|federations?|triple helix)\b",
    re.IGNORECASE,
)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def fingerprint(text: str) -> str:
    return " ".join(words(text))[:400]


def round_robin(rows: list[dict], quota: int | None, rng: random.Random) -> list[dict]:
    """Seeded: shuffle each source's rows, then take one per source in turn until ``quota``."""
    by_source: dict[str, list[dict]] = {}
    for row in sorted(rows, key=lambda r: (r["source_file"], r["row_key"]["value"])):
        by_source.setdefault(row["source"], []).append(row)
    queues = []
    for source in sorted(by_source):
        rng.shuffle(by_source[source])
        queues.append(by_source[source])
    rng.shuffle(queues)
    taken: list[dict] = []
    while queues and (quota is None or len(taken) < quota):
        for queue in list(queues):
            if quota is not None and len(taken) >= quota:
                break
            taken.append(queue.pop())
            if not queue:
                queues.remove(queue)
    return taken


def assign_split(record_id: str, stratum_ids: list[str]) -> str:
    order = sorted(stratum_ids, key=lambda i: hashlib.sha256(f"{SEED}:{i}".encode()).hexdigest())
    return "dev" if order.index(record_id) < round(DEV_SHARE * len(order)) else "test"


def main(out_dir: Path) -> None:
    rng = random.Random(SEED)
    is_reserved = reserved_filter()
    seen_keys: set[tuple[str, str, str]] = set()
    seen_texts: set[str] = set()
    for record in read_jsonl(ROOT / "corpus/real/records.jsonl"):
        seen_keys.add(("text", record["source_file"], record["row_key"]["value"]))
        seen_texts.add(fingerprint(record["text"]))
    seen_names: set[str] = set()
    for record in read_jsonl(ROOT / "corpus/real/entity_pool.jsonl"):
        seen_keys.add((record["kind"], record["source_file"], record["row_key"]["value"]))
        if record["kind"] == "name":
            seen_names.add(name_key(record["text"]))
        else:
            seen_texts.add(fingerprint(record["text"]))

    strata: dict[str, list[dict]] = {s: [] for s in QUOTAS}
    for row in read_sources():
        text = row["title"] + "\n" + row["text"]
        if len(words(row["text"])) < MIN_WORDS or ("text", row["source_file"], row["row_key"]["value"]) in seen_keys:
            continue
        if fingerprint(text) in seen_texts or fingerprint(row["text"]) in seen_texts or is_reserved(row):
            continue
        seen_keys.add(("text", row["source_file"], row["row_key"]["value"]))  # a row key listed twice is drawn once
        seen_texts.add(fingerprint(text))
        seen_texts.add(fingerprint(row["text"]))
        row = {**row, "kind": "text", "text": text}
        stratum = ("text-cluster-word" if CLUSTER_WORD.search(text) else "text-funder" if FUNDER_NAMES.search(text)
                   else "text-organising-body" if ORGANISING_TEXT.search(text) else "text-random")
        strata[stratum].append(row)
    for row in organisation_names():
        name = clean(row["name"]).strip(" ;")
        if len(name) < 3 or not re.search(r"[^\W\d_]", name) or name_key(name) in seen_names:
            continue
        if ("name", row["source_file"], row["row_key"]["value"]) in seen_keys:
            continue
        seen_keys.add(("name", row["source_file"], row["row_key"]["value"]))
        seen_names.add(name_key(name))
        if ORGANISING_BODY.search(name) and not CLUSTER_TERM.search(name):
            strata["name-organising-body"].append({**row, "kind": "name", "text": name})

    pool: list[dict] = []
    drawn_rows: set[int] = set()
    for stratum, quota in QUOTAS.items():
        rows = strata[stratum]
        if stratum == "text-random":
            # what the cue strata left behind is random-eligible too: a uniform draw over all texts not taken
            rows = rows + [r for s in ("text-funder", "text-organising-body") for r in strata[s] if id(r) not in drawn_rows]
            rows.sort(key=lambda r: (r["source_file"], r["row_key"]["value"]))
            quota = TOTAL - len(pool)
            drawn = rng.sample(rows, min(quota, len(rows)))
        else:
            drawn = round_robin(rows, quota, rng)
        print(f"{stratum}: {len(rows)} eligible, took {len(drawn)}", file=sys.stderr)
        drawn_rows.update(id(r) for r in drawn)
        for row in drawn:
            digest = hashlib.sha256(f"{row['kind']}|{row['source_file']}|{row['row_key']['value']}".encode()).hexdigest()[:12]
            pool.append({"id": f"fresh-{digest}", "kind": row["kind"], "text": row["text"], "source": row["source"],
                         "source_file": row["source_file"], "row_key": row["row_key"], "sampling": stratum,
                         "context": row.get("context", {})})
    for stratum in QUOTAS:
        ids = [r["id"] for r in pool if r["sampling"] == stratum]
        for record in pool:
            if record["sampling"] == stratum:
                record["split"] = assign_split(record["id"], ids)
    assert len({r["id"] for r in pool}) == len(pool)
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "entity_fresh_pool.jsonl").open("w", encoding="utf-8") as handle:
        for record in sorted(pool, key=lambda r: r["id"]):
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(pool)} records, {sum(r['split'] == 'test' for r in pool)} test, "
          f"{sum(r['split'] == 'dev' for r in pool)} dev", file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "corpus" / "real")
