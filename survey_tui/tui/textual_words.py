"""Textual's own words in the interface language: its widgets' key descriptions (shown in the `?` overlay),
its command-palette entries and prompts.

Textual declares them in English on its classes (`BINDINGS`, `App.get_system_commands`, the palette's
placeholder); they are listed here with `N_` so that `pybabel extract` collects them into our catalog, and
`localize_bindings` / `SurveyApp` translate each instance's copy. tests/tui/test_textual_words.py fails when
a Textual upgrade brings a key description that is not listed here.
"""

from __future__ import annotations

from survey_tui.i18n import N_

#: descriptions and tooltips of the bindings of Textual's App, Screen and the widgets the screens use
BINDING_WORDS = (
    N_("Quit"),
    N_("Quit the app and return to the command prompt."),
    N_("palette"),
    N_("Open the command palette"),
    N_("Focus Next"),
    N_("Focus Previous"),
    N_("Copy selected text"),
    # DataTable
    N_("Cursor up"),
    N_("Cursor down"),
    N_("Cursor left"),
    N_("Cursor right"),
    N_("Home"),
    N_("End"),
    N_("Page up"),
    N_("Page down"),
    N_("Page Left"),
    N_("Page Right"),
    N_("Select"),
    N_("Top"),
    N_("Bottom"),
    # Input
    N_("Scroll Up"),
    N_("Scroll Down"),
    N_("Move cursor left"),
    N_("Move cursor right or accept the completion suggestion"),
    N_("Go to start"),
    N_("Go to end"),
    N_("Page Up"),
    N_("Page Down"),
    N_("Move cursor left and select"),
    N_("Move cursor left a word"),
    N_("Move cursor left a word and select"),
    N_("Move cursor right and select"),
    N_("Move cursor right a word"),
    N_("Move cursor right a word and select"),
    N_("Delete character left"),
    N_("Select all"),
    N_("Select line start"),
    N_("Select line end"),
    N_("Delete character right"),
    N_("Submit"),
    N_("Delete left to start of word"),
    N_("Delete all to the left"),
    N_("Delete right to start of word"),
    N_("Delete all to the right"),
    N_("Cut selected text"),
    N_("Paste text from the clipboard"),
    # OptionList, Select
    N_("Up"),
    N_("Down"),
    N_("Scroll Left"),
    N_("Scroll Right"),
    N_("First"),
    N_("Last"),
    N_("Show menu"),
    N_("Dismiss menu"),
    # TextArea
    N_("Cursor line start"),
    N_("Cursor line end"),
    N_("Cursor page up"),
    N_("Cursor page down"),
    N_("Cursor word left"),
    N_("Cursor word right"),
    N_("Cursor left word select"),
    N_("Cursor right word select"),
    N_("Cursor line start select"),
    N_("Cursor line end select"),
    N_("Cursor up select"),
    N_("Cursor down select"),
    N_("Cursor left select"),
    N_("Cursor right select"),
    N_("Select line"),
    N_("Cut"),
    N_("Copy"),
    N_("Paste"),
    N_("Delete to line start"),
    N_("Delete to line end"),
    N_("Delete line"),
    N_("Undo"),
    N_("Redo"),
    # Tree
    N_("Cursor Up"),
    N_("Cursor Down"),
    N_("Scroll Home"),
    N_("Scroll End"),
    N_("Cursor to parent"),
    N_("Cursor to next ancestor"),
    N_("Cursor to previous sibling"),
    N_("Cursor to next sibling"),
    N_("Toggle"),
    N_("Expand or collapse all"),
    # Button, RadioSet, Tabs
    N_("Press button"),
    N_("Previous option"),
    N_("Next option"),
    N_("Previous tab"),
    N_("Next tab"),
    # the command palette
    N_("Go to bottom"),
    N_("Go to top"),
    N_("Next command"),
    N_("Exit the command palette"),
    N_("Next page"),
    N_("Previous page"),
    N_("Previous command"),
)

#: group titles the `?` overlay shows above a widget's keys
GROUP_TITLES = (N_("Input"), N_("Collapsible"))

#: App.get_system_commands: (title, help) of Textual's own palette entries
SYSTEM_COMMAND_WORDS = (
    N_("Theme"),
    N_("Change the current theme"),
    N_("Quit the application as soon as possible"),
    N_("Keys"),
    N_("Hide the keys and widget help panel"),
    N_("Show help for the focused widget and a summary of available keys"),
    N_("Minimize"),
    N_("Minimize the widget and restore to normal size"),
    N_("Maximize"),
    N_("Maximize the focused widget"),
    N_("Screenshot"),
    N_("Save an SVG 'screenshot' of the current screen"),
)

#: the palette's prompts
PALETTE_WORDS = (N_("Search for commands…"), N_("Search for themes…"), N_("No matches found"))

#: Textual words that mean something else in our own catalog: on Textual's widgets (a DataTable's `home`
#: key) they are translated as these, so the cursor key never reads as the Home section (首頁)
ALIASES = {"Home": N_("To the start")}
