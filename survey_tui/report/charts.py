"""Bar charts of planned tables, drawn with matplotlib from the table engine's numbers (never recomputed).

A chart shows the table's percentage rows (or, for a numeric stub, its first statistic row) as horizontal
bars for Total and the columns of one banner part (the first with letters), each bar labelled with its value and its
significance letters, as in the table; the table's title is printed above it, so the chart has none.
Chinese labels need a CJK font: the first of `CJK_FONTS` that the machine has is used (matplotlib falls
back to DejaVu Sans for Latin glyphs). Without one, labels would be boxes, so `chart_problem` says which
package to install and the report is written without charts. Figures are made with
`matplotlib.figure.Figure` (no pyplot state, no GUI backend).

Drawing is most of a Word report's time (about 0.1 s a chart, a few dozen charts), so `ChartsAhead` has the
charts a document will show drawn by worker processes from the moment their tables are made, while the
report's later sections are built and its files written; each picture is exactly what drawing it here gives
(the same function on the same data), and the document takes each in its place.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from survey_tui.analysis.tables import Frequency, StubTable, TableRow

#: Traditional Chinese first, then any CJK font that has the characters
CJK_FONTS = (
    "Microsoft JhengHei",
    "Noto Sans CJK TC",
    "Noto Sans TC",
    "Source Han Sans TC",
    "PingFang TC",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "WenQuanYi Zen Hei",
    "AR PL UMing TW",
)
FONT_HINT = (
    "no CJK font found for the charts' Chinese labels, so the report is written without charts; install one "
    "(Debian/Ubuntu: apt install fonts-noto-cjk; Fedora: google-noto-sans-cjk-fonts; Windows and macOS have "
    "Microsoft JhengHei / PingFang TC)"
)
#: rows charted as percentages, and at most this many banner series per chart
PERCENT_KINDS = ("code", "net", "top2", "bottom2", "promoters", "passives", "detractors")
MAX_SERIES = 6
COLOURS = ("#1F4E79", "#2E75B6", "#9DC3E6", "#F4B183", "#C55A11", "#7F7F7F")


@cache
def cjk_font() -> str | None:
    """The first CJK font family of `CJK_FONTS` matplotlib can find here, else None."""
    from matplotlib import font_manager

    available = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in available), None)


def _needs_cjk(texts: list[str]) -> bool:
    return any(ord(ch) > 0x2E7F for text in texts for ch in text)


@dataclass(frozen=True)
class ChartData:
    """What a chart shows, read off the StubTable: categories (rows) x series (columns)."""

    title: str
    categories: list[str]
    series: list[str]
    values: np.ndarray  # [series, categories], as in the table (% 0-100, or the statistic)
    letters: list[list[str]]  # [series][category]
    percent: bool


def chart_data(table: StubTable) -> ChartData | None:
    """Total and one banner part's columns (the first with significant differences, else the first), over
    the % rows (or the first statistic row)."""
    parts = list(dict.fromkeys(c.part for c in table.columns if c.part is not None))
    lettered = {table.columns[i].part for r in table.rows for i, x in enumerate(r.letters) if x}
    first_part = next((p for p in parts if p in lettered), parts[0] if parts else None)
    columns = [
        i
        for i, c in enumerate(table.columns)
        if (c.part is None or c.part == first_part) and c.unweighted > 0  # an empty column has nothing to show
    ][:MAX_SERIES]
    rows: list[TableRow] = [r for r in table.rows if r.kind in PERCENT_KINDS and not np.all(np.isnan(r.values))]
    percent = bool(rows)
    if not rows:
        rows = [r for r in table.rows if r.kind in ("mean", "nps", "median")][:1]
    if not rows or not columns:
        return None
    values = np.array([[r.values[i] for r in rows] for i in columns], dtype=float)
    letters = [[r.letters[i] for r in rows] for i in columns]
    series = [_legend_label(table.columns[i].label, table.columns[i].letter) for i in columns]
    return ChartData(table.title, [r.label for r in rows], series, values, letters, percent)


def frequency_data(freq: Frequency) -> ChartData | None:
    """A frequency's chart: its substantive codes (the base's rows) as bars of their valid %, one series
    named by its base, so the base is on the chart as well as beneath the table."""
    rows = [r for r in freq.rows if r.valid_percent is not None and not r.missing]
    if not rows or freq.valid <= 0:
        return None
    values = np.array([[r.valid_percent for r in rows]], dtype=float)
    series = [f"Base 樣本數 n = {freq.valid:.0f}"]
    return ChartData(freq.title, [r.label for r in rows], series, values, [[""] * len(rows)], True)


def _legend_label(label: str, letter: str) -> str:
    """A column's legend entry: its label cut to 14 display cells (the table has it whole), and its letter."""
    from rich.cells import cell_len

    if cell_len(label) > 14:
        while cell_len(label + "…") > 14:
            label = label[:-1]
        label += "…"
    return f"{label} ({letter})" if letter else label


def chart_problem(tables: list[StubTable] | list[StubTable | Frequency]) -> str | None:
    """Why these tables get no charts on this machine (no CJK font for their labels), or None."""
    texts = (
        [t.title for t in tables]
        + [r.label for t in tables for r in t.rows]
        + [c.label for t in tables for c in getattr(t, "columns", [])]
    )
    if _needs_cjk(texts) and cjk_font() is None:
        return FONT_HINT
    return None


def bar_figure(data: ChartData, font: str | None = None):  # type: ignore[no-untyped-def]
    """A grouped horizontal bar chart (a matplotlib Figure) of `data`, letters beside each bar."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    families = ([font] if font else []) + ["DejaVu Sans"]
    ncat, nser = len(data.categories), len(data.series)
    height = min(6.0, max(2.4, 1.2 + 0.1 * ncat * nser + 0.12 * ncat))
    with rc_context({"font.family": families, "font.size": 8, "axes.unicode_minus": False}):
        fig = Figure(figsize=(7.0, height), dpi=150, layout="constrained")
        FigureCanvasAgg(fig)  # drawn straight into pixels: `png_of` encodes them without a second drawing
        ax = fig.add_subplot()
        bar = 0.8 / nser
        positions = np.arange(ncat)
        for s in range(nser):
            y = positions + (s - (nser - 1) / 2) * bar
            values = np.nan_to_num(data.values[s], nan=0.0)
            bars = ax.barh(y, values, height=bar * 0.92, color=COLOURS[s % len(COLOURS)], label=data.series[s])
            for rect, value, letters in zip(bars, data.values[s], data.letters[s], strict=True):
                if np.isnan(value):
                    continue
                text = f"{value:.1f}%" if data.percent else f"{value:.2f}"
                note = ax.annotate(
                    f"{text} {letters}".strip(),
                    (rect.get_width(), rect.get_y() + rect.get_height() / 2),
                    xytext=(3, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=6.5,
                    color="#C00000" if letters else "#404040",
                )
                note.set_in_layout(False)  # inside the axes (x limit leaves room): not part of the layout
        ax.set_yticks(positions, data.categories)
        ax.invert_yaxis()
        top = float(np.nanmax(data.values)) if np.isfinite(np.nanmax(data.values)) else 1.0
        ax.set_xlim(0, max(top * 1.25, 1.0))
        if data.percent:
            ax.set_xticks([t for t in range(0, 101, 20) if t <= top * 1.25])
            ax.xaxis.set_major_formatter(lambda x, _pos: f"{x:.0f}%")
        ax.spines[["top", "right"]].set_visible(False)
        fig.legend(loc="outside lower center", ncol=min(nser, 3), fontsize=7, frameon=False)
        fig.canvas.draw()  # lay out and render now, inside the font context
    return fig


#: the PNGs drawn lately, by the object they chart: a client template may show a chart twice (in its
#: own loop over `tables` and in the built-in body), and drawing is most of a report's time
_DRAWN: dict[int, tuple[object, bytes | None]] = {}


#: charts being drawn by `drawn_ahead`'s workers, by the object they chart: (object, cache key, future)
_AHEAD: dict[int, tuple[object, str, Future[bytes]]] = {}


def chart_png(table: StubTable | Frequency) -> bytes | None:
    """The table's (or frequency's) chart as PNG bytes, or None (nothing to chart, or no CJK font)."""
    seen = _DRAWN.get(id(table))
    if seen is not None and seen[0] is table:  # the same object (an id alone may be reused)
        return seen[1]
    png = _from_worker(table)
    if png is None:
        png = _draw(table)
    _remember(table, png)
    return png


def _remember(table: object, png: bytes | None) -> None:
    if len(_DRAWN) > 256:
        _DRAWN.clear()
    _DRAWN[id(table)] = (table, png)


def _data_of(table: StubTable | Frequency) -> ChartData | None:
    """What the table's chart shows, or None when it gets none (nothing to chart, or no font for its labels)."""
    if isinstance(table, Frequency):
        data = frequency_data(table)
        texts = [table.title, *(r.label for r in table.rows)]
        if data is None or (_needs_cjk(texts) and cjk_font() is None):
            return None
        return data
    data = chart_data(table)
    if data is None or chart_problem([table]) is not None:
        return None
    return data


def _draw(table: StubTable | Frequency) -> bytes | None:
    data = _data_of(table)
    return None if data is None else png_of(data)


def _from_worker(table: object) -> bytes | None:
    """The picture a worker drew for this object (kept in the cache), or None (none asked, or it failed:
    the caller then draws it here)."""
    pending = _AHEAD.pop(id(table), None)
    if pending is None or pending[0] is not table:
        return None
    from survey_tui.core.cache import write_blob

    try:
        png = pending[2].result()
    except Exception:  # noqa: BLE001 - a worker that died costs time only: the chart is drawn here
        return None
    write_blob("charts", pending[1], png, keep=CHART_KEEP)
    return png


def _workers_for(jobs: int) -> int:
    """How many processes may draw: one per core, none where forking this process is not safe (not Linux,
    or other threads running, say a screen's worker, whose locks a child could inherit held)."""
    if jobs < 2 or not sys.platform.startswith("linux") or threading.active_count() > 1:
        return 0
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return min(cores, jobs) if cores > 1 else 0


#: at most this many drawing processes, however many cores (each is a fork of the report's process)
MAX_WORKERS = 8


class ChartsAhead:
    """Charts drawn by worker processes (one per core) from the moment their tables are made: `add` hands
    over the tables whose charts a document will show, in the order it will ask for them, and `chart_png`
    of each then waits for its picture rather than drawing it. Where workers cannot be used (one core, a
    single chart, no fork) nothing changes: each is drawn when asked for.

    The workers are forked when the second chart to draw arrives (forking a process copies its threads'
    locks, held or not, so only while it runs one thread); `close` waits for the one each is drawing and
    drops the rest."""

    def __init__(self) -> None:
        self._font: str | None = None
        self._waiting: list[tuple[object, str, ChartData]] = []  # not handed to a worker yet
        self._tables: list[object] = []  # every table given to a worker, to forget at close
        self._pool: Any = None
        self._usable = True

    def add(self, tables: Iterable[StubTable | Frequency]) -> None:
        from survey_tui.core.cache import read_blob

        for table in tables:
            if id(table) in _DRAWN and _DRAWN[id(table)][0] is table:
                continue
            if id(table) in _AHEAD and _AHEAD[id(table)][0] is table:  # in a worker's hands already
                continue
            if any(t is table for t, _, _ in self._waiting):
                continue
            data = _data_of(table)
            if data is None:
                _remember(table, None)
                continue
            if self._font is None:
                self._font = cjk_font()
            key = chart_key(data, self._font) + ".png"
            cached = read_blob("charts", key)
            if cached is not None and cached.startswith(b"\x89PNG"):
                _remember(table, cached)
                continue
            self._waiting.append((table, key, data))
        if self._usable and (self._pool is not None or len(self._waiting) >= 2):
            self._submit()

    def _submit(self) -> None:
        if self._pool is None:  # sized before the report's number of charts is known: one per core
            workers = _workers_for(MAX_WORKERS)
            if not workers:
                self._usable = False  # drawn here, each when asked for
                return
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            import matplotlib.backends.backend_agg
            import matplotlib.figure
            import matplotlib.image  # noqa: F401 - imported before forking, not in each worker
            from PIL import PngImagePlugin  # noqa: F401

            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
        for table, key, data in self._waiting:
            _AHEAD[id(table)] = (table, key, self._pool.submit(_render_png, data, self._font))
            self._tables.append(table)
        self._waiting.clear()

    def close(self) -> None:
        """Pictures not asked for (a section that failed, a template that shows fewer) are not waited for."""
        self._waiting.clear()
        for table in self._tables:
            pending = _AHEAD.get(id(table))
            if pending is not None and pending[0] is table:
                del _AHEAD[id(table)]
        self._tables.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ChartsAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def drawn_ahead(tables: Iterable[StubTable | Frequency]) -> Iterator[None]:
    """While inside, the charts of `tables` that are not in the cache are drawn by worker processes (one per
    core), in this order (see `ChartsAhead`); those an outer one has in hand are left to it."""
    with ChartsAhead() as ahead:
        ahead.add(tables)
        yield


#: a change to how charts look that the code stamps below cannot see (none so far) bumps this
CHART_STYLE = "1"
#: drawn charts kept in the user's cache folder (a report draws a few dozen)
CHART_KEEP = 512


def chart_key(data: ChartData, font: str | None) -> str:
    """What a chart's picture depends on: what it draws (not the title, printed above it by the report), the
    font, matplotlib's and this module's code. A re-run with unchanged numbers finds the picture drawn
    before; any change draws anew."""
    from survey_tui.core.cache import memo_key, module_stamp

    values = np.ascontiguousarray(data.values, dtype=float)
    described = json.dumps(
        [data.categories, data.series, data.letters, data.percent, list(values.shape), font],
        ensure_ascii=False,
    )
    return memo_key(CHART_STYLE, module_stamp("matplotlib", __name__), described, values.tobytes())


def png_of(data: ChartData) -> bytes:
    """`data` drawn as PNG bytes in the CJK font found here, from the cache when drawn before."""
    from survey_tui.core.cache import read_blob, write_blob

    font = cjk_font()
    key = chart_key(data, font) + ".png"
    cached = read_blob("charts", key)
    if cached is not None and cached.startswith(b"\x89PNG"):
        return cached
    png = _render_png(data, font)
    write_blob("charts", key, png, keep=CHART_KEEP)
    return png


def _render_png(data: ChartData, font: str | None) -> bytes:
    """Draw once and encode the canvas's pixels, as `savefig` would after drawing the figure again."""
    from matplotlib.image import imsave

    fig = bar_figure(data, font)
    out = io.BytesIO()
    imsave(out, fig.canvas.buffer_rgba(), format="png", origin="upper", dpi=fig.dpi)
    return out.getvalue()


#: eighths of a cell, for bars drawn in the terminal
_EIGHTHS = " ▏▎▍▌▋▊▉"


def text_chart(data: ChartData, width: int = 40, label_width: int = 16) -> list[str]:
    """The same chart as text for the terminal: per category, one bar per series with the value and the
    letters the picture prints. Laid out by display width (a CJK character is two cells), so every bar
    starts in the same column; bars scale to the largest value, in eighths of a cell."""
    from rich.cells import cell_len, set_cell_size

    def fit(text: str, cells: int) -> str:
        if cell_len(text) <= cells:
            return set_cell_size(text, cells)
        return set_cell_size(text, max(cells - 1, 0)) + "…"

    finite = data.values[np.isfinite(data.values)]
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    label_width = min(label_width, max(cell_len(s) for s in data.series))
    lines: list[str] = []
    for c, category in enumerate(data.categories):
        lines.append(category)
        for s, series in enumerate(data.series):
            value = data.values[s][c]
            if np.isnan(value):
                bar, text = " " * width, "—"
            else:
                eighths = int(round(8 * width * max(value, 0.0) / top))
                full, part = divmod(min(eighths, 8 * width), 8)
                bar = ("█" * full + (_EIGHTHS[part] if part else "")).ljust(width)
                text = f"{value:.1f}%" if data.percent else f"{value:.2f}"
            letters = data.letters[s][c]
            lines.append(f"  {fit(series, label_width)} {bar} {text:>7} {letters}".rstrip())
    return lines
