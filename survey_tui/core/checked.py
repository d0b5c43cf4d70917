"""The answer of a whole `survey-tui check`, kept in the user's cache under everything it was computed from.

A check of an unchanged study is the commonest one (before every publish, every fieldwork day, in scripts),
and most of its time went to importing pydantic and building the study's and the instrument's model classes
(0.15 s of the demo's 0.22 s) to find the same problems as last time. The problems are kept under a key made
of every input `check` reads: study.yaml's bytes; the name and bytes of every instrument and tab plan it
would read (so a file added, removed or edited is a new key); the code that checks (the size and time of
every file of this package, and of the libraries that parse and validate); the interface language the
messages are worded in; the folder and the working folder; and the SURVEY_TUI_* settings. Inputs only known
once the study is read (the report template, the database when weighting targets make check read the data)
are kept with the answer as dependencies, each checked again before the answer is used. Anything unusual
(a file that cannot be read, an entry that is a folder, a study on a server) is checked afresh and not kept.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from survey_tui.core.cache import file_stamp, memo_key, module_stamp, read_memo, write_memo

KIND = "checked-study"
#: bump when the shape of an entry changes
VERSION = "check 1"
#: the libraries whose versions can change what check says (their files' size and time are in the key)
LIBRARIES = (
    *("pydantic", "pydantic_core", "ruamel.yaml", "yaml", "lark", "docxtpl", "docx", "jinja2", "polars"),
    "tzdata",  # the time zones Python falls back on when the system has none
)
_PACKAGE = Path(__file__).resolve().parents[1]
#: files made from the package's own files while it runs (bytecode; the catalog compiled from its .po, which is
#: in the stamp): one appearing mid-run must not make a process's stamp differ from the next process's
DERIVED = (".pyc", ".pyo", ".mo")


class Unusual(Exception):
    """An input that is not a plain readable file where one is expected: not worth keeping an answer for."""


def content(path: Path) -> str:
    """A file's fingerprint: its bytes' SHA-256, or '-' when nothing is there (raises Unusual otherwise)."""
    try:
        if not path.exists():
            return "-"
        if not path.is_file():
            raise Unusual(str(path))
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise Unusual(str(path)) from exc


@functools.cache
def code_stamp() -> str:
    """Size and modification time of every file of this package (code, catalogs, grammars) and of the
    libraries that parse and validate: a new version of any of them is never answered from before.
    Taken once a process (the app asks at start and at each refresh of its home screen)."""
    parts = []
    for folder, dirs, files in os.walk(_PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(DERIVED):
                continue
            path = os.path.join(folder, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            parts.append(f"{os.path.relpath(path, _PACKAGE)}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts) + "||" + module_stamp(*LIBRARIES) + "||" + _time_zone_stamp()


def _time_zone_stamp() -> str:
    """Where the time-zone data a calling-hours zone is looked up in lives, and when each place last changed:
    installing tzdata (the package or the system's) must not leave an 'unknown time zone' answered from before."""
    import zoneinfo

    from survey_tui.core.cache import file_stamp

    return file_stamp(*(Path(folder) for folder in zoneinfo.TZPATH))


def _folder(folder: Path, suffixes: Sequence[str]) -> str:
    """Name and fingerprint of every entry of `folder` with one of `suffixes`, as check would list them."""
    if not folder.exists():
        return "-"
    if not folder.is_dir():
        raise Unusual(str(folder))
    try:
        entries = sorted(p for p in folder.iterdir() if p.suffix in suffixes)
    except OSError as exc:
        raise Unusual(str(folder)) from exc
    return "\n".join(f"{p.name}\t{content(p)}" for p in entries)


def study_key(root: Path, language: str) -> str | None:
    """The key of a check of `root` in `language`, or None when an input is unusual (then nothing is kept)."""
    try:
        settings = sorted((k, v) for k, v in os.environ.items() if k.startswith("SURVEY_TUI_"))
        return memo_key(
            VERSION,
            str(root.resolve()),
            str(Path.cwd()),
            language,
            repr(settings),
            code_stamp(),
            content(root / "study.yaml"),
            _folder(root / "instruments", (".yaml", ".yml")),
            _folder(root / "tabs", (".yaml",)),
        )
    except (Unusual, OSError):
        return None


def dependency(kind: str, path: Path) -> list[str] | None:
    """An input found while checking: 'content' (a file's bytes) or 'stamp' (a database and its WAL, by
    device, inode, size and time, as the store's clean-check marker); None when it is unusual."""
    try:
        return [kind, str(path), _fingerprint(kind, path)]
    except Unusual:
        return None


def _fingerprint(kind: str, path: Path) -> str:
    if kind == "content":
        return content(path)
    return file_stamp(path, Path(f"{path}-wal"))


def kept(key: str | None) -> list[dict[str, Any]] | None:
    """The problems (as dictionaries) kept under `key` when every dependency kept with them is unchanged."""
    if key is None:
        return None
    entry = read_memo(KIND, key)
    if not isinstance(entry, dict) or not isinstance(entry.get("problems"), list):
        return None
    try:
        for kind, path, fingerprint in entry.get("depends", []):
            if _fingerprint(kind, Path(path)) != fingerprint:
                return None
    except (Unusual, ValueError, TypeError):
        return None
    return entry["problems"]


def keep(key: str | None, root: Path, language: str, problems: list[dict[str, Any]], depends: list[list[str]]) -> None:
    """Keep the answer, unless an input changed while it was computed (the key is taken again)."""
    if key is None or study_key(root, language) != key:
        return
    try:
        if any(_fingerprint(kind, Path(path)) != fingerprint for kind, path, fingerprint in depends):
            return
    except Unusual:
        return
    write_memo(KIND, key, {"problems": problems, "depends": depends})


def kept_value(kind: str, key: str | None) -> Any | None:
    """Another answer kept under a study's key (the home screen's summary of the files), or None."""
    entry = read_memo(kind, key) if key is not None else None
    return entry.get("value") if isinstance(entry, dict) else None


def keep_value(kind: str, key: str | None, root: Path, language: str, value: Any) -> None:
    """Keep another answer under a study's key, unless an input changed while it was computed."""
    if key is not None and study_key(root, language) == key:
        write_memo(kind, key, {"value": value})


def clear_expression_cache() -> None:
    """Drop the parsed expressions a check kept for reuse, if any were parsed (see cmd_check)."""
    module = sys.modules.get("survey_tui.core.instrument.expressions")
    if module is not None:
        module.parse_expression.cache_clear()
