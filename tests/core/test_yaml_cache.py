"""The parsed-YAML cache: a text parsed before is not parsed again, and nothing about the result changes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from survey_tui.core import yamlfile
from survey_tui.core.yamlfile import parse_yaml_text, read_yaml

TEXT = (
    "# the plan\ntitle: 珍奶研究\nlanguages: [zh-TW, en]\nsections:\n  - name: a\n    questions:\n      - {name: q1}\n"
)


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(folder))
    return folder


def _dump(root: object) -> str:
    out = io.StringIO()
    yamlfile._yaml().dump(root, out)
    return out.getvalue()


def test_a_second_read_comes_from_the_cache_with_lines_and_comments(
    cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(TEXT, encoding="utf-8")
    first, problems = read_yaml(path, "study.yaml")
    assert first is not None and not problems
    assert len(list((cache_dir / "yaml").iterdir())) == 1

    def no_parsing() -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(yamlfile, "_yaml", no_parsing)
    second, problems = read_yaml(path, "study.yaml")
    monkeypatch.undo()
    assert second is not None and not problems
    assert second.data == first.data
    assert second.line_of(["sections", 0, "questions", 0, "name"]) == first.line_of(
        ["sections", 0, "questions", 0, "name"]
    )
    assert _dump(second.root) == TEXT  # comments and layout survive, for round-trip edits
    second.root["title"] = "changed"  # each read is its own copy
    third, _ = read_yaml(path, "study.yaml")
    assert third is not None and third.data["title"] == "珍奶研究"


def test_a_changed_text_is_parsed_and_its_errors_reported(cache_dir: Path) -> None:
    parse_yaml_text(TEXT, "x.yaml", cache=True)
    doc, problems = parse_yaml_text(TEXT.replace("[zh-TW, en]", "[zh-TW, en"), "x.yaml", cache=True)
    assert doc is None and problems and problems[0].line is not None
    assert len(list((cache_dir / "yaml").iterdir())) == 1  # errors are not cached


def test_drafts_are_not_cached(cache_dir: Path) -> None:
    parse_yaml_text(TEXT, "draft")
    assert not (cache_dir / "yaml").exists()


def test_an_unwritable_cache_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(blocker))
    for _ in range(2):
        doc, problems = parse_yaml_text(TEXT, "x.yaml", cache=True)
        assert doc is not None and not problems and doc.data["title"] == "珍奶研究"


def test_a_validated_only_document_is_cached_plain_and_keeps_its_lines(
    cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only read (an instrument being loaded) caches its plain containers: the next read neither
    composes the text nor imports libyaml, gives the same data, and finds the same line for any path."""
    text = "title: 珍奶研究\nsections:\n  - name: a\n    questions:\n      - name: q1\n        type: text\n"
    path = tmp_path / "q.yaml"
    path.write_text(text, encoding="utf-8")
    first, problems = read_yaml(path, "q.yaml", read_only=True)
    assert first is not None and not problems and first.nodes is not None
    paths = [["title"], ["sections", 0, "questions", 0, "type"], ["sections", 0, "missing"], ["nope"]]
    lines = [first.line_of(p) for p in paths]
    assert lines == [1, 6, 3, 1]

    composed: list[str] = []
    real = yamlfile._compose
    monkeypatch.setattr(yamlfile, "_compose", lambda t: composed.append(t) or real(t))
    second, problems = read_yaml(path, "q.yaml", read_only=True)
    assert second is not None and not problems
    assert second.data == first.data and composed == []
    assert [second.line_of(p) for p in paths] == lines and composed == [text]  # composed once, when asked

    path.write_text(text.replace("q1", "q2"), encoding="utf-8")  # a changed file is parsed again
    third, _ = read_yaml(path, "q.yaml", read_only=True)
    assert third is not None and third.data["sections"][0]["questions"][0]["name"] == "q2"


def test_a_cached_instrument_loads_without_importing_libyaml(cache_dir: Path, tmp_path: Path) -> None:
    """The app's first screen loads each instrument; from the cache that costs no libyaml import."""
    import subprocess
    import sys

    from tests.conftest import SMALL

    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    code = (
        "import sys\nfrom pathlib import Path\nfrom survey_tui.core.instrument.loader import load_instrument_file\n"
        f"instrument, problems = load_instrument_file(Path({str(path)!r}), 'small.yaml')\n"
        "assert instrument is not None, problems\nprint('YAML:' + str('yaml' in sys.modules))"
    )
    env = {**__import__("os").environ, "SURVEY_TUI_CACHE_DIR": str(cache_dir)}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env) for _ in range(2)]
    assert [r.stdout.strip().splitlines()[-1] for r in runs] == ["YAML:True", "YAML:False"], runs[-1].stderr
