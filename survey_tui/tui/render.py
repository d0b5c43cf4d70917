"""Small renderings several screens share."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from survey_tui.core.problems import Problem
from survey_tui.i18n import _

if TYPE_CHECKING:  # types only: the instrument builder is imported by the forms that check logic, not at start
    from survey_tui.core.instrument.loader import Finding


def cells(text: str) -> int:
    """Columns `text` takes on a terminal (CJK and full-width characters are 2), unlike len()."""
    return cell_len(text)


def fit(text: str, width: int, align: str = "left") -> str:
    """`text` padded (or cut with "…") to exactly `width` display columns, for tables, grids and bars.

    Padding counts display cells, so a row of Chinese labels lines up with a row of English ones.
    """
    if width <= 0:
        return ""
    size = cell_len(text)
    if size > width:
        return set_cell_size(text, width - 1) + "…"
    pad = " " * (width - size)
    if align == "right":
        return pad + text
    if align == "center":
        left = len(pad) // 2
        return pad[:left] + text + pad[left:]
    return text + pad


def wrap(text: str, width: int) -> list[str]:
    """`text` broken into lines of at most `width` display cells: at spaces where it has them, anywhere in
    CJK text (which has none), never cutting a word that fits on a line of its own."""
    if width <= 0 or cell_len(text) <= width:
        return [text]
    lines: list[str] = []
    line = ""
    for word in re.split(r"(?<=\s)", text):  # words keep their trailing space
        if cell_len(line + word.rstrip()) <= width:
            line += word
            continue
        if line.strip():
            lines.append(line.rstrip())
            line = ""
        while cell_len(word.rstrip()) > width:  # a run longer than a line (CJK): fold it by cells
            head = set_cell_size(word, width).rstrip()
            head = head if cell_len(head) <= width else head[:-1]
            lines.append(head)
            word = word[len(head) :]
        line = word
    if line.strip():
        lines.append(line.rstrip())
    return lines or [text]


def widest(texts: Sequence[str]) -> int:
    """The display width of the widest text (0 for none): the column width that fits them all."""
    return max((cell_len(t) for t in texts), default=0)


def aligned_lines(headers: Sequence[str], rows: Sequence[Sequence[str]], gap: int = 2) -> str:
    """A plain-text table: each column as wide as its widest cell by display width (a Chinese name is two
    cells a character), the first column left-aligned and the numbers right-aligned under their headers."""
    widths = [widest([h, *(r[i] for r in rows)]) for i, h in enumerate(headers)]
    return "\n".join(
        (" " * gap).join(
            fit(c, w, "left" if i == 0 else "right") for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in (headers, *rows)
    )


def fill_table(table: Any, headers: Sequence[str], rows: Sequence[Sequence[Any]], height: int = 1) -> None:
    """Columns as wide as their widest cell by display width (a cell of several lines: its widest line), set
    once with the rows: a table filled again while its screen is hidden or laying out never keeps the
    header-only widths of an empty moment (seen as '林志', '2026-10-'). The header row is as tall as the
    tallest header: English "Com-" over "pletes" takes two lines, its Chinese "完訪" one."""
    table.clear(columns=True)
    table.header_height = max((h.count("\n") + 1 for h in headers), default=1)
    for i, header in enumerate(headers):
        texts = [header, *((c.plain if isinstance(c, Text) else str(c)) for c in (r[i] for r in rows))]
        table.add_column(header, width=widest([line for t in texts for line in t.split("\n")]))
    for row in rows:
        table.add_row(*row, height=height)


def problems_text(problems: Sequence[Problem], clean: str, limit: int = 6) -> Text:
    """Located problems, errors in red and warnings in yellow; `clean` when there are none."""
    if not problems:
        return Text(clean, style="green")
    text = Text()
    for p in problems[:limit]:
        text.append(str(p) + "\n", style="red" if p.severity == "error" else "yellow")
    if len(problems) > limit:
        text.append(_("… and {v0} more: run 'survey-tui check'").format(v0=len(problems) - limit))
    return text


def logic_feedback(text: str, run_check: Callable[[str], Sequence[Finding]], blank: str | Text = "") -> str | Text:
    """What a logic field says as the researcher types: ✓ ok, or each finding with its position and hint."""
    from survey_tui.core.instrument.builder import EditError

    if not text.strip():
        return blank
    try:
        findings = run_check(text)
    except EditError as exc:
        return Text(str(exc), style="red")
    if not findings:
        return Text(_("✓ ok"), style="green")
    return Text("\n".join(f.message + (f" ({f.hint})" if f.hint else "") for f in findings), style="red")
