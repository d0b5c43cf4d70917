"""A withdrawal leaves no byte of the respondent's contact data in survey.db, its WAL or its free pages."""

from __future__ import annotations

import contextlib
import stat
from pathlib import Path

import pytest

from survey_tui.cli import main
from survey_tui.core.fieldwork import contact_search
from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.study import open_study

PLANTED = {
    "name": "諸葛孔明亮",
    "phone": "0987654321",
    "email": "kongming.zhuge@example.tw",
    "address": "臺北市中正區重慶南路一段122號",
}
OTHER = {
    "name": "司馬懿仲達",
    "phone": "0911222333",
    "email": "sima.yi@example.tw",
    "address": "新北市板橋區中山路一段161號",
}


def _encodings(value: str) -> list[bytes]:
    out = [value.encode("utf-8"), value.encode("utf-16-le"), value.encode("utf-16-be")]
    with contextlib.suppress(UnicodeError):
        out.append(value.encode("cp950"))
    return out


def _raw_hits(folder: Path, values: dict[str, str]) -> list[str]:
    hits = []
    for path in folder.iterdir():
        if path.name.startswith("survey.db") and path.is_file():
            data = path.read_bytes()
            hits += [f"{path.name}: {field}" for field, v in values.items() if any(b in data for b in _encodings(v))]
    return hits


@pytest.fixture
def study_with_contacts(tmp_path: Path) -> Path:
    root = tmp_path / "study"
    assert main(["init", str(root), "--title", "Erasure", "--languages", "zh-TW,en"]) == 0
    contacts = tmp_path / "contacts.csv"
    rows = [PLANTED, OTHER] + [
        {"name": f"受訪者{i:03d}號", "phone": f"09{i:08d}", "email": f"p{i}@example.tw", "address": f"某路{i}號"}
        for i in range(200)
    ]
    contacts.write_text(
        "name,phone,email,address\n" + "".join(f"{r['name']},{r['phone']},{r['email']},{r['address']}\n" for r in rows),
        encoding="utf-8",
    )
    assert main(["respondents", "import", str(contacts), "--study", str(root)]) == 0
    return root


def _id_of(root: Path, phone: str) -> str:
    with open_study(root).store() as store:
        contacts = resp.read_contacts(store, purpose="test: find the planted respondent")
    return contacts.filter(contacts["phone"] == phone)["respondent_id"][0]


def _sealed_traces(root: Path, rid: str) -> dict[str, bytes]:
    """The respondent's stored contact row as it sits on disk: the sealed blob and the look-up hashes."""
    with open_study(root).store() as store:
        sql = "SELECT sealed, phone_key, email_key FROM respondent_contacts WHERE respondent_id = ?"
        row = store.query(sql, (rid,))
    return {"sealed": bytes(row[0][0]), "phone_key": row[0][1].encode(), "email_key": row[0][2].encode()}


def _raw_bytes_hits(folder: Path, blobs: dict[str, bytes]) -> list[str]:
    hits = []
    for path in folder.iterdir():
        if path.name.startswith("survey.db") and path.is_file():
            data = path.read_bytes()
            hits += [f"{path.name}: {field}" for field, blob in blobs.items() if blob in data]
    return hits


def test_withdrawal_leaves_no_trace_in_the_raw_files(study_with_contacts: Path) -> None:
    root = study_with_contacts
    assert _raw_hits(root, PLANTED) == [], "contact data is encrypted at rest: no plaintext even before"
    rid = _id_of(root, PLANTED["phone"])
    traces = _sealed_traces(root, rid)
    assert _raw_bytes_hits(root, traces), "the sealed row should be in the raw files before the withdrawal"
    store = open_study(root).store()  # the app open meanwhile: closing the command does not checkpoint
    try:
        assert resp.page(store, resp.RespondentFilter(search="孔明")).total == 1  # its search index holds them
        assert main(["respondents", "withdraw", rid, "--study", str(root)]) == 0
        assert _raw_hits(root, PLANTED) == []  # a copy of the folder taken now holds nothing of them
        wal = root / "survey.db-wal"
        assert not wal.exists() or wal.stat().st_size == 0
        # nor does the memory of the process that searched: the index went with the erasure, and the next
        # search (rebuilt from the table as it is now) finds none of their values
        assert contact_search.held(resp._where_key(store)) is None
        for field in ("name", "phone", "email"):
            assert resp.page(store, resp.RespondentFilter(search=PLANTED[field])).total == 0, field
        index = contact_search.held(resp._where_key(store))
        assert index is not None and rid not in index.frame["respondent_id"].to_list()
        held = "\n".join(str(v) for row in index.frame.iter_rows() for v in row)
        assert not any(PLANTED[f] in held for f in ("name", "phone", "email"))
    finally:
        store.close()
    assert _raw_hits(root, PLANTED) == []
    assert _raw_bytes_hits(root, traces) == []  # not even the ciphertext or its hashes are left
    assert _id_of(root, OTHER["phone"]), "the other respondents' contacts are kept"
    with open_study(root).store() as store:
        assert store.integrity_check() == "ok"
        assert store.query("PRAGMA secure_delete")[0][0] == 1


def test_withdrawal_names_the_exports_that_still_hold_the_respondent(
    study_with_contacts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = study_with_contacts
    exports = root / "exports"
    (exports / "old_CONTACTS.csv").write_text(f"id,phone\nx,{PLANTED['phone']}\n", encoding="utf-8")
    (exports / "unrelated.csv").write_text("id,phone\nx,0000\n", encoding="utf-8")
    import zipfile

    with zipfile.ZipFile(exports / "bundle.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("inside/contacts.txt", PLANTED["name"].encode("utf-16-le"))
    rid = _id_of(root, PLANTED["phone"])
    capsys.readouterr()
    assert main(["respondents", "withdraw", rid, "--study", str(root)]) == 0
    captured = capsys.readouterr()
    assert "exports/old_CONTACTS.csv" in captured.err and "exports/bundle.zip" in captured.err
    assert "unrelated.csv" not in captured.err
    for value in PLANTED.values():  # the message names files, never the values
        assert value not in captured.err + captured.out


def test_every_file_the_commands_write_is_owner_only(demo_study_dir: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    shutil.rmtree(root / "exports")
    assert main(["tables", "--study", str(root), "--format", "xlsx"]) == 0  # xlsxwriter writes it itself
    assert main(["tables", "--study", str(root), "--frequencies", "--format", "csv"]) == 0
    written = [root / "exports", *(root / "exports").rglob("*")]
    assert (root / "exports" / "tables.xlsx") in written
    loose = {str(p.relative_to(root)): oct(stat.S_IMODE(p.stat().st_mode)) for p in written}
    assert {k: v for k, v in loose.items() if int(v, 8) & 0o077} == {}
