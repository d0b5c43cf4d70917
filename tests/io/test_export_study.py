"""The demo study exported end to end: every format, the manifest, filters, contacts, the command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pyreadstat
import pytest

from survey_tui.analysis.dataset import load_dataset
from survey_tui.cli import main
from survey_tui.core.study import open_study
from survey_tui.io.export import ExportError, ExportOptions, run_export, sha256_of


@pytest.fixture
def study_dir(demo_study_dir: Path, tmp_path: Path) -> Path:
    """A private copy: exports and exclusions here must not leak into other tests."""
    target = tmp_path / "study"
    shutil.copytree(demo_study_dir, target, ignore=shutil.ignore_patterns("exports"))
    return target


def test_every_format_is_written_and_the_manifest_checks_out(study_dir: Path) -> None:
    study = open_study(study_dir)
    result = run_export(study, ExportOptions())
    manifest = json.loads(result.manifest.read_text("utf-8"))
    formats = {entry["format"] for entry in manifest["files"]}
    assert {"sav", "sps", "dta", "do", "csv", "parquet", "xlsx", "sss", "sss-data", "codebook"} <= formats
    for entry in manifest["files"]:
        path = study_dir / entry["file"]
        assert path.stat().st_size == entry["bytes"] and sha256_of(path) == entry["sha256"]
    assert manifest["contains_contact_data"] is False and manifest["warnings"] == []
    assert not list((study_dir / "exports").glob(".*.tmp"))
    # the .sav holds the same rows and values as the data set, with zh-TW labels and user-missing codes
    dataset = load_dataset(study)
    frame, info = pyreadstat.read_sav(
        str(study_dir / "exports/bubble_tea_brand_health.sav"), user_missing=True, output_format="polars"
    )
    assert frame.height == dataset.n == manifest["rows"]
    assert frame["interview_id"].cast(pl.Int64).to_list() == dataset.frame["interview_id"].to_list()
    assert frame["u2_spend"].to_list() == dataset.frame["u2_spend"].cast(pl.Float64).to_list()
    assert info.variable_value_labels["a4_bumo"][1.0] == "茶語時光"
    assert dict(zip(info.column_names, info.column_labels, strict=True))["s2"] == "請問您今年幾歲？"
    assert sorted(r["lo"] for r in info.missing_ranges["u2_spend"]) == [-9, -8]
    assert info.variable_measure["b5_nps"] == "ordinal" and info.variable_measure["u3_cups"] == "scale"
    assert info.variable_measure["heavy_user"] == "nominal" and info.variable_measure["a2_aided_1"] == "nominal"
    assert info.original_variable_types["interview_id"] == "F8.0"  # ids are whole numbers
    # the sets are in the .sav itself, the same ones the .sps defines
    assert set(info.mr_sets) == {line.split("$")[1].split()[0] for line in sps_lines(study_dir) if "/MDGROUP" in line}
    assert info.mr_sets["a2_aided"]["counted_value"] == 1 and "a2_aided_98" not in str(info.mr_sets)
    # text don't know / refused and not-applicable choices are user-missing, as the codebook says
    assert [r["lo"] for r in info.missing_ranges["a5_why"]] == ["98", "99"]
    na = {c: v.na_codes for c, v in dataset.variables.items() if v.na_codes}
    assert na, "the demo marks a choice not applicable"
    for name, codes in na.items():
        assert set(codes) <= {r["lo"] for r in info.missing_ranges[name]}, name
    # Stata: don't know / refused are extended missing, so a plain mean leaves them out
    dta_frame, _ = pyreadstat.read_dta(str(study_dir / "exports/bubble_tea_brand_health.dta"))
    valid = dataset.frame.select(dataset.valid("u1_freq").alias("v"))["v"]
    assert dta_frame["u1_freq"].mean() == pytest.approx(valid.mean())
    assert dta_frame["u1_freq"].notna().sum() == valid.drop_nulls().len()
    sps = (study_dir / "exports/bubble_tea_brand_health.sps").read_text("utf-8")
    assert "/MDGROUP NAME=$a2_aided" in sps
    # the other files agree on rows
    assert pl.read_parquet(study_dir / "exports/bubble_tea_brand_health.parquet").height == frame.height
    assert pl.read_csv(study_dir / "exports/bubble_tea_brand_health_codes.csv").height == frame.height
    dta, _ = pyreadstat.read_dta(str(study_dir / "exports/bubble_tea_brand_health.dta"), output_format="polars")
    assert dta.height == frame.height
    dat = (study_dir / "exports/bubble_tea_brand_health.dat").read_text("utf-8").splitlines()
    assert len(dat) == frame.height and len({len(line) for line in dat}) == 1


def sps_lines(study_dir: Path) -> list[str]:
    return (study_dir / "exports/bubble_tea_brand_health.sps").read_text("utf-8").splitlines()


def test_pilot_only_on_request_and_exclusions_applied_unless_kept(study_dir: Path) -> None:
    study = open_study(study_dir)
    field = run_export(study, ExportOptions(formats=("parquet",)))
    frame = pl.read_parquet(study_dir / "exports/bubble_tea_brand_health.parquet")
    assert set(frame["mode"]) == {"field"}
    with_pilot = run_export(study, ExportOptions(formats=("parquet",), pilot=True))
    both = pl.read_parquet(study_dir / "exports/bubble_tea_brand_health_with_pilot.parquet")
    assert set(both["mode"]) == {"field", "pilot"} and with_pilot.rows > field.rows
    kept = run_export(study, ExportOptions(formats=("parquet",), keep_excluded=True))
    with study.store() as store:
        from survey_tui.analysis.quality import excluded_interviews

        excluded = excluded_interviews(store)
    assert excluded, "the demo excludes speeders"
    assert kept.rows > field.rows
    assert not set(frame["interview_id"]) & excluded
    assert any("excluded in the quality review left out" in f for f in field.filters)


def test_contacts_only_with_the_flag_and_then_a_warning(study_dir: Path) -> None:
    study = open_study(study_dir)
    plain = run_export(study, ExportOptions(formats=("csv",)))
    assert not any("CONTACTS" in e.file for e in plain.entries)
    for entry in plain.entries:
        text = (study_dir / entry.file).read_text("utf-8")
        assert "@" not in text  # no e-mail address reaches a data file
    result = run_export(study, ExportOptions(formats=("csv",), include_contacts=True))
    manifest = json.loads(result.manifest.read_text("utf-8"))
    assert manifest["contains_contact_data"] is True
    assert any("CONTACT DATA" in w for w in manifest["warnings"])
    contacts = next(e for e in result.entries if e.format == "contacts")
    frame = pl.read_csv(study_dir / contacts.file)
    assert {"interview_id", "respondent_id", "phone"} <= set(frame.columns) and frame.height > 0


def test_bad_options_are_refused_clearly(study_dir: Path) -> None:
    study = open_study(study_dir)
    with pytest.raises(ExportError, match="unknown format 'spss'"):
        ExportOptions.parse_formats("sav,spss")
    with pytest.raises(ExportError, match="language 'fr'"):
        run_export(study, ExportOptions(language="fr"))


def test_export_command(study_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["export", "--study", str(study_dir), "--format", "sav,sss", "--lang", "en", "--bom"])
    out = capsys.readouterr().out
    assert code == 0 and "bubble_tea_brand_health.sav" in out and "Manifest:" in out
    _, info = pyreadstat.read_sav(str(study_dir / "exports/bubble_tea_brand_health.sav"), metadataonly=True)
    assert info.variable_value_labels["a4_bumo"][1.0] == "TeaTime"
    assert main(["export", "--study", str(study_dir), "--format", "pdf"]) == 1
    assert "unknown format 'pdf'" in capsys.readouterr().err


@pytest.mark.parametrize("language", ["zh-TW", "en"])
def test_export_all_from_the_command_line(study_dir: Path, language: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--study", str(study_dir), "--format", "all", "--lang", language]) == 0, capsys.readouterr()
    frame, _ = pyreadstat.read_dta(str(study_dir / "exports/bubble_tea_brand_health.dta"))
    assert len(frame) > 0


def test_pilot_export_keeps_the_grid_item_only_the_pilot_version_asked(study_dir: Path) -> None:
    """b2_image_tea was dropped in v2: its pilot answers in the store reach the CSV and the .sav."""
    study = open_study(study_dir)
    run_export(study, ExportOptions(formats=("csv", "sav"), pilot=True))
    codes = pl.read_csv(study_dir / "exports/bubble_tea_brand_health_with_pilot_codes.csv", infer_schema_length=None)
    with study.store() as store:
        from survey_tui.analysis.quality import excluded_interviews

        excluded = excluded_interviews(store)
        rows = store.query(
            "SELECT a.interview_id, a.value FROM answers a JOIN interviews i ON i.id = a.interview_id"
            " WHERE a.question = 'b2_image' AND i.outcome = 'complete' AND i.mode IN ('field', 'pilot')"
        )
    stored = {
        r[0]: json.loads(r[1])["tea"] for r in rows if r[1] and r[0] not in excluded and "tea" in json.loads(r[1])
    }
    assert stored, "the demo's pilot answered b2_image tea"
    exported = dict(
        codes.filter(pl.col("b2_image_tea").is_not_null()).select("interview_id", "b2_image_tea").iter_rows()
    )
    assert exported == stored
    frame, _ = pyreadstat.read_sav(str(study_dir / "exports/bubble_tea_brand_health_with_pilot.sav"))
    assert int(frame["b2_image_tea"].notna().sum()) == len(stored)
