"""Every option of every command has a description, in English and in zh-TW: a walk over all sub-commands
of the real parser, so an option added without `help=` (and without an OPTION_HELP entry) fails here."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest

from survey_tui.cli import build_parser
from survey_tui.i18n import set_language

CJK = re.compile(r"[\u4e00-\u9fff]")


def every_argument(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], str, str | None]]:
    """(command path, how the option is written, its help) for every argument, sub-command and ACTION slot."""
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue  # -h: argparse's own, worded by the ARGPARSE_WORDS catalog entries
        written = "/".join(action.option_strings) or (action.metavar or action.dest)
        yield path, str(written), action.help
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:  # the sub-command's line in its parent's --help
                yield path, f"{choice.dest} (command)", choice.help
            for name, child in action.choices.items():
                yield from every_argument(child, (*path, name))


def test_every_option_of_every_command_has_a_description() -> None:
    arguments = list(every_argument(build_parser()))
    assert len({path for path, _w, _h in arguments}) > 40  # the walk reached the sub-commands' sub-commands
    assert any(path == ("fieldwork", "backcheck", "draw") for path, _w, _h in arguments)
    missing = [f"{' '.join(path) or 'survey-tui'}: {written}" for path, written, text in arguments if not text]
    assert not missing, "options without a description (add help= or an OPTION_HELP entry):\n" + "\n".join(missing)
    # a description is words, not the option's own name given back
    echoed = [
        f"{' '.join(path)}: {written}"
        for path, written, text in arguments
        if text and text.strip().lower() == written.lstrip("-").replace("-", " ").replace("_", " ").lower()
    ]
    assert not echoed


def test_every_description_is_translated(monkeypatch: pytest.MonkeyPatch) -> None:
    set_language("zh-TW")
    arguments = list(every_argument(build_parser()))
    english = [
        f"{' '.join(path) or 'survey-tui'}: {written}: {text!r}"
        for path, written, text in arguments
        if text and text != argparse.SUPPRESS and not CJK.search(text)
    ]
    assert not english, "descriptions left in English with --ui-lang zh-TW:\n" + "\n".join(english)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["respondents", "list", "--help"], ("只列出此狀態的受訪者", "最多列出")),
        (["privacy", "close", "--help"], ("請求的編號",)),
        (["respondents", "--help"], ("要對名單做什麼", "匯入 CSV/XLSX 聯絡名單")),
    ],
)
def test_help_pages_show_the_descriptions(argv: list[str], words: tuple[str, ...], capsys) -> None:  # type: ignore[no-untyped-def]
    from survey_tui.cli import main

    with pytest.raises(SystemExit):
        main(["--ui-lang", "zh-TW", *argv])
    out = capsys.readouterr().out
    assert all(w in out for w in words), out
