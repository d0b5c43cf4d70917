"""The preliminary research report (P1.1.4), section by section, and `survey-tui report`."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from survey_tui.cli import main
from survey_tui.core.plan.edit import PlanStore
from survey_tui.core.study import open_study
from survey_tui.report.preliminary import build_preliminary_report, findings_by_theme
from tests.plan_study import make_plan_study


@pytest.fixture
def plan_study(tmp_path: Path) -> Path:
    return make_plan_study(tmp_path / "study")


def sections(markdown: str) -> dict[str, str]:
    """'## heading' -> the text under it."""
    parts = re.split(r"^## (.+)$", markdown, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def test_every_section_reports_the_plan(plan_study: Path) -> None:
    config = open_study(plan_study).config
    md = build_preliminary_report(config, today=date(2026, 9, 30))
    assert md.startswith(f"# {config.title}")  # approved: no warning above the title
    assert "NOT APPROVED" not in md
    s = sections(md)
    assert list(s) == [
        "1. 研究背景 Background",
        "2. 次級資料來源 Sources",
        "3. 主要發現 Findings by theme",
        "4. 研究方法與工具 Method and tools",
        "5. 研究目的與假設 Objectives and hypotheses",
        "6. 報告格式 Report format and approval",
    ]
    assert config.background.decision.split()[0] in s["1. 研究背景 Background"]

    rows = [line for line in s["2. 次級資料來源 Sources"].splitlines() if line.startswith("| S")]
    assert [row.split("|")[1].strip() for row in rows] == [src.id for src in config.sources]
    moea = next(row for row in rows if "經濟部統計處" in row)
    assert "2026-09-02" in moea and "高 high: 官方月報" in moea

    findings = s["3. 主要發現 Findings by theme"]
    themes = re.findall(r"^### (.+)$", findings, flags=re.M)
    assert themes == list(findings_by_theme(config.sources))
    regions = findings.split("### 區域 regions")[1].split("###")[0]
    assert "北部門市營收占 68%" in regions and "[S6, 高 high]" in regions
    assert "北部門市營收占 68%" not in findings.split("### 產品 product")[1].split("###")[0]  # finding's own tags

    method = s["4. 研究方法與工具 Method and tools"]
    assert "face-to-face (CAPI)" in method and "Planned sample size: 400" in method
    assert "±4.9 percentage points" in method  # 1.96 * sqrt(.25/400) with N = 9.5 million
    assert "| 實地訪問 fieldwork | 2026-10-05 | 2026-10-25 |" in method
    assert all(tool.name in method for tool in config.method.tools)

    objectives = s["5. 研究目的與假設 Objectives and hypotheses"]
    for objective in config.objectives:
        block = objectives.split(f"**{objective.id}**")[1].split("**O")[0]
        for h in config.hypotheses:
            assert (f"**{h.id}**" in block) == (h.objective == objective.id)
    assert "difference of means (Welch)" in objectives and "no difference expected" in objectives
    assert "share vs threshold against 30%" in objectives and "positive correlation" in objectives

    fmt = s["6. 報告格式 Report format and approval"]
    assert "**已核准 approved**" in fmt and "Approved by 林怡君" in fmt
    assert fmt.count("| 2026-09-") == len(config.report_format.history)


def test_a_format_not_approved_is_announced_at_the_top(plan_study: Path) -> None:
    PlanStore(plan_study).change_report_status("changes_requested", "林怡君", date(2026, 9, 20), "改版")
    md = build_preliminary_report(open_study(plan_study).config, today=date(2026, 9, 30))
    first = md.splitlines()[0]
    assert first.startswith("> **⚠") and "NOT APPROVED" in first
    assert "需修改 changes requested" in md.splitlines()[1]
    assert md.index("NOT APPROVED") < md.index("# ")
    assert "| 2026-09-20 | 需修改 changes requested | 林怡君 | 改版 |" in md


def test_an_empty_plan_still_gives_a_readable_report(tmp_path: Path) -> None:
    root = make_plan_study(tmp_path / "empty", "title: 空白研究\n")
    md = build_preliminary_report(open_study(root).config, today=date(2026, 1, 2))
    assert "NOT APPROVED" in md.splitlines()[0]
    assert "_(no sources recorded yet)_" in md and "_(no objectives yet)_" in md
    assert "| " not in md.split("## 2.")[1].split("## 3.")[0]


def test_pipes_in_titles_do_not_break_the_table(plan_study: Path) -> None:
    from survey_tui.core.plan.model import Source

    PlanStore(plan_study).upsert("sources", Source(id="S9", title="A | B report"))
    md = build_preliminary_report(open_study(plan_study).config)
    row = next(line for line in md.splitlines() if line.startswith("| S9"))
    assert "A \\| B report" in row and row.count(" | ") == 6


def test_report_command_preliminary_mode(plan_study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--preliminary", "--study", str(plan_study)]) == 0
    assert "Preliminary report written to" in capsys.readouterr().out
    written = (plan_study / "exports" / "preliminary_report.md").read_text(encoding="utf-8")
    assert "## 2. 次級資料來源 Sources" in written and "經濟部統計處" in written
    assert not list((plan_study / "exports").glob(".*.tmp"))


def test_check_command_prints_located_plan_problems(plan_study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = plan_study / "study.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("outcome: u1_freq", "outcome: u1_frq"), encoding="utf-8")
    assert main(["check", str(plan_study)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"study\.yaml:\d+: error: \[hypotheses\[0\]\.outcome\] no instrument has a variable 'u1_frq'", out)
    assert "did you mean 'u1_freq'" in out
