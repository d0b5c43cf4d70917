"""Questionnaire (T1.2): each instrument as an outline, a question's texts in every language, its logic,
and what `check` finds. (Editing, versions and the pilot come with the builder.)"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, Tree

from survey_tui.core.instrument import Instrument, Question, label_text
from survey_tui.core.problems import Problem
from survey_tui.tui.messages import Loaded, LoadFailed


@dataclass(frozen=True)
class QuestionnaireData:
    instruments: dict[str, Instrument]
    problems: list[Problem]


class QuestionnaireScreen(Screen[None]):
    BINDINGS = [
        Binding(
            "l",
            "next_language",
            "Language",
            id="questionnaire.language",
            tooltip="Show the outline in the study's next language",
        ),
        Binding("r", "refresh", "Reload", id="questionnaire.reload", tooltip="Read the instrument files again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.language_index = 0
        self.data: QuestionnaireData | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="questionnaire"):
            yield Tree("Instruments", id="outline")
            with VerticalScroll(id="question-detail", classes="card"):
                yield Static("Loading…", id="detail")
        yield Static("", id="problems")
        yield Footer()

    @property
    def language(self) -> str:
        langs = self.app.study.config.languages  # type: ignore[attr-defined]
        return langs[self.language_index % len(langs)]

    def on_mount(self) -> None:
        self.query_one("#question-detail").border_title = "Question"
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load()

    def action_next_language(self) -> None:
        self.language_index += 1
        if self.data is not None:
            self._outline(self.data)
        self.notify(f"Language: {self.language}", timeout=2)

    @work(thread=True, exclusive=True, group="questionnaire")
    def load(self) -> None:
        try:
            instruments, problems = self.app.study.load_instruments()  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - reported on screen
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(Loaded(QuestionnaireData(instruments, problems)))

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#detail", Static).update(Text(message.error, style="bold red"))

    def on_loaded(self, message: Loaded) -> None:
        self.data = message.data
        self._outline(self.data)
        self._problems(self.data.problems)

    def _outline(self, data: QuestionnaireData) -> None:
        tree = self.query_one("#outline", Tree)
        tree.clear()
        tree.root.expand()
        lang = self.language
        for instrument in data.instruments.values():
            node = tree.root.add(f"{instrument.id} — {label_text(instrument.title, lang)}", expand=True)
            for section in instrument.sections:
                sec_label = label_text(section.label, lang) or section.name
                marker = " ⤷" if section.relevant else ""
                sec = node.add(f"[b]{section.name}[/b] {sec_label}{marker}", expand=True)
                for q in section.questions:
                    text = label_text(q.label, lang) or q.calculate or ""
                    short = text if len(text) <= 40 else text[:39] + "…"
                    logic = " ⤷" if q.relevant else ""
                    sec.add_leaf(f"{q.name} [dim]{q.type}[/dim] {short}{logic}", data=(instrument, q))
        if not data.instruments:
            tree.root.add_leaf("(no instrument loads — see the problems below)")
        self.query_one("#detail", Static).update("Choose a question in the outline (↑↓, Enter).")

    def _problems(self, problems: list[Problem]) -> None:
        widget = self.query_one("#problems", Static)
        if not problems:
            widget.update(Text("check: no problems", style="green"))
            return
        text = Text()
        for p in problems[:8]:
            text.append(str(p) + "\n", style="red" if p.severity == "error" else "yellow")
        if len(problems) > 8:
            text.append(f"… and {len(problems) - 8} more: run 'survey-tui check'")
        widget.update(text)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        if event.node.data:
            instrument, question = event.node.data
            self.query_one("#detail", Static).update(question_detail(instrument, question))


def question_detail(instrument: Instrument, q: Question) -> Table:
    """A question's labels side by side per language, then its logic and choices."""
    table = Table(show_header=True, header_style="bold", expand=True, box=None, padding=(0, 1))
    table.add_column("", style="dim", no_wrap=True)
    for lang in instrument.languages:
        table.add_column(lang, ratio=1, overflow="fold")  # CJK has no spaces: fold, never cut
    table.add_row("name", *[f"{q.name} ({q.type})"] + [""] * (len(instrument.languages) - 1))
    table.add_row("label", *[label_text(q.label, lang) for lang in instrument.languages])
    if q.hint:
        table.add_row("hint", *[label_text(q.hint, lang) for lang in instrument.languages])
    for item in q.items or []:
        table.add_row(f"  {item.name}", *[label_text(item.label, lang) for lang in instrument.languages])
    for choice in q.choice_options:
        table.add_row(f"  {choice.code}", *[label_text(choice.label, lang) for lang in instrument.languages])
    for name, special in q.specials.items():
        table.add_row(
            f"  {special.code}",
            *[f"{label_text(special.label, lang)} ({name})" for lang in instrument.languages],
        )
    for field_name in ("relevant", "constraint", "calculate"):
        value = getattr(q, field_name)
        if value:
            table.add_row(field_name, value, *[""] * (len(instrument.languages) - 1))
    table.add_row("required", "yes" if q.is_required else "no", *[""] * (len(instrument.languages) - 1))
    return table
