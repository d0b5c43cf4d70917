"""`survey-tui interview`: the interviewer form on its own, for field staff who need nothing else."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from survey_tui.core.interview.capture import CaptureSession
from survey_tui.core.study import Study
from survey_tui.i18n import N_, set_language
from survey_tui.tui.keys import keys_binding, toggle_keys
from survey_tui.tui.localize import localize_bindings
from survey_tui.tui.screens.interview import InterviewScreen, StartScreen


class InterviewApp(App[str | None]):
    """Opens one given session directly, or the start list (walk-in / respondents / resume)."""

    TITLE = "survey-tui interview"
    CSS_PATH = ["app.tcss", "sections.tcss"]
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+q", "quit", N_("Quit"), id="interview.quit", show=False), keys_binding()]
    is_interview_app = True

    def __init__(
        self,
        study: Study,
        *,
        session: CaptureSession | None = None,
        interviewer: str | None = None,
        mode: str = "field",
        language: str | None = None,
        once: bool = False,
        ui_lang: str | None = None,
    ) -> None:
        if ui_lang is not None:
            set_language(ui_lang)
        super().__init__()
        localize_bindings(self)
        self.study = study
        self.session = session
        self.interviewer = interviewer
        self.mode = mode
        self.language = language
        self.once = once  # leave after the given interview instead of offering the next one
        self.sub_title = study.config.title

    def push_screen(self, screen, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        if isinstance(screen, Screen):
            localize_bindings(screen)
        return super().push_screen(screen, *args, **kwargs)

    def action_keys(self) -> None:
        """`?` on the start list (the interview form answers `?` with its own help)."""
        toggle_keys(self.screen)

    def on_mount(self) -> None:
        if self.session is not None and self.once:
            self.push_screen(InterviewScreen(self.session), lambda outcome: self.exit(outcome))
            return
        self.push_screen(StartScreen(self.interviewer, self.mode, self.language))
        if self.session is not None:
            self.push_screen(InterviewScreen(self.session))
