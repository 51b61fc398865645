"""Build a CORDIS-like benchmark table from real texts in ../shared/data/external.

ERDF/ESF operation summaries and CORDIS objectives, cycled to the requested number of rows:
    python benchmarks/make_input.py 100000 benchmarks/work/rows-100000.csv
The table is written outside git (benchmarks/work/ is ignored); the data is never copied in.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

import pandas as pd

DATA = Path(os.environ.get("CSVNLP_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "external"))


def real_texts() -> list[str]:
    texts: list[str] = []
    esif = DATA / "esif_operations_os_data"
    sources = [
        (esif / "ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv", "Summary of project (max 100 words)", ","),
        (esif / "Final LoB S&E ROP 2007-2013.csv", "Project Summary", ","),
        (esif / "ESF-and-ERDF-Scotland-2014-2020.csv", "Description", ","),
        (DATA / "cordis_h2020_textile_subset_aguesses" / "training_corrected.csv", "objective", ";"),
        (DATA / "cordis_fp7_sample_bowowzahoya" / "fp7_test_projects.csv", "objective", ";"),
    ]
    for path, column, sep in sources:
        if not path.exists():
            continue
        frame = pd.read_csv(path, sep=sep, dtype=str, encoding="utf-8-sig", encoding_errors="replace")
        if column not in frame.columns:
            column = next(c for c in frame.columns if column.split()[0].lower() in c.lower())
        texts += [t for t in frame[column].dropna().tolist() if len(t.split()) >= 5]
    if not texts:
        sys.exit(f"no shared data under {DATA}")
    return texts


def main() -> None:
    rows, out = int(sys.argv[1]), Path(sys.argv[2])
    texts = real_texts()
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["id", "text"])
        for i in range(rows):
            writer.writerow([i, texts[i % len(texts)]])
    print(f"{out}: {rows} rows from {len(texts)} distinct real texts")


if __name__ == "__main__":
    main()
