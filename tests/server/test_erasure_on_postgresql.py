"""An erasure by a supervisor on the server: the rows go at once; the VACUUM only the tables' owner may run is
left as a request, which the owner's `survey-tui server maintain` carries out (and nobody else can)."""

from __future__ import annotations

import pytest

psycopg = pytest.importorskip("psycopg")

from survey_tui.cli import main  # noqa: E402
from survey_tui.core.fieldwork import respondents as resp  # noqa: E402
from survey_tui.core.store.postgres import PostgresStore  # noqa: E402
from tests.server.test_roles import _as, team  # noqa: E402, F401 - `team` is the fixture


def _vacuumed(url: str, table: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = %s", (table,)).fetchone()
    return row is not None and row[0] is not None


def test_a_supervisors_erasure_leaves_the_vacuum_to_the_owner(team, capsys) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    study, url, r_amy, r_bob = team
    with PostgresStore(_as(url, "sue")) as sue:
        assert not sue.may_vacuum()  # VACUUM would skip every table with a mere warning
        erasure = resp.withdraw(sue, r_amy, delete_answers=True, actor="sue")
        assert erasure.contacts_erased and not erasure.traces_cleared
        assert sue.query("SELECT COUNT(*) FROM respondent_contacts WHERE respondent_id = ?", (r_amy,))[0][0] == 0
        [request] = sue.query("SELECT requested_by, tables, done_at FROM maintenance_requests")
        assert tuple(request) == ("sue", "respondent_contacts answers audit_log", None)
    assert not _vacuumed(url, "respondent_contacts")

    assert main(["server", "maintain", _as(url, "sue")]) == 1  # not the owner: refused, nothing done
    assert "only the owner" in capsys.readouterr().err
    assert main(["server", "maintain", _as(url, "amy")]) == 1
    capsys.readouterr()
    assert main(["server", "maintain", url]) == 0  # the owner (who ran 'server setup')
    assert "1 erasures were waiting" in capsys.readouterr().out
    assert all(_vacuumed(url, t) for t in ("respondent_contacts", "answers", "audit_log"))
    with PostgresStore(url) as owner:
        assert owner.may_vacuum()
        assert owner.query("SELECT done_by FROM maintenance_requests")[0][0] == "postgres"
        assert resp.withdraw(owner, r_bob, delete_answers=False, actor="owner").traces_cleared  # done at once
        assert owner.query("SELECT COUNT(*) FROM maintenance_requests WHERE done_at IS NULL")[0][0] == 0
