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
from dataclasses import dataclass
from pathlib import Path

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
            raise ContactKeyError(f"the contact record of {respondent_id} is in an unknown format")
        try:
            return self._aes.decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], FORMAT + respondent_id.encode("utf-8"))
        except InvalidTag:
            raise ContactKeyError(
                f"the contact record of {respondent_id} does not open with this study's key (altered, or moved "
                "from another respondent); restore survey.db from a backup"
            ) from None

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
        raise ContactKeyError(f"{where}: not a survey-tui contact key (expected 44 characters of base64)") from None
    if len(raw) != 32:
        raise ContactKeyError(f"{where}: not a survey-tui contact key (expected 32 bytes, got {len(raw)})")
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
        raise ContactKeyError(f"{path}: cannot read the contact key ({exc})") from None
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise ContactKeyError(
            f"{path}: the contact key can be read by other users; make it owner-only (chmod 600 {path.name})"
        )
    return decode_key(text, str(path))


def find_key(study_key: str, fingerprint: str) -> ContactCipher:
    """The study's key: from the environment, else its key file, else a rotation's new file that committed.

    A ContactKeyError says where it was looked for and how to restore it."""
    from_env = env_cipher()
    if from_env is not None:
        if from_env.fingerprint != fingerprint:
            raise ContactKeyError(f"{ENV_KEY} holds a key, but not this study's contact key ({study_key})")
        return from_env
    path = key_path(study_key)
    cipher = read_key_file(path)
    if cipher is not None and cipher.fingerprint == fingerprint:
        pending = path.with_name(path.name + ".new")
        with contextlib.suppress(OSError):
            pending.unlink(missing_ok=True)  # a rotation that never committed
        return cipher
    pending = read_key_file(path.with_name(path.name + ".new"))
    if pending is not None and pending.fingerprint == fingerprint:  # a rotation committed, then stopped
        if cipher is not None:
            os.replace(path, retired_path(study_key))
        os.replace(path.with_name(path.name + ".new"), path)
        return pending
    if cipher is not None:
        raise ContactKeyError(f"{path} is not the key this study's contact data was encrypted with")
    raise ContactKeyError(
        f"the contact data is encrypted and its key ({study_key}.key) is not on this machine (looked in "
        f"{key_dir()}); restore the key file from your backup there, or set {ENV_KEY}. Answers, tables and "
        "exports without contact data work without it"
    )


def retired_path(study_key: str) -> Path:
    from datetime import UTC, datetime

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return key_dir() / f"{study_key}.key.retired-{stamp}"
