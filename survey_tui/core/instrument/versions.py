"""Instrument versions: what changed between two published versions, and publish rules on top of the store.

A published version is an immutable snapshot (the store's triggers refuse UPDATE and DELETE); the file in
`instruments/` is the draft of the next version. Two things make versioned data safe to analyse:
a diff that says exactly what changed (the report's "changes after pilot"), and a check on publish that no
choice code comes back with a different meaning — the classic cause of corrupted exports, where code 3
meant "CoCo" in wave 1 and "Milksha" in wave 2 and both end up in one column.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from survey_tui.core.instrument.model import Choice, Instrument, Question, label_text
from survey_tui.core.problems import LoadError, Problem
from survey_tui.core.store.sqlite import InstrumentVersion
from survey_tui.core.study import Study
from survey_tui.i18n import _

LOGIC_FIELDS = ("relevant", "constraint", "calculate")


@dataclass(frozen=True)
class Change:
    """One difference in one question: `field` names what (label[en], choice 3, relevant, ...)."""

    field: str
    before: str | None
    after: str | None

    def describe(self) -> str:
        if self.before is None:
            return f"{self.field} added: {self.after}"
        if self.after is None:
            return f"{self.field} removed (was: {self.before})"
        return f"{self.field}: {self.before} → {self.after}"


@dataclass(frozen=True)
class Move:
    name: str
    before: int  # 1-based position in interview order
    after: int
    section_before: str
    section_after: str

    def describe(self) -> str:
        where = (
            f" (section {self.section_before} → {self.section_after})"
            if self.section_before != self.section_after
            else ""
        )
        return f"{self.name} moved from position {self.before} to {self.after}{where}"


@dataclass
class InstrumentDiff:
    """Every difference between two instruments, in interview order of the newer one."""

    old_label: str
    new_label: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    moved: list[Move] = field(default_factory=list)
    changed: dict[str, list[Change]] = field(default_factory=dict)
    instrument_changes: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.moved or self.changed or self.instrument_changes)

    def lines(self) -> list[str]:
        """The diff as plain sentences, one per change (the app view and the report use these)."""
        out = [f"+ {name} added" for name in self.added]
        out += [f"- {name} removed" for name in self.removed]
        out += [f"↕ {m.describe()}" for m in self.moved]
        for name, changes in self.changed.items():
            out += [f"~ {name}: {c.describe()}" for c in changes]
        out += [f"~ instrument: {c.describe()}" for c in self.instrument_changes]
        return out

    def markdown(self) -> str:
        """A Markdown section for the method chapter ("changes after pilot")."""
        if self.empty:
            return f"No changes between {self.old_label} and {self.new_label}.\n"
        parts = [f"Changes from {self.old_label} to {self.new_label}:\n"]
        if self.added:
            parts.append("- Questions added: " + ", ".join(f"`{n}`" for n in self.added))
        if self.removed:
            parts.append("- Questions removed: " + ", ".join(f"`{n}`" for n in self.removed))
        for m in self.moved:
            parts.append(f"- {m.describe()}")
        for name, changes in self.changed.items():
            parts.append(f"- `{name}`:")
            parts += [f"  - {_md(c.describe())}" for c in changes]
        for c in self.instrument_changes:
            parts.append(f"- Instrument: {_md(c.describe())}")
        return "\n".join(parts) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _labels_text(labels: dict[str, str] | None, lang: str) -> str | None:
    if not labels:
        return None
    return labels.get(lang) or labels.get("*") or None


def _diff_labels(prefix: str, old: dict[str, str] | None, new: dict[str, str] | None, langs: list[str]) -> list[Change]:
    changes = []
    for lang in langs:
        a, b = _labels_text(old, lang), _labels_text(new, lang)
        if a != b:
            changes.append(Change(f"{prefix}[{lang}]", a, b))
    return changes


def _choices_text(choices: tuple[Choice, ...] | list[Choice]) -> dict[int, Choice]:
    return {c.code: c for c in choices}


def diff_questions(old: Question, new: Question, langs: list[str]) -> list[Change]:
    """What changed in one question kept under the same name."""
    changes: list[Change] = []
    if old.type != new.type:
        changes.append(Change("type", old.type, new.type))
    changes += _diff_labels("label", old.label, new.label, langs)
    changes += _diff_labels("hint", old.hint, new.hint, langs)
    changes += _diff_labels("constraint_message", old.constraint_message, new.constraint_message, langs)
    for name in LOGIC_FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        if (a or None) != (b or None):
            changes.append(Change(name, a, b))
    if old.is_required != new.is_required and (old.answerable or new.answerable):
        changes.append(Change("required", str(old.is_required).lower(), str(new.is_required).lower()))
    for name in ("min", "max", "decimals", "max_selected", "randomize"):
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            changes.append(
                Change(
                    name,
                    None if a is None else f"{a:g}" if isinstance(a, float) else str(a),
                    None if b is None else f"{b:g}" if isinstance(b, float) else str(b),
                )
            )
    old_c, new_c = _choices_text(old.choice_options), _choices_text(new.choice_options)
    for code in sorted(set(old_c) | set(new_c)):
        a, b = old_c.get(code), new_c.get(code)
        if a is None and b is not None:
            changes.append(Change(f"choice {code}", None, label_text(b.label, langs[0])))
        elif b is None and a is not None:
            changes.append(Change(f"choice {code}", label_text(a.label, langs[0]), None))
        elif a is not None and b is not None:
            changes += _diff_labels(f"choice {code} label", a.label, b.label, langs)
            if a.exclusive != b.exclusive:
                changes.append(Change(f"choice {code} exclusive", str(a.exclusive), str(b.exclusive)))
    if [c.code for c in old.choice_options if c.code in new_c] != [
        c.code for c in new.choice_options if c.code in old_c
    ]:
        changes.append(
            Change(
                "choice order",
                ", ".join(str(c.code) for c in old.choice_options),
                ", ".join(str(c.code) for c in new.choice_options),
            )
        )
    old_i = {i.name: i for i in old.items or []}
    new_i = {i.name: i for i in new.items or []}
    for name in list(old_i) + [n for n in new_i if n not in old_i]:
        a, b = old_i.get(name), new_i.get(name)
        if a is None and b is not None:
            changes.append(Change(f"item {name}", None, label_text(b.label, langs[0])))
        elif b is None and a is not None:
            changes.append(Change(f"item {name}", label_text(a.label, langs[0]), None))
        elif a is not None and b is not None:
            changes += _diff_labels(f"item {name} label", a.label, b.label, langs)
    a_sp = {k: s.code for k, s in old.specials.items()}
    b_sp = {k: s.code for k, s in new.specials.items()}
    if a_sp != b_sp:
        changes.append(Change("special codes", _fmt(a_sp), _fmt(b_sp)))
    return changes


def _fmt(mapping: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in mapping.items()) or "none"


def _lcs(a: list[str], b: list[str]) -> set[str]:
    """Names in a longest common subsequence: the questions that kept their relative order."""
    n, m = len(a), len(b)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
    keep, i, j = set(), 0, 0
    while i < n and j < m:
        if a[i] == b[j]:
            keep.add(a[i])
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return keep


def diff_instruments(
    old: Instrument, new: Instrument, old_label: str = "old", new_label: str = "new"
) -> InstrumentDiff:
    """Questions added, removed, moved, and per question what changed (labels per language, choices, logic, type)."""
    diff = InstrumentDiff(old_label, new_label)
    langs = list(dict.fromkeys([*new.languages, *old.languages]))
    old_names = [q.name for q in old.questions]
    new_names = [q.name for q in new.questions]
    old_set, new_set = set(old_names), set(new_names)
    diff.added = [n for n in new_names if n not in old_set]
    diff.removed = [n for n in old_names if n not in new_set]
    common_old = [n for n in old_names if n in new_set]
    common_new = [n for n in new_names if n in old_set]
    kept = _lcs(common_old, common_new)
    for name in common_new:
        sec_a, sec_b = old.section_of(name).name, new.section_of(name).name
        if name not in kept or sec_a != sec_b:
            diff.moved.append(Move(name, old_names.index(name) + 1, new_names.index(name) + 1, sec_a, sec_b))
    for name in common_new:
        changes = diff_questions(old.question(name), new.question(name), langs)
        if changes:
            diff.changed[name] = changes
    diff.instrument_changes += _diff_labels("title", old.title, new.title, langs)
    if old.languages != new.languages:
        diff.instrument_changes.append(Change("languages", ", ".join(old.languages), ", ".join(new.languages)))
    old_sections = {s.name: s for s in old.sections}
    for s in new.sections:
        before = old_sections.get(s.name)
        if before is None:
            diff.instrument_changes.append(Change(f"section {s.name}", None, label_text(s.label, langs[0]) or s.name))
        elif (before.relevant or None) != (s.relevant or None):
            diff.instrument_changes.append(Change(f"section {s.name} relevant", before.relevant, s.relevant))
    for name in old_sections:
        if name not in {s.name for s in new.sections}:
            diff.instrument_changes.append(Change(f"section {name}", name, None))
    old_rules = [r.when for r in old.terminate]
    new_rules = [r.when for r in new.terminate]
    if old_rules != new_rules:
        diff.instrument_changes.append(
            Change("terminate rules", "; ".join(old_rules) or "none", "; ".join(new_rules) or "none")
        )
    return diff


# -- code reuse ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeReuse:
    """A code that meant one thing in an earlier version and something else now."""

    question: str
    code: int
    version: int
    before: str
    after: str
    kind: str = "choice"  # 'choice' or 'type'

    def message(self) -> str:
        if self.kind == "type":
            return (
                f"question '{self.question}' was a {self.before} question in v{self.version} and is a "
                f"{self.after} question now: data of both versions would share one variable"
            )
        return (
            f"choice code {self.code} of '{self.question}' meant \"{self.before}\" in v{self.version} and means "
            f'"{self.after}" now: answers of both versions would be mixed under one code'
        )


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s\W_]+", "", text)


def _same_meaning(a: dict[str, str], b: dict[str, str], langs: list[str]) -> bool:
    """Same meaning unless the text differs in every language both versions have.

    A typo fixed in one language keeps the meaning; a new answer option is reworded in all of them.
    """
    compared = 0
    for lang in langs:
        x, y = _labels_text(a, lang), _labels_text(b, lang)
        if x is None or y is None:
            continue
        compared += 1
        if _norm(x) == _norm(y):
            return True
    return compared == 0


def code_reuse(old: Instrument, new: Instrument, old_version: int) -> list[CodeReuse]:
    """Choice codes (and question names) that come back with a different meaning in `new`."""
    langs = list(dict.fromkeys([*new.languages, *old.languages]))
    found: list[CodeReuse] = []
    for q in new.questions:
        if not old.has_question(q.name):
            continue
        before = old.question(q.name)
        if before.answerable and q.answerable and _kind(before) != _kind(q):
            found.append(CodeReuse(q.name, 0, old_version, before.type, q.type, kind="type"))
            continue
        old_codes = _choices_text(before.choice_options)
        for choice in q.choice_options:
            was = old_codes.get(choice.code)
            if was is not None and not _same_meaning(was.label, choice.label, langs):
                found.append(
                    CodeReuse(
                        q.name,
                        choice.code,
                        old_version,
                        label_text(was.label, langs[0]),
                        label_text(choice.label, langs[0]),
                    )
                )
    return found


def _kind(q: Question) -> str:
    """Types that store the same kind of data (single and scale are both one code)."""
    return {"single": "code", "scale": "code"}.get(q.type, q.type)


# -- publishing ----------------------------------------------------------------------------------


class CodeReuseError(LoadError):
    """Publishing would give an existing code a new meaning; the problems say which."""

    def __init__(self, problems: list[Problem], reuses: list[CodeReuse]) -> None:
        super().__init__(problems)
        self.reuses = reuses


@dataclass(frozen=True)
class PublishResult:
    version: InstrumentVersion
    new: bool  # False when the draft was identical to the latest version
    reuses: list[CodeReuse]


def publish_checks(study: Study, instrument_id: str) -> list[CodeReuse]:
    """Compare the draft with every published version of the instrument."""
    draft = study.load_instrument(instrument_id)
    found: list[CodeReuse] = []
    seen: set[tuple[str, int, str]] = set()
    with study.store() as store:
        versions = store.versions(instrument_id)
    for version in reversed(versions):
        old = study.instrument_for_version(version)
        for reuse in code_reuse(old, draft, version.version):
            key = (reuse.question, reuse.code, reuse.kind)
            if key not in seen:
                seen.add(key)
                found.append(reuse)
    return found


def publish(study: Study, instrument_id: str, note: str | None = None, allow_code_reuse: bool = False) -> PublishResult:
    """Publish the draft as the next version, refusing (unless allowed) codes that changed meaning."""
    draft = study.load_instrument(instrument_id)  # raises LoadError on any error in the file
    reuses = publish_checks(study, draft.id)
    if reuses and not allow_code_reuse:
        problems = [
            Problem(
                f"instruments/{draft.id}",
                r.message(),
                where=r.question,
                hint="give the new meaning a new code (or a new question name); "
                "publish with --allow-code-reuse only if the meaning really is the same",
            )
            for r in reuses
        ]
        raise CodeReuseError(problems, reuses)
    with study.store() as store:
        latest = store.latest_version(draft.id)
    version = study.publish(draft.id, note)
    return PublishResult(version, latest is None or latest.id != version.id, reuses)


@dataclass(frozen=True)
class DraftStatus:
    instrument_id: str
    latest: int | None  # latest published version number
    changed: bool  # the file differs from the latest published text

    def describe(self) -> str:
        """In the interface language (the core's gettext helper; it imports no UI library)."""
        if self.latest is None:
            return _("draft (never published)")
        if self.changed:
            return _("draft of v{next} (changed since v{latest})").format(next=self.latest + 1, latest=self.latest)
        return _("v{latest} (published, unchanged)").format(latest=self.latest)


def draft_status(study: Study, instrument_id: str) -> DraftStatus:
    """Whether the file on disk is still the latest published version or a draft of the next one."""
    source = study.instrument_source(instrument_id)
    with study.store() as store:
        latest = store.latest_version(instrument_id)
    if latest is None:
        return DraftStatus(instrument_id, None, True)
    return DraftStatus(instrument_id, latest.version, latest.source != source)


def version_by_number(study: Study, instrument_id: str, number: int | str) -> InstrumentVersion:
    """'2', 'v2' or 2 -> the stored version; 'draft' is not a stored version (see `instrument_at`)."""
    text = str(number).lower().removeprefix("v")
    with study.store() as store:
        versions = store.versions(instrument_id)
    for version in versions:
        if str(version.version) == text:
            return version
    known = ", ".join(f"v{v.version}" for v in versions) or "none published yet"
    raise LoadError([Problem(f"instruments/{instrument_id}", f"no version {number} ({known})")])


def instrument_at(study: Study, instrument_id: str, which: int | str) -> tuple[Instrument, str]:
    """An instrument at a version number, or the draft ('draft'); with its label for messages."""
    if str(which).lower() == "draft":
        return study.load_instrument(instrument_id), "draft"
    version = version_by_number(study, instrument_id, which)
    return study.instrument_for_version(version), f"v{version.version}"


def diff_versions(study: Study, instrument_id: str, a: int | str, b: int | str) -> InstrumentDiff:
    old, old_label = instrument_at(study, instrument_id, a)
    new, new_label = instrument_at(study, instrument_id, b)
    return diff_instruments(old, new, old_label, new_label)


def interview_counts_by_version(study: Study, instrument_id: str) -> dict[int, dict[str, int]]:
    """{version number: {mode: interviews}} — which version the pilot and the field used."""
    with study.store() as store:
        rows = store.query(
            "SELECT v.version, i.mode, COUNT(*) FROM interviews i JOIN instrument_versions v"
            " ON v.id = i.instrument_version_id WHERE v.instrument_id = ? GROUP BY v.version, i.mode",
            (instrument_id,),
        )
    out: dict[int, dict[str, int]] = {}
    for version, mode, count in rows:
        out.setdefault(int(version), {})[str(mode)] = int(count)
    return out


def changes_after_pilot(study: Study, instrument_id: str) -> InstrumentDiff | None:
    """The diff from the last version piloted to the version fielded (None when there was no pilot)."""
    counts = interview_counts_by_version(study, instrument_id)
    piloted = [v for v, modes in counts.items() if modes.get("pilot")]
    if not piloted:
        return None
    pilot_version = max(piloted)
    fielded = [v for v, modes in counts.items() if modes.get("field") and v > pilot_version]
    with study.store() as store:
        latest = store.latest_version(instrument_id)
    target = min(fielded) if fielded else (latest.version if latest else pilot_version)
    if target == pilot_version:
        return None
    return diff_versions(study, instrument_id, pilot_version, target)
