"""Personal fields are classified at import: national IDs, LINE ids, birthdays and notes go to the protected
contact store, never into attributes, exports, tables or the report bundle; study.yaml records the split."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from survey_tui.cli import main
from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.store.sqlite import Store
from survey_tui.core.study import open_study

PLANTED = [
    "A123456789",
    "B287654321",
    "kongming_line",
    "simayi.line",
    "1981-07-23",
    "1979-02-14",
    "很怕被打擾的客戶",
    "F123098456",
]


def _write_list(path: Path) -> None:
    path.write_text(
        "姓名,手機,身分證字號,LINE ID,生日,備註,會員代碼,地區\n"
        "諸葛亮,0987654321,A123456789,kongming_line,1981-07-23,很怕被打擾的客戶,F123098456,台北市\n"
        "司馬懿,0911222333,B287654321,simayi.line,1979-02-14,,F223098457,高雄市\n",
        encoding="utf-8",
    )


def _blobs(path: Path) -> list[bytes]:
    blobs = [path.read_bytes()]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            blobs += [archive.read(m) for m in archive.namelist()]
    if path.suffix == ".parquet":
        import polars as pl

        blobs.append(pl.read_parquet(path).write_csv().encode())
    return blobs


@pytest.fixture
def imported(demo_study_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    shutil.rmtree(root / "exports")
    source = tmp_path / "list.csv"
    _write_list(source)
    assert main(["respondents", "import", str(source), "--study", str(root)]) == 0
    with Store(root / "survey.db") as store:  # the two complete an interview each (linked to finished ones)
        new = [r[0] for r in store.query("SELECT id FROM respondents WHERE source = 'list.csv' ORDER BY id")]
        done = store.query("SELECT id FROM interviews WHERE status = 'completed' AND mode = 'field' LIMIT 2")
        with store.transaction() as conn:
            for rid, (iid,) in zip(new, done, strict=True):
                conn.execute("UPDATE interviews SET respondent_id = ? WHERE id = ?", (rid, iid))
    return root


def test_personal_columns_go_to_the_contact_store_and_are_recorded(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store(imported / "survey.db") as store:
        attributes = " ".join(r[0] for r in store.query("SELECT attributes FROM respondents"))
        contacts = resp.read_contacts(store, purpose="test")
    for value in PLANTED:
        assert value not in attributes, value
    personal = " ".join(v for v in contacts["personal"].to_list() if v)
    for value in PLANTED:
        assert value in personal, value
    assert "台北市" in attributes  # a known, non-identifying field stays an attribute
    fields = open_study(imported).config.contact_fields
    assert fields["身分證字號"] == "personal" and fields["LINE ID"] == "personal" and fields["生日"] == "personal"
    assert fields["備註"] == "personal" and fields["會員代碼"] == "personal"  # IDs by value; not confirmed
    assert fields["地區"] == "region"


def test_confirming_a_column_makes_it_an_attribute(
    demo_study_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    source = tmp_path / "list.csv"
    source.write_text("姓名,手機,職業\n王大明,0912345678,教師\n", encoding="utf-8")
    assert main(["respondents", "import", str(source), "--study", str(root), "--dry-run"]) == 0
    assert "職業 -> personal" in capsys.readouterr().out  # not confirmed: protected
    assert main(["respondents", "import", str(source), "--study", str(root), "--map", "職業=attribute"]) == 0
    assert "職業 -> attribute" in capsys.readouterr().out
    with Store(root / "survey.db") as store:
        assert any("教師" in r[0] for r in store.query("SELECT attributes FROM respondents"))


def test_no_export_table_or_bundle_holds_a_personal_field(imported: Path) -> None:
    assert main(["export", "--study", str(imported), "--format", "all", "--lang", "zh-TW"]) == 0
    assert main(["tables", "--study", str(imported), "--format", "xlsx"]) == 0
    main(["report", "--study", str(imported), "--bundle"])
    produced = [p for p in (imported / "exports").rglob("*") if p.is_file()]
    assert len(produced) >= 5
    leaks = [
        (p.name, value)
        for p in produced
        for blob in _blobs(p)
        for value in PLANTED
        for encoded in (value.encode("utf-8"), value.encode("utf-16-le"))
        if encoded in blob
    ]
    assert leaks == []


def test_an_export_with_contacts_names_every_personal_field_and_says_so(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import polars as pl

    capsys.readouterr()
    assert main(["export", "--study", str(imported), "--format", "csv", "--include-contacts"]) == 0
    said = capsys.readouterr()
    assert "national ID numbers, messaging ids, birthdays, notes" in said.out + said.err
    (path,) = (imported / "exports").glob("*_respondents_CONTACTS.csv")
    frame = pl.read_csv(path, infer_schema_length=0)
    assert "personal" not in frame.columns  # one column per field, as in the list it came from
    row = frame.filter(pl.col("phone") == "0987654321").row(0, named=True)
    assert (row["身分證字號"], row["LINE ID"], row["生日"], row["備註"]) == (
        "A123456789",
        "kongming_line",
        "1981-07-23",
        "很怕被打擾的客戶",
    )
