"""Textual's own words in the zh-TW interface: its widgets' keys in the `?` overlay, its command-palette
entries, prompt and "no matches", all from our catalog; and the list that feeds the catalog complete."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.app import App
from textual.command import CommandInput, CommandList, CommandPalette
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Input,
    OptionList,
    RadioButton,
    RadioSet,
    Select,
    TabbedContent,
    Tabs,
    TextArea,
    Tree,
)
from textual.widgets._key_panel import BindingsTable
from textual.widgets._select import SelectOverlay

from survey_tui import i18n
from survey_tui.core.study import open_study
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.textual_words import BINDING_WORDS, GROUP_TITLES, PALETTE_WORDS, SYSTEM_COMMAND_WORDS

#: every Textual class whose keys a screen of survey-tui can show (the widgets the screens compose)
TEXTUAL_CLASSES = (
    App,
    Screen,
    ModalScreen,
    DataTable,
    Input,
    OptionList,
    Select,
    SelectOverlay,
    TextArea,
    Tree,
    Button,
    Checkbox,
    RadioSet,
    RadioButton,
    TabbedContent,
    Tabs,
    VerticalScroll,
    CommandPalette,
    CommandInput,
)


def cjk(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def test_every_textual_key_description_is_listed() -> None:
    """A Textual upgrade that brings a new key description fails here (list it in textual_words.py)."""
    words = set(BINDING_WORDS)
    missing = sorted(
        {
            f"{cls.__name__}: {text!r}"
            for cls in TEXTUAL_CLASSES
            for bindings in cls._merged_bindings.key_to_bindings.values()  # type: ignore[union-attr]
            for b in bindings
            for text in (b.description, b.tooltip)
            if text and text not in words
        }
    )
    assert not missing, missing
    titles = {getattr(cls, "BINDING_GROUP_TITLE", None) for cls in TEXTUAL_CLASSES} - {None}
    assert titles <= set(GROUP_TITLES)


async def _wait(pilot, condition: Callable[[], object]) -> None:  # type: ignore[no-untyped-def]
    for _ in range(300):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if condition():
            return
    raise AssertionError("condition not reached")


@pytest.fixture
def zh_app(demo_study_dir: Path):  # type: ignore[no-untyped-def]
    app = SurveyApp(open_study(demo_study_dir), keymap_file=demo_study_dir / "no-keymap.yaml", ui_lang="zh-TW")
    app.animation_level = "none"
    yield app
    i18n.set_language("en")


async def test_system_commands_in_the_interface_language(zh_app: SurveyApp) -> None:
    async with zh_app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = zh_app.screen
        textual = list(App.get_system_commands(zh_app, screen))  # Textual's own, in English
        listed = set(SYSTEM_COMMAND_WORDS) | set(BINDING_WORDS)  # "Quit" is a key too
        assert textual and {w for c in textual for w in (c.title, c.help)} <= listed
        ours = list(zh_app.get_system_commands(screen))
        shown = {c.title: c.help for c in ours}
        for command in textual:
            title = i18n._(command.title)
            assert title != command.title and cjk(title) and shown[title] == i18n._(command.help)
            assert cjk(shown[title])
        assert "Theme" not in shown and "佈景主題" in shown


async def test_keys_overlay_and_palette_speak_zh_tw(zh_app: SurveyApp) -> None:
    """`?` on Fieldwork lists the table's cursor keys and ctrl+q in Chinese; the palette prompts and says
    "no matches" in Chinese."""
    async with zh_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await _wait(pilot, lambda: zh_app.screen.query("#interview-list"))
        zh_app.screen.query_one("#interview-list", DataTable).focus()
        await pilot.press("question_mark")
        await _wait(pilot, lambda: zh_app.screen.query(BindingsTable))
        panel = zh_app.screen.query_one(BindingsTable)
        table = panel.render_bindings_table()
        keys = [str(c) for c in table.columns[0].cells]
        descriptions = [str(c) for c in table.columns[1].cells]
        text = "\n".join(descriptions)
        for english in ("Cursor up", "Focus Next", "Copy selected text", "Quit the app"):
            assert english not in text
        assert "離開程式，回到命令列。" in text  # ctrl+q's tooltip
        home = descriptions[keys.index("home")]
        assert home == i18n._("To the start") and "首頁" not in home  # the cursor key, not the Home section
        await pilot.press("question_mark")
        await pilot.press("ctrl+p")
        await _wait(pilot, lambda: CommandPalette.is_open(zh_app))
        palette_input = zh_app.screen.query_one(CommandInput)
        assert palette_input.placeholder == "搜尋指令…" == i18n._(PALETTE_WORDS[0])
        for ch in "qqxqzz":
            await pilot.press(ch)
        options = zh_app.screen.query_one(CommandList)
        await _wait(
            pilot,
            lambda: any(
                "找不到符合的項目" in str(options.get_option_at_index(i).prompt) for i in range(options.option_count)
            ),
        )
