"""Located problems: what a researcher needs to fix a file without reading a traceback.

Messages are worded in the interface language where they are made; the `file:line: error:` frame around
them stays English on purpose, so editors and scripts that read compiler-style lines still find them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from survey_tui.i18n import _

Severity = Literal["error", "warning"]

#: C0/C1 controls, DEL, and the bidi overrides that reorder what a terminal shows
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: object) -> str:
    """Text from a file, safe to print: control and escape characters shown as \\xNN / \\uNNNN, so a file
    cannot clear the terminal, set its title or split one problem over several lines."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", str(text))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (file, line, question) and what to do about it."""

    file: str
    message: str
    line: int | None = None
    where: str | None = None  # a question name, a section, or a key path such as "sources[2].date"
    hint: str | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        place = self.file + (f":{self.line}" if self.line else "")
        text = f"{place}: {self.severity}: "
        if self.where:
            text += f"[{self.where}] "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return escape_controls(text)


class LoadError(Exception):
    """Raised with *every* problem of a file at once, so one run of `check` lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def too_large(size: int, limit: int, what: str) -> str | None:
    """The message for a file over its size limit (None when it is within it): stated before any parsing."""
    if size <= limit:
        return None
    return _("the file is {size:.1f} MiB, over the {limit:g} MiB limit for {what}; nothing was read").format(
        size=size / 1048576, limit=limit / 1048576, what=what
    )
