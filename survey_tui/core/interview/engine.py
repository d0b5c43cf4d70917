"""The interview engine: one place that runs an instrument for one respondent.

It asks `routing` what comes next, `validation` whether an answer stands, applies calculations,
piping and terminate rules, clears answers that a change made irrelevant, and hands every accepted
change to a `Recorder` in one transaction before it moves on. Renderers (the Textual form, the plain
prompts, the builder's preview, the demo generator) only show `view()` and call `submit()`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

from survey_tui.core.instrument.model import PIPE_PATTERN, Choice, Instrument, Question, RouteStep, label_text
from survey_tui.core.interview.answers import Answer, AnswerScope
from survey_tui.core.interview.messages import message
from survey_tui.core.interview.routing import is_relevant, next_question, on_path, on_path_steps
from survey_tui.core.interview.validation import Invalid, Rejection, special_answer, validate


class Recorder(Protocol):
    """Where accepted changes go. The store's recorder commits each batch durably."""

    def batch(self) -> Any: ...  # a context manager: everything inside is one transaction
    def save(self, question: str, answer: Answer, action: str) -> None: ...
    def clear(self, question: str, reason: str) -> None: ...
    def position(self, current: str | None, path: list[str]) -> None: ...
    def event(self, kind: str, question: str | None, detail: str | None = None) -> None: ...
    #: may return another outcome than asked (a complete whose quota cell filled meanwhile -> 'quota_full')
    def finish(self, status: str, outcome: str | None) -> str | None: ...
    def reopen(self) -> None: ...  # an ended interview goes on (the interviewer went back)


class NullRecorder:
    """Keeps nothing: the builder's preview and dry runs."""

    def batch(self) -> Any:
        return nullcontext()

    def save(self, question: str, answer: Answer, action: str) -> None:
        pass

    def clear(self, question: str, reason: str) -> None:
        pass

    def position(self, current: str | None, path: list[str]) -> None:
        pass

    def event(self, kind: str, question: str | None, detail: str | None = None) -> None:
        pass

    def finish(self, status: str, outcome: str | None) -> None:
        pass

    def reopen(self) -> None:
        pass


@dataclass(frozen=True)
class ChoiceView:
    code: int
    label: str
    exclusive: bool = False


@dataclass(frozen=True)
class LoopView:
    """Where a loop question stands: "Brand 2 of 4: 50嵐" (count loops: "Member 2 of 3")."""

    name: str  # the loop's section name
    label: str  # what one item is called ("Brand")
    index: int  # 1-based among the iterations the answers so far ask
    total: int
    item: str  # the item's label (empty for count loops, whose number is the item)
    key: int
    heading: str  # in the interview's language, e.g. "Brand 2 of 4: 50嵐" / "品牌 2/4：50嵐"


@dataclass(frozen=True)
class QuestionView:
    """Everything a renderer needs for one screen, already in the chosen language."""

    question: Question
    label: str
    hint: str
    section: str
    choices: tuple[ChoiceView, ...]
    items: tuple[tuple[str, str], ...]  # grid rows: (item name, label)
    specials: tuple[tuple[str, int, str], ...]  # (name, code, label)
    answer: Answer | None
    number: int  # 1-based position among the questions on the current path
    total: int  # questions on the current path (changes as answers route)
    loop: LoopView | None = None  # set for a question asked in a loop


@dataclass(frozen=True)
class StepResult:
    accepted: bool
    rejection: Rejection | None = None
    finished: bool = False  # the interview ended (completed path or terminated)
    outcome: str | None = None
    message: str = ""  # what to tell the respondent when a terminate rule ended the interview


@dataclass
class Progress:
    answered: int
    total: int

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else round(100 * self.answered / self.total)


@dataclass
class InterviewState:
    """What a resumed interview needs: the answers and the way it came."""

    answers: dict[str, Answer] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)  # questions passed, oldest first (for going back)
    current: str | None = None


class InterviewEngine:
    def __init__(
        self,
        instrument: Instrument,
        recorder: Recorder | None = None,
        *,
        language: str | None = None,
        seed: str = "",
        state: InterviewState | None = None,
        stop_check: Callable[[AnswerScope], str | None] | None = None,
    ) -> None:
        self.instrument = instrument
        self.recorder: Recorder = recorder or NullRecorder()
        self.language = language or instrument.language
        self.fallback = instrument.language
        self.seed = seed
        #: an outside rule checked after each answer like the terminate rules, e.g. a full quota cell:
        #: returns an outcome ('quota_full') to end the interview, or None to go on
        self.stop_check = stop_check
        state = state or InterviewState()
        self.answers: dict[str, Answer] = dict(state.answers)
        self.path: list[str] = list(state.path)
        self.current: Question | None = None
        self.at_end = False
        self.outcome: str | None = None
        #: what a terminate rule asks the interviewer to say (shown on the end screen)
        self.end_message = ""
        self._shown_at = time.monotonic()
        self.current = self._resume_position(state)
        self.at_end = self.current is None

    # -- reading ---------------------------------------------------------------------------------
    @property
    def scope(self) -> AnswerScope:
        return AnswerScope(self.instrument, self.answers)

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    def view(self) -> QuestionView | None:
        q = self.current
        if q is None:
            return None
        lang, fb = self.language, self.fallback
        steps = on_path_steps(self.instrument, self.scope)
        names = [step.name for step in steps]
        section = self.instrument.section_of(q.name)
        return QuestionView(
            question=q,
            label=self.pipe(label_text(q.label, lang, fb)),
            hint=self.pipe(label_text(q.hint, lang, fb)),
            section=label_text(section.label, lang, fb) or section.name,
            choices=tuple(
                ChoiceView(c.code, self.pipe(label_text(c.label, lang, fb)), c.exclusive)
                for c in self.ordered_choices(q)
            ),
            items=tuple((i.name, label_text(i.label, lang, fb)) for i in q.items or []),
            specials=tuple((n, s.code, label_text(s.label, lang, fb)) for n, s in q.specials.items()),
            answer=self.answers.get(q.name),
            number=(names.index(q.name) + 1) if q.name in names else len(self.path) + 1,
            total=len(steps),
            loop=self.loop_view(q, steps),
        )

    def loop_view(self, question: Question, path: list[RouteStep] | None = None) -> LoopView | None:
        """The iteration a loop question belongs to, counted among the iterations the answers so far ask
        (an iteration whose every question is skipped is not counted)."""
        slot = question.slot
        if slot is None:
            return None
        plan = self.instrument.loops[slot.loop]
        on = path if path is not None else on_path_steps(self.instrument, self.scope)
        keys = {step.slot.key for step in on if step.slot is not None and step.slot.loop == plan.name}
        asked = [k for k in plan.keys if k in keys]
        index = asked.index(slot.key) + 1 if slot.key in asked else slot.iteration
        item = "" if plan.kind == "count" else label_text(plan.item_labels[slot.key], self.language, self.fallback)
        label = label_text(plan.label, self.language, self.fallback) or plan.name
        total = max(len(asked), index)
        heading = message("loop_heading", self.language, label=label, index=index, total=total)
        if item:
            heading = message("loop_item", self.language, heading=heading, item=item)
        return LoopView(plan.name, label, index, total, item, slot.key, heading)

    def progress(self) -> Progress:
        path = on_path(self.instrument, self.scope)
        done = sum(1 for q in path if q.name in self.answers or q.type == "note" and q.name in self.path)
        return Progress(done, len(path))

    def ordered_choices(self, question: Question) -> list[Choice]:
        """Choices in display order; randomised ones are shuffled the same way for this interview.

        A `choice_filter` leaves only the choices earlier answers allow (checked again on submit).
        """
        choices = list(question.choice_options)
        expr = question.choice_filter_expr
        if expr is not None:
            scope = self.scope
            choices = [c for c in choices if expr.evaluate_bool(scope, self_value=c.code)]
        if not question.randomize:
            return choices
        movable = [c for c in choices if not c.fixed]
        random.Random(f"{self.seed}:{question.name}").shuffle(movable)
        shuffled = iter(movable)
        return [c if c.fixed else next(shuffled) for c in choices]

    def display_value(self, name: str) -> str:
        """An answer as words, for piping ("you said 50嵐 is your favourite")."""
        owner = self.instrument.owner_of(name)
        if owner is not None and owner != name:  # a grid item: the label of the code given on that row
            grid = self.instrument.question(owner)
            code = self.scope.value(name)
            choice = grid.choice(code) if isinstance(code, int) else None
            return label_text(choice.label, self.language, self.fallback) if choice else "___"
        answer = self.answers.get(name)
        if answer is None:
            return "___"
        q = self.instrument.question(name)
        if answer.special is not None:
            special = q.specials.get(answer.special)
            return label_text(special.label, self.language, self.fallback) if special else answer.special
        if q.type in ("single", "scale"):
            choice = q.choice(answer.value)
            return label_text(choice.label, self.language, self.fallback) if choice else str(answer.value)
        if q.type == "multi":
            sep = "、" if self.language.startswith("zh") else ", "
            return sep.join(
                label_text(c.label, self.language, self.fallback) for c in q.choice_options if c.code in answer.value
            )
        if isinstance(answer.value, float):
            text = f"{answer.value:.{q.decimals}f}"
            # 10 places is "no set limit" (an imported XLSForm decimal): show what was typed, not 10 places
            return text.rstrip("0").rstrip(".") if q.decimals >= 10 else text
        return "" if isinstance(answer.value, dict) else str(answer.value)

    def pipe(self, text: str) -> str:
        if "{" not in text:
            return text
        return PIPE_PATTERN.sub(lambda m: self.display_value(m.group(1)), text)

    # -- acting ----------------------------------------------------------------------------------
    def submit(self, raw: Any) -> StepResult:
        """Validate and store an answer to the current question, then move on."""
        q = self.current
        if q is None:
            return StepResult(False, Rejection("the interview is at its end"))
        if q.type == "note":
            return self._accept(q, None)
        try:
            answer = validate(q, raw, self.scope, self.language, self.fallback)
        except Invalid as exc:
            return StepResult(False, exc.rejection)
        return self._accept(q, answer)

    def submit_special(self, special: str) -> StepResult:
        q = self.current
        if q is None:
            return StepResult(False, Rejection("the interview is at its end"))
        if q.type == "note":
            return StepResult(False, Rejection(message("note", self.language)))
        try:
            answer = special_answer(q, special, self.language)
        except Invalid as exc:
            return StepResult(False, exc.rejection)
        return self._accept(q, answer)

    def back(self) -> bool:
        """Go to the previous question; its answer (and every later one) is kept."""
        if not self.path:
            return False
        with self._step():
            if self.outcome is not None:  # e.g. a mistyped age screened the respondent out
                self.outcome = None
                self.end_message = ""
                self.recorder.reopen()
            if self.current is not None:
                self.recorder.event("back", self.current.name, None)
            self.current = self.instrument.question(self.path.pop())
            self.at_end = False
            self.recorder.position(self.current.name, self.path)
            self._shown()
        return True

    def note(self, text: str) -> None:
        """An interviewer's remark on the current question (paradata for the pilot report)."""
        self.recorder.event("note", self.current.name if self.current else None, text)

    def set_language(self, language: str) -> None:
        self.language = language

    def finish(self, outcome: str = "complete") -> None:
        status = "completed" if outcome == "complete" else "terminated"
        final = self.recorder.finish(status, outcome)
        # only once stored (a finish the store refused can be given again), and as the store decided: a
        # complete whose quota cell filled at that moment ends as 'quota_full'
        self.outcome = final or outcome

    # -- internals -------------------------------------------------------------------------------
    @contextmanager
    def _step(self) -> Iterator[None]:
        """One step is all or nothing: if the store refuses it, memory goes back to where it was."""
        saved = (dict(self.answers), list(self.path), self.current, self.at_end, self.outcome)
        try:
            with self.recorder.batch():
                yield
        except BaseException:
            self.answers, self.path, self.current, self.at_end, self.outcome = saved
            raise

    def _accept(self, q: Question, answer: Answer | None) -> StepResult:
        with self._step():
            self._record(q, answer, "answered")
            self._update_derived(q.name)
            self.recorder.event("answer", q.name, f"{time.monotonic() - self._shown_at:.3f}")
            self.path.append(q.name)
            rule = self._terminated(self.instrument.position(q.name))
            if rule is not None:
                outcome, text = rule
                self.end_message = text
                self.current = None
                self.at_end = True
                self.recorder.position(None, self.path)
                self.finish(outcome)
                return StepResult(True, finished=True, outcome=outcome, message=text)
            self.current = next_question(self.instrument, self.instrument.position(q.name), self.scope)
            self.at_end = self.current is None
            self.recorder.position(self.current.name if self.current else None, self.path)
            self._shown()
        return StepResult(True)

    def _record(self, q: Question, answer: Answer | None, action: str) -> None:
        old = self.answers.get(q.name)
        if answer is None:
            if old is not None:
                del self.answers[q.name]
                self.recorder.clear(q.name, "blanked" if action == "answered" else action)
            return
        if old != answer:
            self.answers[q.name] = answer
            self.recorder.save(q.name, answer, action if old is None else "changed")

    def _update_derived(self, changed: str | None = None) -> None:
        """One forward pass: answers a change took off the path go (audited), calculations are redone.

        Order matters: a calculation must never read an answer that this same change clears. After an
        answer to `changed`, only the questions after it that read it (or read something this pass
        cleared or recalculated) are looked at: expressions only read earlier questions, so nothing else
        can move. With no `changed` (a fresh or resumed interview) every question is.
        """
        ins, answers, scope = self.instrument, self.answers, self.scope
        route = ins.route()
        dirty = None if changed is None else {changed}
        start = 0 if changed is None else ins.position(changed) + 1
        for index in range(start, len(route)):
            step = route[index]
            if dirty is not None and step.reads.isdisjoint(dirty):
                continue
            name = step.name
            if step.shown and name not in answers:
                continue
            if not is_relevant(ins, step.question, scope):
                if name in answers:
                    del answers[name]
                    self.recorder.clear(name, "cleared_irrelevant")
                    if dirty is not None:
                        dirty.add(name)
                continue
            if step.calculate is not None:
                value = step.calculate.evaluate(scope)
                if isinstance(value, float) and value.is_integer() and step.question.decimals == 0:
                    value = int(value)
                before = answers.get(name)
                self._record(step.question, None if value is None else Answer(value=value), "calculated")
                if dirty is not None and answers.get(name) != before:
                    dirty.add(name)

    def _terminated(self, position: int) -> tuple[str, str] | None:
        """A rule is only checked once every question it reads has been reached (unanswered is not "no")."""
        scope = self.scope
        for rule in self.instrument.terminate:
            if rule.when_expr is None or rule.last_position > position:
                continue
            if rule.when_expr.evaluate_bool(scope):
                return rule.outcome, self.pipe(label_text(rule.message, self.language, self.fallback))
        outcome = self.stop_check(scope) if self.stop_check is not None else None
        return (outcome, "") if outcome else None

    def _resume_position(self, state: InterviewState) -> Question | None:
        """Where an interview (re)starts: its stored question if still on the path, else the next one.

        A stored position of None with a path behind it means the interview had reached its end.
        """
        ins, scope = self.instrument, self.scope
        if state.current and ins.has_question(state.current):
            q = ins.question(state.current)
            if is_relevant(ins, q, scope):
                return q
            return next_question(ins, ins.position(q.name), scope)
        known = [name for name in self.path if ins.has_question(name)]
        if known:
            return next_question(ins, ins.position(known[-1]), scope)
        after = -1
        while True:  # no position stored at all: the first relevant question without an answer
            q = next_question(ins, after, scope)
            if q is None or q.name not in self.answers:
                return q
            after = ins.position(q.name)

    def _shown(self) -> None:
        self._shown_at = time.monotonic()
        if self.current is not None:
            self.recorder.event("shown", self.current.name, None)

    def start(self) -> None:
        """Mark the first screen as shown (paradata) and compute derived values."""
        with self._step():
            self._update_derived()
            if self.current is not None and not self.path:  # the row says where a fresh interview stands
                self.recorder.position(self.current.name, self.path)
            self._shown()


class StoreRecorder:
    """Writes an engine's changes to the study store, one durable transaction per step.

    `clock` gives the timestamps; the demo generator passes a simulated one so synthetic
    interviews carry realistic paradata.
    """

    def __init__(
        self, store: Any, interview_id: int, actor: str | None = None, clock: Callable[[], str] | None = None
    ) -> None:
        self.store = store
        self.interview_id = interview_id
        self.actor = actor
        self.clock = clock

    def _at(self) -> str | None:
        return self.clock() if self.clock else None

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self.store.transaction():
            yield

    def save(self, question: str, answer: Answer, action: str) -> None:
        self.store.save_answer(
            self.interview_id, question, answer.value, answer.special, self.actor, action, at=self._at()
        )

    def clear(self, question: str, reason: str) -> None:
        self.store.clear_answer(self.interview_id, question, reason, self.actor, at=self._at())

    def position(self, current: str | None, path: list[str]) -> None:
        self.store.set_position(self.interview_id, current, path)

    def event(self, kind: str, question: str | None, detail: str | None = None) -> None:
        self.store.log_event(self.interview_id, kind, question, detail, at=self._at())

    def finish(self, status: str, outcome: str | None) -> None:
        self.store.finish_interview(self.interview_id, status, outcome, ended_at=self._at())

    def reopen(self) -> None:
        self.store.reopen_interview(self.interview_id, at=self._at())


def state_from_store(store: Any, interview_id: int) -> InterviewState:
    """Rebuild an interrupted interview exactly where it stopped."""
    row = store.interview(interview_id)
    answers = {name: Answer(a.value, a.special) for name, a in store.answers(interview_id).items()}
    return InterviewState(answers=answers, path=list(row.path), current=row.current_question)
