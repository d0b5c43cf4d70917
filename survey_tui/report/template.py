"""The report in the client's own Word template (`report.template` in study.yaml), filled with docxtpl.

The template keeps its styles, cover, logo, headers and footers; the study fills its tags (the contract
is `core.plan.report_template.CONTEXT`, described in the README). Tables and the whole built-in report
are docxtpl sub-documents written by the same code as the built-in layout (`fill_document`), so they
use the template's own Heading, List Bullet and Table Grid styles where it has them; charts are
InlineImages. A template with a mistake raises `TemplateError` naming the tag and its paragraph before
anything is written; the report is saved atomically, so a failure never leaves half a file.
"""

from __future__ import annotations

import copy
import io
from datetime import date
from pathlib import Path
from typing import Any

from survey_tui.core.atomic import atomic_path
from survey_tui.core.plan.report_template import (
    TemplateError,
    environment,
    open_template,
    render_error,
    template_problems,
)
from survey_tui.core.study import Study
from survey_tui.report.full_report import (
    PLACEHOLDER,
    Block,
    Report,
    fill_document,
    frequency_block,
)

#: a chart's width in the template (InlineImage)
CHART_MM = 150


def write_from_template(
    study: Study, report: Report, path: Path, charts: bool = True, today: date | None = None
) -> list[str]:
    """Fill the study's client template into `path`; notes for the user (e.g. why there are no charts)."""
    display = study.config.report.template
    source = study.root / display
    problems = template_problems(source, display)
    if problems:
        raise TemplateError(problems[0])
    tpl = open_template(source, display)
    notes: list[str] = []
    if charts:
        from survey_tui.report.charts import chart_problem

        problem = chart_problem([b.table for b in report.blocks if b.kind in ("banner", "frequency")])
        if problem:
            notes.append(problem)
            charts = False
    context = template_context(study, report, tpl, charts, today or date.today())
    try:
        tpl.render(context, jinja_env=environment(), autoescape=True)
    except Exception as exc:  # noqa: BLE001 - Jinja and docxtpl raise many kinds; each is reported located
        raise TemplateError(render_error(tpl, exc, display)) from exc
    props = tpl.docx.core_properties
    props.title = report.title
    props.author = report.author
    props.last_modified_by = report.author
    with atomic_path(path) as tmp:
        tpl.save(str(tmp))
    return notes


class _Chart:
    """A chart drawn only when the template shows it; false (for {% if t.chart %}) when there is none."""

    def __init__(self, draw: Any, tpl: Any) -> None:
        self._draw = draw
        self._tpl = tpl
        self._png: bytes | None = None
        self._drawn = False

    def png(self) -> bytes | None:
        if not self._drawn:
            self._png, self._drawn = self._draw(), True
        return self._png

    def __bool__(self) -> bool:
        return self.png() is not None

    def __html__(self) -> str:
        from docx.shared import Mm
        from docxtpl import InlineImage

        png = self.png()
        return "" if png is None else InlineImage(self._tpl, io.BytesIO(png), width=Mm(CHART_MM)).__html__()

    __str__ = __html__


class _Later:
    """A sub-document made only when the template places it ({{p x }} renders it through `__html__`):
    a template that shows only the body does not pay for a table sub-document per planned table."""

    def __init__(self, make: Any) -> None:
        self._make = make
        self._xml: str | None = None

    def __html__(self) -> str:
        if self._xml is None:
            self._xml = self._make().__html__()
        return self._xml

    __str__ = __html__


def _subdoc(tpl: Any) -> Any:
    """A sub-document whose page setup is the template's (so a landscape section turns its page)."""
    from docx.oxml.ns import qn

    sub = tpl.new_subdoc()
    body = sub.subdocx.element.body
    ours = body.find(qn("w:sectPr"))
    theirs = tpl.docx.element.body.find(qn("w:sectPr"))
    if theirs is not None:
        if ours is not None:
            body.remove(ours)
        body.append(copy.deepcopy(theirs))
    return sub


def template_context(study: Study, report: Report, tpl: Any, charts: bool, today: date) -> dict[str, Any]:
    """Everything a template may use (names: `CONTEXT`)."""
    from survey_tui.core.plan.model import COLLECTION_MODES
    from survey_tui.report.charts import chart_png

    cfg = study.config

    def picture(table: Any) -> Any:
        return _Chart(lambda: chart_png(table) if charts else None, tpl)

    verdicts = report.facts.get("verdicts", [])

    def table_doc(table: Any) -> Any:
        sub = _subdoc(tpl)
        single = Report(report.title, language=report.language, blocks=[Block("banner", table=table)])
        fill_document(sub, single, charts=False)
        return sub

    def frequency_doc(b: Block) -> Any:
        sub = _subdoc(tpl)
        frequency_block(sub, b.table, b.items[0] if b.items else "", chart=False)
        return sub

    def body_doc() -> Any:
        sub = _subdoc(tpl)
        fill_document(sub, report, charts)
        return sub

    tables = []
    for info in report.facts.get("tables", []):
        table = info["table"]
        base = "; ".join(f"{label}: {values[0]}" for label, values in _bases(table, report.language))
        tables.append(
            {
                "id": info["id"],
                "title": table.title,
                "objective": info["objective"],
                "base": base,
                "footnote": table.footnote(report.language),
                "chart": picture(table),
                "table": _Later(lambda table=table: table_doc(table)),
            }
        )
    frequencies = []
    for b in report.blocks:
        if b.kind != "frequency":
            continue
        frequencies.append(
            {
                "name": b.table.variable,
                "title": b.table.title,
                "base": b.items[0] if b.items else "",
                "chart": picture(b.table),
                "table": _Later(lambda b=b: frequency_doc(b)),
            }
        )
    m = cfg.method
    objectives = [
        {
            "id": o.id,
            "text": o.text,
            "tables": [t for t in tables if t["objective"] == o.id],
            "hypotheses": [v for v in verdicts if v["objective"] == o.id],
        }
        for o in cfg.objectives
    ]
    return {
        "study": {
            "title": cfg.title,
            "client": cfg.client,
            "researcher": cfg.researcher or cfg.client,
            "date": today.isoformat(),
            "language": report.language,
            "description": cfg.description,
        },
        "background": {"context": cfg.background.context, "decision": cfg.background.decision},
        "method": {
            "approach": m.approach,
            "modes": ", ".join(COLLECTION_MODES.get(x, x) for x in m.modes),
            "target_population": m.target_population,
            "sampling": m.sampling,
            "sample_size": m.sample_size,
            "interviews": report.facts.get("interviews"),
        },
        "objectives": objectives,
        "hypotheses": verdicts,
        "tables": tables,
        "key_frequencies": frequencies,
        "body": _Later(body_doc),
        "placeholder": PLACEHOLDER,
    }


def _bases(table: Any, language: str) -> list[tuple[str, list[str]]]:
    from survey_tui.analysis.tables import base_rows

    return base_rows(table, language)
