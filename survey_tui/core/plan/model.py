"""The study plan (T1.1–T1.2): desk research, method, report format, objectives, hypotheses, analysis plan.

It lives in `study.yaml` next to the title so a researcher can review and diff it. The pydantic models
check the *shape* (dates, enums, required keys) with located messages; `check_plan` then checks what only
the whole study can tell: duplicate ids, hypotheses pointing at unknown objectives, variables no instrument
has, tests that do not fit the variables' types, objectives nothing answers.

Hypotheses are explicit enough for the analysis step to evaluate them with scipy without guessing:

* ``outcome`` is the variable measured: a question name (``n2_intent``), a grid item variable
  (``b4_sat_taste``) or a multi-choice column (``a2_aided_1``); ``codes`` says which codes count as
  "yes" for proportion tests (``u1_freq`` codes 1–3 = weekly or more; ``a2_aided`` + code 1);
* the compared groups are ``groups`` (each a label and an expression such as ``s2 < 30``), or else the
  codes of the ``by`` question (for a difference test it must then have exactly two codes, or give
  ``groups``); for a correlation ``by`` is the second numeric variable;
* ``subset`` restricts the base (e.g. ``s5 = 1``, recent buyers);
* ``expected`` is the direction: the first group ``higher``/``lower`` than the second (for a correlation:
  positive/negative; for a share: above/below ``threshold``), ``different`` (two-sided) or
  ``no_difference`` (the hypothesis is that the test is NOT significant);
* ``alpha`` is the significance level.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator

from survey_tui.core.instrument.expressions import ExpressionError, parse_expression
from survey_tui.core.problems import Problem
from survey_tui.i18n import N_, Phrase, _

if TYPE_CHECKING:
    from survey_tui.core.instrument.model import Instrument
    from survey_tui.core.yamlfile import YamlDocument

STUDY_FILE = "study.yaml"

ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,31}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


# -- background and desk research (P1.1.1) -------------------------------------------------------


class Background(_Model):
    """Why the study exists: the business context and the decision it supports."""

    context: str = ""
    decision: str = ""


SourceKind = Literal[
    "government_statistics",
    "industry_report",
    "academic",
    "news",
    "internal_data",
    "company_website",
    "social_media",
    "other",
]
SOURCE_KINDS: tuple[str, ...] = SourceKind.__args__  # type: ignore[attr-defined]

Reliability = Literal["high", "medium", "low"]
RELIABILITIES: tuple[str, ...] = Reliability.__args__  # type: ignore[attr-defined]


class Finding(_Model):
    """A key finding; its own tags (themes) override the source's. Written as plain text when untagged."""

    text: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @model_serializer(mode="wrap")
    def _as_text(self, handler: Any) -> Any:
        return self.text if not self.tags else handler(self)


class Source(_Model):
    """One desk-research source: what it is, how far to trust it, and what it says."""

    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    publisher: str = ""
    url: str = ""  # a URL, or where it is kept (a shared drive path, a library shelf)
    accessed: date | None = None
    kind: SourceKind = "other"
    reliability: Reliability = "medium"
    reliability_reason: str = ""
    findings: list[Finding] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)  # themes the findings are grouped by in the report


# -- method and tools (P1.1.2) -------------------------------------------------------------------

Approach = Literal["quantitative", "qualitative", "mixed"]
APPROACHES: tuple[str, ...] = Approach.__args__  # type: ignore[attr-defined]
CollectionMode = Literal["capi", "cati", "papi", "cawi"]
COLLECTION_MODES: dict[str, str] = {
    "capi": "face-to-face (CAPI)",
    "cati": "phone (CATI)",
    "papi": "paper (PAPI)",
    "cawi": "online (CAWI)",
}


class Tool(_Model):
    """A tool chosen for collecting or organising information, and why it was chosen."""

    name: str = Field(min_length=1)
    reason: str = ""


class Milestone(_Model):
    name: str = Field(min_length=1)
    start: date | None = None
    end: date | None = None


class Method(_Model):
    """How the information is collected: approach, mode, who, how many, when, with what."""

    approach: Approach = "quantitative"
    modes: list[CollectionMode] = Field(default_factory=list)
    target_population: str = ""
    population_size: int | None = Field(default=None, gt=0)  # for the finite-population correction
    sampling: str = ""
    sample_size: int | None = Field(default=None, gt=0)
    timeline: list[Milestone] = Field(default_factory=list)
    tools: list[Tool] = Field(default_factory=list)


# -- report format and its approval (P1.1.3) -----------------------------------------------------

ReportStatus = Literal["draft", "submitted", "approved", "changes_requested"]
REPORT_STATUSES: tuple[str, ...] = ReportStatus.__args__  # type: ignore[attr-defined]


class StatusChange(_Model):
    status: ReportStatus
    by: str = ""
    on: date
    note: str = ""


class ReportFormat(_Model):
    """The report template the client agreed to; the preliminary report warns until it is approved."""

    template: str = ""
    sections: list[str] = Field(default_factory=list)
    status: ReportStatus = "draft"
    approved_by: str = ""
    approved_on: date | None = None
    history: list[StatusChange] = Field(default_factory=list)

    @property
    def approved(self) -> bool:
        return self.status == "approved"


# -- objectives and hypotheses (P1.2.1) ----------------------------------------------------------


class Objective(_Model):
    id: str = Field(pattern=ID_PATTERN)
    text: str = Field(min_length=1)


class TestKind(StrEnum):
    """The statistical test that decides a hypothesis (evaluated by the analysis step with scipy)."""

    __test__ = False  # not a pytest test class despite the name

    DIFFERENCE_OF_PROPORTIONS = "difference_of_proportions"  # two groups, share with `codes` (z test)
    CHI_SQUARE = "chi_square"  # association of two categorical variables
    DIFFERENCE_OF_MEANS = "difference_of_means"  # two groups, Welch's t test
    SHARE_VS_THRESHOLD = "share_vs_threshold"  # one share against `threshold` (binomial / z test)
    CORRELATION = "correlation"  # two numeric variables (Pearson)


TEST_LABELS: dict[TestKind, str] = {
    TestKind.DIFFERENCE_OF_PROPORTIONS: N_("difference of proportions"),
    TestKind.CHI_SQUARE: N_("chi-square association"),
    TestKind.DIFFERENCE_OF_MEANS: N_("difference of means (Welch)"),
    TestKind.SHARE_VS_THRESHOLD: N_("share vs threshold"),
    TestKind.CORRELATION: N_("correlation"),
}

Direction = Literal["higher", "lower", "different", "no_difference"]
DIRECTIONS: tuple[str, ...] = Direction.__args__  # type: ignore[attr-defined]


class Group(_Model):
    """A group of respondents defined by an expression, e.g. ``s2 < 30``."""

    label: str = Field(min_length=1)
    when: str = Field(min_length=1)


class Hypothesis(_Model):
    """A testable statement; see the module docstring for how each field is used by the analysis."""

    id: str = Field(pattern=ID_PATTERN)
    statement: str = Field(min_length=1)
    objective: str
    test: TestKind
    outcome: str = Field(min_length=1)
    codes: list[int] = Field(default_factory=list)
    by: str | None = None
    groups: list[Group] = Field(default_factory=list)
    subset: str | None = None
    expected: Direction = "different"
    alpha: float = Field(default=0.05, gt=0, lt=1)
    threshold: float | None = Field(default=None, ge=0, le=1)

    def expected_text(self) -> Phrase:
        """The expected direction in words that fit the test (a correlation has no 'first group'): English
        as the written reports take it, `shown()` in the interface language on a screen."""
        correlation = self.test == TestKind.CORRELATION
        if self.expected == "no_difference":
            return Phrase(N_("no correlation expected")) if correlation else Phrase(N_("no difference expected"))
        if self.expected == "different":
            return Phrase(N_("two-sided: any correlation")) if correlation else Phrase(N_("two-sided: groups differ"))
        up = self.expected == "higher"
        if correlation:
            return Phrase(N_("positive correlation")) if up else Phrase(N_("negative correlation"))
        if self.test == TestKind.SHARE_VS_THRESHOLD:
            return Phrase(N_("share above the threshold")) if up else Phrase(N_("share below the threshold"))
        first: str = self.groups[0].label if self.groups else Phrase(N_("the first group"))
        return Phrase(N_("{group} higher"), group=first) if up else Phrase(N_("{group} lower"), group=first)

    @property
    def variables(self) -> list[str]:
        """The instrument variables named directly (not those inside group or subset expressions)."""
        return [v for v in (self.outcome, self.by) if v]


# -- analysis plan (P1.2.2, P1.2.4) --------------------------------------------------------------

Statistic = Literal["counts", "column_percent", "row_percent", "mean", "top2_box", "nps"]
STATISTICS: tuple[str, ...] = Statistic.__args__  # type: ignore[attr-defined]


class Banner(_Model):
    """A column break of the tables: a question's codes, or groups defined by expressions."""

    id: str = Field(pattern=ID_PATTERN)
    label: str = ""
    variable: str | None = None
    groups: list[Group] = Field(default_factory=list)


class PlannedTable(_Model):
    """A table planned for an objective: stub variables (rows) by banners (columns)."""

    id: str = Field(pattern=ID_PATTERN)
    objective: str
    title: str = ""
    stub: list[str] = Field(min_length=1)
    banners: list[str] = Field(default_factory=list)  # banner ids; empty means every banner
    statistic: Statistic = "column_percent"
    filter: str | None = None


class AnalysisPlan(_Model):
    banners: list[Banner] = Field(default_factory=list)
    tables: list[PlannedTable] = Field(default_factory=list)


def none_as_empty_list(value: Any) -> Any:
    """`sources:` with nothing after it is an empty list, not an error."""
    return [] if value is None else value


def none_as_empty_mapping(value: Any) -> Any:
    return {} if value is None else value


class ReportSettings(_Model):
    """How the report files are made (`report:` in study.yaml).

    `template` is the client's own Word template (a .docx with docxtpl tags, relative to the study
    folder), filled instead of the built-in layout; `key_frequencies` are the questions whose
    frequencies the report charts (default: the categorical outcomes the hypotheses name, i.e. the
    measures the objectives are judged by).
    """

    template: str = ""
    key_frequencies: list[str] = Field(default_factory=list)

    _lists = field_validator("key_frequencies", mode="before")(none_as_empty_list)


class PlanFields(_Model):
    """The plan's part of `study.yaml` (StudyConfig inherits it); `check_plan` accepts either."""

    background: Background = Field(default_factory=Background)
    sources: list[Source] = Field(default_factory=list)
    method: Method = Field(default_factory=Method)
    report_format: ReportFormat = Field(default_factory=ReportFormat)
    report: ReportSettings = Field(default_factory=ReportSettings)
    objectives: list[Objective] = Field(default_factory=list)
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    analysis_plan: AnalysisPlan = Field(default_factory=AnalysisPlan)

    _lists = field_validator("sources", "objectives", "hypotheses", mode="before")(none_as_empty_list)
    _parts = field_validator("background", "method", "report_format", "report", "analysis_plan", mode="before")(
        none_as_empty_mapping
    )


#: top-level keys of study.yaml that hold lists of items with ids (what the plan editor edits)
PLAN_LISTS = ("sources", "objectives", "hypotheses")


# -- the variables an instrument offers ----------------------------------------------------------

VariableKind = Literal["single", "scale", "multi", "multi_column", "grid_item", "numeric", "text", "date", "calculate"]
CATEGORICAL = frozenset({"single", "scale", "multi", "multi_column", "grid_item"})
NUMERIC = frozenset({"numeric", "scale", "grid_item", "calculate"})


@dataclass(frozen=True)
class Variable:
    name: str
    kind: VariableKind
    question: str
    codes: tuple[int, ...] = ()
    loop: str | None = None  # a loop's question as written, or the loop itself: only stacked tables use it


def instrument_variables(instruments: Iterable[Instrument]) -> dict[str, Variable]:
    """Every name a plan may use: question names, grid-item variables and multi-choice columns."""
    found: dict[str, Variable] = {}
    for instrument in instruments:
        for q in instrument.questions:
            if q.type == "note":
                continue
            codes = tuple(c.code for c in q.choice_options)
            if q.type == "grid":
                for var in q.variable_names():
                    found.setdefault(var, Variable(var, "grid_item", q.name, codes))
                found.setdefault(q.name, Variable(q.name, "multi", q.name, codes))  # battery as a whole
                continue
            if q.type == "multi":
                for c in q.choice_options:
                    var = f"{q.name}_{c.code}"
                    found.setdefault(var, Variable(var, "multi_column", q.name, (0, 1)))
            found.setdefault(q.name, Variable(q.name, q.type, q.name, codes))  # type: ignore[arg-type]
        for plan in instrument.loops.values():  # for stacked tables: the loop's items and its questions as written
            found.setdefault(plan.name, Variable(plan.name, "single", plan.name, plan.keys, loop=plan.name))
            for template in plan.templates:
                made = instrument.iterations(template)
                if made and made[0].type != "note":
                    q = made[0]
                    codes = tuple(c.code for c in q.choice_options)
                    kind = "multi" if q.type == "grid" else q.type
                    found.setdefault(template, Variable(template, kind, template, codes, loop=plan.name))  # type: ignore[arg-type]
    return found


# -- cross-checks --------------------------------------------------------------------------------


class _Locator:
    def __init__(self, doc: YamlDocument | None, file: str) -> None:
        self.doc, self.file = doc, file

    def problem(self, path: Sequence[str | int], message: str, *, hint: str | None = None, warning: bool = False):
        line = self.doc.line_of(path) if self.doc is not None else None
        where = "".join(f"[{k}]" if isinstance(k, int) else (f".{k}" if i else k) for i, k in enumerate(path))
        return Problem(
            self.file, message, line=line, where=where or None, hint=hint, severity="warning" if warning else "error"
        )


def check_plan(
    plan: PlanFields | Any,
    instruments: Iterable[Instrument] | None = None,
    doc: YamlDocument | None = None,
    file: str = STUDY_FILE,
) -> list[Problem]:
    """Everything about the plan that the schema alone cannot see; `doc` gives the lines."""
    at = _Locator(doc, file)
    problems: list[Problem] = []
    instruments = list(instruments or [])
    variables = instrument_variables(instruments) if instruments else None

    for section, items in (
        ("sources", plan.sources),
        ("objectives", plan.objectives),
        ("hypotheses", plan.hypotheses),
    ):
        problems += _duplicates(at, [section], items)
    problems += _duplicates(at, ["analysis_plan", "banners"], plan.analysis_plan.banners)
    problems += _duplicates(at, ["analysis_plan", "tables"], plan.analysis_plan.tables)

    objective_ids = [o.id for o in plan.objectives]
    banner_ids = {b.id for b in plan.analysis_plan.banners}
    for i, h in enumerate(plan.hypotheses):
        path: list[str | int] = ["hypotheses", i]
        if h.objective not in objective_ids:
            problems.append(
                at.problem(
                    [*path, "objective"],
                    _("hypothesis {id} serves objective '{objective}', which is not in objectives").format(
                        id=h.id, objective=h.objective
                    ),
                    hint=_choices_hint(objective_ids),
                )
            )
        problems += _check_hypothesis(at, path, h, variables)

    for i, b in enumerate(plan.analysis_plan.banners):
        path = ["analysis_plan", "banners", i]
        if not b.variable and not b.groups:
            problems.append(at.problem(path, _("banner {id} needs a variable or groups").format(id=b.id)))
        if b.variable and variables is not None:
            problems += _check_variable(at, [*path, "variable"], b.variable, variables)
            if b.variable in variables and variables[b.variable].kind not in CATEGORICAL:
                problems.append(
                    at.problem(
                        [*path, "variable"],
                        _("banner {id}: {name} is {kind}, not a coded question").format(
                            id=b.id, name=b.variable, kind=_kind_text(variables[b.variable].kind)
                        ),
                        hint=_("define groups with expressions instead, e.g. 's2 < 30'"),
                    )
                )
        for j, g in enumerate(b.groups):
            problems += _check_expression(at, [*path, "groups", j, "when"], g.when, variables)

    for i, t in enumerate(plan.analysis_plan.tables):
        path = ["analysis_plan", "tables", i]
        if t.objective not in objective_ids:
            problems.append(
                at.problem(
                    [*path, "objective"],
                    _("table {id} serves objective '{objective}', which is not in objectives").format(
                        id=t.id, objective=t.objective
                    ),
                    hint=_choices_hint(objective_ids),
                )
            )
        for j, var in enumerate(t.stub):
            if variables is not None:
                problems += _check_variable(at, [*path, "stub", j], var, variables)
                kind = variables[var].kind if var in variables else None
                if t.statistic == "mean" and kind is not None and kind not in NUMERIC:
                    problems.append(
                        at.problem(
                            [*path, "stub", j],
                            _("table {id}: a mean of {name} ({kind}) means nothing").format(
                                id=t.id, name=var, kind=_kind_text(kind)
                            ),
                        )
                    )
        for j, banner in enumerate(t.banners):
            if banner not in banner_ids:
                problems.append(
                    at.problem(
                        [*path, "banners", j],
                        _("table {id} uses banner '{banner}', which is not in analysis_plan.banners").format(
                            id=t.id, banner=banner
                        ),
                        hint=_choices_hint(sorted(banner_ids)),
                    )
                )
        if t.filter:
            problems += _check_expression(at, [*path, "filter"], t.filter, variables)

    answered = {h.objective for h in plan.hypotheses} | {t.objective for t in plan.analysis_plan.tables}
    for i, o in enumerate(plan.objectives):
        if o.id not in answered:
            problems.append(
                at.problem(
                    ["objectives", i],
                    _("objective {id} has no hypothesis and no planned table").format(id=o.id),
                    hint=_("add a hypothesis or a table that answers it"),
                    warning=True,
                )
            )

    for j, name in enumerate(plan.report.key_frequencies):
        if variables is not None:
            problems += _check_variable(at, ["report", "key_frequencies", j], name, variables)

    rf = plan.report_format
    if rf.status == "approved" and not (rf.approved_by and rf.approved_on):
        problems.append(
            at.problem(
                ["report_format", "status"], _("the report format is approved but not by whom or when"), warning=True
            )
        )
    return problems


def _choices_hint(ids: Sequence[str]) -> str | None:
    return _("known: {ids}").format(ids=", ".join(ids)) if ids else None


def _duplicates(at: _Locator, path: list[str | int], items: Sequence[Any]) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    for i, item in enumerate(items):
        if item.id in seen:
            problems.append(
                at.problem(
                    [*path, i, "id"],
                    _("id '{id}' is used twice (first at item {first})").format(id=item.id, first=seen[item.id] + 1),
                    hint=_("every id must be unique"),
                )
            )
        else:
            seen[item.id] = i
    return problems


def _check_variable(at: _Locator, path: list[str | int], name: str, variables: dict[str, Variable]) -> list[Problem]:
    if name in variables:
        return []
    import difflib

    close = difflib.get_close_matches(name, list(variables), n=1)
    return [
        at.problem(
            path,
            _("no instrument has a variable '{name}'").format(name=name),
            hint=_("did you mean '{name}'?").format(name=close[0]) if close else None,
        )
    ]


def _check_expression(
    at: _Locator, path: list[str | int], text: str, variables: dict[str, Variable] | None
) -> list[Problem]:
    try:
        expr = parse_expression(text)
    except ExpressionError as exc:
        return [at.problem(path, _("expression '{text}': {error}").format(text=text, error=exc))]
    if variables is None:
        return []
    return [
        at.problem(path, _("expression '{text}' names '{name}', which no instrument has").format(text=text, name=n))
        for n in sorted(expr.names)
        if n not in variables
    ]


def _check_hypothesis(
    at: _Locator, path: list[str | int], h: Hypothesis, variables: dict[str, Variable] | None
) -> list[Problem]:
    problems: list[Problem] = []
    for j, g in enumerate(h.groups):
        problems += _check_expression(at, [*path, "groups", j, "when"], g.when, variables)
    if h.subset:
        problems += _check_expression(at, [*path, "subset"], h.subset, variables)
    test = h.test
    two_groups = test in (TestKind.DIFFERENCE_OF_PROPORTIONS, TestKind.DIFFERENCE_OF_MEANS)
    if test == TestKind.SHARE_VS_THRESHOLD and h.threshold is None:
        message = _("hypothesis {id}: a share test needs a threshold (0–1)").format(id=h.id)
        problems.append(at.problem([*path, "test"], message))
    if test == TestKind.CORRELATION and not h.by:
        message = _("hypothesis {id}: a correlation needs a second variable in by").format(id=h.id)
        problems.append(at.problem([*path, "test"], message))
    if two_groups and not h.by and len(h.groups) != 2:
        problems.append(
            at.problem(
                [*path, "test"], _("hypothesis {id}: compares two groups: give 'by' or two 'groups'").format(id=h.id)
            )
        )
    if h.groups and two_groups and len(h.groups) != 2:
        message = _("hypothesis {id}: {test} compares exactly two groups").format(id=h.id, test=_(TEST_LABELS[test]))
        problems.append(at.problem([*path, "groups"], message))
    if test == TestKind.CHI_SQUARE and not h.by and len(h.groups) < 2:
        message = _("hypothesis {id}: chi-square needs 'by' or groups").format(id=h.id)
        problems.append(at.problem([*path, "test"], message))
    if variables is None:
        return problems

    for field in ("outcome", "by"):
        name = getattr(h, field)
        if name:
            problems += _check_variable(at, [*path, field], name, variables)
    outcome = variables.get(h.outcome)
    by = variables.get(h.by) if h.by else None

    def unfit(field: str, var: Variable, needs: str) -> None:
        problems.append(
            at.problem(
                [*path, field],
                _("hypothesis {id}: {test} needs {needs}, but {name} is {kind}").format(
                    id=h.id, test=_(TEST_LABELS[test]), needs=_(needs), name=var.name, kind=_kind_text(var.kind)
                ),
            )
        )

    if outcome is not None:
        if test in (TestKind.DIFFERENCE_OF_MEANS, TestKind.CORRELATION) and outcome.kind not in NUMERIC:
            unfit("outcome", outcome, N_("a numeric outcome"))
        if test in (TestKind.DIFFERENCE_OF_PROPORTIONS, TestKind.SHARE_VS_THRESHOLD, TestKind.CHI_SQUARE):
            if outcome.kind not in CATEGORICAL:
                unfit("outcome", outcome, N_("a coded outcome"))
            elif test != TestKind.CHI_SQUARE and not h.codes and outcome.kind != "multi_column":
                problems.append(
                    at.problem(
                        [*path, "codes"],
                        _("hypothesis {id}: say which codes of {name} count (codes: [..])").format(
                            id=h.id, name=outcome.name
                        ),
                    )
                )
        bad = [c for c in h.codes if outcome.codes and c not in outcome.codes]
        if bad:
            problems.append(
                at.problem(
                    [*path, "codes"],
                    _("hypothesis {id}: {name} has no code {code}").format(id=h.id, name=outcome.name, code=bad[0]),
                    hint="codes: " + ", ".join(map(str, outcome.codes)),
                )
            )
    if by is not None:
        if test == TestKind.CORRELATION:
            if by.kind not in NUMERIC:
                unfit("by", by, N_("a numeric second variable"))
        elif by.kind not in CATEGORICAL - {"multi"} and not h.groups:
            unfit("by", by, N_("coded groups (or groups: with expressions)"))
        elif two_groups and not h.groups and len(by.codes) != 2:
            problems.append(
                at.problem(
                    [*path, "by"],
                    _("hypothesis {id}: {name} has {count} codes; a difference test compares two").format(
                        id=h.id, name=by.name, count=len(by.codes)
                    ),
                    hint=_("give groups: with two expressions, e.g. s3 = 1 and s3 = 2"),
                )
            )
    return problems


def check_hypothesis(h: Hypothesis, instruments: Iterable[Instrument], objectives: Sequence[str] = ()) -> list[Problem]:
    """One hypothesis as a form would save it: everything `check_plan` would later say about it, each
    problem located at its field (`where` is the field name: outcome, codes, by, groups, threshold ...)."""
    at = _Locator(None, f"hypothesis {h.id}")
    instruments = list(instruments)
    problems = _check_hypothesis(at, [], h, instrument_variables(instruments) if instruments else None)
    if objectives and h.objective not in objectives:
        problems.append(
            at.problem(
                ["objective"],
                _("objective '{id}' is not in objectives").format(id=h.objective),
                hint=_choices_hint(objectives),
            )
        )
    return [  # "groups[1].when" -> the form's field "groups"
        dataclasses.replace(p, where=p.where.split("[")[0].split(".")[0]) if p.where else p
        for p in problems
        if p.severity == "error"
    ]


def _kind_text(kind: str) -> str:
    words = {
        "single": N_("a single-choice question"),
        "multi": N_("a multi-choice question"),
        "multi_column": N_("a multi-choice column (0/1)"),
        "grid_item": N_("a grid item"),
        "numeric": N_("numeric"),
        "scale": N_("a scale"),
        "text": N_("open text"),
        "date": N_("a date"),
        "calculate": N_("a calculated value"),
    }
    return _(words[kind]) if kind in words else kind


# -- sample size (P1.2.2) ------------------------------------------------------------------------


def z_value(confidence: float) -> float:
    """Two-sided critical value of the normal distribution (1.96 at 95%)."""
    if not 0 < confidence < 1:
        raise ValueError(_("confidence must be between 0 and 1, e.g. 0.95"))
    from scipy.stats import norm  # imported here: scipy.stats takes a while to load

    return float(norm.ppf(1 - (1 - confidence) / 2))


def _check_p(p: float) -> None:
    if not 0 < p < 1:
        raise ValueError(_("the expected proportion must be between 0 and 1 (0.5 is the safest)"))


def sample_size_for_margin(
    margin: float, confidence: float = 0.95, p: float = 0.5, population: int | None = None
) -> int:
    """Interviews needed for ±`margin` on a proportion: n0 = z²p(1−p)/e², with the finite-population
    correction n = n0 / (1 + (n0 − 1)/N) when the population N is known."""
    if not 0 < margin < 1:
        raise ValueError(_("the margin must be between 0 and 1, e.g. 0.05 for ±5%"))
    _check_p(p)
    z = z_value(confidence)
    n0 = z * z * p * (1 - p) / (margin * margin)
    if population is not None:
        if population < 1:
            raise ValueError(_("the population must be at least 1"))
        n0 = n0 / (1 + (n0 - 1) / population)
    return math.ceil(n0 - 1e-9)


def margin_for_sample_size(n: int, confidence: float = 0.95, p: float = 0.5, population: int | None = None) -> float:
    """Margin of error of a proportion from n interviews: z·√(p(1−p)/n), times √((N−n)/(N−1)) when N is known."""
    if n < 1:
        raise ValueError(_("the sample size must be at least 1"))
    _check_p(p)
    margin = z_value(confidence) * math.sqrt(p * (1 - p) / n)
    if population is not None:
        if population < n:
            raise ValueError(_("the sample cannot be larger than the population"))
        margin *= math.sqrt((population - n) / (population - 1)) if population > 1 else 0.0
    return margin
