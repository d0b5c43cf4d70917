"""Messages that workers post back to screens (workers never touch widgets)."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class Loaded(Message):
    """A worker finished reading something for a screen; `data` is plain core objects."""

    def __init__(self, data: Any) -> None:
        super().__init__()
        self.data = data


class LoadFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error
