"""The instrument model: a questionnaire in XLSForm's vocabulary, as researchers write it in YAML.

Two layers: pydantic models validate the *shape* of the file (types, unknown keys, enums) so every typo
gets a located message; `Instrument.compile()` then resolves what only the whole instrument can tell
(choice-list names, expression references, piping) and stores parsed expressions on the models, so the
interview engine never parses text while an interviewer waits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, field_validator

from survey_tui.core.instrument.expressions import Expression
from survey_tui.i18n import _

QuestionType = Literal["single", "multi", "scale", "grid", "numeric", "text", "date", "note", "calculate"]
SpecialName = Literal["dont_know", "refused"]
SPECIAL_NAMES: tuple[SpecialName, ...] = ("dont_know", "refused")

#: Types that take a choice list.
CHOICE_TYPES = frozenset({"single", "multi", "scale", "grid"})
#: Types whose answer is one code from the choice list.
CODED_TYPES = frozenset({"single", "scale"})
#: Types an interviewer answers (notes are shown, calculates are derived).
ANSWERABLE_TYPES = frozenset({"single", "multi", "scale", "grid", "numeric", "text", "date"})

#: The most iterations one loop may have (a count loop's max:); each iteration is a screen per question.
MAX_ITERATIONS = 200
#: The most questions a questionnaire may have once its loops are expanded (each iteration's questions count):
#: twice the 1 MB benchmark's 5,000 questions written out; a 30 KB file of loops could otherwise make 200,000
MAX_QUESTIONS = 10_000

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
PIPE_PATTERN = re.compile(r"\$?\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _labels(value: Any) -> Any:
    """A bare string is the same label in every language; a mapping is language -> text."""
    if isinstance(value, str):
        return {"*": value}
    if isinstance(value, dict):
        return {str(k): ("" if v is None else str(v)) for k, v in value.items()}
    return value


Labels = Annotated[dict[str, str], BeforeValidator(_labels)]


def label_text(labels: dict[str, str] | None, language: str, fallback: str | None = None) -> str:
    """The label in `language`, else the fallback language, else any label (never an empty screen)."""
    if not labels:
        return ""
    for lang in (language, fallback, "*"):
        if lang and labels.get(lang):
            return labels[lang]
    return next((text for text in labels.values() if text), "")


class _Model(BaseModel):
    # defer_build (here and on every model of the study's files): a model's validator is built when it is first
    # used, not when its module is imported; a command that never validates a quota or a call outcome does
    # not pay for building theirs (a twentieth of a `check` just after an edit)
    model_config = ConfigDict(extra="forbid", defer_build=True, frozen=False, validate_assignment=False)


class Choice(_Model):
    """One answer option: a numeric code (what analysts see in SPSS) and its labels."""

    code: int
    label: Labels
    name: str | None = None  # original XLSForm choice name, kept when codes were assigned on import
    fixed: bool = False  # stays in place when choices are randomised ("Other", "None of these")
    exclusive: bool = False  # multi only: cannot be combined with other choices ("None of these")
    #: "not applicable" (e.g. 97 "not used"): a real answer on the form, but out of every base, mean and
    #: scale statistic, and user-missing in the data files.
    missing: bool = False


class GridItem(_Model):
    """A row of a grid: rated on the grid's shared choice list, exported as its own variable."""

    name: str
    label: Labels

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(
                _("item name {name!r} must start with a letter and use only letters, digits, _").format(name=value)
            )
        return value


class SpecialCode(_Model):
    """A study-wide missing-value code such as don't know (98) or refused (99)."""

    code: int
    label: Labels


def _default_specials() -> dict[str, SpecialCode]:
    return {
        "dont_know": SpecialCode(code=98, label={"zh-TW": "不知道", "en": "Don't know"}),
        "refused": SpecialCode(code=99, label={"zh-TW": "拒答", "en": "Refused"}),
    }


class Question(_Model):
    """One question (or a note / derived value). Field names follow XLSForm where it has one."""

    name: str
    type: QuestionType
    label: Labels = Field(default_factory=dict)
    hint: Labels | None = None
    choices: list[Choice] | str | None = None  # inline choices or the name of a choice list
    items: list[GridItem] | None = None  # grid rows
    required: bool | None = None  # None: the instrument's required_default
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: Labels | None = None
    #: XLSForm's choice_filter: only the choices for which it holds are offered, '.' being the choice's
    #: code, e.g. "selected(a2_aided, .)" carries forward the brands heard of
    choice_filter: str | None = None
    calculate: str | None = None
    min: float | None = None
    max: float | None = None
    #: date questions: the earliest and latest accepted date (YYYY-MM-DD or "today"); by default 1900-01-01
    #: to 2100-12-31, and no later than today for a birth date (see validation.date_bounds)
    min_date: str | None = None
    max_date: str | None = None
    decimals: int = Field(default=0, ge=0, le=10)
    max_length: int = Field(default=2000, ge=1, le=100_000)
    max_selected: int | None = Field(default=None, ge=1)
    randomize: bool = False
    #: per-question override of the special codes: a mapping such as {dont_know: 8} (null removes one),
    #: or false for none at all (a question where "don't know" makes no sense).
    special_codes: dict[str, int | None] | Literal[False] | None = None

    _relevant: Expression | None = PrivateAttr(default=None)
    _constraint: Expression | None = PrivateAttr(default=None)
    _choice_filter: Expression | None = PrivateAttr(default=None)
    _calculate: Expression | None = PrivateAttr(default=None)
    _choices: tuple[Choice, ...] = PrivateAttr(default=())
    _specials: dict[str, SpecialCode] = PrivateAttr(default_factory=dict)
    _section: str = PrivateAttr(default="")
    _required: bool = PrivateAttr(default=False)
    _slot: LoopSlot | None = PrivateAttr(default=None)

    @field_validator("min_date", "max_date")
    @classmethod
    def _valid_bound(cls, value: str | None) -> str | None:
        if value is None or value == "today":
            return value
        from datetime import date

        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(_("{value!r} is not a date (YYYY-MM-DD) or 'today'").format(value=value)) from None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(
                _(
                    "question name {name!r} must start with a letter, use only letters, digits and _, "
                    "and be at most 64 characters (SPSS and Stata need this)"
                ).format(name=value)
            )
        return value

    @field_validator("special_codes")
    @classmethod
    def _valid_specials(cls, value: Any) -> Any:
        if isinstance(value, dict):
            unknown = set(value) - set(SPECIAL_NAMES)
            if unknown:
                raise ValueError(
                    _("unknown special code {code!r}; use dont_know or refused").format(code=sorted(unknown)[0])
                )
        return value

    # -- compiled view (filled by Instrument.compile) --------------------------------------------
    @property
    def relevant_expr(self) -> Expression | None:
        return self._relevant

    @property
    def constraint_expr(self) -> Expression | None:
        return self._constraint

    @property
    def choice_filter_expr(self) -> Expression | None:
        return self._choice_filter

    @property
    def calculate_expr(self) -> Expression | None:
        return self._calculate

    @property
    def choice_options(self) -> tuple[Choice, ...]:
        """Resolved choices (inline or from the named list), in the order written."""
        return self._choices

    @property
    def specials(self) -> dict[str, SpecialCode]:
        """The special codes this question accepts (name -> code), after overrides."""
        return self._specials

    @property
    def section(self) -> str:
        return self._section

    @property
    def is_required(self) -> bool:
        return self._required

    @property
    def answerable(self) -> bool:
        return self.type in ANSWERABLE_TYPES

    @property
    def slot(self) -> LoopSlot | None:
        """For a question asked in a loop: which loop, which iteration, and the question it was made from."""
        return self._slot

    def choice(self, code: int) -> Choice | None:
        return next((c for c in self._choices if c.code == code), None)

    def variable_names(self) -> list[str]:
        """The data-file variables this question becomes (grid items and multi choices split out)."""
        if self.type == "grid":
            return [f"{self.name}_{item.name}" for item in self.items or []]
        if self.type == "multi":
            return [f"{self.name}_{c.code}" for c in self._choices]
        if self.type == "note":
            return []
        return [self.name]


class Loop(_Model):
    """A section asked once per item: its questions repeat for each iteration.

    Exactly one of three sources says what the iterations are:

    * ``over: q`` -- a multi question asked earlier (loop and merge): one iteration per code chosen there, in
      the order of q's choices. Exclusive and not-applicable choices ("None of these") never loop, nor the
      codes listed under ``exclude:``.
    * ``choices:`` -- a fixed list (inline choices or a choice-list name): every choice, always.
    * ``count: q`` -- a numeric question asked earlier (household members): iterations 1 .. its answer, at
      most ``max`` (default: q's own max); an unanswered, don't-know or refused count asks none.

    A question ``fam`` in the loop becomes one question per iteration, named ``fam_<code>`` for choice loops
    (over / choices) and ``fam_1 .. fam_<max>`` for count loops: those names are what the data, the store and
    the exports hold, so every iteration is answered, audited and resumed like any question. Inside the loop:

    * a sibling's bare name (``fam``) means this iteration's answer; another iteration is ``fam_3`` or
      ``indexed(fam, 3)`` (an iteration not asked before this point reads as missing);
    * ``item()`` is this iteration's code (count loops: its number) and ``iteration()`` its number 1, 2, ...
      among all possible iterations;
    * ``${<section name>}`` in a label pipes the item's label ("關於「${brand_loop}」…"; count loops: the
      number), and ``${fam}`` this iteration's answer to fam.

    ``label`` is what one item is called; the interview shows "Brand 2 of 4: 50嵐".
    """

    over: str | None = None
    count: str | None = None
    choices: list[Choice] | str | None = None
    max: int | None = Field(default=None, ge=1, le=MAX_ITERATIONS)
    #: codes of a choice loop that never loop (e.g. 96 "Other brand", which has no name to ask about)
    exclude: list[int] = Field(default_factory=list)
    label: Labels = Field(default_factory=dict)

    @property
    def kind(self) -> Literal["over", "count", "choices"] | None:
        """Which source the loop names (None until exactly one is given: the loader reports it)."""
        given = [k for k in ("over", "count", "choices") if getattr(self, k) is not None]
        return given[0] if len(given) == 1 else None  # type: ignore[return-value]


@dataclass(frozen=True)
class LoopSlot:
    """Where a question made from a loop template sits: the loop (its section), the iteration and the template."""

    loop: str  # the loop's section name
    template: str  # the question as written in the loop ("fam")
    key: int  # the iteration's code (choice loops) or number (count loops): the name's suffix
    iteration: int  # 1-based number among all possible iterations


@dataclass(frozen=True)
class LoopPlan:
    """A compiled loop: every possible iteration, the condition that makes each one asked, and its label."""

    name: str  # the section name
    kind: Literal["over", "count", "choices"]
    source: str | None  # the multi or numeric question it loops over (None: a fixed list)
    keys: tuple[int, ...]
    item_labels: dict[int, dict[str, str]]  # key -> labels (count loops: the number)
    templates: tuple[str, ...]  # question names as written in the loop, in order
    label: dict[str, str]  # what one item is called
    active: dict[int, Expression | None]  # key -> when that iteration is asked (None: always)

    def variable(self, template: str, key: int) -> str:
        return f"{template}_{key}"


@dataclass(frozen=True, slots=True)
class RouteStep:
    """One question as routing reads it, in plain attributes: pydantic's private attributes cost a lookup
    each, and routing reads every question's on each keystroke (600 of them in a 30 x 20 loop)."""

    question: Question
    name: str
    section: int  # index into Instrument.sections
    section_relevant: Expression | None
    relevant: Expression | None
    shown: bool  # calculates are derived silently; everything else takes a screen
    slot: LoopSlot | None
    calculate: Expression | None = None
    #: the questions its relevance (and the section's) and its calculation read: only a change to one of
    #: them can take it off the path or change its value
    reads: frozenset[str] = frozenset()


class Section(_Model):
    """A group of questions with its own relevance (a whole block skipped at once), or a loop (see Loop)."""

    name: str
    label: Labels = Field(default_factory=dict)
    relevant: str | None = None
    loop: Loop | None = None
    questions: list[Question] = Field(default_factory=list)

    _relevant: Expression | None = PrivateAttr(default=None)

    @property
    def relevant_expr(self) -> Expression | None:
        return self._relevant


class TerminateRule(_Model):
    """Ends an interview early, e.g. a screener answer that makes the respondent ineligible."""

    when: str
    outcome: Literal["screened_out", "quota_full"] = "screened_out"
    message: Labels | None = None

    _when: Expression | None = PrivateAttr(default=None)
    _last: int = PrivateAttr(default=0)

    @property
    def when_expr(self) -> Expression | None:
        return self._when

    @property
    def last_position(self) -> int:
        """The position of the last question the rule reads: it is checked only once that is reached."""
        return self._last


class Instrument(_Model):
    """A whole questionnaire as it is written in `instruments/<id>.yaml`."""

    id: str
    title: Labels = Field(default_factory=dict)
    languages: list[str] = Field(default_factory=lambda: ["zh-TW", "en"], min_length=1)
    default_language: str | None = None
    required_default: bool = True
    special_codes: dict[SpecialName, SpecialCode] | None = None
    choice_lists: dict[str, list[Choice]] = Field(default_factory=dict)
    terminate: list[TerminateRule] = Field(default_factory=list)
    sections: list[Section] = Field(min_length=1)

    _questions: tuple[Question, ...] = PrivateAttr(default=())
    _by_name: dict[str, Question] = PrivateAttr(default_factory=dict)
    _order: dict[str, int] = PrivateAttr(default_factory=dict)
    _section_of: dict[str, Section] = PrivateAttr(default_factory=dict)
    _variables: dict[str, str] = PrivateAttr(default_factory=dict)
    _loops: dict[str, LoopPlan] = PrivateAttr(default_factory=dict)
    _templates: dict[str, str] = PrivateAttr(default_factory=dict)  # loop question as written -> its loop
    #: (steps in order, step by name), built from the compiled questions on first use (compile resets it)
    _routing: tuple[tuple[RouteStep, ...], dict[str, RouteStep]] | None = PrivateAttr(default=None)

    @property
    def language(self) -> str:
        return self.default_language or self.languages[0]

    @property
    def questions(self) -> tuple[Question, ...]:
        """Every question in interview order, across sections."""
        return self._questions

    def question(self, name: str) -> Question:
        return self._by_name[name]

    def has_question(self, name: str) -> bool:
        return name in self._by_name

    def position(self, name: str) -> int:
        """Index of a question (or of the question owning a grid-item variable) in interview order."""
        return self._order[self._variables.get(name, name)]

    def section_of(self, name: str) -> Section:
        return self._section_of[name]

    def owner_of(self, variable: str) -> str | None:
        """The question a name in an expression belongs to (a grid item's variable -> its grid)."""
        return self._variables.get(variable)

    @property
    def loops(self) -> dict[str, LoopPlan]:
        """Compiled loops by section name, in interview order."""
        return self._loops

    def loop_of_template(self, name: str) -> LoopPlan | None:
        """The loop a question name as written in a loop ('fam') belongs to; None for other names."""
        loop = self._templates.get(name)
        return self._loops.get(loop) if loop else None

    def iterations(self, template: str) -> list[Question]:
        """Every question made from one loop template, in iteration order (empty for other names)."""
        plan = self.loop_of_template(template)
        if plan is None:
            return []
        return [self._by_name[n] for n in (plan.variable(template, k) for k in plan.keys) if n in self._by_name]

    def route(self) -> tuple[RouteStep, ...]:
        """Every question with what routing needs, in interview order (built once per compile)."""
        return (self._routing or self._build_routing())[0]

    def route_step(self, name: str) -> RouteStep:
        return (self._routing or self._build_routing())[1][name]

    def _build_routing(self) -> tuple[tuple[RouteStep, ...], dict[str, RouteStep]]:
        index = {id(section): i for i, section in enumerate(self.sections)}
        owner = self._variables

        def reads(*exprs: Expression | None) -> frozenset[str]:
            return frozenset(owner.get(n, n) for e in exprs if e is not None for n in e.names)

        route = tuple(
            RouteStep(
                question=q,
                name=q.name,
                section=index[id(self._section_of[q.name])],
                section_relevant=self._section_of[q.name].relevant_expr,
                relevant=q.relevant_expr,
                shown=q.type != "calculate",
                slot=q.slot,
                calculate=q.calculate_expr if q.type == "calculate" else None,
                reads=reads(self._section_of[q.name].relevant_expr, q.relevant_expr, q.calculate_expr),
            )
            for q in self._questions
        )
        self._routing = (route, {step.name: step for step in route})
        return self._routing
