"""Fieldwork (T1.4): every interview with its mode, interviewer, status, outcome and version."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from survey_tui.i18n import N_, _
from survey_tui.tui.footer import FittingFooter
from survey_tui.tui.localize import MODES, outcome_word, status_word
from survey_tui.tui.messages import Loaded, LoadFailed

COLUMNS = ("#", N_("Mode"), N_("Interviewer"), N_("Status"), N_("Outcome"), N_("Started"), N_("Version"), N_("Answers"))
QUERY = """
SELECT i.id, i.mode, COALESCE(i.interviewer, '—'), i.status, COALESCE(i.outcome, '—'),
       substr(i.started_at, 1, 16), v.instrument_id || ' v' || v.version,
       (SELECT COUNT(*) FROM answers a WHERE a.interview_id = i.id)
FROM interviews i JOIN instrument_versions v ON v.id = i.instrument_version_id
ORDER BY i.id DESC LIMIT 500
"""


class FieldworkScreen(Screen[None]):
    BINDINGS = [
        Binding("n", "new_interview('field')", N_("New interview"), id="fieldwork.new", tooltip=N_("Field interview")),
        Binding(
            "u", "resume_interview", N_("Resume"), id="fieldwork.resume", tooltip=N_("Resume the selected interview")
        ),
        Binding(
            "p", "new_interview('pilot')", N_("Pilot"), id="fieldwork.pilot", tooltip=N_("Capture a pilot interview")
        ),
        Binding("r", "refresh", N_("Refresh"), id="fieldwork.refresh", tooltip=N_("Read the interviews again")),
    ]

    def action_new_interview(self, mode: str) -> None:
        from survey_tui.tui.screens.interview import StartScreen

        self.app.push_screen(StartScreen(mode=mode), lambda _: self.action_refresh())

    def action_resume_interview(self) -> None:
        table = self.query_one("#interview-list", DataTable)
        if table.row_count == 0:
            return
        interview_id = int(str(table.get_row_at(table.cursor_row)[0]))
        self.resume(interview_id)

    @work(thread=True, exclusive=True, group="fieldwork-resume")
    def resume(self, interview_id: int) -> None:
        from survey_tui.core.interview.capture import CaptureError, resume_session

        try:
            session = resume_session(self.app.study, interview_id)  # type: ignore[attr-defined]
        except CaptureError as exc:
            self.app.call_from_thread(self.app.notify, str(exc), severity="warning")
            return
        self.app.call_from_thread(self._open_form, session)

    def _open_form(self, session: object) -> None:
        from survey_tui.tui.screens.interview import InterviewScreen

        self.app.push_screen(InterviewScreen(session), lambda _: self.action_refresh())  # type: ignore[arg-type]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="fieldwork-summary")
        yield DataTable(id="interview-list", cursor_type="row", zebra_stripes=True)
        yield FittingFooter()

    def on_mount(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="fieldwork")
    def load(self) -> None:
        try:
            with self.app.study.store() as store:  # type: ignore[attr-defined]
                rows = [tuple(r) for r in store.query(QUERY)]
                total = int(store.query("SELECT COUNT(*) FROM interviews")[0][0])
        except Exception as exc:  # noqa: BLE001 - reported on screen
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(Loaded((rows, total)))

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#fieldwork-summary", Static).update(_("[b red]{error}[/]").format(error=message.error))

    def on_loaded(self, message: Loaded) -> None:
        rows, total = message.data
        table = self.query_one("#interview-list", DataTable)
        table.clear(columns=True)
        table.add_columns(*[_(c) for c in COLUMNS])
        for row in rows:
            # status and outcome read as words ("screened out"); ids such as the instrument's stay as they are
            iid, mode, interviewer, status, outcome, started, version, answers = row
            table.add_row(
                str(iid),
                _(MODES.get(mode, mode)),
                str(interviewer),
                status_word(status),
                outcome_word(None if outcome == "—" else outcome),
                str(started).replace("T", " "),
                str(version),
                str(answers),
            )
        shown = _("newest {n} of {total}").format(n=len(rows), total=total) if total > len(rows) else f"{total}"
        self.query_one("#fieldwork-summary", Static).update(_("Interviews: {shown}").format(shown=shown))
