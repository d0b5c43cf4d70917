"""The study's SQLite store: answers that must survive a crash.

Every accepted answer is its own transaction (WAL, synchronous=FULL), so an answer the interviewer saw
accepted is on disk even if the machine dies the next instant. Write transactions start with
BEGIN IMMEDIATE so two capturing processes queue on the busy timeout instead of failing with
"database is locked". Contact data sits in its own table and nothing here joins it into answers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sqlite3
import threading
import time
import uuid as uuidlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from survey_tui.core.atomic import write_text_atomic
from survey_tui.core.cache import cache_dir

if TYPE_CHECKING:
    import polars as pl

BUSY_TIMEOUT_MS = 30_000

INTERVIEW_MODES = ("field", "pilot", "test")
INTERVIEW_STATUSES = ("in_progress", "suspended", "completed", "terminated")
OUTCOMES = ("complete", "break_off", "screened_out", "quota_full")

#: Forward migrations: MIGRATIONS[i] takes the schema from version i to i+1 (PRAGMA user_version).
MIGRATIONS: list[str] = [
    """
    CREATE TABLE instrument_versions (
        id INTEGER PRIMARY KEY,
        instrument_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        source TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        published_at TEXT NOT NULL,
        note TEXT,
        UNIQUE (instrument_id, version)
    );
    CREATE TRIGGER instrument_versions_no_update BEFORE UPDATE ON instrument_versions
    BEGIN SELECT RAISE(ABORT, 'published instrument versions are immutable'); END;
    CREATE TRIGGER instrument_versions_no_delete BEFORE DELETE ON instrument_versions
    BEGIN SELECT RAISE(ABORT, 'published instrument versions are immutable'); END;

    CREATE TABLE respondents (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        attributes TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL DEFAULT 'new',
        interviewer TEXT,
        eligible INTEGER,
        eligibility_reason TEXT
    );
    CREATE TABLE respondent_contacts (
        respondent_id TEXT PRIMARY KEY REFERENCES respondents(id) ON DELETE CASCADE,
        name TEXT,
        phone TEXT,
        email TEXT,
        address TEXT
    );

    CREATE TABLE interviews (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        instrument_version_id INTEGER NOT NULL REFERENCES instrument_versions(id),
        respondent_id TEXT REFERENCES respondents(id),
        mode TEXT NOT NULL CHECK (mode IN ('field', 'pilot', 'test')),
        interviewer TEXT,
        device TEXT,
        language TEXT,
        status TEXT NOT NULL DEFAULT 'in_progress'
            CHECK (status IN ('in_progress', 'suspended', 'completed', 'terminated')),
        outcome TEXT CHECK (outcome IN ('complete', 'break_off', 'screened_out', 'quota_full')),
        started_at TEXT NOT NULL,
        ended_at TEXT,
        current_question TEXT,
        path TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX interviews_by_state ON interviews (mode, status);

    CREATE TABLE answers (
        interview_id INTEGER NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
        question TEXT NOT NULL,
        value TEXT,
        special TEXT CHECK (special IN ('dont_know', 'refused')),
        answered_at TEXT NOT NULL,
        PRIMARY KEY (interview_id, question)
    ) WITHOUT ROWID;

    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        interview_id INTEGER NOT NULL,
        question TEXT NOT NULL,
        action TEXT NOT NULL,
        old_value TEXT,
        old_special TEXT,
        new_value TEXT,
        new_special TEXT,
        at TEXT NOT NULL,
        actor TEXT
    );
    CREATE INDEX audit_by_interview ON audit_log (interview_id);

    CREATE TABLE interview_events (
        id INTEGER PRIMARY KEY,
        interview_id INTEGER NOT NULL,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        question TEXT,
        detail TEXT
    );
    CREATE INDEX events_by_interview ON interview_events (interview_id);
    """,
    # T1.5 analysis: quality decisions (latest per interview wins; history kept) and open-end codes.
    """
    CREATE TABLE quality_decisions (
        id INTEGER PRIMARY KEY,
        interview_id INTEGER NOT NULL REFERENCES interviews(id),
        decision TEXT NOT NULL CHECK (decision IN ('exclude', 'keep')),
        reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
        flags TEXT,
        at TEXT NOT NULL,
        actor TEXT
    );
    CREATE INDEX quality_decisions_by_interview ON quality_decisions (interview_id, id);

    CREATE TABLE open_end_codes (
        interview_id INTEGER NOT NULL REFERENCES interviews(id),
        question TEXT NOT NULL,
        codes TEXT NOT NULL,
        coder TEXT,
        coded_at TEXT NOT NULL,
        PRIMARY KEY (interview_id, question)
    ) WITHOUT ROWID;
    """,
    # T1.3 respondents: recruitment lifecycle, consent and erasure (SQL lives in core/fieldwork/respondents.py).
    """
    ALTER TABLE respondents ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE respondents ADD COLUMN next_appointment TEXT;
    ALTER TABLE respondents ADD COLUMN updated_at TEXT;
    ALTER TABLE respondents ADD COLUMN source TEXT;
    CREATE INDEX respondents_by_status ON respondents (status);
    CREATE INDEX respondents_by_interviewer ON respondents (interviewer, next_appointment);
    CREATE INDEX respondents_by_appointment ON respondents (next_appointment);
    CREATE INDEX respondent_contacts_by_phone ON respondent_contacts (phone);
    CREATE INDEX respondent_contacts_by_email ON respondent_contacts (email);
    CREATE INDEX interviews_by_respondent ON interviews (respondent_id);

    CREATE TABLE respondent_status_history (
        id INTEGER PRIMARY KEY,
        respondent_id TEXT NOT NULL REFERENCES respondents(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        old_status TEXT,
        new_status TEXT NOT NULL,
        interviewer TEXT,
        note TEXT
    );
    CREATE INDEX status_history_by_respondent ON respondent_status_history (respondent_id, id);

    CREATE TABLE contact_attempts (
        id INTEGER PRIMARY KEY,
        respondent_id TEXT NOT NULL REFERENCES respondents(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        interviewer TEXT,
        result TEXT NOT NULL,
        note TEXT
    );
    CREATE INDEX attempts_by_respondent ON contact_attempts (respondent_id);

    CREATE TABLE appointments (
        id INTEGER PRIMARY KEY,
        respondent_id TEXT NOT NULL REFERENCES respondents(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        interviewer TEXT,
        note TEXT
    );
    CREATE INDEX appointments_by_respondent ON appointments (respondent_id);

    CREATE TABLE consent_records (
        id INTEGER PRIMARY KEY,
        respondent_id TEXT NOT NULL REFERENCES respondents(id) ON DELETE CASCADE,
        given INTEGER NOT NULL CHECK (given IN (0, 1)),
        at TEXT NOT NULL,
        wording_version TEXT NOT NULL,
        interviewer TEXT
    );
    CREATE INDEX consent_by_respondent ON consent_records (respondent_id, id);

    CREATE TABLE erasure_log (
        id INTEGER PRIMARY KEY,
        respondent_id TEXT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT,
        contacts_erased INTEGER NOT NULL,
        interviews INTEGER NOT NULL,
        answers_deleted INTEGER NOT NULL,
        note TEXT
    );

    CREATE TABLE contact_imports (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        source TEXT NOT NULL,
        encoding TEXT,
        rule TEXT NOT NULL,
        rows INTEGER NOT NULL,
        imported INTEGER NOT NULL,
        merged INTEGER NOT NULL,
        skipped INTEGER NOT NULL,
        bad INTEGER NOT NULL
    );
    """,
    # T1.3 x T1.4: a consent record names the interview it was asked in (so a resumed interview knows it).
    """
    ALTER TABLE consent_records ADD COLUMN interview_id INTEGER REFERENCES interviews(id) ON DELETE SET NULL;
    CREATE INDEX consent_by_interview ON consent_records (interview_id);
    """,
    # Published versions cannot be replaced (INSERT OR REPLACE skips the delete trigger, so inserts over an
    # existing version are refused too), and audit rows cannot be rewritten. (They can be deleted: a
    # respondent who withdraws may have their answers erased, and the erasure itself is logged.)
    """
    CREATE TRIGGER instrument_versions_no_replace BEFORE INSERT ON instrument_versions
    WHEN EXISTS (SELECT 1 FROM instrument_versions WHERE id = NEW.id
                 OR (instrument_id = NEW.instrument_id AND version = NEW.version))
    BEGIN SELECT RAISE(ABORT, 'published instrument versions are immutable'); END;
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
    # Personal fields beyond name/phone/e-mail/address (national ID, LINE id, birthday, notes, and any column
    # not confirmed as non-identifying) live with the contact data, as one JSON object, never in attributes.
    """
    ALTER TABLE respondent_contacts ADD COLUMN personal TEXT;
    """,
    # PDPA on record (SQL in fieldwork/privacy.py): data-subject requests with their due dates, and retention purges.
    """
    CREATE TABLE data_subject_requests (
        id INTEGER PRIMARY KEY,
        respondent_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('inquiry', 'copy', 'correction', 'stop', 'deletion')),
        received_on TEXT NOT NULL,
        due_on TEXT NOT NULL,
        outcome TEXT CHECK (outcome IN ('done', 'refused', 'extended')),
        closed_at TEXT,
        note TEXT,
        logged_at TEXT NOT NULL
    );
    CREATE TABLE retention_purges (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        retention_until TEXT NOT NULL,
        contacts_erased INTEGER NOT NULL,
        actor TEXT
    );
    """,
    # Offline laptops (SQL in core/store/sync.py): the study's identity, a device's link to its server and what
    # it has pushed, the server's receipts and conflicts, the quota counts a device last pulled, and an origin
    # key on every pushed log row so a re-sent row is recognised and never stored twice.
    """
    CREATE TABLE study_meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE device_link (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        study_id TEXT NOT NULL,
        server TEXT NOT NULL,
        interviewer TEXT NOT NULL,
        device_id TEXT NOT NULL,
        checked_out_at TEXT NOT NULL,
        last_sync_at TEXT,
        quota_state_at TEXT
    );
    CREATE TABLE device_sync_state (
        interview_uuid TEXT PRIMARY KEY,
        pushed_hash TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('synced', 'conflict', 'refused')),
        message TEXT,
        synced_at TEXT NOT NULL
    );
    CREATE TABLE device_push_marks (
        log TEXT PRIMARY KEY,
        last_id INTEGER NOT NULL
    );
    CREATE TABLE device_quota_state (
        quota TEXT NOT NULL,
        cell TEXT NOT NULL,
        target INTEGER,
        completes INTEGER NOT NULL,
        PRIMARY KEY (quota, cell)
    );
    CREATE TABLE sync_receipts (
        interview_uuid TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        device_id TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (interview_uuid, content_hash)
    );
    CREATE TABLE sync_conflicts (
        id INTEGER PRIMARY KEY,
        interview_uuid TEXT NOT NULL,
        device_id TEXT NOT NULL,
        interviewer TEXT,
        device_hash TEXT NOT NULL,
        server_hash TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL,
        resolution TEXT CHECK (resolution IN ('server', 'device')),
        resolved_at TEXT,
        resolved_by TEXT,
        UNIQUE (interview_uuid, device_hash)
    );
    CREATE INDEX sync_conflicts_open ON sync_conflicts (resolution, id);
    ALTER TABLE audit_log ADD COLUMN origin TEXT;
    CREATE UNIQUE INDEX audit_log_by_origin ON audit_log (origin);
    ALTER TABLE interview_events ADD COLUMN origin TEXT;
    CREATE UNIQUE INDEX interview_events_by_origin ON interview_events (origin);
    ALTER TABLE consent_records ADD COLUMN origin TEXT;
    CREATE UNIQUE INDEX consent_records_by_origin ON consent_records (origin);
    ALTER TABLE respondent_status_history ADD COLUMN origin TEXT;
    CREATE UNIQUE INDEX status_history_by_origin ON respondent_status_history (origin);
    ALTER TABLE contact_attempts ADD COLUMN origin TEXT;
    CREATE UNIQUE INDEX contact_attempts_by_origin ON contact_attempts (origin);
    """,
    # Contact data encrypted at rest (the crypto and the data step live in fieldwork/respondents.py and
    # fieldwork/contact_crypto.py): each contact row becomes one sealed blob, phone and e-mail are found by
    # keyed hashes, and the study's key id and fingerprint are recorded (the key itself never is). The old
    # plaintext columns stay (NULL once sealed); their indexes go, so no index page keeps a plaintext copy.
    """
    ALTER TABLE respondent_contacts ADD COLUMN sealed BLOB;
    ALTER TABLE respondent_contacts ADD COLUMN phone_key TEXT;
    ALTER TABLE respondent_contacts ADD COLUMN email_key TEXT;
    DROP INDEX respondent_contacts_by_phone;
    DROP INDEX respondent_contacts_by_email;
    CREATE INDEX respondent_contacts_by_phone_key ON respondent_contacts (phone_key);
    CREATE INDEX respondent_contacts_by_email_key ON respondent_contacts (email_key);
    CREATE INDEX respondent_contacts_unsealed ON respondent_contacts (respondent_id) WHERE sealed IS NULL;
    CREATE TABLE contact_keys (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        study_key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        created_at TEXT NOT NULL,
        rotated_at TEXT
    );
    """,
    # T1.3 P1.3.3 telephone case management (SQL in fieldwork/dispositions.py, call_queue.py, backchecks.py):
    # each call's outcome and AAPOR code, the final disposition, the queue's state and lease, back-checks.
    # Times are UTC ISO text; '' (not NULL) means "none" where the queue sorts or compares, so the order is
    # the same on every backend.
    """
    ALTER TABLE contact_attempts ADD COLUMN outcome TEXT;
    ALTER TABLE contact_attempts ADD COLUMN aapor TEXT;
    ALTER TABLE contact_attempts ADD COLUMN started_at TEXT;
    ALTER TABLE appointments ADD COLUMN kind TEXT;
    ALTER TABLE respondents ADD COLUMN disposition TEXT;
    ALTER TABLE respondents ADD COLUMN disposition_outcome TEXT;
    ALTER TABLE respondents ADD COLUMN disposition_at TEXT;
    ALTER TABLE respondents ADD COLUMN disposition_by TEXT;
    ALTER TABLE respondents ADD COLUMN call_state TEXT NOT NULL DEFAULT 'open';
    ALTER TABLE respondents ADD COLUMN next_call_at TEXT NOT NULL DEFAULT '';
    ALTER TABLE respondents ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE respondents ADD COLUMN lease_holder TEXT;
    ALTER TABLE respondents ADD COLUMN lease_until TEXT NOT NULL DEFAULT '';
    ALTER TABLE respondents ADD COLUMN lease_at TEXT;
    ALTER TABLE respondents ADD COLUMN appointment_due TEXT NOT NULL DEFAULT '';
    ALTER TABLE respondents ADD COLUMN appointment_kind TEXT;
    ALTER TABLE respondents ADD COLUMN timezone TEXT;
    CREATE INDEX respondents_call_queue ON respondents (call_state, priority DESC, attempts, next_call_at, id);
    CREATE INDEX respondents_due_appointments ON respondents (call_state, appointment_kind, appointment_due);
    CREATE INDEX respondents_by_lease ON respondents (lease_until, lease_holder);
    CREATE INDEX attempts_by_interviewer ON contact_attempts (interviewer, at);

    CREATE TABLE backcheck_samples (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        seed INTEGER NOT NULL,
        share REAL NOT NULL,
        actor TEXT
    );
    CREATE TABLE backchecks (
        id INTEGER PRIMARY KEY,
        sample_id INTEGER NOT NULL REFERENCES backcheck_samples(id),
        interview_id INTEGER NOT NULL UNIQUE REFERENCES interviews(id),
        interviewer TEXT,
        outcome TEXT CHECK (outcome IN ('confirmed', 'not_confirmed', 'not_reached')),
        checked_at TEXT,
        checker TEXT,
        note TEXT
    );
    """,
]


class StoreError(Exception):
    """A store problem said in words a researcher can act on."""


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


RESTORE_HINT = (
    "it was left exactly as it is; restore survey.db (and survey.db-wal if the backup has one) from your latest "
    "backup while no survey-tui runs, or ask for help with 'sqlite3 survey.db .recover'"
)


def _create_private(path: Path) -> None:
    """Make an existing database file owner-only (it may hold personal data)."""
    st = path.stat()
    if st.st_mode & 0o077 and st.st_uid == os.getuid():
        os.chmod(path, st.st_mode & 0o700)


def _writable(path: Path) -> bool:
    """Can this process write the database and the files SQLite keeps beside it (-wal, -shm)?"""
    folder = path.parent if path.parent != Path("") else Path(".")
    return os.access(folder, os.W_OK | os.X_OK) and (not path.exists() or os.access(path, os.W_OK))


_EXPECTED: dict[tuple[str, ...], dict[str, set[str]]] = {}


def _expected_schema(migrations: list[str]) -> dict[str, set[str]]:
    """table -> columns after every migration (built once in memory), to check an opened file against."""
    key = tuple(migrations)
    if key not in _EXPECTED:
        conn = sqlite3.connect(":memory:")
        try:
            for script in migrations:
                for statement in _split_sql(script):
                    conn.execute(statement)
            _EXPECTED[key] = _schema_of(conn)
        finally:
            conn.close()
    return _EXPECTED[key]


def _schema_of(conn: sqlite3.Connection) -> dict[str, set[str]]:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: {c[1] for c in conn.execute(f"PRAGMA table_info({t})")} for t in tables}


#: below this size the plain sqlite3 read is faster than importing the ADBC driver (pyarrow.dataset and
#: pandas come with it: 0.4 s on a small machine, against 10 ms to read a 3 MB study's answers)
ADBC_MIN_BYTES = 32 * 1024 * 1024


def _read_frame_adbc(path: Path, sql: str, params: tuple[Any, ...]) -> pl.DataFrame | None:
    """The result through ADBC, or None when the driver is not installed (the caller falls back)."""
    try:
        import adbc_driver_sqlite.dbapi as adbc
    except ImportError:
        return None
    import polars as pl

    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        with adbc.connect(uri) as conn, conn.cursor() as cur:
            # One batch for the whole result, so column types are inferred from every row: with the default
            # 1,024-row batches a column that is NULL at first and text later (`special`) fails as a mismatch.
            cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(1 << 30)})
            cur.execute(sql, params)
            return pl.DataFrame(cur.fetch_arrow())
    except adbc.Error:  # e.g. a database it cannot open read-only: the sqlite3 path reads it the slow way
        return None


class Store:
    """One connection to a study's `survey.db`; safe to share between threads (calls are serialised).

    Opening checks the file before anything is written to it: a 0-byte file where a database was expected, a
    folder, a file that fails `PRAGMA quick_check` or lacks the expected tables is refused with a StoreError
    saying how to restore it, and is never written to or replaced. A file or folder this process cannot write
    opens read-only: reading, listing and exporting elsewhere work; any write says the study is read-only.
    Deleted content is overwritten (`secure_delete`), so an erasure leaves no bytes in free space.
    """

    def __init__(self, path: Path, migrations: list[str] | None = None, *, readonly: bool | None = None) -> None:
        self.path = Path(path)
        self._migrations = MIGRATIONS if migrations is None else migrations
        self._lock = threading.RLock()
        self._depth = 0
        self._check_file()
        self.readonly = bool(readonly) or not _writable(self.path)
        if not self.path.exists():
            if self.readonly:
                raise StoreError(f"{self.path}: cannot create the study database here (the folder is read-only)")
            self._create_new()
        elif not self.readonly:
            _create_private(self.path)
        try:
            self._conn = self._connect()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a usable survey database ({exc}); {RESTORE_HINT}") from exc
        try:
            self._check_contents()
            current = self.schema_version
            if current <= len(self._migrations):
                self._check_schema(current)  # before the first write (switching to WAL writes the header)
            if not self.readonly:
                mode = self._set_wal()
                if mode.lower() != "wal":
                    raise StoreError(f"{self.path}: cannot switch to WAL journaling (got {mode})")
                self._conn.execute("PRAGMA synchronous = FULL")
            self._migrate()
            self._check_schema()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StoreError(f"{self.path}: not a usable survey database ({exc}); {RESTORE_HINT}") from exc
        except BaseException:
            self._conn.close()
            raise

    def _check_file(self) -> None:
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not the study database; move it away or restore survey.db")
        if self.path.exists() and self.path.stat().st_size == 0:
            wal = Path(f"{self.path}-wal")
            extra = f" ({wal.name} beside it holds {wal.stat().st_size} bytes)" if wal.exists() else ""
            raise StoreError(
                f"{self.path}: the study database is empty (0 bytes){extra}, but a study database was expected "
                f"(a new one is never left empty); {RESTORE_HINT}"
            )

    def _create_new(self) -> None:
        """Build the schema in a private temporary file and link it into place, so a half-made or 0-byte
        survey.db is never seen (and an empty one can always be refused as damaged)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{uuidlib.uuid4().hex}.new")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        os.close(fd)
        try:
            conn = sqlite3.connect(tmp, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("BEGIN IMMEDIATE")
                for version, script in enumerate(self._migrations):
                    for statement in _split_sql(script):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {version + 1}")
                conn.execute("COMMIT")
            finally:
                conn.close()
            try:
                os.link(tmp, self.path)  # fails if another process made it first: theirs is as good
            except FileExistsError:
                pass
            except OSError:  # a file system without hard links
                if not self.path.exists():
                    os.replace(tmp, self.path)
        finally:
            for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                leftover.unlink(missing_ok=True)

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            wal, shm = Path(f"{self.path}-wal"), Path(f"{self.path}-shm")
            folder_ok = os.access(self.path.parent, os.W_OK)
            # SQLite reads a WAL database read-only only if it can use -shm; in a read-only folder without
            # one nobody can be writing, so the file is opened as immutable
            flags = "mode=ro" if folder_ok or (wal.exists() and shm.exists()) else "mode=ro&immutable=1"
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?{flags}",
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        else:
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _check_contents(self) -> None:
        """quick_check before anything is written: a damaged file is refused, never made worse.

        The check reads every page (1.5 s for a 740 MB tracker), so a file already checked clean and not
        changed since (same inode, size and modification time of the database and its WAL) is not checked
        again: the fingerprint of the last clean check is kept in the user's cache, never in the study.
        """
        marker = cache_dir("checked") / hashlib.sha256(str(self.path.resolve()).encode()).hexdigest()
        fingerprint = self._fingerprint()
        with contextlib.suppress(OSError):
            if marker.read_text(encoding="ascii") == fingerprint:
                return
        rows = [line for r in self._conn.execute("PRAGMA quick_check(5)") for line in str(r[0]).splitlines()]
        if rows != ["ok"]:
            raise StoreError(f"{self.path}: the study database is damaged ({'; '.join(rows)}); {RESTORE_HINT}")
        with contextlib.suppress(OSError):  # no cache (read-only home): the next open checks again
            marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_text_atomic(marker, fingerprint)

    def _fingerprint(self) -> str:
        parts = []
        for path in (self.path, Path(f"{self.path}-wal")):
            try:
                st = path.stat()
            except FileNotFoundError:
                parts.append("-")
                continue
            parts.append(f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
        return "|".join(parts)

    def _check_schema(self, version: int | None = None) -> None:
        """The tables and columns the schema version promises are there (a foreign or mangled file is not
        migrated into a survey database); `version` defaults to the latest."""
        expected = _expected_schema(self._migrations[: len(self._migrations) if version is None else version])
        found = _schema_of(self._conn)
        if version == 0 and found:
            raise StoreError(
                f"{self.path}: holds tables of another program ({', '.join(sorted(found)[:3])}), not a survey "
                f"database; {RESTORE_HINT}"
            )
        missing = [t for t in expected if t not in found]
        short = [f"{t}.{c}" for t in expected if t in found for c in sorted(expected[t] - found[t])]
        if missing or short:
            raise StoreError(
                f"{self.path}: not the expected survey database (missing {', '.join((missing + short)[:5])}); "
                + RESTORE_HINT
            )

    def _set_wal(self) -> str:
        """Switching to WAL needs a moment alone with the file; another process opening it may hold it."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                return str(self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def erase_traces(self) -> bool:
        """After an erasure: copy the WAL into the database and truncate it, so the old page images (which
        still hold the erased values) are gone from survey.db-wal too. False if a reader kept it busy."""
        if self.readonly:
            return False
        deadline = time.monotonic() + 5
        with self._lock:
            while True:
                busy = int(self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0])
                if not busy or time.monotonic() > deadline:
                    return not busy
                time.sleep(0.05)

    # -- plumbing --------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        target = len(self._migrations)
        with self._lock:
            current = self.schema_version
            if current > target:
                raise StoreError(
                    f"{self.path} was written by a newer survey-tui (schema {current}, this one knows "
                    f"{target}); upgrade survey-tui to open it"
                )
            if current == target:
                return
            if self.readonly:
                raise StoreError(
                    f"{self.path} needs an upgrade (schema {current} -> {target}) but the study is read-only; "
                    "open it once where it can be written"
                )
            with self.transaction():
                current = self.schema_version  # another process may have migrated meanwhile
                for version in range(current, target):
                    for statement in _split_sql(self._migrations[version]):
                        self._conn.execute(statement)
                    self._conn.execute(f"PRAGMA user_version = {version + 1}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One durable write; nested uses join the outer transaction.

        A full disk, a read-only file or an I/O error rolls the whole write back and becomes a StoreError that
        says so: what was stored before stays as it was."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            if self.readonly:
                raise StoreError(f"{self.path}: the study is read-only here; nothing was changed")
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise _write_failure(self.path, exc) from exc
            self._depth = 1
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                self._rollback()
                raise _write_failure(self.path, exc) from exc
            except BaseException:
                self._rollback()
                raise
            finally:
                self._depth = 0

    def _rollback(self) -> None:
        if self._conn.in_transaction:  # SQLite may already have rolled back
            self._conn.execute("ROLLBACK")

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            cur = self._conn.execute(sql, params)
            cur.row_factory = sqlite3.Row
            return cur.fetchall()

    def read_frame(self, sql: str, params: tuple[Any, ...], schema: Mapping[str, Any]) -> pl.DataFrame:
        """A query's result as a polars frame with `schema`, moved in bulk rather than a Python object per value.

        Through ADBC's SQLite driver (Arrow columns straight from C, on a read-only connection of its own)
        when it is installed and this connection has no transaction open, since a second connection would
        not see uncommitted rows; else plain tuples into polars. 3 million answers: about 1 s against
        7 s through `query` (`sqlite3.Row` objects, then tuples, then a row-oriented frame).
        """
        import polars as pl

        with self._lock:
            if not self._conn.in_transaction and self.path.stat().st_size >= ADBC_MIN_BYTES:
                frame = _read_frame_adbc(self.path, sql, params)
                if frame is not None:
                    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())
            rows = self._conn.execute(sql, params).fetchall()
        return pl.DataFrame(rows, schema=dict(schema), orient="row")

    def integrity_check(self) -> str:
        return str(self.query("PRAGMA integrity_check")[0][0])

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

    def _version(self, row: sqlite3.Row | None) -> InstrumentVersion | None:
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
            raise StoreError(f"no instrument version with id {version_id}")
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
            raise StoreError(f"unknown interview mode {mode!r}; use one of {', '.join(INTERVIEW_MODES)}")
        key = str(uuidlib.uuid4())
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
            raise StoreError(f"no interview {interview_id}")
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
                raise StoreError(f"interview {interview_id} has ended; it cannot be resumed")
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

    def audit(self, interview_id: int) -> list[sqlite3.Row]:
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

    def events(self, interview_id: int) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM interview_events WHERE interview_id = ? ORDER BY id", (interview_id,))


def _write_failure(path: Path, exc: sqlite3.OperationalError) -> Exception:
    """The write failures a researcher can act on, in words; anything else stays as SQLite raised it."""
    text = str(exc)
    if "full" in text:
        return StoreError(f"{path}: the disk is full; the write was undone and everything stored before is kept")
    if "readonly" in text or "read-only" in text:
        return StoreError(f"{path}: the study database cannot be written here (read-only); nothing was changed")
    if "I/O" in text:
        return StoreError(f"{path}: the disk reported an error while writing; the write was undone ({text})")
    return exc


def _interview(row: sqlite3.Row) -> InterviewRow:
    data = dict(row)
    data["path"] = decode(data["path"]) or []
    return InterviewRow(**data)


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies (BEGIN ... END;) whole."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
