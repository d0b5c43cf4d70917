"""The supervisor's view (T1.4): who is interviewing now and on which question, completes per interviewer per
day, quota progress, and the sync conflicts to resolve. It refreshes by itself when the study changes.

All reading is in core (fieldwork/supervision.py); this screen only lays it out. On SQLite the change feed
is polled on a timer. On PostgreSQL the feed listens (LISTEN/NOTIFY, core/store/notify.py): a worker thread
waits on it and reads the view again when told of a change, at most every DEBOUNCE_SECONDS, so a burst of
answers is one refresh; when the listening connection drops the line under the title says so while the feed
polls, until it listens again. Nothing here blocks the UI thread.
"""

from __future__ import annotations

import time
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from survey_tui.i18n import N_, _, study_language
from survey_tui.tui.footer import FittingFooter
from survey_tui.tui.localize import MODES
from survey_tui.tui.messages import Loaded, LoadFailed
from survey_tui.tui.render import fill_table


def _conflict_subject(conflict: Any) -> str:
    """What a conflict is about: an interview number, or the respondent changed on both sides."""
    if conflict.kind == "respondent":
        return _("respondent {id}").format(id=conflict.respondent_id)
    return "—" if conflict.interview_id is None else str(conflict.interview_id)


class FeedChanged(Message):
    """The way the view learns of changes changed (listening, or polling because the connection dropped)."""

    def __init__(self, listening: bool, text: str) -> None:
        super().__init__()
        self.listening = listening
        self.text = text


class SupervisorScreen(Screen[None]):
    BINDINGS = [
        Binding(
            "escape",
            "app.pop_screen",
            N_("Back to list"),
            id="supervisor.back",
            tooltip=N_("Back to the interview list"),
        ),
        Binding("r", "refresh", N_("Refresh"), id="supervisor.refresh", tooltip=N_("Read everything again now")),
        Binding(
            "S",
            "resolve('server')",
            N_("Keep server"),
            id="supervisor.keep_server",
            tooltip=N_("Conflict: keep the server's interview"),
        ),
        Binding(
            "D",
            "resolve('device')",
            N_("Keep device"),
            id="supervisor.keep_device",
            tooltip=N_("Conflict: keep the device's interview"),
        ),
    ]
    DEFAULT_CSS = """
    SupervisorScreen DataTable { height: auto; max-height: 14; margin-bottom: 1; }
    SupervisorScreen .sv-title { text-style: bold; padding: 0 1; }
    SupervisorScreen #sv-summary, SupervisorScreen #sv-feed { padding: 0 1; }
    """
    #: seconds between looks at the change token (SQLite); a push feed answers at once
    POLL_SECONDS = 2.0
    #: a push feed: the view is read at most this often, however fast the notifications come
    DEBOUNCE_SECONDS = 0.5
    #: a push feed: how long the worker waits on it at a time (so leaving the screen stops it soon)
    WAIT_SECONDS = 0.5

    def __init__(self) -> None:
        super().__init__()
        self._feed: Any = None
        self._pushed = False
        self._conflict_ids: list[int] = []
        self.refreshes = 0  # how many times the view was read (tests wait on it)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="sv-summary")
        yield Static("", id="sv-feed")
        with VerticalScroll():
            yield Static(_("Interviewing now"), classes="sv-title")
            yield DataTable(id="sv-live", cursor_type="row", zebra_stripes=True)
            yield Static(_("Completes per interviewer per day"), classes="sv-title")
            yield DataTable(id="sv-completes", cursor_type="row", zebra_stripes=True)
            yield Static(_("Quota progress"), classes="sv-title")
            yield DataTable(id="sv-quotas", cursor_type="row", zebra_stripes=True)
            yield Static(_("Conflicts to resolve (S keep server, D keep device)"), classes="sv-title")
            yield DataTable(id="sv-conflicts", cursor_type="row", zebra_stripes=True)
        yield FittingFooter()

    def on_mount(self) -> None:
        from survey_tui.core.fieldwork.supervision import change_feed

        study = self.app.study  # type: ignore[attr-defined]
        backend = "sqlite" if study.server_url is None else "postgresql"
        self._feed = change_feed(study.store, backend)
        self._pushed = bool(getattr(self._feed, "pushes", False))
        if self._pushed:
            self.listen()
        else:
            self.query_one("#sv-feed", Static).update(
                "[dim]" + _("looks for changes every {seconds} s").format(seconds=f"{self.POLL_SECONDS:g}") + "[/]"
            )
            self.poll()
            self.set_interval(self.POLL_SECONDS, self.poll)

    def on_unmount(self) -> None:
        if self._feed is not None and not self._pushed:  # a push feed is closed by its own worker
            self._feed.close()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="supervisor-poll")
    def poll(self) -> None:
        try:
            if self._feed is not None and self._feed.changed():
                self._read()
        except Exception as exc:  # noqa: BLE001 - reported on screen; the next poll tries again
            self.post_message(LoadFailed(str(exc)))

    @work(thread=True, exclusive=True, group="supervisor-listen")
    def listen(self) -> None:
        """Wait on the push feed; read the view when it says the study changed (debounced)."""
        from textual.worker import get_current_worker

        worker = get_current_worker()
        feed = self._feed
        said: Any = None
        pending, next_read = True, 0.0  # the first read at once
        try:
            while not worker.is_cancelled:
                wait = max(0.0, next_read - time.monotonic()) if pending else self.WAIT_SECONDS
                moved = feed.changed(timeout=min(wait, self.WAIT_SECONDS))
                if feed.state != said:
                    said = feed.state
                    self.post_message(FeedChanged(said.listening, said.message))
                pending = pending or moved
                if not pending or time.monotonic() < next_read or worker.is_cancelled:
                    continue  # a burst of notifications within DEBOUNCE_SECONDS is one read
                try:
                    self._read()
                    pending, next_read = False, time.monotonic() + self.DEBOUNCE_SECONDS
                except Exception as exc:  # noqa: BLE001 - reported on screen; read again a little later
                    self.post_message(LoadFailed(str(exc)))
                    next_read = time.monotonic() + self.POLL_SECONDS
        finally:
            feed.close()

    def on_feed_changed(self, message: FeedChanged) -> None:
        line = self.query_one("#sv-feed", Static)
        line.update(f"[dim]{message.text}[/]" if message.listening else f"[b yellow]{message.text}[/]")

    @work(thread=True, exclusive=True, group="supervisor-load")
    def load(self) -> None:
        try:
            self._read()
        except Exception as exc:  # noqa: BLE001 - reported on screen
            self.post_message(LoadFailed(str(exc)))

    def _read(self) -> None:
        from survey_tui.core.fieldwork.supervision import supervisor_view

        study = self.app.study  # type: ignore[attr-defined]
        with study.store() as store:
            view = supervisor_view(store, study.config.quotas)
        self.post_message(Loaded(view))

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#sv-summary", Static).update(_("[b red]{error}[/]").format(error=message.error))

    def on_loaded(self, message: Loaded) -> None:
        view = message.data
        config = self.app.study.config  # type: ignore[attr-defined]
        language = study_language(config.languages)
        fill_table(
            self.query_one("#sv-live", DataTable),
            ["#", _("Interviewer"), _("Mode"), _("On question"), _("Answers"), _("Last activity"), ""],
            [
                (
                    str(li.interview_id),
                    li.interviewer or "—",
                    _(MODES.get(li.mode, li.mode)),
                    li.question or "—",
                    str(li.answers),
                    li.last_activity[:19].replace("T", " "),
                    _("idle") if li.idle else _("active"),
                )
                for li in view.live
            ],
        )
        fill_table(
            self.query_one("#sv-completes", DataTable),
            [_("Day"), _("Interviewer"), _("Completes")],
            [(day.day, day.interviewer or "—", str(day.completes)) for day in view.completes],
        )
        titles = {q.name: q.title(language) for q in config.quotas}
        fill_table(
            self.query_one("#sv-quotas", DataTable),
            [_("Quota"), _("Cell"), _("Completes"), _("Target"), ""],
            [
                (
                    titles.get(cell.quota, cell.quota),
                    " × ".join(cell.cell),
                    str(cell.completes),
                    "—" if cell.target is None else str(cell.target),
                    _("FULL") if cell.full else "",
                )
                for cell in view.quotas
            ],
        )
        self._conflict_ids = [c.id for c in view.conflicts]
        fill_table(
            self.query_one("#sv-conflicts", DataTable),
            ["#", _("Interview / respondent"), _("Interviewer"), _("Since"), _("What differs")],
            [
                (
                    str(c.id),
                    _conflict_subject(c),
                    c.interviewer or "—",
                    c.created_at[:16].replace("T", " "),
                    ", ".join(c.differing) or (_("nothing now") if c.kind == "respondent" else _("status only")),
                )
                for c in view.conflicts
            ],
        )
        active = sum(1 for li in view.live if not li.idle)
        self.query_one("#sv-summary", Static).update(
            _(
                "{active} interviewing now ({live} in progress) · {completes} completes · "
                "{conflicts} conflicts to resolve"
            ).format(
                active=active,
                live=len(view.live),
                completes=sum(d.completes for d in view.completes),
                conflicts=len(view.conflicts),
            )
        )
        self.refreshes += 1

    def action_resolve(self, keep: str) -> None:
        table = self.query_one("#sv-conflicts", DataTable)
        if not self._conflict_ids or table.row_count == 0:
            self.app.notify(_("no conflict to resolve"), severity="information")
            return
        self.resolve(self._conflict_ids[table.cursor_row], keep)

    @work(thread=True, exclusive=True, group="supervisor-resolve")
    def resolve(self, conflict_id: int, keep: str) -> None:
        from survey_tui.core.store.sqlite import StoreError
        from survey_tui.core.store.sync import resolve_conflict

        try:
            with self.app.study.store() as store:  # type: ignore[attr-defined]
                resolve_conflict(store, conflict_id, keep, actor="supervisor")
        except StoreError as exc:
            self.app.call_from_thread(self.app.notify, str(exc), severity="warning")
            return
        kept = (
            _("conflict #{id}: kept the server's version")
            if keep == "server"
            else _("conflict #{id}: kept the device's version")
        )
        self.app.call_from_thread(self.app.notify, kept.format(id=conflict_id))
        self._read()
