"""Write ``corpus/gazetteers/programmes.jsonl``: funding-programme names from the call topics.

The Funding & Tenders call topics in ``../shared/data`` name their programme in a structured
field (``programme``: "Horizon Europe", "Connecting Europe Facility", "EU External Action -
Prospect (RELEX-PROSPECT)", ...). Each distinct value becomes a PROGRAMME entry, and a code in
brackets a second entry, each with the rows it came from. Rows of either frozen test split
and reserved rows are skipped, so the gazetteer is built from training-side rows only.
"EU Agencies" is left out (agencies are funders' administrations, not programmes: guideline,
section 6).

The cluster gazetteer needs no script: the CLUSTER spans of the training records (the report's
cases, the real records' training split, the names-only training records) are the learned
phrases of the model, each saved with its source in ``entity_patterns.jsonl``.

Run: ``python pipeline/build_gazetteers.py`` (needs ``../shared/data``).
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sample_real_records import ROOT, read_sources, reserved_filter  # noqa: E402

NOT_PROGRAMMES = {"EU Agencies", "Justice"}
OUT = ROOT / "corpus" / "gazetteers" / "programmes.jsonl"


def test_keys() -> set[tuple[str, str]]:
    keys = set()
    for path in (ROOT / "corpus/external_test/real-test.jsonl", ROOT / "corpus/entity_test/entity-test.jsonl"):
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


if __name__ == "__main__":
    main()
