"""Respondents (T1.3, P1.4.4): recruitment records, their lifecycle, consent, and contact-data protection.

A respondent is a row in `respondents` under a random pseudonymous id (``R`` + 10 base-32 characters,
never derived from a name or number). What can identify a person -- name, phone, e-mail, address --
lives only in `respondent_contacts`, and **this module is the only code that touches that table**
(a test checks the source tree).

API
---
Reading contact data
    ``read_contacts(store, ids=None, *, purpose)`` is the single function that returns contact values.
    `purpose` says why (recruitment list, dedupe, explicit export) and is mandatory so every call site is
    greppable and reviewable.

Exports (for the exports module and anything else that writes files)
    ``respondents_for_export(store, *, include_contacts=False, columns=None)`` returns a
    :class:`RespondentExport`: a polars frame keyed by the pseudonymous id with status, eligibility and
    attributes. Asking for a contact column without ``include_contacts=True`` raises
    :class:`ContactDataRefused`; with it, ``export.includes_contacts`` is true and ``export.notice`` is the
    sentence the exporter must show (and write beside the file). ``guard_columns(columns, include_contacts)``
    is the same check for code that builds its own column list. Response data (answers) must be joined on
    the pseudonymous id only, never with this frame's contact columns.

Lifecycle
    ``set_status``, ``record_attempt`` (counts attempts), ``make_appointment``, ``assign``,
    ``record_consent`` (before an interview starts), ``record_outcome`` (an interview's outcome becomes the
    respondent's status), ``withdraw`` (erases contact data and free-text notes, logs the erasure, and
    optionally deletes the anonymous answers). Every status change is kept in `respondent_status_history`
    with time, interviewer and note.

Listing
    ``page(store, RespondentFilter(...), offset, limit)`` is a windowed query (LIMIT/OFFSET over indexed
    columns) that a screen can call for 50 rows out of 100,000 without loading the rest. A search looks
    inside the sealed contacts through this process's in-memory index (``contact_search.py`` says why and
    what it holds): ``search_ready`` says whether the next search must first open every row,
    ``prepare_search`` builds it ahead, ``forget_search`` drops it. Every write to the contact table adds one
    to its change counter (``_changed``), which is how every process sees that its index is stale.
"""

from __future__ import annotations

import contextlib
import io
import json
import secrets
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from survey_tui.core.fieldwork import contact_crypto as crypto
from survey_tui.core.fieldwork import contact_search
from survey_tui.core.fieldwork.screening import EligibilityCriterion, screen_frame
from survey_tui.core.lazy import lazy
from survey_tui.core.store.sqlite import Store, StoreError, decode, encode, now
from survey_tui.i18n import _

if TYPE_CHECKING:
    import numpy as np
    import polars as pl
else:
    np = lazy("numpy")
    pl = lazy("polars")

STATUSES: tuple[str, ...] = (
    "new",
    "contacted",
    "appointment",
    "in_progress",
    "completed",
    "screened_out",
    "quota_full",
    "refused",
    "unreachable",
    "withdrawn",
)
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "new": ("新名單", "new"),
    "contacted": ("已聯絡", "contacted"),
    "appointment": ("已約訪", "appointment"),
    "in_progress": ("訪問中", "in progress"),
    "completed": ("已完訪", "completed"),
    "screened_out": ("篩選未通過", "screened out"),
    "quota_full": ("配額已滿", "quota full"),
    "refused": ("拒訪", "refused"),
    "unreachable": ("聯絡不上", "unreachable"),
    "withdrawn": ("已撤回同意", "withdrawn"),
}
#: an interview's outcome, as the respondent's recruitment status. A break-off (the respondent stopped for
#: good) counts with the refusals, as AAPOR's "refusals and break-offs" does, so it leaves the to-do list and
#: enters the cooperation rate; a *suspended* interview keeps the respondent 'in_progress' until it resumes.
OUTCOME_STATUS = {
    "complete": "completed",
    "screened_out": "screened_out",
    "quota_full": "quota_full",
    "break_off": "refused",
}
#: statuses a new interview may still start from (the rest are final: completed, screened out, quota full,
#: withdrawn). 'refused' and 'unreachable' stay startable on purpose: refusal conversion, finally reached.
STARTABLE = ("new", "contacted", "appointment", "in_progress", "refused", "unreachable")
#: statuses an interviewer's to-do list shows (refused / unreachable people are started deliberately instead)
TO_INTERVIEW = ("new", "contacted", "appointment", "in_progress")
ATTEMPT_RESULTS = ("no_answer", "busy", "call_back", "reached", "wrong_number", "refused")
CONTACT_FIELDS: tuple[str, ...] = ("name", "phone", "email", "address")
#: attributes kept after a withdrawal (coarse demographics that quota accounting needs)
KEPT_ON_WITHDRAWAL = ("gender", "age", "region")
#: the contact-store column holding the other personal fields of an import (JSON: column -> value)
PERSONAL = "personal"
_CONTACT_TABLE = "respondent_contacts"
_ALPHABET = list("0123456789ABCDEFGHJKMNPQRSTVWXYZ")  # Crockford base 32: no I, L, O, U


class RespondentError(StoreError):
    """A recruitment action that cannot be done, said plainly."""


class ContactDataRefused(PermissionError):
    """An export asked for contact data without saying so explicitly."""


# -- ids ---------------------------------------------------------------------------------------------
def new_ids(count: int, taken: Iterable[str] = ()) -> list[str]:
    """`count` fresh pseudonymous ids (random, 50 bits each), none of them in `taken`."""
    rng = np.random.default_rng(secrets.randbits(128))
    blocked = set(taken)
    result: list[str] = []
    while len(result) < count:
        need = count - len(result)
        digits = np.array(_ALPHABET)[rng.integers(0, 32, size=(need, 10))]
        candidates = np.char.add("R", digits.view(f"<U{10}").ravel()).tolist()
        for candidate in candidates:
            if candidate not in blocked:
                blocked.add(candidate)
                result.append(candidate)
    return result


def existing_ids(store: Store) -> set[str]:
    return {r[0] for r in store.query("SELECT id FROM respondents")}


# -- contact data at rest: sealed rows, keyed look-ups ----------------------------------------------------
class ContactKeyMissing(RespondentError):
    """The contact data is encrypted and this machine lacks (or has the wrong) key: contacts cannot be read or
    added, everything else (answers, tables, exports without contacts) works."""


class ContactRecordDamaged(RespondentError):
    """A sealed contact row does not open under the study's key: altered, or moved to another respondent."""


def _open(sealer: crypto.Sealer, respondent_id: str, blob: bytes) -> tuple[Any, ...]:
    try:
        return _unpayload(sealer.open(respondent_id, blob))
    except crypto.ContactKeyError as exc:
        raise ContactRecordDamaged(str(exc)) from None


#: one ready sealer per open store, with the fingerprint it was made for (a rotation elsewhere changes it)
_SEALERS: weakref.WeakKeyDictionary[Store, tuple[str, crypto.Sealer]] = weakref.WeakKeyDictionary()


def _key_row(store: Store) -> tuple[str, str] | None:
    rows = store.query("SELECT study_key, fingerprint FROM contact_keys WHERE id = 1")
    return (str(rows[0][0]), str(rows[0][1])) if rows else None


def contact_key_info(store: Store) -> tuple[str, str] | None:
    """(study key id, fingerprint) of the study's contact key, or None before it has one."""
    return _key_row(store)


def _sealer(store: Store, *, create: bool = False) -> crypto.Sealer | None:
    """The study's sealer; with `create`, a study without a key gets one (file outside the study folder).

    None only when the study has no key yet and `create` is false (then no row is sealed either)."""
    row = _key_row(store)
    if row is None:
        if not create:
            return None
        with store.transaction() as conn:
            row = _key_row(store)  # another process may have made it meanwhile
            if row is None:
                cipher = crypto.env_cipher() or crypto.generate()
                study_key = crypto.new_study_key_id()
                if crypto.env_cipher() is None:
                    crypto.write_key_file(crypto.key_path(study_key), cipher)
                conn.execute(
                    "INSERT INTO contact_keys (id, study_key, fingerprint, created_at) VALUES (1, ?, ?, ?)",
                    (study_key, cipher.fingerprint, now()),
                )
                row = (study_key, cipher.fingerprint)
    cached = _SEALERS.get(store)
    if cached is not None and cached[0] == row[1]:
        return cached[1]
    try:
        sealer = crypto.find_key(*row).aead()
    except crypto.ContactKeyError as exc:
        raise ContactKeyMissing(str(exc)) from None
    _SEALERS[store] = (row[1], sealer)
    return sealer


def ensure_key(store: Store) -> tuple[str, str]:
    """Give the study its contact key now (init, first import), so the key exists before any contact does."""
    _sealer(store, create=True)
    row = _key_row(store)
    assert row is not None
    return row


def _changed(conn: Any) -> None:
    """Count a write to the contact table (in its transaction), so every process's search index sees it is stale."""
    conn.execute("UPDATE contact_keys SET changes = changes + 1 WHERE id = 1")


_PAYLOAD = ("name", "phone", "email", "address", PERSONAL)


def _payload(values: Sequence[Any]) -> bytes:
    """name, phone, email, address, personal (JSON text) -> the bytes that are sealed."""
    return json.dumps(dict(zip(_PAYLOAD, values, strict=True)), ensure_ascii=False).encode("utf-8")


def _unpayload(data: bytes) -> tuple[Any, ...]:
    parsed = json.loads(data.decode("utf-8"))
    return tuple(parsed.get(k) for k in _PAYLOAD)


def _sealed_rows(sealer: crypto.Sealer, rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """(respondent_id, name, phone, email, address[, personal]) -> (respondent_id, sealed, phone_key, email_key)."""
    result = []
    for row in rows:
        rid, values = row[0], (*row[1:5], row[5] if len(row) > 5 else None)
        sealed = sealer.seal(rid, _payload(values))
        result.append((rid, sealed, sealer.lookup("phone", values[1]), sealer.lookup("email", values[2])))
    return result


def seal_plaintext(store: Store) -> int:
    """The data step of the encryption migration: every contact row still in plaintext is sealed, in one
    transaction, and the old page images are cleared from the WAL (secure_delete zeroes the freed cells).

    Returns how many rows were sealed (0 on a read-only study, which keeps its plaintext until opened writable,
    and for a server role that may not read contact data at all, an analyst: whoever may, seals them)."""
    if store.readonly or not store.may_read(_CONTACT_TABLE):
        return 0
    probe = f"SELECT 1 FROM {_CONTACT_TABLE} WHERE sealed IS NULL LIMIT 1"
    if not store.query(probe):
        return 0
    sealer = _sealer(store, create=True)
    assert sealer is not None
    with store.transaction() as conn:
        rows = conn.execute(
            f"SELECT respondent_id, name, phone, email, address, personal FROM {_CONTACT_TABLE} WHERE sealed IS NULL"
        ).fetchall()
        conn.executemany(
            f"UPDATE {_CONTACT_TABLE} SET sealed = ?, phone_key = ?, email_key = ?, name = NULL, phone = NULL,"
            " email = NULL, address = NULL, personal = NULL WHERE respondent_id = ?",
            [(s, p, e, rid) for rid, s, p, e in _sealed_rows(sealer, rows)],
        )
        _changed(conn)
    if not store.in_transaction:
        store.erase_traces()
    return len(rows)


def lookup_key(store: Store, kind: str, values: pl.Series) -> pl.Series:
    """Keyed hashes of normalised phones or e-mails (what the contact table is searched by)."""
    sealer = _sealer(store, create=True)
    assert sealer is not None
    return pl.Series(values.name, [sealer.lookup(kind, v) for v in values.to_list()], dtype=pl.String)


def existing_lookup_keys(store: Store) -> pl.DataFrame:
    """(respondent_id, phone, email) as keyed hashes, for deduplicating an import without decrypting."""
    seal_plaintext(store)
    rows = store.query(f"SELECT respondent_id, phone_key, email_key FROM {_CONTACT_TABLE}")
    schema = {"respondent_id": pl.String, "phone": pl.String, "email": pl.String}
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def rotate_key(store: Store) -> tuple[str, str]:
    """A new contact key: every row re-sealed under it in one transaction, then the key replaced where it is kept
    (its file, or its entry in the OS keyring).

    The new key is written beside the old one first (``.new``); if the work stops after the commit, the next
    opening finds it there. The old key is kept as ``.retired-<time>`` so backups of survey.db made before the
    rotation stay readable. Returns where the key is now and the new fingerprint."""
    if crypto.env_cipher() is not None:
        raise ContactKeyMissing(
            _("the contact key comes from {variable}; rotate it where the key file is kept (unset it first)").format(
                variable=crypto.ENV_KEY
            )
        )
    seal_plaintext(store)
    old = _sealer(store, create=True)
    row = _key_row(store)
    assert old is not None and row is not None
    study_key = row[0]
    try:
        place = crypto.locate_key(*row).place
    except crypto.ContactKeyError as exc:
        raise ContactKeyMissing(str(exc)) from None
    assert place is not None
    pending = f"{study_key}.new"
    fresh = crypto.generate()
    place.remove(pending)
    place.write(pending, fresh)
    sealer = fresh.aead()
    try:
        with store.transaction() as conn:
            rows = conn.execute(
                f"SELECT respondent_id, sealed FROM {_CONTACT_TABLE} WHERE sealed IS NOT NULL"
            ).fetchall()
            resealed = _sealed_rows(sealer, [(r[0], *_open(old, r[0], r[1])) for r in rows])
            conn.executemany(
                f"UPDATE {_CONTACT_TABLE} SET sealed = ?, phone_key = ?, email_key = ? WHERE respondent_id = ?",
                [(s, p, e, rid) for rid, s, p, e in resealed],
            )
            conn.execute(
                "UPDATE contact_keys SET fingerprint = ?, rotated_at = ? WHERE id = 1", (fresh.fingerprint, now())
            )
            _changed(conn)
    except BaseException:
        place.remove(pending)
        raise
    _SEALERS.pop(store, None)
    store.erase_traces()
    place.rename(study_key, crypto.retired_name(study_key))
    place.rename(pending, study_key)
    return place.describe(study_key), fresh.fingerprint


# -- contact data: the only reader ---------------------------------------------------------------------
def read_contacts(store: Store, ids: Sequence[str] | None = None, *, purpose: str) -> pl.DataFrame:
    """Contact data (respondent_id, name, phone, email, address, personal) for `ids` (all when None).

    The ONLY function that returns contact values. `purpose` is required so each use is deliberate. Sealed
    rows are opened with the study's key; without it, ContactKeyMissing says how to restore it.
    """
    if not purpose.strip():
        raise ContactDataRefused("say why contact data is read (purpose=...)")
    sql = f"SELECT respondent_id, sealed, name, phone, email, address, personal FROM {_CONTACT_TABLE}"
    rows: list[Any] = []
    if ids is None:
        rows = store.query(sql)
    else:
        wanted = list(ids)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows += store.query(sql + f" WHERE respondent_id IN ({','.join('?' * len(chunk))})", tuple(chunk))
    sealer = _sealer(store) if any(r[1] is not None for r in rows) else None
    opened = [(r[0], *(_open(sealer, r[0], r[1]) if r[1] is not None and sealer else tuple(r)[2:])) for r in rows]
    schema = {"respondent_id": pl.String, **{f: pl.String for f in CONTACT_FIELDS}, PERSONAL: pl.String}
    return pl.DataFrame(opened, schema=schema, orient="row")


def _insert_contacts(store: Store, conn: Any, rows: Iterable[tuple[Any, ...]], *, personal: bool = False) -> None:
    """Rows of (respondent_id, name, phone, email, address[, personal JSON]), sealed before they are stored."""
    sealer = _sealer(store, create=True)
    assert sealer is not None
    conn.executemany(
        f"INSERT INTO {_CONTACT_TABLE} (respondent_id, sealed, phone_key, email_key) VALUES (?, ?, ?, ?)",
        _sealed_rows(sealer, rows),
    )
    _changed(conn)


def copy_contacts(store: Store, conn: Any, rows: Iterable[Sequence[Any]]) -> None:
    """Write contact rows (respondent_id, name, phone, email, address, personal) read with `read_contacts` from
    another store: a device checkout or a sync carries an assigned respondent's contacts, and nothing else.
    They are sealed with this store's own key (a laptop gets its own at checkout), never copied as plaintext."""
    rows = [tuple(r) for r in rows]
    if not rows:
        return
    sealer = _sealer(store, create=True)
    assert sealer is not None
    conn.executemany(
        f"INSERT INTO {_CONTACT_TABLE} (respondent_id, sealed, phone_key, email_key) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (respondent_id) DO UPDATE SET sealed = excluded.sealed, phone_key = excluded.phone_key,"
        " email_key = excluded.email_key, name = NULL, phone = NULL, email = NULL, address = NULL, personal = NULL",
        _sealed_rows(sealer, rows),
    )
    _changed(conn)


def forget_contacts(conn: Any, respondent_ids: Sequence[str]) -> None:
    """Remove contact rows from this store (a device whose respondent went to someone else, or withdrew)."""
    ids = list(respondent_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        conn.execute(f"DELETE FROM {_CONTACT_TABLE} WHERE respondent_id IN ({','.join('?' * len(chunk))})", chunk)
    if ids:
        _changed(conn)


def _fill_contacts(store: Store, conn: Any, rows: Iterable[tuple[Any, ...]], *, personal: bool = False) -> None:
    """Fill empty contact fields of existing respondents (a merge never overwrites what is there)."""
    sealer = _sealer(store, create=True)
    assert sealer is not None
    for row in rows:
        rid = row[0]
        given = (*row[1:5], row[5] if personal and len(row) > 5 else None)
        current = conn.execute(f"SELECT sealed FROM {_CONTACT_TABLE} WHERE respondent_id = ?", (rid,)).fetchone()
        if current is not None and current[0] is not None:
            held = _open(sealer, rid, current[0])
            given = tuple(h if h is not None else g for h, g in zip(held, given, strict=True))
        sealed = _sealed_rows(sealer, [(rid, *given)])[0]
        conn.execute(
            f"INSERT INTO {_CONTACT_TABLE} (respondent_id, sealed, phone_key, email_key) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (respondent_id) DO UPDATE SET sealed = excluded.sealed, phone_key = excluded.phone_key,"
            " email_key = excluded.email_key",
            sealed,
        )
    _changed(conn)


# -- exports -----------------------------------------------------------------------------------------
def guard_columns(columns: Iterable[str], include_contacts: bool) -> None:
    """Refuse contact columns unless the user explicitly asked for them."""
    asked = [c for c in columns if c in CONTACT_FIELDS]
    if asked and not include_contacts:
        raise ContactDataRefused(
            _(
                "contact data ({fields}) is left out of exports; ask for it explicitly "
                "(include_contacts=True / --include-contacts) if the export really needs it"
            ).format(fields=", ".join(asked))
        )


@dataclass(frozen=True)
class RespondentExport:
    frame: pl.DataFrame
    includes_contacts: bool
    notice: str | None  # what the exporter must say (and write beside the file) when contacts are included


CONTACT_NOTICE = (
    "此匯出檔含個人聯絡資料（姓名、電話、電子郵件、地址及其他個人資料欄位，如身分證字號、通訊軟體帳號、生日、備註），"
    "請依個人資料保護法妥善保管。 / This export contains personal contact data (name, phone, e-mail, address and "
    "the other personal fields, such as national ID numbers, messaging ids, birthdays, notes); protect it under "
    "the PDPA."
)


def respondents_for_export(
    store: Store, *, include_contacts: bool = False, columns: Sequence[str] | None = None
) -> RespondentExport:
    """The respondent list for a file: pseudonymous unless `include_contacts` (then it says so)."""
    if columns is not None:
        guard_columns(columns, include_contacts)
    frame = respondents_frame(store)
    if include_contacts:
        contacts = read_contacts(store, purpose="explicit export with contact data")
        frame = _spread_personal(frame.join(contacts, left_on="id", right_on="respondent_id", how="left"))
    if columns is not None:
        frame = frame.select(["id", *[c for c in columns if c != "id"]])
    return RespondentExport(frame, include_contacts, CONTACT_NOTICE if include_contacts else None)


def _spread_personal(frame: pl.DataFrame) -> pl.DataFrame:
    """The other personal fields (JSON in one column) as one column each, named as in the imported list, so a
    contacts file reads like the list it came from (a name already used gets ``personal_`` before it)."""
    held = [decode(v) or {} for v in frame[PERSONAL].to_list()]
    names = list(dict.fromkeys(k for row in held for k in row))
    if not names:
        return frame.drop(PERSONAL)
    columns = {
        (f"personal_{n}" if n in frame.columns else n): [None if r.get(n) is None else str(r[n]) for r in held]
        for n in names
    }
    spread = pl.DataFrame(columns, schema={c: pl.String for c in columns})
    return pl.concat([frame.drop(PERSONAL), spread], how="horizontal")


def respondents_frame(store: Store) -> pl.DataFrame:
    """Every respondent (no contact data) with attributes spread into columns: screening and exports."""
    rows = store.query(
        "SELECT id, status, interviewer, eligible, eligibility_reason, attempts, next_appointment, attributes"
        " FROM respondents ORDER BY rowid"
    )
    base = pl.DataFrame(
        [tuple(r) for r in rows],
        schema={
            "id": pl.String,
            "status": pl.String,
            "interviewer": pl.String,
            "eligible": pl.Int64,
            "eligibility_reason": pl.String,
            "attempts": pl.Int64,
            "next_appointment": pl.String,
            "attributes": pl.String,
        },
        orient="row",
    )
    if base.height == 0:
        return base.drop("attributes")
    ndjson = "\n".join(base["attributes"].fill_null("{}").to_list()).encode("utf-8")
    attributes = pl.read_ndjson(io.BytesIO(ndjson), infer_schema_length=None)
    clash = [c for c in attributes.columns if c in base.columns]
    attributes = attributes.rename({c: f"attr_{c}" for c in clash})
    return pl.concat([base.drop("attributes"), attributes], how="horizontal")


# -- records -----------------------------------------------------------------------------------------
@dataclass
class Respondent:
    id: str
    status: str
    interviewer: str | None
    eligible: bool | None
    eligibility_reason: str | None
    attempts: int
    next_appointment: str | None
    attributes: dict[str, Any] = field(default_factory=dict)


def get(store: Store, respondent_id: str) -> Respondent:
    rows = store.query(
        "SELECT id, status, interviewer, eligible, eligibility_reason, attempts, next_appointment, attributes"
        " FROM respondents WHERE id = ?",
        (respondent_id,),
    )
    if not rows:
        raise RespondentError(_("no respondent {id}").format(id=respondent_id))
    r = rows[0]
    return Respondent(r[0], r[1], r[2], None if r[3] is None else bool(r[3]), r[4], int(r[5]), r[6], decode(r[7]) or {})


def add(
    store: Store,
    attributes: dict[str, Any] | None = None,
    contact: dict[str, str | None] | None = None,
    *,
    interviewer: str | None = None,
    status: str = "new",
    at: str | None = None,
    respondent_id: str | None = None,
) -> str:
    """One respondent (e.g. recruited on the street); returns the pseudonymous id."""
    _check_status(status)
    rid = respondent_id or new_ids(1, existing_ids(store))[0]
    stamp = at or now()
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO respondents (id, created_at, attributes, status, interviewer, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (rid, stamp, encode(attributes or {}), status, interviewer, stamp),
        )
        if contact and any(contact.get(f) for f in CONTACT_FIELDS):
            _insert_contacts(store, conn, [(rid, *[contact.get(f) for f in CONTACT_FIELDS])])
        _history(conn, rid, None, status, interviewer, "added", stamp)
    return rid


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise RespondentError(
            _("unknown respondent status {status!r}; use one of {statuses}").format(
                status=status, statuses=", ".join(STATUSES)
            )
        )


def _history(
    conn: Any, rid: str, old: str | None, new: str, interviewer: str | None, note: str | None, at: str
) -> None:
    conn.execute(
        "INSERT INTO respondent_status_history (respondent_id, at, old_status, new_status, interviewer, note)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (rid, at, old, new, interviewer, note),
    )


def set_status(
    store: Store,
    respondent_id: str,
    status: str,
    *,
    interviewer: str | None = None,
    note: str | None = None,
    at: str | None = None,
) -> None:
    """Change the recruitment status and keep the change (time, interviewer, note) in the history."""
    _check_status(status)
    stamp = at or now()
    with store.transaction() as conn:
        old = get(store, respondent_id).status
        if old == "withdrawn" and status != "withdrawn":
            raise RespondentError(
                _("{id} withdrew consent; their status cannot change any more").format(id=respondent_id)
            )
        if status == "withdrawn" and old != "withdrawn":
            raise RespondentError("use withdraw() so contact data is erased and the erasure logged")
        conn.execute("UPDATE respondents SET status = ?, updated_at = ? WHERE id = ?", (status, stamp, respondent_id))
        _history(conn, respondent_id, old, status, interviewer, note, stamp)


def history(store: Store, respondent_id: str) -> list[Any]:
    return store.query(
        "SELECT at, old_status, new_status, interviewer, note FROM respondent_status_history"
        " WHERE respondent_id = ? ORDER BY id",
        (respondent_id,),
    )


def record_attempt(
    store: Store,
    respondent_id: str,
    result: str,
    *,
    interviewer: str | None = None,
    note: str | None = None,
    at: str | None = None,
    outcome: str | None = None,
    aapor: str | None = None,
    started_at: str | None = None,
) -> int:
    """Log a contact attempt; returns the attempt count. A first attempt moves 'new' to 'contacted'.

    The call's outcome and AAPOR code (fieldwork/dispositions.py) are kept with it; without them they are
    read from `result` by the standard mapping, and the respondent's final disposition follows either way.
    """
    from survey_tui.core.fieldwork import dispositions

    if result not in ATTEMPT_RESULTS:
        raise RespondentError(
            _("unknown attempt result {result!r}; use one of {results}").format(
                result=result, results=", ".join(ATTEMPT_RESULTS)
            )
        )
    if outcome is None:
        outcome = dispositions.LEGACY_RESULTS[result]
        aapor = dispositions.DEFAULT_OUTCOMES[outcome].aapor
    stamp = at or now()
    with store.transaction() as conn:
        current = get(store, respondent_id)
        conn.execute(
            "INSERT INTO contact_attempts (respondent_id, at, interviewer, result, note, outcome, aapor, started_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (respondent_id, stamp, interviewer, result, note, outcome, aapor, started_at),
        )
        if aapor:
            dispositions.update_disposition(conn, respondent_id, aapor, outcome, stamp, interviewer)
        conn.execute(
            "UPDATE respondents SET attempts = attempts + 1, updated_at = ? WHERE id = ?", (stamp, respondent_id)
        )
        new_status = {"refused": "refused", "wrong_number": "unreachable"}.get(result)
        if new_status is None and current.status == "new":
            new_status = "contacted"
        if new_status and new_status != current.status and current.status != "withdrawn":
            set_status(store, respondent_id, new_status, interviewer=interviewer, note=f"attempt: {result}", at=stamp)
    return current.attempts + 1


def make_appointment(
    store: Store,
    respondent_id: str,
    when: str,
    *,
    interviewer: str | None = None,
    note: str | None = None,
    at: str | None = None,
) -> None:
    """Book an interview time (ISO text, e.g. '2026-10-08T19:30'); the respondent's status becomes 'appointment'."""
    when = when.strip()
    if len(when) < 10 or when[4] != "-" or when[7] != "-":
        raise RespondentError(_("appointment time {when!r} must look like 2026-10-08 19:30").format(when=when))
    stamp = at or now()
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO appointments (respondent_id, at, created_at, interviewer, note) VALUES (?, ?, ?, ?, ?)",
            (respondent_id, when, stamp, interviewer, note),
        )
        conn.execute(
            "UPDATE respondents SET next_appointment = ?, interviewer = COALESCE(?, interviewer) WHERE id = ?",
            (when, interviewer, respondent_id),
        )
        due = _appointment_due(conn, respondent_id, when)
        if due:  # the call queue holds the case back until then (a soft appointment, the default window)
            conn.execute(
                "UPDATE respondents SET appointment_due = ?, appointment_kind = 'soft', call_state = 'open'"
                " WHERE id = ?",
                (due, respondent_id),
            )
        if get(store, respondent_id).status != "appointment":
            set_status(
                store, respondent_id, "appointment", interviewer=interviewer, note=f"appointment {when}", at=stamp
            )


def _appointment_due(conn: Any, respondent_id: str, when: str) -> str | None:
    """When the call queue may call for an appointment booked as local time text: its time (the respondent's
    time zone, else Asia/Taipei) less the default soft window of 30 minutes, as UTC ISO text."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        local = datetime.fromisoformat(when.replace(" ", "T", 1))
    except ValueError:
        return None
    row = conn.execute("SELECT timezone FROM respondents WHERE id = ?", (respondent_id,)).fetchone()
    try:
        zone = ZoneInfo((row[0] if row else None) or "Asia/Taipei")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Asia/Taipei")
    moment = local if local.tzinfo else local.replace(tzinfo=zone)
    return (moment - timedelta(minutes=30)).astimezone(UTC).isoformat(timespec="microseconds")


def assign(store: Store, respondent_ids: Sequence[str], interviewer: str | None, *, at: str | None = None) -> int:
    """Give respondents to an interviewer (None takes them back); returns how many changed."""
    stamp = at or now()
    with store.transaction() as conn:
        changed = 0
        for start in range(0, len(respondent_ids), 500):
            chunk = list(respondent_ids[start : start + 500])
            cur = conn.execute(
                f"UPDATE respondents SET interviewer = ?, updated_at = ? WHERE id IN ({','.join('?' * len(chunk))})"
                " AND status != 'withdrawn'",
                (interviewer, stamp, *chunk),
            )
            changed += cur.rowcount
    return changed


def record_consent(
    store: Store,
    respondent_id: str,
    given: bool,
    wording_version: str,
    *,
    interviewer: str | None = None,
    at: str | None = None,
    interview_id: int | None = None,
) -> None:
    """The consent asked before an interview: yes/no, when, which wording (and in which interview).

    A no means 'refused'. This table is the one record of a respondent's consent; the capture form writes
    here (with `interview_id`) rather than in the interview's event log.
    """
    stamp = at or now()
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO consent_records (respondent_id, given, at, wording_version, interviewer, interview_id)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (respondent_id, int(given), stamp, wording_version, interviewer, interview_id),
        )
        if not given and get(store, respondent_id).status != "refused":
            set_status(store, respondent_id, "refused", interviewer=interviewer, note="consent refused", at=stamp)


def consent(store: Store, respondent_id: str) -> Any | None:
    """The latest consent record (given, at, wording_version, interviewer), or None."""
    rows = store.query(
        "SELECT given, at, wording_version, interviewer FROM consent_records WHERE respondent_id = ?"
        " ORDER BY id DESC LIMIT 1",
        (respondent_id,),
    )
    return rows[0] if rows else None


def has_consent(store: Store, respondent_id: str) -> bool:
    latest = consent(store, respondent_id)
    return bool(latest and latest[0])


def consent_for_interview(store: Store, interview_id: int) -> bool | None:
    """The consent decision recorded in one interview (True / False), or None when none was recorded."""
    rows = store.query(
        "SELECT given FROM consent_records WHERE interview_id = ? ORDER BY id DESC LIMIT 1", (interview_id,)
    )
    return bool(rows[0][0]) if rows else None


def record_outcome(
    store: Store,
    respondent_id: str,
    outcome: str,
    *,
    interviewer: str | None = None,
    interview_id: int | None = None,
    at: str | None = None,
    settings: Any = None,
    answered_share: float | None = None,
) -> None:
    """An interview ended: its outcome becomes the respondent's status (complete -> completed, ...).

    The appointment it kept is used up (cleared). A respondent who withdrew meanwhile keeps 'withdrawn' (the
    erasure stands; the history says nothing new). The outcome also counts towards the final AAPOR
    disposition (with the study's call `settings`; a break-off past the partial threshold is a partial), and
    a completed, screened-out or quota-full case leaves the call queue.
    """
    from survey_tui.core.fieldwork import dispositions

    status = OUTCOME_STATUS.get(outcome)
    if status is None:
        return
    calls = settings if settings is not None else dispositions.CallSettings()
    name = dispositions.interview_outcome(outcome, answered_share, calls)
    stamp = at or now()
    with store.transaction() as conn:
        if get(store, respondent_id).status == "withdrawn":
            return
        conn.execute(
            "UPDATE respondents SET next_appointment = NULL, appointment_due = '', appointment_kind = NULL,"
            " call_state = 'closed', lease_holder = NULL, lease_until = '' WHERE id = ?",
            (respondent_id,),
        )
        dispositions.update_disposition(conn, respondent_id, calls.outcome(name).aapor, name, stamp, interviewer)
        which = f"interview #{interview_id}" if interview_id is not None else "interview"
        set_status(store, respondent_id, status, interviewer=interviewer, note=f"{which}: {outcome}", at=at)


@dataclass(frozen=True)
class Erasure:
    respondent_id: str
    contacts_erased: bool
    interviews: int
    answers_deleted: bool
    #: the WAL was checkpointed and truncated, so no old page image still holds the erased values
    traces_cleared: bool = False
    #: the erased values themselves, only to look for them in earlier exports (never printed)
    erased_values: tuple[str, ...] = field(default=(), repr=False)


def _personal_values(store: Store, respondent_id: str, current: Respondent) -> tuple[str, ...]:
    """What identifies the respondent and is erased: contact fields and the attributes not kept.

    Without the contact key the contact values cannot be known (only the attributes are searched for)."""
    values: list[str] = []
    try:
        contacts = read_contacts(store, [respondent_id], purpose="find a withdrawn respondent in earlier exports")
    except ContactKeyMissing:
        contacts = None
    for r in contacts.iter_rows() if contacts is not None else ():
        values += [str(v) for v in r[1:5] if v is not None]
        values += [str(v) for v in (decode(r[5]) or {}).values() if v is not None]
    values += [str(v) for k, v in current.attributes.items() if k not in KEPT_ON_WITHDRAWAL and isinstance(v, str)]
    return tuple(v for v in dict.fromkeys(v.strip() for v in values) if len(v) >= 3)


#: files larger than this are not searched for a withdrawn respondent (they are named as unchecked)
MAX_SEARCHED_BYTES = 512 * 1024 * 1024


def files_holding(folder: Path, values: Sequence[str]) -> list[Path]:
    """Files under `folder` (and members of zip-based files: xlsx, docx, bundles) that contain any of
    `values` in UTF-8, UTF-16 or Big5, so a withdrawal can name the earlier exports still holding them."""
    import zipfile

    needles: set[bytes] = set()
    for value in values:
        for codec in ("utf-8", "utf-16-le", "utf-16-be", "cp950"):
            with contextlib.suppress(UnicodeError):
                needles.add(value.encode(codec))
    found: list[Path] = []
    if not needles or not folder.is_dir():
        return found
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            if path.stat().st_size > MAX_SEARCHED_BYTES:
                found.append(path)
                continue
            blobs = [path.read_bytes()]
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as archive:
                    blobs += [archive.read(m) for m in archive.namelist()]
        except (OSError, zipfile.BadZipFile, RuntimeError, ValueError):
            found.append(path)  # cannot be searched: name it rather than say it is clean
            continue
        if any(n in blob for blob in blobs for n in needles):
            found.append(path)
    return found


def withdraw(
    store: Store, respondent_id: str, *, delete_answers: bool, actor: str | None = None, note: str | None = None
) -> Erasure:
    """Consent withdrawn: erase contact data and free-text notes, log it, optionally delete the answers.

    Kept: the pseudonymous id, status 'withdrawn', coarse demographics (gender, age, region), the consent
    records and, unless `delete_answers`, the anonymous answers. An interview still open with them ends as a
    break-off. Everything happens in one transaction.
    """
    stamp = at = now()
    current = get(store, respondent_id)
    values = _personal_values(store, respondent_id, current) + ((respondent_id,) if delete_answers else ())
    with store.transaction() as conn:
        current = get(store, respondent_id)
        erased = conn.execute(f"DELETE FROM {_CONTACT_TABLE} WHERE respondent_id = ?", (respondent_id,)).rowcount
        _changed(conn)
        kept = {k: v for k, v in current.attributes.items() if k in KEPT_ON_WITHDRAWAL}
        conn.execute(
            "UPDATE respondents SET status = 'withdrawn', attributes = ?, next_appointment = NULL, updated_at = ?"
            " WHERE id = ?",
            (encode(kept), stamp, respondent_id),
        )
        for table in ("contact_attempts", "appointments", "respondent_status_history"):
            conn.execute(f"UPDATE {table} SET note = NULL WHERE respondent_id = ?", (respondent_id,))
        conn.execute(  # a back-check's free-text note may name the person too
            "UPDATE backchecks SET note = NULL"
            " WHERE interview_id IN (SELECT id FROM interviews WHERE respondent_id = ?)",
            (respondent_id,),
        )
        interview_ids = [
            int(r[0]) for r in conn.execute("SELECT id FROM interviews WHERE respondent_id = ?", (respondent_id,))
        ]
        for (open_id,) in conn.execute(
            "SELECT id FROM interviews WHERE respondent_id = ? AND status IN ('in_progress', 'suspended')",
            (respondent_id,),
        ).fetchall():  # nobody may resume an interview with someone who withdrew: it ends as a break-off
            store.finish_interview(int(open_id), "terminated", "break_off", ended_at=stamp)
        if delete_answers and interview_ids:
            marks = ",".join("?" * len(interview_ids))
            for table in _tables_with_interview_id(store):  # answers, audit, paradata, quality, codes, ...
                conn.execute(f"DELETE FROM {table} WHERE interview_id IN ({marks})", tuple(interview_ids))
            conn.execute(f"DELETE FROM interviews WHERE id IN ({marks})", tuple(interview_ids))
        _history(conn, respondent_id, current.status, "withdrawn", actor, None, stamp)
        conn.execute(
            "INSERT INTO erasure_log (respondent_id, at, actor, contacts_erased, interviews, answers_deleted, note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (respondent_id, at, actor, int(bool(erased)), len(interview_ids), int(delete_answers), note),
        )
    contact_search.drop(_where_key(store))  # this process forgets the opened values now, not at the next search
    cleared = False if store.in_transaction else store.erase_traces()  # an outer transaction clears it later
    return Erasure(respondent_id, bool(erased), len(interview_ids), delete_answers, cleared, values)


#: tables that name an interview but are kept when its answers go: the consent record is the proof of what the
#: respondent agreed to (pseudonymous); its link to the deleted interview is cleared (ON DELETE SET NULL)
_KEPT_WITH_INTERVIEW_ID = ("consent_records",)


def _tables_with_interview_id(store: Store) -> list[str]:
    """Every table keyed to interviews, including ones later features add (so nothing is left behind)."""
    return [t for t in store.tables() if t not in _KEPT_WITH_INTERVIEW_ID and "interview_id" in store.columns(t)]


def purge_contacts(store: Store, retention_until: str, *, actor: str | None = None) -> int:
    """The retention purge (fieldwork/privacy.py decides when): every contact record erased, logged, traces cleared."""
    with store.transaction() as conn:
        count = conn.execute(f"DELETE FROM {_CONTACT_TABLE}").rowcount
        _changed(conn)
        conn.execute(
            "INSERT INTO retention_purges (at, retention_until, contacts_erased, actor) VALUES (?, ?, ?, ?)",
            (now(), retention_until, count, actor),
        )
    contact_search.drop(_where_key(store))
    store.erase_traces()
    return count


def contact_count(store: Store) -> int:
    return int(store.query(f"SELECT COUNT(*) FROM {_CONTACT_TABLE}")[0][0])


def erasure_log(store: Store) -> list[Any]:
    return store.query("SELECT * FROM erasure_log ORDER BY id")


# -- screening the whole list ------------------------------------------------------------------------
def screen_all(store: Store, criteria: Sequence[EligibilityCriterion], language: str = "zh-TW") -> tuple[int, int]:
    """Re-screen every respondent against the study's criteria (polars, all at once); (eligible, not)."""
    frame = respondents_frame(store)
    if frame.height == 0:
        return 0, 0
    screened = screen_frame(frame, criteria, language).select("id", "eligible", "eligibility_reason")
    with store.transaction() as conn:
        conn.executemany(
            "UPDATE respondents SET eligible = ?, eligibility_reason = ? WHERE id = ?",
            [(int(e), r, i) for i, e, r in screened.iter_rows()],
        )
    yes = int(screened["eligible"].sum())
    return yes, screened.height - yes


# -- the windowed list ---------------------------------------------------------------------------------
SORTS: dict[str, str] = {
    "added": "r.rowid",
    "id": "r.id",
    "status": "r.status, r.rowid",
    "appointment": "r.next_appointment IS NULL, r.next_appointment, r.rowid",
    "attempts": "r.attempts DESC, r.rowid",
    "interviewer": "r.interviewer IS NULL, r.interviewer, r.rowid",
}


@dataclass(frozen=True)
class RespondentFilter:
    status: str | None = None
    interviewer: str | None = None
    eligible: bool | None = None
    search: str = ""  # a pseudonymous id prefix, or part of a name / phone / e-mail
    sort: str = "added"


@dataclass(frozen=True)
class PageRow:
    id: str
    status: str
    interviewer: str | None
    eligible: bool | None
    eligibility_reason: str | None
    attempts: int
    next_appointment: str | None
    attributes: dict[str, Any]
    name: str | None
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class Page:
    rows: list[PageRow]
    total: int  # matching the filter
    offset: int
    #: why names and phones are missing (the contact key is not on this machine), else None
    locked: str | None = None


def _where_key(store: Store) -> str:
    """Which study a search index belongs to (the database file, or the server's address)."""
    return f"{store.dialect}:{store.path.resolve() if store.path is not None else getattr(store, 'url', store.where)}"


def contacts_token(store: Store) -> tuple[Any, ...]:
    """What the contact table looks like now, in one small read: the key's fingerprint, the change counter every
    write adds to, and the row count (which also sees a row leaving with its respondent)."""
    row = store.query(
        f"SELECT (SELECT fingerprint FROM contact_keys WHERE id = 1), (SELECT changes FROM contact_keys WHERE id = 1),"
        f" (SELECT COUNT(*) FROM {_CONTACT_TABLE})"
    )[0]
    return (row[0], int(row[1] or 0), int(row[2]))


def _searchable(store: Store) -> tuple[tuple[Any, ...], pl.DataFrame]:
    """(token, frame of respondent_id, name, phone, lowercased email): every row opened at once for the search
    index. Only those fields are kept; the rest of each opened row (address, personal fields) is dropped here."""
    token = contacts_token(store)  # read first: a write after it makes the index stale, never wrongly fresh
    rows = store.query(f"SELECT respondent_id, sealed, name, phone, email FROM {_CONTACT_TABLE}")
    sealer = _sealer(store) if any(r[1] is not None for r in rows) else None
    try:
        if sealer is not None and all(r[1] is not None for r in rows):
            opened = sealer.open_many([(r[0], r[1]) for r in rows])
        else:  # plaintext rows of a study opened read-only before its sealing
            opened = [
                sealer.open(r[0], r[1])
                if r[1] is not None and sealer is not None
                else json.dumps(dict(zip(_PAYLOAD, r[2:], strict=False)), ensure_ascii=False).encode("utf-8")
                for r in rows
            ]
    except crypto.ContactKeyError as exc:
        raise ContactRecordDamaged(str(exc)) from None
    schema = {"name": pl.String, "phone": pl.String, "email": pl.String}
    empty = pl.DataFrame(schema=schema)
    values = pl.read_ndjson(io.BytesIO(b"\n".join(opened)), schema=schema) if opened else empty
    del opened
    frame = pl.DataFrame({"respondent_id": [r[0] for r in rows]}, schema={"respondent_id": pl.String})
    frame = pl.concat([frame, values.with_columns(pl.col("email").str.to_lowercase())], how="horizontal")
    return token, frame


def search_ready(store: Store) -> bool:
    """True when a search of the contacts answers from this process's index at once (False: it must first open
    every sealed row, which a screen announces as preparing). A study without contacts is always ready."""
    token = contacts_token(store)
    return token[2] == 0 or contact_search.current(_where_key(store), token) is not None


def prepare_search(store: Store) -> int:
    """Build (or check) the search index now, e.g. in a worker while the user starts typing; its size."""
    return contact_search.get(_where_key(store), contacts_token(store), lambda: _searchable(store)).size


def forget_search(store: Store | None = None) -> None:
    """Drop the opened contact values this process holds for searching (of `store`, or of every study)."""
    contact_search.drop(None if store is None else _where_key(store))


def _matching_contacts(store: Store, term: str) -> list[str]:
    """Respondents whose name or e-mail contains `term` (or phone its digits). The sealed rows cannot be
    searched by SQL, so they are matched in this process's in-memory index (contact_search.py says why)."""
    token = contacts_token(store)
    if token[2] == 0:
        return []
    return contact_search.get(_where_key(store), token, lambda: _searchable(store)).matching(term)


def _where(store: Store, flt: RespondentFilter) -> tuple[str, list[Any], str | None, int | None]:
    """The WHERE clause, its parameters, why contacts could not be searched (None when they were), and the
    number of matching respondents when it is already known (a search alone: one per matched contact row)."""
    clauses, params = ["1=1"], []  # type: ignore[var-annotated]
    locked, known = None, None
    if flt.status:
        clauses.append("r.status = ?")
        params.append(flt.status)
    if flt.interviewer:
        clauses.append("r.interviewer = ?")
        params.append(flt.interviewer)
    if flt.eligible is not None:
        clauses.append("r.eligible = ?")
        params.append(int(flt.eligible))
    term = flt.search.strip()
    if term:
        try:
            matches = _matching_contacts(store, term)
        except ContactKeyMissing as exc:
            matches, locked = [], str(exc)
        lite = store.dialect == "sqlite"
        among = "r.id IN (SELECT value FROM json_each(?))" if lite else "r.id = ANY(?)"  # one parameter either way
        listed: Any = json.dumps(matches) if lite else matches
        if term.isascii() and term.isalnum():  # could be the start of a pseudonymous id (digits and letters)
            # GLOB on SQLite: a prefix range over the id index (LIKE ignores case, so it would scan every row)
            prefix = "r.id GLOB ?" if lite else "r.id LIKE ?"
            clauses.append(f"({prefix} OR {among})")
            params += [term.upper() + ("*" if lite else "%"), listed]
        else:
            clauses.append(among)
            params.append(listed)
            if len(clauses) == 2:  # no other filter: counting them again in SQL would cost a second pass
                known = len(matches)
    return " AND ".join(clauses), params, locked, known


def page(store: Store, flt: RespondentFilter, offset: int = 0, limit: int = 50) -> Page:
    """One window of the list: `limit` rows from `offset` plus the total (never the whole table).

    Without the contact key the rows come without names and phones, and `Page.locked` says why."""
    where, params, locked, known = _where(store, flt)
    if known is None:
        known = int(store.query(f"SELECT COUNT(*) FROM respondents r WHERE {where}", tuple(params))[0][0])
    total = known
    order = SORTS.get(flt.sort, SORTS["added"])
    offset = max(0, min(offset, max(total - 1, 0)))
    rows = store.query(
        "SELECT r.id, r.status, r.interviewer, r.eligible, r.eligibility_reason, r.attempts, r.next_appointment,"
        f" r.attributes FROM respondents r WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    try:
        listed = read_contacts(store, [r[0] for r in rows], purpose="recruitment list")
        contacts = {row[0]: row for row in listed.iter_rows()}
    except ContactKeyMissing as exc:
        contacts, locked = {}, str(exc)
    result = []
    for r in rows:
        c = contacts.get(r[0], (None, None, None, None, None))
        result.append(
            PageRow(
                r[0],
                r[1],
                r[2],
                None if r[3] is None else bool(r[3]),
                r[4],
                int(r[5]),
                r[6],
                decode(r[7]) or {},
                c[1],
                c[2],
                c[3],
            )
        )
    return Page(result, total, offset, locked)


def interviewers(store: Store) -> list[str]:
    return [r[0] for r in store.query("SELECT DISTINCT interviewer FROM respondents WHERE interviewer IS NOT NULL")]


def status_counts(store: Store) -> dict[str, int]:
    return {r[0]: int(r[1]) for r in store.query("SELECT status, COUNT(*) FROM respondents GROUP BY status")}


def mask_phone(phone: str | None) -> str:
    """0912-***-678: enough to recognise on a list, not enough to copy."""
    if not phone:
        return ""
    if len(phone) == 10 and phone.startswith("09"):
        return f"{phone[:4]}-***-{phone[7:]}"
    return phone[:3] + "*" * max(len(phone) - 5, 0) + phone[-2:]


def consent_version(wording: dict[str, str] | None) -> str:
    """A short fingerprint of the consent wording, so a record says which text the respondent heard."""
    import hashlib

    text = encode(dict(sorted((wording or {}).items()))) or ""
    return "c-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
