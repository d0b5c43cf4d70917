"""Respondents (T1.3): the recruitment list, its actions, contact-list import and the quota board.

The list is a window: each refresh reads one page (50 rows) with `respondents.page`, so 100,000
respondents cost the same as 400. Every read and write runs in a worker thread and comes back as a
message; widgets are only touched on the app's thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.markup import escape as escape_markup
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Header, Input, Label, OptionList, Select, Static

from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.fieldwork.attribute_words import AttributeWords
from survey_tui.core.fieldwork.quotas import cell_key, quota_counts, quota_titles
from survey_tui.i18n import N_, _
from survey_tui.tui.footer import FittingFooter
from survey_tui.tui.keys import KeyedModal
from survey_tui.tui.localize import respondent_status
from survey_tui.tui.messages import Loaded, LoadFailed
from survey_tui.tui.render import cells

PAGE_SIZE = 50
#: the list's columns, left to right: (key, header)
COLUMNS = (
    ("id", N_("ID")),
    ("status", N_("Status")),
    ("interviewer", N_("Interviewer")),
    ("eligible", N_("Eligible")),
    ("attempts", N_("Attempts")),
    ("appointment", N_("Appointment")),
    ("name", N_("Name")),
    ("phone", N_("Phone")),
    ("gender", N_("Gender")),
    ("age", N_("Age")),
)
#: which columns stay when the list is narrow, most needed first: the list shows the longest run of these
#: that fits its width (80 columns: id, status, interviewer, attempts); the rest are in the detail pane
#: beside the list, for the highlighted respondent, so nothing is out of reach and nothing scrolls sideways
PRIORITY = ("id", "status", "interviewer", "attempts", "appointment", "name", "phone", "eligible", "gender", "age")
#: a DataTable cell's padding: one cell either side
CELL_PADDING = 2


def choose_columns(widths: dict[str, int], room: int) -> list[str]:
    """The columns to show in `room` cells: the longest prefix of PRIORITY whose columns (each its widest
    cell by display width, plus padding) fit, in the list's own left-to-right order."""
    chosen: set[str] = set()
    used = 0
    for key in PRIORITY:
        need = widths.get(key, 0) + CELL_PADDING
        if chosen and used + need > room:
            break
        chosen.add(key)
        used += need
    return [key for key, _header in COLUMNS if key in chosen]


GENDER = {1: N_("male"), 2: N_("female"), 3: N_("other")}
#: a contact attempt's result as the store keeps it -> its words on screen
ATTEMPT_WORDS = {
    "no_answer": N_("no answer"),
    "busy": N_("busy"),
    "call_back": N_("call back"),
    "reached": N_("reached"),
    "wrong_number": N_("wrong number"),
    "refused": N_("refused to take part"),
}
ELIGIBILITY = ((N_("eligible"), "yes"), (N_("not eligible"), "no"))


def status_label(status: str) -> str:
    """The status in the interface language (the core keeps both: Chinese and English)."""
    return respondent_status(status)


class StartInterview(Message):
    """Ask whoever runs interviews (the capture form) to start one for this respondent."""

    def __init__(self, respondent_id: str) -> None:
        super().__init__()
        self.respondent_id = respondent_id


@dataclass
class Acted:
    text: str


# -- modals ----------------------------------------------------------------------------------------------
class PickScreen(KeyedModal[tuple[str, str] | None]):
    """Pick one option and add a note: status changes and contact attempts."""

    BINDINGS = [Binding("escape", "dismiss_none", N_("Cancel"))]

    def __init__(self, title: str, options: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(classes="respondents-modal"):
            yield Label(self.title_text)
            yield OptionList(*[label for _, label in self.options], id="pick-options")
            yield Input(placeholder=_("note (optional)"), id="pick-note")
            yield Label(_("↑↓ choose · enter confirm · esc cancel"), classes="dim")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        note = self.query_one("#pick-note", Input).value
        self.dismiss((self.options[event.option_index][0], note))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class AskScreen(KeyedModal[str | None]):
    """One line of text: an appointment time, an interviewer's name."""

    BINDINGS = [Binding("escape", "dismiss_none", N_("Cancel"))]

    def __init__(self, title: str, placeholder: str, value: str = "") -> None:
        super().__init__()
        self.title_text, self.placeholder, self.value = title, placeholder, value

    def compose(self) -> ComposeResult:
        with Vertical(classes="respondents-modal"):
            yield Label(self.title_text)
            yield Input(value=self.value, placeholder=self.placeholder, id="ask-input")
            yield Label(_("enter confirm · esc cancel"), classes="dim")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class WithdrawScreen(KeyedModal[bool | None]):
    """Withdrawal erases contact data; the user chooses what happens to the anonymous answers."""

    BINDINGS = [Binding("escape", "dismiss_none", N_("Cancel"))]

    def __init__(self, respondent_id: str) -> None:
        super().__init__()
        self.respondent_id = respondent_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="respondents-modal"):
            yield Label(
                _(
                    "{respondent_id} withdraws consent\n"
                    "Their name, phone, e-mail, address and notes are erased and the erasure logged."
                ).format(respondent_id=self.respondent_id)
            )
            yield Button(_("Erase contacts, keep anonymous answers"), id="keep", variant="warning")
            yield Button(_("Erase contacts and delete answers"), id="delete", variant="error")
            yield Button(_("Cancel"), id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "cancel" else event.button.id == "delete")

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class QuotaBoardScreen(KeyedModal[None]):
    """Targets and completes per quota cell, read live from the store."""

    BINDINGS = [Binding("escape,b", "close", N_("Close")), Binding("r", "reload", N_("Refresh"))]

    def __init__(self) -> None:
        super().__init__()
        self.titles: dict[str, str] = {}  # quota name -> its title in the interface language

    def compose(self) -> ComposeResult:
        with Vertical(classes="respondents-modal wide"):
            yield Label(_("Quota board (completes of field interviews)"), id="quota-title")
            yield DataTable(id="quota-table", cursor_type="row", zebra_stripes=True)
            yield Label(_("r refresh · esc close"), classes="dim")

    def on_mount(self) -> None:
        self.action_reload()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="quota-board")
    def load(self) -> None:
        study = self.app.study  # type: ignore[attr-defined]
        try:
            with study.store() as store:
                cells = quota_counts(store, study.config.quotas)
            self.titles = quota_titles(study)  # may read the instruments: here, off the screen's thread
        except Exception as exc:  # noqa: BLE001 - shown on screen
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(Loaded(cells))

    def on_loaded(self, message: Loaded) -> None:
        message.stop()
        table = self.query_one("#quota-table", DataTable)
        table.clear(columns=True)
        table.add_columns(_("Quota"), _("Cell"), _("Target"), _("Completes"), _("Remaining"), "")
        if not message.data:
            self.query_one("#quota-title", Label).update(_("No quotas in study.yaml (add a quotas: list)"))
        titles = self.titles
        for c in message.data:
            bar = "█" * min(20, round(20 * c.completes / c.target)) if c.target else ""
            table.add_row(
                titles.get(c.quota, c.quota),  # the quota's label (or its questions'), not its internal name
                cell_key(c.cell),
                "—" if c.target is None else str(c.target),
                str(c.completes),
                _("FULL") if c.full else ("—" if c.remaining is None else str(c.remaining)),
                bar,
            )

    def on_load_failed(self, message: LoadFailed) -> None:
        message.stop()
        self.query_one("#quota-title", Label).update(_("[b red]{error}[/]").format(error=message.error))


class ImportScreen(KeyedModal[str | None]):
    """Import a contact list: path, encoding, duplicate rule; preview the mapping and report; confirm."""

    BINDINGS = [
        Binding("escape", "dismiss_none", N_("Cancel")),
        Binding("f", "cycle_field", N_("Change field"), tooltip=N_("Map the selected column to another field")),
        Binding(
            "c",
            "confirm_attribute",
            N_("Not identifying"),
            tooltip=N_("Confirm the selected column does not identify anyone: import it as an attribute"),
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.raw: Any = None
        self.mapping: dict[str, str] = {}  # as chosen (guessed, then changed with f)
        self.classified: dict[str, str] = {}  # as it will be imported (unconfirmed attributes kept personal)
        self.confirmed: set[str] = set()  # columns the researcher confirmed as non-identifying
        self.unconfirmed: set[str] = set()
        self.plan: Any = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="respondents-modal wide"):
            yield Label(_("Import a contact list (CSV / XLSX)"))
            with Horizontal(classes="import-row"):
                yield Input(placeholder=_("file path, e.g. ~/名單.csv"), id="import-path")
                yield Input(placeholder=_("encoding (auto)"), id="import-encoding")
                yield Select(
                    [(_("duplicates: merge"), "merge"), (_("duplicates: skip"), "skip")],
                    value="merge",
                    allow_blank=False,
                    id="import-rule",
                )
            yield DataTable(id="import-mapping", cursor_type="row")
            yield Static("", id="import-report")
            with Horizontal(classes="import-row"):
                yield Button(_("Preview"), id="preview", variant="primary")
                yield Button(_("Import"), id="commit", variant="success", disabled=True)
                yield Button(_("Cancel"), id="cancel")
            yield Label(
                _(
                    "enter on path: preview · f: change a column's field · c: confirm a column is not identifying · "
                    "nothing is written before Import"
                ),
                classes="dim",
            )

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.preview(reset=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
        elif event.button.id == "preview":
            self.preview(reset=self.raw is None)
        elif event.button.id == "commit":
            self.commit()

    def action_cycle_field(self) -> None:
        from survey_tui.io.contact_import import ATTRIBUTE, FIELDS, IGNORE

        table = self.query_one("#import-mapping", DataTable)
        if not self.mapping or table.row_count == 0:
            return
        header = list(self.mapping)[table.cursor_row]
        order = [*FIELDS, ATTRIBUTE, IGNORE]
        current = self.mapping[header]
        self.mapping[header] = order[(order.index(current) + 1) % len(order)]
        self.confirmed.discard(header)
        self.classified = dict(self.mapping)
        self.show_mapping()
        self.query_one("#commit", Button).disabled = True
        self.query_one("#import-report", Static).update(_("mapping changed: press Preview again"))

    def action_confirm_attribute(self) -> None:
        """The researcher says the selected column does not identify anyone: it may become an attribute."""
        from survey_tui.io.contact_import import ATTRIBUTE

        table = self.query_one("#import-mapping", DataTable)
        if not self.mapping or table.row_count == 0:
            return
        header = list(self.mapping)[table.cursor_row]
        if header not in self.unconfirmed and header not in self.confirmed:
            self.notify(
                _("{column} is mapped to {field}; nothing to confirm").format(
                    column=header, field=self.classified.get(header)
                ),
                severity="warning",
            )
            return
        if header in self.confirmed:
            self.confirmed.discard(header)  # pressed again: protected after all
        else:
            self.confirmed.add(header)
            self.mapping[header] = ATTRIBUTE
        self.query_one("#commit", Button).disabled = True
        self.preview()

    def show_mapping(self) -> None:
        table = self.query_one("#import-mapping", DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        table.add_columns(_("Column in file"), _("→ field"), _("Kept as"), _("First values"))
        for header in self.mapping:
            target = self.classified.get(header, self.mapping[header])
            sample = ", ".join(str(v) for v in self.raw.frame[header].head(3).to_list() if v is not None)
            table.add_row(header, target, self._kept_as(header, target), sample[:40])
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    def _kept_as(self, header: str, target: str) -> str:
        if header in self.unconfirmed:
            return _("personal: unconfirmed (c if not identifying)")
        if target in ("name", "phone", "email", "address", "personal"):
            return _("personal (protected)")
        if target == "ignore":
            return _("not imported")
        return _("attribute (confirmed)") if header in self.confirmed else _("attribute")

    @work(thread=True, exclusive=True, group="import")
    def preview(self, reset: bool = False) -> None:
        from survey_tui.io.contact_import import (
            ImportFailed,
            against_study,
            check_mapping,
            classify_columns,
            guess_mapping,
            prepare_import,
        )
        from survey_tui.io.contact_import import read_contact_file as read

        study = self.app.study  # type: ignore[attr-defined]
        path = Path(self.query_one("#import-path", Input).value.strip()).expanduser()
        encoding = self.query_one("#import-encoding", Input).value.strip() or None
        rule = self.query_one("#import-rule", Select).value
        try:
            if reset or self.raw is None:
                self.raw = read(path, encoding)
                self.mapping = guess_mapping(self.raw.frame.columns)
                self.confirmed = set()
            check_mapping(self.mapping, self.raw.frame.columns, self.raw.source)
            unconfirmed: set[str] = set()  # attributes nobody confirmed: kept personal until confirmed (c)
            self.classified = classify_columns(self.raw.frame, self.mapping, self.confirmed, unconfirmed)
            self.unconfirmed = unconfirmed
            with study.store() as store:
                plan = prepare_import(
                    self.raw,
                    self.classified,
                    **against_study(store),
                    rule=str(rule),
                    criteria=study.config.eligibility,
                    language=study.config.language,
                )
        except ImportFailed as exc:
            self.post_message(
                LoadFailed("\n".join(str(p) for p in exc.problems) + "\n" + _("nothing will be imported"))
            )
            return
        self.post_message(Loaded(("preview", plan)))

    @work(thread=True, exclusive=True, group="import")
    def commit(self) -> None:
        from survey_tui.commands.respondents import _record_classification
        from survey_tui.io.contact_import import commit_import

        study = self.app.study  # type: ignore[attr-defined]
        try:
            with study.store() as store:
                result = commit_import(store, self.plan)
        except Exception as exc:  # noqa: BLE001 - the transaction rolled back; say so
            self.post_message(LoadFailed(_("import failed, nothing imported: {exc}").format(exc=exc)))
            return
        try:  # study.yaml records how each column was treated, as `respondents import` does
            _record_classification(study, self.classified)
        except Exception as exc:  # noqa: BLE001 - the import stands; say the record could not be written
            self.post_message(Loaded(("done", result, _("study.yaml not updated: {error}").format(error=exc))))
            return
        self.post_message(Loaded(("done", result)))

    def on_loaded(self, message: Loaded) -> None:
        message.stop()
        kind, data = message.data[:2]
        if kind == "preview":
            self.plan = data
            self.show_mapping()
            lines = data.report_lines(limit=8)
            if self.unconfirmed:
                lines.insert(
                    0,
                    _(
                        "{count} column(s) not confirmed as non-identifying, kept as personal data: {columns} "
                        "(c on a row imports it as an attribute)"
                    ).format(count=len(self.unconfirmed), columns=", ".join(sorted(self.unconfirmed))),
                )
            self.query_one("#import-report", Static).update(escape_markup("\n".join(lines)))
            self.query_one("#commit", Button).disabled = data.new.height == 0 and data.merges.height == 0
        else:
            text = _("imported {imported}, merged {merged}, skipped {skipped}, bad rows {bad}").format(
                imported=data.imported, merged=data.merged, skipped=data.skipped, bad=data.bad
            )
            self.dismiss(text + "".join(_("; ") + extra for extra in message.data[2:]))

    def on_load_failed(self, message: LoadFailed) -> None:
        message.stop()
        self.query_one("#import-report", Static).update(_("[b red]{error}[/]").format(error=message.error))
        self.query_one("#commit", Button).disabled = True


# -- the section --------------------------------------------------------------------------------------------
SORT_ORDER = ("added", "status", "appointment", "attempts", "interviewer", "id")
#: the sort orders in words of the interface
SORT_WORDS = {
    "added": N_("order added"),
    "status": N_("status"),
    "appointment": N_("appointment"),
    "attempts": N_("attempts"),
    "interviewer": N_("interviewer"),
    "id": N_("id"),
}


class RespondentsScreen(Screen[None]):
    BINDINGS = [
        Binding(
            "slash", "search", N_("Search"), id="respondents.search", tooltip=N_("Search id, name, phone or e-mail")
        ),
        Binding("o", "sort", N_("Sort"), id="respondents.sort", tooltip=N_("Cycle the sort order")),
        Binding(
            "s", "status", N_("Status"), id="respondents.status", tooltip=N_("Change the selected respondent's status")
        ),
        Binding("t", "attempt", N_("Attempt"), id="respondents.attempt", tooltip=N_("Log a contact attempt")),
        Binding(
            "a", "appointment", N_("Appointment"), id="respondents.appointment", tooltip=N_("Book an interview time")
        ),
        Binding("i", "assign", N_("Assign"), id="respondents.assign", tooltip=N_("Assign to an interviewer")),
        Binding(
            "w", "withdraw", N_("Withdraw"), id="respondents.withdraw", tooltip=N_("Consent withdrawn: erase contacts")
        ),
        Binding("m", "import", N_("Import"), id="respondents.import", tooltip=N_("Import a CSV/XLSX contact list")),
        Binding("b", "quotas", N_("Quotas"), id="respondents.quotas", tooltip=N_("Quota board: targets and completes")),
        Binding(
            "e", "screen", N_("Screen"), id="respondents.screen", tooltip=N_("Re-screen everyone against eligibility")
        ),
        Binding(
            "enter",
            "start_interview",
            N_("Interview"),
            id="respondents.interview",
            tooltip=N_("Interview this respondent: the interviewer form (resumes their open interview if any)"),
            show=False,
        ),
        Binding("r", "refresh", N_("Refresh"), id="respondents.refresh", tooltip=N_("Read the list again")),
        Binding(
            "right_square_bracket",
            "page(1)",
            N_("Next page"),
            id="respondents.next_page",
            tooltip=N_("Next 50 respondents"),
        ),
        Binding(
            "left_square_bracket", "page(-1)", N_("Prev page"), id="respondents.prev_page", tooltip=N_("Previous 50")
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.page_offset = 0
        self.page_total = 0
        self.flt = resp.RespondentFilter()
        self.page_rows: list[resp.PageRow] = []
        self.opening = False  # an interview is being opened (Enter twice must not start two)
        self.closed = False  # not shown: a search index a worker finishes now is dropped at once

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="respondents-filters"):
            yield Select([(status_label(s), s) for s in resp.STATUSES], prompt=_("any status"), id="filter-status")
            yield Select([], prompt=_("any interviewer"), id="filter-interviewer")
            yield Select(
                [(_(label), value) for label, value in ELIGIBILITY], prompt=_("any eligibility"), id="filter-eligible"
            )
            yield Input(placeholder=_("/ search id, name, phone, e-mail"), id="filter-search")
        yield Static("", id="respondents-summary")
        with Horizontal(id="respondents-body"):
            yield DataTable(id="respondent-list", cursor_type="row", zebra_stripes=True)
            yield Static("", id="respondent-detail")
        yield FittingFooter()

    def on_mount(self) -> None:
        self.shown_columns: list[str] = []
        self.attribute_words: AttributeWords | None = None
        self.load_interviewers()
        self.load_attribute_words()
        self.action_refresh()

    # -- loading ------------------------------------------------------------------------------------------
    def action_refresh(self) -> None:
        self.load(self.flt, self.page_offset)

    @work(thread=True, exclusive=True, group="respondents-page")
    def load(self, flt: resp.RespondentFilter, offset: int) -> None:
        try:
            with self.app.study.store() as store:  # type: ignore[attr-defined]
                if flt.search.strip() and not resp.search_ready(store):  # the first search opens every row once
                    self.post_message(Loaded(("preparing", flt, resp.contact_count(store))))
                window = resp.page(store, flt, offset, PAGE_SIZE)
        except Exception as exc:  # noqa: BLE001
            self.post_message(LoadFailed(str(exc)))
            return
        if self.closed:
            resp.forget_search()
        self.post_message(Loaded(("page", flt, window)))

    @work(thread=True, exclusive=True, group="respondents-search-index")
    def prepare_search(self) -> None:
        """Open the sealed contacts into this process's search index while the user starts typing."""
        try:
            with self.app.study.store() as store:  # type: ignore[attr-defined]
                resp.prepare_search(store)
        except Exception:  # noqa: BLE001 - a missing key or damaged row is said by the search itself
            return
        if self.closed:  # the list closed while the index was built: nothing is kept for it
            resp.forget_search()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id == "filter-search":
            self.prepare_search()

    def on_unmount(self) -> None:
        self.closed = True
        resp.forget_search()  # the opened values are held only while the list is open

    def on_screen_suspend(self) -> None:
        """Another section (or a screen of its own) took the terminal: the opened contact values are not kept
        meanwhile. A dialog over the list (a status change, an attempt) keeps them: the list is still shown."""
        if not isinstance(self.app.screen, ModalScreen):
            self.closed = True
            resp.forget_search()

    def on_screen_resume(self) -> None:
        self.closed = False

    @work(thread=True, group="respondents-meta")
    def load_interviewers(self) -> None:
        try:
            with self.app.study.store() as store:  # type: ignore[attr-defined]
                names = sorted(resp.interviewers(store))
        except Exception:  # noqa: BLE001 - the filter just stays empty
            return
        self.post_message(Loaded(("interviewers", names)))

    @work(thread=True, group="respondents-meta")
    def load_attribute_words(self) -> None:
        """The attributes' labels and value labels from the instruments and study.yaml (parsed here, off the
        UI thread); until they come, or if the instruments cannot be read, the detail shows the names."""
        study = self.app.study  # type: ignore[attr-defined]
        try:
            instruments, _problems = study.load_instruments()
        except Exception:  # noqa: BLE001 - the names are shown as before
            return
        self.post_message(Loaded(("words", AttributeWords(instruments.values(), study.config, study.config.language))))

    def on_loaded(self, message: Loaded) -> None:
        kind = message.data[0]
        if kind == "words":
            self.attribute_words = message.data[1]
            self.show_detail()
            return
        if kind == "interviewers":
            select = self.query_one("#filter-interviewer", Select)
            select.set_options([(n, n) for n in message.data[1]])
            return
        if kind == "acted":
            self.notify(message.data[1], title=_("Respondents"))
            self.action_refresh()
            return
        if kind == "preparing":
            if message.data[1] == self.flt:
                self.query_one("#respondents-summary", Static).update(
                    _("Preparing the search: opening {count:,} sealed contact records in memory…").format(
                        count=message.data[2]
                    )
                )
            return
        _skip, flt, window = message.data
        if flt != self.flt:
            return  # an older request; a newer one is on its way
        self.page_rows, self.page_total, self.page_offset = window.rows, window.total, window.offset
        self.fill_list()
        first = self.page_offset + 1 if self.page_total else 0
        last = self.page_offset + len(self.page_rows)
        locked = f"\n[b red]{escape_markup(window.locked)}[/]" if window.locked else ""
        sort = _(SORT_WORDS.get(self.flt.sort, self.flt.sort))
        counts = _("Respondents {first}–{last} of {page_total:,} · sort: {sort}").format(
            first=first, last=last, page_total=self.page_total, sort=sort
        )
        hints = _("enter: start interview · b: quota board · m: import")
        # the key hints only where they fit on the line (at 80 columns they are in the footer and `?`)
        fits = cells(f"{counts} · {hints}") <= self.app.size.width - 2
        shown = f"{counts} · {hints}" if fits else counts
        self.query_one("#respondents-summary", Static).update(shown + locked)
        self.show_detail()

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#respondents-summary", Static).update(_("[b red]{error}[/]").format(error=message.error))

    # -- the list -----------------------------------------------------------------------------------------
    def row_cells(self, r: resp.PageRow) -> dict[str, str]:
        """Every column's text for one respondent, in the interface language."""
        gender = r.attributes.get("gender")
        return {
            "id": r.id,
            "status": status_label(r.status),
            "interviewer": r.interviewer or "—",
            "eligible": {True: "✓", False: "✗", None: "?"}[r.eligible],
            "attempts": str(r.attempts),
            "appointment": (r.next_appointment or "").replace("T", " ")[:16],
            "name": r.name or "",
            "phone": resp.mask_phone(r.phone),
            "gender": _(GENDER.get(gender, "")) if isinstance(gender, int) else "",
            "age": str(r.attributes.get("age") or ""),
        }

    def column_widths(self, rows: list[dict[str, str]]) -> dict[str, int]:
        """Each column's width in display cells: its header or widest cell; a status or an appointment takes
        the room of the longest one there can be, so the columns shown do not change from page to page."""
        widths = {key: cells(_(header)) for key, header in COLUMNS}
        for row in rows:
            for key, text in row.items():
                widths[key] = max(widths[key], cells(text))
        widths["status"] = max(widths["status"], *(cells(status_label(s)) for s in resp.STATUSES))
        widths["appointment"] = max(widths["appointment"], cells("2026-10-08 19:30"))
        return widths

    def list_room(self) -> int:
        """Cells the list has for its columns: its width less the vertical scrollbar."""
        table = self.query_one("#respondent-list", DataTable)
        return table.size.width - table.styles.scrollbar_size_vertical

    def fill_list(self) -> None:
        """The page's rows, with the columns that fit the list's width (at 80 columns the essentials)."""
        table = self.query_one("#respondent-list", DataTable)
        if not table.size.width:  # not laid out yet: its width decides the columns
            self.call_after_refresh(self.fill_list)
            return
        cursor = table.cursor_row
        rows = [self.row_cells(r) for r in self.page_rows]
        widths = self.column_widths(rows)
        shown = choose_columns(widths, self.list_room())
        headers = dict(COLUMNS)
        table.clear(columns=True)
        for key in shown:
            table.add_column(_(headers[key]), width=widths[key], key=key)
        for r, row in zip(self.page_rows, rows, strict=True):
            table.add_row(*[row[key] for key in shown], key=r.id)
        self.shown_columns = shown
        if self.page_rows:
            table.move_cursor(row=min(max(cursor, 0), len(self.page_rows) - 1))

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        """After the terminal changed size: the columns again, if another set fits now."""
        if not self.page_rows:
            return
        shown = choose_columns(self.column_widths([self.row_cells(r) for r in self.page_rows]), self.list_room())
        if shown != self.shown_columns:
            self.fill_list()

    # -- filters ------------------------------------------------------------------------------------------
    def _set_filter(self, **changes: Any) -> None:
        values = {**self.flt.__dict__, **changes}
        self.flt = resp.RespondentFilter(**values)
        self.page_offset = 0
        self.action_refresh()

    @on(Select.Changed, "#filter-status")
    def _status_filter(self, event: Select.Changed) -> None:
        self._set_filter(status=None if event.value is Select.BLANK else event.value)

    @on(Select.Changed, "#filter-interviewer")
    def _interviewer_filter(self, event: Select.Changed) -> None:
        self._set_filter(interviewer=None if event.value is Select.BLANK else event.value)

    @on(Select.Changed, "#filter-eligible")
    def _eligible_filter(self, event: Select.Changed) -> None:
        self._set_filter(eligible=None if event.value is Select.BLANK else event.value == "yes")

    @on(Input.Changed, "#filter-search")
    def _search(self, event: Input.Changed) -> None:
        self._set_filter(search=event.value)

    @on(Input.Submitted, "#filter-search")
    def _search_done(self) -> None:
        self.query_one("#respondent-list", DataTable).focus()

    def action_search(self) -> None:
        self.query_one("#filter-search", Input).focus()

    def action_sort(self) -> None:
        nxt = SORT_ORDER[(SORT_ORDER.index(self.flt.sort) + 1) % len(SORT_ORDER)]
        self._set_filter(sort=nxt)

    def action_page(self, step: int) -> None:
        target = self.page_offset + step * PAGE_SIZE
        if 0 <= target < max(self.page_total, 1):
            self.page_offset = target
            self.action_refresh()

    # -- the selected respondent ------------------------------------------------------------------------------
    def current_respondent(self) -> resp.PageRow | None:
        table = self.query_one("#respondent-list", DataTable)
        if not self.page_rows or table.cursor_row < 0 or table.cursor_row >= len(self.page_rows):
            return None
        return self.page_rows[table.cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        r = self.current_respondent()
        detail = self.query_one("#respondent-detail", Static)
        if r is None:
            detail.update(_("No respondent matches.") if not self.page_total else "")
            return
        attrs = "\n".join(
            "  "
            + _("{name}: {value}").format(
                name=escape_markup(self.attribute_label(k)), value=escape_markup(self.attribute_text(k, v))
            )
            for k, v in r.attributes.items()
            if v is not None
        )
        detail.update(
            f"[b]{r.id}[/b]  {status_label(r.status)}\n"
            f"{r.name or '—'}\n{r.phone or '—'}\n{r.email or '—'}\n"
            + _(
                "interviewer: {interviewer}\nattempts: {attempts}\nappointment: {appointment}\neligible: {eligible}"
            ).format(
                interviewer=r.interviewer or "—",
                attempts=r.attempts,
                appointment=(r.next_appointment or "—").replace("T", " "),
                eligible=_("yes") if r.eligible else _("no") if r.eligible is False else "?",
            )
            + (f"\n  {r.eligibility_reason}" if r.eligibility_reason else "")
            + (("\n" + _("attributes:") + f"\n{attrs}") if attrs else "")
        )

    def attribute_label(self, name: str) -> str:
        """An attribute by its label in the study (a banner's or its question's), else by its name."""
        return self.attribute_words.label(name) if self.attribute_words else name

    def attribute_text(self, name: str, value: object) -> str:
        """An attribute's value in words: its question's choice label, else gender in the interface
        language (the code means nothing to a reader), else the value as stored."""
        chosen = self.attribute_words.value(name, value) if self.attribute_words else None
        if chosen:
            return chosen
        if name == "gender" and isinstance(value, int) and value in GENDER:
            return _(GENDER[value])
        return str(value)

    def _need_selected(self) -> resp.PageRow | None:
        r = self.current_respondent()
        if r is None:
            self.notify(_("Select a respondent first"), severity="warning")
        return r

    @work(thread=True, group="respondents-act")
    def act(self, what: str, respondent_id: str, *args: Any) -> None:
        """Run one recruitment action in the store, then refresh the page."""
        try:
            with self.app.study.store() as store:  # type: ignore[attr-defined]
                if what == "status":
                    status, note = args
                    resp.set_status(store, respondent_id, status, note=note or None)
                    text = f"{respondent_id}: {status_label(status)}"
                elif what == "attempt":
                    result, note = args
                    count = resp.record_attempt(store, respondent_id, result, note=note or None)
                    shown = _(ATTEMPT_WORDS[result]) if result in ATTEMPT_WORDS else result
                    text = _("{id}: attempt {count} ({result})").format(id=respondent_id, count=count, result=shown)
                elif what == "appointment":
                    resp.make_appointment(store, respondent_id, args[0])
                    text = _("{id}: appointment {when}").format(id=respondent_id, when=args[0])
                elif what == "assign":
                    resp.assign(store, [respondent_id], args[0] or None)
                    who = args[0] or _("nobody")
                    text = _("{id}: assigned to {interviewer}").format(id=respondent_id, interviewer=who)
                elif what == "withdraw":
                    erasure = resp.withdraw(store, respondent_id, delete_answers=args[0])
                    kept = _("answers deleted") if erasure.answers_deleted else _("anonymous answers kept")
                    text = _("{id}: contact data erased, {kept} (logged)").format(id=respondent_id, kept=kept)
                else:
                    study = self.app.study  # type: ignore[attr-defined]
                    yes, no = resp.screen_all(store, study.config.eligibility, study.config.language)
                    text = _("screened: eligible {yes}, not eligible {no}").format(yes=yes, no=no)
        except Exception as exc:  # noqa: BLE001 - said on screen, nothing half-written (one transaction)
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(Loaded(("acted", text)))
        if what == "assign":
            self.load_interviewers()

    def action_status(self) -> None:
        r = self._need_selected()
        if r is None:
            return
        options = [(s, status_label(s)) for s in resp.STATUSES if s not in ("withdrawn", r.status)]

        def done(result: tuple[str, str] | None) -> None:
            if result:
                self.act("status", r.id, *result)

        self.app.push_screen(
            PickScreen(_("New status for {id} (now {status})").format(id=r.id, status=status_label(r.status)), options),
            done,
        )

    def action_attempt(self) -> None:
        r = self._need_selected()
        if r is None:
            return

        def done(result: tuple[str, str] | None) -> None:
            if result:
                self.act("attempt", r.id, *result)

        options = [(a, _(ATTEMPT_WORDS.get(a, a))) for a in resp.ATTEMPT_RESULTS]
        self.app.push_screen(PickScreen(_("Contact attempt for {id}").format(id=r.id), options), done)

    def action_appointment(self) -> None:
        r = self._need_selected()
        if r is None:
            return

        def done(value: str | None) -> None:
            if value:
                self.act("appointment", r.id, value.replace(" ", "T", 1))

        self.app.push_screen(
            AskScreen(_("Appointment for {id}").format(id=r.id), "2026-10-08 19:30", r.next_appointment or ""), done
        )

    def action_assign(self) -> None:
        r = self._need_selected()
        if r is None:
            return

        def done(value: str | None) -> None:
            if value is not None:
                self.act("assign", r.id, value)

        self.app.push_screen(
            AskScreen(_("Assign {rid} to interviewer (empty: nobody)").format(rid=r.id), "陳怡君", r.interviewer or ""),
            done,
        )

    def action_withdraw(self) -> None:
        r = self._need_selected()
        if r is None:
            return

        def done(delete: bool | None) -> None:
            if delete is not None:
                self.act("withdraw", r.id, delete)

        self.app.push_screen(WithdrawScreen(r.id), done)

    def action_screen(self) -> None:
        self.act("screen", "")

    def action_import(self) -> None:
        def done(text: str | None) -> None:
            if text:
                self.notify(text, title=_("Import"))
                self.load_interviewers()
                self.action_refresh()

        self.app.push_screen(ImportScreen(), done)

    def action_quotas(self) -> None:
        self.app.push_screen(QuotaBoardScreen())

    def action_start_interview(self) -> None:
        r = self._need_selected()
        if r is None:
            return
        self.post_message(StartInterview(r.id))

    def on_start_interview(self, message: StartInterview) -> None:
        """Open the interviewer form (the Fieldwork section's screen) for this respondent.

        The interviewer is the one the respondent is assigned to, else the one last named in this app, else
        asked for. An open interview of theirs is resumed; a respondent who cannot be interviewed (withdrawn,
        completed, ...) gets the reason on screen and nothing is started.
        """
        from survey_tui.tui.screens.interview import current_interviewer, remember_interviewer

        message.stop()
        rid = message.respondent_id
        row = next((r for r in self.page_rows if r.id == rid), None)
        if row is not None and row.status == "withdrawn":
            self.notify(
                _("{rid} has withdrawn consent: they cannot be interviewed.").format(rid=rid),
                title=_("Interview"),
                severity="error",
            )
            return
        interviewer = (row.interviewer if row else None) or current_interviewer(self.app)
        if interviewer:
            self.open_interview(rid, interviewer)
            return

        def named(value: str | None) -> None:
            if value:
                remember_interviewer(self.app, value)
                self.open_interview(rid, value)

        self.app.push_screen(AskScreen(_("Who interviews {rid}?").format(rid=rid), "陳怡君"), named)

    def open_interview(self, respondent_id: str, interviewer: str) -> None:
        if self.opening:
            return
        self.opening = True
        self._open_interview(respondent_id, interviewer)

    @work(thread=True, group="respondents-interview")
    def _open_interview(self, respondent_id: str, interviewer: str) -> None:
        from survey_tui.core.interview.capture import CaptureError, open_for_respondent
        from survey_tui.core.problems import LoadError

        try:
            session = open_for_respondent(self.app.study, respondent_id, interviewer=interviewer)  # type: ignore[attr-defined]
        except (CaptureError, LoadError) as exc:
            text = "\n".join(map(str, exc.problems)) if isinstance(exc, LoadError) else str(exc)
            self.app.call_from_thread(self._not_opened, text)
            return
        self.app.call_from_thread(self._open_form, session)

    def _not_opened(self, text: str) -> None:
        self.opening = False
        self.notify(text, title=_("Interview"), severity="error", timeout=10)

    def _open_form(self, session: Any) -> None:
        from survey_tui.tui.screens.interview import InterviewScreen

        self.opening = False
        self.app.push_screen(InterviewScreen(session), lambda _: self.action_refresh())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_start_interview()
