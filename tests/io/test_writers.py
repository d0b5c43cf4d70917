"""Every writer read back: labels, missing values, measures and data compared with the source."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import polars as pl
import pyreadstat
import pytest
from lxml import etree

from survey_tui.io import codebook, flat, spss, stata, triple_s
from survey_tui.io.meta import ExportData, spss_names, stata_names
from tests.io.sample import LONG, sample_data

# The element structure of the Triple-S XML standard (2.0 / 3.0 metadata file), as a DTD.
SSS_DTD = """
<!ELEMENT sss (date?, time?, origin?, user?, survey)>
<!ATTLIST sss version CDATA #REQUIRED languages CDATA #IMPLIED modes CDATA #IMPLIED>
<!ELEMENT date (#PCDATA)>
<!ELEMENT time (#PCDATA)>
<!ELEMENT origin (#PCDATA)>
<!ELEMENT user (#PCDATA)>
<!ELEMENT survey (name?, version?, title?, record)>
<!ELEMENT name (#PCDATA)>
<!ELEMENT version (#PCDATA)>
<!ELEMENT title (#PCDATA | text)*>
<!ELEMENT text (#PCDATA)>
<!ATTLIST text xml:lang CDATA #IMPLIED mode CDATA #IMPLIED>
<!ELEMENT record (variable+)>
<!ATTLIST record ident CDATA #REQUIRED href CDATA #IMPLIED format (fixed | csv) "fixed" skip CDATA #IMPLIED>
<!ELEMENT variable (name, label, position, spread?, (values | size)?)>
<!ATTLIST variable ident CDATA #REQUIRED
    type (single | multiple | quantity | character | logical | date | time) #REQUIRED
    use (serial | weight) #IMPLIED format (numeric | literal) #IMPLIED>
<!ELEMENT label (#PCDATA | text)*>
<!ELEMENT position EMPTY>
<!ATTLIST position start CDATA #REQUIRED finish CDATA #IMPLIED>
<!ELEMENT spread EMPTY>
<!ATTLIST spread subfields CDATA #REQUIRED width CDATA #IMPLIED>
<!ELEMENT size (#PCDATA)>
<!ELEMENT values (range?, value*)>
<!ELEMENT range EMPTY>
<!ATTLIST range from CDATA #REQUIRED to CDATA #REQUIRED>
<!ELEMENT value (#PCDATA | text)*>
<!ATTLIST value code CDATA #REQUIRED score CDATA #IMPLIED>
"""


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
    assert info.variable_value_labels["brand"] == {1: "茶語時光", 2: "50嵐", 98: "不知道"}
    assert dict(zip(info.column_names, info.column_labels, strict=True))["brand"] == "最常買的品牌"
    assert frame["brand"].to_list() == [1, 2, 98, None]
    assert frame["why"].to_list()[0] == "珍珠很Q"
    do = stata.do_file(meta, "d.dta")
    assert "mvdecode brand, mv(98=.a \\ 99=.b)" in do and "mvdecode spend, mv(-9=.b \\ -8=.a)" in do


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
    layout = triple_s.write_triple_s(data, sss, dat, version)
    doc = etree.parse(str(sss))
    dtd = etree.DTD(StringIO(SSS_DTD))
    assert dtd.validate(doc), dtd.error_log.filter_from_errors()
    root = doc.getroot()
    assert root.get("version") == version and root.get("languages") == "zh-TW en"
    assert doc.docinfo.encoding == "UTF-8"
    variables = root.findall("survey/record/variable")
    types = {v.findtext("name"): v.get("type") for v in variables}
    assert types["brand"] == "single" and types["aware"] == "multiple"
    assert types["spend"] == "quantity" and types["why"] == "character" and types["visit"] == "character"
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
    assert fields[2]["visit"] == "2026-10-03"


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
