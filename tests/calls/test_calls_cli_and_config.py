"""`calls:` in study.yaml checked with located messages, and the `survey-tui fieldwork` commands on the demo."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from survey_tui.cli import main
from survey_tui.core.study import check_study, init_study, open_study

BAD = """calls:
  timezone: Mars/Olympus
  max_attempts: 0
  outcomes:
    busy: {aapor: "5.1", key: b}
  calling_hours:
    - {days: [mon], start: "21:00", end: "09:00"}
"""


def test_bad_call_settings_get_located_messages(tmp_path: Path) -> None:
    init_study(tmp_path / "s", "T", "C")
    study_file = tmp_path / "s" / "study.yaml"
    first = len(study_file.read_text(encoding="utf-8").splitlines())
    study_file.write_text(study_file.read_text(encoding="utf-8") + BAD, encoding="utf-8")
    problems = {p.where: p for p in check_study(tmp_path / "s")}
    assert "not an AAPOR disposition code" in problems["calls.outcomes.busy.aapor"].message
    assert problems["calls.outcomes.busy.aapor"].line == first + 5
    assert "unknown time zone 'Mars/Olympus'" in problems["calls.timezone"].message
    assert problems["calls.timezone"].line == first + 2
    assert "ends (09:00) before it starts (21:00)" in problems["calls.calling_hours[0]"].message
    assert "calls.max_attempts" in problems


def test_the_standard_outcomes_pass_their_own_validation() -> None:
    """The standard outcomes are built without validation (at import); each must be one validation would make."""
    from survey_tui.core.fieldwork.dispositions import DEFAULT_OUTCOMES, Outcome

    for name, outcome in DEFAULT_OUTCOMES.items():
        given = outcome.model_dump(exclude_unset=True)
        assert Outcome.model_validate(given) == outcome, name
        assert Outcome.model_validate(given).model_fields_set == outcome.model_fields_set, name
    # and a bad one is refused, so the check above could fail
    with pytest.raises(ValueError, match="AAPOR"):
        Outcome.model_validate({"aapor": "9.9x", "key": "z"})


def test_two_outcomes_on_one_key_are_refused(tmp_path: Path) -> None:
    init_study(tmp_path / "s", "T", "C")
    study_file = tmp_path / "s" / "study.yaml"
    study_file.write_text(
        study_file.read_text(encoding="utf-8") + 'calls:\n  outcomes:\n    hung_up: {aapor: "2.35", key: n}\n',
        encoding="utf-8",
    )
    (problem,) = check_study(tmp_path / "s")
    assert "'no_answer' and 'hung_up' both use key 'n'" in problem.message and problem.where == "calls"


def test_a_study_may_add_an_outcome_and_change_a_mapping(tmp_path: Path) -> None:
    init_study(tmp_path / "s", "T", "C")
    study_file = tmp_path / "s" / "study.yaml"
    study_file.write_text(
        study_file.read_text(encoding="utf-8")
        + 'calls:\n  eligibility_estimate: 0.7\n  outcomes:\n    hung_up: {aapor: "2.112", key: j, final: true}\n'
        '    busy: {aapor: "3.12", key: b, redial_minutes: 5}\n',
        encoding="utf-8",
    )
    from survey_tui.core.fieldwork.dispositions import settings_of

    settings = settings_of(open_study(tmp_path / "s").config)
    assert settings.outcome("hung_up").aapor == "2.112" and settings.by_key()["j"] == "hung_up"
    assert settings.outcome("busy").redial_minutes == 5
    assert settings.outcome("no_answer").aapor == "3.13"  # the rest keep their defaults


@pytest.fixture
def demo_copy(demo_study_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "study"
    shutil.copytree(demo_study_dir, target, ignore=shutil.ignore_patterns("exports"))
    return target


def test_fieldwork_commands_on_the_demo(demo_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = ["--study", str(demo_copy)]
    assert main(["fieldwork", "rates", *study]) == 0
    out = capsys.readouterr().out
    assert "RR1 = " in out and "COOP4 = " in out and "CON3 = " in out and "AAPOR proportional allocation" in out
    # the demo's call history covers every group except, at most, a rare one
    counts = dict(part.split() for part in out.splitlines()[1].split(";")[0].removeprefix("  cases ").split(", "))
    assert all(int(counts[g]) > 0 for g in ("I", "R", "NC", "UH", "NE"))
    assert main(["fieldwork", "rates", "--by", "interviewer", *study]) == 0
    assert capsys.readouterr().out.count("== ") >= 6
    assert main(["fieldwork", "queue", *study]) == 0
    assert "appointments due" in capsys.readouterr().out
    assert main(["fieldwork", "productivity", *study, "-o", "p.xlsx"]) == 0
    assert (demo_copy / "exports" / "p.xlsx").is_file()
    assert main(["fieldwork", "backcheck", "report", *study]) == 0
    assert "FLAGGED" in capsys.readouterr().out  # the demo has one interviewer the back-checks did not confirm
    assert main(["fieldwork", "call", "RNOSUCHCASE", "busy", "--interviewer", "amy", *study]) == 1
    assert "no case RNOSUCHCASE" in capsys.readouterr().err
    with open_study(demo_copy).store() as store:
        before = store.query("SELECT COUNT(*) FROM contact_attempts")[0][0]
        rid = store.query("SELECT id FROM respondents WHERE status = 'new' AND interviewer IS NULL LIMIT 1")[0][0]
    assert main(["fieldwork", "call", rid, "hung_up", "--interviewer", "amy", *study]) == 1
    assert "unknown call outcome 'hung_up'" in capsys.readouterr().err
    assert main(["fieldwork", "call", rid, "refusal", "--interviewer", "amy", *study]) == 0
    assert "final disposition so far 2.11" in capsys.readouterr().out
    with open_study(demo_copy).store() as store:
        assert store.query("SELECT COUNT(*) FROM contact_attempts")[0][0] == before + 1
    assert main(["fieldwork", "recompute", *study]) == 0
