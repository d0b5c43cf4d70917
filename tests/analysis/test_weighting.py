"""RIM weighting: targets reached, Kish's effective base by hand, caps, located messages, the weight in every export."""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from survey_tui.analysis.dataset import load_dataset
from survey_tui.analysis.weighting import (
    effective_base,
    rake,
    weigh_dataset,
    weigh_frame,
    weighting_efficiency,
)
from survey_tui.cli import main
from survey_tui.core.plan.weighting import WeightCaps, WeightingConfig
from survey_tui.core.problems import LoadError
from survey_tui.core.study import open_study

# -- Kish's effective base, worked by hand ----------------------------------------------------------------


def test_effective_base_and_efficiency_by_hand() -> None:
    # weights 1, 1, 2, 4: Σw = 8, Σw² = 1 + 1 + 4 + 16 = 22, n_eff = 64 / 22 = 2.9090..., efficiency = n_eff / 4
    weights = np.array([1.0, 1.0, 2.0, 4.0])
    assert effective_base(weights) == pytest.approx(64 / 22, abs=1e-12)
    assert weighting_efficiency(weights) == pytest.approx(100 * (64 / 22) / 4, abs=1e-10)  # 72.727... %
    # equal weights lose nothing, whatever their scale; a missing weight is left out, not counted as 0
    assert effective_base(np.full(7, 0.5)) == pytest.approx(7.0)
    assert weighting_efficiency(np.full(7, 3.0)) == pytest.approx(100.0)
    assert effective_base(np.array([1.0, 1.0, 2.0, 4.0, np.nan])) == pytest.approx(64 / 22)
    assert effective_base(np.array([])) == 0.0


# -- raking on synthetic data -----------------------------------------------------------------------------


def synthetic_frame(n: int = 5_000, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "interview_id": np.arange(1, n + 1),
            "sex": rng.choice([1, 2], n, p=[0.6, 0.4]).astype(np.int32),
            "age": rng.integers(15, 66, n),
            "region": rng.choice([1, 2, 3, 4], n, p=[0.55, 0.2, 0.2, 0.05]).astype(np.int32),
        }
    )


SYNTHETIC = {
    "dimensions": [
        {"variable": "sex", "targets": {1: 48.5, 2: 51.5}},
        {
            "name": "age_group",
            "groups": [
                {"label": "15-29", "when": "age < 30", "target": 25.0},
                {"label": "30-44", "when": "age >= 30 and age < 45", "target": 33.0},
                {"label": "45-65", "when": "age >= 45", "target": 42.0},
            ],
        },
        {"variable": "region", "targets": {1: 45.7, 2: 24.7, 3: 26.2, 4: 3.4}},
    ],
    "max_iterations": 200,
}


def shares(frame: pl.DataFrame, weights: np.ndarray, by: pl.Expr) -> dict[object, float]:
    """Weighted percent per value of `by`, computed here straight from the frame."""
    out = frame.with_columns(w=pl.Series(weights), key=by).group_by("key").agg(pl.col("w").sum())
    total = float(out["w"].sum())
    return {k: 100 * w / total for k, w in out.iter_rows()}


def test_raking_reaches_every_target_within_1e6() -> None:
    frame = synthetic_frame()
    config = WeightingConfig.model_validate(SYNTHETIC)
    result = weigh_frame(frame, config)
    w = result.weights
    assert result.report.converged and result.report.max_gap <= 1e-6
    assert w.mean() == pytest.approx(1.0) and w.std() > 0.1  # weights moved, and average 1
    for code, target in {1: 48.5, 2: 51.5}.items():
        assert abs(shares(frame, w, pl.col("sex"))[code] - target) <= 1e-6
    for code, target in {1: 45.7, 2: 24.7, 3: 26.2, 4: 3.4}.items():
        assert abs(shares(frame, w, pl.col("region"))[code] - target) <= 1e-6
    age = pl.when(pl.col("age") < 30).then(0).when(pl.col("age") < 45).then(1).otherwise(2)
    for k, target in enumerate((25.0, 33.0, 42.0)):
        assert abs(shares(frame, w, age)[k] - target) <= 1e-6
    # the report's numbers are those of the weights
    cell = next(c for c in result.report.cells if c.dimension == "region" and c.code == 4)
    assert cell.count == frame.filter(pl.col("region") == 4).height
    assert cell.achieved == pytest.approx(shares(frame, w, pl.col("region"))[4], abs=1e-9)
    assert result.report.effective_base == pytest.approx(w.sum() ** 2 / (w**2).sum())
    assert result.report.min_weight == w.min() and result.report.max_weight == w.max()


def test_raking_equals_an_independent_ipf() -> None:
    """The same weights as a plain iterative proportional fit written out here (not weightipy)."""
    frame = synthetic_frame(2_000, seed=11)
    config = WeightingConfig.model_validate(
        {**SYNTHETIC, "dimensions": [SYNTHETIC["dimensions"][0], SYNTHETIC["dimensions"][2]]}
    )
    ours = weigh_frame(frame, config).weights
    sex = frame["sex"].to_numpy() - 1
    region = frame["region"].to_numpy() - 1
    w = np.ones(frame.height)
    for _ in range(500):
        for cells, targets in ((sex, [48.5, 51.5]), (region, [45.7, 24.7, 26.2, 3.4])):
            sums = np.bincount(cells, weights=w) / w.sum() * 100
            w = w * (np.asarray(targets) / sums)[cells]
    w = w / w.mean()
    np.testing.assert_allclose(ours, w, rtol=1e-8)


def test_caps_hold_and_bind() -> None:
    frame = synthetic_frame(3_000, seed=5)
    skewed = {
        "dimensions": [{"variable": "region", "targets": {1: 10.0, 2: 10.0, 3: 10.0, 4: 70.0}}],
        "max_iterations": 100,
    }
    free = weigh_frame(frame, WeightingConfig.model_validate(skewed)).report
    assert free.max_weight > 5 and free.min_weight < 0.3  # without caps the weights go beyond them
    capped = weigh_frame(frame, WeightingConfig.model_validate({**skewed, "cap": {"min": 0.3, "max": 5.0}}))
    # weightipy lets a weight pass its cap by at most 1e-4 (its cap correction), then rescales to mean 1
    assert capped.weights.min() >= 0.3 - 1e-4 and capped.weights.max() <= 5.0 + 1e-4
    assert capped.weights.mean() == pytest.approx(1.0)
    assert not capped.report.converged  # 70 % from 5 % of the sample needs weights of 14: the cap wins
    assert capped.report.max_gap > 1
    upper = weigh_frame(frame, WeightingConfig.model_validate({**skewed, "cap": {"max": 5.0}})).weights
    assert upper.max() <= 5.0 + 1e-4 and upper.max() > 5.0 - 1e-3  # a max-only cap holds, and binds


def test_rake_by_hand() -> None:
    # one dimension: cells 0, 0, 0, 1 to 50/50 -> each of the three weighs 4 * 0.5 / 3, the last 4 * 0.5 / 1
    weights, _ = rake([np.array([0, 0, 0, 1])], [[50.0, 50.0]])
    np.testing.assert_allclose(weights, [2 / 3, 2 / 3, 2 / 3, 2.0], rtol=1e-12)
    # a 2 x 2 table with one interview per cell to 30/70 and 40/60: w = 4 * p * q, the product solution
    weights, iterations = rake([np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])], [[30.0, 70.0], [40.0, 60.0]])
    np.testing.assert_allclose(weights, [0.48, 0.72, 1.12, 1.68], rtol=1e-12)
    assert iterations >= 1
    with pytest.raises(ValueError):
        WeightCaps.model_validate({})


# -- the raking loop against weightipy, the reference ------------------------------------------------------


def weightipy_rake(
    cells: list[np.ndarray], targets: list[list[float]], max_iterations: int, cap: WeightCaps | None
) -> tuple[np.ndarray, int]:
    """weightipy 0.4's RIM on the same cells and targets (the implementation `rake` follows step for step)."""
    import contextlib
    import io
    import math

    pd = pytest.importorskip("pandas", reason="pandas (weightipy's frame) is not installed")
    weightipy = pytest.importorskip("weightipy", reason="weightipy (the reference RIM) is not installed")

    class Caps(tuple):  # type: ignore[type-arg]
        # weightipy reads a tuple cap as (min, max) but first compares the cap with numbers (cap <= 1),
        # which a tuple cannot do: this one compares as its upper bound
        def __le__(self, other: object) -> bool:
            return bool(self[1] <= other)  # type: ignore[operator]

        def __lt__(self, other: object) -> bool:
            return bool(self[1] < other)  # type: ignore[operator]

    if cap is None:
        wcap: object = 0
    elif cap.min is None:
        wcap = cap.max
    else:
        wcap = Caps((cap.min, cap.max if cap.max is not None else math.inf))
    frame = pd.DataFrame({f"d{i}": c for i, c in enumerate(cells)})
    scheme = weightipy.scheme_from_dict(
        {f"d{i}": {k: float(share) for k, share in enumerate(shares)} for i, shares in enumerate(targets)},
        name="rim",
        rim_params={"max_iterations": max_iterations, "convcrit": 0.0, "cap": wcap},
    )
    with contextlib.redirect_stdout(io.StringIO()):  # weightipy prints its convergence notes
        series = weightipy.weight(frame, scheme)
    weights = series.reindex(pd.RangeIndex(len(cells[0]))).to_numpy(dtype=np.float64)
    return weights, int(next(iter(scheme.groups.values()))["iterations"] or 0)


@pytest.mark.parametrize(
    ("cap", "max_iterations"),
    [
        (None, 50),
        (None, 3),  # stopped by the iteration limit
        ({"max": 2.5}, 50),
        ({"min": 0.5, "max": 2.0}, 80),
        ({"min": 0.6}, 50),
    ],
)
def test_rake_equals_weightipy(cap: dict[str, float] | None, max_iterations: int) -> None:
    """Three dimensions of skewed cells (one with a zero target): weights to 1e-9, the same iteration count."""
    rng = np.random.default_rng(7)
    n = 4_000
    cells = [
        rng.choice(2, n, p=[0.62, 0.38]),
        rng.choice(5, n, p=[0.1, 0.15, 0.2, 0.25, 0.3]),
        rng.choice(4, n, p=[0.5, 0.3, 0.15, 0.05]),
    ]
    targets = [[48.5, 51.5], [20.0, 20.0, 20.0, 20.0, 20.0], [40.0, 30.0, 30.0, 0.0]]
    caps = WeightCaps.model_validate(cap) if cap else None
    ours, iterations = rake(cells, targets, max_iterations=max_iterations, cap=caps)
    theirs, their_iterations = weightipy_rake(cells, targets, max_iterations, caps)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)
    assert iterations == their_iterations
    if caps is not None:  # the case binds: the free weights go past the cap
        free, _ = rake(cells, targets, max_iterations=max_iterations)
        assert free.max() > (caps.max or math.inf) or free.min() < (caps.min or 0)


def test_weighting_imports_no_pandas() -> None:
    """A weighted build never imports pandas (weightipy's frame): checked in a fresh interpreter."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np; from survey_tui.analysis.weighting import rake; "
        "rake([np.array([0, 1, 1]), np.array([1, 0, 1])], [[50.0, 50.0], [30.0, 70.0]]); "
        "print('pandas' in sys.modules, 'weightipy' in sys.modules)"
    )
    root = str(Path(__file__).resolve().parents[2])  # this checkout's survey_tui
    env = {**os.environ, "PYTHONPATH": root}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.split() == ["False", "False"]


def test_stray_codes_and_missing_answers_are_named() -> None:
    frame = pl.DataFrame({"q": pl.Series([1, 3, 3, 2, None, 1], dtype=pl.Int32)})
    config = WeightingConfig.model_validate({"dimensions": [{"variable": "q", "targets": {1: 50, 3: 50}}]})
    with pytest.raises(LoadError) as caught:
        weigh_frame(frame, config)
    messages = [p.message for p in caught.value.problems]
    assert any("1 interview(s) have q = 2, which has no target" in m for m in messages), messages
    assert any("1 interview(s) have no answer to q" in m for m in messages), messages
    # codes need not be 1..k: 10 and 30 are cells 0 and 1
    sparse = pl.DataFrame({"q": pl.Series([10, 30, 30, 30], dtype=pl.Int32)})
    config = WeightingConfig.model_validate({"dimensions": [{"variable": "q", "targets": {10: 50, 30: 50}}]})
    np.testing.assert_allclose(weigh_frame(sparse, config).weights, [2.0, 2 / 3, 2 / 3, 2 / 3], rtol=1e-12)


# -- bad targets: located messages, nothing written ------------------------------------------------------


def weighted_copy(source: Path, target: Path, block: str) -> Path:
    """A copy of the demo study whose weighting: section is replaced by `block` (no exports yet)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("exports"))
    (target / "exports").mkdir()
    lines = (target / "study.yaml").read_text("utf-8").splitlines()
    start = lines.index("weighting:")
    end = next((i for i in range(start + 1, len(lines)) if lines[i][:1] not in ("", " ", "#")), len(lines))
    text = "\n".join([*lines[:start], *block.strip("\n").splitlines(), *lines[end:]]) + "\n"
    (target / "study.yaml").write_text(text, "utf-8")
    return target


def line_of(root: Path, needle: str) -> int:
    """The line of `needle` inside the weighting: section."""
    lines = (root / "study.yaml").read_text("utf-8").splitlines()
    start = lines.index("weighting:")
    return next(i + 1 for i, line in enumerate(lines) if i >= start and needle in line)


GOOD_AGE = """
    - name: age_group
      groups:
        - {label: young, when: s2 < 40, target: 50}
        - {label: older, when: s2 >= 40, target: 50}
"""

BAD_CASES = {
    "sum": (
        "weighting:\n  dimensions:\n    - variable: s4\n      targets: {1: 45, 2: 25, 3: 26, 4: 3}\n" + GOOD_AGE,
        "targets: {1: 45",
        "sum to 99 %, not 100 %",
    ),
    "empty code": (
        # every interviewee is 15-65 (the screener ends the rest), so s2 < 15 holds nobody
        "weighting:\n  dimensions:\n    - name: age\n      groups:\n"
        "        - {label: child, when: s2 < 15, target: 10}\n"
        "        - {label: adult, when: s2 >= 15, target: 90}\n",
        "label: child",
        "holds no interview",
    ),
    "code without target": (
        "weighting:\n  dimensions:\n    - variable: s4\n      targets: {1: 50, 2: 25, 3: 25}\n",
        "targets: {1: 50",
        "which has no target",
    ),
    "unknown variable": (
        "weighting:\n  dimensions:\n    - variable: s44\n      targets: {1: 100}\n",
        "variable: s44",
        "no instrument has a variable 's44'",
    ),
    "not single-coded": (
        "weighting:\n  dimensions:\n    - variable: a2_aided\n      targets: {1: 100}\n",
        "variable: a2_aided",
        "not a single-coded question",
    ),
    "overlapping groups": (
        "weighting:\n  dimensions:\n    - name: age\n      groups:\n"
        "        - {label: young, when: s2 < 40, target: 50}\n"
        "        - {label: older, when: s2 >= 30, target: 50}\n",
        "      groups:",
        "fall in two or more groups",
    ),
    "uncovered": (
        "weighting:\n  dimensions:\n    - name: age\n      groups:\n"
        "        - {label: young, when: s2 < 30, target: 50}\n"
        "        - {label: older, when: s2 >= 45, target: 50}\n",
        "      groups:",
        "fall in no group",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_targets_are_located_and_nothing_is_written(
    case: str, demo_study_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    block, needle, message = BAD_CASES[case]
    root = weighted_copy(demo_study_dir, tmp_path / "study", block)
    line = line_of(root, needle)
    for command in (["check", str(root)], ["weight", str(root)], ["export", "--study", str(root)]):
        assert main(command) == 1, command
        out = capsys.readouterr()
        located = [s for s in (out.out + out.err).splitlines() if s.startswith(f"study.yaml:{line}: error:")]
        assert any(message in s and s.endswith(")") for s in located)  # with a hint, (command, out.out + out.err)
    assert list((root / "exports").iterdir()) == []
    with pytest.raises(LoadError):
        load_dataset(open_study(root))


def test_a_dimension_the_data_lacks(demo_study_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A questionnaire variable no interview answered (its answers removed here) cannot be weighted on."""
    import sqlite3

    block = "weighting:\n  dimensions:\n    - variable: s4\n      targets: {1: 45.7, 2: 24.7, 3: 26.2, 4: 3.4}\n"
    root = weighted_copy(demo_study_dir, tmp_path / "study", block)
    with sqlite3.connect(root / "survey.db") as conn:
        conn.execute("DELETE FROM answers WHERE question = 's4'")
    for command in (["check", str(root)], ["weight", str(root)]):
        assert main(command) == 1
        out = capsys.readouterr()
        assert f"study.yaml:{line_of(root, 'variable: s4')}: error:" in out.out + out.err
        assert "no interview of the weighted sample has an answer to s4" in out.out + out.err
    assert list((root / "exports").iterdir()) == []


# -- the demo: weights in the data set and in every export ------------------------------------------------


def test_demo_is_weighted_to_its_targets(demo_study_dir: Path) -> None:
    study = open_study(demo_study_dir)
    config = study.config.weighting
    assert config is not None and [d.title for d in config.dimensions] == ["gender", "age_group", "s4"]
    data = load_dataset(study)
    assert data.weight == config.name
    variable = data.variable(config.name)
    assert variable.measure == "scale" and variable.label == {"zh-TW": "權數", "en": "Weight"}
    w = data.frame.get_column(config.name).to_numpy()
    assert w.std() > 0.1 and effective_base(w) < data.n  # the sample differs from the targets
    for dim in config.dimensions:
        if dim.variable:
            got = shares(data.frame, w, pl.col(dim.variable))
            for code, target in dim.targets.items():
                assert abs(got[code] - target) <= config.tolerance
        else:
            for group in dim.groups:
                inside = data.filter(group.when).frame.get_column(config.name).sum()
                assert abs(100 * inside / w.sum() - group.target) <= config.tolerance
    cap = config.cap
    assert cap is not None and w.min() >= cap.min - 1e-4 and w.max() <= cap.max + 1e-4


def test_weights_do_not_depend_on_how_the_file_is_read(demo_study_dir: Path) -> None:
    study = open_study(demo_study_dir)
    standard = load_dataset(study).frame.select("interview_id", "weight")
    wide = load_dataset(study, mode=None, apply_exclusions=False, include_coded=False).frame
    joined = wide.join(standard, on="interview_id", how="left", suffix="_std")
    weighted = joined.filter(pl.col("weight_std").is_not_null())
    assert weighted.height == standard.height
    np.testing.assert_array_equal(weighted["weight"].to_numpy(), weighted["weight_std"].to_numpy())
    outside = joined.filter(pl.col("weight_std").is_null())
    assert outside.height > 0 and outside["weight"].null_count() == outside.height  # pilots, exclusions


def test_every_export_carries_the_weight(demo_study_dir: Path, tmp_path: Path) -> None:
    import pyreadstat
    from lxml import etree

    from survey_tui.io.export import ExportOptions, run_export

    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root)
    study = open_study(root)
    data = load_dataset(study)
    expected = dict(zip(data.frame["interview_id"].to_list(), data.frame["weight"].to_list(), strict=True))
    run_export(study, ExportOptions(formats=("sav", "dta", "csv", "parquet", "sss")))
    out = root / "exports"
    sav, meta = pyreadstat.read_sav(out / "bubble_tea_brand_health.sav")
    assert meta.column_names_to_labels["weight"] == "權數" and meta.variable_measure["weight"] == "scale"
    dta, _ = pyreadstat.read_dta(out / "bubble_tea_brand_health.dta")
    csv = pl.read_csv(out / "bubble_tea_brand_health_codes.csv")
    parquet = pl.read_parquet(out / "bubble_tea_brand_health.parquet")
    for ids, weights in (
        (sav["interview_id"], sav["weight"]),
        (dta["interview_id"], dta["weight"]),
        (csv["interview_id"], csv["weight"]),
        (parquet["interview_id"], parquet["weight"]),
    ):
        got = dict(zip([int(i) for i in ids], [float(x) for x in weights], strict=True))
        assert got.keys() == expected.keys()
        assert all(abs(got[i] - expected[i]) < 1e-9 for i in expected)
    # Triple-S: the XML places the weight in the fixed-width record (positions count characters)
    sss = etree.parse(str(out / "bubble_tea_brand_health.sss"))
    (var,) = sss.xpath("//variable[name='weight']")
    (serial,) = sss.xpath("//variable[@use='serial']")
    assert var.get("type") == "quantity"
    lo, hi = (int(var.find("position").get(k)) for k in ("start", "finish"))
    id_lo, id_hi = (int(serial.find("position").get(k)) for k in ("start", "finish"))
    rows = [r for r in (out / "bubble_tea_brand_health.dat").read_text("utf-8").splitlines() if r.strip()]
    assert len(rows) == len(expected)
    for row in rows:
        assert abs(float(row[lo - 1 : hi]) - expected[int(row[id_lo - 1 : id_hi])]) <= 5e-7  # six decimals


# -- the command ---------------------------------------------------------------------------------------------


def test_weight_command_prints_and_writes_the_report(
    demo_study_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "study"
    shutil.copytree(demo_study_dir, root, ignore=shutil.ignore_patterns("exports"))
    assert main(["weight", str(root), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    written = (root / "exports" / "weighting.md").read_text("utf-8")
    assert written in out
    study = open_study(root)
    report = weigh_dataset(study, load_dataset(study, weighting=False), "en").report
    assert f"Effective base (Kish, (Σw)²/Σw²): {report.effective_base:.1f} of {report.n}" in written
    assert f"Weighting efficiency: {report.efficiency:.1f} %" in written
    assert f"min {report.min_weight:.4f}, max {report.max_weight:.4f}" in written
    assert f"after {report.iterations} iteration(s)" in written and "Converged: yes" in written
    north = next(c for c in report.cells if c.code == 1)
    assert f"| {north.label} | {north.count} | {north.sample:.1f} | 45.7 | 45.7 |" in written
    assert "North" in north.label  # value labels in the language asked for


def test_weight_command_without_targets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "plain"), "--title", "t"]) == 0
    capsys.readouterr()
    assert main(["weight", str(tmp_path / "plain")]) == 1
    assert "no weighting targets" in capsys.readouterr().err


def test_check_reads_the_data_again_only_when_it_or_study_yaml_changed(
    demo_study_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data's side of the targets is kept in the user's cache under the database's fingerprint and
    study.yaml: a second check does not read the data, a changed database or study.yaml is read again."""
    import sqlite3

    import survey_tui.analysis.weighting as weighting

    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(tmp_path / "cache"))
    block, needle, message = BAD_CASES["empty code"]
    root = weighted_copy(demo_study_dir, tmp_path / "study", block)
    reads: list[str] = []
    real = weighting.weighting_problems
    monkeypatch.setattr(weighting, "weighting_problems", lambda study: reads.append("read") or real(study))

    def located() -> list[str]:
        assert main(["check", "--study", str(root)]) == 1
        out = capsys.readouterr().out
        return [s for s in out.splitlines() if message in s]

    first = located()
    assert len(first) == 1 and first[0].startswith(f"study.yaml:{line_of(root, needle)}: error:")
    assert reads == ["read"]
    assert located() == first and reads == ["read"]  # the same data and study.yaml: from the cache
    text = (root / "study.yaml").read_text("utf-8")
    (root / "study.yaml").write_text("# a comment moves every line down\n" + text, "utf-8")
    moved = located()
    assert len(reads) == 2 and moved[0].startswith(f"study.yaml:{line_of(root, needle)}: error:") and moved != first
    with sqlite3.connect(root / "survey.db") as conn:  # the data changes: every interview is now under 15
        conn.execute("UPDATE answers SET value = '12' WHERE question = 's2'")
    assert main(["check", "--study", str(root)]) == 1
    out = capsys.readouterr().out
    assert len(reads) == 3 and "group 'adult' (s2 >= 15) holds no interview" in out
