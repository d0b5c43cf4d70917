"""The store interface both backends share: the study's records, written the same way on SQLite and PostgreSQL.

A backend provides the plumbing (`transaction`, `query`, `read_frame`, `lock`, schema checks); everything a
feature calls (publish, start, save an answer, audit, paradata) is written once here in portable SQL with `?`
placeholders, which the PostgreSQL connection translates. Feature modules use the same two calls:
`store.transaction()` yields a connection with `execute`/`executemany` (cursors with `fetchone`, `fetchall`,
`rowcount`, `lastrowid`), and `store.query` returns rows readable by position and by column name.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Generator, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from survey_tui.core.store.schema import INTERVIEW_MODES, INTERVIEW_STATUSES, OUTCOMES
from survey_tui.i18n import _

if TYPE_CHECKING:
    import polars as pl

#: the environment variable naming a study's PostgreSQL server (wins over `store:` in study.yaml)
DATABASE_URL_ENV = "SURVEY_TUI_DATABASE_URL"


#: `store: embedded` in study.yaml: this folder's own survey.db, whatever SURVEY_TUI_DATABASE_URL says (a
#: laptop's checkout is written so, or an interviewer whose shell names the team's server would capture
#: straight into the server instead of into the laptop's copy)
EMBEDDED = "embedded"


def validate_store_setting(value: str | None) -> str | None:
    """`store:` in study.yaml: a PostgreSQL URL without a password, or `embedded` (ValueError says why not)."""
    from urllib.parse import parse_qsl, urlsplit

    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if text == EMBEDDED:
        return text
    parts = urlsplit(text)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(
            _(
                "store must be a PostgreSQL URL such as postgresql://amy@db.example.org/brand_study (or leave it out, "
                "or write 'embedded', for the study's own survey.db)"
            )
        )
    if parts.password or any(k == "password" for k, _value in parse_qsl(parts.query)):
        raise ValueError(
            _(
                "a password does not belong in study.yaml (it is shared and kept in version control); remove it from "
                "the URL and put it in your libpq password file (~/.pgpass) or service file (~/.pg_service.conf)"
            )
        )
    return text


def server_url(configured: str | None) -> str | None:
    """The study's server: SURVEY_TUI_DATABASE_URL, else `store:` from study.yaml, else None (embedded); and
    None whatever the environment says for `store: embedded`."""
    if configured == EMBEDDED:
        return None
    return os.environ.get(DATABASE_URL_ENV) or configured or None


class StoreError(Exception):
    """A store problem said in words a researcher can act on."""


class StoreUnavailable(StoreError):
    """The study server cannot be reached right now (gone mid-write, or not answering): nothing was stored,
    and the same step can be given again once it is back."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def encode(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def decode(text: str | None) -> Any:
    return None if text is None else json.loads(text)


@dataclass(frozen=True)
class InstrumentVersion:
    id: int
    instrument_id: str
    version: int
    source: str
    sha256: str
    published_at: str
    note: str | None


@dataclass(frozen=True)
class InterviewRow:
    id: int
    uuid: str
    instrument_version_id: int
    respondent_id: str | None
    mode: str
    interviewer: str | None
    device: str | None
    language: str | None
    status: str
    outcome: str | None
    started_at: str
    ended_at: str | None
    current_question: str | None
    path: list[str]


@dataclass(frozen=True)
class StoredAnswer:
    value: Any
    special: str | None


class StoreBase:
    """What every backend offers; the record-keeping methods below are shared, the plumbing is per backend."""

    #: "sqlite" or "postgresql", for the few callers that tune a backend (cache sizes, vacuum)
    dialect: str = ""
    readonly: bool = False

    # -- plumbing each backend provides ---------------------------------------------------------
    def transaction(self, *, durable: bool = True) -> AbstractContextManager[Any]:
        """One write transaction (nested uses join the outer one). `durable=False` is for writes whose loss in a
        power cut only undoes a hint, such as a call-queue lease: the commit does not wait for the disk
        (SQLite: synchronous=NORMAL for that commit; PostgreSQL: synchronous_commit off for that transaction).
        It is still atomic and crash-consistent; a nested use keeps the outer transaction's setting."""
        raise NotImplementedError

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[Any]:
        raise NotImplementedError

    def read_frame(self, sql: str, params: tuple[Any, ...], schema: Mapping[str, Any]) -> pl.DataFrame:
        """A query's result as a polars frame with `schema`, moved in bulk (see `read_frames`)."""
        frames = self.read_frames(sql, [params], schema)
        try:
            return next(frames)
        finally:
            frames.close()

    def read_frames(
        self, sql: str, params: Iterable[tuple[Any, ...]], schema: Mapping[str, Any]
    ) -> Generator[pl.DataFrame]:
        """The query once per parameter tuple, on one connection, each result as a frame (Arrow columns where
        the driver allows): many small reads (one question's answers at a time) without a connection each."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    @property
    def in_transaction(self) -> bool:
        raise NotImplementedError

    @property
    def schema_version(self) -> int:
        raise NotImplementedError

    def integrity_check(self) -> str:
        raise NotImplementedError

    def erase_traces(self) -> bool:
        raise NotImplementedError

    def may_read(self, table: str) -> bool:
        """Whether this connection may read `table` at all (a server's roles may not: an analyst never reads
        contact data). The embedded store has no roles."""
        return True

    def tables(self) -> list[str]:
        """The study's tables (features that must cover every table keyed to an interview use it)."""
        raise NotImplementedError

    def columns(self, table: str) -> list[str]:
        raise NotImplementedError

    def lock(self, name: str) -> None:
        """Serialise writers on `name` until this transaction ends (SQLite writers are serialised anyway)."""
        raise NotImplementedError

    def lock_row(self, table: str, key: str) -> None:
        """Hold one row of `table` (by primary key `id`) until this transaction ends, so two writers that
        check and then change it queue instead of both passing the check."""
        raise NotImplementedError

    @property
    def skip_locked(self) -> str:
        """The clause that makes a SELECT take row leases, skipping rows another transaction holds."""
        return ""

    @property
    def where(self) -> str:
        """Where the study's data lives, for messages (a file path or a server without its password)."""
        raise NotImplementedError

    def __enter__(self) -> StoreBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- instrument versions ---------------------------------------------------------------------
    def publish_instrument(self, instrument_id: str, source: str, note: str | None = None) -> InstrumentVersion:
        """Freeze the exact text as the next version; publishing identical text again returns the latest."""
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
        with self.transaction() as conn:
            latest = self.latest_version(instrument_id)
            if latest is not None and latest.sha256 == digest:
                return latest
            number = 1 if latest is None else latest.version + 1
            conn.execute(
                "INSERT INTO instrument_versions (instrument_id, version, source, sha256, published_at, note)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (instrument_id, number, source, digest, now(), note),
            )
        version = self.latest_version(instrument_id)
        assert version is not None
        return version

    def _version(self, row: Any) -> InstrumentVersion | None:
        return None if row is None else InstrumentVersion(*row)

    def latest_version(self, instrument_id: str) -> InstrumentVersion | None:
        rows = self.query(
            "SELECT id, instrument_id, version, source, sha256, published_at, note FROM instrument_versions"
            " WHERE instrument_id = ? ORDER BY version DESC LIMIT 1",
            (instrument_id,),
        )
        return self._version(rows[0] if rows else None)

    def version_by_id(self, version_id: int) -> InstrumentVersion:
        rows = self.query(
            "SELECT id, instrument_id, version, source, sha256, published_at, note FROM instrument_versions"
            " WHERE id = ?",
            (version_id,),
        )
        if not rows:
            raise StoreError(_("no instrument version with id {id}").format(id=version_id))
        version = self._version(rows[0])
        assert version is not None
        return version

    def versions(self, instrument_id: str | None = None) -> list[InstrumentVersion]:
        sql = "SELECT id, instrument_id, version, source, sha256, published_at, note FROM instrument_versions"
        params: tuple[Any, ...] = ()
        if instrument_id is not None:
            sql += " WHERE instrument_id = ?"
            params = (instrument_id,)
        return [InstrumentVersion(*r) for r in self.query(sql + " ORDER BY instrument_id, version", params)]

    # -- interviews ------------------------------------------------------------------------------
    def start_interview(
        self,
        instrument_version_id: int,
        mode: str = "field",
        interviewer: str | None = None,
        respondent_id: str | None = None,
        language: str | None = None,
        started_at: str | None = None,
    ) -> InterviewRow:
        if mode not in INTERVIEW_MODES:
            raise StoreError(
                _("unknown interview mode {mode!r}; use one of {modes}").format(
                    mode=mode, modes=", ".join(INTERVIEW_MODES)
                )
            )
        import socket  # (here: reading study.yaml imports this module, and neither is needed for it)
        import uuid

        key = str(uuid.uuid4())
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO interviews (uuid, instrument_version_id, respondent_id, mode, interviewer, device,"
                " language, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    instrument_version_id,
                    respondent_id,
                    mode,
                    interviewer,
                    socket.gethostname(),
                    language,
                    started_at or now(),
                ),
            )
            interview_id = int(cur.lastrowid or 0)
            self.log_event(interview_id, "start", None, None, at=started_at)
        return self.interview(interview_id)

    def interview(self, interview_id: int) -> InterviewRow:
        rows = self.query("SELECT * FROM interviews WHERE id = ?", (interview_id,))
        if not rows:
            raise StoreError(_("no interview {id}").format(id=interview_id))
        return _interview(rows[0])

    def interviews(self, mode: str | None = None, status: str | None = None) -> list[InterviewRow]:
        sql, params = "SELECT * FROM interviews WHERE 1=1", []
        if mode:
            sql += " AND mode = ?"
            params.append(mode)
        if status:
            sql += " AND status = ?"
            params.append(status)
        return [_interview(r) for r in self.query(sql + " ORDER BY id", tuple(params))]

    def interview_counts(self) -> list[tuple[str, str, str | None, int]]:
        """(mode, status, outcome, count) for the dashboard."""
        rows = self.query(
            "SELECT mode, status, outcome, COUNT(*) FROM interviews GROUP BY mode, status, outcome"
            " ORDER BY mode, status, outcome"
        )
        return [(r[0], r[1], r[2], int(r[3])) for r in rows]

    def set_position(self, interview_id: int, current: str | None, path: list[str]) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE interviews SET current_question = ?, path = ? WHERE id = ?",
                (current, encode(path), interview_id),
            )

    def finish_interview(
        self, interview_id: int, status: str, outcome: str | None, ended_at: str | None = None
    ) -> None:
        if status not in INTERVIEW_STATUSES:
            raise StoreError(f"unknown interview status {status!r}")
        if outcome is not None and outcome not in OUTCOMES:
            raise StoreError(f"unknown interview outcome {outcome!r}")
        with self.transaction() as conn:
            conn.execute(
                "UPDATE interviews SET status = ?, outcome = ?, ended_at = ? WHERE id = ?",
                (status, outcome, ended_at or now(), interview_id),
            )
            self.log_event(interview_id, "end", None, outcome or status, at=ended_at)

    def suspend_interview(self, interview_id: int) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE interviews SET status = 'suspended' WHERE id = ?", (interview_id,))
            self.log_event(interview_id, "suspend", None, None)

    def resume_interview(self, interview_id: int) -> None:
        """Only a suspended interview resumes; an ended one must be reopened on purpose."""
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE interviews SET status = 'in_progress' WHERE id = ? AND status IN ('suspended', 'in_progress')",
                (interview_id,),
            )
            if cur.rowcount != 1:
                raise StoreError(_("interview {id} has ended; it cannot be resumed").format(id=interview_id))
            self.log_event(interview_id, "resume", None, None)

    def reopen_interview(self, interview_id: int, at: str | None = None) -> None:
        """An ended interview goes on (the interviewer went back over a mistyped screener answer)."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE interviews SET status = 'in_progress', outcome = NULL, ended_at = NULL WHERE id = ?",
                (interview_id,),
            )
            self.log_event(interview_id, "reopen", None, None, at=at)

    # -- answers ---------------------------------------------------------------------------------
    def answers(self, interview_id: int) -> dict[str, StoredAnswer]:
        rows = self.query("SELECT question, value, special FROM answers WHERE interview_id = ?", (interview_id,))
        return {r[0]: StoredAnswer(decode(r[1]), r[2]) for r in rows}

    def save_answer(
        self,
        interview_id: int,
        question: str,
        value: Any,
        special: str | None,
        actor: str | None = None,
        action: str | None = None,
        at: str | None = None,
    ) -> bool:
        """Upsert one answer and audit the change; returns False when nothing changed."""
        stamp = at or now()
        new_value = encode(value)
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT value, special FROM answers WHERE interview_id = ? AND question = ?",
                (interview_id, question),
            ).fetchone()
            if row is not None and row[0] == new_value and row[1] == special:
                return False
            conn.execute(
                "INSERT INTO answers (interview_id, question, value, special, answered_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (interview_id, question) DO UPDATE SET value = excluded.value,"
                " special = excluded.special, answered_at = excluded.answered_at",
                (interview_id, question, new_value, special, stamp),
            )
            conn.execute(
                "INSERT INTO audit_log (interview_id, question, action, old_value, old_special, new_value,"
                " new_special, at, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    interview_id,
                    question,
                    action or ("answered" if row is None else "changed"),
                    None if row is None else row[0],
                    None if row is None else row[1],
                    new_value,
                    special,
                    stamp,
                    actor,
                ),
            )
        return True

    def clear_answer(
        self, interview_id: int, question: str, reason: str, actor: str | None = None, at: str | None = None
    ) -> bool:
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT value, special FROM answers WHERE interview_id = ? AND question = ?",
                (interview_id, question),
            ).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM answers WHERE interview_id = ? AND question = ?", (interview_id, question))
            conn.execute(
                "INSERT INTO audit_log (interview_id, question, action, old_value, old_special, at, actor)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (interview_id, question, reason, row[0], row[1], at or now(), actor),
            )
        return True

    def audit(self, interview_id: int) -> list[Any]:
        return self.query("SELECT * FROM audit_log WHERE interview_id = ? ORDER BY id", (interview_id,))

    def log_event(
        self, interview_id: int, kind: str, question: str | None, detail: str | None, at: str | None = None
    ) -> None:
        """Paradata: what happened on screen and when (time per question, going back, notes)."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO interview_events (interview_id, at, kind, question, detail) VALUES (?, ?, ?, ?, ?)",
                (interview_id, at or now(), kind, question, detail),
            )

    def events(self, interview_id: int) -> list[Any]:
        return self.query("SELECT * FROM interview_events WHERE interview_id = ? ORDER BY id", (interview_id,))


def _interview(row: Any) -> InterviewRow:
    data = dict(row)
    data["path"] = decode(data["path"]) or []
    return InterviewRow(**data)
