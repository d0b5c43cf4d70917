"""Editing an instrument file: add, change, duplicate, move and delete questions and choices.

Edits are made on ruamel's round-trip tree of the YAML file, so comments people wrote, key order and
flow-style labels survive; a new key goes where the canonical order puts it, so files stay diff-friendly.
Every edit can be checked against the whole instrument (`check`, `check_logic`) before it is saved, and
saving is atomic (temporary file + rename).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from survey_tui.core.instrument import NAME_PATTERN, Instrument, SpecialCode
from survey_tui.core.instrument_loader import Finding, compile_instrument, load_instrument_text
from survey_tui.core.problems import LoadError, Problem
from survey_tui.core.yamlfile import dump_yaml, parse_yaml_text, to_plain, write_text_atomic

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
LOGIC_FIELDS = ("relevant", "constraint", "calculate")


class EditError(ValueError):
    """An edit that cannot be made (unknown question, duplicate name, ...), said plainly."""


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
            raise EditError("the instrument has no sections: list")
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
        raise EditError(f"no question named '{name}'")

    def question(self, name: str) -> CommentedMap:
        ref = self.find(name)
        return self.sections[ref.section]["questions"][ref.index]

    def question_data(self, name: str) -> dict[str, Any]:
        return to_plain(self.question(name))

    def choice_list(self, name: str) -> CommentedSeq:
        lists = self.root.get("choice_lists") or {}
        if name not in lists:
            raise EditError(f"no choice list named '{name}'")
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
                f"question name {name!r} must start with a letter and use only letters, digits and _ (max 64)"
            )
        if name != ignore and name in self.names():
            raise EditError(f"question name '{name}' is already used")

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
                raise EditError(f"no section number {section + 1}")
            return section
        for si, s in enumerate(self.sections):
            if s.get("name") == section:
                return si
        raise EditError(f"no section named '{section}'")

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
            if key in node:
                if to_plain(node[key]) == to_plain(value):
                    continue
                if isinstance(node[key], CommentedMap) and isinstance(value, CommentedMap):
                    _update_map(node[key], value)  # keeps block style and the comments inside
                else:
                    tail = _get_tail(node)
                    node[key] = value
                    _set_tail(node, tail)
            else:
                position = _insert_position(node, key, QUESTION_KEYS)
                node.insert(position, key, value)
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
                raise EditError(f"'{name}' is already the {'last' if delta > 0 else 'first'} question")
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
    def add_section(self, name: str, label: dict[str, str], after: int | None = None) -> int:
        if not NAME_PATTERN.match(name):
            raise EditError(f"section name {name!r} must start with a letter and use only letters, digits and _")
        if any(s.get("name") == name for s in self.sections):
            raise EditError(f"section name '{name}' is already used")
        node = _ordered({"name": name, "label": labels_node(label), "questions": CommentedSeq()}, ("name", "label"))
        index = len(self.sections) if after is None else after + 1
        self.sections.insert(index, node)
        return index

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
        raise EditError(f"no question or choice list named '{owner}'")

    def set_choices(self, owner: str, choices: list[dict[str, Any]]) -> None:
        """Replace the choices of a question or list; choices that keep their code keep their node (and comments)."""
        seq = self._choices_of(owner)
        codes = [c["code"] for c in choices]
        if len(set(codes)) != len(codes):
            dup = next(c for c in codes if codes.count(c) > 1)
            raise EditError(f"choice code {dup} appears twice")
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
            raise EditError(f"choice code {code} is already used in {owner}")
        seq.append(self._choices_node([{"code": code, "label": label, **flags}])[0])

    def delete_choice(self, owner: str, code: int) -> None:
        seq = self._choices_of(owner)
        for i, c in enumerate(seq):
            if c.get("code") == code:
                del seq[i]
                return
        raise EditError(f"no choice with code {code} in {owner}")

    def move_choice(self, owner: str, code: int, delta: int) -> None:
        seq = self._choices_of(owner)
        index = next((i for i, c in enumerate(seq) if c.get("code") == code), None)
        if index is None:
            raise EditError(f"no choice with code {code} in {owner}")
        target = index + delta
        if not 0 <= target < len(seq):
            raise EditError(f"choice {code} cannot move further")
        node = seq.pop(index)
        seq.insert(target, node)

    # -- saving ----------------------------------------------------------------------------------
    def save(self, path: Path | None = None) -> list[Problem]:
        """Write the file atomically; returns the draft's problems (a draft may be saved with errors)."""
        target = path or self.path
        if target is None:
            raise EditError("no file to save to")
        text = self.text()
        doc, problems = parse_yaml_text(text, self.name)
        if doc is None:  # never write something we cannot read back
            raise LoadError(problems)
        write_text_atomic(target, text)
        _, problems = self.check()
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
