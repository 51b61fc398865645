"""Rebuild the example tagged database that `csvnlp serve` opens in the README.

A seeded sample of 240 of the 394 ERDF/ESF operations in England 2014-2020 (the public list of
operations, via os-data/eu-structural-funds; see SOURCE.md), rows kept for independent checks
(../shared/data/reserved.jsonl) left out, then tagged with the shipped model:

    python examples/esif-england/make_example.py            # from the repository root
    python examples/esif-england/make_example.py --shared-data /work/shared/data

Writes tagged.csv: the `csvnlp tag` output (the summary classified) with the columns kept;
its `id` is `source_row`, the 0-based data row of the source file, and `Start year` is read
from `Start date` ("01. Nov 15" -> 2015). The sampled input goes to a temporary file only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOURCE_FILE = "esif_operations_os_data/ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv"
ROWS = 240
SEED = 21
TEXT = "Summary of project (max 100 words)"
KEEP = [
    "Name of Project", "Recipient of funds", "Type of fund", TEXT, "Start year",
    "ERDF/ESF investment £m", "Local Enterprise Partnership area",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    source = args.shared_data / "external" / SOURCE_FILE
    reserved = set()
    for line in (args.shared_data / "reserved.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["source_file"] == SOURCE_FILE:
            reserved.add(entry["row_key"]["value"])  # keyed by "Name of Project"
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    frame.insert(0, "source_row", [str(i) for i in range(len(frame))])
    frame = frame[~frame["Name of Project"].isin(reserved)]
    # "01. Nov 15" -> "2015": the year a programme officer groups by
    frame["Start year"] = "20" + frame["Start date"].str.strip().str[-2:]
    sample = frame.sample(n=ROWS, random_state=SEED).sort_values("source_row", key=lambda s: s.astype(int))
    with tempfile.TemporaryDirectory() as tmp:
        operations = Path(tmp) / "operations.csv"
        sample.to_csv(operations, index=False)
        command = [
            sys.executable, "-m", "csvnlp.cli", "tag", str(operations), "--out", str(HERE / "tagged.csv"),
            "-t", TEXT, "--id-column", "source_row", "--force", "--quiet",
        ]
        for column in KEEP:
            command += ["-k", column]
        subprocess.run(command, check=True, cwd=ROOT)
    (HERE / "tagged.csv.errors.jsonl").unlink(missing_ok=True)  # empty: no row failed
    print(f"wrote {HERE / 'tagged.csv'} ({len(sample)} rows sampled, {len(reserved)} reserved rows left out first)")


if __name__ == "__main__":
    main()
