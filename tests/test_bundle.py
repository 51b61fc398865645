"""The model bundle on disk: integrity, versions, atomic writes."""

from __future__ import annotations

import json
import shutil

import pytest

from csvnlp.bundle import CLASSIFIER_FILE, META_FILE, load_bundle, save_bundle
from csvnlp.errors import ModelError, OutputExistsError

from conftest import SHIPPED_MODEL


@pytest.fixture()
def model_copy(tmp_path):
    target = tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL, target)
    return target


def test_bundle_meta_records_what_issue_3_asks(shipped_bundle):
    meta = shipped_bundle.meta
    assert set(meta["labels"]) == {"products_markets", "value_chain", "cluster_development"}
    assert set(meta["thresholds"]) == set(meta["labels"])
    assert {"python", "scikit-learn", "spacy"} <= set(meta["versions"])
    assert meta["corpus"]["cases"] == 27 and len(meta["corpus"]["sha256"]) == 64
    assert "macro_f1" in meta["cross_validation"] and meta["trained_at"]
    assert CLASSIFIER_FILE in meta["files"] and any(f.startswith("entities/") for f in meta["files"])


def test_bundle_refuses_a_tampered_classifier_before_unpickling(model_copy, monkeypatch):
    path = model_copy / CLASSIFIER_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    import joblib

    monkeypatch.setattr(joblib, "load", lambda *a, **k: pytest.fail("unpickled a tampered file"))
    with pytest.raises(ModelError, match="does not match the sha256"):
        load_bundle(model_copy)


def test_bundle_refuses_another_scikit_learn_version(model_copy):
    import sklearn

    meta = json.loads((model_copy / META_FILE).read_text())
    meta["versions"]["scikit-learn"] = "0.24.2"
    (model_copy / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ModelError) as error:
        load_bundle(model_copy)
    assert "0.24.2" in str(error.value) and sklearn.__version__ in str(error.value)
    assert "csvnlp train" in str(error.value)


def test_bundle_refuses_missing_or_corrupt_meta(model_copy, tmp_path):
    with pytest.raises(ModelError, match="no model at"):
        load_bundle(tmp_path / "nowhere")
    (model_copy / META_FILE).write_text("{not json")
    with pytest.raises(ModelError, match="corrupt"):
        load_bundle(model_copy)


def test_bundle_refuses_a_file_it_does_not_record(model_copy):
    (model_copy / "extra.pkl").write_bytes(b"surprise")
    with pytest.raises(ModelError, match="does not record"):
        load_bundle(model_copy)


def test_bundle_save_is_atomic_when_killed_midway(shipped_bundle, tmp_path, monkeypatch):
    target = tmp_path / "new-model"

    def boom(*args, **kwargs):
        raise KeyboardInterrupt  # as if train were killed while writing the entity pipeline

    monkeypatch.setattr("csvnlp.entities.save_entity_pipeline", boom)
    with pytest.raises(KeyboardInterrupt):
        save_bundle(shipped_bundle, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_bundle_save_refuses_to_overwrite_without_force(shipped_bundle, model_copy):
    with pytest.raises(OutputExistsError):
        save_bundle(shipped_bundle, model_copy)


def test_bundle_round_trip_gives_the_same_predictions(shipped_bundle, tmp_path):
    from csvnlp.bundle import ModelBundle

    copy = ModelBundle(shipped_bundle.classifier, shipped_bundle.entity_pipeline, dict(shipped_bundle.meta))
    save_bundle(copy, tmp_path / "m")
    text = "Clusters coach SMEs with vouchers to build a new value chain for the Silver Economy, funded by INNOSUP."
    assert load_bundle(tmp_path / "m").classify([text]) == shipped_bundle.classify([text])
