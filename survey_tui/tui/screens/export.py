"""Export & report (T1.5-T1.6): data files for analysts, the report skeleton and the stakeholder bundle.

The researcher ticks formats, picks the label language and whether pilot interviews and contact data go
in (contact data only after a confirmation that names the risk); the work runs in a thread worker that
posts progress messages, so the screen stays responsive while a large .sav is written.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Header, Label, ProgressBar, RadioButton, RadioSet, Static

from survey_tui.i18n import N_, _, shown
from survey_tui.io.export import FORMAT_HELP, FORMATS, ExportOptions, run_export
from survey_tui.tui.footer import FittingFooter
from survey_tui.tui.keys import KeyedModal


class ExportProgress(Message):
    def __init__(self, text: str, fraction: float) -> None:
        super().__init__()
        self.text = text
        self.fraction = fraction


class ExportDone(Message):
    def __init__(self, lines: list[str], warnings: list[str]) -> None:
        super().__init__()
        self.lines = lines
        self.warnings = warnings


class ExportFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class WrappingCheckbox(Checkbox):
    """A checkbox whose label wraps onto more lines (Textual's is one line, cut at 80 columns)."""

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, self.render().get_height(self.styles, width))


class ConfirmContacts(KeyedModal[bool]):
    """Contact data leaves the protected store only after the researcher says yes here."""

    BINDINGS = [Binding("escape", "dismiss(False)", N_("Cancel"), id="export.contacts.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-contacts"):
            yield Label(
                _(
                    "Include contact data (name, phone, e-mail, address)?\n"
                    "It is written to a separate *_CONTACTS.csv and the manifest carries a warning."
                )
            )
            with Horizontal():
                yield Button(_("Include contacts"), id="contacts-yes", variant="error")
                yield Button(_("Cancel"), id="contacts-no", variant="primary")

    @on(Button.Pressed, "#contacts-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#contacts-no")
    def _no(self) -> None:
        self.dismiss(False)


class ExportScreen(Screen[None]):
    BINDINGS = [
        Binding("e", "export", N_("Export"), id="export.run", tooltip=N_("Write the ticked formats to exports/")),
        Binding("r", "report", N_("Report"), id="export.report", tooltip=N_("Write the report skeleton (md + docx)")),
        Binding(
            "b",
            "bundle",
            N_("Bundle"),
            id="export.bundle",
            tooltip=N_("Zip report, codebook and data for stakeholders"),
        ),
    ]

    def compose(self) -> ComposeResult:
        study = self.app.study  # type: ignore[attr-defined]
        yield Header()
        with Horizontal(id="export"):
            with VerticalScroll(id="export-options", classes="card") as box:
                box.border_title = _("Export options")
                yield Static(_("Formats"))
                for fmt in FORMATS:
                    yield WrappingCheckbox(f"{fmt}: {_(FORMAT_HELP[fmt])}", True, id=f"fmt-{fmt}")
                yield Static(_("Label language"))
                with RadioSet(id="export-lang"):
                    for lang in study.config.languages:
                        yield RadioButton(lang, lang == study.config.language, id=f"lang-{lang}")
                yield WrappingCheckbox(_("Add pilot interviews"), False, id="export-pilot")
                yield WrappingCheckbox(_("Keep excluded interviews"), False, id="export-keep")
                yield WrappingCheckbox(_("CSV with BOM (Excel, Chinese Windows)"), False, id="export-bom")
                yield WrappingCheckbox(_("Include contact data (asks first)"), False, id="export-contacts")
                with Horizontal(id="export-buttons"):
                    yield Button(_("Export"), id="export-run", variant="primary")
                    yield Button(_("Report"), id="export-report")
                    yield Button(_("Bundle"), id="export-bundle")
            with Vertical(id="export-result", classes="card") as result:
                result.border_title = _("Result")
                yield ProgressBar(total=1.0, show_eta=False, id="export-progress")
                yield Static(_("Tick formats and press e (export), r (report) or b (bundle)."), id="export-status")
                yield Static("", id="export-files")
        yield FittingFooter()

    # -- options -----------------------------------------------------------------------------------
    def options(self) -> ExportOptions:
        formats = tuple(f for f in FORMATS if self.query_one(f"#fmt-{f}", Checkbox).value)
        pressed = self.query_one("#export-lang", RadioSet).pressed_button
        return ExportOptions(
            formats=formats,
            language=str(pressed.label) if pressed else None,
            pilot=self.query_one("#export-pilot", Checkbox).value,
            include_contacts=self.query_one("#export-contacts", Checkbox).value,
            keep_excluded=self.query_one("#export-keep", Checkbox).value,
            bom=self.query_one("#export-bom", Checkbox).value,
        )

    @on(Checkbox.Changed, "#export-contacts")
    def _contacts(self, event: Checkbox.Changed) -> None:
        if event.value:

            def answer(yes: bool | None) -> None:
                if not yes:
                    event.checkbox.value = False

            self.app.push_screen(ConfirmContacts(), answer)

    # -- actions -----------------------------------------------------------------------------------
    @on(Button.Pressed, "#export-run")
    def action_export(self) -> None:
        options = self.options()
        if not options.formats:
            self.query_one("#export-status", Static).update(_("[b red]Tick at least one format.[/]"))
            return
        self._start(_("Exporting"))
        self.run_task("export", options)

    @on(Button.Pressed, "#export-report")
    def action_report(self) -> None:
        self._start(_("Writing the report…"))
        self.run_task("report", self.options())

    @on(Button.Pressed, "#export-bundle")
    def action_bundle(self) -> None:
        self._start(_("Building the bundle"))
        self.run_task("bundle", self.options())

    def _start(self, text: str) -> None:
        self.query_one("#export-progress", ProgressBar).update(progress=0.0)
        self.query_one("#export-status", Static).update(text)
        self.query_one("#export-files", Static).update("")

    @work(thread=True, exclusive=True, group="export")
    def run_task(self, kind: str, options: ExportOptions) -> None:
        study: Any = self.app.study  # type: ignore[attr-defined]

        def progress(text: str, fraction: float) -> None:
            self.post_message(ExportProgress(text, fraction))

        try:
            if kind == "export":
                result = run_export(study, options, progress)
                lines = [
                    _("{file}  ({rows} rows)").format(file=e.file, rows=e.rows) if e.rows is not None else e.file
                    for e in result.entries
                ]
                lines += [_("filter: {filter}").format(filter=shown(f)) for f in result.filters]
                lines.append(_("manifest: {file}").format(file=study.relative(result.manifest)))
                self.post_message(ExportDone(lines, [shown(w) for w in result.warnings]))
            elif kind == "report":
                from survey_tui.report.full_report import write_report

                progress(_("Writing the report…"), 0.0)
                paths = write_report(
                    study,
                    ("md", "docx"),
                    options.language,
                    progress=lambda part, f: progress(_("Writing the report: {part}").format(part=_(part)), f),
                )
                progress(_("Done"), 1.0)
                self.post_message(ExportDone([study.relative(p) for p in paths], []))
            else:
                from survey_tui.report.full_report import build_bundle

                path = build_bundle(study, options.language, lambda part, f: progress(_(part), f))
                self.post_message(ExportDone([study.relative(path), _("(no contact data in the bundle)")], []))
        except Exception as exc:  # noqa: BLE001 - shown on screen
            self.post_message(ExportFailed(f"{type(exc).__name__}: {exc}"))

    # -- messages ----------------------------------------------------------------------------------
    def on_export_progress(self, message: ExportProgress) -> None:
        self.query_one("#export-progress", ProgressBar).update(progress=message.fraction)
        self.query_one("#export-status", Static).update(message.text)

    def on_export_done(self, message: ExportDone) -> None:
        self.query_one("#export-progress", ProgressBar).update(progress=1.0)
        status = "[b green]" + _("Done.") + "[/]"
        if message.warnings:
            status += "\n" + "\n".join(f"[b red]⚠ {escape(w)}[/]" for w in message.warnings)
        self.query_one("#export-status", Static).update(status)
        self.query_one("#export-files", Static).update(escape("\n".join(message.lines)))

    def on_export_failed(self, message: ExportFailed) -> None:
        self.query_one("#export-status", Static).update(_("[b red]{v0}[/]").format(v0=escape(message.error)))
