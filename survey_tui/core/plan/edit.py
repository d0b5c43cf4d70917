"""Edit the plan in `study.yaml` from the app without losing the researcher's comments or key order.

Every change re-reads the file (someone may have edited it in their editor meanwhile), changes only the
nodes it must on ruamel's round-trip tree, validates the WHOLE result with `StudyConfig`, and only then
writes it via a temporary file and a rename. An edit that would make the file invalid is refused with the
problems, and the file on disk is left exactly as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from survey_tui.core.plan.model import PLAN_LISTS, StatusChange
from survey_tui.core.problems import LoadError, Problem
from survey_tui.core.study import STUDY_FILE, StudyConfig
from survey_tui.core.yamlfile import (
    YamlDocument,
    dump_yaml,
    parse_yaml_text,
    read_yaml,
    validate_document,
    write_text_atomic,
)
from survey_tui.i18n import N_, _

#: plan parts that are one mapping (edited as a whole) rather than a list of items with ids
PLAN_MAPPINGS = ("background", "method", "report_format", "analysis_plan")


def yaml_ready(value: Any) -> Any:
    """Plain data ruamel writes cleanly: dates stay dates (unquoted), enums become their values."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="python", exclude_defaults=True)
    if isinstance(value, dict):
        return {k: yaml_ready(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [yaml_ready(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _merge_into(node: CommentedMap, new: dict[str, Any]) -> None:
    """Update a mapping in place so comments on unchanged keys survive."""
    for key in [k for k in node if k not in new]:
        del node[key]
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(node.get(key), CommentedMap):
            _merge_into(node[key], value)
        elif node.get(key) != value:
            node[key] = value


class PlanStore:
    """Reads and atomically rewrites the plan parts of one study's `study.yaml`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.path = self.root / STUDY_FILE

    def read(self) -> YamlDocument:
        doc, problems = read_yaml(self.path, STUDY_FILE)
        if doc is None:
            raise LoadError(problems)
        if not isinstance(doc.root, CommentedMap):
            raise LoadError([Problem(STUDY_FILE, _("study.yaml must be a mapping with title:, client:, languages:"))])
        return doc

    def load(self) -> tuple[StudyConfig, YamlDocument]:
        doc = self.read()
        config, problems = validate_document(StudyConfig, doc)
        if config is None:
            raise LoadError(problems)
        return config, doc

    def _edit(self, change: Callable[[CommentedMap], None]) -> StudyConfig:
        doc = self.read()
        change(doc.root)
        text = dump_yaml(doc.root)
        new_doc, problems = parse_yaml_text(text, STUDY_FILE)  # re-read: the lines of what will be written
        config, found = validate_document(StudyConfig, new_doc) if new_doc is not None else (None, [])
        if config is None:
            raise LoadError(problems + found)
        write_text_atomic(self.path, text)
        return config

    # -- lists of items with ids: sources, objectives, hypotheses ------------------------------------
    def upsert(self, section: str, item: BaseModel, replace_id: str | None = None) -> StudyConfig:
        """Add `item` to a plan list, or replace the item whose id is `replace_id` (kept in place).

        A new item whose id is already taken is refused (ids are how hypotheses and tables refer).
        """
        if section not in PLAN_LISTS:
            raise ValueError(f"not a plan list: {section}")
        data = yaml_ready(item)
        new_id = data["id"]

        def change(root: CommentedMap) -> None:
            seq = root.get(section)
            if not isinstance(seq, CommentedSeq):
                seq = CommentedSeq()
                root[section] = seq
            ids = [entry.get("id") if isinstance(entry, dict) else None for entry in seq]
            if replace_id is not None and replace_id in ids:
                index = ids.index(replace_id)
                if new_id != replace_id and new_id in ids:
                    raise LoadError([_taken(section, new_id)])
                if isinstance(seq[index], CommentedMap):
                    _merge_into(seq[index], data)
                else:
                    seq[index] = data
                return
            if new_id in ids:
                raise LoadError([_taken(section, new_id)])
            seq.append(data)

        return self._edit(change)

    def remove(self, section: str, item_id: str) -> StudyConfig:
        if section not in PLAN_LISTS:
            raise ValueError(f"not a plan list: {section}")

        def change(root: CommentedMap) -> None:
            seq = root.get(section) or []
            for index, entry in enumerate(seq):
                if isinstance(entry, dict) and entry.get("id") == item_id:
                    del seq[index]
                    return
            raise LoadError(
                [Problem(STUDY_FILE, _(NO_ITEM[section]).format(id=item_id), where=section)]  # type: ignore[index]
            )

        return self._edit(change)

    # -- whole mappings: background, method, report format, analysis plan ---------------------------
    def set_part(self, part: str, value: BaseModel) -> StudyConfig:
        if part not in PLAN_MAPPINGS:
            raise ValueError(f"not a plan part: {part}")
        data = yaml_ready(value)

        def change(root: CommentedMap) -> None:
            if isinstance(root.get(part), CommentedMap):
                _merge_into(root[part], data)
            else:
                root[part] = data

        return self._edit(change)

    def change_report_status(self, status: str, by: str, on: dt.date | None = None, note: str = "") -> StudyConfig:
        """Move the report format to `status`, recording who and when in its history."""
        change = StatusChange(status=status, by=by, on=on or dt.date.today(), note=note)  # type: ignore[arg-type]

        def edit(root: CommentedMap) -> None:
            part = root.get("report_format")
            if not isinstance(part, CommentedMap):
                part = CommentedMap()
                root["report_format"] = part
            part["status"] = change.status
            if change.status == "approved":
                part["approved_by"] = change.by
                part["approved_on"] = change.on
            else:
                for key in ("approved_by", "approved_on"):
                    if key in part:
                        del part[key]
            history = part.get("history")
            if not isinstance(history, CommentedSeq):
                history = CommentedSeq()
                part["history"] = history
            history.append(yaml_ready(change))

        return self._edit(edit)


#: a plan list -> "no such item" in words (one message each: "hypotheses"[:-1] is not a word)
NO_ITEM = {
    "sources": N_("no source with id '{id}'"),
    "objectives": N_("no objective with id '{id}'"),
    "hypotheses": N_("no hypothesis with id '{id}'"),
}


def _taken(section: str, item_id: str) -> Problem:
    return Problem(
        STUDY_FILE,
        _("id '{id}' is already used in {section}").format(id=item_id, section=section),
        where=section,
        hint=_("choose another id"),
    )
