"""Contact-list import: normalisation, dedupe rules, encodings, bad rows, all-or-nothing."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.fieldwork.screening import EligibilityCriterion
from survey_tui.core.store.sqlite import Store
from survey_tui.io import contact_import as ci

HEADER = "姓名,手機,Email,性別,年齡,縣市,職業\n"


def write(tmp_path: Path, body: str, name: str = "list.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes((HEADER + body).encode(encoding))
    return path


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "survey.db") as s:
        yield s


def test_taiwan_mobile_forms_are_one_number() -> None:
    raw = ["0912-345-678", "+886 912 345 678", "0912345678", "886912345678", "912345678", "０９１２３４５６７８"]
    frame = pl.DataFrame({"p": raw}).select(ci.normalise_phone(pl.col("p")).alias("p"))
    assert frame["p"].to_list() == ["0912345678"] * len(raw)
    other = pl.DataFrame({"p": ["(02) 2345-6789", "12345"]}).select(ci.normalise_phone(pl.col("p")))
    assert other.to_series().to_list() == ["0223456789", "12345"]


def test_email_trimmed_and_lower_cased() -> None:
    frame = pl.DataFrame({"e": ["  Ming.Wang@Example.COM ", "a＠b．tw"]}).select(ci.normalise_email(pl.col("e")))
    assert frame.to_series().to_list() == ["ming.wang@example.com", "a@b.tw"]


def test_headers_guessed_in_chinese_and_english() -> None:
    mapping = ci.guess_mapping(["姓名", "行動電話", "E-mail", "Sex", "年紀", "居住縣市", "會員等級"])
    assert mapping == {
        "姓名": "name",
        "行動電話": "phone",
        "E-mail": "email",
        "Sex": "gender",
        "年紀": "age",
        "居住縣市": "region",
        "會員等級": "attribute",
    }


def test_bad_rows_listed_with_their_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "王小明,0912-345-678,,男,35,台北市,\n"
        "陳大文,0922333444,,M,三十,高雄市,\n"
        "張三,12345,,男,40,,\n"
        "無名,,,女,30,,\n"
        "林怡君,,lin@,女,22,新北市,\n",
    )
    plan = ci.prepare_import(ci.read_contact_file(path))
    bad = dict(plan.bad.iter_rows())
    assert sorted(bad) == [3, 4, 5, 6]
    assert "age '三十'" in bad[3]
    assert "phone (5 characters) is not" in bad[4] and "12345" not in bad[4]  # no contact value in messages
    assert "no phone number or e-mail" in bad[5]
    assert "e-mail (4 characters) is not" in bad[6] and "lin@" not in bad[6]
    assert plan.new["line"].to_list() == [2]


def test_duplicates_in_file_merge_fills_blanks_and_skip_ignores(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "王小明,0912-345-678,,男,,台北市,\n"  # line 2
        "王小明,+886 912 345 678,ming@example.com,,35,,工程師\n"  # line 3: same phone
        "明,0933000111,MING@example.com ,,,,\n"  # line 4: same e-mail as line 3 -> same person
        "李美華,0922111222,,女,28,台中市,\n",  # line 5
    )
    raw = ci.read_contact_file(path)
    merged = ci.prepare_import(raw, rule="merge")
    assert merged.new.height == 2
    first = merged.new.row(0, named=True)
    assert first["line"] == 2 and first["phone"] == "0912345678" and first["email"] == "ming@example.com"
    assert '"age":35' in first["attributes"] and '"region":"台北市"' in first["attributes"]
    assert merged.duplicates.rows() == [(3, "line 2", "merged"), (4, "line 2", "merged")]
    skipped = ci.prepare_import(raw, rule="skip")
    assert skipped.new.height == 2 and skipped.new.row(0, named=True)["email"] is None
    assert skipped.skipped == 2


def test_duplicates_against_existing_list(tmp_path: Path, store: Store) -> None:
    first = write(tmp_path, "王小明,0912345678,,男,35,台北市,\n", "a.csv")
    ci.import_file(store, first)
    again = write(tmp_path, "王小明,0912-345-678,ming@example.com,男,35,台北市,工程師\n陳,0922333444,,,,,\n", "b.csv")
    plan, result = ci.import_file(store, again, rule="merge")
    assert result is not None and (result.imported, result.merged) == (1, 1)
    assert plan.duplicates["duplicate_of"][0].startswith("existing R")
    contacts = resp.read_contacts(store, purpose="test")
    assert contacts.height == 2
    assert contacts.filter(pl.col("phone") == "0912345678")["email"].to_list() == ["ming@example.com"]
    plan, result = ci.import_file(store, again, rule="skip")
    assert result is not None and (result.imported, result.skipped) == (0, 2)


def test_big5_file_is_detected(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path, "黃志強,0933111222,,男,50,臺南市,教師\n", encoding="big5")
    raw = ci.read_contact_file(path)
    assert raw.encoding == "cp950"
    plan, _ = ci.import_file(store, path)
    assert plan.new["name"].to_list() == ["黃志強"]
    assert '"region":"臺南市"' in plan.new["attributes"][0]


def test_utf8_bom_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + "王,0912345678,,,,,\n").encode("utf-8"))
    raw = ci.read_contact_file(path)
    assert raw.encoding == "utf-8-sig" and raw.frame.columns[0] == "姓名"


def test_wrong_encoding_given_is_fatal_with_line(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "big5.csv"
    path.write_bytes("name,phone\nAmy,0912345678\n黃志強,0933111222\n".encode("big5"))
    with pytest.raises(ci.ImportFailed) as caught:
        ci.import_file(store, path, encoding="utf-8")
    assert caught.value.problems[0].line == 3
    assert store.query("SELECT COUNT(*) FROM respondents")[0][0] == 0


def test_missing_contact_column_imports_nothing(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "x.csv"
    path.write_text("姓名,年齡\n王小明,35\n", encoding="utf-8")
    with pytest.raises(ci.ImportFailed, match="no phone or e-mail column"):
        ci.import_file(store, path)
    assert store.query("SELECT COUNT(*) FROM respondents")[0][0] == 0


def test_failure_while_writing_leaves_nothing(tmp_path: Path, store: Store, monkeypatch) -> None:
    path = write(tmp_path, "王小明,0912345678,,男,35,台北市,\n李,0922333444,,女,30,,\n")

    def broken(store, conn, rows, **_) -> None:  # the respondents are inserted, then the contacts fail
        raise RuntimeError("disk full")

    monkeypatch.setattr(resp, "_insert_contacts", broken)
    with pytest.raises(RuntimeError):
        ci.import_file(store, path)
    for table in ("respondents", "respondent_contacts", "respondent_status_history", "contact_imports"):
        assert store.query(f"SELECT COUNT(*) FROM {table}")[0][0] == 0


def test_import_screens_new_respondents(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path, "甲,0912345678,,男,35,台北市,\n乙,0922333444,,女,70,,\n")
    criteria = [EligibilityCriterion(name="age", when="age >= 15 and age <= 65", reason={"zh-TW": "年齡不符"})]
    ci.import_file(store, path, criteria=criteria)
    rows = store.query("SELECT eligible, eligibility_reason FROM respondents ORDER BY rowid")
    assert [tuple(r) for r in rows] == [(1, None), (0, "年齡不符")]


def test_xlsx_with_numeric_phone(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "list.xlsx"
    pl.DataFrame({"Name": ["Amy"], "Mobile": [912345678], "Age": [30]}).write_excel(path)
    plan, _ = ci.import_file(store, path)
    assert plan.new["phone"].to_list() == ["0912345678"]


def test_cli_import_prints_report(tmp_path: Path, capsys) -> None:
    from survey_tui.cli import main
    from survey_tui.core.study import init_study

    study = init_study(tmp_path / "s", "t")
    path = write(tmp_path, "王,0912345678,,,,,\n王,0912-345-678,,,,,\n無,,,,,,\n")
    assert main(["respondents", "import", str(path), "--study", str(study.root), "--on-duplicate", "skip"]) == 0
    out = capsys.readouterr().out
    assert "line 4: no phone number or e-mail" in out
    assert "line 3: duplicate of line 2 (skipped)" in out
    assert "imported 1, merged 0, skipped 1, bad rows 1" in out
