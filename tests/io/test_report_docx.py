"""The Word report read back as a client's Word would: page, properties, fonts, fitted tables, banner tables."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm

from survey_tui.analysis.tables import value_text
from survey_tui.core.study import open_study
from survey_tui.report import word
from survey_tui.report.full_report import build_report, write_docx


@pytest.fixture(scope="module")
def report(demo_study_dir: Path):  # type: ignore[no-untyped-def]
    return build_report(open_study(demo_study_dir))


@pytest.fixture(scope="module")
def docx_path(report, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("docx") / "report.docx"
    write_docx(report, path)
    return path


def _twips(element, name: str) -> int:  # type: ignore[no-untyped-def]
    return int(element.get(qn(name)))


def test_page_is_a4_with_properties_from_the_study(
    docx_path: Path, demo_study_dir: Path, tmp_path: Path, report
) -> None:  # type: ignore[no-untyped-def]
    doc = Document(str(docx_path))
    first = doc.sections[0]
    assert abs(first.page_width - Cm(21.0)) < Cm(0.01) and abs(first.page_height - Cm(29.7)) < Cm(0.01)
    for section in doc.sections:  # landscape sections are A4 turned
        assert {round(section.page_width / 360000), round(section.page_height / 360000)} == {21, 30}
    config = open_study(demo_study_dir).config
    assert doc.core_properties.title == config.title
    assert doc.core_properties.author == (config.researcher or config.client) != "python-docx"
    letter = tmp_path / "letter.docx"
    write_docx(report, letter, paper="Letter")
    assert Document(str(letter)).sections[0].page_width == word.PAPERS["Letter"][0]
    with pytest.raises(ValueError, match="paper"):
        write_docx(report, tmp_path / "x.docx", paper="A5")


def test_east_asian_language_and_font_are_traditional_chinese(docx_path: Path) -> None:
    doc = Document(str(docx_path))
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    assert defaults.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-TW"
    assert doc.settings.element.find(qn("w:themeFontLang")).get(qn("w:eastAsia")) == "zh-TW"
    fonts = [defaults.find(qn("w:rFonts"))] + [
        s.find(qn("w:rPr")).find(qn("w:rFonts"))
        for s in styles.findall(qn("w:style"))
        if s.find(qn("w:rPr")) is not None and s.find(qn("w:rPr")).find(qn("w:rFonts")) is not None
    ]
    assert len(fonts) > 3
    for rfonts in fonts:  # a theme reference would win over the named font
        assert rfonts.get(qn("w:eastAsia")) == word.EAST_ASIAN_FONT
        assert rfonts.get(qn("w:eastAsiaTheme")) is None
    font_table = next(r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable"))
    assert word.EAST_ASIAN_FALLBACK.encode() in font_table.blob


def test_tables_fill_the_text_width_repeat_headers_and_keep_rows_whole(docx_path: Path, report) -> None:  # type: ignore[no-untyped-def]
    doc = Document(str(docx_path))
    body = doc.element.body
    # the text width each table sits in: the section (sectPr) that follows it
    section_widths: list[int] = []
    tables_seen = 0
    for element in body.iterchildren():
        sect = element.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") if element.tag == qn("w:p") else None
        if element.tag == qn("w:sectPr"):
            sect = element
        if element.tag == qn("w:tbl"):
            tables_seen += 1
        if sect is not None:
            size, margins = sect.find(qn("w:pgSz")), sect.find(qn("w:pgMar"))
            width = _twips(size, "w:w") - _twips(margins, "w:left") - _twips(margins, "w:right")
            section_widths += [width] * (tables_seen - len(section_widths))
    assert tables_seen == len(doc.tables) >= 10
    unequal = flagged = 0
    for table, width in zip(doc.tables, section_widths, strict=True):
        grid = [_twips(c, "w:w") for c in table._tbl.tblGrid.findall(qn("w:gridCol"))]
        assert abs(sum(grid) - width) <= len(grid), (sum(grid), width)
        unequal += len(set(grid)) > 1
        rows = table._tbl.findall(qn("w:tr"))
        assert all(r.trPr is not None and r.trPr.find(qn("w:cantSplit")) is not None for r in rows)
        flagged += rows[0].trPr.find(qn("w:tblHeader")) is not None
    with_header = sum(
        1 for b in report.blocks if b.kind in ("banner", "frequency") or (b.kind == "table" and any(b.header))
    )
    assert flagged == with_header > 10
    assert unequal > len(doc.tables) / 2  # fitted to content, not equal widths


def test_banner_tables_come_from_the_engine_with_their_footnote(docx_path: Path, report) -> None:  # type: ignore[no-untyped-def]
    doc = Document(str(docx_path))
    banners = [b.table for b in report.blocks if b.kind == "banner"]
    assert banners
    texts = [p.text for p in doc.paragraphs]
    by_first_header = {}
    for table in doc.tables:
        by_first_header.setdefault(len(table.columns), []).append(table)
    for stub in banners:
        candidates = by_first_header[len(stub.columns) + 1]
        row = stub.rows[0]
        expected = [value_text(row, i) for i in range(len(stub.columns))]
        found = [
            t
            for t in candidates
            for r in t.rows
            if r.cells[0].text == row.label and [c.text.replace("\n", " ") for c in r.cells[1:]] == expected
        ]
        assert found, stub.title
        for line in stub.footnote(report.language):
            assert line in texts
    # header band: the banner part labels head their merged columns
    parts = {c.part_label for c in banners[0].columns if c.part_label}
    header = {
        c.text
        for c in doc.tables[[len(t.columns) for t in doc.tables].index(len(banners[0].columns) + 1)].rows[0].cells
    }
    assert parts <= header


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


_NO_PDF = _soffice() is None or shutil.which("pdftotext") is None
_NO_PDF_REASON = "LibreOffice/pdftotext not installed (apt install libreoffice-writer-nogui poppler-utils)"


@pytest.fixture(scope="module")
def pdf_path(docx_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pdf")
    subprocess.run(
        [_soffice(), "--headless", "--convert-to", "pdf", "--outdir", str(out), str(docx_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out / "report.pdf"


@pytest.mark.skipif(_NO_PDF, reason=_NO_PDF_REASON)
def test_as_pdf_no_table_word_is_broken(docx_path: Path, pdf_path: Path) -> None:
    pdf = pdf_path
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert "A4" in info
    pdf_words = set(re.findall(r"[A-Za-z]{3,}", text))
    doc = Document(str(docx_path))
    cell_words = {w for t in doc.tables for r in t.rows for c in r.cells for w in re.findall(r"[A-Za-z]{3,}", c.text)}
    assert len(cell_words) > 100
    broken = sorted(cell_words - pdf_words)
    assert broken == [], broken[:20]


def test_headings_and_table_intros_keep_with_the_chart_and_table(docx_path: Path, report) -> None:  # type: ignore[no-untyped-def]
    """What the PDF check below sees on paper, in the document's own flags: the intro of every planned
    table keeps with its chart, and no chart is taller than half its page's text height."""
    doc = Document(str(docx_path))
    intros = [p for p in doc.paragraphs if re.match(r"Table T\d+: ", p.text)]
    assert intros and all(p.paragraph_format.keep_with_next for p in intros)
    body = list(doc.element.body.iterchildren())
    sections = iter(doc.sections)
    section = next(sections)
    pictures = 0
    for element in body:
        for blip in element.findall(".//" + qn("wp:extent")):
            room = section.page_height - section.top_margin - section.bottom_margin
            assert int(blip.get("cy")) <= room / 2 + 1
            pictures += 1
        if element.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is not None:
            section = next(sections)
    assert pictures > 5


@pytest.mark.skipif(_NO_PDF, reason=_NO_PDF_REASON)
def test_as_pdf_no_page_holds_only_headings(pdf_path: Path, report) -> None:  # type: ignore[no-untyped-def]
    """A page break (a landscape section's, or a table too tall for the rest of the page) never leaves a
    heading or a table's intro alone at the foot of a page."""
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], check=True, capture_output=True, text=True).stdout

    def squeeze(t: str) -> str:  # a heading may wrap onto two lines in the PDF
        return re.sub(r"\s+", "", t)

    intros = [b.text for b in report.blocks if b.kind == "paragraph" and re.match(r"Table \S+: ", b.text)]
    lonely = sorted({squeeze(t) for t in [*report.headings(), *intros]}, key=len, reverse=True)
    assert len(intros) > 5
    pages = [squeeze(page) for page in text.split("\f")]
    pages = [page for page in pages if page]
    assert len(pages) > 20
    for number, page in enumerate(pages[:-1], 1):
        rest = page
        for t in lonely:
            rest = rest.replace(t, "")
        assert rest, f"page {number} holds only headings"
        assert not any(page.endswith(t) for t in lonely), f"page {number} ends with a heading: {page[-60:]}"


def _noto_faces() -> dict[str, object] | None:
    """PIL fonts of the installed Noto Sans CJK collection's TC and JP faces, or None."""
    from matplotlib import font_manager
    from PIL import ImageFont

    path = next((f.fname for f in font_manager.fontManager.ttflist if f.name.startswith("Noto Sans CJK")), None)
    if path is None:
        return None
    faces: dict[str, object] = {}
    for index in range(10):
        try:
            font = ImageFont.truetype(path, 200, index=index)
        except OSError:
            break
        name = font.getname()[0]
        if name in ("Noto Sans CJK TC", "Noto Sans CJK JP"):
            faces[name[-2:]] = font
    return faces if len(faces) == 2 else None


def _glyph(image) -> object:  # type: ignore[no-untyped-def]
    """The inked box of a one-character image, as a 48 x 48 black-and-white grid."""
    from PIL import ImageOps

    grey = ImageOps.invert(image.convert("L"))
    box = grey.point(lambda v: 255 if v > 96 else 0).getbbox()
    assert box is not None
    return grey.crop(box).resize((48, 48)).point(lambda v: 1 if v > 96 else 0)


def _distance(a, b) -> int:  # type: ignore[no-untyped-def]
    return sum(x != y for x, y in zip(a.tobytes(), b.tobytes(), strict=True))


@pytest.mark.skipif(
    _NO_PDF or shutil.which("pdftoppm") is None or _noto_faces() is None,
    reason="LibreOffice, pdftoppm or the Noto Sans CJK fonts not installed (apt install fonts-noto-cjk)",
)
def test_as_pdf_chinese_is_drawn_with_the_traditional_chinese_glyphs(tmp_path: Path) -> None:
    """pdffonts cannot tell: every face of the Noto CJK collection shares one CFF named NotoSansCJKjp. So
    the glyphs are compared: characters whose Taiwanese and Japanese forms differ (直 今 骨), as
    LibreOffice prints them from a document set up like the report, are nearer the TC face's drawing."""
    from docx.shared import Pt
    from PIL import Image, ImageDraw

    faces = _noto_faces()
    assert faces is not None
    for char in "直今骨":
        doc = Document()
        word.setup_document(doc, "A4", "glyphs", "test")
        doc.add_paragraph().add_run(char).font.size = Pt(120)
        docx = tmp_path / f"g{ord(char)}.docx"
        doc.save(str(docx))
        subprocess.run(
            [_soffice(), "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(docx)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "100",
                "-f",
                "1",
                "-l",
                "1",
                "-png",
                str(docx.with_suffix(".pdf")),
                str(docx.with_suffix("")),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        printed = _glyph(Image.open(next(tmp_path.glob(f"g{ord(char)}*.png"))))
        drawn = {}
        for region, font in faces.items():
            canvas = Image.new("L", (300, 300), 255)
            ImageDraw.Draw(canvas).text((20, 20), char, font=font, fill=0)
            drawn[region] = _glyph(canvas)
        assert _distance(drawn["TC"], drawn["JP"]) > 40, char  # the two forms really differ
        assert _distance(printed, drawn["TC"]) < _distance(printed, drawn["JP"]), char


def test_rows_and_texts_copied_from_a_first_one_are_what_python_docx_writes() -> None:
    """Rows after a table's first of their kind are copies of it while empty, and cell texts skip python-docx's
    per-character pass: the XML must be the same element for element as python-docx's own, header rows,
    widths it rounds, and texts with spaces at the ends, tabs, line breaks and CJK included."""
    from lxml import etree

    doc = Document()
    widths = [int(Cm(3)), int(Cm(5)) + 7, int(Cm(2.5))]  # the middle one is not a whole number of twips
    fast, slow = word.new_table(doc, widths), word.new_table(doc, widths)
    for header in (True, False, False, True, False):
        fast_cells = word.add_row(fast, widths, header)
        slow.__dict__.pop("_empty_rows", None)  # every row made by python-docx
        slow_cells = word.add_row(slow, widths, header)
        for a, b in zip(fast_cells, slow_cells, strict=True):
            a.paragraphs[0].add_run("x")
            b.paragraphs[0].add_run("x")
    assert len(fast.rows) == 5 and etree.tostring(fast._tbl) == etree.tostring(slow._tbl)
    for text in ("plain", " lead", "trail ", "a\tb", "two\nlines\r", "中文 字", "  "):
        python_docx = doc.add_paragraph().add_run()
        python_docx.text = text
        ours = doc.add_paragraph().add_run()
        word.set_run_text(ours._r, text)
        assert etree.tostring(ours._r) == etree.tostring(python_docx._r), text
