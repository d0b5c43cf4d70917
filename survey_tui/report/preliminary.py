"""The preliminary research report (P1.1.4): desk research and plan, in Markdown, before fieldwork.

It follows the plan in `study.yaml`: background, sources with their reliability, findings grouped by
theme, method and tool choices, objectives and hypotheses, and the approval status of the report format.
A report format that is not approved is announced at the very top, so nobody mistakes a draft for the
agreed deliverable.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from survey_tui.core.plan.model import COLLECTION_MODES, TEST_LABELS, Hypothesis, Source
from survey_tui.core.study import Study, StudyConfig
from survey_tui.core.yamlfile import write_text_atomic

REPORT_FILE = "preliminary_report.md"
NO_THEME = "其他 Other"

KIND_LABELS = {
    "government_statistics": "政府統計 government statistics",
    "industry_report": "產業報告 industry report",
    "academic": "學術 academic",
    "news": "新聞 news",
    "internal_data": "內部資料 internal data",
    "company_website": "企業網站 company website",
    "social_media": "社群 social media",
    "other": "其他 other",
}
RELIABILITY_LABELS = {"high": "高 high", "medium": "中 medium", "low": "低 low"}
STATUS_LABELS = {
    "draft": "草稿 draft",
    "submitted": "已送審 submitted",
    "approved": "已核准 approved",
    "changes_requested": "需修改 changes requested",
}


def cell(text: object) -> str:
    """Text safe inside a Markdown table cell (pipes escaped, no line breaks)."""
    return " ".join(str(text if text is not None else "").split()).replace("|", "\\|")


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def findings_by_theme(sources: list[Source]) -> dict[str, list[tuple[str, Source]]]:
    """Every finding under each of its themes (its own tags, else its source's), untagged ones last."""
    themes: dict[str, list[tuple[str, Source]]] = {}
    for source in sources:
        for finding in source.findings:
            for tag in finding.tags or source.tags or [NO_THEME]:
                themes.setdefault(tag, []).append((finding.text, source))
    if NO_THEME in themes:
        themes[NO_THEME] = themes.pop(NO_THEME)
    return themes


def _hypothesis_variables(h: Hypothesis) -> str:
    parts = [h.outcome + (f" (codes {', '.join(map(str, h.codes))})" if h.codes else "")]
    if h.by:
        parts.append(f"by {h.by}")
    if h.groups:
        parts.append("groups: " + "; ".join(f"{g.label} = {g.when}" for g in h.groups))
    if h.subset:
        parts.append(f"base: {h.subset}")
    return ", ".join(parts)


def build_preliminary_report(config: StudyConfig, today: date | None = None) -> str:
    """The report's Markdown text (pure: the caller decides where it goes)."""
    today = today or date.today()
    rf = config.report_format
    out: list[str] = []
    if not rf.approved:
        out += [
            "> **⚠ 報告格式尚未核准 — REPORT FORMAT NOT APPROVED**",
            f"> Status: {STATUS_LABELS[rf.status]}. This preliminary report follows a format the client has not",
            "> approved yet; do not circulate it as the agreed deliverable.",
            "",
        ]
    out += [f"# {config.title}", "", "初步研究報告 Preliminary research report", ""]
    meta = [f"- Client: {config.client}" if config.client else None, f"- Date: {today.isoformat()}"]
    out += [m for m in meta if m] + [""]

    out += ["## 1. 研究背景 Background", ""]
    bg = config.background
    out += [bg.context or config.description or "_(no background written yet)_", ""]
    out += ["**決策 Decision this study supports:** " + (bg.decision or "_(not stated yet)_"), ""]

    out += ["## 2. 次級資料來源 Sources", ""]
    if config.sources:
        rows = [
            [
                s.id,
                s.title,
                s.publisher,
                KIND_LABELS.get(s.kind, s.kind),
                s.accessed.isoformat() if s.accessed else "—",
                RELIABILITY_LABELS[s.reliability] + (f": {s.reliability_reason}" if s.reliability_reason else ""),
                s.url or "—",
            ]
            for s in config.sources
        ]
        out += _table(["ID", "Title", "Publisher", "Kind", "Accessed", "Reliability", "Where"], rows)
    else:
        out.append("_(no sources recorded yet)_")
    out.append("")

    out += ["## 3. 主要發現 Findings by theme", ""]
    themes = findings_by_theme(config.sources)
    if not themes:
        out += ["_(no findings recorded yet)_", ""]
    for theme, findings in themes.items():
        out += [f"### {theme}", ""]
        out += [f"- {finding} [{source.id}, {RELIABILITY_LABELS[source.reliability]}]" for finding, source in findings]
        out.append("")

    out += ["## 4. 研究方法與工具 Method and tools", ""]
    m = config.method
    modes = ", ".join(COLLECTION_MODES.get(mode, mode) for mode in m.modes) or "—"
    out += [
        f"- Approach: {m.approach}",
        f"- Collection mode: {modes}",
        f"- Target population: {m.target_population or '—'}",
        f"- Sampling: {m.sampling or '—'}",
        f"- Planned sample size: {m.sample_size if m.sample_size else '—'}",
    ]
    if m.sample_size:
        from survey_tui.core.plan.model import margin_for_sample_size

        population = m.population_size if m.population_size and m.population_size >= m.sample_size else None
        margin = margin_for_sample_size(m.sample_size, 0.95, 0.5, population)
        out.append(f"- Margin of error at 95% confidence (p = 0.5): ±{margin * 100:.1f} percentage points")
    out.append("")
    if m.timeline:
        rows = [
            [t.name, t.start.isoformat() if t.start else "—", t.end.isoformat() if t.end else "—"] for t in m.timeline
        ]
        out += ["**Timeline**", "", *_table(["Step", "Start", "End"], rows), ""]
    if m.tools:
        out += ["**Tools**", "", *_table(["Tool", "Why"], [[t.name, t.reason] for t in m.tools]), ""]

    out += ["## 5. 研究目的與假設 Objectives and hypotheses", ""]
    if not config.objectives:
        out += ["_(no objectives yet)_", ""]
    for o in config.objectives:
        out += [f"**{o.id}** {o.text}", ""]
        hyps = [h for h in config.hypotheses if h.objective == o.id]
        for h in hyps:
            out.append(
                f"- **{h.id}** {h.statement} — test: {TEST_LABELS[h.test]}"
                + (f" against {h.threshold:.0%}" if h.threshold is not None else "")
                + f"; expected: {h.expected_text()}; α = {h.alpha:g}; variables: {_hypothesis_variables(h)}"
            )
        if not hyps:
            out.append("- _(no hypothesis for this objective)_")
        out.append("")
    known = {o.id for o in config.objectives}
    orphans = [h for h in config.hypotheses if h.objective not in known]
    if orphans:
        out += ["**Hypotheses without a known objective**", ""]
        out += [f"- **{h.id}** {h.statement} (objective '{h.objective}')" for h in orphans] + [""]

    out += ["## 6. 報告格式 Report format and approval", ""]
    out += [
        f"- Template: {rf.template or '—'}",
        f"- Status: **{STATUS_LABELS[rf.status]}**",
    ]
    if rf.approved:
        out.append(f"- Approved by {rf.approved_by or '—'} on {rf.approved_on.isoformat() if rf.approved_on else '—'}")
    out.append("")
    if rf.sections:
        out += ["**Planned sections**", "", *[f"{i}. {s}" for i, s in enumerate(rf.sections, 1)], ""]
    if rf.history:
        rows = [[c.on.isoformat(), STATUS_LABELS[c.status], c.by, c.note] for c in rf.history]
        out += ["**History**", "", *_table(["Date", "Status", "By", "Note"], rows), ""]
    return "\n".join(out).rstrip() + "\n"


def write_preliminary_report(study: Study, today: date | None = None, path: Path | None = None) -> Path:
    """Write the report to `exports/` atomically; returns where it went."""
    target = path or study.exports_dir / REPORT_FILE
    write_text_atomic(target, build_preliminary_report(study.config, today))
    return target
