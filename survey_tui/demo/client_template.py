"""The demo client's Word template (templates/client.docx), made by code rather than kept as a binary.

It shows what an agency's client template looks like to the report step: its own styles (a teal
Heading 1, a cover title style, Traditional Chinese body font), a logo in the header and on the cover,
a footer with tags, a cover filled from the study, a loop over the objectives, a verdict table whose
rows repeat per hypothesis ({%tr %}), the key frequency charts, and the whole built-in report placed
with {{p body }} (see README, "Client Word templates").
"""

from __future__ import annotations

import io
from pathlib import Path

from survey_tui.core.atomic import atomic_path

TEAL = (0x00, 0x6D, 0x5B)
COVER_STYLE = "Client Cover Title"


def logo_png() -> bytes:
    """A small logo: a teal cup and the brand's Latin name (no CJK font needed)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    fig = Figure(figsize=(2.4, 0.8), dpi=150)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 3)
    ax.set_ylim(0, 1)
    ax.axis("off")
    colour = "#{:02X}{:02X}{:02X}".format(*TEAL)
    ax.add_patch(FancyBboxPatch((0.1, 0.15), 0.5, 0.7, boxstyle="round,pad=0.02", color=colour))
    ax.text(0.75, 0.5, "TeaTime", va="center", fontsize=22, color=colour, fontweight="bold")
    out = io.BytesIO()
    fig.savefig(out, format="png", transparent=True)
    return out.getvalue()


def write_client_template(path: Path) -> Path:
    """Write the demo template to `path` (atomically)."""
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_BREAK
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.5))
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10.5)
    fonts = normal.element.get_or_add_rPr().find(qn("w:rFonts"))
    fonts.set(qn("w:eastAsia"), "Microsoft JhengHei")
    lang = OxmlElement("w:lang")
    lang.set(qn("w:eastAsia"), "zh-TW")
    normal.element.get_or_add_rPr().append(lang)
    for name, size in (("Heading 1", 18), ("Heading 2", 14), ("Heading 3", 12)):
        style = doc.styles[name]
        style.font.color.rgb = RGBColor(*TEAL)
        style.font.size = Pt(size)
    cover = doc.styles.add_style(COVER_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    cover.base_style = doc.styles["Title"]
    cover.font.size = Pt(28)
    cover.font.color.rgb = RGBColor(*TEAL)
    logo = logo_png()
    header = section.header.paragraphs[0]
    header.add_run().add_picture(io.BytesIO(logo), width=Cm(3))
    header.add_run("\t{{ study.client }}")
    section.footer.paragraphs[0].text = "Confidential 機密 · {{ study.title }}"

    doc.add_picture(io.BytesIO(logo), width=Cm(8))
    doc.add_paragraph("{{ study.title }}", style=COVER_STYLE)
    doc.add_paragraph("{{ study.client }}")
    doc.add_paragraph("Prepared by 撰寫: {{ study.researcher }} · {{ study.date }}")
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    doc.add_heading("Objectives 研究目的", 1)
    doc.add_paragraph("{%p for o in objectives %}")
    doc.add_paragraph("{{ o.id }} {{ o.text }} ({{ o.tables|length }} tables)", style="List Bullet")
    doc.add_paragraph("{%p endfor %}")
    doc.add_heading("Hypothesis verdicts 假設檢定結果", 1)
    table = doc.add_table(rows=4, cols=3)
    table.style = "Light Grid Accent 1"
    for cell, text in zip(table.rows[0].cells, ("Hypothesis 假設", "Statement", "Verdict 結論"), strict=True):
        cell.text = text
    table.rows[1].cells[0].text = "{%tr for h in hypotheses %}"
    for cell, text in zip(table.rows[2].cells, ("{{ h.id }}", "{{ h.statement }}", "{{ h.verdict }}"), strict=True):
        cell.text = text
    table.rows[3].cells[0].text = "{%tr endfor %}"
    doc.add_heading("Key charts 重點圖表", 1)
    doc.add_paragraph("{%p for f in key_frequencies %}")
    doc.add_paragraph("{{ f.title }}", style="Heading 3")
    doc.add_paragraph("{% if f.chart %}{{ f.chart }}{% endif %}")
    doc.add_paragraph("{{ f.base }}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.add_paragraph("{{p body }}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        doc.save(str(tmp))
    return path
