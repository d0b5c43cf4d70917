"""The user's cache folder: what is safe to lose and never belongs in a study folder (parsed YAML, the
fingerprint of a database last checked clean, the result of a check whose inputs have not changed)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

#: entries kept per kind of memo; the oldest go first
MEMO_KEEP = 64


def cache_dir(kind: str) -> Path:
    """The folder for one kind of entry (``SURVEY_TUI_CACHE_DIR`` moves them all)."""
    base = os.environ.get("SURVEY_TUI_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "survey-tui"
    )
    return Path(base) / kind


def module_stamp(*modules: str) -> str:
    """Where the code of `modules` is and when it last changed (size and mtime of each one's file, not
    imported): part of a memo key, so an upgraded library or an edited module is never answered from before."""
    from importlib.util import find_spec

    parts = []
    for name in modules:
        try:
            spec = find_spec(name)
            origin = spec.origin if spec is not None else None
            st = os.stat(origin) if origin else None
        except (ImportError, ValueError, OSError):
            st = None
        parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}" if st else f"{name}:-")
    return "|".join(parts)


def file_stamp(*paths: Path) -> str:
    """Which file each path is and when it last changed (device, inode, size, modification time; '-' for none):
    the fingerprint the store's clean-check marker uses for a database and its WAL."""
    parts = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            parts.append("-")
            continue
        parts.append(f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


def memo_key(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def read_memo(kind: str, key: str) -> Any | None:
    """The JSON value stored under `key`, or None (no entry, or one that cannot be read)."""
    try:
        return json.loads((cache_dir(kind) / key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_memo(kind: str, key: str, value: Any) -> None:
    """Store a JSON value (owner-only, written whole); a cache that cannot be written costs time only."""
    from survey_tui.core.atomic import write_text_atomic

    folder = cache_dir(kind)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_text_atomic(folder / key, json.dumps(value, ensure_ascii=False), cached=True)
        _prune(folder, MEMO_KEEP)
    except OSError:
        pass


def _prune(folder: Path, keep: int) -> None:
    """Drop all but the `keep` most recently written (or, for blobs, used) entries."""
    entries = list(folder.iterdir())
    if len(entries) > keep:
        entries.sort(key=lambda e: e.stat().st_mtime)
        for old in entries[: len(entries) - keep]:
            old.unlink(missing_ok=True)


def read_blob(kind: str, key: str) -> bytes | None:
    """The bytes stored under `key` (e.g. a drawn chart), or None; a hit is marked as used, so pruning
    drops the entries unused longest."""
    path = cache_dir(kind) / key
    try:
        data = path.read_bytes()
        os.utime(path)
    except OSError:
        return None
    return data


def write_blob(kind: str, key: str, data: bytes, keep: int = MEMO_KEEP) -> None:
    """Store bytes (owner-only, written whole), keeping the `keep` newest entries of this kind; a cache
    that cannot be written costs time only."""
    from survey_tui.core.atomic import write_bytes_atomic

    folder = cache_dir(kind)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_bytes_atomic(folder / key, data, cached=True)
        _prune(folder, keep)
    except OSError:
        pass
