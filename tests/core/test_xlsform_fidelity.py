"""XLSForm import and export mean what ODK means: each defect found on real forms, on a small form that shows it."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from survey_tui.core.instrument.expressions import DictScope
from survey_tui.core.instrument.loader import load_instrument_text
from survey_tui.core.instrument.model import Instrument
from survey_tui.core.interview.engine import InterviewEngine
from survey_tui.io.xlsform import ImportResult, export_xlsform, import_xlsform, language_tag

FORM = """\
|survey||||||||
||type|name|label::Français|label::العربية|constraint|constraint_message::Français|constraint_message::العربية|
||select_one_from_file villages.csv|village|Village|قرية||||
||select_multiple litter|litter|Déchets|نفايات||||
||text|detail|Précisez|حدد||||
||integer|age|Âge|عمر|. >= 0 and . <= 120|Entre 0 et 120|بين 0 و 120|
||decimal|weight|Poids|وزن||||
|choices|||||
||list_name|name|label::Français|label::العربية|
||litter|paper|Papier|ورق|
||litter|other|Autre|آخر|
"""


def write(tmp_path: Path, text: str, name: str = "form.md") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def loaded(result: ImportResult) -> Instrument:
    instrument, problems = load_instrument_text(result.yaml_text(), "imported.yaml")
    assert instrument is not None, [str(p) for p in problems]
    return instrument


def with_relevant(text: str, relevant: str) -> str:
    """FORM with `relevant` on the 'detail' row (a relevant column added to the survey sheet)."""
    out = []
    in_survey = True
    for line in text.splitlines():
        in_survey = in_survey and not line.startswith("|choices")
        if in_survey:
            line += "relevant|" if line.startswith("||type") else f"{relevant}|" if line.startswith("||text") else "|"
        out.append(line)
    return "\n".join(out) + "\n"


def test_language_columns_in_their_own_script_and_with_accents_get_proper_tags(tmp_path: Path) -> None:
    instrument = loaded(import_xlsform(write(tmp_path, FORM)))
    assert instrument.languages == ["fr", "ar"]
    assert instrument.question("litter").label == {"fr": "Déchets", "ar": "نفايات"}
    for name, tag in (("Español", "es"), ("English (en)", "en"), ("Deutsch (de)", "de"), ("中文", "zh")):
        assert language_tag(name) == tag
    assert language_tag("Elvish of the West") is None


def test_an_unknown_language_name_is_kept_and_named(tmp_path: Path) -> None:
    form = FORM.replace("label::العربية", "label::Elvish")
    result = import_xlsform(write(tmp_path, form))
    assert "Elvish" in loaded(result).languages
    assert any(p.where == "::Elvish" and "names no language" in p.message for p in result.problems)


def test_select_one_from_file_is_refused_by_name_never_a_question_without_choices(tmp_path: Path) -> None:
    result = import_xlsform(write(tmp_path, FORM))
    assert not loaded(result).has_question("village")
    message = next(p.message for p in result.problems if p.where == "village")
    assert "select_one_from_file 'villages.csv'" in message and "left out" in message


def test_a_range_constraint_keeps_its_message_in_every_language(tmp_path: Path) -> None:
    instrument = loaded(import_xlsform(write(tmp_path, FORM)))
    age = instrument.question("age")
    assert age.constraint_message == {"fr": "Entre 0 et 120", "ar": "بين 0 و 120"}
    engine = InterviewEngine(instrument, language="fr")
    engine.start()
    for answer in ([1], "x"):  # litter: paper; detail
        assert engine.submit(answer).accepted
    assert engine.current is not None and engine.current.name == "age"
    refused = engine.submit("121")
    assert not refused.accepted and refused.rejection is not None
    assert refused.rejection.message == "Entre 0 et 120"  # the form's French, not survey-tui's English
    assert engine.submit("120").accepted


def test_a_decimal_question_gets_no_invented_limit(tmp_path: Path) -> None:
    instrument = loaded(import_xlsform(write(tmp_path, FORM)))
    engine = InterviewEngine(instrument, language="fr")
    engine.start()
    for answer in ([1], "x", "30"):
        assert engine.submit(answer).accepted
    assert engine.current is not None and engine.current.name == "weight"
    assert engine.submit("72.125").accepted  # three places: the form sets no limit
    assert engine.answers["weight"].value == 72.125


@pytest.mark.parametrize(
    ("relevant", "ticked", "asked"),
    [
        ("${litter}='other'", ["other"], True),
        ("${litter}='other'", ["paper", "other"], False),  # ODK: the answer 'paper other' is not 'other'
        ("${litter}='other'", ["paper"], False),
        ("${litter} != 'other'", ["paper", "other"], True),
        ("${litter} != 'other'", ["other"], False),
        ("selected(${litter}, 'other')", ["paper", "other"], True),
    ],
)
def test_select_multiple_compared_with_equals_means_only_that_ticked(
    tmp_path: Path, relevant: str, ticked: list[str], asked: bool
) -> None:
    result = import_xlsform(write(tmp_path, with_relevant(FORM, relevant)))
    instrument = loaded(result)
    detail = instrument.question("detail")
    assert detail.relevant_expr is not None, [str(p) for p in result.problems]
    codes = {c.name: c.code for c in instrument.question("litter").choice_options}
    scope = DictScope({"litter": [codes[t] for t in ticked]})
    assert detail.relevant_expr.evaluate_bool(scope) is asked


def test_other_comparisons_of_a_select_multiple_are_refused_by_name(tmp_path: Path) -> None:
    result = import_xlsform(write(tmp_path, with_relevant(FORM, "${litter} > 'other'")))
    assert loaded(result).question("detail").relevant is None
    assert any(p.where == "detail" and "select_multiple" in p.message for p in result.problems)


TABLE = """\
| survey |             |              |               |               |
|        | type        | name         | label         | appearance    |
|        | text        | name         | Your name     |               |
|        | begin_group | opinions     | Opinions      | field-list    |
|        | select_one yn | header     | Choices       | label         |
|        | select_one yn | q1         | Tea?          | list-nolabel  |
|        | select_one yn | q2         | Coffee?       | list-nolabel  |
|        | end_group   |              |               |               |
|        | begin_group | tbl          | Table         | field-list    |
|        | select_multiple yn | mhead | Choices       | label         |
|        | select_multiple yn | m1    | Mornings      |               |
|        | select_multiple yn | m2    | Evenings      |               |
|        | end_group   |              |               |               |
|        | begin_repeat | member      | Member        |               |
|        | text        | name         | Member's name |               |
|        | end_repeat  |              |               |               |
| choices |           |      |       |
|         | list_name | name | label |
|         | yn        | yes  | Yes   |
|         | yn        | no   | No    |
"""


def test_header_rows_are_not_answerable_and_top_level_names_are_kept(tmp_path: Path) -> None:
    result = import_xlsform(write(tmp_path, TABLE))
    instrument = loaded(result)
    names = [q.name for q in instrument.questions]
    assert "name" in names  # not renamed because a question inside the dropped repeat is also 'name'
    assert not any(n.startswith(("header", "reserved_name_for_field_list_labels")) for n in names), names
    assert instrument.question("opinions").type == "grid"
    assert [i.name for i in instrument.question("opinions").items or []] == ["q1", "q2"]
    assert {"m1", "m2"} <= set(names)
    messages = {p.where: p.message for p in result.problems}
    assert "header row" in messages["mhead"] and not instrument.has_question("mhead")
    # the repeat's own 'name' is the one renamed, and the message says why
    assert "inside a repeat is also a question outside it" in messages["name"], messages
    assert instrument.loops["member"].templates[0] == "name_2"
    assert not any(str(w).startswith("reserved_name") for w in messages)


def test_export_keeps_choice_names_and_each_language_its_own_text(tmp_path: Path) -> None:
    from openpyxl import load_workbook
    from pyxform.xls2xform import convert

    form = with_relevant(FORM.replace("|قرية|", "||").replace("|ورق|", "||"), "${litter}='other'")
    instrument = loaded(import_xlsform(write(tmp_path, form)))
    target = tmp_path / "out.xlsx"
    export_xlsform(instrument, target)
    assert "<h:html" in convert(str(target)).xform
    book = load_workbook(target)
    header, *rows = [[c.value for c in r] for r in book["choices"].rows]
    names = [r[1] for r in rows if r[0] == "litter"]
    assert names == ["paper", "other"]
    arabic = header.index("label::Arabic (ar)")
    assert [r[arabic] for r in rows if r[0] == "litter"] == [None, "آخر"]  # no French copied into Arabic
    survey = [[c.value for c in r] for r in book["survey"].rows]
    relevant = survey[0].index("relevant")
    detail = next(r for r in survey if r[1] == "detail")
    assert "selected(${litter}, 'other')" in detail[relevant]
    back = loaded(import_xlsform(target))
    assert [(c.code, c.name) for c in back.question("litter").choice_options] == [(1, "paper"), (2, "other")]
    scope = DictScope({"litter": [1, 2]})
    assert back.question("detail").relevant_expr.evaluate_bool(scope) is False  # type: ignore[union-attr]
    assert back.question("detail").relevant_expr.evaluate_bool(DictScope({"litter": [2]})) is True  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------------
# repeats as loops
# ---------------------------------------------------------------------------------------------------

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "xlsforms"


@pytest.mark.skipif(not (CORPUS / "pyxform__tutorial.xls").is_file(), reason="shared XLSForm corpus not present")
def test_tutorial_roster_imports_as_a_loop_and_is_interviewed_to_the_end() -> None:
    result = import_xlsform(CORPUS / "pyxform__tutorial.xls")
    instrument = loaded(result)
    plan = instrument.loops["member"]
    assert plan.kind == "count" and plan.source == "member_count" and plan.keys == tuple(range(1, 21))
    assert any(p.where == "member" and "add another" in p.message for p in result.problems)
    engine = InterviewEngine(instrument, language=instrument.language)
    engine.start()
    sexes = {c.name: c.code for c in instrument.question("sex_1").choice_options}
    yes_no = {c.name: c.code for c in instrument.question("resident_1").choice_options}
    relation = instrument.question("relationship_to_household_head_1").choice_options[0].code
    assert engine.submit("2").accepted  # two members
    members = [("Ana", "female", "yes", "31"), ("Ben", "male", "no", "30")]
    asked: list[str] = []
    while not engine.at_end and engine.current is not None:
        slot = engine.current.slot
        assert slot is not None, engine.current.name
        name, sex, older, age = members[slot.key - 1]
        answers = {
            "name": name,
            "relationship_to_household_head": relation,
            "sex": sexes[sex],
            "resident": yes_no["yes"],
            "stayed_last_night": yes_no["yes"],
            "older_than_five": yes_no[older],
            "age_in_years": age,
            "age_in_months": age,
            "literate": yes_no["yes"],
            "pregnant": yes_no["no"],
        }
        asked.append(engine.current.name)
        assert engine.submit(answers[slot.template]).accepted, engine.current.name
    assert engine.at_end
    engine.finish()
    assert engine.finished and engine.outcome == "complete"
    assert engine.answers["name_2"].value == "Ben" and engine.answers["age_in_months_2"].value == 30
    # ODK's skip rules inside the repeat, per member: literacy asked of the woman of 15-49, months of the child
    assert "literate_1" in asked and "pregnant_1" in asked and "age_in_years_1" in asked
    assert "literate_2" not in asked and "age_in_years_2" not in asked and "age_in_months_2" in asked
    assert not any(n.endswith("_3") for n in asked)


LOOPS = """\
| survey |        |          |                |           |
|        | type   | name     | label          | repeat_count |
|        | integer | hh      | How many?      |           |
|        | select_multiple brand | aware | Heard of? |  |
|        | begin_repeat | members | Member   | ${hh}     |
|        | integer | age     | Age of member  |           |
|        | end_repeat |      |                |           |
|        | begin_repeat | brands | Brand     | count-selected(${aware}) |
|        | select_one yn | likes | Like it? |          |
|        | begin_repeat | deeper | Deeper     | 2         |
|        | text   | why      | Why?           |           |
|        | end_repeat |      |                |           |
|        | end_repeat |      |                |           |
|        | begin_repeat | visits | Visit     | 3         |
|        | text   | place    | Where?         |           |
|        | end_repeat |      |                |           |
| choices |      |          |       |
|         | list_name | name | label |
|         | brand | b1 | Brand one |
|         | brand | b2 | Brand two |
|         | yn    | yes  | Yes   |
|         | yn    | no   | No    |
"""


def test_repeat_counts_become_count_choice_and_fixed_loops_deeper_ones_listed(tmp_path: Path) -> None:
    result = import_xlsform(write(tmp_path, LOOPS))
    instrument = loaded(result)
    members, brands, visits = (instrument.loops[n] for n in ("members", "brands", "visits"))
    assert (members.kind, members.source, members.keys) == ("count", "hh", tuple(range(1, 21)))
    assert instrument.question("hh").max == 20  # a count loop needs a limit: said, not silent
    messages = {p.where: p.message for p in result.problems}
    assert "at most 20" in messages["hh"]
    assert (brands.kind, brands.source, brands.keys) == ("over", "aware", (1, 2))
    assert (visits.kind, visits.keys) == ("choices", (1, 2, 3))
    assert "loops do not nest" in messages["deeper"] and "why" in messages["deeper"]
    assert not instrument.has_question("why_1")
    assert [q.name for q in instrument.iterations("likes")] == ["likes_1", "likes_2"]
    engine = InterviewEngine(instrument, language=instrument.language)
    engine.start()
    for answer in ("1", [2], "40", 1):  # one member aged 40, brand two only, likes it
        assert engine.submit(answer).accepted, engine.current
    assert engine.current is not None and engine.current.name == "place_1"
    assert engine.answers["likes_2"].value == 1 and "likes_1" not in engine.answers


@pytest.mark.skipif(
    not (CORPUS / "pyxform__choice_filter_test.xlsx").is_file(), reason="shared XLSForm corpus not present"
)
def test_cascading_choice_filters_offer_what_odk_offers() -> None:
    from openpyxl import load_workbook

    source = load_workbook(CORPUS / "pyxform__choice_filter_test.xlsx")["choices"]
    header, *rows = [[c.value for c in r] for r in source.rows]
    by_list: dict[str, list[dict[str, object]]] = {}
    for r in rows:
        if r[0]:
            by_list.setdefault(str(r[0]), []).append(dict(zip(header, r, strict=False)))
    instrument = loaded(import_xlsform(CORPUS / "pyxform__choice_filter_test.xlsx"))
    names = {q: [c.name for c in instrument.question(q).choice_options] for q in ("state", "county", "city")}
    for state in ("texas", "washington"):
        engine = InterviewEngine(instrument, language=instrument.language)
        engine.start()
        assert engine.submit(names["state"].index(state) + 1).accepted
        offered = [c.code for c in engine.view().choices]  # type: ignore[union-attr]
        # what ODK offers: the rows of the counties list whose cf column is the state's name
        expected = [i + 1 for i, row in enumerate(by_list["counties"]) if row["cf"] == state]
        assert offered == expected, state
        for county_code in expected:
            engine_c = InterviewEngine(instrument, language=instrument.language)
            engine_c.start()
            assert engine_c.submit(names["state"].index(state) + 1).accepted
            assert engine_c.submit(county_code).accepted
            county = names["county"][county_code - 1]
            cities = [c.code for c in engine_c.view().choices]  # type: ignore[union-attr]
            # 'king' is listed for both states; ODK stores the name, so either King offers King's cities
            assert cities == [i + 1 for i, row in enumerate(by_list["cities"]) if row["cf"] == county], county


def test_choice_filter_exports_as_xlsform_and_comes_back(tmp_path: Path) -> None:
    from pyxform.xls2xform import convert

    from tests.conftest import load_small
    from tests.core.test_choice_filter import FILTERED

    original = load_small(FILTERED)
    target = tmp_path / "filtered.xlsx"
    export_xlsform(original, target)
    xform = convert(str(target)).xform
    assert "selected( /" in xform and "aware" in xform  # pyxform accepted it and wrote the itemset's filter
    back = loaded(import_xlsform(target))
    assert back.question("favourite").choice_filter is not None
    for aware in ([1], [1, 3], [2, 3]):
        scope = DictScope({"aware": aware})
        for c in original.question("favourite").choice_options:
            mine = original.question("favourite").choice_filter_expr.evaluate_bool(scope, c.code)  # type: ignore[union-attr]
            theirs = back.question("favourite").choice_filter_expr.evaluate_bool(scope, c.code)  # type: ignore[union-attr]
            assert mine == theirs, (aware, c.code)


def test_loops_export_as_repeats_pyxform_accepts_and_they_come_back(tmp_path: Path) -> None:
    from pyxform.xls2xform import convert

    from survey_tui.core.instrument.loader import load_instrument

    original = load_instrument(Path(__file__).parent / "loop_instrument.yaml")
    target = tmp_path / "loops.xlsx"
    export_xlsform(original, target)
    xform = convert(str(target)).xform
    assert '<repeat nodeset="/data/brand_loop" jr:count=" /data/brand_loop_count ">' in xform
    assert '<repeat nodeset="/data/members" jr:count=" /data/s1/hh ">' in xform
    assert "indexed-repeat" in xform and "selected-at" in xform and "count-selected( /data/s1/aware )" in xform
    result = import_xlsform(target)
    back = loaded(result)
    assert not any(p.where in ("fam", "why", "age", "older") for p in result.problems), result.problems
    for name, plan in original.loops.items():
        again = back.loops[name]
        assert (again.kind, again.source) == (plan.kind, plan.source) and set(plan.keys) <= set(again.keys)
    # XLSForm has no exclusive flag, so "None of these" (97) is an item again, but its questions are never asked
    assert back.loops["brand_loop"].keys == (1, 2, 3, 97)
    assert not back.question("fam_97").relevant_expr.evaluate_bool(DictScope({"aware": [97]}))  # type: ignore[union-attr]
    # the item's label is piped again, and the skip rules mean the same per iteration
    assert back.question("fam_2").label == original.question("fam_2").label
    for aware in ([1, 2], [1, 2, 3], [3]):
        for fam in (1, 2, 3):
            scope = DictScope({"aware": aware, "fam_3": fam, "fam_1": fam})
            for q in ("why_1", "why_3"):
                mine = original.question(q).relevant_expr.evaluate_bool(scope)  # type: ignore[union-attr]
                assert back.question(q).relevant_expr.evaluate_bool(scope) == mine, (q, aware, fam)  # type: ignore[union-attr]
    for ages in ((30, 40), (40, 30)):
        scope = DictScope({"hh": 2, "age_1": ages[0], "age_2": ages[1]})
        mine = original.question("older_2").relevant_expr.evaluate_bool(scope)  # type: ignore[union-attr]
        assert back.question("older_2").relevant_expr.evaluate_bool(scope) == mine  # type: ignore[union-attr]


@pytest.mark.skipif(not (CORPUS / "pyxform__tutorial.xls").is_file(), reason="shared XLSForm corpus not present")
def test_the_imported_roster_exports_as_a_repeat_pyxform_accepts(tmp_path: Path) -> None:
    from pyxform.xls2xform import convert

    instrument = loaded(import_xlsform(CORPUS / "pyxform__tutorial.xls"))
    target = tmp_path / "tutorial.xlsx"
    export_xlsform(instrument, target)
    xform = convert(str(target)).xform
    assert re.search(r'<repeat nodeset="/data/member" jr:count=" /data/\w+/member_count ">', xform), xform
    again = loaded(import_xlsform(target))
    assert again.loops["member"].kind == "count" and again.loops["member"].source == "member_count"
    assert [q.name for q in again.iterations("pregnant")] == [f"pregnant_{i}" for i in range(1, 21)]


@pytest.mark.parametrize(
    ("relevant", "ticked", "asked"),
    [
        ("${litter}='maybe'", ["other"], False),  # no choice is named 'maybe': ODK never shows the question
        ("${litter} != 'maybe'", ["other"], True),
        ("selected(${litter}, 'maybe') or selected(${litter}, 'paper')", ["paper"], True),
        ("selected(${litter}, 'maybe') or selected(${litter}, 'paper')", ["other"], False),
    ],
)
def test_a_choice_that_does_not_exist_never_matches_as_in_odk(
    tmp_path: Path, relevant: str, ticked: list[str], asked: bool
) -> None:
    result = import_xlsform(write(tmp_path, with_relevant(FORM, relevant)))
    instrument = loaded(result)
    detail = instrument.question("detail")
    assert detail.relevant_expr is not None, [str(p) for p in result.problems]
    codes = {c.name: c.code for c in instrument.question("litter").choice_options}
    assert detail.relevant_expr.evaluate_bool(DictScope({"litter": [codes[t] for t in ticked]})) is asked
    assert any(p.where == "detail" and "'maybe' is not a choice of 'litter'" in p.message for p in result.problems)
