"""Taiwan's Personal Data Protection Act (個人資料保護法) on record: the Art. 8 notice a respondent is shown
before consenting, the log of data-subject requests (Art. 3 rights) with their due dates, the retention purge,
and the evidence report. The SQL lives here; the tables come from the store's migrations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from survey_tui.core.instrument.model import Labels, label_text
from survey_tui.core.store.base import StoreError, now
from survey_tui.i18n import _

if TYPE_CHECKING:  # study.yaml's privacy notice is read without the store's code
    from survey_tui.core.store.sqlite import Store

#: Art. 3 rights, as requests: inquiry/review, a copy, correction, stop collecting/processing/using, deletion
REQUEST_KINDS = ("inquiry", "copy", "correction", "stop", "deletion")
RequestKind = Literal["inquiry", "copy", "correction", "stop", "deletion"]
#: Art. 13: inquiry, review and copies within 15 days; correction, stop and deletion within 30 days
DUE_DAYS: dict[str, int] = {"inquiry": 15, "copy": 15, "correction": 30, "stop": 30, "deletion": 30}
OUTCOMES = ("done", "refused", "extended")


class PrivacyNotice(BaseModel):
    """The items Art. 8 requires a collector to tell the person before collecting (study.yaml privacy_notice)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    version: str = Field(min_length=1)
    collector: Labels  # the name of the government or non-government agency collecting
    purpose: Labels  # the purpose of the collection
    categories: Labels  # the categories of personal data
    period: Labels  # the period of use
    area: Labels  # the area of use
    recipients: Labels  # who uses the data
    method: Labels  # how it is used
    rights: Labels  # the rights under Art. 3 and how to exercise them
    if_declined: Labels  # what follows from not providing the data


NOTICE_ITEMS: tuple[tuple[str, dict[str, str]], ...] = (
    ("collector", {"en": "Collected by", "zh-TW": "蒐集者"}),
    ("purpose", {"en": "Purpose", "zh-TW": "蒐集目的"}),
    ("categories", {"en": "Categories of personal data", "zh-TW": "個人資料類別"}),
    ("period", {"en": "Period of use", "zh-TW": "利用期間"}),
    ("area", {"en": "Area of use", "zh-TW": "利用地區"}),
    ("recipients", {"en": "Used by", "zh-TW": "利用對象"}),
    ("method", {"en": "Method of use", "zh-TW": "利用方式"}),
    ("rights", {"en": "Your rights (PDPA Art. 3) and how to use them", "zh-TW": "依個資法第3條得行使之權利及方式"}),
    ("if_declined", {"en": "If you decline", "zh-TW": "不提供時對您權益之影響"}),
)


def notice_lines(notice: PrivacyNotice, language: str, fallback: str | None = None) -> list[str]:
    """The notice as the consent screen shows it: one item per line, heading and text."""
    lines = []
    for key, heading in NOTICE_ITEMS:
        text = label_text(getattr(notice, key), language, fallback)
        lines.append(f"{heading.get(language, heading['en'])}: {text}")
    return lines


# -- data-subject requests ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    id: int
    respondent_id: str
    kind: str
    received_on: str
    due_on: str
    outcome: str | None
    closed_at: str | None
    note: str | None


def log_request(
    store: Store, respondent_id: str, kind: str, *, received_on: date | None = None, note: str | None = None
) -> Request:
    """Log a request under Art. 3; its due date follows Art. 13 from the day it was received."""
    if kind not in REQUEST_KINDS:
        raise StoreError(
            _("unknown request kind {kind!r}; use one of {kinds}").format(kind=kind, kinds=", ".join(REQUEST_KINDS))
        )
    received = received_on or date.today()
    due = received + timedelta(days=DUE_DAYS[kind])
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO data_subject_requests (respondent_id, kind, received_on, due_on, note, logged_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (respondent_id, kind, received.isoformat(), due.isoformat(), note, now()),
        )
    return request(store, int(cur.lastrowid or 0))


def close_request(store: Store, request_id: int, outcome: str, note: str | None = None) -> Request:
    if outcome not in OUTCOMES:
        raise StoreError(
            _("unknown outcome {outcome!r}; use one of {outcomes}").format(
                outcome=outcome, outcomes=", ".join(OUTCOMES)
            )
        )
    with store.transaction() as conn:
        if conn.execute("SELECT 1 FROM data_subject_requests WHERE id = ?", (request_id,)).fetchone() is None:
            raise StoreError(_("no data-subject request {id}").format(id=request_id))
        conn.execute(
            "UPDATE data_subject_requests SET outcome = ?, closed_at = ?, note = COALESCE(?, note) WHERE id = ?",
            (outcome, now(), note, request_id),
        )
    return request(store, request_id)


def request(store: Store, request_id: int) -> Request:
    rows = store.query(
        "SELECT id, respondent_id, kind, received_on, due_on, outcome, closed_at, note FROM data_subject_requests"
        " WHERE id = ?",
        (request_id,),
    )
    if not rows:
        raise StoreError(_("no data-subject request {id}").format(id=request_id))
    return Request(*rows[0])


def requests(store: Store) -> list[Request]:
    rows = store.query(
        "SELECT id, respondent_id, kind, received_on, due_on, outcome, closed_at, note FROM data_subject_requests"
        " ORDER BY id"
    )
    return [Request(*r) for r in rows]


# -- retention -----------------------------------------------------------------------------------------
def purge_expired(
    store: Store, retention_until: date | None, *, today: date | None = None, actor: str | None = None
) -> int:
    """After the study's retention date, erase every contact record (answers stay, anonymous) and log the
    purge; returns how many contact records went. Nothing happens before the date."""
    today = today or date.today()
    if retention_until is None or today <= retention_until:
        return 0
    from survey_tui.core.fieldwork import respondents as resp  # the only module that touches contact data

    return resp.purge_contacts(store, retention_until.isoformat(), actor=actor)


# -- the evidence --------------------------------------------------------------------------------------
#: what a notice's categories may call each protected contact field (besides the column's own name)
_FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "name"),
    "phone": ("電話", "手機", "phone", "mobile"),
    "email": ("電子郵件", "電子信箱", "e-mail", "email"),
    "address": ("地址", "住址", "address"),
}
_PROTECTED = ("name", "phone", "email", "address", "personal")


def named_in_notice(column: str, target: str, notice: PrivacyNotice | None) -> bool:
    """Whether the notice's categories (any language) seem to name this personal column: its own name, or a
    usual word for its kind (姓名, 電話, 電子郵件, 地址 ...). A heuristic that flags, never a proof."""
    if notice is None:
        return False
    told = " ".join(notice.categories.values()).lower()
    return any(w.lower() in told for w in (column, *_FIELD_WORDS.get(target, ())))


def unnamed_fields(contact_fields: Mapping[str, str], notice: PrivacyNotice | None) -> list[str]:
    """The personal columns kept that the notice's categories do not seem to name."""
    return [c for c, t in contact_fields.items() if t in _PROTECTED and not named_in_notice(c, t, notice)]


def personal_fields_lines(contact_fields: Mapping[str, str], notice: PrivacyNotice | None) -> list[str]:
    """The imported columns kept as personal data (study.yaml contact_fields), each marked when the notice's
    categories do not seem to name it: a list with national ids or LINE ids collects more than a notice that
    says "name, phone" told the respondents."""
    held = [(column, target) for column, target in contact_fields.items() if target in _PROTECTED]
    out = ["## Personal fields held", ""]
    if not held:
        return [*out, "No contact list column is recorded as personal data (contact_fields in study.yaml).", ""]
    out += [
        "Columns of the imported contact lists kept, encrypted, in the contact store (contact_fields):",
        "",
        "| Column | Kept as | Named in the notice's categories |",
        "|---|---|---|",
    ]
    missing = unnamed_fields(contact_fields, notice)
    for column, target in held:
        out.append(f"| {column} | {target} | {'NOT FOUND' if column in missing else 'yes'} |")
    if missing:
        out += [
            "",
            f"The notice's categories do not seem to name: {', '.join(missing)}. Respondents must be told every "
            "category collected (PDPA Art. 8): add them to privacy_notice.categories with a new version, or "
            "stop keeping them.",
        ]
    return [*out, ""]


def key_line(store: Store) -> str:
    """Where the contact key is read from on this machine (never the key itself)."""
    from survey_tui.core.fieldwork import contact_crypto as crypto
    from survey_tui.core.fieldwork import respondents as resp

    info = resp.contact_key_info(store)
    if info is None:
        return "The study has no contact key yet."
    try:
        where = crypto.locate_key(*info).where
    except crypto.ContactKeyError:
        where = "not on this machine"
    return (
        f"Key {info[0]} (fingerprint {info[1]}), read from: {where}. Contact rows are stored only as AES-256-GCM "
        "ciphertext; a search opens them in the searching process's memory and stores no search tokens."
    )


def report_markdown(
    store: Store,
    *,
    title: str,
    notice: PrivacyNotice | None,
    language: str,
    retention_until: date | None,
    contact_readers: Sequence[str],
    today: date | None = None,
    contact_fields: Mapping[str, str] | None = None,
) -> str:
    """What a data-protection officer asks for: notice versions, consents, requests, erasures, purges, the
    personal fields held (and whether the notice names them), where the key is, and who may read contact data.
    Pseudonymous ids only; no contact value appears."""
    today = today or date.today()
    out = [f"# Personal data record: {title}", "", f"Written {datetime.now().date().isoformat()}.", ""]
    out += ["## Notice (PDPA Art. 8)", ""]
    if notice is None:
        out += ["No privacy_notice in study.yaml: respondents were not shown the Art. 8 items.", ""]
    else:
        out += [f"Version: {notice.version}", ""] + [f"- {line}" for line in notice_lines(notice, language)] + [""]
    out += ["## Consents by wording and notice version", "", "| Version | Given | Refused |", "|---|---|---|"]
    for version, given, refused in store.query(
        "SELECT wording_version, SUM(given), SUM(1 - given) FROM consent_records GROUP BY wording_version"
        " ORDER BY wording_version"
    ):
        out.append(f"| {version} | {given} | {refused} |")
    out += ["", "## Data-subject requests (Art. 3, due dates by Art. 13)", ""]
    listed = requests(store)
    if not listed:
        out.append("None logged.")
    else:
        out += ["| # | Respondent | Kind | Received | Due | Outcome |", "|---|---|---|---|---|---|"]
        for r in listed:
            late = " (OVERDUE)" if r.outcome is None and date.fromisoformat(r.due_on) < today else ""
            state = r.outcome or "open"
            out.append(f"| {r.id} | {r.respondent_id} | {r.kind} | {r.received_on} | {r.due_on}{late} | {state} |")
    out += ["", "## Erasures (withdrawals)", ""]
    erasures = store.query("SELECT respondent_id, at, actor, answers_deleted FROM erasure_log ORDER BY id")
    if not erasures:
        out.append("None.")
    else:
        out += ["| Respondent | At | By | Answers |", "|---|---|---|---|"]
        for rid, at, actor, deleted in erasures:
            out.append(f"| {rid} | {at[:19]} | {actor or '-'} | {'deleted' if deleted else 'kept, anonymous'} |")
    out += ["", "## Retention", ""]
    kept = retention_until.isoformat() if retention_until else "no date set (retention_until in study.yaml)"
    out.append(f"Contact data kept until: {kept}")
    purges = store.query("SELECT at, retention_until, contacts_erased, actor FROM retention_purges ORDER BY id")
    for at, until, count, actor in purges:
        out.append(f"- purged {at[:19]}: {count} contact records (retention date {until}, by {actor or '-'})")
    from survey_tui.core.fieldwork import respondents as resp

    remaining = resp.contact_count(store)
    out += [f"Contact records held now: {remaining}", ""]
    out += personal_fields_lines(contact_fields or {}, notice)
    out += ["## Contact key", "", key_line(store), ""]
    out += ["## Who may read contact data", ""]
    out += [f"- {name}" for name in contact_readers] or ["No one is named (contact_readers in study.yaml)."]
    out += [
        "",
        "Contact data is read only through one function, which requires a stated purpose; exports, tables, the",
        "report and the bundle leave it out unless `--include-contacts` is given, and say so when it is.",
        "",
    ]
    return "\n".join(out)
