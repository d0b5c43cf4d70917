"""The contact key in the OS keyring (keyring's API, with an in-memory backend: no system keyring needed):
`privacy key --store keyring|file` moves it, the lookup order is environment > keyring > key file, a machine
without a usable keyring says so and keeps the file, and a key missing from the keyring is refused with the
same clear message as a missing file, with nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

keyring = pytest.importorskip("keyring", reason="the keyring extra is not installed")

from keyring.backend import KeyringBackend  # noqa: E402
from keyring.backends import fail  # noqa: E402
from keyring.errors import KeyringLocked, PasswordDeleteError  # noqa: E402

from survey_tui.cli import main  # noqa: E402
from survey_tui.core.fieldwork import contact_crypto as crypto  # noqa: E402
from survey_tui.core.fieldwork import respondents as resp  # noqa: E402
from survey_tui.core.store.sqlite import Store  # noqa: E402
from survey_tui.core.study import open_study  # noqa: E402


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps its entries in a dict: what a desktop's Secret Service / Keychain does, for tests."""

    priority = 5  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class PlaintextFileKeyring(MemoryKeyring):
    priority = 0.5  # type: ignore[assignment]  # as keyrings.alt's plaintext file


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the login keyring is locked")


@pytest.fixture
def memory_keyring():  # type: ignore[no-untyped-def]
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


@pytest.fixture
def no_keyring():  # type: ignore[no-untyped-def]
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


@pytest.fixture
def study(tmp_path: Path) -> Path:
    root = tmp_path / "study"
    assert main(["init", str(root), "--title", "Keyring", "--languages", "zh-TW,en"]) == 0
    contacts = tmp_path / "list.csv"
    contacts.write_text("姓名,手機\n" + "".join(f"受訪者{i:02d},09{i:08d}\n" for i in range(12)), encoding="utf-8")
    assert main(["respondents", "import", str(contacts), "--study", str(root)]) == 0
    return root


def _key(root: Path) -> tuple[str, str]:
    with Store(root / "survey.db") as store:
        info = resp.contact_key_info(store)
    assert info is not None
    return info


def _names(root: Path) -> list[str]:
    with open_study(root).store() as store:
        return sorted(resp.read_contacts(store, purpose="test").get_column("name").to_list())


def test_without_a_usable_keyring_the_file_is_kept_and_the_message_says_so(
    study: Path, no_keyring: None, capsys: pytest.CaptureFixture[str]
) -> None:
    study_key, fingerprint = _key(study)
    path = crypto.key_path(study_key)
    before = path.read_bytes()
    capsys.readouterr()
    assert main(["privacy", "key", "--store", "keyring", "--study", str(study)]) == 1
    err = capsys.readouterr().err
    assert "no OS keyring is available on this machine" in err
    assert f"the key stays in {path}, which is used as before" in err and "Traceback" not in err
    assert path.read_bytes() == before and len(_names(study)) == 12
    assert main(["privacy", "key", "--study", str(study)]) == 0
    out = capsys.readouterr().out
    assert f"read from: {path}" in out and "OS keyring: not used (no OS keyring is available" in out


def test_a_plaintext_file_keyring_is_not_taken_for_an_os_keyring() -> None:
    before = keyring.get_keyring()
    keyring.set_keyring(PlaintextFileKeyring())
    try:
        backend, why = crypto.keyring_backend()
    finally:
        keyring.set_keyring(before)
    assert backend is None and "not a protected OS keyring" in why


def test_the_key_moves_into_the_keyring_and_back(
    study: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    study_key, fingerprint = _key(study)
    path = crypto.key_path(study_key)
    text = path.read_text().strip()
    names = _names(study)
    capsys.readouterr()
    assert main(["privacy", "key", "--store", "keyring", "--study", str(study)]) == 0
    out = capsys.readouterr().out
    assert f"moved from {path} to the OS keyring" in out and "only in this machine's keyring" in out
    assert memory_keyring.entries == {(crypto.KEYRING_SERVICE, study_key): text}
    assert not path.exists(), "kept in the keyring and nowhere else"
    assert _names(study) == names
    assert crypto.locate_key(study_key, fingerprint).place.kind == "keyring"  # type: ignore[union-attr]
    assert main(["privacy", "key", "--store", "keyring", "--study", str(study)]) == 0  # already there: no change
    assert main(["privacy", "key", "--store", "file", "--study", str(study)]) == 0
    assert path.read_text().strip() == text and path.stat().st_mode & 0o777 == 0o600
    assert memory_keyring.entries == {}
    assert _names(study) == names


def test_the_lookup_order_is_environment_then_keyring_then_file(
    study: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    study_key, fingerprint = _key(study)
    path = crypto.key_path(study_key)
    right = crypto.decode_key(path.read_text(), "test")
    assert crypto.locate_key(study_key, fingerprint).where == str(path)  # only the file holds it
    memory_keyring.set_password(crypto.KEYRING_SERVICE, study_key, crypto.encode_key(right))
    assert crypto.locate_key(study_key, fingerprint).where.startswith("the OS keyring")  # keyring before file
    monkeypatch.setenv(crypto.ENV_KEY, crypto.encode_key(right))
    assert crypto.locate_key(study_key, fingerprint).where == crypto.ENV_KEY  # the environment before both
    monkeypatch.delenv(crypto.ENV_KEY)
    memory_keyring.set_password(crypto.KEYRING_SERVICE, study_key, crypto.encode_key(crypto.generate()))
    assert crypto.locate_key(study_key, fingerprint).where == str(path)  # a stale entry: the file still opens it
    path.unlink()
    with pytest.raises(crypto.ContactKeyError, match="the OS keyring .* is not the key this study"):
        crypto.locate_key(study_key, fingerprint)  # with no right key anywhere, the wrong one is named


def test_a_locked_keyring_falls_back_to_the_file_and_says_why(study: Path) -> None:
    study_key, fingerprint = _key(study)
    before = keyring.get_keyring()
    keyring.set_keyring(LockedKeyring())
    try:
        assert crypto.locate_key(study_key, fingerprint).where == str(crypto.key_path(study_key))
        crypto.key_path(study_key).rename(crypto.key_path(study_key).with_suffix(".away"))
        with pytest.raises(crypto.ContactKeyError, match="could not be read .*locked"):
            crypto.locate_key(study_key, fingerprint)
    finally:
        keyring.set_keyring(before)


def test_a_key_missing_from_the_keyring_is_refused_and_nothing_is_written(
    study: Path, tmp_path: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["privacy", "key", "--store", "keyring", "--study", str(study)]) == 0
    keyring.set_keyring(MemoryKeyring())  # another machine: its keyring has no entry for this study
    db = study / "survey.db"
    with Store(db) as store:
        before = store.query("SELECT COUNT(*) FROM respondents")[0][0]
    with open_study(study).store() as store:
        with pytest.raises(resp.ContactKeyMissing, match=r"not on this machine .*the OS keyring \(no such entry\)"):
            resp.read_contacts(store, purpose="test")
        assert resp.page(store, resp.RespondentFilter(search="受訪者")).locked
    more = tmp_path / "more.csv"
    more.write_text("姓名,手機\n新的人,0977000111\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["respondents", "import", str(more), "--study", str(study)]) == 1
    err = capsys.readouterr().err
    assert "not on this machine" in err and "restore the key file" in err and "Traceback" not in err
    assert main(["privacy", "key", "--store", "file", "--study", str(study)]) == 1
    assert "not on this machine" in capsys.readouterr().err
    with Store(db) as store:
        assert store.query("SELECT COUNT(*) FROM respondents")[0][0] == before
    assert not crypto.key_path(_key(study)[0]).exists(), "no key file was made up"
    keyring.set_keyring(memory_keyring)  # back on the first machine: everything opens again
    assert len(_names(study)) == 12


def test_rotating_a_key_kept_in_the_keyring(
    study: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["privacy", "key", "--store", "keyring", "--study", str(study)]) == 0
    study_key, _old = _key(study)
    old_text = memory_keyring.entries[(crypto.KEYRING_SERVICE, study_key)]
    names = _names(study)
    capsys.readouterr()
    assert main(["privacy", "rotate-key", "--study", str(study)]) == 0
    assert "12 contact records re-encrypted" in capsys.readouterr().out
    entries = {name: value for (_service, name), value in memory_keyring.entries.items()}
    assert entries[study_key] != old_text
    retired = [n for n in entries if n.startswith(f"{study_key}.retired-")]
    assert len(retired) == 1 and entries[retired[0]] == old_text  # kept for the backups made before
    assert f"{study_key}.new" not in entries and not crypto.key_path(study_key).exists()
    assert _names(study) == names
