"""PDF text as a person reads it, under fixed bounds (issue 19).

pdfminer.six's layout analysis gives text boxes and lines; then:
- reading order: text boxes are read top to bottom; where a page has two columns, the left
  column is read before the right one (band by band, so a full-width heading between two
  column blocks stays in place);
- running headers and footers: a line in the top or bottom margin that repeats (digits aside)
  on at least half the pages is dropped, and so is a page number alone in a margin;
- de-hyphenation: ``collabo-`` + ``ration`` at a line end becomes ``collaboration``, unless
  the hyphenated word appears elsewhere in the document (``long-term`` stays ``long-term``);
- tables: cells on one baseline in separate text boxes become one line, ``cell | cell``;
- headings: lines set in a larger font than the body text, or holding only a usual section
  name ("2. Objectives"), start a new section.

Bounds, so that no PDF of at most 20 MiB costs more than about a gigabyte or a minute: the
streams pdfminer decompresses may expand to ``MAX_PDF_DECODED_BYTES`` in all (a decompression
bomb stops there), a page may hold ``MAX_ITEMS_PER_PAGE`` characters and drawn objects, the
document ``MAX_PDF_PAGES`` pages and ``MAX_PDF_CHARS`` characters; past any of them the PDF is refused with an
``InputError`` saying which. pdfminer's hierarchical grouping of text boxes (``boxes_flow``),
quadratic in the boxes of a page, is switched off: csvnlp orders the boxes itself.
A PDF whose fonts map glyphs to no characters (pdfminer writes ``(cid:NN)``) has no usable
text layer: it is refused like a scan (``NoTextLayerError``: run OCR).
"""

from __future__ import annotations

import contextlib
import io
import re
import statistics
import threading
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator

from csvnlp.errors import EncryptedDocumentError, InputError, NoTextLayerError
from csvnlp.headings import SECTION_NAME

MAX_PDF_DECODED_BYTES = 128 * 1024 * 1024  # all streams of one PDF, decompressed
MAX_ITEMS_PER_PAGE = 30_000  # characters, images and drawn paths on one page (a dense page: ~6,000)
MAX_PDF_CHARS = 1_000_000  # characters in all pages (2x the longest document text csvnlp classifies)
MAX_PDF_PAGES = 1_000  # a long proposal has 150; pdfminer spends ~10-50 ms on a page
MARGIN = 0.08  # top/bottom share of the page height where running headers and footers live
PAGE_NUMBER = re.compile(r"^(page|p\.|seite|pagina|strona)?\s*[-–]?\s*(\d{1,4}|[ivxlc]{1,7})\s*([-–]|(/|of|von|de|z)\s*\d{1,4})?\s*$", re.I)
CID = re.compile(r"\(cid:\d+\)")


class _Bound(Exception):
    """A bound passed while pdfminer works; turned into an InputError with the reason."""


# ============================================================================ bounded decompression

_budget = threading.local()


def _spend(size: int) -> None:
    """Count ``size`` decoded bytes against the PDF being read; stop past the budget."""
    left = getattr(_budget, "left", None)
    if left is None:  # not inside read_pdf (another user of pdfminer in this process)
        return
    if size > left:
        raise _Bound(f"its streams expand to more than {MAX_PDF_DECODED_BYTES // 2**20} MiB (a decompression bomb?)")
    _budget.left = left - size


class _BoundedInflater:
    """zlib's decompressobj, counting what it gives out (pdfminer inflates a stream with a
    bad checksum one byte at a time through one of these)."""

    def __init__(self, *args: Any) -> None:
        self._inflater = zlib.decompressobj(*args)

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        left = getattr(_budget, "left", None)
        limit = max_length or (left + 1 if left is not None else 0)
        out = self._inflater.decompress(data, limit) if limit else self._inflater.decompress(data)
        _spend(len(out))
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inflater, name)


class _BoundedZlib:
    """Stands in for the ``zlib`` module inside ``pdfminer.pdftypes``: a stream inflates only
    as far as the document's budget, instead of materialising a gigabyte from a megabyte."""

    error = zlib.error

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)

    @staticmethod
    def decompressobj(*args: Any) -> _BoundedInflater:
        return _BoundedInflater(*args)

    @staticmethod
    def decompress(data: bytes, *args: Any) -> bytes:
        if getattr(_budget, "left", None) is None:
            return zlib.decompress(data, *args)
        inflater = _BoundedInflater()
        out = inflater.decompress(data)
        out += inflater.flush()
        if not inflater.eof:
            raise zlib.error("incomplete or truncated stream")
        return out


def _bounded_lzwdecode(data: bytes) -> bytes:
    from pdfminer.lzw import LZWDecoder

    pieces = []
    for piece in LZWDecoder(io.BytesIO(data)).run():
        _spend(len(piece))
        pieces.append(piece)
    return b"".join(pieces)


def _bounded_rldecode(data: bytes) -> bytes:
    """RunLengthDecode, its output size counted before anything is built (pdfminer's builds a
    list of ints: 8 bytes of memory per decoded byte)."""
    from pdfminer.runlength import rldecode

    size = at = 0
    while at < len(data) and data[at] != 128:
        length = data[at]
        size, at = (size + length + 1, at + length + 2) if length < 128 else (size + 257 - length, at + 2)
    _spend(size)
    return rldecode(data)


def _bounded_decompress_corrupted(data: bytes) -> bytes:
    """pdfminer's fallback for a stream whose checksum is wrong (it inflates one byte at a
    time and appends to one bytes object: quadratic), in linear time and under the budget: a
    zlib error before the last four bytes (the checksum) is still an error."""
    inflater = _BoundedInflater()
    pieces = [inflater.decompress(data[:-4])]
    for at in range(max(len(data) - 4, 0), len(data)):
        try:
            pieces.append(inflater.decompress(data[at : at + 1]))
        except zlib.error:
            break
    return b"".join(pieces)


@contextlib.contextmanager
def _bounded_decompression() -> Iterator[None]:
    import pdfminer.pdftypes as pdftypes

    if not isinstance(pdftypes.zlib, _BoundedZlib):
        pdftypes.zlib = _BoundedZlib()  # type: ignore[assignment]
        pdftypes.lzwdecode = _bounded_lzwdecode
        pdftypes.rldecode = _bounded_rldecode
        pdftypes.decompress_corrupted = _bounded_decompress_corrupted
    _budget.left = MAX_PDF_DECODED_BYTES
    try:
        yield
    finally:
        _budget.left = None


def _aggregator(resources: Any, laparams: Any) -> Any:
    """A PDFPageAggregator that counts what a page draws and stops past MAX_ITEMS_PER_PAGE."""
    from pdfminer.converter import PDFPageAggregator

    class BoundedAggregator(PDFPageAggregator):
        items = 0
        chars = 0

        def begin_page(self, page: Any, ctm: Any) -> None:
            self.items = 0
            super().begin_page(page, ctm)

        def _count(self) -> None:
            self.items += 1
            if self.items > MAX_ITEMS_PER_PAGE:
                raise _Bound(f"a page draws more than {MAX_ITEMS_PER_PAGE:,} characters and shapes")

        def render_char(self, *args: Any, **kwargs: Any) -> Any:
            self._count()
            self.chars += 1
            if self.chars > MAX_PDF_CHARS:
                raise _Bound(f"it holds more than {MAX_PDF_CHARS:,} characters")
            return super().render_char(*args, **kwargs)

        def render_image(self, *args: Any, **kwargs: Any) -> Any:
            self._count()
            return super().render_image(*args, **kwargs)

        def paint_path(self, *args: Any, **kwargs: Any) -> Any:
            self._count()
            return super().paint_path(*args, **kwargs)

    return BoundedAggregator(resources, laparams=laparams)


def _layout_pages(data: bytes) -> Iterator[Any]:
    """pdfminer's analysed pages (LTPage), one at a time, under the bounds above."""
    from pdfminer.layout import LAParams
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage

    resources = PDFResourceManager(caching=True)
    device = _aggregator(resources, LAParams(boxes_flow=None))
    interpreter = PDFPageInterpreter(resources, device)
    for number, page in enumerate(PDFPage.get_pages(io.BytesIO(data)), start=1):
        if number > MAX_PDF_PAGES:
            raise _Bound(f"it has more than {MAX_PDF_PAGES:,} pages")
        interpreter.process_page(page)
        yield device.get_result()


# ============================================================================ reading


def read_pdf(data: bytes, source: str) -> tuple[str, list[tuple[str, str]], int]:
    """(text, sections, pages) of a PDF; typed errors for a scan, a password, a broken or an
    over-bound file."""
    from pdfminer.layout import LTFigure, LTImage, LTTextBox, LTTextLine
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    pages: list[list[_Box]] = []
    page_heights: list[float] = []
    images = 0
    try:
        with _bounded_decompression():
            for page in _layout_pages(data):
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
    except _Bound as exc:
        raise InputError(f"{source} is refused: {exc}; csvnlp reads submissions under fixed bounds. Extract the text and give that") from None
    except PDFPasswordIncorrect:
        raise EncryptedDocumentError(f"{source} is a password-protected PDF; save a copy without a password (or print it to PDF) and give that") from None
    except PDFEncryptionError as exc:
        raise EncryptedDocumentError(f"{source} is an encrypted PDF csvnlp cannot open ({exc}); save an unencrypted copy") from None
    except MemoryError:
        raise InputError(f"{source} needs more memory than csvnlp allows a document; extract the text and give that") from None
    except Exception as exc:  # pdfminer raises many types for broken files; all mean the same to a user
        raise InputError(f"{source} is a corrupt or truncated PDF ({type(exc).__name__}: {exc}); re-export it or ask for a new copy") from None
    if not pages:
        raise InputError(f"{source} is a corrupt PDF (no pages could be read); re-export it or ask for a new copy")
    if not any(box.lines for boxes in pages for box in boxes):
        hint = f" ({images} image(s) on {len(pages)} page(s): a scan)" if images else ""
        raise NoTextLayerError(f"{source}: no text layer{hint}: run OCR first (e.g. `ocrmypdf in.pdf out.pdf`), then give the OCR'd PDF")
    _refuse_unmapped_glyphs(pages, source)
    _drop_running_lines(pages, page_heights)
    sections = _pdf_sections(pages)
    text = "\n\n".join(part for heading, body in sections for part in (heading, body) if part)
    return text, sections, len(pages)


def _refuse_unmapped_glyphs(pages: list[list["_Box"]], source: str) -> None:
    """A font without a ToUnicode map makes pdfminer write '(cid:12)(cid:7)...': no words to
    classify. Mostly such glyphs: refuse like a scan; a few: drop them."""
    total = unmapped = 0
    for boxes in pages:
        for box in boxes:
            for line in box.lines:
                total += len(line.text)
                unmapped += sum(len(m) for m in CID.findall(line.text))
    if total and unmapped > 0.3 * total:
        raise NoTextLayerError(f"{source}: its fonts map glyphs to no characters (pdfminer reads '(cid:NN)'), so it has no "
                               "usable text layer: run OCR first (e.g. `ocrmypdf --force-ocr in.pdf out.pdf`), then give the OCR'd PDF")
    if unmapped:
        for boxes in pages:
            for box in boxes:
                for line in box.lines:
                    line.text = CID.sub("", line.text)
                box.lines = [line for line in box.lines if line.text.strip()]



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


def _pdf_sections(pages: list[list[_Box]]) -> list[tuple[str, str]]:
    """(heading, body) pairs, in reading order."""
    sizes: Counter[float] = Counter()
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
    # the words the document hyphenates mid-line, found once (searching the whole text for each
    # line-end hyphen made long PDFs quadratic)
    unbroken = {m.group() for _, t in paragraphs for m in re.finditer(r"\w+-\w+", t.replace("-\x01", "\x02"))}
    paragraphs = [(h, _dehyphenate(t, unbroken)) for h, t in paragraphs]
    # bodies gathered in lists and joined once: appending to one string is quadratic
    built: list[tuple[str, list[str]]] = [("", [])]
    for is_heading, text in paragraphs:
        if is_heading:
            heading, body = built[-1]
            if body or not heading:
                built.append((text, []))
            else:  # a heading on two lines
                built[-1] = (heading + " " + text, body)
        elif text.strip():
            built[-1][1].append(text.strip())
    sections = [(heading, "\n\n".join(body)) for heading, body in built]
    return [(h, b) for h, b in sections if h or b]


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


def _dehyphenate(text: str, unbroken: set[str]) -> str:
    """Join 'collabo-' + 'ration' at a line end, unless the document writes the hyphenated word
    mid-line too (``unbroken``)."""
    def join(match: re.Match[str]) -> str:
        head, tail = match.group(1), match.group(2)
        hyphenated = f"{head}-{tail}"
        return hyphenated if hyphenated in unbroken else head + tail

    text = re.sub(r"(\w+)-\x01(\w+)", join, text)
    return text.replace("\x01", " ")
