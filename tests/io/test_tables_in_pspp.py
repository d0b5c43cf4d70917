"""Our default column % equals GNU PSPP's CROSSTABS on the exported .sav, cell for cell.

The reference an SPSS user checks against: user-missing codes (don't know / refused, not-applicable
choices) leave the base in PSPP by default, and so they do in our tables. Skipped without PSPP.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from survey_tui.analysis.dataset import load_dataset
from survey_tui.analysis.tables import TableOptions, _default_stubs, banner_tables
from survey_tui.core.study import open_study
from survey_tui.io.export import ExportOptions, run_export

PSPP = shutil.which("pspp")
BANNERS = ("s3", "s4")


def _crosstabs(text: str) -> dict[str, dict[tuple[str, str], tuple[int, float]]]:
    """PSPP's CSV output: table title -> (row label, column label) -> (count, column %)."""
    tables: dict[str, dict[tuple[str, str], tuple[int, float]]] = {}
    rows = list(csv.reader(io.StringIO(text)))
    i = 0
    while i < len(rows):
        row = rows[i]
        if row and row[0].startswith("Table: ") and " × " in row[0]:
            title = row[0].removeprefix("Table: ")
            header = rows[i + 2]
            columns = header[3:-1]
            cells: dict[tuple[str, str], tuple[int, float]] = {}
            j, label = i + 3, ""
            while j < len(rows) and rows[j] and not rows[j][0].startswith("Total"):
                if rows[j][2] == "Count":
                    label = rows[j][1]
                    counts = rows[j][3:-1]
                    pcts = rows[j + 1][3:-1]
                    for column, count, pct in zip(columns, counts, pcts, strict=True):
                        cells[(label, column)] = (int(count), float(pct.rstrip("%")))
                    j += 2
                else:
                    j += 1
            tables.setdefault(title, cells)
            i = j
        i += 1
    return tables


@pytest.mark.skipif(PSPP is None, reason="GNU PSPP is not installed")
def test_every_default_column_percent_equals_pspp_crosstabs(demo_study_dir: Path, tmp_path: Path) -> None:
    study_dir = tmp_path / "study"
    shutil.copytree(demo_study_dir, study_dir, ignore=shutil.ignore_patterns("exports"))
    study = open_study(study_dir)
    result = run_export(study, ExportOptions(formats=("sav",), language="zh-TW"))
    sav = study_dir / next(e for e in result.entries if e.format == "sav").file
    data = load_dataset(study)
    stubs = [s for s in _default_stubs(data) if s in data.variables and data.variables[s].is_coded]
    stubs = [s for s in stubs if s not in BANNERS]
    syntax = tmp_path / "crosstabs.sps"
    syntax.write_text(
        f"GET FILE='{sav}'.\nCROSSTABS /TABLES={' '.join(stubs)} BY {' '.join(BANNERS)} /CELLS=COUNT COLUMN.\n",
        encoding="utf-8",
    )
    out = subprocess.run([PSPP, "-O", "format=csv", str(syntax)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    reference = _crosstabs(out.stdout)
    compared = 0
    for banner in BANNERS:
        for table in banner_tables(data, stubs, [banner], TableOptions(language="zh-TW")):
            variable = data.variable(table.stub)
            title = f"{variable.label_in('zh-TW')} × {data.variable(banner).label_in('zh-TW')}"
            theirs = reference[title]
            for row in table.rows:
                if row.kind != "code":
                    continue
                for index, column in enumerate(table.columns):
                    if column.variable is None:
                        continue
                    count, pct = theirs.get((row.label, column.label), (0, 0.0))
                    assert row.counts[index] == count, (table.stub, banner, row.label, column.label)
                    if count:
                        # PSPP shows one decimal, rounding half up (31.25 -> 31.3); compare before rounding
                        assert row.values[index] == pytest.approx(pct, abs=0.0501), (table.stub, row.label)
                        compared += 1
    assert compared > 500  # every non-empty cell of every coded stub by gender and by region
