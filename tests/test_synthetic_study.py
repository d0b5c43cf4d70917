"""The benchmark generators make valid studies (so benchmark figures measure real work)."""

from pathlib import Path

from benchmarks.synthetic_instrument import make_instrument_yaml
from benchmarks.synthetic_study import make_synthetic_study
from survey_tui.core.instrument.loader import load_instrument_text
from survey_tui.core.study import check_study


def test_the_200_question_instrument_loads_cleanly() -> None:
    instrument, problems = load_instrument_text(make_instrument_yaml(200), "synthetic.yaml")
    assert instrument is not None and problems == []
    assert len([q for q in instrument.questions if q.answerable]) == 200


def test_a_small_synthetic_study_has_its_interviews(tmp_path: Path) -> None:
    study = make_synthetic_study(tmp_path / "s", respondents=3, n_questions=30)
    assert [p for p in check_study(study.root) if p.severity == "error"] == []
    with study.store() as store:
        rows = store.interviews(status="completed")
        assert len(rows) == 3
        assert all(len(store.answers(r.id)) == 30 for r in rows)
