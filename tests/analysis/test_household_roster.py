"""A household roster (a count loop) from interview to table to data file: q_1 … q_n, labelled by member."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyreadstat

from survey_tui.analysis.dataset import load_dataset
from survey_tui.analysis.tables import TableOptions, banner_tables
from survey_tui.core.interview.capture import start_session
from survey_tui.io.export import ExportOptions, run_export
from tests.capture.helpers import make_study
from tests.core.test_loops import LOOPS

#: (brands heard of, household size, ages): every household answers its own number of members
HOUSEHOLDS = [([1], 3, [40, 38, 9]), ([2, 3], 1, [25]), ([97], 2, [70, 72]), ([1, 3], 0, [])]


def test_a_roster_is_tabulated_stacked_and_exported_with_one_variable_per_member(tmp_path: Path) -> None:
    study = make_study(tmp_path / "s", consent=False, instrument=LOOPS)
    for aware, size, ages in HOUSEHOLDS:
        session = start_session(study, interviewer="amy", language="en")
        engine = session.engine
        given = iter(ages)
        while engine.current is not None:
            q = engine.current
            template = q.slot.template if q.slot else q.name
            value = {"aware": aware, "hh": size, "fam": 2, "why": "ok", "older": 2}.get(template)
            assert engine.submit(next(given) if template == "age" else value).accepted, q.name
        session.complete()
        session.close()
    dataset = load_dataset(study, weighting=False)
    assert [v for v in dataset.variables if v.startswith("age_")] == [f"age_{n}" for n in range(1, 7)]
    assert dataset.variable("age_2").label["en"] == "Age of member 2?"
    assert dataset.frame["age_1"].to_list() == [40, 25, 70, None]
    assert dataset.frame["age_3"].to_list() == [9, None, None, None]
    assert dataset.frame["older_2"].to_list() == [None, None, 2, None]  # asked only when older: 38 < 40, 72 > 70
    # stacked over members: one row per member, ages as a numeric stub (base: members)
    table = banner_tables(dataset, ["age"], ["members"], TableOptions(language="en"))[0]
    assert table.columns[0].unweighted == 6
    mean = table.row("mean")
    assert mean.values is not None and abs(mean.values[0] - sum([40, 38, 9, 25, 70, 72]) / 6) < 1e-9
    first = table.column_index("members", 1)
    assert table.columns[first].unweighted == 3 and abs(mean.values[first] - (40 + 25 + 70) / 3) < 1e-9
    # the data file: one column per member with its label, read back by pyreadstat
    run_export(study, ExportOptions(formats=("sav", "dta")))
    sav, meta = pyreadstat.read_sav(str(study.root / "exports" / "loops.sav"), output_format="polars")
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["age_2"] == "第2位幾歲？ (成員 2)"  # the member is named even where the text says it its own way
    assert sav["age_2"].cast(pl.Int64).to_list() == [38, None, 72, None]
