"""Contact data encrypted at rest: a copy of the study folder alone reveals no contact value; without the key
contacts are refused with a clear message while answers still work; older plaintext studies are sealed on
opening; the key can be rotated; dedupe still finds duplicates through the keyed hashes."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from survey_tui.cli import main
from survey_tui.core.fieldwork import contact_crypto as crypto
from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.store.sqlite import MIGRATIONS, Store
from survey_tui.core.study import open_study

PLANTED = {
    "姓名": "諸葛孔明亮",
    "手機": "0987-654-321",
    "Email": "kongming.zhuge@example.tw",
    "身分證字號": "A123456789",
    "LINE ID": "kongming_line_77",
    "備註": "只在週末晚上可以聯絡",
}
#: the forms in which the planted values would sit in the database if stored as given or normalised
NEEDLES = [*PLANTED.values(), "0987654321"]


def _encodings(value: str) -> list[bytes]:
    out = [value.encode("utf-8"), value.encode("utf-16-le"), value.encode("utf-16-be")]
    with contextlib.suppress(UnicodeError):
        out.append(value.encode("cp950"))
    return out


def _raw_hits(folder: Path) -> list[str]:
    """Planted values found in survey.db, its WAL or -shm, in UTF-8, UTF-16 or Big5."""
    hits = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("survey.db") and path.is_file():
            data = path.read_bytes()
            hits += [f"{path.name}: {v}" for v in NEEDLES if any(b in data for b in _encodings(v))]
    return hits


def _every_file_hits(*folders: Path) -> list[str]:
    """Planted values in any file under `folders` (the whole study folder, the user's cache), any encoding."""
    hits = []
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            data = path.read_bytes()
            hits += [f"{path}: {v}" for v in NEEDLES if any(b in data for b in _encodings(v))]
    return hits


def _write_list(path: Path, extra_rows: int = 30) -> Path:
    headers = list(PLANTED)
    rows = [list(PLANTED.values())]
    rows += [
        [f"受訪者{i:03d}", f"09{i + 10:08d}", f"p{i}@example.tw", f"B2{i:08d}", f"line{i}", ""]
        for i in range(extra_rows)
    ]
    path.write_text("\n".join(",".join(r) for r in [headers, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def study(tmp_path: Path) -> Path:
    root = tmp_path / "study"
    assert main(["init", str(root), "--title", "Encryption", "--languages", "zh-TW,en"]) == 0
    assert main(["respondents", "import", str(_write_list(tmp_path / "list.csv")), "--study", str(root)]) == 0
    return root


def _planted_id(root: Path) -> str:
    with open_study(root).store() as store:
        contacts = resp.read_contacts(store, purpose="test: find the planted respondent")
    return contacts.filter(contacts["phone"] == "0987654321")["respondent_id"][0]


def _key_file(root: Path) -> Path:
    with Store(root / "survey.db") as store:
        info = resp.contact_key_info(store)
    assert info is not None
    return crypto.key_path(info[0])


def test_the_key_lives_outside_the_study_folder_owner_only(study: Path) -> None:
    key = _key_file(study)
    assert key.is_file() and not key.resolve().is_relative_to(study.resolve())
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert not any(key.read_text().strip() in p.read_text(errors="ignore") for p in study.rglob("*") if p.is_file())


def test_a_copied_folder_reveals_no_contact_value(study: Path, tmp_path: Path) -> None:
    with open_study(study).store() as store:  # the values really are held, and open with the key
        contacts = resp.read_contacts(store, purpose="test")
    planted = contacts.filter(contacts["phone"] == "0987654321").row(0, named=True)
    assert (planted["name"], planted["email"]) == (PLANTED["姓名"], PLANTED["Email"])
    assert "A123456789" in planted["personal"] and "kongming_line_77" in planted["personal"]
    store = open_study(study).store()  # searching opens every sealed row into memory, and writes none of it
    try:
        assert resp.page(store, resp.RespondentFilter(search="孔明")).total == 1
        assert resp.page(store, resp.RespondentFilter(search="654321")).total == 1
        assert main(["respondents", "list", "--study", str(study), "--search", "KONGMING", "--show-contacts"]) == 0
        copy = tmp_path / "copy"
        shutil.copytree(study, copy)  # a copy taken while nothing has checkpointed: WAL and -shm included
    finally:
        store.close()
    assert _raw_hits(copy) == []
    assert _raw_hits(study) == []
    assert _every_file_hits(copy, study, Path(os.environ["SURVEY_TUI_CACHE_DIR"]), _key_file(study).parent) == []


def test_without_the_key_contacts_are_refused_and_answers_still_work(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = _key_file(study).parent
    monkeypatch.setenv(crypto.ENV_KEY_DIR, str(tmp_path / "another-machine"))
    before = (study / "survey.db").read_bytes()
    with open_study(study).store() as store:
        with pytest.raises(resp.ContactKeyMissing, match="not on this machine.*restore the key file"):
            resp.read_contacts(store, purpose="test")
        listed = resp.page(store, resp.RespondentFilter(search="諸葛"))
        assert listed.locked and "not on this machine" in listed.locked and listed.rows == []
        everyone = resp.page(store, resp.RespondentFilter())
        assert everyone.total == 31 and all(r.name is None for r in everyone.rows)
        assert resp.respondents_for_export(store).frame.height == 31  # pseudonymous export: no key needed
    capsys.readouterr()
    again = _write_list(tmp_path / "again.csv", extra_rows=2)
    assert main(["respondents", "import", str(again), "--study", str(study)]) == 1
    err = capsys.readouterr().err
    assert "not on this machine" in err and "Traceback" not in err
    assert main(["respondents", "list", "--show-contacts", "--study", str(study)]) == 1
    assert "not on this machine" in capsys.readouterr().err
    assert main(["respondents", "list", "--study", str(study)]) == 0
    with Store(study / "survey.db") as store:
        assert store.query("SELECT COUNT(*) FROM respondents")[0][0] == 31  # nothing added, nothing lost
    monkeypatch.setenv(crypto.ENV_KEY_DIR, str(keys))
    with open_study(study).store() as store:  # the key restored: everything is readable again
        assert resp.read_contacts(store, purpose="test").height == 31
    assert (study / "survey.db").read_bytes()[:100] == before[:100]


def test_without_the_key_the_demo_still_exports_and_tabulates(
    demo_study_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "demo"
    shutil.copytree(demo_study_dir, root)
    shutil.rmtree(root / "exports")
    monkeypatch.setenv(crypto.ENV_KEY_DIR, str(tmp_path / "another-machine"))
    assert main(["export", "--study", str(root), "--format", "csv"]) == 0
    assert main(["tables", "--study", str(root), "--frequencies", "--format", "csv"]) == 0
    capsys.readouterr()
    assert main(["export", "--study", str(root), "--format", "csv", "--include-contacts"]) == 1
    err = capsys.readouterr().err
    assert "not on this machine" in err and "Traceback" not in err


def test_the_key_can_come_from_the_environment(study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _key_file(study).read_text().strip()
    monkeypatch.setenv(crypto.ENV_KEY_DIR, str(tmp_path / "no-files-here"))
    monkeypatch.setenv(crypto.ENV_KEY, text)
    with open_study(study).store() as store:
        assert resp.read_contacts(store, purpose="test").height == 31
    monkeypatch.setenv(crypto.ENV_KEY, crypto.encode_key(crypto.generate()))  # someone else's key
    with open_study(study).store() as store, pytest.raises(resp.ContactKeyMissing, match="not this study's"):
        resp.read_contacts(store, purpose="test")


def test_a_sealed_row_moved_to_another_respondent_does_not_open(study: Path) -> None:
    with Store(study / "survey.db") as store:
        a, b = [r[0] for r in store.query("SELECT respondent_id FROM respondent_contacts ORDER BY rowid LIMIT 2")]
        with store.transaction() as conn:
            blob = conn.execute("SELECT sealed FROM respondent_contacts WHERE respondent_id = ?", (a,)).fetchone()[0]
            conn.execute("UPDATE respondent_contacts SET sealed = ? WHERE respondent_id = ?", (blob, b))
        with pytest.raises(resp.ContactRecordDamaged, match=f"{b} does not open"):
            resp.read_contacts(store, [b], purpose="test")
        assert resp.read_contacts(store, [a], purpose="test").height == 1


def test_dedupe_finds_an_existing_respondent_through_the_keyed_hashes(study: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.csv"
    again.write_text("姓名,手機,Email\n,0987 654 321,\n新朋友,,P3@EXAMPLE.TW\n張三,0911000999,\n", encoding="utf-8")
    assert main(["respondents", "import", str(again), "--study", str(study)]) == 0
    with open_study(study).store() as store:
        contacts = resp.read_contacts(store, purpose="test")
    assert contacts.height == 32  # only 張三 is new; the others matched by normalised phone / e-mail
    merged = contacts.filter(contacts["email"] == "p3@example.tw").row(0, named=True)
    assert merged["name"] == "受訪者003"  # a merge fills empty fields, never overwrites


def test_an_older_plaintext_study_is_sealed_on_opening(tmp_path: Path) -> None:
    root = tmp_path / "old"
    assert main(["init", str(root), "--title", "Old", "--languages", "zh-TW,en"]) == 0
    db = root / "survey.db"
    for leftover in root.glob("survey.db*"):
        leftover.unlink()
    older = MIGRATIONS[:-1]  # the schema as it was before encryption
    with Store(db, older) as store, store.transaction() as conn:
        for i, (name, phone) in enumerate([(PLANTED["姓名"], "0987654321"), ("司馬懿仲達", "0911222333")]):
            conn.execute("INSERT INTO respondents (id, created_at) VALUES (?, '2026-01-01')", (f"R{i}",))
            conn.execute(
                "INSERT INTO respondent_contacts (respondent_id, name, phone, email, personal) VALUES (?, ?, ?, ?, ?)",
                (f"R{i}", name, phone, f"x{i}@example.tw", '{"身分證字號": "A123456789"}' if i == 0 else None),
            )
    raw = sqlite3.connect(db)
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    assert _raw_hits(root), "the old study holds plaintext"
    with open_study(root).store() as store:
        assert store.schema_version == len(MIGRATIONS)
        contacts = resp.read_contacts(store, purpose="test")
        unsealed = store.query("SELECT COUNT(*) FROM respondent_contacts WHERE sealed IS NULL")[0][0]
    assert unsealed == 0
    assert sorted(contacts["name"].to_list()) == sorted([PLANTED["姓名"], "司馬懿仲達"])
    assert "A123456789" in contacts.filter(contacts["respondent_id"] == "R0")["personal"][0]
    assert _raw_hits(root) == []  # nothing left in the file, its WAL or free pages
    assert _key_file(root).is_file()


def test_rotating_the_key_reseals_every_row(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = _key_file(study)
    old_text = key.read_text().strip()
    with Store(study / "survey.db") as store:
        old_blobs = [bytes(r[0]) for r in store.query("SELECT sealed FROM respondent_contacts")]
    capsys.readouterr()
    assert main(["privacy", "rotate-key", "--study", str(study)]) == 0
    out = capsys.readouterr().out
    assert "31 contact records re-encrypted" in out and "Back the key file up" in out
    assert key.read_text().strip() != old_text and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert list(key.parent.glob(f"{key.name}.retired-*")), "the old key is kept for older backups"
    assert not key.with_name(key.name + ".new").exists()
    with open_study(study).store() as store:
        contacts = resp.read_contacts(store, purpose="test")
    assert contacts.filter(contacts["phone"] == "0987654321")["name"][0] == PLANTED["姓名"]
    data = (study / "survey.db").read_bytes() + (
        (study / "survey.db-wal").read_bytes() if (study / "survey.db-wal").exists() else b""
    )
    assert not any(blob in data for blob in old_blobs)  # old ciphertexts are gone too
    monkeypatch.setenv(crypto.ENV_KEY, old_text)  # the old key no longer opens the study
    with open_study(study).store() as store, pytest.raises(resp.ContactKeyMissing):
        resp.read_contacts(store, purpose="test")


def test_a_rotation_that_stopped_after_its_commit_is_finished_on_the_next_opening(study: Path) -> None:
    key = _key_file(study)
    with Store(study / "survey.db") as store:
        real_replace = os.replace
        calls: list[tuple[str, str]] = []

        def stop_before_swapping(src: str, dst: str) -> None:
            calls.append((str(src), str(dst)))
            raise KeyboardInterrupt  # the machine stops right after the commit

        os.replace = stop_before_swapping  # type: ignore[assignment]
        try:
            with pytest.raises(KeyboardInterrupt):
                resp.rotate_key(store)
        finally:
            os.replace = real_replace
    assert calls and key.with_name(key.name + ".new").exists()
    with open_study(study).store() as store:
        assert resp.read_contacts(store, purpose="test").height == 31
    assert not key.with_name(key.name + ".new").exists()


def test_the_key_command_names_the_file_and_the_backup(study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["privacy", "key", "--study", str(study)]) == 0
    out = capsys.readouterr().out
    assert str(_key_file(study)) in out and "Back the key file up" in out
