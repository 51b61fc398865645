"""Real-looking PDF and DOCX files, built in the tests (reportlab, pypdf, python-docx; test-only).

No binary is committed: each fixture is drawn here, so a reader sees what the file holds.
"""

from __future__ import annotations

import io
from pathlib import Path

PROPOSAL_SECTIONS = [
    ("Abstract", "The regional agri-food cluster will coach its member SMEs to redesign their value chains, "
     "cutting water and energy use in processing and logistics, and sharing suppliers to lower costs. "
     "Innovation vouchers fund audits and pilot lines in twelve firms."),
    ("Objectives", "We will build a shared cold-chain logistics platform for the cluster, train 60 "
     "workers in resource-efficient production, and link local universities with companies through "
     "joint demonstration projects that strengthen the regional innovation ecosystem."),
    ("Work plan", "Work package one maps energy and water flows in each firm. Work package two "
     "installs metering and heat recovery. Work package three pools procurement of packaging. "
     "Work package four evaluates the productivity gains and reports them to the regional agency."),
]
HEADER = "INNOSUP-1 proposal - Agri-food cluster value chains"
FOOTER = "Confidential - submitted to the regional agency"


def proposal_text(sections: list[tuple[str, str]] = PROPOSAL_SECTIONS) -> str:
    """The proposal as plain text: what the PDF and DOCX must extract to (same words)."""
    return "\n\n".join(f"{heading}\n\n{body}" for heading, body in sections)


def _wrap(canvas, text: str, width: float, font: str, size: float) -> list[str]:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines, current = [], ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if stringWidth(candidate, font, size) > width and current:
            lines.append(current)
            current = word
        else:
            current = candidate
    return lines + ([current] if current else [])


def make_proposal_pdf(path: Path, sections: list[tuple[str, str]] = PROPOSAL_SECTIONS,
                      two_column_page: tuple[str, str] | None = None, hyphenate: str | None = None) -> Path:
    """A multi-page PDF: one section a page, a running header and footer and a page number on
    every page; optionally a last page with two columns (left text, right text), and optionally
    a word split with a hyphen across a line end (``hyphenate``, e.g. 'collaboration')."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas as pdfcanvas

    width, height = A4
    c = pdfcanvas.Canvas(str(path), pagesize=A4, invariant=1)
    pages = list(sections)
    total = len(pages) + (1 if two_column_page else 0)

    def furniture(number: int) -> None:
        c.setFont("Helvetica", 8)
        c.drawString(50, height - 30, HEADER)
        c.drawString(50, 30, FOOTER)
        c.drawRightString(width - 50, 30, f"Page {number} of {total}")

    for number, (heading, body) in enumerate(pages, start=1):
        furniture(number)
        c.setFont("Helvetica-Bold", 16)
        c.drawString(50, height - 90, heading)
        c.setFont("Helvetica", 11)
        lines = _wrap(c, body, width - 100, "Helvetica", 11)
        if hyphenate and number == 1:
            lines = _hyphenate_lines(body, hyphenate, c, width - 100)
        y = height - 120
        for line in lines:
            c.drawString(50, y, line)
            y -= 15
        c.showPage()
    if two_column_page:
        furniture(total)
        c.setFont("Helvetica-Bold", 16)
        c.drawString(50, height - 90, "Impact")
        c.setFont("Helvetica", 11)
        column = (width - 120) / 2
        for x, text in ((50, two_column_page[0]), (70 + column, two_column_page[1])):
            y = height - 120
            for line in _wrap(c, text, column, "Helvetica", 11):
                c.drawString(x, y, line)
                y -= 15
        c.showPage()
    c.save()
    return path


def _hyphenate_lines(body: str, word: str, c, width: float) -> list[str]:
    """Wrap ``body`` so that ``word`` is split as 'wo-' / 'rd' across two lines."""
    before, after = body.split(word, 1)
    cut = len(word) // 2
    first = _wrap(c, before + word[:cut] + "-", width, "Helvetica", 11)
    rest = _wrap(c, word[cut:] + after, width, "Helvetica", 11)
    return first + rest


def make_scanned_pdf(path: Path, pages: int = 2) -> Path:
    """Pages that are pictures of text (no text layer), as a scanner makes them."""
    from PIL import Image, ImageDraw
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas as pdfcanvas

    width, height = A4
    c = pdfcanvas.Canvas(str(path), pagesize=A4, invariant=1)
    for number in range(pages):
        image = Image.new("L", (400, 560), 255)
        draw = ImageDraw.Draw(image)
        for row in range(20):
            draw.text((20, 20 + 25 * row), f"Scanned proposal page {number + 1} line {row + 1}", fill=0)
        c.drawImage(ImageReader(image), 0, 0, width, height)
        c.showPage()
    c.save()
    return path


def make_encrypted_pdf(path: Path, password: str = "s3cret") -> Path:
    """The proposal PDF, protected with a user password (RC4-128: no extra crypto package)."""
    from pypdf import PdfReader, PdfWriter

    plain = io.BytesIO()
    tmp = path.with_suffix(".plain.pdf")
    make_proposal_pdf(tmp)
    writer = PdfWriter()
    for page in PdfReader(tmp).pages:
        writer.add_page(page)
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    writer.write(plain)
    tmp.unlink()
    path.write_bytes(plain.getvalue())
    return path


def make_proposal_docx(path: Path, sections: list[tuple[str, str]] = PROPOSAL_SECTIONS,
                       table: list[list[str]] | None = None) -> Path:
    """A Word file: a title, Heading 1 sections, a running header/footer, and optionally a table."""
    import docx

    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = HEADER
    document.sections[0].footer.paragraphs[0].text = FOOTER
    for heading, body in sections:
        document.add_heading(heading, level=1)
        document.add_paragraph(body)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for k, value in enumerate(row):
                grid.cell(r, k).text = value
    document.save(str(path))
    return path


CONSORTIUM = [["Partner", "Country", "Role"], ["Basque Food Cluster", "Spain", "Coordinator"],
              ["University of Turin", "Italy", "Research partner"], ["Agri SME network", "Poland", "Pilot sites"]]


def make_table_pdf(path: Path, rows: list[list[str]] = CONSORTIUM) -> Path:
    """A page with a heading, a paragraph, a consortium table and a closing paragraph."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

    styles = getSampleStyleSheet()
    SimpleDocTemplate(str(path), pagesize=A4, invariant=1).build([
        Paragraph("Consortium", styles["Heading1"]),
        Paragraph("The consortium brings together clusters, universities and SMEs from three regions.", styles["Normal"]),
        Spacer(1, 12), Table(rows), Spacer(1, 12),
        Paragraph("Each partner leads one work package.", styles["Normal"]),
    ])
    return path
