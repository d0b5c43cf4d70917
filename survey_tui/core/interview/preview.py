"""A preview of a draft instrument through the interviewer form, keeping nothing.

The builder's preview must show exactly what field interviewers will see, so it drives the same
`InterviewScreen` as a real interview. That screen talks to a session (`InterviewSession`); a
`CaptureSession` stores every step, a `PreviewSession` stores none: its engine has a `NullRecorder`,
there is no interview row (id None), consent is not asked, and suspending, breaking off or completing
only end the preview. It never opens the study's store, so a preview cannot write to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from survey_tui.core.instrument.model import Instrument, Question
from survey_tui.core.interview.engine import InterviewEngine, NullRecorder

#: the mode a preview reports (interviews are 'field', 'pilot' or 'test')
PREVIEW_MODE = "preview"


class InterviewSession(Protocol):
    """What the interviewer form needs from an interview: the engine plus how the interview opens and ends."""

    engine: InterviewEngine
    instrument: Instrument
    closed_outcome: str | None

    @property
    def interview_id(self) -> int | None: ...

    @property
    def respondent_id(self) -> str | None: ...

    @property
    def mode(self) -> str: ...

    @property
    def preview(self) -> bool: ...

    @property
    def needs_consent(self) -> bool: ...

    @property
    def language(self) -> str: ...

    @property
    def outcome(self) -> str | None: ...

    @property
    def full_quota_cell(self) -> str | None: ...

    def consent_text(self) -> str: ...

    def record_consent(self, given: bool) -> None: ...

    def set_language(self, language: str) -> None: ...

    def next_language(self) -> str: ...

    def complete(self) -> None: ...

    def break_off(self) -> None: ...

    def suspend(self) -> None: ...

    def close(self) -> None: ...


class SessionEnding:
    """What every interview session does alike: cycle languages, complete, break off.

    `engine`, `languages` and `closed_outcome` are fields of the sessions that use it.
    """

    engine: InterviewEngine
    languages: list[str]
    closed_outcome: str | None

    def next_language(self) -> str:
        """The study language after the current one (the language-switch key cycles through them)."""
        langs = self.languages or [self.engine.language]
        index = langs.index(self.engine.language) if self.engine.language in langs else -1
        return langs[(index + 1) % len(langs)]

    def complete(self) -> None:
        """Record a finished questionnaire (the engine has reached its end)."""
        if not self.engine.finished:
            self.engine.finish("complete")
        self.closed_outcome = self.engine.outcome

    def break_off(self) -> None:
        """The respondent stopped for good: keep every answer given, record the break-off."""
        if not self.engine.finished:
            self.engine.finish("break_off")
        self.closed_outcome = "break_off"


@dataclass
class PreviewSession(SessionEnding):
    """The draft run through the real engine with a NullRecorder: answers, notes and events go nowhere."""

    instrument: Instrument
    engine: InterviewEngine
    languages: list[str] = field(default_factory=list)
    closed_outcome: str | None = None

    #: where a quick path to `start_at` stopped short of it (None: it got there, or there was none)
    stopped_at: str | None = None

    @classmethod
    def open(cls, instrument: Instrument, language: str | None = None, start_at: str | None = None) -> PreviewSession:
        """A preview from the first question, or from `start_at` with the questions before it answered by a
        quick path (`quick_path`); in `language` when the instrument has it."""
        lang = language if language in instrument.languages else instrument.language
        engine = InterviewEngine(instrument, NullRecorder(), language=lang, seed="preview")
        engine.start()
        session = cls(instrument, engine, list(instrument.languages))
        if start_at is not None:
            session.stopped_at = quick_path(engine, start_at)
        return session

    @property
    def interview_id(self) -> None:
        return None

    @property
    def respondent_id(self) -> None:
        return None

    @property
    def mode(self) -> str:
        return PREVIEW_MODE

    @property
    def preview(self) -> bool:
        return True

    @property
    def needs_consent(self) -> bool:
        return False  # consent belongs to a respondent; a preview has none

    @property
    def language(self) -> str:
        return self.engine.language

    @property
    def outcome(self) -> str | None:
        return self.closed_outcome or self.engine.outcome

    @property
    def full_quota_cell(self) -> None:
        return None  # quotas count real interviews only

    def consent_text(self) -> str:
        return ""

    def record_consent(self, given: bool) -> None:
        """Never asked in a preview; kept so the form can treat both sessions alike."""

    def set_language(self, language: str) -> None:
        self.engine.set_language(language)

    def suspend(self) -> None:
        """Nothing to resume later: the preview just ends."""
        if not self.engine.finished:
            self.closed_outcome = "suspended"

    def close(self) -> None:
        """No store was opened."""


def _candidates(q: Question, engine: InterviewEngine) -> Iterator[Any]:
    """Answers to try on a question, plainest first; the engine's own validation decides."""
    if q.type == "note":
        yield None
    elif q.type in ("single", "scale"):
        yield from (c.code for c in engine.ordered_choices(q))
    elif q.type == "multi":
        yield from ([c.code] for c in engine.ordered_choices(q))
    elif q.type == "grid":
        codes = [c.code for c in q.choice_options]
        for code in codes:
            yield {item.name: code for item in q.items or []}
    elif q.type == "numeric":
        low, high = q.min, q.max
        middle = (low + high) / 2 if low is not None and high is not None else None
        for value in (middle, 30, low, high, 1, 0):
            if value is not None:
                yield f"{round(value, q.decimals):g}" if q.decimals else str(int(round(value)))
    elif q.type == "date":
        yield date.today().isoformat()
    else:
        yield "preview"


def quick_path(engine: InterviewEngine, target: str, limit: int = 2000) -> str | None:
    """Answer every question before `target` with the first answer the engine accepts that neither ends the
    interview nor routes past `target`, so a preview can start at the question being edited. The answers
    are ordinary ones: going back shows and changes them. Returns None when `target` is on screen, else the
    question the path stopped at (no accepted answer kept `target` on the path)."""
    instrument = engine.instrument
    goal = instrument.position(target)
    for _ in range(limit):
        q = engine.current
        if q is None or engine.finished:
            return None if q is not None and q.name == target else (q.name if q else "end")
        if q.name == target:
            return None
        if instrument.position(q.name) > goal:  # the target is not on this path
            return q.name
        for answer in _candidates(q, engine):
            result = engine.submit(answer)
            if not result.accepted:
                continue
            after = engine.current
            overshot = after is not None and instrument.position(after.name) > goal
            if engine.finished or (after is None) or overshot:
                engine.back()  # this answer ends the interview or skips the target: try the next one
                continue
            break
        else:
            return q.name
    return engine.current.name if engine.current else "end"
