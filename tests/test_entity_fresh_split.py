"""The fresh entity split (issue 17): drawn before any change, never trained or tuned on."""

from __future__ import annotations

import json

from conftest import ROOT


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


POOL = ROOT / "corpus" / "real" / "entity_fresh_pool.jsonl"
RECORDS = ROOT / "corpus" / "real" / "entity_fresh_records.jsonl"


def test_fresh_split_is_large_enough_and_its_split_was_fixed_when_drawn():
    pool = {r["id"]: r for r in read_jsonl(POOL)}
    records = read_jsonl(RECORDS)
    assert sum(r["split"] == "test" for r in pool.values()) >= 400
    assert {r["id"] for r in records} == set(pool)
    for record in records:
        assert record["split"] == pool[record["id"]]["split"] and record["text"] == pool[record["id"]]["text"]
        for entity in record["entities"]:
            assert record["text"][entity["start"]:entity["end"]] == entity["text"]
            assert entity["label"] in ("CLUSTER", "PROGRAMME")


def test_fresh_records_were_never_annotated_before_and_are_in_no_training_file():
    fresh_keys = {(r["source_file"], r["row_key"]["value"]) for r in read_jsonl(POOL)}
    fresh_texts = {r["text"] for r in read_jsonl(POOL)}
    older = read_jsonl(ROOT / "corpus" / "real" / "records.jsonl") + read_jsonl(ROOT / "corpus" / "real" / "entity_pool.jsonl")
    assert not {(r["source_file"], r["row_key"]["value"]) for r in older if r.get("kind", "text") == "text"} & {
        (r["source_file"], r["row_key"]["value"]) for r in read_jsonl(POOL) if r["kind"] == "text"}
    training = [json.loads(line) for path in (ROOT / "corpus").glob("**/*.jsonl") if "fresh" not in path.name
                and "annotations" not in path.parts for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert not fresh_texts & {r.get("text") for r in training if isinstance(r, dict)}
    assert fresh_keys  # the pool names its rows


def test_every_gold_programme_name_has_a_reviewed_gold_id():
    gold_ids = {r["name"]: r for r in read_jsonl(ROOT / "corpus" / "real" / "annotations" / "entities-fresh" / "gold_ids.jsonl")}
    for record in read_jsonl(RECORDS):
        for entity in record["entities"]:
            if entity["label"] == "PROGRAMME":
                assert entity["text"] in gold_ids and entity.get("id") == gold_ids[entity["text"]]["id"]
