"""Who may read and write what on a team's PostgreSQL server: three roles and row-level security.

- `survey_interviewer`: captures interviews (interviews, answers, audit, paradata, respondent status, contact
  attempts, appointments, consent) and reads the instrument and the respondent list; reads and corrects the
  contact data only of respondents assigned to them (respondents.interviewer = their login name). Syncs
  their own laptop with their own login (receipts, conflicts, respondents recruited on it). Cannot publish,
  erase, resolve conflicts or change the audit log.
- `survey_supervisor`: everything, including every respondent's contact data, erasures and privacy requests.
- `survey_analyst`: reads the answers and everything about interviews, writes only their own work (quality
  decisions, open-end codes); never reads contact data (no grant at all on the table).

Roles are cluster-wide, so several studies on one server share them; people are login roles made members
(`add_member`). The database owner (who runs `survey-tui server setup`) keeps full rights. `setup_server`
and `apply_roles` are idempotent: run them again after an upgrade adds tables.

What only the owner can do: VACUUM. A supervisor's erasure deletes the rows at once for every reader, but
their dead versions stay in the table files until VACUUM reclaims them, and PostgreSQL lets only a table's
owner (or the database's, or a superuser) vacuum, never from inside a function (so a SECURITY DEFINER
function cannot do it for them). The erasure therefore leaves a row in `maintenance_requests`, and the owner
runs `survey-tui server maintain URL` (by hand or nightly from cron), which vacuums and closes the requests.
Beyond VACUUM: the write-ahead log keeps old row images until its segments are recycled after checkpoints, and
backups keep whatever they copied; both are the DBA's retention policy, as for any PostgreSQL database.
"""

from __future__ import annotations

from dataclasses import dataclass

from survey_tui.core.store.base import StoreError
from survey_tui.i18n import _

INTERVIEWER, SUPERVISOR, ANALYST = "survey_interviewer", "survey_supervisor", "survey_analyst"
ROLES = {"interviewer": INTERVIEWER, "supervisor": SUPERVISOR, "analyst": ANALYST}

CONTACTS = "respondent_contacts"
#: what interviewers write while interviewing (SELECT on everything but contacts is granted separately)
INTERVIEWER_WRITES = {
    "interviews": "INSERT, UPDATE",
    "answers": "INSERT, UPDATE, DELETE",  # a cleared answer (went back, path changed) is deleted and audited
    "audit_log": "INSERT",
    "interview_events": "INSERT",
    "respondents": "INSERT, UPDATE",  # INSERT: a respondent recruited on their laptop arrives with its sync
    "respondent_status_history": "INSERT",
    "contact_attempts": "INSERT",
    "appointments": "INSERT",
    "consent_records": "INSERT",
    # syncing their own laptop: the receipt of each interview state, and what changed on both sides
    "sync_receipts": "INSERT",
    "sync_conflicts": "INSERT",
}
#: what analysts write: their own decisions about the data
ANALYST_WRITES = {"quality_decisions": "INSERT", "open_end_codes": "INSERT, UPDATE"}
#: tables interviewers and analysts do not read at all (contacts are covered by the policies below)
PRIVATE = {CONTACTS, "data_subject_requests", "erasure_log", "retention_purges", "contact_imports"}


@dataclass(frozen=True)
class SetupReport:
    where: str
    schema_version: int
    tables: int
    roles: tuple[str, ...]


def _create_roles(conn: object) -> None:
    for role in ROLES.values():
        conn.execute(  # type: ignore[attr-defined]
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
            f"CREATE ROLE {role} NOLOGIN; END IF; END $$"
        )


def apply_roles(store: object) -> None:
    """Grants and policies for the three roles on every table there is now (run as the database owner)."""
    from survey_tui.core.store.postgres import VERSION_TABLE, PostgresStore

    assert isinstance(store, PostgresStore)
    tables = store.tables()
    with store.transaction() as conn:
        _create_roles(conn)
        everyone = ", ".join(ROLES.values())
        conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {everyone}")
        conn.execute(f"GRANT SELECT ON {VERSION_TABLE} TO {everyone}")
        for table in tables:
            conn.execute(f"REVOKE ALL ON {table} FROM PUBLIC, {everyone}")
            conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {SUPERVISOR}")
            if table not in PRIVATE:
                conn.execute(f"GRANT SELECT ON {table} TO {INTERVIEWER}, {ANALYST}")
        for table, rights in INTERVIEWER_WRITES.items():
            if table in tables:
                conn.execute(f"GRANT {rights} ON {table} TO {INTERVIEWER}")
        for table, rights in ANALYST_WRITES.items():
            if table in tables:
                conn.execute(f"GRANT {rights} ON {table} TO {ANALYST}")
        conn.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {everyone}")
        # contact data: supervisors see every row; an interviewer only their assigned respondents' rows
        # (INSERT for a respondent recruited on their laptop; the policy below holds it to their own respondents)
        conn.execute(f"GRANT SELECT, INSERT, UPDATE ON {CONTACTS} TO {INTERVIEWER}")
        if "contact_keys" in tables:  # a contact written counts itself, so every search index sees it is stale
            conn.execute(f"GRANT UPDATE (changes) ON contact_keys TO {INTERVIEWER}")
        conn.execute(f"ALTER TABLE {CONTACTS} ENABLE ROW LEVEL SECURITY")
        for policy in ("contacts_supervisor", "contacts_assigned"):
            conn.execute(f"DROP POLICY IF EXISTS {policy} ON {CONTACTS}")
        conn.execute(f"CREATE POLICY contacts_supervisor ON {CONTACTS} TO {SUPERVISOR} USING (TRUE) WITH CHECK (TRUE)")
        assigned = (
            "EXISTS (SELECT 1 FROM respondents r WHERE r.id = respondent_contacts.respondent_id"
            " AND r.interviewer = current_user)"
        )
        conn.execute(
            f"CREATE POLICY contacts_assigned ON {CONTACTS} TO {INTERVIEWER} USING ({assigned}) WITH CHECK ({assigned})"
        )


def setup_server(url: str) -> SetupReport:
    """Schema, roles and policies on an empty (or older) database; refuses another program's database."""
    from survey_tui.core.store.postgres import PostgresStore

    with PostgresStore(url) as store:
        if store.query("SELECT pg_catalog.has_database_privilege(current_database(), 'CREATE')")[0][0] is not True:
            raise StoreError(
                _("{where}: this user may not create objects here; run it as the database owner").format(
                    where=store.where
                )
            )
        try:
            apply_roles(store)
        except StoreError:
            raise
        except Exception as exc:  # psycopg's errors: say which right was missing
            raise StoreError(
                _(
                    "{where}: could not create the roles and policies ({error}); run "
                    "'server setup' as the database owner with the CREATEROLE right"
                ).format(where=store.where, error=str(exc).strip().splitlines()[0])
            ) from None
        from survey_tui.core.store.sync import study_id

        study_id(store)  # made now by the owner: a laptop synced by an interviewer only reads it
        return SetupReport(store.where, store.schema_version, len(store.tables()), tuple(ROLES.values()))


def add_member(url: str, name: str, role: str, password: str | None = None) -> None:
    """A person's login role, member of one of the three roles (their password set here or by them later)."""
    from survey_tui.core.store.postgres import PostgresStore

    if role not in ROLES:
        raise StoreError(_("unknown role {role!r}; use one of {roles}").format(role=role, roles=", ".join(ROLES)))
    with PostgresStore(url) as store, store.transaction() as conn:
        _create_roles(conn)
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = ?", (name,)).fetchone()
        quoted = '"' + name.replace('"', '""') + '"'
        if exists is None:
            conn.execute(f"CREATE ROLE {quoted} LOGIN")
        if password is not None:
            conn.execute(f"ALTER ROLE {quoted} PASSWORD ?", (password,))
        conn.execute(f"GRANT {ROLES[role]} TO {quoted}")


@dataclass(frozen=True)
class MaintainReport:
    where: str
    requests: int  # erasures that were waiting for this
    tables: tuple[str, ...]


def maintain(url: str) -> MaintainReport:
    """The owner's clean-up after erasures: VACUUM the tables they touched and close the waiting requests."""
    from survey_tui.core.store.postgres import PostgresStore

    with PostgresStore(url) as store:
        if not store.may_vacuum():
            raise StoreError(
                _(
                    "{where}: only the owner of the study's tables (who ran 'survey-tui server setup') may vacuum "
                    "them; run 'survey-tui server maintain' as that user; nothing was changed"
                ).format(where=store.where)
            )
        waiting = int(store.query("SELECT COUNT(*) FROM maintenance_requests WHERE done_at IS NULL")[0][0])
        tables = store.vacuum_erased()
        return MaintainReport(store.where, waiting, tuple(tables))
