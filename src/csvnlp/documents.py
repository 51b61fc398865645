"""Reading call submissions: PDF, Word (DOCX) and plain text / Markdown, told apart by content.

``read_document(path)`` (or ``document_from_bytes``) returns a ``Document``: the text a reader
would accept, plus its sections (heading + body) so that a long proposal can say which parts
drove its levels. The file's name is never trusted: a PDF starts with ``%PDF-``, a DOCX is a
ZIP holding ``word/document.xml``, a password-protected Office file is an OLE2 container
holding an ``EncryptedPackage``; RTF and HTML are refused (their markup would be read as
words); anything else must decode as UTF-8 text.

PDF text: ``pdf_reader``; DOCX text: ``docx_reader``; both read under fixed bounds
(decompressed bytes, paragraphs, items per page, characters) and refuse a file past them.
A file is read with at most ``MAX_DOCUMENT_BYTES + 1`` bytes, whatever ``stat`` says (a pipe,
``/dev/zero`` or ``/dev/stdin`` report size 0).

Failures raise typed errors with what to do: ``NoTextLayerError`` (a scan: run OCR first),
``EncryptedDocumentError`` (a password), ``InputError`` (corrupt, truncated, legacy .doc,
RTF/HTML, over a bound).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from csvnlp.errors import EncryptedDocumentError, InputError
from csvnlp.headings import KEY_SECTION, SECTION_NAME
from csvnlp.inputs import MAX_TEXT_CHARS, decode_bytes, text_problem

__all__ = ["KEY_SECTION", "SECTION_NAME", "Document", "Section", "read_document", "document_from_bytes", "sniff_kind", "text_sections"]

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # 20 MiB: far above a proposal's text, below a scan batch
# A document may hold more text than one pasted description (MAX_TEXT_CHARS): a 150-page
# proposal is classified whole. Kept below spaCy's default max_length (1,000,000).
MAX_DOCUMENT_CHARS = 500_000
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class Section:
    heading: str
    text: str

    @property
    def key(self) -> bool:
        """An abstract / summary / objectives section: what an officer reads first."""
        return bool(KEY_SECTION.search(self.heading))


@dataclass
class Document:
    source: str
    kind: str  # "pdf", "docx" or "text"
    text: str
    sections: list[Section] = field(default_factory=list)
    pages: int | None = None
    size_bytes: int = 0


# ============================================================================ entry points


def read_document(path: Path, max_bytes: int = MAX_DOCUMENT_BYTES, regular_only: bool = False) -> Document:
    """Read and extract one file; raise a typed error saying what is wrong and what to do.

    At most ``max_bytes + 1`` bytes are read, whatever the file's reported size (a pipe or a
    device reports 0). ``regular_only`` refuses pipes, devices and sockets outright (a folder
    of submissions: a named pipe there would block the run, /dev/zero would never end)."""
    from csvnlp.inputs import non_regular_file, read_bounded

    source = str(path)
    if path.is_dir():
        raise InputError(f"{source} is a directory; give a file (or use `csvnlp tag DIR` for a folder)")
    kind = non_regular_file(path)
    if kind and regular_only:
        raise InputError(f"{source} is {kind}, not a document file")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(
                f"{source} is {size / 2**20:.1f} MiB, over the {max_bytes / 2**20:.0f} MiB limit for one document; "
                "split it, or extract its text and give that"
            )
        with path.open("rb") as handle:
            data = read_bounded(handle, source, max_bytes)
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror or exc}") from None
    return document_from_bytes(data, source, max_bytes)


def document_from_bytes(data: bytes, source: str, max_bytes: int = MAX_DOCUMENT_BYTES) -> Document:
    """Extract text from a file's bytes, recognised by content (not by name)."""
    if len(data) > max_bytes:
        raise InputError(
            f"{source} is {len(data) / 2**20:.1f} MiB, over the {max_bytes / 2**20:.0f} MiB limit for one document; "
            "split it, or extract its text and give that"
        )
    kind = sniff_kind(data, source)
    if kind == "pdf":
        from csvnlp.pdf_reader import read_pdf

        text, parts, pages = read_pdf(data, source)
        document = Document(source, "pdf", text, sections=[Section(h, b) for h, b in parts if b], pages=pages)
    elif kind == "docx":
        from csvnlp.docx_reader import read_docx

        text, parts = read_docx(data, source)
        document = Document(source, "docx", text, sections=[Section(h, b) for h, b in parts if b])
    else:
        text = decode_bytes(data, source)
        checked_document_text(text, source)  # before finding sections: a bound on what they cost
        document = Document(source, "text", text, sections=text_sections(text))
    document.size_bytes = len(data)
    document.text = checked_document_text(document.text, source)
    return document


def checked_document_text(text: str, source: str) -> str:
    """``inputs.checked_text`` with the longer limit of a document."""
    problem = text_problem(text[:MAX_TEXT_CHARS])
    if problem is None and len(text) > MAX_DOCUMENT_CHARS:
        problem = f"a document text of {len(text):,} characters is longer than {MAX_DOCUMENT_CHARS:,}; split the document"
    if problem:
        raise InputError(f"{source}: {problem}; give a project description to classify")
    return text


def sniff_kind(data: bytes, source: str = "the input") -> str:
    """'pdf', 'docx' or 'text'; raise for formats csvnlp knows it cannot read."""
    if b"%PDF-" in data[:1024]:  # the spec allows junk before the header
        return "pdf"
    if data[:4] == b"PK\x03\x04":
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            raise InputError(f"{source} is a corrupt or truncated ZIP/DOCX file; re-save it from Word or export a PDF") from None
        if "word/document.xml" in names:
            return "docx"
        raise InputError(f"{source} is a ZIP archive but not a Word document; give PDF, DOCX or text files")
    if data[:8] == OLE2_MAGIC:
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise EncryptedDocumentError(
                f"{source} is a password-protected Office file; open it in Word and save a copy without a password"
            )
        raise InputError(f"{source} is a legacy Word .doc (or other OLE2) file; save it as .docx or PDF")
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"{\\rtf"):
        raise InputError(f"{source} is an RTF file, whose markup would be read as words; save it as .docx or PDF, or as plain text")
    if head.startswith((b"<!doctype html", b"<html")) or (head.startswith(b"<") and b"<body" in data[:65536].lower()):
        raise InputError(f"{source} is an HTML page, whose markup would be read as words; save its text (or print it to PDF) and give that")
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{source} is binary data, neither PDF, DOCX nor text; give PDF, Word (.docx) or UTF-8 text files")
    return "text"


# ============================================================================ text / Markdown

_HEADING_LINE = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$|^\s*((?:\d+(?:\.\d+)*\.?\s+)?[A-Z][A-Za-z ,&/-]{2,60}):?\s*$")


def text_sections(text: str) -> list[Section]:
    """Sections of plain text or Markdown: '#' headings, or short title lines with no full stop."""
    built: list[tuple[str, list[str]]] = [("", [])]  # bodies joined once: appending to a string is quadratic
    for paragraph in re.split(r"\n\s*\n", text):
        lines = paragraph.strip().splitlines()
        if not lines:
            continue
        match = _HEADING_LINE.match(lines[0])
        if match and (match.group(1) or len(lines[0].split()) <= 8):
            built.append(((match.group(2) or match.group(3)).strip(), []))
            lines = lines[1:]
        body = "\n".join(lines).strip()
        if body:
            built[-1][1].append(body)
    return [Section(heading, "\n\n".join(body)) for heading, body in built if body]
