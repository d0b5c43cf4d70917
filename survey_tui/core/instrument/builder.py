"""Editing an instrument file: add, change, duplicate, move and delete questions and choices.

Edits are made on ruamel's round-trip tree of the YAML file, so comments people wrote, key order and
flow-style labels survive; a new key goes where the canonical order puts it, so files stay diff-friendly.
Every edit can be checked against the whole instrument (`check`, `check_logic`) before it is saved, and
saving is atomic (temporary file + rename).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from survey_tui.core.instrument.loader import Finding, compile_instrument, load_instrument_text
from survey_tui.core.instrument.model import NAME_PATTERN, SPECIAL_NAMES, Instrument, SpecialCode, _default_specials
from survey_tui.core.problems import LoadError, Problem
from survey_tui.core.yamlfile import dump_yaml, parse_yaml_text, to_plain, write_text_atomic
from survey_tui.i18n import _

#: The order keys are written in, so a question added in the app reads like one written by hand.
QUESTION_KEYS = (
    "name",
    "type",
    "relevant",
    "label",
    "hint",
    "choices",
    "items",
    "required",
    "constraint",
    "constraint_message",
    "calculate",
    "min",
    "max",
    "decimals",
    "max_length",
    "max_selected",
    "randomize",
    "special_codes",
)
CHOICE_KEYS = ("code", "name", "fixed", "exclusive", "label")
SECTION_KEYS = ("name", "label", "relevant", "loop", "questions")
LOOP_KEYS = ("over", "count", "choices", "max", "exclude", "label")
LOGIC_FIELDS = ("relevant", "constraint", "calculate")
INSTRUMENT_KEYS = (
    "id",
    "title",
    "languages",
    "default_language",
    "required_default",
    "special_codes",
    "choice_lists",
    "terminate",
    "sections",
)
#: The instrument's own fields that the settings form edits (id stays: published versions are keyed by it).
SETTINGS_FIELDS = ("title", "languages", "default_language", "required_default", "special_codes")
TERMINATE_KEYS = ("when", "outcome", "message")
OUTCOMES = ("screened_out", "quota_full")


class EditError(ValueError):
    """An edit that cannot be made (unknown question, duplicate name, ...), said plainly."""


class EditRefused(EditError):
    """An edit that would make the instrument wrong: the draft is put back as it was, the problems say why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class QuestionRef:
    section: int
    index: int
    name: str
    type: str


def _ordered(values: dict[str, Any], order: tuple[str, ...]) -> CommentedMap:
    out = CommentedMap()
    for key in order:
        if key in values and values[key] is not None:
            out[key] = values[key]
    for key, value in values.items():
        if key not in out and value is not None:
            out[key] = value
    return out


def labels_node(labels: dict[str, str]) -> Any:
    """Labels as YAML: one language-free text stays a bare string; otherwise a flow mapping per language."""
    clean = {k: v for k, v in labels.items() if v not in (None, "")}
    if set(clean) == {"*"}:
        return clean["*"]
    node = CommentedMap(clean)
    node.fa.set_flow_style()
    return node


class InstrumentDraft:
    """An instrument file opened for editing; nothing reaches the disk until `save()`."""

    def __init__(self, path: Path | None, text: str, name: str | None = None) -> None:
        self.path = path
        self.name = name or (path.name if path else "instrument.yaml")
        doc, problems = parse_yaml_text(text, self.name)
        if doc is None or not isinstance(doc.root, CommentedMap):
            raise LoadError(problems or [Problem(self.name, "an instrument file must be a mapping")])
        self.root: CommentedMap = doc.root
        self.defaults: dict[str, SpecialCode] | None = None

    @classmethod
    def open(cls, path: Path, defaults: dict[str, SpecialCode] | None = None) -> InstrumentDraft:
        draft = cls(path, path.read_bytes().decode("utf-8-sig"))
        draft.defaults = defaults
        return draft

    # -- reading ---------------------------------------------------------------------------------
    @property
    def languages(self) -> list[str]:
        langs = self.root.get("languages")
        return [str(x) for x in langs] if isinstance(langs, list) and langs else ["zh-TW", "en"]

    @property
    def sections(self) -> CommentedSeq:
        sections = self.root.get("sections")
        if not isinstance(sections, list):
            raise EditError(_("the instrument has no sections: list"))
        return sections

    def text(self) -> str:
        return dump_yaml(self.root)

    def questions(self) -> Iterator[QuestionRef]:
        for si, section in enumerate(self.sections):
            for qi, q in enumerate(section.get("questions") or []):
                if isinstance(q, dict):
                    yield QuestionRef(si, qi, str(q.get("name", "")), str(q.get("type", "")))

    def names(self) -> set[str]:
        return {ref.name for ref in self.questions()}

    def find(self, name: str) -> QuestionRef:
        for ref in self.questions():
            if ref.name == name:
                return ref
        raise EditError(_("no question named '{name}'").format(name=name))

    def question(self, name: str) -> CommentedMap:
        ref = self.find(name)
        return self.sections[ref.section]["questions"][ref.index]

    def question_data(self, name: str) -> dict[str, Any]:
        return to_plain(self.question(name))

    def choice_list(self, name: str) -> CommentedSeq:
        lists = self.root.get("choice_lists") or {}
        if name not in lists:
            raise EditError(_("no choice list named '{name}'").format(name=name))
        return lists[name]

    def list_users(self, list_name: str) -> list[str]:
        """Questions that share a named choice list (editing it changes all of them)."""
        return [
            ref.name
            for ref in self.questions()
            if self.sections[ref.section]["questions"][ref.index].get("choices") == list_name
        ]

    # -- checking --------------------------------------------------------------------------------
    def check(self) -> tuple[Instrument | None, list[Problem]]:
        """The whole draft as the loader sees it: every problem, located by line."""
        return load_instrument_text(self.text(), self.name, self.defaults)

    def check_logic(self, name: str, field_name: str, text: str) -> list[Finding]:
        """Findings for one logic field as if it read `text` (for validation as the researcher types)."""
        data = to_plain(self.root)
        ref = self.find(name)
        q = data["sections"][ref.section]["questions"][ref.index]
        q[field_name] = text or None
        try:
            instrument = Instrument.model_validate(data)
        except ValidationError as exc:
            return [Finding((), name, f"the instrument has shape errors: {exc.error_count()} (save to see them)")]
        findings = compile_instrument(instrument, self.defaults)
        return [f for f in findings if f.where == name and f.path and f.path[-1] == field_name]

    # -- editing questions -----------------------------------------------------------------------
    def _validate_name(self, name: str, ignore: str | None = None) -> None:
        if not NAME_PATTERN.match(name or ""):
            raise EditError(
                _("question name {name!r} must start with a letter and use only letters, digits and _ (max 64)").format(
                    name=name
                )
            )
        if name != ignore and name in self.names():
            raise EditError(_("question name '{name}' is already used").format(name=name))

    def add_question(
        self, values: dict[str, Any], after: str | None = None, section: int | str | None = None
    ) -> QuestionRef:
        """Insert a new question after `after` (or at the end of `section`, default the last one)."""
        self._validate_name(str(values.get("name", "")))
        node = self._node(values)
        if after is not None:
            ref = self.find(after)
            questions = self.sections[ref.section]["questions"]
            questions.insert(ref.index + 1, node)
        else:
            si = self._section_index(section)
            target = self.sections[si]
            if not isinstance(target.get("questions"), list):
                target["questions"] = CommentedSeq()
            target["questions"].append(node)
        return self.find(str(values["name"]))

    def _section_index(self, section: int | str | None) -> int:
        if section is None:
            return len(self.sections) - 1
        if isinstance(section, int):
            if not 0 <= section < len(self.sections):
                raise EditError(_("no section number {number}").format(number=section + 1))
            return section
        for si, s in enumerate(self.sections):
            if s.get("name") == section:
                return si
        raise EditError(_("no section named '{name}'").format(name=section))

    def _node(self, values: dict[str, Any]) -> CommentedMap:
        prepared: dict[str, Any] = {}
        for key, value in values.items():
            if key in ("label", "hint", "constraint_message") and isinstance(value, dict):
                prepared[key] = labels_node(value) if any(value.values()) else None
            elif key == "choices" and isinstance(value, list):
                prepared[key] = self._choices_node(value)
            elif key == "items" and isinstance(value, list):
                prepared[key] = self._items_node(value)
            else:
                prepared[key] = value if value != "" else None
        return _ordered(prepared, QUESTION_KEYS)

    def _choices_node(self, choices: list[dict[str, Any]]) -> CommentedSeq:
        seq = CommentedSeq()
        for choice in choices:
            c = dict(choice)
            c["label"] = labels_node(c.get("label") or {})
            if not c.get("fixed"):
                c.pop("fixed", None)
            if not c.get("exclusive"):
                c.pop("exclusive", None)
            seq.append(_ordered(c, CHOICE_KEYS))
        return seq

    def _items_node(self, items: list[dict[str, Any]]) -> CommentedSeq:
        seq = CommentedSeq()
        for item in items:
            seq.append(
                _ordered({"name": item["name"], "label": labels_node(item.get("label") or {})}, ("name", "label"))
            )
        return seq

    def update_question(self, name: str, values: dict[str, Any]) -> str:
        """Set fields of a question (None or '' removes a field); existing keys keep their place and comments.

        Returns the question's name afterwards (it may be renamed).
        """
        node = self.question(name)
        new_name = str(values.get("name", name))
        if new_name != name:
            self._validate_name(new_name, ignore=name)
        fresh = self._node(values)
        for key in list(values):
            if key not in fresh and key in node:
                del node[key]
        for key, value in fresh.items():
            _set_key(node, key, value, QUESTION_KEYS)
        return new_name

    def duplicate_question(self, name: str, new_name: str | None = None) -> QuestionRef:
        """A copy right after the original, named `<name>_copy` (or `new_name`)."""
        source = self.question(name)
        if new_name is None:
            base, n = f"{name}_copy", 1
            new_name = base
            while new_name in self.names():
                n += 1
                new_name = f"{base}{n}"
        self._validate_name(new_name)
        clone = copy.deepcopy(source)
        clone["name"] = new_name
        ref = self.find(name)
        seq = self.sections[ref.section]["questions"]
        tails = _Tails(seq)
        seq.insert(ref.index + 1, clone)
        tokens = list(tails.tokens)
        tokens.insert(ref.index, tails.blank)
        tails.restore(tokens)
        return self.find(new_name)

    def move_question(self, name: str, delta: int) -> QuestionRef:
        """Move up (-1) or down (+1); at a section's edge the question moves into the neighbouring section."""
        ref = self.find(name)
        questions = self.sections[ref.section]["questions"]
        target = ref.index + delta
        node = questions[ref.index]
        tails = _Tails(questions)
        if 0 <= target < len(questions):
            del questions[ref.index]
            questions.insert(target, node)
            tails.restore(tails.tokens)
        else:
            si = ref.section + (1 if delta > 0 else -1)
            if not 0 <= si < len(self.sections):
                raise EditError(
                    (
                        _("'{name}' is already the last question")
                        if delta > 0
                        else _("'{name}' is already the first question")
                    ).format(name=name)
                )
            other = self.sections[si]
            if not isinstance(other.get("questions"), list):
                other["questions"] = CommentedSeq()
            other_tails = _Tails(other["questions"])
            del questions[ref.index]
            tokens = list(tails.tokens)
            del tokens[ref.index if ref.index < len(tokens) - 1 else max(ref.index - 1, 0)]
            tails.restore(tokens)
            moved = list(other_tails.tokens)
            blank = other_tails.blank or tails.blank
            if delta > 0:
                other["questions"].insert(0, node)
                moved.insert(0, blank)
            else:
                other["questions"].append(node)
                moved.insert(len(moved) - 1 if moved else 0, blank)
            other_tails.restore(moved)
        return self.find(name)

    def delete_question(self, name: str) -> dict[str, Any]:
        """Remove a question; returns it (plain) so the app can say what went. References are the caller's check."""
        ref = self.find(name)
        seq = self.sections[ref.section]["questions"]
        tails = _Tails(seq)
        node = seq.pop(ref.index)
        tokens = list(tails.tokens)
        del tokens[ref.index if ref.index < len(tokens) - 1 else max(ref.index - 1, 0)]
        tails.restore(tokens)
        return to_plain(node)

    def references_to(self, name: str) -> list[str]:
        """Questions whose logic or labels mention `name` (deleting it would break them)."""
        found = []
        pattern = re.compile(r"(?<![A-Za-z0-9_])\$?\{?" + re.escape(name) + r"(?:_[A-Za-z0-9_]+)?\}?(?![A-Za-z0-9_(])")
        for ref in self.questions():
            if ref.name == name:
                continue
            q = self.question_data(ref.name)
            texts = [str(q.get(f) or "") for f in LOGIC_FIELDS]
            for key in ("label", "hint"):
                value = q.get(key)
                texts += list(value.values()) if isinstance(value, dict) else [str(value or "")]
            if any(pattern.search(t) for t in texts):
                found.append(ref.name)
        return found

    # -- sections --------------------------------------------------------------------------------
    def section(self, index: int) -> CommentedMap:
        return self.sections[self._section_index(index)]

    def section_data(self, index: int) -> dict[str, Any]:
        """A section's own fields (name, label, relevant), without its questions."""
        data = to_plain(self.section(index))
        data.pop("questions", None)
        return data

    def section_of(self, name: str) -> int:
        """The index of the section holding question `name`."""
        return self.find(name).section

    def _validate_section_name(self, name: str, ignore: str | None = None) -> None:
        if not NAME_PATTERN.match(name or ""):
            raise EditError(
                _("section name {name!r} must start with a letter and use only letters, digits and _").format(name=name)
            )
        if name != ignore and any(s.get("name") == name for s in self.sections):
            raise EditError(_("section name '{name}' is already used").format(name=name))

    def add_section(self, name: str, label: dict[str, str], after: int | None = None) -> int:
        """A new, empty section after section `after` (default: at the end); returns its index.

        The comments between sections (a header before the next one) stay with the section they introduce.
        """
        self._validate_section_name(name)
        node = _ordered({"name": name, "label": labels_node(label), "questions": CommentedSeq()}, ("name", "label"))
        index = len(self.sections) if after is None else self._section_index(after) + 1
        tails = _Tails(self.sections)
        self.sections.insert(index, node)
        tokens = list(tails.tokens)
        # the comment after the previous section introduces the next one (or ends the file): it moves to the
        # new section, and the previous one ends with a blank line
        tokens.insert(max(index - 1, 0), tails.blank or _blank_line())
        tails.restore(tokens)
        return index

    def update_section(self, index: int, values: dict[str, Any]) -> str:
        """Set a section's name, label and relevant (None or '' removes relevant); returns its name afterwards.

        Keys already there keep their place and the comments inside; a new key goes in canonical order.
        """
        node = self.section(index)
        old_name = str(node.get("name", ""))
        new_name = str(values.get("name", old_name))
        if new_name != old_name:
            self._validate_section_name(new_name, ignore=old_name)
        prepared: dict[str, Any] = {}
        for key, value in values.items():
            if key == "questions":
                raise EditError(_("a section's questions are edited one by one, not through the section"))
            if key == "label" and isinstance(value, dict):
                prepared[key] = labels_node(value) if any(value.values()) else None
            else:
                prepared[key] = value if value != "" else None
        for key, value in prepared.items():
            if value is None:
                if key in node:
                    del node[key]
                continue
            _set_key(node, key, value, SECTION_KEYS)
        return new_name

    def set_loop(self, index: int, loop: dict[str, Any] | None) -> None:
        """Make a section a loop (keys as in the YAML: over / count / choices, max, exclude, label), or an
        ordinary section again with None. A change that brings errors (a source asked later, a count without
        a max, a made name that clashes) is put back and refused with the loader's located problems.
        """
        si = self._section_index(index)
        node = self.sections[si]
        if loop is not None:
            given = [k for k in ("over", "count", "choices") if loop.get(k) not in (None, "", [])]
            if len(given) != 1:
                raise EditError(_("a loop needs exactly one of over (a multi question), count (a numeric) or choices"))
            unknown = set(loop) - set(LOOP_KEYS)
            if unknown:
                raise EditError(_("unknown loop key '{key}'").format(key=sorted(unknown)[0]))

        def change() -> None:
            if loop is None:
                if "loop" in node:
                    del node["loop"]
                return
            values: dict[str, Any] = {}
            for key in LOOP_KEYS:
                value = loop.get(key)
                if value in (None, "", []) or (key == "label" and not any((value or {}).values())):
                    continue
                if key == "label":
                    value = labels_node(value)
                elif key == "exclude":
                    value = CommentedSeq(int(v) for v in value)
                    value.fa.set_flow_style()
                elif key == "choices" and isinstance(value, list):
                    value = self._choices_node(value)
                values[key] = value
            _set_key(node, "loop", _ordered(values, LOOP_KEYS), SECTION_KEYS)

        before = copy.deepcopy(node["loop"]) if "loop" in node else None
        known, _rest = self._errors()

        def put_back() -> None:
            if before is None:
                node.pop("loop", None)
            else:
                node["loop"] = before

        try:
            change()
        except Exception:
            put_back()
            raise
        _model, problems = self.check()
        new = [p for p in problems if p.severity == "error" and (p.where, p.message) not in known]
        if new:
            put_back()
            raise EditRefused(new)

    def delete_section(self, index: int) -> dict[str, Any]:
        """Remove an empty section (move or delete its questions first); the instrument keeps at least one."""
        si = self._section_index(index)
        node = self.sections[si]
        questions = node.get("questions") or []
        if questions:
            raise EditError(
                _("section '{name}' still has {count} question(s): move or delete them first").format(
                    name=node.get("name"), count=len(questions)
                )
            )
        if len(self.sections) == 1:
            raise EditError(_("an instrument needs at least one section"))
        tails = _Tails(self.sections)
        self.sections.pop(si)
        tokens = list(tails.tokens)
        # the comment before the section (the previous one's tail) was its header and goes with it; the
        # comment after it introduces the next section and stays
        del tokens[max(si - 1, 0)]
        tails.restore(tokens)
        return to_plain(node)

    def check_section_logic(self, index: int, text: str) -> list[Finding]:
        """Findings for a section's `relevant` as if it read `text` (validation as the researcher types)."""
        si = self._section_index(index)
        data = to_plain(self.root)
        data["sections"][si]["relevant"] = text or None
        try:
            instrument = Instrument.model_validate(data)
        except ValidationError as exc:
            name = str(data["sections"][si].get("name"))
            return [Finding((), name, f"the instrument has shape errors: {exc.error_count()} (save to see them)")]
        findings = compile_instrument(instrument, self.defaults)
        return [f for f in findings if f.path[:3] == ("sections", si, "relevant")]

    # -- choices ---------------------------------------------------------------------------------
    def _choices_of(self, owner: str) -> CommentedSeq:
        """Inline choices of a question, or a named choice list (`owner` is either name)."""
        lists = self.root.get("choice_lists") or {}
        if owner in self.names():
            choices = self.question(owner).get("choices")
            if isinstance(choices, str):
                return self.choice_list(choices)
            if not isinstance(choices, list):
                self.question(owner)["choices"] = choices = CommentedSeq()
            return choices
        if owner in lists:
            return lists[owner]
        raise EditError(_("no question or choice list named '{name}'").format(name=owner))

    def set_choices(self, owner: str, choices: list[dict[str, Any]]) -> None:
        """Replace the choices of a question or list; choices that keep their code keep their node (and comments)."""
        seq = self._choices_of(owner)
        codes = [c["code"] for c in choices]
        if len(set(codes)) != len(codes):
            dup = next(c for c in codes if codes.count(c) > 1)
            raise EditError(_("choice code {code} appears twice").format(code=dup))
        old = {c.get("code"): c for c in seq}
        new_nodes = []
        for choice in choices:
            node = old.get(choice["code"])
            if node is None:
                new_nodes.append(self._choices_node([choice])[0])
                continue
            label = labels_node(choice.get("label") or {})
            if to_plain(node.get("label")) != to_plain(label):
                if isinstance(node.get("label"), CommentedMap) and isinstance(label, CommentedMap):
                    _update_map(node["label"], label)
                else:
                    tail = _get_tail(node)
                    node["label"] = label
                    _set_tail(node, tail)
            for flag in ("fixed", "exclusive"):
                if choice.get(flag):
                    if not node.get(flag):
                        node.insert(_insert_position(node, flag, CHOICE_KEYS), flag, True)
                elif flag in node:
                    del node[flag]
            new_nodes.append(node)
        del seq[:]
        seq.extend(new_nodes)

    def add_choice(self, owner: str, code: int, label: dict[str, str], **flags: bool) -> None:
        seq = self._choices_of(owner)
        if any(c.get("code") == code for c in seq):
            raise EditError(_("choice code {code} is already used in {owner}").format(code=code, owner=owner))
        seq.append(self._choices_node([{"code": code, "label": label, **flags}])[0])

    def delete_choice(self, owner: str, code: int) -> None:
        seq = self._choices_of(owner)
        for i, c in enumerate(seq):
            if c.get("code") == code:
                del seq[i]
                return
        raise EditError(_("no choice with code {code} in {owner}").format(code=code, owner=owner))

    def move_choice(self, owner: str, code: int, delta: int) -> None:
        seq = self._choices_of(owner)
        index = next((i for i, c in enumerate(seq) if c.get("code") == code), None)
        if index is None:
            raise EditError(_("no choice with code {code} in {owner}").format(code=code, owner=owner))
        target = index + delta
        if not 0 <= target < len(seq):
            raise EditError(_("choice {code} cannot move further").format(code=code))
        node = seq.pop(index)
        seq.insert(target, node)

    # -- the instrument's own fields ---------------------------------------------------------------
    def _errors(self) -> tuple[set[tuple[str | None, str]], list[Problem]]:
        _model, problems = self.check()
        return {(p.where, p.message) for p in problems if p.severity == "error"}, problems

    def _guarded(self, keys: tuple[str, ...], change: Callable[[], Any]) -> Any:
        """Make `change` to the top-level `keys`; if it brings new errors, put them back and refuse it."""
        before = {key: copy.deepcopy(self.root[key]) for key in keys if key in self.root}
        known, _rest = self._errors()
        try:
            result = change()
        except Exception:
            self._restore(keys, before)
            raise
        _model, problems = self.check()
        new = [p for p in problems if p.severity == "error" and (p.where, p.message) not in known]
        if new:
            self._restore(keys, before)
            raise EditRefused(new)
        return result

    def _restore(self, keys: tuple[str, ...], before: dict[str, Any]) -> None:
        for key in keys:
            if key in before:
                self.root[key] = before[key]
            elif key in self.root:
                self._set_top(key, None)  # its header comment goes back where it was

    def _set_top(self, key: str, value: Any) -> None:
        """Set a top-level key in place (its comments stay); None removes it; a new key goes in canonical order."""
        root = self.root
        if value is None:
            if key in root:
                keys = list(root.keys())
                tail = _key_tail(root, key)
                del root[key]
                at = keys.index(key)
                if tail is not None and at > 0:  # the header comment after it stays for what follows
                    _set_key_tail(root, keys[at - 1], tail)
            return
        if key in root:
            _set_key(root, key, value, INSTRUMENT_KEYS)
        else:
            pos = _insert_position(root, key, INSTRUMENT_KEYS)
            prev = list(root.keys())[pos - 1] if pos > 0 else None
            root.insert(pos, key, value)
            if prev is not None:  # a header comment after the previous key introduces what followed it
                tail = _key_tail(root, prev)
                if tail is not None and not _is_blank(tail):
                    _set_key_tail(root, prev, None)
                    _set_key_tail(root, key, tail)

    def settings_data(self) -> dict[str, Any]:
        """Title, languages, default language, required default and the instrument's own special codes."""
        data = to_plain(self.root)
        title = data.get("title")
        return {
            "id": data.get("id"),
            "title": title if isinstance(title, dict) else ({"*": title} if title else {}),
            "languages": self.languages,
            "default_language": data.get("default_language"),
            "required_default": data.get("required_default", True),
            "special_codes": data.get("special_codes") or None,
        }

    def effective_special_codes(self) -> dict[str, dict[str, Any]]:
        """The don't know / refused codes questions get: built-in, then the study's, then this instrument's."""
        specials: dict[str, Any] = {k: v.model_dump() for k, v in _default_specials().items()}
        specials.update({k: v.model_dump() for k, v in (self.defaults or {}).items()})
        own = self.root.get("special_codes")
        if isinstance(own, dict):
            specials.update(to_plain(own))
        return specials

    def update_settings(self, values: dict[str, Any]) -> None:
        """Set instrument fields (None removes an optional one); refused with located problems if it breaks
        the instrument (a default language that is not among the languages, a special code that clashes with
        a choice code, ...), in which case the draft stays as it was."""
        prepared: dict[str, Any] = {}
        for key, value in values.items():
            if key not in SETTINGS_FIELDS:
                raise EditError(
                    _("'{key}' is not an instrument setting (editable: {fields})").format(
                        key=key, fields=", ".join(SETTINGS_FIELDS)
                    )
                )
            if key == "title":
                if isinstance(value, dict):
                    prepared[key] = labels_node(value) if any(value.values()) else None
                else:
                    prepared[key] = value or None
            elif key == "languages":
                prepared[key] = self._languages_node(value)
            elif key == "required_default":
                if not isinstance(value, bool):
                    raise EditError(_("required_default must be true or false"))
                prepared[key] = value
            elif key == "special_codes":
                prepared[key] = self._specials_node(value)
            else:
                prepared[key] = value or None
        if "title" in prepared and prepared["title"] is None:
            raise EditError(_("an instrument needs a title"))

        def change() -> None:
            for key, value in prepared.items():
                self._set_top(key, value)

        self._guarded(tuple(prepared), change)

    @staticmethod
    def _languages_node(value: Any) -> CommentedSeq:
        langs = [str(x).strip() for x in (value or []) if str(x).strip()]
        if not langs:
            raise EditError(_("an instrument needs at least one language, e.g. zh-TW"))
        dup = next((x for x in langs if langs.count(x) > 1), None)
        if dup:
            raise EditError(_("language '{language}' is listed twice").format(language=dup))
        bad = next((x for x in langs if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", x)), None)
        if bad:
            raise EditError(_("language {language!r} is not a language tag such as zh-TW or en").format(language=bad))
        node = CommentedSeq(langs)
        node.fa.set_flow_style()
        return node

    @staticmethod
    def _specials_node(value: Any) -> CommentedMap | None:
        """The instrument's override of the study-wide codes; empty means: use the study's."""
        if not value:
            return None
        node = CommentedMap()
        for sname in SPECIAL_NAMES:
            spec = value.get(sname)
            if spec is None:
                continue
            code = spec.get("code")
            if isinstance(code, bool) or not isinstance(code, int):
                raise EditError(_("special_codes.{name}: the code must be a whole number, e.g. 98").format(name=sname))
            node[sname] = _ordered({"code": code, "label": labels_node(spec.get("label") or {})}, ("code", "label"))
        unknown = set(value) - set(SPECIAL_NAMES)
        if unknown:
            raise EditError(
                _("special_codes: unknown kind {kinds} (known: {known})").format(
                    kinds=sorted(unknown), known=", ".join(SPECIAL_NAMES)
                )
            )
        codes = [n["code"] for n in node.values()]
        if len(set(codes)) != len(codes):
            raise EditError(_("special_codes: don't know and refused cannot share code {code}").format(code=codes[0]))
        return node or None

    # -- terminate rules -------------------------------------------------------------------------
    def terminate_rules(self) -> list[dict[str, Any]]:
        rules = self.root.get("terminate")
        return to_plain(rules) if isinstance(rules, list) else []

    def _terminate_node(self, values: dict[str, Any]) -> CommentedMap:
        when = str(values.get("when") or "").strip()
        if not when:
            raise EditError(_("a terminate rule needs a 'when' condition, e.g. s2 < 15"))
        outcome = values.get("outcome") or "screened_out"
        if outcome not in OUTCOMES:
            raise EditError(
                _("outcome must be one of {outcomes}, not {outcome!r}").format(
                    outcomes=", ".join(OUTCOMES), outcome=outcome
                )
            )
        message = values.get("message")
        if isinstance(message, dict):
            message = labels_node(message) if any(message.values()) else None
        return _ordered({"when": when, "outcome": outcome, "message": message or None}, TERMINATE_KEYS)

    def _terminate_seq(self) -> CommentedSeq:
        rules = self.root.get("terminate")
        if not isinstance(rules, list):
            rules = CommentedSeq()
            self._set_top("terminate", rules)
        return rules

    def _rule_index(self, index: int) -> int:
        count = len(self.terminate_rules())
        if not 0 <= index < count:
            raise EditError(
                _("no terminate rule number {number} (there are {count})").format(number=index + 1, count=count)
            )
        return index

    def check_terminate(self, text: str, index: int | None = None) -> list[Finding]:
        """Findings for a rule's `when` as if it read `text` (index None: a new rule at the end)."""
        data = to_plain(self.root)
        rules = data.get("terminate") if isinstance(data.get("terminate"), list) else []
        data["terminate"] = rules
        if index is None:
            rules.append({"when": text})
            index = len(rules) - 1
        else:
            rules[self._rule_index(index)]["when"] = text
        try:
            instrument = Instrument.model_validate(data)
        except ValidationError as exc:
            return [Finding((), f"terminate[{index}]", f"the instrument has shape errors: {exc.error_count()}")]
        findings = compile_instrument(instrument, self.defaults)
        return [f for f in findings if f.path[:3] == ("terminate", index, "when")]

    def add_terminate(self, values: dict[str, Any], index: int | None = None) -> int:
        """A new rule at `index` (default: the end); refused if its condition does not compile."""
        node = self._terminate_node(values)

        def change() -> int:
            rules = self._terminate_seq()
            at = len(rules) if index is None else max(0, min(index, len(rules)))
            tails = _Tails(rules)
            rules.insert(at, node)
            tokens = list(tails.tokens)
            if at == len(tokens) and tokens:  # the comment after the last rule stays at the end of the list
                tokens[-1:] = [tokens[-2] if len(tokens) > 1 else None, tokens[-1]]
            else:
                tokens.insert(at, None)
            tails.restore(tokens)
            return at

        return self._guarded(("terminate",), change)

    def update_terminate(self, index: int, values: dict[str, Any]) -> None:
        """Change a rule's when / outcome / message in place; refused if the condition does not compile."""
        index = self._rule_index(index)
        fresh = self._terminate_node({**self.terminate_rules()[index], **values})

        def change() -> None:
            node = self.root["terminate"][index]
            tail = _get_tail(node)
            for key in [k for k in node if k not in fresh]:
                del node[key]
            for key, value in fresh.items():
                _set_key(node, key, value, TERMINATE_KEYS)
            _set_tail(node, tail)

        self._guarded(("terminate",), change)

    def delete_terminate(self, index: int) -> dict[str, Any]:
        """Remove a rule; the comment after the last rule stays at the end of the list."""
        index = self._rule_index(index)
        rules = self.root["terminate"]
        tails = _Tails(rules)
        node = rules.pop(index)
        tokens = list(tails.tokens)
        if index == len(tokens) - 1 and len(tokens) > 1:
            tokens[-2:] = [tokens[-1]]
        else:
            del tokens[index]
        tails.restore(tokens)
        if not rules:  # the list goes; the comment (or blank line) after it stays before what follows
            keys = list(self.root.keys())
            at = keys.index("terminate")
            del self.root["terminate"]
            if at > 0 and tails.tokens[-1] is not None and _key_tail(self.root, keys[at - 1]) is None:
                _set_key_tail(self.root, keys[at - 1], tails.tokens[-1])
        return to_plain(node)

    # -- saving ----------------------------------------------------------------------------------
    def save(self, path: Path | None = None) -> list[Problem]:
        """Write the file atomically; returns the draft's problems (a draft may be saved with errors)."""
        target = path or self.path
        if target is None:
            raise EditError(_("no file to save to"))
        text = self.text()
        doc, problems = parse_yaml_text(text, self.name)
        if doc is None:  # never write something we cannot read back
            raise LoadError(problems)
        write_text_atomic(target, text)
        _model, problems = self.check()
        return problems


def _tail_holder(node: Any) -> tuple[Any, Any] | None:
    """The innermost last entry of a block node: where ruamel keeps the comment that follows the node."""
    holder = None
    while True:
        if isinstance(node, CommentedMap) and node and not node.fa.flow_style():
            key = list(node.keys())[-1]
            holder, node = (node, key), node[key]
        elif isinstance(node, CommentedSeq) and node and not node.fa.flow_style():
            holder, node = (node, len(node) - 1), node[-1]
        else:
            return holder


def _get_tail(node: Any) -> Any:
    holder = _tail_holder(node)
    if holder is None:
        return None
    container, key = holder
    entry = container.ca.items.get(key)
    if not entry:
        return None
    return entry[2] if isinstance(container, CommentedMap) else entry[0]


def _set_tail(node: Any, token: Any) -> None:
    holder = _tail_holder(node)
    if holder is None:
        return
    container, key = holder
    if isinstance(container, CommentedMap):
        entry = container.ca.items.setdefault(key, [None, None, None, None])
        entry[2] = token
    else:
        entry = container.ca.items.setdefault(key, [None, None])
        entry[0] = token


def _key_tail(root: CommentedMap, key: str) -> Any:
    """The comment after a top-level key: inside its value when that is a block, else on the key itself."""
    value = root[key]
    if _tail_holder(value) is not None:
        return _get_tail(value)
    entry = root.ca.items.get(key)
    return entry[2] if entry and len(entry) > 2 else None


def _set_key_tail(root: CommentedMap, key: str, token: Any) -> None:
    value = root[key]
    if _tail_holder(value) is not None:
        _set_tail(value, token)
        return
    entry = root.ca.items.setdefault(key, [None, None, None, None])
    entry[2] = token


def _blank_line() -> CommentToken:
    """A blank line after a node, for lists whose entries are all separated by comments so far."""
    return CommentToken("\n\n", CommentMark(0), None)


def _is_blank(token: Any) -> bool:
    return token is not None and not str(getattr(token, "value", "")).strip()


class _Tails:
    """Comments after a question belong to its place in the list (a section header, a blank line), not to
    the question: take them before an edit and put them back by position after it."""

    def __init__(self, seq: CommentedSeq) -> None:
        self.seq = seq
        self.tokens = [_get_tail(q) for q in seq]
        self.blank = next((t for t in self.tokens if _is_blank(t)), None)

    def restore(self, tokens: list[Any]) -> None:
        for node, token in zip(self.seq, tokens, strict=False):
            _set_tail(node, token)


def _set_key(node: CommentedMap, key: str, value: Any, order: tuple[str, ...]) -> None:
    """Set one key as a person editing the file would: an unchanged value is left alone, a nested map is
    updated in place (block style and the comments inside kept), a new key goes in canonical order, and
    the comment after the mapping's last key stays where it was."""
    if key not in node:
        node.insert(_insert_position(node, key, order), key, value)
    elif to_plain(node[key]) == to_plain(value):
        return
    elif isinstance(node[key], CommentedMap) and isinstance(value, CommentedMap):
        _update_map(node[key], value)
    else:
        tail = _get_tail(node)
        node[key] = value
        _set_tail(node, tail)


def _update_map(target: CommentedMap, values: CommentedMap) -> None:
    tail = _get_tail(target)
    for key in [k for k in target if k not in values]:
        del target[key]
    for key, value in values.items():
        if target.get(key) != value:
            target[key] = value
    _set_tail(target, tail)


def _insert_position(node: CommentedMap, key: str, order: tuple[str, ...]) -> int:
    """Where `key` goes among the existing keys so the canonical order holds."""
    if key not in order:
        return len(node)
    rank = order.index(key)
    keys = list(node.keys())
    for i, existing in enumerate(keys):
        if existing in order and order.index(existing) > rank:
            return i
    return len(keys)
