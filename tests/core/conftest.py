"""Fixtures shared by the core's tests."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from survey_tui.core.store import sqlite as store_module
from survey_tui.core.store.sqlite import Store


@pytest.fixture
def demo(demo_study_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the run's demo study that a test may edit, with a user cache of its own (the cached `check`
    and home-screen figures are keyed by the files, so a shared cache would answer for another test's copy)."""
    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(tmp_path / "cache"))
    target = tmp_path / "demo-study"
    shutil.copytree(demo_study_dir, target)
    return target


class _Recording:
    """A store's connection that notes each quick_check as it is asked for (a statement SQLite cannot even
    prepare on a damaged file never reaches a trace callback)."""

    def __init__(self, conn: sqlite3.Connection, checks: list[str]) -> None:
        self._real, self._checks = conn, checks

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if "quick_check" in sql:
            self._checks.append(sql)
        return self._real.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)


@pytest.fixture
def checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The quick_checks every store opened from now on runs (this process's memory of clean files emptied)."""
    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(store_module, "_KNOWN_CLEAN", {})
    statements: list[str] = []
    connect = Store._connect

    def recording(self: Store) -> sqlite3.Connection:
        return _Recording(connect(self), statements)  # type: ignore[return-value]

    monkeypatch.setattr(Store, "_connect", recording)
    return statements
