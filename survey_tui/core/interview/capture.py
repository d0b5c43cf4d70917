"""One interview being captured: start or resume it, record consent, suspend, break off, finish.

Both renderers (the Textual form and the plain prompts) and the reliability test workers go through
`CaptureSession`, so an interview is opened, versioned and closed the same way wherever it is
taken. The instrument is always the version the interview was started with, read back from the
store, never today's file.

Respondents (T1.3) and capture meet here:

- Consent has one record per person. A listed respondent's decision goes to `consent_records` (yes/no, time,
  wording version, interviewer, and the interview it was asked in) through `respondents.record_consent`; a
  walk-in has no respondent row (anonymous by design), so their decision is the interview's 'consent' event.
  `consent_of` reads whichever applies.
- The respondent's status follows the interview, in the same transaction as the interview's own change:
  'in_progress' when it starts or resumes, then the outcome through `respondents.record_outcome` (complete ->
  completed, screened out, quota full, break-off -> refused); a suspended interview leaves 'in_progress'; a
  refused consent makes them 'refused'. Each change carries the interviewer.
- Field interviews check the study's quotas after every answer (`quotas.QuotaChecker` with the respondent's
  attributes), so a full cell ends the interview as 'quota_full'. Pilot and test interviews do not count
  towards quotas, so quotas do not stop them either.
- Withdrawn, completed, screened-out and quota-full respondents cannot be interviewed again (a clear
  `CaptureError` says why); a respondent with an open interview gets that interview resumed, not a second one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.fieldwork.quotas import QuotaChecker
from survey_tui.core.instrument.model import Instrument, label_text
from survey_tui.core.interview.answers import AnswerScope
from survey_tui.core.interview.engine import InterviewEngine, StoreRecorder, state_from_store
from survey_tui.core.interview.messages import outcome_word, status_word
from survey_tui.core.interview.preview import SessionEnding
from survey_tui.core.problems import LoadError, Problem
from survey_tui.core.store.base import StoreUnavailable
from survey_tui.core.store.sqlite import InstrumentVersion, InterviewRow, Store, StoreError
from survey_tui.core.study import Study
from survey_tui.i18n import N_, _

RESUMABLE = ("in_progress", "suspended")

OUTCOME_LABELS: dict[str, dict[str, str]] = {
    "complete": {"en": "Complete", "zh-TW": "完成"},
    "break_off": {"en": "Break-off", "zh-TW": "中途終止"},
    "screened_out": {"en": "Screened out", "zh-TW": "篩選未通過（過濾終止）"},
    "quota_full": {"en": "Quota full", "zh-TW": "配額已滿"},
    "consent_refused": {"en": "Consent refused", "zh-TW": "拒絕受訪"},
    "suspended": {"en": "Suspended (resume later)", "zh-TW": "暫停（稍後續訪）"},
}


def outcome_label(outcome: str, language: str) -> str:
    texts = OUTCOME_LABELS.get(outcome, {"en": outcome})
    return texts.get(language) or texts.get("en", outcome)


class CaptureError(Exception):
    """Why an interview cannot be started or resumed, in words an interviewer can act on."""


#: respondent statuses that end their part in the study, with why they cannot be interviewed again
_FINAL: dict[str, str] = {
    "completed": N_("respondent {id} has already completed an interview (a second one would count twice)"),
    "screened_out": N_("respondent {id} was screened out (does not meet the study's conditions)"),
    "quota_full": N_("respondent {id} fell in a quota cell that was full"),
}


def consent_wording_version(study: Study) -> str:
    """Which consent wording the respondent heard: study.yaml's consent_version, else its fingerprint; with
    the version of the PDPA notice shown beside it when the study has one."""
    wording = study.config.consent_version or resp.consent_version(study.config.consent)
    notice = study.config.privacy_notice
    return f"{wording}; notice {notice.version}" if notice else wording


def open_interview_for(store: Store, respondent_id: str) -> int | None:
    """The respondent's suspended or interrupted interview (newest), if there is one."""
    rows = store.query(
        "SELECT id FROM interviews WHERE respondent_id = ? AND status IN ('in_progress', 'suspended')"
        " ORDER BY id DESC LIMIT 1",
        (respondent_id,),
    )
    return int(rows[0][0]) if rows else None


def check_respondent(store: Store, respondent_id: str, *, starting: bool = True) -> resp.Respondent:
    """The respondent, if they can be interviewed now; otherwise a CaptureError saying why and what to do."""
    try:
        who = resp.get(store, respondent_id)
    except resp.RespondentError as exc:
        raise CaptureError(
            _("no respondent '{id}' in this study (see the Respondents section)").format(id=respondent_id)
        ) from exc
    if who.status == "withdrawn":
        raise CaptureError(
            _(
                "respondent {id} has withdrawn consent: they cannot be interviewed (their contact data "
                "was erased; see the Respondents section)"
            ).format(id=respondent_id)
        )
    if not starting:
        return who
    if who.status in _FINAL:
        raise CaptureError(
            _("{refusal}; no new interview can be started").format(
                refusal=_(_FINAL[who.status]).format(id=respondent_id)
            )
        )
    if who.eligible is False:
        reason = f" ({who.eligibility_reason})" if who.eligibility_reason else ""
        raise CaptureError(
            _(
                "respondent {id} does not meet the study's eligibility criteria{reason}; correct the "
                "record and re-screen in the Respondents section first"
            ).format(id=respondent_id, reason=reason)
        )
    open_id = open_interview_for(store, respondent_id)
    if open_id is not None:
        raise CaptureError(
            _(
                "respondent {id} already has interview #{interview} open: resume it "
                "(survey-tui interview --resume {interview}) instead of starting a second one"
            ).format(id=respondent_id, interview=open_id)
        )
    return who


class CaptureRecorder(StoreRecorder):
    """The store recorder of a captured interview: the outcome becomes the respondent's status atomically, and
    a complete is counted against its quota cell inside the completing transaction.


    Counting happens under the store's "quota cells" lock (an advisory lock on PostgreSQL; SQLite's single
    writer already serialises it), so two interviewers completing the last place in a cell at the same
    moment cannot both count: the second finds the cell full and ends as 'quota_full'.
    """

    def __init__(
        self,
        store: Any,
        interview_id: int,
        actor: str | None,
        respondent_id: str | None,
        calls: Any = None,
        questions: int | None = None,
    ) -> None:
        super().__init__(store, interview_id, actor)
        self.respondent_id = respondent_id
        self.calls = calls  # the study's call settings (the partial threshold and the AAPOR mapping)
        self.questions = questions  # how many questions the instrument has (for the partial threshold)
        self.quota: QuotaChecker | None = None
        self.scope: Callable[[], AnswerScope] | None = None  # the engine's answers, set once it exists

    def finish(self, status: str, outcome: str | None) -> str | None:
        with self.store.transaction():
            if outcome == "complete" and self.quota is not None and self.scope is not None:
                self.store.lock("quota cells")
                if self.quota.stop_check(self.scope()) == "quota_full":
                    status, outcome = "terminated", "quota_full"
            super().finish(status, outcome)
            if outcome is not None and self.respondent_id is not None:
                share = None
                if self.questions:
                    answered = self.store.query(
                        "SELECT COUNT(*) FROM answers WHERE interview_id = ? AND special IS NULL", (self.interview_id,)
                    )[0][0]
                    share = int(answered) / self.questions
                resp.record_outcome(
                    self.store,
                    self.respondent_id,
                    outcome,
                    interviewer=self.actor,
                    interview_id=self.interview_id,
                    settings=self.calls,
                    answered_share=share,
                )
        return outcome


def quota_checker(study: Study, store: Store, mode: str, respondent_id: str | None) -> QuotaChecker | None:
    """The quota check a field interview runs after every answer (None: no quotas, or not a field interview)."""
    if mode != "field" or not study.config.quotas:
        return None
    attributes = resp.get(store, respondent_id).attributes if respondent_id else None
    return QuotaChecker(store, study.config.quotas, attributes)


def latest_published(study: Study, store: Store, instrument_id: str | None = None) -> InstrumentVersion:
    """The version new interviews use: the newest published version of the study's instrument."""
    versions = store.versions(instrument_id)
    if not versions:
        raise LoadError(
            [
                Problem(
                    study.relative(study.db_path),
                    _("instrument '{id}' has not been published yet, so there is nothing to interview with").format(
                        id=instrument_id
                    )
                    if instrument_id
                    else _("no instrument has been published yet, so there is nothing to interview with"),
                    hint=_("publish the questionnaire first: survey-tui publish (or the Questionnaire section)"),
                )
            ]
        )
    ids = sorted({v.instrument_id for v in versions})
    if instrument_id is None and len(ids) > 1:
        raise LoadError(
            [
                Problem(
                    study.relative(study.db_path),
                    _("several instruments are published ({ids}): say which").format(ids=", ".join(ids)),
                )
            ]
        )
    wanted = instrument_id or ids[0]
    return max((v for v in versions if v.instrument_id == wanted), key=lambda v: v.version)


@dataclass
class CaptureSession(SessionEnding):
    """An open interview: its row, the exact instrument version, and the engine driving it."""

    study: Study
    store: Store
    interview: InterviewRow
    version: InstrumentVersion
    instrument: Instrument
    engine: InterviewEngine
    consent_required: bool = False
    consent: str | None = None  # 'given' | 'refused' | None (not asked yet / not required)
    closed_outcome: str | None = None  # how the session ended: an outcome, 'suspended' or 'consent_refused'
    owns_store: bool = False
    languages: list[str] = field(default_factory=list)
    interviewer: str | None = None  # who is taking it now (a resumed interview may change hands)
    quota: QuotaChecker | None = None  # the field interview's quota check, if the study has quotas
    #: seconds already spent in earlier sittings of a resumed interview, so the form's clock goes on
    elapsed_before: float = 0.0

    @property
    def respondent_id(self) -> str | None:
        return self.interview.respondent_id

    @property
    def full_quota_cell(self) -> str | None:
        """'quota: cell' that ended the interview as quota full (for the end screen), or None."""
        if self.quota is None or self.quota.full_cell is None:
            return None
        name, cell = self.quota.full_cell
        return f"{name}: {cell}"

    @property
    def interview_id(self) -> int:
        return self.interview.id

    @property
    def mode(self) -> str:
        return self.interview.mode

    @property
    def preview(self) -> bool:
        """Always False: a stored interview (the builder's preview is a `preview.PreviewSession`)."""
        return False

    @property
    def needs_consent(self) -> bool:
        return self.consent_required and self.consent is None

    @property
    def language(self) -> str:
        return self.engine.language

    def consent_text(self) -> str:
        """The consent wording, then the PDPA Art. 8 notice items when the study has a notice."""
        text = label_text(self.study.config.consent, self.language, self.instrument.language)
        notice = self.study.config.privacy_notice
        if notice is None:
            return text
        from survey_tui.core.fieldwork.privacy import notice_lines

        return "\n".join([text, "", *notice_lines(notice, self.language, self.instrument.language)])

    def record_consent(self, given: bool) -> None:
        """Store the respondent's decision; a refusal ends the interview before any question.

        A listed respondent's consent goes to consent_records (with the wording version; a refusal makes them
        'refused'); a walk-in's is the interview's 'consent' event. Either way in one transaction with the end.
        """
        decision = "given" if given else "refused"
        with self.store.transaction():
            if self.respondent_id is not None:
                resp.record_consent(
                    self.store,
                    self.respondent_id,
                    given,
                    consent_wording_version(self.study),
                    interviewer=self.interviewer,
                    interview_id=self.interview_id,
                )
            else:
                self.store.log_event(self.interview_id, "consent", None, decision)
            if not given:
                self.store.finish_interview(self.interview_id, "terminated", "break_off")
                self.store.log_event(self.interview_id, "consent_refused", None, None)
        self.consent = decision
        if not given:
            self.engine.outcome = "break_off"
            self.closed_outcome = "consent_refused"

    def set_language(self, language: str) -> None:
        if language == self.engine.language:
            return
        self.engine.set_language(language)
        current = self.engine.current.name if self.engine.current else None
        self.store.log_event(self.interview_id, "language", current, language)

    def suspend(self) -> None:
        """Stop for now; `resume_session` reopens exactly here."""
        if not self.engine.finished:
            self.store.suspend_interview(self.interview_id)
            self.closed_outcome = "suspended"

    @property
    def outcome(self) -> str | None:
        return self.closed_outcome or self.engine.outcome

    def close(self) -> None:
        if self.owns_store:
            self.store.close()


def _engine(
    instrument: Instrument,
    store: Store,
    row: InterviewRow,
    actor: str | None,
    language: str | None,
    stop_check: Callable[[AnswerScope], str | None] | None,
    resume: bool,
    calls: Any = None,
    quota: QuotaChecker | None = None,
) -> InterviewEngine:
    state = state_from_store(store, row.id) if resume else None
    lang = language or row.language or instrument.language
    if lang not in instrument.languages:
        lang = instrument.language
    recorder = CaptureRecorder(store, row.id, actor, row.respondent_id, calls, len(instrument.questions))
    recorder.quota = quota
    engine = InterviewEngine(
        instrument,
        recorder,
        language=lang,
        seed=row.uuid,
        state=state,
        stop_check=stop_check,
    )
    recorder.scope = lambda: engine.scope
    return engine


def start_session(
    study: Study,
    *,
    mode: str = "field",
    interviewer: str | None = None,
    respondent_id: str | None = None,
    language: str | None = None,
    instrument_id: str | None = None,
    store: Store | None = None,
    stop_check: Callable[[AnswerScope], str | None] | None = None,
    next_respondent: bool = False,
) -> CaptureSession:
    """A new interview on the latest published version; consent (if required) is still to be asked.

    With a respondent: they must be interviewable (`check_respondent`), the interviewer defaults to the one
    they are assigned to, and they become 'in_progress' together with the new interview. Their row is held
    while that is checked and written, so two interviewers starting the same person at once cannot both
    succeed. With `next_respondent`, the interviewer's next respondent is handed out (`claim_next_respondent`).
    `stop_check` replaces the study's quota check (tests); by default a field interview gets it when there
    are quotas.
    """
    owns = store is None
    store = store or study.store()
    try:
        version = latest_published(study, store, instrument_id)
        instrument = study.instrument_for_version(version)
        lang = language or study.config.language
        if lang not in instrument.languages:
            if language is not None:
                raise CaptureError(
                    _("language '{language}' is not one of the instrument's languages ({languages})").format(
                        language=language, languages=", ".join(instrument.languages)
                    )
                )
            lang = instrument.language
        try:
            with store.transaction():  # checked and started at once: two interviewers cannot both start them
                if next_respondent:
                    respondent_id = claim_next_respondent(store, interviewer)
                elif respondent_id is not None:
                    store.lock_row("respondents", respondent_id)
                if respondent_id is not None:  # checked even when the interviewer is named (not short-circuited)
                    who = check_respondent(store, respondent_id)
                    interviewer = interviewer or who.interviewer
                row = store.start_interview(version.id, mode, interviewer, respondent_id, lang)
                if respondent_id is not None:
                    _mark_in_progress(store, respondent_id, interviewer, f"interview #{row.id} started")
        except StoreUnavailable:
            raise  # not about this respondent: the server is away, and the same start works once it is back
        except StoreError as exc:
            raise CaptureError(str(exc)) from exc
        quota = quota_checker(study, store, mode, respondent_id) if stop_check is None else None
        check = stop_check or (quota.stop_check if quota is not None else None)
        engine = _engine(
            instrument, store, row, interviewer, lang, check, resume=False, calls=_calls(study), quota=quota
        )
        engine.start()
    except BaseException:
        if owns:
            store.close()
        raise
    return CaptureSession(
        study,
        store,
        row,
        version,
        instrument,
        engine,
        consent_required=bool(study.config.consent),
        owns_store=owns,
        languages=list(instrument.languages),
        interviewer=interviewer,
        quota=quota,
    )


def _calls(study: Study) -> Any:
    from survey_tui.core.fieldwork.dispositions import settings_of

    return settings_of(study.config)


def _mark_in_progress(store: Store, respondent_id: str, interviewer: str | None, note: str) -> None:
    if resp.get(store, respondent_id).status != "in_progress":
        resp.set_status(store, respondent_id, "in_progress", interviewer=interviewer, note=note)


def resume_session(
    study: Study,
    interview_id: int,
    *,
    interviewer: str | None = None,
    language: str | None = None,
    store: Store | None = None,
    stop_check: Callable[[AnswerScope], str | None] | None = None,
) -> CaptureSession:
    """Reopen a suspended or interrupted interview exactly where it stopped, with its path for going back."""
    owns = store is None
    store = store or study.store()
    try:
        try:
            row = store.interview(interview_id)
        except StoreUnavailable:
            raise
        except StoreError as exc:
            raise CaptureError(_("no interview #{id} in this study").format(id=interview_id)) from exc
        if row.status not in RESUMABLE:
            status = status_word(row.status)
            outcome = outcome_word(row.outcome) if row.outcome else _("no outcome")
            raise CaptureError(
                _(
                    "interview #{id} is {status} ({outcome}); only suspended or interrupted interviews can be resumed"
                ).format(id=interview_id, status=status, outcome=outcome)
            )
        if row.respondent_id is not None:
            check_respondent(store, row.respondent_id, starting=False)
        version = store.version_by_id(row.instrument_version_id)
        instrument = study.instrument_for_version(version)
        interviewer = interviewer or row.interviewer
        spent = time_spent(store, row.id)
        with store.transaction():
            store.resume_interview(row.id)
            if row.respondent_id is not None:
                _mark_in_progress(store, row.respondent_id, interviewer, f"interview #{row.id} resumed")
        quota = quota_checker(study, store, row.mode, row.respondent_id) if stop_check is None else None
        check = stop_check or (quota.stop_check if quota is not None else None)
        engine = _engine(
            instrument, store, row, interviewer, language, check, resume=True, calls=_calls(study), quota=quota
        )
        engine.start()
        consent = consent_of(store, row.id)
    except BaseException:
        if owns:
            store.close()
        raise
    return CaptureSession(
        study,
        store,
        store.interview(row.id),
        version,
        instrument,
        engine,
        consent_required=bool(study.config.consent),
        consent=consent,
        owns_store=owns,
        languages=list(instrument.languages),
        interviewer=interviewer,
        quota=quota,
        elapsed_before=spent,
    )


def open_for_respondent(
    study: Study,
    respondent_id: str,
    *,
    interviewer: str | None = None,
    mode: str = "field",
    language: str | None = None,
    store: Store | None = None,
) -> CaptureSession:
    """The Respondents section's 'start interview': resume their open interview, or start a new one."""
    with study.store() as probe:
        open_id = open_interview_for(probe, respondent_id)
    if open_id is not None:
        return resume_session(study, open_id, interviewer=interviewer, language=language, store=store)
    return start_session(
        study, mode=mode, interviewer=interviewer, respondent_id=respondent_id, language=language, store=store
    )


def consent_of(store: Store, interview_id: int) -> str | None:
    """The consent decision recorded for an interview ('given' / 'refused'), or None.

    A listed respondent's is in consent_records; a walk-in's (and one from before consent records named
    their interview) is the interview's 'consent' event.
    """
    with contextlib.suppress(StoreError):
        if store.interview(interview_id).respondent_id is not None:
            given = resp.consent_for_interview(store, interview_id)
            if given is not None:
                return "given" if given else "refused"
    rows = store.query(
        "SELECT detail FROM interview_events WHERE interview_id = ? AND kind = 'consent' ORDER BY id DESC LIMIT 1",
        (interview_id,),
    )
    return str(rows[0][0]) if rows else None


@dataclass(frozen=True)
class QuestionParadata:
    """What happened on one question: time on screen, answer changes, going back from it, notes."""

    question: str
    seconds: float
    changes: int
    backs: int
    notes: int


def paradata(store: Store, interview_id: int) -> list[QuestionParadata]:
    """Per-question paradata, from the event log and the audit log (nothing extra is stored)."""
    seconds: dict[str, float] = {}
    backs: dict[str, int] = {}
    notes: dict[str, int] = {}
    order: list[str] = []
    for row in store.events(interview_id):
        name = row["question"]
        if name is None:
            continue
        if name not in order:
            order.append(name)
        kind = row["kind"]
        if kind == "answer":
            with contextlib.suppress(ValueError):
                seconds[name] = seconds.get(name, 0.0) + float(row["detail"] or 0)
        elif kind == "back":
            backs[name] = backs.get(name, 0) + 1
        elif kind == "note":
            notes[name] = notes.get(name, 0) + 1
    changes: dict[str, int] = {}
    for row in store.audit(interview_id):
        if row["action"] == "changed":
            changes[row["question"]] = changes.get(row["question"], 0) + 1
    return [
        QuestionParadata(n, round(seconds.get(n, 0.0), 3), changes.get(n, 0), backs.get(n, 0), notes.get(n, 0))
        for n in order
    ]


def time_spent(store: Store, interview_id: int) -> float:
    """Seconds the interview has been open across its sittings, from the event log.

    A sitting starts at the 'start' or 'resume' event and lasts until its last event (a 'suspend', or the
    last answer of a sitting that was interrupted), so time spent suspended never counts.
    """
    total = 0.0
    begun: datetime | None = None
    last: datetime | None = None
    for row in store.events(interview_id):
        try:
            at = datetime.fromisoformat(str(row["at"]))
        except ValueError:
            continue
        if at.tzinfo is None:  # a simulated clock may write naive times: read them as UTC
            at = at.replace(tzinfo=UTC)
        if row["kind"] in ("start", "resume"):
            if begun is not None and last is not None:
                total += (last - begun).total_seconds()
            begun = last = at
        elif begun is not None:
            last = at
            if row["kind"] == "suspend":
                total += (last - begun).total_seconds()
                begun = last = None
    if begun is not None and last is not None:
        total += (last - begun).total_seconds()
    return max(total, 0.0)


def resumable_interviews(store: Store, interviewer: str | None = None) -> list[dict[str, Any]]:
    """Suspended or interrupted interviews (for the start list), newest first."""
    sql = (
        "SELECT id, respondent_id, mode, interviewer, status, current_question, started_at FROM interviews"
        " WHERE status IN ('in_progress', 'suspended')"
    )
    params: tuple[Any, ...] = ()
    if interviewer:
        sql += " AND interviewer = ?"
        params = (interviewer,)
    return [dict(r) for r in store.query(sql + " ORDER BY id DESC LIMIT 200", params)]


def assigned_respondents(store: Store, interviewer: str | None = None) -> list[dict[str, Any]]:
    """The interviewer's to-do list: their own respondents still to interview, next appointment first.

    Only statuses in `respondents.TO_INTERVIEW` (new, contacted, appointment, in progress), not found
    ineligible, and without an open or completed interview (open ones are on the resume list). Refused and
    unreachable people are not listed: start them deliberately from the Respondents section. Without a name
    the list is everyone's (a supervisor's view).
    """
    marks = ", ".join("?" for _ in resp.TO_INTERVIEW)
    sql = (
        "SELECT r.id, r.status, r.interviewer, r.next_appointment FROM respondents r"
        f" WHERE r.status IN ({marks}) AND COALESCE(r.eligible, 1) = 1"
        " AND NOT EXISTS (SELECT 1 FROM interviews i WHERE i.respondent_id = r.id"
        " AND i.status IN ('completed', 'in_progress', 'suspended'))"
    )
    params: tuple[Any, ...] = tuple(resp.TO_INTERVIEW)
    if interviewer:
        sql += " AND r.interviewer = ?"
        params += (interviewer,)
    order = " ORDER BY r.next_appointment IS NULL, r.next_appointment, r.rowid LIMIT 500"
    return [dict(r) for r in store.query(sql + order, params)]


def claim_next_respondent(store: Store, interviewer: str | None) -> str:
    """Inside the starting transaction: the interviewer's next respondent still to interview (their own, then
    unassigned ones), held
    under a row lease (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL) so concurrent interviewers each get a
    different one and never wait on each other; SQLite's single writer serialises the same choice.

    A candidate whose row is free but who was started by someone who committed a moment ago is re-checked
    with `check_respondent` and passed over.
    """
    marks = ", ".join("?" for _ in resp.TO_INTERVIEW)
    sql = (
        "SELECT r.id FROM respondents r"
        f" WHERE r.status IN ({marks}) AND COALESCE(r.eligible, 1) = 1"
        " AND NOT EXISTS (SELECT 1 FROM interviews i WHERE i.respondent_id = r.id"
        " AND i.status IN ('completed', 'in_progress', 'suspended'))"
    )
    params: tuple[Any, ...] = tuple(resp.TO_INTERVIEW)
    if interviewer:  # their own respondents first, then the shared pool nobody is assigned to
        sql += " AND (r.interviewer = ? OR r.interviewer IS NULL)"
        params += (interviewer,)
    order = " ORDER BY r.interviewer IS NULL, r.next_appointment IS NULL, r.next_appointment, r.rowid LIMIT 1"
    passed: list[str] = []
    while True:
        skip = f" AND r.id NOT IN ({', '.join('?' for _ in passed)})" if passed else ""
        rows = store.query(
            sql + skip + order + store.skip_locked,
            params + tuple(passed),
        )
        if not rows:
            raise CaptureError(
                _(
                    "no respondent is waiting to be interviewed for {interviewer} (all are taken, done or not eligible)"
                ).format(interviewer=interviewer)
                if interviewer
                else _("no respondent is waiting to be interviewed (all are taken, done or not eligible)")
            )
        candidate = str(rows[0][0])
        try:
            check_respondent(store, candidate)
        except CaptureError:
            passed.append(candidate)
            continue
        return candidate
