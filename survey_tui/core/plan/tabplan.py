"""Tab plans: the tables of a study as reviewable text (`tabs/*.yaml`), re-run wave after wave.

A tab plan names its banners (single or multi-coded variables, expression groups that may overlap,
nests of two banners), the banner its tables use by default, and the tables: stubs, nets (of codes, or
of other nets), summary rows, filter, weight, base rule, test options, sorting, hiding small rows and
titles per language. The plan's own ``analysis_plan`` (in `study.yaml`) is the same idea in short and
is read as a tab plan too (`from_analysis_plan`), so the report, the CLI and the app run one engine.

This module is the file format and its checks (what `survey-tui check` says, with file and line); the
run is `survey_tui.analysis.tabplan`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from survey_tui.core.instrument.expressions import ExpressionError, parse_expression
from survey_tui.core.instrument.model import Instrument, Labels, label_text
from survey_tui.core.plan.model import CATEGORICAL, ID_PATTERN, Variable, instrument_variables
from survey_tui.core.problems import LoadError, Problem
from survey_tui.core.yamlfile import YamlDocument, read_yaml, validate_document
from survey_tui.i18n import _

TABS_DIR = "tabs"
SUMMARIES = ("top2", "bottom2", "mean", "sd", "median", "nps")
Summary = Literal["top2", "bottom2", "mean", "sd", "median", "nps"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class TabGroup(_Model):
    label: str = Field(min_length=1)
    when: str = Field(min_length=1)


class TabBanner(_Model):
    """A banner part: a variable's codes (a multi question's choices), expression groups, or a nest."""

    id: str = Field(pattern=ID_PATTERN)
    label: Labels = Field(default_factory=dict)
    variable: str | None = None
    groups: list[TabGroup] = Field(default_factory=list)
    nested: list[str] = Field(default_factory=list)  # [outer banner id, inner banner id]

    @model_validator(mode="after")
    def _one_kind(self) -> TabBanner:
        kinds = sum(bool(x) for x in (self.variable, self.groups, self.nested))
        if kinds != 1:
            raise ValueError(_("banner {id}: give exactly one of variable, groups or nested").format(id=self.id))
        if self.nested and len(self.nested) != 2:
            raise ValueError(_("banner {id}: nested takes two banner ids, outer then inner").format(id=self.id))
        return self


class TabNet(_Model):
    """A net row: any of ``codes``, or any of the codes of other nets (a net of nets)."""

    label: Labels
    codes: list[int] = Field(default_factory=list)
    nets: list[str] = Field(default_factory=list)  # labels of earlier nets of the same table

    @model_validator(mode="after")
    def _something(self) -> TabNet:
        if not self.codes and not self.nets:
            raise ValueError(_("a net needs codes or nets"))
        return self


class TabOptions(_Model):
    """Options a table inherits from the plan's defaults and may override."""

    level: Literal[90, 95, 99] | None = None
    correction: Literal["none", "bonferroni", "holm", "bh"] | None = None
    weight: str | None = None  # a variable, or "none" for unweighted
    base: Literal["substantive", "total_asked"] | None = None
    min_test_base: int | None = Field(default=None, ge=2)
    small_base: int | None = Field(default=None, ge=1)
    means_test: Literal["welch", "pooled"] | None = None
    compare_total: bool | None = None
    sort: Literal["none", "descending", "ascending"] | None = None
    hide_below: float | None = Field(default=None, ge=0)


class TabTable(TabOptions):
    id: str = Field(pattern=ID_PATTERN)
    title: Labels = Field(default_factory=dict)
    objective: str | None = None
    stub: list[str] = Field(min_length=1)
    banner: list[str] | None = None  # banner ids; default: the plan's banner
    filter: str | None = None
    nets: list[TabNet] = Field(default_factory=list)
    summary: list[Summary] | None = None  # which summary rows to keep (default: all that apply)

    @field_validator("stub", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class TabPlan(_Model):
    title: Labels = Field(default_factory=dict)
    defaults: TabOptions = Field(default_factory=TabOptions)
    banners: list[TabBanner] = Field(default_factory=list)
    banner: list[str] = Field(default_factory=list)  # the default banner: banner ids in order
    tables: list[TabTable] = Field(default_factory=list)

    def banner_by_id(self) -> dict[str, TabBanner]:
        return {b.id: b for b in self.banners}

    def option(self, table: TabTable, name: str) -> Any:
        value = getattr(table, name)
        return getattr(self.defaults, name) if value is None else value

    def title_in(self, language: str) -> str:
        return label_text(self.title, language, "en")


def load_tab_plan(path: Path, display: str | None = None) -> tuple[TabPlan | None, YamlDocument | None, list[Problem]]:
    """Read and validate one tab plan; every schema problem at once, each with its line."""
    doc, problems = read_yaml(path, display or path.name)
    if doc is None:
        return None, None, problems
    if doc.data is None:
        return TabPlan(), doc, problems
    plan, errors = validate_document(TabPlan, doc)
    return plan, doc, problems + errors


def tab_plan_files(root: Path) -> list[Path]:
    folder = root / TABS_DIR
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def read_tab_plan(path: Path, display: str) -> TabPlan:
    plan, _, problems = load_tab_plan(path, display)
    errors = [p for p in problems if p.severity == "error"]
    if plan is None or errors:
        raise LoadError(problems)
    return plan


def from_analysis_plan(analysis_plan: Any) -> TabPlan:
    """The `analysis_plan` of study.yaml read as a tab plan (the same banners and tables)."""
    banners = [
        TabBanner(
            id=b.id,
            label={"*": b.label} if b.label else {},
            variable=b.variable,
            groups=[TabGroup(label=g.label, when=g.when) for g in b.groups],
        )
        for b in analysis_plan.banners
        if b.variable or b.groups
    ]
    tables = [
        TabTable(
            id=t.id,
            title={"*": t.title} if t.title else {},
            objective=t.objective,
            stub=list(t.stub),
            banner=list(t.banners) or None,
            filter=t.filter,
        )
        for t in analysis_plan.tables
    ]
    return TabPlan(banners=banners, banner=[b.id for b in banners], tables=tables)


# -- checks ------------------------------------------------------------------------------------------


class _At:
    def __init__(self, doc: YamlDocument | None, file: str) -> None:
        self.doc, self.file = doc, file

    def __call__(self, path: Sequence[str | int], message: str, hint: str | None = None, warning: bool = False):
        line = self.doc.line_of(path) if self.doc is not None else None
        where = "".join(f"[{k}]" if isinstance(k, int) else (f".{k}" if i else k) for i, k in enumerate(path))
        severity = "warning" if warning else "error"
        return Problem(self.file, message, line=line, where=where or None, hint=hint, severity=severity)


def _names(text: str) -> tuple[set[str], str | None]:
    try:
        return set(parse_expression(text).names), None
    except ExpressionError as exc:
        return set(), str(exc)


def _did_you_mean(name: str, known: Iterable[str]) -> str | None:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return _("did you mean '{name}'?").format(name=close[0]) if close else None


def check_tab_plan(
    plan: TabPlan,
    instruments: Iterable[Instrument],
    doc: YamlDocument | None = None,
    file: str = "tabs/main.yaml",
    weight_names: Iterable[str] = (),
) -> list[Problem]:
    """What the schema cannot see: unknown variables, banners and nets, bad expressions, unfit stubs."""
    at = _At(doc, file)
    problems: list[Problem] = []
    variables: dict[str, Variable] = instrument_variables(instruments)
    weights = set(weight_names)
    banners = plan.banner_by_id()
    seen: set[str] = set()
    for i, b in enumerate(plan.banners):
        path: list[str | int] = ["banners", i]
        if b.id in seen:
            problems.append(at([*path, "id"], _("banner id '{id}' is used twice").format(id=b.id)))
        seen.add(b.id)
        if b.variable and b.variable not in variables:
            problems.append(
                at(
                    [*path, "variable"],
                    _("banner {id}: no variable '{name}'").format(id=b.id, name=b.variable),
                    _did_you_mean(b.variable, variables),
                )
            )
        elif b.variable and variables[b.variable].kind not in CATEGORICAL:
            problems.append(
                at(
                    [*path, "variable"],
                    _("banner {id}: '{name}' is not coded").format(id=b.id, name=b.variable),
                    _("use groups with expressions for amounts, e.g. 's2 < 30'"),
                )
            )
        for j, g in enumerate(b.groups):
            names, error = _names(g.when)
            if error:
                problems.append(
                    at(
                        [*path, "groups", j, "when"],
                        _("banner {id}: '{when}': {error}").format(id=b.id, when=g.when, error=error),
                    )
                )
            for name in sorted(n for n in names if n not in variables):
                problems.append(
                    at(
                        [*path, "groups", j, "when"],
                        _("banner {id}: '{when}' names '{name}', which no instrument has").format(
                            id=b.id, when=g.when, name=name
                        ),
                        _did_you_mean(name, variables),
                    )
                )
        for j, other in enumerate(b.nested):
            if other not in banners or other == b.id:
                problems.append(
                    at(
                        [*path, "nested", j],
                        _("banner {id}: nests unknown banner '{other}'").format(id=b.id, other=other),
                        _did_you_mean(other, banners),
                    )
                )
            elif banners[other].nested:
                problems.append(
                    at(
                        [*path, "nested", j],
                        _("banner {id}: '{other}' is itself nested").format(id=b.id, other=other),
                        _("nest two plain banners"),
                    )
                )
    for j, name in enumerate(plan.banner):
        if name not in banners:
            problems.append(
                at(
                    ["banner", j],
                    _("the default banner names '{name}', which is not in banners").format(name=name),
                    _did_you_mean(name, banners),
                )
            )
    weight = plan.defaults.weight
    if weight and weight != "none" and weight not in weights and weight not in variables:
        problems.append(
            at(
                ["defaults", "weight"],
                _("no weight '{name}'").format(name=weight),
                _("configure weighting: in study.yaml, or name a weight variable"),
            )
        )
    ids: set[str] = set()
    for i, t in enumerate(plan.tables):
        path = ["tables", i]
        if t.id in ids:
            problems.append(at([*path, "id"], _("table id '{id}' is used twice").format(id=t.id)))
        ids.add(t.id)
        for j, stub in enumerate(t.stub):
            if stub not in variables:
                problems.append(
                    at(
                        [*path, "stub", j],
                        _("table {id}: no question or variable '{name}'").format(id=t.id, name=stub),
                        _did_you_mean(stub, variables),
                    )
                )
            elif variables[stub].kind in ("text", "date"):
                problems.append(
                    at(
                        [*path, "stub", j],
                        _("table {id}: '{name}' is {kind}; it cannot be tabulated").format(
                            id=t.id, name=stub, kind=variables[stub].kind
                        ),
                        _("code it first (codeframes/)"),
                    )
                )
        problems.extend(_check_stacking(at, path, t, plan, variables))
        for j, name in enumerate(t.banner or []):
            if name not in banners:
                problems.append(
                    at(
                        [*path, "banner", j],
                        _("table {id}: no banner '{name}'").format(id=t.id, name=name),
                        _did_you_mean(name, banners),
                    )
                )
        if not (t.banner or plan.banner):
            problems.append(
                at([*path, "id"], _("table {id}: no banner (give banner: or a default banner:)").format(id=t.id))
            )
        if t.filter:
            names, error = _names(t.filter)
            if error:
                problems.append(
                    at(
                        [*path, "filter"],
                        _("table {id}: filter '{filter}': {error}").format(id=t.id, filter=t.filter, error=error),
                    )
                )
            for name in sorted(n for n in names if n not in variables):
                problems.append(
                    at(
                        [*path, "filter"],
                        _("table {id}: filter names '{name}', which no instrument has").format(id=t.id, name=name),
                        _did_you_mean(name, variables),
                    )
                )
        if t.weight and t.weight != "none" and t.weight not in weights and t.weight not in variables:
            problems.append(at([*path, "weight"], _("table {id}: no weight '{name}'").format(id=t.id, name=t.weight)))
        earlier: set[str] = set()
        for j, net in enumerate(t.nets):
            label = label_text(net.label, "en") or "?"
            for k, other in enumerate(net.nets):
                if other not in earlier:
                    problems.append(
                        at(
                            [*path, "nets", j, "nets", k],
                            _(
                                "table {id}: net '{net}' names '{other}', which is not an earlier net of this table"
                            ).format(id=t.id, net=label, other=other),
                        )
                    )
            codes = {c for stub in t.stub if stub in variables for c in variables[stub].codes}
            unknown = [c for c in net.codes if codes and c not in codes]
            if unknown:
                problems.append(
                    at(
                        [*path, "nets", j, "codes"],
                        _("table {id}: net '{net}' has codes {codes} that its stub does not").format(
                            id=t.id, net=label, codes=unknown
                        ),
                        warning=True,
                    )
                )
            earlier.update(net.label.values())
    return problems


def _check_stacking(
    at: _At, path: list[str | int], table: TabTable, plan: TabPlan, variables: dict[str, Variable]
) -> list[Problem]:
    """A stacked table (stubs naming loop questions as written) takes one loop; only it may use the loop's items."""
    loops = {variables[s].loop for s in table.stub if s in variables}
    stacked = {loop for loop in loops if loop}
    problems = []
    if stacked and (len(stacked) > 1 or None in loops):
        problems.append(
            at(
                [*path, "stub"],
                _("table {id}: stubs of a stacked table must all be questions of one loop ({loops})").format(
                    id=table.id, loops=", ".join(sorted(stacked))
                ),
                _("put per-item variables (e.g. l1_fam_2) or questions outside the loop in a table of their own"),
            )
        )
    by_id = plan.banner_by_id()
    for j, banner_id in enumerate(table.banner or plan.banner):
        banner = by_id.get(banner_id)
        parts = [by_id[i] for i in banner.nested if i in by_id] if banner and banner.nested else [banner]
        for part in parts:
            loop = variables[part.variable].loop if part and part.variable in variables else None
            if loop and loop not in stacked:
                where = [*path, "banner", j] if table.banner else ["banner", j]
                problems.append(
                    at(
                        where,
                        _(
                            "table {id}: banner {banner} is the items of loop '{loop}', which only a table stacked "
                            "over that loop has"
                        ).format(id=table.id, banner=part.id, loop=loop),
                        _("give the table a stub of loop '{loop}' (a question as written in it)").format(loop=loop),
                    )
                )
    return problems
