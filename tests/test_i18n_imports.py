"""Importing a contact list and an XLSForm, and the quota board, in the interface language: file errors, bad
rows and summaries in Chinese with --ui-lang zh-TW and in English without it, the location frame
(`file:line: error:`) and the ids (fields, quota names) the same in both."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from survey_tui.cli import main
from survey_tui.core.study import init_study

CJK = re.compile(r"[\u4e00-\u9fff]")


def run(argv: list[str], capsys: pytest.CaptureFixture[str], zh: bool) -> tuple[int, str]:
    code = main((["--ui-lang", "zh-TW"] if zh else []) + argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def frames(text: str) -> list[str]:
    """The compiler-style location of every problem line (`file:line: error:`), language-independent."""
    return re.findall(r"^(\S+?(?::\d+)?: (?:error|warning):)", text, flags=re.M)


@pytest.fixture
def study_root(tmp_path: Path) -> Path:
    return init_study(tmp_path / "s", "t").root


def both(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[tuple[int, str], tuple[int, str]]:
    return run(argv, capsys, zh=True), run(argv, capsys, zh=False)


def test_contact_import_file_errors_in_both_languages(tmp_path: Path, study_root: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    study = ["--study", str(study_root)]
    # bytes no encoding reads: not UTF-8, not CP950, nothing charset-normalizer recognises
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\x80\x81\xfe\xff\x00\x01\x02\n\x90\x91")
    (zc, zh), (ec, en) = both(["respondents", "import", str(garbage), *study], capsys)
    assert zc == ec == 1
    assert "無法判斷檔案的字元編碼" in zh and "CSV UTF-8" in zh and "未匯入任何資料" in zh
    assert "cannot tell the file's character encoding" in en and "nothing imported" in en and not CJK.search(en)
    assert frames(zh) == frames(en) == ["garbage.csv: error:"]

    # a forced encoding the file breaks: located on the line of the bad byte, in both languages
    broken = tmp_path / "broken.csv"
    broken.write_bytes("姓名,電話\n王小明,0912345678\n".encode() + b"\xff\xfe\n")
    (zc, zh), (ec, en) = both(["respondents", "import", str(broken), "--encoding", "utf-8", *study], capsys)
    assert zc == ec == 1
    assert "檔案不是有效的 utf-8 編碼（第 35 位元組）" in zh and "省略 --encoding" in zh
    assert "the file is not valid utf-8 (byte 35)" in en
    assert frames(zh) == frames(en) == ["broken.csv:3: error:"]

    # no column to reach anyone by, and a mapping naming what is not there
    nophone = tmp_path / "nophone.csv"
    nophone.write_text("name,age\nAmy,30\n", encoding="utf-8")
    argv = ["respondents", "import", str(nophone), "--map", "age=bogus", "--map", "手機=phone", *study]
    (zc, zh), (ec, en) = both(argv, capsys)
    assert zc == ec == 1
    assert "對應設定指定了檔案中沒有的欄位：'手機'" in zh and "欄位 'age' 對應到不明的欄位類別 'bogus'" in zh
    assert "the mapping names a column the file does not have: '手機'" in en
    assert "column 'age' maps to unknown field 'bogus'" in en
    assert not CJK.search(en.replace("'手機'", ""))  # only the file's own column name is Chinese
    assert frames(zh) == frames(en) and len(frames(en)) == 2
    (zc, zh), (ec, en) = both(["respondents", "import", str(nophone), *study], capsys)
    assert "沒有電話或電子郵件欄位：受訪者必須有聯絡方式" in zh
    assert "no phone or e-mail column: a respondent needs a way to be reached" in en
    assert frames(zh) == frames(en) == ["nophone.csv:1: error:"]


def test_contact_import_bad_rows_and_summary_in_both_languages(tmp_path: Path, study_root: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from survey_tui.core.study import open_study

    rows = tmp_path / "list.csv"
    rows.write_text(
        "姓名,電話,年齡,性別\n甲,12,abc,x\n乙,0912345678,200,男\n丙,,,\n丁,0912-345-679,30,女\n戊,0912345679,31,女\n",
        encoding="utf-8",
    )
    argv = ["respondents", "import", str(rows), "--study", str(study_root), "--on-duplicate", "skip"]
    zc, zh = run([*argv, "--dry-run"], capsys, zh=True)
    ec, en = run(argv, capsys, zh=False)
    assert zc == ec == 0
    # every reason of a bad row, worded in the language (the value's shape, never a contact value)
    assert "第 2 列：電話（2 個字元）不是臺灣手機（09xx-xxx-xxx）或市話號碼；年齡「abc」不是整數歲數" in zh
    assert "第 3 列：年齡 200 超出 0-120 的範圍" in zh
    assert "第 4 列：沒有電話號碼或電子郵件：無法聯絡這位受訪者" in zh
    assert "第 6 列：與 第 5 列 重複（已略過）" in zh  # the plan keeps "line 5"; the report says it in words
    assert "錯誤列（未匯入）：3" in zh and "試執行：未匯入任何資料" in zh
    assert "line 2: phone (2 characters) is not a Taiwan mobile (09xx-xxx-xxx) or landline number; " in en
    assert "age 'abc' is not a whole number of years" in en and "line 3: age 200 is out of range 0-120" in en
    assert "line 6: duplicate of line 5 (skipped)" in en
    assert "imported 1, merged 0, skipped 1, bad rows 3" in en
    english_words = re.sub(r"[^\x00-\x7f]+", " ", "\n".join(line for line in zh.splitlines() if "列" in line))
    assert "not" not in english_words and "duplicate" not in english_words, zh
    with open_study(study_root).store() as store:  # the dry run wrote nothing, the English run one respondent
        assert store.query("SELECT count(*) FROM respondents")[0][0] == 1
    # a second import: the row matching a respondent already in the study says so in the language
    again = tmp_path / "again.csv"
    again.write_text("姓名,電話\n丁,0912345679\n", encoding="utf-8")
    zc, zh = run(["respondents", "import", str(again), "--study", str(study_root), "--dry-run"], capsys, zh=True)
    assert zc == 0 and re.search(r"第 2 列：.*研究中已有的受訪者 R\w+", zh), zh


BROKEN_FORM = """\
| survey |
|        | type          | name    | label | relevant                 | required   |
|        | integer       | age     | Age   |                          | yes        |
|        | geopoint      | where   | Where |                          |            |
|        | select_one yn | ok      | OK?   | ${age} > 17 or foo(1)    |            |
|        | text          | nolabel |       |                          | ${age} > 3 |
|        | select_one yn | pick    | Pick  | selected(${ok}, 'maybe') |            |
|        | start         | start   |       |                          |            |
| choices |
|         | list_name | name | label |
|         | yn        | yes  | Yes   |
|         | yn        | no   | No    |
"""


def located(text: str) -> list[tuple[str, str, str]]:
    """(row, severity, [question]) of every problem line: the part of the frame that is not words."""
    return re.findall(r"^.+?:(\d+): (error|warning): \[(\w+)\]", text, flags=re.M)


def test_xlsform_import_warnings_in_both_languages(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    form = tmp_path / "broken.md"
    form.write_text(BROKEN_FORM, encoding="utf-8")
    zc, zh = run(["xlsform", "import", str(form), "-o", str(tmp_path / "zh.yaml")], capsys, zh=True)
    ec, en = run(["xlsform", "import", str(form), "-o", str(tmp_path / "en.yaml")], capsys, zh=False)
    assert zc == ec == 0
    # the same rows of the survey sheet, the same question ids, the same severities in both languages
    rows = located(en)
    assert rows == located(zh) and len(rows) == 6
    assert {(row, name) for row, _sev, name in rows} >= {("3", "where"), ("4", "ok"), ("5", "nolabel"), ("7", "start")}
    assert "broken.md (survey sheet):3: warning: [where] GPS location widget is not supported" in en
    assert "broken.md（survey 工作表）:3: warning: [where] GPS 定位元件：不支援；已略去題目「where」" in zh
    assert "relevant '${age} > 17 or foo(1)' uses the function foo(), which survey-tui does not support" in en
    assert "relevant「${age} > 17 or foo(1)」使用了函式 foo()，survey-tui 不支援；已略去" in zh
    assert "'maybe' is not a choice of 'ok', so (as in ODK) that comparison never matches" in en
    assert "「maybe」不是題目「ok」的選項" in zh and "匯入時有所調整" in zh
    assert "不支援以條件設定的 required「${age} > 3」" in zh and "沒有題目文字" in zh
    assert "每次訪問都會自動記錄訪問開始時間" in zh
    assert "有 6 列需要處理" in zh and "6 row(s) need attention" in en
    assert not CJK.search(en)
    # the words of the warnings are Chinese: what is left in ASCII is ids, expressions and the frame
    kept = r"「[^」]*」|\[\w+\]|\$\{\w+\}|'[^']*'|\S+\.md|\b(?:warning|relevant|required|survey-tui|ODK)\b"
    words = re.sub(kept, "", zh)
    assert not re.search(r"\b(?:is|not|the|question|left|out|supported)\b", words), zh
    # both YAMLs are the same instrument (the file's words are the form's, never the interface's)
    assert (tmp_path / "zh.yaml").read_text(encoding="utf-8") == (tmp_path / "en.yaml").read_text(encoding="utf-8")


PIPED_FORM = """\
| survey |
|        | type     | name  | label                 |
|        | geopoint | where | Where                 |
|        | text     | near  | What is near ${where}? |
|        | text     | first | Before ${later}?      |
|        | text     | later | Later                 |
"""


def test_xlsform_pipes_to_questions_not_imported_in_both_languages(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    # a label piping a dropped question, and one piping a later question: the importer acts on the finding's
    # question name, never on its worded message, so a zh-TW import is not refused where an English one works
    form = tmp_path / "piped.md"
    form.write_text(PIPED_FORM, encoding="utf-8")
    zc, zh = run(["xlsform", "import", str(form), "-o", str(tmp_path / "zh.yaml")], capsys, zh=True)
    ec, en = run(["xlsform", "import", str(form), "-o", str(tmp_path / "en.yaml")], capsys, zh=False)
    assert zc == ec == 0, zh + en
    assert "the label pipes 'where', which is not imported: shown as [where]" in en
    assert "the label pipes 'later', which is not imported: shown as [later]" in en
    assert located(zh) == located(en)
    zh_yaml = (tmp_path / "zh.yaml").read_text(encoding="utf-8")
    assert zh_yaml == (tmp_path / "en.yaml").read_text(encoding="utf-8")
    assert "[where]" in zh_yaml and "[later]" in zh_yaml and "{where}" not in zh_yaml


def test_xlsform_file_errors_in_both_languages(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import zipfile

    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "survey"
    book.active.append(["type", "name", "label"])
    book.active.append(["text", "a", "A"])
    book.save(tmp_path / "good.xlsx")
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(tmp_path / "good.xlsx") as source, zipfile.ZipFile(damaged, "w") as out:
        for item in source.infolist():
            data = source.read(item.filename)
            out.writestr(item, data[: len(data) // 2] if item.filename == "xl/worksheets/sheet1.xml" else data)
    argv = ["xlsform", "import", str(damaged), "-o", str(tmp_path / "out.yaml")]
    (zc, zh), (ec, en) = both(argv, capsys)
    assert zc == ec == 1 and not (tmp_path / "out.yaml").exists()
    assert "活頁簿已損壞，無法讀取（ParseError，活頁簿內部某個組件的第 1 行）" in zh
    assert "the workbook is damaged and cannot be read (ParseError, line 1 of a part inside the workbook)" in en
    assert frames(zh) == frames(en) == ["damaged.xlsx: error:"]
    wrong = tmp_path / "form.csv"
    wrong.write_text("type,name\n", encoding="utf-8")
    (zc, zh), (ec, en) = both(["xlsform", "import", str(wrong), "-o", str(tmp_path / "out.yaml")], capsys)
    assert zc == ec == 1
    assert "不是 XLSForm 的檔案類型（.csv）" in zh and "請提供 .xlsx、.xls 或 pyxform markdown（.md）檔" in zh
    assert "not an XLSForm file type (.csv)" in en and not CJK.search(en)


def quota_rows(text: str) -> list[list[str]]:
    return [re.split(r" {2,}", line.strip()) for line in text.splitlines() if line.strip()]


def test_quota_board_shows_the_label_and_keeps_the_name_as_an_id(demo_study_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import shutil

    from rich.cells import cell_len

    (zc, zh), (ec, en) = both(["respondents", "quotas", "--study", str(demo_study_dir)], capsys)
    assert zc == ec == 0
    zh_rows, en_rows = quota_rows(zh), quota_rows(en)
    assert len(zh_rows) == len(en_rows) == 6
    # the quota's own label (study.yaml: {zh-TW: 性別 × 年齡, en: Gender × age}); the name only as the id column
    assert {r[0] for r in zh_rows} == {r[0] for r in en_rows} == {"gender_age"}
    assert {r[1] for r in zh_rows} == {"性別 × 年齡"} and {r[1] for r in en_rows} == {"Gender × age"}
    assert "已滿" in zh and "FULL" in en and "FULL" not in zh
    assert [r[2:4] for r in zh_rows] == [r[2:4] for r in en_rows]  # the same cells and counts
    # the cells start in one display column whatever the label's script
    starts = {cell_len(line[: line.index(row[2])]) for line, row in zip(zh.splitlines(), zh_rows, strict=True)}
    assert len(starts) == 1

    # a quota without a label of its own is called by its questions' labels (s3, s2 of the screener)
    copy = tmp_path / "study"
    shutil.copytree(demo_study_dir, copy)
    study_file = copy / "study.yaml"
    text = study_file.read_text(encoding="utf-8")
    assert "    label: {zh-TW: 性別 × 年齡, en: Gender × age}\n" in text
    study_file.write_text(text.replace("    label: {zh-TW: 性別 × 年齡, en: Gender × age}\n", "", 1), encoding="utf-8")
    (zc, zh), (ec, en) = both(["respondents", "quotas", "--study", str(copy)], capsys)
    assert zc == ec == 0
    assert {r[1] for r in quota_rows(zh)} == {"請問您的性別是？ × 請問您今年幾歲？"}
    assert {r[1] for r in quota_rows(en)} == {"What is your gender? × How old are you?"}
    assert {r[0] for r in quota_rows(en)} == {"gender_age"}


async def wait_for(pilot, condition) -> None:  # type: ignore[no-untyped-def]
    """Until the condition holds (workers finished, messages handled), never a fixed sleep."""
    for _round in range(200):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if condition():
            return
    raise AssertionError("condition not reached")


async def test_the_app_quota_board_shows_labels_in_the_interface_language(demo_study_dir: Path, tmp_path: Path) -> None:
    from textual.widgets import DataTable

    from survey_tui.core.study import open_study
    from survey_tui.tui.app import SurveyApp
    from survey_tui.tui.screens.respondents import RespondentsScreen

    app = SurveyApp(open_study(demo_study_dir), keymap_file=tmp_path / "none.yaml", ui_lang="zh-TW")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await wait_for(pilot, lambda: isinstance(app.screen, RespondentsScreen) and app.screen.page_rows)
        await pilot.press("b")
        await wait_for(
            pilot,
            lambda: app.screen.query("#quota-table") and app.screen.query_one("#quota-table", DataTable).row_count,
        )
        table = app.screen.query_one("#quota-table", DataTable)
        assert table.row_count == 6
        assert {str(table.get_row_at(i)[0]) for i in range(6)} == {"性別 × 年齡"}
        assert any(str(table.get_row_at(i)[4]) == "已滿" for i in range(6))


async def test_the_app_import_screen_speaks_zh_tw(tmp_path: Path) -> None:
    from textual.widgets import DataTable, Input, Static

    from survey_tui.core.study import open_study
    from survey_tui.tui.app import SurveyApp
    from survey_tui.tui.screens.respondents import ImportScreen

    root = init_study(tmp_path / "s", "t").root
    contacts = tmp_path / "list.csv"
    contacts.write_text("姓名,手機,年齡,會員等級\n王小明,0912345678,abc,金卡\n李小華,,,銀卡\n", encoding="utf-8")
    broken = tmp_path / "broken.csv"
    broken.write_text("name,age\nAmy,30\n", encoding="utf-8")
    app = SurveyApp(open_study(root), keymap_file=tmp_path / "no-keymap.yaml", ui_lang="zh-TW")
    app.animation_level = "none"
    async with app.run_test(size=(140, 44)) as pilot:
        await app.workers.wait_for_complete()
        await app.switch_mode("respondents")
        await app.workers.wait_for_complete()
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, ImportScreen))
        screen = app.screen
        path = screen.query_one("#import-path", Input)
        path.value = str(contacts)
        path.focus()
        await pilot.press("enter")
        table = screen.query_one("#import-mapping", DataTable)
        await wait_for(pilot, lambda: table.row_count == 4)
        kept = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[2]) for i in range(table.row_count)}
        assert kept["姓名"] == "個資（受保護）" and kept["會員等級"].startswith("個資：未確認")
        report = str(screen.query_one("#import-report", Static).render())
        assert "有 1 個欄位未確認為不可識別個人" in report
        assert "第 2 列：年齡「abc」不是整數歲數" in report and "第 3 列：沒有電話號碼或電子郵件" in report
        assert "not a whole number" not in report and "line 2" not in report

        path.value = str(broken)
        path.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: "不會匯入任何資料" in str(screen.query_one("#import-report", Static).render()))
        report = str(screen.query_one("#import-report", Static).render())
        assert "broken.csv:1: error: 沒有電話或電子郵件欄位" in report, report


def test_xlsform_export_notes_in_both_languages_and_the_same_workbook(
    demo_study_dir: Path, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    import zipfile

    argv = ["xlsform", "export", "bubble_tea_brand_health", "--study", str(demo_study_dir)]
    zc, zh = run([*argv, "-o", str(tmp_path / "zh.xlsx")], capsys, zh=True)
    ec, en = run([*argv, "-o", str(tmp_path / "en.xlsx")], capsys, zh=False)
    assert zc == ec == 0
    zh_notes = [line for line in zh.splitlines() if line.startswith("注意：")]
    en_notes = [line for line in en.splitlines() if line.startswith("note: ")]
    assert len(zh_notes) == len(en_notes) >= 3
    assert "note: terminate rule 's5 = 2' (screened_out) has no XLSForm equivalent; left out" in en_notes
    assert "注意：結束訪問規則「s5 = 2」（screened_out）在 XLSForm 中沒有對應；未寫入" in zh_notes
    assert any("為互斥選項" in n for n in zh_notes) and not any("exclusive" in n for n in zh_notes)
    # the workbook is the instrument's, whatever the interface language (only its creation time differs)
    with zipfile.ZipFile(tmp_path / "zh.xlsx") as a, zipfile.ZipFile(tmp_path / "en.xlsx") as b:
        parts = [n for n in a.namelist() if n != "docProps/core.xml"]
        assert parts and all(a.read(n) == b.read(n) for n in parts)
