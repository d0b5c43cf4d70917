"""The `?` overlay's widgets: Textual's HelpPanel, whose key descriptions wrap in full in both languages."""

from __future__ import annotations

from collections import defaultdict
from itertools import groupby
from operator import itemgetter

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import HelpPanel, Markdown
from textual.widgets._key_panel import BindingsTable, KeyPanel

from survey_tui.tui.render import Wrapped


class FoldingBindingsTable(BindingsTable):
    """Textual's key list with two changes: the screen's own keys come first (a table's dozen cursor keys
    pushed them below the bottom at 80x24), and descriptions fold instead of ending in "…" (a Chinese
    tooltip has no spaces to wrap at, so Textual's table cut it after a few characters), wrapped as Chinese
    wraps (never a line starting with "、")."""

    def render_bindings_table(self) -> Table:
        key_style = self.get_component_rich_style("bindings-table--key")
        description_style = self.get_component_rich_style("bindings-table--description")
        header_style = self.get_component_rich_style("bindings-table--header")
        divider_transparent = self.get_component_styles("bindings-table--divider").color.a == 0
        table = Table(
            padding=(0, 0),
            show_header=False,
            box=box.SIMPLE if divider_transparent else box.HORIZONTALS,
            border_style=self.get_component_rich_style("bindings-table--divider"),
        )
        table.add_column("", justify="right")
        table.add_column("", overflow="fold")
        screen = self.screen
        groups = [(node, list(items)) for node, items in groupby(screen.active_bindings.values(), key=itemgetter(0))]
        groups.sort(key=lambda group: group[0] is not screen)  # the screen's own first, the rest as Textual has them
        for node, items in groups:
            by_action: dict[str, list[Binding]] = defaultdict(list)
            for _node, binding, _enabled, _tooltip in items:
                if not binding.system:
                    by_action[binding.action].append(binding)
            if not by_action:
                continue
            if node.BINDING_GROUP_TITLE:
                table.add_row("", Text(node.BINDING_GROUP_TITLE, style=header_style, end=""))
            for bindings in by_action.values():
                first = bindings[0]
                keys = " ".join(dict.fromkeys(self.app.get_key_display(b) for b in bindings))
                text = Text.from_markup(first.description, end="", style=description_style)
                if first.tooltip:
                    # the tooltip on its own lines under the description, as Textual's own list shows it
                    text.append(("\n" if first.description else "") + first.tooltip, "dim")
                table.add_row(Text(keys, style=key_style), Wrapped(text))
            table.add_section()
        return table


class FoldingKeyPanel(KeyPanel):
    def compose(self) -> ComposeResult:
        yield FoldingBindingsTable(shrink=True, expand=False)


class KeysPanel(HelpPanel):
    """The `?` overlay: Textual's HelpPanel with descriptions that wrap in full in both languages."""

    def compose(self) -> ComposeResult:
        yield Markdown(id="widget-help")
        yield FoldingKeyPanel(id="keys-help")
