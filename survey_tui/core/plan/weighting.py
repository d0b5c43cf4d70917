"""RIM weighting targets in `study.yaml` (T1.5): the shape, and what the instruments alone can check.

```yaml
weighting:
  name: weight                  # the weight variable in the data file
  dimensions:
    - variable: s3              # a single-coded question: code -> target percent
      targets: {1: 48.5, 2: 51.5}
    - name: age                 # or groups defined by expressions, as plan banners are
      groups:
        - {label: 15-29, when: s2 < 30, target: 24.0}
        - {label: 30-65, when: s2 >= 30, target: 76.0}
  cap: {min: 0.3, max: 3.0}     # optional, on weights that average 1
  max_iterations: 50
  tolerance: 1e-6               # largest gap allowed between achieved and target, in percentage points
```

The raking itself (and the checks that need the data: empty cells, respondents no cell holds) lives in
`analysis/weighting.py`; this module is pure domain so `survey-tui check` can read it without the data.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator

from survey_tui.core.plan.model import STUDY_FILE, Variable, _check_expression, _Locator, instrument_variables
from survey_tui.core.problems import Problem
from survey_tui.i18n import _

if TYPE_CHECKING:
    from survey_tui.core.instrument.model import Instrument
    from survey_tui.core.yamlfile import YamlDocument

#: question kinds whose one code per respondent makes a raking dimension
WEIGHTABLE_KINDS = frozenset({"single", "scale", "grid_item"})
#: how far the targets of one dimension may miss 100 % (float rounding of e.g. 33.3 + 33.3 + 33.4)
SUM_TOLERANCE = 1e-6


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class WeightGroup(_Model):
    """One cell of a dimension defined by an expression, with its target share in percent."""

    label: str = Field(min_length=1)
    when: str = Field(min_length=1)
    target: float = Field(gt=0, le=100)


class WeightDimension(_Model):
    """A raking dimension: a coded variable with a target per code, or groups with a target each."""

    name: str | None = None  # shown in the report; defaults to the variable
    variable: str | None = None
    targets: dict[int, float] = Field(default_factory=dict)  # code -> percent
    groups: list[WeightGroup] = Field(default_factory=list)

    @property
    def title(self) -> str:
        return self.name or self.variable or "(unnamed)"

    def cell_targets(self) -> list[tuple[str, float]]:
        """(cell label, target percent) in the order the report shows them."""
        if self.groups:
            return [(g.label, g.target) for g in self.groups]
        return [(str(code), share) for code, share in self.targets.items()]


class WeightCaps(_Model):
    """Bounds on the final weights (which average 1), applied by the raking library each iteration."""

    min: float | None = Field(default=None, gt=0, lt=1)
    max: float | None = Field(default=None, gt=1)

    @model_validator(mode="after")
    def _one_bound(self) -> WeightCaps:
        if self.min is None and self.max is None:
            raise ValueError(_("give min:, max: or both (e.g. cap: {min: 0.3, max: 3.0})"))
        return self


class WeightingConfig(_Model):
    """The `weighting:` part of study.yaml."""

    name: str = Field(default="weight", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
    dimensions: list[WeightDimension] = Field(min_length=1)
    cap: WeightCaps | None = None
    max_iterations: int = Field(default=50, ge=1, le=10_000)
    tolerance: float = Field(default=1e-6, gt=0, lt=1)


def check_weighting(
    config: WeightingConfig | None,
    instruments: Iterable[Instrument] | None = None,
    doc: YamlDocument | None = None,
    file: str = STUDY_FILE,
) -> list[Problem]:
    """Everything wrong with the targets that the instruments can tell (no data needed)."""
    if config is None:
        return []
    at = _Locator(doc, file)
    instruments = list(instruments or [])
    variables = instrument_variables(instruments) if instruments else None
    problems: list[Problem] = []
    if variables is not None and config.name in variables:
        problems.append(
            at.problem(
                ["weighting", "name"],
                _("the weight would be called '{name}', which is already a variable of the questionnaire").format(
                    name=config.name
                ),
                hint=_("choose another name, e.g. 'rim_weight'"),
            )
        )
    titles: dict[str, int] = {}
    for i, dim in enumerate(config.dimensions):
        path: list[str | int] = ["weighting", "dimensions", i]
        if dim.title in titles:
            problems.append(
                at.problem(
                    path,
                    _("dimension '{title}' is given twice (first as dimension {first})").format(
                        title=dim.title, first=titles[dim.title] + 1
                    ),
                    hint=_("each variable is one dimension; give groups a distinct name:"),
                )
            )
        titles.setdefault(dim.title, i)
        if bool(dim.variable) == bool(dim.groups):
            problems.append(
                at.problem(
                    path,
                    _("a dimension needs either variable: with targets: or groups: (each with label, when, target)"),
                )
            )
            continue
        if dim.variable:
            problems += _check_variable_dimension(at, path, dim, variables)
            shares = list(dim.targets.values())
            where = [*path, "targets"]
        else:
            problems += _check_group_dimension(at, path, dim, variables)
            shares = [g.target for g in dim.groups]
            where = [*path, "groups"]
        total = math.fsum(shares)
        if shares and abs(total - 100.0) > SUM_TOLERANCE:
            problems.append(
                at.problem(
                    where,
                    _("the targets of '{title}' sum to {total:g} %, not 100 %").format(title=dim.title, total=total),
                    hint=_("targets are percentages of the whole sample; adjust a cell so they add up to 100"),
                )
            )
    return problems


def _check_variable_dimension(
    at: _Locator, path: list[str | int], dim: WeightDimension, variables: dict[str, Variable] | None
) -> list[Problem]:
    assert dim.variable is not None
    problems: list[Problem] = []
    if not dim.targets:
        message = _("'{name}' has no targets (code: percent, ...)").format(name=dim.variable)
        problems.append(at.problem([*path, "targets"], message))
    bad = [(code, share) for code, share in dim.targets.items() if not 0 < share <= 100]
    for code, share in bad:
        problems.append(
            at.problem(
                [*path, "targets", code],
                _("target {share:g} for code {code} of {name} is not a share between 0 and 100").format(
                    share=share, code=code, name=dim.variable
                ),
                hint=_("a code nobody should represent is left out (and must then have no respondents)"),
            )
        )
    if variables is None:
        return problems
    variable = variables.get(dim.variable)
    if variable is None:
        close = difflib.get_close_matches(dim.variable, list(variables), n=1)
        problems.append(
            at.problem(
                [*path, "variable"],
                _("no instrument has a variable '{name}'").format(name=dim.variable),
                hint=_("did you mean '{name}'?").format(name=close[0]) if close else None,
            )
        )
        return problems
    if variable.kind not in WEIGHTABLE_KINDS:
        problems.append(
            at.problem(
                [*path, "variable"],
                _(
                    "{name} is {kind}, not a single-coded question; a raking dimension needs one code per respondent"
                ).format(name=dim.variable, kind=variable.kind),
                hint=_("define groups: with expressions instead, e.g. {example}").format(
                    example="{label: 15-29, when: s2 < 30, target: 24}"
                ),
            )
        )
        return problems
    for code in dim.targets:
        if variable.codes and code not in variable.codes:
            problems.append(
                at.problem(
                    [*path, "targets", code],
                    _("{name} has no code {code}").format(name=dim.variable, code=code),
                    hint="codes: " + ", ".join(map(str, variable.codes)),
                )
            )
    return problems


def _check_group_dimension(
    at: _Locator, path: list[str | int], dim: WeightDimension, variables: dict[str, Variable] | None
) -> list[Problem]:
    problems: list[Problem] = []
    if not dim.name:
        problems.append(at.problem(path, _("a dimension of groups needs a name: (e.g. name: age_group)")))
    if dim.targets:
        problems.append(
            at.problem([*path, "targets"], _("groups carry their own target:; targets: is for a variable's codes"))
        )
    seen: set[str] = set()
    for j, group in enumerate(dim.groups):
        if group.label in seen:
            message = _("group label '{label}' is used twice").format(label=group.label)
            problems.append(at.problem([*path, "groups", j, "label"], message))
        seen.add(group.label)
        problems += _check_expression(at, [*path, "groups", j, "when"], group.when, variables)
    return problems
