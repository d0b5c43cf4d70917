"""Word layout a client can receive: page size, Traditional Chinese fonts and language, fitted tables.

python-docx's default document is US Letter, its East Asian text falls back to a theme font (a Japanese
one on many machines) and its tables have equal columns, which break words. Here: A4 (or Letter) with
2 cm margins; every style names an East Asian font explicitly (theme references removed, because a theme
font wins over a named one) and the document language for East Asian text is zh-TW; the font table names
a fallback that free systems have. Tables get fixed column widths fitted to their content by display
width (a CJK character is two cells, and may break anywhere; a Latin word may not), summing to the text
width; header rows repeat on each page and no row splits across a page. Rows are added one at a time with
`table.add_row()` (python-docx's `table.cell(r, c)` walks the whole grid for every call).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Emu, Pt
from rich.cells import cell_len

#: the Traditional Chinese font Word users have, and the name of its free counterpart
EAST_ASIAN_FONT = "Microsoft JhengHei"
EAST_ASIAN_FALLBACK = "Noto Sans CJK TC"
LATIN_FONT = "Calibri"
EAST_ASIAN_LANGUAGE = "zh-TW"
PAPERS = {"A4": (Cm(21.0), Cm(29.7)), "Letter": (Emu(7772400), Emu(10058400))}
MARGIN = Cm(2.0)
#: advance of one display cell, as a share of the font size: generous, so that bold text in a wide
#: fallback font (DejaVu Sans where Calibri is missing) still keeps its words whole (CJK = 2 cells ~ 1.4 em)
CELL_EM = 0.7
#: left + right cell padding Word applies by default (0.08 in each side)
PADDING = Pt(10.8)
_WIDE = re.compile(
    r"[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]"
)


def setup_document(doc: Any, paper: str = "A4", title: str = "", author: str = "") -> None:
    """Page size and margins, core properties, fonts and language in every style."""
    if paper not in PAPERS:
        raise ValueError(f"paper must be one of {', '.join(PAPERS)}, not {paper!r}")
    section = doc.sections[0]
    section.page_width, section.page_height = PAPERS[paper]
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, MARGIN)
    props = doc.core_properties
    props.title = title
    props.author = author
    props.last_modified_by = author
    props.language = EAST_ASIAN_LANGUAGE
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), EAST_ASIAN_LANGUAGE)
    for style in styles.findall(qn("w:style")):
        rpr = style.find(qn("w:rPr"))
        if rpr is not None and rpr.find(qn("w:rFonts")) is not None:
            _set_fonts(rpr)
    theme_lang = doc.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:eastAsia"), EAST_ASIAN_LANGUAGE)
    _declare_fallback(doc)


def _set_fonts(rpr: Any) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        if fonts.get(qn(theme)) is not None:
            del fonts.attrib[qn(theme)]
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)


def _declare_fallback(doc: Any) -> None:
    """The font table entry for the East Asian font, with the free font as its alternative name."""
    from lxml import etree

    for rel in doc.part.rels.values():
        if rel.reltype.endswith("/fontTable"):
            table = rel.target_part  # python-docx has no font table API: edit its XML
            root = etree.fromstring(table.blob)
            for font in root.findall(qn("w:font")):
                if font.get(qn("w:name")) == EAST_ASIAN_FONT:
                    root.remove(font)
            font = etree.SubElement(root, qn("w:font"))
            font.set(qn("w:name"), EAST_ASIAN_FONT)
            alt = etree.SubElement(font, qn("w:altName"))
            alt.set(qn("w:val"), EAST_ASIAN_FALLBACK)
            charset = etree.SubElement(font, qn("w:charset"))
            charset.set(qn("w:val"), "88")  # CHINESEBIG5_CHARSET
            family = etree.SubElement(font, qn("w:family"))
            family.set(qn("w:val"), "swiss")
            table._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            return


def text_width(section: Any) -> int:
    """The width between the margins, in EMU."""
    return int(section.page_width - section.left_margin - section.right_margin)


def set_orientation(section: Any, landscape: bool) -> None:
    width, height = section.page_width, section.page_height
    if landscape != (width > height):
        section.page_width, section.page_height = height, width
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT


def min_cells(text: str) -> int:
    """The widest piece that may not break: the longest Latin word, or one CJK character (2 cells)."""
    widest = 0
    for line in text.splitlines() or [""]:
        for token in line.split():
            for piece in _WIDE.split(token):
                widest = max(widest, cell_len(piece))
            if _WIDE.search(token):
                widest = max(widest, 2)
    return widest


def _cells_of(columns: Sequence[Sequence[str]], natural: Sequence[int] | None) -> tuple[list[int], list[int]]:
    """(natural, least) display cells per column; a given natural width is never under the least."""
    least = [max((min_cells(t) for t in col), default=1) for col in columns]
    if natural is None:
        natural = [
            max((min(cell_len(x), 80) for t in col for x in t.splitlines() or [""]), default=1) for col in columns
        ]
    return [max(n, m, 1) for n, m in zip(natural, least, strict=True)], [max(m, 1) for m in least]


def fit_widths(
    columns: Sequence[Sequence[str]],
    total: int,
    font_pt: float,
    padding: int = int(PADDING),
    natural: Sequence[int] | None = None,
) -> list[int]:
    """Column widths (EMU) summing to `total`: natural widths when they fit, else every column at least
    its widest word and the rest shared by how much more each would need."""
    per_cell = Pt(font_pt * CELL_EM)
    natural_cells, least_cells = _cells_of(columns, natural)
    nat = [n * per_cell + padding for n in natural_cells]
    low = [m * per_cell + padding for m in least_cells]
    if sum(nat) <= total:
        widths = [n * total / sum(nat) for n in nat]
    elif sum(low) <= total:
        extra = [n - m for n, m in zip(nat, low, strict=True)]
        spare = total - sum(low)
        widths = [m + (e * spare / sum(extra) if sum(extra) else 0) for m, e in zip(low, extra, strict=True)]
    else:
        widths = [m * total / sum(low) for m in low]
    result = [int(w) for w in widths]
    result[-1] += total - sum(result)
    return result


def fits(columns: Sequence[Sequence[str]], total: int, font_pt: float, padding: int = int(PADDING)) -> bool:
    """Whether every column can be at least as wide as its widest word."""
    per_cell = Pt(font_pt * CELL_EM)
    return sum(max((min_cells(t) for t in col), default=1) * per_cell + padding for col in columns) <= total


def has_style(doc: Any, name: str) -> bool:
    """Whether the document (a client's template, say) defines this style: python-docx raises for one it
    only knows as a latent (built-in but unused) style. Remembered per document (a look-up walks all its
    styles; its styles do not change while it is written)."""
    known = doc.__dict__.setdefault("_has_style", {})
    if name not in known:
        try:
            doc.styles[name]
        except KeyError:
            known[name] = False
        else:
            known[name] = True
    return bool(known[name])


def _style_id(doc: Any, name: str, kind: WD_STYLE_TYPE) -> str | None:
    """The id python-docx would give a paragraph or table styled `name`. It looks it up through the whole
    styles part each time (about 1 ms: a quarter of a second for a report's 260 styled paragraphs and
    tables); a document's styles do not change while it is written, so each is looked up once."""
    ids = doc.__dict__.setdefault("_style_ids", {})
    if (name, kind) not in ids:
        ids[(name, kind)] = doc.part.get_style_id(name, kind)
    return ids[(name, kind)]  # type: ignore[no-any-return]


def add_heading(doc: Any, text: str, level: int) -> Any:
    """A heading in the document's own Heading/Title style, or bold text of the size where it has none."""
    name = "Title" if level == 0 else f"Heading {level}"
    if has_style(doc, name):
        paragraph = doc.add_paragraph(text)  # python-docx's add_heading, its style looked up once
        paragraph._p.style = _style_id(doc, name, WD_STYLE_TYPE.PARAGRAPH)
        return paragraph
    paragraph = doc.add_paragraph()
    run = paragraph.add_run(text)
    run.bold = True
    run.font.size = Pt({0: 20, 1: 16, 2: 13}.get(level, 11))
    paragraph.paragraph_format.keep_with_next = True
    return paragraph


def add_paragraph(doc: Any, style: str) -> Any:
    """A paragraph in `style` when the document has it (a bullet when it is "List Bullet"), else plain."""
    if has_style(doc, style):
        paragraph = doc.add_paragraph()
        paragraph._p.style = _style_id(doc, style, WD_STYLE_TYPE.PARAGRAPH)
        return paragraph
    paragraph = doc.add_paragraph()
    if style == "List Bullet":
        paragraph.add_run("• ")
    return paragraph


def _borders(table: Any) -> None:
    """Single lines around and between cells, for a template without the "Table Grid" style."""
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "4")
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "auto")
        borders.append(el)
    table._tbl.tblPr.append(borders)


def new_table(doc: Any, widths: Sequence[int], style: str = "Table Grid") -> Any:
    """An empty fixed-layout table with these column widths (rows come from `add_row`)."""
    table = doc.add_table(rows=0, cols=len(widths))
    if has_style(doc, style):
        table._tbl.tblStyle_val = _style_id(doc, style, WD_STYLE_TYPE.TABLE)
    else:
        _borders(table)
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    width = tbl_pr.find(qn("w:tblW"))
    if width is None:
        width = OxmlElement("w:tblW")
        tbl_pr.append(width)
    width.set(qn("w:w"), str(int(sum(widths) / 635)))  # twips: 635 EMU each
    width.set(qn("w:type"), "dxa")
    for column, w in zip(table.columns, widths, strict=True):
        column.width = w
    return table


def add_row(table: Any, widths: Sequence[int], header: bool = False) -> list[Any]:
    """A row that never splits across pages (repeated on each page when a header); its cells.

    The first row of each kind in a table is made through python-docx; later ones are copies of it as it
    was while empty (python-docx looks up its schema for every element it adds, each cell's width twice:
    a third of a report's Word time), so the XML is the same element for element."""
    from docx.table import _Cell

    protos = table.__dict__.setdefault("_empty_rows", {})
    key = (header, tuple(widths))
    proto = protos.get(key)
    if proto is not None:
        tr = copy.deepcopy(proto)
        table._tbl.append(tr)  # where python-docx's add_tr puts it: rows are a table's last children
        return [_Cell(tc, table) for tc in tr.iterchildren(qn("w:tc"))]
    row = table.add_row()
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))
    if header:
        tr_pr.append(OxmlElement("w:tblHeader"))
    cells = row.cells
    grid = table._tbl.tblGrid.gridCol_lst
    for cell, column, w in zip(cells, grid, widths, strict=True):
        if column.w is None or Emu(w).twips != column.w.twips:  # python-docx gave the cell its column's width
            cell.width = w
    protos[key] = copy.deepcopy(row._tr)
    return list(cells)


_RUN_SPECIAL = re.compile("[\t\r\n]")


def set_run_text(r: Any, text: str) -> None:
    """Give a new, empty run (`w:r`) its text, as `run.text = text` does: one `w:t`, its spaces kept when
    it starts or ends with one; tabs and line breaks (their own elements) go through python-docx."""
    if _RUN_SPECIAL.search(text):
        r.text = text
        return
    t = OxmlElement("w:t")
    t.text = text
    if len(text.strip()) < len(text):
        t.set(qn("xml:space"), "preserve")
    r.append(t)


def set_cell_margins(table: Any, left_right_twips: int) -> None:
    """Narrower cell padding for dense banner tables."""
    tbl_pr = table._tbl.tblPr
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(left_right_twips))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    tbl_pr.append(margins)
