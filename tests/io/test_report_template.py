"""The client's Word template: filled with docxtpl (its styles, logo and cover kept), mistakes located."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm

from survey_tui.analysis.dataset import load_dataset
from survey_tui.analysis.hypotheses import evaluate_all
from survey_tui.cli import main
from survey_tui.core.plan.report_template import CONTEXT, TemplateError, template_problems
from survey_tui.core.study import check_study, open_study
from survey_tui.demo.client_template import COVER_STYLE, TEAL
from survey_tui.report import charts
from survey_tui.report.full_report import SECTIONS, build_report, write_report

NEEDS_FONT = pytest.mark.skipif(charts.cjk_font() is None, reason="no CJK font installed (apt install fonts-noto-cjk)")


@pytest.fixture(scope="module")
def study_dir(demo_study_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("tpl") / "study"
    shutil.copytree(demo_study_dir, target, ignore=shutil.ignore_patterns("exports"))
    (target / "exports").mkdir()
    return target


@pytest.fixture(scope="module")
def filled(study_dir: Path) -> Path:
    study = open_study(study_dir)
    assert study.config.report.template == "templates/client.docx"
    paths = write_report(study, ("docx",))
    return next(p for p in paths if p.suffix == ".docx")


def _all_text(doc) -> str:  # type: ignore[no-untyped-def]
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for r in t.rows for c in r.cells]
    for section in doc.sections:
        parts += [p.text for p in section.header.paragraphs + section.footer.paragraphs]
    return "\n".join(parts)


def test_demo_template_is_filled_with_its_own_styles_cover_and_logo(filled: Path, study_dir: Path) -> None:
    doc = Document(str(filled))
    config = open_study(study_dir).config
    text = _all_text(doc)
    assert "{{" not in text and "{%" not in text and "%}" not in text  # every tag filled
    cover = next(p for p in doc.paragraphs if p.style.name == COVER_STYLE)
    assert cover.text == config.title
    heading = doc.styles["Heading 1"]
    assert heading.font.color.rgb is not None and tuple(heading.font.color.rgb) == TEAL  # the template's style
    headings = {p.text for p in doc.paragraphs if p.style.name.startswith("Heading")}
    assert set(SECTIONS) <= headings  # the built-in report placed with {{p body }}, in those styles
    header = doc.sections[0].header
    assert config.client in header.paragraphs[0].text
    assert header.part.element.findall(".//" + qn("pic:pic"))  # the logo in the header
    assert config.title in doc.sections[0].footer.paragraphs[0].text
    first = doc.sections[0]
    assert abs(first.page_width - Cm(21.0)) < Cm(0.01)  # the template's page
    assert any(s.orientation == 1 for s in doc.sections)  # wide banner tables still turn the page
    for section in doc.sections:  # every section keeps the template's header (its logo)
        assert section.header.paragraphs[0].text == header.paragraphs[0].text
    assert doc.core_properties.title == config.title
    assert doc.core_properties.author == (config.researcher or config.client)


def test_demo_template_verdict_rows_and_pictures(filled: Path, study_dir: Path) -> None:
    study = open_study(study_dir)
    doc = Document(str(filled))
    verdicts = doc.tables[0]
    rows = [[c.text for c in r.cells] for r in verdicts.rows]
    expected = evaluate_all(load_dataset(study), study.config.hypotheses)
    assert rows[1:] == [[r.id, r.statement, r.verdict] for r in expected]  # {%tr for %}: one row each
    objectives = [p.text for p in doc.paragraphs if p.style.name == "List Bullet"][: len(study.config.objectives)]
    assert [o.split(" ")[0] for o in objectives] == [o.id for o in study.config.objectives]
    if charts.cjk_font() is None:
        return
    report = build_report(study)
    banners = sum(1 for b in report.blocks if b.kind == "banner" and charts.chart_data(b.table) is not None)
    key = sum(1 for b in report.blocks if b.kind == "frequency" and charts.frequency_data(b.table) is not None)
    # the body's charts, the template's own loop over the key frequencies, and the cover logo
    assert len(doc.inline_shapes) == banners + 2 * key + 1


def _template(path: Path, paragraphs: list[str], cells: list[list[str]] | None = None) -> Path:
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    if cells:
        table = doc.add_table(rows=len(cells), cols=len(cells[0]))
        for row, texts in zip(table.rows, cells, strict=True):
            for cell, text in zip(row.cells, texts, strict=True):
                cell.text = text
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


@NEEDS_FONT
def test_a_template_can_place_each_table_with_its_chart(study_dir: Path, tmp_path: Path) -> None:
    from survey_tui.report.template import write_from_template

    study = open_study(study_dir)
    _template(
        study.root / "templates" / "tables.docx",
        [
            "{{ study.title }}",
            "{%p for t in tables %}",
            "{{ t.id }} {{ t.title }} — {{ t.base }}",
            "{{ t.chart }}",
            "{{p t.table }}",
            "{%p endfor %}",
            "{%p for f in key_frequencies %}",
            "{{p f.table }}",
            "{%p endfor %}",
        ],
    )
    study.config.report.template = "templates/tables.docx"
    report = build_report(study)
    notes = write_from_template(study, report, tmp_path / "t.docx")
    assert notes == []
    doc = Document(str(tmp_path / "t.docx"))
    stubs = report.facts["tables"]
    keys = [b for b in report.blocks if b.kind == "frequency"]
    assert len(doc.tables) == len(stubs) + len(keys)
    assert len(doc.inline_shapes) == sum(1 for t in stubs if charts.chart_data(t["table"]) is not None)
    lines = [p.text for p in doc.paragraphs]
    assert lines[0] == study.config.title
    for info in stubs:
        assert any(line.startswith(f"{info['id']} {info['table'].title} — ") for line in lines)
    # the banner tables are the engine's: the first stub row of the first table, as in the built-in report
    first = info = stubs[0]["table"]
    row = first.rows[0]
    cells = [c.text for c in doc.tables[0].rows[-len(first.rows)].cells]
    assert cells[0] == row.label


def _write(study_dir: Path, tmp_path: Path, name: str, paragraphs: list[str], cells=None):  # type: ignore[no-untyped-def]
    study = tmp_path / name
    shutil.copytree(study_dir, study)
    _template(study / "templates" / "bad.docx", paragraphs, cells)
    text = (study / "study.yaml").read_text("utf-8").replace("templates/client.docx", "templates/bad.docx")
    (study / "study.yaml").write_text(text, "utf-8")
    return study


@pytest.mark.parametrize(
    ("paragraphs", "cells", "expected"),
    [
        (["Cover", "{{ study.client }}", "{{ study.title }"], None, ["paragraph 3", "{{ study.title }", "line 4"]),
        (["Cover"], [["a", "b"], ["{%tr for h in hypotheses %}", ""], ["{{ h.id }", ""]], ["table 1, row 3"]),
        (["{% for o in objectives %}", "{{ o.id }}", "{% endfro %}"], None, ["paragraph 3", "endfro"]),
        (["Cover", "{{ studdy.title }}"], None, ["unknown variable 'studdy'", "paragraph 2", "{{ studdy.title }}"]),
    ],
)
def test_a_broken_template_is_located_and_nothing_is_written(
    study_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    paragraphs: list[str],
    cells: list[list[str]] | None,
    expected: list[str],
) -> None:
    study = _write(study_dir, tmp_path, "s", paragraphs, cells)
    old = b"the report of yesterday"
    (study / "exports" / "report.docx").write_bytes(old)
    problems = [p for p in check_study(study) if "bad.docx" in p.file]
    assert len(problems) == 1
    for piece in expected:
        assert piece in problems[0].message
    assert main(["check", str(study)]) != 0
    with pytest.raises(TemplateError) as caught:
        write_report(open_study(study), ("md", "docx"))
    assert caught.value.problem.message == problems[0].message
    assert (study / "exports" / "report.docx").read_bytes() == old  # the last good report is kept
    assert not (study / "exports" / "report.md").exists()  # nothing written before the template failed
    capsys.readouterr()
    assert main(["report", "--study", str(study), "--format", "docx"]) == 1
    err = capsys.readouterr()
    assert "templates/bad.docx" in err.out + err.err and expected[0] in err.out + err.err


def test_a_misspelt_field_is_located_when_filling(study_dir: Path, tmp_path: Path) -> None:
    """A field the variable does not have passes the name check; StrictUndefined stops the filling."""
    study = _write(study_dir, tmp_path, "s", ["Cover", "Title: {{ study.titel }}"])
    assert not [p for p in check_study(study) if "bad.docx" in p.file]
    target = study / "exports" / "report.docx"
    target.unlink(missing_ok=True)
    with pytest.raises(TemplateError) as caught:
        write_report(open_study(study), ("docx",))
    message = caught.value.problem.message
    assert "titel" in message and "paragraph 2" in message and "{{ study.titel }}" in message
    assert not target.exists()
    assert not [p for p in target.parent.iterdir() if p.suffix == ".docx" or ".tmp" in p.name]  # no leftovers


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"PK\x03\x04 this is not a zip", "not a readable Word document"),
        (None, "does not exist"),
    ],
)
def test_a_corrupt_or_missing_template_says_so(study_dir: Path, tmp_path: Path, content, expected: str) -> None:  # type: ignore[no-untyped-def]
    study = _write(study_dir, tmp_path, "s", ["x"])
    if content is None:
        (study / "templates" / "bad.docx").unlink()
    else:
        (study / "templates" / "bad.docx").write_bytes(content)
    problems = [p for p in check_study(study) if "bad.docx" in p.file]
    assert len(problems) == 1 and expected in problems[0].message
    with pytest.raises(TemplateError, match=expected):
        write_report(open_study(study), ("docx",))


def test_the_contract_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    section = readme.split("### Client Word templates", 1)[1].split("\n## ", 1)[0]
    for name in CONTEXT:
        assert f"`{name}`" in section


def test_key_frequencies_must_name_variables(study_dir: Path, tmp_path: Path) -> None:
    study = tmp_path / "k"
    shutil.copytree(study_dir, study)
    text = (study / "study.yaml").read_text("utf-8")
    text = text.replace(
        "  template: templates/client.docx", "  template: templates/client.docx\n  key_frequencies: [u1_frek]"
    )
    (study / "study.yaml").write_text(text, "utf-8")
    problems = [p for p in check_study(study) if "key_frequencies" in (p.where or "")]
    assert len(problems) == 1 and "u1_frek" in problems[0].message and "u1_freq" in (problems[0].hint or "")
    assert template_problems(study / "templates" / "client.docx", "templates/client.docx") == []


def test_check_keeps_a_template_s_answer_until_the_file_changes(
    study_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`check` reads a .docx once: the same bytes are answered from the user's cache (no python-docx), and any
    change to the file is checked again."""
    import survey_tui.core.plan.report_template as report_template

    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(tmp_path / "cache"))
    study = _write(study_dir, tmp_path, "s", ["Cover", "{{ studdy.title }}"])
    first = [p for p in check_study(study) if "bad.docx" in p.file]
    assert len(first) == 1 and "unknown variable 'studdy'" in first[0].message
    assert first == template_problems(study / "templates" / "bad.docx", "templates/bad.docx")
    calls: list[Path] = []
    real = report_template.template_problems
    monkeypatch.setattr(
        report_template, "template_problems", lambda path, display: calls.append(path) or real(path, display)
    )
    assert [p for p in check_study(study) if "bad.docx" in p.file] == first
    assert calls == []  # answered from the cache
    _template(study / "templates" / "bad.docx", ["Cover", "{{ study.title }"])  # the file changes
    again = [p for p in check_study(study) if "bad.docx" in p.file]
    assert len(calls) == 1 and len(again) == 1 and "{{ study.title }" in again[0].message
    _template(study / "templates" / "bad.docx", ["Cover", "{{ study.title }}"])  # mended
    assert not [p for p in check_study(study) if "bad.docx" in p.file]
