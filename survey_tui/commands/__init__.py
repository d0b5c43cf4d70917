"""CLI commands, one module per area (see survey_tui.cli.COMMAND_MODULES)."""

from __future__ import annotations


def pad(text: str, width: int, right: bool = False) -> str:
    """`text` padded to `width` display columns (a CJK character takes two), never by len()."""
    from rich.cells import cell_len

    fill = " " * max(0, width - cell_len(text))
    return fill + text if right else text + fill
