"""Data-quality review (T1.5, P1.5.1): the usual signs of bad or fabricated interviews, and decisions.

Flags are computed from a `Dataset` read *without* exclusions, so an excluded interview still shows up
(and can be kept again). Their details are worded in the interface language when computed: only the screen
shows them, while the store keeps flag names and the researcher's own reason. The researcher's decisions
go to the `quality_decisions` table: every decision is a new row with its reason, the latest row per
interview wins, so excluding is reversible and audited.

Checks:
* speeder: interview duration under `speed_share` (default 0.5) of the median duration;
* straight-liner: every item of a grid (with at least `min_grid_items` answered) has the same code;
* item non-response: share of the questions asked that got don't know / refused, over `dk_share`;
* duplicate: the same respondent id on more than one complete interview;
* near-identical: another interview's coded answers agree on at least `identical_share` of variables
  both answered (a copied or invented interview).
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from survey_tui.analysis.dataset import Dataset
from survey_tui.core.store.sqlite import Store, now
from survey_tui.i18n import N_, _, worded

#: a flag's name as the store keeps it -> its words on screen (in the interface language, through `_`)
FLAG_LABELS: dict[str, str] = {
    "speeder": N_("speeder"),
    "straight_liner": N_("straight-liner"),
    "high_dk": N_("many don't know"),
    "duplicate": N_("duplicate respondent"),
    "near_identical": N_("near-identical answers"),
}
#: a decision as the store keeps it ('exclude' / 'keep') -> its word on screen
DECISION_WORDS: dict[str, str] = {"exclude": N_("excluded"), "keep": N_("kept")}


#: reasons the tool itself records (the demo's reviewer). The store, the report and the CSV of exclusions
#: beside it keep them in English, as they keep a researcher's own words; the screen says them again in the
#: interface language (`reason_shown`), numbers and all.
TOOL_REASONS: tuple[str, ...] = (
    N_("speeder: {minutes:.1f} min, under a third of the median {median:.1f} min"),
    N_("called back: respondent confirmed the answers"),
)


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = string.Formatter().parse(template)
    return re.compile(
        "".join(re.escape(lit) + (f"(?P<{name}>.+?)" if name else "") for lit, name, _spec, _conv in parts)
    )


_TOOL_PATTERNS = [(template, _template_pattern(template)) for template in TOOL_REASONS]


def reason_shown(reason: str | None) -> str | None:
    """A decision's reason as the screen shows it: one the tool wrote in the interface language (its values
    as they were written), a researcher's own words as they were typed."""
    if not reason:
        return reason
    for template, pattern in _TOOL_PATTERNS:
        found = pattern.fullmatch(reason)
        if found:
            values = found.groupdict()
            return "".join(
                lit + (values[name] if name else "")
                for lit, name, _spec, _conv in string.Formatter().parse(_(template))
            )
    return reason


def flag_label(flag: str) -> str:
    """A flag in the interface language (an unknown one by its stored name)."""
    return worded(FLAG_LABELS, flag)


def decision_word(decision: str | None) -> str:
    return "—" if not decision else _(DECISION_WORDS[decision]) if decision in DECISION_WORDS else decision


@dataclass(frozen=True)
class QualitySettings:
    speed_share: float = 0.5
    min_grid_items: int = 3
    dk_share: float = 0.15
    identical_share: float = 0.95
    min_compared: int = 15  # near-identical needs at least this many variables answered by both


@dataclass(frozen=True)
class FlaggedInterview:
    interview_id: int
    interviewer: str | None
    duration_s: float | None
    flags: tuple[str, ...]
    detail: dict[str, str]
    decision: str | None = None  # latest 'exclude' / 'keep', None when undecided
    reason: str | None = None


@dataclass(frozen=True)
class InterviewerStats:
    interviewer: str
    interviews: int
    median_minutes: float
    dk_rate: float
    straight_lining_rate: float
    speeder_rate: float
    flagged: int


@dataclass(frozen=True)
class ItemStats:
    variable: str
    asked: int
    dont_know: int
    refused: int


@dataclass
class QualityReport:
    settings: QualitySettings
    interviews: int
    median_duration_s: float | None
    flagged: list[FlaggedInterview] = field(default_factory=list)
    interviewers: list[InterviewerStats] = field(default_factory=list)
    items: list[ItemStats] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(flag for f in self.flagged for flag in f.flags)

    @property
    def excluded(self) -> list[FlaggedInterview]:
        return [f for f in self.flagged if f.decision == "exclude"]


def _grid_groups(dataset: Dataset) -> dict[str, list[str]]:
    return {q: [v.name for v in vs] for q, vs in dataset.questions().items() if vs[0].type == "grid"}


def straight_lined(dataset: Dataset, min_items: int = 3) -> pl.DataFrame:
    """interview_id and the grids it straight-lined (all answered items the same substantive code)."""
    exprs = []
    for question, columns in _grid_groups(dataset).items():
        if len(columns) < min_items:
            continue
        valid = [dataset.valid(c) for c in columns]
        answered = pl.sum_horizontal([v.is_not_null().cast(pl.Int32) for v in valid])
        same = (pl.min_horizontal(valid) == pl.max_horizontal(valid)) & (answered >= min_items)
        exprs.append(pl.when(same.fill_null(False)).then(pl.lit(question)).alias(f"__sl_{question}"))
    if not exprs:
        return dataset.frame.select("interview_id", pl.lit([], dtype=pl.List(pl.String)).alias("grids"))
    return dataset.frame.select("interview_id", pl.concat_list(exprs).list.drop_nulls().alias("grids"))


def special_counts(dataset: Dataset) -> pl.DataFrame:
    """Per interview: questions asked (answered at all) and of them answered don't know / refused."""
    asked, specials = [], []
    for question, variables in dataset.questions().items():
        first = variables[0]
        if first.type == "multi_special":
            continue
        if first.type == "multi":
            cols = [v.name for v in variables]
            asked.append(pl.any_horizontal([pl.col(c).is_not_null() for c in cols]))
            spec = [v.name for v in variables if v.type == "multi_special"]
            if spec:
                specials.append(pl.any_horizontal([pl.col(c) == 1 for c in spec]).fill_null(False))
            continue
        col = variables[0].name if first.type == "grid" else question
        if col not in dataset.frame.columns or first.type in ("calculate",):
            continue
        asked.append(pl.col(col).is_not_null())
        if first.missing_codes:
            dtype = dataset.frame.schema[col]
            codes = list(first.missing_codes)
            hit = pl.col(col).is_in([str(c) for c in codes]) if dtype == pl.String else pl.col(col).is_in(codes)
            specials.append(hit.fill_null(False))
    to_int = [e.cast(pl.Int32) for e in asked]
    spec_int = [e.cast(pl.Int32) for e in specials] or [pl.lit(0)]
    return dataset.frame.select(
        "interview_id", pl.sum_horizontal(to_int).alias("asked"), pl.sum_horizontal(spec_int).alias("specials")
    )


def item_stats(dataset: Dataset) -> list[ItemStats]:
    """Don't know / refused counts per variable that has missing codes (item non-response)."""
    result = []
    exprs = []
    names = []
    for variable in dataset.variables.values():
        if not variable.missing_codes or variable.name not in dataset.frame.columns:
            continue
        col = pl.col(variable.name)
        as_text = dataset.frame.schema[variable.name] == pl.String
        dk = [c for c, n in variable.missing_codes.items() if n == "dont_know"]
        rf = [c for c, n in variable.missing_codes.items() if n == "refused"]
        if as_text:
            dk, rf = [str(c) for c in dk], [str(c) for c in rf]
        names.append(variable.name)
        exprs += [
            col.is_not_null().sum().alias(f"{variable.name}|a"),
            col.is_in(dk).sum().alias(f"{variable.name}|d"),
            col.is_in(rf).sum().alias(f"{variable.name}|r"),
        ]
    if not exprs:
        return []
    row = dataset.frame.select(exprs).row(0, named=True)
    for name in names:
        result.append(ItemStats(name, int(row[f"{name}|a"]), int(row[f"{name}|d"]), int(row[f"{name}|r"])))
    return result


def near_identical(dataset: Dataset, share: float, min_compared: int) -> dict[int, tuple[int, float]]:
    """interview_id -> (closest other interview, share of agreeing answers) where that share >= `share`.

    Compares the coded answers of every pair in blocks (numpy), so a few thousand interviews take a second.
    """
    import numpy as np  # here, not at import: loading a data set (which reads the exclusions) needs no numpy

    names = [v.name for v in dataset.variables.values() if v.type in ("single", "scale", "grid", "multi")]
    if dataset.n < 2 or not names:
        return {}
    matrix = dataset.frame.select([pl.col(n).cast(pl.Int32).fill_null(-1) for n in names]).to_numpy()
    ids = dataset.frame["interview_id"].to_numpy()
    present = matrix >= 0
    found: dict[int, tuple[int, float]] = {}
    block = max(1, min(512, 20_000_000 // max(1, len(ids) * len(names))))
    for start in range(0, len(ids), block):
        part = matrix[start : start + block]
        part_present = present[start : start + block]
        both = part_present[:, None, :] & present[None, :, :]
        agree = ((part[:, None, :] == matrix[None, :, :]) & both).sum(axis=2)
        compared = both.sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(compared >= min_compared, agree / np.maximum(compared, 1), 0.0)
        for offset in range(part.shape[0]):
            ratio[offset, start + offset] = 0.0
        best = ratio.argmax(axis=1)
        for offset, other in enumerate(best):
            value = float(ratio[offset, other])
            if value >= share:
                found[int(ids[start + offset])] = (int(ids[other]), value)
    return found


def review(dataset: Dataset, store: Store, settings: QualitySettings | None = None) -> QualityReport:
    """Flag the interviews of `dataset` (read it with apply_exclusions=False to see excluded ones too)."""
    import numpy as np

    settings = settings or QualitySettings()
    frame = dataset.frame
    durations = frame["duration_s"]
    median = durations.median()
    median_value = float(median) if isinstance(median, int | float) else None
    lines = straight_lined(dataset, settings.min_grid_items)
    specials = special_counts(dataset)
    base = (
        frame.select("interview_id", "interviewer", "duration_s", "uuid")
        .join(lines, on="interview_id", how="left")
        .join(specials, on="interview_id", how="left")
    )
    duplicates = _duplicate_respondents(store, frame["interview_id"].to_list())
    close = near_identical(dataset, settings.identical_share, settings.min_compared)
    decisions = latest_decisions(store)
    flagged: list[FlaggedInterview] = []
    per_interviewer: dict[str, list[tuple[float | None, float, bool, bool, bool]]] = {}
    for row in base.iter_rows(named=True):
        flags: list[str] = []
        detail: dict[str, str] = {}
        duration = row["duration_s"]
        speeder = median_value is not None and duration is not None and duration < settings.speed_share * median_value
        if speeder:
            flags.append("speeder")
            detail["speeder"] = _("{minutes:.1f} min vs median {median:.1f} min").format(
                minutes=duration / 60,  # type: ignore[operator]
                median=median_value / 60,  # type: ignore[operator]
            )
        grids = row["grids"] or []
        if grids:
            flags.append("straight_liner")
            detail["straight_liner"] = ", ".join(grids)
        asked, spec = row["asked"] or 0, row["specials"] or 0
        dk_rate = spec / asked if asked else 0.0
        if asked and dk_rate > settings.dk_share:
            flags.append("high_dk")
            detail["high_dk"] = _("{specials} of {asked} questions ({share:.0%})").format(
                specials=spec, asked=asked, share=dk_rate
            )
        iid = int(row["interview_id"])
        if iid in duplicates:
            flags.append("duplicate")
            detail["duplicate"] = _("respondent also in interview(s) {ids}").format(
                ids=", ".join(map(str, duplicates[iid]))
            )
        if iid in close:
            other, value = close[iid]
            flags.append("near_identical")
            detail["near_identical"] = _("{share:.0%} the same answers as interview {other}").format(
                share=value, other=other
            )
        who = row["interviewer"] or "—"
        per_interviewer.setdefault(who, []).append((duration, dk_rate, bool(grids), speeder, bool(flags)))
        decision = decisions.get(iid)
        if flags or decision:
            flagged.append(
                FlaggedInterview(
                    iid,
                    row["interviewer"],
                    duration,
                    tuple(flags),
                    detail,
                    decision[0] if decision else None,
                    decision[1] if decision else None,
                )
            )
    interviewers = [
        InterviewerStats(
            interviewer=who,
            interviews=len(rows),
            median_minutes=float(np.median([r[0] for r in rows if r[0] is not None] or [0.0])) / 60,
            dk_rate=float(np.mean([r[1] for r in rows])),
            straight_lining_rate=float(np.mean([r[2] for r in rows])),
            speeder_rate=float(np.mean([r[3] for r in rows])),
            flagged=sum(r[4] for r in rows),
        )
        for who, rows in sorted(per_interviewer.items())
    ]
    return QualityReport(settings, frame.height, median_value, flagged, interviewers, item_stats(dataset))


def _duplicate_respondents(store: Store, interview_ids: list[int]) -> dict[int, list[int]]:
    rows = store.query(
        "SELECT id, respondent_id FROM interviews WHERE respondent_id IS NOT NULL AND outcome = 'complete'"
    )
    wanted = set(interview_ids)
    by_respondent: dict[str, list[int]] = {}
    for iid, rid in rows:
        by_respondent.setdefault(rid, []).append(int(iid))
    result: dict[int, list[int]] = {}
    for ids in by_respondent.values():
        if len(ids) > 1:
            for iid in ids:
                if iid in wanted:
                    result[iid] = [o for o in ids if o != iid]
    return result


# -- decisions ----------------------------------------------------------------------------------------


def record_decision(
    store: Store,
    interview_id: int,
    decision: str,
    reason: str,
    flags: tuple[str, ...] | list[str] = (),
    actor: str | None = None,
) -> None:
    """Exclude or keep one interview, with the reason (required: the report counts and explains them)."""
    if decision not in ("exclude", "keep"):
        raise ValueError(f"decision must be 'exclude' or 'keep', not {decision!r}")
    if not reason.strip():
        raise ValueError("say why (a reason is recorded with every exclusion and keep)")
    with store.transaction() as conn:
        if conn.execute("SELECT 1 FROM interviews WHERE id = ?", (interview_id,)).fetchone() is None:
            raise ValueError(f"no interview {interview_id}")
        conn.execute(
            "INSERT INTO quality_decisions (interview_id, decision, reason, flags, at, actor)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (interview_id, decision, reason.strip(), json.dumps(list(flags)), now(), actor),
        )


def exclude(
    store: Store, interview_id: int, reason: str, flags: tuple[str, ...] = (), actor: str | None = None
) -> None:
    record_decision(store, interview_id, "exclude", reason, flags, actor)


def keep(store: Store, interview_id: int, reason: str, actor: str | None = None) -> None:
    """Undo an exclusion (or confirm a flagged interview is fine)."""
    record_decision(store, interview_id, "keep", reason, (), actor)


def latest_decisions(store: Store) -> dict[int, tuple[str, str]]:
    """interview_id -> (decision, reason) of its latest decision."""
    rows = store.query(
        "SELECT d.interview_id, d.decision, d.reason FROM quality_decisions d"
        " JOIN (SELECT interview_id, MAX(id) AS id FROM quality_decisions GROUP BY interview_id) last"
        " ON last.id = d.id"
    )
    return {int(r[0]): (r[1], r[2]) for r in rows}


#: the interviews whose latest decision is to exclude them: a subquery, so a read can leave them out in SQL
EXCLUDED_SQL = (
    "SELECT d.interview_id FROM quality_decisions d"
    " JOIN (SELECT interview_id, MAX(id) AS id FROM quality_decisions GROUP BY interview_id) last"
    " ON last.id = d.id WHERE d.decision = 'exclude'"
)


def excluded_interviews(store: Store) -> set[int]:
    return {int(r[0]) for r in store.query(EXCLUDED_SQL)}


def decision_history(store: Store, interview_id: int) -> list[tuple[str, str, str, str | None]]:
    rows = store.query(
        "SELECT decision, reason, at, actor FROM quality_decisions WHERE interview_id = ? ORDER BY id",
        (interview_id,),
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]
