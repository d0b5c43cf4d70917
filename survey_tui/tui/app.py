"""The Textual app: one section per T1 step, a home dashboard, keys and the command palette.

Sections are Textual *modes*: each keeps its own screen stack, so leaving the questionnaire to look at
fieldwork and coming back finds the outline where it was. Only sections that exist are registered;
later steps add themselves to `SECTIONS`.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import Screen

from survey_tui.i18n import N_, _, set_language
from survey_tui.tui.commands import SectionCommands
from survey_tui.tui.keymap import load_keymap
from survey_tui.tui.keys import keys_binding, show_keys, toggle_keys
from survey_tui.tui.localize import localize_bindings

if TYPE_CHECKING:
    from survey_tui.core.study import Study
    from survey_tui.core.summary import StudySummary

#: the rules of every screen but home, read when the first of them is shown (see app.tcss)
SECTIONS_CSS = Path(__file__).with_name("sections.tcss")


@dataclass(frozen=True)
class Section:
    """A part of the app for one step of the research process."""

    mode: str
    title: str
    step: str  # the competency-standard step it serves, e.g. "T1.2"
    key: str
    help: str
    screen_path: str  # "module:Class" under survey_tui.tui.screens, imported when first needed

    @property
    def screen(self) -> type[Screen]:
        """The screen class; its module (polars, scipy for analysis) is imported on first use, not at start."""
        module, cls = self.screen_path.split(":")
        return getattr(importlib.import_module(f"survey_tui.tui.screens.{module}"), cls)

    def make_screen(self, app: SurveyApp | None = None) -> Screen:
        if app is not None and self.mode != "home":
            app.load_sections_css()
        screen = self.screen()
        localize_bindings(screen)
        return screen


SECTIONS: list[Section] = [
    Section(
        "home", N_("Home"), "T1", "h", N_("The study at a glance: plan, instruments, interviews"), "home:HomeScreen"
    ),
    Section(
        "plan",
        N_("Plan"),
        "T1.1",
        "1",
        N_("Desk research, method, report format, objectives, hypotheses, analysis plan"),
        "plan:PlanScreen",
    ),
    Section(
        "questionnaire",
        N_("Questionnaire"),
        "T1.2",
        "2",
        N_("Instruments: outline, logic and check results"),
        "questionnaire:QuestionnaireScreen",
    ),
    Section(
        "respondents",
        N_("Respondents"),
        "T1.3",
        "3",
        N_("Contact list import, screening, quotas, recruitment status, consent"),
        "respondents:RespondentsScreen",
    ),
    Section(
        "fieldwork",
        N_("Fieldwork"),
        "T1.4",
        "4",
        N_("Interviews by mode, status and outcome"),
        "fieldwork:FieldworkScreen",
    ),
    Section(
        "analysis",
        N_("Analysis"),
        "T1.5",
        "5",
        N_("Quality review, banner tables with letters, open-end coding, hypothesis verdicts"),
        "analysis:AnalysisScreen",
    ),
    Section(
        "report",
        N_("Report"),
        "T1.6",
        "6",
        N_("Export SPSS/Stata/CSV/Parquet/XLSX/Triple-S/codebook; report skeleton and stakeholder bundle"),
        "export:ExportScreen",
    ),
]


class SurveyApp(App[None]):
    """survey-tui's application; `study` is the open study folder."""

    TITLE = "survey-tui"
    CSS_PATH = "app.tcss"
    #: screens get -narrow below 100 columns, so layouts can stack instead of squeezing
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    #: the palette holds every action of every section, besides the sections and Textual's own entries
    COMMANDS = App.COMMANDS | {SectionCommands}
    BINDINGS = [
        *[Binding(s.key, f"section('{s.mode}')", s.title, id=f"section.{s.mode}", tooltip=s.help) for s in SECTIONS],
        Binding("q", "quit", N_("Quit"), id="app.quit", tooltip=N_("Leave survey-tui (every answer is already saved)")),
        keys_binding(),
    ]

    def __init__(
        self,
        study: Study | None,
        keymap_file: Path | None = None,
        ui_lang: str | None = None,
        *,
        root: Path | None = None,
    ) -> None:
        """`study` open, or None with the study's `root`: then it is opened when first needed (see `on_folder`)."""
        if ui_lang is not None:  # else the language the command line chose (--ui-lang, config, locale)
            set_language(ui_lang)
        super().__init__()
        localize_bindings(self)
        self._study = study
        self._study_lock = threading.Lock()
        self.root = study.root if study is not None else Path(root or ".").resolve()
        self.sections = {s.mode: s for s in SECTIONS}
        self.keymap_file = keymap_file
        self.keymap_overrides: dict[str, str] = {}  # binding id -> key, from keymap.yaml
        if study is not None:
            self.sub_title = study.config.title

    @classmethod
    def on_folder(cls, root: Path, title: str, **kwargs: object) -> SurveyApp:
        """The app on a study folder whose home figures are in the user's cache (core.summary.kept_facts):
        the first screen reads the store only, and the study's settings (pydantic and every model class,
        a third of the start) are read behind it, on the home screen's worker, once its figures are shown."""
        app = cls(None, root=root, **kwargs)  # type: ignore[arg-type]
        app.sub_title = title
        return app

    @property
    def study(self) -> Study:
        """The open study (opened now if the app started on a folder)."""
        if self._study is None:
            with self._study_lock:  # the home screen's worker and a section may ask at once
                if self._study is None:
                    from survey_tui.core.study import open_study

                    self._study = open_study(self.root)
        return self._study

    def read_summary(self) -> StudySummary:
        """The home screen's figures: from the cache and the store while the study is not open yet (at start),
        else from the open study; read on a worker thread."""
        from survey_tui.core.summary import quick_summary, summarise_study

        if self._study is None:
            summary = quick_summary(self.root)
            if summary is not None:
                return summary
        return summarise_study(self.study)

    def on_mount(self) -> None:
        for section in SECTIONS:
            self.add_mode(section.mode, partial(section.make_screen, self))
        keymap, problems = load_keymap(self.keymap_file)
        if keymap:
            self.keymap_overrides = keymap
            self.set_keymap(keymap)
        for problem in problems:
            self.notify(str(problem), title=_("keymap"), severity="warning", timeout=8)
        self.switch_mode("home")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A screen that takes every key (the interviewer form) must not lose them to app shortcuts:
        a field interviewer typing 'q' or 'h' must not quit or leave the interview."""
        return not (action in ("section", "quit") and getattr(self.screen, "TAKES_ALL_KEYS", False))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """A widget's own keys (a table's cursor keys, an input's) read in the interface language in the `?`
        overlay: its bindings and its ancestors' are translated when it first takes focus."""
        node = event.widget
        while node is not None and not getattr(node, "_survey_tui_localized", False):
            localize_bindings(node)
            node = node.parent  # type: ignore[assignment]

    def action_show_help_panel(self) -> None:
        """The palette's "Keys" entry: the same overlay as `?`."""
        show_keys(self.screen)

    def action_command_palette(self) -> None:
        """Textual's palette, with its prompt and its "no matches" in the interface language."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(LocalizedPalette(id="--command-palette", placeholder=_("Search for commands…")))

    def search_themes(self) -> None:
        from textual.theme import ThemeProvider

        self.push_screen(LocalizedPalette(providers=[ThemeProvider], placeholder=_("Search for themes…")))

    def action_keys(self) -> None:
        """`?`: the overlay with every key of the screen (the footer shows only what fits)."""
        toggle_keys(self.screen)

    def action_section(self, mode: str) -> None:
        if mode in self.sections and self.current_mode != mode:
            self.switch_mode(mode)

    async def run_section_action(self, mode: str, action: str) -> None:
        """Open a section and run one of its screen's actions there, as its key would (the palette's way)."""
        if mode not in self.sections:
            return
        if self.current_mode != mode:
            await self.switch_mode(mode)
        screen = self.screen_stack[0]  # the section's own screen, under any form it has open
        await self.run_action(action, screen)

    def push_screen(self, screen, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        """Every form and overlay shows its keys in the interface language, styled by sections.tcss."""
        self.load_sections_css()
        if isinstance(screen, Screen):
            localize_bindings(screen)
        return super().push_screen(screen, *args, **kwargs)

    def load_sections_css(self) -> None:
        """Add the rules of the screens after home (sections.tcss) before the first of them is shown.

        Textual parses every stylesheet again each time a new kind of widget is mounted, about ten times
        before the home screen's data is on the terminal; rules no screen of the moment uses cost 40 ms there."""
        if self.stylesheet.has_source(str(SECTIONS_CSS), ""):
            return
        self.stylesheet.read(SECTIONS_CSS)
        self.stylesheet.reparse()
        self.stylesheet.update(self)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for section in SECTIONS:
            yield SystemCommand(
                f"{section.step} {_(section.title)}",
                _(section.help),
                lambda mode=section.mode: self.action_section(mode),  # type: ignore[misc]
            )
        for command in super().get_system_commands(screen):  # Textual's own: Theme, Quit, Keys, Screenshot …
            yield command._replace(title=_(command.title), help=_(command.help))


class LocalizedPalette(CommandPalette):
    """The command palette saying "no matches" in the interface language (Textual writes it in English)."""

    def _start_no_matches_countdown(self, search_value: str) -> None:
        from rich.align import Align
        from rich.text import Text
        from textual.command import CommandList
        from textual.widgets.option_list import Option

        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(
                        Align.center(Text(_("No matches found"), style="not bold")),
                        disabled=True,
                        id=self._NO_MATCHES,
                    )
                )
                self._list_visible = True
            else:  # discover mode: nothing to say
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)
