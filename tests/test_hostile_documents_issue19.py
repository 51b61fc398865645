"""Issue 19, documents and `classify`: inputs read without bound, bombs, quadratic readers,
text Word hides in content controls and text boxes, folders with pipes and links, markup read
as words, escape sequences printed raw. Each test names the item it covers."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SHIPPED_MODEL
from hostile_documents import deflate_bomb, docx_with_body, paragraph, raw_pdf, text_ops

G = "Clusters coach SMEs with innovation vouchers to build a new cross-border value chain in agri-food and ICT."
CSVNLP = str(Path(sys.executable).with_name("csvnlp"))


def classify(*args: str, stdin: int | None = None, input: bytes | None = None, limit_mb: int = 1500, timeout: int = 120):
    """`csvnlp classify` in a child with a memory cap, so an unbounded read fails fast."""
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_mb * 2**20, limit_mb * 2**20))

    return subprocess.run([CSVNLP, "classify", *args, "--model", str(SHIPPED_MODEL), "--no-entities"], stdin=stdin, input=input,
                          capture_output=True, timeout=timeout, preexec_fn=cap)


def test_classify_issue19_item5_closed_standard_input_is_exit_3():
    result = subprocess.run(f"exec {CSVNLP} classify - --model {SHIPPED_MODEL} <&-", shell=True, capture_output=True, text=True, timeout=120)
    assert result.returncode == 3, result.stderr
    assert "standard input is closed" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("how", ["dev-zero", "pipe"])
def test_classify_issue19_item6_endless_files_are_read_with_a_bound(how):
    if how == "dev-zero":
        result = classify("--file", "/dev/zero")
    else:
        yes = subprocess.Popen(["yes", G], stdout=subprocess.PIPE)
        try:
            result = classify("--file", "/dev/stdin", stdin=yes.stdout)
        finally:
            yes.kill()
            yes.wait()
    assert result.returncode == 3, result.stderr
    assert b"MiB" in result.stderr or b"bytes" in result.stderr
    assert b"Traceback" not in result.stderr and b"MemoryError" not in result.stderr


def test_classify_issue19_item14_unreadable_file_is_exit_3(tmp_path, cli):
    path = tmp_path / "secret.txt"
    path.write_text(G)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):  # root reads anything: test a missing file the same way
            path = tmp_path / "missing.txt"
        result = cli("classify", "--file", str(path), "--model", str(SHIPPED_MODEL))
        assert result.exit_code == 3
        table = cli("tag", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o.csv"), "-t", "text", "--model", str(SHIPPED_MODEL))
        assert table.exit_code == 3
    finally:
        (tmp_path / "secret.txt").chmod(0o644)


def test_classify_issue19_item17_control_characters_never_reach_the_terminal(tmp_path, cli):
    path = tmp_path / "p\x1b[31mx.md"
    path.write_text(f"# Objectives \x1b]0;PWNED\x1b\\\x1b[2J\n\n{G} {G}\n\n# Work plan\n\n{G} More about the \x1b[2J work.\n")
    result = cli("classify", "--file", str(path), "--file", str(path), "--model", str(SHIPPED_MODEL))
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "Objectives" in result.output


def test_documents_issue19_item19_a_pdf_decompression_bomb_is_refused_under_a_memory_bound(tmp_path):
    path = tmp_path / "bomb.pdf"
    path.write_bytes(raw_pdf([deflate_bomb(1 << 30)], compress=False))  # 1 GiB of spaces in ~1 MB
    assert path.stat().st_size < 2 * 2**20
    started = time.perf_counter()
    result = classify("--file", str(path), limit_mb=900)
    assert result.returncode == 3, result.stderr
    assert b"expand" in result.stderr
    assert time.perf_counter() - started < 60


def test_documents_issue19_item20_docx_paragraph_bomb_is_refused_fast(tmp_path):
    from csvnlp.documents import document_from_bytes
    from csvnlp.errors import InputError

    data = docx_with_body("<w:p/>" * 300_000 + paragraph(G))
    started = time.perf_counter()
    with pytest.raises(InputError, match="paragraphs"):
        document_from_bytes(data, "bomb.docx")
    assert time.perf_counter() - started < 20


def test_documents_issue19_item20_plain_text_of_blank_line_paragraphs_is_linear():
    from csvnlp.documents import text_sections

    text = "x\n\n" * 400_000  # appending each paragraph to one string took ~45 s
    started = time.perf_counter()
    sections = text_sections(text)
    assert time.perf_counter() - started < 5
    assert len(sections) == 1 and sections[0].text.count("x") == 400_000


def test_documents_issue19_item21_a_busy_pdf_page_is_read_fast(tmp_path):
    from csvnlp.documents import document_from_bytes

    import random

    generator = random.Random(1)  # 3,000 words scattered over the page: 3,000 text boxes
    items = [(generator.uniform(10, 580), generator.uniform(10, 830), f"w{i}") for i in range(3000)]
    data = raw_pdf([text_ops(items, size=4)])  # pdfminer's box grouping took over 150 s on it
    started = time.perf_counter()
    document = document_from_bytes(data, "busy.pdf")
    assert time.perf_counter() - started < 30
    assert "w2999" in document.text


def test_documents_issue19_item21_a_page_past_the_item_bound_is_refused(tmp_path):
    from csvnlp.documents import document_from_bytes
    from csvnlp.errors import InputError
    from csvnlp.pdf_reader import MAX_ITEMS_PER_PAGE

    ops = b"BT /F1 4 Tf 10 10 Td (" + b"x" * (MAX_ITEMS_PER_PAGE + 10) + b") Tj ET"
    with pytest.raises(InputError, match="a page draws more than"):
        document_from_bytes(raw_pdf([ops]), "dense.pdf")


def test_documents_issue19_item22_docx_text_in_content_controls_insertions_and_text_boxes_is_read():
    from csvnlp.documents import document_from_bytes

    body = (paragraph("Objectives", style="Heading1")
            + '<w:sdt><w:sdtPr><w:alias w:val="Summary"/></w:sdtPr><w:sdtContent>'
            + paragraph("Inside a content control the cluster coaches SMEs.") + "</w:sdtContent></w:sdt>"
            + '<w:p><w:r><w:t xml:space="preserve">Before </w:t></w:r><w:ins w:id="1" w:author="a"><w:r><w:t>inserted words</w:t></w:r></w:ins>'
            + '<w:del w:id="2" w:author="a"><w:r><w:delText>deleted words</w:delText></w:r></w:del></w:p>'
            + '<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData>'
            + "<wps:wsp><wps:txbx><w:txbxContent>" + paragraph("Text box about regional value chains.") + "</w:txbxContent></wps:txbx></wps:wsp>"
            + "</a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent>"
            + paragraph("Text box about regional value chains.") + "</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback>"
            + "</mc:AlternateContent></w:r></w:p>"
            + "<w:tbl><w:tr><w:sdt><w:sdtContent><w:tc>" + paragraph("Cell in a control") + "</w:tc></w:sdtContent></w:sdt>"
            + "<w:tc>" + paragraph("Plain cell") + "</w:tc></w:tr></w:tbl>")
    document = document_from_bytes(docx_with_body(body), "controls.docx")
    assert "Inside a content control" in document.text
    assert "Before inserted words" in document.text and "deleted words" not in document.text
    assert document.text.count("Text box about regional value chains.") == 1
    assert "Cell in a control | Plain cell" in document.text
    assert [s.heading for s in document.sections] == ["Objectives"]


def test_documents_issue19_also_rtf_and_html_are_refused_not_read_as_words():
    from csvnlp.documents import document_from_bytes
    from csvnlp.errors import InputError

    with pytest.raises(InputError, match="RTF"):
        document_from_bytes(b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} " + G.encode() + b"}", "a.rtf")
    with pytest.raises(InputError, match="HTML"):
        document_from_bytes(b"<!DOCTYPE html><html><body><p>" + G.encode() + b"</p></body></html>", "a.html")


def test_documents_issue19_also_pdf_text_of_unmapped_glyphs_is_no_text_layer(monkeypatch):
    from csvnlp import pdf_reader
    from csvnlp.errors import NoTextLayerError

    monkeypatch.setattr(pdf_reader, "_layout_pages", _fake_pages("(cid:3)(cid:17)(cid:42)(cid:8) " * 40))
    with pytest.raises(NoTextLayerError, match="cid"):
        pdf_reader.read_pdf(b"%PDF-1.4", "glyphs.pdf")


def _fake_pages(text: str):
    """pdfminer pages holding one text box with ``text`` (what a font without ToUnicode gives)."""
    from pdfminer.layout import LTPage, LTTextBoxHorizontal, LTTextLineHorizontal

    def pages(data):
        page = LTPage(1, (0, 0, 595, 842))
        box = LTTextBoxHorizontal()
        line = LTTextLineHorizontal(0.1)
        line.get_text = lambda: text  # type: ignore[method-assign]
        line.set_bbox((50, 400, 500, 412))
        box.add(line)
        box.set_bbox((50, 400, 500, 412))
        page.add(box)
        yield page

    return pages


def test_folders_issue19_item16_fifo_symlink_loop_and_device_link_are_error_rows(tmp_path, cli):
    import json

    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "a.txt").write_text(G)
    os.mkfifo(folder / "pipe.txt")
    os.symlink("loop.txt", folder / "loop.txt")
    os.symlink("/dev/zero", folder / "zero.txt")
    outside = tmp_path / "outside.txt"
    outside.write_text(G)
    os.symlink(outside, folder / "escape.txt")  # item 23: a link out of the folder
    os.symlink(tmp_path, folder / "up")  # a linked folder
    out = tmp_path / "o.jsonl"
    started = time.perf_counter()
    result = cli("tag", str(folder), "--out", str(out), "--model", str(SHIPPED_MODEL), "--no-entities", "--quiet")
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - started < 120
    rows = {row["id"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == {"a.txt", "pipe.txt", "loop.txt", "zero.txt", "escape.txt", "up"}
    assert rows["a.txt"]["status"] != "error"
    for name in ("pipe.txt", "loop.txt", "zero.txt", "escape.txt", "up"):
        assert rows[name]["status"] == "error", name
    assert "named pipe" in rows["pipe.txt"]["error"] and "outside" in rows["escape.txt"]["error"]


def test_folders_issue19_item2_a_file_named_in_latin1_gets_a_row(tmp_path, cli):
    import json

    folder = tmp_path / "subs"
    folder.mkdir()
    name = os.fsdecode(b"caf\xe9.txt")
    (folder / name).write_text(G)
    (folder / "b.txt").write_text(G)
    out = tmp_path / "o.jsonl"
    result = cli("tag", str(folder), "--out", str(out), "--model", str(SHIPPED_MODEL), "--no-entities", "--quiet")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["b.txt", "caf\\xe9.txt"]
    assert all(r["status"] != "error" for r in rows)


def test_classify_issue19_item2_an_argument_that_is_not_utf8_is_exit_3():
    result = subprocess.run([CSVNLP.encode(), b"classify", b"Clusters \xff coach SMEs with vouchers", b"--json", b"--model",
                             str(SHIPPED_MODEL).encode()], capture_output=True, timeout=120)
    assert result.returncode == 3, result.stderr
    assert b"not valid UTF-8" in result.stderr and b"Traceback" not in result.stderr
