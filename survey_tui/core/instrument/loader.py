"""Load an instrument file and check everything at once: shape, choice lists, expressions, piping.

`compile_instrument` works on an in-memory model (the builder uses it while a researcher types);
`load_instrument` adds the file: YAML syntax and the line of every finding.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from survey_tui.core.instrument.expressions import Expression, ExpressionError, parse_expression
from survey_tui.core.instrument.model import (
    CHOICE_TYPES,
    PIPE_PATTERN,
    SPECIAL_NAMES,
    Instrument,
    Question,
    SpecialCode,
    _default_specials,
)
from survey_tui.core.problems import LoadError, Problem, Severity
from survey_tui.core.yamlfile import PathKey, YamlDocument, parse_yaml_text, read_yaml, validate_document


@dataclass(frozen=True)
class Finding:
    """A problem found in the model, located by its path in the document (lines come later)."""

    path: tuple[PathKey, ...]
    where: str
    message: str
    hint: str | None = None
    severity: Severity = "error"


class _Compiler:
    def __init__(self, instrument: Instrument, defaults: dict[str, SpecialCode] | None) -> None:
        self.ins = instrument
        self.defaults = defaults
        self.findings: list[Finding] = []

    def add(
        self,
        path: Sequence[PathKey],
        where: str,
        message: str,
        hint: str | None = None,
        severity: Severity = "error",
    ) -> None:
        self.findings.append(Finding(tuple(path), where, message, hint, severity))

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
                f"default language '{ins.default_language}' is not among languages {ins.languages}",
            )

        questions: list[Question] = []
        by_name: dict[str, Question] = {}
        order: dict[str, int] = {}
        variables: dict[str, str] = {}
        section_of = {}
        paths: dict[str, tuple[PathKey, ...]] = {}
        for si, section in enumerate(ins.sections):
            for qi, q in enumerate(section.questions):
                path = ("sections", si, "questions", qi)
                if q.name in by_name:
                    self.add(
                        [*path, "name"],
                        q.name,
                        f"question name '{q.name}' is used twice",
                        "every question needs its own name",
                    )
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
                        self.add([*path, "items"], q.name, f"grid variable '{var}' clashes with another name")
                    variables[var] = q.name
        ins._questions = tuple(questions)
        ins._by_name = by_name
        ins._order = order
        ins._variables = variables
        ins._section_of = section_of

        section_names: set[str] = set()
        for si, section in enumerate(ins.sections):
            if section.name in section_names:
                self.add(["sections", si, "name"], section.name, f"section name '{section.name}' is used twice")
            section_names.add(section.name)
            first = next((order[q.name] for q in section.questions if q.name in order), len(questions))
            section._relevant = self.expression(
                ["sections", si, "relevant"], f"section {section.name}", section.relevant, before=first
            )
            for q in section.questions:
                if by_name.get(q.name) is q:
                    self.question(q, paths[q.name], specials)

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
        return self.findings

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
            self.add(path, where, f"{path[-1]} has no text for {', '.join(missing)}", severity="warning")

    def question(self, q: Question, path: tuple[PathKey, ...], specials: dict[str, SpecialCode]) -> None:
        ins, index = self.ins, self.ins.position(q.name)
        # choices
        if q.type in CHOICE_TYPES:
            if q.choices is None:
                self.add(
                    [*path, "type"],
                    q.name,
                    f"a {q.type} question needs choices",
                    "give a list under choices: or the name of a choice list",
                )
                q._choices = ()
            elif isinstance(q.choices, str):
                if q.choices not in ins.choice_lists:
                    close = difflib.get_close_matches(q.choices, list(ins.choice_lists), n=1)
                    self.add(
                        [*path, "choices"],
                        q.name,
                        f"unknown choice list '{q.choices}'",
                        f"did you mean '{close[0]}'?" if close else "define it under choice_lists:",
                    )
                    q._choices = ()
                else:
                    q._choices = tuple(ins.choice_lists[q.choices])
            else:
                q._choices = tuple(q.choices)
                self.check_codes([*path, "choices"], q.name, [c.code for c in q.choices])
        elif q.choices is not None:
            self.add([*path, "choices"], q.name, f"a {q.type} question takes no choices")
        if q.type == "grid" and not q.items:
            self.add([*path, "type"], q.name, "a grid question needs items (the rows rated on its scale)")
        if q.type != "grid" and q.items:
            self.add([*path, "items"], q.name, "only grid questions take items")
        if q.type == "multi" and q.max_selected is not None and q.max_selected < 1:
            self.add([*path, "max_selected"], q.name, "max_selected must be at least 1")
        if isinstance(q.choices, list) and any(c.exclusive for c in q.choices) and q.type != "multi":
            self.add(
                [*path, "choices"],
                q.name,
                "exclusive choices only make sense in a multi question",
                severity="warning",
            )
        if q.type == "numeric" and q.min is not None and q.max is not None and q.min > q.max:
            self.add([*path, "min"], q.name, f"min {q.min:g} is greater than max {q.max:g}")
        if q.type == "calculate" and not q.calculate:
            self.add([*path, "type"], q.name, "a calculate question needs a calculate: expression")
        if q.calculate and q.type != "calculate":
            self.add([*path, "calculate"], q.name, "calculate: belongs to questions of type calculate")
        if q.type not in ("note", "calculate") and not q.label:
            self.add([*path], q.name, "the question has no label")

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
                        f"choice code {special.code} is also the {sname.replace('_', ' ')} code",
                        "change the choice code or override special_codes on this question",
                    )
                if q.type == "numeric" and _in_range(special.code, q.min, q.max):
                    self.add(
                        [*path, "special_codes"],
                        q.name,
                        f"the {sname.replace('_', ' ')} code {special.code} is a valid answer "
                        f"in the range {q.min}..{q.max}",
                        "set special_codes on this question to codes outside the range, e.g. -8/-9",
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
        q._constraint = self.expression([*path, "constraint"], q.name, q.constraint, before=index + 1)
        q._calculate = self.expression([*path, "calculate"], q.name, q.calculate, before=index)
        q._choice_filter = self.expression([*path, "choice_filter"], q.name, q.choice_filter, before=index)
        if q.choice_filter and q.type not in ("single", "multi", "scale"):
            self.add(
                [*path, "choice_filter"],
                q.name,
                f"choice_filter only applies to single, multi and scale questions, not {q.type}",
            )
        if q._relevant is not None and q._relevant.uses_self:
            self.add([*path, "relevant"], q.name, "'.' (this answer) cannot decide whether to ask the question")

    def piping(self, path: Sequence[PathKey], owner: str, text: str, before: int) -> None:
        for match in PIPE_PATTERN.finditer(text or ""):
            name = match.group(1)
            self.reference(path, owner, name, match.start() + 1, before, "piped into the label")

    def expression(self, path: Sequence[PathKey], owner: str, text: str | None, before: int) -> Expression | None:
        if not text:
            return None
        try:
            expr = parse_expression(text)
        except ExpressionError as exc:
            self.add(path, owner, f"{path[-1]}: {exc.message} at position {exc.position} in '{text}'")
            return None
        ok = True
        for ref in expr.references:
            ok &= self.reference(path, owner, ref.name, ref.position, before, f"in '{text}'")
        return expr if ok else None

    def reference(
        self, path: Sequence[PathKey], owner: str, name: str, position: int, before: int, context: str
    ) -> bool:
        ins = self.ins
        field = str(path[-1]) if not isinstance(path[-1], int) else "label"
        owner_q = ins.owner_of(name)
        if owner_q is None:
            known = list(ins._variables)
            close = difflib.get_close_matches(name, known, n=1)
            self.add(
                path,
                owner,
                f"{field}: unknown name '{name}' at position {position} {context}",
                f"did you mean '{close[0]}'?" if close else "names must be questions of this instrument",
            )
            return False
        if ins.position(owner_q) >= before:
            later = "itself" if owner_q == owner else f"'{name}', which is asked later"
            self.add(
                path,
                owner,
                f"{field}: refers to {later} (position {position} {context})",
                "logic can only use answers given before this point",
            )
            return False
        return True

    def check_codes(self, path: Sequence[PathKey], owner: str, codes: list[int]) -> None:
        seen: set[int] = set()
        for i, code in enumerate(codes):
            if code in seen:
                self.add([*path, i, "code"], owner, f"choice code {code} appears twice")
            seen.add(code)


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
