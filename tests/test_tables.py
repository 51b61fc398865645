"""Reading hostile tables: every record accounted for (issue 12, item 1 and 3).

Each input record must come out exactly once, as a tagged row or an error row with its record
number, input line and reason; a malformed region never swallows the records after it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from csvnlp.errors import InputError
from csvnlp.tables import MAX_RECORD_BYTES, TableReader, csv_records, delimiter_from_header
from csvnlp.tagging import OUTPUT_COLUMNS, TagOptions, tag_table

from conftest import SHIPPED_MODEL

GOOD = "Clusters coach SMEs with innovation vouchers to build a new cross-border value chain in the region."


def tag(tmp_path: Path, name: str, data: bytes, out: str = "out.csv", **options) -> tuple:
    source = tmp_path / name
    source.write_bytes(data)
    options.setdefault("text_columns", ["text"])
    options.setdefault("id_column", "id")
    summary = tag_table(source, tmp_path / out, TagOptions(**options), SHIPPED_MODEL)
    frame = pd.read_csv(tmp_path / out, dtype=str, keep_default_na=False)
    errors = [json.loads(line) for line in (tmp_path / f"{out}.errors.jsonl").read_text().splitlines()]
    return summary, frame, errors


def assert_accounted(summary, frame, errors, records: int) -> None:
    """The accounting property: input records = output rows = tagged + uncertain + errors."""
    assert summary.records == records == len(frame) == summary.rows
    assert summary.tagged + summary.uncertain + summary.errors == records
    assert len(errors) == summary.errors == int((frame["status"] == "error").sum())
    assert [e["row"] for e in errors] == [i + 1 for i in frame.index[frame["status"] == "error"]]


# ---------------------------------------------------------------------------- the issue's reproductions


def test_tables_regression_issue12_unterminated_quote_is_an_error_row_and_later_records_are_tagged(tmp_path, cli):
    source = tmp_path / "quote.csv"
    source.write_bytes(b'id,text\n1,"ok text"\n2,"unterminated quote here\n3,' + GOOD.encode() + b"\n")
    out = tmp_path / "out.csv"
    result = cli("tag", str(source), "--out", str(out), "-t", "text", "--id-column", "id", "--model", str(SHIPPED_MODEL))
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert frame["id"].tolist() == ["1", "2", "3"]
    assert frame["status"].tolist()[1] == "error" and frame["status"].tolist()[2] != "error"
    assert "unterminated quote" in frame["error"][1] and "line 3" in frame["error"][1]
    errors = [json.loads(line) for line in Path(f"{out}.errors.jsonl").read_text().splitlines()]
    assert errors == [{"row": 2, "line": 3, "id": "2", "reason": frame["error"][1]}]


def test_tables_regression_issue12_empty_parquet_gives_empty_output_with_header(tmp_path, cli):
    source = tmp_path / "empty.parquet"
    pd.DataFrame({"id": pd.Series([], dtype=str), "text": pd.Series([], dtype=str)}).to_parquet(source)
    for name in ("e.csv", "e.parquet", "e.jsonl"):
        out = tmp_path / name
        result = cli("tag", str(source), "--out", str(out), "-t", "text", "--model", str(SHIPPED_MODEL))
        assert result.exit_code == 0, result.stderr
        assert Path(f"{out}.errors.jsonl").read_text() == ""
        assert not list(tmp_path.glob(".*.tmp")) and not Path(f"{out}.parts").exists()
    assert (tmp_path / "e.csv").read_text().strip().split(",") == [f'"{c}"' for c in OUTPUT_COLUMNS]
    assert list(pd.read_parquet(tmp_path / "e.parquet").columns) == OUTPUT_COLUMNS
    assert (tmp_path / "e.jsonl").read_text() == ""


@pytest.mark.parametrize("name, data", [("zero.csv", b""), ("header.csv", b"id,text\n"), ("blank.csv", b"\n\n"), ("zero.jsonl", b""), ("blank.jsonl", b"\n \n")])
def test_tables_empty_inputs_give_empty_outputs(tmp_path, name, data):
    summary, frame, errors = tag(tmp_path, name, data)
    assert list(frame.columns) == OUTPUT_COLUMNS and len(frame) == 0 and errors == []
    assert summary.records == summary.rows == 0


def test_tables_regression_issue12_jsonl_first_record_without_text_is_an_error_row(tmp_path):
    data = b'{"id": "a"}\n' + json.dumps({"id": "b", "text": GOOD}).encode() + b"\n{\"id\": \"c\", \"title\": \"x\"}\n"
    summary, frame, errors = tag(tmp_path, "in.jsonl", data)
    assert frame["status"].tolist()[0] == "error" and frame["status"].tolist()[2] == "error"
    assert frame["error"][0] == frame["error"][2] == "no field text in this record"  # one defect, one behaviour
    assert_accounted(summary, frame, errors, 3)


def test_tables_jsonl_without_the_text_field_anywhere_is_refused_up_front(tmp_path):
    (tmp_path / "in.jsonl").write_text('{"id": 1, "abstract": "x"}\n')
    with pytest.raises(InputError, match="no record in its first 1 line.*fields seen: id, abstract"):
        tag_table(tmp_path / "in.jsonl", tmp_path / "o.csv", TagOptions(text_columns=["text"]), SHIPPED_MODEL)
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "o.csv.parts").exists()


# ---------------------------------------------------------------------------- hostile records


def test_tables_nul_byte_and_undecodable_field_are_error_rows_for_their_record_only(tmp_path):
    data = (b"id,text\n1," + GOOD.encode() + b"\n2,nul \x00 inside\n3,caf\xe9 latin-1\n4," + GOOD.encode() + b"\n")
    summary, frame, errors = tag(tmp_path, "in.csv", data)
    assert frame["id"].tolist() == ["1", "2", "3", "4"]
    assert [e["id"] for e in errors] == ["2", "3"]
    assert "NUL" in errors[0]["reason"] and "not valid UTF-8" in errors[1]["reason"]
    assert_accounted(summary, frame, errors, 4)


def test_tables_regression_issue12_one_nul_byte_no_longer_refuses_the_whole_file(tmp_path):
    rows = b"".join(b"%d,%s\n" % (i, GOOD.encode()) for i in range(1, 60))
    summary, frame, errors = tag(tmp_path, "in.csv", b"id,text\n" + rows + b"60,\x00\x00\x00\x00\n")
    assert [e["row"] for e in errors] == [60]
    assert_accounted(summary, frame, errors, 60)


def test_tables_header_line_repeated_mid_file_is_an_error_row_and_a_row_that_only_starts_like_it_is_not(tmp_path):
    # two exports joined: the second header (with stray spaces) is no record; "id" as a row's
    # first field with other text after it is an ordinary record (the reader compares the first
    # field before the whole line)
    data = b"id,text\n1," + GOOD.encode() + b"\n id , text \nid," + GOOD.encode() + b"\n4," + GOOD.encode() + b"\n"
    summary, frame, errors = tag(tmp_path, "in.csv", data)
    assert [(e["row"], e["line"]) for e in errors] == [(2, 3)]
    assert "header line again" in errors[0]["reason"]
    assert frame["status"].tolist()[2] != "error" and frame["id"].tolist()[2] == "id"
    assert_accounted(summary, frame, errors, 4)


def test_tables_wrong_field_counts_bare_cr_and_long_records_are_error_rows(tmp_path):
    long_field = b"x" * (MAX_RECORD_BYTES + 10)
    data = (b"id,text\n1,too,many\n2\n3,bare\rcr\n4," + long_field + b"\n5," + GOOD.encode() + b'\n6,"' + long_field + b'"\n7,' + GOOD.encode() + b"\n")
    summary, frame, errors = tag(tmp_path, "in.csv", data)
    assert [(e["row"], e["line"]) for e in errors] == [(1, 2), (2, 3), (3, 4), (4, 5), (6, 7)]
    assert "field" in errors[0]["reason"] and "carriage return" in errors[2]["reason"]
    assert "longer than" in errors[3]["reason"] and "longer than" in errors[4]["reason"]
    assert frame["id"].tolist()[4] == "5" and frame["id"].tolist()[6] == "7"
    assert_accounted(summary, frame, errors, 7)


def test_tables_quoted_multiline_fields_doubled_quotes_and_bom_parse_as_one_record(tmp_path):
    data = '\ufeffid,text\n1,"line one\nline two, with ""quotes"" and ; semicolons"\n2,"a\r\nb"\n'.encode()
    summary, frame, errors = tag(tmp_path, "in.csv", data)
    assert errors == [] and frame["id"].tolist() == ["1", "2"]
    assert_accounted(summary, frame, errors, 2)


def test_tables_csv_records_resynchronise_after_each_unterminated_region():
    data = b'h1,h2\n1,"open\n2,ok\n3,"open again\n4,fine\n'
    records = list(csv_records(io.BytesIO(data), ","))
    # 1 swallows everything to the end: error, then 2 is read; 3 swallows to the end: error, then 4
    assert [(line, problem is None) for line, _, problem in records] == [(1, True), (2, False), (3, True), (4, False), (5, True)]


def test_tables_jsonl_hostile_lines_are_error_rows(tmp_path):
    deep = b"[" * 100_000 + b"]" * 100_000
    data = b"\n".join([
        json.dumps({"id": "1", "text": GOOD}).encode(), b"{not json", deep, b"[1, 2]", b'{"id": "5", "text": {"a": 1}}',
        b'{"id": "6", "text": "caf\xe9"}', b'{"id": "7", "text": "nul \\u0000 escaped is text"}', json.dumps({"id": "8", "text": GOOD}).encode(),
    ]) + b"\n"
    summary, frame, errors = tag(tmp_path, "in.jsonl", data)
    assert [e["line"] for e in errors] == [2, 3, 4, 5, 6, 7]
    assert "nested too deeply" in errors[1]["reason"] and "not an object" in errors[2]["reason"]
    assert "JSON object" in errors[3]["reason"] and "UTF-8" in errors[4]["reason"] and "NUL" in errors[5]["reason"]
    assert_accounted(summary, frame, errors, 8)


# ---------------------------------------------------------------------------- the delimiter


@pytest.mark.parametrize("header, expected", [("id,text", ","), ("id;text", ";"), ("id\ttext", "\t"), ("id|text", "|"),
                                              ('"a;b",c', ","), ("single", ",")])
def test_tables_delimiter_comes_from_the_header_line(header, expected):
    assert delimiter_from_header(header)[0] == expected


def test_tables_regression_issue12_delimiter_is_not_sniffed_from_the_content(tmp_path):
    # a text full of semicolons and tabs once made the sniffer pick ';' and refuse the file
    data = b'id,text\n1,"a; b; c; d;\te; f; g;"\n2,' + GOOD.encode() + b"\n"
    summary, frame, errors = tag(tmp_path, "in.csv", data)
    assert frame["id"].tolist() == ["1", "2"]
    assert_accounted(summary, frame, errors, 2)


def test_tables_wrong_delimiter_says_what_was_detected_and_how_to_override(tmp_path, cli):
    (tmp_path / "in.csv").write_text("id;title,with,commas;text\n1;a;b\n")
    result = cli("tag", str(tmp_path / "in.csv"), "--out", str(tmp_path / "o.csv"), "-t", "text", "--model", str(SHIPPED_MODEL))
    assert result.exit_code == 3
    assert "split on ','" in result.stderr and "2 ';'" in result.stderr and "--sep" in result.stderr
    result = cli("tag", str(tmp_path / "in.csv"), "--out", str(tmp_path / "o.csv"), "-t", "text", "--sep", ";", "--model", str(SHIPPED_MODEL))
    assert result.exit_code == 0, result.stderr


def test_tables_reader_memory_is_bounded_by_the_record_limit(tmp_path):
    """A 60 MB line without a newline costs one record limit of memory, not the line."""
    import tracemalloc

    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write(b"id,text\n1,")
        block = b"y" * (1 << 20)
        for _ in range(60):
            handle.write(block)
        handle.write(b"\n2,ok\n")
    reader = TableReader(path, TagOptions(text_columns=["text"], id_column="id", batch_size=10))
    tracemalloc.start()
    chunks = list(reader.chunks())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [c.problems[0] is not None for c in chunks] == [True] and chunks[0].ids == ["1", "2"]
    assert peak < 4 * MAX_RECORD_BYTES, f"peak {peak:,} bytes"


def test_tables_truncated_gzip_is_a_clear_error_that_leaves_nothing_behind(tmp_path, cli):
    import gzip

    data = b"id,text\n" + b"".join(b"%d,Clusters coach SMEs in value chain %d\n" % (i, i) for i in range(3000))
    packed = gzip.compress(data)
    (tmp_path / "in.csv.gz").write_bytes(packed[: len(packed) // 2])
    result = cli("tag", str(tmp_path / "in.csv.gz"), "--out", str(tmp_path / "o.csv"), "-t", "text", "--model", str(SHIPPED_MODEL))
    assert result.exit_code == 3 and "cannot be read past line" in result.stderr and "uncorrupted" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv.gz"]
