"""The interface language: catalogs complete and current, the language chosen as documented, the .mo built
on first use, and the CLI and the app really speaking zh-TW."""

from __future__ import annotations

import os
import shutil
import string
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from survey_tui import i18n

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "survey_tui" / "locale" / "zh_TW" / "LC_MESSAGES" / "survey_tui.po"


def extracted_messages() -> dict[str, str]:
    """What `pybabel extract -F babel.cfg -k N_` collects from the source now: {msgid: file}."""
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found: dict[str, str] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT / "survey_tui"), method_map=[("**.py", "python")], keywords=keywords
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, filename)
    return found


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    with PO.open("rb") as f:
        return read_po(f)


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def test_every_message_has_a_translation(catalog) -> None:  # type: ignore[no-untyped-def]
    source = extracted_messages()
    untranslated = [
        f"{where}: {msgid!r}"
        for msgid, where in sorted(source.items())
        if msgid not in catalog or not catalog[msgid].string or catalog[msgid].fuzzy
    ]
    assert not untranslated, "messages without a zh-TW translation (pybabel extract + update, then translate):\n" + (
        "\n".join(untranslated)
    )


def test_catalog_is_not_stale(catalog) -> None:  # type: ignore[no-untyped-def]
    source = set(extracted_messages())
    obsolete = sorted(m.id for m in catalog if m.id and m.id not in source)
    assert not obsolete, "the .po holds messages the source no longer has (run pybabel update):\n" + "\n".join(
        map(repr, obsolete)
    )


def test_translations_keep_their_placeholders(catalog) -> None:  # type: ignore[no-untyped-def]
    wrong = [m.id for m in catalog if m.id and fields(m.id) != fields(m.string)]
    assert not wrong, f"placeholders differ between English and zh-TW: {wrong}"
    assert not [(m.id, e) for m, errors in catalog.check() for e in errors]


def test_translations_are_chinese(catalog) -> None:  # type: ignore[no-untyped-def]
    """A copied English msgstr is not a translation: most messages must contain CJK characters."""
    worded = [m for m in catalog if m.id and sum(c.isalpha() for c in m.id) > 12]
    english_copies = [m.id for m in worded if not any("\u4e00" <= c <= "\u9fff" for c in m.string)]
    assert not english_copies


@pytest.mark.parametrize(
    ("given", "env", "config", "expected"),
    [
        ("zh-TW", {"LANG": "en_US.UTF-8"}, "ui_lang: en", "zh-TW"),  # --ui-lang wins
        (None, {"LANG": "en_US.UTF-8"}, "ui_lang: zh-TW  # office default", "zh-TW"),  # then the setting
        (None, {"LANG": "zh_TW.UTF-8"}, None, "zh-TW"),  # then the locale
        (None, {"LC_ALL": "zh_TW.Big5", "LANG": "en_US"}, None, "zh-TW"),
        (None, {"LANG": "fr_FR.UTF-8"}, None, "en"),
        (None, {}, None, "en"),
        ("zh_Hant", {}, None, "zh-TW"),
    ],
)
def test_language_is_chosen_by_option_setting_then_locale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given, env, config, expected
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    if config is not None:
        (tmp_path / "survey-tui").mkdir()
        (tmp_path / "survey-tui" / "config.yaml").write_text(config + "\n", encoding="utf-8")
    assert i18n.choose_language(given, env=env) == expected


def test_mo_is_compiled_on_first_use_and_again_when_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locale = tmp_path / "locale"
    shutil.copytree(PO.parents[2], locale, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    mo = locale / "zh_TW" / "LC_MESSAGES" / "survey_tui.mo"
    assert not mo.exists()
    assert i18n.set_language("zh-TW") == "zh-TW"
    assert mo.is_file()
    assert i18n._("Publish") == "發布"
    # the .po changes (a translator's edit): the next start compiles it again
    po = locale / "zh_TW" / "LC_MESSAGES" / "survey_tui.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "發布"', 'msgstr "發佈"'), encoding="utf-8")
    os.utime(po, (mo.stat().st_mtime + 10, mo.stat().st_mtime + 10))
    i18n.set_language("zh-TW")
    assert i18n._("Publish") == "發佈"


def test_read_only_package_compiles_into_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locale = tmp_path / "locale"
    shutil.copytree(PO.parents[2], locale, ignore=shutil.ignore_patterns("*.mo"))
    (locale / "zh_TW" / "LC_MESSAGES").chmod(0o555)
    try:
        if os_can_write(locale / "zh_TW" / "LC_MESSAGES"):
            pytest.skip("running as a user who can write to read-only folders (root)")
        monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        assert i18n.set_language("zh-TW") == "zh-TW"
        assert (tmp_path / "cache" / "survey-tui" / "locale" / "zh_TW" / "LC_MESSAGES" / "survey_tui.mo").is_file()
        assert i18n._("Quotas") == "配額"
    finally:
        (locale / "zh_TW" / "LC_MESSAGES").chmod(0o755)


def os_can_write(folder: Path) -> bool:
    probe = folder / ".probe"
    try:
        probe.write_text("x")
    except OSError:
        return False
    probe.unlink()
    return True


def test_unknown_language_falls_back_to_english() -> None:
    assert i18n.set_language("fr") == "en"
    assert i18n._("Publish") == "Publish"


def test_cli_help_in_zh_tw(capsys: pytest.CaptureFixture[str]) -> None:
    from survey_tui.cli import main

    with pytest.raises(SystemExit):
        main(["tables", "--help", "--ui-lang", "zh-TW"])  # the option may follow the command
    out = capsys.readouterr().out
    assert "表側 × 表頭交叉表" in out
    assert "範例：" in out
    assert "研究資料夾" in out  # --study's description
    assert "%%" not in out


def test_cli_rejects_an_unknown_ui_language(capsys: pytest.CaptureFixture[str]) -> None:
    from survey_tui.cli import main

    assert main(["--ui-lang", "klingon", "check"]) == 2
    assert "en, zh-TW" in capsys.readouterr().err


def test_cli_messages_in_zh_tw(capsys: pytest.CaptureFixture[str]) -> None:
    from survey_tui.cli import main

    assert main(["--ui-lang=zh-TW", "publsh"]) == 2
    err = capsys.readouterr().err
    assert "不是指令" in err and "survey-tui publish" in err
    assert main(["publsh"]) == 2  # English again without the option (SURVEY_TUI_UI_LANG=en in the tests)
    assert "is not a command" in capsys.readouterr().err
