"""`survey-tui interview`: the interviewer form on its own, for field staff who need nothing else."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from survey_tui.core.interview.capture import CaptureSession
from survey_tui.core.study import Study
from survey_tui.tui.screens.interview import InterviewScreen, StartScreen


class InterviewApp(App[str | None]):
    """Opens one given session directly, or the start list (walk-in / respondents / resume)."""

    TITLE = "survey-tui interview"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="interview.quit", show=False)]
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
    ) -> None:
        super().__init__()
        self.study = study
        self.session = session
        self.interviewer = interviewer
        self.mode = mode
        self.language = language
        self.once = once  # leave after the given interview instead of offering the next one
        self.sub_title = study.config.title

    def on_mount(self) -> None:
        if self.session is not None and self.once:
            self.push_screen(InterviewScreen(self.session), lambda outcome: self.exit(outcome))
            return
        self.push_screen(StartScreen(self.interviewer, self.mode, self.language))
        if self.session is not None:
            self.push_screen(InterviewScreen(self.session))
