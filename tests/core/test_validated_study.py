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
from survey_tui.core.yamlfile import read_yaml
from survey_tui.i18n import set_language


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The study.yaml files actually validated (an answer from the cache validates none)."""
    ran: list[Path] = []
    real = study_module._validate_study_yaml

    def counting(doc, problems):  # type: ignore[no-untyped-def]
        ran.append(Path(doc.file) if doc is not None else Path("?"))
        return real(doc, problems)

    monkeypatch.setattr(study_module, "_validate_study_yaml", counting)
    return ran


_VALIDATE = study_module._validate_study_yaml  # a fresh validation, never counted


def fresh(root: Path) -> tuple[StudyConfig | None, list]:  # type: ignore[type-arg]
    return _VALIDATE(*read_yaml(root / "study.yaml", "study.yaml"))


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


def test_the_bytes_kept_under_are_the_bytes_validated(
    demo: Path, validations: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save that lands while study.yaml is being validated cannot put one text's answer under another's key."""
    study_file = demo / "study.yaml"
    original = study_file.read_text(encoding="utf-8")
    renamed = original.replace("title:", "title: Y", 1)
    real = study_module.parse_yaml_bytes

    def saved_meanwhile(raw: bytes, name: str, **kw):  # type: ignore[no-untyped-def]
        study_file.write_text(renamed, encoding="utf-8")  # another program saves during the read
        return real(raw, name, **kw)

    monkeypatch.setattr(study_module, "parse_yaml_bytes", saved_meanwhile)
    first = load_study_config(demo)
    monkeypatch.setattr(study_module, "parse_yaml_bytes", real)
    study_file.write_text(original, encoding="utf-8")
    assert first == fresh(demo)  # the text that was read, not the one saved during it
    study_file.write_text(renamed, encoding="utf-8")
    assert load_study_config(demo) == fresh(demo) != first
    study_file.write_text(original, encoding="utf-8")
    assert load_study_config(demo) == first
    assert len(validations) == 2  # the original once, the renamed once


def test_installing_time_zone_data_validates_again(
    demo: Path, validations: list[Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A calling-hours zone is looked up in the time-zone data: new data must not meet an old 'unknown zone'."""
    import zoneinfo

    folder = tmp_path / "zoneinfo"  # a place the data is looked for, empty at first
    monkeypatch.setattr(zoneinfo, "TZPATH", (*zoneinfo.TZPATH, str(folder)))
    checked.code_stamp.cache_clear()
    try:
        load_study_config(demo)
        load_study_config(demo)
        assert len(validations) == 1
        folder.mkdir()  # the data is installed there
        checked.code_stamp.cache_clear()  # (a new process)
        load_study_config(demo)
        assert len(validations) == 2
    finally:
        checked.code_stamp.cache_clear()
