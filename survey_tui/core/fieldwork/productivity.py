"""Interviewer productivity and quality per interviewer and day (T1.4), for the Fieldwork screen and files.

Per interviewer and local day (the study's time zone):

- calls: every recorded call (`contact_attempts`); contacts: calls whose outcome reached a person
  (`contact: true` in the outcome mapping); refusals: calls coded 2.1x (refusals and break-offs);
- completes: completed field interviews (the `interviews` table, so interviews started outside the call
  queue count too), their median length in minutes, and how many were speeding: shorter than `speed_share`
  (0.5 by default, as in the analysis quality review) of the median of all field completes;
- hours: time on calls, from the case being handed out by the queue to its outcome; on a day without timed
  calls (calls logged without the queue), time in interviews instead. completes_per_hour divides by it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from survey_tui.core.fieldwork.dispositions import LEGACY_RESULTS, CallSettings, group_of
from survey_tui.core.lazy import lazy
from survey_tui.i18n import _

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")

COLUMNS = (
    "interviewer",
    "day",
    "calls",
    "contacts",
    "completes",
    "refusals",
    "hours",
    "completes_per_hour",
    "median_minutes",
    "speeding",
)


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class _Day:
    calls: int = 0
    contacts: int = 0
    refusals: int = 0
    call_seconds: float = 0.0
    interview_seconds: float = 0.0
    lengths: list[float] | None = None
    speeding: int = 0


def productivity(store: Any, settings: CallSettings | None = None) -> pl.DataFrame:
    """One row per interviewer and day with the columns of `COLUMNS` (sorted by interviewer, day)."""
    settings = settings or CallSettings()
    zone = settings.zone()
    outcomes = settings.all_outcomes()
    days: dict[tuple[str, str], _Day] = defaultdict(_Day)

    def day_of(moment: datetime) -> str:
        return moment.astimezone(zone).date().isoformat()

    for who, at, started, result, outcome, aapor in store.query(
        "SELECT interviewer, at, started_at, result, outcome, aapor FROM contact_attempts"
    ):
        moment = _moment(at)
        if moment is None:
            continue
        cell = days[(who or "(none)", day_of(moment))]
        name = outcome or LEGACY_RESULTS.get(result, "callback")
        spec = outcomes.get(name)
        cell.calls += 1
        cell.contacts += bool(spec and spec.contact)
        code = aapor or (spec.aapor if spec else None)
        cell.refusals += bool(code and group_of(code) == "R")
        began = _moment(started)
        if began is not None and began <= moment:
            cell.call_seconds += (moment - began).total_seconds()
    completes: list[tuple[str, str, float]] = []
    for who, started, ended, outcome in store.query(
        "SELECT interviewer, started_at, ended_at, outcome FROM interviews"
        " WHERE mode = 'field' AND ended_at IS NOT NULL"
    ):
        began, end = _moment(started), _moment(ended)
        if began is None or end is None:
            continue
        seconds = max((end - began).total_seconds(), 0.0)
        key = (who or "(none)", day_of(end))
        days[key].interview_seconds += seconds
        if outcome == "complete":
            completes.append((*key, seconds))
    median_all = statistics.median([c[2] for c in completes]) if completes else None
    for who, day, seconds in completes:
        cell = days[(who, day)]
        cell.lengths = [*(cell.lengths or []), seconds]
        cell.speeding += bool(median_all and seconds < settings.speed_share * median_all)
    rows = []
    for (who, day), cell in sorted(days.items()):
        hours = (cell.call_seconds or cell.interview_seconds) / 3600
        done = len(cell.lengths or [])
        rows.append(
            (
                who,
                day,
                cell.calls,
                cell.contacts,
                done,
                cell.refusals,
                round(hours, 2),
                round(done / hours, 2) if hours else None,
                round(statistics.median(cell.lengths) / 60, 1) if cell.lengths else None,
                cell.speeding,
            )
        )
    schema = {
        "interviewer": pl.String,
        "day": pl.String,
        "calls": pl.Int64,
        "contacts": pl.Int64,
        "completes": pl.Int64,
        "refusals": pl.Int64,
        "hours": pl.Float64,
        "completes_per_hour": pl.Float64,
        "median_minutes": pl.Float64,
        "speeding": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def write(frame: pl.DataFrame, path: Path) -> Path:
    """CSV or xlsx by the file's suffix, written whole or not at all; interviewer names are made formula-safe."""
    from survey_tui.core.atomic import atomic_path
    from survey_tui.io.cells import XLSX_OPTIONS, csv_frame

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValueError(_("{name}: productivity is written as .csv or .xlsx").format(name=path.name))
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            csv_frame(frame).write_csv(tmp)
        else:
            import xlsxwriter

            workbook = xlsxwriter.Workbook(str(tmp), XLSX_OPTIONS)
            sheet = workbook.add_worksheet("Productivity")
            bold = workbook.add_format({"bold": True})
            sheet.write_row(0, 0, frame.columns, bold)
            for r, values in enumerate(frame.iter_rows(), start=1):
                for c, value in enumerate(values):
                    if isinstance(value, str):
                        sheet.write_string(r, c, value)
                    elif value is not None:
                        sheet.write_number(r, c, value)
            sheet.freeze_panes(1, 0)
            workbook.close()
    return path
