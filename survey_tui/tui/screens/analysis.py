"""Analysis (T1.5): quality review, banner tables with letters, open-end coding, hypothesis verdicts.

Everything heavy (reading the data file, tables, tests) runs in thread workers that post messages; the
screen only updates widgets in the message handlers, so keys keep working while a big table computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    DataTable,
    Footer,
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
from survey_tui.analysis.hypotheses import evaluate_all


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


class ReasonScreen(ModalScreen[str | None]):
    """Ask why an interview is excluded or kept (the reason is recorded and reported)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="analysis.reason.cancel")]

    def __init__(self, prompt: str) -> None:
        super().__init__()
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(id="reason-box"):
            yield Label(self.prompt)
            yield Input(placeholder="reason (required)", id="reason-input")

    @on(Input.Submitted, "#reason-input")
    def submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())
        else:
            self.notify("A reason is required", severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass
class CodingState:
    question: str
    frame: CodeFrame | None
    items: list[Any]
    index: int = 0


def bar_lines(table: t.StubTable, row: t.TableRow, width: int = 40) -> list[str]:
    """A horizontal bar per banner column for one row (percentages, or means scaled to the largest)."""
    values = np.nan_to_num(row.values.astype(float))
    top = 100.0 if row.kind not in ("mean", "sd", "nps") else max(float(np.abs(values).max()), 1e-9)
    label_width = min(24, max(len(c.label) for c in table.columns))
    lines = [f"{row.label}"]
    for column, value, letters in zip(table.columns, values, row.letters, strict=True):
        filled = int(round(width * abs(value) / top)) if top else 0
        name = (column.label[:label_width]).ljust(label_width)
        mark = " *" if column.small else ""
        number = f"{value:.1f}%" if row.kind not in ("mean", "sd", "nps") else f"{value:.2f}"
        lines.append(f"{name} {'█' * filled}{'·' * (width - filled)} {number} {letters}{mark}")
    return lines


class AnalysisScreen(Screen[None]):
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="analysis.refresh", tooltip="Read the data again"),
        Binding("x", "exclude", "Exclude", id="analysis.exclude", tooltip="Exclude the chosen interview (reason)"),
        Binding("k", "keep", "Keep", id="analysis.keep", tooltip="Keep the chosen interview (reason)"),
        Binding("t", "tables", "Tables", id="analysis.tables", tooltip="Compute the banner tables"),
        Binding("n", "next_verbatim", "Next", id="analysis.next", tooltip="Next verbatim (coding)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.flagged: list[quality.FlaggedInterview] = []
        self.tables: list[t.StubTable] = []
        self.current_table: t.StubTable | None = None
        self.coding: CodingState | None = None
        self.results: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="analysis-tabs"):
            with TabPane("Quality", id="tab-quality"):
                yield Static("Reading the data…", id="quality-summary")
                yield DataTable(id="quality-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="interviewer-stats")
            with TabPane("Tables", id="tab-tables"):
                with Horizontal(id="tables-controls"):
                    yield Input(placeholder="banner: s3,s4 or plan banner ids", id="banner-input")
                    yield Input(placeholder="filter, e.g. s4 = 1", id="filter-input")
                    yield Input(value="95", placeholder="level 90/95/99", id="level-input")
                yield ProgressBar(id="tables-progress", show_eta=False)
                with Horizontal(id="tables-body"):
                    yield OptionList(id="stub-list")
                    with Vertical(id="tables-right"):
                        yield DataTable(id="banner-table", cursor_type="row", zebra_stripes=True)
                        yield Static("", id="bar-view")
            with TabPane("Coding", id="tab-coding"):
                yield OptionList(id="open-list")
                yield Static("Choose an open question", id="coding-progress")
                yield Static("", id="verbatim")
                yield Static("", id="code-frame")
                yield Input(placeholder="codes, e.g. 1 3 (Enter: save and next; +Label adds a code)", id="code-input")
            with TabPane("Hypotheses", id="tab-hypotheses"):
                yield DataTable(id="hypothesis-table", cursor_type="row", zebra_stripes=True)
                yield Static("", id="hypothesis-detail")
        yield Footer()

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
            frames, _ = load_code_frames(self.study)
        except Exception as exc:  # noqa: BLE001
            self.post_message(AnalysisFailed("coding", str(exc)))
            return
        self.post_message(AnalysisData("open-questions", (names, sorted(frames))))

    def on_analysis_failed(self, message: AnalysisFailed) -> None:
        target = {"quality": "#quality-summary", "hypotheses": "#hypothesis-detail", "tables": "#bar-view"}.get(
            message.kind, "#coding-progress"
        )
        self.query_one(target, Static).update(f"[b red]{message.error}[/]")

    def on_analysis_data(self, message: AnalysisData) -> None:
        handler = getattr(self, f"show_{message.kind.replace('-', '_')}")
        handler(message.data)

    # -- quality -------------------------------------------------------------------------------
    def show_quality(self, report: quality.QualityReport) -> None:
        self.flagged = report.flagged
        counts = report.counts()
        median = (report.median_duration_s or 0) / 60
        excluded = len(report.excluded)
        summary = (
            f"{report.interviews} complete interviews, median {median:.1f} min. Flagged: "
            + (", ".join(f"{quality.FLAG_LABELS[k]['en']} {v}" for k, v in counts.items()) or "none")
            + f". Excluded: {excluded}.  x exclude · k keep (with a reason)"
        )
        self.query_one("#quality-summary", Static).update(summary)
        table = self.query_one("#quality-table", DataTable)
        table.clear(columns=True)
        table.add_columns("#", "Interviewer", "Minutes", "Flags", "Decision", "Reason / detail")
        for f in report.flagged:
            minutes = "—" if f.duration_s is None else f"{f.duration_s / 60:.1f}"
            detail = f.reason or "; ".join(f.detail.values())
            table.add_row(
                str(f.interview_id),
                f.interviewer or "—",
                minutes,
                ", ".join(quality.FLAG_LABELS[x]["en"] for x in f.flags),
                f.decision or "—",
                detail,
                key=str(f.interview_id),
            )
        lines = ["Interviewer         n   median min  DK rate  straight-lining  speeders  flagged"]
        for s in report.interviewers:
            lines.append(
                f"{s.interviewer:<12}{s.interviews:>8}{s.median_minutes:>12.1f}{s.dk_rate:>9.1%}"
                f"{s.straight_lining_rate:>16.0%}{s.speeder_rate:>10.0%}{s.flagged:>9}"
            )
        self.query_one("#interviewer-stats", Static).update("\n".join(lines))

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
            self.notify("No flagged interview chosen", severity="warning")
            return

        def done(reason: str | None) -> None:
            if reason:
                self.save_decision(interview_id, decision, reason)

        verb = "Exclude" if decision == "exclude" else "Keep"
        self.app.push_screen(ReasonScreen(f"{verb} interview {interview_id}: why?"), done)

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
        self.notify(f"Interview {data[0]}: {data[1]}d")
        self.load_quality()
        self.load_hypotheses()

    # -- tables --------------------------------------------------------------------------------
    def action_tables(self) -> None:
        banner = self.query_one("#banner-input", Input).value
        filter_text = self.query_one("#filter-input", Input).value.strip() or None
        level = self.query_one("#level-input", Input).value.strip() or "95"
        self.query_one(TabbedContent).active = "tab-tables"
        self.query_one("#bar-view", Static).update("Computing…")
        self.compute_tables(banner, filter_text, level)

    @on(Input.Submitted, "#banner-input, #filter-input, #level-input")
    def tables_input(self) -> None:
        self.action_tables()

    @work(thread=True, exclusive=True, group="analysis-tables")
    def compute_tables(self, banner_text: str, filter_text: str | None, level_text: str) -> None:
        try:
            level = int(level_text) / 100
            dataset = load_dataset(self.study)
            plan = list(self.study.config.analysis_plan.banners)
            wanted = [n.strip() for n in banner_text.split(",") if n.strip()] or [b.id for b in plan] or ["s3"]
            dataset, names = t.plan_banners(dataset, plan, wanted)
            options = t.TableOptions(level=level, filter=filter_text, language=self.study.config.language)
            tables = t.banner_tables(
                dataset,
                None,
                names,
                options,
                progress=lambda done, total: self.post_message(TablesProgress(done, total)),
            )
        except Exception as exc:  # noqa: BLE001
            self.post_message(AnalysisFailed("tables", str(exc.args[0]) if exc.args else str(exc)))
            return
        self.post_message(AnalysisData("tables", tables))

    def on_tables_progress(self, message: TablesProgress) -> None:
        self.query_one("#tables-progress", ProgressBar).update(total=message.total, progress=message.done)

    def show_tables(self, tables: list[t.StubTable]) -> None:
        self.tables = tables
        stub_list = self.query_one("#stub-list", OptionList)
        stub_list.clear_options()
        stub_list.add_options([tb.stub for tb in tables])
        self.query_one("#bar-view", Static).update(f"{len(tables)} tables. Choose a stub, then a row for its bars.")
        if tables:
            stub_list.highlighted = 0
            self.show_table(tables[0])

    @on(OptionList.OptionHighlighted, "#stub-list")
    def stub_chosen(self, event: OptionList.OptionHighlighted) -> None:
        if 0 <= event.option_index < len(self.tables):
            self.show_table(self.tables[event.option_index])

    def show_table(self, table: t.StubTable) -> None:
        self.current_table = table
        grid = self.query_one("#banner-table", DataTable)
        grid.clear(columns=True)
        grid.add_columns(table.title[:40], *[f"{c.label[:14]} {c.letter}".strip() for c in table.columns])
        grid.add_row(table.base_label, *[f"{c.base:.0f}{' *' if c.small else ''}" for c in table.columns])
        for row in table.rows:
            grid.add_row(row.label[:40], *[t._value_text(row, i) for i in range(len(table.columns))])

    @on(DataTable.RowHighlighted, "#banner-table")
    def table_row(self, event: DataTable.RowHighlighted) -> None:
        table = self.current_table
        if table is None or event.cursor_row < 1 or event.cursor_row > len(table.rows):
            return
        self.query_one("#bar-view", Static).update("\n".join(bar_lines(table, table.rows[event.cursor_row - 1])))

    # -- coding --------------------------------------------------------------------------------
    def show_open_questions(self, data: tuple[list[str], list[str]]) -> None:
        names, framed = data
        options = self.query_one("#open-list", OptionList)
        options.clear_options()
        options.add_options([f"{n}{'  (code frame)' if n in framed else ''}" for n in names])
        self._open_names = names

    @on(OptionList.OptionSelected, "#open-list")
    def open_chosen(self, event: OptionList.OptionSelected) -> None:
        self.load_verbatims(self._open_names[event.option_index])

    @work(thread=True, exclusive=True, group="analysis-coding")
    def load_verbatims(self, question: str) -> None:
        try:
            frames, _ = load_code_frames(self.study)
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
            f"{state.question}: verbatim {min(state.index + 1, total)} of {total}"
            f" · coded {coded} · uncoded {total - coded}"
        )
        if state.items and state.index < total:
            item = state.items[state.index]
            codes = " ".join(map(str, item.codes)) or "—"
            self.query_one("#verbatim", Static).update(f"[b]#{item.interview_id}[/]  {item.text}\ncodes: {codes}")
        else:
            self.query_one("#verbatim", Static).update("All verbatims shown.")
        frame = state.frame
        if frame is None or not frame.codes:
            text = f"No code frame for {state.question} yet: type +Label to add the first code."
        else:
            language = self.study.config.language
            from survey_tui.core.instrument import label_text

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
            self.notify("Type code numbers separated by spaces, e.g. 1 3", severity="warning")
            return
        if not codes:
            self.action_next_verbatim()
            return
        if state.frame is None:
            self.notify("Add codes first (+Label)", severity="warning")
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
        self.notify(f"Code {next_code} {label} added to the code frame")
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
        table.add_columns("Id", "Test", "Statistic", "df", "p", "Effect", "Base", "Verdict")
        for r in results:
            table.add_row(
                r.id,
                r.test.replace("_", " "),
                "—" if r.statistic is None else f"{r.statistic_name} {r.statistic:.3f}",
                "—" if r.df is None else f"{r.df:.1f}",
                "—" if r.p_value is None else f"{r.p_value:.4f}",
                "—" if r.effect_size is None else f"{r.effect_name} {r.effect_size:.2f}",
                str(r.base),
                r.verdict,
            )
        if not results:
            self.query_one("#hypothesis-detail", Static).update("The plan has no hypotheses yet (Plan section).")

    @on(DataTable.RowHighlighted, "#hypothesis-table")
    def hypothesis_row(self, event: DataTable.RowHighlighted) -> None:
        if not (0 <= event.cursor_row < len(self.results)):
            return
        r = self.results[event.cursor_row]
        lines = [f"[b]{r.id}[/] {r.statement}", f"{r.verdict}: {r.explanation}", ""]
        lines += ["  ".join(f"{cell:>10}" for cell in row) for row in r.table]
        self.query_one("#hypothesis-detail", Static).update("\n".join(lines))
