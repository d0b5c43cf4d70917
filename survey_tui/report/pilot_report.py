"""The pilot report as Markdown: what to revise before fieldwork, then the figures behind it."""

from __future__ import annotations

from pathlib import Path

from survey_tui.analysis.pilot import PilotStats, pilot_statistics, pilot_versions
from survey_tui.core.instrument.versions import diff_versions
from survey_tui.core.problems import LoadError, Problem
from survey_tui.core.study import Study
from survey_tui.core.yamlfile import write_text_atomic


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def attention_list(stats: PilotStats) -> list[str]:
    """One sentence per finding that asks for a revision, most telling first."""
    out: list[str] = []
    for item in stats.items:
        if not item.flags:
            continue
        detail = []
        if "high don't know" in item.flags:
            detail.append(f"don't know {_pct(item.rate(item.dont_know))}")
        if "high non-response" in item.flags:
            detail.append(f"item non-response {_pct(item.rate(item.nonresponse))}")
        for flag in ("zero variance", "floor", "ceiling"):
            if flag in item.flags:
                detail.append(flag)
        if item.notes:
            detail.append(f"{len(item.notes)} interviewer note(s)")
        out.append(f"`{item.variable}` — " + ", ".join(detail))
    for grid in stats.grids:
        if grid.alpha is not None and grid.alpha < 0.7:
            out.append(f"`{grid.question}` — Cronbach's alpha {grid.alpha:.2f} (below 0.70)")
        if grid.straightlining_rate:
            out.append(f"`{grid.question}` — straight-lining {_pct(grid.straightlining_rate)}")
    return out


def render_pilot_report(stats: PilotStats, changes: str | None = None) -> str:
    """The whole report; `changes` is the Markdown diff to the revised version when there is one."""
    lines = [
        f"# Pilot report: {stats.instrument_id} v{stats.version}",
        "",
        f"Pilot interviews: {stats.interviews} (completed {stats.completed}). "
        f"Median interview length: {_num(stats.median_minutes, 1)} minutes. "
        "Pilot data are kept apart from field data and are not part of any field analysis.",
        "",
        "## What needs attention",
        "",
    ]
    attention = attention_list(stats)
    lines += [f"- {a}" for a in attention] or ["- Nothing flagged."]
    lines += ["", "## Break-offs", ""]
    if stats.breakoffs:
        lines += ["| stopped at | interviews |", "|---|---:|"]
        lines += [f"| `{q}` | {n} |" for q, n in stats.breakoffs]
    else:
        lines.append("No interview broke off.")
    lines += [
        "",
        "## Questions",
        "",
        "| variable | asked | answered | non-response | don't know | refused | median s | flags |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for item in stats.items:
        lines.append(
            f"| `{item.variable}` | {item.asked} | {item.answered} | {_pct(item.rate(item.nonresponse))} | "
            f"{_pct(item.rate(item.dont_know))} | {_pct(item.rate(item.refused))} | "
            f"{_num(item.median_seconds, 1)} | {', '.join(item.flags)} |"
        )
    lines += ["", "## Distributions", ""]
    for item in stats.items:
        if not item.distribution:
            continue
        dist = "; ".join(f"{_cell(str(k))}: {v}" for k, v in item.distribution)
        lines.append(f"- `{item.variable}` {_cell(item.label)} — {dist}")
    lines += ["", "## Grids and batteries", ""]
    for grid in stats.grids:
        lines += [
            f"### `{grid.question}` {_cell(grid.label)}",
            "",
            f"Complete cases: {grid.complete}. Cronbach's alpha: {_num(grid.alpha)}. "
            f"Straight-lining: {grid.straightlined} ({_pct(grid.straightlining_rate)}).",
            "",
            "| item | corrected item-total r | alpha if item deleted |",
            "|---|---:|---:|",
        ]
        lines += [
            f"| `{name}` | {_num(grid.item_total.get(name))} | {_num(grid.alpha_if_deleted.get(name))} |"
            for name in grid.items
        ]
        lines.append("")
    lines += ["## Interviewer notes", ""]
    if stats.notes:
        lines += [f"- `{q or '(no question)'}` ({who}): {_cell(text)}" for q, who, text in stats.notes]
    else:
        lines.append("No notes were left.")
    if changes:
        lines += ["", "## Changes after the pilot", "", changes]
    return "\n".join(lines).rstrip() + "\n"


def build_pilot_report(study: Study, instrument_id: str | None = None, version: int | None = None) -> tuple[Path, str]:
    """Compute and write `exports/pilot_report_<instrument>_v<N>.md`; returns the path and the text."""
    instrument = study.load_instrument(instrument_id) if instrument_id else None
    ids = [instrument.id] if instrument else _instrument_ids(study)
    with study.store() as store:
        piloted = [(iid, v) for iid in ids for v in pilot_versions(store, iid)]
        if version is not None:
            piloted = [(iid, v) for iid, v in piloted if v[1] == version]
        if not piloted:
            raise LoadError(
                [
                    Problem(
                        study.relative(study.db_path),
                        "no pilot interviews" + (f" on v{version}" if version else ""),
                        hint="capture interviews in pilot mode first",
                    )
                ]
            )
        iid, (version_id, number, _) = piloted[-1]
        stored = store.version_by_id(version_id)
        stats = pilot_statistics(store, study.instrument_for_version(stored), version_id, number)
        latest = store.latest_version(iid)
    changes = None
    if latest is not None and latest.version > number:
        changes = diff_versions(study, iid, number, latest.version).markdown()
    text = render_pilot_report(stats, changes)
    path = study.exports_dir / f"pilot_report_{iid}_v{number}.md"
    write_text_atomic(path, text)
    return path, text


def _instrument_ids(study: Study) -> list[str]:
    with study.store() as store:
        return sorted({v.instrument_id for v in store.versions()})
