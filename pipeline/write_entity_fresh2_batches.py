"""Write the annotation batches of the second fresh entity split (issue 17): six batches of 80
and a seeded blind second pass of 100, text and provenance only (no stratum, no prediction).

Run: ``python pipeline/write_entity_fresh2_batches.py OUT_DIR`` (the lead's annotation folder,
``/work/annotation/issue-17-2``).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from write_entity_fresh_batches import BATCH_SIZE, BLIND_SIZE, annotator_view

ROOT = Path(__file__).resolve().parent.parent
BATCH_SEED, BLIND_SEED = 20261215, 20261216


def main(out_dir: Path) -> None:
    pool = sorted((json.loads(line) for line in (ROOT / "corpus/real/entity_fresh2_pool.jsonl").open(encoding="utf-8")),
                  key=lambda r: r["id"])
    order = list(pool)
    random.Random(BATCH_SEED).shuffle(order)
    out_dir.mkdir(parents=True, exist_ok=True)
    for number, start in enumerate(range(0, len(order), BATCH_SIZE), start=1):
        (out_dir / f"batch-{number:02d}.jsonl").write_text("".join(map(annotator_view, order[start:start + BATCH_SIZE])), encoding="utf-8")
    blind = random.Random(BLIND_SEED).sample(pool, BLIND_SIZE)
    (out_dir / "blind-01.jsonl").write_text("".join(map(annotator_view, blind)), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
