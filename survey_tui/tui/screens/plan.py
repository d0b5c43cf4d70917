"""Plan (T1.1–T1.2): desk-research sources, method, report-format approval, objectives, hypotheses,
analysis plan and the sample-size helper, edited with the keyboard and saved to `study.yaml`.

Every save goes through `PlanStore` (comments kept, whole file validated, temp file + rename) in a worker;
the screen then shows the plan again with the cross-check problems `survey-tui check` would print.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static, TabbedContent, TabPane

from survey_tui.core.plan.edit import PlanStore, yaml_ready
from survey_tui.core.plan.model import (
    APPROACHES,
    COLLECTION_MODES,
    DIRECTIONS,
    RELIABILITIES,
    REPORT_STATUSES,
    SOURCE_KINDS,
    TEST_LABELS,
    AnalysisPlan,
    Background,
    Finding,
    Group,
    Hypothesis,
    Method,
    Milestone,
    Objective,
    ReportFormat,
    Source,
    TestKind,
    Tool,
    check_hypothesis,
    check_plan,
    margin_for_sample_size,
)
from survey_tui.core.problems import LoadError, Problem
from survey_tui.core.study import StudyConfig
from survey_tui.core.yamlfile import dump_yaml, parse_yaml_text
from survey_tui.i18n import N_, _, shown
from survey_tui.tui.footer import FittingFooter
from survey_tui.tui.render import Wrapped, fit, problems_text
from survey_tui.tui.screens.plan_forms import ConfirmScreen, FormField, FormScreen, SampleSizeScreen

TABS = ("overview", "sources", "objectives", "hypotheses", "analysis")
LIST_OF_TAB = {"sources": "sources", "objectives": "objectives", "hypotheses": "hypotheses"}


@dataclass(frozen=True)
class PlanData:
    config: StudyConfig | None
    problems: list[Problem]


class PlanLoaded(Message):
    def __init__(self, data: PlanData, saved: str | None = None) -> None:
        super().__init__()
        self.data = data
        self.saved = saved


class PlanSaveFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


# -- text <-> model (the forms' plain-text formats) ------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _split(text: str, sep: str = ",") -> list[str]:
    return [part.strip() for part in text.replace("，", ",").split(sep) if part.strip()]


def _pipe_rows(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("|")] for line in _lines(text)]


def _opt(text: str) -> str | None:
    return text.strip() or None


def _date_text(value: date | None) -> str:
    return value.isoformat() if value else ""


def source_values(s: Source) -> dict[str, str]:
    findings = [f.text + (" | " + ", ".join(f.tags) if f.tags else "") for f in s.findings]
    return {
        "id": s.id,
        "title": s.title,
        "publisher": s.publisher,
        "url": s.url,
        "accessed": _date_text(s.accessed),
        "kind": s.kind,
        "reliability": s.reliability,
        "reliability_reason": s.reliability_reason,
        "findings": "\n".join(findings),
        "tags": ", ".join(s.tags),
    }


def build_source(v: dict[str, str]) -> Source:
    findings = []
    for row in _pipe_rows(v["findings"]):
        findings.append(Finding(text=row[0], tags=_split(row[1]) if len(row) > 1 else []))
    return Source.model_validate(
        {
            "id": v["id"].strip(),
            "title": v["title"].strip(),
            "publisher": v["publisher"].strip(),
            "url": v["url"].strip(),
            "accessed": _opt(v["accessed"]),
            "kind": v["kind"] or "other",
            "reliability": v["reliability"] or "medium",
            "reliability_reason": v["reliability_reason"].strip(),
            "findings": findings,
            "tags": _split(v["tags"]),
        }
    )


#: one of each plan list, for titles ("Add hypothesis", not "Add hypothese")
SINGULAR = {"sources": N_("source"), "objectives": N_("objective"), "hypotheses": N_("hypothesis")}


def singular(section: str) -> str:
    return SINGULAR.get(section, section.removesuffix("s"))


def hypothesis_values(h: Hypothesis) -> dict[str, str]:
    return {
        "id": h.id,
        "statement": h.statement,
        "objective": h.objective,
        "test": h.test.value,
        "outcome": h.outcome,
        "codes": ", ".join(map(str, h.codes)),
        "by": h.by or "",
        "groups": "\n".join(f"{g.label} | {g.when}" for g in h.groups),
        "subset": h.subset or "",
        "expected": h.expected,
        "alpha": f"{h.alpha:g}",
        "threshold": "" if h.threshold is None else f"{h.threshold:g}",
    }


def build_hypothesis(v: dict[str, str]) -> Hypothesis:
    groups = []
    for row in _pipe_rows(v["groups"]):
        if len(row) != 2:
            raise ValueError(f"groups: write 'label | expression' on each line, not {' | '.join(row)!r}")
        groups.append(Group(label=row[0], when=row[1]))
    try:
        codes = [int(c) for c in _split(v["codes"])]
    except ValueError:
        raise ValueError("codes: whole numbers separated by commas, e.g. 1, 2, 3") from None
    return Hypothesis.model_validate(
        {
            "id": v["id"].strip(),
            "statement": v["statement"].strip(),
            "objective": v["objective"].strip(),
            "test": v["test"],
            "outcome": v["outcome"].strip(),
            "codes": codes,
            "by": _opt(v["by"]),
            "groups": groups,
            "subset": _opt(v["subset"]),
            "expected": v["expected"] or "different",
            "alpha": v["alpha"].strip() or 0.05,
            "threshold": _opt(v["threshold"]),
        }
    )


def method_values(m: Method) -> dict[str, str]:
    return {
        "approach": m.approach,
        "modes": ", ".join(m.modes),
        "target_population": m.target_population,
        "population_size": str(m.population_size or ""),
        "sampling": m.sampling,
        "sample_size": str(m.sample_size or ""),
        "timeline": "\n".join(f"{t.name} | {_date_text(t.start)} | {_date_text(t.end)}" for t in m.timeline),
        "tools": "\n".join(f"{t.name} | {t.reason}" for t in m.tools),
    }


def build_method(v: dict[str, str]) -> Method:
    timeline = []
    for row in _pipe_rows(v["timeline"]):
        row += [""] * (3 - len(row))
        timeline.append(Milestone.model_validate({"name": row[0], "start": _opt(row[1]), "end": _opt(row[2])}))
    tools = [Tool(name=row[0], reason=row[1] if len(row) > 1 else "") for row in _pipe_rows(v["tools"])]
    return Method.model_validate(
        {
            "approach": v["approach"] or "quantitative",
            "modes": _split(v["modes"].lower()),
            "target_population": v["target_population"].strip(),
            "population_size": _opt(v["population_size"].replace(",", "")),
            "sampling": v["sampling"].strip(),
            "sample_size": _opt(v["sample_size"].replace(",", "")),
            "timeline": timeline,
            "tools": tools,
        }
    )


def _options(values: tuple[str, ...], labels: dict[str, str] | None = None) -> tuple[tuple[str, str], ...]:
    return tuple(((labels or {}).get(v, v.replace("_", " ")), v) for v in values)


SOURCE_FIELDS = [
    FormField("id", N_("ID"), placeholder="S7", help=N_("unique, e.g. S7")),
    FormField("title", N_("Title")),
    FormField("publisher", N_("Publisher")),
    FormField("url", N_("URL or location")),
    FormField("accessed", N_("Date accessed"), placeholder="YYYY-MM-DD"),
    FormField("kind", N_("Kind"), "select", _options(SOURCE_KINDS)),
    FormField("reliability", N_("Reliability"), "select", _options(RELIABILITIES)),
    FormField("reliability_reason", N_("Why this reliability")),
    FormField("findings", N_("Key findings"), "area", help=N_("one a line; optional themes after |")),
    FormField("tags", N_("Themes"), placeholder="market size, regions", help=N_("comma-separated")),
]
OBJECTIVE_FIELDS = [FormField("id", N_("ID"), placeholder="O4"), FormField("text", N_("Objective"))]
BACKGROUND_FIELDS = [
    FormField("context", N_("Background / business context"), "area"),
    FormField("decision", N_("Decision the study supports"), "area"),
]
METHOD_FIELDS = [
    FormField("approach", N_("Approach"), "select", _options(APPROACHES)),
    FormField("modes", N_("Collection modes"), placeholder="capi, cawi", help=", ".join(COLLECTION_MODES)),
    FormField("target_population", N_("Target population")),
    FormField("population_size", N_("Population size N"), help=N_("for the finite-population correction")),
    FormField("sampling", N_("Sampling method")),
    FormField("sample_size", N_("Planned sample size")),
    FormField("timeline", N_("Timeline"), "area", help=N_("step | start | end, one a line")),
    FormField("tools", N_("Tools"), "area", help=N_("tool | why it was chosen, one a line")),
]
FORMAT_FIELDS = [
    FormField("template", N_("Report template")),
    FormField("sections", N_("Sections"), "area", help=N_("one a line")),
]
STATUS_FIELDS = [
    FormField("status", N_("New status"), "select", _options(REPORT_STATUSES)),
    FormField("by", N_("By whom")),
    FormField("on", N_("On"), placeholder="YYYY-MM-DD"),
    FormField("note", N_("Note")),
]
ANALYSIS_FIELDS = [
    FormField("yaml", N_("Banners and planned tables (YAML)"), "area", help=N_("checked before it is saved")),
]


def hypothesis_fields(objectives: list[tuple[str, str]]) -> list[FormField]:
    """The hypothesis form; `objectives` are (id, text), so the picker says what each objective is."""
    choices = tuple((f"{oid} — {fit(text, 48).rstrip()}" if text else oid, oid) for oid, text in objectives)
    return [
        FormField("id", N_("ID"), placeholder="H7"),
        FormField("statement", N_("Statement")),
        FormField("objective", N_("Objective it serves"), "select", choices),
        FormField("test", N_("Test"), "select", tuple((_(TEST_LABELS[t]), t.value) for t in TestKind)),
        FormField("outcome", N_("Outcome variable"), placeholder="u1_freq, b4_sat_taste, a2_aided_1"),
        FormField("codes", N_("Codes counted"), placeholder="1, 2, 3", help=N_("for proportions and shares")),
        FormField(
            "by", N_("By variable"), placeholder="s3", help=N_("groups by its codes; 2nd variable of a correlation")
        ),
        FormField("groups", N_("Groups"), "area", help=N_("label | expression, one a line, e.g. Under 30 | s2 < 30")),
        FormField("subset", N_("Base (subset)"), placeholder="s5 = 1"),
        FormField("expected", N_("Expected direction"), "select", _options(DIRECTIONS)),
        FormField("alpha", N_("Significance level α")),
        FormField("threshold", N_("Threshold (share tests)"), placeholder="0.3"),
    ]


class PlanScreen(Screen[None]):
    BINDINGS = [
        Binding("a", "add", N_("Add"), id="plan.add", tooltip=N_("Add a source, objective or hypothesis (on its tab)")),
        Binding("e", "edit", N_("Edit"), id="plan.edit", tooltip=N_("Edit the selected row (Enter works too)")),
        Binding("x", "delete", N_("Delete"), id="plan.delete", tooltip=N_("Remove the selected row after asking")),
        Binding(
            "b", "background", N_("Background"), id="plan.background", tooltip=N_("Background and business decision")
        ),
        Binding("m", "method", N_("Method"), id="plan.method", tooltip=N_("Approach, mode, population, sample, tools")),
        Binding("f", "report_format", N_("Format"), id="plan.format", tooltip=N_("Report template and its sections")),
        Binding(
            "s", "status", N_("Approval"), id="plan.status", tooltip=N_("Change the report format's approval status")
        ),
        Binding(
            "p", "analysis", N_("Analysis plan"), id="plan.analysis", tooltip=N_("Edit banners and planned tables")
        ),
        Binding(
            "n", "sample_size", N_("Sample size"), id="plan.samplesize", tooltip=N_("Margin of error ⇄ sample size")
        ),
        Binding("]", "tab(1)", N_("Next tab"), id="plan.next_tab", tooltip=N_("Show the next tab of the plan")),
        Binding("[", "tab(-1)", N_("Prev tab"), id="plan.prev_tab", tooltip=N_("Show the previous tab of the plan")),
        Binding(
            "r", "refresh", N_("Reload"), id="plan.reload", tooltip=N_("Read study.yaml and the instruments again")
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.data: PlanData | None = None

    # -- layout --------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="plan-tabs", initial="overview"):
            with TabPane(_("Overview"), id="overview"), VerticalScroll(id="plan-overview-scroll"):
                yield Static(_("Loading the plan…"), id="plan-overview")
            with TabPane(_("Sources"), id="sources"):
                yield DataTable(id="plan-sources", cursor_type="row", zebra_stripes=True)
            with TabPane(_("Objectives"), id="objectives"):
                yield DataTable(id="plan-objectives", cursor_type="row", zebra_stripes=True)
                yield Static("", id="plan-objective-detail", classes="plan-detail")
            with TabPane(_("Hypotheses"), id="hypotheses"):
                yield DataTable(id="plan-hypotheses", cursor_type="row", zebra_stripes=True)
                yield Static("", id="plan-hypothesis-detail", classes="plan-detail")
            with TabPane(_("Analysis plan"), id="analysis"), VerticalScroll():
                yield Static("", id="plan-banners")
                yield DataTable(id="plan-tables", cursor_type="row", zebra_stripes=True)
        yield Static("", id="plan-problems")
        yield FittingFooter()

    @property
    def store(self) -> PlanStore:
        return PlanStore(self.app.study.root)  # type: ignore[attr-defined]

    @property
    def config(self) -> StudyConfig:
        if self.data is not None and self.data.config is not None:
            return self.data.config
        return self.app.study.config  # type: ignore[attr-defined]

    @property
    def active_tab(self) -> str:
        return self.query_one("#plan-tabs", TabbedContent).active

    def on_mount(self) -> None:
        self.action_refresh()

    # -- loading and saving (workers; widgets only in the handlers) ---------------------------------
    def action_refresh(self) -> None:
        self.load()

    def _read(self) -> PlanData:
        study = self.app.study  # type: ignore[attr-defined]
        try:
            config, doc = self.store.load()
        except LoadError as exc:
            return PlanData(None, exc.problems)
        instruments, _skip = study.load_instruments()
        return PlanData(config, check_plan(config, instruments.values(), doc))

    @work(thread=True, exclusive=True, group="plan")
    def load(self) -> None:
        self.post_message(PlanLoaded(self._read()))

    @work(thread=True, group="plan-save")
    def save(self, what: str, change: Callable[[PlanStore], Any]) -> None:
        try:
            change(self.store)
        except LoadError as exc:
            self.post_message(PlanSaveFailed("\n".join(str(p) for p in exc.problems)))
            return
        except (OSError, ValueError) as exc:
            self.post_message(PlanSaveFailed(str(exc)))
            return
        self.post_message(PlanLoaded(self._read(), saved=what))

    def on_plan_save_failed(self, message: PlanSaveFailed) -> None:
        self.notify(message.error, title=_("Not saved — study.yaml is unchanged"), severity="error", timeout=10)

    def on_plan_loaded(self, message: PlanLoaded) -> None:
        self.data = message.data
        if message.data.config is not None:
            self.app.study.config = message.data.config  # type: ignore[attr-defined]
        self._show()
        if message.saved:
            self.notify(_("Saved {saved} to study.yaml").format(saved=message.saved), timeout=3)

    # -- showing -------------------------------------------------------------------------------------
    def _show(self) -> None:
        config = self.config
        self._overview(config)
        self._fill(
            "#plan-sources",
            ("ID", "Title", "Publisher", "Kind", "Accessed", "Reliability", "Findings"),
            [
                (
                    s.id,
                    (
                        s.id,
                        s.title,
                        s.publisher,
                        s.kind.replace("_", " "),
                        _date_text(s.accessed),
                        s.reliability,
                        str(len(s.findings)),
                    ),
                )
                for s in config.sources
            ],
        )
        counts = {o.id: 0 for o in config.objectives}
        for item in [*config.hypotheses, *config.analysis_plan.tables]:
            if item.objective in counts:
                counts[item.objective] += 1
        self._fill(
            "#plan-objectives",
            ("ID", "Objective", "Hypotheses + tables"),
            [(o.id, (o.id, o.text, str(counts[o.id]))) for o in config.objectives],
        )
        self._fill(
            "#plan-hypotheses",
            ("ID", "Objective", "Test", "Outcome", "Groups / by", "Expected", "α", "Statement"),
            [
                (
                    h.id,
                    (
                        h.id,
                        h.objective,
                        _(TEST_LABELS[h.test]),
                        h.outcome + (f" {h.codes}" if h.codes else ""),
                        " vs ".join(g.label for g in h.groups) or (h.by or ""),
                        shown(h.expected_text()),
                        f"{h.alpha:g}",
                        h.statement,
                    ),
                )
                for h in config.hypotheses
            ],
        )
        plan = config.analysis_plan
        banners = Text(_("Banners: "), style="bold")
        for b in plan.banners:
            groups = ", ".join(g.label for g in b.groups)
            banners.append(f"\n  {b.id}", style="bold")
            banners.append(f"  {b.label}  ({b.variable or groups})")
        if not plan.banners:
            banners.append(_("none yet (p to edit the analysis plan)"))
        self.query_one("#plan-banners", Static).update(banners)
        self._fill(
            "#plan-tables",
            ("ID", "Objective", "Title", "Stub", "Banners", "Statistic"),
            [
                (
                    t.id,
                    (
                        t.id,
                        t.objective,
                        t.title,
                        ", ".join(t.stub),
                        ", ".join(t.banners) or "all",
                        t.statistic.replace("_", " "),
                    ),
                )
                for t in plan.tables
            ],
        )
        self._objective_detail(self._selected("#plan-objectives"))
        self._hypothesis_detail(self._selected("#plan-hypotheses"))
        self._problems(self.data.problems if self.data else [])

    def _fill(self, selector: str, columns: tuple[str, ...], rows: list[tuple[str, tuple[str, ...]]]) -> None:
        table = self.query_one(selector, DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        table.add_columns(*columns)
        for key, cells in rows:
            table.add_row(*cells, key=key)
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))

    def _overview(self, config: StudyConfig) -> None:
        text = Text()
        text.append(_("Background\n"), style="bold underline")
        text.append((config.background.context or config.description or "(not written yet — press b)") + "\n")
        text.append(_("Decision: "), style="bold")
        text.append((config.background.decision or "(not stated yet)") + "\n\n")
        m = config.method
        text.append(_("Method"), style="bold underline")
        text.append(_("  (m to edit, n for the sample-size helper)\n"))
        modes = ", ".join(COLLECTION_MODES.get(x, x) for x in m.modes) or "—"
        text.append(
            _("{approach}; {modes}\nPopulation: {v2}\n").format(
                approach=m.approach, modes=modes, v2=m.target_population or "—"
            )
        )
        text.append(_("Sampling: {v0}\n").format(v0=m.sampling or "—"))
        if m.sample_size:
            population = m.population_size if m.population_size and m.population_size >= m.sample_size else None
            margin = margin_for_sample_size(m.sample_size, 0.95, 0.5, population)
            text.append(
                _("Sample: n = {sample_size} (±{v1:.1f} points at 95%)\n").format(
                    sample_size=m.sample_size, v1=margin * 100
                )
            )
        else:
            text.append(_("Sample: — \n"))
        for tool in m.tools:
            text.append(f"  • {tool.name}", style="bold")
            text.append(f" — {tool.reason}\n" if tool.reason else "\n")
        rf = config.report_format
        text.append(_("\nReport format"), style="bold underline")
        text.append(_("  (f to edit, s to change its status)\n"))
        style = "bold green" if rf.approved else "bold yellow"
        text.append(f"{rf.template or '(no template chosen)'} — ")
        text.append(rf.status.replace("_", " ").upper(), style=style)
        if rf.approved:
            text.append(_(" by {v0} on {v1}").format(v0=rf.approved_by or "?", v1=_date_text(rf.approved_on) or "?"))
        text.append("\n")
        for change in rf.history:
            text.append(f"  {change.on.isoformat()}  {change.status.replace('_', ' '):<18} {change.by}")
            text.append(f"  {change.note}\n" if change.note else "\n")
        self.query_one("#plan-overview", Static).update(Wrapped(text))  # Chinese breaks between characters

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted objective's or hypothesis's whole text under its table (the row cuts it)."""
        key = event.row_key.value if event.row_key is not None else None
        if event.data_table.id == "plan-objectives":
            self._objective_detail(key)
        elif event.data_table.id == "plan-hypotheses":
            self._hypothesis_detail(key)

    def _objective_detail(self, key: str | None) -> None:
        objective = next((o for o in self.config.objectives if o.id == key), None)
        text = Text()
        if objective is not None:
            text.append(f"{objective.id}  ", style="bold")
            text.append(objective.text)
        self.query_one("#plan-objective-detail", Static).update(Wrapped(text))

    def _hypothesis_detail(self, key: str | None) -> None:
        h = next((h for h in self.config.hypotheses if h.id == key), None)
        text = Text()
        if h is not None:
            text.append(f"{h.id}  ", style="bold")
            text.append(f"{h.objective}  {_(TEST_LABELS[h.test])}\n", style="dim")
            text.append(h.statement + "\n")
            groups = " vs ".join(g.label for g in h.groups) or (h.by or "")
            outcome = h.outcome + (f" {h.codes}" if h.codes else "")
            text.append(f"{outcome}  ·  {groups}  ·  {shown(h.expected_text())}  ·  α = {h.alpha:g}", style="dim")
        self.query_one("#plan-hypothesis-detail", Static).update(Wrapped(text))

    def _problems(self, problems: list[Problem]) -> None:
        self.query_one("#plan-problems", Static).update(problems_text(problems, _("plan check: no problems")))

    # -- actions -------------------------------------------------------------------------------------
    def action_tab(self, step: int) -> None:
        tabs = self.query_one("#plan-tabs", TabbedContent)
        tabs.active = TABS[(TABS.index(tabs.active) + step) % len(TABS)]
        pane = tabs.active_pane
        if pane is not None:
            for table in pane.query(DataTable):
                table.focus()
                break

    def _selected(self, selector: str) -> str | None:
        table = self.query_one(selector, DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _editable(self) -> str | None:
        tab = self.active_tab
        if tab in LIST_OF_TAB:
            return tab
        if tab == "analysis":
            self.action_analysis()
            return None
        self.notify(_("Go to the Sources, Objectives or Hypotheses tab ( ] ) to add or edit rows"), timeout=4)
        return None

    def action_add(self) -> None:
        section = self._editable()
        if section:
            self._open_item(section, None)

    def action_edit(self) -> None:
        section = self._editable()
        if section:
            item_id = self._selected(f"#plan-{section}")
            if item_id is None:
                self.notify(_("Nothing to edit yet: press a to add"), timeout=3)
                return
            self._open_item(section, item_id)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id in ("plan-sources", "plan-objectives", "plan-hypotheses"):
            self.action_edit()
        elif event.data_table.id == "plan-tables":
            self.action_analysis()

    def _open_item(self, section: str, item_id: str | None) -> None:
        config = self.config
        title = (_("Edit {what}") if item_id else _("Add {what}")).format(what=_(singular(section)))
        items: dict[str, Any] = {i.id: i for i in getattr(config, section)}
        current = items.get(item_id) if item_id else None
        if section == "sources":
            fields, build = SOURCE_FIELDS, build_source
            values = (
                source_values(current)
                if current
                else {
                    "id": _next_id("S", items),
                    "kind": "other",
                    "reliability": "medium",
                    "accessed": date.today().isoformat(),
                }
            )
        elif section == "objectives":
            fields, build = OBJECTIVE_FIELDS, lambda v: Objective(id=v["id"].strip(), text=v["text"].strip())
            values = {"id": current.id, "text": current.text} if current else {"id": _next_id("O", items)}
        else:
            objective_ids = [o.id for o in config.objectives]
            if not objective_ids:
                self.notify(_("Add an objective first: every hypothesis serves one"), severity="warning", timeout=4)
                return
            fields = hypothesis_fields([(o.id, o.text) for o in config.objectives])
            instruments = list(self.app.study.load_instruments()[0].values())  # type: ignore[attr-defined]

            def build(v: dict[str, str]) -> Hypothesis:
                """Refuse what `survey-tui check` would refuse later, each problem at its field."""
                hypothesis = build_hypothesis(v)
                problems = check_hypothesis(hypothesis, instruments, objective_ids)
                if problems:
                    raise LoadError(problems)
                return hypothesis

            values = (
                hypothesis_values(current)
                if current
                else {
                    "id": _next_id("H", items),
                    "objective": objective_ids[0],
                    "test": TestKind.DIFFERENCE_OF_PROPORTIONS,
                    "expected": "higher",
                    "alpha": "0.05",
                }
            )

        def saved(item: Any) -> None:
            if item is not None:
                self.save(
                    f"{_(singular(section))} {item.id}", lambda store: store.upsert(section, item, replace_id=item_id)
                )

        self.app.push_screen(FormScreen(title, fields, values, build), saved)

    def action_delete(self) -> None:
        section = self._editable()
        if not section:
            return
        item_id = self._selected(f"#plan-{section}")
        if item_id is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.save(f"(removed {item_id})", lambda store: store.remove(section, item_id))

        self.app.push_screen(
            ConfirmScreen(_("Remove {what} {id} from study.yaml?").format(what=_(singular(section)), id=item_id)),
            answered,
        )

    def _edit_part(
        self,
        part: str,
        title: str,
        fields: list[FormField],
        values: dict[str, str],
        build: Callable[[dict[str, str]], Any],
    ) -> None:
        def saved(value: Any) -> None:
            if value is not None:
                self.save(part.replace("_", " "), lambda store: store.set_part(part, value))

        self.app.push_screen(FormScreen(title, fields, values, build), saved)

    def action_background(self) -> None:
        bg = self.config.background
        self._edit_part(
            "background",
            _("Background"),
            BACKGROUND_FIELDS,
            {"context": bg.context, "decision": bg.decision},
            lambda v: Background(context=v["context"].strip(), decision=v["decision"].strip()),
        )

    def action_method(self) -> None:
        self._edit_part("method", _("Method and tools"), METHOD_FIELDS, method_values(self.config.method), build_method)

    def action_report_format(self) -> None:
        rf = self.config.report_format

        def build(v: dict[str, str]) -> ReportFormat:
            return rf.model_copy(update={"template": v["template"].strip(), "sections": _lines(v["sections"])})

        self._edit_part(
            "report_format",
            _("Report format"),
            FORMAT_FIELDS,
            {"template": rf.template, "sections": "\n".join(rf.sections)},
            build,
        )

    def action_status(self) -> None:
        rf = self.config.report_format

        def build(v: dict[str, str]) -> dict[str, Any]:
            if not v["status"]:
                raise ValueError("choose the new status")
            if v["status"] == "approved" and not v["by"].strip():
                raise ValueError("say who approved the report format")
            try:
                on = date.fromisoformat(v["on"].strip()) if v["on"].strip() else date.today()
            except ValueError:
                raise ValueError(f"on: '{v['on']}' is not a date (YYYY-MM-DD)") from None
            return {"status": v["status"], "by": v["by"].strip(), "on": on, "note": v["note"].strip()}

        def saved(change: dict[str, Any] | None) -> None:
            if change is not None:
                self.save(
                    f"report format status {change['status']}",
                    lambda store: store.change_report_status(**change),
                )

        values = {"status": rf.status, "on": date.today().isoformat()}
        self.app.push_screen(
            FormScreen(
                _("Report format status (now {status})").format(status=_(rf.status.replace("_", " "))),
                STATUS_FIELDS,
                values,
                build,
            ),
            saved,
        )

    def action_analysis(self) -> None:
        current = (
            dump_yaml(yaml_ready(self.config.analysis_plan))
            if (self.config.analysis_plan.banners or self.config.analysis_plan.tables)
            else (
                "banners:\n  - {id: gender, label: Gender, variable: s3}\n"
                "tables:\n  - {id: T1, objective: O1, title: ..., stub: [q1], statistic: column_percent}\n"
            )
        )

        def build(v: dict[str, str]) -> AnalysisPlan:
            doc, problems = parse_yaml_text(v["yaml"], "analysis plan")
            if doc is None:
                raise LoadError(problems)
            return AnalysisPlan.model_validate(doc.data)

        self._edit_part("analysis_plan", _("Analysis plan"), ANALYSIS_FIELDS, {"yaml": current}, build)

    def action_sample_size(self) -> None:
        m = self.config.method

        def chosen(n: int | None) -> None:
            if n:
                method = self.config.method.model_copy(update={"sample_size": n})
                self.save(f"planned sample size n = {n}", lambda store: store.set_part("method", method))

        self.app.push_screen(SampleSizeScreen(m.sample_size, m.population_size), chosen)


def _next_id(prefix: str, existing: dict[str, Any]) -> str:
    number = len(existing) + 1
    while f"{prefix}{number}" in existing:
        number += 1
    return f"{prefix}{number}"
