"""Time from the shell to a text on the terminal: a command run in a pseudo-terminal, as a user runs it.

The headless ``run_test`` measure leaves out the interpreter, the imports and the terminal driver, which
are most of what a user waits for; this reads what the program writes to a real pty until `marker` shows.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Sequence
from pathlib import Path

_ESCAPES = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|.)")

MINIMAL_APP = """
from textual.app import App
from textual.widgets import Static

class Minimal(App):
    def compose(self):
        yield Static("minimal app ready")

Minimal().run()
"""


def time_to_marker(
    argv: Sequence[str], marker: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> float:
    """Seconds from spawning `argv` on a 120x40 pty until `marker` is on the screen (escapes stripped)."""
    return measure_to_marker(argv, marker, cwd, env, timeout)[0]


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time the process (all its threads) has used so far (Linux's /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def measure_to_marker(
    argv: Sequence[str], marker: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> tuple[float, float | None]:
    """(wall seconds, CPU seconds of the program) from spawning `argv` on a 120x40 pty until `marker` is on
    the screen. The CPU time is read the moment the marker shows: on a shared machine it is the steadier
    figure (wall time also counts the time other programs had the cores), to 10 ms (the kernel's tick)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    environment = {**os.environ, **(env or {}), "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv), stdin=follower, stdout=follower, stderr=follower, cwd=cwd, env=environment, start_new_session=True
    )
    os.close(follower)
    seen = b""
    wanted = marker.encode()
    try:
        while True:
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"{marker!r} did not appear in {timeout} s; last output: {seen[-400:]!r}")
            ready, _, _ = select.select([leader], [], [], 0.05)
            if not ready:
                if proc.poll() is not None:
                    raise RuntimeError(f"exited with {proc.returncode} before {marker!r}: {seen[-400:]!r}")
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                chunk = b""
            seen += chunk
            if wanted in _ESCAPES.sub(b"", seen[-200_000:]):
                return time.perf_counter() - start, _cpu_seconds(proc.pid)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        os.close(leader)


def app_start(study: Path, repo: Path, ui_lang: str = "en") -> float:
    return app_start_measure(study, repo, ui_lang)[0]


def app_start_measure(study: Path, repo: Path, ui_lang: str = "en") -> tuple[float, float | None]:
    """survey-tui on `study`, from the shell to the home screen's data (in the given interface language:
    zh-TW also reads its gettext catalog). In English the marker is the counts line; in zh-TW the study
    folder's name, shown on the same card once the data is read (Chinese text may reach the terminal in
    pieces, between cursor moves, so it is no reliable marker)."""
    env = {"PYTHONPATH": str(repo), "SURVEY_TUI_UI_LANG": ui_lang}
    argv = [sys.executable, "-m", "survey_tui", str(study)]
    marker = "completed in the field:" if ui_lang == "en" else study.name
    return measure_to_marker(argv, marker, env=env)


def minimal_app_start() -> float:
    """A minimal Textual app from the shell to its one line: the floor any Textual app pays."""
    return minimal_app_measure()[0]


def minimal_app_measure() -> tuple[float, float | None]:
    """(wall, CPU) of a minimal Textual app from the shell to its one line."""
    return measure_to_marker([sys.executable, "-c", MINIMAL_APP], "minimal app ready")
