"""``csvnlp tag`` writes, cell for cell, what the inference code before the lean tagging path
(issue 20) wrote for a fixed sample of real rows (tests/data/tagging_reference.json, made by
pipeline/tagging_reference.py with the shipped model): levels and their probabilities,
status, language, clusters, programmes and their ids."""

from __future__ import annotations

import importlib.util
import json

import pytest

from conftest import ROOT, SHARED_DATA, SHIPPED_MODEL

REFERENCE = ROOT / "tests" / "data" / "tagging_reference.json"


def _generator():
    spec = importlib.util.spec_from_file_location("tagging_reference", ROOT / "pipeline" / "tagging_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sample():
    generator = _generator()
    try:
        rows = generator.sample_rows(SHARED_DATA)
    except FileNotFoundError as exc:
        pytest.skip(f"shared data not present: {exc.filename}")
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    assert reference["model_sha256"] == generator.model_digest(SHIPPED_MODEL), (
        "models/csvnlp-base changed since tests/data/tagging_reference.json was written: after a retrain, "
        "run python pipeline/tagging_reference.py (pipeline/run.py does) and commit the file with the model"
    )
    return generator, rows, reference


@pytest.mark.parametrize("jobs", [1, 2])
def test_tagging_reference_real_rows_tag_as_before(sample, jobs):
    generator, rows, reference = sample
    assert [r["key"] for r in rows] == [r["key"] for r in reference["rows"]], "the sample's rows changed"
    tagged = generator.tag_rows(rows, SHIPPED_MODEL, jobs=jobs)
    differences = [(r["key"], cell, r[cell], tagged[r["key"]][cell])
                   for r in reference["rows"] for cell in generator.OUTPUT_CELLS if tagged[r["key"]][cell] != r[cell]]
    assert not differences, (
        f"{len(differences)} cells differ (row, cell, reference, now), e.g. {differences[:5]}; a change to the inference "
        "code must not alter them. A change meant to alter what tag finds (entity rules or registry, a retrained model) "
        "regenerates the reference: python pipeline/tagging_reference.py, and says so in its commit message"
    )
    # the sample exercises every path: both languages' outcomes, names of both kinds, levels
    statuses = {r["status"] for r in reference["rows"]}
    assert {"ok", "uncertain", "unsupported_language"} <= statuses
    assert any(r["clusters"] for r in reference["rows"]) and any(r["programme_ids"] for r in reference["rows"])
