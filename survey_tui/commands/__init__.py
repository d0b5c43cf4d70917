"""CLI commands, one module per area (see survey_tui.cli.COMMAND_MODULES)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from survey_tui.core.fieldwork.quotas import Quota
    from survey_tui.core.study import Study


def pad(text: str, width: int, right: bool = False) -> str:
    """`text` padded to `width` display columns (a CJK character takes two), never by len()."""
    from rich.cells import cell_len

    fill = " " * max(0, width - cell_len(text))
    return fill + text if right else text + fill


def shown_language(languages: list[str]) -> str:
    """Which of the study's own languages to show its texts in: the interface language when the study has
    it, else the study's first language (as the app's screens choose)."""
    from survey_tui.i18n import current_language

    return current_language() if current_language() in languages else (languages[0] if languages else "en")


def quota_titles(study: Study, quotas: Sequence[Quota] | None = None) -> dict[str, str]:
    """{quota name: what to call it on screen}: the quota's own `label:` in the study language shown, else
    the labels of the questions its dimensions stand for (joined like its cells), else its name.

    A dimension stands for a question when it is named after one, or when its levels name exactly one
    question of the study's instruments (`s3 = 1` or `coalesce(s3, gender) = 1`). The instruments are only
    read when a quota has no label of its own, and one that does not load only costs its labels."""
    from survey_tui.core.fieldwork.quotas import CELL_SEPARATOR
    from survey_tui.core.instrument.model import label_text

    config = study.config
    quotas = config.quotas if quotas is None else quotas
    language = shown_language(config.languages)
    titles: dict[str, str] = {}
    questions: dict[str, dict[str, str]] | None = None
    for quota in quotas:
        if quota.label:
            titles[quota.name] = quota.title(language)
            continue
        if questions is None:
            questions = _question_labels(study)
        parts = []
        for dimension in quota.dimensions:
            named = {n for level in dimension.levels for n in level.expression.names if n in questions}
            source = dimension.name if dimension.name in questions else (named.pop() if len(named) == 1 else None)
            text = label_text(questions[source], language, config.language) if source else ""
            parts.append(text or None)
        found = [p for p in parts if p]
        titles[quota.name] = (
            CELL_SEPARATOR.join(p or d.name for p, d in zip(parts, quota.dimensions, strict=True))
            if found
            else quota.name
        )
    return titles


def _question_labels(study: Study) -> dict[str, dict[str, str]]:
    """{question name: its labels} over every instrument of the study that loads (first one wins)."""
    try:
        instruments, _problems = study.load_instruments()
    except Exception:  # noqa: BLE001 - labels are a nicety: an unreadable folder leaves the names
        return {}
    labels: dict[str, dict[str, str]] = {}
    for instrument in instruments.values():
        for question in instrument.questions:
            if question.label:
                labels.setdefault(question.name, dict(question.label))
    return labels
