"""Reading call submissions: PDF, Word (DOCX) and plain text / Markdown, told apart by content.

``read_document(path)`` (or ``document_from_bytes``) returns a ``Document``: the text a reader
would accept, plus its sections (heading + body) so that a long proposal can say which parts
drove its levels. The file's name is never trusted: a PDF starts with ``%PDF-``, a DOCX is a
ZIP holding ``word/document.xml``, a password-protected Office file is an OLE2 container
holding an ``EncryptedPackage``; anything else must decode as UTF-8 text.

PDF text comes from pdfminer.six's layout analysis, then:
- reading order: text boxes are read top to bottom; where a page has two columns, the left
  column is read before the right one (band by band, so a full-width heading between two
  column blocks stays in place);
- running headers and footers: a line in the top or bottom margin that repeats (digits aside)
  on at least half the pages is dropped, and so is a page number alone in a margin;
- de-hyphenation: ``collabo-`` + ``ration`` at a line end becomes ``collaboration``, unless
  the hyphenated word appears elsewhere in the document (``long-term`` stays ``long-term``);
- tables: cells on one baseline in separate text boxes become one line, ``cell | cell``
  (pdfminer may already have glued two close cells into one line);
- headings: lines set in a larger font than the body text, or holding only a usual section
  name ("2. Objectives"), start a new section.
DOCX text comes from python-docx, paragraphs and tables in body order; ``Heading``/``Title``
styles start sections; each table row becomes one line, cells joined by `` | `` (repeated
cells of merged ranges once); headers and footers live outside the body and are not read.

Failures raise typed errors with what to do: ``NoTextLayerError`` (a scan: run OCR first),
``EncryptedDocumentError`` (a password), ``InputError`` (corrupt, truncated, legacy .doc,
over ``MAX_DOCUMENT_BYTES``).
"""

from __future__ import annotations

import io
import re
import statistics
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from csvnlp.errors import EncryptedDocumentError, InputError, NoTextLayerError
from csvnlp.inputs import MAX_TEXT_CHARS, decode_bytes, text_problem

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # 20 MiB: far above a proposal's text, below a scan batch
# A document may hold more text than one pasted description (MAX_TEXT_CHARS): a 150-page
# proposal is classified whole. Kept below spaCy's default max_length (1,000,000).
MAX_DOCUMENT_CHARS = 500_000
MARGIN = 0.08  # top/bottom share of the page height where running headers and footers live
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
PAGE_NUMBER = re.compile(r"^(page|p\.|seite|pagina|strona)?\s*[-–]?\s*(\d{1,4}|[ivxlc]{1,7})\s*([-–]|(/|of|von|de|z)\s*\d{1,4})?\s*$", re.I)
# A line that is only a usual proposal section name is a heading, whatever its font or style
# (many templates set headings in bold body type, which neither pdfminer nor a style shows).
SECTION_NAME = re.compile(
    r"^\s*(?:\d+(?:\.\d+)*\.?\s+)?(?:abstract|(?:executive |project )?summary|objectives?|aims?(?: and objectives)?|"
    r"introduction|background|(?:concept and )?methodology|methods|work ?plan|implementation|impact|"
    r"(?:expected )?results|outcomes|budget|consortium|partners|management|dissemination|sustainability|"
    r"conclusions?|references)\s*:?\s*$", re.I)
KEY_SECTION = re.compile(r"\b(abstract|summary|objectives?|aims?|purpose|overview|executive summary)\b", re.I)


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


def read_document(path: Path, max_bytes: int = MAX_DOCUMENT_BYTES) -> Document:
    """Read and extract one file; raise a typed error saying what is wrong and what to do."""
    source = str(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise InputError(f"{source} is a directory; give a file (or use `csvnlp tag DIR` for a folder)")
        if size > max_bytes:
            raise InputError(
                f"{source} is {size / 2**20:.1f} MiB, over the {max_bytes / 2**20:.0f} MiB limit for one document; "
                "split it, or extract its text and give that"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror}") from None
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
        document = _read_pdf(data, source)
    elif kind == "docx":
        document = _read_docx(data, source)
    else:
        text = decode_bytes(data, source)
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
    if b"\x00" in data[:8192]:
        raise InputError(f"{source} is binary data, neither PDF, DOCX nor text; give PDF, Word (.docx) or UTF-8 text files")
    return "text"


# ============================================================================ PDF


@dataclass
class _Line:
    text: str
    size: float  # median font size of its characters
    top: float  # distance from the page top, in points


@dataclass
class _Box:
    lines: list[_Line]
    x0: float
    x1: float
    top: float
    bottom: float


def _read_pdf(data: bytes, source: str) -> Document:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTFigure, LTImage, LTTextBox, LTTextLine
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    pages: list[list[_Box]] = []
    page_heights: list[float] = []
    images = 0
    try:
        for page in extract_pages(io.BytesIO(data), laparams=LAParams()):
            boxes = []
            for element in page:
                if isinstance(element, (LTFigure, LTImage)):
                    images += 1
                if not isinstance(element, LTTextBox):
                    continue
                lines = []
                for line in element:
                    if not isinstance(line, LTTextLine):
                        continue
                    text = line.get_text().strip()
                    if not text:
                        continue
                    sizes = [getattr(ch, "size", 0.0) for ch in line if hasattr(ch, "size")]
                    lines.append(_Line(text, statistics.median(sizes) if sizes else 0.0, page.height - line.y1))
                if lines:
                    boxes.append(_Box(lines, element.x0, element.x1, page.height - element.y1, page.height - element.y0))
            pages.append(_reading_order(_table_rows(boxes), page.width))
            page_heights.append(page.height)
    except PDFPasswordIncorrect:
        raise EncryptedDocumentError(f"{source} is a password-protected PDF; save a copy without a password (or print it to PDF) and give that") from None
    except PDFEncryptionError as exc:
        raise EncryptedDocumentError(f"{source} is an encrypted PDF csvnlp cannot open ({exc}); save an unencrypted copy") from None
    except Exception as exc:  # pdfminer raises many types for broken files; all mean the same to a user
        raise InputError(f"{source} is a corrupt or truncated PDF ({type(exc).__name__}: {exc}); re-export it or ask for a new copy") from None
    if not pages:
        raise InputError(f"{source} is a corrupt PDF (no pages could be read); re-export it or ask for a new copy")
    if not any(box.lines for boxes in pages for box in boxes):
        hint = f" ({images} image(s) on {len(pages)} page(s): a scan)" if images else ""
        raise NoTextLayerError(f"{source}: no text layer{hint}: run OCR first (e.g. `ocrmypdf in.pdf out.pdf`), then give the OCR'd PDF")
    _drop_running_lines(pages, page_heights)
    sections = _pdf_sections(pages)
    text = "\n\n".join(part for s in sections for part in ((s.heading, s.text) if s.heading else (s.text,)) if part)
    return Document(source, "pdf", text, sections=[s for s in sections if s.text], pages=len(pages))


def _table_rows(boxes: list[_Box]) -> list[_Box]:
    """Cells of a table row, one line each in separate boxes on one baseline, become one
    line 'cell | cell | cell', so rows read as rows (not column by column)."""
    small = [b for b in boxes if len(b.lines) <= 2]
    pieces = [(line, box) for box in small for line in box.lines]
    rows: list[list[tuple[_Line, _Box]]] = []
    for line, box in sorted(pieces, key=lambda p: p[0].top):
        if rows and abs(rows[-1][0][0].top - line.top) <= 2.0:
            rows[-1].append((line, box))
        else:
            rows.append([(line, box)])
    new: list[_Box] = []
    for row in rows:
        if len({id(box) for _, box in row}) < 2:
            continue
        row.sort(key=lambda p: p[1].x0)
        for line, box in row:
            box.lines = [other for other in box.lines if other is not line]
        text = " | ".join(line.text for line, _ in row)
        size = statistics.median(line.size for line, _ in row)
        new.append(_Box([_Line(text, size, row[0][0].top)], min(b.x0 for _, b in row), max(b.x1 for _, b in row),
                        min(l.top for l, _ in row), max(b.bottom for _, b in row)))
    if not new:
        return boxes
    return [b for b in boxes if b.lines] + new


def _reading_order(boxes: list[_Box], width: float) -> list[_Box]:
    """Top to bottom; within a band of two-column boxes, the left column before the right."""
    middle = width / 2
    boxes = sorted(boxes, key=lambda b: (round(b.top), b.x0))
    ordered: list[_Box] = []
    band: list[_Box] = []

    def flush() -> None:
        left = [b for b in band if b.x1 <= middle + 5]
        right = [b for b in band if b.x1 > middle + 5]
        ordered.extend(sorted(left, key=lambda b: b.top) + sorted(right, key=lambda b: b.top))
        band.clear()

    for box in boxes:
        in_one_column = box.x1 <= middle + 5 or box.x0 >= middle - 5
        if in_one_column:
            band.append(box)
        else:  # full width: ends the band above it
            flush()
            ordered.append(box)
    flush()
    return ordered


def _normalised(line: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", line.strip().lower()))


def _drop_running_lines(pages: list[list[_Box]], heights: list[float]) -> None:
    """Remove running headers/footers (margin lines repeated on >= half the pages) and page numbers."""
    def in_margin(line: _Line, height: float) -> bool:
        return line.top < height * MARGIN or line.top > height * (1 - MARGIN)

    seen: Counter[str] = Counter()
    for boxes, height in zip(pages, heights):
        seen.update({_normalised(line.text) for box in boxes for line in box.lines if in_margin(line, height)})
    repeated = {text for text, n in seen.items() if len(pages) >= 2 and n >= max(2, len(pages) / 2)}
    for boxes, height in zip(pages, heights):
        for box in boxes:
            box.lines = [
                line for line in box.lines
                if not (in_margin(line, height) and (_normalised(line.text) in repeated or PAGE_NUMBER.match(line.text)))
            ]
        boxes[:] = [box for box in boxes if box.lines]


def _pdf_sections(pages: list[list[_Box]]) -> list[Section]:
    sizes = Counter()
    for boxes in pages:
        for box in boxes:
            for line in box.lines:
                sizes[round(line.size, 1)] += len(line.text)
    body = sizes.most_common(1)[0][0] if sizes else 0.0
    paragraphs: list[tuple[bool, str]] = []  # (is heading, text)
    for boxes in pages:
        for box in boxes:
            current: list[str] = []
            for line in box.lines:
                heading = (body and line.size >= body * 1.15 and len(line.text.split()) <= 14) or SECTION_NAME.match(line.text)
                if heading:
                    if current:
                        paragraphs.append((False, _join_lines(current)))
                        current = []
                    paragraphs.append((True, line.text))
                else:
                    current.append(line.text)
            if current:
                paragraphs.append((False, _join_lines(current)))
    paragraphs = _merge_split_paragraphs(paragraphs)
    text_so_far = "\n".join(t for _, t in paragraphs)
    paragraphs = [(h, _dehyphenate(t, text_so_far)) for h, t in paragraphs]
    sections: list[Section] = [Section("", "")]
    for is_heading, text in paragraphs:
        if is_heading:
            if sections[-1].text or not sections[-1].heading:
                sections.append(Section(text, ""))
            else:  # a heading on two lines
                sections[-1].heading += " " + text
        else:
            sections[-1].text = (sections[-1].text + "\n\n" + text).strip()
    return [s for s in sections if s.heading or s.text]


def _merge_split_paragraphs(paragraphs: list[tuple[bool, str]]) -> list[tuple[bool, str]]:
    """A paragraph cut by a page or column break (no sentence end, next starts lower case) is one."""
    merged: list[tuple[bool, str]] = []
    for is_heading, text in paragraphs:
        if merged and not is_heading and not merged[-1][0]:
            previous = merged[-1][1]
            if previous and previous[-1] not in ".!?:;\"'”)" and text[:1].islower():
                merged[-1] = (False, _join_lines([previous, text]))
                continue
        merged.append((is_heading, text))
    return merged


def _join_lines(lines: list[str]) -> str:
    """Lines of one paragraph into one; a line-end hyphen is kept as a marker for _dehyphenate."""
    out = ""
    for line in lines:
        if not out:
            out = line
        elif re.search(r"\w-$", out) and line[:1].islower():
            out = out + "\x01" + line  # decided later, once the whole document's words are known
        else:
            out = out + " " + line
    return out


def _dehyphenate(text: str, document: str) -> str:
    def join(match: re.Match[str]) -> str:
        head, tail = match.group(1), match.group(2)
        hyphenated = f"{head}-{tail}"
        return hyphenated if hyphenated in unbroken else head + tail

    unbroken = document.replace("-\x01", "\x02")  # the words hyphenated mid-line only
    text = re.sub(r"(\w+)-\x01(\w+)", join, text)
    return text.replace("\x01", " ")


# ============================================================================ DOCX


def _read_docx(data: bytes, source: str) -> Document:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        word = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx / lxml / zipfile errors for a broken package
        raise InputError(f"{source} is a corrupt Word file ({type(exc).__name__}: {exc}); re-save it from Word or export a PDF") from None
    sections: list[Section] = [Section("", "")]

    def add(text: str) -> None:
        sections[-1].text = (sections[-1].text + "\n\n" + text).strip()

    for element in word.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(element, word)
            text = paragraph.text.strip()
            if not text:
                continue
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            if style.startswith(("Heading", "Title")) or SECTION_NAME.match(text):
                sections.append(Section(text, ""))
            else:
                add(text)
        elif tag == "tbl":
            rows = []
            for row in Table(element, word).rows:
                cells = list(dict.fromkeys(c.text.strip() for c in row.cells if c.text.strip()))  # merged cells repeat
                if cells:
                    rows.append(" | ".join(cells))
            if rows:
                add("\n".join(rows))
    sections = [s for s in sections if s.heading or s.text]
    text = "\n\n".join(part for s in sections for part in (s.heading, s.text) if part)
    if not text.strip():
        raise InputError(f"{source} is a Word document with no text in its body; check it is the right file")
    return Document(source, "docx", text, sections=[s for s in sections if s.text])


# ============================================================================ text / Markdown

_HEADING_LINE = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$|^\s*((?:\d+(?:\.\d+)*\.?\s+)?[A-Z][A-Za-z ,&/-]{2,60}):?\s*$")


def text_sections(text: str) -> list[Section]:
    """Sections of plain text or Markdown: '#' headings, or short title lines with no full stop."""
    sections: list[Section] = [Section("", "")]
    for paragraph in re.split(r"\n\s*\n", text):
        lines = paragraph.strip().splitlines()
        if not lines:
            continue
        match = _HEADING_LINE.match(lines[0])
        if match and (match.group(1) or len(lines[0].split()) <= 8):
            sections.append(Section((match.group(2) or match.group(3)).strip(), ""))
            lines = lines[1:]
        body = "\n".join(lines).strip()
        if body:
            sections[-1].text = (sections[-1].text + "\n\n" + body).strip()
    return [s for s in sections if s.text]
