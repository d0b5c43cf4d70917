"""The Questionnaire outline wraps long labels by display width instead of cutting them.

wcwidth (an independent table of terminal widths) measures every drawn line: none is wider than the
pane, and the label's characters all come back, in order, once the guides are taken off.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text
from wcwidth import wcswidth

from survey_tui.core.study import open_study
from survey_tui.tui.app import SurveyApp
from survey_tui.tui.outline import Outline, OutlineLabel, wrap_label

GUIDES = re.compile(r"^[│├└─ ]*")

LABELS = [
    "s1 note 您好，我是市場調查公司的訪員，我們正在進行一項關於手搖飲料的消費者調查，大約需要 10 分鐘。",
    "a2_aided multi Which of these bubble tea brands have you heard of, even if only by name?",
    "b1 grid 請問您對「茶語時光」以下各方面的滿意度？CP值、店員 service 態度",
    "x_supercalifragilisticexpialidocious_is_one_long_name text 短",
    "q 短",
]


def drawn(renderable: object, width: int) -> list[str]:
    """The lines Rich draws for `renderable` in `width` cells (as the OptionList draws its options)."""
    console = Console(width=width, color_system=None, legacy_windows=False)
    return ["".join(seg.text for seg in line).rstrip() for line in console.render_lines(renderable, pad=False)]


def no_spaces(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("width", [12, 20, 31, 36, 60])
def test_wrapped_lines_fit_and_lose_nothing(label: str, width: int) -> None:
    first, rest = "│   ├── ", "│   │   "
    lines = [line.plain for line in wrap_label(first, rest, Text(label), width)]
    assert all(wcswidth(line) <= width for line in lines), [(line, wcswidth(line)) for line in lines]
    assert lines[0].startswith(first) and all(line.startswith(rest) for line in lines[1:])
    body = [line[len(first) :] for line in lines]
    assert no_spaces("".join(body)) == no_spaces(label)  # every character, in order; spaces end a line
    room = width - len(first)
    if all(wcswidth(word) <= room for word in label.split()):  # words that fit a line are never split
        assert " ".join(body).split() == label.split() or any(wcswidth(ch) == 2 for ch in label)
    if wcswidth(label) + len(first) <= width:
        assert len(lines) == 1  # a label that fits stays on one line
    assert not any(b.startswith(("，", "。", "？", "、")) for b in body[1:])  # CJK punctuation opens no line
    assert drawn(OutlineLabel(first, rest, Text(label)), width) == [line.rstrip() for line in lines]


@pytest.mark.parametrize("lang", ["en", "zh-TW"])
async def test_outline_at_80_columns_wraps_every_label(demo_study_dir: Path, lang: str) -> None:
    from survey_tui.i18n import _

    app = SurveyApp(open_study(demo_study_dir), keymap_file=demo_study_dir / "no-keymap.yaml", ui_lang=lang)
    app.animation_level = "none"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        for _round in range(200):
            await app.workers.wait_for_complete()
            await pilot.pause()
            if app.screen.query("#outline") and app.screen.query_one("#outline", Outline).rows:
                break
        outline = app.screen.query_one("#outline", Outline)
        assert outline.border_title == _("Instruments")
        width = outline.scrollable_content_region.width
        assert width > 0 and outline.region.right <= 80
        wrapped = 0
        for option, row in zip(outline.options, outline.rows, strict=True):
            lines = drawn(option.prompt, width)
            assert all(wcswidth(line) <= width for line in lines), lines
            text = "".join(GUIDES.sub("", line, count=1) for line in lines)
            assert no_spaces(text) == no_spaces(row.label.plain)  # nothing cut off
            wrapped += len(lines) > 1
        assert wrapped >= 10  # the demo's long prompts do wrap at 80 columns
        # the keys still move through the rows and show the question in the detail pane
        await pilot.press("down", "down", "down")  # instrument, section screener, s1, s2
        await pilot.pause()
        node = outline.cursor_node
        assert node is not None and node.data and node.data[1] == "s2"
        await pilot.press("end")
        await pilot.pause()
        assert outline.cursor_node is outline.rows[-1]
