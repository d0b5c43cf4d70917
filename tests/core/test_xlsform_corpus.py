"""The importer over every form of the shared corpus against pyxform's own XForm of it (see xlsform_reference)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core import xlsform_reference
from tests.core.test_xlsform_fidelity import FORM, with_relevant, write

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "xlsforms"
FORMS = xlsform_reference.corpus_forms(CORPUS) if CORPUS.is_dir() else []


@pytest.mark.skipif(not FORMS, reason="shared XLSForm corpus not present")
@pytest.mark.parametrize("form", FORMS, ids=lambda p: p.name)
def test_no_question_or_rule_behaves_differently_from_pyxforms_reading_without_a_warning(form: Path) -> None:
    report = xlsform_reference.compare(form)
    assert report.silent == [], report.silent
    assert report.questions["same"] > 0
    assert report.logic["silent"] == 0 and report.questions["silent"] == 0


@pytest.mark.skipif(not FORMS, reason="shared XLSForm corpus not present")
def test_the_corpus_figures() -> None:
    """Questions in and out of repeats all come in or are named; the roster's logic is checked per iteration."""
    tutorial = xlsform_reference.compare(CORPUS / "pyxform__tutorial.xls")
    assert tutorial.questions == {"same": 10}  # every member question, as a loop
    assert tutorial.logic == {"same": 6}  # the skip rules and constraints inside the repeat
    spec = xlsform_reference.compare(CORPUS / "pyxform__xlsform_spec_test.xlsx")
    assert spec.logic["same"] >= 30


def test_the_harness_sees_a_silent_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing a select_multiple's `=` the old way (never true) is caught as silent."""
    form = write(tmp_path, with_relevant(FORM, "${litter}='other'"))
    assert xlsform_reference.compare(form).silent == []
    monkeypatch.setattr("survey_tui.io.xlsform._multi_equality", lambda node, ctx: node)
    silent = xlsform_reference.compare(form).silent
    assert any("relevant of detail" in s for s in silent), silent
