"""Analysis (T1.5): quality review, banner tables with letters, open-end coding, hypothesis verdicts.

Everything heavy (reading the data file, tables, tests) runs in thread workers that post messages; the
screen only updates widgets in the message handlers, so keys keep working while a big table computes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.cells import cell_len, set_cell_size
from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Header,
    Input,
    Label,
    OptionList,
    ProgressBar,
    Static,
    TabbedContent,
    TabPane,
)

from survey_tui.analysis import quality
from survey_tui.analysis import tables as t
from survey_tui.analysis.coding import (
    CodeFrame,
    FrameCode,
    load_code_frames,
    record_codes,
    save_code_frame,
    verbatims,
)
from survey_tui.analysis.dataset import load_dataset
from survey_tui.analysis.hypotheses import evaluate_all, shown_test
from survey_tui.core.problems import LoadError
from survey_tui.i18n import N_, Phrase, _, shown
from survey_tui.tui.footer import FittingFooter
from survey_tui.tui.keys import KeyedModal
from survey_tui.tui.render import aligned_lines

DEFAULT_TAB_PLAN = """\
# A tab plan: banners, the default banner and the tables (see the README).
banners:
  - {id: gender, label: Gender, variable: s3}
banner: [gender]
tables:
  - {id: T1, title: First table, stub: s3}
"""


class AnalysisData(Message):
    def __init__(self, kind: str, data: Any) -> None:
        super().__init__()
        self.kind = kind
        self.data = data


class AnalysisFailed(Message):
    def __init__(self, kind: str, error: str) -> None:
        super().__init__()
        self.kind = kind
        self.error = error


class TablesProgress(Message):
    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total


class ReasonScreen(KeyedModal[str | None]):
    """Ask why an interview is excluded or kept (the reason is recorded and reported)."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="analysis.reason.cancel")]

    def __init__(self, prompt: str) -> None:
        super().__init__()
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(id="reason-box"):
            yield Label(self.prompt)
            yield Input(placeholder=_("reason (required)"), id="reason-input")

    @on(Input.Submitted, "#reason-input")
    def submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())
        else:
            self.notify(_("A reason is required"), severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass
class CodingState:
    question: str
    frame: CodeFrame | None
    items: list[Any]
    index: int = 0


def fit(text: str, width: int) -> str:
    """Cut or pad to ``width`` terminal cells (a CJK character takes two), ending a cut with "…"."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, max(width - 1, 0)) + "…"


def stub_entry(table: t.StubTable) -> str:
    """A table in the stub list: its title (question text) with the variable name when the title lacks it."""
    title = table.title or " ".join(p for p in (table.id, table.stub) if p)
    return title if not table.stub or table.stub in title else f"{title} ({table.stub})"


def clip(text: str, width: int) -> str:
    """Cut to at most ``width`` cells (no padding): for headers a table sizes itself."""
    return text if cell_len(text) <= width else fit(text, width)


def rjust_cells(text: str, width: int) -> str:
    return " " * max(width - cell_len(text), 0) + text


def bar_lines(table: t.StubTable, row: t.TableRow, width: int = 40) -> list[str]:
    """A horizontal bar per banner column for one row (percentages, or means scaled to the largest),
    laid out by display width so every bar starts in the same terminal column whatever the labels."""
    values = np.nan_to_num(row.values.astype(float))
    statistic = row.kind in ("mean", "sd", "median", "nps")
    top = 100.0 if not statistic else max(float(np.abs(values).max()), 1e-9)
    label_width = min(24, max(cell_len(c.label) for c in table.columns))
    lines = [f"{row.label}"]
    for column, value, letters in zip(table.columns, values, row.letters, strict=True):
        filled = int(round(width * abs(value) / top)) if top else 0
        name = fit(column.label, label_width)
        mark = " *" if column.small else ""
        number = f"{value:.2f}" if statistic else f"{value:.1f}%"
        lines.append(f"{name} {'█' * filled}{'·' * (width - filled)} {number:>7} {letters}{mark}")
    return lines


def chart_text(table: t.StubTable, width: int = 40) -> str:
    """The report's chart of the table (charts.chart_data: the engine's numbers) as terminal text."""
    from survey_tui.report.charts import chart_data, text_chart

    data = chart_data(table)
    if data is None:
        return _("{title}: nothing to chart (no percentage or mean rows)").format(title=escape(table.title))
    unit = "%" if data.percent else _("mean")
    head = f"[b]{escape(table.title)}[/] " + _(
        "({unit}; letters: higher than that column; c: back to the row's bars)"
    ).format(unit=unit)
    return "\n".join([head, *(escape(line) for line in text_chart(data, width))])


def interviewer_lines(stats: list[quality.InterviewerStats]) -> list[str]:
    """The per-interviewer quality table as text, each column as wide as its widest cell in display
    columns, so Chinese headers and names line up with the numbers under them."""
    head = [_("Interviewer"), "n", _("median min"), _("DK rate"), _("straight-lining"), _("speeders"), _("flagged")]
    rows = [
        [
            s.interviewer,
            str(s.interviews),
            f"{s.median_minutes:.1f}",
            f"{s.dk_rate:.1%}",
            f"{s.straight_lining_rate:.0%}",
            f"{s.speeder_rate:.0%}",
            str(s.flagged),
        ]
        for s in stats
    ]
    return aligned_lines(head, rows).split("\n")


def plan_files(study: Any) -> list[str]:
    from survey_tui.core.plan.tabplan import tab_plan_files

    return [study.relative(p) for p in tab_plan_files(study.root)]


class AnalysisScreen(Screen[None]):
    BINDINGS = [
        Binding(
            "t", "tables", N_("Tables"), id="analysis.tables", tooltip=N_("Run the tab plan (or the ad hoc banner)")
        ),
        Binding(
            "e",
            "edit_plan",
            N_("Edit plan"),
            id="analysis.edit_plan",
            tooltip=N_("Edit the tab plan (checked on save)"),
        ),
        Binding("r", "refresh", N_("Refresh"), id="analysis.refresh", tooltip=N_("Read the data again")),
        Binding(
            "x", "exclude", N_("Exclude"), id="analysis.exclude", tooltip=N_("Exclude the chosen interview (reason)")
        ),
        Binding("k", "keep", N_("Keep"), id="analysis.keep", tooltip=N_("Keep the chosen interview (reason)")),
        Binding("n", "next_verbatim", N_("Next"), id="analysis.next", tooltip=N_("Next verbatim (coding)")),
        Binding("c", "chart", N_("Chart"), id="analysis.chart", tooltip=N_("The table's chart, as in the report")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.flagged: list[quality.FlaggedInterview] = []
        self.tables: list[t.StubTable] = []
        self.current_table: t.StubTable | None = None
        self.coding: CodingState | None = None
        self.results: list[Any] = []
        self.chart_shown = False

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="analysis-tabs"):
            with TabPane(_("Quality"), id="tab-quality"):
                yield Static(_("Reading the data…"), id="quality-summary")
                yield DataTable(id="quality-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="interviewer-stats")
            with TabPane(_("Tables"), id="tab-tables"):
                with Horizontal(id="tables-controls"):
                    plans = plan_files(self.app.study)  # type: ignore[attr-defined]
                    yield Input(
                        plans[0] if plans else "",
                        placeholder=_("tab plan: tabs/main.yaml (empty: the banner below)"),
                        id="plan-input",
                    )
                    yield Input(placeholder=_("banner: s3,s4 or plan banner ids"), id="banner-input")
                    yield Input(placeholder=_("filter, e.g. s4 = 1"), id="filter-input")
                    yield Input(value="95", placeholder=_("level 90/95/99"), id="level-input")
                yield ProgressBar(id="tables-progress", show_eta=False)
                with Horizontal(id="tables-body"):
                    yield OptionList(id="stub-list")
                    with Vertical(id="tables-right"):
                        yield DataTable(id="banner-table", cursor_type="row", zebra_stripes=True)
                        yield Static("", id="table-footnote")
                        with VerticalScroll(id="bar-scroll"):
                            yield Static("", id="bar-view")
            with TabPane(_("Coding"), id="tab-coding"):
                yield OptionList(id="open-list")
                yield Static(_("Choose an open question"), id="coding-progress")
                yield Static("", id="verbatim")
                yield Static("", id="code-frame")
                yield Input(
                    placeholder=_("codes, e.g. 1 3 (Enter: save and next; +Label adds a code)"), id="code-input"
                )
            with TabPane(_("Hypotheses"), id="tab-hypotheses"):
                yield DataTable(id="hypothesis-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="hypothesis-detail")
        yield FittingFooter()

    def on_mount(self) -> None:
        self.query_one("#tables-progress", ProgressBar).update(total=1, progress=0)
        self.action_refresh()

    # -- loading -------------------------------------------------------------------------------
    def action_refresh(self) -> None:
        self.load_quality()
        self.load_hypotheses()
        self.load_open_questions()

    @property
    def study(self) -> Any:
        return self.app.study  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="analysis-quality")
    def load_quality(self) -> None:
        try:
            with self.study.store() as store:
                dataset = load_dataset(self.study, store=store, apply_exclusions=False, include_coded=False)
                report = quality.review(dataset, store)
        except Exception as exc:  # noqa: BLE001 - reported on screen
            self.post_message(AnalysisFailed("quality", str(exc)))
            return
        self.post_message(AnalysisData("quality", report))

    @work(thread=True, exclusive=True, group="analysis-hypotheses")
    def load_hypotheses(self) -> None:
        try:
            dataset = load_dataset(self.study)
            results = evaluate_all(dataset, self.study.config.hypotheses)
        except Exception as exc:  # noqa: BLE001
            self.post_message(AnalysisFailed("hypotheses", str(exc)))
            return
        self.post_message(AnalysisData("hypotheses", results))

    @work(thread=True, exclusive=True, group="analysis-coding")
    def load_open_questions(self) -> None:
        try:
            dataset = load_dataset(self.study, include_coded=False)
            names = [v.name for v in dataset.variables.values() if v.type == "text"]
            frames, _skip = load_code_frames(self.study)
        except Exception as exc:  # noqa: BLE001
            self.post_message(AnalysisFailed("coding", str(exc)))
            return
        self.post_message(AnalysisData("open-questions", (names, sorted(frames))))

    def on_analysis_failed(self, message: AnalysisFailed) -> None:
        target = {"quality": "#quality-summary", "hypotheses": "#hypothesis-detail", "tables": "#bar-view"}.get(
            message.kind, "#coding-progress"
        )
        self.query_one(target, Static).update(_("[b red]{error}[/]").format(error=message.error))

    def on_analysis_data(self, message: AnalysisData) -> None:
        handler = getattr(self, f"show_{message.kind.replace('-', '_')}")
        handler(message.data)

    # -- quality -------------------------------------------------------------------------------
    def show_quality(self, report: quality.QualityReport) -> None:
        self.flagged = report.flagged
        counts = report.counts()
        median = (report.median_duration_s or 0) / 60
        comma = _(", ")  # 、 between words of a list in Chinese
        flagged = comma.join(f"{quality.flag_label(k)} {v}" for k, v in counts.items()) or _("none")
        summary = _(
            "{interviews} complete interviews, median {median:.1f} min. Flagged: {flagged}. Excluded: {excluded}."
            "  x exclude · k keep (with a reason)"
        ).format(interviews=report.interviews, median=median, flagged=flagged, excluded=len(report.excluded))
        self.query_one("#quality-summary", Static).update(summary)
        self.quality_rows = [
            (
                str(f.interview_id),
                f.interviewer or "—",
                "—" if f.duration_s is None else f"{f.duration_s / 60:.1f}",
                comma.join(quality.flag_label(x) for x in f.flags),
                quality.decision_word(f.decision),
                quality.reason_shown(f.reason) or "; ".join(f.detail.values()),
            )
            for f in report.flagged
        ]
        self.fill_quality_table()
        self.query_one("#interviewer-stats", Static).update(escape("\n".join(interviewer_lines(report.interviewers))))

    def fill_quality_table(self) -> None:
        """The flagged interviews; the reason takes the width left and wraps in its row (at 80 columns it ran
        off the screen's edge), every other column as wide as its widest cell by display width."""
        table = self.query_one("#quality-table", DataTable)
        rows: list[tuple[str, ...]] = getattr(self, "quality_rows", [])
        width = table.size.width or self.size.width  # hidden behind another tab: as wide as the screen
        headers = ["#", _("Interviewer"), _("Minutes"), _("Flags"), _("Decision"), _("Reason / detail")]
        widths = [max([cell_len(h)] + [cell_len(r[i]) for r in rows]) for i, h in enumerate(headers)]
        room = width - table.styles.scrollbar_size_vertical - 2 * len(headers)  # a cell pads 1 a side
        want = min(widths[-1], 32)  # the reason's room before the flags give way
        if sum(widths[:-1]) + want > room:  # the flags wrap one to a line rather than squeeze the reason
            words = [w for r in rows for w in re.split(r"[,、]\s*", r[3])] + [headers[3]]
            widths[3] = max(min(widths[3], room - want - sum(widths[:3]) - widths[4]), *map(cell_len, words))
        widths[-1] = max(min(widths[-1], room - sum(widths[:-1])), 10)
        self._quality_width = width
        table.clear(columns=True)
        for header, width in zip(headers, widths, strict=True):
            table.add_column(header, width=width)
        for row in rows:
            table.add_row(*row, key=row[0], height=None)  # None: as many lines as the reason needs

    def on_resize(self) -> None:
        if getattr(self, "quality_rows", None) is not None:
            self.call_after_refresh(self._refit_quality)

    def on_tabbed_content_tab_activated(self) -> None:
        """Back on the quality tab: its width is known now."""
        self.on_resize()

    def _refit_quality(self) -> None:
        table = self.query_one("#quality-table", DataTable)
        if table.size.width and table.size.width != getattr(self, "_quality_width", 0):
            self.fill_quality_table()

    def _chosen_interview(self) -> int | None:
        table = self.query_one("#quality-table", DataTable)
        if not self.flagged or table.row_count == 0:
            return None
        return self.flagged[table.cursor_row].interview_id

    def _decide(self, decision: str) -> None:
        if self.query_one(TabbedContent).active != "tab-quality":
            return
        interview_id = self._chosen_interview()
        if interview_id is None:
            self.notify(_("No flagged interview chosen"), severity="warning")
            return

        def done(reason: str | None) -> None:
            if reason:
                self.save_decision(interview_id, decision, reason)

        prompt = _("Exclude interview {id}: why?") if decision == "exclude" else _("Keep interview {id}: why?")
        self.app.push_screen(ReasonScreen(prompt.format(id=interview_id)), done)

    def action_exclude(self) -> None:
        self._decide("exclude")

    def action_keep(self) -> None:
        self._decide("keep")

    @work(thread=True, group="analysis-decide")
    def save_decision(self, interview_id: int, decision: str, reason: str) -> None:
        try:
            flags = next((f.flags for f in self.flagged if f.interview_id == interview_id), ())
            with self.study.store() as store:
                quality.record_decision(store, interview_id, decision, reason, flags)
        except Exception as exc:  # noqa: BLE001
            self.post_message(AnalysisFailed("quality", str(exc)))
            return
        self.post_message(AnalysisData("decided", (interview_id, decision)))

    def show_decided(self, data: tuple[int, str]) -> None:
        self.notify(_("Interview {id}: {decision}").format(id=data[0], decision=quality.decision_word(data[1])))
        self.load_quality()
        self.load_hypotheses()

    # -- tables --------------------------------------------------------------------------------
    def action_tables(self) -> None:
        plan = self.query_one("#plan-input", Input).value.strip() or None
        banner = self.query_one("#banner-input", Input).value
        filter_text = self.query_one("#filter-input", Input).value.strip() or None
        level = self.query_one("#level-input", Input).value.strip() or "95"
        self.query_one(TabbedContent).active = "tab-tables"
        self.query_one("#bar-view", Static).update(_("Computing…"))
        self.compute_tables(plan, banner, filter_text, level)

    @on(Input.Submitted, "#plan-input, #banner-input, #filter-input, #level-input")
    def tables_input(self) -> None:
        self.action_tables()

    @work(thread=True, exclusive=True, group="analysis-tables")
    def compute_tables(self, plan_path: str | None, banner_text: str, filter_text: str | None, level_text: str) -> None:
        progress = lambda done, total: self.post_message(TablesProgress(done, total))  # noqa: E731
        language = self.study.config.language
        try:
            dataset = load_dataset(self.study)
            if plan_path:
                from survey_tui.analysis.tabplan import run_plan
                from survey_tui.core.plan.tabplan import read_tab_plan

                plan = read_tab_plan(self.study.root / plan_path, plan_path)
                tables = run_plan(plan, dataset, language, progress=progress)
            else:
                level = int(level_text) / 100
                plan_banners = list(self.study.config.analysis_plan.banners)
                wanted = [n.strip() for n in banner_text.split(",") if n.strip()] or [b.id for b in plan_banners]
                names = t.plan_banners(dataset, plan_banners, wanted or ["s3"])
                options = t.TableOptions(level=level, filter=filter_text, language=language, weight=dataset.weight)
                tables = t.banner_tables(dataset, None, names, options, progress=progress)
        except LoadError as exc:
            self.post_message(AnalysisFailed("tables", "\n".join(str(p) for p in exc.problems[:6])))
            return
        except Exception as exc:  # noqa: BLE001
            self.post_message(AnalysisFailed("tables", str(exc.args[0]) if exc.args else str(exc)))
            return
        self.post_message(AnalysisData("tables", tables))

    def action_edit_plan(self) -> None:
        """The tab plan as checked YAML text: saved only when `check` would find no error in it."""
        from survey_tui.tui.screens.plan_forms import FormField, FormScreen

        path_text = self.query_one("#plan-input", Input).value.strip() or "tabs/main.yaml"
        path = self.study.root / path_text
        current = path.read_text("utf-8") if path.is_file() else DEFAULT_TAB_PLAN
        study = self.study

        def build(values: dict[str, str]) -> str:
            from survey_tui.core.plan.tabplan import TabPlan, check_tab_plan
            from survey_tui.core.yamlfile import parse_yaml_text, validate_document

            doc, problems = parse_yaml_text(values["yaml"], path_text)
            if doc is None:
                raise LoadError(problems)
            plan, problems = validate_document(TabPlan, doc)
            if plan is None:
                raise LoadError(problems)
            instruments, _skip = study.load_instruments()
            weighting = getattr(study.config, "weighting", None)
            weights = [weighting.name] if weighting else []
            errors = [
                p for p in check_tab_plan(plan, instruments.values(), doc, path_text, weights) if p.severity == "error"
            ]
            if errors:
                raise LoadError(errors)
            return values["yaml"]

        def saved(text: str | None) -> None:
            if text is None:
                return
            from survey_tui.core.atomic import write_text_atomic

            write_text_atomic(path, text)
            self.query_one("#plan-input", Input).value = path_text
            self.notify(_("{path_text} saved").format(path_text=path_text))
            self.action_tables()

        field = FormField(
            "yaml", _("Tab plan {path} (YAML)").format(path=path_text), "area", help=N_("checked before it is saved")
        )
        self.app.push_screen(
            FormScreen(_("Tab plan — {path}").format(path=path_text), [field], {"yaml": current}, build), saved
        )

    def on_tables_progress(self, message: TablesProgress) -> None:
        self.query_one("#tables-progress", ProgressBar).update(total=message.total, progress=message.done)

    def show_tables(self, tables: list[t.StubTable]) -> None:
        self.tables = tables
        stub_list = self.query_one("#stub-list", OptionList)
        stub_list.clear_options()
        # the question's text with its name (analysts know both), not the name alone
        stub_list.add_options([clip(stub_entry(tb), 60) for tb in tables])
        self.query_one("#bar-view", Static).update(
            _("{v0} tables. Choose a stub, then a row for its bars.").format(v0=len(tables))
        )
        if tables:
            stub_list.highlighted = 0
            self.show_table(tables[0])

    @on(OptionList.OptionHighlighted, "#stub-list")
    def stub_chosen(self, event: OptionList.OptionHighlighted) -> None:
        if 0 <= event.option_index < len(self.tables):
            self.show_table(self.tables[event.option_index])

    def show_table(self, table: t.StubTable) -> None:
        self.current_table = table
        language = self.study.config.language
        grid = self.query_one("#banner-table", DataTable)
        grid.clear(columns=True)
        grid.add_columns(clip(table.title, 40), *[clip(f"{c.label} {c.letter}".strip(), 16) for c in table.columns])
        for label, cells in t.base_rows(table, language):
            grid.add_row(clip(label, 40), *cells)
        for row in table.rows:
            grid.add_row(clip(row.label, 40), *[t.value_text(row, i) for i in range(len(table.columns))])
        self.query_one("#table-footnote", Static).update(
            escape("\n".join(shown(line) for line in table.footnote(language)))
        )
        if self.chart_shown:
            self.query_one("#bar-view", Static).update(chart_text(table))

    def action_chart(self) -> None:
        """Toggle the table's chart: the report's chart (same numbers, same letters) drawn in cells."""
        if self.query_one(TabbedContent).active != "tab-tables" or self.current_table is None:
            self.notify(_("Run the tables (t) first, then c shows the chosen table's chart"), severity="warning")
            return
        self.chart_shown = not self.chart_shown
        # the chart takes the table's place (it has a line per category and column), scrollable
        self.query_one("#tables-right").set_class(self.chart_shown, "charting")
        view = self.query_one("#bar-view", Static)
        view.update(chart_text(self.current_table) if self.chart_shown else _("Choose a row for its bars (c: chart)."))

    @on(DataTable.RowHighlighted, "#banner-table")
    def table_row(self, event: DataTable.RowHighlighted) -> None:
        table = self.current_table
        bases = 2 if table is not None and table.weighted else 1
        if table is None or event.cursor_row < bases or event.cursor_row >= len(table.rows) + bases:
            return
        row = table.rows[event.cursor_row - bases]
        if self.chart_shown:
            return  # the chart stays until c is pressed again
        if np.isnan(row.values).all():
            self.query_one("#bar-view", Static).update(
                _("{label}: counted, outside the base (no percentage)").format(label=row.label)
            )
            return
        self.query_one("#bar-view", Static).update("\n".join(bar_lines(table, row)))

    # -- coding --------------------------------------------------------------------------------
    def show_open_questions(self, data: tuple[list[str], list[str]]) -> None:
        names, framed = data
        options = self.query_one("#open-list", OptionList)
        options.clear_options()
        framed_mark = "  " + _("(code frame)")
        options.add_options([f"{n}{framed_mark if n in framed else ''}" for n in names])
        self._open_names = names

    @on(OptionList.OptionSelected, "#open-list")
    def open_chosen(self, event: OptionList.OptionSelected) -> None:
        self.load_verbatims(self._open_names[event.option_index])

    @work(thread=True, exclusive=True, group="analysis-coding")
    def load_verbatims(self, question: str) -> None:
        try:
            frames, _skip = load_code_frames(self.study)
            with self.study.store() as store:
                dataset = load_dataset(self.study, store=store, include_coded=False)
                items = verbatims(dataset, store, question)
        except Exception as exc:  # noqa: BLE001
            self.post_message(AnalysisFailed("coding", str(exc)))
            return
        self.post_message(AnalysisData("verbatims", CodingState(question, frames.get(question), items)))

    def show_verbatims(self, state: CodingState) -> None:
        first_uncoded = next((i for i, v in enumerate(state.items) if not v.codes), 0)
        state.index = first_uncoded
        self.coding = state
        self.render_coding()
        self.query_one("#code-input", Input).focus()

    def render_coding(self) -> None:
        state = self.coding
        if state is None:
            return
        coded = sum(1 for v in state.items if v.codes)
        total = len(state.items)
        self.query_one("#coding-progress", Static).update(
            _("{question}: verbatim {v1} of {total} · coded {coded} · uncoded {v4}").format(
                question=state.question, v1=min(state.index + 1, total), total=total, coded=coded, v4=total - coded
            )
        )
        if state.items and state.index < total:
            item = state.items[state.index]
            codes = " ".join(map(str, item.codes)) or "—"
            self.query_one("#verbatim", Static).update(
                _("[b]#{interview_id}[/]  {text}\ncodes: {codes}").format(
                    interview_id=item.interview_id, text=item.text, codes=codes
                )
            )
        else:
            self.query_one("#verbatim", Static).update(_("All verbatims shown."))
        frame = state.frame
        if frame is None or not frame.codes:
            text = _("No code frame for {question} yet: type +Label to add the first code.").format(
                question=state.question
            )
        else:
            language = self.study.config.language
            from survey_tui.core.instrument.model import label_text

            text = "   ".join(f"{c.code} {label_text(c.label, language, 'en')}" for c in frame.codes)
        self.query_one("#code-frame", Static).update(text)

    def action_next_verbatim(self) -> None:
        if self.coding is not None and self.coding.index < len(self.coding.items) - 1:
            self.coding.index += 1
            self.render_coding()

    @on(Input.Submitted, "#code-input")
    def code_submitted(self, event: Input.Submitted) -> None:
        state = self.coding
        if state is None:
            return
        text = event.value.strip()
        event.input.value = ""
        if text.startswith("+"):
            self.add_code(state, text[1:].strip())
            return
        if not state.items or state.index >= len(state.items):
            return
        try:
            codes = [int(part) for part in text.replace(",", " ").split()]
        except ValueError:
            self.notify(_("Type code numbers separated by spaces, e.g. 1 3"), severity="warning")
            return
        if not codes:
            self.action_next_verbatim()
            return
        if state.frame is None:
            self.notify(_("Add codes first (+Label)"), severity="warning")
            return
        self.save_codes(state.frame, state.items[state.index].interview_id, codes)

    def add_code(self, state: CodingState, label: str) -> None:
        if not label:
            return
        frame = state.frame or CodeFrame(question=state.question)
        next_code = max([c.code for c in frame.codes if c.code < 90] or [0]) + 1
        frame = frame.model_copy(update={"codes": [*frame.codes, FrameCode(code=next_code, label={"*": label})]})
        try:
            save_code_frame(self.study, frame)
        except Exception as exc:  # noqa: BLE001
            self.notify(str(exc), severity="error")
            return
        state.frame = frame
        self.notify(_("Code {next_code} {label} added to the code frame").format(next_code=next_code, label=label))
        self.render_coding()

    @work(thread=True, group="analysis-code")
    def save_codes(self, frame: CodeFrame, interview_id: int, codes: list[int]) -> None:
        try:
            with self.study.store() as store:
                record_codes(store, frame, interview_id, codes, coder="survey-tui")
        except Exception as exc:  # noqa: BLE001
            self.post_message(AnalysisFailed("coding", str(exc)))
            return
        self.post_message(AnalysisData("coded", (interview_id, codes)))

    def show_coded(self, data: tuple[int, list[int]]) -> None:
        state = self.coding
        if state is None:
            return
        interview_id, codes = data
        for i, item in enumerate(state.items):
            if item.interview_id == interview_id:
                state.items[i] = type(item)(item.interview_id, item.text, tuple(sorted(set(codes))))
        if state.index < len(state.items) - 1:
            state.index += 1
        self.render_coding()

    # -- hypotheses ----------------------------------------------------------------------------
    def show_hypotheses(self, results: list[Any]) -> None:
        self.results = results
        table = self.query_one("#hypothesis-table", DataTable)
        table.clear(columns=True)
        table.add_columns(_("Id"), _("Test"), _("Statistic"), _("df"), "p", _("Effect"), _("Base"), _("Verdict"))
        for r in results:
            sided = _("1-sided") if r.sided == "one-sided" else _("2-sided")
            table.add_row(
                r.id,
                shown_test(r.test),
                "—" if r.statistic is None else f"{shown(r.statistic_name)} {r.statistic:.3f}",
                "—" if r.df is None else f"{r.df:.1f}",
                "—" if r.p_value is None else f"{r.p_value:.4f} {sided}",
                "—" if r.effect_size is None else f"{r.effect_name} {r.effect_size:.2f}",
                str(r.base),
                _(r.verdict),
            )
        if not results:
            self.query_one("#hypothesis-detail", Static).update(_("The plan has no hypotheses yet (Plan section)."))

    @on(DataTable.RowHighlighted, "#hypothesis-table")
    def hypothesis_row(self, event: DataTable.RowHighlighted) -> None:
        if not (0 <= event.cursor_row < len(self.results)):
            return
        r = self.results[event.cursor_row]
        lines = [
            f"[b]{escape(r.id)}[/] {escape(r.statement)}",
            escape(f"{_(r.verdict)} — {shown(r.explanation)}"),
            "",
        ]
        rows = [[shown(cell) if isinstance(cell, Phrase) else str(cell) for cell in row] for row in r.table]
        if rows:
            widths = [max(cell_len(row[i]) for row in rows if i < len(row)) for i in range(len(rows[0]))]
            lines += [escape("  ".join(rjust_cells(cell, widths[i]) for i, cell in enumerate(row))) for row in rows]
        self.query_one("#hypothesis-detail", Static).update("\n".join(lines))
