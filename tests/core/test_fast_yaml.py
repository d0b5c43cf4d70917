"""The read-only fast path (libyaml's compose) gives exactly what ruamel.yaml's round-trip loader gives: the
same keys, values, scalar types and the line and column of every key and item (what located problems use) --
or hands the text back to ruamel.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey_tui.core.yamlfile import YamlDocument, _parse_yaml_text, fast_plain, fast_root, to_plain
from tests.conftest import SMALL

pytest.importorskip("yaml", reason="PyYAML (libyaml) is not installed: check parses with ruamel.yaml only")

ROOT = Path(__file__).resolve().parents[2]


def _same(fast: Any, slow: Any, path: tuple[Any, ...] = ()) -> None:
    assert type(fast) is type(slow), (path, type(fast), type(slow))
    if isinstance(slow, dict):
        assert list(fast) == list(slow), path
        assert (fast.lc.line, fast.lc.col) == (slow.lc.line, slow.lc.col), path
        for key in slow:
            assert fast.lc.key(key) == slow.lc.key(key), (path, key)
            # (the value's own position is not compared: nothing reads it, and for an empty value ruamel.yaml
            # puts it on the next line where libyaml keeps it after the colon)
            _same(fast[key], slow[key], (*path, key))
    elif isinstance(slow, list):
        assert len(fast) == len(slow), path
        for index, (a, b) in enumerate(zip(fast, slow, strict=True)):
            assert fast.lc.item(index) == slow.lc.item(index), (path, index)
            _same(a, b, (*path, index))
    else:
        assert fast == slow or (fast != fast and slow != slow), (path, fast, slow)  # nan: itself, not equal


def _texts() -> list[str]:
    files = sorted((ROOT / "instruments").glob("*.yaml")) + sorted((ROOT / "survey_tui").rglob("*.yaml"))
    return [SMALL, *(p.read_text(encoding="utf-8") for p in files)]


@pytest.mark.parametrize("text", _texts())
def test_real_instruments_parse_the_same_both_ways(text: str) -> None:
    slow, problems = _parse_yaml_text(text, "x.yaml")
    assert slow is not None, problems
    fast = fast_root(text)
    assert fast is not None, "a plain instrument should take the fast path"
    _same(fast, slow.root)
    _same_plain(text, slow)


def _same_values(a: Any, b: Any, path: tuple[Any, ...] = ()) -> None:
    assert type(a) is type(b), (path, type(a), type(b))
    if isinstance(b, dict):
        assert list(a) == list(b), path
        for key in b:
            _same_values(a[key], b[key], (*path, key))
    elif isinstance(b, list):
        assert len(a) == len(b), path
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            _same_values(x, y, (*path, index))
    else:
        assert a == b or (a != a and b != b), (path, a, b)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into the document, and some that leave it (a missing key, an index past the end, a union
    tag pydantic puts in its locations, a key below a scalar), as problems ask for them."""
    found = [path, (*path, "missing"), (*path, 99), (*path, "list[Choice]")]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


def _same_plain(text: str, slow: YamlDocument) -> None:
    """The plain read-only document: the same data as the round-trip one, and the same line for every path."""
    plain = fast_plain(text)
    assert plain is not None
    root, nodes = plain
    fast = YamlDocument("x.yaml", root, nodes)
    _same_values(fast.data, to_plain(slow.root))
    _same_values(to_plain(root), to_plain(fast_root(text)))
    for path in _paths(root):
        assert fast.line_of(path) == slow.line_of(path), path
        assert fast.node(path) == slow.node(path) or fast.node(path) != fast.node(path), path


SCALARS = [
    "1",
    "010",
    "0o10",
    "0x1F",
    "1_000",
    "+1",
    "-.5",
    "1.5",
    "1e5",
    ".inf",
    "-.Inf",
    ".nan",
    "yes",
    "no",
    "on",
    "true",
    "False",
    "NULL",
    "~",
    "",
    "2026-01-02",
    "2026-01-02T10:00:00",
    "2026-1-2",
    "1:20",
    "'1'",
    '"x\\ty"',
    "中文",
    "a b",
    "- x",
    "[1, 2]",
    "{a: 1}",
    "|\n  line\n  two",
    ">-\n  folded\n  text",
    "&a 1",
    "!!str 1",
]


@settings(max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "q1", "1", "null", "x y"]), st.sampled_from(SCALARS)), max_size=8))
def test_any_mapping_of_scalars_parses_the_same_or_is_handed_back(pairs: list[tuple[str, str]]) -> None:
    text = "".join(f"{k}: {v}\n" if "\n" not in v else f"{k}: {v}\n" for k, v in pairs) or "{}\n"
    slow, _ = _parse_yaml_text(text, "x.yaml")
    fast = fast_root(text)
    if slow is None:  # a syntax error, a duplicate key: ruamel.yaml reports it, the fast path steps aside
        assert fast is None
        return
    if fast is not None:
        _same(fast, slow.root)
        _same_plain(text, slow)
    else:
        assert fast_plain(text) is None
