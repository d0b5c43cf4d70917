"""Contact data encrypted at rest: the study's contact key, sealing rows, keyed look-up hashes.

Why: a copy of the study folder (a backup, a laptop left behind, a shared drive) must reveal no name, phone,
e-mail, address or other personal field. Each contact row is one AES-256-GCM ciphertext (`cryptography`'s
AESGCM) whose associated data is the respondent id, so a sealed row moved to another respondent fails to open.
Equality look-ups (dedupe on phone/e-mail) use HMAC-SHA256 of the normalised value under a second key, so no
plaintext is needed to find a duplicate.

The key lives OUTSIDE the study folder: a file ``<key dir>/<study key id>.key`` (owner-only, 0600) where the
key dir is ``$SURVEY_TUI_KEY_DIR``, else ``$XDG_CONFIG_HOME/survey-tui/keys``, else
``~/.config/survey-tui/keys``; or the environment variable ``SURVEY_TUI_CONTACT_KEY`` (the key's base64 text)
for machines that take secrets from the environment. The database records only the study key id and a
fingerprint of the key, so a wrong key is recognised before anything is read or written.

This module knows nothing about tables: `fieldwork/respondents.py` (which owns the contact table) stores
what it returns, so the same code works on every store backend.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from survey_tui.i18n import _

ENV_KEY = "SURVEY_TUI_CONTACT_KEY"
ENV_KEY_DIR = "SURVEY_TUI_KEY_DIR"
#: first byte of a sealed row: the format (AES-256-GCM, 96-bit random nonce, AAD = version byte + id)
FORMAT = b"\x01"
_NONCE = 12


class ContactKeyError(Exception):
    """The contact key is missing, wrong or unusable; the message says what to do."""


def key_dir() -> Path:
    """Where key files live (outside every study folder)."""
    given = os.environ.get(ENV_KEY_DIR)
    if given:
        return Path(given)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "survey-tui" / "keys"


def key_path(study_key: str) -> Path:
    return key_dir() / f"{study_key}.key"


def new_study_key_id() -> str:
    """A random name for a study's key file (never derived from the study's title or path)."""
    return "k" + secrets.token_hex(8)


@dataclass(frozen=True)
class ContactCipher:
    """Seal and open contact rows, and make look-up hashes, under one study key."""

    master: bytes

    @property
    def _enc(self) -> bytes:
        return _derive(self.master, b"survey-tui contact encryption v1")

    @property
    def _mac(self) -> bytes:
        return _derive(self.master, b"survey-tui contact lookup v1")

    @property
    def fingerprint(self) -> str:
        """Identifies the key without revealing it (stored in the database to recognise the right key)."""
        return hmac.new(self._mac, b"survey-tui key fingerprint", hashlib.sha256).hexdigest()[:24]

    def aead(self) -> Sealer:
        return Sealer(self._enc, self._mac)


class Sealer:
    """The derived keys ready for bulk use (one AESGCM object, one HMAC key)."""

    def __init__(self, enc: bytes, mac: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aes = AESGCM(enc)
        self._mac = mac

    def seal(self, respondent_id: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return FORMAT + nonce + self._aes.encrypt(nonce, plaintext, FORMAT + respondent_id.encode("utf-8"))

    def open(self, respondent_id: str, sealed: bytes) -> bytes:
        """The plaintext; ContactKeyError when the row was made under another key, altered or moved."""
        from cryptography.exceptions import InvalidTag

        blob = bytes(sealed)
        if blob[:1] != FORMAT:
            raise ContactKeyError(_("the contact record of {id} is in an unknown format").format(id=respondent_id))
        try:
            return self._aes.decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], FORMAT + respondent_id.encode("utf-8"))
        except InvalidTag:
            raise ContactKeyError(
                _(
                    "the contact record of {id} does not open with this study's key (altered, or moved "
                    "from another respondent); restore survey.db from a backup"
                ).format(id=respondent_id)
            ) from None

    def open_many(self, rows: Iterable[tuple[str, bytes]]) -> list[bytes]:
        """The plaintexts of many (respondent_id, sealed) rows, in order: `open` without its per-row call cost,
        for building the search index (100,000 rows)."""
        from cryptography.exceptions import InvalidTag

        decrypt, out = self._aes.decrypt, []
        for respondent_id, sealed in rows:
            blob = bytes(sealed)
            if blob[:1] != FORMAT:
                raise ContactKeyError(_("the contact record of {id} is in an unknown format").format(id=respondent_id))
            try:
                out.append(decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], FORMAT + respondent_id.encode("utf-8")))
            except InvalidTag:
                self.open(respondent_id, blob)  # raises with the message that says what to do
        return out

    def lookup(self, kind: str, value: str | None) -> str | None:
        """Keyed hash of a normalised phone or e-mail, for equality look-ups without the plaintext."""
        if value is None or value == "":
            return None
        return hmac.digest(self._mac, f"{kind}\x00{value}".encode(), "sha256")[:16].hex()


def _derive(master: bytes, info: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


def generate() -> ContactCipher:
    return ContactCipher(secrets.token_bytes(32))


def encode_key(cipher: ContactCipher) -> str:
    return base64.urlsafe_b64encode(cipher.master).decode("ascii")


def decode_key(text: str, where: str) -> ContactCipher:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (ValueError, UnicodeError):
        raise ContactKeyError(
            _("{where}: not a survey-tui contact key (expected 44 characters of base64)").format(where=where)
        ) from None
    if len(raw) != 32:
        raise ContactKeyError(
            _("{where}: not a survey-tui contact key (expected 32 bytes, got {count})").format(
                where=where, count=len(raw)
            )
        )
    return ContactCipher(raw)


def env_cipher() -> ContactCipher | None:
    text = os.environ.get(ENV_KEY)
    return decode_key(text, ENV_KEY) if text else None


def write_key_file(path: Path, cipher: ContactCipher) -> None:
    """Create an owner-only key file (never replaces one: an existing key may still be needed)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (encode_key(cipher) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_key_file(path: Path) -> ContactCipher | None:
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeError) as exc:
        raise ContactKeyError(_("{path}: cannot read the contact key ({error})").format(path=path, error=exc)) from None
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise ContactKeyError(
            _("{path}: the contact key can be read by other users; make it owner-only (chmod 600 {name})").format(
                path=path, name=path.name
            )
        )
    return decode_key(text, str(path))


# -- where a key is kept: a key file, or an entry of the OS keyring -------------------------------------
#: the OS keyring's service name for contact keys; each study's entry is named by its key id
KEYRING_SERVICE = "survey-tui contact key"
#: keyring backends below this priority are not a protected OS store (keyrings.alt's plaintext file is 0.5)
_MIN_KEYRING_PRIORITY = 1


class KeyringUnavailable(ContactKeyError):
    """The OS keyring cannot be used on this machine; the message says why (the key file is used instead)."""


def keyring_backend() -> tuple[Any, str]:
    """(the OS keyring backend, "") when one is usable, else (None, why not).

    Headless Linux usually has none (no Secret Service on D-Bus): keyring's own answer is its `fail` backend,
    or a chainer with nothing to chain. A plaintext file keyring is refused too: it is no safer than our 0600
    file. The library itself is optional (the `keyring` extra)."""
    try:
        import keyring
        from keyring.backends import chainer, fail
    except ImportError:
        return None, _("the keyring library is not installed (pip install 'survey-tui[keyring]')")
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - a broken backend's own error, said plainly
        return None, _("the OS keyring cannot be opened ({error})").format(error=f"{type(exc).__name__}: {exc}")
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring) or (isinstance(backend, chainer.ChainerBackend) and not backend.backends):
        return None, _("no OS keyring is available on this machine (usual on Linux without a desktop session)")
    if backend.priority < _MIN_KEYRING_PRIORITY:
        return None, _("the only keyring backend here ({name}) is not a protected OS keyring").format(name=name)
    return backend, ""


class KeyPlace:
    """Somewhere keys are kept under names: "<id>" (the key), "<id>.new" (a rotation under way) and
    "<id>.retired-<time>" (a rotated-out key kept for older backups)."""

    kind = ""

    def read(self, name: str) -> ContactCipher | None:
        raise NotImplementedError

    def write(self, name: str, cipher: ContactCipher) -> None:
        raise NotImplementedError

    def remove(self, name: str) -> None:
        raise NotImplementedError

    def describe(self, name: str) -> str:
        raise NotImplementedError

    def rename(self, old: str, new: str) -> None:
        cipher = self.read(old)
        if cipher is not None:
            self.write(new, cipher)
            self.remove(old)


class FilePlace(KeyPlace):
    kind = "file"

    def path(self, name: str) -> Path:
        return key_dir() / (f"{name}.key" if "." not in name else name.replace(".", ".key.", 1))

    def read(self, name: str) -> ContactCipher | None:
        return read_key_file(self.path(name))

    def write(self, name: str, cipher: ContactCipher) -> None:
        write_key_file(self.path(name), cipher)

    def remove(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def rename(self, old: str, new: str) -> None:
        os.replace(self.path(old), self.path(new))

    def describe(self, name: str) -> str:
        return str(self.path(name))


class KeyringPlace(KeyPlace):
    kind = "keyring"

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def read(self, name: str) -> ContactCipher | None:
        from keyring.errors import KeyringError

        try:
            text = self.backend.get_password(KEYRING_SERVICE, name)
        except KeyringError as exc:
            raise KeyringUnavailable(_("the OS keyring could not be read ({error})").format(error=exc)) from None
        return None if text is None else decode_key(text, self.describe(name))

    def write(self, name: str, cipher: ContactCipher) -> None:
        from keyring.errors import KeyringError

        try:
            self.backend.set_password(KEYRING_SERVICE, name, encode_key(cipher))
        except KeyringError as exc:
            raise KeyringUnavailable(_("the OS keyring did not take the key ({error})").format(error=exc)) from None
        if self.read(name) != cipher:  # a backend that silently dropped it must not be trusted with the only copy
            raise KeyringUnavailable(
                _("the OS keyring did not keep the key written as {where}").format(where=self.describe(name))
            )

    def remove(self, name: str) -> None:
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            self.backend.delete_password(KEYRING_SERVICE, name)
        except PasswordDeleteError:
            pass  # not there: nothing to remove
        except KeyringError as exc:
            raise KeyringUnavailable(
                _("the OS keyring did not remove {where} ({error})").format(where=self.describe(name), error=exc)
            ) from None

    def describe(self, name: str) -> str:
        return f"the OS keyring ({type(self.backend).__name__}), service '{KEYRING_SERVICE}', entry '{name}'"


def key_places() -> tuple[list[KeyPlace], str]:
    """Where a study's key is looked for, in order (the OS keyring when usable, then the key file), and why
    the keyring is not among them ("" when it is)."""
    backend, why = keyring_backend()
    places: list[KeyPlace] = [] if backend is None else [KeyringPlace(backend)]
    return [*places, FilePlace()], why


def place_of(kind: str) -> KeyPlace:
    """The place named `kind` ('keyring' or 'file'); KeyringUnavailable says why the keyring cannot be used."""
    if kind == "file":
        return FilePlace()
    backend, why = keyring_backend()
    if backend is None:
        raise KeyringUnavailable(why)
    return KeyringPlace(backend)


@dataclass(frozen=True)
class FoundKey:
    cipher: ContactCipher
    place: KeyPlace | None  # None: from the environment
    where: str


def locate_key(study_key: str, fingerprint: str) -> FoundKey:
    """The study's key and where it came from: the environment, else the OS keyring, else the key file; in
    each place a rotation's new key that committed is finished first.

    A ContactKeyError says where it was looked for and how to restore it; nothing is written on the way."""
    from_env = env_cipher()
    if from_env is not None:
        if from_env.fingerprint != fingerprint:
            raise ContactKeyError(
                _("{variable} holds a key, but not this study's contact key ({key})").format(
                    variable=ENV_KEY, key=study_key
                )
            )
        return FoundKey(from_env, None, ENV_KEY)
    places, why_not_keyring = key_places()
    wrong: list[str] = []
    for place in places:
        try:
            cipher = place.read(study_key)
            pending = place.read(f"{study_key}.new")
        except KeyringUnavailable as exc:
            why_not_keyring = str(exc)
            continue
        if cipher is not None and cipher.fingerprint == fingerprint:
            if pending is not None:
                with contextlib.suppress(OSError, ContactKeyError):
                    place.remove(f"{study_key}.new")  # a rotation that never committed
            return FoundKey(cipher, place, place.describe(study_key))
        if pending is not None and pending.fingerprint == fingerprint:  # a rotation committed, then stopped
            if cipher is not None:
                place.rename(study_key, retired_name(study_key))
            else:
                place.remove(study_key)
            place.rename(f"{study_key}.new", study_key)
            return FoundKey(pending, place, place.describe(study_key))
        if cipher is not None:
            wrong.append(place.describe(study_key))
    if wrong:
        raise ContactKeyError(
            _("{where} is not the key this study's contact data was encrypted with").format(where=wrong[0])
        )
    keyring_said = (
        _("the OS keyring (no such entry)")
        if not why_not_keyring
        else _("the OS keyring ({why})").format(why=why_not_keyring)
    )
    raise ContactKeyError(
        _(
            "the contact data is encrypted and its key ({key}) is not on this machine (looked in {variable}, "
            "{keyring} and {folder} for {key}.key); restore the key file from your backup there, put "
            "the key back in the keyring, or set {variable}. Answers, tables and exports without contact data "
            "work without it"
        ).format(key=study_key, variable=ENV_KEY, keyring=keyring_said, folder=key_dir())
    )


def find_key(study_key: str, fingerprint: str) -> ContactCipher:
    """The study's key (see `locate_key`)."""
    return locate_key(study_key, fingerprint).cipher


def retired_name(study_key: str) -> str:
    from datetime import UTC, datetime

    return f"{study_key}.retired-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"


def retired_path(study_key: str) -> Path:
    return FilePlace().path(retired_name(study_key))


def move_key(study_key: str, fingerprint: str, to: str) -> tuple[str, str]:
    """Keep the study's key in `to` ('keyring' or 'file') and nowhere else; (from where, to where).

    The key is written to its new place and read back before the old copy goes, so a failure on the way
    leaves it where it was. KeyringUnavailable when the keyring cannot be used (the file stays in use)."""
    found = locate_key(study_key, fingerprint)
    if found.place is None:
        raise ContactKeyError(
            _("the contact key comes from {variable}; it is kept wherever that is set, not moved").format(
                variable=ENV_KEY
            )
        )
    target = place_of(to)
    if found.place.kind == target.kind:
        return found.where, found.where
    held = target.read(study_key)
    if held is not None and held.fingerprint != fingerprint:
        raise ContactKeyError(
            _("{where} already holds another key; it is left as it is").format(where=target.describe(study_key))
        )
    if held is None:
        target.write(study_key, found.cipher)
    again = target.read(study_key)
    if again is None or again.fingerprint != fingerprint:
        raise ContactKeyError(
            _("{where} did not keep the key; it stays in {old}").format(
                where=target.describe(study_key), old=found.where
            )
        )
    found.place.remove(study_key)
    return found.where, target.describe(study_key)
