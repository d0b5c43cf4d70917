"""Home: the study's real state (plan, instruments and their versions, interviews by mode/status)."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from survey_tui.core.summary import StudySummary, summarise_study
from survey_tui.tui.footer import FittingFooter
from survey_tui.tui.messages import Loaded, LoadFailed

STATUS_ORDER = ("in_progress", "suspended", "completed", "terminated")


class HomeScreen(Screen[None]):
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="home.refresh", tooltip="Read the study files and database again"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="home"):
            yield Static("Loading the study…", id="study-card", classes="card")
            with Grid(id="home-grid"):
                yield DataTable(id="instruments", cursor_type="row", zebra_stripes=True, classes="card")
                yield DataTable(id="interviews", cursor_type="row", zebra_stripes=True, classes="card")
            yield Static("", id="sections-card", classes="card")
        yield FittingFooter()

    def on_mount(self) -> None:
        self.query_one("#instruments", DataTable).border_title = "Instruments (T1.2)"
        self.query_one("#interviews", DataTable).border_title = "Interviews (T1.4)"
        self.query_one("#study-card", Static).border_title = "Study"
        self.query_one("#sections-card", Static).border_title = "Sections"
        self.action_refresh()

    def on_screen_resume(self) -> None:
        """Coming back to Home (from a section, or after an interview) reads the study again: never stale."""
        self.load_summary()

    def action_refresh(self) -> None:
        self.load_summary()

    @work(thread=True, exclusive=True, group="home")
    def load_summary(self) -> None:
        try:
            summary = summarise_study(self.app.study)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - shown to the user, the app stays usable
            self.post_message(LoadFailed(f"cannot read the study: {exc}"))
            return
        self.post_message(Loaded(summary))

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#study-card", Static).update(Text(message.error, style="bold red"))

    def on_loaded(self, message: Loaded) -> None:
        summary: StudySummary = message.data
        self.summary = summary
        self._study_card(summary)
        self._instruments(summary)
        self._interviews(summary)
        self._sections()

    def _study_card(self, s: StudySummary) -> None:
        text = Text()
        text.append(s.title, style="bold")
        if s.client:
            text.append(f"  ·  {s.client}")
        text.append(f"\nLanguages: {', '.join(s.languages)}   Folder: {s.root}")
        completes = s.interviews("field", "completed")
        target = f" of {s.plan.sample_size} planned" if s.plan and s.plan.sample_size else ""
        text.append(
            f"\nRespondents: {s.respondents}   Interviews: {s.interviews()} "
            f"(field {s.interviews('field')}, pilot {s.interviews('pilot')}); "
            f"completed in the field: {completes}{target}"
        )
        if s.plan is not None:
            p = s.plan
            text.append(
                f"\nPlan: {p.sources} sources, {p.objectives} objectives, {p.hypotheses} hypotheses, "
                f"{p.planned_tables} planned tables.  Report format: "
            )
            if p.report_status == "approved":
                text.append(f"approved by {p.approved_by or '?'} on {p.approved_on or '?'}", style="green")
            else:
                text.append(p.report_status.replace("_", " ") + " (not approved)", style="bold yellow")
        errors = [p for p in s.problems if p.severity == "error"]
        if errors:
            text.append(
                f"\n{len(errors)} problem(s) in the study files — see Questionnaire (2) or run 'survey-tui check'",
                style="bold red",
            )
        self.query_one("#study-card", Static).update(text)

    def _instruments(self, s: StudySummary) -> None:
        table = self.query_one("#instruments", DataTable)
        table.clear(columns=True)
        table.add_columns("Instrument", "Qs", "Versions", "State")
        for ins in s.instruments:
            versions = ", ".join(f"v{v}" for v, _ in ins.published) or "—"
            if ins.errors:
                state = Text(f"{ins.errors} error(s)", style="bold red")
            elif ins.draft_changed:
                state = Text("draft changed", style="yellow")
            elif ins.published:
                state = Text("published", style="green")
            else:
                state = Text("draft", style="yellow")
            table.add_row(ins.id, str(ins.questions), versions, state)
        if not s.instruments:
            table.add_row("(none yet)", "", "", "")

    def _interviews(self, s: StudySummary) -> None:
        table = self.query_one("#interviews", DataTable)
        table.clear(columns=True)
        table.add_columns("Mode", "Status", "Outcome", "N")
        for mode, status, outcome, n in s.interview_counts:
            table.add_row(mode, status.replace("_", " "), (outcome or "—").replace("_", " "), str(n))
        if not s.interview_counts:
            table.add_row("(none yet)", "", "", "")

    def _sections(self) -> None:
        text = Text()
        for section in self.app.sections.values():  # type: ignore[attr-defined]
            text.append(f" {section.key} ", style="reverse")
            text.append(f" {section.step} {section.title}: {section.help}\n")
        text.append(" ctrl+p ", style="reverse")
        text.append(" every command, searchable")
        self.query_one("#sections-card", Static).update(text)
