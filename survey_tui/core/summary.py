"""The study's real state at a glance (the dashboard's content), computed without any UI."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from survey_tui.core.instrument.loader import load_instrument_file
from survey_tui.core.problems import Problem
from survey_tui.core.study import Study


@dataclass(frozen=True)
class InstrumentSummary:
    id: str
    file: str
    questions: int  # 0 when the file does not load
    sections: int
    errors: int
    warnings: int
    published: list[tuple[int, str]]  # (version, published_at)
    draft_changed: bool  # the file differs from the latest published version


@dataclass(frozen=True)
class PlanSummary:
    """How far the plan is (T1.1–T1.2): what the researcher has recorded, and the format's approval."""

    sources: int
    objectives: int
    hypotheses: int
    planned_tables: int
    report_status: str
    approved_by: str
    approved_on: str
    sample_size: int | None
    plan_problems: int


@dataclass(frozen=True)
class StudySummary:
    title: str
    client: str
    languages: list[str]
    root: str
    instruments: list[InstrumentSummary]
    interview_counts: list[tuple[str, str, str | None, int]]  # mode, status, outcome, n
    respondents: int
    plan: PlanSummary | None = None
    problems: list[Problem] = field(default_factory=list)

    def interviews(self, mode: str | None = None, status: str | None = None) -> int:
        return sum(
            n for m, s, _, n in self.interview_counts if (mode is None or m == mode) and (status is None or s == status)
        )


def _tab_plan_tables(study: Study) -> int:
    """Tables planned in tabs/*.yaml (counted from the text; `check` validates them)."""
    from survey_tui.core.yamlfile import read_yaml

    total = 0
    folder = study.root / "tabs"
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        doc, _ = read_yaml(path, path.name)
        data = doc.data if doc is not None else None
        if isinstance(data, dict) and isinstance(data.get("tables"), list):
            total += len(data["tables"])
    return total


def summarise_study(study: Study) -> StudySummary:
    instruments: list[InstrumentSummary] = []
    problems: list[Problem] = list(study.problems)
    with study.store() as store:
        for path in study.instrument_files():
            name = study.relative(path)
            instrument, found = load_instrument_file(path, name, study.config.special_codes)
            problems.extend(found)
            errors = sum(p.severity == "error" for p in found)
            ins_id = instrument.id if instrument else path.stem
            versions = store.versions(ins_id)
            digest = hashlib.sha256(path.read_bytes().decode("utf-8", "replace").encode("utf-8")).hexdigest()
            instruments.append(
                InstrumentSummary(
                    id=ins_id,
                    file=name,
                    questions=len(instrument.questions) if instrument else 0,
                    sections=len(instrument.sections) if instrument else 0,
                    errors=errors,
                    warnings=len(found) - errors,
                    published=[(v.version, v.published_at[:10]) for v in versions],
                    draft_changed=bool(versions) and versions[-1].sha256 != digest,
                )
            )
        counts = store.interview_counts()
        respondents = int(store.query("SELECT COUNT(*) FROM respondents")[0][0])
    config = study.config
    fmt = config.report_format
    plan = PlanSummary(
        sources=len(config.sources),
        objectives=len(config.objectives),
        hypotheses=len(config.hypotheses),
        planned_tables=_tab_plan_tables(study) or len(config.analysis_plan.tables),
        report_status=fmt.status,
        approved_by=fmt.approved_by,
        approved_on=fmt.approved_on.isoformat() if fmt.approved_on else "",
        sample_size=config.method.sample_size,
        plan_problems=sum(p.file == "study.yaml" for p in problems),
    )
    return StudySummary(
        title=config.title,
        client=config.client,
        languages=list(config.languages),
        root=str(study.root),
        instruments=instruments,
        interview_counts=counts,
        respondents=respondents,
        plan=plan,
        problems=problems,
    )
