"""Regression tests for the defects listed in issue 12 (each failed before its fix)."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest

from conftest import SHIPPED_MODEL

# ---------------------------------------------------------------------------- the decisions log


def _label(record_id: str, levels: list[str]) -> dict:
    return {"id": record_id, "text": f"text of {record_id}", "levels": levels, "action": "label"}


def test_annotation_regression_issue12_torn_last_line_is_cut_not_glued_to_the_next_decision(tmp_path):
    """A kill in the middle of writing a decision, at every byte of that line: reopening and
    deciding again loses none of the decisions written before, and invents none."""
    from csvnlp.annotation import DecisionLog, read_decisions, resolve_decisions

    before = [_label("a", ["value_chain"]), _label("b", []), {"action": "undo"}, _label("c", ["products_markets"])]
    complete = "".join(json.dumps(a) + "\n" for a in before).encode()
    torn = (json.dumps(_label("d", ["cluster_development"])) + "\n").encode()
    for cut in range(0, len(torn)):  # cut == 0: killed before the write began
        log_path = tmp_path / f"log-{cut}.jsonl"
        log_path.write_bytes(complete + torn[:cut])
        log = DecisionLog(log_path)
        log.append(_label("e", ["value_chain"]))
        log.close()
        lines = log_path.read_bytes().splitlines(keepends=True)
        assert all(line.endswith(b"\n") for line in lines) and len(lines) == len(before) + 1
        standing = resolve_decisions(read_decisions(log_path))
        assert {k: v["levels"] for k, v in standing.items()} == {"a": ["value_chain"], "c": ["products_markets"], "e": ["value_chain"]}


def test_annotation_regression_issue12_relabel_then_undo_restores_the_first_label():
    from csvnlp.annotation import resolve_decisions

    standing = resolve_decisions([_label("x", ["value_chain"]), _label("x", ["products_markets"]), {"action": "undo"}])
    assert standing["x"]["levels"] == ["value_chain"]  # it used to drop both decisions
    standing = resolve_decisions([_label("x", ["value_chain"]), _label("y", []), _label("x", []), {"action": "undo"}, {"action": "undo"}])
    assert list(standing) == ["x"] and standing["x"]["levels"] == ["value_chain"]


def test_annotation_regression_issue12_suggest_refuses_to_overwrite_without_force(cli, tmp_path, records):
    table = tmp_path / "pool.csv"
    table.write_text("id,text\n" + "".join(f"{i},\"{r['text'][:300]}\"\n" for i, r in enumerate(records[:5])))
    out = tmp_path / "todo.jsonl"
    out.write_text('{"id": "1", "text": "being annotated"}\n')
    Path(f"{out}.decisions.jsonl").write_text(json.dumps(_label("1", [])) + "\n")
    args = ["suggest", str(table), "--out", str(out), "-t", "text", "--n", "2", "--model", str(SHIPPED_MODEL)]
    result = cli(*args)
    assert result.exit_code == 6 and "decisions were already made" in result.stderr and "--force" in result.stderr
    assert out.read_text() == '{"id": "1", "text": "being annotated"}\n'
    result = cli(*args, "--force")
    assert result.exit_code == 0, result.stderr
    assert len(out.read_text().splitlines()) == 2


# ---------------------------------------------------------------------------- files and modes


def test_corpus_regression_issue12_atomic_writes_follow_the_umask(tmp_path):
    from csvnlp.corpus import write_text_atomically

    previous = os.umask(0o022)
    try:
        write_text_atomically(tmp_path / "cases.jsonl", "{}\n")
        assert stat.S_IMODE((tmp_path / "cases.jsonl").stat().st_mode) == 0o644  # was 0600
        os.umask(0o027)
        write_text_atomically(tmp_path / "card.md", "x")
        assert stat.S_IMODE((tmp_path / "card.md").stat().st_mode) == 0o640
    finally:
        os.umask(previous)


# ---------------------------------------------------------------------------- typed errors


def test_corpus_regression_issue12_missing_table1_is_a_clear_error(cli, tmp_path):
    import shutil

    from conftest import CORPUS_DIR

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    (corpus / "table1.csv").unlink()
    result = cli("corpus", "build", "--corpus-dir", str(corpus), "--out", str(tmp_path / "c.jsonl"))
    assert result.exit_code == 5 and "cannot read Table 1" in result.stderr and "Traceback" not in result.output


def test_levels_regression_issue12_unknown_level_phrase_is_a_typed_error():
    from csvnlp.errors import CsvnlpError
    from csvnlp.levels import level_from_phrase

    with pytest.raises(CsvnlpError, match="no CSV level named in the Table 1 level cell 'Something else'"):
        level_from_phrase("Something else")


def test_cli_regression_issue12_compare_on_a_tiny_corpus_is_a_clear_error(cli, tmp_path, records):
    corpus = tmp_path / "tiny.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records[:3]))
    result = cli("compare", str(SHIPPED_MODEL), str(SHIPPED_MODEL), "--cv", "--corpus", str(corpus), "--repeats", "1")
    assert result.exit_code == 5 and "cannot compare on this corpus (3 cases)" in result.stderr


# ---------------------------------------------------------------------------- bounded reads, U+FFFD


def test_inputs_regression_issue12_classify_reads_at_most_the_limit(tmp_path):
    from csvnlp.errors import InputError
    from csvnlp.inputs import MAX_INPUT_BYTES, read_bounded, read_text_file

    class Endless(io.RawIOBase):
        """A stream that never ends; counts what is read from it."""

        served = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            buffer[:] = b"a" * len(buffer)
            self.served += len(buffer)
            return len(buffer)

    stream = Endless()
    with pytest.raises(InputError, match="longer than"):
        read_bounded(io.BufferedReader(stream), "standard input")
    assert stream.served <= MAX_INPUT_BYTES + (1 << 16)  # it used to read until memory ran out
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(50 * MAX_INPUT_BYTES)  # sparse: 40 MB of NULs
    with pytest.raises(InputError, match="longer than"):
        read_text_file(big)


def test_cli_regression_issue12_classify_stdin_over_the_limit_is_exit_3(cli):
    from csvnlp.inputs import MAX_INPUT_BYTES

    result = cli("classify", "-", "--model", str(SHIPPED_MODEL), input=b"word " * (MAX_INPUT_BYTES // 5 + 10))
    assert result.exit_code == 3 and "longer than" in result.stderr


def test_inputs_regression_issue12_one_replacement_character_policy_for_classify_and_tag(tmp_path, cli):
    """Valid UTF-8 holding one U+FFFD is text in both commands (tag used to refuse it); bytes
    that are not UTF-8 are refused by both; many U+FFFD characters are refused by both."""
    from csvnlp.tagging import TagOptions, tag_table

    one = "Clusters coach SMEs \ufffd with innovation vouchers to build a new value chain in the region."
    many = "\ufffd" * 40 + " cluster value chain"
    cases = {"one": one.encode(), "many": many.encode(), "latin1": one.replace("\ufffd", "\xe9").encode("latin-1")}
    table = tmp_path / "in.csv"
    table.write_bytes(b"id,text\n" + b"".join(name.encode() + b',"' + data + b'"\n' for name, data in cases.items()))
    tag_table(table, tmp_path / "out.jsonl", TagOptions(text_columns=["text"], id_column="id"), SHIPPED_MODEL)
    tagged = {row["id"]: row["status"] for row in map(json.loads, (tmp_path / "out.jsonl").read_text().splitlines())}
    for name, data in cases.items():
        (tmp_path / f"{name}.txt").write_bytes(data)
        result = cli("classify", "--file", str(tmp_path / f"{name}.txt"), "--json", "--model", str(SHIPPED_MODEL))
        classify_ok = result.exit_code == 0
        assert classify_ok == (tagged[name] != "error"), (name, result.stderr, tagged[name])
        assert classify_ok == (name == "one")


# ---------------------------------------------------------------------------- the entity prefilter


def test_entities_regression_issue12_prefilter_passes_a_learned_name_written_with_other_spacing(shipped_bundle):
    from csvnlp.entities import NAMES_COMPONENT, doc_entities

    finder = shipped_bundle.entity_pipeline.get_pipe(NAMES_COMPONENT)
    text = "Partner: Asociación Valenciana de Empresarios de Plásticos-AVEP joined."  # the pattern has " - "
    found = doc_entities(shipped_bundle.entity_pipeline(text))
    assert found and found[0]["label"] == "CLUSTER"
    assert finder.may_find_names(text)


# ---------------------------------------------------------------------------- found by the fuzz tests


def test_corpus_regression_issue12_deeply_nested_json_is_a_problem_not_a_traceback(cli, tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text('{"id": "1", "text": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    result = cli("corpus", "validate", str(path))
    assert result.exit_code == 5 and "nested too deeply" in result.stderr


def test_tables_regression_issue12_bare_cr_error_row_keeps_its_id(tmp_path):
    from csvnlp.tagging import TagOptions, tag_table

    (tmp_path / "in.csv").write_bytes(b"id,text\nr0,\rx\nr1,Clusters coach SMEs in a new value chain.\n")
    tag_table(tmp_path / "in.csv", tmp_path / "o.jsonl", TagOptions(text_columns=["text"], id_column="id"), SHIPPED_MODEL)
    rows = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [(r["id"], r["status"] == "error") for r in rows] == [("r0", True), ("r1", False)]


def test_corpus_regression_issue12_import_of_a_decisions_log_skips_its_torn_last_line(tmp_path):
    import shutil

    from conftest import CORPUS_DIR
    from csvnlp.corpus_import import import_file

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS_DIR / "cases.jsonl", corpus / "cases.jsonl")
    log = tmp_path / "todo.jsonl.decisions.jsonl"
    first = {"id": "x1", "text": "A cluster coaches SMEs in a new regional value chain for olive oil.", "levels": ["value_chain"], "action": "label"}
    log.write_text(json.dumps(first) + "\n" + json.dumps(_label("x2", []))[:25])
    report = import_file(log, corpus)
    assert report.problems == [] and report.imported == 1


def test_corpus_regression_issue12_a_record_holding_u2028_reads_back(tmp_path):
    from csvnlp.corpus import dump_jsonl, validate_file

    path = tmp_path / "c.jsonl"
    path.write_text(dump_jsonl([{"id": "a", "text": "line\u2028separator and \x85 next-line", "levels": []}]), encoding="utf-8")
    assert validate_file(path) == []


def test_entities_regression_issue12_prefilter_is_a_superset_of_the_full_pipeline(shipped_bundle):
    """Property: any text in which the full pipeline finds a name passes the prefilter, however
    the learned names are spaced, split or surrounded."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from csvnlp.entities import NAMES_COMPONENT, doc_entities

    nlp = shipped_bundle.entity_pipeline
    finder = nlp.get_pipe(NAMES_COMPONENT)
    # the names whose spelling can vary without changing their tokens: those with punctuation
    phrases = [list(nlp.make_doc(p["pattern"])) for p in finder.patterns]
    phrases = [tokens for tokens in phrases if any(not t.text.isalnum() for t in tokens)]
    separators = st.sampled_from(["", " ", "  ", "\n", "\t", "-", " - ", "(", ")", ",", "\u00a0"])

    @st.composite
    def respaced(draw):
        """A learned name with the space after some tokens dropped or added."""
        tokens = draw(st.sampled_from(phrases))
        out = ""
        for token in tokens:
            space = token.whitespace_
            if draw(st.integers(0, 3)) == 0:
                space = "" if space else " "
            out += token.text + space
        return out.rstrip()

    @settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(pieces=st.lists(st.one_of(respaced(), st.text(max_size=12), separators), min_size=1, max_size=6))
    def check(pieces):
        text = "".join(pieces)
        if doc_entities(nlp(text)):
            assert finder.may_find_names(text), text

    check()


def test_entities_regression_issue12_long_punctuation_runs_take_bounded_time(shipped_bundle, cli, tmp_path):
    """Found by the fuzz run: spaCy's tokenizer is quadratic in a run without white space
    (8,000 commas took 10 s); a long run of commas stalled classify, tag and corpus validate."""
    import time

    text = "INNOSUP funds the Basque Food Cluster " + "," * 150_000
    started = time.perf_counter()
    result = shipped_bundle.classify([text], entities=True)[0]
    assert time.perf_counter() - started < 20
    assert {(e["text"], e["label"]) for e in result["entities"]} == {("INNOSUP", "PROGRAMME"), ("Basque Food Cluster", "CLUSTER")}
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "Basque Food Cluster " + '"' * 100_000, "levels": [],
                                "entities": [{"start": 0, "end": 19, "label": "CLUSTER"}]}) + "\n")
    started = time.perf_counter()
    result = cli("corpus", "validate", str(path))
    assert result.exit_code == 0, result.stderr
    assert time.perf_counter() - started < 20
