"""Write to a temporary file beside the target, fsync, then rename: a crash never leaves half a file.

Every file the tool writes for people (study.yaml, instruments, exports, reports) goes through here, and
none is renamed into place while the database it was made from is still being checked (core.store.check_behind).
The user's cache (`cached=True`) is not held up: each entry is keyed by what it was made from.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from survey_tui.core.store.check_behind import confirm_clean


@contextmanager
def atomic_path(path: Path, *, cached: bool = False) -> Iterator[Path]:
    """A temporary path beside `path` for writers that want a file name (pyreadstat, polars, python-docx);
    renamed onto `path` only if the block finishes without error (and, unless it is a cache entry, no
    check of the database is still in flight or found it damaged)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        if not cached:
            confirm_clean()  # made from a database still being checked: only once it is found clean
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes, *, cached: bool = False) -> None:
    with atomic_path(path, cached=cached) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: Path, text: str, *, cached: bool = False) -> None:
    """UTF-8 with '\\n' line ends, whatever the platform (files people diff)."""
    write_bytes_atomic(path, text.encode("utf-8"), cached=cached)
