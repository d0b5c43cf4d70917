"""A user's own keys: `keymap.yaml` maps binding ids (shown in the help) to keys, as in posting."""

from __future__ import annotations

import os
from pathlib import Path

from survey_tui.core.problems import Problem
from survey_tui.core.yamlfile import read_yaml


def default_keymap_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "survey-tui" / "keymap.yaml"


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], list[Problem]]:
    """{binding id: key}; a broken file is reported, never fatal (the defaults still work)."""
    path = path or default_keymap_file()
    if not path.is_file():
        return {}, []
    doc, problems = read_yaml(path)
    if doc is None:
        return {}, problems
    data = doc.data
    if not isinstance(data, dict):
        return {}, [Problem(str(path), "keymap.yaml must map binding ids to keys, e.g. 'section.home: f1'")]
    keymap: dict[str, str] = {}
    for binding_id, key in data.items():
        if not isinstance(key, str) or not key.strip():
            problems.append(
                Problem(
                    str(path),
                    f"'{binding_id}' needs a key such as 'f2' or 'ctrl+e'",
                    line=doc.line_of([binding_id]),
                )
            )
            continue
        keymap[str(binding_id)] = key.strip()
    return keymap, problems
