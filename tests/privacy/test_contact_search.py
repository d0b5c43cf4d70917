"""Searching sealed contacts through the in-memory index: the same answers as opening every row and looking,
a write by any process (import, merge, withdrawal, purge, rotation, device copy) makes the index rebuild, and an
erasure leaves nothing of the erased person in it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from survey_tui.cli import main
from survey_tui.core.fieldwork import contact_search
from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.store.sqlite import Store
from survey_tui.core.study import open_study

ROOT = Path(__file__).resolve().parents[2]
SURNAMES = "陳林黃張李王吳劉蔡楊"


def _list(path: Path, rows: int = 120) -> Path:
    lines = ["姓名,手機,Email,地址"]
    for i in range(rows):
        lines.append(f"{SURNAMES[i % 10]}小{i:03d},09{i * 7919 % 10**8:08d},Person.{i}@Example.TW,某路{i}號")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def study(tmp_path: Path) -> Path:
    root = tmp_path / "study"
    assert main(["init", str(root), "--title", "Search", "--languages", "zh-TW,en"]) == 0
    assert main(["respondents", "import", str(_list(tmp_path / "list.csv")), "--study", str(root)]) == 0
    contact_search.drop()
    return root


def _expected(store: Store, term: str) -> set[str]:
    """The reference: every contact opened with read_contacts and looked at in plain Python."""
    digits = "".join(c for c in term if c.isdigit())
    found = set()
    for rid, name, phone, email, *_ in resp.read_contacts(store, purpose="test: reference search").iter_rows():
        if (
            (name and term in name)
            or (email and term.lower() in email.lower())
            or (len(digits) >= 3 and phone and digits in phone)
        ):
            found.add(rid)
    ids = [r[0] for r in store.query("SELECT id FROM respondents")]
    if term.isascii() and term.isalnum():
        found |= {i for i in ids if i.startswith(term.upper())}
    return found


def _found(store: Store, term: str, **filters: object) -> set[str]:
    page = resp.page(store, resp.RespondentFilter(search=term, **filters), 0, 10_000)  # type: ignore[arg-type]
    assert page.total == len(page.rows)
    return {r.id for r in page.rows}


def test_the_index_answers_what_opening_every_row_answers(study: Path) -> None:
    with open_study(study).store() as store:
        some_id = store.query("SELECT id FROM respondents LIMIT 1")[0][0]
        terms = ["陳", "林小01", "小1", "PERSON.4", "example.tw", "0900", "7919", "號", "zz", some_id[:4].lower()]
        for term in terms:
            assert _found(store, term) == _expected(store, term), term
        assert len(_found(store, "陳")) == 12 and _found(store, "zz") == set()
        chen = _found(store, "陳", status="new")
        assert chen == _expected(store, "陳")  # every imported respondent is 'new'
        assert _found(store, "陳", status="completed") == set()
        index = contact_search.held(resp._where_key(store))
        assert index is not None and index.size == 120  # built once, used by every search above


def test_the_index_keeps_only_what_the_search_looks_at(study: Path) -> None:
    with open_study(study).store() as store:
        resp.prepare_search(store)
        index = contact_search.held(resp._where_key(store))
    assert index is not None
    assert index.frame.columns == ["respondent_id", "name", "phone", "email"]
    assert index.frame["email"].to_list() == [e.lower() for e in index.frame["email"].to_list()]
    assert all("某路" not in str(v) for row in index.frame.iter_rows() for v in row)


def test_every_kind_of_write_makes_the_index_rebuild(study: Path, tmp_path: Path) -> None:
    with open_study(study).store() as store:
        assert resp.search_ready(store) is False
        resp.prepare_search(store)
        assert resp.search_ready(store)
        tokens = [resp.contacts_token(store)]

        def changed() -> None:
            token = resp.contacts_token(store)
            assert token != tokens[-1] and not resp.search_ready(store)
            tokens.append(token)

        new = resp.add(store, contact={"name": "新來的諸葛", "phone": "0922333444"})  # one added by hand
        changed()
        assert _found(store, "諸葛") == {new}
        # a merge that only fills an empty field of an existing respondent
        (tmp_path / "merge.csv").write_text("姓名,手機,Email\n,0922333444,zhuge@example.tw\n", encoding="utf-8")
        assert main(["respondents", "import", str(tmp_path / "merge.csv"), "--study", str(study)]) == 0
        changed()
        assert _found(store, "zhuge@") == {new}
        resp.rotate_key(store)
        changed()
        assert _found(store, "諸葛") == {new}
        with store.transaction() as conn:  # a device giving a respondent back
            resp.forget_contacts(conn, [new])
        changed()
        assert _found(store, "諸葛") == set()
        with store.transaction() as conn:  # ...and a checkout bringing one
            resp.copy_contacts(store, conn, [(new, "諸葛回來", "0922333444", None, None, None)])
        changed()
        assert _found(store, "回來") == {new}
        resp.purge_contacts(store, "2026-01-01")
        assert resp.contacts_token(store) != tokens[-1]
        assert contact_search.held(resp._where_key(store)) is None  # dropped with the purge, not kept till later
        assert _found(store, "陳") == set()


def test_a_write_by_another_process_is_seen_by_the_next_search(study: Path, tmp_path: Path) -> None:
    with open_study(study).store() as store:
        assert len(_found(store, "小")) == 120
        extra = tmp_path / "extra.csv"
        extra.write_text("姓名,手機\n別處匯入的人,0933000111\n", encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-m", "survey_tui", "respondents", "import", str(extra), "--study", str(study)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert len(_found(store, "別處")) == 1


def test_a_withdrawal_leaves_nothing_of_the_person_in_the_index(study: Path) -> None:
    with open_study(study).store() as store:
        (rid,) = _found(store, "陳小01")  # 陳小010 only (two digits: no phone search)
        name, phone, email = resp.read_contacts(store, [rid], purpose="test").row(0)[1:4]
        where = resp._where_key(store)
    assert main(["respondents", "withdraw", rid, "--study", str(study)]) == 0  # another Store, same process
    held = contact_search.held(where)
    assert held is None or rid not in held.frame["respondent_id"].to_list()
    with open_study(study).store() as store:
        assert _found(store, "陳小01") == set() and _found(store, phone) == set() and _found(store, email) == set()
        index = contact_search.held(where)
        assert index is not None and index.size == 119
        text = "\n".join(str(v) for row in index.frame.iter_rows() for v in row)
        assert name not in text and phone not in text and email.lower() not in text


def test_the_cli_searches_and_says_it_is_preparing(study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["respondents", "list", "--study", str(study), "--search", "黃小", "--limit", "5"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("12 respondents (first 5)")
    assert "preparing the search: opening 120 sealed contact records" in captured.err
    assert main(["respondents", "list", "--study", str(study), "--search", "黃小", "--limit", "5"]) == 0
    assert "preparing" not in capsys.readouterr().err  # the same process: the index is still good


def test_without_the_key_the_search_says_why_and_ids_are_still_found(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURVEY_TUI_KEY_DIR", str(tmp_path / "elsewhere"))
    with open_study(study).store() as store:
        rid = store.query("SELECT id FROM respondents LIMIT 1")[0][0]
        page = resp.page(store, resp.RespondentFilter(search="陳"))
        assert page.locked and "not on this machine" in page.locked and page.total == 0
        assert rid in {r.id for r in resp.page(store, resp.RespondentFilter(search=rid)).rows}


def test_a_damaged_row_stops_the_index_with_the_message_that_says_what_to_do(
    study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store(study / "survey.db") as store:
        a, b = [r[0] for r in store.query("SELECT respondent_id FROM respondent_contacts ORDER BY rowid LIMIT 2")]
        with store.transaction() as conn:  # a sealed row moved to another respondent
            blob = conn.execute("SELECT sealed FROM respondent_contacts WHERE respondent_id = ?", (a,)).fetchone()[0]
            conn.execute("UPDATE respondent_contacts SET sealed = ? WHERE respondent_id = ?", (blob, b))
        with pytest.raises(resp.ContactRecordDamaged, match=f"{b} does not open.*restore survey.db"):
            resp.page(store, resp.RespondentFilter(search="陳"))
        assert contact_search.held(resp._where_key(store)) is None  # nothing half-built is kept
    capsys.readouterr()
    assert main(["respondents", "list", "--study", str(study), "--search", "陳"]) == 1
    err = capsys.readouterr().err
    assert f"{b} does not open" in err and "Traceback" not in err
