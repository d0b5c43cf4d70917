"""A .sav opened in another statistics package (GNU PSPP) shows labels, user-missing codes and Chinese text.

Skipped where PSPP is not installed (`apt-get install pspp`); pyreadstat read-backs cover the rest.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import polars as pl
import pyreadstat
import pytest

from survey_tui.core.study import open_study
from survey_tui.io import spss
from survey_tui.io.export import ExportOptions, run_export
from tests.io.sample import sample_data

PSPP = shutil.which("pspp")


@pytest.mark.skipif(PSPP is None, reason="GNU PSPP is not installed")
def test_pspp_reads_the_demo_sav_with_labels_and_missing_codes(demo_study_dir: Path, tmp_path: Path) -> None:
    study_dir = tmp_path / "study"
    shutil.copytree(demo_study_dir, study_dir, ignore=shutil.ignore_patterns("exports"))
    result = run_export(open_study(study_dir), ExportOptions(formats=("sav",), language="zh-TW"))
    sav = next(e for e in result.entries if e.format == "sav")
    syntax = tmp_path / "check.sps"
    syntax.write_text(
        f"GET FILE='{study_dir / sav.file}'.\n"
        "DISPLAY DICTIONARY /VARIABLES=s3 u1_freq u2_spend.\n"
        "FREQUENCIES /VARIABLES=s3.\n"
        "MRSETS /DISPLAY NAME=ALL.\n"
        f"INCLUDE FILE='{study_dir / sav.file.replace('.sav', '.sps')}'.\n",
        encoding="utf-8",
    )
    out = subprocess.run([PSPP, "-O", "format=txt", str(syntax)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "error:" not in text  # the companion syntax runs clean on the file
    assert "請問您的性別是" in text and "女性" in text  # variable and value labels, Chinese intact
    assert "98; 99" in text  # don't know / refused declared user-missing on u1_freq
    assert "-9; -8" in text  # per-question special codes on u2_spend
    assert "Nominal" in text and "Scale" in text  # measure levels
    assert "F10.0" in text  # whole-number spend shows without decimals
    # the multiple-response sets are in the .sav itself (no syntax run): one per multi and coded open end
    _, info = pyreadstat.read_sav(str(study_dir / sav.file), metadataonly=True)
    sets = text.split("Multiple Response Sets")[1]
    assert info.mr_sets and all(f"${name}" in sets for name in info.mr_sets)
    assert "$a2_aided" in sets and "$a5_why_coded" in sets and "[a4_bumo]" in sets  # piping as a name


def _pspp(tmp_path: Path, syntax: str) -> str:
    script = tmp_path / "check.sps"
    script.write_text(syntax, encoding="utf-8")
    out = subprocess.run([PSPP, "-O", "format=txt", str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.skipif(PSPP is None, reason="GNU PSPP is not installed")
def test_pspp_sees_the_sets_missing_values_and_a_long_chinese_open_end(tmp_path: Path) -> None:
    """The multiple-response sets written into the .sav, user-missing codes and a 2,000-byte answer, in PSPP."""
    data = sample_data()
    long_answer = "珍珠奶茶的甜度剛好，" * 67  # 670 characters, 2,010 UTF-8 bytes
    data.frame = data.frame.with_columns(
        pl.when(pl.col("interview_id") == 2).then(pl.lit(long_answer)).otherwise(pl.col("why")).alias("why")
    )
    path = tmp_path / "d.sav"
    spss.write_sav(data, path, "zh-TW")
    _, info = pyreadstat.read_sav(str(path), metadataonly=True)
    assert info.mr_sets["aware"]["variable_list"] == ["aware_1", "aware_2"]
    assert info.mr_sets["aware"]["label"] == "聽過哪些？" and info.mr_sets["aware"]["counted_value"] == 1
    text = _pspp(
        tmp_path,
        f"GET FILE='{path}'.\nMRSETS /DISPLAY NAME=ALL.\nDISPLAY DICTIONARY /VARIABLES=brand.\n"
        "COMPUTE n = LENGTH(RTRIM(why)).\nFORMATS n (F6.0).\nLIST interview_id n.\n"
        "DESCRIPTIVES /VARIABLES=brand.\n",
    )
    sets = text.split("Multiple Response Sets")[1]
    assert "$aware" in sets and "聽過哪些？" in sets and "Dichotomies" in sets
    assert "aware_1" in sets and "aware_2" in sets and "aware_98" not in sets.split("Variables")[0]
    assert "98; 99" in text  # brand's don't know / refused are user-missing
    listing = text.split("Data List")[1]
    assert "|2|2010|" in listing.replace(" ", "")  # the whole answer: 2,010 bytes (PSPP counts bytes)
    described = text.split("Descriptive Statistics")[1]
    assert "|2|" in described.replace(" ", "") and "1.50" in described  # 98 is left out of N and the mean
