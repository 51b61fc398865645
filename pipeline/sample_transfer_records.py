"""Draw the issue-18 pool of real records: kinds of project the annotated corpus lacks.

Issue 18 found that the level model, trained on the seven source families, calls defence and
space hardware ``products_markets`` and gates education and health products of firms, medical
devices and clean-energy products as ``uncertain``. The corpus holds few such records, so this
draw adds about 330 rows of the kinds the issue names: security, defence-related, space and
aeronautics research, education and health products of firms, energy products, and public
services.

Rows are picked by the **sources' own category fields** (a call's programme or identifier, a
CORDIS topic code, an ERDF theme), as the ``category`` stratum of
``pipeline/sample_real_records.py`` did, so no word list of ours decides them; one stratum
(Irish micro-enterprise grants, whose theme field says nothing of the kind) is drawn by the
kind words the issue itself names (``KIND_WORDS``), and a keyword-free random draw per source
keeps the set honest. Each row records its stratum in ``sampling`` (``category:<kind>``,
``kind-words``, ``random``).

Excluded before drawing: rows of ``../shared/data/reserved.jsonl`` (by key and 5-gram overlap,
as before), every row already in ``corpus/real/records.jsonl``, and every row of issue 17's
fresh entity test pool (``corpus/real/entity_fresh_pool.jsonl``, by source file and row key,
and by text), so the fresh entity split stays unseen.

Writes OUT_DIR/pool.jsonl (text and provenance, no labels) and OUT_DIR/blind.jsonl (the ids of a seeded 60 for the blind second pass).
Usage: python pipeline/sample_transfer_records.py corpus/real/transfer [--shared PATH]
(committed output: corpus/real/transfer/, drawn once before any annotation)
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sample_real_records as base  # noqa: E402

ROOT = base.ROOT
SEED = 20261204
BLIND = 60
# Kinds of project issue 18 names as missing ("security, defence-related, space and
# aeronautics research, education and health products of firms, energy products, public
# services"): its own words, used only to pick Irish micro-enterprise rows, never as a feature.
KIND_WORDS = ("security", "defence", "space", "aeronautic", "aircraft", "education", "school", "health",
              "medical", "energy", "public service")

# (source, context field, case-insensitive substrings of that field, quota, kind)
CATEGORY_SPECS = [
    ("call_topics", "programme", ["european defence fund"], 28, "defence"),
    ("call_topics", "callIdentifier", ["horizon-cl3"], 24, "security"),
    ("call_topics", "programme", ["isf"], 3, "security"),
    ("call_topics", "row", ["-space-"], 8, "space"),
    ("call_topics", "callIdentifier", ["horizon-hlth", "-ihi-", "edctp3-2026-03"], 9, "health"),
    ("call_topics", "callIdentifier", ["horizon-cl5", "renewfm", "euratom"], 10, "energy"),
    ("call_topics", "callIdentifier", ["cerv", "digital-2026", "just-2027", "esf-2026"], 8, "public-services"),
    ("call_topics", "callIdentifier", ["erasmus"], 4, "education"),
    ("cordis_h2020", "topic", ["compet", "space", "eo-"], 5, "space"),
    ("cordis_h2020", "topic", ["jti-cs2", "mg-1", "aero"], 5, "aeronautics"),
    ("cordis_h2020", "topic", ["sec-", "ds-"], 4, "security"),
    ("cordis_h2020", "topic", ["phc", "sc1", "imi2"], 6, "health"),
    ("cordis_h2020", "topic", ["lce", "ee-"], 6, "energy"),
    ("cordis_h2020", "topic", ["smeinst"], 14, "firm-products"),
    ("cordis_horizon_europe", "topic", [""], 15, "firm-products"),
    ("cordis_water_fp7", "call", ["energy"], 8, "energy"),
    ("cordis_water_sme", "topic", ["sie-"], 14, "energy"),
    ("esif_ireland", "theme", ["commercialisation fund"], 32, "firm-products"),
    ("esif_ireland", "theme", ["energy for business", "renewable energy research"], 14, "energy"),
    ("esif_ireland", "theme", ["prtli", "research equipment"], 8, "research-infrastructure"),
    ("esif_malta", "theme", ["education, social and health", "e-accessibility"], 14, "public-services"),
    ("esif_malta", "theme", ["public sector reform", "lifelong learning for the public sector"], 12, "public-services"),
    ("esif_malta", "theme", ["investing in the education system"], 6, "education"),
]
# keyword-free uniform draws (field None)
RANDOM_SPECS = [
    ("cordis_fp7", 10), ("cordis_water_sme", 10), ("cordis_h2020_xml", 5), ("esif_ireland", 15),
    ("esif_england", 20), ("esif_scotland", 10), ("esif_northern_ireland", 8),
]
KIND_WORD_SPECS = [("esif_ireland", "theme", ["microenterprise"], 16)]


def fresh_pool_filter(path: Path):
    """Rows of issue 17's fresh entity test pool, by (source file, row key) and by text."""
    keys, texts = set(), set()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                key = row.get("row_key") or {}
                keys.add((row.get("source_file"), str(key.get("value") if isinstance(key, dict) else key)))
                if row.get("text"):
                    texts.add(base.fingerprint(row["text"]))

    def in_pool(row: dict) -> bool:
        return (row["source_file"], row["row_key"]["value"]) in keys or base.fingerprint(row["text"]) in texts
    return in_pool, len(keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--fresh-pool", type=Path, default=ROOT / "corpus" / "real" / "entity_fresh_pool.jsonl")
    args = parser.parse_args()
    base.SHARED, base.EXTERNAL = args.shared, args.shared / "external"
    if not args.fresh_pool.exists():
        raise SystemExit(f"{args.fresh_pool} is missing: issue 17's fresh entity pool must be excluded from this draw")
    in_fresh_pool, fresh_keys = fresh_pool_filter(args.fresh_pool)
    existing = base.annotated_records()
    used_ids = {r["id"] for r in existing}
    by_source, dropped = base.unseen_rows(existing, {"fresh_pool": in_fresh_pool})
    for row in (row for rows in by_source.values() for row in rows):
        row["context"]["row"] = row["row_key"]["value"]  # the call topics' "-space-" stratum reads the row key
    print(f"excluded: {dropped} (fresh pool keys: {fresh_keys})", file=sys.stderr)
    taken: set[int] = set()

    def kind_words(field, needles):
        pattern = re.compile(r"\b(?:" + "|".join(KIND_WORDS) + r")", re.IGNORECASE)
        return lambda r: base.field_has(field, needles)(r) and bool(pattern.search(r["title"] + " " + r["text"]))

    chosen = base.draw_supplement(random.Random(SEED), by_source, taken,
                                  [(s, q, base.field_has(f, n), f"category:{kind}", f"{s} {kind} by {f} {n}") for s, f, n, q, kind in CATEGORY_SPECS])
    chosen += base.draw_supplement(random.Random(SEED + 1), by_source, taken,
                                   [(s, q, kind_words(f, n), "kind-words", f"{s} kind words in {n}") for s, f, n, q in KIND_WORD_SPECS])
    chosen += base.draw_supplement(random.Random(SEED + 2), by_source, taken,
                                   [(s, q, base.field_has(None, []), "random", f"{s} random") for s, q in RANDOM_SPECS])
    random.Random(SEED + 3).shuffle(chosen)
    for row in chosen:
        row["context"].pop("row", None)
    base.assign_ids(chosen, used_ids)
    base.write_pool(args.out, chosen, sorted(random.Random(SEED + 4).sample([r["id"] for r in chosen], BLIND)))


if __name__ == "__main__":
    main()
