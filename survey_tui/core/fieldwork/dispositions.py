"""Call outcomes and AAPOR dispositions (T1.3 P1.3.3): one key per outcome, one final disposition per case.

Every call ends with an *outcome* (no answer, busy, refusal, ...), recorded as a row of `contact_attempts`
(the interim history) with the AAPOR Standard Definitions code it maps to. The respondent's *final
disposition* is kept on the respondent (`respondents.disposition`) and follows AAPOR's advice that the final
code is the most informative one seen, not simply the last: a case that was ever interviewed stays an
interview, a refusal is not undone by later non-contacts. Ranks, highest first: complete (1.1), partial
(1.2), not eligible (4.x), refusal and break-off (2.1x), other (2.3x), non-contact (2.2x), unknown other
(3.2-3.9), unknown household (3.1x). Ties go to the later call. A case never called is 3.11 ("not
attempted or worked").

The mapping lives in `study.yaml` under `calls:` (see :class:`CallSettings`); every key has a default, so
a study that says nothing gets the standard telephone mapping below. The same section holds the call
queue's rules (redial delays, maximum attempts, calling hours, leases) and the back-check settings, so one
place says how a study's telephone fieldwork is run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from survey_tui.i18n import _

#: AAPOR groups: I complete, P partial, R refusal/break-off, NC non-contact, O other, UH unknown household,
#: UO unknown other, NE not eligible
GROUPS = ("I", "P", "R", "NC", "O", "UH", "UO", "NE")
GROUP_LABELS = {
    "I": "complete interviews (1.1)",
    "P": "partial interviews (1.2)",
    "R": "refusals and break-offs (2.1)",
    "NC": "non-contacts (2.2)",
    "O": "other eligible, non-interview (2.3)",
    "UH": "unknown if household/eligible unit (3.1)",
    "UO": "unknown eligibility, other (3.2-3.9)",
    "NE": "not eligible (4)",
}
_RANK = {"I": 8, "P": 7, "NE": 6, "R": 5, "O": 4, "NC": 3, "UO": 2, "UH": 1}
NOT_ATTEMPTED = "3.11"
_CODE = re.compile(r"^(1\.[12]|2\.[123]\d{0,3}|3\.[1-9]\d{0,3}|4\.[1-9]\d{0,3})$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: outcomes that only an interview produces (the call screen has no key for them)
INTERVIEW_OUTCOMES = ("complete", "partial", "break_off", "screened_out", "quota_full")
#: the recruitment status a final outcome leaves the respondent in (interim outcomes keep 'contacted')
FINAL_STATUS = {
    "refusal": "refused",
    "break_off": "refused",
    "screened_out": "screened_out",
    "quota_full": "quota_full",
    "complete": "completed",
    "partial": "refused",
}


def group_of(code: str | None) -> str:
    """The AAPOR group of a disposition code (None: never attempted, 3.11, unknown household)."""
    code = code or NOT_ATTEMPTED
    head = code[:3]
    if head == "1.1":
        return "I"
    if head == "1.2":
        return "P"
    if head == "2.1":
        return "R"
    if head == "2.2":
        return "NC"
    if head == "2.3":
        return "O"
    if head == "3.1":
        return "UH"
    if code.startswith("3."):
        return "UO"
    if code.startswith("4."):
        return "NE"
    raise ValueError(_("{code!r} is not an AAPOR disposition code").format(code=code))


def rank(code: str | None) -> int:
    return _RANK[group_of(code)]


def supersedes(new: str, old: str | None) -> bool:
    """Does a call with code `new` become the final disposition over `old` (ties: the later one wins)?"""
    return old is None or rank(new) >= rank(old)


class Outcome(BaseModel):
    """One call outcome: the key the interviewer presses, its words, its AAPOR code, what happens next."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    aapor: str
    label: dict[str, str] = Field(default_factory=dict)
    key: str | None = None  # one key on the call screen (None: only an interview produces it)
    final: bool = False  # the case leaves the queue
    contact: bool = False  # a person was reached (productivity's "contacts")
    redial_minutes: int | None = Field(default=None, ge=0)  # interim outcomes: when the case may be dialled again

    @field_validator("aapor")
    @classmethod
    def _code(cls, code: str) -> str:
        code = str(code).strip()
        if not _CODE.match(code):
            raise ValueError(
                _(
                    "'{code}' is not an AAPOR disposition code: use 1.1 (complete), 1.2 (partial), 2.1x (refusal, "
                    "break-off), 2.2x (non-contact), 2.3x (other), 3.1x/3.2-3.9 (unknown eligibility), "
                    "4.x (not eligible)"
                ).format(code=code)
            )
        return code

    @field_validator("key")
    @classmethod
    def _one_key(cls, key: str | None) -> str | None:
        if key is not None and (len(key) != 1 or not key.isalpha() or not key.islower()):
            raise ValueError(_("key {key!r} must be one lower-case letter").format(key=key))
        if key in ("i", "q", "h", "t", "a", "e"):
            raise ValueError(
                _("key {key!r} is taken on the call screen (i interview, t note, a appointment, q quit)").format(
                    key=key
                )
            )
        return key

    def text(self, language: str, name: str) -> str:
        return self.label.get(language) or self.label.get("en") or name.replace("_", " ")


def _o(aapor: str, zh: str, en: str, key: str | None, **kw: Any) -> Outcome:
    """One of the standard outcomes, built without validation: building Outcome's validator at import cost every
    command that reads study.yaml a tenth of a `check` (a test validates each of them)."""
    return Outcome.model_construct(aapor=aapor, label={"zh-TW": zh, "en": en}, key=key, **kw)


#: the standard telephone mapping (AAPOR Standard Definitions, RDD telephone table)
DEFAULT_OUTCOMES: dict[str, Outcome] = {
    "no_answer": _o("3.13", "無人接聽", "no answer", "n", redial_minutes=120),
    "busy": _o("3.12", "忙線", "busy", "b", redial_minutes=15),
    "answering_machine": _o("3.14", "答錄機/語音信箱", "answering machine", "m", redial_minutes=240),
    "no_screener": _o(
        "3.21", "住戶但未完成過濾", "household reached, screener not done", "w", contact=True, redial_minutes=120
    ),
    "callback": _o("2.21", "要求改時間回撥", "callback requested", "c", contact=True, redial_minutes=60),
    "refusal": _o("2.11", "拒訪", "refusal", "r", final=True, contact=True),
    "language": _o("2.33", "語言不通", "language barrier", "l", final=True, contact=True),
    "unable": _o("2.32", "身心狀況無法受訪", "physically or mentally unable", "u", final=True, contact=True),
    "not_in_service": _o("4.30", "空號/停話", "not in service", "x", final=True),
    "fax_modem": _o("4.20", "傳真/數據機", "fax or modem", "f", final=True),
    "business": _o("4.51", "非住宅（公司行號）", "business, not a household", "g", final=True, contact=True),
    "screened_out": _o("4.70", "不符資格（過濾）", "screened out", "s", final=True, contact=True),
    "quota_full": _o("4.80", "配額已滿", "quota full", "o", final=True, contact=True),
    "break_off": _o("2.12", "中途拒答", "break-off", "k", final=True, contact=True),
    "partial": _o("1.2", "部分完成", "partial interview", None, final=True, contact=True),
    "complete": _o("1.1", "完成訪問", "complete", None, final=True, contact=True),
}
#: how the attempt results of the respondents module (before outcomes existed) read as outcomes
LEGACY_RESULTS = {
    "no_answer": "no_answer",
    "busy": "busy",
    "call_back": "callback",
    "reached": "callback",
    "wrong_number": "not_in_service",
    "refused": "refusal",
}
#: and back: the attempt result an outcome is also stored as, so older readers keep working
RESULT_OF = {
    "no_answer": "no_answer",
    "busy": "busy",
    "answering_machine": "no_answer",
    "callback": "call_back",
    "refusal": "refused",
    "not_in_service": "wrong_number",
    "fax_modem": "wrong_number",
}


class CallingWindow(BaseModel):
    """Days and hours when respondents may be called (their local time)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(min_length=1)
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, text: str) -> str:
        try:
            time.fromisoformat(str(text))
        except ValueError:
            raise ValueError(
                _("'{text}' is not a time of day; write it like 09:00 or 21:30").format(text=text)
            ) from None
        return str(text)

    @model_validator(mode="after")
    def _order(self) -> CallingWindow:
        if time.fromisoformat(self.end) <= time.fromisoformat(self.start):
            raise ValueError(
                _("the window ends ({end}) before it starts ({start})").format(end=self.end, start=self.start)
            )
        return self

    def holds(self, weekday: int, at: time) -> bool:
        return DAYS[weekday] in self.days and time.fromisoformat(self.start) <= at < time.fromisoformat(self.end)


def _default_hours() -> list[CallingWindow]:
    return [
        CallingWindow(days=["mon", "tue", "wed", "thu", "fri"], start="09:00", end="21:30"),
        CallingWindow(days=["sat", "sun"], start="10:00", end="21:00"),
    ]


class BackcheckSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    #: share of each interviewer's completes drawn for a back-check (ISO 20252 practice: at least 10 %)
    share: float = Field(default=0.10, gt=0, le=1)
    #: an interviewer with more than this share of back-checks not confirmed is flagged
    failure_threshold: float = Field(default=0.10, ge=0, le=1)


class CallSettings(BaseModel):
    """`calls:` in study.yaml: outcome mapping, rate settings, call-queue rules and back-checks."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    #: outcome name -> its settings; given names replace the default outcome of that name, new ones are added
    outcomes: dict[str, Outcome] = Field(default_factory=dict)
    #: an interview broken off after at least this share of its questions is a partial (1.2), else a break-off
    partial_threshold: float = Field(default=0.5, gt=0, le=1)
    #: e for RR3/RR4, REF2, CON2: 'proportional' (AAPOR's proportional allocation) or a share given by the study
    eligibility_estimate: Literal["proportional"] | float = "proportional"
    timezone: str = "Asia/Taipei"
    calling_hours: list[CallingWindow] = Field(default_factory=_default_hours, min_length=1)
    max_attempts: int = Field(default=8, ge=1)
    lease_minutes: int = Field(default=30, ge=1)
    #: a soft appointment is due this many minutes either side of its time (a hard one exactly at it)
    soft_window_minutes: int = Field(default=30, ge=0)
    #: productivity: an interview shorter than this share of the median is flagged as speeding
    speed_share: float = Field(default=0.5, gt=0, lt=1)
    backcheck: BackcheckSettings = Field(default_factory=BackcheckSettings)

    @field_validator("eligibility_estimate")
    @classmethod
    def _share(cls, value: Any) -> Any:
        if isinstance(value, float | int) and not 0 <= float(value) <= 1:
            raise ValueError(
                _("eligibility_estimate {value} must be between 0 and 1 (or 'proportional')").format(value=value)
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                _("unknown time zone '{name}'; use an IANA name such as Asia/Taipei").format(name=name)
            ) from None
        return name

    @model_validator(mode="after")
    def _keys(self) -> CallSettings:
        keys: dict[str, str] = {}
        for name, outcome in self.all_outcomes().items():
            if outcome.key is None:
                continue
            if outcome.key in keys:
                raise ValueError(
                    _("outcomes '{first}' and '{second}' both use key '{key}'").format(
                        first=keys[outcome.key], second=name, key=outcome.key
                    )
                )
            keys[outcome.key] = name
        return self

    def all_outcomes(self) -> dict[str, Outcome]:
        return {**DEFAULT_OUTCOMES, **self.outcomes}

    def outcome(self, name: str) -> Outcome:
        outcomes = self.all_outcomes()
        if name not in outcomes:
            raise UnknownOutcome(
                _("unknown call outcome '{name}'; use one of {outcomes} (or add it under calls: outcomes:)").format(
                    name=name, outcomes=", ".join(outcomes)
                )
            )
        return outcomes[name]

    def by_key(self) -> dict[str, str]:
        """key -> outcome name, for the call screen."""
        return {o.key: n for n, o in self.all_outcomes().items() if o.key}

    def zone(self, name: str | None = None) -> ZoneInfo:
        try:
            return ZoneInfo(name or self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(self.timezone)


class UnknownOutcome(ValueError):
    """A call outcome name that is not in the study's mapping."""


def settings_of(config: Any) -> CallSettings:
    """The study's call settings (the defaults when study.yaml has no `calls:`)."""
    found = getattr(config, "calls", None)
    return found if isinstance(found, CallSettings) else CallSettings()


def interview_outcome(outcome: str, answered_share: float | None, settings: CallSettings) -> str:
    """The call outcome an interview's end means: a break-off past the partial threshold is a partial."""
    if outcome == "break_off" and answered_share is not None and answered_share >= settings.partial_threshold:
        return "partial"
    return outcome


def final_disposition(events: Iterable[tuple[str, str]]) -> tuple[str, str] | None:
    """The final (code, outcome) of a case from its calls in time order, by AAPOR precedence."""
    best: tuple[str, str] | None = None
    for code, name in events:
        if best is None or supersedes(code, best[0]):
            best = (code, name)
    return best


def update_disposition(conn: Any, respondent_id: str, code: str, outcome: str, at: str, by: str | None) -> bool:
    """Make (code, outcome) the respondent's final disposition if it supersedes the current one."""
    row = conn.execute("SELECT disposition FROM respondents WHERE id = ?", (respondent_id,)).fetchone()
    if row is None or not supersedes(code, row[0]):
        return False
    conn.execute(
        "UPDATE respondents SET disposition = ?, disposition_outcome = ?, disposition_at = ?, disposition_by = ?"
        " WHERE id = ?",
        (code, outcome, at, by, respondent_id),
    )
    return True


def recompute(store: Any, settings: CallSettings, questions: Mapping[int, int] | None = None) -> int:
    """Rebuild every final disposition from the call history and the field interviews (after the mapping in
    study.yaml changed, or for a study whose calls were logged before outcomes existed); returns how many.

    `questions` is the number of questions per instrument version id (for the partial threshold).
    """
    outcomes = settings.all_outcomes()
    events: dict[str, list[tuple[str, str, str, str | None]]] = {}
    for rid, at, result, outcome, who in store.query(
        "SELECT respondent_id, at, result, outcome, interviewer FROM contact_attempts ORDER BY at, id"
    ):
        name = outcome or LEGACY_RESULTS.get(result, "callback")
        if name in outcomes:
            events.setdefault(rid, []).append((at, outcomes[name].aapor, name, who))
    answered = {
        int(r[0]): int(r[1])
        for r in store.query("SELECT interview_id, COUNT(*) FROM answers WHERE special IS NULL GROUP BY interview_id")
    }
    for iid, rid, version, outcome, ended, who in store.query(
        "SELECT id, respondent_id, instrument_version_id, outcome, COALESCE(ended_at, started_at), interviewer"
        " FROM interviews WHERE mode = 'field' AND respondent_id IS NOT NULL AND outcome IS NOT NULL"
    ):
        total = (questions or {}).get(int(version))
        share = answered.get(int(iid), 0) / total if total else None
        name = interview_outcome(outcome, share, settings)
        if name in outcomes:
            events.setdefault(rid, []).append((ended, outcomes[name].aapor, name, who))
    rows = []
    for rid, items in events.items():
        items.sort(key=lambda e: e[0])
        best = None
        for item in items:
            if best is None or supersedes(item[1], best[1]):
                best = item
        assert best is not None
        rows.append((best[1], best[2], best[0], best[3], rid))
    with store.transaction() as conn:
        conn.execute(
            "UPDATE respondents SET disposition = NULL, disposition_outcome = NULL, disposition_at = NULL,"
            " disposition_by = NULL"
        )
        conn.executemany(
            "UPDATE respondents SET disposition = ?, disposition_outcome = ?, disposition_at = ?, disposition_by = ?"
            " WHERE id = ?",
            rows,
        )
    return len(rows)


def history(store: Any, respondent_id: str) -> list[Any]:
    """The case's calls, oldest first: at, interviewer, outcome, AAPOR code, note."""
    return store.query(
        "SELECT at, interviewer, COALESCE(outcome, result), aapor, note FROM contact_attempts"
        " WHERE respondent_id = ? ORDER BY at, id",
        (respondent_id,),
    )
