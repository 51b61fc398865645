"""The level model: the scikit-learn protocol, behaviour on real kinds of text, template-independence, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from csvnlp.features import strip_field_labels
from csvnlp.model import LevelModel, label_matrix
from csvnlp.training import train_bundle

INNOSUP_STYLE = (
    "Clusters from five regions coach SMEs with innovation vouchers to build a new "
    "cross-sectoral value chain between agri-food, ICT and health companies. Funded by "
    "INNOSUP-01-2018-2020 and coordinated by the Nordic Food Tech Cluster, the project offers "
    "mentoring, coaching and intercluster cooperation to regional SMEs."
)
# Written for this test in the style of an ERC basic-science abstract (not from any corpus).
BASIC_SCIENCE = (
    "This project will determine the structure of the proton spin using lattice quantum "
    "chromodynamics. We will develop new numerical algorithms for the computation of "
    "parton distribution functions and compare them with data from electron-ion collisions, "
    "testing fundamental symmetries of the strong interaction at high precision."
)


def test_model_labels_an_innosup_style_project_cluster_development(shipped_bundle):
    result = shipped_bundle.classify([INNOSUP_STYLE])[0]
    assert result["status"] == "ok"
    assert "cluster_development" in result["predicted"]


def test_model_abstains_on_basic_science(shipped_bundle):
    result = shipped_bundle.classify([BASIC_SCIENCE])[0]
    assert result["status"] == "uncertain" and result["predicted"] == []


def test_model_abstains_on_text_with_no_project_in_it(shipped_bundle):
    """A text that describes no project gets no level (there is no hand-set minimum word count
    any more: the thresholds and the learned relevance model decide)."""
    assert shipped_bundle.classify(["Minutes of the meeting held on Tuesday."])[0]["status"] == "uncertain"


def test_model_predictions_do_not_depend_on_field_labels(shipped_bundle, records):
    """8 of the 10 cluster_development cases share one template: the labels must not matter."""
    with_labels = [r["text"] for r in records]
    without = [strip_field_labels(t) for t in with_labels]
    assert without != with_labels
    a = shipped_bundle.level_model.predict_proba(with_labels)
    b = shipped_bundle.level_model.predict_proba(without)
    np.testing.assert_allclose(a, b)


def test_model_explains_with_terms_of_the_text(shipped_bundle):
    result = shipped_bundle.classify([INNOSUP_STYLE], explain=5)[0]
    terms = result["explanation"]["cluster_development"]
    assert 0 < len(terms) <= 5
    words = INNOSUP_STYLE.lower()
    assert all(t["term"].startswith("[") or t["term"] in words for t in terms)
    assert [t["weight"] for t in terms] == sorted((t["weight"] for t in terms), reverse=True)


def test_model_training_is_deterministic(records, report_text):
    from csvnlp.report_source import level_descriptions

    prototypes = level_descriptions(report_text)
    grid = [{"C": 1.0, "lexicon_weight": 3.0, "ngram_max": 1}, {"C": 3.0, "lexicon_weight": 10.0, "ngram_max": 1}]
    first = train_bundle(records, prototypes, grid=grid, trained_at="fixed")
    second = train_bundle(records, prototypes, grid=grid, trained_at="fixed")
    (arrays_1, settings_1), (arrays_2, settings_2) = first.level_model.to_arrays(), second.level_model.to_arrays()
    assert settings_1 == settings_2 and arrays_1.keys() == arrays_2.keys()
    assert all(np.array_equal(arrays_1[k], arrays_2[k]) for k in arrays_1)
    assert first.meta == second.meta


TRAIN_AND_HASH = """
import hashlib, json, sys, tempfile
from pathlib import Path
from csvnlp.persistence import save_bundle
from csvnlp.report_source import level_descriptions
from csvnlp.training import train_bundle
records = [json.loads(line) for line in open("corpus/cases.jsonl", encoding="utf-8")]
report = Path("corpus/source/clusters-and-shared-value-report.txt").read_text(encoding="utf-8")
bundle = train_bundle(records, level_descriptions(report), grid=[{"C": 3.0, "lexicon_weight": 10.0, "ngram_max": 1}], trained_at="t")
out = Path(tempfile.mkdtemp()) / "m"
save_bundle(bundle, out)
print(hashlib.sha256(b"".join((out / name).read_bytes() for name in ("level_model.npz", "level_model.json", "entity_patterns.jsonl", "meta.json"))).hexdigest())
"""


@pytest.mark.slow
def test_model_training_is_byte_identical_across_processes():
    """Two runs with different string hashing (PYTHONHASHSEED) save the same bytes."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    digests = {
        subprocess.run([sys.executable, "-c", TRAIN_AND_HASH], cwd=ROOT, capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip()
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def test_model_balanced_weights_counter_the_prior(records, report_text):
    """A text with no level-specific content must not get products_markets from the prior."""
    from csvnlp.report_source import level_descriptions

    model = LevelModel(level_descriptions(report_text), thresholds=[0.5, 0.5, 0.5]).fit(
        [r["text"] for r in records], label_matrix(records)
    )
    probabilities = model.predict_proba(["the of and a to in"])[0]
    assert probabilities[0] < 0.8


def test_model_beats_the_keyword_rule_in_cross_validation(shipped_bundle):
    cv = shipped_bundle.meta["cross_validation"]
    assert cv["macro_f1"] > cv["keyword_rule_macro_f1"]


def test_model_erc_and_msca_abstracts_are_mostly_uncertain(shipped_bundle):
    import pandas as pd

    from conftest import shared_data

    path = shared_data("cordis_h2020_textile_subset_aguesses", "training_corrected.csv")
    frame = pd.read_csv(path, sep=";")
    basic = frame[frame["programme"].str.contains(r"H2020-EU\.1\.1\.|H2020-EU\.1\.3\.", na=False)]
    texts = (basic["titleProject"].fillna("") + ". " + basic["objective"].fillna("")).tolist()
    results = shipped_bundle.classify(texts, entities=False)
    share = np.mean([r["status"] == "uncertain" for r in results])
    assert len(texts) > 100 and share >= 0.8, share


# ---------------------------------------------------------------------------- the estimator protocol


@pytest.fixture(scope="module")
def prototypes(report_text):
    from csvnlp.report_source import level_descriptions

    return level_descriptions(report_text)


@pytest.mark.parametrize("check", ["check_no_attributes_set_in_init", "check_parameters_default_constructible",
                                   "check_get_params_invariance", "check_set_params", "check_estimator_repr"])
def test_model_passes_the_scikit_learn_api_checks_that_apply_to_text_input(check):
    """``check_estimator``/``parametrize_with_checks`` yield no check at all for an estimator
    whose tags say its input is not a 2-D numeric array (scikit-learn warns "Can't test
    estimator" and returns): they would pass without testing anything. So the checks of the
    constructor and parameter protocol, which need no input, run here by name, and the fit
    checks run below in versions that feed texts."""
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check)("LevelModel", LevelModel())


def test_model_check_estimator_would_test_nothing_for_a_text_model():
    """Why the checks above are named: scikit-learn skips every check for string input."""
    import warnings

    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_estimator(LevelModel())
    assert any("Can't test estimator" in str(w.message) for w in caught)


@pytest.fixture(scope="module")
def small_fit(records, prototypes):
    texts, labels = [r["text"] for r in records], label_matrix(records)
    return texts, labels, dict(prototypes=prototypes, C=3.0, lexicon_weight=10.0, ngram_max=1)


def test_model_fit_returns_self_and_does_not_change_its_parameters(small_fit):
    """Text-input versions of check_fit_returns_self and check_dont_overwrite_parameters."""
    texts, labels, params = small_fit
    model = LevelModel(**params)
    before = model.get_params()
    assert model.fit(texts, labels) is model
    after = model.get_params()
    assert before.keys() == after.keys() and all(after[k] is before[k] for k in before)
    assert not {k for k in vars(model) if not k.endswith("_")} - set(before)  # fit sets only attributes ending in _


def test_model_refit_is_idempotent(small_fit):
    """Text-input version of check_fit_idempotent: fitting twice gives the same model."""
    texts, labels, params = small_fit
    model = LevelModel(**params).fit(texts, labels)
    first_arrays, first_settings = model.to_arrays()
    first = model.predict_proba(texts)
    model.fit(texts, labels)
    second_arrays, second_settings = model.to_arrays()
    np.testing.assert_array_equal(model.predict_proba(texts), first)
    assert first_settings == second_settings and all(np.array_equal(first_arrays[k], second_arrays[k]) for k in first_arrays)


@pytest.mark.parametrize("bad", ["transposed", "flat", "two_columns", "not_binary", "one_text_short"])
def test_model_refuses_a_bad_label_matrix(small_fit, bad):
    """A Y that is not (n_texts, 3) 0/1 is refused with a ValueError, never reshaped."""
    texts, labels, params = small_fit
    wrong = {"transposed": labels.T, "flat": labels.ravel(), "two_columns": labels[:, :2],
             "not_binary": labels * 2, "one_text_short": labels[:-1]}[bad]
    with pytest.raises(ValueError, match="Y must"):
        LevelModel(**params).fit(texts, wrong)


@pytest.mark.parametrize("bad", ["one string", "bytes", "numbers", "matrix"])
def test_model_refuses_input_that_is_not_a_list_of_texts(small_fit, bad):
    texts, labels, params = small_fit
    model = LevelModel(**params).fit(texts, labels)
    wrong = {"one string": "a single text", "bytes": [b"bytes"], "numbers": [1.0, 2.0], "matrix": np.zeros((2, 3))}[bad]
    with pytest.raises(ValueError, match="X must"):
        model.predict(wrong)


def test_model_arrays_round_trip_to_the_same_predictions(small_fit):
    """to_arrays/from_arrays (what a model directory holds) rebuild the fitted model exactly."""
    texts, labels, params = small_fit
    model = LevelModel(**params).fit(texts, labels)
    again = LevelModel.from_arrays(*model.to_arrays())
    assert again.get_params() == model.get_params()
    np.testing.assert_array_equal(again.predict_proba(texts), model.predict_proba(texts))
    np.testing.assert_array_equal(again.predict(texts), model.predict(texts))
    assert again.classify(texts[:3], explain=3) == model.classify(texts[:3], explain=3)


def test_model_predicting_from_arrays_imports_neither_scikit_learn_nor_scipy():
    """A saved model predicts with array code: a cold `csvnlp classify` must not pay for them."""
    import subprocess
    import sys

    from conftest import ROOT, SHIPPED_MODEL

    code = ("import json, sys, numpy as np; from csvnlp.model import LevelModel\n"
            f"d = {str(SHIPPED_MODEL)!r}\n"
            "with np.load(d + '/level_model.npz', allow_pickle=False) as a: arrays = {k: a[k] for k in a.files}\n"
            "model = LevelModel.from_arrays(arrays, json.load(open(d + '/level_model.json')))\n"
            "model.classify(['Clusters coach SMEs to build a new value chain.'], explain=3)\n"
            "print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_features_analyzer_equals_the_tfidf_vectorizer(records, prototypes):
    """The NumPy TF-IDF analyzer predicting uses gives what scikit-learn's TfidfVectorizer gives."""
    from csvnlp.features import STOP_WORDS, TOKEN_PATTERN, make_vectorizer, model_text

    texts, labels = [r["text"] for r in records], label_matrix(records)
    model = LevelModel(prototypes, C=3.0, lexicon_weight=10.0, ngram_max=2).fit(texts, labels)
    vectorizer = make_vectorizer(2, vocabulary=model.analyzer_.terms)
    vectorizer.idf_ = model.analyzer_.idf
    docs = [model_text(t) for t in texts] + ["", "the of and", "Value chains, value chains and VALUE CHAINS!"]
    assert list(model.analyzer_.stop_words) and model.analyzer_.stop_words == frozenset(STOP_WORDS)
    assert model.analyzer_.token_pattern == TOKEN_PATTERN
    np.testing.assert_allclose(model.analyzer_.rows(docs).to_csr().toarray(), vectorizer.transform(docs).toarray(), rtol=0, atol=1e-12)


def test_model_clone_refits_to_the_same_predictions(records, prototypes):
    from sklearn.base import clone

    texts, labels = [r["text"] for r in records], label_matrix(records)
    model = LevelModel(prototypes, C=3.0, lexicon_weight=10.0, ngram_max=1)
    assert model.fit(texts, labels) is model
    copy = clone(model)
    assert copy.get_params() == model.get_params() and not hasattr(copy, "coef_")
    np.testing.assert_array_equal(copy.fit(texts, labels).predict_proba(texts), model.predict_proba(texts))
    assert model.set_params(C=1.0).C == 1.0


def test_model_refuses_to_predict_before_fit():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LevelModel().predict(["text"])


def test_model_predict_applies_thresholds_and_the_relevance_decision(shipped_bundle):
    model = shipped_bundle.level_model
    texts = [INNOSUP_STYLE, BASIC_SCIENCE, "Clusters and SMEs."]
    predicted = model.predict(texts)
    probabilities = model.predict_proba(texts)
    relevance = model.relevance_proba(texts)
    assert predicted.shape == (3, 3)
    assert model.relevance_threshold_ > 0  # the shipped corpus has annotated negatives
    expected = (probabilities >= model.thresholds_).astype(int) * (relevance >= model.relevance_threshold_)[:, None]
    np.testing.assert_array_equal(predicted, expected)


def test_model_learns_relevance_only_from_annotated_negatives(records, prototypes):
    """The 27 cases have no record labelled none: no relevance decision is learned (it always
    passes). With real records labelled none it is learned, and it abstains on some of them."""
    import json
    from pathlib import Path

    texts, labels = [r["text"] for r in records], label_matrix(records)
    cases_only = LevelModel(prototypes, C=3.0, lexicon_weight=1.0, ngram_max=1).fit(texts, labels)
    assert cases_only.relevance_threshold_ == 0.0
    real = [json.loads(line) for line in (Path(__file__).resolve().parents[1] / "corpus" / "extra" / "real-train.jsonl")
            .read_text(encoding="utf-8").splitlines()[:300]]
    mixed_texts, mixed_labels = texts + [r["text"] for r in real], np.vstack([labels, label_matrix(real)])
    learned = LevelModel(prototypes, C=3.0, lexicon_weight=1.0, ngram_max=1).fit(mixed_texts, mixed_labels)
    assert 0.0 < learned.relevance_threshold_ < 1.0
    none = [r["text"] for r in real if not r["levels"]]
    assert learned.predict(none).sum(axis=1).tolist().count(0) > len(none) / 2


def test_model_thresholds_cv_are_chosen_on_the_training_data_only(records, prototypes):
    texts, labels = [r["text"] for r in records], label_matrix(records)
    fitted = LevelModel(prototypes, C=3.0, lexicon_weight=10.0, ngram_max=1, thresholds="cv").fit(texts[:20], labels[:20])
    again = LevelModel(prototypes, C=3.0, lexicon_weight=10.0, ngram_max=1, thresholds="cv").fit(texts[:20], labels[:20])
    np.testing.assert_array_equal(fitted.thresholds_, again.thresholds_)
    assert all(0.35 <= t <= 0.95 for t in fitted.thresholds_)
    with pytest.raises(ValueError, match="thresholds must be"):
        LevelModel(prototypes, thresholds=[0.5]).fit(texts, labels)


@pytest.mark.parametrize("ngram_max", [1, 2])
def test_features_term_counts_fold_equals_a_tfidf_vectorizer_fitted_on_the_fold(records, prototypes, ngram_max):
    """Tokenizing once per corpus and slicing per fold gives what scikit-learn's
    TfidfVectorizer fitted on the fold's training texts (+ prototypes) gives."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from csvnlp.features import STOP_WORDS, TOKEN_PATTERN, TermCounts, prototype_rows
    from csvnlp.selection import repeated_multilabel_folds

    from csvnlp.features import model_text

    texts, labels = [model_text(r["text"]) for r in records], label_matrix(records)
    counts = TermCounts(texts, prototypes, ngram_max)
    proto_texts = [model_text(t) for t in prototype_rows(prototypes)[0]]
    _, train, test = repeated_multilabel_folds(labels, 4, 1, 13)[0]
    fold = counts.fold(train, test, labels)
    reference = TfidfVectorizer(ngram_range=(1, ngram_max), sublinear_tf=True, stop_words=list(STOP_WORDS),
                                token_pattern=TOKEN_PATTERN)
    expected_fit = reference.fit_transform([texts[i] for i in train] + proto_texts)
    assert list(fold.terms) == list(reference.get_feature_names_out())
    np.testing.assert_allclose(fold.idf, reference.idf_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fold.fit_tfidf.toarray(), expected_fit.toarray(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(fold.test_tfidf.toarray(), reference.transform([texts[i] for i in test]).toarray(), rtol=0, atol=1e-12)


def test_model_threshold_cv_equals_cross_val_predict_over_clones(records, prototypes):
    """The fast inner CV (one tokenization) gives the out-of-fold probabilities that
    scikit-learn's cross_val_predict over clones of the model gives."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
    from sklearn.model_selection import cross_val_predict

    from csvnlp.model import choose_thresholds

    texts, labels = [r["text"] for r in records], label_matrix(records)
    model = LevelModel(prototypes, C=1.0, lexicon_weight=3.0, ngram_max=2, thresholds="cv").fit(texts, labels)
    folds = MultilabelStratifiedKFold(n_splits=3, shuffle=True, random_state=13)
    oof = cross_val_predict(LevelModel(prototypes, C=1.0, lexicon_weight=3.0, ngram_max=2, thresholds=[0.5] * 3),
                            texts, labels, cv=folds, method="predict_proba")
    np.testing.assert_array_equal(model.thresholds_, choose_thresholds(labels, oof))


def test_model_works_with_scikit_learn_scorers_and_cross_validation(records, prototypes):
    """scikit-learn 1.6 checked a scorer's pos_label against ``classes_``: level names there
    made every CV score fail (and turn into nan) silently."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
    from sklearn.model_selection import cross_val_score

    from csvnlp.evaluation import macro_f1_scorer

    texts, labels = [r["text"] for r in records], label_matrix(records)
    scores = cross_val_score(LevelModel(prototypes, C=3.0, lexicon_weight=10.0, ngram_max=1), texts, labels,
                             cv=MultilabelStratifiedKFold(n_splits=3, shuffle=True, random_state=0),
                             scoring=macro_f1_scorer(), error_score="raise")
    assert np.all((scores > 0) & (scores <= 1)), scores


def test_model_thresholds_are_chosen_in_fit_on_the_settings_search_folds(records, prototypes):
    """issue 20: thresholds are chosen in one place (LevelModel.fit); the settings search only
    picks settings, and fit's folds are the search's, so training's thresholds are unchanged."""
    from csvnlp.model import choose_thresholds
    from csvnlp.selection import select_settings

    texts, labels = [r["text"] for r in records], label_matrix(records)
    setting = {"C": 3.0, "lexicon_weight": 10.0, "ngram_max": 1}
    selection = select_settings(texts, labels, prototypes, grid=[setting], n_splits=4, repeats=2, seed=13)
    assert not hasattr(selection, "thresholds")
    model = LevelModel(prototypes, thresholds="cv", threshold_cv=4, threshold_repeats=2, random_state=13, **setting).fit(texts, labels)
    np.testing.assert_array_equal(model.thresholds_, choose_thresholds(np.tile(labels, (2, 1)), selection.oof.reshape(-1, 3)))
