"""An export spanning several instrument versions holds every question and item any interview was asked.

Fixture: v1 is the small instrument; v2 deletes `why`, drops the grid item `sat_price`, adds brand 4,
relabels yes/no code 2 and moves `drinks` before `age`. Interviews of both versions are stored; the
export's counts per column must equal the sum over versions, with v2's labels and a history per variable.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import polars as pl
import pyreadstat

from survey_tui.core.study import open_study
from survey_tui.io.export import ExportOptions, run_export
from tests.capture.helpers import make_study
from tests.conftest import SMALL

DRINKS = """      - name: drinks
        type: single
        label: {zh-TW: 您喝手搖飲嗎？, en: Do you drink bubble tea?}
        choices: yes_no
"""


def _v2(text: str) -> str:
    def edit(old: str, new: str) -> None:
        nonlocal text
        assert old in text, old
        text = text.replace(old, new, 1)

    why = text.index("      - name: why\n")
    edit(text[why : text.index("      - name: sat\n")], "")  # delete the question `why`
    edit("          - {name: price, label: {zh-TW: 價格, en: Price}}\n", "")
    edit(
        "    - {code: 3, label: {zh-TW: 丙牌, en: Brand C}}\n",
        "    - {code: 3, label: {zh-TW: 丙牌, en: Brand C}}\n    - {code: 4, label: {zh-TW: 丁牌, en: Brand D}}\n",
    )
    edit('    - {code: 2, label: {zh-TW: 否, en: "No"}}', '    - {code: 2, label: {zh-TW: 不喝, en: "Not at all"}}')
    edit(DRINKS, "")
    edit("    questions:\n      - name: age", "    questions:\n" + DRINKS + "      - name: age")
    return text


def _interview(store, version_id: int, answers: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    row = store.start_interview(version_id, mode="field")
    for question, value in answers.items():
        store.save_answer(row.id, question, value, None)
    store.finish_interview(row.id, "completed", "complete")


V1 = [
    {"age": 30, "drinks": 1, "aware": [1, 2], "favourite": 1, "why": "好喝", "sat": {"taste": 3, "price": 2}},
    {"age": 41, "drinks": 2},
    {"age": 25, "drinks": 1, "aware": [3], "favourite": 3, "why": "便宜", "sat": {"taste": 1, "price": 1}},
]
V2 = [
    {"drinks": 1, "age": 33, "aware": [4, 1], "favourite": 4, "sat": {"taste": 2}},
    {"drinks": 2, "age": 52},
]


def _count(rows: list[dict[str, object]], column: str) -> int:
    """Answers the stored interviews gave for one export column (hand-worked from the fixture)."""
    n = 0
    for row in rows:
        if column in row:
            n += 1
        elif "_" in column:
            question, rest = column.rsplit("_", 1)
            value = row.get(question)
            # a grid item answered, or a multi (every choice column of an answered question counts)
            if (isinstance(value, dict) and rest in value) or isinstance(value, list):
                n += 1
    return n


def test_export_holds_the_union_of_versions_with_the_newest_labels(tmp_path: Path) -> None:
    study = make_study(tmp_path / "study", consent=False)
    (tmp_path / "study" / "instruments" / "small.yaml").write_text(_v2(textwrap.dedent(SMALL)), encoding="utf-8")
    from survey_tui.core.instrument.versions import publish

    publish(study, "small", allow_code_reuse=True)
    study = open_study(tmp_path / "study")
    with study.store() as store:
        v1, v2 = store.versions("small")
        for answers in V1:
            _interview(store, v1.id, answers)
        for answers in V2:
            _interview(store, v2.id, answers)
    result = run_export(study, ExportOptions(formats=("csv", "sav", "codebook"), language="en"))
    codes = pl.read_csv(tmp_path / "study" / "exports" / "small_codes.csv", infer_schema_length=None)
    for column in ("age", "drinks", "favourite", "why", "sat_taste", "sat_price", "aware_1", "aware_4"):
        assert column in codes.columns, column
        assert codes[column].drop_nulls().len() == _count(V1, column) + _count(V2, column), column
    assert codes["sat_price"].drop_nulls().sort().to_list() == [1, 2]  # the dropped item keeps v1's answers
    assert codes["why"].drop_nulls().sort().to_list() == ["便宜", "好喝"]  # the deleted question too
    assert codes.filter(pl.col("instrument_version") == 2)["aware_4"].to_list() == [1, None]
    assert codes.filter(pl.col("instrument_version") == 1)["aware_4"].to_list() == [0, None, 0]
    # newest order (drinks moved before age), a dropped item after its question's other items
    assert codes.columns.index("drinks") < codes.columns.index("age")
    assert codes.columns.index("sat_price") == codes.columns.index("sat_taste") + 1

    sav = next(e for e in result.entries if e.format == "sav")
    frame, info = pyreadstat.read_sav(str(tmp_path / "study" / sav.file))
    assert info.variable_value_labels["drinks"][2.0] == "Not at all"  # the newest label of a relabelled code
    assert frame["sat_price"].notna().sum() == 2 and frame["why"].replace("", None).notna().sum() == 2
    assert set(info.mr_sets["aware"]["variable_list"]) == {"aware_1", "aware_2", "aware_3", "aware_4", "aware_97"}

    book = (tmp_path / "study" / "exports" / "small_codebook.md").read_text(encoding="utf-8")
    section = book.split("## `sat_price`")[1].split("## `")[0]
    assert "v1" in section and "v2: not asked (dropped)" in section
    drinks = book.split("## `drinks`")[1].split("## `")[0]
    assert "v2: code 2 relabelled (was" in drinks and "v2: moved in the questionnaire" in drinks
    aware = book.split("## `aware_4`")[1].split("## `")[0]
    assert "v2: added" in aware
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert manifest["versions"] == ["v1", "v2"] and "export_report" in manifest
