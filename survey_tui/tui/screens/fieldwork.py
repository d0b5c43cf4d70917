"""Fieldwork (T1.4): every interview with its mode, interviewer, status, outcome and version; the call queue,
AAPOR rates, interviewer productivity and back-checks (T1.3 P1.3.3), and the call screen (`c`)."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from survey_tui.core.interview.messages import outcome_word, status_word
from survey_tui.i18n import N_, _, study_language, worded
from survey_tui.tui.footer import FittingFooter
from survey_tui.tui.keys import KeyedModal
from survey_tui.tui.localize import MODES
from survey_tui.tui.messages import Loaded, LoadFailed
from survey_tui.tui.render import cells, fill_table

#: status and outcome share a column: an ended interview shows its outcome ("screened out" says it was
#: terminated), one still open its status; so the list fits 80 columns in both interface languages
COLUMNS = ("#", N_("Mode"), N_("Interviewer"), N_("Status"), N_("Started"), N_("Version"), N_("Answers"))
QUERY = """
SELECT i.id, i.mode, COALESCE(i.interviewer, '—'), i.status, COALESCE(i.outcome, '—'),
       substr(i.started_at, 1, 16), v.instrument_id, v.version,
       (SELECT COUNT(*) FROM answers a WHERE a.interview_id = i.id)
FROM interviews i JOIN instrument_versions v ON v.id = i.instrument_version_id
ORDER BY i.id DESC LIMIT 500
"""


class FieldworkScreen(Screen[None]):
    BINDINGS = [
        Binding("n", "new_interview('field')", N_("New interview"), id="fieldwork.new", tooltip=N_("Field interview")),
        Binding(
            "u", "resume_interview", N_("Resume"), id="fieldwork.resume", tooltip=N_("Resume the selected interview")
        ),
        Binding(
            "p", "new_interview('pilot')", N_("Pilot"), id="fieldwork.pilot", tooltip=N_("Capture a pilot interview")
        ),
        Binding("r", "refresh", N_("Refresh"), id="fieldwork.refresh", tooltip=N_("Read the interviews again")),
        Binding(
            "y", "sync", N_("Sync"), id="fieldwork.sync", tooltip=N_("Laptop copy: send interviews, fetch assignments")
        ),
        Binding(
            "v",
            "supervise",
            N_("Supervisor"),
            id="fieldwork.supervisor",
            tooltip=N_("Who is interviewing now, completes per day, quotas, sync conflicts"),
        ),
        Binding("c", "calls", N_("Calls"), id="fieldwork.calls", tooltip=N_("Call screen: next case from the queue")),
        Binding(
            "d", "productivity", N_("Productivity"), id="fieldwork.productivity", tooltip=N_("Per interviewer and day")
        ),
        Binding("k", "backchecks", N_("Back-checks"), id="fieldwork.backchecks", tooltip=N_("Sample, record, flag")),
        Binding(
            "a",
            "rates",
            N_("Rates by group"),
            id="fieldwork.rates",
            tooltip=N_("AAPOR rates by interviewer, by day and by quota cell"),
        ),
    ]

    def action_sync(self) -> None:
        self.sync()

    @work(thread=True, exclusive=True, group="fieldwork-sync")
    def sync(self) -> None:
        """A laptop copy: push to its server and pull (as `survey-tui sync`); anything else says what it is."""
        from survey_tui.core.problems import LoadError
        from survey_tui.core.store.sqlite import StoreError
        from survey_tui.core.store.sync import device_link, open_server, sync_device

        notify = self.app.notify
        try:
            with self.app.study.store() as device:  # type: ignore[attr-defined]
                link = device_link(device)
                if link is None:
                    self.app.call_from_thread(
                        notify, _("this study is not a laptop copy: nothing to sync"), severity="information"
                    )
                    return
                server = open_server(link.server)
                try:
                    report = sync_device(device, server)
                finally:
                    server.store.close()
        except (StoreError, LoadError) as exc:
            self.app.call_from_thread(
                notify, _("sync failed, nothing lost: {error}").format(error=exc), severity="warning", timeout=10
            )
            return
        self.app.call_from_thread(notify, "\n".join(report.lines()), title=_("Synced"), timeout=10)
        self.app.call_from_thread(self.action_refresh)

    def action_supervise(self) -> None:
        from survey_tui.tui.screens.supervisor import SupervisorScreen

        self.app.push_screen(SupervisorScreen(), lambda _: self.action_refresh())

    def action_calls(self) -> None:
        from survey_tui.tui.screens.calls import CallScreen

        self.app.push_screen(CallScreen(), lambda _: self.action_refresh())

    def action_rates(self) -> None:
        self.app.push_screen(RatesScreen())

    def action_productivity(self) -> None:
        self.app.push_screen(ProductivityScreen())

    def action_backchecks(self) -> None:
        self.app.push_screen(BackcheckScreen(), lambda _: self.action_refresh())

    def action_new_interview(self, mode: str) -> None:
        from survey_tui.tui.screens.interview import StartScreen

        self.app.push_screen(StartScreen(mode=mode), lambda _: self.action_refresh())

    def action_resume_interview(self) -> None:
        table = self.query_one("#interview-list", DataTable)
        if table.row_count == 0:
            return
        interview_id = int(str(table.get_row_at(table.cursor_row)[0]))
        self.resume(interview_id)

    @work(thread=True, exclusive=True, group="fieldwork-resume")
    def resume(self, interview_id: int) -> None:
        from survey_tui.core.interview.capture import CaptureError, resume_session

        try:
            session = resume_session(self.app.study, interview_id)  # type: ignore[attr-defined]
        except CaptureError as exc:
            self.app.call_from_thread(self.app.notify, str(exc), severity="warning")
            return
        self.app.call_from_thread(self._open_form, session)

    def _open_form(self, session: object) -> None:
        from survey_tui.tui.screens.interview import InterviewScreen

        self.app.push_screen(InterviewScreen(session), lambda _: self.action_refresh())  # type: ignore[arg-type]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="fieldwork-summary")
        yield Static("", id="fieldwork-calls")
        yield DataTable(id="interview-list", cursor_type="row", zebra_stripes=True)
        yield FittingFooter()

    def on_mount(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="fieldwork")
    def load(self) -> None:
        try:
            with self.app.study.store() as store:  # type: ignore[attr-defined]
                rows = [tuple(r) for r in store.query(QUERY)]
                total = int(store.query("SELECT COUNT(*) FROM interviews")[0][0])
                calls = calls_summary(self.app.study, store)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - reported on screen
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(Loaded((rows, total, calls)))

    def on_resize(self, event: Resize) -> None:
        if getattr(self, "_calls", None):
            self.query_one("#fieldwork-calls", Static).update(pack_lines(self._calls, event.size.width - 2))

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#fieldwork-summary", Static).update(_("[b red]{error}[/]").format(error=message.error))

    def on_loaded(self, message: Loaded) -> None:
        rows, total, calls = message.data
        self._calls = calls
        self.query_one("#fieldwork-calls", Static).update(pack_lines(calls, self.app.size.width - 2))
        instruments = sorted({str(r[6]) for r in rows})
        shown_rows = []
        for row in rows:
            # status and outcome read as words ("screened out"); ids such as the instrument's stay as they are
            iid, mode, interviewer, status, outcome, started, instrument, version, answers = row
            shown_rows.append(
                (
                    str(iid),
                    _(MODES.get(mode, mode)),
                    str(interviewer),
                    status_word(status) if outcome == "—" else outcome_word(outcome),
                    str(started).replace("T", " "),
                    f"v{version}" if len(instruments) == 1 else f"{instrument} v{version}",
                    str(answers),
                )
            )
        fill_table(self.query_one("#interview-list", DataTable), [_(c) for c in COLUMNS], shown_rows)
        shown = _("newest {n} of {total}").format(n=len(rows), total=total) if total > len(rows) else f"{total}"
        summary = _("Interviews: {shown}").format(shown=shown)
        if len(instruments) == 1:  # one instrument: named once here, its version in each row
            summary += f" · {instruments[0]}"
        self.query_one("#fieldwork-summary", Static).update(summary)


#: the rates the Fieldwork screen shows (all sixteen are printed by `survey-tui fieldwork rates`)
SHOWN_RATES = ("RR1", "RR3", "COOP1", "REF1", "CON1")


def pack_lines(lines: list[list[str]], width: int) -> str:
    """Each line's items joined by two spaces, wrapped between items (never inside one) by display width."""
    out: list[str] = []
    for items in lines:
        line = ""
        for item in items:
            if line and cells(line) + 2 + cells(item) > width:
                out.append(line)
                line = "  " + item
            else:
                line = f"{line}  {item}" if line else item
        out.append(line)
    return "\n".join(out)


def calls_summary(study: object, store: object) -> list[list[str]]:
    """The queue's board and the headline AAPOR rates with their numerators and denominators, as lines of
    items that `pack_lines` wraps to the screen's width."""
    from survey_tui.core.fieldwork import rates
    from survey_tui.core.fieldwork.call_queue import BOARD_WORDS, for_study
    from survey_tui.core.fieldwork.dispositions import settings_of

    board = for_study(study, store).board()
    table = rates.overall(store, settings_of(study.config))  # type: ignore[attr-defined]
    queue = [_("Queue: ") + ", ".join(f"{_(BOARD_WORDS.get(k, k))} {v}" for k, v in board.items())]
    groups = [_("Cases: ") + ", ".join(f"{g} {n}" for g, n in table.counts.items()) + f"; e = {table.e:.3f}"]
    shown = [f"{named_rate(n)}{table.rates[n].text().removeprefix(n)}" for n in SHOWN_RATES]
    return [queue, groups, [_("AAPOR:"), *shown]]


def named_rate(code: str) -> str:
    """'RR1 應答率' where the interface language names the rate; the bare code in English, where researchers
    read the codes themselves."""
    translated = _(RATE_NAMES[code]) if code in RATE_NAMES else code
    return code if code not in RATE_NAMES or translated == RATE_NAMES[code] else translated


class RatesScreen(KeyedModal[None]):
    """The AAPOR rates of each group of cases, with numerators and denominators; g changes the grouping.

    Each rate is its percentage over its numerator/denominator (two lines a row), so the five rates and the
    group fit at 80 columns; a quota cell shows the quota's label over the cell's."""

    GROUPINGS = ("interviewer", "day", "quota")
    WORDS = {"interviewer": N_("by interviewer"), "day": N_("by day"), "quota": N_("by quota cell")}
    #: the rates module's placeholders for a case without a group
    NO_GROUP = {"(none)": N_("(unassigned)"), "(not called)": N_("(not called)"), "(unknown)": N_("(unknown)")}
    BINDINGS = [
        Binding("escape,b", "close", N_("Close")),
        Binding("g", "next_grouping", N_("Grouping"), tooltip=N_("By interviewer, by day, by quota cell")),
    ]

    def compose(self) -> ComposeResult:
        yield Static("", id="rates-title")
        yield DataTable(id="rates-table", zebra_stripes=True)
        yield Static("", id="rates-message")

    def on_mount(self) -> None:
        self.grouping = self.GROUPINGS[0]
        self.load()

    @work(thread=True, exclusive=True, group="rates")
    def load(self) -> None:
        from survey_tui.core.fieldwork import rates
        from survey_tui.core.fieldwork.dispositions import settings_of

        study = self.app.study  # type: ignore[attr-defined]
        try:
            with study.store() as store:
                tables = rates.by(store, self.grouping, settings_of(study.config), study.config.quotas)
        except Exception as exc:  # noqa: BLE001 - shown on screen
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(Loaded(tables))

    def group_label(self, label: str) -> str:
        """'gender_age: 女 × 15-29' -> the quota's label over the cell; placeholders in the interface language."""
        if label in self.NO_GROUP:
            return _(self.NO_GROUP[label])
        if self.grouping != "quota":
            return label
        config = self.app.study.config  # type: ignore[attr-defined]
        titles = {q.name: q.title(study_language(config.languages)) for q in config.quotas}
        name, _sep, cell = label.partition(": ")
        return f"{titles.get(name, name)}\n{_(self.NO_GROUP.get(cell, cell)) if cell in self.NO_GROUP else cell}"

    def on_loaded(self, message: Loaded) -> None:
        title = _("AAPOR rates {grouping} (g: change) · rate over numerator / denominator")
        self.query_one("#rates-title", Static).update(title.format(grouping=_(self.WORDS[self.grouping])))
        headers = [_("Group"), _("Cases"), "e", *[rate_name(n) for n in SHOWN_RATES]]
        rows = [
            (self.group_label(g.label), str(g.cases), f"{g.e:.3f}", *[rate_cell(g.rates[n]) for n in SHOWN_RATES])
            for g in message.data
        ]
        fill_table(self.query_one("#rates-table", DataTable), headers, rows, height=2)
        self.query_one("#rates-message", Static).update("" if message.data else _("No cases yet."))

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#rates-message", Static).update(_("[b red]{error}[/]").format(error=message.error))

    def action_next_grouping(self) -> None:
        self.grouping = self.GROUPINGS[(self.GROUPINGS.index(self.grouping) + 1) % len(self.GROUPINGS)]
        self.load()

    def action_close(self) -> None:
        self.dismiss(None)


#: AAPOR's rate names in the interface language; the code stays, as researchers know it
RATE_NAMES = {
    "RR1": N_("RR1 response"),
    "RR3": N_("RR3 response"),
    "COOP1": N_("COOP1 coop."),
    "REF1": N_("REF1 refusal"),
    "CON1": N_("CON1 contact"),
}


def rate_name(code: str) -> str:
    """'RR1' over its name ('應答率'), for a two-line column header."""
    name = _(RATE_NAMES[code]) if code in RATE_NAMES else code
    return name.replace(" ", "\n", 1) if name.startswith(code) else code


def rate_cell(rate: object) -> str:
    """'66.7%' over '38/57': the rate over its numerator and denominator (two lines)."""
    from survey_tui.core.fieldwork.rates import _n

    value = rate.value  # type: ignore[attr-defined]
    shown = "—" if value is None else f"{100 * value:.1f}%"
    return f"{shown}\n{_n(rate.numerator)}/{_n(rate.denominator)}"  # type: ignore[attr-defined]


#: the productivity columns (core/fieldwork/productivity.py) as two-line headers, so ten fit in 80 columns
PRODUCTIVITY_HEADERS = {
    "interviewer": N_("Inter-\nviewer"),
    "day": N_("Day"),
    "calls": N_("Calls"),
    "contacts": N_("Con-\ntacts"),
    "completes": N_("Com-\npletes"),
    "refusals": N_("Refu-\nsals"),
    "hours": N_("Hours"),
    "completes_per_hour": N_("Per\nhour"),
    "median_minutes": N_("Median\nmin."),
    "speeding": N_("Too\nfast"),
}


class ProductivityScreen(KeyedModal[None]):
    """Calls, contacts, completes, refusals, hours and speeding per interviewer and day; x / X write files."""

    BINDINGS = [
        Binding("escape,b", "close", N_("Close")),
        Binding("x", "export('csv')", "CSV", tooltip=N_("Write exports/productivity.csv")),
        Binding("X", "export('xlsx')", "xlsx", tooltip=N_("Write exports/productivity.xlsx")),
    ]

    def compose(self) -> ComposeResult:
        yield Static(_("Productivity per interviewer and day (x: CSV, X: xlsx)"), id="prod-title")
        yield DataTable(id="prod-table", zebra_stripes=True)
        yield Static("", id="prod-message")

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="productivity")
    def load(self, export: str | None = None) -> None:
        from survey_tui.core.fieldwork.dispositions import settings_of
        from survey_tui.core.fieldwork.productivity import productivity, write

        study = self.app.study  # type: ignore[attr-defined]
        try:
            with study.store() as store:
                frame = productivity(store, settings_of(study.config))
            note = ""
            if export:
                target = write(frame, study.export_target(f"productivity.{export}"))
                note = _("wrote {path}").format(path=study.relative(target))
        except Exception as exc:  # noqa: BLE001 - shown on screen
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(Loaded((frame, note)))

    def on_loaded(self, message: Loaded) -> None:
        frame, note = message.data
        headers = [_(PRODUCTIVITY_HEADERS[c]) if c in PRODUCTIVITY_HEADERS else c for c in frame.columns]
        rows = [tuple("—" if v is None else str(v) for v in row) for row in frame.iter_rows()]
        fill_table(self.query_one("#prod-table", DataTable), headers, rows)
        self.query_one("#prod-message", Static).update(note)

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#prod-message", Static).update(_("[b red]{error}[/]").format(error=message.error))

    def action_export(self, kind: str) -> None:
        self.load(kind)

    def action_close(self) -> None:
        self.dismiss(None)


#: a back-check's result as the store keeps it, in words of the interface
BACKCHECK_RESULTS = {
    "confirmed": N_("confirmed"),
    "not_confirmed": N_("not confirmed"),
    "not_reached": N_("could not reach"),
}


#: one row per interviewer: the sample drawn from their completes and what the calls back found
BACKCHECK_HEADERS = (
    N_("Inter-\nviewer"),
    N_("Com-\npletes"),
    N_("Sampled"),
    N_("Con-\nfirmed"),
    N_("Not con-\nfirmed"),
    N_("Not\nreached"),
    N_("Failure"),
    "",
)


class BackcheckScreen(KeyedModal[None]):
    """The back-check form: draw a sample (seed stored), then record each call back with one key."""

    BINDINGS = [
        Binding("escape,b", "close", N_("Close")),
        Binding(
            "d", "draw", N_("Draw sample"), tooltip=N_("Sample each interviewer's completes (share from study.yaml)")
        ),
        Binding("y", "record('confirmed')", N_("Confirmed")),
        Binding("n", "record('not_confirmed')", N_("Not confirmed")),
        Binding("u", "record('not_reached')", N_("Could not reach")),
    ]

    def compose(self) -> ComposeResult:
        yield Static(_("Back-checks: d draw · y confirmed · n not confirmed · u could not reach"), id="bc-title")
        yield DataTable(id="bc-summary", zebra_stripes=True, cursor_type="none")
        yield DataTable(id="bc-pending", cursor_type="row", zebra_stripes=True)
        yield Static("", id="bc-message")

    def on_mount(self) -> None:
        self.pending: list[int] = []
        self.run("load")

    @work(thread=True, exclusive=True, group="backchecks")
    def run(self, what: str, interview_id: int | None = None, result: str | None = None) -> None:
        from survey_tui.core.fieldwork import backchecks
        from survey_tui.core.fieldwork.dispositions import settings_of

        study = self.app.study  # type: ignore[attr-defined]
        settings = settings_of(study.config).backcheck
        note = ""
        try:
            with study.store() as store:
                if what == "draw":
                    sample = backchecks.draw(store, settings.share)
                    count = sum(len(v) for v in sample.drawn.values())
                    note = _("sample #{id}: {count} interviews, seed {seed}").format(
                        id=sample.id, count=count, seed=sample.seed
                    )
                elif what == "record" and interview_id is not None and result is not None:
                    backchecks.record(store, interview_id, result)
                    word = worded(BACKCHECK_RESULTS, result)
                    note = f"#{interview_id}: {word}"
                summary = backchecks.summary(store, settings.failure_threshold)
                pending = [tuple(r) for r in backchecks.pending(store)]
        except Exception as exc:  # noqa: BLE001 - shown on screen, nothing changed
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(Loaded((summary, pending, note, settings.failure_threshold)))

    def on_loaded(self, message: Loaded) -> None:
        summary, pending, note, threshold = message.data
        flag = _("⚑ above {threshold}").format(threshold=f"{threshold:.0%}")
        fill_table(
            self.query_one("#bc-summary", DataTable),
            [_(h) for h in BACKCHECK_HEADERS],
            [
                (
                    r.interviewer,
                    str(r.completes),
                    str(r.sampled),
                    str(r.confirmed),
                    str(r.not_confirmed),
                    str(r.not_reached),
                    "—" if r.failure_rate is None else f"{r.failure_rate:.0%}",
                    flag if r.flagged else "",
                )
                for r in summary
            ],
        )
        if not summary:
            note = note or _("No completes yet.")
        self.pending = [int(r[0]) for r in pending]
        fill_table(
            self.query_one("#bc-pending", DataTable),
            [_("Interview"), _("Interviewer"), _("Respondent")],
            [(f"#{r[0]}", r[1] or "—", r[2] or "—") for r in pending],
        )
        self.query_one("#bc-message", Static).update(note)

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#bc-message", Static).update(_("[b red]{error}[/]").format(error=message.error))

    def action_draw(self) -> None:
        self.run("draw")

    def action_record(self, result: str) -> None:
        table = self.query_one("#bc-pending", DataTable)
        if not self.pending or table.cursor_row is None or table.cursor_row >= len(self.pending):
            return
        self.run("record", self.pending[table.cursor_row], result)

    def action_close(self) -> None:
        self.dismiss(None)
