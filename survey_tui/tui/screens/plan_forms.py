"""Keyboard forms for the Plan section: a generic modal form, a confirmation and the sample-size helper.

A form only collects text; its `build` callback turns the text into a core model and raises on bad input,
so the message appears in the form and nothing is written until the input is valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from survey_tui.core.plan.model import margin_for_sample_size, sample_size_for_margin
from survey_tui.core.problems import LoadError
from survey_tui.i18n import N_, _
from survey_tui.tui.keys import KeyedModal

FieldKind = Literal["text", "select", "area"]


def example(placeholder: str) -> str:
    """A placeholder that cannot be mistaken for a value already filled in: "e.g. S7" (formats stay as they are)."""
    if not placeholder or re.fullmatch(r"[YMDhms:/\- ]+", placeholder) or placeholder.startswith("e.g."):
        return placeholder  # YYYY-MM-DD says how to write it, not what to write
    return f"e.g. {placeholder}"


@dataclass(frozen=True)
class FormField:
    """One input of a form; `area` is several lines (one item a line)."""

    name: str
    label: str
    kind: FieldKind = "text"
    options: tuple[tuple[str, str], ...] = ()
    placeholder: str = ""
    help: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def error_text(exc: Exception, labels: dict[str, str] | None = None) -> str:
    """A validation failure in one or a few plain lines, each starting with the form field it is about."""
    labels = labels or {}
    if isinstance(exc, ValidationError):
        lines = []
        for err in exc.errors(include_url=False):
            where = ".".join(str(k) for k in err["loc"] if "[" not in str(k))
            where = labels.get(where, where)
            lines.append(f"{where}: {err['msg'].removeprefix('Value error, ')}" if where else err["msg"])
        return "\n".join(lines)
    if isinstance(exc, LoadError):
        return "\n".join(
            # a problem about a field of this form starts with its label; others keep their file and line
            f"{labels[p.where]}: {p.message}" + (f" ({p.hint})" if p.hint else "") if p.where in labels else str(p)
            for p in exc.problems
        )
    return str(exc)


class FormScreen(KeyedModal[Any]):
    """A modal form: Tab / Shift+Tab between fields, Ctrl+S to save, Escape to cancel."""

    BINDINGS = [
        Binding(
            "ctrl+s", "save", N_("Save"), id="plan.form.save", tooltip=N_("Check the form and save it to study.yaml")
        ),
        Binding("escape", "cancel", N_("Cancel"), id="plan.form.cancel", tooltip=N_("Close the form without saving")),
    ]

    def __init__(
        self,
        title: str,
        fields: list[FormField],
        values: dict[str, str],
        build: Callable[[dict[str, str]], Any],
    ) -> None:
        super().__init__(classes="plan-modal")
        self.form_title = title
        self.fields = fields
        self.values = values
        self.build = build

    def compose(self) -> ComposeResult:
        with Vertical(classes="plan-dialog") as dialog:
            dialog.border_title = self.form_title
            with VerticalScroll(classes="plan-form"):
                for f in self.fields:
                    yield Label(_(f.label) + (f"  [dim]{_(f.help)}[/dim]" if f.help else ""), classes="plan-label")
                    value = self.values.get(f.name, "")
                    if f.kind == "select":
                        yield Select(
                            list(f.options),
                            value=value if value in {v for _, v in f.options} else Select.NULL,
                            id=f"f-{f.name}",
                            allow_blank=True,
                        )
                    elif f.kind == "area":
                        yield TextArea(value, id=f"f-{f.name}", tab_behavior="focus", classes="plan-area")
                    else:
                        yield Input(value, placeholder=example(f.placeholder), id=f"f-{f.name}")
            yield Static("", id="form-error")
            with Horizontal(classes="plan-buttons"):
                yield Button(_("Save (Ctrl+S)"), id="form-save", variant="primary")
                yield Button(_("Cancel (Esc)"), id="form-cancel")

    def on_mount(self) -> None:
        if self.fields:  # the first field, not the scrolling container around the fields
            self.query_one(f"#f-{self.fields[0].name}").focus()

    def collect(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for f in self.fields:
            widget = self.query_one(f"#f-{f.name}")
            if isinstance(widget, Select):
                out[f.name] = "" if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, TextArea):
                out[f.name] = widget.text
            elif isinstance(widget, Input):
                out[f.name] = widget.value
        return out

    def action_save(self) -> None:
        try:
            result = self.build(self.collect())
        except (ValueError, ValidationError, LoadError) as exc:
            error = self.query_one("#form-error", Static)
            error.update(_("[b red]Not saved:[/] {v0}").format(v0=error_text(exc, self.labels())))
            field = self.field_of(exc)
            if field is not None:  # the cursor goes where the problem is, the message stays in view
                self.query_one(f"#f-{field}").focus()
            return
        self.dismiss(result)

    def labels(self) -> dict[str, str]:
        return {f.name: _(f.label) for f in self.fields}

    def field_of(self, exc: Exception) -> str | None:
        """The first form field a failure names (a pydantic location or a Problem's `where`)."""
        names = {f.name for f in self.fields}
        if isinstance(exc, ValidationError):
            located = [str(e["loc"][0]) for e in exc.errors() if e["loc"]]
        elif isinstance(exc, LoadError):
            located = [p.where or "" for p in exc.problems]
        else:
            located = [str(exc).split(":", 1)[0]]  # "codes: whole numbers ..." from the form's own parsing
        return next((name for name in located if name in names), None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    @on(Button.Pressed, "#form-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#form-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()


class ConfirmScreen(KeyedModal[bool]):
    """Yes / no before something is removed."""

    BINDINGS = [
        Binding("y", "answer(True)", N_("Yes"), id="plan.confirm.yes", tooltip=N_("Yes, do it")),
        Binding("n,escape", "answer(False)", N_("No"), id="plan.confirm.no", tooltip=N_("No, keep it")),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(classes="plan-modal")
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="plan-dialog plan-confirm"):
            yield Static(self.question)
            yield Static(_("[b]y[/b] yes   [b]n[/b] no"))

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


CONFIDENCE_OPTIONS = (("90%", "0.90"), ("95%", "0.95"), ("99%", "0.99"))


def _number(text: str, kind: type = float) -> Any:
    text = text.strip().replace(",", "").removesuffix("%")
    return kind(text) if text else None


class SampleSizeScreen(KeyedModal[int | None]):
    """Margin of error for a proportion, both ways, with the finite-population correction.

    Dismisses with a sample size when the researcher chooses to use it as the planned one.
    """

    BINDINGS = [
        Binding(
            "ctrl+s",
            "use",
            N_("Use n"),
            id="plan.samplesize.use",
            tooltip=N_("Save the n above as the planned sample size"),
        ),
        Binding("escape", "close", N_("Close"), id="plan.samplesize.close", tooltip=N_("Close the helper")),
    ]

    def __init__(self, sample_size: int | None = None, population: int | None = None) -> None:
        super().__init__(classes="plan-modal")
        self.initial_n = sample_size
        self.initial_population = population
        self.result_n: int | None = sample_size

    def compose(self) -> ComposeResult:
        with Vertical(classes="plan-dialog") as dialog:
            dialog.border_title = _("Sample size (proportion, simple random sample)")
            with VerticalScroll(classes="plan-form"):
                yield Label(_("Confidence level"), classes="plan-label")
                yield Select(list(CONFIDENCE_OPTIONS), value="0.95", allow_blank=False, id="ss-confidence")
                yield Label(_("Expected proportion p  [dim]0.5 is the safest[/dim]"), classes="plan-label")
                yield Input("0.5", id="ss-p")
                yield Label(_("Population N  [dim]empty: very large (no correction)[/dim]"), classes="plan-label")
                yield Input(str(self.initial_population or ""), id="ss-population")
                yield Label(_("Margin of error ±%  → interviews needed"), classes="plan-label")
                yield Input("5", id="ss-margin")
                yield Static("", id="ss-n-result", classes="plan-result")
                yield Label(_("Interviews n  → margin of error"), classes="plan-label")
                yield Input(str(self.initial_n or 400), id="ss-n")
                yield Static("", id="ss-margin-result", classes="plan-result")
            yield Static(_("[b]Ctrl+S[/b] save the n above as the planned sample size   [b]Esc[/b] close"))

    def on_mount(self) -> None:
        self.query_one("#ss-margin", Input).focus()
        self.recompute()

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        self.recompute()

    def recompute(self) -> None:
        """Pure arithmetic (no I/O), so it runs as the researcher types."""
        n_out = self.query_one("#ss-n-result", Static)
        m_out = self.query_one("#ss-margin-result", Static)
        try:
            confidence = float(str(self.query_one("#ss-confidence", Select).value))
            p = _number(self.query_one("#ss-p", Input).value)
            population = _number(self.query_one("#ss-population", Input).value, int)
        except ValueError:
            n_out.update(_("[red]p and N must be numbers[/red]"))
            m_out.update("")
            return
        p = 0.5 if p is None else p
        try:
            margin = _number(self.query_one("#ss-margin", Input).value)
            if margin is None:
                raise ValueError("give a margin, e.g. 5 for ±5%")
            self.result_n = sample_size_for_margin(margin / 100, confidence, p, population)
            n_out.update(
                _("n = [b]{result_n}[/b] interviews for ±{margin:g}% at {confidence:.0%}").format(
                    result_n=self.result_n, margin=margin, confidence=confidence
                )
            )
        except ValueError as exc:
            n_out.update(_("[red]{exc}[/red]").format(exc=exc))
        try:
            n = _number(self.query_one("#ss-n", Input).value, int)
            if n is None:
                raise ValueError("give a sample size")
            margin_n = margin_for_sample_size(n, confidence, p, population)
            m_out.update(
                _("±[b]{v0:.2f}[/b] percentage points with n = {n} at {confidence:.0%}").format(
                    v0=margin_n * 100, n=n, confidence=confidence
                )
            )
        except ValueError as exc:
            m_out.update(_("[red]{exc}[/red]").format(exc=exc))

    def action_use(self) -> None:
        self.dismiss(self.result_n)

    def action_close(self) -> None:
        self.dismiss(None)
