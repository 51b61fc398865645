"""A model on disk: plain data (no pickle), corruption check, atomic writes, packaged default."""

from __future__ import annotations

import json
import pickle
import shutil

import numpy as np
import pytest

from csvnlp.errors import ModelError, OutputExistsError
from csvnlp.persistence import ARRAYS_FILE, META_FILE, MODEL_FILES, default_model_dir, load_bundle, save_bundle

from conftest import ROOT, SHIPPED_MODEL

SUBMISSION = "Clusters coach SMEs with vouchers to build a new value chain for the Silver Economy, funded by INNOSUP."


@pytest.fixture()
def model_copy(tmp_path):
    target = tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL, target)
    return target


def test_persistence_meta_records_labels_versions_corpus_and_checksums(shipped_bundle):
    meta = shipped_bundle.meta
    assert set(meta["labels"]) == {"products_markets", "value_chain", "cluster_development"}
    assert set(meta["thresholds"]) == set(meta["labels"])
    assert {"python", "scikit-learn", "spacy"} <= set(meta["versions"])
    # the 27 report cases plus the training part of the annotated real records
    real_train = (ROOT / "corpus" / "extra" / "real-train.jsonl").read_text(encoding="utf-8").count("\n")
    assert meta["corpus"]["cases"] == 27 + real_train and len(meta["corpus"]["sha256"]) == 64
    assert "macro_f1" in meta["cross_validation"] and meta["trained_at"]
    assert set(MODEL_FILES) <= set(meta["files"])


def test_persistence_shipped_model_reproduces_its_reference_probabilities():
    """The committed reference outputs of the shipped model (written by pipeline/reference_outputs.py
    when the model is retrained) are reproduced under the installed scikit-learn."""
    reference = json.loads((ROOT / "tests" / "data" / "reference_outputs.json").read_text(encoding="utf-8"))
    bundle = load_bundle(SHIPPED_MODEL)
    probabilities = bundle.level_model.predict_proba(reference["texts"])
    np.testing.assert_allclose(probabilities, np.array(reference["probabilities"]), rtol=0, atol=1e-9)
    results = bundle.level_model.classify(reference["texts"])
    assert [r["status"] for r in results] == reference["statuses"]
    assert [r["predicted"] for r in results] == reference["predicted"]


def test_persistence_model_files_hold_no_pickle(shipped_bundle):
    with np.load(SHIPPED_MODEL / ARRAYS_FILE, allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
    for path in SHIPPED_MODEL.rglob("*"):  # the entity pipeline's spaCy files too (entities/)
        if path.is_file():
            assert not path.read_bytes().startswith(b"\x80") or path.stat().st_size == 1, path  # b"\x80" alone: an empty msgpack map


def test_persistence_refuses_a_planted_pickle(model_copy):
    (model_copy / "classifier.joblib").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ModelError, match="holds a pickle"):
        load_bundle(model_copy)


def test_persistence_refuses_a_pickle_under_a_data_name(model_copy):
    """A pickle renamed .npz and recorded in meta.json is refused before numpy reads it."""
    path = model_copy / ARRAYS_FILE
    path.write_bytes(pickle.dumps(np.zeros(3)))
    meta = json.loads((model_copy / META_FILE).read_text())
    from csvnlp.persistence import sha256_of

    meta["files"][ARRAYS_FILE] = sha256_of(path)
    (model_copy / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="holds a pickle"):
        load_bundle(model_copy)


def test_persistence_refuses_the_old_pickle_format(model_copy):
    meta = json.loads((model_copy / META_FILE).read_text())
    meta["format_version"] = 1
    (model_copy / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="old pickle format"):
        load_bundle(model_copy)


def test_persistence_corrupted_file_is_refused(model_copy):
    path = model_copy / ARRAYS_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match its sha256"):
        load_bundle(model_copy)


def test_persistence_loads_a_model_made_with_another_scikit_learn(model_copy):
    """Plain arrays do not tie a model to the scikit-learn that trained it."""
    meta = json.loads((model_copy / META_FILE).read_text())
    meta["versions"]["scikit-learn"] = "1.6.0"
    (model_copy / META_FILE).write_text(json.dumps(meta))
    assert load_bundle(model_copy).classify([SUBMISSION]) == load_bundle(SHIPPED_MODEL).classify([SUBMISSION])


def test_persistence_refuses_missing_or_corrupt_meta(model_copy, tmp_path):
    with pytest.raises(ModelError, match="no model at"):
        load_bundle(tmp_path / "nowhere")
    (model_copy / META_FILE).write_text("{not json")
    with pytest.raises(ModelError, match="corrupt"):
        load_bundle(model_copy)


def test_persistence_refuses_a_file_it_does_not_record(model_copy):
    (model_copy / "extra.txt").write_bytes(b"surprise")
    with pytest.raises(ModelError, match="does not record"):
        load_bundle(model_copy)


def test_persistence_save_is_atomic_when_killed_midway(shipped_bundle, tmp_path, monkeypatch):
    target = tmp_path / "new-model"

    def boom(*args, **kwargs):
        raise KeyboardInterrupt  # as if train were killed while writing the entity patterns

    monkeypatch.setattr("csvnlp.entities.save_entity_pipeline", boom)
    with pytest.raises(KeyboardInterrupt):
        save_bundle(shipped_bundle, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_persistence_save_refuses_to_overwrite_without_force(shipped_bundle, model_copy):
    with pytest.raises(OutputExistsError):
        save_bundle(shipped_bundle, model_copy)


def test_persistence_round_trip_gives_the_same_predictions(shipped_bundle, tmp_path):
    from csvnlp.predict import ModelBundle

    copy = ModelBundle(shipped_bundle.level_model, shipped_bundle.entity_pipeline, dict(shipped_bundle.meta))
    save_bundle(copy, tmp_path / "m")
    assert load_bundle(tmp_path / "m").classify([SUBMISSION], explain=5) == shipped_bundle.classify([SUBMISSION], explain=5)
    for name in MODEL_FILES:  # same model, same bytes
        assert (tmp_path / "m" / name).read_bytes() == (SHIPPED_MODEL / name).read_bytes(), name


def test_persistence_default_model_is_never_taken_from_the_current_folder(tmp_path, monkeypatch):
    (tmp_path / "models" / "csvnlp-base").mkdir(parents=True)
    (tmp_path / "models" / "csvnlp-base" / META_FILE).write_text("{}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CSVNLP_MODEL", raising=False)
    assert default_model_dir().resolve() != (tmp_path / "models" / "csvnlp-base").resolve()
    assert (default_model_dir() / META_FILE).is_file()
    monkeypatch.setenv("CSVNLP_MODEL", str(tmp_path / "elsewhere"))
    assert default_model_dir() == tmp_path / "elsewhere"
