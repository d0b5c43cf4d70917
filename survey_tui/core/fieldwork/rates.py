"""AAPOR outcome rates (Standard Definitions): RR1-RR6, COOP1-COOP4, REF1-REF3, CON1-CON3.

Each rate is kept as its numerator and denominator, so what is printed can be checked by hand. The groups
(I, P, R, NC, O, UH, UO, NE) are counted from the respondents' final dispositions (dispositions.py); a case
never called is 3.11, unknown household.

e, the estimated share of the unknown-eligibility cases (UH + UO) that are eligible, is by default AAPOR's
*proportional allocation* (the "CASRO" method): the eligible share among the cases whose eligibility was
settled, e = (I + P + R + NC + O) / (I + P + R + NC + O + NE). A study may give its own e instead
(`calls: eligibility_estimate: 0.6`), e.g. from screening rates of an earlier wave.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from survey_tui.core.fieldwork.dispositions import GROUPS, CallSettings, group_of
from survey_tui.i18n import N_, Phrase, _, shown

#: name -> (numerator, denominator, formula) over the group counts c and e
FORMULAS: dict[str, tuple[Callable[[dict[str, float], float], float], Callable[[dict[str, float], float], float], str]]
FORMULAS = {
    "RR1": (
        lambda c, e: c["I"],
        lambda c, e: c["I"] + c["P"] + c["R"] + c["NC"] + c["O"] + c["UH"] + c["UO"],
        "I / ((I+P) + (R+NC+O) + (UH+UO))",
    ),
    "RR2": (
        lambda c, e: c["I"] + c["P"],
        lambda c, e: c["I"] + c["P"] + c["R"] + c["NC"] + c["O"] + c["UH"] + c["UO"],
        "(I+P) / ((I+P) + (R+NC+O) + (UH+UO))",
    ),
    "RR3": (
        lambda c, e: c["I"],
        lambda c, e: c["I"] + c["P"] + c["R"] + c["NC"] + c["O"] + e * (c["UH"] + c["UO"]),
        "I / ((I+P) + (R+NC+O) + e(UH+UO))",
    ),
    "RR4": (
        lambda c, e: c["I"] + c["P"],
        lambda c, e: c["I"] + c["P"] + c["R"] + c["NC"] + c["O"] + e * (c["UH"] + c["UO"]),
        "(I+P) / ((I+P) + (R+NC+O) + e(UH+UO))",
    ),
    "RR5": (
        lambda c, e: c["I"],
        lambda c, e: c["I"] + c["P"] + c["R"] + c["NC"] + c["O"],
        "I / ((I+P) + (R+NC+O))",
    ),
    "RR6": (
        lambda c, e: c["I"] + c["P"],
        lambda c, e: c["I"] + c["P"] + c["R"] + c["NC"] + c["O"],
        "(I+P) / ((I+P) + (R+NC+O))",
    ),
    "COOP1": (lambda c, e: c["I"], lambda c, e: c["I"] + c["P"] + c["R"] + c["O"], "I / ((I+P) + R + O)"),
    "COOP2": (
        lambda c, e: c["I"] + c["P"],
        lambda c, e: c["I"] + c["P"] + c["R"] + c["O"],
        "(I+P) / ((I+P) + R + O)",
    ),
    "COOP3": (lambda c, e: c["I"], lambda c, e: c["I"] + c["P"] + c["R"], "I / ((I+P) + R)"),
    "COOP4": (lambda c, e: c["I"] + c["P"], lambda c, e: c["I"] + c["P"] + c["R"], "(I+P) / ((I+P) + R)"),
    "REF1": (
        lambda c, e: c["R"],
        lambda c, e: c["I"] + c["P"] + c["R"] + c["NC"] + c["O"] + c["UH"] + c["UO"],
        "R / ((I+P) + (R+NC+O) + (UH+UO))",
    ),
    "REF2": (
        lambda c, e: c["R"],
        lambda c, e: c["I"] + c["P"] + c["R"] + c["NC"] + c["O"] + e * (c["UH"] + c["UO"]),
        "R / ((I+P) + (R+NC+O) + e(UH+UO))",
    ),
    "REF3": (lambda c, e: c["R"], lambda c, e: c["I"] + c["P"] + c["R"] + c["NC"] + c["O"], "R / ((I+P) + (R+NC+O))"),
    "CON1": (
        lambda c, e: c["I"] + c["P"] + c["R"] + c["O"],
        lambda c, e: c["I"] + c["P"] + c["R"] + c["O"] + c["NC"] + c["UH"] + c["UO"],
        "((I+P) + R + O) / ((I+P) + R + O + NC + (UH+UO))",
    ),
    "CON2": (
        lambda c, e: c["I"] + c["P"] + c["R"] + c["O"],
        lambda c, e: c["I"] + c["P"] + c["R"] + c["O"] + c["NC"] + e * (c["UH"] + c["UO"]),
        "((I+P) + R + O) / ((I+P) + R + O + NC + e(UH+UO))",
    ),
    "CON3": (
        lambda c, e: c["I"] + c["P"] + c["R"] + c["O"],
        lambda c, e: c["I"] + c["P"] + c["R"] + c["O"] + c["NC"],
        "((I+P) + R + O) / ((I+P) + R + O + NC)",
    ),
}
RATE_NAMES = tuple(FORMULAS)
E_METHOD = Phrase(N_("AAPOR proportional allocation (CASRO): e = (I+P+R+NC+O) / (I+P+R+NC+O+NE)"))


@dataclass(frozen=True)
class Rate:
    name: str
    numerator: float
    denominator: float
    formula: str

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def text(self) -> str:
        shown = "—" if self.value is None else f"{100 * self.value:.1f}%"
        return f"{self.name} = {_n(self.numerator)} / {_n(self.denominator)} = {shown}"


def _n(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


@dataclass(frozen=True)
class RateTable:
    """The rates of one group of cases (overall, one interviewer, one day, one quota cell)."""

    label: str
    counts: dict[str, int]
    e: float
    e_method: str
    rates: dict[str, Rate]

    @property
    def cases(self) -> int:
        return sum(self.counts.values())


def proportional_e(counts: dict[str, int]) -> float:
    """AAPOR's proportional allocation: the eligible share among cases of settled eligibility (1 when none)."""
    eligible = sum(counts.get(g, 0) for g in ("I", "P", "R", "NC", "O"))
    settled = eligible + counts.get("NE", 0)
    return eligible / settled if settled else 1.0


def compute(counts: dict[str, int], settings: CallSettings | None = None, label: str = "overall") -> RateTable:
    """Every rate for these group counts, with e by the study's rule."""
    settings = settings or CallSettings()
    full = {g: int(counts.get(g, 0)) for g in GROUPS}
    if settings.eligibility_estimate == "proportional":
        e, method = proportional_e(full), E_METHOD
    else:
        e, method = (
            float(settings.eligibility_estimate),
            Phrase(N_("given in study.yaml (calls: eligibility_estimate)")),
        )
    c = {g: float(v) for g, v in full.items()}
    rates = {name: Rate(name, num(c, e), den(c, e), formula) for name, (num, den, formula) in FORMULAS.items()}
    return RateTable(label, full, e, method, rates)


def count_groups(codes: Iterable[str | None]) -> dict[str, int]:
    return dict(Counter(group_of(code) for code in codes))


# -- from the store ----------------------------------------------------------------------------------
def _cases(store: Any) -> list[Any]:
    """(disposition, by whom, day, attributes, assigned) of every case in the sample; a respondent who withdrew
    consent keeps the pseudonymous record and its disposition, so they stay in the rates too."""
    return store.query("SELECT disposition, disposition_by, disposition_at, attributes, interviewer FROM respondents")


def overall(store: Any, settings: CallSettings | None = None) -> RateTable:
    return compute(count_groups(r[0] for r in _cases(store)), settings)


def by(store: Any, what: str, settings: CallSettings | None = None, quotas: Sequence[Any] = ()) -> list[RateTable]:
    """Rates per interviewer (who set the final disposition, else the one assigned), per day (of the final
    disposition, in the study's time zone) or per quota cell (from the respondent's attributes: gender, age, ...)."""
    from survey_tui.core.store.sqlite import decode

    groups: dict[str, list[str | None]] = {}
    zone = (settings or CallSettings()).zone()
    for code, who, at, attributes, assigned in _cases(store):
        if what == "interviewer":
            keys = [who or assigned or "(none)"]
        elif what == "day":
            keys = [_local_day(at, zone) if at else "(not called)"]
        elif what == "quota":
            keys = _cells(quotas, decode(attributes) or {})
        else:
            raise ValueError(f"rates by {what!r}: use interviewer, day or quota")
        for key in keys:
            groups.setdefault(key, []).append(code)
    return [compute(count_groups(codes), settings, key) for key, codes in sorted(groups.items())]


def _local_day(at: str, zone: Any) -> str:
    """The day of a stored time in the study's time zone (a time without an offset is already local)."""
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return at[:10]
    return (moment.astimezone(zone) if moment.tzinfo else moment).date().isoformat()


class _NoAnswers:
    def value(self, name: str) -> object | None:
        return None

    def special(self, name: str) -> str | None:
        return None


def _cells(quotas: Sequence[Any], attributes: dict[str, Any]) -> list[str]:
    from survey_tui.core.fieldwork.quotas import LayeredScope, cell_key

    scope = LayeredScope(_NoAnswers(), attributes)  # type: ignore[arg-type]
    keys = []
    for quota in quotas:
        try:
            cell = quota.cell_of(scope)
        except Exception:  # noqa: BLE001 - an attribute of the wrong type: the case has no known cell
            cell = None
        keys.append(f"{quota.name}: {cell_key(cell) if cell else '(unknown)'}")
    return keys


def lines(table: RateTable, names: Sequence[str] = RATE_NAMES) -> list[str]:
    """The rates as the terminal shows them (interface language), each with numerator, denominator and formula;
    the rate names and formulas are AAPOR's own notation and stay as they are."""
    counts = ", ".join(f"{g} {table.counts[g]}" for g in GROUPS)
    out = [
        _("cases {counts}; e = {e} ({method})").format(counts=counts, e=f"{table.e:.4f}", method=shown(table.e_method))
    ]
    out += [f"{table.rates[n].text()}   [{table.rates[n].formula}]" for n in names]
    return out
