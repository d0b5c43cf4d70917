"""study.yaml's validated settings kept in the user's cache (core.study.load_study_config).

An answer from the cache must be the one a fresh validation gives: the same settings and the same problems,
word for word, in the interface language of the call; any change to the file, the code or the language
validates again, and a damaged entry is never trusted.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import survey_tui.core.checked as checked
import survey_tui.core.study as study_module
from survey_tui.core.cache import cache_dir
from survey_tui.core.study import StudyConfig, load_study_config
from survey_tui.i18n import set_language


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The study.yaml files actually validated (an answer from the cache validates none)."""
    ran: list[Path] = []
    real = study_module._validate_study_file

    def counting(path: Path):  # type: ignore[no-untyped-def]
        ran.append(path)
        return real(path)

    monkeypatch.setattr(study_module, "_validate_study_file", counting)
    return ran


_VALIDATE = study_module._validate_study_file  # a fresh validation, never counted


def fresh(root: Path) -> tuple[StudyConfig | None, list]:  # type: ignore[type-arg]
    return _VALIDATE(root / "study.yaml")


def test_a_second_read_is_the_kept_answer_and_equals_a_fresh_one(demo: Path, validations: list[Path]) -> None:
    first = load_study_config(demo)
    second = load_study_config(demo)
    assert len(validations) == 1  # the second came from the cache
    assert first[0] is not None and second[0] is not None
    assert second[0] is not first[0]  # a copy of its own: a caller may change it
    assert second == first == fresh(demo)
    assert second[0].model_dump() == fresh(demo)[0].model_dump()  # type: ignore[union-attr]


def test_an_edit_the_code_or_the_language_validates_again(
    demo: Path, validations: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    load_study_config(demo)
    study_file = demo / "study.yaml"
    study_file.write_text(study_file.read_text(encoding="utf-8").replace("title:", "title: X", 1), encoding="utf-8")
    edited = load_study_config(demo)
    assert len(validations) == 2 and edited == fresh(demo)
    monkeypatch.setattr(checked, "code_stamp", lambda: "another version of the code")
    load_study_config(demo)
    assert len(validations) == 3
    try:
        set_language("zh-TW")
        load_study_config(demo)
        assert len(validations) == 4
    finally:
        set_language("en")


def test_problems_are_kept_in_the_language_they_were_worded_in(demo: Path, validations: list[Path]) -> None:
    study_file = demo / "study.yaml"
    study_file.write_text(study_file.read_text(encoding="utf-8") + "\ncolour: blue\n", encoding="utf-8")
    set_language("en")
    english = load_study_config(demo)
    try:
        set_language("zh-TW")
        chinese = load_study_config(demo)
        chinese_again = load_study_config(demo)
    finally:
        set_language("en")
    english_again = load_study_config(demo)
    assert english[0] is None and chinese[0] is None
    assert "unknown field 'colour'" in english[1][0].message
    assert "colour" in chinese[1][0].message and "unknown field" not in chinese[1][0].message
    assert chinese_again == chinese and english_again == english
    assert len(validations) == 2  # once per language


def test_a_damaged_entry_is_validated_again(demo: Path, validations: list[Path]) -> None:
    expected = load_study_config(demo)
    folder = cache_dir(study_module._VALIDATED)
    entries = list(folder.iterdir())
    assert len(entries) == 1
    entries[0].write_bytes(b"not a pickle")
    assert load_study_config(demo) == expected
    assert len(validations) == 2
    entries[0].write_bytes(pickle.dumps(("a", "b")))  # a readable entry of the wrong shape
    assert load_study_config(demo) == expected
    assert len(validations) == 3


def test_a_file_changed_while_it_was_validated_is_not_kept(
    demo: Path, validations: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    study_file = demo / "study.yaml"
    original = study_file.read_text(encoding="utf-8")
    real = study_module._validate_study_file

    def edited_meanwhile(path: Path):  # type: ignore[no-untyped-def]
        found = real(path)
        path.write_text(original.replace("title:", "title: Y", 1), encoding="utf-8")
        return found

    monkeypatch.setattr(study_module, "_validate_study_file", edited_meanwhile)
    load_study_config(demo)  # validated the old text; the file now holds the new one
    monkeypatch.setattr(study_module, "_validate_study_file", real)
    study_file.write_text(original, encoding="utf-8")  # back to the old text: nothing was kept under it
    folder = cache_dir(study_module._VALIDATED)
    assert not folder.exists() or not list(folder.iterdir())
