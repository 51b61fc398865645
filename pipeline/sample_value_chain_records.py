"""Draw a pool of real records of the kinds that carry value_chain outside Ireland (issue 18, round 2).

Leave-one-source-out (``benchmarks/results/leave_source_out.md``) shows value_chain carrying
over worst: of the 92 clear value_chain training records, 69 are Irish ERDF energy retrofits, so
with Ireland held out almost nothing teaches the level, and held-out Irish records are read as
products. This draw adds about 240 rows of the kinds where a firm or a public body changes its
own or its chain's processes (resource and energy efficiency of operations, circular economy,
eco-innovative production and processing, business competitiveness programmes, waste), from
every family except the one that already has them.

As in ``pipeline/sample_transfer_records.py``, rows are picked by the **sources' own category
fields** (a CORDIS topic or call code, an ERDF/ESF theme), so no word list of ours decides them,
plus keyword-free random rows of the families with no category field (England, Northern
Ireland, FP7, Horizon Europe). Each row records its stratum in ``sampling``.

Excluded before drawing: rows of ``../shared/data/reserved.jsonl`` (by key and 5-gram overlap),
every row already in ``corpus/real/records.jsonl`` (the issue-18 transfer records included),
and every row of issue 17's two fresh entity pools (by source file and row key, and by text).

Writes OUT_DIR/pool.jsonl (text and provenance, no labels) and OUT_DIR/blind.jsonl (ids of a
seeded 40 for the blind second pass).
Usage: python pipeline/sample_value_chain_records.py corpus/real/value_chain [--shared PATH]
(committed output: corpus/real/value_chain/, drawn once before any annotation)
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sample_real_records as base  # noqa: E402
from sample_transfer_records import fresh_pool_filter  # noqa: E402

ROOT = base.ROOT
SEED = 20261205
BLIND = 40

# (source, context field, case-insensitive substrings of that field, quota, kind)
CATEGORY_SPECS = [
    ("cordis_water_sme", "topic", ["sfs-08"], 30, "eco-innovative-food-processing"),
    ("cordis_water_sme", "topic", ["sie-01"], 8, "low-carbon-energy-smes"),
    ("cordis_water_sme", "topic", ["it-1-"], 11, "transport-smes"),
    ("cordis_water_fp7", "call", ["eco-inn"], 3, "eco-innovation"),
    ("cordis_water_fp7", "topic", ["env.2012.6.3", "env.2012.6.2"], 4, "resource-efficient-technologies"),
    ("cordis_h2020", "topic", ["nmp-", "spire", "fof", "ee-", "circ", "waste", "sc5-"], 10, "industrial-processes"),
    ("esif_scotland", "theme", ["circular economy", "business competitiveness", "low carbon", "innovation"], 2, "competitiveness-low-carbon"),
    ("esif_malta", "theme", ["opipa4 energy", "aid schemes to the manufacturing", "supporting the private sector",
                             "solid waste", "product development", "enterprise infrastructure"], 6, "energy-enterprise-waste"),
    ("call_topics", "callIdentifier", ["horizon-cl4", "horizon-cl5", "life-2", "horizon-cl6", "smp-cosme", "smp-"], 36, "industry-energy-circular-calls"),
    ("esif_ireland", "theme", ["chp & bioheat"], 10, "energy-own-premises"),
]
# keyword-free uniform draws: every row left of the small families, a share of the larger ones
RANDOM_SPECS = [
    ("esif_england", 32), ("esif_northern_ireland", 5), ("esif_scotland", 4), ("cordis_fp7", 2), ("cordis_water_fp7", 8),
    ("esif_malta", 20), ("cordis_water_sme", 20), ("cordis_h2020", 20), ("call_topics", 15),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    base.SHARED, base.EXTERNAL = args.shared, args.shared / "external"
    pools = [ROOT / "corpus" / "real" / name for name in ("entity_fresh_pool.jsonl", "entity_fresh2_pool.jsonl")]
    filters = []
    for pool in pools:
        if not pool.exists():
            raise SystemExit(f"{pool} is missing: issue 17's fresh entity pools must be excluded from this draw")
        filters.append(fresh_pool_filter(pool)[0])
    existing = base.annotated_records()
    used_ids = {r["id"] for r in existing}
    by_source, dropped = base.unseen_rows(existing, {"fresh_pools": lambda row: any(in_pool(row) for in_pool in filters)})
    print(f"excluded: {dropped}; left per source: {dict((k, len(v)) for k, v in sorted(by_source.items()))}", file=sys.stderr)
    taken: set[int] = set()
    chosen = base.draw_supplement(random.Random(SEED), by_source, taken,
                                  [(s, q, base.field_has(f, n), f"category:{kind}", f"{s} {kind} by {f} {n}") for s, f, n, q, kind in CATEGORY_SPECS])
    chosen += base.draw_supplement(random.Random(SEED + 1), by_source, taken,
                                   [(s, q, base.field_has(None, []), "random", f"{s} random") for s, q in RANDOM_SPECS])
    random.Random(SEED + 2).shuffle(chosen)
    base.assign_ids(chosen, used_ids)
    base.write_pool(args.out, chosen, sorted(random.Random(SEED + 3).sample([r["id"] for r in chosen], BLIND)))


if __name__ == "__main__":
    main()
