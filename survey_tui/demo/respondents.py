"""The demo's respondent list (T1.3): about 400 fictional people behind the synthetic interviews.

Every field interview gets a respondent (gender, age and region from its screener answers, status from
its outcome, consent recorded before it started); the rest of the list is still being worked: new,
contacted, with appointments, refused, unreachable, and two who withdrew consent. Names are made up from
common surnames and given-name characters; phones are random 09xx numbers and e-mails use example.com.
The study gets eligibility criteria and a gender × age quota whose targets leave one cell full.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from survey_tui.core.fieldwork import dispositions
from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.fieldwork.call_queue import CallQueue, question_counts
from survey_tui.core.fieldwork.quotas import Quota, quota_counts
from survey_tui.core.store.sqlite import Store, decode
from survey_tui.core.study import Study, open_study
from survey_tui.core.yamlfile import write_text_atomic
from survey_tui.demo import synthetic

TOTAL = 400
SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝洪郭邱曾廖賴徐周葉蘇莊呂江何蕭羅高"
GIVEN = "怡君志明雅婷家豪淑芬建宏美玲俊傑佳穎宗翰欣怡冠宇詩涵承恩柏翰宜蓁品妤子晴"
ROMAN = ("wang", "chen", "lin", "huang", "chang", "lee", "wu", "liu", "tsai", "yang", "hsu", "cheng")
REGIONS = {1: "北部", 2: "中部", 3: "南部", 4: "東部及離島"}
TAIPEI = ZoneInfo("Asia/Taipei")
AGE_GROUPS = (("15-29", 15, 29), ("30-44", 30, 44), ("45-65", 45, 65))

SCREENING_YAML = """
# T1.3 who may take part, and how many completes each kind of respondent gets.
eligibility:
  - name: age_range
    when: age >= 15 and age <= 65
    reason: {zh-TW: 年齡不在 15–65 歲, en: aged outside 15–65}
  - name: reachable_region
    when: region != '海外'
    reason: {zh-TW: 不在台灣居住, en: lives outside Taiwan}
quotas:
  - name: gender_age
    label: {zh-TW: 性別 × 年齡, en: Gender × age}
    dimensions:
      - name: gender
        levels:
          - {label: 男, when: "coalesce(s3, gender) = 1"}
          - {label: 女, when: "coalesce(s3, gender) = 2"}
      - name: age
        levels:
"""


def _quota_yaml(targets: dict[str, int]) -> str:
    levels = "".join(
        f'          - {{label: "{label}", when: "coalesce(s2, age) >= {lo} and coalesce(s2, age) <= {hi}"}}\n'
        for label, lo, hi in AGE_GROUPS
    )
    lines = "".join(f'      "{cell}": {target}\n' for cell, target in targets.items())
    return SCREENING_YAML + levels + "    targets:\n" + lines


def _person(rng: random.Random, index: int) -> dict[str, str]:
    name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))
    phone = "09" + "".join(str(rng.randrange(10)) for _ in range(8))
    email = f"{rng.choice(ROMAN)}.{index:04d}@example.com"
    return {"name": name, "phone": phone, "email": email}


def demo_respondents(study: Study, rng: random.Random, say: Callable[[str], None] | None = None) -> Study:
    """Add the respondent list, screening criteria and quotas to the demo; returns the reopened study."""
    with study.store() as store:
        interviews = store.query(
            "SELECT id, interviewer, status, outcome, started_at, ended_at FROM interviews WHERE mode = 'field'"
            " ORDER BY id"
        )
        calls = dispositions.settings_of(study.config)
        questions = max(question_counts(study, store).values(), default=0)
        answered = {
            int(r[0]): int(r[1])
            for r in store.query("SELECT interview_id, COUNT(*) FROM answers WHERE special IS NULL GROUP BY 1")
        }
        clock = [datetime(2026, 10, 1, 9, 0, tzinfo=TAIPEI)]
        queue = CallQueue(store, calls, clock=lambda: clock[0])
        from survey_tui.core.interview.capture import consent_wording_version

        wording = consent_wording_version(study)  # the wording and the PDPA notice version shown with it
        # targets: one cell exactly full, the others with room left
        with store.transaction() as conn:
            taken: set[str] = set()
            for index, row in enumerate(interviews):
                answers = {
                    r[0]: decode(r[1])
                    for r in conn.execute(
                        "SELECT question, value FROM answers WHERE interview_id = ? AND question IN ('s2','s3','s4')",
                        (row[0],),
                    )
                }
                attributes = {
                    "gender": answers.get("s3"),
                    "age": answers.get("s2"),
                    "region": REGIONS.get(answers.get("s4") or 0, "北部"),
                }
                started = datetime.fromisoformat(row[4])
                stamp = (started - timedelta(days=rng.randint(2, 6))).isoformat()
                rid = resp.new_ids(1, taken)[0]
                taken.add(rid)
                resp.add(store, attributes, _person(rng, index), interviewer=row[1], at=stamp, respondent_id=rid)
                for attempt in range(rng.randint(0, 2)):
                    resp.record_attempt(
                        store,
                        rid,
                        "no_answer",
                        interviewer=row[1],
                        at=f"{stamp[:10]}T1{attempt}:00:00",
                        **_call(rng.choice(["no_answer", "no_answer", "busy", "answering_machine"])),
                    )
                resp.record_attempt(
                    store, rid, "reached", interviewer=row[1], at=(started - timedelta(days=1)).isoformat()
                )
                if row[3]:  # the call the interview was taken in: from dialling to its end
                    share = answered.get(int(row[0]), 0) / questions if questions else None
                    outcome = dispositions.interview_outcome(row[3], share, calls)
                    resp.record_attempt(
                        store,
                        rid,
                        "reached",
                        interviewer=row[1],
                        at=row[5] or row[4],
                        started_at=(started - timedelta(minutes=2)).isoformat(),
                        **_call(outcome),
                    )
                resp.record_consent(store, rid, True, wording, interviewer=row[1], at=row[4], interview_id=row[0])
                conn.execute("UPDATE interviews SET respondent_id = ? WHERE id = ?", (rid, row[0]))
                status = resp.OUTCOME_STATUS.get(row[3] or "", "in_progress")
                resp.set_status(store, rid, status, interviewer=row[1], note=f"interview {row[3] or row[2]}", at=row[4])
            for index in range(len(interviews), max(TOTAL, len(interviews) + 60)):
                _listed(store, queue, clock, rng, index, wording, taken)
        withdrawn = store.query(  # refusals from the list (break-offs count as refused too, but keep their data)
            "SELECT id FROM respondents r WHERE status = 'refused'"
            " AND NOT EXISTS (SELECT 1 FROM interviews i WHERE i.respondent_id = r.id) ORDER BY rowid LIMIT 2"
        )
        for number, row in enumerate(withdrawn):
            resp.withdraw(store, row[0], delete_answers=number == 1, actor="陳怡君", note="demo: asked to be removed")
        draft = Quota(
            name="gender_age",
            dimensions=[
                {
                    "name": "gender",
                    "levels": [
                        {"label": "男", "when": "coalesce(s3, gender) = 1"},
                        {"label": "女", "when": "coalesce(s3, gender) = 2"},
                    ],
                },
                {
                    "name": "age",
                    "levels": [
                        {"label": label, "when": f"coalesce(s2, age) >= {lo} and coalesce(s2, age) <= {hi}"}
                        for label, lo, hi in AGE_GROUPS
                    ],
                },
            ],
        )
        counts = quota_counts(store, [draft])
    targets = {}
    fullest = max(counts, key=lambda c: c.completes)
    for cell in counts:
        key = " × ".join(cell.cell)
        targets[key] = cell.completes if cell is fullest else max(5, math.ceil(cell.completes * 1.3) + 3)
    text = study.study_file.read_text(encoding="utf-8")
    if "\nquotas:" not in text and "\neligibility:" not in text:
        write_text_atomic(study.study_file, text.rstrip("\n") + "\n" + _quota_yaml(targets))
    study = open_study(study.root)
    with study.store() as store:
        resp.screen_all(store, study.config.eligibility, study.config.language)
        total = resp.status_counts(store)
        checked = _backchecks(store, rng)
    if say:
        say("Respondents: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(total.items())))
        say(f"Back-checks: {checked}")
    return study


def _backchecks(store: Store, rng: random.Random) -> str:
    """A 10 % back-check sample of each interviewer's completes, mostly confirmed; one interviewer has two
    interviews the respondents do not remember (so the report shows a flag), a few could not be reached."""
    from survey_tui.core.fieldwork import backchecks

    sample = backchecks.draw(store, 0.10, seed=20261026, actor="陳怡君")
    doubtful = sorted(sample.drawn)[0] if sample.drawn else None
    for who, ids in sample.drawn.items():
        for number, iid in enumerate(ids):
            if who == doubtful and number < 2:
                result = "not_confirmed"
            elif rng.random() < 0.15:
                result = "not_reached"
            elif rng.random() < 0.1:
                continue  # still to be called back
            else:
                result = "confirmed"
            backchecks.record(store, iid, result, checker="陳怡君")
    return f"{sum(len(v) for v in sample.drawn.values())} sampled (seed {sample.seed})" + (
        f", {doubtful} flagged" if doubtful else ""
    )


def _call(outcome: str) -> dict[str, Any]:
    """The outcome and AAPOR code a demo call is recorded with (the standard mapping)."""
    return {"outcome": outcome, "aapor": dispositions.DEFAULT_OUTCOMES[outcome].aapor}


#: the call histories of people on the list who were not interviewed: (share, calls); the last outcome of each
#: history decides how the case stands (a callback books an appointment, a refusal may refuse consent)
_HISTORIES: tuple[tuple[float, tuple[str, ...]], ...] = (
    (0.40, ()),  # never called yet
    (0.15, ("no_answer", "busy", "answering_machine")),  # 1-3 of these, still being worked
    (0.13, ("no_answer", "callback")),  # reached once, callback booked
    (0.12, ("no_answer", "refusal")),
    (0.05, ("not_in_service", "fax_modem", "business")),  # one of these
    (0.03, ("language", "unable")),  # one of these
    (0.03, ("busy", "no_screener")),
    (0.09, ("max",)),  # non-contacts until the maximum number of attempts
)


def _listed(
    store: Store, queue: CallQueue, clock: list[datetime], rng: random.Random, index: int, wording: str, taken: set[str]
) -> None:
    """A respondent on the list who has not been interviewed (yet), with the calls made to them so far."""
    age = rng.choice([rng.randint(15, 65)] * 9 + [rng.randint(66, 80)])
    attributes = {
        "gender": rng.choice([1, 2, 2, 1, 3]) if rng.random() > 0.02 else None,
        "age": age,
        "region": "海外" if rng.random() < 0.03 else rng.choice(list(REGIONS.values())),
        "來源": rng.choice(["官網會員", "門市問卷", "社群廣告"]),
    }
    interviewer = rng.choice([*synthetic.INTERVIEWERS, None, None])
    day = datetime(2026, 10, 1, 9, 0) + timedelta(days=rng.randrange(20), minutes=rng.randrange(600))
    rid = resp.new_ids(1, taken)[0]
    taken.add(rid)
    resp.add(store, attributes, _person(rng, index), interviewer=interviewer, at=day.isoformat(), respondent_id=rid)
    fate, history = rng.random(), ()
    for share, calls in _HISTORIES:
        if fate < share:
            history = calls
            break
        fate -= share
    if not history:
        return
    caller = interviewer or rng.choice(synthetic.INTERVIEWERS)
    moment = day.replace(tzinfo=TAIPEI)

    def call(outcome: str, **kw: Any) -> None:
        nonlocal moment
        moment = (moment + timedelta(days=rng.randint(0, 2), hours=rng.randint(1, 5))).replace(
            hour=rng.randint(10, 20), minute=rng.randrange(60)
        )
        clock[0] = moment
        if kw.get("callback") == "later":  # a few days after this call, at a time the respondent named
            hour = rng.choice([10, 14, 19, 20])
            kw["callback"] = (moment + timedelta(days=rng.randint(1, 6))).replace(hour=hour, minute=0)
        queue.record_call(rid, outcome, interviewer=caller, **kw)

    if history[0] == "max":
        for _ in range(queue.settings.max_attempts):
            call(rng.choice(["no_answer", "no_answer", "busy", "answering_machine"]))
    elif history[-1] == "callback":
        call("no_answer")
        call("callback", callback="later", hard=rng.random() < 0.3, note="晚上方便")
    elif history[-1] == "refusal":
        for _ in range(rng.randint(0, 2)):
            call(rng.choice(["no_answer", "busy"]))
        call("refusal", note="沒興趣")
        if rng.random() < 0.5:
            resp.record_consent(store, rid, False, wording, interviewer=caller)
    elif len(history) == 2 and history[1] == "no_screener":
        call("busy")
        call("no_screener")
    elif history[0] in ("not_in_service", "language"):
        call(rng.choice(history))
    else:
        for _ in range(rng.randint(1, 3)):
            call(rng.choice(history))
