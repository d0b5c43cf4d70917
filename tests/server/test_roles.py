"""Roles on the server: each role connects and is shown what it cannot read or write (row-level security).

Contact data is readable only by supervisors and by the interviewer the respondent is assigned to; analysts
read answers and never contacts; interviewers cannot publish, rewrite the audit log or read privacy records.
"""

from __future__ import annotations

from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")

from benchmarks.synthetic_instrument import make_instrument_yaml  # noqa: E402
from survey_tui.core.fieldwork import respondents as resp  # noqa: E402
from survey_tui.core.interview.capture import start_session  # noqa: E402
from survey_tui.core.store.postgres import PostgresStore  # noqa: E402
from survey_tui.core.store.roles import add_member, setup_server  # noqa: E402
from tests.capture.helpers import make_study  # noqa: E402
from tests.capture_worker import scripted_value  # noqa: E402
from tests.pgserver import add_password  # noqa: E402

PEOPLE = {"amy": "interviewer", "bob": "interviewer", "sue": "supervisor", "ann": "analyst"}


def _as(url: str, user: str) -> str:
    return url.replace("postgres@", f"{user}@", 1)


@pytest.fixture
def team(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    setup_server(pg_url)
    for name, role in PEOPLE.items():
        add_member(pg_url, name, role, password=f"pw-{name}")
        add_password(name, f"pw-{name}")
    monkeypatch.setenv("SURVEY_TUI_DATABASE_URL", pg_url)
    study = make_study(tmp_path / "s", consent=False, instrument=make_instrument_yaml(5))
    with PostgresStore(pg_url) as store:
        r_amy = resp.add(store, {"region": 1}, {"name": "王小明", "phone": "0911000001"}, interviewer="amy")
        r_bob = resp.add(store, {"region": 2}, {"name": "李美麗", "phone": "0911000002"}, interviewer="bob")
    return study, pg_url, r_amy, r_bob


def _denied(conn, sql: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute(sql)


def test_each_role_reads_and_writes_only_what_it_may(team, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    study, url, r_amy, r_bob = team
    # amy interviews her respondent through the ordinary capture code, connected as herself
    monkeypatch.setenv("SURVEY_TUI_DATABASE_URL", _as(url, "amy"))
    session = start_session(study, interviewer="amy", next_respondent=True)
    assert session.interview.respondent_id == r_amy and session.store.where.startswith("postgresql://amy@")
    while session.engine.current is not None and not session.engine.finished:
        q = session.engine.current
        assert session.engine.submit(scripted_value(q.name, q.type)).accepted
    session.complete()
    session.close()
    assert session.outcome == "complete"

    with psycopg.connect(_as(url, "amy"), autocommit=True) as amy:
        assert [r[0] for r in amy.execute("SELECT respondent_id FROM respondent_contacts")] == [r_amy]
        hidden = amy.execute("UPDATE respondent_contacts SET phone = 'x' WHERE respondent_id = %s", (r_bob,))
        assert hidden.rowcount == 0
        assert amy.execute("SELECT status FROM respondents WHERE id = %s", (r_amy,)).fetchone()[0] == "completed"
        assert amy.execute("SELECT COUNT(*) FROM respondents").fetchone()[0] == 2  # the list, without contacts
        _denied(
            amy,
            "INSERT INTO instrument_versions (instrument_id, version, source, sha256, published_at)"
            " VALUES ('x', 9, 's', 'h', 'now')",
        )
        _denied(amy, "DELETE FROM audit_log")
        _denied(amy, "DELETE FROM interviews")
        _denied(amy, "SELECT * FROM data_subject_requests")
        _denied(amy, "SELECT * FROM erasure_log")
    with psycopg.connect(_as(url, "bob"), autocommit=True) as bob:
        assert [r[0] for r in bob.execute("SELECT respondent_id FROM respondent_contacts")] == [r_bob]
        assert bob.execute("SELECT COUNT(*) FROM respondent_contacts WHERE name = '王小明'").fetchone()[0] == 0
    with psycopg.connect(_as(url, "ann"), autocommit=True) as ann:
        assert ann.execute("SELECT COUNT(*) FROM interviews").fetchone()[0] == 1
        assert ann.execute("SELECT COUNT(*) FROM answers").fetchone()[0] > 0
        _denied(ann, "SELECT * FROM respondent_contacts")
        _denied(ann, "SELECT name FROM respondent_contacts WHERE respondent_id = 'x'")
        _denied(ann, "INSERT INTO answers (interview_id, question, value, answered_at) VALUES (1, 'q', '1', 'x')")
        _denied(ann, "UPDATE respondents SET status = 'new'")
        _denied(ann, "UPDATE interviews SET outcome = NULL")
    with psycopg.connect(_as(url, "sue"), autocommit=True) as sue:
        seen = sorted(r[0] for r in sue.execute("SELECT respondent_id FROM respondent_contacts"))
        assert seen == sorted([r_amy, r_bob])
        assert sue.execute("UPDATE respondent_contacts SET phone = NULL WHERE respondent_id = %s", (r_bob,)).rowcount


def test_the_analyst_reads_the_data_set_but_never_contacts(team) -> None:  # type: ignore[no-untyped-def]
    import polars as pl

    from survey_tui.core.store.base import StoreError

    _, url, r_amy, _ = team
    with PostgresStore(_as(url, "ann")) as store:
        frame = store.read_frame(
            "SELECT id, status FROM respondents ORDER BY id", (), {"id": pl.String, "status": pl.String}
        )
        assert r_amy in frame["id"].to_list()
        with pytest.raises((psycopg.errors.InsufficientPrivilege, StoreError), match="permission denied"):
            resp.read_contacts(store, purpose="looking")
