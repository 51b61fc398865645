"""Write the annotation batches of the fresh entity split (issue 17): six batches of 80 and a
seeded blind second pass of 100, text and provenance only (no split, no prediction).

Run: ``python pipeline/write_entity_fresh_batches.py OUT_DIR`` (the lead's annotation folder).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH_SEED, BLIND_SEED, BATCH_SIZE, BLIND_SIZE = 20261205, 20261206, 80, 100


def annotator_view(record: dict) -> str:
    return json.dumps({k: record[k] for k in ("id", "kind", "source", "text")}, ensure_ascii=False) + "\n"


def main(out_dir: Path) -> None:
    pool = sorted((json.loads(line) for line in (ROOT / "corpus/real/entity_fresh_pool.jsonl").open(encoding="utf-8")),
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
