"""The call screen (T1.3 P1.3.3): work through the call queue with the keyboard alone.

It asks the queue for the next case, leased to the interviewer, and shows its id, why it came up, the call
history, the appointment and the notes. Contact data (name, phone) is read only for the case leased to this
interviewer, and cleared from the screen as soon as the call is recorded. One key per outcome (the study's
mapping, shown on screen) records the call and brings the next case; `i` starts the interview through the
same CaptureSession as everywhere else, and its end becomes the call's outcome; `c` (a callback) and `a` (a
firm appointment) ask for a date and time typed on the keyboard; `t` adds a note to the call; escape gives
the case back unchanged and leaves.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from survey_tui.i18n import N_, _, study_language
from survey_tui.tui.footer import FittingFooter
from survey_tui.tui.localize import respondent_status
from survey_tui.tui.messages import Loaded, LoadFailed
from survey_tui.tui.render import cells, fill_table

#: how long the case stays leased once its interview starts (the interview's end records the call)
INTERVIEW_LEASE_MINUTES = 240
HISTORY_COLUMNS = (N_("When"), N_("Interviewer"), N_("Outcome"), "AAPOR", N_("Note"))
#: why the queue brought the case up (core/fieldwork/call_queue.py), in the interface language
WHY_WORDS = {
    "lease": N_("still leased to you"),
    "appointment (hard)": N_("firm appointment due"),
    "appointment (soft)": N_("appointment due"),
    "fresh": N_("first call"),
    "retry": N_("redial"),
}


def key_legend(words: list[tuple[str, str]], width: int) -> Text:
    """One key per outcome, 'n  no answer', laid in lines by display width: a line breaks between two keys,
    never inside one's words (so 'household reached, screener not done' stays on one line)."""
    legend = Text()
    used = 0
    for key, word in words:
        size = cells(f" {key}   {word}") + 3
        if used and used + size > width:
            legend.append("\n")
            used = 0
        legend.append(f" {key} ", style="reverse")
        legend.append(f" {word}   ")
        used += size
    legend.rstrip()
    return legend


class CallScreen(Screen[None]):
    """One interviewer's calls, case after case."""

    BINDINGS = [
        Binding("i", "interview", N_("Interview"), id="calls.interview", tooltip=N_("Start (or resume) the interview")),
        Binding("a", "appointment", N_("Appointment"), id="calls.appointment", tooltip=N_("Book a firm appointment")),
        Binding("t", "note", N_("Note"), id="calls.note", tooltip=N_("A note for this call")),
        Binding("escape", "leave", N_("Leave"), id="calls.leave", tooltip=N_("Give the case back unchanged and leave")),
    ]

    def __init__(self, interviewer: str | None = None, clock: Any = None) -> None:
        super().__init__()
        self.interviewer = interviewer
        self.clock = clock  # the queue's clock (None: the system's); tests give a fixed one
        self.case: Any = None
        self.note: str | None = None
        self.busy = False
        settings = self._settings()
        self.keys = settings.by_key()
        self.outcomes = settings.all_outcomes()

    def _settings(self) -> Any:
        from survey_tui.core.fieldwork.dispositions import settings_of

        return settings_of(self.app.study.config)  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="call-case")
        yield Static("", id="call-contact")
        yield Static("", id="call-appointment")
        yield DataTable(id="call-history", cursor_type="row", zebra_stripes=True)
        yield Static("", id="call-keys")
        yield Static("", id="call-message")
        yield FittingFooter()

    def on_mount(self) -> None:
        from survey_tui.tui.screens.interview import current_interviewer

        self.key_words = [(key, self.outcome_text(name)) for key, name in self.keys.items()]
        self.key_words += [("i", _("interview")), ("a", _("firm appointment")), ("t", _("note"))]
        self.query_one("#call-keys", Static).update(key_legend(self.key_words, self.app.size.width - 2))
        self.interviewer = self.interviewer or current_interviewer(self.app)
        if self.interviewer:
            self.next_case()
            return
        from survey_tui.tui.screens.respondents import AskScreen

        def named(value: str | None) -> None:
            if not value:
                self.dismiss(None)
                return
            from survey_tui.tui.screens.interview import remember_interviewer

            self.interviewer = value.strip()
            remember_interviewer(self.app, self.interviewer)
            self.next_case()

        self.app.push_screen(AskScreen(_("Who is calling? (the interviewer's name)"), "陳怡君"), named)

    def on_resize(self, event: events.Resize) -> None:
        if getattr(self, "key_words", None):
            self.query_one("#call-keys", Static).update(key_legend(self.key_words, event.size.width - 2))

    def outcome_text(self, name: str) -> str:
        """A call outcome in the interface language (the study's mapping carries both)."""
        language = study_language(self.app.study.config.languages)  # type: ignore[attr-defined]
        outcome = self.outcomes.get(name)
        return outcome.text(language, name) if outcome is not None else name.replace("_", " ")

    # -- loading -----------------------------------------------------------------------------------
    def _queue(self, store: Any) -> Any:
        from survey_tui.core.fieldwork.call_queue import for_study, system_clock

        return for_study(self.app.study, store, self.clock or system_clock)  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="calls")
    def next_case(self, message: str = "") -> None:
        from survey_tui.core.fieldwork import respondents as resp
        from survey_tui.core.fieldwork.dispositions import history

        try:
            with self.app.study.store() as store:  # type: ignore[attr-defined]
                case = self._queue(store).next_case(str(self.interviewer))
                if case is None:
                    self.post_message(Loaded(("empty", message)))
                    return
                calls = [tuple(r) for r in history(store, case.id)]
                notes = [
                    tuple(r)
                    for r in store.query(
                        "SELECT at, note FROM appointments WHERE respondent_id = ? AND note IS NOT NULL ORDER BY id",
                        (case.id,),
                    )
                ]
                # contact data: only the case the queue leased to this interviewer, for this call
                contact = resp.read_contacts(store, [case.id], purpose="call screen: the case leased to the caller")
                person = contact.row(0, named=True) if contact.height else {}
        except Exception as exc:  # noqa: BLE001 - shown on screen
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(Loaded(("case", case, calls, notes, person, message)))

    def on_loaded(self, message: Loaded) -> None:
        data = message.data
        self.busy = False
        if data[0] == "empty":
            self.case = None
            self.query_one("#call-case", Static).update(
                Text(_("No case can be called now (outside calling hours, waiting to redial, or all done)."), "bold")
            )
            for wid in ("#call-contact", "#call-appointment"):
                self.query_one(wid, Static).update("")
            self.query_one("#call-history", DataTable).clear(columns=True)
            self._say(data[1])
            return
        _kind, case, calls, notes, person, text = data
        self.case = case
        self.note = None
        self.query_one("#call-case", Static).update(
            Text.assemble(
                (f"{case.id}", "bold"),
                "  "
                + _("{why}  ·  attempts {attempts}  ·  {status}").format(
                    why=_(WHY_WORDS[case.why]) if case.why in WHY_WORDS else case.why,
                    attempts=case.attempts,
                    status=respondent_status(case.status),
                ),
                f"  ·  {case.timezone}",
            )
        )
        contact = "  ".join(v for v in (person.get("name"), person.get("phone")) if v) or _("(no phone on record)")
        self.query_one("#call-contact", Static).update(Text(f"☎ {contact}"))
        appointment = (
            _("Appointment {at} ({kind})").format(
                at=str(case.appointment).replace("T", " "),
                kind=_("firm") if case.appointment_kind == "hard" else _("soft"),
            )
            if case.appointment
            else _("No appointment")
        )
        if notes:
            appointment += _("  ·  notes: ") + "; ".join(str(n[1]) for n in notes[-3:])
        self.query_one("#call-appointment", Static).update(Text(appointment))
        fill_table(
            self.query_one("#call-history", DataTable),
            [_(c) for c in HISTORY_COLUMNS],
            [
                (str(at)[:16].replace("T", " "), who or "—", self.outcome_text(str(outcome)), code or "", note or "")
                for at, who, outcome, code, note in calls
            ],
        )
        self._say(text)

    def on_load_failed(self, message: LoadFailed) -> None:
        self.busy = False
        self._say(message.error, error=True)

    def _say(self, text: str, error: bool = False) -> None:
        self.query_one("#call-message", Static).update(Text(text, style="bold red" if error else "green"))

    # -- recording ---------------------------------------------------------------------------------
    def on_key(self, event: events.Key) -> None:
        name = self.keys.get(event.key) if event.character else None
        if name is None or self.case is None or self.busy:
            return
        event.stop()
        if name == "callback":
            self._ask_time(hard=False)
            return
        self.record(name)

    def record(self, outcome: str, callback: str | None = None, hard: bool = False) -> None:
        self.busy = True
        self._record(self.case.id, outcome, callback, hard, self.note)

    @work(thread=True, exclusive=True, group="calls-record")
    def _record(self, rid: str, outcome: str, callback: str | None, hard: bool, note: str | None) -> None:
        try:
            with self.app.study.store() as store:  # type: ignore[attr-defined]
                attempts = self._queue(store).record_call(
                    rid, outcome, interviewer=str(self.interviewer), note=note, callback=callback, hard=hard
                )
        except Exception as exc:  # noqa: BLE001 - CallError: said on screen, the case is unchanged and still leased
            self.post_message(LoadFailed(str(exc)))
            return
        said = (
            _("{case}: {outcome} (attempt {attempts}, callback {callback})")
            if callback
            else _("{case}: {outcome} (attempt {attempts})")
        )
        text = said.format(case=rid, outcome=self.outcome_text(outcome), attempts=attempts, callback=callback)
        self.app.call_from_thread(self.next_case, text)

    def _ask_time(self, hard: bool, after: str = "callback") -> None:
        from survey_tui.tui.screens.respondents import AskScreen

        def done(value: str | None) -> None:
            if value:
                self.record(after if after != "suspended" else "callback", value, hard)
            elif after == "suspended":
                self.record("callback")  # no time given: the ordinary callback redial delay

        title = (
            _("Firm appointment (the respondent's local time)") if hard else _("Callback (the respondent's local time)")
        )
        self.app.push_screen(AskScreen(title, "2026-10-08 19:30"), done)

    def action_appointment(self) -> None:
        if self.case is not None and not self.busy:
            self._ask_time(hard=True)

    def action_note(self) -> None:
        if self.case is None:
            return
        from survey_tui.tui.screens.respondents import AskScreen

        def done(value: str | None) -> None:
            if value is not None:
                self.note = value.strip() or None
                self._say(
                    _("note kept for this call: {note}").format(note=self.note) if self.note else _("note cleared")
                )

        self.app.push_screen(AskScreen(_("Note for this call"), "晚上七點後方便", self.note or ""), done)

    # -- the interview -------------------------------------------------------------------------------
    def action_interview(self) -> None:
        if self.case is None or self.busy:
            return
        self.busy = True
        self._open_interview(self.case.id)

    @work(thread=True, exclusive=True, group="calls-interview")
    def _open_interview(self, rid: str) -> None:
        from survey_tui.core.interview.capture import CaptureError, open_for_respondent
        from survey_tui.core.problems import LoadError

        try:
            with self.app.study.store() as store:  # type: ignore[attr-defined]
                # the interview may outlast the lease: keep the case this interviewer's for its length
                if not self._queue(store).renew(rid, str(self.interviewer), INTERVIEW_LEASE_MINUTES):
                    self.post_message(
                        LoadFailed(_("{case} is no longer leased to you; ask for the next case").format(case=rid))
                    )
                    return
            session = open_for_respondent(self.app.study, rid, interviewer=self.interviewer)  # type: ignore[attr-defined]
        except (CaptureError, LoadError) as exc:
            text = "\n".join(map(str, exc.problems)) if isinstance(exc, LoadError) else str(exc)
            self.post_message(LoadFailed(text))
            return
        self.app.call_from_thread(self._open_form, session)

    def _open_form(self, session: Any) -> None:
        from survey_tui.tui.screens.interview import InterviewScreen

        self.app.push_screen(InterviewScreen(session), self._interview_ended)

    def _interview_ended(self, outcome: str | None) -> None:
        """The interview's end is the call's outcome; a suspended one asks when to call back."""
        self.busy = False
        if self.case is None:
            return
        if outcome in (None, "suspended"):
            self._ask_time(hard=False, after="suspended")
            return
        name = {"consent_refused": "refusal"}.get(outcome, outcome)
        if name == "break_off":
            name = self._break_off_kind(self.case.id)
        self.record(name)

    def _break_off_kind(self, rid: str) -> str:
        """A break-off past the partial threshold was already made a partial by the interview's recorder."""
        with self.app.study.store() as store:  # type: ignore[attr-defined]
            rows = store.query("SELECT disposition_outcome FROM respondents WHERE id = ?", (rid,))
        return "partial" if rows and rows[0][0] == "partial" else "break_off"

    def action_leave(self) -> None:
        if self.case is not None and self.interviewer:
            with self.app.study.store() as store:  # type: ignore[attr-defined]
                self._queue(store).release(self.case.id, self.interviewer)
        self.dismiss(None)
