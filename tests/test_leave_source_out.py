"""Leave-one-source-out evaluation and the transfer training recipe (issue 18)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from csvnlp.evaluation.leave_source_out import HeldOut, hold_out_each_family, score_held_out, summarise
from csvnlp.levels import LEVEL_KEYS
from csvnlp.source_families import REPORT_CASES, source_family
from csvnlp.transfer import TransferOptions, family_weights, fit_transfer_model, source_specific_columns

ROOT = Path(__file__).resolve().parents[1]


def record(i: int, source: str, levels: list[str], text: str = "", confidence: str = "clear") -> dict:
    return {"id": f"r{i}", "text": text or f"text {i} about {source}", "levels": levels, "confidence": confidence,
            "source": source, "source_file": f"{source}.csv"}


def test_families_group_the_databases_a_user_meets_as_one():
    assert source_family({"source": "cordis_water_fp7", "source_file": "x"}) == "CORDIS FP7"
    assert source_family({"source": "cordis_h2020_xml", "source_file": "x"}) == source_family({"source": "cordis_h2020", "source_file": "y"})
    assert source_family({"source": "esif_malta", "source_file": "x"}) != source_family({"source": "esif_ireland", "source_file": "x"})
    assert source_family({"id": "katana", "section": "4.3.9", "source": "INNOSUP"}) == REPORT_CASES


def test_the_recipe_never_sees_the_held_out_family():
    records = [record(i, src, ["products_markets"] if i % 2 else []) for i, src in enumerate(["esif_malta"] * 4 + ["call_topics"] * 4 + ["cordis_fp7"] * 4)]
    seen = []

    class Constant:
        def classify(self, texts):
            return [{"predicted": ["products_markets"], "probabilities": {k: 0.9 for k in LEVEL_KEYS}, "evidence": {}} for _ in texts]

    def recipe(texts, labels, families, prototypes, seed, n_jobs):
        seen.append((set(texts), set(families)))
        return Constant()

    held = hold_out_each_family(records, {}, recipe)
    assert len(held) == 3
    for part, (texts, families) in zip(held, seen):
        assert part.family not in families
        assert not texts & {records[i]["text"] for i in part.rows}


def test_scores_and_targets_per_family():
    records = ([record(i, "esif_ireland", ["value_chain"]) for i in range(20)] + [record(20 + i, "esif_ireland", []) for i in range(5)]
               + [record(30 + i, "esif_northern_ireland", []) for i in range(25)])
    perfect = np.array([[0, 1, 0]] * 20 + [[0, 0, 0]] * 5)
    held = [HeldOut("ERDF/ESF Ireland", np.arange(25), perfect, perfect.astype(float), np.ones(25), {}),
            HeldOut("ERDF/ESF Northern Ireland", np.arange(25, 50), np.zeros((25, 3), dtype=int), np.zeros((25, 3)), np.zeros(25), {})]
    scores = score_held_out(records, held)
    ireland = scores["families"]["ERDF/ESF Ireland"]["clear"]
    assert ireland["model"]["macro_f1"] == 1.0 and ireland["model"]["abstention_on_none"] == 1.0
    summary = summarise(scores, frozen_macro_f1=0.9)
    rows = {r["family"]: r for r in summary["macro_f1"]["families"]}
    assert rows["ERDF/ESF Ireland"]["met"] is (1.0 - rows["ERDF/ESF Ireland"]["keyword_rule"] >= 0.15)
    # a family with no level at all is judged by abstention only, not by a macro-F1
    assert rows["ERDF/ESF Northern Ireland"]["met"] is None and summary["macro_f1"]["families_judged"] == 1
    assert summary["macro_f1"]["mean"] == 1.0 and summary["macro_f1"]["gap_to_frozen"] == -0.1


def test_family_weights_give_every_family_the_same_total():
    weights = family_weights(["a"] * 6 + ["b"] * 2 + ["c"] * 2)
    assert np.isclose(weights[:6].sum(), weights[6:8].sum()) and np.isclose(weights.sum(), 10)


def test_source_specific_terms_are_learned_from_the_given_rows_only():
    from scipy import sparse

    counts = sparse.csr_matrix(np.array([[1, 1], [1, 1], [0, 1], [0, 1], [1, 0]]))
    families = np.array(["a", "a", "b", "b", "b"])
    assert list(source_specific_columns(counts, np.arange(4), families, 0.9)) == [True, False]
    assert list(source_specific_columns(counts, np.arange(5), families, 0.9)) == [False, False]


def test_transfer_training_is_deterministic_and_grouped():
    lines = (ROOT / "corpus" / "extra" / "real-train.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines[::8]]
    texts = [r["text"] for r in records]
    labels = np.array([[1 if k in r["levels"] else 0 for k in LEVEL_KEYS] for r in records])
    families = [source_family(r) for r in records]
    options = TransferOptions(both=True, grid=[{"C": 1.0, "lexicon_weight": 1.0, "ngram_max": 1}])
    first = fit_transfer_model(texts, labels, families, {}, 13, options)
    second = fit_transfer_model(texts, labels, families, {}, 13, options)
    assert np.array_equal(first.coef_, second.coef_) and np.array_equal(first.thresholds_, second.thresholds_)
    assert "out-of-source" in first.selection_scheme_
    results = first.classify(texts[:5])
    assert all(r["status"] in ("ok", "uncertain") for r in results)


def test_leave_source_out_benchmark_compares_with_the_last_frozen_scoring():
    # The benchmark reads its reference from reports/evaluation/metrics.json (it was a typed-in
    # constant): the committed result must have been made against the shipped model's figure,
    # so a retrain and rescore without rerunning the benchmark shows up here.
    import importlib.util

    spec = importlib.util.spec_from_file_location("leave_source_out_benchmark", ROOT / "benchmarks" / "leave_source_out.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    metrics = json.loads((ROOT / "reports" / "evaluation" / "metrics.json").read_text(encoding="utf-8"))
    scored = metrics["frozen_split"]["views"]["clear"]["systems"]["model"]["macro_f1"]["value"]
    assert benchmark.frozen_reference() == round(scored, 3)
    committed = json.loads((ROOT / "benchmarks" / "results" / "leave_source_out" / "both.json").read_text(encoding="utf-8"))
    assert committed["summary"]["frozen_macro_f1"] == benchmark.frozen_reference()
