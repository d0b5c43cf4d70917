"""Bindings in the interface language: screens declare them in English (marked with N_), each instance
gets translated copies, so the footer, the `?` key panel and the palette all show the same words."""

from __future__ import annotations

from dataclasses import replace

from textual.dom import DOMNode

from survey_tui.i18n import _


def localize_bindings(node: DOMNode) -> None:
    """Translate the description and tooltip of the node's own bindings (its copy, never the class's)."""
    if getattr(node, "_survey_tui_localized", False):
        return
    bindings_map = node._bindings
    for key, bindings in list(bindings_map.key_to_bindings.items()):
        bindings_map.key_to_bindings[key] = [
            replace(
                b,
                description=_(b.description) if b.description else b.description,
                tooltip=_(b.tooltip) if b.tooltip else b.tooltip,
            )
            if b.description or b.tooltip
            else b
            for b in bindings
        ]
    node._survey_tui_localized = True  # type: ignore[attr-defined]


def study_language(languages: list[str]) -> str:
    """Which of the study's own languages to show its texts in (quota and banner labels, question text):
    the interface language when the study has it, else the study's first language."""
    from survey_tui.i18n import current_language

    return current_language() if current_language() in languages else (languages[0] if languages else "en")
