"""Small renderings several screens share."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from survey_tui.core.problems import Problem


def problems_text(problems: Sequence[Problem], clean: str, limit: int = 6) -> Text:
    """Located problems, errors in red and warnings in yellow; `clean` when there are none."""
    if not problems:
        return Text(clean, style="green")
    text = Text()
    for p in problems[:limit]:
        text.append(str(p) + "\n", style="red" if p.severity == "error" else "yellow")
    if len(problems) > limit:
        text.append(f"… and {len(problems) - limit} more: run 'survey-tui check'")
    return text
