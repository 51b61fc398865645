"""The headline figures on the frozen split: what they count, checked on small cases."""

from __future__ import annotations

import numpy as np
import pytest

from csvnlp.evaluation.frozen_split import score_frozen_split, target_check


def _records(levels_list, confidence="clear"):
    return [{"id": str(i), "text": "t", "levels": levels, "confidence": confidence, "source": "s" if i % 2 else "u"}
            for i, levels in enumerate(levels_list)]


def test_frozen_split_counts_abstention_and_coverage():
    records = _records([[], [], ["value_chain"], ["products_markets", "cluster_development"]])
    predicted = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0]])
    result = score_frozen_split(records, {"model": predicted}, samples=50)
    view = result.views["clear"].systems["model"]
    assert view.abstention_on_none.value == 0.5  # one of two none records got a level
    assert view.coverage_of_csv.value == 0.5  # one of two CSV records got none
    assert view.levels["value_chain"].f1.value == 1.0
    assert view.levels["products_markets"].f1.value == 0.0  # one false hit, one miss


def test_frozen_split_headline_uses_clear_rows_and_pairs_the_delta():
    records = _records([["products_markets"], []]) + _records([["value_chain"]], confidence="borderline")
    perfect = np.array([[1, 0, 0], [0, 0, 0], [0, 1, 0]])
    blank = np.zeros((3, 3), dtype=int)
    result = score_frozen_split(records, {"model": perfect, "keyword rule": blank}, samples=50)
    assert result.clear_records == 2 and result.views["clear"].systems["model"].rows == 2
    assert result.views["all"].systems["model"].rows == 3
    assert result.views["clear"].margin_over_keyword_rule.value > 0
    checks = {t.target: t for t in target_check(result.views["clear"])}
    assert checks["abstention on none"].met and checks["coverage of CSV records"].met
    assert not checks["F1 value_chain"].met  # no clear value_chain row: F1 0, short by 0.70
    assert checks["F1 value_chain"].short_by == pytest.approx(0.70)
