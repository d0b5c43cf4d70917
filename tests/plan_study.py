"""A study folder with the demo's plan and questionnaire but no interviews (fast, for plan tests)."""

from __future__ import annotations

from pathlib import Path

from survey_tui.demo.build import INSTRUMENT_FILE, STUDY_YAML, bundled_instruments_dir


def make_plan_study(root: Path, study_yaml: str = STUDY_YAML) -> Path:
    (root / "instruments").mkdir(parents=True, exist_ok=True)
    (root / "exports").mkdir(exist_ok=True)
    (root / "study.yaml").write_text(study_yaml, encoding="utf-8")
    source = (bundled_instruments_dir() / INSTRUMENT_FILE).read_text(encoding="utf-8")
    (root / "instruments" / INSTRUMENT_FILE).write_text(source, encoding="utf-8")
    if "templates/client.docx" in study_yaml:  # the demo's client Word template, as the demo makes it
        from survey_tui.demo.client_template import write_client_template

        write_client_template(root / "templates" / "client.docx")
    return root
