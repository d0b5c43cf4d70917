"""The builder's forms for the instrument's own fields: settings (title, languages, special codes) and the
terminate rules (screen-outs and quota-full endings).

Each form applies its change to the draft itself, so a change the loader refuses (a default language that is
not among the languages, a special code that clashes with choice codes, a rule whose condition does not
compile) is shown in the form with its location and the form stays open; the file is only written once the
change is accepted.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Checkbox, DataTable, Input, Label, Select, Static

from survey_tui.core.instrument.builder import OUTCOMES, EditError, InstrumentDraft
from survey_tui.core.instrument.model import SPECIAL_NAMES
from survey_tui.core.problems import LoadError
from survey_tui.i18n import N_, _
from survey_tui.tui.keys import KeyedModal
from survey_tui.tui.render import logic_feedback


def _labels(value: Any, langs: list[str]) -> dict[str, str]:
    if isinstance(value, dict):
        if "*" in value and len(value) == 1:
            return dict.fromkeys(langs, str(value["*"]))
        return {lang: str(value.get(lang) or "") for lang in langs}
    return dict.fromkeys(langs, str(value or ""))


def _lang_header(langs: list[str]) -> Horizontal:
    return Horizontal(
        Label("", classes="form-key"),
        *[Label(Text(lang, style="bold"), classes="form-lang") for lang in langs],
        classes="form-row",
    )


def _error_text(exc: EditError) -> Text:
    problems = getattr(exc, "problems", None)
    if problems:
        return Text("refused, the file is unchanged:\n" + "\n".join(str(p) for p in problems), style="bold red")
    return Text(_("refused: {exc}").format(exc=exc), style="bold red")


class SettingsForm(KeyedModal[str | None]):
    """Title per language side by side, languages, default language, required default, special codes."""

    BINDINGS = [
        Binding("ctrl+s", "save", N_("Save"), id="builder.settings.save", priority=True, tooltip=N_("Check and save")),
        Binding("escape", "cancel", N_("Cancel"), id="builder.settings.cancel", tooltip=N_("Close without changes")),
    ]

    def __init__(self, draft: InstrumentDraft) -> None:
        super().__init__(classes="builder-modal")
        self.draft = draft
        self.langs = draft.languages
        self.data = draft.settings_data()

    def compose(self) -> ComposeResult:
        data, langs = self.data, self.langs
        specials = self.draft.effective_special_codes()
        with VerticalScroll(classes="builder-dialog builder-form"):
            yield Label(Text(_("Instrument settings — {v0}").format(v0=data.get("id")), style="bold"))
            yield _lang_header(langs)
            title = _labels(data.get("title"), langs)
            with Horizontal(classes="form-row"):
                yield Label(_("title"), classes="form-key")
                for i, lang in enumerate(langs):
                    yield Input(title[lang], id=f"i-title-{i}", placeholder=_("title ({lang})").format(lang=lang))
            with Horizontal(classes="form-row"):
                yield Label(_("languages"), classes="form-key")
                yield Input(", ".join(langs), id="i-languages", placeholder=_("zh-TW, en"))
            with Horizontal(classes="form-row"):
                yield Label(_("default lang"), classes="form-key")
                yield Input(str(data.get("default_language") or ""), id="i-default", placeholder=_("first language"))
            with Horizontal(classes="form-row"):
                yield Label(_("required"), classes="form-key")
                yield Checkbox(
                    _("questions are required unless they say otherwise"),
                    bool(data.get("required_default", True)),
                    id="i-required",
                )
            with Horizontal(classes="form-row"):
                yield Label(_("special codes"), classes="form-key")
                yield Checkbox(
                    _("this instrument overrides the study-wide codes"),
                    data.get("special_codes") is not None,
                    id="i-override",
                )
            for sname in SPECIAL_NAMES:
                spec = specials.get(sname) or {}
                labels = _labels(spec.get("label"), langs)
                with Horizontal(classes="form-row"):
                    yield Label(sname.replace("_", " "), classes="form-key")
                    yield Input(str(spec.get("code", "")), id=f"i-{sname}-code", placeholder=_("code"), type="integer")
                    for i, lang in enumerate(langs):
                        yield Input(
                            labels[lang], id=f"i-{sname}-label-{i}", placeholder=_("label ({lang})").format(lang=lang)
                        )
            yield Static("", id="i-error", classes="form-error")
            yield Label(
                Text(_("ctrl+s save · esc cancel · codes are used only when the override is ticked"), style="dim")
            )

    def on_mount(self) -> None:
        self._override_changed(self.query_one("#i-override", Checkbox).value)
        self.query_one("#i-title-0", Input).focus()

    @on(Checkbox.Changed, "#i-override")
    def override_toggled(self, event: Checkbox.Changed) -> None:
        self._override_changed(event.value)

    def _override_changed(self, on_: bool) -> None:
        for sname in SPECIAL_NAMES:
            self.query_one(f"#i-{sname}-code", Input).disabled = not on_
            for i in range(len(self.langs)):
                self.query_one(f"#i-{sname}-label-{i}", Input).disabled = not on_

    def values(self) -> dict[str, Any]:
        get = lambda wid: self.query_one(wid, Input).value.strip()  # noqa: E731
        langs = [x for x in get("#i-languages").replace(",", " ").split() if x]
        values: dict[str, Any] = {
            "title": {lang: get(f"#i-title-{i}") for i, lang in enumerate(self.langs)},
            "languages": langs,
            "default_language": get("#i-default") or None,
            "required_default": self.query_one("#i-required", Checkbox).value,
            "special_codes": None,
        }
        if self.query_one("#i-override", Checkbox).value:
            specials: dict[str, Any] = {}
            for sname in SPECIAL_NAMES:
                code = get(f"#i-{sname}-code")
                if not code:
                    continue
                try:
                    number = int(code)
                except ValueError as exc:
                    raise EditError(f"{sname.replace('_', ' ')} code {code!r} is not a whole number") from exc
                label = {lang: get(f"#i-{sname}-label-{i}") for i, lang in enumerate(self.langs)}
                specials[sname] = {"code": number, "label": label}
            values["special_codes"] = specials or None
        return values

    def action_save(self) -> None:
        error = self.query_one("#i-error", Static)
        try:
            self.draft.update_settings(self.values())
        except EditError as exc:
            error.update(_error_text(exc))
            return
        self.dismiss("saved the instrument settings")

    def action_cancel(self) -> None:
        self.dismiss(None)


class TerminateForm(KeyedModal[str | None]):
    """One terminate rule: when (checked as it is typed, with positions), outcome, message per language."""

    BINDINGS = [
        Binding(
            "ctrl+s", "save", N_("Save"), id="builder.terminate.form.save", priority=True, tooltip=N_("Check and save")
        ),
        Binding(
            "escape", "cancel", N_("Cancel"), id="builder.terminate.form.cancel", tooltip=N_("Close without changes")
        ),
    ]

    def __init__(self, draft: InstrumentDraft, index: int | None) -> None:
        super().__init__(classes="builder-modal")
        self.draft, self.index = draft, index
        self.langs = draft.languages
        self.data = draft.terminate_rules()[index] if index is not None else {}

    def compose(self) -> ComposeResult:
        data, langs = self.data, self.langs
        head = "New terminate rule" if self.index is None else f"Terminate rule {self.index + 1}"
        with VerticalScroll(classes="builder-dialog builder-form"):
            yield Label(Text(head, style="bold"))
            with Horizontal(classes="form-row"):
                yield Label(_("when"), classes="form-key")
                yield Input(str(data.get("when") or ""), id="r-when", placeholder=_("e.g. s2 < 15 or s5 = 2"))
            yield Static("", id="e-when", classes="form-error")
            with Horizontal(classes="form-row"):
                yield Label(_("outcome"), classes="form-key")
                outcome = data.get("outcome") or OUTCOMES[0]
                yield Select([(o, o) for o in OUTCOMES], value=outcome, allow_blank=False, id="r-outcome")
            yield _lang_header(langs)
            message = _labels(data.get("message"), langs)
            with Horizontal(classes="form-row"):
                yield Label(_("message"), classes="form-key")
                for i, lang in enumerate(langs):
                    yield Input(
                        message[lang],
                        id=f"r-message-{i}",
                        placeholder=_("said to the respondent ({lang})").format(lang=lang),
                    )
            yield Static("", id="r-error", classes="form-error")
            yield Label(Text(_("ctrl+s save · esc cancel · checked once the names it reads are asked"), style="dim"))

    def on_mount(self) -> None:
        self.check(self.query_one("#r-when", Input).value)
        self.query_one("#r-when", Input).focus()

    @on(Input.Changed, "#r-when")
    def changed(self, event: Input.Changed) -> None:
        self.check(event.value)

    def check(self, text: str) -> None:
        """Syntax errors and unknown names, with the position, as the researcher types."""
        check = lambda t: self.draft.check_terminate(t, self.index)  # noqa: E731
        blank = Text(_("a rule needs a condition"), style="dim")
        self.query_one("#e-when", Static).update(logic_feedback(text, check, blank))

    def action_save(self) -> None:
        get = lambda wid: self.query_one(wid, Input).value.strip()  # noqa: E731
        values = {
            "when": get("#r-when"),
            "outcome": self.query_one("#r-outcome", Select).value,
            "message": {lang: get(f"#r-message-{i}") for i, lang in enumerate(self.langs)},
        }
        try:
            if self.index is None:
                index = self.draft.add_terminate(values)
                done = f"added terminate rule {index + 1}"
            else:
                self.draft.update_terminate(self.index, values)
                done = f"saved terminate rule {self.index + 1}"
        except EditError as exc:
            self.query_one("#r-error", Static).update(_error_text(exc))
            return
        self.dismiss(done)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TerminateRulesScreen(KeyedModal[bool]):
    """The instrument's terminate rules as a list; each change is saved to the file at once (atomically)."""

    BINDINGS = [
        Binding("a", "add", N_("Add"), id="builder.terminate.add", tooltip=N_("Add a terminate rule at the end")),
        Binding("e,enter", "edit", N_("Edit"), id="builder.terminate.edit", tooltip=N_("Edit the highlighted rule")),
        Binding(
            "x,delete", "delete", N_("Delete"), id="builder.terminate.delete", tooltip=N_("Delete the rule (confirm)")
        ),
        Binding("escape", "close", N_("Close"), id="builder.terminate.close", tooltip=N_("Back to the outline")),
    ]

    def __init__(self, draft: InstrumentDraft, language: str) -> None:
        super().__init__(classes="builder-modal")
        self.draft, self.language = draft, language
        self.changed = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="builder-dialog builder-wide"):
            yield Label(Text(_("Terminate rules — end the interview early"), style="bold"))
            yield DataTable(id="rules", cursor_type="row", zebra_stripes=True)
            yield Static("", id="rules-status")
            yield Label(Text(_("a add · e/enter edit · x delete · esc close"), style="dim"))

    def on_mount(self) -> None:
        table = self.query_one("#rules", DataTable)
        table.add_columns("#", _("when"), _("outcome"), _("message"))
        self.refresh_rules()
        table.focus()

    def refresh_rules(self, select: int | None = None) -> None:
        table = self.query_one("#rules", DataTable)
        table.clear()
        rules = self.draft.terminate_rules()
        for i, rule in enumerate(rules):
            message = _labels(rule.get("message"), [self.language]).get(self.language, "")
            table.add_row(str(i + 1), str(rule.get("when", "")), str(rule.get("outcome", "screened_out")), message)
        if not rules:
            self.query_one("#rules-status", Static).update(Text(_("no terminate rules yet: a adds one"), style="dim"))
        if select is not None and rules:
            table.move_cursor(row=max(0, min(select, len(rules) - 1)))

    def _current(self) -> int | None:
        table = self.query_one("#rules", DataTable)
        return table.cursor_row if table.row_count else None

    def _save(self, message: str, select: int | None) -> None:
        status = self.query_one("#rules-status", Static)
        try:
            problems = self.draft.save()
        except (LoadError, OSError) as exc:
            status.update(Text(_("not saved: {exc}").format(exc=exc), style="bold red"))
            return
        self.changed = True
        errors = [p for p in problems if p.severity == "error"]
        note = f" — {len(errors)} error(s) in the instrument to fix before publishing" if errors else ""
        status.update(Text(message + note, style="green" if not errors else "yellow"))
        self.refresh_rules(select)

    def action_add(self) -> None:
        def done(message: str | None) -> None:
            if message:
                self._save(message, len(self.draft.terminate_rules()) - 1)

        self.app.push_screen(TerminateForm(self.draft, None), done)

    def action_edit(self) -> None:
        index = self._current()
        if index is None:
            self.action_add()
            return

        def done(message: str | None) -> None:
            if message:
                self._save(message, index)

        self.app.push_screen(TerminateForm(self.draft, index), done)

    def action_delete(self) -> None:
        from survey_tui.tui.screens.questionnaire import ConfirmScreen  # the builder imports this module

        index = self._current()
        if index is None:
            return
        rule = self.draft.terminate_rules()[index]

        def done(yes: bool | None) -> None:
            if yes:
                try:
                    self.draft.delete_terminate(index)
                except EditError as exc:
                    self.query_one("#rules-status", Static).update(Text(str(exc), style="bold red"))
                    return
                self._save(f"deleted terminate rule {index + 1}", index - 1)

        body = f"Delete terminate rule {index + 1} (when {rule.get('when')})?\n\nPublished versions keep it."
        self.app.push_screen(ConfirmScreen("Delete terminate rule", body), done)

    def action_close(self) -> None:
        self.dismiss(self.changed)
