"""The home screen's figures from the user's cache and the store (core.summary.quick_summary): the same as
reading the whole study, for exactly the files read before, and the store's figures always read afresh."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from survey_tui.core.study import open_study
from survey_tui.core.summary import kept_facts, quick_summary, summarise_study
from survey_tui.i18n import set_language

INSTRUMENT = "instruments/bubble_tea_brand_health.yaml"


def test_nothing_is_kept_before_the_study_was_read(demo: Path) -> None:
    assert kept_facts(demo) is None and quick_summary(demo) is None


def test_the_figures_from_the_cache_are_those_of_the_whole_study(demo: Path) -> None:
    whole = summarise_study(open_study(demo))
    quick = quick_summary(demo)
    assert quick == whole
    assert quick is not None and quick.instruments[0].questions > 0 and quick.interviews() > 0


def test_an_edited_file_is_read_again(demo: Path) -> None:
    summarise_study(open_study(demo))
    path = demo / INSTRUMENT
    path.write_text(path.read_text(encoding="utf-8").replace("relevant: ", "relevant: ((", 1), encoding="utf-8")
    assert quick_summary(demo) is None
    whole = summarise_study(open_study(demo))
    assert whole.instruments[0].errors > 0  # the edit broke it, and the whole read says so
    assert quick_summary(demo) == whole


def test_the_store_is_read_afresh(demo: Path) -> None:
    summarise_study(open_study(demo))
    before = quick_summary(demo)
    with sqlite3.connect(demo / "survey.db") as db:  # a respondent added since (any writer: the file changes)
        db.execute("INSERT INTO respondents (id, created_at) VALUES ('R-new', '2026-12-01T10:00:00')")
    db.close()
    after = quick_summary(demo)
    assert before is not None and after is not None
    assert after.respondents == before.respondents + 1
    assert after == summarise_study(open_study(demo))


def test_the_interface_language_is_part_of_the_key(demo: Path) -> None:
    path = demo / INSTRUMENT
    path.write_text(path.read_text(encoding="utf-8").replace("relevant: ", "relevant: ((", 1), encoding="utf-8")
    summarise_study(open_study(demo))
    set_language("zh-TW")
    assert quick_summary(demo) is None  # the problems were worded in English
    chinese = summarise_study(open_study(demo))
    assert quick_summary(demo) == chinese


def test_the_first_screens_figures_need_no_model(demo: Path) -> None:
    """From the cache, the figures are read without pydantic, the YAML parser or the study's models."""
    summarise_study(open_study(demo))
    code = (
        "import sys\nfrom pathlib import Path\nfrom survey_tui.core.summary import quick_summary\n"
        f"summary = quick_summary(Path({str(demo)!r}))\nassert summary is not None and summary.interviews() > 0\n"
        "print('LOADED:' + ','.join(sorted(set(sys.modules) & {'pydantic', 'ruamel.yaml', 'survey_tui.core.study'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    assert out.stdout.strip().splitlines()[-1:] == ["LOADED:"], out.stderr


def test_a_study_opened_before_its_file_was_edited_leaves_nothing_in_the_cache(demo: Path) -> None:
    """The app open for hours, study.yaml edited meanwhile: the old settings are not kept under the new file."""
    study = open_study(demo)
    path = demo / "study.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("title:", "title: Edited", 1), encoding="utf-8")
    summarise_study(study)
    assert quick_summary(demo) is None
    fresh = summarise_study(open_study(demo))
    assert quick_summary(demo) == fresh and fresh.title != study.config.title
