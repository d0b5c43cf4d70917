"""Offline laptops: check a device out of a server study, and sync it back without losing or doubling anything.

A *server* is any study store the team shares (a central study folder today; the PostgreSQL store once it
exists). The server side is reached only through :class:`SyncServer`, whose SQL is plain and portable (`?`
parameters through `Store.query` / `Store.transaction`), so it runs on whatever backend the server store is.

How an interview is identified and pushed. ODK Central keys a submission by its instanceID: the same one sent
again is accepted without a second copy, and an edit must name the version it replaces (deprecatedID) or it
gets 409 Conflict. Here the same ideas, without the rejection: a state that was not built on the server's
current one is kept as a conflict for the supervisor instead of being refused.

* An interview is its ``uuid``; local integer ids differ between device and server and never travel.
* Its *content hash* is the sha256 of its state (row fields that matter and its answers), computed the same
  way on both sides. The server keeps a receipt ``(uuid, hash, device)`` for every state a device delivered.
* A push of ``(uuid, hash, state, logs)`` is answered, inside one server transaction per batch:

  - ``stored``      the uuid is new: the interview, answers and logs are inserted;
  - ``already``     the server holds exactly this state, or received it before (a re-send, or a stale
                    out-of-order copy of an older state): nothing is written twice;
  - ``updated``     the server's current state is one this device delivered: the device simply went on
                    (answers replaced, new log rows appended);
  - ``conflict``    the server's state changed independently (a supervisor edited it, another device
                    delivered it): the device's state is kept in ``sync_conflicts`` for the supervisor;
                    nothing is overwritten, never last-writer-wins;
  - ``refused``     the interview cannot be placed (its instrument version is unknown to the server).

* A respondent's lifecycle (status, disposition, appointment, assignment: RESPONDENT_STATE) is checked the
  same way. The device keeps, per respondent, the hash of the lifecycle it last agreed on with the server
  (its *base*: at checkout, after a push was taken, after a pull). A push of a changed lifecycle is taken
  when the server's lifecycle is still the base (only the device changed), ignored when the device's is (only
  the server changed: the pull brings it), and otherwise kept as a ``sync_conflicts`` entry of kind
  ``respondent`` for the supervisor (keep server / keep device), never last-writer-wins. A respondent who
  withdrew on the server stays withdrawn whatever the device says. The attempt counter is not a conflict:
  the server keeps the larger count (the attempts themselves arrive once each as log rows).
* Log rows (audit, paradata, consent, status history, contact attempts) carry ``origin = device:local_id``
  under a unique index, so a re-sent row is skipped (``ON CONFLICT (origin) DO NOTHING``).
* The device records what was confirmed only after the server's transaction committed and answered; a sync cut
  off anywhere leaves the server with whole batches only and the device with nothing marked, and the next
  sync re-sends and is told ``already`` for what had arrived.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import socket
import uuid as uuidlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from survey_tui.core.store.sqlite import Store, StoreError, now
from survey_tui.i18n import N_, Phrase, _, shown

if TYPE_CHECKING:
    from survey_tui.core.fieldwork.quotas import Quota
    from survey_tui.core.study import Study

#: interview row fields that are part of its state (and so of its hash); ids and the device name are not
STATE_FIELDS = (
    "respondent_id",
    "mode",
    "interviewer",
    "language",
    "status",
    "outcome",
    "started_at",
    "ended_at",
    "current_question",
    "path",
)
#: interview logs a device pushes with each interview: table -> columns after interview_id (local id first)
INTERVIEW_LOGS: dict[str, tuple[str, ...]] = {
    "audit_log": ("question", "action", "old_value", "old_special", "new_value", "new_special", "at", "actor"),
    "interview_events": ("at", "kind", "question", "detail"),
    "consent_records": ("respondent_id", "given", "at", "wording_version", "interviewer"),
}
#: respondent logs a device pushes: table -> columns after respondent_id
RESPONDENT_LOGS: dict[str, tuple[str, ...]] = {
    "respondent_status_history": ("at", "old_status", "new_status", "interviewer", "note"),
    "contact_attempts": ("at", "interviewer", "result", "note"),
}
RESPONDENT_FIELDS = (
    "id",
    "created_at",
    "attributes",
    "status",
    "interviewer",
    "eligible",
    "eligibility_reason",
    "attempts",
    "next_appointment",
    "updated_at",
    "source",
    "disposition",
    "disposition_outcome",
    "disposition_at",
    "disposition_by",
    "appointment_due",
    "appointment_kind",
    "call_state",
)
#: a respondent's lifecycle as conflict-checked: changed on a device and on the server since the device's last
#: sync is a conflict (the attempt counter and the times are not: they follow from these)
RESPONDENT_STATE = (
    "status",
    "disposition",
    "disposition_outcome",
    "next_appointment",
    "appointment_kind",
    "interviewer",
)
#: what a device's lifecycle carries onto the server when it is taken: the state and its companions
RESPONDENT_LIFECYCLE = (
    *RESPONDENT_STATE,
    "disposition_at",
    "disposition_by",
    "appointment_due",
    "call_state",
    "updated_at",
)
#: a respondent conflict's subject (kept where an interview conflict keeps its uuid)
RESPONDENT_SUBJECT = "respondent:"
BATCH = 100

Faults = Callable[[str], None]


class Disconnected(StoreError):
    """The connection to the server went away mid-sync (raised by injected faults in tests)."""


class WrongStudy(StoreError):
    """A device synced against a server of another study: refused before anything is written."""


def _no_faults(point: str) -> None:
    return None


def _chunks(items: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _marks(items: Sequence[Any]) -> str:
    return ",".join("?" * len(items))


def respondent_hash(row: Any) -> str:
    """The hash of a respondent's lifecycle (RESPONDENT_STATE), from a row readable by column name."""
    return state_hash({f: row[f] for f in RESPONDENT_STATE})


def _lifecycles(store: Any, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """id -> lifecycle fields (and attempts) of these respondents."""
    out: dict[str, dict[str, Any]] = {}
    columns = ", ".join(("id", "attempts", *RESPONDENT_LIFECYCLE))
    for chunk in _chunks(list(ids)):
        for r in store.query(f"SELECT {columns} FROM respondents WHERE id IN ({_marks(chunk)})", tuple(chunk)):
            out[str(r[0])] = {k: r[k] for k in ("attempts", *RESPONDENT_LIFECYCLE)}
    return out


@dataclass(frozen=True)
class RespondentPushResult:
    """What the server did with a device's respondents: new log rows, and per respondent one of
    stored (new on the server), taken (the device's lifecycle), already (the same on both), unchanged (only
    the server changed it), conflict (both did: kept for the supervisor), withdrawn (the server's stands)."""

    new_rows: int
    results: dict[str, str]


# -- study identity ------------------------------------------------------------------------------------
def study_id(store: Store) -> str:
    """The study's permanent id (made on first use), so a device can tell its server from any other."""
    rows = store.query("SELECT value FROM study_meta WHERE key = 'study_id'")
    if rows:
        return str(rows[0][0])
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO study_meta (key, value) VALUES ('study_id', ?) ON CONFLICT (key) DO NOTHING",
            (str(uuidlib.uuid4()),),
        )
    return str(store.query("SELECT value FROM study_meta WHERE key = 'study_id'")[0][0])


# -- content -------------------------------------------------------------------------------------------
def state_hash(state: dict[str, Any]) -> str:
    text = json.dumps(state, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def interview_states(store: Store, where: str = "1=1", params: Sequence[Any] = ()) -> dict[str, dict[str, Any]]:
    """uuid -> state (row fields, instrument identity, answers as stored text) for the interviews selected."""
    cols = ", ".join(f"i.{f}" for f in STATE_FIELDS)
    rows = store.query(
        f"SELECT i.id, i.uuid, v.instrument_id, v.version, v.sha256, {cols} FROM interviews i"
        f" JOIN instrument_versions v ON v.id = i.instrument_version_id WHERE {where} ORDER BY i.id",
        tuple(params),
    )
    by_id: dict[int, dict[str, Any]] = {}
    states: dict[str, dict[str, Any]] = {}
    for r in rows:
        state = {"instrument": [r[2], int(r[3]), r[4]], **{f: r[5 + k] for k, f in enumerate(STATE_FIELDS)}}
        state["answers"] = []
        by_id[int(r[0])] = state
        states[str(r[1])] = state
    ids = list(by_id)
    for chunk in _chunks(ids):
        for a in store.query(
            f"SELECT interview_id, question, value, special FROM answers WHERE interview_id IN ({_marks(chunk)})",
            tuple(chunk),
        ):
            by_id[int(a[0])]["answers"].append([a[1], a[2], a[3]])
    for state in by_id.values():
        state["answers"].sort()
    return states


def _local_ids(store: Store, uuids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(list(uuids)):
        for r in store.query(f"SELECT uuid, id FROM interviews WHERE uuid IN ({_marks(chunk)})", tuple(chunk)):
            found[str(r[0])] = int(r[1])
    return found


@dataclass
class InterviewPush:
    """One interview as a device sends it: its state, that state's hash, and its log rows (local ids first)."""

    uuid: str
    hash: str
    state: dict[str, Any]
    device: str | None
    logs: dict[str, list[list[Any]]] = field(default_factory=dict)
    #: question -> when it was last answered on the device (kept with the answer, not part of the state)
    answered: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        data = {"uuid": self.uuid, "hash": self.hash, "state": self.state, "device": self.device}
        return json.dumps({**data, "logs": self.logs, "answered": self.answered}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> InterviewPush:
        data = json.loads(text)
        return cls(
            data["uuid"],
            data["hash"],
            data["state"],
            data.get("device"),
            data.get("logs", {}),
            data.get("answered", {}),
        )


@dataclass(frozen=True)
class Ack:
    uuid: str
    result: str  # stored | already | updated | conflict | refused
    hash: str
    message: str | None = None


def build_pushes(store: Store, uuids: Sequence[str], states: dict[str, dict[str, Any]]) -> list[InterviewPush]:
    """The pushes for `uuids` (their logs read in bulk)."""
    local = _local_ids(store, uuids)
    devices = {
        str(r[0]): r[1]
        for chunk in _chunks(list(uuids))
        for r in store.query(f"SELECT uuid, device FROM interviews WHERE uuid IN ({_marks(chunk)})", tuple(chunk))
    }
    pushes = {u: InterviewPush(u, state_hash(states[u]), states[u], devices.get(u)) for u in uuids}
    by_local = {local[u]: pushes[u] for u in uuids}
    for chunk in _chunks(list(by_local)):
        for r in store.query(
            f"SELECT interview_id, question, answered_at FROM answers WHERE interview_id IN ({_marks(chunk)})",
            tuple(chunk),
        ):
            by_local[int(r[0])].answered[str(r[1])] = str(r[2])
    for table, columns in INTERVIEW_LOGS.items():
        for p in pushes.values():
            p.logs[table] = []
        ids = list(by_local)
        for chunk in _chunks(ids):
            for r in store.query(
                f"SELECT id, interview_id, {', '.join(columns)} FROM {table}"
                f" WHERE interview_id IN ({_marks(chunk)}) ORDER BY id",
                tuple(chunk),
            ):
                by_local[int(r[1])].logs[table].append([int(r[0]), *r[2:]])
    return [pushes[u] for u in uuids]


# -- the server ----------------------------------------------------------------------------------------
@dataclass
class Bundle:
    """What a device checks out: the study's files, versions, the interviewer's respondents and quota state."""

    study_id: str
    files: dict[str, bytes]
    versions: list[tuple[Any, ...]]
    respondents: list[tuple[Any, ...]]
    contacts: list[tuple[Any, ...]]
    quota_state: list[tuple[str, str, int | None, int]]


class SyncServer:
    """The server side of sync, over a Store: every method is one request, every write one transaction.

    `faults(point)` is called at named points (tests raise :class:`Disconnected` there to cut a sync off):
    ``<request>:before-commit`` inside the transaction (it rolls back) and ``<request>:after-commit`` once it
    has committed but before the answer reaches the device (the answer is lost).
    """

    def __init__(
        self,
        store: Store,
        quotas: Sequence[Quota] = (),
        files: dict[str, bytes] | None = None,
        *,
        location: str = "",
        faults: Faults | None = None,
    ) -> None:
        self.store = store
        self.quotas = list(quotas)
        self.files = dict(files or {})
        self.location = location
        self.faults = faults or _no_faults

    @property
    def study_id(self) -> str:
        return study_id(self.store)

    # -- checkout and pull -------------------------------------------------------------------------
    def versions(self, known: Iterable[int] = ()) -> list[tuple[Any, ...]]:
        have = set(known)
        rows = self.store.query(
            "SELECT id, instrument_id, version, source, sha256, published_at, note FROM instrument_versions ORDER BY id"
        )
        return [tuple(r) for r in rows if int(r[0]) not in have]

    def assigned(self, interviewer: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The interviewer's respondents and only their contact data."""
        from survey_tui.core.fieldwork.respondents import read_contacts

        rows = [
            tuple(r)
            for r in self.store.query(
                f"SELECT {', '.join(RESPONDENT_FIELDS)} FROM respondents WHERE interviewer = ? ORDER BY id",
                (interviewer,),
            )
        ]
        live = [r[0] for r in rows if r[3] != "withdrawn"]
        contacts = read_contacts(self.store, live, purpose=f"device checkout for interviewer {interviewer}")
        return rows, [tuple(r) for r in contacts.iter_rows()]

    def respondent_owners(self, ids: Sequence[str]) -> dict[str, tuple[str | None, str]]:
        """id -> (interviewer, status) on the server, for respondents a device holds."""
        out: dict[str, tuple[str | None, str]] = {}
        for chunk in _chunks(list(ids)):
            for r in self.store.query(
                f"SELECT id, interviewer, status FROM respondents WHERE id IN ({_marks(chunk)})", tuple(chunk)
            ):
                out[str(r[0])] = (r[1], str(r[2]))
        return out

    def quota_state(self) -> list[tuple[str, str, int | None, int]]:
        from survey_tui.core.fieldwork.quotas import cell_key, quota_counts

        if not self.quotas:
            return []
        return [(c.quota, cell_key(c.cell), c.target, c.completes) for c in quota_counts(self.store, self.quotas)]

    def checkout(self, interviewer: str) -> Bundle:
        respondents, contacts = self.assigned(interviewer)
        return Bundle(self.study_id, self.files, self.versions(), respondents, contacts, self.quota_state())

    def states(self, uuids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The server's current state of these interviews (a device takes it when its own version lost)."""
        uuids = list(uuids)
        return interview_states(self.store, f"i.uuid IN ({_marks(uuids)})", uuids) if uuids else {}

    def resolutions(self, device_id: str, kind: str = "interview") -> list[tuple[str, str, str]]:
        """(subject, device_hash, resolution) of this device's conflicts of `kind` the supervisor has settled
        (the subject is the interview's uuid, or the respondent's id)."""
        rows = self.store.query(
            "SELECT COALESCE(respondent_id, interview_uuid), device_hash, resolution FROM sync_conflicts"
            " WHERE device_id = ? AND resolution IS NOT NULL AND kind = ?",
            (device_id, kind),
        )
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    # -- push: respondents -------------------------------------------------------------------------
    def push_respondents(
        self,
        device_id: str,
        respondents: Sequence[Sequence[Any]],
        contacts: Sequence[Sequence[Any]],
        logs: dict[str, list[list[Any]]],
        bases: dict[str, str] | None = None,
        interviewer: str | None = None,
    ) -> RespondentPushResult:
        """New respondents (recruited on the device) are inserted with their contacts; a known one's lifecycle
        is checked against the base the device names (see the module docstring); log rows are appended once.
        A respondent without a base (a device checked out by an older survey-tui) takes the device's lifecycle
        unless they withdrew, as before."""
        from survey_tui.core.fieldwork.respondents import copy_contacts

        bases = bases or {}
        new_rows = 0
        results: dict[str, str] = {}
        with self.store.transaction() as conn:
            known = set(self.respondent_owners([r[0] for r in respondents]))
            fresh = [tuple(r) for r in respondents if r[0] not in known]
            conn.executemany(
                f"INSERT INTO respondents ({', '.join(RESPONDENT_FIELDS)}) VALUES ({_marks(RESPONDENT_FIELDS)})",
                fresh,
            )
            fresh_ids = {r[0] for r in fresh}
            results.update(dict.fromkeys(fresh_ids, "stored"))
            copy_contacts(self.store, conn, [c for c in contacts if c[0] in fresh_ids])
            held = sorted(str(r[0]) for r in respondents if r[0] in known)
            for rid in held:  # checked and changed under the row lock, so a server edit cannot slip in between
                self.store.lock_row("respondents", rid)
            current = _lifecycles(self.store, held)
            for row in respondents:
                if row[0] in known:
                    results[str(row[0])] = self._respondent(
                        conn, device_id, interviewer, row, bases.get(row[0]), current[str(row[0])]
                    )
            for table, columns in RESPONDENT_LOGS.items():
                for row in logs.get(table, []):
                    cur = conn.execute(
                        f"INSERT INTO {table} (respondent_id, {', '.join(columns)}, origin)"
                        f" VALUES (?, {_marks(columns)}, ?) ON CONFLICT (origin) DO NOTHING",
                        (*row[1:], f"{device_id}:{row[0]}"),
                    )
                    new_rows += max(cur.rowcount, 0)
            self.faults("respondents:before-commit")
        self.faults("respondents:after-commit")
        return RespondentPushResult(new_rows, results)

    def _respondent(
        self,
        conn: Any,
        device_id: str,
        interviewer: str | None,
        row: Sequence[Any],
        base: str | None,
        theirs: dict[str, Any],
    ) -> str:
        """One known respondent's lifecycle from a device, checked against the server's (its row held locked)."""
        rid = str(row[0])
        mine = dict(zip(RESPONDENT_FIELDS, row, strict=True))
        if theirs["status"] == "withdrawn":
            return "withdrawn"
        attempts = max(int(theirs["attempts"] or 0), int(mine["attempts"] or 0))
        if attempts != int(theirs["attempts"] or 0):
            conn.execute("UPDATE respondents SET attempts = ? WHERE id = ?", (attempts, rid))
        device_hash, server_hash = respondent_hash(mine), respondent_hash(theirs)
        if device_hash == server_hash:
            return "already"
        if base is None or server_hash == base:
            _take_lifecycle(conn, rid, mine)
            return "taken"
        if device_hash == base:
            return "unchanged"
        payload = {
            "respondent_id": rid,
            "base": base,
            "device": {f: mine[f] for f in RESPONDENT_LIFECYCLE},
            "server": {f: theirs[f] for f in RESPONDENT_LIFECYCLE},
        }
        conn.execute(
            "INSERT INTO sync_conflicts (interview_uuid, device_id, interviewer, device_hash, server_hash, payload,"
            " created_at, kind, respondent_id) VALUES (?, ?, ?, ?, ?, ?, ?, 'respondent', ?)"
            " ON CONFLICT (interview_uuid, device_hash) DO NOTHING",
            (
                RESPONDENT_SUBJECT + rid,
                device_id,
                interviewer,
                device_hash,
                server_hash,
                json.dumps(payload, ensure_ascii=False),
                now(),
                rid,
            ),
        )
        return "conflict"

    # -- push: interviews --------------------------------------------------------------------------
    def push_interviews(self, device_id: str, interviewer: str | None, pushes: Sequence[InterviewPush]) -> list[Ack]:
        """One batch in one transaction; see the module docstring for what each answer means."""
        acks: list[Ack] = []
        with self.store.transaction() as conn:
            rows: dict[str, list[tuple[Any, ...]]] = {}  # new interviews' rows, one executemany per table
            uuids = [p.uuid for p in pushes]
            current = interview_states(self.store, f"i.uuid IN ({_marks(uuids)})", uuids) if uuids else {}
            receipts: dict[str, dict[str, str]] = {}
            for chunk in _chunks(uuids):
                for r in self.store.query(
                    f"SELECT interview_uuid, content_hash, device_id FROM sync_receipts"
                    f" WHERE interview_uuid IN ({_marks(chunk)})",
                    tuple(chunk),
                ):
                    receipts.setdefault(str(r[0]), {})[str(r[1])] = str(r[2])
            versions = {
                (str(r[0]), str(r[1])): int(r[2])
                for r in self.store.query("SELECT instrument_id, sha256, id FROM instrument_versions")
            }
            for push in pushes:
                if state_hash(push.state) != push.hash:
                    acks.append(
                        Ack(
                            push.uuid, "refused", push.hash, Phrase(N_("the interview arrived damaged (hash mismatch)"))
                        )
                    )
                    continue
                version_id = versions.get((push.state["instrument"][0], push.state["instrument"][2]))
                if version_id is None:
                    name = f"{push.state['instrument'][0]} v{push.state['instrument'][1]}"
                    acks.append(
                        Ack(
                            push.uuid,
                            "refused",
                            push.hash,
                            Phrase(N_("{name} is not published on the server"), name=name),
                        )
                    )
                    continue
                seen = receipts.get(push.uuid, {})
                if push.uuid not in current:
                    self._insert(conn, device_id, push, version_id, rows)
                    result = "stored"
                elif state_hash(current[push.uuid]) == push.hash or push.hash in seen:
                    result = "already"  # a re-send, or an older state arriving late: never applied twice
                elif seen.get(state_hash(current[push.uuid])) == device_id:
                    _flush(conn, rows)  # an interview stored earlier in this batch has its rows in place first
                    self._update(conn, device_id, push, version_id)
                    result = "updated"
                else:
                    conn.execute(
                        "INSERT INTO sync_conflicts (interview_uuid, device_id, interviewer, device_hash, server_hash,"
                        " payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                        " ON CONFLICT (interview_uuid, device_hash) DO NOTHING",
                        (
                            push.uuid,
                            device_id,
                            interviewer,
                            push.hash,
                            state_hash(current[push.uuid]),
                            push.to_json(),
                            now(),
                        ),
                    )
                    acks.append(
                        Ack(
                            push.uuid,
                            "conflict",
                            push.hash,
                            Phrase(N_("changed on the server too: kept for the supervisor")),
                        )
                    )
                    continue
                if result != "already" or push.hash not in seen:
                    rows.setdefault(_RECEIPT, []).append((push.uuid, push.hash, device_id, now()))
                if result != "already":  # the same uuid again later in this batch sees what was just written
                    current[push.uuid] = push.state
                    receipts.setdefault(push.uuid, {})[push.hash] = device_id
                acks.append(Ack(push.uuid, result, push.hash))
            _flush(conn, rows)
            self.faults("interviews:before-commit")
        self.faults("interviews:after-commit")
        return acks

    def _insert(
        self, conn: Any, device_id: str, push: InterviewPush, version_id: int, rows: dict[str, list[tuple[Any, ...]]]
    ) -> None:
        """A new interview: its row now (its id is needed), its answers and logs into `rows` for the batch's
        one executemany per table (a round trip per statement is what a server over a network charges for)."""
        s = push.state
        cur = conn.execute(
            f"INSERT INTO interviews (uuid, instrument_version_id, device, {', '.join(STATE_FIELDS)})"
            f" VALUES (?, ?, ?, {_marks(STATE_FIELDS)})",
            (push.uuid, version_id, push.device, *[s[f] for f in STATE_FIELDS]),
        )
        interview_id = int(cur.lastrowid or 0)
        if not interview_id:  # a backend without lastrowid
            interview_id = int(conn.execute("SELECT id FROM interviews WHERE uuid = ?", (push.uuid,)).fetchone()[0])
        rows.setdefault(_ANSWER, []).extend(_answer_rows(interview_id, push))
        for table, row_list in _log_rows(device_id, interview_id, push):
            rows.setdefault(table, []).extend(row_list)

    def _update(self, conn: Any, device_id: str, push: InterviewPush, version_id: int) -> None:
        s = push.state
        interview_id = int(conn.execute("SELECT id FROM interviews WHERE uuid = ?", (push.uuid,)).fetchone()[0])
        conn.execute(
            f"UPDATE interviews SET instrument_version_id = ?, {', '.join(f'{f} = ?' for f in STATE_FIELDS)}"
            " WHERE id = ?",
            (version_id, *[s[f] for f in STATE_FIELDS], interview_id),
        )
        self._write_answers(conn, interview_id, push)
        self._append_logs(conn, device_id, interview_id, push)

    def _write_answers(self, conn: Any, interview_id: int, push: InterviewPush) -> None:
        """The interview's answers become exactly the pushed ones (the audit log says how they got there)."""
        conn.execute("DELETE FROM answers WHERE interview_id = ?", (interview_id,))
        conn.executemany(_ANSWER, _answer_rows(interview_id, push))

    def _append_logs(self, conn: Any, device_id: str, interview_id: int, push: InterviewPush) -> None:
        for sql, row_list in _log_rows(device_id, interview_id, push):
            conn.executemany(sql, row_list)


_ANSWER = "INSERT INTO answers (interview_id, question, value, special, answered_at) VALUES (?, ?, ?, ?, ?)"
_RECEIPT = (
    "INSERT INTO sync_receipts (interview_uuid, content_hash, device_id, received_at)"
    " VALUES (?, ?, ?, ?) ON CONFLICT (interview_uuid, content_hash) DO NOTHING"
)


def _answer_rows(interview_id: int, push: InterviewPush) -> list[tuple[Any, ...]]:
    stamp = push.answered
    return [(interview_id, q, v, sp, stamp.get(q) or push.state["started_at"]) for q, v, sp in push.state["answers"]]


def _log_rows(device_id: str, interview_id: int, push: InterviewPush) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """(insert statement, rows) per log table; a log row's origin makes a re-sent one a no-op."""
    out = []
    for table, columns in INTERVIEW_LOGS.items():
        rows = push.logs.get(table, [])
        if rows:
            sql = (
                f"INSERT INTO {table} (interview_id, {', '.join(columns)}, origin)"
                f" VALUES (?, {_marks(columns)}, ?) ON CONFLICT (origin) DO NOTHING"
            )
            out.append((sql, [(interview_id, *row[1:], f"{device_id}:{row[0]}") for row in rows]))
    return out


def _flush(conn: Any, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    """Write the batch's pending rows, one executemany per statement, and forget them."""
    for sql, row_list in rows.items():
        if row_list:
            conn.executemany(sql, row_list)
    rows.clear()

    # -- conflicts ---------------------------------------------------------------------------------
    def resolve(self, conflict_id: int, keep: str, actor: str | None = None) -> None:
        resolve_conflict(self.store, conflict_id, keep, actor=actor, server=self)


def _take_lifecycle(conn: Any, rid: str, state: dict[str, Any], note: str = "from a device (sync)") -> bool:
    """The device's lifecycle onto the server's respondent; a status change is kept in the history (True)."""
    from survey_tui.core.fieldwork.respondents import _history

    old = conn.execute("SELECT status FROM respondents WHERE id = ?", (rid,)).fetchone()[0]
    conn.execute(
        f"UPDATE respondents SET {', '.join(f'{f} = ?' for f in RESPONDENT_LIFECYCLE)} WHERE id = ?",
        (*[state[f] for f in RESPONDENT_LIFECYCLE], rid),
    )
    if old == state["status"]:
        return False
    _history(conn, rid, old, str(state["status"]), state["interviewer"], note, now())
    return True


@dataclass(frozen=True)
class Conflict:
    id: int
    interview_uuid: str
    interview_id: int | None
    device_id: str
    interviewer: str | None
    created_at: str
    resolution: str | None
    resolved_at: str | None
    #: questions whose answers differ between the server and the device (a respondent's: lifecycle fields)
    differing: tuple[str, ...]
    kind: str = "interview"
    respondent_id: str | None = None


def conflicts(store: Store, *, open_only: bool = True) -> list[Conflict]:
    """The conflicts kept on this (server) store, oldest first, with which answers (for a respondent: which
    lifecycle fields) differ between the device's version and the server's now."""
    rows = store.query(
        "SELECT c.id, c.interview_uuid, i.id, c.device_id, c.interviewer, c.created_at, c.resolution,"
        " c.resolved_at, c.payload, c.kind, c.respondent_id FROM sync_conflicts c"
        " LEFT JOIN interviews i ON i.uuid = c.interview_uuid"
        + (" WHERE c.resolution IS NULL" if open_only else "")
        + " ORDER BY c.id"
    )
    uuids = [str(r[1]) for r in rows if r[9] == "interview"]
    current = interview_states(store, f"i.uuid IN ({_marks(uuids)})", uuids) if uuids else {}
    lifecycles = _lifecycles(store, [str(r[10]) for r in rows if r[9] == "respondent"])
    out = []
    for r in rows:
        if r[9] == "respondent":
            device_state = json.loads(r[8])["device"]
            server_state = lifecycles.get(str(r[10]), {})
            differing = tuple(f for f in RESPONDENT_STATE if device_state.get(f) != server_state.get(f))
        else:
            device = {a[0]: a[1:] for a in InterviewPush.from_json(r[8]).state["answers"]}
            server = {a[0]: a[1:] for a in current.get(str(r[1]), {}).get("answers", [])}
            differing = tuple(sorted(q for q in set(device) | set(server) if device.get(q) != server.get(q)))
        out.append(
            Conflict(int(r[0]), str(r[1]), r[2], str(r[3]), r[4], str(r[5]), r[6], r[7], differing, str(r[9]), r[10])
        )
    return out


def resolve_conflict(
    store: Store, conflict_id: int, keep: str, *, actor: str | None = None, server: SyncServer | None = None
) -> str:
    """Settle a conflict: keep the server's interview as it is, or replace it with the device's state (answers
    replaced, the device's log rows appended, an event records the decision). Returns the interview's uuid."""
    if keep not in ("server", "device"):
        raise StoreError(f"keep 'server' or 'device', not {keep!r}")
    server = server or SyncServer(store)
    with store.transaction() as conn:
        rows = store.query(
            "SELECT interview_uuid, device_id, payload, resolution, kind, respondent_id FROM sync_conflicts"
            " WHERE id = ?",
            (conflict_id,),
        )
        if not rows:
            raise StoreError(
                _("no conflict #{id}; 'survey-tui conflicts list' shows the open ones").format(id=conflict_id)
            )
        uuid, device_id, payload, resolution, kind, respondent_id = rows[0]
        if resolution is not None:
            raise StoreError(
                _("conflict #{id} was already resolved (kept {kept}); nothing changed").format(
                    id=conflict_id, kept=_(KEPT_WORDS[resolution]) if resolution in KEPT_WORDS else resolution
                )
            )
        newer = conn.execute(
            "SELECT MIN(id) FROM sync_conflicts WHERE interview_uuid = ? AND device_id = ? AND resolution IS NULL"
            " AND id > ?",
            (uuid, device_id, conflict_id),
        ).fetchone()[0]
        if newer is not None:
            raise StoreError(
                _(
                    "conflict #{id} was overtaken: the device sent this interview again (#{newer}); "
                    "resolve #{newer} (the older ones close with it); nothing changed"
                ).format(id=conflict_id, newer=newer)
            )
        if kind == "respondent":
            _resolve_respondent(store, conn, conflict_id, str(respondent_id), json.loads(payload), keep, actor)
            conn.execute(  # this one, and the device's earlier states of the same respondent it overtook
                "UPDATE sync_conflicts SET resolution = ?, resolved_at = ?, resolved_by = ? WHERE id = ?"
                " OR (interview_uuid = ? AND device_id = ? AND resolution IS NULL AND id < ?)",
                (keep, now(), actor, conflict_id, uuid, device_id, conflict_id),
            )
            return str(respondent_id)
        push = InterviewPush.from_json(payload)
        interview_id = int(conn.execute("SELECT id FROM interviews WHERE uuid = ?", (uuid,)).fetchone()[0])
        if keep == "device":
            version = conn.execute(
                "SELECT id FROM instrument_versions WHERE instrument_id = ? AND sha256 = ?",
                (push.state["instrument"][0], push.state["instrument"][2]),
            ).fetchone()
            server._update(conn, str(device_id), push, int(version[0]))
            conn.execute(
                "INSERT INTO sync_receipts (interview_uuid, content_hash, device_id, received_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (interview_uuid, content_hash) DO NOTHING",
                (uuid, push.hash, device_id, now()),
            )
        stamp = now()
        conn.execute(  # this one, and the device's earlier states of the same interview it overtook
            "UPDATE sync_conflicts SET resolution = ?, resolved_at = ?, resolved_by = ? WHERE id = ?"
            " OR (interview_uuid = ? AND device_id = ? AND resolution IS NULL AND id < ?)",
            (keep, stamp, actor, conflict_id, uuid, device_id, conflict_id),
        )
        store.log_event(interview_id, "sync_conflict_resolved", None, f"#{conflict_id}: kept {keep}", at=stamp)
    return str(uuid)


def _resolve_respondent(
    store: Store, conn: Any, conflict_id: int, rid: str, payload: dict[str, Any], keep: str, actor: str | None
) -> None:
    """Keep the device's lifecycle (taken onto the server, the decision in the status history) or the server's
    (nothing changes here; the device takes it at its next sync)."""
    from survey_tui.core.fieldwork.respondents import _history

    store.lock_row("respondents", rid)
    found = conn.execute("SELECT status FROM respondents WHERE id = ?", (rid,)).fetchone()
    if found is None:
        raise StoreError(
            _("conflict #{id}: respondent {respondent} is no longer on the server; nothing changed").format(
                id=conflict_id, respondent=rid
            )
        )
    note = f"sync conflict #{conflict_id}: kept the {keep}'s"
    if keep == "device":
        if found[0] == "withdrawn":
            raise StoreError(
                _(
                    "conflict #{id}: {respondent} withdrew consent on the server; the device's lifecycle cannot be "
                    "kept (keep the server's); nothing changed"
                ).format(id=conflict_id, respondent=rid)
            )
        if _take_lifecycle(conn, rid, payload["device"], note):
            return
    _history(conn, rid, found[0], str(found[0]), actor, note, now())  # the decision, on the record


# -- opening a server ----------------------------------------------------------------------------------
def study_files(study: Study) -> dict[str, bytes]:
    """The plain-text files a device needs to open the study (study.yaml and the instruments).

    The device keeps its interviews in its own embedded survey.db, so its study.yaml says `store: embedded`
    in place of the team's server: SURVEY_TUI_DATABASE_URL, set in an interviewer's shell for the team's
    server, must not send the laptop's interviews (or its sync) straight to the server."""
    files = {"study.yaml": _embedded_store(study.study_file.read_text(encoding="utf-8")).encode("utf-8")}
    for path in study.instrument_files():
        files[f"instruments/{path.name}"] = path.read_bytes()
    return files


def _embedded_store(text: str) -> str:
    from ruamel.yaml import YAML

    from survey_tui.core.store.base import EMBEDDED

    yaml = YAML(typ="rt")
    data = yaml.load(text)
    if not isinstance(data, dict):
        return text
    if "store" in data:
        data["store"] = EMBEDDED
    else:
        data.insert(0, "store", EMBEDDED)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def open_server(target: str, faults: Faults | None = None) -> SyncServer:
    """The server a device belongs to: the team's study folder. Its data are wherever that study keeps them:
    its survey.db on a file share, or the PostgreSQL server its study.yaml names (`store:`)."""
    from survey_tui.core.study import open_study

    if "://" in target:
        raise StoreError(
            _(
                "{target}: name the team's study folder, not the database: its study.yaml says where the data are "
                "(store: postgresql://...), and the laptop needs its instruments too; nothing was written"
            ).format(target=target)
        )
    if not (Path(target) / "study.yaml").is_file():
        raise StoreError(
            _(
                "{target}: the server study cannot be reached (no study there; is the share mounted?); "
                "nothing was written"
            ).format(target=target)
        )
    study = open_study(Path(target))
    return SyncServer(study.store(), study.config.quotas, study_files(study), location=str(study.root), faults=faults)


# -- the device ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeviceLink:
    study_id: str
    server: str
    interviewer: str
    device_id: str
    checked_out_at: str
    last_sync_at: str | None
    quota_state_at: str | None


def device_link(store: Store) -> DeviceLink | None:
    rows = store.query(
        "SELECT study_id, server, interviewer, device_id, checked_out_at, last_sync_at, quota_state_at"
        " FROM device_link WHERE id = 1"
    )
    return DeviceLink(*rows[0]) if rows else None


def _write_quota_state(conn: Any, state: Sequence[tuple[str, str, int | None, int]]) -> None:
    conn.execute("DELETE FROM device_quota_state")
    conn.executemany("INSERT INTO device_quota_state (quota, cell, target, completes) VALUES (?, ?, ?, ?)", state)
    conn.execute("UPDATE device_link SET quota_state_at = ? WHERE id = 1", (now(),))


def quota_baseline(store: Any) -> tuple[str, dict[tuple[str, str], int]] | None:
    """On a device: (when pulled, (quota, cell) -> completes on the server then); None elsewhere. The quota
    board of a device adds its own completes since then (see fieldwork/quotas.py)."""
    rows = store.query("SELECT quota_state_at FROM device_link WHERE id = 1")
    if not rows or rows[0][0] is None:
        return None
    counts = {
        (str(r[0]), str(r[1])): int(r[2]) for r in store.query("SELECT quota, cell, completes FROM device_quota_state")
    }
    return str(rows[0][0]), counts


def _set_bases(conn: Any, lifecycles: dict[str, Any]) -> None:
    """On a device: these respondents' lifecycles are what it now agrees on with the server."""
    conn.executemany(
        "INSERT INTO device_respondent_sync (respondent_id, base_hash, state, device_hash, synced_at)"
        " VALUES (?, ?, 'synced', NULL, ?) ON CONFLICT (respondent_id) DO UPDATE SET base_hash = excluded.base_hash,"
        " state = 'synced', device_hash = NULL, synced_at = excluded.synced_at",
        [(rid, respondent_hash(row), now()) for rid, row in lifecycles.items()],
    )


def _device_respondents(device: Store) -> tuple[dict[str, str], dict[str, tuple[str, str, str | None]]]:
    """On a device: id -> lifecycle hash now, and id -> (base_hash, state, device_hash) kept at the last sync."""
    columns = ", ".join(("id", *RESPONDENT_STATE))
    now_hashes = {str(r[0]): respondent_hash(r) for r in device.query(f"SELECT {columns} FROM respondents")}
    kept = {
        str(r[0]): (str(r[1]), str(r[2]), r[3])
        for r in device.query("SELECT respondent_id, base_hash, state, device_hash FROM device_respondent_sync")
    }
    return now_hashes, kept


def checkout(server: SyncServer, interviewer: str, target: Path) -> Path:
    """Make `target` a device study for `interviewer`, built aside and moved into place whole."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise StoreError(
            _("{target}: already exists and is not empty; check out into a new folder (nothing was written)").format(
                target=target
            )
        )
    bundle = server.checkout(interviewer)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.with_name(f".{target.name}.{uuidlib.uuid4().hex}.checkout")
    try:
        for name, data in bundle.files.items():
            path = work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        (work / "exports").mkdir(parents=True, exist_ok=True)
        with Store(work / "survey.db") as store, store.transaction() as conn:
            conn.executemany(
                "INSERT INTO instrument_versions (id, instrument_id, version, source, sha256, published_at, note)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                bundle.versions,
            )
            conn.executemany(
                f"INSERT INTO respondents ({', '.join(RESPONDENT_FIELDS)}) VALUES ({_marks(RESPONDENT_FIELDS)})",
                bundle.respondents,
            )
            from survey_tui.core.fieldwork.respondents import copy_contacts

            copy_contacts(store, conn, bundle.contacts)
            conn.execute("INSERT INTO study_meta (key, value) VALUES ('study_id', ?)", (bundle.study_id,))
            stamp = now()
            _set_bases(conn, {str(r[0]): dict(zip(RESPONDENT_FIELDS, r, strict=True)) for r in bundle.respondents})
            conn.execute(
                "INSERT INTO device_link (id, study_id, server, interviewer, device_id, checked_out_at)"
                " VALUES (1, ?, ?, ?, ?, ?)",
                (
                    bundle.study_id,
                    server.location,
                    interviewer,
                    f"{socket.gethostname()}-{uuidlib.uuid4().hex[:12]}",
                    stamp,
                ),
            )
            _write_quota_state(conn, bundle.quota_state)
        if target.exists():
            target.rmdir()
        os.replace(work, target)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return target


@dataclass
class SyncReport:
    pushed: dict[str, int] = field(default_factory=dict)  # ack result -> count
    respondents: dict[str, int] = field(default_factory=dict)  # RespondentPushResult result -> count
    respondent_rows: int = 0
    versions: int = 0
    assigned_new: int = 0
    released: int = 0
    quota_cells: int = 0
    resolved: int = 0
    refused: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """What the sync did, in the interface language (shown by the CLI and the Fieldwork screen)."""
        pushed = ", ".join(
            f"{n} {_(PUSH_RESULTS[k]) if k in PUSH_RESULTS else k}" for k, n in sorted(self.pushed.items())
        ) or _("nothing new")
        out = [
            _("pushed interviews: {pushed}").format(pushed=pushed),
            _("pushed respondent log rows: {rows}").format(rows=self.respondent_rows),
            _(
                "pulled: {versions} new instrument versions, {assigned} new respondents, "
                "{released} taken off this device, quota state of {cells} cells"
            ).format(
                versions=self.versions, assigned=self.assigned_new, released=self.released, cells=self.quota_cells
            ),
        ]
        if self.pushed.get("conflict"):
            out.append(
                _("{count} interviews changed on the server too: kept as conflicts for the supervisor").format(
                    count=self.pushed["conflict"]
                )
            )
        if self.respondents.get("conflict"):
            out.append(
                _(
                    "{count} respondents changed on the server too (status, disposition, "
                    "appointment or assignment): kept as conflicts for the supervisor"
                ).format(count=self.respondents["conflict"])
            )
        if self.resolved:
            out.append(_("{count} conflicts were resolved by the supervisor").format(count=self.resolved))
        out += [_("refused: {reason}").format(reason=m) for m in self.refused]
        return out


#: the server's answer to a pushed interview (kept in English in the store) as the report says it
PUSH_RESULTS = {
    "stored": N_("stored"),
    "already": N_("already"),
    "updated": N_("updated"),
    "conflict": N_("conflict"),
    "refused": N_("refused by the server"),
}
#: a settled conflict's `resolution` -> what was kept, in words
KEPT_WORDS = {"server": N_("the server's version"), "device": N_("the device's version")}


def _check_link(device: Store, server: SyncServer) -> DeviceLink:
    link = device_link(device)
    if link is None:
        raise StoreError(
            _(
                "{path}: this study is not a device copy; make one with 'survey-tui device checkout' "
                "(nothing was written)"
            ).format(path=device.path)
        )
    theirs = server.study_id
    if theirs != link.study_id:
        raise WrongStudy(
            _(
                "{path} was checked out of study {ours}, but {server} holds "
                "study {theirs}: refused, nothing was written on either side"
            ).format(path=device.path, ours=link.study_id, server=server.location or _("the server"), theirs=theirs)
        )
    return link


def changed_interviews(device: Store) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """All states on the device, and the uuids whose state the server has not confirmed."""
    states = interview_states(device)
    confirmed = {
        str(r[0]): str(r[1]) for r in device.query("SELECT interview_uuid, pushed_hash FROM device_sync_state")
    }
    return states, [u for u, s in states.items() if confirmed.get(u) != state_hash(s)]


def sync_device(
    device: Store,
    server: SyncServer,
    *,
    faults: Faults | None = None,
    batch: int = BATCH,
    order: Callable[[list[str]], list[str]] | None = None,
) -> SyncReport:
    """Push, then pull. Safe to cut off anywhere (`faults(point)` may raise) and to run again."""
    faults = faults or _no_faults
    link = _check_link(device, server)
    report = SyncReport()

    # 1. respondents: rows, new respondents' contacts, and log rows since the last confirmed push; a changed
    #    lifecycle goes with the base it was changed from (sent again while its conflict is open only if it
    #    changed once more)
    marks = {str(r[0]): int(r[1]) for r in device.query("SELECT log, last_id FROM device_push_marks")}
    logs: dict[str, list[list[Any]]] = {}
    for table, columns in RESPONDENT_LOGS.items():
        logs[table] = [
            list(r)
            for r in device.query(
                f"SELECT id, respondent_id, {', '.join(columns)} FROM {table} WHERE id > ? ORDER BY id",
                (marks.get(table, 0),),
            )
        ]
    hashes, kept = _device_respondents(device)
    moved = {
        rid
        for rid, h in hashes.items()
        if rid in kept and h != kept[rid][0] and not (kept[rid][1] == "conflict" and kept[rid][2] == h)
    }
    if any(logs.values()) or moved:
        from survey_tui.core.fieldwork.respondents import read_contacts

        ids = sorted({row[1] for rows in logs.values() for row in rows} | moved)
        rows = [
            tuple(r)
            for chunk in _chunks(ids)
            for r in device.query(
                f"SELECT {', '.join(RESPONDENT_FIELDS)} FROM respondents WHERE id IN ({_marks(chunk)})", tuple(chunk)
            )
        ]
        known = server.respondent_owners(ids)
        fresh = [r[0] for r in rows if r[0] not in known]
        contacts = (
            [
                tuple(c)
                for c in read_contacts(device, fresh, purpose="sync: respondents recruited on the device").iter_rows()
            ]
            if fresh
            else []
        )
        bases = {rid: kept[rid][0] for rid in ids if rid in kept}
        faults("respondents:send")
        pushed = server.push_respondents(link.device_id, rows, contacts, logs, bases, link.interviewer)
        report.respondent_rows = pushed.new_rows
        faults("respondents:ack")
        with device.transaction() as conn:  # only now: the server has committed them
            for table, rows_ in logs.items():
                if rows_:
                    conn.execute(
                        "INSERT INTO device_push_marks (log, last_id) VALUES (?, ?)"
                        " ON CONFLICT (log) DO UPDATE SET last_id = excluded.last_id",
                        (table, max(int(r[0]) for r in rows_)),
                    )
            agreed = {
                rid: row for row in rows if pushed.results.get(rid := str(row[0])) in ("stored", "taken", "already")
            }
            _set_bases(conn, {rid: dict(zip(RESPONDENT_FIELDS, row, strict=True)) for rid, row in agreed.items()})
            conn.executemany(
                "UPDATE device_respondent_sync SET state = 'conflict', device_hash = ? WHERE respondent_id = ?",
                [(hashes[rid], rid) for rid, result in pushed.results.items() if result == "conflict"],
            )
        for result in pushed.results.values():
            report.respondents[result] = report.respondents.get(result, 0) + 1

    # 2. interviews, in batches
    states, pending = changed_interviews(device)
    if order is not None:
        pending = order(pending)
    for chunk in _chunks(pending, batch):
        pushes = build_pushes(device, chunk, states)
        faults("interviews:send")
        acks = server.push_interviews(link.device_id, link.interviewer, pushes)
        faults("interviews:ack")
        stamp = now()
        with device.transaction() as conn:
            conn.executemany(
                "INSERT INTO device_sync_state (interview_uuid, pushed_hash, state, message, synced_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (interview_uuid) DO UPDATE SET pushed_hash = excluded.pushed_hash,"
                " state = excluded.state, message = excluded.message, synced_at = excluded.synced_at",
                [
                    (
                        a.uuid,
                        a.hash,
                        {"conflict": "conflict", "refused": "refused"}.get(a.result, "synced"),
                        a.message,
                        stamp,
                    )
                    for a in acks
                    if a.result != "refused"
                ],
            )
        for a in acks:
            report.pushed[a.result] = report.pushed.get(a.result, 0) + 1
            if a.result == "refused":
                report.refused.append(_("interview {uuid}: {reason}").format(uuid=a.uuid, reason=shown(a.message)))

    # 3. pull: versions, assignments, quota state, settled conflicts
    faults("pull:send")
    known_versions = [int(r[0]) for r in device.query("SELECT id FROM instrument_versions")]
    versions = server.versions(known_versions)
    respondents, contacts = server.assigned(link.interviewer)
    here = [str(r[0]) for r in device.query("SELECT id FROM respondents")]
    owners = server.respondent_owners(here)
    quota = server.quota_state()
    settled = server.resolutions(link.device_id)
    settled_respondents = server.resolutions(link.device_id, "respondent")
    mine, unconfirmed = changed_interviews(device)
    waiting = {
        str(r[0]): str(r[1])
        for r in device.query("SELECT interview_uuid, pushed_hash FROM device_sync_state WHERE state = 'conflict'")
    }
    # the supervisor kept the server's version of an interview the device has not touched since: take it
    lost = [u for u, h, keep in settled if keep == "server" and waiting.get(u) == h and state_hash(mine[u]) == h]
    theirs = server.states(lost)
    faults("pull:receive")
    busy = {
        str(r[0])
        for chunk in _chunks(unconfirmed)
        for r in device.query(
            f"SELECT respondent_id FROM interviews WHERE uuid IN ({_marks(chunk)}) AND respondent_id IS NOT NULL",
            tuple(chunk),
        )
    }
    from survey_tui.core.fieldwork.respondents import copy_contacts, forget_contacts

    with device.transaction() as conn:
        conn.executemany(
            "INSERT INTO instrument_versions (id, instrument_id, version, source, sha256, published_at, note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            versions,
        )
        here_set = set(here)
        new = [r for r in respondents if r[0] not in here_set]
        conn.executemany(
            f"INSERT INTO respondents ({', '.join(RESPONDENT_FIELDS)}) VALUES ({_marks(RESPONDENT_FIELDS)})", new
        )
        hashes, kept = _device_respondents(device)
        # a conflict the supervisor settled: the device's state it was about now follows the server, whichever
        # was kept (keeping the device's put it on the server); a change made since then is pushed next time
        on_server = {str(r[0]): r for r in respondents}
        for rid, device_hash, _keep in settled_respondents:
            if rid in kept and kept[rid][1] == "conflict" and kept[rid][2] == device_hash:
                if hashes.get(rid) == device_hash or rid not in on_server:
                    base = device_hash  # untouched since: it takes the server's lifecycle below
                else:  # changed again since: that change is pushed next time, from the server's lifecycle now
                    base = respondent_hash(dict(zip(RESPONDENT_FIELDS, on_server[rid], strict=True)))
                kept[rid] = (base, "synced", None)
                conn.execute(
                    "UPDATE device_respondent_sync SET base_hash = ?, state = 'synced', device_hash = NULL"
                    " WHERE respondent_id = ?",
                    (base, rid),
                )
                report.resolved += 1
        follow = [  # the server's lifecycle wins where the device has nothing of its own still to agree on
            r
            for r in respondents
            if r[0] in here_set
            and r[0] not in busy
            and (
                r[0] not in kept
                or (kept[r[0]][1] == "synced" and hashes.get(r[0]) == kept[r[0]][0])
                or r[RESPONDENT_FIELDS.index("status")] == "withdrawn"  # a withdrawal wins on every device
            )
        ]
        lifecycle_columns = ("attributes", "attempts", *RESPONDENT_LIFECYCLE)
        positions = [RESPONDENT_FIELDS.index(f) for f in lifecycle_columns]
        conn.executemany(
            f"UPDATE respondents SET {', '.join(f'{f} = ?' for f in lifecycle_columns)} WHERE id = ?",
            [(*[r[i] for i in positions], r[0]) for r in follow],
        )
        _set_bases(conn, {str(r[0]): dict(zip(RESPONDENT_FIELDS, r, strict=True)) for r in [*new, *follow]})
        copy_contacts(device, conn, contacts)
        gone = [
            rid
            for rid, (who, status) in owners.items()
            if (who != link.interviewer or status == "withdrawn") and rid not in busy
        ]
        conn.executemany(
            "UPDATE respondents SET interviewer = ?, status = ? WHERE id = ?", [(*owners[r], r) for r in gone]
        )
        forget_contacts(conn, gone)
        _write_quota_state(conn, quota)
        device_versions = {
            (str(r[0]), str(r[1])): int(r[2])
            for r in conn.execute("SELECT instrument_id, sha256, id FROM instrument_versions").fetchall()
        }
        stamp = now()
        for uuid, state in theirs.items():
            version_id = device_versions.get((state["instrument"][0], state["instrument"][2]))
            if version_id is None:
                continue
            local = int(conn.execute("SELECT id FROM interviews WHERE uuid = ?", (uuid,)).fetchone()[0])
            conn.execute(
                f"UPDATE interviews SET instrument_version_id = ?, {', '.join(f'{f} = ?' for f in STATE_FIELDS)}"
                " WHERE id = ?",
                (version_id, *[state[f] for f in STATE_FIELDS], local),
            )
            conn.execute("DELETE FROM answers WHERE interview_id = ?", (local,))
            conn.executemany(
                "INSERT INTO answers (interview_id, question, value, special, answered_at) VALUES (?, ?, ?, ?, ?)",
                [(local, q, v, sp, stamp) for q, v, sp in state["answers"]],
            )
            device.log_event(
                local, "sync_conflict_resolved", None, "the supervisor kept the server's version", at=stamp
            )
            conn.execute(
                "UPDATE device_sync_state SET pushed_hash = ? WHERE interview_uuid = ?", (state_hash(state), uuid)
            )
        for uuid, device_hash, resolution in settled:
            if uuid in theirs:
                device_hash = state_hash(theirs[uuid])
            cur = conn.execute(
                "UPDATE device_sync_state SET state = 'synced', message = ? WHERE interview_uuid = ?"
                " AND pushed_hash = ? AND state = 'conflict'",
                (f"conflict resolved on the server: kept {resolution}", uuid, device_hash),
            )
            report.resolved += max(cur.rowcount, 0)
        conn.execute("UPDATE device_link SET last_sync_at = ? WHERE id = 1", (now(),))
    report.versions, report.assigned_new, report.released, report.quota_cells = (
        len(versions),
        len(new),
        len(gone),
        len(quota),
    )
    return report


def device_status(device: Store) -> dict[str, int]:
    """How many of the device's interviews are confirmed, in conflict, refused or waiting to be pushed."""
    states, pending = changed_interviews(device)
    out = {"total": len(states), "waiting": len(pending)}
    for r in device.query("SELECT state, COUNT(*) FROM device_sync_state GROUP BY state"):
        out[str(r[0])] = int(r[1])
    return out
