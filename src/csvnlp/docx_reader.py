"""Word (DOCX) text, read straight from ``word/document.xml`` under fixed bounds (issue 19).

Paragraphs and tables in body order. A paragraph's text is every ``w:t`` in it, wherever
Word put it: in runs, hyperlinks, fields, smart tags, content controls (``w:sdt``, at body,
row, cell or run level) and tracked insertions (``w:ins``); deleted text (``w:del``,
``w:delText``) and field codes are not text. A text box's paragraphs (``w:txbxContent``)
follow the paragraph that anchors it; of the DrawingML box and its VML copy for old readers
(``mc:Fallback``) only one is read. ``Heading``/``Title`` styles start sections; a table row
becomes one line, its cells joined by `` | `` (a merged cell once). Headers, footers,
footnotes and comments live outside the body and are not read.

python-docx was used before: it dropped content controls, insertions and text boxes, and
cost ~0.7 ms a paragraph (224 s for 300,000 empty ones). This reader streams the XML
(``lxml.etree.iterparse``, each body element freed once read) and stops with an
``InputError`` past ``MAX_DOCX_XML_BYTES`` of XML, ``MAX_PARAGRAPHS`` paragraphs or
``MAX_DOCX_CHARS`` characters.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import Any, Iterator

from csvnlp.errors import InputError
from csvnlp.headings import SECTION_NAME

MAX_DOCX_XML_BYTES = 64 * 1024 * 1024  # word/document.xml, uncompressed (a 150-page proposal: ~5 MB)
MAX_PARAGRAPHS = 100_000  # body paragraphs, empty ones included (a 150-page proposal: ~5,000)
MAX_DOCX_CHARS = 1_000_000  # 2x the longest document text csvnlp classifies
MAX_STYLES_BYTES = 16 * 1024 * 1024

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
BODY, P, TBL, TR, TC, SDT, SDT_CONTENT = (W + name for name in ("body", "p", "tbl", "tr", "tc", "sdt", "sdtContent"))
T, TAB, BR, CR, TXBX = (W + name for name in ("t", "tab", "br", "cr", "txbxContent"))
# containers whose children are read as if they stood in their place
WRAPPERS = {SDT, SDT_CONTENT, W + "customXml", W + "smartTag", W + "ins", W + "moveTo", W + "fldSimple", W + "hyperlink"}
# never text: deletions, moved-away text, field codes, the content control's properties
SKIPPED = {W + "del", W + "moveFrom", W + "delText", W + "instrText", W + "sdtPr", W + "sdtEndPr", W + "pPr", W + "rPr", MC_FALLBACK}


class _Reader:
    def __init__(self, styles: dict[str, str], source: str):
        self.styles = styles
        self.source = source
        self.paragraphs = 0
        self.chars = 0
        # (heading, body parts); bodies joined once at the end (appending to one string is quadratic)
        self.sections: list[tuple[str, list[str]]] = [("", [])]

    # ------------------------------------------------------------------ bounds

    def _count(self, text: str) -> None:
        self.paragraphs += 1
        if self.paragraphs > MAX_PARAGRAPHS:
            raise InputError(f"{self.source} has more than {MAX_PARAGRAPHS:,} paragraphs; csvnlp reads submissions under fixed "
                             "bounds. Remove the empty ones, or extract the text and give that")
        self.chars += len(text)
        if self.chars > MAX_DOCX_CHARS:
            raise InputError(f"{self.source} holds more than {MAX_DOCX_CHARS:,} characters; split it, or give its summary")

    # ------------------------------------------------------------------ body elements

    def element(self, element: Any) -> None:
        tag = element.tag
        if tag == P:
            self.paragraph(element)
        elif tag == TBL:
            rows = self.table_rows(element)
            if rows:
                self.sections[-1][1].append("\n".join(rows))
        elif tag in WRAPPERS:
            for child in element:
                self.element(child)

    def paragraph(self, element: Any) -> None:
        parts: list[str] = []
        boxes: list[Any] = []
        _collect(element, parts, boxes)
        text = "".join(parts).strip()
        self._count(text)
        if text:
            style = self._style(element)
            if style.startswith(("heading", "title")) or SECTION_NAME.match(text):
                self.sections.append((text, []))
            else:
                self.sections[-1][1].append(text)
        for box in boxes:  # a text box's paragraphs and tables follow the paragraph that anchors them
            for child in box:
                self.element(child)

    def _style(self, paragraph: Any) -> str:
        properties = paragraph.find(W + "pPr")
        style = properties.find(W + "pStyle") if properties is not None else None
        if style is None:
            return ""
        style_id = style.get(W + "val") or ""
        return self.styles.get(style_id, style_id).lower()

    def table_rows(self, table: Any) -> list[str]:
        rows = []
        for row in _children(table, TR):
            cells = []
            for cell in _children(row, TC):
                parts: list[str] = []
                for paragraph in cell.iter(P):
                    pieces: list[str] = []
                    _collect(paragraph, pieces, [])
                    parts.append("".join(pieces).strip())
                text = " ".join(p for p in parts if p)
                self._count(text)
                if text:
                    cells.append(text)
            cells = list(dict.fromkeys(cells))  # a merged cell can repeat
            if cells:
                rows.append(" | ".join(cells))
        return rows

    def result(self) -> tuple[str, list[tuple[str, str]]]:
        sections = [(heading, "\n\n".join(body)) for heading, body in self.sections]
        sections = [(h, b) for h, b in sections if h or b]
        text = "\n\n".join(part for h, b in sections for part in (h, b) if part)
        return text, sections


def _collect(element: Any, parts: list[str], boxes: list[Any]) -> None:
    """The text of ``element``'s runs, in order, into ``parts``; text boxes into ``boxes``."""
    for child in element:
        tag = child.tag
        if tag == T:
            parts.append(child.text or "")
        elif tag == TAB:
            parts.append("\t")
        elif tag in (BR, CR):
            parts.append("\n")
        elif tag == TXBX:
            boxes.append(child)
        elif tag in SKIPPED or not isinstance(tag, str) or tag == P:  # a nested paragraph only inside a text box
            continue
        else:
            _collect(child, parts, boxes)


def _children(element: Any, tag: str) -> Iterator[Any]:
    """``element``'s children with ``tag``, looking through content controls and the like."""
    for child in element:
        if child.tag == tag:
            yield child
        elif child.tag in WRAPPERS:
            yield from _children(child, tag)


def _style_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """styleId -> style name ('Heading1' -> 'heading 1'), from word/styles.xml when present."""
    from lxml import etree

    try:
        info = archive.getinfo("word/styles.xml")
    except KeyError:
        return {}
    if info.file_size > MAX_STYLES_BYTES:
        return {}
    try:
        root = etree.fromstring(archive.read(info), parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except (etree.XMLSyntaxError, zipfile.BadZipFile, ValueError, OSError, zlib.error):
        return {}
    names = {}
    for style in root.iter(W + "style"):
        name = style.find(W + "name")
        if style.get(W + "styleId") and name is not None and name.get(W + "val"):
            names[style.get(W + "styleId")] = name.get(W + "val")
    return names


def read_docx(data: bytes, source: str) -> tuple[str, list[tuple[str, str]]]:
    """(text, [(heading, body), ...]) of a DOCX file's body; InputError when it is broken,
    empty or past a bound."""
    from lxml import etree

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        info = archive.getinfo("word/document.xml")
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(f"{source} is a corrupt Word file ({type(exc).__name__}: {exc}); re-save it from Word or export a PDF") from None
    if info.file_size > MAX_DOCX_XML_BYTES:
        raise InputError(f"{source}: its text part expands to {info.file_size / 2**20:.0f} MiB, over csvnlp's "
                         f"{MAX_DOCX_XML_BYTES // 2**20} MiB bound for one document (a zip bomb?); extract the text and give that")
    reader = _Reader(_style_names(archive), source)
    try:
        with archive.open(info) as stream:
            body_depth = depth = -1
            for event, element in etree.iterparse(stream, events=("start", "end"), resolve_entities=False, no_network=True,
                                                  remove_comments=True, remove_pis=True):
                if event == "start":
                    depth += 1
                    if element.tag == BODY and body_depth < 0:
                        body_depth = depth
                    continue
                if body_depth >= 0 and depth == body_depth + 1:
                    reader.element(element)
                    element.clear()  # free what was read: memory stays flat however long the body
                    parent = element.getparent()
                    while parent is not None and element.getprevious() is not None:
                        del parent[0]
                depth -= 1
    except InputError:
        raise
    except MemoryError:
        raise InputError(f"{source} needs more memory than csvnlp allows a document; extract the text and give that") from None
    except Exception as exc:  # lxml / zipfile / zlib errors for a broken package
        raise InputError(f"{source} is a corrupt Word file ({type(exc).__name__}: {exc}); re-save it from Word or export a PDF") from None
    text, sections = reader.result()
    if not text.strip():
        raise InputError(f"{source} is a Word document with no text in its body; check it is the right file")
    return text, sections
