"""Answers as the engine holds them, and the view of them that expressions read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from survey_tui.core.instrument.model import Instrument


@dataclass(frozen=True)
class Answer:
    """A substantive value, or a special code (don't know / refused) with no value."""

    value: Any = None  # int (single/scale), list[int] (multi), dict[item, int] (grid), int|float, str
    special: str | None = None  # 'dont_know' | 'refused'


class AnswerScope:
    """What an expression sees: substantive values by name, grid items as `grid_item` variables.

    Special answers read as None (missing) so `age >= 18` is false for a refused age, while
    `refused(age)` still tells them apart.
    """

    def __init__(self, instrument: Instrument, answers: dict[str, Answer]) -> None:
        self.instrument = instrument
        self.answers = answers

    def _answer(self, name: str) -> tuple[Answer | None, str | None]:
        answer = self.answers.get(name)
        if answer is not None:
            return answer, None
        owner = self.instrument.owner_of(name)
        if owner is not None and owner != name:
            return self.answers.get(owner), name[len(owner) + 1 :]
        return None, None

    def value(self, name: str) -> object | None:
        answer, item = self._answer(name)
        if answer is None or answer.special is not None:
            return None
        if item is not None:
            return answer.value.get(item) if isinstance(answer.value, dict) else None
        return answer.value

    def special(self, name: str) -> str | None:
        answer, _ = self._answer(name)
        return None if answer is None else answer.special
