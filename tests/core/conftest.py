"""Fixtures shared by the core's tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def demo(demo_study_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the run's demo study that a test may edit, with a user cache of its own (the cached `check`
    and home-screen figures are keyed by the files, so a shared cache would answer for another test's copy)."""
    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(tmp_path / "cache"))
    target = tmp_path / "demo-study"
    shutil.copytree(demo_study_dir, target)
    return target
