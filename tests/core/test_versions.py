"""Versions: the diff between two instruments, the code-reuse check on publish, draft status, changes after pilot."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from survey_tui.core.instrument.versions import (
    CodeReuseError,
    changes_after_pilot,
    code_reuse,
    diff_instruments,
    diff_versions,
    draft_status,
    publish,
)
from survey_tui.core.study import init_study
from tests.conftest import SMALL, load_small


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_diff_reports_added_removed_moved_and_per_question_changes() -> None:
    old = load_small()
    text = SMALL
    text = _edit(text, "en: How old are you?}", "en: What is your age?}")
    text = _edit(
        text,
        "{code: 3, label: {zh-TW: 丙牌, en: Brand C}}",
        "{code: 3, label: {zh-TW: 丙牌, en: Brand C}}\n    - {code: 4, label: {zh-TW: 丁牌, en: Brand D}}",
    )
    text = _edit(
        text, "relevant: count_selected(aware) >= 1 and not selected(aware, 97)", "relevant: count_selected(aware) >= 2"
    )
    text = _edit(
        text,
        """      - name: why
        type: text
        label: {zh-TW: "為什麼最常買{favourite}？", en: "Why {favourite} most?"}
        required: false
""",
        "",
    )
    text = _edit(text, "      - name: visit\n        type: date", "      - name: visit\n        type: text")
    text = _edit(text, "        constraint: . >= '2020-01-01'\n", "")
    # move 'drinks' before 'age'
    drinks = """      - name: drinks
        type: single
        label: {zh-TW: 您喝手搖飲嗎？, en: Do you drink bubble tea?}
        choices: yes_no
"""
    text = _edit(text, drinks, "")
    text = _edit(text, "    questions:\n      - name: age", "    questions:\n" + drinks + "      - name: age")
    text += "      - name: extra\n        type: text\n        label: {zh-TW: 其他, en: Anything else?}\n"
    new = load_small(text)

    diff = diff_instruments(old, new, "v1", "v2")
    assert diff.added == ["extra"]
    assert diff.removed == ["why"]
    assert len(diff.moved) == 1 and diff.moved[0].name in ("age", "drinks")  # the two swapped places
    age = {c.field: c for c in diff.changed["age"]}
    assert age["label[en]"].before == "How old are you?" and age["label[en]"].after == "What is your age?"
    assert "label[zh-TW]" not in age  # unchanged language is not reported
    favourite = {c.field: c for c in diff.changed["favourite"]}
    assert favourite["choice 4"].after == "丁牌" and favourite["choice 4"].before is None
    assert favourite["relevant"].after == "count_selected(aware) >= 2"
    visit = {c.field: c for c in diff.changed["visit"]}
    assert (visit["type"].before, visit["type"].after) == ("date", "text")
    assert visit["constraint"].after is None
    markdown = diff.markdown()
    assert "`extra`" in markdown and "What is your age?" in markdown
    assert diff_instruments(old, load_small(), "a", "b").empty


def test_code_reuse_flags_a_new_meaning_but_not_a_typo_fix() -> None:
    old = load_small()
    reworded = load_small(
        _edit(SMALL, "{code: 3, label: {zh-TW: 丙牌, en: Brand C}}", "{code: 3, label: {zh-TW: 戊牌, en: Brand E}}")
    )
    found = code_reuse(old, reworded, 1)
    assert {(r.question, r.code) for r in found} == {("aware", 3), ("favourite", 3)}
    assert all('meant "丙牌" in v1 and means "戊牌" now' in r.message() for r in found)
    typo = load_small(
        _edit(SMALL, "{code: 3, label: {zh-TW: 丙牌, en: Brand C}}", "{code: 3, label: {zh-TW: 丙牌, en: Brand  c.}}")
    )
    assert code_reuse(old, typo, 1) == []
    one_language = load_small(_edit(SMALL, "en: Brand C}", "en: Brand Charlie}"))
    assert code_reuse(old, one_language, 1) == []  # zh-TW text unchanged: same meaning


@pytest.fixture
def study_dir(tmp_path: Path) -> Path:
    init_study(tmp_path / "s", "Test study")
    (tmp_path / "s" / "instruments" / "small.yaml").write_text(textwrap.dedent(SMALL), encoding="utf-8")
    return tmp_path / "s"


def test_publish_refuses_code_reuse_unless_allowed_and_keeps_versions_immutable(study_dir: Path) -> None:
    from survey_tui.core.study import open_study

    study = open_study(study_dir)
    first = publish(study, "small", note="pilot")
    assert first.new and first.version.version == 1
    assert draft_status(study, "small").describe() == "v1 (published, unchanged)"
    again = publish(study, "small")
    assert not again.new and again.version.id == first.version.id

    path = study_dir / "instruments" / "small.yaml"
    path.write_text(
        _edit(
            path.read_text("utf-8"),
            '{code: 2, label: {zh-TW: 否, en: "No"}}',
            "{code: 2, label: {zh-TW: 不確定, en: Not sure}}",
        ),
        encoding="utf-8",
    )
    assert draft_status(study, "small").describe() == "draft of v2 (changed since v1)"
    with pytest.raises(CodeReuseError) as caught:
        publish(study, "small")
    messages = [p.message for p in caught.value.problems]
    assert any("choice code 2 of 'drinks' meant \"否\" in v1" in m for m in messages), messages
    with study.store() as store:
        assert len(store.versions("small")) == 1  # nothing published
    forced = publish(study, "small", allow_code_reuse=True)
    assert forced.version.version == 2 and forced.reuses
    with study.store() as store:
        assert "否" in store.versions("small")[0].source  # v1 is exactly what was published
    diff = diff_versions(study, "small", 1, 2)
    assert any(c.field == "choice 2 label[en]" for c in diff.changed["drinks"])


def test_demo_changes_after_pilot(demo_study_dir: Path) -> None:
    from survey_tui.core.study import open_study

    study = open_study(demo_study_dir)
    diff = changes_after_pilot(study, "bubble_tea_brand_health")
    assert diff is not None and (diff.old_label, diff.new_label) == ("v1", "v2")
    assert "u8_own_cup" in diff.changed and "b2_image" in diff.changed
    assert any(c.field == "item tea" and c.after is None for c in diff.changed["b2_image"])
    with study.store() as store:
        modes = {
            r[0]: r[1]
            for r in store.query(
                "SELECT i.mode, GROUP_CONCAT(DISTINCT v.version) FROM interviews i"
                " JOIN instrument_versions v ON v.id = i.instrument_version_id GROUP BY i.mode"
            )
        }
    assert modes == {"pilot": "1", "field": "2"}
