"""issue 20: the batched language detector gives py3langid's own rankings, cheaper."""

from __future__ import annotations

import numpy as np
import pytest

from csvnlp.language import SAMPLE_CHARS, _identifier, _mostly_other_script, _sample, _world_identifier, rank_languages_many
from csvnlp.language_scoring import WINDOW, BatchScorer, automaton_depth

TEXTS = [
    "Zarasai District Municipality Primary Health Care Centre", "Общество с ограниченной ответственностью",
    "ÉCOLE NATIONALE SUPÉRIEURE", "Łódź Województwo Łódzkie", "Die Gemeinde fördert kleine Unternehmen in der Region.",
    "Installation of a 928 kW wood pellet boiler.", "ZZZZ qqq", "Työ- ja elinkeinoministeriö", "a", "",
    "Clusters from five regions coach SMEs with innovation vouchers to build a new cross-sectoral value chain " * 5,
]


def test_language_scoring_window_covers_the_automaton():
    identifier = _identifier()
    scorer = BatchScorer(identifier)
    assert automaton_depth(scorer.nextmove.astype(np.int64), scorer.rowbase.astype(np.int64)) <= WINDOW


def _stock(text):
    """py3langid's own ranking of what the detector reads of ``text`` (its byte-by-byte walk)."""
    sample = _sample(text)
    if sample is None:
        return [("und", 1.0)]
    identifier = _world_identifier() if _mostly_other_script(sample) else _identifier()
    return [(c, float(p)) for c, p in identifier.rank(sample)]


def test_language_scoring_batch_ranks_equal_py3langid(records):
    """Every ranking, probabilities included, equals py3langid's byte-by-byte walk."""
    texts = TEXTS + ["北京市科学技术委员会", "وزارة الاقتصاد"] + [r["text"] for r in records]
    assert rank_languages_many(texts) == [_stock(t) for t in texts]


@pytest.mark.slow
def test_language_scoring_batch_ranks_equal_py3langid_on_the_multilingual_extracts():
    import pandas as pd

    from conftest import shared_data

    path = shared_data("kohesio_beneficiaries_zachz3394", "kohesio-data-export.tsv")
    names = [t for t in pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)["Beneficiary Name"] if t.strip()][:3000]
    assert rank_languages_many(names) == [_stock(t) for t in names]
    assert SAMPLE_CHARS == 300
