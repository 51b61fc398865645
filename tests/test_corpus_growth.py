"""Growing the corpus: import, suggest, the annotation loop, negatives in training, compare."""

from __future__ import annotations

import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import CORPUS_DIR, ROOT, SHIPPED_MODEL


@pytest.fixture()
def corpus_copy(tmp_path):
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, target, ignore=shutil.ignore_patterns("extra"))
    return target


NEW_TEXT = "Five regional clusters coach SMEs with innovation vouchers to build a new cross-sectoral value chain for circular textiles."


def test_import_maps_spreadsheet_columns_and_writes_extra(cli, corpus_copy, tmp_path, records):
    sheet = tmp_path / "analyst.csv"
    sheet.write_text(
        "Ref,Description,Labels\n"
        f'A1,"{NEW_TEXT}","cluster_development,value_chain"\n'
        'A2,"A basic study of proton spin using lattice methods and new algorithms.",none\n',
        encoding="utf-8",
    )
    result = cli("corpus", "import", str(sheet), "--corpus-dir", str(corpus_copy), "--id-column", "Ref",
                 "--text-column", "Description", "--levels-column", "Labels", "--levels-sep", ",")
    assert result.exit_code == 0, result.stderr
    written = [json.loads(l) for l in (corpus_copy / "extra" / "analyst.jsonl").read_text().splitlines()]
    assert [(r["id"], r["levels"]) for r in written] == [("A1", ["cluster_development", "value_chain"]), ("A2", [])]


def test_import_reports_bad_rows_with_line_numbers_and_writes_nothing(cli, corpus_copy, tmp_path):
    sheet = tmp_path / "bad.csv"
    sheet.write_text(f'id,text,levels\nB1,"{NEW_TEXT}",cluster_development\nB2,,value_chain\nB3,Some other text here,made_up\n', encoding="utf-8")
    result = cli("corpus", "import", str(sheet), "--corpus-dir", str(corpus_copy))
    assert result.exit_code == 5
    assert f"{sheet}:3: missing text" in result.stderr and f"{sheet}:4: unknown level key 'made_up'" in result.stderr
    assert not (corpus_copy / "extra").exists()


def test_import_sets_aside_duplicates_and_refuses_conflicts(cli, corpus_copy, tmp_path, records):
    katana = next(r for r in records if r["id"] == "katana")
    same = tmp_path / "same.jsonl"
    same.write_text(
        json.dumps({"id": "k2", "text": katana["text"].upper(), "levels": katana["levels"]}) + "\n"
        + json.dumps({"id": "n1", "text": NEW_TEXT, "levels": ["cluster_development"]}) + "\n",
        encoding="utf-8",
    )
    result = cli("corpus", "import", str(same), "--corpus-dir", str(corpus_copy))
    assert result.exit_code == 0 and "duplicate: line 1: same text and levels as cases.jsonl:katana" in result.stderr
    assert len((corpus_copy / "extra" / "same.jsonl").read_text().splitlines()) == 1
    conflict = tmp_path / "conflict.jsonl"
    conflict.write_text(json.dumps({"id": "k3", "text": katana["text"], "levels": ["value_chain"]}) + "\n", encoding="utf-8")
    result = cli("corpus", "import", str(conflict), "--corpus-dir", str(corpus_copy))
    assert result.exit_code == 5 and "conflict: line 1: same text as cases.jsonl:katana" in result.stderr
    assert not (corpus_copy / "extra" / "conflict.jsonl").exists()


def test_suggest_picks_diverse_uncertain_records(cli, tmp_path, records, shipped_bundle):
    import csv

    from csvnlp.features import strip_field_labels

    table = tmp_path / "pool.csv"
    with table.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for r in records:
            writer.writerow([f"copy-{r['id']}", r["text"]])  # already in the corpus: never suggested
            body = strip_field_labels(r["text"])
            writer.writerow([f"half-{r['id']}", body[: len(body) // 2]])
            writer.writerow([f"half2-{r['id']}", body[: len(body) // 2] + " Also."])  # a near-duplicate of the line above
    out = tmp_path / "suggest.jsonl"
    result = cli("suggest", str(table), "--out", str(out), "-t", "text", "--id-column", "id", "--n", "10", "--model", str(SHIPPED_MODEL))
    assert result.exit_code == 0, result.stderr
    items = [json.loads(l) for l in out.read_text().splitlines()]
    assert len(items) == 10
    assert not any(i["id"].startswith("copy-") for i in items)
    vectors = shipped_bundle.level_model.tfidf([i["text"] for i in items])
    similarity = (vectors @ vectors.T).toarray()
    np.fill_diagonal(similarity, 0)
    assert similarity.max() < 0.8
    assert len({i["closest_level"] for i in items}) >= 2
    margins = [i["margin"] for i in items]
    assert all("suggested" in i and "probabilities" in i for i in items) and max(margins) < 0.5


def _annotation_file(tmp_path: Path, records, n=3) -> Path:
    path = tmp_path / "todo.jsonl"
    path.write_text("".join(json.dumps({"id": r["id"], "text": r["text"], "suggested": r["levels"][:1], "entities": r["entities"]}) + "\n" for r in records[:n]))
    return path


def test_annotate_keys_toggle_accept_none_undo_and_resume(cli, tmp_path, records):
    path = _annotation_file(tmp_path, records)
    log = Path(str(path) + ".decisions.jsonl")
    # first item: suggestion is value_chain; toggle 3 on, accept. second: none. then undo, then quit
    result = cli("annotate", str(path), input="3\rnuq")
    assert result.exit_code == 0, result.output
    assert "model suggests" in result.output
    from csvnlp.annotation import read_decisions, resolve_decisions

    standing = resolve_decisions(read_decisions(log))
    assert list(standing) == [records[0]["id"]]
    assert standing[records[0]["id"]]["levels"] == ["value_chain", "cluster_development"]
    # a new session continues with the undone second item
    result = cli("annotate", str(path), input="n2\rq")
    standing = resolve_decisions(read_decisions(log))
    assert standing[records[1]["id"]]["levels"] == []
    assert standing[records[2]["id"]]["levels"] == ["products_markets", "value_chain"]
    assert "3 of 3 decided" in result.output


@pytest.mark.slow
def test_annotate_loses_nothing_when_the_terminal_is_killed(tmp_path, records):
    """Drive `csvnlp annotate` in a real pseudo-terminal, then kill it mid-session."""
    import select
    import termios

    path = _annotation_file(tmp_path, records)
    log = Path(str(path) + ".decisions.jsonl")
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "csvnlp.cli", "annotate", str(path)],
                               stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, close_fds=True)
    os.close(slave)

    def press(key: bytes) -> None:
        # a person types when the prompt waits: click reads keys in raw mode and discards
        # what was typed before, so wait until the terminal is raw
        deadline = time.time() + 60
        while termios.tcgetattr(master)[3] & termios.ICANON and time.time() < deadline:
            if select.select([master], [], [], 0.05)[0]:
                os.read(master, 65536)
        os.write(master, key)
        time.sleep(0.3)

    try:
        press(b"3")
        press(b"\r")  # first item: its suggestion plus cluster_development, accepted
        press(b"1")  # second item: a toggle, not yet accepted
        deadline = time.time() + 30
        while time.time() < deadline and not (log.exists() and log.read_text().count("\n") >= 1):
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)  # a killed terminal, mid-session
        process.wait()
        os.close(master)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(line["id"], line["action"]) for line in lines] == [(records[0]["id"], "label")]
    assert lines[0]["levels"] == ["value_chain", "cluster_development"]

    from csvnlp.annotation import DecisionLog, annotate_loop

    resumed = DecisionLog(log)
    shown = []
    annotate_loop([json.loads(l) for l in path.read_text().splitlines()], resumed, getkey=iter("q").__next__, show=shown.append)
    resumed.close()
    assert records[1]["id"] in shown[0]  # the restart continues with the second item


def test_negative_examples_are_used_in_training(records, report_text):
    from csvnlp.report_source import level_descriptions
    from csvnlp.training import train_bundle

    negatives = [
        {"id": f"neg-{i}", "text": text, "levels": []}
        for i, text in enumerate([
            "We will measure the spin structure of the proton with lattice quantum chromodynamics.",
            "This fellowship studies medieval Latin manuscripts and their scribal networks.",
            "A theoretical analysis of black hole thermodynamics in higher dimensions.",
            "We develop new algorithms for sparse matrix factorisation on graphics processors.",
        ])
    ]
    probe = "We develop new algorithms to study the spin structure of black holes with lattice methods."
    grid = [{"C": 3.0, "lexicon_weight": 10.0, "ngram_max": 1}]
    prototypes = level_descriptions(report_text)
    without = train_bundle(records, prototypes, grid=grid, trained_at="t")
    with_negatives = train_bundle(records + negatives, prototypes, grid=grid, trained_at="t")
    assert with_negatives.meta["corpus"]["cases"] == 31
    assert without.level_model.relevance_threshold_ == 0.0  # no negatives: no relevance model
    assert with_negatives.level_model.relevance_threshold_ > 0.0
    p_without = without.level_model.predict_proba([probe])[0]
    p_with = with_negatives.level_model.predict_proba([probe])[0]
    assert p_with.sum() < p_without.sum()


def test_training_with_force_keeps_the_previous_model(tmp_path, shipped_bundle):
    from csvnlp.persistence import load_bundle, save_bundle
    from csvnlp.predict import ModelBundle

    target = tmp_path / "m"
    save_bundle(ModelBundle(shipped_bundle.level_model, shipped_bundle.entity_pipeline, dict(shipped_bundle.meta, name="first")), target)
    save_bundle(ModelBundle(shipped_bundle.level_model, shipped_bundle.entity_pipeline, dict(shipped_bundle.meta, name="second")), target, force=True)
    assert load_bundle(target).meta["name"] == "second"
    assert load_bundle(tmp_path / "m.previous").meta["name"] == "first"
