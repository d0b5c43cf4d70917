"""Skip logic: which question is asked next, given the answers so far.

Relevance is the section's `relevant` and the question's `relevant`, both true; a question whose
expression reads an unanswered question sees None there (see the expression language). Because
expressions may only read earlier questions (checked at load), one forward pass decides everything.
"""

from __future__ import annotations

from survey_tui.core.instrument.model import Instrument, Question, RouteStep
from survey_tui.core.interview.answers import AnswerScope


def is_relevant(instrument: Instrument, question: Question, scope: AnswerScope) -> bool:
    step = instrument.route_step(question.name)
    if step.section_relevant is not None and not step.section_relevant.evaluate_bool(scope):
        return False
    return step.relevant is None or step.relevant.evaluate_bool(scope)


def is_shown(question: Question) -> bool:
    """Calculates are derived silently; everything else takes a screen."""
    return question.type != "calculate"


def next_question(instrument: Instrument, after: int, scope: AnswerScope) -> Question | None:
    """The first shown, relevant question after position `after` (-1 for the start)."""
    route = instrument.route()
    sections: dict[int, bool] = {}
    for index in range(after + 1, len(route)):
        step = route[index]
        if step.shown and _relevant(step, scope, sections):
            return step.question
    return None


def on_path(instrument: Instrument, scope: AnswerScope) -> list[Question]:
    """Every question the current answers route through (for progress and checks)."""
    return [step.question for step in on_path_steps(instrument, scope)]


def on_path_steps(instrument: Instrument, scope: AnswerScope) -> list[RouteStep]:
    """`on_path` with each question's routing step (its loop slot without a model lookup)."""
    sections: dict[int, bool] = {}  # a section's relevance is read once per pass
    return [step for step in instrument.route() if step.shown and _relevant(step, scope, sections)]


def _relevant(step: RouteStep, scope: AnswerScope, sections: dict[int, bool]) -> bool:
    ok = sections.get(step.section)
    if ok is None:
        expr = step.section_relevant
        ok = sections[step.section] = expr is None or expr.evaluate_bool(scope)
    return ok and (step.relevant is None or step.relevant.evaluate_bool(scope))
