"""Questionnaire (T1.2): the builder. Outline, edit, preview, publish, versions and the pilot report.

The outline is read from the instrument files as drafts (`core.builder.InstrumentDraft`), so a file with
errors still shows and can be fixed here. Every edit is saved at once, atomically, with comments kept;
logic fields are checked as they are typed. The preview runs the draft through the interviewer form
(`InterviewScreen` on a `PreviewSession`), so it looks exactly like fieldwork and stores nothing.
Publishing freezes the file as the next version after the code-reuse check; the pilot report's "revise"
comes back here on the draft of the next version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Header, Input, Label, Markdown, OptionList, Select, Static, TextArea

from survey_tui.core.instrument.builder import EditError, InstrumentDraft
from survey_tui.core.instrument.model import Instrument, Question, label_text
from survey_tui.core.interview.preview import PreviewSession
from survey_tui.core.problems import LoadError, Problem
from survey_tui.core.yamlfile import dump_yaml
from survey_tui.i18n import N_, _
from survey_tui.tui.footer import FittingFooter
from survey_tui.tui.keys import KeyedModal
from survey_tui.tui.messages import Loaded, LoadFailed
from survey_tui.tui.outline import Outline
from survey_tui.tui.render import Wrapped, cells, logic_feedback, problems_text
from survey_tui.tui.screens.instrument_forms import SettingsForm, TerminateRulesScreen

TYPES = ["single", "multi", "scale", "grid", "numeric", "text", "date", "note", "calculate"]
LOGIC = ("relevant", "constraint", "calculate")


@dataclass
class DraftInfo:
    path: Path
    instrument_id: str
    draft: InstrumentDraft
    instrument: Instrument | None
    problems: list[Problem]
    status: str = ""


@dataclass(frozen=True)
class QuestionnaireData:
    drafts: list[DraftInfo]
    problems: list[Problem] = field(default_factory=list)


def read_drafts(study: Any) -> QuestionnaireData:
    """Every instrument file as an editable draft, with its check results and version status."""
    from survey_tui.core.instrument.versions import draft_status

    drafts, problems = [], []
    for path in study.instrument_files():
        try:
            draft = InstrumentDraft.open(path, study.config.special_codes)
        except LoadError as exc:
            problems.extend(exc.problems)
            continue
        draft.name = study.relative(path)
        instrument, found = draft.check()
        iid = str(draft.root.get("id") or path.stem)
        info = DraftInfo(path, iid, draft, instrument, found)
        try:
            info.status = draft_status(study, iid).describe()
        except LoadError:
            info.status = _("draft (has errors)")
        drafts.append(info)
        problems.extend(found)
    return QuestionnaireData(drafts, problems)


# ---------------------------------------------------------------------------------------------------
# Small dialogs
# ---------------------------------------------------------------------------------------------------


class ConfirmScreen(KeyedModal[bool]):
    """Yes / no with the consequences spelled out (delete, publish)."""

    BINDINGS = [
        Binding("y", "answer(True)", N_("Yes"), id="confirm.yes"),
        Binding("n,escape", "answer(False)", N_("No"), id="confirm.no"),
    ]

    def __init__(self, title: str, body: str) -> None:
        super().__init__(classes="builder-modal")
        self.title_text, self.body = title, body

    def compose(self) -> ComposeResult:
        with Vertical(classes="builder-dialog"):
            yield Label(Text(self.title_text, style="bold"))
            with VerticalScroll(classes="builder-body"):
                yield Static(self.body)
            with Horizontal(classes="builder-buttons"):
                yield Button(_("Yes (y)"), id="confirm-yes", variant="error")
                yield Button(_("No (n)"), id="confirm-no")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")


def _labels_of(value: Any, langs: list[str]) -> dict[str, str]:
    if isinstance(value, dict):
        return {lang: str(value.get(lang) or value.get("*") or "") for lang in langs}
    return {lang: str(value or "") for lang in langs}


def choices_to_text(choices: list[dict[str, Any]], langs: list[str]) -> str:
    """One choice a line: `code | label per language | flags`, easy to type and to reorder."""
    lines = []
    for c in choices:
        labels = _labels_of(c.get("label"), langs)
        flags = [f for f in ("fixed", "exclusive") if c.get(f)]
        lines.append(" | ".join([str(c.get("code")), *[labels[lang] for lang in langs], *flags]))
    return "\n".join(lines)


def text_to_choices(text: str, langs: list[str]) -> list[dict[str, Any]]:
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split("|")]
        try:
            code = int(cells[0])
        except ValueError:
            raise EditError(f"choices line {number}: '{cells[0]}' is not a whole-number code") from None
        labels = cells[1 : 1 + len(langs)]
        flags = {f for f in cells[1 + len(langs) :] if f}
        unknown = flags - {"fixed", "exclusive"}
        if unknown:
            raise EditError(f"choices line {number}: unknown flag '{sorted(unknown)[0]}' (use fixed or exclusive)")
        if not any(labels):
            raise EditError(f"choices line {number}: code {code} has no label")
        entry: dict[str, Any] = {"code": code, "label": dict(zip(langs, labels, strict=False))}
        entry.update({f: True for f in flags})
        out.append(entry)
    return out


def items_to_text(items: list[dict[str, Any]], langs: list[str]) -> str:
    return "\n".join(" | ".join([str(i.get("name")), *_labels_of(i.get("label"), langs).values()]) for i in items or [])


def text_to_items(text: str, langs: list[str]) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        if line.strip():
            cells = [c.strip() for c in line.split("|")]
            out.append({"name": cells[0], "label": dict(zip(langs, cells[1 : 1 + len(langs)], strict=False))})
    return out


#: the question's text fields, each with the short name its boxes show as a placeholder
TEXT_KEYS = {"label": "label", "hint": "hint", "constraint_message": "c. message"}


class QuestionForm(KeyedModal[dict[str, Any] | None]):
    """Every field of a question; labels side by side per language; logic checked as it is typed."""

    BINDINGS = [
        Binding("ctrl+s", "save", N_("Save"), id="builder.form.save", priority=True),
        Binding("escape", "cancel", N_("Cancel"), id="builder.form.cancel"),
    ]

    def __init__(self, draft: InstrumentDraft, name: str) -> None:
        super().__init__(classes="builder-modal")
        self.draft, self.name_before = draft, name
        self.langs = draft.languages
        self.q = draft.question_data(name)
        choices = self.q.get("choices")
        self.list_name = choices if isinstance(choices, str) else None
        if self.list_name:
            self.choices = to_plain_list(draft.choice_list(self.list_name))
        else:
            self.choices = choices if isinstance(choices, list) else []

    def compose(self) -> ComposeResult:
        q, langs = self.q, self.langs
        with VerticalScroll(classes="builder-dialog builder-form"):
            yield Label(Text(_("Question {name_before}").format(name_before=self.name_before), style="bold"))
            with Horizontal(classes="form-row"):
                yield Label(_("name"), classes="form-key")
                yield Input(str(q.get("name", "")), id="f-name")
                yield Label(_("type"), classes="form-key")
                yield Select([(t, t) for t in TYPES], value=q.get("type", "single"), allow_blank=False, id="f-type")
                yield Label(_("required"), classes="form-key")
                yield Select(
                    [("default", "default"), ("yes", "yes"), ("no", "no")],
                    value={True: "yes", False: "no"}.get(q.get("required"), "default"),  # type: ignore[arg-type]
                    allow_blank=False,
                    id="f-required",
                )
            with Horizontal(classes="form-row"):
                yield Label("", classes="form-key")
                for lang in langs:
                    yield Label(Text(lang, style="bold"), classes="form-lang")
            for key in ("label", "hint", "constraint_message"):
                labels = _labels_of(q.get(key), langs)
                with Horizontal(classes="form-row"):
                    yield Label(key.replace("constraint_message", "c. message"), classes="form-key")
                    for i, lang in enumerate(langs):  # a short placeholder: the whole of it shows at 80 columns
                        yield Input(labels[lang], id=f"f-{key}-{i}", placeholder=f"{TEXT_KEYS[key]} · {lang}")
                yield Static("", id=f"full-{key}", classes="form-full")  # the whole text when the box cuts it
            for key in LOGIC:
                with Horizontal(classes="form-row"):
                    yield Label(key, classes="form-key")
                    yield Input(
                        str(q.get(key) or ""), id=f"f-{key}", placeholder=_("e.g. s2 >= 18 and selected(a2, 1)")
                    )
                yield Static("", id=f"e-{key}", classes="form-error")
            with Horizontal(classes="form-row"):
                yield Label(_("min"), classes="form-key")
                yield Input(_num(q.get("min")), id="f-min")
                yield Label(_("max"), classes="form-key")
                yield Input(_num(q.get("max")), id="f-max")
                yield Label(_("choice list"), classes="form-key")
                yield Input(
                    self.list_name or "", id="f-list", placeholder=_("(inline)")
                )  # short: the box is narrow at 80 columns
            with Horizontal(classes="form-row"):
                yield Label(_("decimals"), classes="form-key")
                yield Input(_num(q.get("decimals")), id="f-decimals", placeholder="0")
                yield Label(_("max length"), classes="form-key")
                yield Input(_num(q.get("max_length")), id="f-max_length", placeholder="2000")
                yield Label(_("max selected"), classes="form-key")
                yield Input(_num(q.get("max_selected")), id="f-max_selected", placeholder=_("(any)"))
            with Horizontal(classes="form-row"):
                yield Label(_("randomize"), classes="form-key")
                yield Select(
                    [("no", "no"), ("yes", "yes")],
                    value="yes" if q.get("randomize") else "no",
                    allow_blank=False,
                    id="f-randomize",
                )
                yield Label(_("DK / refused"), classes="form-key")
                specials = q.get("special_codes")
                options = [("study codes", "default"), ("not offered", "off")]
                if isinstance(specials, dict):  # per-question codes written by hand: kept as they are
                    options.append((f"custom {specials}", "custom"))
                current = "off" if specials is False else ("custom" if isinstance(specials, dict) else "default")
                yield Select(options, value=current, allow_blank=False, id="f-special_codes")
            users = self.draft.list_users(self.list_name) if self.list_name else []
            shared = f" — shared list '{self.list_name}', used by {len(users)} question(s)" if self.list_name else ""
            yield Label(_("choices: code | {v0} | fixed/exclusive{shared}").format(v0=" | ".join(langs), shared=shared))
            yield TextArea(choices_to_text(self.choices, langs), id="f-choices", classes="form-area")
            yield Label(_("grid items: name | {v0}").format(v0=" | ".join(langs)))
            yield TextArea(items_to_text(q.get("items") or [], langs), id="f-items", classes="form-area")
            yield Static("", id="f-error", classes="form-error")
            yield Label(Text(_("ctrl+s save · esc cancel"), style="dim"))

    def on_mount(self) -> None:
        for key in LOGIC:
            self.check(key, self.query_one(f"#f-{key}", Input).value)
        self.call_after_refresh(self.show_full)

    def on_resize(self) -> None:
        self.call_after_refresh(self.show_full)

    @on(Input.Changed)
    def changed(self, event: Input.Changed) -> None:
        key = (event.input.id or "").removeprefix("f-")
        if key in LOGIC:
            self.check(key, event.value)
        elif key.rpartition("-")[0] in TEXT_KEYS:
            self.show_full(key.rpartition("-")[0])

    def show_full(self, only: str | None = None) -> None:
        """Under a row of label, hint or message boxes, the whole text of each box too narrow for it,
        wrapped by display width, so a long label can be read (and checked) in both languages at 80 columns."""
        for key in [only] if only else list(TEXT_KEYS):
            text = Text()
            for i, lang in enumerate(self.langs):
                box = self.query_one(f"#f-{key}-{i}", Input)
                if cells(box.value) > box.content_size.width - 1:  # the cursor takes a cell at the end
                    text.append(("\n" if text else "") + f"{lang}  ", style="dim")
                    text.append(box.value)
            full = self.query_one(f"#full-{key}", Static)
            full.update(Wrapped(text))
            full.display = bool(text)  # no blank line under a row whose boxes show their whole text

    def check(self, key: str, text: str) -> None:
        """Syntax errors, unknown names and references to later questions, with the position."""
        check = lambda t: self.draft.check_logic(self.name_before, key, t)  # noqa: E731
        self.query_one(f"#e-{key}", Static).update(logic_feedback(text, check))

    def values(self) -> tuple[dict[str, Any], str | None, list[dict[str, Any]] | None]:
        """(question fields, named list or None, choices) from the form; raises EditError on bad input."""
        langs = self.langs
        get = lambda wid: self.query_one(wid, Input).value.strip()  # noqa: E731
        values: dict[str, Any] = {"name": get("#f-name"), "type": self.query_one("#f-type", Select).value}
        required = self.query_one("#f-required", Select).value
        values["required"] = {"yes": True, "no": False}.get(str(required))
        for key in ("label", "hint", "constraint_message"):
            values[key] = {lang: get(f"#f-{key}-{i}") for i, lang in enumerate(langs)}
        for key in LOGIC:
            values[key] = get(f"#f-{key}") or None
        for key in ("min", "max"):
            text = get(f"#f-{key}")
            try:
                values[key] = None if not text else (int(text) if text.lstrip("-").isdigit() else float(text))
            except ValueError:
                raise EditError(f"{key} '{text}' is not a number") from None
        for key in ("decimals", "max_length", "max_selected"):
            text = get(f"#f-{key}")
            if text and not text.isdigit():
                raise EditError(f"{key.replace('_', ' ')} '{text}' is not a whole number")
            values[key] = int(text) if text else None
        values["randomize"] = True if self.query_one("#f-randomize", Select).value == "yes" else None
        specials = self.query_one("#f-special_codes", Select).value
        if specials != "custom":
            values["special_codes"] = False if specials == "off" else None
        qtype = str(values["type"])
        list_name = get("#f-list") or None
        choices = text_to_choices(self.query_one("#f-choices", TextArea).text, langs)
        if qtype in ("single", "multi", "scale", "grid"):
            values["choices"] = list_name if list_name else choices
        else:
            values["choices"] = None
            choices = []
        items = text_to_items(self.query_one("#f-items", TextArea).text, langs)
        values["items"] = items if qtype == "grid" else None
        return values, list_name, choices

    def action_save(self) -> None:
        try:
            values, list_name, choices = self.values()
        except EditError as exc:
            self.query_one("#f-error", Static).update(Text(str(exc), style="bold red"))
            return
        self.dismiss({"values": values, "list": list_name, "choices": choices})

    def action_cancel(self) -> None:
        self.dismiss(None)


class SectionForm(KeyedModal[dict[str, Any] | None]):
    """A section's fields: name, label per language side by side, relevant checked as it is typed."""

    BINDINGS = [
        Binding("ctrl+s", "save", N_("Save"), id="builder.section.save", priority=True),
        Binding("escape", "cancel", N_("Cancel"), id="builder.section.cancel"),
    ]

    def __init__(self, draft: InstrumentDraft, index: int) -> None:
        super().__init__(classes="builder-modal")
        self.draft, self.index = draft, index
        self.langs = draft.languages
        self.data = draft.section_data(index)

    def compose(self) -> ComposeResult:
        data, langs = self.data, self.langs
        count = len(self.draft.section(self.index).get("questions") or [])
        with VerticalScroll(classes="builder-dialog builder-form"):
            yield Label(
                Text(_("Section {v0} ({count} question(s))").format(v0=data.get("name"), count=count), style="bold")
            )
            with Horizontal(classes="form-row"):
                yield Label(_("name"), classes="form-key")
                yield Input(str(data.get("name", "")), id="s-name")
            with Horizontal(classes="form-row"):
                yield Label("", classes="form-key")
                for lang in langs:
                    yield Label(Text(lang, style="bold"), classes="form-lang")
            labels = _labels_of(data.get("label"), langs)
            with Horizontal(classes="form-row"):
                yield Label(_("label"), classes="form-key")
                for i, lang in enumerate(langs):
                    yield Input(labels[lang], id=f"s-label-{i}", placeholder=_("label ({lang})").format(lang=lang))
            with Horizontal(classes="form-row"):
                yield Label(_("relevant"), classes="form-key")
                yield Input(
                    str(data.get("relevant") or ""), id="s-relevant", placeholder=_("e.g. s5 = 1 (whole section)")
                )
            yield Static("", id="e-relevant", classes="form-error")
            loop = data.get("loop") or {}
            yield Label(
                Text("Loop: ask the questions once per item (give one of over / count / choices)", style="bold")
            )
            for key, hint in (
                ("over", "a multi question asked before (one iteration per code chosen)"),
                ("count", "a numeric question asked before (iterations 1 .. its answer)"),
                ("choices", "a choice list (every choice, always)"),
                ("max", "count loops: most iterations"),
                ("exclude", "codes that never loop, e.g. 96"),
            ):
                value = loop.get(key)
                if isinstance(value, list):
                    value = ", ".join(str(v) for v in value) if key == "exclude" else ""
                with Horizontal(classes="form-row"):
                    yield Label(f"loop {key}", classes="form-key")
                    yield Input("" if value is None else str(value), id=f"s-loop-{key}", placeholder=hint)
            item = _labels_of(loop.get("label"), langs)
            with Horizontal(classes="form-row"):
                yield Label("item called", classes="form-key")
                for i, lang in enumerate(langs):
                    yield Input(item[lang], id=f"s-loop-label-{i}", placeholder=f"e.g. Brand ({lang})")
            yield Static("", id="s-error", classes="form-error")
            yield Label(Text(_("ctrl+s save · esc cancel"), style="dim"))

    def on_mount(self) -> None:
        self.check(self.query_one("#s-relevant", Input).value)
        self.query_one("#s-name", Input).focus()

    @on(Input.Changed, "#s-relevant")
    def changed(self, event: Input.Changed) -> None:
        self.check(event.value)

    def check(self, text: str) -> None:
        """Syntax errors, unknown names and references to later questions, with the position."""
        check = lambda t: self.draft.check_section_logic(self.index, t)  # noqa: E731
        self.query_one("#e-relevant", Static).update(logic_feedback(text, check))

    def action_save(self) -> None:
        get = lambda wid: self.query_one(wid, Input).value.strip()  # noqa: E731
        values: dict[str, Any] = {
            "name": get("#s-name"),
            "label": {lang: get(f"#s-label-{i}") for i, lang in enumerate(self.langs)},
            "relevant": get("#s-relevant") or None,
        }
        if not values["name"]:
            self.query_one("#s-error", Static).update(Text(_("a section needs a name"), style="bold red"))
            return
        loop: dict[str, Any] = {k: get(f"#s-loop-{k}") for k in ("over", "count", "choices", "max", "exclude")}
        loop["label"] = {lang: get(f"#s-loop-label-{i}") for i, lang in enumerate(self.langs)}
        try:
            loop["max"] = int(loop["max"]) if loop["max"] else None
            loop["exclude"] = [int(c) for c in loop["exclude"].replace(",", " ").split()]
        except ValueError:
            self.query_one("#s-error", Static).update(Text("loop max and exclude take whole numbers", style="bold red"))
            return
        given = any(loop[k] for k in ("over", "count", "choices"))
        if not given and (loop["max"] or loop["exclude"] or any(loop["label"].values())):
            message = "a loop needs one of over, count or choices (or clear the loop fields)"
            self.query_one("#s-error", Static).update(Text(message, style="bold red"))
            return
        if given or "loop" in self.data:
            values["loop"] = loop if given else None
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)


def to_plain_list(seq: Any) -> list[dict[str, Any]]:
    from survey_tui.core.yamlfile import to_plain

    return to_plain(seq)


def _num(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


class TextScreen(KeyedModal[str | None]):
    """A long read: the version diff or the pilot report, with an action key."""

    BINDINGS = [
        Binding("escape", "close", N_("Close"), id="builder.text.close"),
        Binding(
            "R", "act('R')", N_("Revise"), id="builder.text.revise", tooltip=N_("Open the builder on the next draft")
        ),
    ]

    def __init__(self, title: str, markdown: str, actions: dict[str, str] | None = None) -> None:
        super().__init__(classes="builder-modal")
        self.title_text, self.markdown, self.actions = title, markdown, actions or {}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "act":
            return bool(parameters) and parameters[0] in self.actions
        return True

    def compose(self) -> ComposeResult:
        with Vertical(classes="builder-dialog builder-wide"):
            yield Label(Text(self.title_text, style="bold"))
            with VerticalScroll(classes="builder-body"):
                yield Markdown(self.markdown, id="text-body")
            yield Label(Text(" · ".join([f"{k} {v}" for k, v in self.actions.items()] + [_("esc close")]), style="dim"))
            yield FittingFooter()

    def action_act(self, key: str) -> None:
        self.dismiss(key)

    def action_close(self) -> None:
        self.dismiss(None)


# ---------------------------------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------------------------------


class QuestionnaireScreen(Screen[None]):
    BINDINGS = [
        Binding(
            "p", "preview", N_("Preview"), id="builder.preview", tooltip=N_("Run the draft without saving answers")
        ),
        Binding(
            "P", "publish", N_("Publish"), id="builder.publish", tooltip=N_("Freeze the draft as the next version")
        ),
        Binding("a", "add", N_("Add"), id="builder.add", tooltip=N_("Add a question after the highlighted one")),
        Binding("e", "edit", N_("Edit"), id="builder.edit", tooltip=N_("Edit every field of the highlighted question")),
        Binding("v", "versions", N_("Versions"), id="builder.versions", tooltip=N_("What changed between versions")),
        Binding(
            "t", "pilot", N_("Pilot"), id="builder.pilot", tooltip=N_("Pilot report of the latest piloted version")
        ),
        Binding(
            "d", "duplicate", N_("Duplicate"), id="builder.duplicate", tooltip=N_("Copy the question below itself")
        ),
        Binding(
            "x,delete", "delete", N_("Delete"), id="builder.delete", tooltip=N_("Delete the question or empty section")
        ),
        Binding("s", "edit_section", N_("Section"), id="builder.section.edit", tooltip=N_("Edit the section's fields")),
        Binding(
            "S", "add_section", N_("Add section"), id="builder.section.add", tooltip=N_("Add a section after this one")
        ),
        Binding("i", "settings", N_("Settings"), id="builder.settings", tooltip=N_("Title, languages, special codes")),
        Binding(
            "T", "terminate", N_("Terminate"), id="builder.terminate", tooltip=N_("Screen-out and quota-full rules")
        ),
        Binding(
            "ctrl+up,left_square_bracket", "move(-1)", N_("Up"), id="builder.up", tooltip=N_("Move the question up ([)")
        ),
        Binding(
            "ctrl+down,right_square_bracket", "move(1)", N_("Down"), id="builder.down", tooltip=N_("Move it down (])")
        ),
        Binding("n", "new_instrument", N_("New"), id="builder.new", tooltip=N_("Start an instrument file"), show=False),
        Binding("l", "next_language", N_("Language"), id="questionnaire.language", tooltip=N_("Next study language")),
        Binding("r", "refresh", N_("Reload"), id="questionnaire.reload", tooltip=N_("Read the instrument files again")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.language_index = 0
        self.data: QuestionnaireData | None = None
        self.select_after: str | None = None
        #: outline node id -> (draft, section index) for the section rows
        self.section_nodes: dict[int, tuple[DraftInfo, int]] = {}
        self.select_section: tuple[str, int] | None = None  # (instrument id, section index) to highlight

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="questionnaire"):
            yield Outline(_("Instruments"), id="outline")
            with VerticalScroll(id="question-detail", classes="card"):
                yield Static(_("Loading…"), id="detail")
        yield Static("", id="builder-status")
        yield Static("", id="problems")
        yield FittingFooter()

    @property
    def study(self) -> Any:
        return self.app.study  # type: ignore[attr-defined]

    @property
    def language(self) -> str:
        langs = self.study.config.languages
        return langs[self.language_index % len(langs)]

    def on_mount(self) -> None:
        self.query_one("#question-detail").border_title = _("Question")
        self.query_one("#outline").border_title = _("Instruments")
        self.action_refresh()

    def action_refresh(self) -> None:
        self.load()

    def action_next_language(self) -> None:
        self.language_index += 1
        if self.data is not None:
            self._outline(self.data)
        self.notify(_("Language: {language}").format(language=self.language), timeout=2)

    @work(thread=True, exclusive=True, group="questionnaire")
    def load(self) -> None:
        try:
            data = read_drafts(self.study)
        except Exception as exc:  # noqa: BLE001 - reported on screen
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(Loaded(data))

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#detail", Static).update(Text(message.error, style="bold red"))

    def on_loaded(self, message: Loaded) -> None:
        if isinstance(message.data, QuestionnaireData):
            self.data = message.data
            self._outline(self.data)
            self._problems(self.data.problems)
            status = "  ".join(f"{d.instrument_id}: {d.status}" for d in self.data.drafts)
            self.query_one("#builder-status", Static).update(Text(status or "no instrument yet (n: new)", style="bold"))
        elif isinstance(message.data, tuple) and message.data and message.data[0] == "text":
            _skip, title, body, actions = message.data
            self.app.push_screen(TextScreen(title, body, actions), self._text_closed)

    # -- outline ---------------------------------------------------------------------------------
    def _outline(self, data: QuestionnaireData) -> None:
        tree = self.query_one("#outline", Outline)
        tree.clear()
        lang = self.language
        target = None
        section_target = None
        sections: list[tuple[Any, tuple[DraftInfo, int]]] = []  # keyed by row id once laid out
        for info in data.drafts:
            raw = info.draft.root
            title = label_text(_labels_of(raw.get("title"), [lang]), lang)
            node = tree.root.add(Text(f"{info.instrument_id} — {title}"), expand=True, data=(info, None))
            for si, section in enumerate(raw.get("sections") or []):
                sec_label = label_text(_labels_of(section.get("label"), [lang]), lang) or section.get("name")
                marker = " ⤷" if section.get("relevant") else ""
                sec = node.add(
                    Text.assemble((str(section.get("name")), "bold"), f" {sec_label}{marker}"),
                    expand=True,
                    data=(info, None),
                )
                sections.append((sec, (info, si)))
                if self.select_section == (info.instrument_id, si):
                    section_target = sec
                for q in section.get("questions") or []:
                    text = label_text(_labels_of(q.get("label"), [lang]), lang) or str(q.get("calculate") or "")
                    logic = " ⤷" if q.get("relevant") else ""
                    leaf = sec.add_leaf(  # the whole label: the outline wraps it by display width
                        Text.assemble(str(q.get("name")), " ", (str(q.get("type")), "dim"), f" {text}{logic}"),
                        data=(info, str(q.get("name"))),
                    )
                    if q.get("name") == self.select_after:
                        target = leaf
        if not data.drafts:
            tree.root.add_leaf("(no instrument yet: press n to start one)")
        tree.rebuild()
        self.section_nodes = {node.id: where for node, where in sections}
        if target is None and section_target is not None:
            self.call_after_refresh(self._select, section_target)
            self._section_detail(*self.section_nodes[section_target.id])
        elif target is not None:
            self.call_after_refresh(self._select, target)
            self._detail(*target.data)
        else:
            self.query_one("#detail", Static).update(
                _(
                    "Choose a question or section in the outline (↑↓). a add · e edit · s section · S new section"
                    " · p preview"
                )
            )
        tree.focus()

    def _select(self, node: Any) -> None:
        tree = self.query_one("#outline", Outline)
        tree.move_cursor(node)
        tree.scroll_to_node(node)

    def _problems(self, problems: list[Problem]) -> None:
        self.query_one("#problems", Static).update(problems_text(problems, _("check: no problems")))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id != "outline":
            return
        node = self.query_one("#outline", Outline).cursor_node
        if node is None:
            return
        if node.data and node.data[1]:
            self._detail(*node.data)
        elif node.id in self.section_nodes:
            self._section_detail(*self.section_nodes[node.id])

    def _section_detail(self, info: DraftInfo, index: int) -> None:
        """The section's labels side by side and its relevant (s edits them)."""
        try:
            data = info.draft.section_data(index)
            count = len(info.draft.section(index).get("questions") or [])
        except EditError as exc:
            self.query_one("#detail", Static).update(Text(str(exc), style="red"))
            return
        langs = info.draft.languages
        head = Text.assemble(("section ", "dim"), (str(data.get("name")), "bold"), f"  {count} question(s)\n")
        head.append_text(Text.assemble(("relevant ", "dim"), str(data.get("relevant") or "(always asked)")))
        table = Table(show_header=True, header_style="bold", expand=True, box=None, padding=(0, 1))
        table.add_column("", style="dim", no_wrap=True)
        for lang in langs:
            table.add_column(lang, ratio=1, overflow="fold")  # cells are Wrapped: CJK breaks between characters
        table.add_row("label", *[Wrapped(v) for v in _labels_of(data.get("label"), langs).values()])
        keys = Text(_("s edit · S add a section after it · x delete (empty sections only)"), style="dim")
        self.query_one("#detail", Static).update(Group(head, Text(""), table, Text(""), keys))

    def current_section(self) -> tuple[DraftInfo | None, int | None]:
        """The highlighted section, or the section of the highlighted question."""
        node = self.query_one("#outline", Outline).cursor_node
        if node is not None and node.id in self.section_nodes:
            return self.section_nodes[node.id]
        info, name = self.current()
        if info is None:
            return None, None
        if name is None:
            return info, None
        try:
            return info, info.draft.section_of(name)
        except EditError:
            return info, None

    def _detail(self, info: DraftInfo, name: str) -> None:
        widget = self.query_one("#detail", Static)
        made = info.instrument.iterations(name) if info.instrument is not None else []
        if info.instrument is not None and info.instrument.has_question(name):
            widget.update(question_detail(info.instrument, info.instrument.question(name)))
        elif info.instrument is not None and made:  # a loop question: its first iteration, and how many
            table = question_detail(info.instrument, made[0])
            pad = [""] * (len(info.instrument.languages) - 1)
            loop = made[0].slot.loop if made[0].slot else ""
            table.add_row("loop", f"{loop}: {len(made)} iterations, {made[0].name} … {made[-1].name}", *pad)
            widget.update(table)
        else:
            try:
                widget.update(Text(dump_yaml(info.draft.question_data(name))))
            except EditError as exc:
                widget.update(Text(str(exc), style="red"))

    def current(self) -> tuple[DraftInfo | None, str | None]:
        node = self.query_one("#outline", Outline).cursor_node
        if node is None or not node.data:
            if self.data and len(self.data.drafts) == 1:
                return self.data.drafts[0], None
            return None, None
        return node.data

    # -- editing ---------------------------------------------------------------------------------
    def _save(self, info: DraftInfo, select: str | None, message: str, section: int | None = None) -> None:
        self.select_section = (info.instrument_id, section) if section is not None else None
        try:
            problems = info.draft.save()
        except (LoadError, OSError) as exc:
            self.notify(_("not saved: {exc}").format(exc=exc), severity="error")
            return
        errors = [p for p in problems if p.severity == "error"]
        self.notify(message + (f" — {len(errors)} error(s) to fix before publishing" if errors else ""), timeout=4)
        self.select_after = select
        self.load()

    def action_add(self) -> None:
        info, name = self.current()
        if info is None:
            self.notify(_("choose an instrument in the outline first (n starts one)"), severity="warning")
            return
        draft = info.draft
        new_name, n = "q_new", 1
        while new_name in draft.names():
            n += 1
            new_name = f"q_new{n}"
        values = {"name": new_name, "type": "single", "label": dict.fromkeys(draft.languages, ""), "choices": []}
        try:
            if name:
                draft.add_question(values, after=name)
            else:
                draft.add_question(values)
        except EditError as exc:
            self.notify(str(exc), severity="error")
            return
        self._open_form(info, new_name, created=True)

    def action_edit(self) -> None:
        node = self.query_one("#outline", Outline).cursor_node
        if node is not None and node.id in self.section_nodes:  # e on a section row edits the section
            self._open_section_form(*self.section_nodes[node.id], created=False)
            return
        info, name = self.current()
        if info is None or name is None:
            self.notify(_("highlight a question to edit"), severity="warning")
            return
        self._open_form(info, name, created=False)

    def _open_form(self, info: DraftInfo, name: str, created: bool) -> None:
        def done(result: dict[str, Any] | None) -> None:
            if result is None:
                if created:
                    info.draft.delete_question(name)
                self.select_after = name if not created else None
                return
            try:
                new_name = info.draft.update_question(name, result["values"])
                named, choices = result["list"], result["choices"]
                if named and choices and to_plain_list(info.draft.choice_list(named)) != choices:
                    info.draft.set_choices(named, choices)
            except EditError as exc:
                self.notify(_("not saved: {exc}").format(exc=exc), severity="error", timeout=6)
                if created:
                    info.draft.delete_question(name)
                return
            self._save(info, new_name, f"{'added' if created else 'saved'} {new_name}")

        self.app.push_screen(QuestionForm(info.draft, name), done)

    def action_duplicate(self) -> None:
        info, name = self.current()
        if info is None or name is None:
            return
        try:
            ref = info.draft.duplicate_question(name)
        except EditError as exc:
            self.notify(str(exc), severity="error")
            return
        self._save(info, ref.name, f"duplicated {name} as {ref.name}")

    def action_move(self, delta: int) -> None:
        info, name = self.current()
        if info is None or name is None:
            return
        try:
            info.draft.move_question(name, delta)
        except EditError as exc:
            self.notify(str(exc), severity="warning")
            return
        self._save(info, name, f"moved {name} {'up' if delta < 0 else 'down'}")

    def action_delete(self) -> None:
        node = self.query_one("#outline", Outline).cursor_node
        if node is not None and node.id in self.section_nodes:
            self._delete_section(*self.section_nodes[node.id])
            return
        info, name = self.current()
        if info is None or name is None:
            return
        users = info.draft.references_to(name)
        body = f"Delete question '{name}' from the draft?"
        if users:
            body += f"\n\nIts answer is used by: {', '.join(users)} — their logic will show errors until fixed."
        body += "\n\nPublished versions keep it; only the draft changes."

        def done(yes: bool | None) -> None:
            if yes:
                info.draft.delete_question(name)
                self._save(info, None, f"deleted {name}")

        self.app.push_screen(ConfirmScreen("Delete question", body), done)

    # -- sections --------------------------------------------------------------------------------
    def action_edit_section(self) -> None:
        info, index = self.current_section()
        if info is None or index is None:
            self.notify(_("highlight a section (or one of its questions) to edit it"), severity="warning")
            return
        self._open_section_form(info, index, created=False)

    def action_add_section(self) -> None:
        info, index = self.current_section()
        if info is None:
            self.notify(_("choose an instrument in the outline first (n starts one)"), severity="warning")
            return
        draft = info.draft
        try:
            used = {str(s.get("name")) for s in draft.sections}
        except EditError as exc:
            self.notify(str(exc), severity="error")
            return
        name, n = "section_new", 1
        while name in used:
            n += 1
            name = f"section_new{n}"
        try:
            new_index = draft.add_section(name, dict.fromkeys(draft.languages, ""), after=index)
        except EditError as exc:
            self.notify(str(exc), severity="error")
            return
        self._open_section_form(info, new_index, created=True)

    def _open_section_form(self, info: DraftInfo, index: int, created: bool) -> None:
        def done(values: dict[str, Any] | None) -> None:
            if values is None:
                if created:
                    info.draft.delete_section(index)
                return
            loop = values.pop("loop", ...)
            try:
                name = info.draft.update_section(index, values)
            except EditError as exc:
                self.notify(_("not saved: {exc}").format(exc=exc), severity="error", timeout=6)
                if created:
                    info.draft.delete_section(index)
                return
            note = ""
            if loop is not ...:
                try:
                    info.draft.set_loop(index, loop)
                except EditError as exc:  # the loop is refused with its located problems; the rest is saved
                    problems = getattr(exc, "problems", None)
                    detail = "; ".join(str(p) for p in problems) if problems else str(exc)
                    self.notify(f"loop not changed: {detail}", severity="error", timeout=10)
                    note = " (loop unchanged)"
            self._save(info, None, f"{'added' if created else 'saved'} section {name}{note}", section=index)

        self.app.push_screen(SectionForm(info.draft, index), done)

    def _delete_section(self, info: DraftInfo, index: int) -> None:
        section = info.draft.section(index)
        name = section.get("name")
        count = len(section.get("questions") or [])
        if count:
            self.notify(
                _("section {name} still has {count} question(s): move ([ ]) or delete them first").format(
                    name=name, count=count
                ),
                severity="warning",
            )
            return
        if len(info.draft.sections) == 1:
            self.notify(_("an instrument needs at least one section"), severity="warning")
            return

        def done(yes: bool | None) -> None:
            if yes:
                try:
                    info.draft.delete_section(index)
                except EditError as exc:
                    self.notify(str(exc), severity="error")
                    return
                self._save(info, None, f"deleted section {name}", section=max(index - 1, 0))

        body = (
            f"Delete the empty section '{name}' from the draft?\n\nPublished versions keep it; only the draft changes."
        )
        self.app.push_screen(ConfirmScreen("Delete section", body), done)

    def _instrument_info(self) -> DraftInfo | None:
        info, _skip = self.current_section()
        if info is None:
            self.notify(_("choose an instrument in the outline first (n starts one)"), severity="warning")
        return info

    def action_settings(self) -> None:
        info = self._instrument_info()
        if info is None:
            return

        def done(message: str | None) -> None:
            if message:
                self._save(info, None, message)

        self.app.push_screen(SettingsForm(info.draft), done)

    def action_terminate(self) -> None:
        info = self._instrument_info()
        if info is None:
            return

        def done(changed: bool | None) -> None:
            if changed:
                self.load()

        self.app.push_screen(TerminateRulesScreen(info.draft, self.language), done)

    def action_new_instrument(self) -> None:
        if self.data and self.data.drafts:
            self.notify(_("this study already has an instrument; edit it here"), severity="information")
            return
        from survey_tui.core.yamlfile import write_text_atomic

        langs = self.study.config.languages
        path = self.study.instruments_dir / "questionnaire.yaml"
        title = {lang: self.study.config.title for lang in langs}
        text = dump_yaml(
            {
                "id": "questionnaire",
                "title": title,
                "languages": langs,
                "sections": [{"name": "main", "label": dict.fromkeys(langs, "Main"), "questions": []}],
            }
        )
        write_text_atomic(path, text)
        self.notify(_("started {v0}").format(v0=self.study.relative(path)))
        self.load()

    # -- preview, publish, versions, pilot --------------------------------------------------------
    def action_preview(self) -> None:
        info, name = self.current()
        if info is None:
            return
        if info.instrument is None:
            errors = [p for p in info.problems if p.severity == "error"]
            self.notify(
                _("fix {v0} error(s) first: {v1}").format(v0=len(errors), v1=errors[0] if errors else ""),
                severity="error",
            )
            return
        if not info.instrument.questions:
            self.notify(_("the draft has no questions yet"), severity="warning")
            return
        from survey_tui.tui.screens.interview import InterviewScreen

        # the interviewer form itself, on a session that keeps nothing (no store is even opened); it starts
        # at the highlighted question, the questions before it answered by a quick path PgUp can change
        made = info.instrument.iterations(name) if name is not None else []
        start = made[0].name if made else name
        start = start if start is not None and start in {q.name for q in info.instrument.questions} else None
        session = PreviewSession.open(info.instrument, self.language, start_at=start)
        if start is not None and session.stopped_at is None and session.engine.path:
            self.notify(
                _("{v0} earlier answers filled in by a quick path; PgUp changes them").format(
                    v0=len(session.engine.path)
                )
            )
        elif start is not None and session.stopped_at is not None:
            self.notify(
                _("no quick path reaches {start}: the preview starts at {stopped_at}").format(
                    start=start, stopped_at=session.stopped_at
                ),
                severity="warning",
            )
        self.app.push_screen(InterviewScreen(session))

    def action_publish(self) -> None:
        info, _skip = self.current()
        if info is None:
            return
        # checks and the version diff take seconds on a large instrument: say at once that it is working
        self.notify(
            _("Checking {instrument_id} against its last version…").format(instrument_id=info.instrument_id), timeout=3
        )
        self.publish_check(info)

    @work(thread=True, exclusive=True, group="builder-publish")
    def publish_check(self, info: DraftInfo) -> None:
        from survey_tui.core.instrument.versions import diff_instruments, publish_checks

        try:
            instrument = self.study.load_instrument(info.instrument_id)
            reuses = publish_checks(self.study, info.instrument_id)
            with self.study.store() as store:
                latest = store.latest_version(info.instrument_id)
            lines = []
            if latest is not None:
                diff = diff_instruments(
                    self.study.instrument_for_version(latest), instrument, f"v{latest.version}", "draft"
                )
                lines = diff.lines()
        except LoadError as exc:
            self.app.call_from_thread(self.notify, f"cannot publish: {exc.problems[0]}", severity="error", timeout=8)
            return
        number = 1 if latest is None else latest.version + 1
        if latest is not None and not lines and latest.source == self.study.instrument_source(info.instrument_id):
            self.app.call_from_thread(self.notify, f"no change since v{latest.version}: nothing to publish")
            return
        body = f"Freeze the draft of {info.instrument_id} as v{number}? It cannot be changed afterwards.\n\n"
        body += "\n".join(lines[:40]) or "(first version)"
        if reuses:
            body += "\n\n⚠ CODE REUSE — exports would mix meanings:\n" + "\n".join(f"• {r.message()}" for r in reuses)
            body += "\n\nPublish anyway?"
        self.app.call_from_thread(self._confirm_publish, info, body, bool(reuses))

    def _confirm_publish(self, info: DraftInfo, body: str, allow: bool) -> None:
        def done(yes: bool | None) -> None:
            if yes:
                self.notify(_("Publishing {instrument_id}…").format(instrument_id=info.instrument_id), timeout=3)
                self.do_publish(info, allow)

        self.app.push_screen(ConfirmScreen("Publish", body), done)

    @work(thread=True, exclusive=True, group="builder-publish")
    def do_publish(self, info: DraftInfo, allow: bool) -> None:
        from survey_tui.core.instrument.versions import publish

        try:
            result = publish(self.study, info.instrument_id, note="published in the builder", allow_code_reuse=allow)
        except LoadError as exc:
            self.app.call_from_thread(self.notify, f"not published: {exc.problems[0]}", severity="error", timeout=8)
            return
        self.app.call_from_thread(self.notify, f"published {info.instrument_id} v{result.version.version}")
        self.load()

    def action_versions(self) -> None:
        info, _skip = self.current()
        if info is not None:
            self.versions_view(info.instrument_id)

    @work(thread=True, exclusive=True, group="builder-text")
    def versions_view(self, instrument_id: str) -> None:
        from survey_tui.core.instrument.versions import diff_versions, draft_status, interview_counts_by_version

        try:
            with self.study.store() as store:
                versions = store.versions(instrument_id)
            counts = interview_counts_by_version(self.study, instrument_id)
            parts = [f"## {instrument_id}: {draft_status(self.study, instrument_id).describe()}", ""]
            for v in versions:
                modes = ", ".join(f"{m} {n}" for m, n in sorted(counts.get(v.version, {}).items())) or "no interviews"
                parts.append(f"- **v{v.version}** {v.published_at[:10]} — {v.note or ''} ({modes})")
            numbers = [v.version for v in versions]
            for a, b in zip(numbers, numbers[1:], strict=False):
                parts += ["", f"### v{a} → v{b}", "", diff_versions(self.study, instrument_id, a, b).markdown()]
            if numbers:
                try:
                    parts += [
                        "",
                        f"### v{numbers[-1]} → draft",
                        "",
                        diff_versions(self.study, instrument_id, numbers[-1], "draft").markdown(),
                    ]
                except LoadError as exc:
                    parts += ["", _("The draft has errors: {problem}").format(problem=exc.problems[0])]
        except LoadError as exc:
            self.post_message(LoadFailed(str(exc.problems[0])))
            return
        self.post_message(Loaded(("text", _("Versions"), "\n".join(parts), {})))

    def action_pilot(self) -> None:
        self.pilot_view()

    @work(thread=True, exclusive=True, group="builder-text")
    def pilot_view(self) -> None:
        from survey_tui.report.pilot_report import build_pilot_report

        try:
            path, text = build_pilot_report(self.study)
        except LoadError as exc:
            self.app.call_from_thread(self.notify, str(exc.problems[0]), severity="warning", timeout=6)
            return
        title = _("Pilot report (written to {path})").format(path=self.study.relative(path))
        self.post_message(Loaded(("text", title, text, {"R": _("revise: edit the next draft")})))

    def _text_closed(self, key: str | None) -> None:
        if key == "R":
            info, _skip = self.current()
            status = info.status if info else ""
            self.notify(
                _("Revising: edits go to the {v0}; publish (P) when ready").format(v0=status or "draft"), timeout=6
            )
            self.query_one("#outline", Outline).focus()


def question_detail(instrument: Instrument, q: Question) -> Table:
    """A question's labels side by side per language, then its logic and choices."""
    table = Table(show_header=True, header_style="bold", expand=True, box=None, padding=(0, 1))
    table.add_column("", style="dim", no_wrap=True)
    for lang in instrument.languages:
        table.add_column(lang, ratio=1, overflow="fold")  # cells are Wrapped: CJK breaks between characters
    pad = [""] * (len(instrument.languages) - 1)

    def add_row(name: str, *values: str) -> None:  # each value wraps like Chinese or English in its column
        table.add_row(name, *[Wrapped(v) for v in values])

    add_row("name", f"{q.name} ({q.type})", *pad)
    add_row("label", *[label_text(q.label, lang) for lang in instrument.languages])
    if q.hint:
        add_row("hint", *[label_text(q.hint, lang) for lang in instrument.languages])
    for item in q.items or []:
        add_row(f"  {item.name}", *[label_text(item.label, lang) for lang in instrument.languages])
    for choice in q.choice_options:
        add_row(f"  {choice.code}", *[label_text(choice.label, lang) for lang in instrument.languages])
    for name, special in q.specials.items():
        add_row(
            f"  {special.code}",
            *[f"{label_text(special.label, lang)} ({name})" for lang in instrument.languages],
        )
    for field_name in LOGIC:
        value = getattr(q, field_name)
        if value:
            add_row(field_name, value, *pad)
    if q.constraint_message:
        add_row("c. message", *[label_text(q.constraint_message, lang) for lang in instrument.languages])
    add_row("required", "yes" if q.is_required else "no", *pad)
    return table
