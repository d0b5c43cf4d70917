"""The command palette's own commands: every action of every section, with its key and description.

They are read from the sections' screen bindings, so a key added to a screen is in the palette at once
and the palette can never promise an action the screen does not have. Choosing one opens its section
and runs the action there, exactly as its key would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from survey_tui.i18n import _

if TYPE_CHECKING:
    from survey_tui.tui.app import SurveyApp


@dataclass(frozen=True)
class SectionCommand:
    """One action of one section: 'Questionnaire: Publish', key P."""

    mode: str
    section: str
    action: str
    description: str
    key: str
    help: str

    @property
    def title(self) -> str:
        return f"{self.section}: {self.description}"


def binding_key(app: SurveyApp, binding: Binding) -> str:
    """The key shown for a binding, after the user's keymap.yaml (the first of several keys)."""
    key = app.keymap_overrides.get(binding.id or "", binding.key) if binding.id else binding.key
    first = key.split(",")[0].strip()
    return app.get_key_display(Binding(first, binding.action, binding.description))


def section_commands(app: SurveyApp) -> Iterator[SectionCommand]:
    """Every described binding of every section's screen, in the order of a study."""
    for section in app.sections.values():
        for binding in section.screen.BINDINGS:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            yield SectionCommand(
                section.mode,
                _(section.title),
                binding.action,
                _(binding.description),
                binding_key(app, binding),
                _(binding.tooltip or binding.description),
            )


class SectionCommands(Provider):
    """Lists and finds the section actions (publish, preview, export, new interview, import, tables …)."""

    @property
    def survey_app(self) -> SurveyApp:
        return self.app  # type: ignore[return-value]

    def _run(self, command: SectionCommand):  # type: ignore[no-untyped-def]
        async def run() -> None:
            await self.survey_app.run_section_action(command.mode, command.action)

        return run

    async def discover(self) -> Hits:
        for command in section_commands(self.survey_app):
            yield DiscoveryHit(command.title, self._run(command), help=f"{command.key} · {command.help}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in section_commands(self.survey_app):
            # the description and help count too: "interview" finds Fieldwork's "New interview"
            score = max(matcher.match(command.title), matcher.match(command.help) * 0.8)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(command.title),
                    self._run(command),
                    text=command.title,
                    help=f"{command.key} · {command.help}",
                )
