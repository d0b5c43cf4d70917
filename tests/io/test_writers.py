"""Every writer read back: labels, missing values, measures and data compared with the source."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyreadstat
import pytest
from lxml import etree

from survey_tui.io import codebook, flat, spss, stata, triple_s
from survey_tui.io.meta import ExportData, ExportVariable, spss_names, stata_names
from tests.io.sample import LONG, sample_data

# The Triple-S standard's own DTDs (shared test data beside the repository).
TRIPLE_S = Path(__file__).resolve().parents[2] / ".." / "shared" / "standards" / "triple-s"
SSS_DTDS = {"3.0": TRIPLE_S / "sss_v30.dtd", "2.0": TRIPLE_S / "sss_v20.nocomments.dtd"}


@pytest.fixture
def data() -> ExportData:
    return sample_data()


def test_spss_names_are_legal_unique_and_short() -> None:
    names = spss_names(["_x", "a", "A", "with", LONG, LONG[:-1], "2q", "品牌"])
    values = list(names.values())
    assert len({v.upper() for v in values}) == len(values)
    for v in values:
        assert len(v.encode("utf-8")) <= 64 and v[0].isalpha() and v.upper() not in spss.__dict__.get("X", ())
    assert names["_x"] == "x" and names["a"] == "a" and names["A"] != "A" and names["with"] != "with"
    assert names["品牌"][0] == "品"  # SPSS allows Unicode letters; kept, within 64 bytes


def test_stata_names_are_legal_unique_and_short() -> None:
    names = stata_names(["in", LONG, LONG + "x", "2q", "品牌"])
    for v in names.values():
        assert len(v) <= 32 and v.isascii() and not v[0].isdigit()
    assert len(set(names.values())) == len(names)
    assert names["in"] != "in"


def test_sav_round_trip_keeps_labels_missing_measures_and_data(data: ExportData, tmp_path: Path) -> None:
    path = tmp_path / "d.sav"
    meta = spss.write_sav(data, path, "zh-TW", exported_at="2026-11-24T00:00:00+00:00")
    frame, info = pyreadstat.read_sav(str(path), user_missing=True, output_format="polars")
    short = meta.names[LONG]
    assert len(short.encode()) <= 64 and short in frame.columns
    assert info.file_label == "茶語時光 品牌健康度調查"
    assert any("bubble" in note and "v1" in note for note in info.notes)
    assert any("field interviews only" in note for note in info.notes)
    assert not any("reserved" in note for note in info.notes)  # the placeholder lines became the sets record
    assert info.mr_sets == {
        "aware": {
            "type": "D",
            "is_dichotomy": True,
            "counted_value": 1,
            "label": "聽過哪些？",
            "variable_list": ["aware_1", "aware_2"],
        }
    }
    labels = dict(zip(info.column_names, info.column_labels, strict=True))
    assert labels["brand"] == "最常買的品牌" and labels["why"] == "原因"
    assert info.variable_value_labels["brand"] == {1.0: "茶語時光", 2.0: "50嵐", 98.0: "不知道"}
    assert info.variable_value_labels[short] == {1.0: "非常不同意", 5.0: "非常同意"}
    assert sorted(r["lo"] for r in info.missing_ranges["brand"]) == [98, 99]
    assert sorted(r["lo"] for r in info.missing_ranges["spend"]) == [-9, -8]
    assert info.variable_measure["brand"] == "nominal"
    assert info.variable_measure[short] == "ordinal"
    assert info.variable_measure["spend"] == "scale"
    assert info.original_variable_types["spend"] == "F10.2"
    assert frame["brand"].to_list() == [1, 2, 98, None]
    assert frame["spend"].to_list() == [55.5, -8.0, 120.25, None]
    assert frame["why"].to_list()[:1] == ["珍珠很Q"]
    assert frame["visit"].to_list() == data.frame["visit"].to_list()
    # with user-missing off, SPSS semantics: 98 and -8 read as missing
    plain, _ = pyreadstat.read_sav(str(path), output_format="polars")
    assert plain["brand"].to_list() == [1, 2, None, None]
    assert plain["spend"].to_list() == [55.5, None, 120.25, None]


def test_sav_labels_in_english(data: ExportData, tmp_path: Path) -> None:
    spss.write_sav(data, tmp_path / "e.sav", "en")
    _, info = pyreadstat.read_sav(str(tmp_path / "e.sav"), metadataonly=True)
    assert info.variable_value_labels["brand"][1.0] == "TeaTime"
    assert dict(zip(info.column_names, info.column_labels, strict=True))["brand"] == "Brand bought most"


def test_sav_is_row_compressed_and_atomic(data: ExportData, tmp_path: Path) -> None:
    compressed = tmp_path / "c.sav"
    plain = tmp_path / "p.sav"
    spss.write_sav(data, compressed, "zh-TW")
    spss.write_sav(data, plain, "zh-TW", row_compress=False)
    assert compressed.read_bytes()[:4] == b"$FL2"
    assert compressed.read_bytes() != plain.read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_failed_sav_write_leaves_the_old_file(
    data: ExportData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "d.sav"
    spss.write_sav(data, path, "zh-TW")
    before = path.read_bytes()

    def crash(frame: object, dst: str, **kwargs: object) -> None:
        Path(dst).write_bytes(b"$FL2 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(spss.pyreadstat, "write_sav", crash)
    with pytest.raises(OSError, match="disk full"):
        spss.write_sav(data, path, "zh-TW")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["d.sav"]


def test_sps_defines_multiple_response_sets_and_restates_metadata(data: ExportData) -> None:
    meta = spss.build_meta(data, "zh-TW")
    text = spss.sps_syntax(data, meta, "zh-TW", "d.sav")
    assert "MRSETS" in text and "/MDGROUP NAME=$aware LABEL='聽過哪些？'" in text
    assert "VARIABLES=aware_1 aware_2\n" in text or "VARIABLES=aware_1 aware_2" in text.splitlines()[5]
    assert "aware_98" not in text.split("VARIABLE LABELS")[0]  # the don't-know flag is not a category
    assert "brand 1 '茶語時光' 2 '50嵐' 98 '不知道'" in text
    assert "brand (98, 99)" in text and "spend (-9, -8)" in text
    assert "(ORDINAL)" in text and "VARIABLE LEVEL" in text


def test_dta_round_trip(data: ExportData, tmp_path: Path) -> None:
    path = tmp_path / "d.dta"
    meta = stata.write_dta(data, path, "zh-TW")
    frame, info = pyreadstat.read_dta(str(path), output_format="polars")
    short = meta.names[LONG]
    assert len(short) <= 32 and short in frame.columns
    assert info.variable_value_labels["brand"] == {1: "茶語時光", 2: "50嵐", "a": "不知道", "b": "refused"}
    assert dict(zip(info.column_names, info.column_labels, strict=True))["brand"] == "最常買的品牌"
    # don't know / refused are Stata extended missing (.a / .b): a plain read sees them as missing
    assert frame["brand"].to_list() == [1, 2, None, None]
    assert frame["spend"].to_list() == [55.5, None, 120.25, None]
    assert frame["why"].to_list()[0] == "珍珠很Q"
    kept, info = pyreadstat.read_dta(str(path), user_missing=True)
    assert kept["brand"].tolist()[:3] == [1, 2, "a"] and kept["spend"].tolist()[1] == "a"
    assert "a" in info.missing_user_values["brand"]
    do = stata.do_file(meta, "d.dta")
    assert "mvencode brand, mv(.a=98 \\ .b=99)" in do and "mvencode spend, mv(.b=-9 \\ .a=-8)" in do


def test_stata_mean_excludes_dont_know_and_refused(tmp_path: Path) -> None:
    """A mean computed from the .dta with pyreadstat's missing handling leaves 98 / 99 out."""
    frame = pl.DataFrame({"u1": pl.Series([1, 3, 98, 5, 99, 3], dtype=pl.Int32)})
    var = ExportVariable(
        "u1",
        "single",
        {"en": "Frequency"},
        question="u1",
        value_labels={"en": {1: "low", 5: "high", 98: "Don't know", 99: "Refused"}},
        missing={98: "dont_know", 99: "refused"},
    )
    stata.write_dta(ExportData(frame, [var]), tmp_path / "m.dta", "en")
    read, _ = pyreadstat.read_dta(str(tmp_path / "m.dta"))
    assert read["u1"].mean() == pytest.approx((1 + 3 + 5 + 3) / 4)
    assert read["u1"].isna().sum() == 2
    # a column whose first answer is a missing code (the demo's u2_spend once was)
    first = ExportData(pl.DataFrame({"u1": pl.Series([98, 3, None, 5], dtype=pl.Int32)}), [var])
    stata.write_dta(first, tmp_path / "f.dta", "en")
    read, _ = pyreadstat.read_dta(str(tmp_path / "f.dta"))
    assert read["u1"].mean() == pytest.approx(4.0) and read["u1"].isna().sum() == 2


@pytest.mark.parametrize("bom", [False, True])
def test_csv_codes_and_labels(data: ExportData, tmp_path: Path, bom: bool) -> None:
    codes, labels = tmp_path / "codes.csv", tmp_path / "labels.csv"
    flat.write_csv_codes(data, codes, bom=bom)
    flat.write_csv_labels(data, labels, "zh-TW", bom=bom)
    raw = codes.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") is bom
    back = pl.read_csv(codes, try_parse_dates=True)
    assert back.columns == data.frame.columns
    assert back["brand"].to_list() == [1, 2, 98, None]
    assert back["why"].to_list() == data.frame["why"].to_list()
    text = pl.read_csv(labels)
    assert text["brand"].to_list() == ["茶語時光", "50嵐", "不知道", None]
    assert text["aware_1"].to_list() == ["有選", "未選", "有選", None]
    assert text["spend"].to_list() == ["55.5", "不知道", "120.25", None]


def test_parquet_keeps_data_and_metadata(data: ExportData, tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    flat.write_parquet(data, path, "zh-TW")
    assert pl.read_parquet(path).equals(data.frame)
    meta = json.loads(pl.read_parquet_metadata(path)["survey_tui.variables"])
    assert meta["brand"]["value_labels"]["zh-TW"]["1"] == "茶語時光"
    assert meta["spend"]["missing"] == {"-8": "dont_know", "-9": "refused"}


def test_xlsx_has_data_variables_and_tables(data: ExportData, tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "d.xlsx"
    flat.write_xlsx(data, path, "zh-TW")
    book = openpyxl.load_workbook(path, read_only=True)
    assert book.sheetnames == ["Data", "Variables", "Tables"]
    rows = list(book["Data"].iter_rows(values_only=True))
    assert list(rows[0]) == data.frame.columns and rows[1][1] == 1 and rows[3][1] == 98
    variables = list(book["Variables"].iter_rows(values_only=True))
    brand = next(r for r in variables if r[0] == "brand")
    assert brand[1] == "最常買的品牌" and "98=不知道" in brand[4] and "98=dont_know" in brand[5]
    tables = [r for r in book["Tables"].iter_rows(values_only=True) if any(v is not None for v in r)]
    i = next(k for k, r in enumerate(tables) if r[0] and str(r[0]).startswith("brand"))
    block = tables[i + 2 : i + 6]
    assert [r[2] for r in block] == [1, 1, 1, 1]
    dk = next(r for r in block if r[0] == 98)
    assert dk[1] == "不知道" and dk[4] is None  # user-missing: no valid percent
    one = next(r for r in block if r[0] == 1)
    assert one[4] == 50.0  # 1 of the 2 valid answers


def _parse_fixed(layout: list[triple_s.SssVariable], line: str) -> dict[str, str]:
    return {v.name: line[v.start - 1 : v.finish] for v in layout}


@pytest.mark.parametrize("version", ["3.0", "2.0"])
def test_triple_s_validates_against_the_standard_structure(data: ExportData, tmp_path: Path, version: str) -> None:
    sss, dat = tmp_path / "d.sss", tmp_path / "d.dat"
    if not SSS_DTDS[version].exists():
        pytest.skip("the Triple-S DTDs (shared/standards/triple-s) are not beside the repository")
    layout = triple_s.write_triple_s(data, sss, dat, version)
    doc = etree.parse(str(sss))
    dtd = etree.DTD(str(SSS_DTDS[version]))
    assert dtd.validate(doc), dtd.error_log.filter_from_errors()
    record = doc.getroot().find("survey/record")
    assert record.get("encoding") == ("UTF-8" if version == "3.0" else None)
    root = doc.getroot()
    assert root.get("version") == version and root.get("languages") == "zh-TW en"
    assert doc.docinfo.encoding == "UTF-8"
    variables = root.findall("survey/record/variable")
    types = {v.findtext("name"): v.get("type") for v in variables}
    assert types["brand"] == "single" and types["aware"] == "multiple"
    assert types["spend"] == "quantity" and types["why"] == "character" and types["visit"] == "date"
    assert "aware_1" not in types and "aware_98" not in types
    # positions are contiguous and the data lines are exactly as long as the last finish
    ends = 0
    for var in variables:
        pos = var.find("position")
        assert int(pos.get("start")) == ends + 1
        ends = int(pos.get("finish"))
    lines = dat.read_text(encoding="utf-8").splitlines()
    assert len(lines) == data.frame.height and {len(line) for line in lines} == {ends}
    brand = next(v for v in variables if v.findtext("name") == "brand")
    zh = brand.find("values/value[@code='1']/text[@{http://www.w3.org/XML/1998/namespace}lang='zh-TW']")
    assert zh.text == "茶語時光"
    fields = [_parse_fixed(layout, line) for line in lines]
    assert [f["brand"].strip() for f in fields] == ["1", "2", "98", ""]
    aware = next(v for v in layout if v.name == "aware")
    assert aware.subfields == 3 and aware.subwidth == 2
    assert fields[0]["aware"] == "010200" and fields[1]["aware"] == "020000" and fields[3]["aware"] == "980000"
    assert [f["spend"].strip() for f in fields] == ["55.50", "-8", "120.25", ""]
    spend = next(v for v in variables if v.findtext("name") == "spend")
    assert spend.find("values/range").get("to") == "120.25"
    assert {v.get("code") for v in spend.findall("values/value")} == {"-8", "-9"}
    assert fields[0]["why"].rstrip() == "珍珠很Q" and fields[3]["why"].rstrip() == "line break"
    assert fields[2]["visit"] == "20261003" and fields[1]["visit"] == " " * 8  # Triple-S date YYYYMMDD
    visit = next(v for v in variables if v.findtext("name") == "visit")
    assert visit.find("values/range").attrib == {"from": "20261001", "to": "20261004"}


def test_codebook_lists_every_variable_in_every_language(data: ExportData) -> None:
    md = codebook.codebook_markdown(data)
    html = codebook.codebook_html(data)
    for var in data.variables:
        assert f"`{var.name}`" in md and f'id="{var.name}"' in html
    assert "您最常買哪一家？" in md and "Which do you buy most?" in md
    assert "| 98 (missing) | 不知道 | Don't know |" in md
    assert "Asked when: `drinks = 1`" in md and "Instrument version: v1" in md
    assert "<td>茶語時光</td><td>TeaTime</td>" in html


def test_a_streamed_xlsx_holds_the_same_cells_as_the_normal_one(data: ExportData, tmp_path: Path) -> None:
    """Over the row setting the workbook is written in constant-memory mode, says so, and reads back the same."""
    import openpyxl

    normal, streamed = tmp_path / "n.xlsx", tmp_path / "s.xlsx"
    assert not any("constant-memory" in n for n in flat.write_xlsx(data, normal, "zh-TW"))
    notes = flat.write_xlsx(data, streamed, "zh-TW", stream_rows=data.frame.height - 1)
    assert any("constant-memory" in n and "CSV or Parquet" in n for n in notes)
    a_book = openpyxl.load_workbook(normal, read_only=True)
    b_book = openpyxl.load_workbook(streamed, read_only=True)
    assert b_book.sheetnames == a_book.sheetnames
    for sheet in a_book.sheetnames:
        a_rows = [r for r in a_book[sheet].iter_rows(values_only=True) if any(v is not None for v in r)]
        b_rows = [r for r in b_book[sheet].iter_rows(values_only=True) if any(v is not None for v in r)]
        assert b_rows == a_rows, sheet


def test_long_labels_are_cut_at_a_character_and_reported(tmp_path: Path) -> None:
    """A 149-byte Chinese value label (over SPSS's 120) is shortened whole-character and listed, never silently."""
    text = "非常同意這個品牌的珍珠奶茶口味與價格都很適合每天喝" * 2  # 48 characters
    text = text[: 149 // 3] + "ab"  # 49 CJK characters + 2 ASCII = 149 bytes
    assert len(text.encode("utf-8")) == 149
    frame = pl.DataFrame({"q": pl.Series([1, 2], dtype=pl.Int32)})
    var = ExportVariable("q", "single", {"zh-TW": "題" * 100}, question="q", value_labels={"zh-TW": {1: text}})
    data = ExportData(frame, [var], languages=["zh-TW"])
    meta = spss.write_sav(data, tmp_path / "l.sav", "zh-TW")
    _, info = pyreadstat.read_sav(str(tmp_path / "l.sav"), metadataonly=True)
    kept = info.variable_value_labels["q"][1.0]
    assert text.startswith(kept) and len(kept.encode("utf-8")) == 120  # 40 whole characters
    assert info.column_labels[0] == "題" * 85  # 255 bytes: the 256-byte limit without half a character
    reported = {c["what"].split(" shortened")[0]: c for c in meta.changes}
    assert reported["value label 1"]["full"] == text and "149 to 120 bytes" in reported["value label 1"]["what"]
    assert reported["variable label"]["full"] == "題" * 100
    book = codebook.codebook_markdown(data, [{"file": "l.sav", **c} for c in meta.changes])
    assert text in book and "Export report" in book


def test_sets_record_is_inserted_by_a_streamed_copy_when_no_room_was_reserved(tmp_path: Path) -> None:
    """A file pyreadstat wrote on its own gets the sets by the fallback copy; data and other metadata stay."""
    from survey_tui.io.sav_mrsets import MrSet, add_mrsets, fill_reserved

    frame = pl.DataFrame({"id": [1, 2, 3], "a_very_long_multi_choice_name_1": [1, 0, 1], "m_2": [0, 1, 1]})
    raw, out = tmp_path / "raw.sav", tmp_path / "out.sav"
    pyreadstat.write_sav(frame, str(raw), column_labels={"m_2": "品牌：50嵐"}, row_compress=True)
    sets = [MrSet("m", "聽過哪些？" * 30, ["a_very_long_multi_choice_name_1", "m_2"])]
    assert fill_reserved(raw, sets, 3) is False  # nothing reserved: the file is left as it was
    add_mrsets(raw, out, sets)
    back, info = pyreadstat.read_sav(str(out), output_format="polars")
    assert info.mr_sets["m"]["variable_list"] == ["a_very_long_multi_choice_name_1", "m_2"]
    assert info.mr_sets["m"]["label"] == "聽過哪些？" * 30
    assert back.equals(pyreadstat.read_sav(str(raw), output_format="polars")[0])
    assert info.column_labels == [None, None, "品牌：50嵐"]
    assert out.stat().st_size == raw.stat().st_size + 16 + len(mrsets_body(sets, raw))


def mrsets_body(sets: list, path: Path) -> bytes:  # type: ignore[type-arg]
    from survey_tui.io.sav_mrsets import _dictionary, mrsets_payload

    with open(path, "rb") as handle:
        short = _dictionary(handle)[2]
    return mrsets_payload(sets, short)
