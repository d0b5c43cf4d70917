"""Home: the study's real state (plan, instruments and their versions, interviews by mode/status)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from survey_tui.core.interview.messages import outcome_word, status_word
from survey_tui.core.summary import StudySummary
from survey_tui.i18n import N_, _
from survey_tui.tui.footer import FittingFooter
from survey_tui.tui.localize import MODES
from survey_tui.tui.messages import Loaded, LoadFailed
from survey_tui.tui.render import fill_table as _fill

STATUS_ORDER = ("in_progress", "suspended", "completed", "terminated")


def display_path(path: Path) -> str:
    """The study folder as the user would type it: relative to here, else to ~, else in full."""
    resolved = path.resolve()
    for base, prefix in ((Path.cwd().resolve(), ""), (Path.home().resolve(), "~/")):
        if resolved != base and resolved.is_relative_to(base):
            return prefix + str(resolved.relative_to(base))
    return str(path)


class HomeScreen(Screen[None]):
    BINDINGS = [
        Binding(
            "r", "refresh", N_("Refresh"), id="home.refresh", tooltip=N_("Read the study files and database again")
        ),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="home"):
            yield Static(_("Loading the study…"), id="study-card", classes="card")
            with Grid(id="home-grid"):
                yield DataTable(id="instruments", cursor_type="row", zebra_stripes=True, classes="card")
                yield DataTable(id="interviews", cursor_type="row", zebra_stripes=True, classes="card")
            yield Static("", id="sections-card", classes="card")
        yield FittingFooter()

    def on_mount(self) -> None:
        self.query_one("#instruments", DataTable).border_title = _("Instruments (T1.2)")
        self.query_one("#interviews", DataTable).border_title = _("Interviews (T1.4)")
        self.query_one("#study-card", Static).border_title = _("Study")
        self.query_one("#sections-card", Static).border_title = _("Sections")

    def on_screen_resume(self) -> None:
        """Showing Home reads the study: at start (Textual resumes a screen when it is first shown, so it is
        read once, not twice in two threads racing for the first screen) and on coming back from a section
        or an interview, so it is never stale."""
        self.load_summary()

    def action_refresh(self) -> None:
        self.load_summary()

    @work(thread=True, exclusive=True, group="home")
    def load_summary(self) -> None:
        try:
            summary = self.app.read_summary()  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - shown to the user, the app stays usable
            self.post_message(LoadFailed(_("cannot read the study: {exc}").format(exc=exc)))
            return
        self.post_message(Loaded(summary))

    @work(thread=True, exclusive=True, group="home-open")
    def open_study_behind(self) -> None:
        """A start from the cache opens the study once its figures are on the terminal, so the first section
        opened does not wait for it (a failure is said when a section needs the study)."""
        with contextlib.suppress(Exception):
            self.app.study  # type: ignore[attr-defined]  # noqa: B018

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#study-card", Static).update(Text(message.error, style="bold red"))

    def on_loaded(self, message: Loaded) -> None:
        summary: StudySummary = message.data
        self.summary = summary
        self._study_card(summary)
        self._instruments(summary)
        self._interviews(summary)
        self._sections()
        self.call_after_refresh(self.open_study_behind)

    def _study_card(self, s: StudySummary) -> None:
        text = Text()
        text.append(s.title, style="bold")
        if s.client:
            text.append(f"  ·  {s.client}")
        text.append(
            _("\nLanguages: {v0}   Folder: {root}").format(v0=", ".join(s.languages), root=display_path(Path(s.root)))
        )
        completes = s.interviews("field", "completed")
        target = _(" of {n} planned").format(n=s.plan.sample_size) if s.plan and s.plan.sample_size else ""
        text.append(
            _(
                "\nRespondents: {respondents}   Interviews: {v1} (field {v2}, pilot {v3}); "
                "completed in the field: {completes}{target}"
            ).format(
                respondents=s.respondents,
                v1=s.interviews(),
                v2=s.interviews("field"),
                v3=s.interviews("pilot"),
                completes=completes,
                target=target,
            )
        )
        if s.plan is not None:
            p = s.plan
            text.append(
                _(
                    "\nPlan: {sources} sources, {objectives} objectives, {hypotheses} hypotheses, "
                    "{planned_tables} planned tables.  Report format: "
                ).format(
                    sources=p.sources, objectives=p.objectives, hypotheses=p.hypotheses, planned_tables=p.planned_tables
                )
            )
            if p.report_status == "approved":
                text.append(
                    _("approved by {v0} on {v1}").format(v0=p.approved_by or "?", v1=p.approved_on or "?"),
                    style="green",
                )
            else:
                text.append(
                    _("{status} (not approved)").format(status=_(p.report_status.replace("_", " "))),
                    style="bold yellow",
                )
        errors = [p for p in s.problems if p.severity == "error"]
        if errors:
            text.append(
                _("\n{v0} problem(s) in the study files — see Questionnaire (2) or run 'survey-tui check'").format(
                    v0=len(errors)
                ),
                style="bold red",
            )
        self.query_one("#study-card", Static).update(text)

    def _instruments(self, s: StudySummary) -> None:
        rows: list[tuple[str | Text, ...]] = []
        for ins in s.instruments:
            versions = ", ".join(f"v{v}" for v, _ in ins.published) or "—"
            if ins.errors:
                state = Text(_("{errors} error(s)").format(errors=ins.errors), style="bold red")
            elif ins.draft_changed:
                state = Text(_("draft changed"), style="yellow")
            elif ins.published:
                state = Text(_("published"), style="green")
            else:
                state = Text(_("draft"), style="yellow")
            rows.append((ins.id, str(ins.questions), versions, state))
        if not s.instruments:
            rows.append(("(none yet)", "", "", ""))
        _fill(self.query_one("#instruments", DataTable), (_("Instrument"), _("Qs"), _("Versions"), _("State")), rows)

    def _interviews(self, s: StudySummary) -> None:
        rows: list[tuple[str | Text, ...]] = [
            (_(MODES.get(mode, mode)), status_word(status), outcome_word(outcome), str(n))
            for mode, status, outcome, n in s.interview_counts
        ]
        if not s.interview_counts:
            rows.append(("(none yet)", "", "", ""))
        _fill(self.query_one("#interviews", DataTable), (_("Mode"), _("Status"), _("Outcome"), "N"), rows)

    def _sections(self) -> None:
        text = Text()
        for section in self.app.sections.values():  # type: ignore[attr-defined]
            text.append(f" {section.key} ", style="reverse")
            text.append(f" {section.step} {_(section.title)}: {_(section.help)}\n")
        text.append(_(" ctrl+p "), style="reverse")
        text.append(_(" every command, searchable"))
        self.query_one("#sections-card", Static).update(text)
