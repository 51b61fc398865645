"""documents.py and `classify --file` on PDF/DOCX: extraction a reader would accept, and
each failure as one clear line with its exit code (issue 13). Fixtures are drawn in
document_factory.py, never committed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csvnlp.documents import MAX_DOCUMENT_BYTES, document_from_bytes, read_document, sniff_kind, text_sections
from csvnlp.errors import EncryptedDocumentError, ExitStatus, InputError, NoTextLayerError

from conftest import SHIPPED_MODEL
from document_factory import (
    FOOTER, HEADER, PROPOSAL_SECTIONS, make_encrypted_pdf, make_proposal_docx, make_proposal_pdf,
    make_scanned_pdf, make_table_pdf, proposal_text,
)

LEFT = "Left column: the cluster shares suppliers among its member firms and pools their purchasing of packaging."
RIGHT = "Right column: universities train technicians for the region and open their laboratories to local companies."


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("documents")
    return {
        "pdf": make_proposal_pdf(folder / "proposal.pdf"),
        "pdf_columns": make_proposal_pdf(folder / "columns.pdf", two_column_page=(LEFT, RIGHT), hyphenate="logistics"),
        "docx": make_proposal_docx(folder / "proposal.docx"),
        "docx_table": make_proposal_docx(folder / "table.docx", table=[["Partner", "Role"], ["Agri cluster", "Coordinator"], ["University", "Research"]]),
        "scan": make_scanned_pdf(folder / "scan.pdf"),
        "encrypted": make_encrypted_pdf(folder / "locked.pdf"),
        "text": _write(folder / "proposal.txt", proposal_text()),
    }


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _words(text: str) -> list[str]:
    return text.split()


def test_documents_pdf_drops_running_header_footer_and_page_numbers(files):
    document = read_document(files["pdf"])
    assert document.kind == "pdf" and document.pages == 3
    assert HEADER not in document.text and FOOTER not in document.text
    assert "Page " not in document.text
    assert _words(document.text) == _words(proposal_text())


def test_documents_pdf_reads_two_columns_in_order_and_dehyphenates(files):
    document = read_document(files["pdf_columns"])
    text = document.text
    assert "logistics" in text and "logi-" not in text and "logi stics" not in text
    assert "cold-chain" in text  # a real hyphen is kept
    left, right = " ".join(_words(LEFT)), " ".join(_words(RIGHT))
    flat = " ".join(_words(text))
    assert left in flat and right in flat, flat  # each column's lines joined, not interleaved
    assert flat.index(left) < flat.index(right)
    assert [s.heading for s in document.sections] == ["Abstract", "Objectives", "Work plan", "Impact"]


def test_documents_docx_headings_become_sections_and_tables_rows(files):
    document = read_document(files["docx"])
    assert document.kind == "docx"
    assert [s.heading for s in document.sections] == [h for h, _ in PROPOSAL_SECTIONS]
    assert _words(document.text) == _words(proposal_text())
    assert HEADER not in document.text  # headers/footers are outside the body
    table = read_document(files["docx_table"]).text
    assert "Partner | Role\nAgri cluster | Coordinator\nUniversity | Research" in table


def test_documents_pdf_table_rows_read_as_rows_in_place(tmp_path):
    text = read_document(make_table_pdf(tmp_path / "table.pdf")).text
    rows = [line for line in text.splitlines() if " | " in line]
    # pdfminer may glue two close cells into one line; a row never mixes with another row
    assert "University of Turin | Italy | Research partner" in rows
    assert [next(i for i, r in enumerate(rows) if name in r) for name in ("Basque", "Turin", "Agri")] == [1, 2, 3]
    assert text.index("three regions.") < text.index("Basque") < text.index("Agri SME") < text.index("Each partner leads")


def test_documents_kind_is_sniffed_from_content_not_the_name(files, tmp_path):
    renamed = tmp_path / "proposal.txt"
    renamed.write_bytes(files["pdf"].read_bytes())
    assert read_document(renamed).kind == "pdf"
    assert sniff_kind(files["docx"].read_bytes()) == "docx"
    assert sniff_kind(b"Plain words about clusters.") == "text"


def test_documents_text_and_markdown_sections():
    sections = text_sections("# Summary\n\nWe pool suppliers.\n\n## Objectives\n\nTrain workers.\n")
    assert [(s.heading, s.text) for s in sections] == [("Summary", "We pool suppliers."), ("Objectives", "Train workers.")]
    assert sections[0].key and sections[1].key


@pytest.mark.parametrize(
    "name, error, message",
    [
        ("scan", NoTextLayerError, "no text layer"),
        ("encrypted", EncryptedDocumentError, "password-protected"),
    ],
)
def test_documents_scan_and_password_raise_typed_errors(files, name, error, message):
    with pytest.raises(error, match=message):
        read_document(files[name])


def test_documents_corrupt_and_foreign_files_raise_input_errors(files):
    pdf = files["pdf"].read_bytes()
    with pytest.raises(InputError, match="corrupt"):
        document_from_bytes(pdf[: len(pdf) // 3], "cut.pdf")
    docx = files["docx"].read_bytes()
    with pytest.raises(InputError, match="corrupt"):
        document_from_bytes(docx[: len(docx) // 2], "cut.docx")
    with pytest.raises(InputError, match="legacy Word .doc"):
        document_from_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old.doc")
    with pytest.raises(EncryptedDocumentError):
        document_from_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le"), "locked.docx")
    with pytest.raises(InputError, match="neither PDF, DOCX nor text"):
        document_from_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "picture.png")


def test_documents_over_the_size_limit_is_refused_before_reading(tmp_path):
    big = tmp_path / "big.pdf"
    with big.open("wb") as handle:
        handle.truncate(MAX_DOCUMENT_BYTES + 1)  # sparse: no 20 MiB written
    with pytest.raises(InputError, match="over the 20 MiB limit"):
        read_document(big)


# ---------------------------------------------------------------------------- the CLI


def test_classify_pdf_and_docx_give_the_levels_of_the_same_plain_text(cli, files):
    outputs = {}
    for name in ("pdf", "docx", "text"):
        result = cli("classify", "--file", str(files[name]), "--json", "--model", str(SHIPPED_MODEL))
        assert result.exit_code == 0, result.stderr
        outputs[name] = json.loads(result.stdout)
    assert outputs["pdf"]["levels"] == outputs["text"]["levels"] == outputs["docx"]["levels"]
    assert outputs["pdf"]["predicted"] == outputs["text"]["predicted"]
    assert outputs["pdf"]["document"]["kind"] == "pdf" and outputs["docx"]["document"]["kind"] == "docx"
    from_stdin = cli("classify", "-", "--json", "--model", str(SHIPPED_MODEL), input=files["pdf"].read_bytes())
    assert json.loads(from_stdin.stdout)["levels"] == outputs["pdf"]["levels"]


def test_classify_long_document_reports_the_sections_that_drove_it(cli, files):
    result = json.loads(cli("classify", "--file", str(files["docx"]), "--json", "--model", str(SHIPPED_MODEL)).stdout)
    headings = [s["heading"] for s in result["sections"]]
    assert headings == ["Abstract", "Objectives", "Work plan"]
    assert [s["key"] for s in result["sections"]] == [True, True, False]
    levels = result["predicted"] or [max(result["levels"], key=lambda x: x["probability"])["level"]]
    assert set(result["drivers"]) == set(levels)
    for level, ranked in result["drivers"].items():
        probabilities = {s["heading"]: s["probabilities"][level] for s in result["sections"]}
        assert ranked == sorted(probabilities, key=lambda h: -probabilities[h])
    shown = cli("classify", "--file", str(files["docx"]), "--model", str(SHIPPED_MODEL)).stdout
    assert "sections driving" in shown


@pytest.mark.parametrize(
    "name, status, message",
    [
        ("scan", ExitStatus.NO_TEXT_LAYER, "no text layer"),
        ("encrypted", ExitStatus.ENCRYPTED, "password-protected PDF"),
    ],
)
def test_classify_scan_and_password_exit_codes(cli, files, name, status, message):
    result = cli("classify", "--file", str(files[name]), "--model", str(SHIPPED_MODEL))
    assert result.exit_code == status
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "run OCR first" in result.stderr if name == "scan" else "without a password" in result.stderr


def test_classify_corrupt_and_oversize_files_exit_3(cli, files, tmp_path):
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(files["pdf"].read_bytes()[:1500])
    big = tmp_path / "big.docx"
    with big.open("wb") as handle:
        handle.truncate(MAX_DOCUMENT_BYTES + 1)
    for path, message in ((cut, "corrupt or truncated PDF"), (big, "over the 20 MiB limit")):
        result = cli("classify", "--file", str(path), "--model", str(SHIPPED_MODEL))
        assert result.exit_code == ExitStatus.BAD_INPUT, result.stderr
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def test_documents_long_proposal_is_classified_whole_up_to_the_document_limit(tmp_path):
    from csvnlp.documents import MAX_DOCUMENT_CHARS
    from csvnlp.inputs import MAX_TEXT_CHARS

    paragraph = "The cluster pools suppliers and trains workers in the region. " * 20
    long_text = "\n\n".join(f"## Part {i}\n\n{paragraph}" for i in range(MAX_TEXT_CHARS // len(paragraph) + 5))
    assert MAX_TEXT_CHARS < len(long_text) < MAX_DOCUMENT_CHARS
    document = read_document(_write(tmp_path / "long.md", long_text))
    assert document.text == long_text and len(document.sections) > 100
    too_long = "word " * (MAX_DOCUMENT_CHARS // 5 + 10)
    with pytest.raises(InputError, match="split the document"):
        read_document(_write(tmp_path / "huge.txt", too_long))


def test_documents_section_names_in_body_type_are_headings(tmp_path):
    """Templates often set headings in bold body type: a line holding only a usual section name
    ('1. Summary') still starts a section, in PDF and DOCX alike."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas as pdfcanvas

    path = tmp_path / "plain.pdf"
    c = pdfcanvas.Canvas(str(path), pagesize=A4, invariant=1)
    y = 780
    for line in ["1. Summary", "The cluster pools suppliers for its member firms.", "2. Objectives",
                 "Train sixty workers in resource-efficient production.", "Summary of costs is in the annex."]:
        c.setFont("Helvetica-Bold" if line[0].isdigit() else "Helvetica", 11)
        c.drawString(50, y, line)
        y -= 40
    c.save()
    sections = read_document(path).sections
    assert [s.heading for s in sections] == ["1. Summary", "2. Objectives"]
    assert sections[1].text.endswith("Summary of costs is in the annex.")  # a sentence, not a heading
    import docx

    word = docx.Document()
    for heading, body in (("Summary", "We pool suppliers."), ("Objectives", "We train workers.")):
        word.add_paragraph(heading).runs[0].bold = True
        word.add_paragraph(body)
    word.save(str(tmp_path / "plain.docx"))
    assert [s.heading for s in read_document(tmp_path / "plain.docx").sections] == ["Summary", "Objectives"]
