"""The interviewer form (T1.4): one question per screen, keyboard only, every answer committed at once.

The engine decides everything (routing, validation, storage); this screen only renders
`InterviewEngine.view()` and turns keys into `submit` / `submit_special` / `back` / `note` calls.
Digits choose codes: a single choice moves on by itself and a multi choice ticks the code as soon as the
digits typed can only mean one code. With codes 1 and 10, "1" waits a short pause (`DIGIT_PAUSE`) for a
second digit, Enter takes it at once, and a digit that cannot continue the code ("1" then "9" on a 0-10
scale) takes "1" and starts the next code with "9": no digit is ever dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from survey_tui.core.interview.capture import (
    CaptureSession,
    assigned_respondents,
    outcome_label,
    resumable_interviews,
    resume_session,
    start_session,
)
from survey_tui.core.interview.engine import QuestionView
from survey_tui.core.interview.messages import localise, status_word
from survey_tui.core.interview.preview import InterviewSession
from survey_tui.core.store.base import StoreError
from survey_tui.i18n import N_, _
from survey_tui.tui.footer import FittingFooter
from survey_tui.tui.keys import KeyedModal
from survey_tui.tui.localize import MODES, respondent_status
from survey_tui.tui.messages import Loaded, LoadFailed
from survey_tui.tui.render import Wrapped, cells, fit, widest, wrap

#: the interview's clock (elapsed time in the status line); a test fixes it for reproducible screenshots
clock = time.monotonic

#: how long a code that could still grow ("1" among 1 and 10) waits for its second digit, in seconds
DIGIT_PAUSE = 0.8

UI: dict[str, dict[str, str]] = {
    "consent_title": {"en": "Consent", "zh-TW": "受訪同意"},
    "agree": {"en": "Agrees to take part", "zh-TW": "同意受訪"},
    "refuse": {"en": "Refuses", "zh-TW": "拒絕受訪"},
    "end": {
        "en": "End of the questionnaire. Enter records the interview as complete; PgUp goes back.",
        "zh-TW": "問卷已結束。按 Enter 記錄為完成訪問；PgUp 回上一題。",
    },
    "done": {
        "en": "Interview #{id} ended: {outcome}. Press Enter to close.",
        "zh-TW": "訪問 #{id} 已結束：{outcome}。按 Enter 關閉。",
    },
    "current": {"en": "Current answer: {value}", "zh-TW": "目前答案：{value}"},
    "first": {"en": "This is the first question.", "zh-TW": "這是第一題。"},
    "store_retry": {
        "en": "your answer is still here: press Enter again once the server is back",
        "zh-TW": "您輸入的答案仍保留：伺服器恢復後再按 Enter",
    },
    "noted": {"en": "Note saved.", "zh-TW": "註記已儲存。"},
    "not_code": {"en": "{value} is not a code here.", "zh-TW": "{value} 不是本題的代碼。"},
    "typed": {"en": "Typed: {value} (Enter to confirm)", "zh-TW": "已輸入：{value}（按 Enter 確認）"},
    "pilot": {"en": "PILOT", "zh-TW": "試訪"},
    "preview": {"en": "PREVIEW — NOTHING SAVED", "zh-TW": "PREVIEW — NOTHING SAVED 預覽不儲存"},
    "preview_done": {
        "en": "Preview ended: {outcome}. Nothing was saved. Press Enter to close.",
        "zh-TW": "預覽已結束：{outcome}。沒有儲存任何資料。按 Enter 關閉。",
    },
    "stopped": {"en": "stopped", "zh-TW": "已停止"},
    "preview_note": {"en": "Preview: the note is not saved.", "zh-TW": "預覽：註記不會儲存。"},
    "quota_cell": {"en": "Full quota cell: {cell}", "zh-TW": "已滿的配額格：{cell}"},
}


def ui(key: str, language: str, **values: object) -> str:
    return localise(UI, key, language, **values)


def current_interviewer(app: object) -> str | None:
    """The interviewer last named in this app (the start list's name field, or the Respondents section)."""
    return getattr(app, "interviewer", None) or None


def remember_interviewer(app: object, name: str | None) -> None:
    """Keep the name for the next interview started in this app (SurveyApp has no field for it)."""
    if name:
        app.interviewer = name  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Option:
    code: int
    label: str
    special: str | None = None  # 'dont_know' / 'refused' for the special rows


class ChoiceBoard(Static, can_focus=True):
    """Numbered choices (single, scale, multi, consent) or a grid (rows × one shared scale).

    Keys: digits pick a code, up/down move, space toggles in a multi choice. The board posts
    `ChoiceBoard.Picked` when a single choice is unambiguous; Enter is the screen's.
    """

    DEFAULT_CSS = """
    ChoiceBoard { height: auto; padding: 0 1; }
    ChoiceBoard:focus { background: $boost; }
    """

    class Picked(Message):
        """A single choice (or consent) was chosen by its code; `carry` is a digit typed past it."""

        def __init__(self, option: Option, carry: str = "") -> None:
            super().__init__()
            self.option = option
            self.carry = carry

    class Problem(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.kind = "single"
        self.options: list[Option] = []
        self.items: list[tuple[str, str]] = []
        self.cursor: int | None = None
        self.checked: set[int] = set()
        self.grid: dict[str, int] = {}
        self.buffer = ""
        self.language = "en"
        self._pause: Timer | None = None

    def load(
        self,
        kind: str,
        options: list[Option],
        items: list[tuple[str, str]] | None = None,
        value: object = None,
        language: str = "en",
        special: str | None = None,
    ) -> None:
        """Show a question's choices; `value` or `special` (a stored don't-know) puts the cursor on the answer."""
        self._stop_pause()
        self.kind, self.options, self.items = kind, options, items or []
        self.buffer, self.language = "", language
        self.checked = set(value) if kind == "multi" and isinstance(value, list) else set()
        self.grid = dict(value) if kind == "grid" and isinstance(value, dict) else {}
        self.cursor = None
        if kind == "grid":
            self.cursor = 0
        elif isinstance(value, int):
            self.cursor = next((i for i, o in enumerate(options) if o.code == value and not o.special), None)
        if special is not None and kind != "grid":
            self.cursor = next((i for i, o in enumerate(options) if o.special == special), self.cursor)
        if self.cursor is None and kind == "multi" and options:
            self.cursor = 0
        self.redraw()

    # -- keys ------------------------------------------------------------------------------------
    def _codes(self) -> list[Option]:
        if self.kind == "grid":
            return [o for o in self.options if o.special is None]
        return [o for o in self.options if o.code >= 0]

    def on_key(self, event: events.Key) -> None:
        key = event.key
        if event.character and event.character.isdigit() and len(event.character) == 1:
            event.stop()
            self.type_digit(event.character)
        elif key == "backspace" and self.buffer:
            event.stop()
            self._stop_pause()
            self.buffer = self.buffer[:-1]
            self.redraw()
        elif key == "up":
            event.stop()
            self.move(-1)
        elif key == "down":
            event.stop()
            self.move(1)
        elif key == "space" and self.kind == "multi":
            event.stop()
            self.toggle()

    def move(self, step: int) -> None:
        size = len(self.items) if self.kind == "grid" else len(self.options)
        if size:
            self._stop_pause()
            self.cursor = 0 if self.cursor is None else (self.cursor + step) % size
            self.buffer = ""
            self.redraw()

    def _stop_pause(self) -> None:
        if self._pause is not None:
            self._pause.stop()
            self._pause = None

    def _exact(self, typed: str) -> Option | None:
        return next((o for o in self._codes() if str(o.code) == typed), None)

    def type_digit(self, digit: str) -> None:
        self._stop_pause()
        typed = self.buffer + digit
        codes = self._codes()
        prefix = [o for o in codes if str(o.code).startswith(typed)]
        if not prefix:
            if self.buffer and self._exact(self.buffer) is not None:
                self.commit_buffer(carry=digit)  # "1" then "9" on 0-10: 1 is the code, 9 starts the next
                return
            self.buffer = ""
            self.post_message(self.Problem(ui("not_code", self.language, value=typed)))
            self.redraw()
            return
        self.buffer = typed
        exact = self._exact(typed)
        if exact is not None and self.kind != "grid":
            self.cursor = self.options.index(exact)
        if exact is not None and len(prefix) == 1:
            self.commit_buffer()
            return
        if exact is not None:  # a code that may still grow: the second digit has a short pause to come
            self._pause = self.set_timer(DIGIT_PAUSE, self._pause_over)
        self.redraw()

    def _pause_over(self) -> None:
        self._pause = None
        if self.buffer:
            self.commit_buffer()

    def commit_buffer(self, carry: str = "") -> bool:
        """Act on the digits typed so far if they are a code; True when they were.

        `carry` is a digit typed after the code that belongs to the next code (on this board, or on the
        next question's when a single choice moves on).
        """
        self._stop_pause()
        exact = self._exact(self.buffer)
        self.buffer = ""
        if exact is None:
            return False
        if self.kind == "grid":
            if self.cursor is not None and self.items:
                self.grid[self.items[self.cursor][0]] = exact.code
                self.cursor = min(self.cursor + 1, len(self.items) - 1)
        elif self.kind == "multi":
            self.cursor = self.options.index(exact)
            if exact.special is not None:
                self.post_message(self.Picked(exact, carry))
                carry = ""
            else:
                self.checked ^= {exact.code}  # one key per code: the digit ticks (or unticks) it
        else:
            self.cursor = self.options.index(exact)
            self.post_message(self.Picked(exact, carry))
            carry = ""
        self.redraw()
        if carry:
            self.type_digit(carry)
        return True

    def toggle(self) -> None:
        """Space: tick or untick the choice under the cursor (digits still waiting are taken first)."""
        if self.buffer:
            self.commit_buffer()
            return
        if self.cursor is None:
            return
        option = self.options[self.cursor]
        if option.special is not None:
            self.post_message(self.Picked(option))
            return
        self.checked ^= {option.code}
        self.redraw()

    def value(self) -> object:
        """What Enter submits for this board (the engine validates it)."""
        if self.kind == "multi":
            return sorted(self.checked)
        if self.kind == "grid":
            return dict(self.grid)
        return None

    # -- drawing ---------------------------------------------------------------------------------
    def _label_width(self, prefix: int) -> int:
        """Cells left for a choice label after its code and box (the board's width less its padding)."""
        width = self.content_size.width or max(self.app.size.width - 4, 20)
        return max(width - prefix, 10)

    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        """The board's content is recomputed from its state on every change."""
        self.update(self.draw())

    def draw(self) -> Text:
        text = Text()
        if self.kind == "grid":
            legend = "  ".join(f"{o.code} {o.label}" for o in self.options if o.special is None)
            text.append(legend + "\n", style="dim")
            width = widest([label for _, label in self.items])  # display cells: CJK rows line up
            labels = {o.code: o.label for o in self.options}
            for index, (name, label) in enumerate(self.items):
                here = index == self.cursor
                code = self.grid.get(name)
                mark = "▸ " if here else "  "
                text.append(mark + fit(label, width) + "  ", style="bold" if here else "")
                if code is not None:
                    text.append(f"[{code}] {labels.get(code, '')}", style="green")
                elif here and self.buffer:
                    text.append(f"[{self.buffer}_]", style="yellow")
                else:
                    text.append("[ ]", style="dim")
                text.append("\n")
        else:
            for index, option in enumerate(self.options):
                here = index == self.cursor
                box = ""
                if self.kind == "multi" and option.special is None:
                    box = "[x] " if option.code in self.checked else "[ ] "
                style = "reverse" if here else ("dim" if option.special else "")
                prefix = ("▸ " if here else "  ") + f"{option.code:>3}  " + box
                lines = wrap(option.label, self._label_width(cells(prefix)))
                text.append(prefix + lines[0], style=style)
                for more in lines[1:]:  # a long label wraps under itself, not under the codes
                    text.append("\n" + " " * cells(prefix) + more, style=style)
                text.append("\n")
            if self.buffer:
                text.append(ui("typed", self.language, value=self.buffer), style="yellow")
        text.rstrip()
        return text


class NoteScreen(KeyedModal[str | None]):
    """The interviewer's remark on the current question."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="interview.note.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="iv-modal"):
            yield Static(_("Note (Enter saves, Esc cancels)"))
            yield Input(id="note-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class StopScreen(KeyedModal[str | None]):
    """Stop the interview: suspend (resume later) or record a break-off."""

    BINDINGS = [
        Binding("s", "choose('suspend')", N_("Suspend"), id="interview.stop.suspend"),
        Binding("b", "choose('break_off')", N_("Break off"), id="interview.stop.break_off"),
        Binding("escape", "choose('')", N_("Continue"), id="interview.stop.cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="iv-modal"):
            yield Static(
                _(
                    "Stop the interview\n\n"
                    "  s  Suspend — resume later where it stopped\n"
                    "  b  Break off — the respondent stopped\n"
                    "  Esc  Continue the interview"
                )
            )

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice or None)


HELP_KEYS: list[tuple[str, str]] = [
    ("0-9", N_("choose a code (a single choice moves on when the code is unambiguous)")),
    ("↑ ↓", N_("move between choices or grid rows")),
    ("space", N_("tick / untick in a multi choice")),
    ("Enter", N_("accept and go on")),
    ("PgUp", N_("back to the previous question (answers kept)")),
    ("F8", N_("don't know")),
    ("F9", N_("refused")),
    ("F2", N_("note on this question")),
    ("F4", N_("switch the interview language")),
    ("F10", N_("stop: suspend or break off")),
    ("F1 ?", N_("this help")),
    ("Esc", N_("close a builder preview (nothing is saved)")),
]


class HelpScreen(KeyedModal[None]):
    BINDINGS = [Binding("escape,f1,question_mark,enter", "close", N_("Close"), id="interview.help.close")]

    def compose(self) -> ComposeResult:
        lines = "\n".join(f"  {key:<7} {_(text)}" for key, text in HELP_KEYS)
        with Vertical(classes="iv-modal"):
            yield Static(_("Interview keys") + "\n\n" + lines + "\n\n" + _("Esc closes"))

    def action_close(self) -> None:
        self.dismiss(None)


class InterviewScreen(Screen[str | None]):
    """One interview: consent, the questions, the end screen; dismisses with how it ended.

    The session is a stored `CaptureSession` or the builder's `PreviewSession` (same keys, same drawing,
    nothing stored; Esc also closes a preview).
    """

    #: app shortcuts (sections, quit) are off while an interview is on screen
    TAKES_ALL_KEYS = True

    BINDINGS = [
        # by importance: the footer shows the first ones that fit, F1 lists them all
        Binding("enter", "next", N_("Next"), id="interview.next", tooltip=N_("Accept the answer and go on")),
        Binding("pageup", "back", N_("Back"), id="interview.back", tooltip=N_("Previous question; answers are kept")),
        Binding("f8", "special('dont_know')", N_("Don't know"), id="interview.dont_know", priority=True),
        Binding("f9", "special('refused')", N_("Refused"), id="interview.refused", priority=True),
        Binding("f1", "help", N_("Help"), id="interview.help", priority=True),
        Binding("f10", "stop", N_("Stop"), id="interview.stop", priority=True, tooltip=N_("Suspend or break off")),
        Binding("f2", "note", N_("Note"), id="interview.note", priority=True),
        Binding("f4", "language", N_("Language"), id="interview.language", priority=True),
        Binding("question_mark", "help", N_("Help"), id="interview.help_q", show=False),
        Binding("escape", "close_preview", N_("Close preview"), id="interview.preview.close"),
    ]

    def __init__(self, session: CaptureSession | InterviewSession) -> None:
        super().__init__()
        self.session = session
        #: the clock goes on across sittings: a resumed interview starts from the time already spent
        self.started = clock() - float(getattr(session, "elapsed_before", 0.0))
        self.stage = "question"
        self.view: QuestionView | None = None
        self._heading: str | None = None  # the loop heading on screen

    def compose(self) -> ComposeResult:
        yield Static("", id="iv-status")
        with VerticalScroll(id="iv-body"):
            yield Static("", id="iv-loop")  # "Brand 2 of 4: 50嵐" while in a loop
            yield Static("", id="iv-label")
            yield Static("", id="iv-hint")
            yield ChoiceBoard(id="iv-board")
            yield Input(id="iv-input")
            yield Static("", id="iv-message")  # right under the answer, where the interviewer is looking
        yield FittingFooter()

    def on_mount(self) -> None:
        self.set_interval(1.0, self.update_status)
        self.show()

    # -- rendering -------------------------------------------------------------------------------
    @property
    def lang(self) -> str:
        return self.session.language

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_preview":
            return self.session.preview  # a real interview ends only through F10 or its end screen
        return True

    def update_status(self) -> None:
        engine = self.session.engine
        seconds = int(clock() - self.started)
        parts = []
        if self.session.preview:
            parts.append(ui("preview", self.lang))
        if self.view is not None:
            progress = engine.progress()
            parts += [self.view.section, f"{self.view.number}/{self.view.total}", f"{progress.percent}%"]
        if self.session.interview_id is not None:
            parts.append(f"#{self.session.interview_id}")
        if self.session.respondent_id:
            parts.append(self.session.respondent_id)
        parts += [f"{seconds // 60:02d}:{seconds % 60:02d}", self.lang]
        if self.session.mode == "pilot":
            parts.append(ui("pilot", self.lang))
        status = Text(" · ".join(parts))
        if self.session.preview:
            status.stylize("bold black on yellow", 0, len(parts[0]))
        self.query_one("#iv-status", Static).update(status)

    def say(self, text: str, error: bool = False) -> None:
        widget = self.query_one("#iv-message", Static)
        widget.update(Text(text, style="bold red" if error else "green"))

    def show(self, message: str = "") -> None:
        """Draw the current stage from the engine's state (the single source of truth)."""
        session, engine = self.session, self.session.engine
        board = self.query_one(ChoiceBoard)
        field = self.query_one("#iv-input", Input)
        label = self.query_one("#iv-label", Static)
        hint = self.query_one("#iv-hint", Static)
        heading = ""  # the loop heading, set once at the end: toggling it twice would lay the screen out twice
        self.view = None
        hint.update("")
        if session.outcome is not None and (engine.finished or session.closed_outcome):
            self.stage = "done"
            outcome = outcome_label(session.outcome, self.lang)
            if session.preview:  # nothing to resume: a suspended preview simply stopped
                stopped = ui("stopped", self.lang) if session.outcome == "suspended" else outcome
                text = ui("preview_done", self.lang, outcome=stopped)
            else:
                text = ui("done", self.lang, id=session.interview_id, outcome=outcome)
            if session.outcome == "quota_full" and session.full_quota_cell:
                text += "\n" + ui("quota_cell", self.lang, cell=session.full_quota_cell)
            if engine.end_message:  # the terminate rule's words for the respondent
                text += "\n\n" + engine.end_message
            label.update(Wrapped(text, style="bold"))
            board.display = field.display = False
        elif session.needs_consent:
            self.stage = "consent"
            label.update(Wrapped(session.consent_text(), style="bold"))
            hint.update(ui("consent_title", self.lang))
            board.load(
                "single", [Option(1, ui("agree", self.lang)), Option(2, ui("refuse", self.lang))], language=self.lang
            )
            board.display, field.display = True, False
            board.focus()
        elif engine.current is None:
            self.stage = "end"
            label.update(Wrapped(ui("end", self.lang), style="bold"))
            board.display = field.display = False
        else:
            self.stage = "question"
            view = engine.view()
            assert view is not None
            self.view = view
            q = view.question
            label.update(Wrapped(view.label, style="bold"))  # Chinese breaks between characters
            hint.update(Wrapped(view.hint, style="italic"))
            if view.loop is not None:
                heading = view.loop.heading
            value = view.answer.value if view.answer and view.answer.special is None else None
            if q.type in ("single", "scale", "multi", "grid"):
                options = [Option(c.code, c.label) for c in view.choices]
                if q.type != "grid":
                    options += [Option(code, lbl, name) for name, code, lbl in view.specials]
                special = view.answer.special if view.answer is not None else None
                board.load(q.type, options, list(view.items), value, self.lang, special)
                board.display, field.display = True, False
                board.focus()
            elif q.type == "note":
                board.display = field.display = False
                self.set_focus(None)
            else:
                field.value = "" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
                field.placeholder = "YYYY-MM-DD" if q.type == "date" else ""
                board.display, field.display = False, True
                field.focus()
            if not message and view.answer is not None and view.answer.special is not None:
                special = next((lbl for n, _, lbl in view.specials if n == view.answer.special), view.answer.special)
                message = ui("current", self.lang, value=special)
        loop = self.query_one("#iv-loop", Static)
        if heading != self._heading:
            self._heading = heading
            loop.update(Text(heading, style="bold reverse"))
        if loop.display != bool(heading):
            loop.display = bool(heading)
        self.say(message)
        self.update_status()

    # -- acting ----------------------------------------------------------------------------------
    def _result(self, result: object) -> None:
        accepted = getattr(result, "accepted", False)
        if accepted:
            self.show()
            return
        rejection = getattr(result, "rejection", None)
        text = rejection.message if rejection is not None else "?"
        board = self.query_one(ChoiceBoard)
        if rejection is not None and rejection.field and board.kind == "grid":
            names = [name for name, _ in board.items]
            if rejection.field in names:
                board.cursor = names.index(rejection.field)
                board.redraw()
        self.say(text, error=True)  # the cursor stays where the fix is needed

    def _kept_special(self, value: object) -> str | None:
        """The stored don't-know/refused to keep when Enter is pressed on a revisited question left as it was."""
        answer = self.view.answer if self.view is not None else None
        if answer is None or answer.special is None:
            return None
        return answer.special if value in (None, "", [], {}) else None

    def _kept_on_store_error(self, step: Callable[[], None]) -> None:
        """Run one step; if the store refuses it (the study server went away), say so and keep everything on
        screen as typed: nothing was stored, and the same key sends it again once the server is back."""
        try:
            step()
        except StoreError as exc:
            self.say(f"{exc} — {ui('store_retry', self.lang)}", error=True)

    def action_next(self) -> None:
        self._kept_on_store_error(self._next)

    def _next(self) -> None:
        engine = self.session.engine
        board = self.query_one(ChoiceBoard)
        if self.stage == "done":
            self.dismiss(self.session.outcome)
            return
        if self.stage == "end":
            self.session.complete()
            self.show()
            return
        if self.stage == "consent":
            if board.buffer:
                board.commit_buffer()
            elif board.cursor is not None:
                self.on_choice_board_picked(ChoiceBoard.Picked(board.options[board.cursor]))
            return
        if self.view is None:
            return
        qtype = self.view.question.type
        if qtype == "note":
            self._result(engine.submit(None))
        elif qtype in ("single", "scale"):
            if board.buffer:
                typed = board.buffer
                if not board.commit_buffer():
                    self.say(ui("not_code", self.lang, value=typed), error=True)
                return
            option = board.options[board.cursor] if board.cursor is not None else None
            kept = self._kept_special(None) if option is None else None
            if option is not None and option.special:
                self._result(engine.submit_special(option.special))
            elif kept is not None:
                self._result(engine.submit_special(kept))
            else:
                self._result(engine.submit(None if option is None else option.code))
        elif qtype == "grid" and board.buffer:
            typed = board.buffer
            if board.commit_buffer():
                self.say("")
            else:
                self.say(ui("not_code", self.lang, value=typed), error=True)
        elif qtype in ("multi", "grid"):
            if board.buffer:
                board.commit_buffer()
            kept = self._kept_special(board.value())
            if kept is not None:
                self._result(engine.submit_special(kept))
            else:
                self._result(engine.submit(board.value()))
        else:
            typed = self.query_one("#iv-input", Input).value
            kept = self._kept_special(typed.strip())
            self._result(engine.submit_special(kept) if kept is not None else engine.submit(typed))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_next()

    def on_choice_board_picked(self, message: ChoiceBoard.Picked) -> None:
        self._kept_on_store_error(lambda: self._picked(message))

    def _picked(self, message: ChoiceBoard.Picked) -> None:
        option = message.option
        if self.stage == "consent":
            self.session.record_consent(option.code == 1)
            self.show()
            return
        if self.stage != "question":
            return
        if option.special is not None:
            self._result(self.session.engine.submit_special(option.special))
        else:
            self._result(self.session.engine.submit(option.code))
        if message.carry and self.stage == "question":
            self.type_ahead(message.carry)

    def type_ahead(self, digit: str) -> None:
        """A digit typed past the last code belongs to the question now on screen."""
        board, field = self.query_one(ChoiceBoard), self.query_one("#iv-input", Input)
        if board.display:
            board.type_digit(digit)
        elif field.display:
            field.insert_text_at_cursor(digit)

    def on_choice_board_problem(self, message: ChoiceBoard.Problem) -> None:
        self.say(message.text, error=True)

    def action_back(self) -> None:
        if self.stage not in ("question", "end"):
            return
        if self.session.engine.back():
            self.show()
        else:
            self.say(ui("first", self.lang), error=True)

    def action_special(self, special: str) -> None:
        if self.stage == "question":
            self._kept_on_store_error(lambda: self._result(self.session.engine.submit_special(special)))

    def action_language(self) -> None:
        if self.stage == "done":
            return
        board, field = self.query_one(ChoiceBoard), self.query_one("#iv-input", Input)
        kept = (board.kind, set(board.checked), dict(board.grid), board.cursor)
        typed = field.value if field.display else None
        self.session.set_language(self.session.next_language())
        self.show()
        if board.kind == kept[0]:  # ticks not yet submitted survive the switch
            board.checked, board.grid, board.cursor = kept[1], kept[2], kept[3]
            board.redraw()
        if typed is not None and field.display:  # and so does text typed but not yet submitted
            field.value = typed
            field.cursor_position = len(typed)

    def action_note(self) -> None:
        if self.stage != "question":
            return

        def saved(text: str | None) -> None:
            if text:
                self.session.engine.note(text)
                self.say(ui("preview_note" if self.session.preview else "noted", self.lang))

        self.app.push_screen(NoteScreen(), saved)

    def action_stop(self) -> None:
        if self.stage == "done":
            return

        def chosen(choice: str | None) -> None:
            if choice == "suspend":
                self.session.suspend()
            elif choice == "break_off":
                self.session.break_off()
            self.show()

        self.app.push_screen(StopScreen(), chosen)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_close_preview(self) -> None:
        """Leave a preview at once (there is nothing to suspend or record)."""
        if self.session.preview:
            self.dismiss(self.session.outcome)

    def on_unmount(self) -> None:
        self.session.close()


START_COLUMNS = (N_("Start"), N_("Who"), N_("Status"), N_("Interviewer"), N_("Appointment / at question"))


class StartScreen(Screen[None]):
    """Pick who to interview: a walk-in, an assigned respondent, or a suspended interview to resume."""

    BINDINGS = [
        Binding("enter", "start", N_("Start"), id="interview.start.go", tooltip=N_("Start or resume the selected row")),
        Binding(
            "m", "mode", N_("Field/Pilot"), id="interview.start.mode", tooltip=N_("Switch between field and pilot")
        ),
        Binding("f4", "language", N_("Language"), id="interview.start.language"),
        Binding("escape", "leave", N_("Close"), id="interview.start.leave"),
    ]

    def __init__(self, interviewer: str | None = None, mode: str = "field", language: str | None = None) -> None:
        super().__init__()
        self.interviewer = interviewer
        self.mode = mode
        self.language = language
        self.rows: list[tuple[str, object]] = []

    def compose(self) -> ComposeResult:
        self.interviewer = self.interviewer or current_interviewer(self.app)
        yield Static("", id="iv-start-title")
        yield Input(value=self.interviewer or "", placeholder=_("Interviewer"), id="iv-interviewer")
        yield DataTable(id="iv-start-list", cursor_type="row")
        yield Static("", id="iv-message")
        yield FittingFooter()

    def on_mount(self) -> None:
        self.load()
        if self.interviewer:
            self.query_one(DataTable).focus()
        else:  # every interview is signed: the name comes first
            self.query_one("#iv-interviewer", Input).focus()

    def on_screen_resume(self) -> None:
        self.load()

    def update_title(self) -> None:
        study = self.app.study  # type: ignore[attr-defined]
        lang = self.language or study.config.language
        self.query_one("#iv-start-title", Static).update(
            Text(
                _("{title} — new interview · mode: {mode} · language: {lang}").format(
                    title=study.config.title, mode=_(MODES.get(self.mode, self.mode)), lang=lang
                ),
                style="bold",
            )
        )

    @work(thread=True, exclusive=True, group="interview-start")
    def load(self) -> None:
        try:
            with self.app.study.store() as store:  # type: ignore[attr-defined]
                walk_ins = resumable_interviews(store, self.interviewer or None)  # their own when named
                respondents = assigned_respondents(store, self.interviewer or None)
        except Exception as exc:  # noqa: BLE001 - shown on screen
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(Loaded(("list", walk_ins, respondents)))

    def on_loaded(self, message: Loaded) -> None:
        data = message.data
        if data[0] == "session":
            self.app.push_screen(InterviewScreen(data[1]))
            return
        _skip, resumable, respondents = data
        self.update_title()
        rows: list[tuple[str, ...]] = [(_("New"), _("Walk-in (anonymous)"), "", "", "")]
        self.rows = [("walk_in", None)]
        for r in resumable:  # unfinished interviews first: someone is waiting to finish them
            self.rows.append(("resume", r["id"]))
            respondent = r["respondent_id"] or _("walk-in")
            mode = _(MODES.get(r["mode"], r["mode"]))
            who = f"#{r['id']} {respondent} ({mode})"
            status = status_word(str(r["status"]))
            rows.append((_("Resume"), who, status, r["interviewer"] or "—", str(r["current_question"] or _("end"))))
        for r in respondents:  # the interviewer's own, next appointment first
            self.rows.append(("respondent", r["id"]))
            when = str(r["next_appointment"] or "").replace("T", " ")[:16]
            rows.append((_("New"), str(r["id"]), respondent_status(str(r["status"])), r["interviewer"] or "—", when))
        table = self.query_one(DataTable)
        table.clear(columns=True)
        # widths measured here by display cells, so the columns never collapse to their headers when the list
        # is rebuilt while the screen is coming back from an interview
        for index, header in enumerate(START_COLUMNS):
            table.add_column(_(header), width=widest([_(header), *(row[index] for row in rows)]))
        table.add_rows(rows)

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#iv-message", Static).update(Text(message.error, style="bold red"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.interviewer = event.value.strip() or None
        remember_interviewer(self.app, self.interviewer)
        self.query_one(DataTable).focus()
        self.load()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_start()

    def action_start(self) -> None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return
        self.interviewer = self.query_one("#iv-interviewer", Input).value.strip() or None
        remember_interviewer(self.app, self.interviewer)
        kind, key = self.rows[table.cursor_row]
        self.open_session(kind, key)

    @work(thread=True, exclusive=True, group="interview-open")
    def open_session(self, kind: str, key: object) -> None:
        study = self.app.study  # type: ignore[attr-defined]
        try:
            if kind == "resume":
                session = resume_session(study, int(key), interviewer=self.interviewer)  # type: ignore[call-overload]
            else:
                session = start_session(
                    study,
                    mode=self.mode,
                    interviewer=self.interviewer,
                    respondent_id=str(key) if kind == "respondent" else None,
                    language=self.language,
                )
        except Exception as exc:  # noqa: BLE001 - shown on screen
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(Loaded(("session", session)))

    def action_mode(self) -> None:
        self.mode = "pilot" if self.mode == "field" else "field"
        self.update_title()

    def action_language(self) -> None:
        langs = self.app.study.config.languages  # type: ignore[attr-defined]
        current = self.language or self.app.study.config.language  # type: ignore[attr-defined]
        self.language = langs[(langs.index(current) + 1) % len(langs)] if current in langs else langs[0]
        self.update_title()

    def action_leave(self) -> None:
        if len(self.app.screen_stack) > 1 and not getattr(self.app, "is_interview_app", False):
            self.dismiss(None)
        else:
            self.app.exit()
