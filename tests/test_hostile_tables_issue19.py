"""Issue 19, tables: hostile inputs to `csvnlp tag` that ended in a traceback, an invented row,
a hang or a silently missing column. Each test names the issue's item it covers."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from pathlib import Path

import pytest

from conftest import SHIPPED_MODEL

G = "Clusters coach SMEs with innovation vouchers to build a new cross-border value chain in agri-food and ICT."


def tag(cli, source: Path, out: Path, *extra: str):
    return cli("tag", str(source), "--out", str(out), "-t", "text", "--model", str(SHIPPED_MODEL), "--no-entities",
               "--quiet", "--json", *extra)


def rows_of(out: Path) -> list[dict]:
    return [json.loads(line) for line in out.read_text(encoding="utf-8").split("\n") if line]


def test_tables_issue19_item1_json_integer_over_4300_digits_is_an_error_row(cli, tmp_path):
    source = tmp_path / "n.jsonl"
    source.write_text(json.dumps({"id": "0", "text": G}) + "\n" + '{"id":"1","text":"x","n":' + "9" * 5000 + "}\n"
                      + json.dumps({"id": "2", "text": G}) + "\n")
    result = tag(cli, source, tmp_path / "o.jsonl", "--id-column", "id")
    assert result.exit_code == 0, result.output
    rows = rows_of(tmp_path / "o.jsonl")
    assert [r["status"] for r in rows] == ["ok", "error", "ok"] or [r["status"] for r in rows][1] == "error"
    assert "digits" in rows[1]["error"]


def test_tables_issue19_item2_lone_surrogate_is_an_error_row_and_the_run_goes_on(cli, tmp_path):
    source = tmp_path / "s.jsonl"
    source.write_text(json.dumps({"id": "a", "text": G}) + "\n" + '{"id": "b\\ud83d", "text": "G \\ud83d", "k": "\\udc00"}\n'
                      + json.dumps({"id": "c", "text": G}) + "\n")
    result = tag(cli, source, tmp_path / "o.csv", "--id-column", "id", "-k", "k")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "o.csv").read_text(encoding="utf-8"))))
    assert [r["id"] for r in rows] == ["a", "b\ufffd", "c"]
    assert rows[1]["status"] == "error" and "surrogate" in rows[1]["error"]
    assert rows[1]["k"] == "\ufffd" and rows[0]["status"] != "error"


def test_tables_issue19_item3_parquet_struct_with_timestamp_and_bytes_as_id_and_kept_column(cli, tmp_path):
    import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "p.parquet"
    when = datetime.datetime(2024, 5, 1, 12, 0)
    pq.write_table(pa.table({
        "id": pa.array([{"t": when, "b": b"\xff\x00"}]),
        "tags": pa.array([[when, when]]),
        "text": pa.array([G]),
    }), source)
    result = tag(cli, source, tmp_path / "o.jsonl", "--id-column", "id", "-k", "tags")
    assert result.exit_code == 0, result.output
    row = rows_of(tmp_path / "o.jsonl")[0]
    assert "2024-05-01" in row["id"] and "2024-05-01" in row["tags"]


def test_tables_issue19_item11_named_pipe_input_is_refused_not_a_hang(tmp_path):
    import subprocess
    import sys

    fifo = tmp_path / "in.csv"
    os.mkfifo(fifo)
    # in a child with a timeout: the old reader opened the pipe twice and waited forever
    command = [sys.executable, "-m", "csvnlp.cli", "tag", str(fifo), "--out", str(tmp_path / "o.csv"), "-t", "text",
               "--model", str(SHIPPED_MODEL), "--quiet"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("csvnlp tag hung on a named pipe")
    assert result.returncode == 3, result.stderr
    assert "named pipe" in result.stderr


def test_tables_issue19_item12_a_quoted_field_over_the_limit_is_one_error_row_not_invented_rows(cli, tmp_path):
    from csvnlp.tables import MAX_RECORD_BYTES

    big = "\n".join(["a line of a very long field"] * (MAX_RECORD_BYTES // 20))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "text"])
    for row in (["1", G], ["2", big], ["3", G], ["4", G]):
        writer.writerow(row)
    source = tmp_path / "big.csv"
    source.write_text(buffer.getvalue())
    for name in ("big.csv", "big.csv.gz"):
        if name.endswith(".gz"):
            (tmp_path / name).write_bytes(gzip.compress(source.read_bytes()))
        out = tmp_path / f"o-{name}.jsonl"
        result = tag(cli, tmp_path / name, out, "--id-column", "id")
        assert result.exit_code == 0, result.output
        rows = rows_of(out)
        assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
        assert rows[1]["status"] == "error" and "longer than" in rows[1]["error"]
        assert rows[3]["status"] != "error"


def test_tables_issue19_item12_an_unterminated_quote_over_the_limit_still_resynchronises(cli, tmp_path):
    from csvnlp.tables import MAX_RECORD_BYTES

    lines = ["id,text", f'1,"{G}'] + [f"{i},{G}" for i in range(2, MAX_RECORD_BYTES // 100)]
    source = tmp_path / "u.csv"
    source.write_text("\n".join(lines) + "\n")
    result = tag(cli, source, tmp_path / "o.jsonl", "--id-column", "id", "--batch-size", "5000")
    assert result.exit_code == 0, result.output
    rows = rows_of(tmp_path / "o.jsonl")
    assert rows[0]["status"] == "error" and [r["id"] for r in rows[1:3]] == ["2", "3"]
    assert len(rows) == len(lines) - 1


def test_tables_issue19_item13_keep_columns_named_like_internal_columns_are_carried(cli, tmp_path):
    source = tmp_path / "k.csv"
    source.write_text(f"id,_row,_line,text\na,x,y,{G}\n")
    result = tag(cli, source, tmp_path / "o.csv", "-k", "_row", "-k", "_line")
    assert result.exit_code == 0, result.output
    row = next(csv.DictReader(io.StringIO((tmp_path / "o.csv").read_text())))
    assert (row["_row"], row["_line"], row["id"]) == ("x", "y", "1")


def test_tables_issue19_also_repeated_header_line_is_an_error_row(cli, tmp_path):
    source = tmp_path / "cat.csv"
    source.write_text(f"id,text\n1,{G}\nid,text\n2,{G}\n")
    result = tag(cli, source, tmp_path / "o.jsonl", "--id-column", "id")
    assert result.exit_code == 0, result.output
    rows = rows_of(tmp_path / "o.jsonl")
    assert [r["status"] for r in rows][1] == "error" and "header" in rows[1]["error"]
    assert rows[2]["status"] != "error"


def test_tables_issue19_also_formulas_in_id_and_kept_cells_are_defused_in_csv_output(cli, tmp_path):
    source = tmp_path / "f.csv"
    source.write_text(f'id,k,text\n"=HYPERLINK(""http://x"")",@SUM(A1),{G}\n-5,+1,{G}\n')
    result = tag(cli, source, tmp_path / "o.csv", "--id-column", "id", "-k", "k")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "o.csv").read_text())))
    assert rows[0]["id"] == "'=HYPERLINK(\"http://x\")" and rows[0]["k"] == "'@SUM(A1)"
    assert rows[1]["id"] == "-5" and rows[1]["k"] == "+1"  # numbers stay numbers
    tag(cli, source, tmp_path / "o.jsonl", "--id-column", "id", "-k", "k")
    assert rows_of(tmp_path / "o.jsonl")[0]["id"] == '=HYPERLINK("http://x")'  # only CSV is defused


@pytest.mark.parametrize("encoding,named", [("utf-16", "UTF-16"), ("latin-1", "Latin-1")])
def test_tables_issue19_also_utf16_and_latin1_tables_are_named(cli, tmp_path, encoding, named):
    source = tmp_path / "e.csv"
    source.write_bytes(f"id,text\n1,Coopération {G}\n".encode(encoding) if encoding == "utf-16"
                       else f"id,téxt\n1,Coopération {G}\n".encode(encoding))
    result = tag(cli, source, tmp_path / "o.csv")
    assert result.exit_code == 3
    assert named in result.output and "iconv" in result.output


def test_corpus_issue19_item1_huge_integer_and_lone_surrogate_are_problems_not_tracebacks(cli, tmp_path):
    source = tmp_path / "c.jsonl"
    source.write_text('{"id":"1","text":"x","levels":[],"n":' + "9" * 5000 + "}\n"
                      + '{"id":"2","text":"G \\ud83d","levels":[]}\n')
    result = cli("corpus", "validate", str(source))
    assert result.exit_code == 5
    assert "4,300 digits" in result.output and "surrogate" in result.output
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "cases.jsonl").write_text(json.dumps({"id": "c", "text": G, "levels": ["value_chain"]}) + "\n")
    result = cli("corpus", "import", str(source), "--corpus-dir", str(tmp_path / "corpus"), "--name", "x")
    assert result.exit_code == 5 and not (tmp_path / "corpus" / "extra").exists()
    result = cli("annotate", str(source), input="q")
    assert result.exit_code == 3 and "4,300 digits" in result.output


def test_persistence_issue19_item1_meta_json_with_a_huge_integer_is_a_bad_model(cli, tmp_path):
    import shutil

    model = tmp_path / "m"
    shutil.copytree(SHIPPED_MODEL, model)
    meta = (model / "meta.json").read_text()
    from csvnlp.persistence import FORMAT_VERSION

    version = f'"format_version": {FORMAT_VERSION}'  # issue 20: format 3; the huge number must go in whatever the version
    assert version in meta
    (model / "meta.json").write_text(meta.replace(version, version + ', "n": ' + "9" * 5000, 1))
    result = cli("classify", G, "--model", str(model))
    assert result.exit_code == 4 and "4300 digits" in result.output
