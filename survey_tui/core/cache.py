"""The user's cache folder: what is safe to lose and never belongs in a study folder (parsed YAML, the
fingerprint of a database last checked clean)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(kind: str) -> Path:
    """The folder for one kind of entry (``SURVEY_TUI_CACHE_DIR`` moves them all)."""
    base = os.environ.get("SURVEY_TUI_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "survey-tui"
    )
    return Path(base) / kind
