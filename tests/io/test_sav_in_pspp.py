"""A .sav opened in another statistics package (GNU PSPP) shows labels, user-missing codes and Chinese text.

Skipped where PSPP is not installed (`apt-get install pspp`); pyreadstat read-backs cover the rest.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from survey_tui.core.study import open_study
from survey_tui.io.export import ExportOptions, run_export

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
        "FREQUENCIES /VARIABLES=s3.\n",
        encoding="utf-8",
    )
    out = subprocess.run([PSPP, "-O", "format=txt", str(syntax)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "請問您的性別是" in text and "女性" in text  # variable and value labels, Chinese intact
    assert "98; 99" in text  # don't know / refused declared user-missing on u1_freq
    assert "-9; -8" in text  # per-question special codes on u2_spend
    assert "Nominal" in text and "Scale" in text  # measure levels
    assert "F10.0" in text  # whole-number spend shows without decimals
