"""An export is all or nothing: when one format fails, the files of the earlier run stay as they were."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from survey_tui.cli import main


def _state(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_failing_format_leaves_the_previous_export_untouched(
    demo_study_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    shutil.rmtree(root / "exports")
    assert main(["export", "--study", str(root), "--format", "sav,dta,csv"]) == 0
    before = _state(root / "exports")
    assert any(name.endswith(".sav") for name in before) and any(name.endswith("_manifest.json") for name in before)

    from survey_tui.io import stata

    def too_long(*args: object, **kwargs: object) -> None:  # what pyreadstat says of an over-long label
        raise ValueError("A provided label is too long")

    monkeypatch.setattr(stata, "write_dta", too_long)
    from survey_tui.core.store.sqlite import Store

    with Store(root / "survey.db") as store:  # the data changed since: a new .sav would differ
        row = store.query("SELECT interview_id FROM answers WHERE question = 'a5_why' LIMIT 1")[0]
        store.save_answer(row[0], "a5_why", "changed since the last export", None)
    capsys.readouterr()
    assert main(["export", "--study", str(root), "--format", "sav,dta,csv"]) == 1
    assert "label is too long" in capsys.readouterr().err
    assert _state(root / "exports") == before  # the .sav written before the failure was not moved in
    assert [p.name for p in (root / "exports").iterdir() if p.name.startswith(".")] == []
