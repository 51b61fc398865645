"""`csvnlp classify` as a user runs it: output shapes, bad input, bad model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, SHIPPED_MODEL

SUBMISSION = (
    "Clusters from five regions coach SMEs with innovation vouchers to build a new "
    "cross-sectoral value chain in agri-food and ICT, funded by INNOSUP-01-2018-2020 and "
    "coordinated by the Basque Food Cluster."
)


def test_classify_json_for_an_innosup_style_submission(cli):
    result = cli("classify", SUBMISSION, "--json", "--model", str(SHIPPED_MODEL))
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert {"levels", "predicted", "status", "entities", "explanation"} <= set(payload)
    assert [item["level"] for item in payload["levels"]] == ["products_markets", "value_chain", "cluster_development"]
    assert "cluster_development" in payload["predicted"] and payload["status"] == "ok"
    entities = {(e["text"], e["label"]) for e in payload["entities"]}
    assert ("Basque Food Cluster", "CLUSTER") in entities
    assert ("INNOSUP-01-2018-2020", "PROGRAMME") in entities
    for e in payload["entities"]:
        assert SUBMISSION[e["start"] : e["end"]] == e["text"]


def test_classify_human_output(cli):
    result = cli("classify", SUBMISSION, "--model", str(SHIPPED_MODEL))
    assert result.exit_code == 0
    assert "cluster_development" in result.stdout and "status: ok" in result.stdout
    assert "programmes: INNOSUP-01-2018-2020" in result.stdout
    why = next(line for line in result.stdout.splitlines() if "why cluster_development:" in line)
    assert all(term.strip() for term in why.split(":", 1)[1].split(","))  # no term eaten as markup


def test_classify_files_and_stdin(cli, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(SUBMISSION, encoding="utf-8")
    b.write_bytes(b"\xef\xbb\xbf" + SUBMISSION.encode())  # a BOM is fine
    result = cli("classify", "--file", str(a), "--file", str(b), "--json", "--model", str(SHIPPED_MODEL))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["source"] for line in lines] == [str(a), str(b)]
    assert lines[0]["levels"] == lines[1]["levels"]
    from_stdin = cli("classify", "-", "--json", "--model", str(SHIPPED_MODEL), input=SUBMISSION)
    assert json.loads(from_stdin.stdout)["levels"] == lines[0]["levels"]


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["   "], None, "whitespace-only text"),
        ([""], None, "empty text"),
        (["-"], b"\x00\x01\x02binary", "binary"),
        (["-"], b"caf\xe9 clusters in Lyon", "not UTF-8"),
        (["--file", "/nonexistent/x.txt"], None, "cannot read"),
        ([], None, "nothing to classify"),
    ],
)
def test_classify_bad_input_is_one_clear_line_and_exit_3(cli, args, stdin, message):
    result = cli("classify", *args, "--model", str(SHIPPED_MODEL), input=stdin)
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_classify_corrupted_model_exit_4(cli, tmp_path):
    model = tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL, model)
    arrays = model / "level_model.npz"
    data = bytearray(arrays.read_bytes())
    data[100] ^= 0xFF
    arrays.write_bytes(bytes(data))
    result = cli("classify", SUBMISSION, "--model", str(model))
    assert result.exit_code == 4
    assert "sha256" in result.stderr and "Traceback" not in result.stderr


def test_classify_model_holding_a_pickle_exit_4_with_one_line(tmp_path):
    """Issue 11: a pickle planted in a model is refused before anything is unpickled."""
    import pickle

    model = tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL, model)
    marker = tmp_path / "executed"
    # unpickling this would create the marker file
    payload = pickle.dumps(type("Boom", (), {"__reduce__": lambda self: (open, (str(marker), "w"))})())
    (model / "classifier.joblib").write_bytes(payload)
    done = subprocess.run([sys.executable, "-m", "csvnlp.cli", "classify", SUBMISSION, "--model", str(model)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 4 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "holds a pickle (classifier.joblib)" in done.stderr, done.stderr
    assert not marker.exists()


def test_classify_missing_model_exit_4(cli, tmp_path):
    result = cli("classify", SUBMISSION, "--model", str(tmp_path / "none"))
    assert result.exit_code == 4 and "no model at" in result.stderr


def test_cli_help_is_fast_and_does_not_import_heavy_libraries():
    code = "import sys; from csvnlp.cli import app; import csvnlp.cli; print(sorted(m for m in ('spacy','sklearn','pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_subprocess_exit_status_and_no_traceback(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    done = subprocess.run([sys.executable, "-m", "csvnlp.cli", "classify", "--file", str(empty)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 3
    assert done.stderr.startswith("csvnlp: error:") and "Traceback" not in done.stderr


def test_cli_classify_imports_neither_scikit_learn_nor_scipy():
    """issue 20: a cold `csvnlp classify` predicts from the saved arrays; importing scikit-learn
    (2+ s) would cost more than everything else it does for one text."""
    code = ("import sys\nfrom csvnlp.cli import app\n"
            "try:\n    app(['classify', sys.argv[1], '--json'])\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, SUBMISSION], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert '"status": "ok"' in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "[]"
