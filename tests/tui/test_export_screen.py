"""The Export & report section: options, a worker that writes files, and the contact-data confirmation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Static

from survey_tui.core.study import open_study
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.screens.export import ConfirmContacts, ExportScreen


@pytest.fixture
def study_dir(demo_study_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "study"
    shutil.copytree(demo_study_dir, target, ignore=shutil.ignore_patterns("exports"))
    return target


async def test_export_from_the_app_writes_the_ticked_formats(study_dir: Path) -> None:
    app = SurveyApp(open_study(study_dir))
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        for fmt in ("sav", "dta", "csv", "xlsx", "sss", "codebook"):
            screen.query_one(f"#fmt-{fmt}", Checkbox).value = False
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = str(screen.query_one("#export-status", Static).render())
        assert "Done" in status
        files = sorted(p.name for p in (study_dir / "exports").iterdir())
        assert "bubble_tea_brand_health.parquet" in files and "bubble_tea_brand_health.sav" not in files
        assert "bubble_tea_brand_health_manifest.json" in files


async def test_contact_data_needs_a_confirmation(study_dir: Path) -> None:
    app = SurveyApp(open_study(study_dir))
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        screen = app.screen
        box = screen.query_one("#export-contacts", Checkbox)
        box.value = True
        await pilot.pause()
        assert isinstance(app.screen, ConfirmContacts)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and box.value is False
        assert screen.options().include_contacts is False


async def test_report_shows_its_progress_section_by_section(study_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The report takes seconds: the worker posts a progress message per section and per file, in order."""
    seen: list[tuple[str, float]] = []
    original = ExportScreen.on_export_progress

    def record(self: ExportScreen, message) -> None:  # type: ignore[no-untyped-def]
        seen.append((message.text, message.fraction))
        original(self, message)

    monkeypatch.setattr(ExportScreen, "on_export_progress", record)
    app = SurveyApp(open_study(study_dir))
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("6")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Done" in str(screen.query_one("#export-status", Static).render())
    from survey_tui.report.full_report import SECTIONS

    texts = [text for text, _fraction in seen]
    assert all(any(title in t for t in texts) for title in SECTIONS)  # every section announced
    assert any("report.docx" in t for t in texts)
    fractions = [f for _text, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(set(fractions)) >= len(SECTIONS)
    assert (study_dir / "exports" / "report.docx").is_file()
