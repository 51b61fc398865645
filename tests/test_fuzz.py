"""Property-based tests (Hypothesis): hostile input never ends in a traceback, always in a
documented exit code, and ``tag`` accounts for every record (issue 12, item 3).

A quick run (a few dozen cases per command, about a minute in all); ``benchmarks/fuzz.py``
runs the same properties with many more cases and records the figures.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile import (FOREIGN, GOOD, HUGE_INTEGER, csv_of, hostile_bytes, hostile_corpus, hostile_csv, jsonl_of, known_records,
                     run_classify, run_import, run_tag, run_validate)

from conftest import CORPUS_DIR

QUICK = settings(max_examples=50, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])


@pytest.fixture(scope="module")
def work():
    directory = Path(tempfile.mkdtemp(prefix="csvnlp-fuzz-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def corpus_dir(work):
    target = work / "corpus"
    target.mkdir()
    shutil.copy(CORPUS_DIR / "cases.jsonl", target / "cases.jsonl")
    return target


@QUICK
@given(data=hostile_csv())
def test_fuzz_tag_hostile_csv_never_tracebacks_and_accounts_for_every_record(work, data):
    run_tag(work, data, "in.csv")


@QUICK
@given(data=hostile_bytes(), name=st.sampled_from(["in.jsonl", "in.csv", "in.tsv", "in.parquet"]))
def test_fuzz_tag_hostile_bytes_in_any_format(work, data, name):
    run_tag(work, data, name)


@QUICK
@given(records=known_records(), sep=st.sampled_from([",", ";", "\t"]), fmt=st.sampled_from(["csv", "jsonl"]))
def test_fuzz_tag_properly_quoted_hostile_texts_come_back_one_row_each_in_order(work, records, sep, fmt):
    data = csv_of(records, sep) if fmt == "csv" else jsonl_of(records)
    outcome = run_tag(work, data, f"in.{fmt}", expected_ids=[record_id for record_id, _ in records])
    assert outcome.exit_code == 0 and outcome.records == len(records)


@QUICK
@given(data=st.one_of(hostile_bytes(), st.just(GOOD.encode())))
def test_fuzz_classify_never_tracebacks(work, data):
    run_classify(work, data)


@QUICK
@given(corpus=hostile_corpus())
def test_fuzz_corpus_validate_never_tracebacks(work, corpus):
    data, suffix = corpus
    outcome = run_validate(work, data, suffix)
    assert outcome.exit_code in (0, 3, 5)


@QUICK
@given(corpus=hostile_corpus())
def test_fuzz_corpus_import_never_tracebacks(work, corpus_dir, corpus):
    data, suffix = corpus
    outcome = run_import(work, data, suffix, corpus_dir)
    assert outcome.exit_code in (0, 3, 5)


@QUICK
@given(kinds=st.lists(st.sampled_from(["good", "foreign", "surrogate", "huge"]), min_size=1, max_size=8), data=st.data())
def test_fuzz_tag_language_gate_lone_surrogates_and_huge_integers_give_their_status(work, kinds, data):
    """Issue 19: a text in another language is unsupported_language (never a level), a lone
    surrogate or a 5,000-digit number is an error row for that record only, the rest is tagged."""
    import json

    lines, expected = [], []
    kinds = kinds + ["good"]  # a file of nothing but unreadable lines is refused whole (exit 3), rightly
    for i, kind in enumerate(kinds):
        if kind == "good":
            lines.append(json.dumps({"id": f"r{i}", "text": GOOD}))
            expected.append({"ok", "uncertain"})
        elif kind == "foreign":
            lines.append(json.dumps({"id": f"r{i}", "text": data.draw(st.sampled_from(FOREIGN))}))
            expected.append({"unsupported_language"})
        elif kind == "surrogate":
            lines.append(json.dumps({"id": f"r{i}", "text": GOOD + " \ud83d"}))
            expected.append({"error"})
        else:
            lines.append('{"id": "r%d", "text": "%s", "n": %s}' % (i, GOOD, HUGE_INTEGER))
            expected.append({"error"})
    outcome = run_tag(work, ("\n".join(lines) + "\n").encode(), "in.jsonl")
    assert outcome.exit_code == 0 and outcome.records == len(kinds)
    rows = [json.loads(line) for line in (work / "out.jsonl").read_text(encoding="utf-8").split("\n") if line]
    assert [row["status"] in allowed for row, allowed in zip(rows, expected)] == [True] * len(rows), [r["status"] for r in rows]
    assert [row["id"] for row in rows if row["status"] != "error" or "digits" not in row["error"]] == [
        f"r{i}" for i, kind in enumerate(kinds) if kind != "huge"]
