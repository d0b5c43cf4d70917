"""The study's schema: one migration history for both backends, and the few places the dialects differ.

Migrations are written in SQLite's SQL, kept to what PostgreSQL reads too. `postgresql_statements` translates
the rest explicitly, statement by statement, and refuses what it does not know (so a new migration that needs
a translation fails in the PostgreSQL tests, not in the field):

- `id INTEGER PRIMARY KEY` (SQLite's rowid alias) -> an identity column; the `BLOB` type -> `BYTEA`;
- a table with SQLite's implicit rowid (no integer key, not WITHOUT ROWID) gets a `rowid` identity column, so
  `ORDER BY rowid` (insertion order) means the same on both; `WITHOUT ROWID` is dropped;
- a guard trigger `CREATE TRIGGER t BEFORE op ON table [WHEN cond] BEGIN SELECT RAISE(ABORT, 'msg'); END`
  -> a PL/pgSQL function raising 'msg' (SQLSTATE 23000, an integrity error on both) and a row trigger.
  Any other trigger is refused.
- a statement whose first line is `-- postgresql only` runs on PostgreSQL alone, as written (marker line
  dropped), and is skipped on SQLite (`sqlite_statements`). Used for what SQLite has no counterpart of: the
  change announcements (LISTEN/NOTIFY) the supervisor view listens to; on SQLite that view polls instead.
  Such a statement is written so SQLite's tokenizer keeps it whole (a function body in '...' quotes, not $$).
- a statement preceded by a line ``-- postgresql: <statement>`` is replaced by that statement, for the rare
  case where the two need different SQL for the same purpose (a covering index SQLite needs and PostgreSQL
  must not have); SQLite reads the line as a comment.

Queries are translated at run time by the PostgreSQL connection (`?` placeholders, LIKE); see postgres.py.
"""

from __future__ import annotations

import re

INTERVIEW_MODES = ("field", "pilot", "test")
INTERVIEW_STATUSES = ("in_progress", "suspended", "completed", "terminated")
OUTCOMES = ("complete", "break_off", "screened_out", "quota_full")

#: Forward migrations: MIGRATIONS[i] takes the schema from version i to i+1 (PRAGMA user_version on SQLite, the
#: schema_migrations table on PostgreSQL). Append new ones at the end..
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
    # Live supervision on a server (the listener is core/store/notify.py): every statement that changes what
    # the supervisor view shows (interviews: who is on which question, status, completes and so quota counts;
    # answers; sync conflicts) announces itself on the channel `survey_changes`, inside its own transaction, so
    # the announcement is delivered at COMMIT and never for a write that was rolled back. One notification per
    # statement (not per row), and PostgreSQL folds equal ones within a transaction. SQLite needs nothing: its
    # supervisor view polls a change token.
    """
    -- postgresql only
    CREATE FUNCTION survey_announce_change() RETURNS trigger LANGUAGE plpgsql AS '
    BEGIN
      PERFORM pg_notify(''survey_changes'', TG_TABLE_NAME);
      RETURN NULL;
    END';
    -- postgresql only
    CREATE TRIGGER interviews_announce AFTER INSERT OR UPDATE OR DELETE ON interviews
    FOR EACH STATEMENT EXECUTE FUNCTION survey_announce_change();
    -- postgresql only
    CREATE TRIGGER answers_announce AFTER INSERT OR UPDATE OR DELETE ON answers
    FOR EACH STATEMENT EXECUTE FUNCTION survey_announce_change();
    -- postgresql only
    CREATE TRIGGER sync_conflicts_announce AFTER INSERT OR UPDATE OR DELETE ON sync_conflicts
    FOR EACH STATEMENT EXECUTE FUNCTION survey_announce_change();
    """,
    # Respondents' lifecycle from laptops is conflict-checked like interviews (SQL in core/store/sync.py): a
    # conflict names what it is about (`kind`; a respondent's conflict keeps 'respondent:<id>' as its subject in
    # interview_uuid), and a device keeps, per respondent, the hash of the lifecycle it last agreed on with the
    # server, so "changed on both sides since the last sync" can be told from "changed on one".
    """
    ALTER TABLE sync_conflicts ADD COLUMN kind TEXT NOT NULL DEFAULT 'interview'
        CHECK (kind IN ('interview', 'respondent'));
    ALTER TABLE sync_conflicts ADD COLUMN respondent_id TEXT;
    CREATE TABLE device_respondent_sync (
        respondent_id TEXT PRIMARY KEY,
        base_hash TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('synced', 'conflict')),
        device_hash TEXT,
        synced_at TEXT NOT NULL
    );
    """,
    # Physical clean-up after an erasure on a server (SQL in core/store/postgres.py): only the tables' owner may
    # VACUUM, and VACUUM cannot run inside a function, so a supervisor's erasure leaves a request here that the
    # owner's `survey-tui server maintain` carries out. (SQLite clears its own traces at once: never used there.)
    """
    CREATE TABLE maintenance_requests (
        id INTEGER PRIMARY KEY,
        requested_at TEXT NOT NULL,
        requested_by TEXT,
        tables TEXT NOT NULL,
        done_at TEXT,
        done_by TEXT
    );
    CREATE INDEX maintenance_requests_open ON maintenance_requests (done_at, id);
    """,
    # The analysis data file is built one question at a time (analysis/dataset.py), so only one question's
    # answers are in memory at once. On SQLite the index covers the values: answers is a WITHOUT ROWID table
    # keyed (interview_id, question), and an index of the key alone would cost a primary-key seek per answer
    # (3 million seeks at 100,000 interviews, 3x the whole read). PostgreSQL cannot put free text in a B-tree
    # entry past 2,704 bytes (a long open end would then fail to save), and reads the heap rows itself.
    """
    -- postgresql: CREATE INDEX answers_by_question ON answers (question, interview_id)
    CREATE INDEX answers_by_question ON answers (question, interview_id, value, special);
    """,
    # The contact table's change counter (SQL in fieldwork/respondents.py): every write to respondent_contacts
    # adds one in the same transaction, so a process holding an in-memory search index of the opened contacts
    # (fieldwork/contact_search.py) sees with one small read that it is stale, whichever process wrote.
    """
    ALTER TABLE contact_keys ADD COLUMN changes INTEGER NOT NULL DEFAULT 0;
    """,
]

#: the first line of a statement that runs on PostgreSQL only (see the module docstring)
POSTGRESQL_ONLY = "-- postgresql only"


def split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies (BEGIN ... END;) whole."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if _postgresql_only(buffer) is not None:  # not SQLite's SQL: it ends at a ';' outside quotes
            complete = line.rstrip().endswith(";") and buffer.count("'") % 2 == 0
        else:
            import sqlite3  # (here: reading study.yaml imports this module's names, not SQLite)

            complete = sqlite3.complete_statement(buffer)
        if complete:
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def _postgresql_only(statement: str) -> str | None:
    """The statement without its marker line if it is PostgreSQL-only, else None."""
    first, _, rest = statement.lstrip().partition("\n")
    return rest.strip() if first.strip().lower() == POSTGRESQL_ONLY else None


def sqlite_statements(script: str) -> list[str]:
    """One migration as SQLite runs it: every statement but the PostgreSQL-only ones."""
    return [s for s in split_sql(script) if _postgresql_only(s) is None]


_TRIGGER = re.compile(
    r"CREATE\s+TRIGGER\s+(?P<name>\w+)\s+BEFORE\s+(?P<op>INSERT|UPDATE|DELETE)\s+ON\s+(?P<table>\w+)\s*"
    r"(?:WHEN\s+(?P<when>.*?))?\s*BEGIN\s+SELECT\s+RAISE\s*\(\s*ABORT\s*,\s*'(?P<message>[^']*)'\s*\)\s*;\s*END\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CREATE_TABLE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<table>\w+)\s*\(", re.IGNORECASE)
_ROWID_ALIAS = re.compile(r"^(\s*\w+\s+)INTEGER\s+PRIMARY\s+KEY\b", re.IGNORECASE | re.MULTILINE)
_WITHOUT_ROWID = re.compile(r"\)\s*WITHOUT\s+ROWID\s*;?\s*$", re.IGNORECASE)


class TranslationError(ValueError):
    """A migration statement PostgreSQL would read differently and no rule here translates."""


_BLOB = re.compile(r"\bBLOB\b", re.IGNORECASE)
_OVERRIDE = re.compile(r"\s*--\s*postgresql:\s*(?P<statement>[^\n]+)\n", re.IGNORECASE)


def postgresql_statements(script: str) -> list[str]:
    """One migration as PostgreSQL statements (the explicit translations listed in the module docstring)."""
    out: list[str] = []
    for statement in split_sql(script):
        verbatim = _postgresql_only(statement)
        if verbatim is not None:
            out.append(verbatim)
            continue
        override = _OVERRIDE.match(statement)
        if override is not None:
            out.append(override["statement"].rstrip().rstrip(";"))
            continue
        statement = _BLOB.sub("BYTEA", statement)  # SQLite's BLOB is PostgreSQL's BYTEA
        head = statement.lstrip().upper()
        if head.startswith("CREATE TRIGGER"):
            out.extend(_trigger(statement))
        elif head.startswith("CREATE TABLE"):
            out.append(_table(statement))
        elif head.startswith(("PRAGMA", "CREATE VIRTUAL")) or "AUTOINCREMENT" in head:
            raise TranslationError(f"no PostgreSQL translation for: {statement[:80]}")
        else:
            out.append(statement)
    return out


def _table(statement: str) -> str:
    body = statement.rstrip().rstrip(";")
    without_rowid = bool(_WITHOUT_ROWID.search(body + ";"))
    if without_rowid:
        body = _WITHOUT_ROWID.sub(")", body + ";")
    if _ROWID_ALIAS.search(body):
        return _ROWID_ALIAS.sub(r"\1INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", body)
    if without_rowid:
        return body
    match = _CREATE_TABLE.match(body.lstrip())
    if match is None:
        raise TranslationError(f"cannot read this CREATE TABLE: {statement[:80]}")
    head = body.lstrip()
    return f"{head[: match.end()]}\n        rowid BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,{head[match.end() :]}"


def _trigger(statement: str) -> list[str]:
    match = _TRIGGER.match(statement.strip())
    if match is None:
        raise TranslationError(
            "only guard triggers (BEFORE op ON table [WHEN cond] BEGIN SELECT RAISE(ABORT, 'msg'); END) have a "
            f"PostgreSQL translation: {statement[:80]}"
        )
    name, op, table = match["name"], match["op"].upper(), match["table"]
    condition = " ".join((match["when"] or "TRUE").split())
    row = "OLD" if op == "DELETE" else "NEW"
    message = match["message"].replace("'", "''")
    function = (
        f"CREATE FUNCTION {name}_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$\n"
        f"BEGIN\n  IF {condition} THEN\n"
        f"    RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';\n"
        f"  END IF;\n  RETURN {row};\nEND\n$guard$"
    )
    trigger = f"CREATE TRIGGER {name} BEFORE {op} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}_guard()"
    return [function, trigger]
