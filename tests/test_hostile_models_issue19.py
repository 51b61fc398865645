"""Issue 19, models and languages: meta.json validated like every other model file, files
that are not what their name declares refused, and the language gate on scripts and invisible
characters. Each test names the item it covers."""

from __future__ import annotations

import json
import pickle
import shutil
import zlib
from pathlib import Path

import pytest

from conftest import SHIPPED_MODEL

G = "Clusters coach SMEs with innovation vouchers to build a new cross-border value chain in agri-food and ICT."


def model_copy(tmp_path: Path) -> Path:
    model = tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL, model)
    return model


def edit_meta(model: Path, **changes) -> None:
    meta = json.loads((model / "meta.json").read_text())
    for key, value in changes.items():
        if key == "files":
            meta["files"].update(value)
        else:
            meta[key] = value
    (model / "meta.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("languages", [5, "en", [], ["english!"]])
def test_persistence_issue19_item7_meta_languages_must_be_a_list_of_codes(tmp_path, cli, languages):
    model = model_copy(tmp_path)
    edit_meta(model, languages=languages)
    result = cli("classify", G, "--model", str(model))
    assert result.exit_code == 4, result.output
    assert '"languages" must be a list' in result.output


@pytest.mark.parametrize("name,content", [
    ("weights.dat", pickle.dumps({"a": 1}, protocol=0)),
    ("extra.json", pickle.dumps({"a": 1}, protocol=1)),
    ("level_model.json.bak", b"{}"),
    ("aux.bin", zlib.compress(pickle.dumps([1, 2], protocol=2))),  # what joblib.dump(compress=True) writes
])
def test_persistence_issue19_item18_a_file_not_in_its_declared_format_is_refused(tmp_path, cli, name, content):
    import hashlib

    model = model_copy(tmp_path)
    (model / name).write_bytes(content)
    edit_meta(model, files={name: hashlib.sha256(content).hexdigest()})
    result = cli("classify", G, "--model", str(model))
    assert result.exit_code == 4, result.output
    assert name in result.output and "refused" in result.output


@pytest.mark.parametrize("entry", ["../outside.json", "/etc/passwd"])
def test_persistence_issue19_item23_meta_file_entries_stay_inside_the_model(tmp_path, cli, entry):
    model = model_copy(tmp_path)
    (tmp_path / "outside.json").write_text("{}")
    edit_meta(model, files={entry: "0" * 64})
    result = cli("classify", G, "--model", str(model))
    assert result.exit_code == 4, result.output
    assert "outside the model folder" in result.output


def test_persistence_issue19_item18_the_shipped_model_and_a_recognizer_pass_the_format_check(tmp_path):
    from csvnlp.persistence import refuse_undeclared_formats

    refuse_undeclared_formats(SHIPPED_MODEL)
    import spacy

    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    ner.add_label("CLUSTER")
    nlp.initialize()
    (tmp_path / "recognizer").mkdir()
    ner.to_disk(tmp_path / "recognizer" / "ner")
    refuse_undeclared_formats(tmp_path)


@pytest.mark.parametrize("text,expected", [
    ("تعمل المجموعات الصناعية على تدريب الشركات الصغيرة والمتوسطة لبناء سلاسل قيمة جديدة في الصناعات الغذائية", "ar"),
    ("产业集群通过创新券指导中小企业在农业食品和信息通信技术领域建立新的跨境价值链", "zh"),
])
def test_language_issue19_also_other_scripts_are_not_read_as_european_languages(text, expected):
    from csvnlp.language import detect_language

    assert detect_language(text).code == expected


def test_language_issue19_also_zero_width_characters_do_not_change_the_language():
    from csvnlp.language import detect_language

    text = "Die Cluster unterstützen kleine und mittlere Unternehmen beim Aufbau neuer Wertschöpfungsketten"
    hidden = "\u200b".join(text)
    assert detect_language(hidden).code == detect_language(text).code == "de"
    english = "The cluster supports small firms to build new value chains with the region"
    assert detect_language("\u200d".join(english)).code == "en"
