"""Small renderings several screens share."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
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


#: punctuation that must not start a line (UAX #14 classes CL, CP, EX, IS and the CJK full stops): it stays
#: with the character before it
NO_LINE_START = frozenset("，。、；：？！）」』》〉】〕〗〙〛｝］…‥—～・,.;:?!)]}")
#: opening punctuation (UAX #14 OP) that must not end a line: it goes with the character after it
NO_LINE_END = frozenset("（「『《〈【〔〖〘〚｛［([{")


def _pieces(text: str) -> list[str]:
    """Pieces a line may break after: a word with its trailing spaces, or one wide (CJK) character, with
    closing punctuation joined to the piece before it and opening punctuation to the piece after it."""
    pieces: list[str] = []
    for word in re.findall(r"\S+\s*|\s+", text):
        run = ""
        for ch in word:
            # a break may fall before a CJK character (or after one), not inside a run of narrow letters
            wide = cell_len(ch) == 2 or (bool(run) and cell_len(run[-1]) == 2)
            if run and wide and ch not in NO_LINE_START and run[-1] not in NO_LINE_END:
                pieces.append(run)
                run = ""
            run += ch
        pieces.append(run)
    merged: list[str] = []
    for piece in pieces:
        if merged and (piece[0] in NO_LINE_START or merged[-1].rstrip()[-1:] in NO_LINE_END):
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged


def break_points(text: str, room: int) -> list[int]:
    """Offsets where one line of `text` breaks so each line takes at most `room` cells: greedy, at spaces
    between words and between CJK characters (never before closing or after opening punctuation); a piece
    wider than a whole line is folded by cells."""
    offsets: list[int] = []
    used = 0
    at = 0
    for piece in _pieces(text):
        size = cell_len(piece.rstrip())
        if used and used + size > room:
            offsets.append(at)
            used = 0
        while size > room:  # longer than a line on its own: fold it
            cut, width = 0, 0
            while cut < len(piece) and width + cell_len(piece[cut]) <= room:
                width += cell_len(piece[cut])
                cut += 1
            cut = max(cut, 1)
            at += cut
            offsets.append(at)
            piece = piece[cut:]
            size = cell_len(piece.rstrip())
        used += cell_len(piece)
        at += len(piece)
    return sorted({o for o in offsets if 0 < o < len(text)})


def wrap_text(text: Text, width: int) -> list[Text]:
    """`text` (which may hold newlines) as lines of at most `width` cells, styles kept, broken as
    `break_points` says; the spaces at a break end the line before and are not drawn."""
    lines: list[Text] = []
    for line in text.split("\n", allow_blank=True):
        parts = line.divide(break_points(line.plain, max(width, 2))) if cell_len(line.plain) > width else [line]
        for part in parts:
            part.rstrip()
            lines.append(part)
    return lines


def wrap(text: str, width: int) -> list[str]:
    """`text` broken into lines of at most `width` display cells: at spaces where it has them, between
    characters of CJK text (which has none), never cutting a word that fits on a line of its own."""
    if width <= 0 or cell_len(text) <= width:
        return [text]
    return [line.plain for line in wrap_text(Text(text), width) if line.plain] or [text]


class Wrapped:
    """A paragraph of user text (a Rich renderable) that wraps like Chinese and like English at whatever
    width it is drawn: Rich and Textual take a run of CJK for one word and move the whole run to the next
    line, leaving the line before half empty."""

    def __init__(self, text: Text | str, style: str = "") -> None:
        self.text = Text(text, style=style) if isinstance(text, str) else text

    def __str__(self) -> str:
        return self.text.plain  # the text itself, as str() of a Rich Text gives

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in wrap_text(self.text, options.max_width):
            line.end = "\n"
            line.no_wrap = True
            yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widest_line = max((cell_len(line.plain) for line in self.text.split("\n")), default=0)
        return Measurement(min(4, widest_line), widest_line)


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
