"""`survey-tui check` answered from the user's cache when nothing it reads changed (survey_tui.core.checked).

Every answer from the cache must be the one a fresh check gives, word for word: each input of the check is
edited in turn and the next check must check again (the study's own check runs) and say what a check with an
empty cache says.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

import survey_tui.core.study as study_module
from survey_tui.cli import main

INSTRUMENT = "instruments/bubble_tea_brand_health.yaml"


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The folders the study's own check ran on (an answer from the cache runs none)."""
    ran: list[Path] = []
    real = study_module.check_study_files

    def counting(root: Path):  # type: ignore[no-untyped-def]
        ran.append(Path(root))
        return real(root)

    monkeypatch.setattr(study_module, "check_study_files", counting)
    return ran


def check(study: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([*args, "check", "--study", str(study)])
    return code, capsys.readouterr().out


def fresh_check(
    study: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str
) -> tuple[int, str]:
    """What a check with an empty cache says (the reference for an answer from the cache)."""
    with monkeypatch.context() as m:
        empty = tmp_path / f"empty-{len(os.listdir(tmp_path))}"
        m.setenv("SURVEY_TUI_CACHE_DIR", str(empty))
        return check(study, capsys, *args)


def test_an_unchanged_study_is_answered_from_the_cache_word_for_word(
    demo: Path, checks: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    first = check(demo, capsys)
    assert len(checks) == 1
    second = check(demo, capsys)
    assert second == first
    assert len(checks) == 1  # the second answer came from the cache
    assert first[1].strip().endswith("warning(s))")


def _add_instrument(study: Path) -> None:
    shutil.copy(study / INSTRUMENT, study / "instruments" / "copy.yml")


def _break_expression(study: Path) -> None:
    path = study / INSTRUMENT
    path.write_text(path.read_text(encoding="utf-8").replace("relevant: ", "relevant: ((", 1), encoding="utf-8")


def _break_tab_plan(study: Path) -> None:
    path = study / "tabs" / "main.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n  - bogus: [\n", encoding="utf-8")


def _break_study_yaml(study: Path) -> None:
    path = study / "study.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("weighting:", "weighting: 3\nx_weighting:", 1))


def _break_template(study: Path) -> None:
    (study / "templates" / "client.docx").write_bytes(b"not a Word document")


def _remove_instruments(study: Path) -> None:
    shutil.rmtree(study / "instruments")


@pytest.mark.parametrize(
    "edit",
    [_add_instrument, _break_expression, _break_tab_plan, _break_study_yaml, _break_template, _remove_instruments],
    ids=lambda f: f.__name__.strip("_"),
)
def test_every_input_edited_is_checked_again(
    demo: Path,
    checks: list[Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    edit: Callable[[Path], None],
) -> None:
    before = check(demo, capsys)
    edit(demo)
    after = check(demo, capsys)
    assert len(checks) == 2  # checked again, not answered from before the edit
    assert after != before
    assert after == fresh_check(demo, capsys, monkeypatch, tmp_path)
    assert check(demo, capsys) == after  # and the new answer is kept in turn
    assert len(checks) == 3


def test_new_data_is_read_again_for_the_weighting_targets(
    demo: Path, checks: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's weighting targets make check read the data: a change to the database is a new answer."""
    check(demo, capsys)
    with sqlite3.connect(demo / "survey.db") as db:  # any write: the file's size or time changes
        db.execute("UPDATE respondents SET status = status")
    db.close()
    check(demo, capsys)
    assert len(checks) == 2


def test_the_interface_language_is_part_of_the_answer(
    demo: Path,
    checks: list[Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _break_expression(demo)
    english = check(demo, capsys)
    chinese = check(demo, capsys, "--ui-lang", "zh-TW")
    assert len(checks) == 2
    assert chinese != english and "錯誤" in chinese[1]
    assert chinese == fresh_check(demo, capsys, monkeypatch, tmp_path, "--ui-lang", "zh-TW")


def test_an_unusual_input_is_checked_every_time(
    demo: Path, checks: list[Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A folder where an instrument file is expected: nothing is kept, and check still says what it always did."""
    (demo / "instruments" / "folder.yaml").mkdir()
    first = check(demo, capsys)
    assert check(demo, capsys) == first
    assert len(checks) == 2
    assert first == fresh_check(demo, capsys, monkeypatch, tmp_path)


def test_the_code_stamp_ignores_files_made_from_the_package_while_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The zh-TW catalog is compiled beside its .po the first time it is used: a process that took its stamp
    before that must still find what the next process keeps (a clean checkout's test run missed its own cache)."""
    from survey_tui.core import checked

    package = tmp_path / "pkg"
    (package / "locale").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n", encoding="utf-8")
    (package / "locale" / "m.po").write_text('msgid "a"\nmsgstr "b"\n', encoding="utf-8")
    monkeypatch.setattr(checked, "_PACKAGE", package)

    def stamp() -> str:
        checked.code_stamp.cache_clear()
        return checked.code_stamp()

    before = stamp()
    (package / "locale" / "m.mo").write_bytes(b"\xde\x12\x04\x95")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\x00")
    assert stamp() == before
    (package / "locale" / "m.po").write_text('msgid "a"\nmsgstr "c d"\n', encoding="utf-8")
    assert stamp() != before  # the catalog's source is code: a new translation is checked again
    (package / "b.py").write_text("", encoding="utf-8")
    changed = stamp()
    assert changed != before
    checked.code_stamp.cache_clear()
