"""The report skeleton (T1.6, P1.6.1-P1.6.3): every section filled from the study, text left to write.

One `Report` (a list of sections made of headings, paragraphs, bullet lists, tables and placeholders) is
rendered both as Markdown and as Word (.docx, what clients receive), so the two never disagree. Facts
come from the plan (study.yaml), the store (versions, fieldwork dates, respondent statuses, quotas,
exclusions) and the analysis modules (planned tables with significance letters, hypothesis tests).
Whatever the study does not have yet is said in the section ("no quotas defined") instead of invented;
the researcher's own words go where a clearly marked placeholder stands. `build_bundle` zips the report,
tables, codebook and data (never contact data) for stakeholders.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from survey_tui.core.atomic import atomic_path
from survey_tui.core.instrument.model import label_text
from survey_tui.core.study import Study
from survey_tui.core.yamlfile import write_text_atomic
from survey_tui.i18n import N_

PLACEHOLDER = "✎ TO WRITE 待撰寫"
EXCLUDED_FILE = "report_excluded_interviews.csv"


@dataclass
class Block:
    kind: str  # heading | paragraph | bullets | table | placeholder | code | banner
    text: str = ""
    level: int = 2
    items: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    table: Any = None  # banner: the engine's StubTable (text is its markdown); frequency: a Frequency
    #: a paragraph that introduces what follows stays on its page (Word's keep with next)
    keep: bool = False


#: a list in the report shows at most this many rows; the whole list goes to a CSV beside it (`Report.files`)
MAX_LISTED = 12


@dataclass
class Report:
    title: str
    blocks: list[Block] = field(default_factory=list)
    author: str = ""
    language: str = "zh-TW"
    #: data files written beside the report: file name -> (header, rows). Lists that grow with the number
    #: of interviews live here, so the document stays the same size for 1,000 or 1,000,000 interviews.
    files: dict[str, tuple[list[str], list[list[str]]]] = field(default_factory=dict)
    #: what a client template is filled with besides the blocks (report/template.py): "tables" (id,
    #: objective, StubTable), "verdicts" (one dict per hypothesis), "interviews" (the analysed n)
    facts: dict[str, Any] = field(default_factory=dict)

    def heading(self, text: str, level: int = 2) -> None:
        self.blocks.append(Block("heading", text, level))

    def para(self, text: str) -> None:
        self.blocks.append(Block("paragraph", text))

    def bullets(self, items: list[str]) -> None:
        if items:
            self.blocks.append(Block("bullets", items=items))

    def table(self, header: list[str], rows: list[list[Any]]) -> None:
        self.blocks.append(Block("table", header=header, rows=[[_s(c) for c in r] for r in rows]))

    def todo(self, text: str) -> None:
        self.blocks.append(Block("placeholder", text))

    def missing(self, text: str) -> None:
        self.blocks.append(Block("paragraph", f"(Not available yet: {text})"))

    def headings(self) -> list[str]:
        return [b.text for b in self.blocks if b.kind == "heading"]


def _s(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 0.01 and value != 0 else f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


SECTIONS = (
    "1. Executive summary 摘要",
    "2. Background and desk research 背景與次級資料",
    "3. Objectives and hypotheses 研究目的與假設",
    "4. Method 研究方法",
    "5. Data quality 資料品質",
    "6. Sample profile 樣本結構",
    "7. Results by objective 各研究目的之結果",
    "8. Hypothesis verdicts 假設檢定結果",
    "9. Conclusions 結論",
    "10. Recommendations 建議",
    "Appendix A. Questionnaire 問卷",
    "Appendix B. Codebook 編碼簿",
)


def build_report(
    study: Study,
    language: str | None = None,
    today: date | None = None,
    progress: Callable[[str, float], None] | None = None,
    formats: tuple[str, ...] = (),
    charted: Callable[[Iterable[Any]], None] | None = None,
) -> Report:
    """The whole skeleton; each section degrades to a plain 'not available' note on its own.
    `progress(section title, fraction done)` is called before each section (tables take seconds).
    `formats` (md, docx, pptx) are what the report will be written as: their libraries load meanwhile.
    `charted(tables)` hears of the tables and frequencies that get a chart as soon as each is made."""
    cfg = study.config
    language = language or cfg.language
    report = Report(cfg.title, author=cfg.researcher or cfg.client, language=language)
    context = _Context(study, language, formats, charted)
    _cover(report, study, today or date.today())
    steps: list[tuple[str, Callable[[Report, _Context], None]]] = [
        (SECTIONS[0], lambda r, c: r.todo("The key findings and what the client should do, in one page (write last).")),
        (SECTIONS[1], _background),
        (SECTIONS[2], _objectives),
        (SECTIONS[3], _method),
        (SECTIONS[4], _quality),
        (SECTIONS[5], lambda r, c: (_profile(r, c), _key_frequencies(r, c))),
        (SECTIONS[6], _results),
        (SECTIONS[7], _hypotheses),
        (SECTIONS[8], lambda r, c: r.todo("Answer each objective in turn, citing the tables and verdicts above.")),
        (SECTIONS[9], lambda r, c: r.todo("What the client should do, for whom, and how to measure it.")),
        (SECTIONS[10], _questionnaire),
        (SECTIONS[11], _codebook),
    ]
    for done, (title, fill) in enumerate(steps):
        if progress is not None:
            progress(title, done / len(steps))
        report.heading(title)
        made = len(report.blocks)
        try:
            fill(report, context)
        except Exception as exc:  # noqa: BLE001 - one section failing must not lose the others
            report.missing(f"this section could not be filled ({type(exc).__name__}: {exc})")
        context.charted(_charted_tables(report.blocks[made:]))
    context.close()
    return report


class _Context:
    """Things several sections need, loaded once and lazily."""

    def __init__(
        self,
        study: Study,
        language: str,
        formats: tuple[str, ...] = (),
        charted: Callable[[Iterable[Any]], None] | None = None,
    ) -> None:
        self.study = study
        self.language = language
        self.charted = charted or (lambda tables: None)
        self._dataset: Any = None
        self._export: Any = None
        # The first open of a database not checked before reads all of it (SQLite's quick_check, seconds on
        # a large study, the GIL released): the libraries the report needs load in the meantime.
        warm = threading.Thread(target=_warm_up, args=(formats,), name="report-warm-up", daemon=True)
        warm.start()
        try:
            self.store = study.store()
        finally:
            warm.join()  # before anything else is imported here: no two threads import at once

    def close(self) -> None:
        self.store.close()

    @property
    def tab_plan(self) -> Any:
        """The study's tab plans (tabs/*.yaml, in file order), else its analysis_plan read as one."""
        from survey_tui.core.plan.tabplan import TabPlan, from_analysis_plan, read_tab_plan, tab_plan_files

        files = tab_plan_files(self.study.root)
        if not files:
            return from_analysis_plan(self.study.config.analysis_plan)
        plans = [read_tab_plan(f, self.study.relative(f)) for f in files]
        if len(plans) == 1:
            return plans[0]
        banners = {b.id: b for p in plans for b in p.banners}
        return TabPlan(
            title=plans[0].title,
            defaults=plans[0].defaults,
            banners=list(banners.values()),
            banner=plans[0].banner,
            tables=[t.model_copy(update={"banner": t.banner or p.banner}) for p in plans for t in p.tables],
        )

    @property
    def dataset(self) -> Any:
        if self._dataset is None:
            from survey_tui.analysis.dataset import load_dataset

            try:
                self._dataset = load_dataset(self.study, store=self.store)
            except ModuleNotFoundError:
                self._dataset = load_dataset(self.study, store=self.store, include_coded=False)
        return self._dataset

    @property
    def export(self) -> Any:
        if self._export is None:
            from survey_tui.io.meta import from_dataset

            self._export = from_dataset(self.dataset, self.study.config.title)
        return self._export


#: what every report imports (the analysis, and polars, numpy and scipy.special under it), and what Word adds
_REPORT_MODULES = (
    "survey_tui.analysis.dataset",
    "survey_tui.analysis.tables",
    "survey_tui.analysis.tabplan",
    "survey_tui.analysis.hypotheses",
    "survey_tui.analysis.quality",
    "survey_tui.io.meta",
)
#: matplotlib's drawing modules are not among them: a report whose charts are all in the cache never needs
#: them, and they are a fifth of a second (`drawn_ahead` imports them when there is something to draw)
_WORD_MODULES = ("docx", "survey_tui.report.word", "survey_tui.report.charts", "matplotlib.font_manager")


def _warm_up(formats: tuple[str, ...]) -> None:
    """Import the modules the report will use and find the charts' font (matplotlib builds its list of
    the machine's fonts on first use, half a second): time otherwise spent later, waiting for nothing."""
    import importlib

    try:
        for name in _REPORT_MODULES:
            importlib.import_module(name)
        if "docx" in formats or "pptx" in formats:
            for name in _WORD_MODULES:
                importlib.import_module(name)
            from survey_tui.report.charts import cjk_font

            cjk_font()
    except Exception:  # noqa: BLE001, S110 - only a head start: the report imports them again and says what fails
        pass


def _cover(report: Report, study: Study, today: date) -> None:
    cfg = study.config
    fmt = cfg.report_format
    report.heading(cfg.title, 1)
    rows = [
        ["Client 委託單位", cfg.client or "—"],
        ["Date 日期", today.isoformat()],
        ["Report format 報告格式", fmt.template or "—"],
        [
            "Format approval 格式核准",
            fmt.status
            + (f" by {fmt.approved_by}" if fmt.approved_by else "")
            + (f" on {fmt.approved_on}" if fmt.approved_on else ""),
        ],
    ]
    report.table(["", ""], rows)
    if not fmt.approved:
        report.para(f"⚠ The report format is {fmt.status}, not approved by the client yet.")


def _background(report: Report, c: _Context) -> None:
    cfg = c.study.config
    if cfg.background.context or cfg.description:
        report.para(cfg.background.context or cfg.description)
    if cfg.background.decision:
        report.para(f"Decision supported 支援之決策: {cfg.background.decision}")
    if not cfg.sources:
        report.missing("no desk-research sources in study.yaml (sources:)")
    else:
        report.table(
            ["Source 來源", "Publisher", "Kind", "Reliability 可信度", "Findings 發現"],
            [[s.title, s.publisher, s.kind, s.reliability, "; ".join(f.text for f in s.findings)] for s in cfg.sources],
        )
    report.todo("What the desk research already answers, and the gap this survey fills.")


def _objectives(report: Report, c: _Context) -> None:
    cfg = c.study.config
    if not cfg.objectives:
        report.missing("no objectives in study.yaml (objectives:)")
    report.bullets([f"**{o.id}** {o.text}" for o in cfg.objectives])
    if cfg.hypotheses:
        report.table(
            ["Hypothesis 假設", "Objective", "Statement", "Test", "Expected"],
            [[h.id, h.objective, h.statement, str(h.test), h.expected_text()] for h in cfg.hypotheses],
        )
    else:
        report.missing("no hypotheses in study.yaml (hypotheses:)")


def _method(report: Report, c: _Context) -> None:
    from survey_tui.core.plan.model import COLLECTION_MODES

    cfg, store = c.study.config, c.store
    m = cfg.method
    report.bullets(
        [
            f"Approach 研究取向: {m.approach}",
            "Mode 調查方式: " + (", ".join(COLLECTION_MODES.get(x, x) for x in m.modes) or "—"),
            f"Target population 母體: {m.target_population or '—'}",
            f"Sample design 抽樣設計: {m.sampling or '—'}; planned sample size 預計樣本數: {m.sample_size or '—'}",
        ]
    )
    report.heading("Instrument versions 問卷版本", 3)
    versions = store.versions()
    if versions:
        report.table(
            ["Instrument", "Version", "Published", "Note"],
            [[v.instrument_id, f"v{v.version}", v.published_at[:10], v.note or ""] for v in versions],
        )
    else:
        report.missing("no instrument has been published")
    report.heading("Changes after the pilot 試訪後修改", 3)
    try:
        from survey_tui.core.instrument.versions import changes_after_pilot

        ids = sorted({v.instrument_id for v in versions})
        diffs = [(i, changes_after_pilot(c.study, i)) for i in ids]
        if not any(d for _, d in diffs):
            report.para("No pilot interviews were followed by a new version (no changes after pilot to report).")
        for _, diff in diffs:
            if diff is not None:
                report.bullets(diff.lines() or [f"No changes between {diff.old_label} and {diff.new_label}."])
    except ModuleNotFoundError:
        report.missing("the version comparison module is not installed")
    report.heading("Fieldwork 執行期間", 3)
    rows = store.query(
        "SELECT mode, MIN(started_at), MAX(COALESCE(ended_at, started_at)), COUNT(*),"
        " SUM(CASE WHEN outcome = 'complete' THEN 1 ELSE 0 END) FROM interviews GROUP BY mode ORDER BY mode"
    )
    if rows:
        report.table(
            ["Mode", "First 開始", "Last 結束", "Interviews 訪問數", "Completes 完訪數"],
            [[r[0], (r[1] or "")[:10], (r[2] or "")[:10], r[3], r[4] or 0] for r in rows],
        )
    else:
        report.missing("no interviews yet")
    report.heading("Quotas achieved 配額達成", 3)
    if cfg.quotas:
        from survey_tui.core.fieldwork.quotas import quota_counts

        cells = quota_counts(store, cfg.quotas)
        report.table(
            ["Quota", "Cell", "Target 目標", "Completes 完成", "Achieved 達成率"],
            [
                [
                    q.quota,
                    " × ".join(q.cell),
                    q.target,
                    q.completes,
                    f"{100 * q.completes / q.target:.0f}%" if q.target else "—",
                ]
                for q in cells
            ],
        )
    else:
        report.missing("no quotas defined in study.yaml (quotas:)")
    report.heading("Response and cooperation rates 回應率與合作率", 3)
    _rates(report, store, c.study)
    report.heading("Back-checks 複查", 3)
    _backchecks(report, store, c.study)
    report.todo("Describe anything in fieldwork that affects how the results should be read.")


#: the rate families the report prints, each with its heading
_RATE_FAMILIES = (
    ("Response rates 回應率 (AAPOR RR1–RR6)", ("RR1", "RR2", "RR3", "RR4", "RR5", "RR6")),
    ("Cooperation rates 合作率 (AAPOR COOP1–COOP4)", ("COOP1", "COOP2", "COOP3", "COOP4")),
    ("Refusal rates 拒訪率 (AAPOR REF1–REF3)", ("REF1", "REF2", "REF3")),
    ("Contact rates 接觸率 (AAPOR CON1–CON3)", ("CON1", "CON2", "CON3")),
)


def _rates(report: Report, store: Any, study: Study | None = None) -> None:
    """AAPOR Standard Definitions rates by name, each with its formula, numerator and denominator."""
    from survey_tui.core.fieldwork import rates
    from survey_tui.core.fieldwork.dispositions import GROUP_LABELS, settings_of

    settings = settings_of(study.config) if study is not None else None
    table = rates.overall(store, settings)
    if not table.cases:
        report.missing("no respondent list (T1.3), so there are no case dispositions to compute AAPOR rates from")
        return
    report.para(
        f"Final dispositions of all {table.cases} cases, by AAPOR Standard Definitions group; a case never called "
        "counts as 3.11 (not attempted). e, the share of unknown-eligibility cases estimated to be eligible, is "
        f"{table.e:.4f} by {table.e_method}."
    )
    report.table(
        ["Group 類別", "AAPOR", "Cases 件數"],
        [[g, GROUP_LABELS[g], table.counts[g]] for g in table.counts],
    )
    for heading, names in _RATE_FAMILIES:
        report.para(f"**{heading}**")
        rows = []
        for name in names:
            rate = table.rates[name]
            value = "—" if rate.value is None else f"{100 * rate.value:.1f}%"
            num, den = rates._n(rate.numerator), rates._n(rate.denominator)
            rows.append([name, rate.formula, num, den, value])
        report.table(["Rate 指標", "Formula 公式", "Numerator 分子", "Denominator 分母", "Value 數值"], rows)
    report.bullets(
        [
            f"Response rate: {table.rates['RR1'].text()}; with e: {table.rates['RR3'].text()}",
            f"Cooperation rate: {table.rates['COOP1'].text()}",
        ]
    )


def _backchecks(report: Report, store: Any, study: Study) -> None:
    """The back-check sample (seed, share) and its results per interviewer, with the flagged ones."""
    from survey_tui.core.fieldwork import backchecks
    from survey_tui.core.fieldwork.dispositions import settings_of

    samples = backchecks.samples(store)
    if not samples:
        report.missing("no back-check sample has been drawn (survey-tui fieldwork backcheck draw)")
        return
    settings = settings_of(study.config).backcheck
    report.para(
        "A random sample of each interviewer's completed interviews was called back to confirm the interview "
        "took place (ISO 20252). Each draw's seed is stored, so the sample can be drawn again identically."
    )
    report.table(
        ["Sample 樣本", "Drawn 抽出日", "Seed 種子", "Share 比例", "Interviews 訪問數"],
        [[f"#{r[0]}", str(r[1])[:10], r[2], f"{100 * float(r[3]):.0f}%", r[4]] for r in samples],
    )
    rows = []
    for r in backchecks.summary(store, settings.failure_threshold):
        rate = "—" if r.failure_rate is None else f"{100 * r.failure_rate:.0f}%"
        share = "—" if r.sampled_share is None else f"{100 * r.sampled_share:.0f}%"
        flag = " flagged" if r.flagged else ""
        rows.append(
            [
                r.interviewer,
                r.completes,
                f"{r.sampled} ({share})",
                f"{r.confirmed} / {r.not_confirmed}",
                f"{r.not_reached} / {r.pending}",
                rate + flag,
            ]
        )
    report.table(
        [
            "Interviewer 訪員",
            "Completes 完訪",
            "Sampled 抽查",
            "Confirmed / not 確認/否認",
            "Unreached / pending 未聯絡/待查",
            "Failure 失敗率",
        ],
        rows,
    )
    report.para(
        f"Failure rate = not confirmed / (confirmed + not confirmed); 'flagged' marks an interviewer above "
        f"{100 * settings.failure_threshold:.0f}%."
    )


def _quality(report: Report, c: _Context) -> None:
    from survey_tui.analysis.quality import latest_decisions

    decisions = latest_decisions(c.store)
    excluded = {i: reason for i, (d, reason) in decisions.items() if d == "exclude"}
    n = c.dataset.n
    report.facts["interviews"] = n
    report.para(f"{n} completed field interviews are analysed; {len(excluded)} were excluded in the quality review.")
    if excluded:
        by_reason = Counter(excluded.values()).most_common()
        shown = by_reason[:MAX_LISTED]
        rest = by_reason[MAX_LISTED:]
        rows: list[list[Any]] = [[reason, count] for reason, count in shown]
        if rest:
            rows.append([f"{len(rest)} other reasons 其他原因", sum(count for _, count in rest)])
        report.table(["Reason 原因", "Interviews 訪問數"], rows)
        report.files[EXCLUDED_FILE] = (["interview_id", "reason"], [[str(i), r] for i, r in sorted(excluded.items())])
        report.para(f"Every excluded interview with its reason: {EXCLUDED_FILE}, beside this report.")
    report.todo("Say how the checks (speeding, straight-lining, don't-know rates, duplicates) were applied.")


def _profile(report: Report, c: _Context) -> None:
    from survey_tui.analysis.tables import TableOptions, frequencies

    instrument = c.dataset.instrument
    sections = [instrument.sections[0], instrument.sections[-1]] if len(instrument.sections) > 1 else []
    names = [q.name for s in sections for q in s.questions if q.type in ("single", "scale")]
    names = [n for n in names if n in c.dataset.variables]
    if not names:
        report.missing("no screener or demographic single-choice questions to profile")
        return
    options = TableOptions(language=c.language, weight=c.dataset.weight)
    for freq in frequencies(c.dataset, names, options):
        report.heading(freq.title, 3)
        report.table(FREQUENCY_HEADER, frequency_rows(freq))
        report.para(frequency_base(freq, options.weight is not None))


FREQUENCY_HEADER = ["Code", "Label", "n", "%", "Valid % 有效百分比"]
KEY_FREQUENCIES = "Key frequencies 主要次數分配"


def frequency_rows(freq: Any) -> list[list[str]]:
    return [
        [
            "" if r.code is None else str(r.code),
            r.label,
            f"{r.count:.0f}",
            f"{r.percent:.1f}",
            "—" if r.valid_percent is None else f"{r.valid_percent:.1f}",
        ]
        for r in freq.rows
    ]


def frequency_base(freq: Any, weighted: bool) -> str:
    return f"Base 樣本數: {freq.valid:.0f} of {freq.total:.0f} ({'weighted' if weighted else 'unweighted'})."


def key_frequency_names(study: Study, instruments: Any = None) -> list[str]:
    """The questions whose frequencies are charted: `report.key_frequencies`, else the categorical
    outcomes the hypotheses name (a multi-choice column stands for its question), in plan order."""
    cfg = study.config
    if cfg.report.key_frequencies:
        return list(cfg.report.key_frequencies)
    from survey_tui.core.plan.model import CATEGORICAL, instrument_variables

    if instruments is None:
        instruments, _ = study.load_instruments()
    variables = instrument_variables(instruments.values())
    names: list[str] = []
    for h in cfg.hypotheses:
        var = variables.get(h.outcome)
        if var is not None and var.kind in CATEGORICAL:
            name = var.question if var.kind == "multi_column" else var.name
            if name not in names:
                names.append(name)
    return names


def _key_frequencies(report: Report, c: _Context) -> None:
    """Each key frequency: its table, its chart (in Word) and its base."""
    from survey_tui.analysis.tables import TableOptions, frequencies

    names = key_frequency_names(c.study)
    if not names:
        return
    report.heading(KEY_FREQUENCIES, 3)
    options = TableOptions(language=c.language, weight=c.dataset.weight)
    weighted = options.weight is not None
    for freq in frequencies(c.dataset, names, options):
        lines = [f"#### {freq.title}", "", "| " + " | ".join(FREQUENCY_HEADER) + " |", "|" + "---|" * 5]
        lines += ["| " + " | ".join(_md_cell(x) for x in row) + " |" for row in frequency_rows(freq)]
        base = frequency_base(freq, weighted)
        lines += ["", base]
        report.blocks.append(Block("frequency", "\n".join(lines), items=[base], table=freq))


def _results(report: Report, c: _Context) -> None:
    cfg = c.study.config
    if not cfg.objectives:
        report.missing("no objectives in study.yaml")
        return
    from survey_tui.analysis.tables import table_markdown
    from survey_tui.analysis.tabplan import run_table

    plan = c.tab_plan
    for objective in cfg.objectives:
        report.heading(f"{objective.id} {objective.text}", 3)
        planned = [t for t in plan.tables if t.objective == objective.id]
        if not planned:
            report.missing(f"no table planned for {objective.id} (tabs/*.yaml or analysis_plan.tables)")
        for t in planned:
            tables = run_table(plan, t, c.dataset, c.language)
            title = label_text(t.title, c.language, "en") or ", ".join(t.stub)
            report.blocks.append(Block("paragraph", f"Table {t.id}: {title}", keep=True))
            for table in tables:
                report.blocks.append(Block("banner", table_markdown(table, c.language), table=table))
                report.facts.setdefault("tables", []).append({"id": t.id, "objective": objective.id, "table": table})
            c.charted(tables)  # drawn while the next tables are run
        report.todo(f"What these tables say about {objective.id}.")


def _hypotheses(report: Report, c: _Context) -> None:
    cfg = c.study.config
    if not cfg.hypotheses:
        report.missing("no hypotheses in study.yaml")
        return
    from survey_tui.analysis.hypotheses import evaluate_all

    results = evaluate_all(c.dataset, cfg.hypotheses)
    objective_of = {h.id: h.objective for h in cfg.hypotheses}
    report.facts["verdicts"] = [
        {
            "id": r.id,
            "objective": objective_of.get(r.id, ""),
            "statement": r.statement,
            "test": r.test,
            "expected": next((h.expected_text() for h in cfg.hypotheses if h.id == r.id), ""),
            "statistic": f"{r.statistic_name} = {_s(r.statistic)}" + (f" (df {_s(r.df)})" if r.df else ""),
            "p_value": f"{_s(r.p_value)} ({r.sided})" if r.p_value is not None else "—",
            "effect": f"{r.effect_name} = {_s(r.effect_size)}" if r.effect_size is not None else "—",
            "base": r.base,
            "verdict": r.verdict,
            "explanation": r.explanation,
        }
        for r in results
    ]
    report.table(
        ["Hypothesis", "Test", "Statistic", "p (sides)", "Effect", "Base n", "Verdict 結論"],
        [
            [
                r.id,
                r.test,
                f"{r.statistic_name} = {_s(r.statistic)}" + (f" (df {_s(r.df)})" if r.df else ""),
                f"{_s(r.p_value)} ({r.sided})" if r.p_value is not None else "—",
                f"{r.effect_name} = {_s(r.effect_size)}" if r.effect_size is not None else "—",
                r.base,
                r.verdict,
            ]
            for r in results
        ],
    )
    report.bullets([f"**{r.id}** {r.statement}: {r.explanation}" for r in results])


def _questionnaire(report: Report, c: _Context) -> None:
    instruments, _ = c.study.load_instruments()
    if not instruments:
        report.missing("no instrument")
    for instrument in instruments.values():
        for lang in instrument.languages:
            report.heading(f"{label_text(instrument.title, lang) or instrument.id} ({lang})", 3)
            items = []
            for q in instrument.questions:
                text = label_text(q.label, lang, "en")
                line = f"**{q.name}** [{q.type}] {text}"
                if q.choice_options:
                    line += " — " + "; ".join(
                        f"{ch.code} {label_text(ch.label, lang, 'en')}" for ch in q.choice_options
                    )
                if q.items:
                    line += " — items: " + "; ".join(label_text(i.label, lang, "en") for i in q.items)
                items.append(line)
            report.bullets(items)


def _codebook(report: Report, c: _Context) -> None:
    data = c.export
    report.para(
        "The full codebook (values, missing codes, relevance per variable) is in the export folder "
        "(`*_codebook.md` / `.html`); the variables are:"
    )
    report.table(
        ["Variable", "Label", "Type", "Measure", "Missing codes"],
        [
            [
                v.name,
                v.label_in(c.language),
                v.kind,
                v.measure,
                ", ".join(f"{k}={n}" for k, n in sorted(v.missing.items())),
            ]
            for v in data.variables
        ],
    )


# -- rendering -------------------------------------------------------------------------------------
def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: Report) -> str:
    out: list[str] = []
    for b in report.blocks:
        if b.kind == "heading":
            out += ["#" * b.level + " " + b.text, ""]
        elif b.kind == "paragraph":
            out += [b.text, ""]
        elif b.kind == "placeholder":
            out += [f"> **[{PLACEHOLDER}]** {b.text}", ""]
        elif b.kind == "bullets":
            out += [f"- {item}" for item in b.items] + [""]
        elif b.kind in ("code", "banner"):
            out += [b.text.replace("### ", "#### ", 1), ""]
        elif b.kind == "frequency":
            out += [b.text, ""]
        elif b.kind == "table":
            header = b.header if any(b.header) else [" "] * len(b.header)
            out.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
            out.append("|" + "---|" * len(header))
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
            out.append("")
    return "\n".join(out)


def write_docx(report: Report, path: Path, paper: str = "A4", charts: bool = True) -> list[str]:
    """The report in Word: A4 (or Letter), zh-TW fonts, fitted tables, banner tables from the engine with
    their charts. Returns notes for the user (why there are no charts)."""
    from docx import Document

    from survey_tui.report import word

    doc = Document()
    word.setup_document(doc, paper, report.title, report.author)
    notes = fill_document(doc, report, charts)
    with atomic_path(path) as tmp:
        doc.save(str(tmp))
    return notes


def fill_document(doc: Any, report: Report, charts: bool = True) -> list[str]:
    """Write the report's blocks into `doc` (a python-docx Document, or a docxtpl sub-document of a
    client's template, whose styles it then uses). Returns notes for the user."""
    notes: list[str] = []
    if charts:
        from survey_tui.report.charts import chart_problem

        problem = chart_problem([b.table for b in report.blocks if b.kind in ("banner", "frequency")])
        if problem:
            notes.append(problem)
            charts = False
    with contextlib.ExitStack() as stack:
        if charts:  # drawn by worker processes while the document is written (where this machine allows)
            from survey_tui.report.charts import drawn_ahead

            stack.enter_context(drawn_ahead(_charted_tables(report.blocks)))
        _fill_blocks(doc, report, charts)
    return notes


def _fill_blocks(doc: Any, report: Report, charts: bool) -> None:
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_COLOR_INDEX

    from survey_tui.report import word

    landscape = False
    for b, wide in zip(report.blocks, _orientations(doc, report), strict=True):
        if wide is not None and wide != landscape:
            word.set_orientation(doc.add_section(WD_SECTION.NEW_PAGE), wide)
            landscape = wide
        if b.kind == "heading":
            word.add_heading(doc, b.text, level=min(b.level - 1, 3) if b.level > 1 else 0)
        elif b.kind == "paragraph":
            paragraph = doc.add_paragraph()
            _rich(paragraph, b.text)
            paragraph.paragraph_format.keep_with_next = b.keep or None
        elif b.kind == "placeholder":
            p = doc.add_paragraph()
            run = p.add_run(f"[{PLACEHOLDER}] ")
            run.bold = True
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
            note = p.add_run(b.text)
            note.italic = True
            note.font.highlight_color = WD_COLOR_INDEX.YELLOW
        elif b.kind == "bullets":
            for item in b.items:
                _rich(word.add_paragraph(doc, "List Bullet"), item)
        elif b.kind == "banner":
            _banner_table(doc, b.table, report.language, charts)
        elif b.kind == "frequency":
            frequency_block(doc, b.table, b.items[0] if b.items else "", charts)
        elif b.kind == "code":
            _markdown_table(doc, b.text)
        elif b.kind == "table":
            _table(doc, b.header, b.rows)


def frequency_block(doc: Any, freq: Any, base: str, chart: bool = True) -> None:
    """A key frequency: its title, its chart, its table and its base, kept together."""
    from docx.shared import Pt

    title = doc.add_paragraph()
    title.add_run(freq.title).bold = True
    title.paragraph_format.keep_with_next = True
    if chart:
        from survey_tui.report.charts import chart_png

        png = chart_png(freq)
        if png is not None:
            _picture(doc, png)
    _table(doc, FREQUENCY_HEADER, frequency_rows(freq))
    note = doc.add_paragraph()
    run = note.add_run(base)
    run.italic = True
    run.font.size = Pt(TABLE_FONT)


def _orientations(doc: Any, report: Report) -> list[bool | None]:
    """Per block: landscape (True), portrait (False) or as the page before (None). A wide banner table
    turns the page; the headings and notes just before it come along, and a section heading turns back."""
    wants: list[bool | None] = []
    for b in report.blocks:
        if b.kind == "banner":
            wants.append(True if _banner_is_wide(doc, b.table, report.language) else None)
        else:
            wants.append(None)
    carry: bool | None = None
    for i in reversed(range(len(wants))):
        b = report.blocks[i]
        if wants[i] is None and carry:
            wants[i] = True
        carry = wants[i]
        if b.kind == "heading" and b.level <= 2:
            if wants[i] is None:
                wants[i] = False
            carry = None
    return wants


def _rich(paragraph: Any, text: str) -> None:
    """**bold** spans as bold runs; everything else as plain text."""
    for i, part in enumerate(text.split("**")):
        if part:
            paragraph.add_run(part).bold = i % 2 == 1


#: body tables' font size (pt), and the smaller sizes tried before a table breaks words
TABLE_FONT = 9.0
BANNER_FONTS = (8.0, 7.0)


def _table(doc: Any, header: list[str], rows: list[list[str]]) -> None:
    """A plain table: widths fitted to its content, header repeated, rows kept whole. Row by row through
    `add_row().cells`: `table.cell(r, c)` rebuilds the list of every cell on each call, so a table written
    cell by cell takes time quadratic in its rows (1,000 rows: 49 s against 0.14 s)."""
    from docx.shared import Pt

    from survey_tui.report import word

    has_header = any(header)
    ncols = len(header) or 1
    columns = [[r[i] if i < len(r) else "" for r in ([header] if has_header else []) + rows] for i in range(ncols)]
    total = word.text_width(doc.sections[-1])
    widths = word.fit_widths(columns, total, TABLE_FONT)
    table = word.new_table(doc, widths)
    size = Pt(TABLE_FONT)
    runs: dict[bool, Any] = {}  # bold -> an empty run in the table's font, copied into each cell
    for r, row in enumerate(([header] if has_header else []) + rows):
        bold = has_header and r == 0
        cells = word.add_row(table, widths, header=bold)
        for cell, text in zip(cells, row, strict=False):
            proto = runs.get(bold)
            if proto is None:
                run = cell.paragraphs[0].add_run()
                run.font.size = size
                run.bold = bold
                runs[bold] = copy.deepcopy(run._r)
                r_el = run._r
            else:
                r_el = copy.deepcopy(proto)
                cell._tc.p_lst[0].append(r_el)
            if text:
                word.set_run_text(r_el, text)


def _banner_cells(table: Any, language: str) -> tuple[list[str], list[list[str]]]:
    """(header labels, body texts) of a StubTable, as the Word table shows them (for fitting widths)."""
    from survey_tui.analysis.tables import base_rows, value_text

    head = [""] + [f"{c.label} ({c.letter})" if c.letter else c.label for c in table.columns]
    body = [[label, *cells] for label, cells in base_rows(table, language)]
    body += [[row.label, *(value_text(row, i) for i in range(len(table.columns)))] for row in table.rows]
    return head, body


def _banner_columns(table: Any, language: str) -> list[list[str]]:
    """Per column, the pieces that must not break: labels, and values (letters go on a line of their own)."""
    head, body = _banner_cells(table, language)
    columns = [[head[i]] + [r[i] for r in body] for i in range(len(head))]
    return [[t.replace(" ", "\n", 1) if i else t for t in col] for i, col in enumerate(columns)]


def _banner_natural(columns: list[list[str]]) -> list[int]:
    """Natural widths: the stub as long as its labels (up to 30 cells); a banner column as wide as its
    numbers, or its label up to 12 cells (a long label wraps into a few lines, not a column of characters)."""
    from rich.cells import cell_len

    from survey_tui.report.word import min_cells

    def widest(texts: list[str], cap: int = 80) -> int:
        return max((min(cell_len(x), cap) for t in texts for x in t.splitlines() or [""]), default=1)

    rest = [max(widest(col[1:]), widest(col[:1], 12), min_cells(col[0])) for col in columns[1:]]
    return [widest(columns[0], 30), *rest]


def _banner_is_wide(doc: Any, table: Any, language: str) -> bool:
    """A banner table that cannot keep its words whole on a portrait page goes on a landscape one."""
    from survey_tui.report import word

    section = doc.sections[-1]
    portrait = min(section.page_width, section.page_height) - section.left_margin - section.right_margin
    columns = _banner_columns(table, language)
    return len(columns) > WIDE_COLUMNS or not word.fits(columns, int(portrait), BANNER_FONTS[-1], _BANNER_PADDING)


#: banner tables with more columns than this (stub included) go on landscape pages, so their labels
#: wrap into a few lines rather than a column of single characters
WIDE_COLUMNS = 10


#: banner tables use narrow cell padding (twips each side) to fit their many columns
_BANNER_PAD_TWIPS = 40
_BANNER_PADDING = 2 * _BANNER_PAD_TWIPS * 635


def _banner_table(doc: Any, table: Any, language: str, chart: bool = True) -> None:
    """A banner table from the engine's StubTable: part bands, labels with letters, bases, % with the
    letters on a line beneath, and the footnote; header rows repeat on every page."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor
    from docx.text.paragraph import Paragraph

    from survey_tui.analysis.tables import base_rows, value_text
    from survey_tui.report import word

    title = doc.add_paragraph()
    title.add_run(table.title).bold = True
    title.paragraph_format.keep_with_next = True
    if chart:
        from survey_tui.report.charts import chart_png

        png = chart_png(table)
        if png is not None:
            _picture(doc, png)
    columns = _banner_columns(table, language)
    total = word.text_width(doc.sections[-1])
    font = next((f for f in BANNER_FONTS if word.fits(columns, total, f, _BANNER_PADDING)), BANNER_FONTS[-1])
    widths = word.fit_widths(columns, total, font, _BANNER_PADDING, _banner_natural(columns))
    out = word.new_table(doc, widths)
    word.set_cell_margins(out, _BANNER_PAD_TWIPS)
    size = Pt(font)
    red = RGBColor(0xC0, 0x00, 0x00)

    # (bold, alignment) -> a cell's paragraph so aligned, holding one empty run in the table's font: copied
    # whole into each cell rather than formatted there (python-docx's element-by-element work per cell)
    formats: dict[tuple[bool, Any], Any] = {}

    def put(cell: Any, text: str, bold: bool = False, align: Any = WD_ALIGN_PARAGRAPH.CENTER) -> Any:
        paragraph = cell.paragraphs[0]
        proto = formats.get((bold, align))
        if proto is None:
            paragraph.alignment = align
            run = paragraph.add_run()
            run.font.size = size
            run.bold = bold
            formats[bold, align] = copy.deepcopy(paragraph._p)
        else:
            p = copy.deepcopy(proto)
            cell._tc.replace(paragraph._p, p)
            paragraph = Paragraph(p, cell)
        if text:
            word.set_run_text(paragraph._p.r_lst[-1], text)
        return paragraph

    parts = [c.part_label or c.part for c in table.columns]
    if any(parts):
        cells = word.add_row(out, widths, header=True)
        start = 0
        while start < len(parts):
            end = start
            while end + 1 < len(parts) and parts[end + 1] == parts[start]:
                end += 1
            cell = cells[1 + start] if end == start else cells[1 + start].merge(cells[1 + end])
            put(cell, parts[start] or "", bold=True)
            start = end + 1
    cells = word.add_row(out, widths, header=True)
    for cell, column in zip(cells[1:], table.columns, strict=True):
        paragraph = put(cell, column.label, bold=True)
        if column.letter:
            paragraph.add_run(f" ({column.letter})").font.size = size
    for label, values in base_rows(table, language):
        cells = word.add_row(out, widths)
        put(cells[0], label, bold=True, align=WD_ALIGN_PARAGRAPH.LEFT)
        for cell, text in zip(cells[1:], values, strict=True):
            put(cell, text, bold=True)
    marks: list[Any] = []
    for row in table.rows:
        cells = word.add_row(out, widths)
        put(cells[0], row.label, align=WD_ALIGN_PARAGRAPH.LEFT)
        for i, cell in enumerate(cells[1:]):
            text = value_text(row, i)
            letters = row.letters[i]
            number = text[: -len(letters)].rstrip() if letters and text.endswith(letters) else text
            paragraph = put(cell, number)
            if letters:
                if not marks:  # a line break, then the letters in bold red: made once, copied after
                    paragraph.add_run().add_break()
                    mark = paragraph.add_run()
                    mark.font.size = size
                    mark.bold = True
                    mark.font.color.rgb = red
                    marks.extend(copy.deepcopy(r) for r in paragraph._p.r_lst[-2:])
                    mark_r = mark._r
                else:
                    paragraph._p.append(copy.deepcopy(marks[0]))
                    mark_r = copy.deepcopy(marks[1])
                    paragraph._p.append(mark_r)
                word.set_run_text(mark_r, letters)
    for line in table.footnote(language):
        note = doc.add_paragraph()
        run = note.add_run(line)
        run.italic = True
        run.font.size = Pt(font)
        note.paragraph_format.space_after = Pt(0)
    doc.add_paragraph()


#: a chart's width, and its greatest height as a share of the text height: on a landscape page a full-size
#: chart with the title and headings before it leaves no room for the table's header rows, and Word and
#: LibreOffice then break the keep-with-next chain, leaving a page with only the headings
CHART_WIDTH_CM = 15.0
CHART_HEIGHT_SHARE = 0.5


def _picture(doc: Any, png: bytes) -> None:
    """The chart, as wide as `CHART_WIDTH_CM` unless that makes it taller than half the text height; kept
    with the table after it."""
    import struct

    from docx.shared import Cm

    from survey_tui.report import word

    section = doc.sections[-1]
    room = int(section.page_height - section.top_margin - section.bottom_margin)
    px_w, px_h = struct.unpack(">II", png[16:24])  # the PNG header (IHDR) holds width and height
    width = min(int(Cm(CHART_WIDTH_CM)), int(room * CHART_HEIGHT_SHARE * px_w / px_h), word.text_width(section))
    doc.add_picture(io.BytesIO(png), width=width)
    doc.paragraphs[-1].paragraph_format.keep_with_next = True


def _markdown_table(doc: Any, text: str) -> None:
    """A table given only as markdown (kept for blocks made outside the engine) as a Word table."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("### "):
            doc.add_paragraph(line[4:]).runs[0].bold = True
        elif line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip().replace("\\|", "|").replace("**", "") for cell in line.strip("|").split(" | ")])
        elif line.strip() and not line.startswith("|"):
            if rows:
                _table(doc, rows[0], rows[1:])
                rows = []
            doc.add_paragraph(line)
    if rows:
        _table(doc, rows[0], rows[1:])


# -- files -------------------------------------------------------------------------------------------
def write_report(
    study: Study,
    formats: tuple[str, ...] = ("md", "docx"),
    language: str | None = None,
    paper: str = "A4",
    notes: list[str] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> list[Path]:
    """The report files; `notes` collects what the user should know (e.g. why there are no charts).
    `progress(what, fraction)` hears of each section being filled (0–0.7) and each file being written.
    A client template with a mistake raises TemplateError before any file is written."""
    if "docx" in formats and study.config.report.template:
        from survey_tui.core.plan.report_template import TemplateError, template_problems

        problems = template_problems(study.root / study.config.report.template, study.config.report.template)
        if problems:
            raise TemplateError(problems[0])
    say = progress or (lambda text, fraction: None)
    ahead: list[Any] = []  # the charts' workers, made at the first table charted (after the store's check)

    def charted(tables: Iterable[Any]) -> None:
        if not ahead:
            from survey_tui.report.charts import ChartsAhead

            ahead.append(ChartsAhead())
        ahead[0].add(tables)

    try:
        report = build_report(
            study,
            language,
            progress=lambda title, f: say(title, 0.7 * f),
            formats=formats,
            charted=charted if "docx" in formats or "pptx" in formats else None,
        )
        paths = _write_files(study, report, formats, paper, notes, say)
    finally:
        if ahead:
            ahead[0].close()
    for name, (header, rows) in report.files.items():
        path = study.exports_dir / name
        write_text_atomic(path, _csv_text(header, rows))
        paths.append(path)
    stale = study.exports_dir / EXCLUDED_FILE
    if EXCLUDED_FILE not in report.files and stale.exists():  # no exclusions now: an old list would mislead
        from survey_tui.core.store.check_behind import confirm_clean

        confirm_clean()  # decided from the data: not before the database is found clean
        stale.unlink()
    return paths


def _charted_tables(blocks: list[Block]) -> list[Any]:
    """The tables and frequencies among `blocks` that a document shows with a chart."""
    return [b.table for b in blocks if b.kind in ("banner", "frequency") and b.table is not None]


def _write_files(
    study: Study,
    report: Report,
    formats: tuple[str, ...],
    paper: str,
    notes: list[str] | None,
    say: Callable[[str, float], None],
) -> list[Path]:
    """report.md, report.docx (built-in layout or the client's template) and deck.pptx, as `formats` asks."""
    paths: list[Path] = []
    if "md" in formats:
        say("report.md", 0.7)
        path = study.exports_dir / "report.md"
        write_text_atomic(path, to_markdown(report))
        paths.append(path)
    if "docx" in formats:
        say("report.docx", 0.75)
        path = study.exports_dir / "report.docx"
        if study.config.report.template:  # the client's own Word template (raises TemplateError, located)
            from survey_tui.report.template import write_from_template

            found = write_from_template(study, report, path)
        else:
            found = write_docx(report, path, paper)
        if notes is not None:
            notes.extend(found)
        paths.append(path)
    if "pptx" in formats:
        from survey_tui.report.deck import write_deck

        say("deck.pptx", 0.85)
        path = study.exports_dir / "deck.pptx"
        found = write_deck(report, path)
        if notes is not None:
            notes.extend(n for n in found if n not in notes)
        paths.append(path)
    return paths


def _tab_books(study: Study, language: str) -> list[Path]:
    """exports/<plan>.xlsx for each tab plan (tabs/*.yaml) that is free of errors."""
    from survey_tui.analysis.dataset import load_dataset
    from survey_tui.analysis.tabplan import run_plan
    from survey_tui.core.plan.tabplan import load_tab_plan, tab_plan_files
    from survey_tui.report.tabbook import write_tab_book

    files = tab_plan_files(study.root)
    if not files:
        return []
    dataset = load_dataset(study)
    written = []
    for file in files:
        plan, _, problems = load_tab_plan(file, study.relative(file))
        if plan is None or any(p.severity == "error" for p in problems):
            continue  # `check` and `tables --plan` report it with its line
        target = study.exports_dir / f"{file.stem}.xlsx"
        title = plan.title_in(language) or study.config.title
        write_tab_book(run_plan(plan, dataset, language), target, f"{title} ({dataset.n} interviews)", language)
        written.append(target)
    return written


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def build_bundle(
    study: Study, language: str | None = None, progress: Callable[[str, float], None] | None = None
) -> Path:
    """report, chart deck, tab book, codebook and data (sav, csv, xlsx; never contact data) in one zip."""
    from survey_tui.io.export import ExportOptions, run_export

    say = progress or (lambda text, fraction: None)
    files = write_report(study, ("md", "docx", "pptx"), language, progress=lambda what, f: say(what, 0.3 * f))
    say(N_("Writing the tab book"), 0.3)
    files += _tab_books(study, language or study.config.language)
    say(N_("Exporting data without contact data"), 0.4)
    result = run_export(
        study, ExportOptions(formats=("sav", "csv", "xlsx", "codebook"), language=language, include_contacts=False)
    )
    files += [study.root / e.file for e in result.entries] + [result.manifest]
    say(N_("Zipping"), 0.9)
    target = study.exports_dir / "stakeholder_bundle.zip"
    with atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, arcname=path.name)
    say(N_("Done"), 1.0)
    return target
