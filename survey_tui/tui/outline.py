"""The Questionnaire outline: a tree of instruments, sections and questions whose long labels wrap.

Textual's Tree draws one line per node and cuts what does not fit, so at 80 columns most question
labels lost their end. Here each row is an option of an OptionList (the same keys: ↑↓, PgUp/PgDn,
Home/End, Enter) drawn with tree guides; a label too long for the pane wraps by display width (CJK
takes 2 cells) under its own start, and the guides run on beside the extra lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from survey_tui.tui.render import break_points, cells

BRANCH, LAST, PIPE, SPACE = "├── ", "└── ", "│   ", "    "


def wrap_label(first: str, rest: str, label: Text, width: int) -> list[Text]:
    """`label` after the guide `first`, wrapped by display width so no line is wider than `width`;
    every further line starts with the guide `rest` (as wide as `first`). Nothing of the label is lost:
    the lines, guides taken off, join back into the label (spaces at a break end the line before)."""
    room = max(width - cells(first), 4)  # a pane narrower than the guides still shows a few cells a line
    parts = list(label.divide(break_points(label.plain, room))) if cells(label.plain) > room else [label]
    lines = []
    for i, part in enumerate(parts):
        line = Text(first if i == 0 else rest, style="dim")
        line.append_text(part)
        line.rstrip()  # a space at the break is not drawn past the pane's edge
        lines.append(line)
    return lines


class OutlineLabel:
    """A row's guides and label, wrapped to whatever width the list gives it (resizes re-wrap it)."""

    def __init__(self, first: str, rest: str, label: Text) -> None:
        self.first, self.rest, self.label = first, rest, label

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from wrap_label(self.first, self.rest, self.label, options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = cells(self.first) + cells(self.label.plain)
        return Measurement(min(cells(self.first) + 4, width), width)


@dataclass(eq=False)  # rows are told apart by identity, not by equal labels
class OutlineNode:
    """One row: an instrument, a section or a question; `data` is what the screen stored with it."""

    label: Text
    data: Any = None
    id: int = 0
    children: list[OutlineNode] = field(default_factory=list)

    def add(self, label: Text | str, data: Any = None, **_ignored: Any) -> OutlineNode:
        """A child row (the keywords a Tree node takes, such as expand=, are accepted and ignored: all rows show)."""
        node = OutlineNode(Text(label) if isinstance(label, str) else label, data)
        self.children.append(node)
        return node

    add_leaf = add


class Outline(OptionList):
    """Rows in a tree with wrapped labels; `cursor_node` is the highlighted row, as with a Tree."""

    def __init__(self, label: str, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own name
        super().__init__(id=id)
        self.root = OutlineNode(Text(label))
        self._rows: list[OutlineNode] = []

    def clear(self) -> Outline:  # type: ignore[override]
        """Forget every row (the screen then adds them again and calls `rebuild`)."""
        self.root.children = []
        self._rows = []
        self.clear_options()
        return self

    def _walk(self, node: OutlineNode, guides: str) -> Iterator[tuple[OutlineNode, str, str]]:
        for i, child in enumerate(node.children):
            last = i == len(node.children) - 1
            first = guides + (LAST if last else BRANCH)
            below = guides + (SPACE if last else PIPE)
            yield child, first, below  # a wrapped label's further lines start under its first
            yield from self._walk(child, below)

    def rebuild(self) -> None:
        """Lay the rows out from `root` (every row shown; sections are never collapsed)."""
        self.clear_options()
        self._rows = []
        options = []
        for node, first, rest in self._walk(self.root, ""):
            node.id = len(self._rows)
            self._rows.append(node)
            options.append(Option(OutlineLabel(first, rest, node.label), id=f"row-{node.id}"))
        self.add_options(options)
        if self._rows:
            self.highlighted = 0

    @property
    def rows(self) -> list[OutlineNode]:
        return list(self._rows)

    @property
    def cursor_node(self) -> OutlineNode | None:
        index = self.highlighted
        return self._rows[index] if index is not None and 0 <= index < len(self._rows) else None

    def get_node_by_id(self, node_id: int) -> OutlineNode:
        return self._rows[node_id]

    def move_cursor(self, node: OutlineNode | None) -> None:
        if node is not None and any(row is node for row in self._rows):
            self.highlighted = node.id

    def scroll_to_node(self, node: OutlineNode) -> None:
        self.scroll_to_highlight()
