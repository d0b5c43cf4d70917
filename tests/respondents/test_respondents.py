"""Recruitment lifecycle, consent withdrawal, contact-data protection, screening and quotas."""

from __future__ import annotations

import textwrap
from pathlib import Path

import polars as pl
import pytest

from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.fieldwork.quotas import Quota, quota_counts, stop_check_for
from survey_tui.core.fieldwork.screening import EligibilityCriterion, screen_frame, screen_one
from survey_tui.core.instrument.loader import load_instrument_text
from survey_tui.core.interview.engine import InterviewEngine, StoreRecorder
from survey_tui.core.store.sqlite import Store

QUOTA_INSTRUMENT = textwrap.dedent(
    """
    id: q
    title: {en: Quota test}
    languages: [en]
    choice_lists:
      gender:
        - {code: 1, label: {en: Male}}
        - {code: 2, label: {en: Female}}
    sections:
      - name: s
        label: {en: Screener}
        questions:
          - {name: g, type: single, label: {en: Gender?}, choices: gender}
          - {name: age, type: numeric, label: {en: Age?}, min: 0, max: 120}
          - {name: like, type: single, label: {en: Like it?}, choices: gender}
    """
)
GENDER_AGE = Quota.model_validate(
    {
        "name": "gender_age",
        "dimensions": [
            {
                "name": "gender",
                "levels": [
                    {"label": "M", "when": "coalesce(g, gender) = 1"},
                    {"label": "F", "when": "coalesce(g, gender) = 2"},
                ],
            },
            {"name": "age", "levels": [{"label": "young", "when": "age < 30"}, {"label": "old", "when": "age >= 30"}]},
        ],
        "default_target": 1,
    }
)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "survey.db") as s:
        yield s


def _interview(store: Store, version_id: int, answers: list[int], quotas, respondent: str | None = None):
    instrument, problems = load_instrument_text(QUOTA_INSTRUMENT, "q.yaml")
    assert instrument is not None, problems
    row = store.start_interview(version_id, respondent_id=respondent)
    attributes = resp.get(store, respondent).attributes if respondent else None
    engine = InterviewEngine(
        instrument, StoreRecorder(store, row.id), stop_check=stop_check_for(store, quotas, attributes)
    )
    engine.start()
    result = None
    for value in answers:
        result = engine.submit(value)
        assert result.accepted
        if result.finished:
            return result.outcome, row.id
    engine.finish("complete")
    return "complete", row.id


def test_full_quota_cell_ends_the_interview_as_quota_full(store: Store) -> None:
    version = store.publish_instrument("q", QUOTA_INSTRUMENT)
    assert _interview(store, version.id, [1, 25, 1], [GENDER_AGE])[0] == "complete"
    counts = {c.cell: c.completes for c in quota_counts(store, [GENDER_AGE])}
    assert counts[("M", "young")] == 1 and counts[("F", "young")] == 0
    outcome, interview_id = _interview(store, version.id, [1, 22, 1], [GENDER_AGE])
    assert outcome == "quota_full"
    assert store.interview(interview_id).outcome == "quota_full"
    assert "like" not in store.answers(interview_id)  # ended as soon as the cell was known
    assert _interview(store, version.id, [2, 22, 1], [GENDER_AGE])[0] == "complete"  # other cell still open
    assert _interview(store, version.id, [1, 45, 1], [GENDER_AGE])[0] == "complete"


def test_quota_cell_from_respondent_attributes(store: Store) -> None:
    version = store.publish_instrument("q", QUOTA_INSTRUMENT)
    rid = resp.add(store, {"gender": 2})
    assert _interview(store, version.id, [2, 40, 1], [GENDER_AGE], rid)[0] == "complete"
    other = resp.add(store, {"gender": 2})
    # the screener's own gender question is skipped here by answering the other code: answers win
    assert _interview(store, version.id, [1, 40, 1], [GENDER_AGE], other)[0] == "complete"
    third = resp.add(store, {"gender": 2})
    quota = GENDER_AGE.model_copy(update={"dimensions": [GENDER_AGE.dimensions[0]]})
    assert _interview(store, version.id, [2, 40, 1], [quota], third)[0] == "quota_full"


def test_status_history_attempts_and_appointments(store: Store) -> None:
    rid = resp.add(store, {"gender": 1}, {"name": "王小明", "phone": "0912345678"}, interviewer="陳怡君")
    assert resp.record_attempt(store, rid, "no_answer", interviewer="陳怡君") == 1
    assert resp.get(store, rid).status == "contacted"
    resp.make_appointment(store, rid, "2026-10-08T19:30", interviewer="陳怡君", note="after work")
    assert resp.record_attempt(store, rid, "reached", interviewer="陳怡君") == 2
    record = resp.get(store, rid)
    assert (record.status, record.next_appointment, record.attempts) == ("appointment", "2026-10-08T19:30", 2)
    steps = [(h["old_status"], h["new_status"], h["interviewer"]) for h in resp.history(store, rid)]
    assert steps == [(None, "new", "陳怡君"), ("new", "contacted", "陳怡君"), ("contacted", "appointment", "陳怡君")]
    with pytest.raises(resp.RespondentError):
        resp.set_status(store, rid, "dancing")
    with pytest.raises(resp.RespondentError):
        resp.make_appointment(store, rid, "tomorrow")


def test_interviewer_view_lists_own_next_appointment_first(store: Store) -> None:
    a = resp.add(store, interviewer="林志明")
    b = resp.add(store, interviewer="林志明")
    resp.add(store, interviewer="黃雅婷")
    resp.make_appointment(store, b, "2026-10-06T10:00")
    resp.make_appointment(store, a, "2026-10-09T10:00")
    page = resp.page(store, resp.RespondentFilter(interviewer="林志明", sort="appointment"))
    assert [r.id for r in page.rows] == [b, a] and page.total == 2


def test_consent_recorded_and_refusal(store: Store) -> None:
    rid = resp.add(store)
    resp.record_consent(store, rid, True, "c-1")
    assert resp.has_consent(store, rid)
    resp.record_consent(store, rid, False, "c-1")
    assert not resp.has_consent(store, rid) and resp.get(store, rid).status == "refused"


def _respondent_with_interview(store: Store) -> tuple[str, int]:
    version = store.publish_instrument("q", QUOTA_INSTRUMENT)
    rid = resp.add(
        store,
        {"gender": 2, "age": 33, "line_id": "amy33"},
        {"name": "林怡君", "phone": "0912345678", "email": "amy@example.com"},
    )
    resp.record_attempt(store, rid, "call_back", note="林小姐說晚上再打")
    outcome, interview_id = _interview(store, version.id, [2, 33, 1], [], rid)
    assert outcome == "complete"
    return rid, interview_id


def test_withdrawal_erases_contact_data_and_keeps_anonymous_answers(store: Store) -> None:
    rid, interview_id = _respondent_with_interview(store)
    erasure = resp.withdraw(store, rid, delete_answers=False, actor="陳怡君")
    assert erasure.contacts_erased and erasure.interviews == 1
    assert resp.read_contacts(store, [rid], purpose="test").height == 0
    record = resp.get(store, rid)
    assert record.status == "withdrawn" and record.attributes == {"gender": 2, "age": 33}
    assert store.query("SELECT note FROM contact_attempts WHERE respondent_id = ?", (rid,))[0][0] is None
    assert set(store.answers(interview_id)) == {"g", "age", "like"}
    log = resp.erasure_log(store)
    assert [(r["respondent_id"], r["actor"], r["answers_deleted"]) for r in log] == [(rid, "陳怡君", 0)]
    with pytest.raises(resp.RespondentError):
        resp.set_status(store, rid, "new")


def test_withdrawal_can_delete_the_answers(store: Store) -> None:
    rid, interview_id = _respondent_with_interview(store)
    resp.withdraw(store, rid, delete_answers=True)
    assert store.answers(interview_id) == {}
    assert store.query("SELECT COUNT(*) FROM interviews")[0][0] == 0
    assert store.query("SELECT COUNT(*) FROM audit_log")[0][0] == 0
    assert resp.erasure_log(store)[0]["answers_deleted"] == 1


def test_exports_leave_contacts_out_unless_asked(store: Store) -> None:
    resp.add(store, {"gender": 1}, {"name": "王小明", "phone": "0912345678", "email": "m@example.com"})
    plain = resp.respondents_for_export(store)
    assert not set(resp.CONTACT_FIELDS) & set(plain.frame.columns)
    assert not plain.includes_contacts and plain.notice is None
    assert "0912345678" not in str(plain.frame.rows())
    with pytest.raises(resp.ContactDataRefused):
        resp.respondents_for_export(store, columns=["id", "phone"])
    with pytest.raises(resp.ContactDataRefused):
        resp.guard_columns(["status", "email"], include_contacts=False)
    full = resp.respondents_for_export(store, include_contacts=True, columns=["id", "phone"])
    assert full.frame["phone"].to_list() == ["0912345678"]
    assert full.includes_contacts and "contact data" in (full.notice or "")
    with pytest.raises(resp.ContactDataRefused):
        resp.read_contacts(store, purpose=" ")


def test_no_code_outside_the_respondents_module_reads_the_contact_table() -> None:
    """Every export path must go through respondents_for_export: only it (via read_contacts) sees contacts."""
    package = Path(__file__).resolve().parents[2] / "survey_tui"
    store = package / "core" / "store"  # the schema, and the PostgreSQL roles that guard the table
    allowed = {package / "core" / "fieldwork" / "respondents.py", store / "schema.py", store / "postgres.py"}
    allowed |= {store / "roles.py"}
    offenders = [
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if p not in allowed and "respondent_contacts" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_screening_polars_matches_python() -> None:
    criteria = [
        EligibilityCriterion(name="age", when="age >= 15 and age <= 65", reason={"en": "age", "zh-TW": "年齡"}),
        EligibilityCriterion(name="region", when="region != '海外'", reason={"en": "abroad"}),
    ]
    frame = pl.DataFrame(
        {"age": [30, 70, None, 20], "region": ["北部", "北部", "南部", "海外"]},
        schema={"age": pl.Int64, "region": pl.String},
    )
    screened = screen_frame(frame, criteria, "en")
    assert screened["eligible"].to_list() == [True, False, False, False]
    assert screened["eligibility_reason"].to_list() == [None, "age", "age", "abroad"]
    for row, ok, reason in zip(
        frame.iter_rows(named=True), screened["eligible"], screened["eligibility_reason"], strict=True
    ):
        assert screen_one(row, criteria, "en") == (ok, reason)
    missing = screen_frame(pl.DataFrame({"x": [1]}), criteria[:1], "en")
    assert missing["eligible"].to_list() == [False]


def test_screen_all_and_page_filters(store: Store) -> None:
    ids = [
        resp.add(store, {"age": age}, {"name": f"受訪者{age}", "phone": f"09123456{age:02d}"}) for age in (20, 70, 40)
    ]
    yes, no = resp.screen_all(store, [EligibilityCriterion(name="a", when="age <= 65")])
    assert (yes, no) == (2, 1)
    assert resp.page(store, resp.RespondentFilter(eligible=False)).rows[0].id == ids[1]
    assert [r.id for r in resp.page(store, resp.RespondentFilter(search="受訪者4")).rows] == [ids[2]]
    assert [r.id for r in resp.page(store, resp.RespondentFilter(search="0912-3456-20")).rows] == [ids[0]]
    window = resp.page(store, resp.RespondentFilter(), offset=1, limit=1)
    assert window.total == 3 and [r.id for r in window.rows] == [ids[1]]


def test_pseudonymous_ids_are_random_and_unique() -> None:
    ids = resp.new_ids(20_000)
    assert len(set(ids)) == 20_000 and all(len(i) == 11 and i.startswith("R") for i in ids)


def test_demo_study_has_respondents_quotas_and_consent(demo_study_dir: Path) -> None:
    from survey_tui.core.study import open_study

    study = open_study(demo_study_dir)
    assert study.config.quotas and study.config.eligibility
    with study.store() as store:
        counts = resp.status_counts(store)
        assert sum(counts.values()) >= 400 and counts["completed"] > 0 and counts["withdrawn"] == 2
        assert store.query("SELECT COUNT(*) FROM consent_records")[0][0] > 0
        cells = quota_counts(store, study.config.quotas)
        assert any(c.full for c in cells) and not all(c.full for c in cells)
        linked = store.query("SELECT COUNT(*) FROM interviews WHERE mode='field' AND respondent_id IS NULL")[0][0]
        assert linked <= 1  # one withdrawal deleted its interview; every other field interview has a respondent
