"""Skip logic: which question is asked next, given the answers so far.

Relevance is the section's `relevant` and the question's `relevant`, both true; a question whose
expression reads an unanswered question sees None there (see the expression language). Because
expressions may only read earlier questions (checked at load), one forward pass decides everything.
"""

from __future__ import annotations

from survey_tui.core.instrument.model import Instrument, Question
from survey_tui.core.interview.answers import AnswerScope


def is_relevant(instrument: Instrument, question: Question, scope: AnswerScope) -> bool:
    section = instrument.section_of(question.name)
    if section.relevant_expr is not None and not section.relevant_expr.evaluate_bool(scope):
        return False
    return question.relevant_expr is None or question.relevant_expr.evaluate_bool(scope)


def is_shown(question: Question) -> bool:
    """Calculates are derived silently; everything else takes a screen."""
    return question.type != "calculate"


def next_question(instrument: Instrument, after: int, scope: AnswerScope) -> Question | None:
    """The first shown, relevant question after position `after` (-1 for the start)."""
    questions = instrument.questions
    for index in range(after + 1, len(questions)):
        question = questions[index]
        if is_shown(question) and is_relevant(instrument, question, scope):
            return question
    return None


def on_path(instrument: Instrument, scope: AnswerScope) -> list[Question]:
    """Every question the current answers route through (for progress and checks)."""
    return [q for q in instrument.questions if is_shown(q) and is_relevant(instrument, q, scope)]
