"""`?` (or F1 while typing): the overlay with every key of the screen on top, forms and sub-screens too.

The app binds `?` once, but Textual stops a modal screen's key chain at the modal, so the app's key never
reached the rates, productivity or back-check screens, nor any form. Each modal screen here derives from
`KeyedModal`, which carries the same key; the overlay (Textual's HelpPanel) then lists that screen's keys.
`?` is a character an input box takes, so F1 opens the overlay as well.
"""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from survey_tui.i18n import N_
from survey_tui.tui.localize import localize_tree

ResultType = TypeVar("ResultType")


def keys_binding() -> Binding:
    """The `?` binding; one id everywhere, so a keymap.yaml entry moves it on every screen at once."""
    return Binding(
        "question_mark,f1", "keys", N_("Keys"), id="app.keys", tooltip=N_("Every key of this screen, described")
    )


def show_keys(screen: Screen) -> None:
    """Mount the key overlay on `screen` (once)."""
    from survey_tui.tui.keys_panel import KeysPanel  # Textual's Markdown comes with it: not at start

    if not screen.query("HelpPanel"):
        localize_tree(screen)  # every widget's keys in the interface language, before the overlay lists them
        screen.mount(KeysPanel())


def toggle_keys(screen: Screen) -> None:
    """Show the key overlay on `screen`, or hide it when it is already shown."""
    panels = screen.query("HelpPanel")
    if panels:
        panels.remove()
    else:
        show_keys(screen)


class KeyedModal(ModalScreen[ResultType]):
    """A modal screen (form, sub-screen, confirmation) whose `?` lists its own keys."""

    BINDINGS = [keys_binding()]

    def action_keys(self) -> None:
        toggle_keys(self)
