"""`csvnlp tag DIR` and `--files GLOB`: one row per file, bad files as error rows, languages
counted, same parallel and resume behaviour as tables (issue 13)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from csvnlp.folders import FolderReader, glob_root
from csvnlp.tagging import OUTPUT_COLUMNS, TagOptions, tag_table

from conftest import SHIPPED_MODEL
from document_factory import make_encrypted_pdf, make_proposal_docx, make_proposal_pdf, make_scanned_pdf, proposal_text

GERMAN = "Das Cluster hilft kleinen Unternehmen, Lieferanten zu teilen und Fachkräfte in der Region auszubilden."
EXPECTED = {
    "2024/a/proposal.pdf": ("ok-or-uncertain", "en"),
    "2024/proposal.docx": ("ok-or-uncertain", "en"),
    "2024/notes.md": ("ok-or-uncertain", "en"),
    "2024/antrag.txt": ("unsupported_language", "de"),
    "2024/scan.pdf": ("error", "no text layer"),
    "2024/locked.pdf": ("error", "password-protected"),
    "2024/cut.pdf": ("error", "corrupt or truncated PDF"),
    "2024/photo.jpg": ("error", "neither PDF, DOCX nor text"),
    "2024/empty.txt": ("error", "empty text"),
}


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("folder") / "submissions"
    folder = root / "2024"
    (folder / "a").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")  # hidden: not a submission
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    make_proposal_pdf(folder / "a" / "proposal.pdf")
    make_proposal_docx(folder / "proposal.docx")
    (folder / "notes.md").write_text("# Summary\n\n" + proposal_text(), encoding="utf-8")
    (folder / "antrag.txt").write_text(GERMAN, encoding="utf-8")
    make_scanned_pdf(folder / "scan.pdf", pages=1)
    make_encrypted_pdf(folder / "locked.pdf")
    (folder / "cut.pdf").write_bytes((folder / "a" / "proposal.pdf").read_bytes()[:1500])
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01")
    (folder / "empty.txt").write_text("")
    return root


def _tag(root: Path, out: Path, **options) -> tuple[pd.DataFrame, object]:
    summary = tag_table(root, out, TagOptions(text_columns=[], batch_size=3, **options), SHIPPED_MODEL)
    return pd.read_csv(out, dtype=str, keep_default_na=False), summary


def test_tag_folder_one_row_per_file_id_is_relative_path(tmp_path, submissions):
    table, summary = _tag(submissions, tmp_path / "tagged.csv")
    assert list(table.columns) == OUTPUT_COLUMNS
    assert sorted(table["id"]) == sorted(EXPECTED)  # every file, hidden ones left out
    assert list(table["id"]) == sorted(table["id"])  # a stable order
    for _, row in table.iterrows():
        status, detail = EXPECTED[row["id"]]
        if status == "error":
            assert row["status"] == "error" and detail in row["error"], (row["id"], row["error"])
        elif status == "unsupported_language":
            assert row["status"] == status and row["language"] == detail and row["predicted"] == ""
            assert row["p_value_chain"] == ""
        else:
            assert row["status"] in ("ok", "uncertain") and row["language"] == "en", (row["id"], row["error"])
    errors = [json.loads(line) for line in Path(summary.errors_file).read_text().splitlines()]
    assert sorted(e["id"] for e in errors) == sorted(k for k, v in EXPECTED.items() if v[0] == "error")
    assert summary.rows == len(EXPECTED) and summary.errors == 5 and summary.unsupported_language == 1
    assert summary.languages == {"en": 3, "de": 1}
    assert summary.tagged + summary.uncertain + summary.unsupported_language + summary.errors == summary.rows


def test_tag_folder_pdf_docx_and_text_of_one_proposal_agree(tmp_path, submissions):
    table, _ = _tag(submissions, tmp_path / "tagged.csv")
    rows = table.set_index("id")
    columns = ["predicted", "p_products_markets", "p_value_chain", "p_cluster_development"]
    assert rows.loc["2024/a/proposal.pdf", columns].tolist() == rows.loc["2024/proposal.docx", columns].tolist()


def _killed_after_first_chunk(root: Path, out: Path) -> None:
    """A run that dies (Ctrl-C) while tagging its second chunk: the first part is kept."""
    import csvnlp.tagging as tagging

    original = tagging.tag_chunk
    calls = {"n": 0}

    def dies_on_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    tagging.tag_chunk = dies_on_second
    try:
        with pytest.raises(KeyboardInterrupt):
            _tag(root, out)
    finally:
        tagging.tag_chunk = original
    assert not out.exists() and len(list(out.with_name(out.name + ".parts").glob("part-*.parquet"))) == 1


def test_tag_folder_parallel_equals_serial_and_resume_reuses_parts(tmp_path, submissions):
    serial, _ = _tag(submissions, tmp_path / "serial.csv")
    parallel, _ = _tag(submissions, tmp_path / "parallel.csv", jobs=2)
    pd.testing.assert_frame_equal(serial, parallel)
    out = tmp_path / "resumed.csv"
    _killed_after_first_chunk(submissions, out)
    resumed, summary = _tag(submissions, out, resume=True)
    assert summary.resumed_chunks == 1
    pd.testing.assert_frame_equal(serial, resumed)


def test_tag_folder_resume_refuses_a_changed_folder(tmp_path, submissions):
    copy = tmp_path / "copy"
    shutil.copytree(submissions, copy)
    out = tmp_path / "t.csv"
    _killed_after_first_chunk(copy, out)
    (copy / "2024" / "a" / "late.txt").write_text("A late submission about cluster supply chains.")
    from csvnlp.errors import InputError

    with pytest.raises(InputError, match="cannot resume"):
        _tag(copy, out, resume=True)


def test_tag_files_glob_and_cli_summary(tmp_path, submissions, cli):
    pattern = str(submissions / "2024" / "**" / "*.pdf")
    assert glob_root(pattern) == submissions / "2024"
    out = tmp_path / "pdfs.jsonl"
    result = cli("tag", "--files", pattern, "--out", str(out), "--json", "--model", str(SHIPPED_MODEL))
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"] == 4 and summary["errors"] == 3
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids == ["a/proposal.pdf", "cut.pdf", "locked.pdf", "scan.pdf"]
    text = cli("tag", str(submissions), "--out", str(tmp_path / "all.csv"), "--model", str(SHIPPED_MODEL)).stdout
    assert "1 unsupported language" in text and "languages: en 3, de 1" in text


def test_tag_folder_cli_usage_errors(tmp_path, submissions, cli):
    both = cli("tag", str(submissions), "--files", "*.pdf", "--out", str(tmp_path / "x.csv"))
    assert both.exit_code == 2 and "not both" in both.stderr
    columns = cli("tag", str(submissions), "-t", "text", "--out", str(tmp_path / "x.csv"))
    assert columns.exit_code == 2 and "for tables" in columns.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = cli("tag", str(empty), "--out", str(tmp_path / "x.csv"), "--model", str(SHIPPED_MODEL))
    assert nothing.exit_code == 3 and "no file" in nothing.stderr
    assert not (tmp_path / "x.csv").exists()


def test_tag_folder_output_inside_the_folder_is_not_read_back(tmp_path, submissions):
    copy = tmp_path / "copy"
    shutil.copytree(submissions, copy)
    first, _ = _tag(copy, copy / "tagged.csv")
    again, _ = _tag(copy, copy / "tagged.csv", force=True)
    assert list(first["id"]) == list(again["id"]) == sorted(EXPECTED)
    assert FolderReader(copy, 5, exclude=[copy / "tagged.csv", copy / "tagged.csv.errors.jsonl"]).files == [
        p for p in FolderReader(copy, 5).files if p.name not in ("tagged.csv", "tagged.csv.errors.jsonl")
    ]


def test_tag_folder_long_document_is_tagged_not_refused(tmp_path):
    """A document may hold more text than a table cell (documents.MAX_DOCUMENT_CHARS)."""
    from csvnlp.inputs import MAX_TEXT_CHARS

    folder = tmp_path / "long"
    folder.mkdir()
    paragraph = "The regional cluster pools suppliers, shares logistics and trains workers for its SMEs. " * 20
    (folder / "long.md").write_text("\n\n".join([paragraph] * (MAX_TEXT_CHARS // len(paragraph) + 3)), encoding="utf-8")
    table, summary = _tag(folder, tmp_path / "t.csv")
    assert summary.errors == 0 and table.loc[0, "status"] in ("ok", "uncertain") and table.loc[0, "language"] == "en"


@pytest.mark.slow
def test_tag_folder_dask_engine_equals_local(tmp_path, submissions):
    pytest.importorskip("distributed")
    local, _ = _tag(submissions, tmp_path / "local.csv")
    dask, _ = _tag(submissions, tmp_path / "dask.csv", engine="dask", jobs=2)
    pd.testing.assert_frame_equal(local, dask)


def test_tag_table_cell_never_makes_csvnlp_open_a_file(tmp_path):
    """Only FolderReader's rows are documents: a cell holding a path (or a path behind a NUL
    mark) is text, never a file to read."""
    secret = tmp_path / "x1.txt"
    secret.write_text(GERMAN, encoding="utf-8")
    table = tmp_path / "cells.jsonl"
    rows = [{"id": "path", "text": str(secret)}, {"id": "marked", "text": "\x00document" + str(secret)},
            {"id": "old-mark", "text": "\x00document:" + str(secret)}]
    table.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "cells.csv"
    tag_table(table, out, TagOptions(text_columns=["text"], id_column="id"), SHIPPED_MODEL)
    tagged = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("id")
    assert tagged.loc["path", "language"] != "de"
    assert tagged.loc["marked", "status"] == tagged.loc["old-mark", "status"] == "error"
    assert "binary" in tagged.loc["marked", "error"]
