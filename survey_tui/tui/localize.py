"""Bindings in the interface language: screens declare them in English (marked with N_), each instance
gets translated copies, so the footer, the `?` key panel and the palette all show the same words."""

from __future__ import annotations

from dataclasses import replace

from textual.dom import DOMNode

from survey_tui.i18n import N_, _


def localize_bindings(node: DOMNode) -> None:
    """Translate the description and tooltip of the node's own bindings (its copy, never the class's)."""
    if getattr(node, "_survey_tui_localized", False):
        return
    from survey_tui.tui.textual_words import ALIASES

    aliases = ALIASES if type(node).__module__.startswith("textual.") else {}
    bindings_map = node._bindings
    for key, bindings in list(bindings_map.key_to_bindings.items()):
        bindings_map.key_to_bindings[key] = [
            replace(
                b,
                description=_(aliases.get(b.description, b.description)) if b.description else b.description,
                tooltip=_(b.tooltip) if b.tooltip else b.tooltip,
            )
            if b.description or b.tooltip
            else b
            for b in bindings
        ]
    title = getattr(type(node), "BINDING_GROUP_TITLE", None)
    if title:  # the `?` overlay's heading over a widget's keys ("Input")
        node.BINDING_GROUP_TITLE = _(title)  # type: ignore[attr-defined]
    node._survey_tui_localized = True  # type: ignore[attr-defined]


def localize_tree(node: DOMNode) -> None:
    """The node and everything under it (a screen's widgets: a DataTable's cursor keys, an Input's)."""
    localize_bindings(node)
    for child in node.query("*"):
        localize_bindings(child)


MODES = {"field": N_("field"), "pilot": N_("pilot")}
#: report-format statuses other than approved (study.yaml's words)
REPORT_STATUS_WORDS = (N_("draft"), N_("submitted"), N_("approved"), N_("changes requested"))


def respondent_status(status: str) -> str:
    """A respondent's recruitment status in the interface language (the core keeps Chinese and English)."""
    from survey_tui.core.fieldwork.respondents import STATUS_LABELS
    from survey_tui.i18n import current_language

    zh, en = STATUS_LABELS.get(status, (status, status.replace("_", " ")))
    return zh if current_language() == "zh-TW" else en
