"""The one engine runs loops: routing per iteration, going back across iterations, resume mid-loop, audit."""

from __future__ import annotations

from pathlib import Path

from survey_tui.core.interview.capture import resume_session, start_session
from survey_tui.core.interview.engine import InterviewEngine
from survey_tui.core.store.sqlite import Store
from tests.capture.helpers import make_study
from tests.core.test_loops import LOOPS, load


def names_asked(engine: InterviewEngine, answers: dict[str, object]) -> list[str]:
    """Answer by template name until the end; the questions shown, in order."""
    shown = []
    while engine.current is not None:
        q = engine.current
        shown.append(q.name)
        template = q.slot.template if q.slot else q.name
        assert engine.submit(answers[template]).accepted, q.name
    return shown


def test_a_choice_loop_asks_each_chosen_brand_and_a_count_loop_each_member() -> None:
    engine = InterviewEngine(load(), language="en")
    engine.start()
    shown = names_asked(engine, {"aware": [3, 1], "hh": 2, "fam": 2, "why": "good", "age": 30, "older": 1})
    # brand 2 was not heard of; why is skipped for item 3 (item() != 3); older only from member 2, and only
    # when that member is older than the one before (30 > 30 is false)
    assert shown == ["aware", "hh", "fam_1", "why_1", "fam_3", "age_1", "age_2"]
    assert set(engine.answers) == {"aware", "hh", "fam_1", "why_1", "fam_3", "age_1", "age_2"}


def test_the_view_says_which_item_of_how_many() -> None:
    engine = InterviewEngine(load(), language="en")
    engine.start()
    for answer in ([1, 2, 3], 1, 1):
        assert engine.submit(answer).accepted
    view = engine.view()  # fam_2: the second of the three brands chosen
    assert view is not None and view.question.name == "fam_2"
    assert view.loop is not None and view.loop.heading == "Brand 2 of 3: Ching Shin"
    assert view.label == "How familiar are you with Ching Shin?"
    engine.set_language("zh-TW")
    zh = engine.view()
    assert zh is not None and zh.loop is not None and zh.loop.heading == "品牌 2/3：清心"
    assert zh.label == "關於「清心」，您有多熟悉？"


def test_relevance_reads_another_iteration() -> None:
    engine = InterviewEngine(load(), language="en")
    engine.start()
    for answer in ([97], 3, 40, 50):
        assert engine.submit(answer).accepted
    assert engine.current is not None and engine.current.name == "older_2"  # 50 > 40: the previous member
    view = engine.view()
    assert view is not None and view.loop is not None and view.loop.heading == "Member 2 of 3"
    assert view.label == "Older than the previous?"


def test_going_back_across_iterations_keeps_answers_and_unticking_a_brand_clears_its_iteration() -> None:
    engine = InterviewEngine(load(), language="en")
    engine.start()
    for answer in ([1, 2], 0, 3, "known", 2):
        assert engine.submit(answer).accepted
    assert engine.current is not None and engine.current.name == "why_2"
    assert engine.back() and engine.current.name == "fam_2"
    assert engine.back() and engine.current.name == "why_1"  # back into the previous iteration
    assert engine.answers["why_1"].value == "known" and engine.answers["fam_2"].value == 2
    while engine.current.name != "aware":
        assert engine.back()
    assert engine.submit([2]).accepted  # brand 1 is no longer heard of: its iteration goes
    assert "fam_1" not in engine.answers and "why_1" not in engine.answers
    assert engine.answers["fam_2"].value == 2
    assert engine.current.name == "hh"


def test_resume_mid_loop_and_every_iteration_is_stored_and_audited(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=False, instrument=LOOPS)
    session = start_session(study, interviewer="amy", language="en")
    for answer in ([1, 3], 2, 3, "why one"):
        assert session.engine.submit(answer).accepted
    assert session.engine.current is not None and session.engine.current.name == "fam_3"
    interview = session.interview_id
    session.close()  # the interviewer's machine stops here: nothing was suspended on purpose
    with Store(study.db_path) as store:
        stored = store.answers(interview)
        assert {k: v.value for k, v in stored.items()} == {"aware": [1, 3], "hh": 2, "fam_1": 3, "why_1": "why one"}
        resumed = resume_session(study, interview, store=store)
        engine = resumed.engine
        assert engine.current is not None and engine.current.name == "fam_3"
        view = engine.view()
        assert view is not None and view.loop is not None and view.loop.index == 2 and view.loop.total == 2
        assert engine.path == ["aware", "hh", "fam_1", "why_1"]
        assert engine.back() and engine.current.name == "why_1"  # the way back survives the resume
        assert engine.submit("changed").accepted
        assert engine.submit(1).accepted  # fam_3
        audit = [(r["question"], r["action"]) for r in store.audit(interview)]
        assert ("why_1", "changed") in audit and ("fam_3", "answered") in audit
        shown = [r["question"] for r in store.events(interview) if r["kind"] == "shown"]
        assert shown.count("fam_3") >= 2 and "why_1" in shown  # paradata per iteration
