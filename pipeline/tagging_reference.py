"""Write tests/data/tagging_reference.json: what ``csvnlp tag`` (levels, entities, language)
writes for a fixed sample of real rows from ../shared/data, with the shipped model.

tests/test_tagging_reference.py tags the same rows and must get the same cells, so a change
to the inference path (lean tagging, issue 20) that changed any output would be caught. The
rows are named by source file and row number, never copied: the test reads them from the
shared data and skips when it is absent. Rows listed in ../shared/data/reserved.jsonl are
left out. Run after retraining (pipeline/run.py does) or after a change meant to alter what
tag finds (entity rules, the registry), from a checkout whose inference code is the one the
reference should pin:

    python pipeline/tagging_reference.py [--data ../shared/data/external]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

TARGET = ROOT / "tests" / "data" / "tagging_reference.json"
MODEL = ROOT / "models" / "csvnlp-base"
DATA = Path(os.environ.get("CSVNLP_SHARED_DATA", ROOT.parent / "shared" / "data" / "external"))
# (file under DATA, text column, separator, rows taken: every k-th non-empty row up to n)
SOURCES = (
    ("esif_operations_os_data/ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv", "Summary of project (max 100 words)", ",", 150),
    ("esif_operations_os_data/Final LoB S&E ROP 2007-2013.csv", "Project Summary", ",", 60),
    ("esif_operations_os_data/ESF-and-ERDF-Scotland-2014-2020.csv", "Description", ",", 60),
    ("cordis_h2020_textile_subset_aguesses/training_corrected.csv", "objective", ";", 150),
    ("cordis_fp7_sample_bowowzahoya/fp7_test_projects.csv", "objective", ";", 40),
    # short multilingual names: the language detector's slow path and the organisation-name rule
    ("kohesio_beneficiaries_zachz3394/kohesio-data-export.tsv", "Beneficiary Name", "\t", 300),
)
# ...and, of each source, the first rows (CLUSTER_ROWS) holding one of these words, whatever
# their case: most rows name no cluster (the Kohesio names that do are the organisation-name rule's)
CLUSTER_LOOKING = ("cluster", "clúster", "klaster", "klastr", "klaszter", "kluster", "klynge", "pôle", "pole", "grozd")
CLUSTER_ROWS = 20
OUTPUT_CELLS = ("status", "predicted", "p_products_markets", "p_value_chain", "p_cluster_development", "clusters",
                "programmes", "programme_ids", "language", "error")


def reserved_texts(data: Path) -> set[str]:
    path = data.parent / "reserved.jsonl"
    if not path.exists():
        return set()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {str(r.get(k) or "").strip() for r in rows for k in ("title", "description")} - {""}


def sample_rows(data: Path = DATA) -> list[dict[str, str]]:
    """The sample: ``{"key": "file#row", "text"}`` per row, in a fixed order (raises
    FileNotFoundError when a source is missing)."""
    import pandas as pd

    reserved = reserved_texts(data)
    rows = []
    for name, column, sep, wanted in SOURCES:
        frame = pd.read_csv(data / name, sep=sep, dtype=str, encoding="utf-8-sig", encoding_errors="replace", keep_default_na=False)
        texts = [(i, t) for i, t in enumerate(frame[column].tolist()) if t.strip() and t.strip() not in reserved]
        step = max(1, len(texts) // wanted)
        taken = texts[::step][:wanted]
        chosen = {i for i, _ in taken}
        taken += [(i, t) for i, t in texts if i not in chosen and any(w in t.casefold() for w in CLUSTER_LOOKING)][:CLUSTER_ROWS]
        rows += [{"key": f"{name}#{i}", "text": t} for i, t in taken]
    return rows


def tag_rows(rows: list[dict[str, str]], model: Path = MODEL, jobs: int = 1) -> dict[str, dict[str, str]]:
    """Tag the rows with ``csvnlp tag``'s library call; key -> output cells (as strings)."""
    from csvnlp.tagging import TagOptions, tag_table

    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "rows.csv", Path(tmp) / "tagged.csv"
        with source.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["key", "text"])
            writer.writerows([r["key"], r["text"]] for r in rows)
        tag_table(source, out, TagOptions(text_columns=["text"], id_column="key", batch_size=128, jobs=jobs), model)
        with out.open(encoding="utf-8", newline="") as handle:
            return {row["id"]: {c: row[c] for c in OUTPUT_CELLS} for row in csv.DictReader(handle)}


def model_digest(model: Path = MODEL) -> str:
    """sha256 over the model's files (names and bytes): which model the reference was made with.

    The model card (README.md) is left out: `csvnlp evaluate` rewrites it after this stage, and
    tagging never reads it.
    """
    digest = hashlib.sha256()
    card = model / "README.md"
    for path in sorted(p for p in model.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p != card):
        digest.update(path.relative_to(model).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    rows = sample_rows(args.data)
    tagged = tag_rows(rows)
    reference = {
        "note": "csvnlp tag output cells for a fixed sample of real rows (pipeline/tagging_reference.py); "
                "tests/test_tagging_reference.py must reproduce them exactly with the same model.",
        "model_sha256": model_digest(),
        "rows": [{"key": r["key"], **tagged[r["key"]]} for r in rows],
    }
    TARGET.write_text(json.dumps(reference, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {TARGET}: {len(rows)} rows")


if __name__ == "__main__":
    main()
