"""`csvnlp evaluate`: no leakage across folds, baselines, report files."""

from __future__ import annotations

import copy
import json
import shutil

import pytest

from csvnlp.baselines import keyword_rule
from csvnlp.evaluation import evaluate_corpus
from csvnlp.metrics import level_metrics

from conftest import SHIPPED_MODEL

UNIQUE_WORD = "zyxwvutsr"
UNIQUE_NAME = "Qorvath"  # no cluster shape: only a learned pattern could find it


def with_unique_case(records):
    """The corpus, with one case that alone holds a unique word and a unique cluster name."""
    records = copy.deepcopy(records)
    target = records[4]
    prefix = f"{UNIQUE_NAME} and its {UNIQUE_WORD} partners. "
    shift = len(prefix)
    target["text"] = prefix + target["text"]
    target["entities"] = [{"start": 0, "end": len(UNIQUE_NAME), "label": "CLUSTER", "text": UNIQUE_NAME}] + [
        {**e, "start": e["start"] + shift, "end": e["end"] + shift} for e in target["entities"]
    ]
    return records, 4


def test_evaluation_fits_vocabulary_and_entity_patterns_on_training_folds_only(records, report_text):
    from csvnlp.report_source import level_descriptions

    corpus, special = with_unique_case(records)
    seen = {"held_out": 0, "trained": 0}

    def check(level_model, entity_pipeline, test_indices):
        vocabulary = level_model.vocabulary_
        patterns = {p["pattern"] for p in entity_pipeline.get_pipe("csvnlp_names").patterns}
        if special in test_indices:
            seen["held_out"] += 1
            assert UNIQUE_WORD not in vocabulary and UNIQUE_NAME not in patterns
        else:
            seen["trained"] += 1
            assert UNIQUE_WORD in vocabulary and UNIQUE_NAME in patterns  # so the check above can fail

    evaluation = evaluate_corpus(corpus, level_descriptions(report_text), {"C": 3.0, "lexicon_weight": 10.0, "ngram_max": 1},
                                 {"products_markets": 0.5, "value_chain": 0.5, "cluster_development": 0.5},
                                 repeats=2, permutations=0, on_fold=check, extras=False)
    assert seen == {"held_out": 2, "trained": 6}
    missed = {(m["case"], m["text"]) for m in evaluation.entities["missed"]}
    assert (corpus[special]["id"], UNIQUE_NAME) in missed


def test_evaluation_metrics_on_a_known_case():
    import numpy as np

    gold = np.array([[1, 0, 0], [1, 0, 1], [0, 1, 0]])
    predicted = np.array([[1, 0, 0], [1, 0, 0], [0, 0, 0]])
    metrics = level_metrics(gold, predicted)
    assert metrics["per_level"]["products_markets"]["f1"] == 1.0
    assert metrics["per_level"]["value_chain"]["f1"] == 0.0
    assert metrics["subset_accuracy"] == pytest.approx(1 / 3)
    assert metrics["hamming_loss"] == pytest.approx(2 / 9)
    assert metrics["micro_f1"] == pytest.approx(2 * 2 / (2 * 2 + 0 + 2))


def test_metrics_bootstrap_scores_equal_scikit_learn_with_sample_weights():
    """The vectorized resampling scores are sklearn.metrics' scores with case weights."""
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score, hamming_loss

    from csvnlp.metrics import weighted_scores

    rng = np.random.default_rng(3)
    gold, predicted = rng.integers(0, 2, (40, 3)), rng.integers(0, 2, (40, 3))
    predicted[:, 1] = 0  # a level never predicted: F1 0 by zero_division
    weights = np.stack([np.bincount(rng.integers(0, 40, 40), minlength=40) for _ in range(25)]).astype(float)
    scores = weighted_scores(gold, predicted, weights)
    for b, w in enumerate(weights):
        assert scores["macro_f1"][b] == pytest.approx(f1_score(gold, predicted, average="macro", sample_weight=w, zero_division=0.0))
        assert scores["micro_f1"][b] == pytest.approx(f1_score(gold, predicted, average="micro", sample_weight=w, zero_division=0.0))
        assert scores["subset_accuracy"][b] == pytest.approx(accuracy_score(gold, predicted, sample_weight=w))
        assert scores["hamming_loss"][b] == pytest.approx(hamming_loss(gold, predicted, sample_weight=w))
        np.testing.assert_allclose(scores["per_level_f1"][b], f1_score(gold, predicted, average=None, sample_weight=w, zero_division=0.0))


def test_metrics_paired_bootstrap_of_a_model_against_itself_is_zero():
    import numpy as np

    from csvnlp.evaluation.bootstrap import Interval, Resamples, paired_bootstrap

    rng = np.random.default_rng(0)
    gold, predicted = rng.integers(0, 2, (30, 3)), rng.integers(0, 2, (30, 3))
    resamples = Resamples(30, 1000, seed=0)
    same = paired_bootstrap(gold, predicted, predicted, resamples)
    assert same["macro_f1"].delta == Interval(0.0, 0.0, 0.0)
    better = paired_bootstrap(gold, predicted, gold, resamples)  # B is always right
    assert better["macro_f1"].delta.low > 0 and better["hamming_loss"].delta.high < 0


def test_evaluation_keyword_rule_reads_the_level_definitions():
    predicted = keyword_rule(["Clusters coach SMEs with vouchers.", "Improving productivity in the supply chain and value chain."])
    assert predicted[0].tolist() == [0, 0, 1] and predicted[1][1] == 1


@pytest.mark.slow
def test_evaluate_cli_writes_markdown_html_and_metrics(cli, tmp_path, records):
    model = tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL, model)
    test_set = tmp_path / "extra.csv"
    test_set.write_text(
        "id,text,levels\n"
        "t1,\"Clusters from six regions coach SMEs with innovation vouchers to build new cross-sectoral value chains, funded by INNOSUP.\",cluster_development;products_markets\n"
        "t2,\"A new low-cost water purification product for underserved rural customers, developed with the regional water cluster.\",products_markets\n",
        encoding="utf-8",
    )
    out = tmp_path / "report"
    result = cli("evaluate", "--out", str(out), "--model", str(model), "--repeats", "2", "--permutations", "5",
                 "--no-external", "--no-leave-source-out", "--test-set", str(test_set), "--json",
                 # a spent entity split: the suite never computes figures on the current frozen one
                 "--entity-split", str(SHIPPED_MODEL.parents[1] / "corpus" / "entity_test"))
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert {"model", "keyword_rule", "prior"} == set(summary["macro_f1"])
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 6 and "src=\"http" not in html
    markdown = (out / "report.md").read_text()
    for line in markdown.splitlines():
        if line.startswith("!["):
            assert (out / line.split("(")[1].rstrip(")")).exists()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_sets"][str(test_set)]["cases"] == 2
    cv = metrics["cross_validation"]
    assert "permutation_test" in cv and "learning_curve" in cv and cv["errors"] is not None
    # the refreshed model card does not break the bundle's integrity check
    from csvnlp.persistence import load_bundle

    assert "From `csvnlp evaluate`" in (model / "README.md").read_text()
    load_bundle(model)
    assert cli("evaluate", "--out", str(out), "--model", str(model)).exit_code == 6
