"""XLSForm both ways: the real forms of the shared corpus, expression translation, export -> pyxform -> import."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from survey_tui.core.instrument.expressions import DictScope
from survey_tui.core.instrument.loader import load_instrument, load_instrument_text
from survey_tui.core.instrument.versions import diff_instruments
from survey_tui.core.problems import LoadError
from survey_tui.io.xlsform import Unsupported, _Context, canonical, export_xlsform, import_xlsform, translate_expression
from tests.conftest import SHARED, SMALL

CORPUS = SHARED / "corpus" / "xlsforms"
FORMS = (
    sorted(p for p in CORPUS.glob("*") if p.suffix in (".xlsx", ".xls", ".md") and p.name != "README.md")
    if (CORPUS.is_dir())
    else []
)
DEMO = Path(__file__).resolve().parents[2] / "instruments" / "bubble_tea_brand_health.yaml"


@pytest.mark.skipif(not FORMS, reason="shared XLSForm corpus not present")
@pytest.mark.parametrize("form", FORMS, ids=lambda p: p.name)
def test_every_corpus_form_imports_or_names_what_is_unsupported(form: Path) -> None:
    try:
        result = import_xlsform(form)
    except LoadError as exc:
        errors = exc.errors
        assert errors, "a refused import must say why"
        assert all(p.message for p in exc.problems)
        raise AssertionError(f"{form.name} refused: {[str(p) for p in exc.problems]}") from exc
    instrument, problems = load_instrument_text(result.yaml_text(), f"{form.name}.yaml")
    assert instrument is not None, [str(p) for p in problems]
    # questions as the form writes them: a loop's question counts once, not once per iteration
    assert result.questions == sum(len(s.questions) for s in instrument.sections) > 0
    for problem in result.problems:
        assert problem.file.startswith(form.name) and problem.message
        assert problem.where, str(problem)  # every note names the row's question or group


@pytest.mark.skipif(not FORMS, reason="shared XLSForm corpus not present")
def test_spec_form_languages_labels_and_logic() -> None:
    result = import_xlsform(CORPUS / "pyxform__xlsform_spec_test.xlsx")
    text = result.yaml_text()
    instrument, _ = load_instrument_text(text, "spec.yaml")
    assert instrument is not None
    assert "zh" in instrument.languages and "en" in instrument.languages  # label::english, label::chinese
    address = instrument.question("address")
    assert address.label == {"en": "Enter an address", "zh": "您好"}
    everything = instrument.section_of("my_name")
    assert everything.relevant == "not selected(skip_to_end, 1)"  # not(selected(${skip_to_end}, 'yes'))
    assert instrument.question("a_decimal").constraint == ". <= a_integer"
    messages = {p.where: p.message for p in result.problems}
    assert "repeat_test" not in messages  # its repeat_count is the calculate '2': a loop of 2, always
    assert instrument.loops["repeat_test"].keys == (1, 2) and instrument.has_question("required_text_2")
    assert "regex()" in messages["email_note"]


@pytest.mark.skipif(not FORMS, reason="shared XLSForm corpus not present")
def test_table_list_groups_become_grids() -> None:
    widgets = load_instrument_text(import_xlsform(CORPUS / "pyxform__widgets.xls").yaml_text(), "w.yaml")[0]
    assert widgets is not None and any(q.type == "grid" for q in widgets.questions)


def test_expression_translation() -> None:
    ctx = _Context(renames={"q": "q", "n": "n", "t": "t"}, codes={"q": {"yes": 1, "no": 2, "dk": 8}})
    assert translate_expression("${q} = 'yes'", ctx) == "q = 1"
    assert translate_expression("'no' != ${q}", ctx) == "2 != q"
    assert translate_expression("selected(${q}, 'dk') or count-selected(${q}) > 1", ctx) == (
        "selected(q, 8) or count_selected(q) > 1"
    )
    assert translate_expression("not(${n} div 2 > 3 and ${n} mod 2 = 0)", ctx) == "not (n / 2 > 3 and n % 2 = 0)"
    assert translate_expression(". >= 18 and . <= 99", ctx) == ". >= 18 and . <= 99"
    assert translate_expression("${t} != ''", ctx) == "answered(t)"
    assert translate_expression("${q} = 'yes' or ${q} = 'no'", ctx) == "q in (1, 2)"
    assert translate_expression("string-length(${t}) > 3", ctx) == "length(t) > 3"
    # a name no choice has never matches in ODK: the comparison is false (and the translation says so)
    assert translate_expression("${q} = 'maybe' or ${n} > 2", ctx) == "false or n > 2"
    assert any("'maybe' is not a choice of 'q'" in note for note in ctx.notes)
    for bad, named in (("today() > ${n}", "today()"), ("/data/x = 1", "/data/x")):
        with pytest.raises(Unsupported, match=named.replace("(", r"\(").replace(")", r"\)")):
            translate_expression(bad, ctx)


def test_export_converts_with_pyxform_and_round_trips(tmp_path: Path) -> None:
    from openpyxl import load_workbook
    from pyxform.xls2xform import convert

    original = load_instrument(DEMO)
    target = tmp_path / "bt.xlsx"
    notes = export_xlsform(original, target)
    assert any("terminate rule" in n for n in notes)  # what XLSForm cannot carry is said, not dropped
    flagged = [(c.code, c.exclusive, c.fixed) for q in original.questions for c in q.choice_options]
    assert any(e for _, e, _ in flagged) and any(f for _, _, f in flagged)
    assert any("is exclusive" in n for n in notes) and any("stays in place" in n for n in notes)
    result = convert(str(target))
    # every language column is "Name (code)"; pyxform's check knows only bare IANA primary subtags, so the
    # region-tagged zh-TW (needed to tell Traditional from Simplified Chinese) is the one it may still flag
    flagged_languages = [w for w in result.warnings if "machine-readable" in w]
    assert all("English" not in w and "zh-TW" in w for w in flagged_languages), result.warnings
    header = [cell.value for cell in next(iter(load_workbook(target)["survey"].rows))]
    assert "label::Chinese (zh-TW)" in header and "label::English (en)" in header
    assert "<h:html" in result.xform and "b4_sat_taste" in result.xform
    back = import_xlsform(target)
    assert back.problems == []
    imported = load_instrument_text(back.yaml_text(), "back.yaml")[0]
    assert imported is not None
    names = [q.name for q in original.questions]
    kept = set(names)
    assert [q.name for q in imported.questions if q.name in kept] == names
    # XLSForm has no way to leave a choice out of a repeat (the demo's loop excludes "other brand"): the item
    # comes back as loop questions that the exported skip condition never asks, and nothing else is added
    extra = [q for q in imported.questions if q.name not in kept]
    assert extra and all(q.slot is not None for q in extra), [q.name for q in extra]
    for q in original.questions:
        other = imported.question(q.name)
        assert other.type == q.type, q.name
        # XLSForm pipes only `${q}`: the export writes our `{q}` that way, and both mean the same here
        assert {k: v.replace("${", "{") for k, v in other.label.items()} == q.label, q.name
        assert [(c.code, c.label) for c in other.choice_options] == [(c.code, c.label) for c in q.choice_options]
        assert [(i.name, i.label) for i in other.items or []] == [(i.name, i.label) for i in q.items or []]
        for field in ("relevant", "calculate"):
            mine = getattr(q, field)
            theirs = getattr(other, field)
            if field == "relevant" and q.slot is not None and theirs is not None:
                # a loop question: the repeat's skip condition for the items the loop leaves out comes back
                # in front of the question's own relevance
                skip = re.match(r"item\(\) != \d+( and item\(\) != \d+)*", theirs)
                assert skip is not None, (q.name, theirs)
                rest = theirs[skip.end() :].removeprefix(" and ") or None
                assert rest == (canonical(mine) if mine else None), (q.name, theirs)
                continue
            assert theirs == (canonical(mine) if mine else None), (q.name, field)
        if q.constraint_message and (q.min, q.max) != (None, None):
            # XLSForm has one constraint and one message: the range comes back inside the constraint, so the
            # form's own message (in every language) is what a respondent out of range sees
            assert (other.min, other.max) == (None, None) and other.constraint_message == q.constraint_message
            expr = other.constraint_expr
            assert expr is not None
            for value in (q.min - 1, q.min, q.max, q.max + 1):  # type: ignore[operator]
                inside = q.min <= value <= q.max  # type: ignore[operator]
                assert expr.evaluate_bool(DictScope({}), value) == inside, (q.name, value)
        else:
            assert (other.min, other.max) == (q.min, q.max)
    diff = diff_instruments(original, imported)
    fields = {c.field.split("[")[0] for changes in diff.changed.values() for c in changes}
    # the only differences are what XLSForm has no place for, ranges that share the form's message, and
    # labels piping `${q}` (XLSForm's spelling, checked equal above) for our `{q}`, and loop questions'
    # relevance carrying the repeat's skip condition (checked above)
    looped = {q.name for q in original.questions if q.slot is not None}
    relevant = {name for name, changes in diff.changed.items() for c in changes if c.field.startswith("relevant")}
    assert relevant <= looped, relevant - looped
    assert fields <= {"special codes", "choice 97 exclusive", "constraint", "min", "max", "label", "relevant"}, fields


def test_cli_strict_mode_and_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from survey_tui.cli import main

    instrument_file = tmp_path / "small.yaml"
    instrument_file.write_text(textwrap.dedent(SMALL), encoding="utf-8")
    xlsx = tmp_path / "small.xlsx"
    assert main(["xlsform", "export", str(instrument_file), "-o", str(xlsx)]) == 0
    assert xlsx.is_file()
    out = tmp_path / "back.yaml"
    assert main(["xlsform", "import", str(xlsx), "-o", str(out)]) == 0
    assert load_instrument(out).has_question("favourite")
    if FORMS:
        strict_target = tmp_path / "strict.yaml"
        widgets = str(CORPUS / "pyxform__widgets.xls")
        assert main(["xlsform", "import", widgets, "--strict", "-o", str(strict_target)]) == 1
        assert not strict_target.exists()
        assert "GPS location widget is not supported" in capsys.readouterr().err
    assert main(["xlsform", "import", str(tmp_path / "missing.xlsx")]) == 1
    # --study naming a folder that is no study is refused; nothing is written here or there
    not_a_study = tmp_path / "plain"
    not_a_study.mkdir()
    before = sorted(p.name for p in Path.cwd().iterdir())
    assert main(["xlsform", "import", str(xlsx), "--study", str(not_a_study)]) == 1
    assert list(not_a_study.iterdir()) == [] and sorted(p.name for p in Path.cwd().iterdir()) == before
