"""Load an instrument file and check everything at once: shape, choice lists, expressions, piping.

`compile_instrument` works on an in-memory model (the builder uses it while a researcher types);
`load_instrument` adds the file: YAML syntax and the line of every finding.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from survey_tui.core.instrument.expressions import (
    MAX_WORDED_ERRORS,
    Expression,
    ExpressionError,
    UnwordedError,
    parse_expression,
)
from survey_tui.core.instrument.model import (
    CHOICE_TYPES,
    MAX_ITERATIONS,
    MAX_QUESTIONS,
    PIPE_PATTERN,
    SPECIAL_NAMES,
    Choice,
    Instrument,
    LoopPlan,
    LoopSlot,
    Question,
    Section,
    SpecialCode,
    _default_specials,
    label_text,
)
from survey_tui.core.problems import LoadError, Problem, Severity
from survey_tui.core.yamlfile import PathKey, YamlDocument, parse_yaml_text, read_yaml, validate_document
from survey_tui.i18n import N_, _, worded

#: the special answers in the words of the interface (check messages name them)
_SPECIAL_WORDS = {"dont_know": N_("don't know"), "refused": N_("refused"), "not_applicable": N_("not applicable")}


def _special_word(name: str) -> str:
    return worded(_SPECIAL_WORDS, name)


def _did_you_mean(close: Sequence[str]) -> str | None:
    """The hint for a near miss ('did you mean ...?'), None when nothing is close."""
    return _("did you mean '{name}'?").format(name=close[0]) if close else None


@dataclass(frozen=True)
class Finding:
    """A problem found in the model, located by its path in the document (lines come later)."""

    path: tuple[PathKey, ...]
    where: str
    message: str
    hint: str | None = None
    severity: Severity = "error"
    #: the question name an unknown or later reference names, for a program acting on the finding (the XLSForm
    #: importer unpipes it): the message is worded in the interface language, so it cannot be matched
    name: str | None = None


class _Compiler:
    def __init__(self, instrument: Instrument, defaults: dict[str, SpecialCode] | None) -> None:
        self.ins = instrument
        self.defaults = defaults
        self.findings: list[Finding] = []
        self._seen: set[Finding] = set()  # the same findings, for the duplicate test (a list scan is quadratic)
        #: a question made from a loop template -> (its plan, its slot), for binding its expressions
        self.slots: dict[str, tuple[LoopPlan, LoopSlot]] = {}
        self.templates: dict[str, str] = {}  # loop question as written -> loop name
        self.variables: dict[str, str] = {}
        self.order: dict[str, int] = {}
        self.worded = 0  # expression errors reported in full so far
        #: (path, where) of each broken expression past the first MAX_WORDED_ERRORS: one finding counts them
        self.unworded: dict[tuple[tuple[PathKey, ...], str], None] = {}

    def add(
        self,
        path: Sequence[PathKey],
        where: str,
        message: str,
        hint: str | None = None,
        severity: Severity = "error",
        *,
        name: str | None = None,
    ) -> None:
        copy = self.slots.get(where)
        if copy is not None:  # a question made from a loop template: report it once, at the template
            plan, slot = copy
            where, message = slot.template, _("in loop '{loop}': {message}").format(loop=plan.name, message=message)
        finding = Finding(tuple(path), where, message, hint, severity, name)
        if finding not in self._seen:
            self._seen.add(finding)
            self.findings.append(finding)

    # -- main ------------------------------------------------------------------------------------
    def run(self) -> list[Finding]:
        ins = self.ins
        specials = dict(_default_specials())
        specials.update(self.defaults or {})
        specials.update(ins.special_codes or {})
        if ins.default_language and ins.default_language not in ins.languages:
            self.add(
                ["default_language"],
                "instrument",
                _("default language '{language}' is not among languages {languages}").format(
                    language=ins.default_language, languages=ins.languages
                ),
            )

        questions: list[Question] = []
        by_name: dict[str, Question] = {}
        order: dict[str, int] = {}
        variables: dict[str, str] = {}
        section_of = {}
        paths: dict[str, tuple[PathKey, ...]] = {}
        plans: dict[str, LoopPlan] = {}
        for section in ins.sections:
            if section.loop is not None:
                for q in section.questions:
                    self.templates.setdefault(q.name, section.name)
        made_so_far = 0  # questions so far, every loop iteration counted
        for si, section in enumerate(ins.sections):
            entries: list[tuple[int, Question]] = list(enumerate(section.questions))
            if section.loop is not None:
                plan = self.loop_plan(si, section, by_name)
                made = len(plan.keys) * len(section.questions) if plan is not None else 0
                if plan is not None and made_so_far + made > MAX_QUESTIONS:
                    self.add(
                        ["sections", si, "loop"],
                        f"loop {section.name}",
                        f"the loop makes {made:,} questions ({len(plan.keys)} iterations of "
                        f"{len(section.questions)}), more than the {MAX_QUESTIONS:,} a questionnaire may have "
                        f"with the {made_so_far:,} before it",
                        "ask fewer iterations, or split the questionnaire",
                    )
                    plan = None
                if plan is not None:
                    plans[section.name] = plan
                    entries = [
                        (qi, self.iteration_copy(plan, q, key, number))
                        for number, key in enumerate(plan.keys, 1)
                        for qi, q in enumerate(section.questions)
                    ]
                else:
                    entries = []
            made_so_far += len(entries)
            for qi, q in entries:
                path = ("sections", si, "questions", qi)
                if q.name in by_name or (q.slot is None and self.templates.get(q.name, section.name) != section.name):
                    twice = _("question name '{name}' is used twice").format(name=q.name)
                    if q.slot:
                        twice = _("loop question '{template}' makes '{name}', and {problem}").format(
                            template=q.slot.template, name=q.name, problem=twice
                        )
                    self.add([*path, "name"], q.name, twice, _("every question needs its own name"))
                    continue
                q._section = section.name
                q._required = ins.required_default if q.required is None else q.required
                by_name[q.name] = q
                order[q.name] = len(questions)
                questions.append(q)
                section_of[q.name] = section
                paths[q.name] = path
                variables[q.name] = q.name
                for item in q.items or []:
                    var = f"{q.name}_{item.name}"
                    if var in variables and variables[var] != q.name:
                        message = _("grid variable '{name}' clashes with another name").format(name=var)
                        self.add([*path, "items"], q.name, message)
                    variables[var] = q.name
        ins._questions = tuple(questions)
        ins._by_name = by_name
        ins._order = order
        ins._variables = variables
        #: the same maps for `reference` (a private attribute of a pydantic model costs a __getattr__ call)
        self.variables, self.order = variables, order
        ins._section_of = section_of
        ins._loops = plans
        ins._routing = None  # rebuilt from the compiled questions on first use
        ins._templates = {name: loop for name, loop in self.templates.items() if loop in plans}

        members_of: dict[int, list[Question]] = {}  # by section, in one pass (not one scan per section)
        for q in questions:
            members_of.setdefault(id(section_of[q.name]), []).append(q)
        section_names: set[str] = set()
        for si, section in enumerate(ins.sections):
            if section.name in section_names:
                message = _("section name '{name}' is used twice").format(name=section.name)
                self.add(["sections", si, "name"], section.name, message)
            section_names.add(section.name)
            members = members_of.get(id(section), [])
            first = order[members[0].name] if members else len(questions)
            section._relevant = self.expression(
                ["sections", si, "relevant"], f"section {section.name}", section.relevant, before=first
            )
            for q in members:
                self.question(q, paths[q.name], specials)
            if section.loop is not None:
                self.translations(["sections", si, "loop", "label"], f"loop {section.name}", section.loop.label)

        for ri, rule in enumerate(ins.terminate):
            rule._when = self.expression(
                ["terminate", ri, "when"], f"terminate[{ri}]", rule.when, before=len(questions) + 1
            )
            if rule._when is not None:
                rule._last = max((ins.position(ref.name) for ref in rule._when.references), default=0)
        for name, choices in ins.choice_lists.items():
            self.check_codes(["choice_lists", name], f"choice list {name}", [c.code for c in choices])
            for ci, choice in enumerate(choices):
                self.translations(["choice_lists", name, ci, "label"], f"choice list {name}", choice.label)
                for lang, text in choice.label.items():
                    self.piping(
                        ["choice_lists", name, ci, "label", lang], f"choice list {name}", text, self._first_user(name)
                    )
        for si, section in enumerate(ins.sections):
            self.translations(["sections", si, "label"], f"section {section.name}", section.label)
        for ri, rule in enumerate(ins.terminate):
            self.translations(["terminate", ri, "message"], f"terminate[{ri}]", rule.message)
        if self.unworded:
            self.add_unworded()
        return self.findings

    def add_unworded(self) -> None:
        """One finding for the broken expressions past the first MAX_WORDED_ERRORS, at the first of them and
        naming the next few: each costs lark a millisecond to word, and thousands of them (one mistake copied
        down an instrument) took `check` past a few seconds and buried the messages that say what is wrong."""
        places = list(self.unworded)
        shown = ", ".join(f"{where} {path[-1]}" for path, where in places[:5]) + (", ..." if len(places) > 5 else "")
        self.findings.append(
            Finding(
                places[0][0],
                places[0][1],
                _("{count} more expressions do not parse ({places}); only the first {limit} are described").format(
                    count=f"{len(places):,}", places=shown, limit=MAX_WORDED_ERRORS
                ),
                _("fix the expressions described above first: the same mistake is often repeated"),
            )
        )

    def _first_user(self, list_name: str) -> int:
        """Piping in a shared list may only use answers given before its first use."""
        first = getattr(self, "_first_users", None)
        if first is None:  # one pass over the questions for every list (not one per list and label)
            first = {}
            for q in self.ins.questions:
                if isinstance(q.choices, str) and q.choices not in first:
                    first[q.choices] = self.ins.position(q.name)
            self._first_users = first
        return first.get(list_name, len(self.ins.questions))

    def translations(self, path: Sequence[PathKey], where: str, labels: dict[str, str] | None) -> None:
        """A text missing in one of the instrument's languages shows up blank to some interviewers."""
        if not labels or "*" in labels:
            return
        missing = [lang for lang in self.ins.languages if not labels.get(lang)]
        if missing:
            message = _("{field} has no text for {languages}").format(field=path[-1], languages=", ".join(missing))
            self.add(path, where, message, severity="warning")

    def question(self, q: Question, path: tuple[PathKey, ...], specials: dict[str, SpecialCode]) -> None:
        ins, index = self.ins, self.ins.position(q.name)
        # choices
        if q.type in CHOICE_TYPES:
            if q.choices is None:
                self.add(
                    [*path, "type"],
                    q.name,
                    _("a {type} question needs choices").format(type=q.type),
                    _("give a list under choices: or the name of a choice list"),
                )
                q._choices = ()
            elif isinstance(q.choices, str):
                if q.choices not in ins.choice_lists:
                    close = difflib.get_close_matches(q.choices, list(ins.choice_lists), n=1)
                    self.add(
                        [*path, "choices"],
                        q.name,
                        _("unknown choice list '{name}'").format(name=q.choices),
                        _did_you_mean(close) or _("define it under choice_lists:"),
                    )
                    q._choices = ()
                else:
                    q._choices = tuple(ins.choice_lists[q.choices])
            else:
                q._choices = tuple(q.choices)
                self.check_codes([*path, "choices"], q.name, [c.code for c in q.choices])
        elif q.choices is not None:
            self.add([*path, "choices"], q.name, _("a {type} question takes no choices").format(type=q.type))
        if q.type == "grid" and not q.items:
            self.add([*path, "type"], q.name, _("a grid question needs items (the rows rated on its scale)"))
        if q.type != "grid" and q.items:
            self.add([*path, "items"], q.name, _("only grid questions take items"))
        if q.type == "multi" and q.max_selected is not None and q.max_selected < 1:
            self.add([*path, "max_selected"], q.name, _("max_selected must be at least 1"))
        if isinstance(q.choices, list) and any(c.exclusive for c in q.choices) and q.type != "multi":
            self.add(
                [*path, "choices"],
                q.name,
                _("exclusive choices only make sense in a multi question"),
                severity="warning",
            )
        if q.type == "numeric" and q.min is not None and q.max is not None and q.min > q.max:
            self.add([*path, "min"], q.name, _("min {min:g} is greater than max {max:g}").format(min=q.min, max=q.max))
        if q.type == "calculate" and not q.calculate:
            self.add([*path, "type"], q.name, _("a calculate question needs a calculate: expression"))
        if q.calculate and q.type != "calculate":
            self.add([*path, "calculate"], q.name, _("calculate: belongs to questions of type calculate"))
        if q.type not in ("note", "calculate") and not q.label:
            self.add([*path], q.name, _("the question has no label"))

        # special codes
        if q.special_codes is False or not q.answerable:
            q._specials = {}
        else:
            chosen = dict(specials)
            for sname, code in (q.special_codes or {}).items():
                if code is None:
                    chosen.pop(sname, None)
                else:
                    chosen[sname] = SpecialCode(code=code, label=specials[sname].label)
            q._specials = {k: chosen[k] for k in SPECIAL_NAMES if k in chosen}
            codes = {c.code for c in q._choices}
            for sname, special in q._specials.items():
                if special.code in codes:
                    self.add(
                        [*path, "choices"],
                        q.name,
                        _("choice code {code} is also the {special} code").format(
                            code=special.code, special=_special_word(sname)
                        ),
                        _("change the choice code or override special_codes on this question"),
                    )
                if q.type == "numeric" and _in_range(special.code, q.min, q.max):
                    self.add(
                        [*path, "special_codes"],
                        q.name,
                        _("the {special} code {code} is a valid answer in the range {min}..{max}").format(
                            special=_special_word(sname), code=special.code, min=q.min, max=q.max
                        ),
                        _("set special_codes on this question to codes outside the range, e.g. -8/-9"),
                        severity="warning",
                    )

        # labels in every language
        for field_name in ("label", "hint", "constraint_message"):
            labels = getattr(q, field_name)
            self.translations([*path, field_name], q.name, labels)
            if labels:
                for lang, text in labels.items():
                    self.piping([*path, field_name, lang], q.name, text, index)
        for ci, choice in enumerate(q.choices if isinstance(q.choices, list) else []):
            self.translations([*path, "choices", ci, "label"], q.name, choice.label)
            for text in choice.label.values():
                self.piping([*path, "choices", ci, "label"], q.name, text, index)
        for ii, item in enumerate(q.items or []):
            self.translations([*path, "items", ii, "label"], q.name, item.label)

        # expressions
        q._relevant = self.expression([*path, "relevant"], q.name, q.relevant, before=index)
        if q.slot is not None:  # an iteration is only asked while its item is chosen / within the count
            active = ins._loops[q.slot.loop].active[q.slot.key]
            if active is not None:
                q._relevant = active if q._relevant is None else _conjunction(active, q._relevant)
        q._constraint = self.expression([*path, "constraint"], q.name, q.constraint, before=index + 1)
        q._calculate = self.expression([*path, "calculate"], q.name, q.calculate, before=index)
        q._choice_filter = self.expression([*path, "choice_filter"], q.name, q.choice_filter, before=index)
        if q.choice_filter and q.type not in ("single", "multi", "scale"):
            self.add(
                [*path, "choice_filter"],
                q.name,
                _("choice_filter only applies to single, multi and scale questions, not {type}").format(type=q.type),
            )
        if q._relevant is not None and q._relevant.uses_self:
            self.add([*path, "relevant"], q.name, _("'.' (this answer) cannot decide whether to ask the question"))

    # -- loops -----------------------------------------------------------------------------------
    def loop_plan(self, si: int, section: Section, earlier: dict[str, Question]) -> LoopPlan | None:
        """The iterations of a loop section, or None (with a finding) when its source is unusable."""
        loop, path = section.loop, ("sections", si, "loop")
        assert loop is not None
        where = f"loop {section.name}"
        kind = loop.kind
        if kind is None:
            self.add(
                path,
                where,
                _(
                    "a loop needs exactly one of over: (a multi question), count: (a numeric "
                    "question) or choices: (a fixed list)"
                ),
            )
            return None
        if section.name in self.templates or section.name in earlier:
            self.add(
                [*path[:2], "name"],
                where,
                _("loop name '{name}' is also a question name").format(name=section.name),
                _("the loop's name pipes its item's label, so it needs a name of its own"),
            )
        if loop.max is not None and kind != "count":
            self.add([*path, "max"], where, _("max: only applies to count loops"), severity="warning")
        source: str | None = None
        choices: list[Choice] = []
        keys: list[int]
        if kind == "choices":
            if isinstance(loop.choices, str):
                if loop.choices not in self.ins.choice_lists:
                    close = difflib.get_close_matches(loop.choices, list(self.ins.choice_lists), n=1)
                    self.add(
                        [*path, "choices"],
                        where,
                        _("unknown choice list '{name}'").format(name=loop.choices),
                        _did_you_mean(close) or _("define it under choice_lists:"),
                    )
                    return None
                choices = list(self.ins.choice_lists[loop.choices])
            else:
                choices = list(loop.choices or [])
                self.check_codes([*path, "choices"], where, [c.code for c in choices])
            keys = [c.code for c in choices]
        else:
            source = loop.over if kind == "over" else loop.count
            assert source is not None
            q = earlier.get(source)
            wanted = "multi" if kind == "over" else "numeric"
            if q is None:
                later = any(source == q.name for s in self.ins.sections for q in s.questions)
                self.add(
                    [*path, kind],
                    where,
                    (
                        _("{kind}: '{name}' is asked later")
                        if later
                        else _("{kind}: '{name}' is not a question of this instrument")
                    ).format(kind=kind, name=source),
                    _("a loop can only go {kind} a {type} question asked before it").format(kind=kind, type=wanted),
                )
                return None
            if q.type != wanted or q.slot is not None:
                self.add(
                    [*path, kind],
                    where,
                    (
                        _("{kind}: '{name}' is a {type} question in a loop")
                        if q.slot
                        else _("{kind}: '{name}' is a {type} question")
                    ).format(kind=kind, name=source, type=q.type),
                    _("{kind}: needs a {type} question outside any loop (loops do not nest)").format(
                        kind=kind, type=wanted
                    ),
                )
                return None
            if kind == "over":
                options = self.ins.choice_lists.get(q.choices, []) if isinstance(q.choices, str) else q.choices or []
                choices = [c for c in options if not c.exclusive and not c.missing]
                keys = [c.code for c in choices]
            else:
                most = loop.max if loop.max is not None else q.max
                if most is None or most < 1:
                    self.add(
                        [*path, "count"],
                        where,
                        _("count loop over '{name}' has no max").format(name=source),
                        _("give max: (at most {most}) or a max on '{name}'").format(most=MAX_ITERATIONS, name=source),
                    )
                    return None
                if most > MAX_ITERATIONS or not float(most).is_integer():
                    self.add(
                        [*path, "max" if loop.max is not None else "count"],
                        where,
                        _("a count loop has at most {most} iterations, not {given:g}").format(
                            most=MAX_ITERATIONS, given=most
                        ),
                        _("give max: a whole number of iterations"),
                    )
                    return None
                if loop.max is not None and (q.max is None or q.max > loop.max):
                    self.add(
                        [*path, "max"],
                        where,
                        _("'{name}' accepts answers above max {max}: only {max} iterations are asked").format(
                            name=source, max=loop.max
                        ),
                        _("give '{name}' max: {max} as well").format(name=source, max=loop.max),
                        severity="warning",
                    )
                keys = list(range(1, int(most) + 1))
        if loop.exclude and kind == "count":
            self.add([*path, "exclude"], where, _("exclude: only applies to loops over choices"), severity="warning")
        elif loop.exclude:
            unknown = [code for code in loop.exclude if code not in keys]
            if unknown:
                message = _("exclude: {code} is not one of the loop's codes {codes}").format(
                    code=unknown[0], codes=keys
                )
                self.add([*path, "exclude"], where, message)
            keys = [key for key in keys if key not in loop.exclude]
        if not keys:
            self.add(path, where, _("the loop has no items to go through"))
            return None
        if not section.questions:
            self.add([*path[:2], "questions"], where, _("the loop has no questions"), severity="warning")
        labels = {c.code: dict(c.label) for c in choices if c.code in keys} if kind != "count" else {}
        labels = labels or {k: {"*": str(k)} for k in keys}
        active: dict[int, Expression | None] = {
            key: None
            if kind == "choices"
            else parse_expression(f"selected({source}, {key})" if kind == "over" else f"{source} >= {key}")
            for key in keys
        }
        return LoopPlan(
            name=section.name,
            kind=kind,
            source=source,
            keys=tuple(keys),
            item_labels=labels,
            templates=tuple(q.name for q in section.questions),
            label=dict(loop.label),
            active=active,
        )

    def iteration_copy(self, plan: LoopPlan, template: Question, key: int, number: int) -> Question:
        """One iteration's question: its own name, labels piped with the item, expressions bound later."""
        q = _iteration_model(template, plan.variable(template.name, key))
        slot = LoopSlot(plan.name, template.name, key, number)
        q._slot = slot
        self.slots[q.name] = (plan, slot)
        default = self.ins.language

        def pipe(text: str, lang: str) -> str:
            def one(match: re.Match[str]) -> str:
                name = match.group(1)
                if name == plan.name:
                    return label_text(plan.item_labels[key], lang, default)
                if name in plan.templates:
                    return "${" + plan.variable(name, key) + "}"
                return match.group(0)

            return PIPE_PATTERN.sub(one, text) if "{" in text else text

        def labels(values: dict[str, str] | None) -> dict[str, str] | None:
            return None if values is None else {lang: pipe(text, lang) for lang, text in values.items()}

        q.label = labels(q.label) or {}
        q.hint = labels(q.hint)
        q.constraint_message = labels(q.constraint_message)
        for choice in q.choices if isinstance(q.choices, list) else []:
            choice.label = labels(choice.label) or {}
        for item in q.items or []:
            item.label = labels(item.label) or {}
        return q

    def bind(self, expr: Expression, owner: str, before: int) -> Expression:
        """An expression of a loop question, made for its iteration (see Loop); others get indexed() resolved."""
        copy = self.slots.get(owner)
        ins = self.ins
        if copy is None:
            return expr.bind({}) if expr.unbound_indexed else expr
        plan, slot = copy

        def indexed(name: str, key: int) -> str | None:
            target = f"{name}_{key}"
            if name in plan.templates:  # an iteration of this loop not asked before this point reads as missing
                return target if key in plan.keys and ins._order.get(target, before) < before else None
            return target

        rename = {name: plan.variable(name, slot.key) for name in plan.templates}
        return expr.bind(rename, item=slot.key, iteration=slot.iteration, indexed=indexed)

    def piping(self, path: Sequence[PathKey], owner: str, text: str, before: int) -> None:
        for match in PIPE_PATTERN.finditer(text or ""):
            name = match.group(1)
            self.reference(path, owner, name, match.start() + 1, before, _("piped into the label"))

    def expression(self, path: Sequence[PathKey], owner: str, text: str | None, before: int) -> Expression | None:
        if not text:
            return None
        try:
            expr = parse_expression(text, word_errors=self.worded < MAX_WORDED_ERRORS)
        except UnwordedError:
            copy = self.slots.get(owner)  # a loop's copy is counted once, at its template (as add() reports it)
            self.unworded[(tuple(path), copy[1].template if copy is not None else owner)] = None
            return None
        except ExpressionError as exc:
            message = _("{field}: {error} at position {position} in '{text}'").format(
                field=path[-1], error=exc.message, position=exc.position, text=text
            )
            before_count = len(self.findings)
            self.add(path, owner, message)
            self.worded += len(self.findings) > before_count
            return None
        expr = self.bind(expr, owner, before)
        for call in expr.unbound_indexed:
            self.add(
                path,
                owner,
                _(
                    "{field}: indexed() at position {position} in '{text}' needs an iteration known when the "
                    "questionnaire loads"
                ).format(field=path[-1], position=call.position, text=text),
                _("give a number, item() or iteration() arithmetic, e.g. indexed(age, iteration() - 1)"),
            )
            return None
        ok = True
        for ref in expr.references:
            ok &= self.reference(path, owner, ref.name, ref.position, before, text=text)
        return expr if ok else None

    def reference(
        self,
        path: Sequence[PathKey],
        owner: str,
        name: str,
        position: int,
        before: int,
        context: str = "",
        *,
        text: str | None = None,
    ) -> bool:
        """Whether `name` may be used here; a finding says why not. `context` says where the name was found, or
        `text` names the expression it is in (the message quotes it: made only for a finding, since a long
        expression has hundreds of names)."""
        ins = self.ins
        field = str(path[-1]) if not isinstance(path[-1], int) else "label"
        variables, order = self.variables, self.order  # the instrument's maps, without pydantic's lookups
        owner_q = variables.get(name)
        if owner_q is None and name in self.templates:
            loop = self.templates[name]
            plan = ins._loops.get(loop)
            example = plan.variable(name, plan.keys[0]) if plan and plan.keys else f"{name}_1"
            self.add(
                path,
                owner,
                _("{field}: '{name}' at position {position} {context} is asked once per item of loop '{loop}'").format(
                    field=field, name=name, position=position, context=_context(context, text), loop=loop
                ),
                _("name one iteration, e.g. '{example}' or indexed({name}, {number})").format(
                    example=example, name=name, number=example.rsplit("_", 1)[1]
                ),
            )
            return False
        if owner_q is None:
            known = list(ins._variables)
            close = difflib.get_close_matches(name, known, n=1)
            self.add(
                path,
                owner,
                _("{field}: unknown name '{name}' at position {position} {context}").format(
                    field=field, name=name, position=position, context=_context(context, text)
                ),
                _did_you_mean(close) or _("names must be questions of this instrument"),
                name=name,
            )
            return False
        if order[variables.get(owner_q, owner_q)] >= before:  # Instrument.position
            message = (
                _("{field}: refers to itself (position {position} {context})")
                if owner_q == owner
                else _("{field}: refers to '{name}', which is asked later (position {position} {context})")
            )
            self.add(
                path,
                owner,
                message.format(field=field, name=name, position=position, context=_context(context, text)),
                _("logic can only use answers given before this point"),
                name=None if owner_q == owner else name,
            )
            return False
        return True

    def check_codes(self, path: Sequence[PathKey], owner: str, codes: list[int]) -> None:
        seen: set[int] = set()
        for i, code in enumerate(codes):
            if code in seen:
                self.add([*path, i, "code"], owner, _("choice code {code} appears twice").format(code=code))
            seen.add(code)


def _context(context: str, text: str | None) -> str:
    return context if text is None else _("in '{text}'").format(text=text)


def _iteration_model(template: Question, name: str) -> Question:
    """A copy of a loop template to become one iteration: what the iteration changes is its own (the choice
    and item models, whose labels get piped; the special-code overrides), the rest (immutable values and
    parsed expressions) is shared. A deep copy of every field, 200 iterations of every loop question, was
    most of `check` on instruments with loops."""
    q = template.model_copy(update={"name": name})
    fields = q.__dict__  # set directly: these fields were given or not given exactly as on the template
    if isinstance(q.choices, list):
        fields["choices"] = [choice.model_copy() for choice in q.choices]
    if q.items is not None:
        fields["items"] = [item.model_copy() for item in q.items]
    if isinstance(q.special_codes, dict):
        fields["special_codes"] = dict(q.special_codes)
    return q


def _conjunction(first: Expression, second: Expression) -> Expression:
    from survey_tui.core.instrument.expressions import Logical

    return Expression(f"({first.text}) and ({second.text})", Logical("and", first.root, second.root, 1))


def _in_range(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def compile_instrument(instrument: Instrument, defaults: dict[str, SpecialCode] | None = None) -> list[Finding]:
    """Resolve and check a validated instrument in place; returns every finding (errors and warnings)."""
    return _Compiler(instrument, defaults).run()


def _where_of(doc: YamlDocument) -> Callable[[Sequence[PathKey]], str | None]:
    def where(path: Sequence[PathKey]) -> str | None:
        if len(path) >= 4 and path[0] == "sections" and path[2] == "questions":
            name = doc.node(path[:4])
            if isinstance(name, dict) and isinstance(name.get("name"), str):
                return str(name["name"])
        return None

    return where


def load_instrument_text(
    text: str, name: str, defaults: dict[str, SpecialCode] | None = None, *, cache: bool = False
) -> tuple[Instrument | None, list[Problem]]:
    """`cache`: the text is a published version or a file (see `parse_yaml_text`), not a draft being edited."""
    doc, problems = parse_yaml_text(text, name, cache=cache, read_only=True)
    return _load_document(doc, problems, defaults)


def load_instrument_file(
    path: Path, display_name: str | None = None, defaults: dict[str, SpecialCode] | None = None
) -> tuple[Instrument | None, list[Problem]]:
    """Every problem of the file at once; the instrument only when there is no error."""
    doc, problems = read_yaml(path, display_name, read_only=True)  # validated only, never written back
    return _load_document(doc, problems, defaults)


def _load_document(
    doc: YamlDocument | None, problems: list[Problem], defaults: dict[str, SpecialCode] | None
) -> tuple[Instrument | None, list[Problem]]:
    if doc is None:
        return None, problems
    if not isinstance(doc.root, dict):
        return None, [Problem(doc.file, "an instrument file must be a mapping with id:, title:, sections:")]
    instrument, problems = validate_document(Instrument, doc, _where_of(doc))
    if instrument is not None:
        for f in compile_instrument(instrument, defaults):
            problems.append(Problem(doc.file, f.message, doc.line_of(f.path), f.where, f.hint, f.severity))
        return (None if any(p.severity == "error" for p in problems) else instrument), problems
    problems.extend(_check_without_broken_questions(doc, problems, defaults))
    return None, problems


def _check_without_broken_questions(
    doc: YamlDocument, shape_problems: list[Problem], defaults: dict[str, SpecialCode] | None
) -> list[Problem]:
    """Shape errors in some parts must not hide logic errors in the others: check the rest too.

    The broken parts (questions, choice lists, terminate rules, section or top-level fields) are left out,
    and names that referred to them are not reported again as unknown, so one run lists every problem.
    """
    data = doc.data
    try:
        Instrument.model_validate(data)
        return []
    except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError; we only read its locations
        errors = getattr(exc, "errors", lambda **_: [])(include_url=False)
    missing_names = _prune(data, errors)
    if missing_names is None:
        return []
    try:
        instrument = Instrument.model_validate(data)
    except Exception:  # noqa: BLE001 - still broken: the shape problems already say where
        return []
    found = []
    for f in compile_instrument(instrument, defaults):
        if any(f"'{name}'" in f.message for name in missing_names):
            continue
        line = None
        if len(f.path) >= 4 and f.path[0] == "sections" and f.path[2] == "questions":
            line = _line_of_question(doc, f.path, f.where)
        found.append(Problem(doc.file, f.message, line if line else doc.line_of(f.path), f.where, f.hint, f.severity))
    return [p for p in found if str(p) not in {str(s) for s in shape_problems}]


def _prune(data: dict, errors: list) -> set[str] | None:  # type: ignore[type-arg]
    """Remove the parts pydantic refused; the names that went with them, or None when nothing sensible is left."""
    questions: set[tuple[int, int]] = set()
    rules: set[int] = set()
    lists: set[str] = set()
    section_fields: set[tuple[int, str]] = set()
    top_fields: set[str] = set()
    for err in errors:
        loc = tuple(k for k in err["loc"] if isinstance(k, int) or "[" not in str(k))
        if not loc:
            return None
        head = loc[0]
        if head == "sections" and len(loc) >= 4 and loc[2] == "questions" and isinstance(loc[3], int):
            questions.add((int(loc[1]), int(loc[3])))
        elif head == "sections" and len(loc) >= 3 and isinstance(loc[1], int):
            section_fields.add((loc[1], str(loc[2])))
        elif head == "choice_lists" and len(loc) >= 2:
            lists.add(str(loc[1]))
        elif head == "terminate" and len(loc) >= 2 and isinstance(loc[1], int):
            rules.add(loc[1])
        elif len(loc) == 1 and head not in ("sections", "id"):
            top_fields.add(str(head))
        else:
            return None
    missing: set[str] = set(lists)
    try:
        for si, qi in sorted(questions, reverse=True):
            question = data["sections"][si]["questions"].pop(qi)
            if isinstance(question, dict) and isinstance(question.get("name"), str):
                missing.add(question["name"])
                for item in question.get("items") or []:
                    if isinstance(item, dict) and isinstance(item.get("name"), str):
                        missing.add(f"{question['name']}_{item['name']}")
        for si, field_name in section_fields:
            section = data["sections"][si]
            if field_name == "name":
                section["name"] = f"section_{si + 1}"
            elif field_name == "questions":
                section["questions"] = []
            else:
                if field_name == "loop" and isinstance(section.get("name"), str):
                    missing.add(section["name"])  # its questions pipe the loop's item: not "unknown" again
                section.pop(field_name, None)
        for name in lists:
            data["choice_lists"].pop(name, None)
        for ri in sorted(rules, reverse=True):
            data["terminate"].pop(ri)
        for key in top_fields:
            data.pop(key, None)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return missing


def _line_of_question(doc: YamlDocument, path: tuple[PathKey, ...], name: str) -> int | None:
    """Paths shifted when broken questions were left out: find the question by name instead."""
    section = doc.node(("sections", path[1], "questions"))
    if not isinstance(section, list):
        return None
    for index, question in enumerate(section):
        if isinstance(question, dict) and question.get("name") == name:
            return doc.line_of(("sections", path[1], "questions", index, *path[4:]))
    return None


def load_instrument(path: Path, defaults: dict[str, SpecialCode] | None = None) -> Instrument:
    """Load or raise `LoadError` with every problem."""
    instrument, problems = load_instrument_file(path, defaults=defaults)
    if instrument is None:
        raise LoadError(problems)
    return instrument
