"""A bounded fuzz suite (hypothesis, derandomised so CI is repeatable): every entry point given broken input
answers with located problems, never a traceback. Kept small (a few hundred examples per target) so the
whole file runs in well under the 3 minutes CI allows; failing inputs found so far are kept as @example.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from survey_tui.cli import main
from survey_tui.core.instrument.expressions import ExpressionError, parse_expression
from survey_tui.core.instrument.loader import load_instrument_text
from survey_tui.core.problems import LoadError, Problem
from survey_tui.core.study import load_study_config

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: the marker of the CLI's last-resort handler: an input no command turned into a located problem
UNHANDLED = "cannot be processed ("

SEED_INSTRUMENT = """id: fz
title: {en: Fuzz}
languages: [en]
sections:
  - name: s1
    questions:
      - name: q1
        type: single
        label: {en: Q1}
        choices: [{code: 1, label: {en: A}}, {code: 2, label: {en: B}}]
      - name: q2
        type: numeric
        label: {en: Q2}
        relevant: q1 = 1
        min: 0
        max: 10
      - name: q3
        type: date
        label: {en: Q3}
"""

yaml_noise = st.text(alphabet=st.sampled_from(list(":-[]{}&*!|>'\"#%@` \n\tabcq1=<()中\x1b")), max_size=40)


def _mutate(text: str, data: st.DataObject) -> str:
    position = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 30))
    return text[:position] + data.draw(yaml_noise) + text[position + cut :]


def _located(problems: list[Problem], *, lines: bool = False) -> None:
    """Every problem names its file, prints on one line with controls escaped, and (`lines`) names a line."""
    for problem in problems:
        assert isinstance(problem, Problem) and problem.file, problem
        assert "\x1b" not in str(problem) and "\n" not in str(problem), repr(str(problem))
        if lines:
            assert problem.line and problem.line >= 1, f"no line: {problem}"


#: pieces of real instrument and plan text, so mutations also reach the semantic checks (not only YAML syntax)
yaml_words = st.sampled_from(
    [
        "type: single",
        "type: multi",
        "type: numeric",
        "type: date",
        "min: 5",
        "max: -1",
        "relevant: q9 = 1",
        "relevant: q1 =",
        "name: q1",
        "code: 1",
        "choices: nope",
        "exclusive: true",
        "- ",
        "  ",
        "\n",
        "special_codes: {dont_know: 1}",
        "label: {fr: x}",
        "languages: [xx]",
        "id: ",
        "sections: []",
        "questions: 3",
        "null: 1",
        "when: age >",
        "quotas: 3",
    ]
)


def _mutate_words(text: str, data: st.DataObject) -> str:
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 30))
        text = text[:position] + data.draw(yaml_words) + text[position + cut :]
    return text


@FUZZ
@given(data=st.data())
def test_mutated_instruments_give_located_problems(data: st.DataObject) -> None:
    text = _mutate(SEED_INSTRUMENT, data)
    instrument, problems = load_instrument_text(text, "fz.yaml")
    assert instrument is not None or problems
    _located(problems, lines=True)


@pytest.mark.parametrize(
    "text",
    [
        SEED_INSTRUMENT.replace("title:", "\x1btitle:"),  # a control character: the reader gives a position only
        SEED_INSTRUMENT.replace("id: fz\n", ""),  # a required top-level key missing: the document's first line
        SEED_INSTRUMENT.replace("languages:", "lang[ <c'>)}uages:"),  # a mistyped key with brackets in it
        SEED_INSTRUMENT.replace("title:", "null: 1\ntitle:"),  # a null key
        "",
    ],
)
def test_instrument_problems_found_without_a_line_now_name_one(text: str) -> None:
    instrument, problems = load_instrument_text(text, "fz.yaml")
    assert instrument is None and problems
    _located(problems, lines=True)


@FUZZ
@given(data=st.data())
def test_instruments_mutated_with_real_keys_name_a_line_for_every_problem(data: st.DataObject) -> None:
    instrument, problems = load_instrument_text(_mutate_words(SEED_INSTRUMENT, data), "fz.yaml")
    assert instrument is not None or problems
    _located(problems, lines=True)


@FUZZ
@given(data=st.data())
def test_mutated_study_files_give_located_problems(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("study")
    seed = "title: Fuzz\nclient: X\nlanguages: [zh-TW, en]\neligibility:\n  - {name: a, when: age >= 15}\n"
    (root / "study.yaml").write_text(
        _mutate(seed, data) if data.draw(st.booleans()) else _mutate_words(seed, data), encoding="utf-8"
    )
    config, problems = load_study_config(root)
    assert config is not None or problems
    _located(problems, lines=True)


@pytest.mark.parametrize(
    "text",
    [
        "title: Fuzz\nclient: \x1bX\n",  # a control character
        "client: X\nlanguages: [zh-TW]\n",  # title missing
        "title: Fuzz\n1]-[:|guages: [en]\n",  # a mistyped key with brackets
        "title: Fuzz\nnull: 1\n",
    ],
)
def test_study_file_problems_found_without_a_line_now_name_one(text: str, tmp_path: Path) -> None:
    (tmp_path / "study.yaml").write_text(text, encoding="utf-8")
    config, problems = load_study_config(tmp_path)
    assert config is None and problems
    _located(problems, lines=True)


expression_atoms = st.sampled_from(
    [
        "q1",
        "q2",
        "1",
        "'x'",
        "=",
        "!=",
        "<",
        ">=",
        "and",
        "or",
        "not",
        "(",
        ")",
        "selected(",
        ",",
        ".",
        "+",
        "-",
        "*",
        "/",
        "count_selected(",
        "today()",
        "1e309",
        "\x1b[2J",
        "中",
        '"',
        "${q1}",
        "in",
        "[",
        "]",
    ]
)


@FUZZ
@given(st.lists(expression_atoms, max_size=12).map(" ".join))
@example("q1 = 'x' and (")  # kept: unbalanced parentheses
def test_expressions_fail_only_with_expression_errors(text: str) -> None:
    try:
        parse_expression(text)
    except ExpressionError as exc:
        assert str(exc)


@FUZZ
@given(
    data=st.binary(max_size=400)
    | st.text(alphabet=st.sampled_from(list(',"\r\n\t;=+-@0912姓名phone\x00\ufeff')), max_size=200).map(str.encode)
)
@example(data=b"name,phone\r\xe7\x8e\x8b,0912345678\r")  # kept: CR-only line ends imported nothing
@example(data=b'"a""\n,"\n\n')
def test_contact_files_fail_only_with_located_problems(data: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    from survey_tui.io.contact_import import ImportFailed, guess_mapping, prepare_import, read_contact_file

    path = tmp_path_factory.mktemp("c") / "list.csv"
    path.write_bytes(data)
    try:
        raw = read_contact_file(path)
        prepare_import(raw, guess_mapping(raw.frame.columns))
    except ImportFailed as exc:
        _located(exc.problems)


def _xlsx_bytes(cells: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label"])
    for row in cells:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@FUZZ
@given(data=st.data())
def test_broken_xlsforms_fail_only_with_located_problems(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from survey_tui.io.xlsform import import_xlsform

    cell = st.text(alphabet=st.sampled_from(list("abc_ 1$={}()中")), max_size=12)
    kinds = st.sampled_from(["text", "integer", "select_one x", "begin group", "end group", "note", "calculate", ""])
    rows = data.draw(st.lists(st.tuples(kinds, cell, cell).map(list), max_size=6))
    payload = _xlsx_bytes(rows)
    if data.draw(st.booleans()):  # damage the package: cut it, or break one member's XML
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            members = {n: archive.read(n) for n in archive.namelist()}
        name = data.draw(st.sampled_from(sorted(members)))
        at = data.draw(st.integers(0, len(members[name])))
        members[name] = members[name][:at] + data.draw(st.binary(max_size=8)) + members[name][at + 4 :]
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for n, blob in members.items():
                archive.writestr(n, blob)
        payload = out.getvalue()
    path = tmp_path_factory.mktemp("x") / "form.xlsx"
    path.write_bytes(payload)
    try:
        import_xlsform(path)
    except LoadError as exc:
        _located(exc.problems)


@pytest.fixture(scope="module")
def fuzz_study(demo_study_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fz") / "study"
    shutil.copytree(demo_study_dir, root)
    return root


@settings(FUZZ, max_examples=12)  # each run reads the data set
@given(
    text=st.lists(
        expression_atoms | st.sampled_from(["s3", "s4", "a5_why", "b5_nps", "9"]), min_size=1, max_size=8
    ).map(" ".join)
)
@example(text="a5_why > 3")  # kept: a text variable compared to a number
def test_table_filters_end_in_a_message(text: str, fuzz_study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["tables", "--study", str(fuzz_study), "--frequencies", "--stubs", "s3", "--filter", text])
    err = capsys.readouterr().err
    assert code in (0, 1), err
    assert "Traceback" not in err and UNHANDLED not in err, err


def test_files_over_the_size_limit_are_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit is named, and the parser never sees the file (a 2 MiB instrument and a contact list)."""
    from survey_tui.core import yamlfile
    from survey_tui.core.instrument.loader import load_instrument_file
    from survey_tui.io import contact_import

    big = tmp_path / "big.yaml"
    big.write_text(SEED_INSTRUMENT + "#" * (yamlfile.MAX_YAML_BYTES + 10), encoding="utf-8")

    def no_parsing(*_: object, **__: object) -> None:
        raise AssertionError("parsed a file over the limit")

    monkeypatch.setattr(yamlfile, "_parse_yaml_text", no_parsing)
    instrument, problems = load_instrument_file(big)
    assert instrument is None and len(problems) == 1
    assert "over the 1 MiB limit" in str(problems[0]) and problems[0].line == 1
    monkeypatch.setattr(contact_import, "MAX_CSV_BYTES", 1000)
    monkeypatch.setattr(contact_import.pl, "read_csv", no_parsing)
    listed = tmp_path / "list.csv"
    listed.write_text("name,phone\n" + "王小明,0912345678\n" * 100, encoding="utf-8")
    with pytest.raises(contact_import.ImportFailed, match="over the .* MiB limit for a contact list"):
        contact_import.read_contact_file(listed)


def test_long_contact_reads_report_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from survey_tui.io import contact_import

    monkeypatch.setattr(contact_import, "PROGRESS_FROM_BYTES", 100)
    listed = tmp_path / "list.csv"
    listed.write_bytes(("name,phone\n" + "王小明,0912345678\n" * 100).encode("cp950"))
    said: list[str] = []
    raw = contact_import.read_contact_file(listed, progress=said.append)
    assert raw.frame.height == 100
    assert [s.split(": ", 1)[1] for s in said] == [
        "reading",
        "parsing the rows",
        "detecting the encoding",
        "parsing the rows",
    ]
