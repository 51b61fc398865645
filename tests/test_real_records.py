"""The annotated real funding records: provenance, the frozen split, and the reserved rows."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from csvnlp.corpus import read_records, validate_records
from csvnlp.levels import LEVEL_KEYS
from csvnlp.real_records import TEST_FILE, TRAIN_FILE, build_real_splits, read_real_records

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
RESERVED_CHECK = ROOT.parent / "shared" / "tools" / "reserved-check"
PROVENANCE = ("source", "source_file", "row_key", "sampling", "guideline_version", "annotator", "confidence", "why", "split")


@pytest.fixture(scope="module")
def records():
    found = read_real_records(CORPUS)
    assert found, "corpus/real/records.jsonl is missing or empty"
    return found


def test_real_records_carry_provenance_and_labels(records):
    for record in records:
        missing = [key for key in PROVENANCE if not record.get(key)]
        assert not missing, f"{record['id']} lacks {missing}"
        assert set(record["levels"]) <= set(LEVEL_KEYS)
        assert record["confidence"] in ("clear", "borderline")
        assert record["row_key"].get("column") and record["row_key"].get("value") is not None
        for span in record["entities"]:
            assert record["text"][span["start"]:span["end"]] == span["text"]


def test_real_records_meet_the_annotation_targets(records):
    """Issue 9: >= 800 records, >= 35% none, >= 100 value_chain, >= 150 cluster_development,
    every source present, a frozen test split of >= 250."""
    counts = Counter(key for r in records for key in r["levels"])
    none = sum(not r["levels"] for r in records)
    assert len(records) >= 800
    assert none / len(records) >= 0.35
    assert counts["value_chain"] >= 100
    assert counts["cluster_development"] >= 150
    assert sum(r["split"] == "test" for r in records) >= 250
    sources = {r["source"] for r in records}
    assert {"cordis_h2020", "cordis_fp7", "cordis_horizon_europe", "cordis_water_sme", "cordis_h2020_xml",
            "esif_england", "esif_scotland", "esif_northern_ireland", "esif_malta", "esif_ireland",
            "call_topics"} <= sources


def test_real_records_validate_as_a_corpus(tmp_path, records):
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    parsed, problems = read_records(path)
    assert not problems + validate_records(parsed)


def test_committed_split_files_match_the_records(tmp_path, records):
    """corpus/extra/real-train.jsonl and corpus/external_test/real-test.jsonl are exactly what
    `corpus build` derives from records.jsonl, and no test record is in any training file."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "records.jsonl").write_bytes((CORPUS / "real" / "records.jsonl").read_bytes())
    counts = build_real_splits(tmp_path)
    assert counts == {"train": sum(r["split"] == "train" for r in records), "test": sum(r["split"] == "test" for r in records)}
    for relative in (TRAIN_FILE, TEST_FILE):
        assert (tmp_path / relative).read_bytes() == (CORPUS / relative).read_bytes(), f"{relative} is stale: run csvnlp corpus build"
    test_ids = {r["id"] for r in records if r["split"] == "test"}
    test_texts = {r["text"] for r in records if r["split"] == "test"}
    for path in sorted((CORPUS / "extra").glob("*.jsonl")) + [CORPUS / "cases.jsonl"]:
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            assert record["id"] not in test_ids and record["text"] not in test_texts, f"{path} holds test record {record['id']}"


@pytest.mark.skipif(not RESERVED_CHECK.exists(), reason="../shared/tools/reserved-check is not beside this checkout")
def test_corpus_holds_no_reserved_row():
    done = subprocess.run([sys.executable, str(RESERVED_CHECK), "corpus"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("round_name", ["transfer", "value_chain"])
def test_issue18_rounds_are_training_records_and_touch_no_test_pool(records, round_name):
    """Issue 18: each drawn record of a round is in records.jsonl as a training record under
    real-3 (except one whose description repeats an annotated row under another key), and no
    round shares a row with the frozen split or issue 17's fresh entity test pools."""
    pool = [json.loads(line) for line in (CORPUS / "real" / round_name / "pool.jsonl").read_text(encoding="utf-8").splitlines()]
    by_id = {r["id"]: r for r in records}
    missing = {r["id"] for r in pool if r["id"] not in by_id}
    # left out by pipeline/assemble_transfer_records.py, each for a repeated text (it prints why)
    assert missing <= {"esif_scotland-42", "esif_malta-ERDF-136-2", "call_topics-HORIZON-EURATOM-2026-01-06"}, missing
    for row in pool:
        if row["id"] in by_id:
            record = by_id[row["id"]]
            assert record["split"] == "train" and record["guideline_version"] == "real-3"
            assert (record["source_file"], record["row_key"]["value"]) == (row["source_file"], row["row_key"]["value"])
    keys = {(r["source_file"], r["row_key"]["value"]) for r in pool}
    test_keys = {(r["source_file"], r["row_key"]["value"]) for r in records if r["split"] == "test"}
    assert not keys & test_keys
    for fresh in ("entity_fresh_pool.jsonl", "entity_fresh2_pool.jsonl"):
        fresh_texts = [json.loads(line) for line in (CORPUS / "real" / fresh).read_text(encoding="utf-8").splitlines() if line.strip()]
        fresh_keys = {(r["source_file"], str(r["row_key"]["value"])) for r in fresh_texts if r.get("kind", "text") == "text"}
        assert not {(f, str(v)) for f, v in keys} & fresh_keys, fresh


def test_no_real_record_repeats_a_fresh_entity_test_text(records):
    """Same text under another row key (a repeated ERDF operation, a call topic republished under
    a second id) counts as the same record: none of the annotated real records may repeat one."""
    from csvnlp.corpus import text_fingerprint

    fresh = {text_fingerprint(json.loads(line)["text"]) for name in ("entity_fresh_pool.jsonl", "entity_fresh2_pool.jsonl")
             for line in (CORPUS / "real" / name).read_text(encoding="utf-8").splitlines() if line.strip()}
    assert not [r["id"] for r in records if text_fingerprint(r["text"]) in fresh]
