"""Both renderers run a loop: the heading says which item of how many, and they store the same interview."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.widgets import Input, Static

from survey_tui.core.interview.capture import start_session
from survey_tui.core.store.sqlite import Store
from survey_tui.core.study import open_study
from survey_tui.plain.interview import run_plain
from survey_tui.tui.interview_app import InterviewApp
from tests.capture.helpers import make_study
from tests.core.test_loops import LOOPS

#: (form keys or pasted text, plain line, the loop heading on that screen or None)
SCRIPT: list[tuple[list[str] | str, str, str | None]] = [
    (["1", "3", "enter"], "1 3", None),  # aware: 50嵐 and 迷客夏
    ("2", "2", None),  # hh: two members
    (["2"], "2", "品牌 1/2：50嵐"),  # fam_1
    ("好喝", "好喝", "品牌 1/2：50嵐"),  # why_1
    (["pageup"], "<", "品牌 2/2：迷客夏"),  # at fam_3: back across the iterations ...
    (["pageup"], "<", "品牌 1/2：50嵐"),  # ... to why_1, then fam_1
    (["3"], "3", "品牌 1/2：50嵐"),  # fam_1 changed
    ("很好喝", "很好喝", "品牌 1/2：50嵐"),  # why_1 changed
    (["3"], "3", "品牌 2/2：迷客夏"),  # fam_3 (why is never asked for item 3)
    ("30", "30", "成員 1/2"),  # age_1
    ("45", "45", "成員 2/2"),  # age_2
    (["1"], "1", "成員 2/2"),  # older_2: 45 > 30
]


def test_plain_mode_heads_each_iteration(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=False, instrument=LOOPS)
    session = start_session(study, interviewer="amy", language="zh-TW")
    lines = iter([line for _, line, _ in SCRIPT] + [""])
    said: list[str] = []
    assert run_plain(session, lambda prompt: next(lines, None), said.append) == "complete"
    screens = [text for text in said if text.startswith("[")]
    for (_, _, heading), screen in zip(SCRIPT, screens, strict=False):
        if heading is not None:
            assert screen.splitlines()[1] == heading, screen
    assert "關於「迷客夏」，您有多熟悉？" in "\n".join(said)
    with Store(study.db_path) as store:
        answers = {k: v.value for k, v in store.answers(session.interview_id).items()}
    assert answers == {
        "aware": [1, 3],
        "hh": 2,
        "fam_1": 3,
        "why_1": "很好喝",
        "fam_3": 3,
        "age_1": 30,
        "age_2": 45,
        "older_2": 1,
    }


async def test_the_form_heads_each_iteration_and_stores_what_plain_mode_does(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=False, instrument=LOOPS)
    session = start_session(study, interviewer="amy", language="zh-TW")
    app = InterviewApp(open_study(study.root), session=session, once=True)
    app.animation_level = "none"
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for keys, _, heading in SCRIPT:
            loop = app.screen.query_one("#iv-loop", Static)
            if heading is None:
                assert not loop.display
            else:
                assert loop.display and str(loop.render()) == heading
            if isinstance(keys, str):
                field = app.screen.query_one("#iv-input", Input)
                field.value = ""
                field.post_message(events.Paste(keys))
                await pilot.pause()
                keys = ["enter"]
            await pilot.press(*keys)
            await pilot.pause()
        await pilot.press("enter")  # the end screen: complete
        await pilot.pause()
        await pilot.press("enter")  # and close it
        await pilot.pause()
    assert app.return_value == "complete"
    with Store(study.db_path) as store:
        answers = {k: v.value for k, v in store.answers(session.interview_id).items()}
        assert answers["fam_1"] == 3 and answers["why_1"] == "很好喝" and answers["older_2"] == 1
        assert set(answers) == {"aware", "hh", "fam_1", "why_1", "fam_3", "age_1", "age_2", "older_2"}
        changed = [(r["question"], r["action"]) for r in store.audit(session.interview_id)]
        assert ("fam_1", "changed") in changed and ("why_1", "changed") in changed
