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


# ---------------------------------------------------------------------------- the second fresh split

POOL2 = ROOT / "corpus" / "real" / "entity_fresh2_pool.jsonl"
ANNOTATED = ["real/records.jsonl", "real/transfer/pool.jsonl", "real/entity_pool.jsonl", "real/entity_fresh_pool.jsonl",
             "external_test/real-test.jsonl", "extra/real-train.jsonl", "entity_test/entity-test.jsonl", "entities/train.jsonl"]


def test_second_fresh_split_is_all_test_and_shares_no_row_or_text_with_any_annotated_file():
    pool = read_jsonl(POOL2)
    assert len(pool) >= 400 and len({r["id"] for r in pool}) == len(pool) and {r["split"] for r in pool} == {"test"}
    keys = {(r["kind"], r["source_file"], r["row_key"]["value"]) for r in pool}
    texts = {r["text"] for r in pool if r["kind"] == "text"}
    names = {" ".join(r["text"].casefold().split()) for r in pool if r["kind"] == "name"}
    for path in ANNOTATED:
        for record in read_jsonl(ROOT / "corpus" / path):
            kind = record.get("kind", "text")
            assert (kind, record["source_file"], record["row_key"]["value"]) not in keys, path
            if kind == "text":
                assert record["text"] not in texts and record.get("title", "") + "\n" + record["text"] not in texts, path
            else:
                assert " ".join(record["text"].casefold().split()) not in names, path
    # every text that may name a cluster was taken (the stratum has no quota)
    assert sum(r["sampling"] in ("text-cluster-candidate", "name-cluster-candidate") for r in pool) >= 90


def test_records_of_the_second_split_that_development_read_are_listed():
    seen = json.loads((ROOT / "corpus/real/annotations/entities-fresh2/seen_in_development.json").read_text(encoding="utf-8"))["records"]
    pool = {r["id"]: r for r in read_jsonl(POOL2)}
    assert seen and all(row["id"] in pool and pool[row["id"]]["row_key"] == row["row_key"] for row in seen)


def test_evaluate_names_the_entity_split_it_scores_and_marks_a_spent_one(tmp_path):
    from csvnlp.evaluation.entity_evaluation import EntityEvaluation
    from csvnlp.evaluation.report import view_blocks
    from csvnlp.evaluation.test_sets import ENTITY_SPLITS, entity_split_info, read_entity_split

    current = entity_split_info(ROOT / "corpus" / "real" / "entity_fresh2_records.jsonl")
    assert not current.spent and "second fresh" in current.name
    assert entity_split_info(ROOT / "corpus" / "real" / "entity_fresh_records.jsonl").spent
    old = entity_split_info(ROOT / "corpus" / "entity_test")
    assert old.spent and old.with_level_records
    assert not entity_split_info(tmp_path / "mine.jsonl").spent
    assert sum(not info.spent for info in ENTITY_SPLITS.values()) == 1  # one current split at a time
    # a split not annotated yet gives no records; a split's non-test records are not scored
    assert read_entity_split(tmp_path / "missing.jsonl")[1] == []
    path = tmp_path / "split.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": "ERDF", "entities": [], "split": s}) + "\n"
                            for i, s in (("a", "test"), ("b", "dev"), ("c", "seen-in-development"))), encoding="utf-8")
    assert [r["id"] for r in read_entity_split(path)[1]] == ["a"]

    def rendered(info):
        scores = {label: {"precision": 1.0, "recall": 1.0, "f1": 1.0, "gold": 1, "found": 1} for label in ("CLUSTER", "PROGRAMME")}
        errors = [{"text": "Horizon Europe", "label": "PROGRAMME", "count": 2}]
        evaluation = EntityEvaluation("rules", 3, scores, scores, {"exact": scores, "partial": scores}, {}, errors, errors,
                                      split=info.name, spent=info.spent, split_note=info.note)
        return " ".join(str(part) for block in view_blocks(evaluation) for part in block[1:])

    assert "current test split" in rendered(current) and "SPENT" not in rendered(current)
    assert "SPENT" in rendered(old) and "not a test" in rendered(old)
    # a current test split's errors are never printed; a spent split's are, for error analysis
    assert "Horizon Europe" not in rendered(current) and "not listed" in rendered(current)
    assert "Most frequent false hits: 'Horizon Europe'" in rendered(old)


def test_evaluate_entities_keeps_a_current_test_splits_errors_to_itself():
    from types import SimpleNamespace

    from csvnlp.evaluation.entity_evaluation import evaluate_entities
    from csvnlp.evaluation.test_sets import entity_split_info
    from csvnlp.persistence import load_bundle

    bundle = load_bundle(ROOT / "models" / "csvnlp-base")
    # a made-up record whose gold ("Widget") the extractor does not find as such: misses and false hits
    records = [{"id": "x", "source": "test", "text": "Funded by Horizon 2020 and the Widget Scheme.",
                "entities": [{"start": 31, "end": 37, "label": "PROGRAMME"}]}]  # "Widget"
    spent = evaluate_entities(bundle, records, SimpleNamespace(name="a spent split", spent=True, note=""))
    assert spent.frequent_false_hits and spent.frequent_misses
    current = evaluate_entities(bundle, records, entity_split_info(ROOT / "corpus" / "real" / "entity_fresh2_records.jsonl"))
    assert current.frequent_false_hits == [] and current.frequent_misses == []
    assert current.exact == spent.exact  # the scores themselves are the same


def test_second_fresh_split_gold_matches_its_pool_and_carries_reviewed_ids():
    pool = {r["id"]: r for r in read_jsonl(POOL2)}
    records = read_jsonl(ROOT / "corpus" / "real" / "entity_fresh2_records.jsonl")
    seen = {row["id"] for row in json.loads((ROOT / "corpus/real/annotations/entities-fresh2/seen_in_development.json").read_text(encoding="utf-8"))["records"]}
    gold_ids = {r["name"]: r["id"] for r in read_jsonl(ROOT / "corpus/real/annotations/entities-fresh2/gold_ids.jsonl")}
    assert {r["id"] for r in records} == set(pool)
    assert sum(r["split"] == "test" for r in records) >= 400
    for record in records:
        assert record["text"] == pool[record["id"]]["text"]
        assert record["split"] == ("seen-in-development" if record["id"] in seen else "test")
        for entity in record["entities"]:
            assert record["text"][entity["start"]:entity["end"]] == entity["text"] and entity["label"] in ("CLUSTER", "PROGRAMME")
            if entity["label"] == "PROGRAMME":
                assert entity["text"] in gold_ids and entity["id"] == gold_ids[entity["text"]]
