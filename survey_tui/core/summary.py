"""The study's real state at a glance (the dashboard's content), computed without any UI.

It has two parts: what the study's files say (title, plan, each instrument's questions and problems) and
what the store says (published versions, interviews, respondents). The files' part is kept in the user's
cache under everything it is read from (survey_tui.core.checked's key: study.yaml, the instruments, the
tab plans, the code, the interface language), so the app's first screen on an unchanged study reads only
the store: no pydantic, no study models, no instrument validated before its figures are on the terminal
(`quick_summary`). The store is read afresh every time.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from survey_tui.core.problems import Problem

if TYPE_CHECKING:
    from survey_tui.core.store.base import StoreBase
    from survey_tui.core.study import Study

#: the kind of cache entry holding a study's files' part of the summary
KIND = "home-summary"


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
    """The summary of an open study (and its files' part kept for the next `quick_summary`)."""
    from survey_tui.core import checked
    from survey_tui.i18n import current_language

    key = checked.study_key(study.root, current_language())  # before the files are read
    facts = _file_facts(study)
    if key is not None and study.server_url is None and _as_on_disk(study):
        checked.keep_value(KIND, key, study.root, current_language(), facts)
    with study.store() as store:
        return _summary(facts, store)


def _as_on_disk(study: Study) -> bool:
    """Whether the open study's settings are what study.yaml says now: a study opened long ago (the app open
    for hours, the file edited since) must not leave its old settings in the cache under the new file."""
    from survey_tui.core.problems import LoadError
    from survey_tui.core.study import open_study

    try:
        fresh = open_study(study.root)
    except LoadError:
        return False
    return fresh.config == study.config and [str(p) for p in fresh.problems] == [str(p) for p in study.problems]


def quick_summary(root: Path) -> StudySummary | None:
    """The summary from the files' part kept by an earlier `summarise_study` of exactly these files, and the
    store read now; None when nothing is kept for them (or the study's data is on a server)."""
    facts = kept_facts(root)
    if facts is None:
        return None
    from survey_tui.core.store.sqlite import Store

    with Store(Path(root) / "survey.db") as store:
        try:
            return _summary(facts, store)
        except (KeyError, TypeError, ValueError):  # an entry of another shape: read the study
            return None


def kept_facts(root: Path) -> dict[str, Any] | None:
    """The files' part of the summary kept for exactly the files `root` holds now, or None."""
    from survey_tui.core import checked
    from survey_tui.core.store.base import server_url
    from survey_tui.i18n import current_language

    facts = checked.kept_value(KIND, checked.study_key(Path(root), current_language()))
    if not isinstance(facts, dict) or server_url(facts.get("store")) is not None:
        return None
    return facts


def _file_facts(study: Study) -> dict[str, Any]:
    """What the study's files say for the summary, as JSON (for the cache)."""
    from survey_tui.core.instrument.loader import load_instrument_file

    problems: list[Problem] = list(study.problems)
    instruments = []
    for path in study.instrument_files():
        name = study.relative(path)
        instrument, found = load_instrument_file(path, name, study.config.special_codes)
        problems.extend(found)
        errors = sum(p.severity == "error" for p in found)
        instruments.append(
            {
                "id": instrument.id if instrument else path.stem,
                "file": name,
                "questions": len(instrument.questions) if instrument else 0,
                "sections": len(instrument.sections) if instrument else 0,
                "errors": errors,
                "warnings": len(found) - errors,
                "sha256": hashlib.sha256(path.read_bytes().decode("utf-8", "replace").encode("utf-8")).hexdigest(),
            }
        )
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
    return {
        "title": config.title,
        "client": config.client,
        "languages": list(config.languages),
        "root": str(study.root),
        "store": config.store,
        "instruments": instruments,
        "plan": dataclasses.asdict(plan),
        "problems": [dataclasses.asdict(p) for p in problems],
    }


def _summary(facts: dict[str, Any], store: StoreBase) -> StudySummary:
    """The summary: the files' part and what the store holds now."""
    instruments = []
    for ins in facts["instruments"]:
        versions = store.versions(ins["id"])
        instruments.append(
            InstrumentSummary(
                id=ins["id"],
                file=ins["file"],
                questions=ins["questions"],
                sections=ins["sections"],
                errors=ins["errors"],
                warnings=ins["warnings"],
                published=[(v.version, v.published_at[:10]) for v in versions],
                draft_changed=bool(versions) and versions[-1].sha256 != ins["sha256"],
            )
        )
    counts = store.interview_counts()
    respondents = int(store.query("SELECT COUNT(*) FROM respondents")[0][0])
    return StudySummary(
        title=facts["title"],
        client=facts["client"],
        languages=list(facts["languages"]),
        root=facts["root"],
        instruments=instruments,
        interview_counts=counts,
        respondents=respondents,
        plan=PlanSummary(**facts["plan"]),
        problems=[Problem(**p) for p in facts["problems"]],
    )
