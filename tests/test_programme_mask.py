"""Programme names and call identifiers give no shortcut to a level (issue 9)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from csvnlp.features import PROGRAMME_NAMES, mask_programme_names
from csvnlp.report_source import text_outside_cases

REPORT = Path(__file__).resolve().parents[1] / "corpus" / "source" / "clusters-and-shared-value-report.txt"
TEXT = ("Clusters from five regions support SMEs to build a new cross-sectoral value chain in agri-food and ICT, "
        "funded by {funding}.")


@pytest.mark.parametrize("name", PROGRAMME_NAMES)
def test_programme_mask_every_name_comes_from_the_report_outside_its_cases(name):
    outside = text_outside_cases(REPORT.read_text(encoding="utf-8"))
    assert re.search(rf"(?<![\w-]){re.escape(name.lower())}(?![\w-])", outside)


def test_programme_mask_blanks_names_and_call_ids_and_keeps_offsets():
    text = "Funded by INNOSUP-01-2018-2020 (INNOSUP) and cosme; a state-of-the-art H2020-SMEINST-1-2016-2017 pilot."
    masked = mask_programme_names(text)
    assert len(masked) == len(text)
    for gone in ("INNOSUP", "cosme", "SMEINST", "2018"):
        assert gone not in masked
    assert "state-of-the-art" in masked and "pilot" in masked


@pytest.mark.parametrize("funding", ["INNOSUP-01-2018-2020", "INNOSUP", "COSME", "Interreg MED", "H2020", "VINNOVA",
                                     "COS-CLUSTER-2015-3-02"])
def test_programme_mask_the_shipped_model_scores_a_text_alike_whoever_funds_it(shipped_bundle, funding):
    model = shipped_bundle.level_model
    named = model.predict_proba([TEXT.format(funding=funding)])
    unnamed = model.predict_proba([TEXT.format(funding="")])
    np.testing.assert_allclose(named, unnamed, atol=1e-12)
    assert model.relevance_proba([TEXT.format(funding=funding)]) == pytest.approx(model.relevance_proba([TEXT.format(funding="")]))
