"""The supervisor's view (T1.4): who is interviewing now and on which question, completes per interviewer per
day, quota progress, and the sync conflicts to resolve. It refreshes by itself when the study changes.

All reading is in core (fieldwork/supervision.py); this screen only lays it out. The change feed polls on
SQLite; a backend with push notifications (PostgreSQL LISTEN/NOTIFY) plugs in through `change_feed`.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from survey_tui.i18n import N_, _
from survey_tui.tui.footer import FittingFooter
from survey_tui.tui.localize import MODES, study_language
from survey_tui.tui.messages import Loaded, LoadFailed
from survey_tui.tui.render import fill_table


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
    SupervisorScreen #sv-summary { padding: 0 1; }
    """
    #: seconds between looks at the change token (SQLite); a push feed answers at once
    POLL_SECONDS = 2.0

    def __init__(self) -> None:
        super().__init__()
        self._feed: Any = None
        self._conflict_ids: list[int] = []
        self.refreshes = 0  # how many times the view was read (tests wait on it)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="sv-summary")
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

        self._feed = change_feed(self.app.study.store)  # type: ignore[attr-defined]
        self.poll()
        self.set_interval(self.POLL_SECONDS, self.poll)

    def on_unmount(self) -> None:
        if self._feed is not None:
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
            ["#", _("Interview"), _("Interviewer"), _("Since"), _("Answers that differ")],
            [
                (
                    str(c.id),
                    "—" if c.interview_id is None else str(c.interview_id),
                    c.interviewer or "—",
                    c.created_at[:16].replace("T", " "),
                    ", ".join(c.differing) or _("status only"),
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
            _("conflict #{id}: kept the server's interview")
            if keep == "server"
            else _("conflict #{id}: kept the device's interview")
        )
        self.app.call_from_thread(self.app.notify, kept.format(id=conflict_id))
        self._read()
