"""Fixtures shared by the core's tests."""

from __future__ import annotations

import shutil
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


@pytest.fixture
def checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The quick_checks this process asks for from now on, at open or for a check left behind (this
    process's memory of clean files emptied, and a user cache of the test's own); one a child process
    runs is not among them."""
    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(store_module, "_KNOWN_CLEAN", {})
    statements: list[str] = []
    here, inline = Store._check_here, Store._inline_check

    def checked_here(self: Store, fingerprint: str) -> None:
        statements.append("PRAGMA quick_check")  # asked for (SQLite may refuse the file before it runs)
        here(self, fingerprint)

    def checked_inline(self: Store, fingerprint: str) -> list[str]:
        statements.append("PRAGMA quick_check")
        return inline(self, fingerprint)

    monkeypatch.setattr(Store, "_check_here", checked_here)
    monkeypatch.setattr(Store, "_inline_check", checked_inline)
    return statements
