"""What pyxform itself makes of an XLSForm, compared with what survey-tui imports of it.

The reference is pyxform's XForm (the file ODK Collect and Enketo run): its binds, body, itext and choice
instances. Every question of the XForm is one of

* ``same``: imported, in or out of a loop as it is in or out of a repeat, with the same labels per language and
  the same choices (names and labels);
* ``warned``: left out or different, and a warning of the import names it (or the group or repeat around it);
* ``silent``: left out or different with no warning -- what must never happen.

Every relevant (with the groups' relevance around it) and constraint is then evaluated on random answers, the
XForm's with lxml's XPath 1.0 (ODK's own semantics for `=` on a select_multiple's text 'a b', empty strings,
number conversion) plus the XForms functions, ours with our evaluator, and sorted the same way.

Run it as a script for the figures over the shared corpus: ``python -m tests.core.xlsform_reference``.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from survey_tui.core.instrument.expressions import DictScope, Expression, Logical
from survey_tui.core.instrument.loader import load_instrument_text
from survey_tui.core.instrument.model import Instrument, Question, label_text
from survey_tui.io.xlsform import ImportResult, import_xlsform, language_tag

NS = {"x": "http://www.w3.org/2002/xforms", "h": "http://www.w3.org/1999/xhtml", "jr": "http://openrosa.org/javarosa"}
CONTROLS = ("input", "select1", "select", "trigger", "upload", "range", "rank")
SAMPLES = 60


@dataclass
class RefQuestion:
    """One question of pyxform's XForm."""

    path: str  # /data/group/name
    name: str
    kind: str  # the control (input, select1, select, ...) or 'calculate'
    xtype: str  # the bind's type (int, decimal, string, select, select1, date, ...)
    labels: dict[str, str]  # XForm language -> text ('default' when the form has none)
    choices: list[tuple[str, dict[str, str]]] | None
    ancestors: list[str]  # enclosing group/repeat paths, outermost first
    repeats: list[str]  # enclosing repeat paths
    bind: dict[str, str]
    header: bool = False  # appearance 'label': a table's header row


@dataclass
class Report:
    form: str
    questions: Counter[str] = field(default_factory=Counter)
    logic: Counter[str] = field(default_factory=Counter)
    silent: list[str] = field(default_factory=list)  # what differs with no warning, described
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------
# pyxform's XForm
# ---------------------------------------------------------------------------------------------------


def xform_of(path: Path) -> etree._Element:
    from pyxform.builder import create_survey_element_from_dict
    from pyxform.xls2json import workbook_to_json
    from pyxform.xls2json_backends import get_xlsform

    workbook = get_xlsform(str(path))
    form = workbook_to_json(
        workbook_dict=workbook,
        form_name=None,
        fallback_form_name=workbook.fallback_form_name,
        default_language=None,
        warnings=[],
    )
    xml = create_survey_element_from_dict(form).to_xml(validate=False)
    return etree.fromstring(xml.encode("utf-8"))


def _text(node: etree._Element | None) -> str:
    """An itext value or label as text, `<output value="/data/x"/>` written as `${x}`."""
    if node is None:
        return ""
    out = [node.text or ""]
    for child in node:
        if etree.QName(child).localname == "output":
            out.append("${" + str(child.get("value", "")).strip().split("/")[-1] + "}")
        out.append(child.tail or "")
    return " ".join("".join(out).split())


def reference_questions(root: etree._Element) -> list[RefQuestion]:
    model = root.find("h:head/x:model", NS)
    assert model is not None
    itext: dict[str, dict[str, str]] = {}
    for translation in model.findall("x:itext/x:translation", NS):
        lang = str(translation.get("lang"))
        for text in translation.findall("x:text", NS):
            values = [v for v in text.findall("x:value", NS) if v.get("form") is None]
            if values:
                itext.setdefault(str(text.get("id")), {})[lang] = _text(values[0])
    instances = {str(i.get("id")): i for i in model.findall("x:instance", NS) if i.get("id")}
    binds = {str(b.get("nodeset")): {str(k): str(v) for k, v in b.attrib.items()} for b in model.findall("x:bind", NS)}

    def labels_of(node: etree._Element) -> dict[str, str]:
        label = node.find("x:label", NS)
        if label is None:
            return {}
        ref = label.get("ref") or ""
        match = re.match(r"jr:itext\('([^']+)'\)", ref)
        if match:
            return {k: v for k, v in itext.get(match.group(1), {}).items() if v and v != "-"}
        text = _text(label)
        return {"default": text} if text else {}

    def choices_of(control: etree._Element) -> list[tuple[str, dict[str, str]]]:
        itemset = control.find("x:itemset", NS)
        if itemset is None:
            return [(str(item.findtext("x:value", "", NS)), labels_of(item)) for item in control.findall("x:item", NS)]
        match = re.match(r"instance\('([^']+)'\)", str(itemset.get("nodeset")))
        instance = instances.get(match.group(1)) if match else None
        out = []
        for item in instance.iter("{*}item") if instance is not None else []:
            name = str(item.findtext("x:name", "", NS))
            text_id = item.findtext("x:itextId", None, NS)
            labels = itext.get(text_id, {}) if text_id else {}
            if not text_id and item.find("x:label", NS) is not None:
                labels = {"default": _text(item.find("x:label", NS))}
            out.append((name, {k: v for k, v in labels.items() if v and v != "-"}))
        return out

    found: dict[str, RefQuestion] = {}

    def walk(node: etree._Element, ancestors: list[str], repeats: list[str]) -> None:
        for child in node:
            tag = etree.QName(child).localname if isinstance(child.tag, str) else ""
            if tag in ("group", "repeat"):
                ref = str(child.get("ref") or child.get("nodeset") or "")
                inner = [*ancestors, ref] if ref else ancestors
                walk(child, inner, [*repeats, ref] if tag == "repeat" else repeats)
            elif tag in CONTROLS and child.get("ref"):
                path = str(child.get("ref"))
                bind = binds.get(path, {})
                found[path] = RefQuestion(
                    path=path,
                    name=path.split("/")[-1],
                    kind=tag,
                    xtype=bind.get("type", "string"),
                    labels=labels_of(child),
                    choices=choices_of(child) if tag in ("select1", "select", "rank") else None,
                    ancestors=[a for a in ancestors if a != path],
                    repeats=repeats,
                    bind=bind,
                    header="label" in str(child.get("appearance") or "").split(),
                )

    body = root.find("h:body", NS)
    assert body is not None
    walk(body, [], [])
    repeat_paths = [str(r.get("nodeset")) for r in body.iter("{*}repeat")]
    for path, bind in binds.items():  # calculates have a bind and no control
        if path not in found and "calculate" in bind and "/meta/" not in path:
            ancestors = [p for p in binds if path.startswith(p + "/")]
            found[path] = RefQuestion(
                path,
                path.split("/")[-1],
                "calculate",
                bind.get("type", "string"),
                {},
                None,
                sorted(ancestors, key=len),
                [r for r in repeat_paths if path.startswith(r + "/")],
                bind,
            )
    return list(found.values())


# ---------------------------------------------------------------------------------------------------
# XPath on random answers
# ---------------------------------------------------------------------------------------------------


def _string(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0].text or "") if value and hasattr(value[0], "text") else (str(value[0]) if value else "")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _number(value: Any) -> float:
    try:
        return float(_string(value))
    except ValueError:
        return float("nan")


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "selected": lambda _c, v, x: _string(x).strip() in _string(v).split(),
    "count-selected": lambda _c, v: float(len(_string(v).split())),
    "if": lambda _c, cond, a, b: a if (cond if isinstance(cond, bool) else bool(cond)) else b,
    "coalesce": lambda _c, a, b: a if _string(a) else b,
    "abs": lambda _c, v: abs(_number(v)),
    "min": lambda _c, *vs: min(_number(v) for v in vs),
    "max": lambda _c, *vs: max(_number(v) for v in vs),
    "int": lambda _c, v: float(int(_number(v))) if _number(v) == _number(v) else float("nan"),
    "regex": lambda _c, v, p: re.search(_string(p), _string(v)) is not None,
    "today": lambda _c: "2026-06-15",
    "boolean-from-string": lambda _c, v: _string(v) in ("true", "1"),
}
EXTENSIONS = {(None, name): fn for name, fn in FUNCTIONS.items()}


class NotEvaluable(Exception):
    """The reference expression uses something this harness does not evaluate."""


def xpath_bool(expression: str, context: etree._Element) -> bool:
    expression = re.sub(r"\bposition\(\.\.\)", "1", expression)  # the first iteration of a repeat
    try:
        result = etree.XPath(expression, extensions=EXTENSIONS)(context)
    except (etree.XPathError, ValueError, TypeError, ZeroDivisionError, re.error) as exc:
        raise NotEvaluable(str(exc)) from exc
    if isinstance(result, list):
        return bool(result)
    if isinstance(result, float):
        return result == result and result != 0
    if isinstance(result, str):
        return bool(result)
    return bool(result)


def random_answer(q: RefQuestion, rng: random.Random) -> str:
    if rng.random() < 0.15:
        return ""
    names = [name for name, _ in q.choices or []]
    if q.kind == "select1" and names:
        return rng.choice(names)
    if q.kind == "select" and names:
        picked = [n for n in names if rng.random() < 0.4] or [rng.choice(names)]
        return " ".join(picked)
    if q.xtype in ("int", "integer"):
        return str(rng.choice([-1, 0, 1, 2, 3, 5, 10, 14, 15, 18, 49, 50, 72, 99, 120, 121]))
    if q.xtype == "decimal":
        return rng.choice(["0", "1.5", "2.5", "17.25", "18", "50", "99.9", "120", "121"])
    if q.xtype == "date":
        return rng.choice(["2010-06-15", "2026-01-01", "2026-12-31"])
    return rng.choice(["a", "abc", "Hello world", "x@y.org", "42"])


# ---------------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------------


def _our_value(q: Question, raw: str) -> Any:
    if raw == "":
        return None
    if q.type in ("single", "scale", "grid", "multi"):
        codes = {c.name or str(c.code): c.code for c in q.choice_options}
        picked = [codes[n] for n in raw.split() if n in codes]
        return picked if q.type == "multi" else (picked[0] if picked else None)
    if q.type in ("numeric", "calculate"):
        try:
            number = float(raw)
        except ValueError:
            return raw if q.type == "calculate" else None
        return int(number) if number.is_integer() and (q.decimals == 0 or q.type == "calculate") else number
    return raw


def _tag(lang: str, instrument: Instrument) -> str:
    if lang == "default":
        return instrument.language
    return language_tag(lang) or lang


def _labels_match(ref: dict[str, str], ours: dict[str, str] | None, instrument: Instrument) -> bool:
    ours = ours or {}
    for lang, text in ref.items():
        tag = _tag(lang, instrument)
        mine = ours.get(tag) or ours.get("*") or (label_text(ours, tag) if lang == "default" else "")
        if " ".join(str(mine).split()) != text:
            return False
    return True


class Comparison:
    def __init__(self, form: Path) -> None:
        self.form = form
        self.report = Report(form.name)
        self.root = xform_of(form)
        self.refs = reference_questions(self.root)
        self.result: ImportResult = import_xlsform(form)
        instrument, problems = load_instrument_text(self.result.yaml_text(), f"{form.stem}.yaml")
        assert instrument is not None, [str(p) for p in problems]
        self.ins = instrument
        self.warned_names = {str(p.where) for p in self.result.problems if p.where}
        self.renamed = {
            str(p.where): m.group(1)
            for p in self.result.problems
            if (m := re.search(r"became '(\w+)'", p.message)) and p.where
        }
        self.loop_names = {n for plan in self.ins.loops.values() for n in plan.templates}
        self.grid_rows: dict[str, tuple[Question, str]] = {}
        for q in self.ins.questions:
            for item in q.items or []:
                self.grid_rows[f"{q.name}_{item.name}"] = (q, item.name)
                self.grid_rows.setdefault(item.name, (q, item.name))

    # -- names --------------------------------------------------------------------------------------
    def warned(self, ref: RefQuestion) -> bool:
        names = {ref.name, *(a.split("/")[-1] for a in ref.ancestors)}
        return bool(names & self.warned_names) or any(f"'{ref.name}'" in p.message for p in self.result.problems)

    def ours(self, ref: RefQuestion) -> Question | None:
        """The question we made of `ref`: by name (a loop's first iteration for a question in a repeat)."""
        name = self.renamed.get(ref.name, ref.name)
        if not ref.repeats and name in self.loop_names and ref.ancestors:  # pyxform's loop: a group per choice
            plan = self.ins.loop_of_template(name)
            section = next((s for s in self.ins.sections if plan and s.name == plan.name), None)
            item = ref.ancestors[-1].split("/")[-1]
            listed = section.loop.choices if section and section.loop else None
            code = next((c.code for c in listed if c.name == item), None) if isinstance(listed, list) else None
            return self.ins.question(f"{name}_{code}") if code and self.ins.has_question(f"{name}_{code}") else None
        if ref.repeats and name in self.loop_names:
            copies = self.ins.iterations(name)
            return copies[0] if copies else None
        if not ref.repeats and self.ins.has_question(name) and name not in self.loop_names:
            return self.ins.question(name)
        return None

    # -- questions ----------------------------------------------------------------------------------
    def compare_questions(self) -> None:
        for ref in self.refs:
            if ref.header or ref.name.startswith("reserved_name_for_field_list_labels"):
                # a table's header row shows the choices as column heads: not a question in survey-tui either
                mine = self.ours(ref)
                if mine is not None and mine.answerable and not self.warned(ref):
                    self.report.questions["silent"] += 1
                    self.report.silent.append(f"question {ref.name}: a table's header row made answerable")
                else:
                    self.report.questions["header rows (not questions)"] += 1
                continue
            if ref.kind == "calculate" and ref.name == f"{self.counted(ref)}_count":
                # pyxform writes a repeat_count other than ${q} as the calculate `<repeat>_count`
                self.report.questions["pyxform's generated repeat counts"] += 1
                continue
            problem = self.question_difference(ref)
            if problem and ref.name.startswith("generated_table_list_label") and ref.ancestors:
                grid = ref.ancestors[-1].split("/")[-1]  # pyxform's title row of a table-list: our grid's label
                if self.ins.has_question(grid) and self.ins.question(grid).type == "grid":
                    problem = None if _labels_match(ref.labels, self.ins.question(grid).label, self.ins) else problem
            if problem is None:
                self.report.questions["same"] += 1
            elif self.warned(ref):
                self.report.questions["left out or changed, with a warning"] += 1
            else:
                self.report.questions["silent"] += 1
                self.report.silent.append(f"question {ref.name}: {problem}")

    def counted(self, ref: RefQuestion) -> str | None:
        """The repeat whose jr:count is this calculate, if any."""
        for repeat in self.root.iter("{*}repeat"):
            if str(repeat.get("{http://openrosa.org/javarosa}count") or "").strip() == ref.path:
                return str(repeat.get("nodeset")).split("/")[-1]
        return None

    def question_difference(self, ref: RefQuestion) -> str | None:
        if ref.name in self.grid_rows and not ref.repeats:
            grid, item = self.grid_rows[ref.name]
            row = next(i for i in grid.items or [] if i.name == item)
            if not _labels_match(ref.labels, row.label, self.ins):
                return "grid row label differs"
            return self.choice_difference(ref, grid)
        q = self.ours(ref)
        if q is None:
            return "not imported" + (" (in a repeat)" if ref.repeats else "")
        if ref.kind != "calculate" and not _labels_match(ref.labels, q.label, self.ins):
            return f"labels differ: {ref.labels} vs {q.label}"
        return self.choice_difference(ref, q)

    def choice_difference(self, ref: RefQuestion, q: Question) -> str | None:
        if ref.choices is None:
            return None
        mine = [(c.name or str(c.code), c.label) for c in q.choice_options]
        if [n for n, _ in ref.choices] != [n for n, _ in mine]:
            return f"choices differ: {[n for n, _ in ref.choices]} vs {[n for n, _ in mine]}"
        for (name, labels), (_, our_labels) in zip(ref.choices, mine, strict=True):
            if not _labels_match(labels, our_labels, self.ins):
                return f"choice {name} labels differ"
        return None

    # -- logic --------------------------------------------------------------------------------------
    def compare_logic(self, samples: int = SAMPLES, seed: int = 16) -> None:
        rng = random.Random(seed)
        checks: list[tuple[RefQuestion, str, list[str]]] = []
        binds = {r.path: r.bind for r in self.refs}
        model = self.root.find("h:head/x:model", NS)
        assert model is not None
        group_binds = {str(b.get("nodeset")): dict(b.attrib) for b in model.findall("x:bind", NS)}
        for ref in self.refs:
            if ref.kind == "calculate" and self.counted(ref) is not None:
                continue  # pyxform's generated repeat count: no rule of the form's own
            relevants = [group_binds.get(a, {}).get("relevant") for a in ref.ancestors]
            relevants.append(binds[ref.path].get("relevant"))
            parts = [str(r) for r in relevants if r]
            if parts:
                checks.append((ref, "relevant", parts))
            if ref.bind.get("constraint"):
                checks.append((ref, "constraint", [ref.bind["constraint"]]))
        worlds = [self.random_world(rng) for _ in range(samples)]
        for ref, kind, parts in checks:
            self.report.logic[self.judge(ref, kind, parts, worlds)] += 1

    def random_world(self, rng: random.Random) -> tuple[etree._Element, dict[str, Any]]:
        model = self.root.find("h:head/x:model", NS)
        assert model is not None
        primary = next(iter(model.find("x:instance", NS)))  # type: ignore[arg-type]
        doc = etree.fromstring(etree.tostring(primary))
        for element in doc.iter():  # the instance in no namespace, so that /data/q finds it as ODK does
            if isinstance(element.tag, str):
                element.tag = etree.QName(element).localname
        etree.cleanup_namespaces(doc)
        values: dict[str, Any] = {}
        for ref in self.refs:
            if ref.kind == "calculate":
                continue
            raw = random_answer(ref, rng)
            node = self.node(doc, ref.path)
            if node is not None:
                node.text = raw
            q = self.ours(ref)
            if q is not None and q.answerable:
                values[q.name] = _our_value(q, raw)
            elif ref.name in self.grid_rows and not ref.repeats:
                grid, item = self.grid_rows[ref.name]
                values[f"{grid.name}_{item}"] = _our_value(grid, raw)
        for plan in self.ins.loops.values():  # the first iteration of every repeat is there in ODK
            if plan.kind == "count" and plan.source:
                values[plan.source] = max(int(values.get(plan.source) or 0), 1)
            elif plan.kind == "over" and plan.source and plan.keys:
                first = plan.keys[0]
                values[plan.source] = sorted({*(values.get(plan.source) or []), first})
                source = next((r for r in self.refs if self.ours(r) and self.ours(r).name == plan.source), None)  # type: ignore[union-attr]
                node = self.node(doc, source.path) if source else None
                if node is not None:
                    names = {c.code: c.name or str(c.code) for c in self.ins.question(plan.source).choice_options}
                    node.text = " ".join(names[c] for c in values[plan.source])
        for ref in self.refs:  # calculations in document order, each side its own way
            if ref.kind != "calculate":
                continue
            node = self.node(doc, ref.path)
            q = self.ours(ref)
            try:
                value = etree.XPath(ref.bind["calculate"], extensions=EXTENSIONS)(node if node is not None else doc)
                text = _string(value)
            except (etree.XPathError, ValueError, TypeError, ZeroDivisionError, re.error):
                text = ""
            if node is not None:
                node.text = text
            if q is not None and q.calculate_expr is not None:
                values[q.name] = q.calculate_expr.evaluate(DictScope(values))
        return doc, values

    def node(self, doc: etree._Element, path: str) -> etree._Element | None:
        steps = path.strip("/").split("/")[1:]
        node: etree._Element | None = doc
        for step in steps:
            node = node.find(step) if node is not None else None
        return node

    def judge(self, ref: RefQuestion, kind: str, parts: list[str], worlds: list[Any]) -> str:
        q = self.ours(ref)
        if q is None:
            if ref.name in self.grid_rows and not ref.repeats:
                q = self.grid_rows[ref.name][0]
            else:
                return "question left out (counted above)"
        ours = self.our_condition(q, kind)
        agree = True
        for doc, values in worlds:
            node = self.node(doc, ref.path)
            if node is None:
                return "not evaluable by the harness"
            try:
                if kind == "relevant":
                    theirs = all(
                        xpath_bool(p, _first(self.node(doc, a), node)) for p, a in self.with_context(ref, parts)
                    )
                else:
                    if not (node.text or ""):
                        continue  # ODK checks a constraint only on an answer
                    theirs = xpath_bool(parts[0], node)
            except NotEvaluable:
                return "not evaluable by the harness"
            scope = DictScope(values)
            mine = ours(scope, values.get(q.name)) if ours else True
            if mine != theirs:
                agree = False
                break
        if agree:
            return "same"
        if self.warned(ref):
            self.report.notes.append(f"{kind} of {ref.name}: '{' and '.join(parts)}' differs, with a warning")
            return "dropped or changed, with a warning"
        self.report.silent.append(f"{kind} of {ref.name}: '{' and '.join(parts)}' behaves differently")
        return "silent"

    def with_context(self, ref: RefQuestion, parts: list[str]) -> list[tuple[str, str]]:
        """Each relevant with the node it belongs to (a group's relevant is evaluated at the group)."""
        model = self.root.find("h:head/x:model", NS)
        assert model is not None
        binds = {str(b.get("nodeset")): b.get("relevant") for b in model.findall("x:bind", NS)}
        owners = [a for a in ref.ancestors if binds.get(a)] + ([ref.path] if ref.bind.get("relevant") else [])
        return list(zip(parts, owners, strict=True))

    def our_condition(self, q: Question, kind: str) -> Callable[[DictScope, Any], bool] | None:
        if kind == "relevant":
            section = self.ins.section_of(q.name)
            own = _without_loop_condition(self.ins, q)
            exprs = [e for e in (section.relevant_expr, own) if e is not None]
            return lambda scope, _v: all(e.evaluate_bool(scope) for e in exprs)
        expr = q.constraint_expr

        def check(scope: DictScope, value: Any) -> bool:
            low = q.min is not None and isinstance(value, int | float) and value < q.min
            high = q.max is not None and isinstance(value, int | float) and value > q.max
            if q.type == "numeric" and (low or high):
                return False
            if q.type == "multi" and q.max_selected and isinstance(value, list) and len(value) > q.max_selected:
                return False
            return expr.evaluate_bool(scope, value) if expr is not None else True

        return check


def _first(node: etree._Element | None, default: etree._Element) -> etree._Element:
    return node if node is not None else default


def _without_loop_condition(ins: Instrument, q: Question) -> Expression | None:
    """An iteration's relevant without the loop's own 'this iteration is asked' part (ODK's repeat has it)."""
    expr = q.relevant_expr
    slot = q.slot
    if expr is None or slot is None:
        return expr
    active = ins.loops[slot.loop].active.get(slot.key)
    if active is None:
        return expr
    if expr.root == active.root:
        return None
    if isinstance(expr.root, Logical) and expr.root.op == "and" and expr.root.left == active.root:
        return Expression(expr.text, expr.root.right)
    return expr


def compare(form: Path) -> Report:
    comparison = Comparison(form)
    comparison.compare_questions()
    comparison.compare_logic()
    return comparison.report


def corpus_forms(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.glob("*") if p.suffix in (".xlsx", ".xls", ".md") and p.name != "README.md")


def main() -> None:  # pragma: no cover - prints the figures for the report
    corpus = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "xlsforms"
    questions: Counter[str] = Counter()
    logic: Counter[str] = Counter()
    for form in corpus_forms(corpus):
        report = compare(form)
        questions.update(report.questions)
        logic.update(report.logic)
        print(f"{form.name}: {dict(report.questions)} | {dict(report.logic)}")
        for line in report.silent:
            print(f"   SILENT {line}")
        for line in report.notes:
            print(f"   warned {line}")
    print(f"questions: {sum(questions.values())} {dict(questions)}")
    print(f"logic: {sum(logic.values())} {dict(logic)}")


if __name__ == "__main__":  # pragma: no cover
    main()
