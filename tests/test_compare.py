"""`csvnlp compare A B`: both trained models scored on the same labelled test set."""

from __future__ import annotations

import json
import shutil

from conftest import CORPUS_DIR, SHIPPED_MODEL


def _test_set(tmp_path, records):
    path = tmp_path / "test.jsonl"
    path.write_text("".join(json.dumps({"id": r["id"], "text": r["text"], "levels": r["levels"]}) + "\n" for r in records), encoding="utf-8")
    return path


def test_compare_scores_the_trained_weights_on_a_test_set(cli, tmp_path, records):
    other = tmp_path / "other"
    shutil.copytree(SHIPPED_MODEL, other)
    test_set = _test_set(tmp_path, records)
    result = cli("compare", str(SHIPPED_MODEL), str(other), "--test-set", str(test_set), "--json")
    assert result.exit_code == 0, result.stderr
    comparison = json.loads(result.stdout)
    assert comparison["cases"] == 27
    paired = comparison["paired"]
    assert paired["macro_f1"]["a"] == paired["macro_f1"]["b"] > 0.5  # the same weights score the same
    assert paired["macro_f1"]["delta"] == {"value": 0.0, "low": 0.0, "high": 0.0}
    assert comparison["verdict"] == "no difference beyond chance on these cases"
    human = cli("compare", str(SHIPPED_MODEL), str(other), "--test-set", str(test_set))
    assert "B-A +0.000" in human.stdout and "verdict (macro-F1): no difference" in human.stdout


def test_compare_tells_apart_a_model_trained_on_fewer_cases(cli, tmp_path, records, report_text):
    """A candidate trained on 2 cases per level scores lower on the cases A was trained on: the trained weights matter."""
    from csvnlp.persistence import save_bundle
    from csvnlp.report_source import level_descriptions
    from csvnlp.training import train_bundle

    grid = [{"C": 3.0, "lexicon_weight": 10.0, "ngram_max": 1}]
    weak = {r["id"]: r for key in ("products_markets", "value_chain", "cluster_development")
            for r in [r for r in records if key in r["levels"]][:2]}
    weak = list(weak.values())
    save_bundle(train_bundle(weak, level_descriptions(report_text), grid=grid, trained_at="t"), tmp_path / "weak")
    result = cli("compare", str(SHIPPED_MODEL), str(tmp_path / "weak"), "--test-set", str(_test_set(tmp_path, records)), "--json")
    assert result.exit_code == 0, result.stderr
    paired = json.loads(result.stdout)["paired"]
    assert paired["macro_f1"]["b"] < paired["macro_f1"]["a"]


def test_compare_without_a_test_set_says_what_to_pass(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no corpus/external_test/ here
    result = cli("compare", str(SHIPPED_MODEL), str(SHIPPED_MODEL))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "--test-set" in result.stderr and "--cv" in result.stderr


def test_compare_uses_the_frozen_external_split_by_default(cli, tmp_path, monkeypatch, records):
    (tmp_path / "corpus" / "external_test").mkdir(parents=True)
    _test_set(tmp_path / "corpus" / "external_test", records[:12])
    monkeypatch.chdir(tmp_path)
    result = cli("compare", str(SHIPPED_MODEL), str(SHIPPED_MODEL), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["cases"] == 12


def test_compare_cv_refits_both_settings_on_the_same_folds(cli, tmp_path):
    result = cli("compare", str(SHIPPED_MODEL), str(SHIPPED_MODEL), "--cv", "--corpus", str(CORPUS_DIR), "--repeats", "1", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["paired"]["macro_f1"]["delta"]["value"] == 0.0


def test_compare_defaults_to_records_marked_split_test(cli, tmp_path, records):
    """Annotated real records with extra fields; those marked split=test are the frozen test split."""
    from csvnlp.corpus import load_corpus, split_records

    corpus = tmp_path / "corpus"
    (corpus / "extra").mkdir(parents=True)
    shutil.copy2(CORPUS_DIR / "cases.jsonl", corpus / "cases.jsonl")
    extra = [{"id": f"real-{i}", "text": r["text"] + " (an operation summary)", "levels": r["levels"], "split": "test",
              "source": "ERDF", "row_key": str(i), "confidence": "clear", "why": "test", "guideline_version": "1",
              "annotator": "a", "entities": []} for i, r in enumerate(records[:3])]
    (corpus / "extra" / "real.jsonl").write_text("".join(json.dumps(r) + "\n" for r in extra), encoding="utf-8")
    train, test = split_records(load_corpus([corpus]))
    assert len(train) == 27 and [r["id"] for r in test] == ["real-0", "real-1", "real-2"]
    result = cli("compare", str(SHIPPED_MODEL), str(SHIPPED_MODEL), "--corpus", str(corpus), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["cases"] == 3
