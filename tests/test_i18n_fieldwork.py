"""The fieldwork, respondents and privacy commands in the interface language: Chinese with --ui-lang zh-TW,
English without it, and Chinese columns lined up by display width (a CJK character takes two cells)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from rich.cells import cell_len

from survey_tui.cli import main

CJK = re.compile(r"[\u4e00-\u9fff]")


def run(argv: list[str], capsys: pytest.CaptureFixture[str], zh: bool) -> str:
    try:
        assert main((["--ui-lang", "zh-TW"] if zh else []) + argv) == 0
    except SystemExit as done:  # --help
        assert done.code == 0
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_fieldwork_commands_speak_the_interface_language(demo_study_dir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    study = ["--study", str(demo_study_dir)]
    zh = run(["fieldwork", "queue", *study], capsys, zh=True)
    en = run(["fieldwork", "queue", *study], capsys, zh=False)
    assert "預約已到" in zh and "appointments due" not in zh
    assert "appointments due" in en and not CJK.search(en)
    # the counts sit in one column whatever the language: padded by display cells, not characters
    assert len({cell_len(line) for line in zh.splitlines()}) == 1
    assert [line.split()[-1] for line in zh.splitlines()] == [line.split()[-1] for line in en.splitlines()]

    zh = run(["fieldwork", "rates", *study], capsys, zh=True)
    en = run(["fieldwork", "rates", *study], capsys, zh=False)
    assert zh.startswith("== 整體（") and "AAPOR 比例分配法" in zh
    assert en.startswith("== overall (") and "AAPOR proportional allocation" in en
    # the AAPOR notation (rate names, formulas, numbers) is the same in both
    assert [line for line in zh.splitlines() if "RR1 =" in line] == [
        line for line in en.splitlines() if "RR1 =" in line
    ]

    zh = run(["fieldwork", "backcheck", "report", *study], capsys, zh=True)
    en = run(["fieldwork", "backcheck", "report", *study], capsys, zh=False)
    assert "完訪數" in zh.splitlines()[0] and "抽樣數" in zh.splitlines()[0]
    assert en.splitlines()[0].startswith("interviewer") and "sampled" in en.splitlines()[0]
    # every row's last count column ends at the same display column as its header's
    header_end = cell_len(zh.splitlines()[0].split("  未通過率")[0])
    for line in zh.splitlines()[1:]:
        counts_part = re.match(r"^(.*\d)\s{2}(\d+%|-)", line)
        assert counts_part and cell_len(counts_part.group(1)) == header_end

    zh = run(["fieldwork", "outcomes", *study], capsys, zh=True)
    en = run(["fieldwork", "outcomes", *study], capsys, zh=False)
    assert "分鐘後重撥" in zh and "結案" in zh
    assert "redial 120 min" in en and " final " in en

    zh = run(["fieldwork", "--help"], capsys, zh=True)
    assert "AAPOR 回應率" in zh and "複查：抽樣" in zh


def test_respondents_commands_speak_the_interface_language(demo_study_dir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    study = ["--study", str(demo_study_dir)]
    zh = run(["respondents", "list", "--limit", "5", *study], capsys, zh=True)
    en = run(["respondents", "list", "--limit", "5", *study], capsys, zh=False)
    assert re.match(r"\d+ 位受訪者（前 5 位）", zh) and "已完訪" in zh
    assert re.match(r"\d+ respondents \(first 5\)", en) and "completed" in en and "符合" not in en and "eligible" in en
    # the eligibility column starts at one display column on every row
    starts = {cell_len(line.split("符合")[0]) for line in zh.splitlines()[1:] if "符合" in line}
    assert len(starts) == 1
    assert [line.split()[0] for line in zh.splitlines()[1:]] == [line.split()[0] for line in en.splitlines()[1:]]

    zh = run(["respondents", "quotas", *study], capsys, zh=True)
    en = run(["respondents", "quotas", *study], capsys, zh=False)
    assert ("已滿" in zh) == ("FULL" in en)
    assert len({cell_len(line.split(" / ")[0]) for line in zh.splitlines()}) == 1


def test_privacy_commands_speak_the_interface_language(demo_study_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "s"
    shutil.copytree(demo_study_dir, root)
    study = ["--study", str(root)]
    zh = run(["privacy", "key", *study], capsys, zh=True)
    en = run(["privacy", "key", *study], capsys, zh=False)
    assert "聯絡資料金鑰" in zh and "讀取自：" in zh and "請將金鑰檔與研究分開備份" in zh
    assert "contact key " in en and "read from: " in en and "Back the key file up" in en
    zh = run(["privacy", "--help"], capsys, zh=True)
    assert "以新金鑰重新加密聯絡資料" in zh and "如何備份" in zh


def test_device_sync_and_conflicts_speak_the_interface_language(demo_study_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from survey_tui.core.study import open_study
    from survey_tui.demo.build import capture_interviews

    server = tmp_path / "server"
    shutil.copytree(demo_study_dir, server)
    laptop = tmp_path / "laptop"
    zh = run(["device", "checkout", "--server", str(server), "--interviewer", "林志明", str(laptop)], capsys, zh=True)
    assert "已為 林志明 取出" in zh and "離線訪問請用：survey-tui interview" in zh
    study = open_study(laptop)
    with study.store() as device:
        version = device.versions()[-1]
        capture_interviews(device, study.instrument_for_version(version), version.id, 2, seed=3)
    zh = run(["device", "status", "--study", str(laptop)], capsys, zh=True)
    en = run(["device", "status", "--study", str(laptop)], capsys, zh=False)
    assert "2 份等待中" in zh and "上次同步 從未" in zh
    assert "2 waiting" in en and "last sync never" in en
    zh = run(["sync", "--study", str(laptop)], capsys, zh=True)
    assert "已上傳訪問：2 已存入" in zh and "已下載：" in zh
    en = run(["sync", "--study", str(laptop)], capsys, zh=False)
    assert "pushed interviews: nothing new" in en and "pulled: " in en
    assert run(["conflicts", "list", "--study", str(server)], capsys, zh=True).strip() == "沒有待解決的衝突"
    assert run(["conflicts", "list", "--study", str(server)], capsys, zh=False).strip() == "no conflicts to resolve"
    zh = run(["server", "--help"], capsys, zh=True)
    assert "在資料庫上建立結構、角色" in zh and "讓某人以其中一種角色登入" in zh


def test_store_refusals_speak_the_interface_language(demo_study_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A database from a newer survey-tui, and a damaged one: refused in the interface language, the command's
    `survey-tui X:` frame kept, the file untouched."""
    import sqlite3

    root = tmp_path / "s"
    shutil.copytree(demo_study_dir, root)
    with sqlite3.connect(root / "survey.db") as conn:
        conn.execute("PRAGMA user_version = 999")
    conn.close()
    before = (root / "survey.db").read_bytes()
    for zh, words in (
        (True, "由較新版的 survey-tui 寫入（結構 999"),
        (False, "was written by a newer survey-tui (schema 999"),
    ):
        assert main((["--ui-lang", "zh-TW"] if zh else []) + ["respondents", "list", "--study", str(root)]) == 1
        err = capsys.readouterr().err
        assert err.startswith("survey-tui respondents list: ") and words in err
    assert (root / "survey.db").read_bytes() == before

    (root / "survey.db").write_bytes(b"")
    assert main(["--ui-lang", "zh-TW", "fieldwork", "queue", "--study", str(root)]) == 1
    err = capsys.readouterr().err
    assert "研究資料庫是空的（0 位元組）" in err and "從最近的備份還原 survey.db" in err


def test_import_preview_speaks_the_interface_language(demo_study_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "s"
    shutil.copytree(demo_study_dir, root)
    contacts = tmp_path / "c.csv"
    contacts.write_text("name,phone,age\n王小明,0912345678,30\n李大華,0912345678,40\n", encoding="utf-8")
    argv = ["respondents", "import", str(contacts), "--study", str(root), "--dry-run"]
    zh = run(argv, capsys, zh=True)
    en = run(argv, capsys, zh=False)
    assert "新受訪者：1（符合資格" in zh and "已合併的重複：1" in zh and "（已合併）" in zh and "試執行" in zh
    assert "new respondents: 1 (eligible" in en and "duplicates merged: 1" in en and "(merged)" in en
