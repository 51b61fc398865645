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
    assert paired["macro_f1"]["delta"] == {"mean": 0.0, "low": 0.0, "high": 0.0}
    assert comparison["verdict"] == "no difference beyond chance on these cases"
    human = cli("compare", str(SHIPPED_MODEL), str(other), "--test-set", str(test_set))
    assert "B-A +0.000" in human.stdout and "verdict (macro-F1): no difference" in human.stdout


def test_compare_tells_apart_a_model_trained_without_a_level(cli, tmp_path, records, report_text):
    """A candidate trained on fewer cases scores lower on the same cases: the trained weights matter."""
    from csvnlp.persistence import save_bundle
    from csvnlp.report_source import level_descriptions
    from csvnlp.training import train_bundle

    grid = [{"C": 3.0, "lexicon_weight": 10.0, "ngram_max": 1}]
    weak = [r for r in records if "cluster_development" not in r["levels"]][:8] + [r for r in records if "cluster_development" in r["levels"]][:2]
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
    assert json.loads(result.stdout)["paired"]["macro_f1"]["delta"]["mean"] == 0.0
