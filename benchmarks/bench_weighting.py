"""Benchmark: RIM weighting of 1,000,000 interviews on 4 dimensions, ours against weightipy called directly.

Run by hand: ``PYTHONPATH=. python benchmarks/bench_weighting.py [--rows N] [--repeat R]``. Both sides rake
the same correlated synthetic sample to the same targets with the same settings (no caps, 50 iterations at
most, weightipy's stopping rule with a zero criterion). The baseline is what a weightipy user writes: a
pandas frame of the four dimension columns (built before the clock starts) and ``weightipy.weight``. Ours
is `analysis.weighting.weigh_frame` on the polars data file: cells from the codes, every data check, the
raking, and the report (achieved shares, efficiency, effective base). Best of `repeat` runs each,
interleaved; the weights of both are checked to agree.

Target (issue T1.5): ours <= 1.2x weightipy.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import polars as pl

from survey_tui.analysis.weighting import weigh_frame
from survey_tui.core.plan.weighting import WeightingConfig

TARGETS: dict[str, dict[int, float]] = {
    "gender": {1: 49.3, 2: 50.7},
    "age_band": {1: 14.0, 2: 20.0, 3: 22.0, 4: 24.0, 5: 20.0},
    "region": {1: 45.7, 2: 24.7, 3: 26.2, 4: 3.4},
    "education": {1: 18.0, 2: 32.0, 3: 38.0, 4: 12.0},
}
MAX_ITERATIONS = 50


def sample(rows: int, seed: int = 20261201) -> pl.DataFrame:
    """Dimensions that are correlated (age with education, region with age), as real samples are."""
    rng = np.random.default_rng(seed)
    age = rng.choice([1, 2, 3, 4, 5], rows, p=[0.25, 0.3, 0.2, 0.15, 0.1])
    education = np.clip(age // 2 + rng.choice([0, 1, 2], rows, p=[0.3, 0.4, 0.3]), 1, 4)
    region = np.where(
        age <= 2,
        rng.choice([1, 2, 3, 4], rows, p=[0.6, 0.2, 0.17, 0.03]),
        rng.choice([1, 2, 3, 4], rows, p=[0.4, 0.28, 0.26, 0.06]),
    )
    return pl.DataFrame(
        {
            "interview_id": np.arange(1, rows + 1, dtype=np.int64),
            "gender": rng.choice([1, 2], rows, p=[0.55, 0.45]).astype(np.int32),
            "age_band": age.astype(np.int32),
            "region": region.astype(np.int32),
            "education": education.astype(np.int32),
        }
    )


def weightipy_direct(frame, targets: dict[str, dict[int, float]]) -> np.ndarray:  # type: ignore[no-untyped-def]
    import contextlib
    import io

    import weightipy

    scheme = weightipy.scheme_from_dict(
        targets, name="rim", rim_params={"max_iterations": MAX_ITERATIONS, "convcrit": 0.0, "cap": 0}
    )
    with contextlib.redirect_stdout(io.StringIO()):
        return weightipy.weight(frame, scheme).to_numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import weightipy

    frame = sample(args.rows)
    pandas_frame = frame.select(list(TARGETS)).to_pandas()  # the baseline's input, made before timing
    config = WeightingConfig.model_validate(
        {
            "dimensions": [{"variable": name, "targets": targets} for name, targets in TARGETS.items()],
            "max_iterations": MAX_ITERATIONS,
        }
    )
    print(f"Machine: {platform.machine()} {platform.system()}, Python {platform.python_version()}")
    print(f"weightipy {weightipy.__version__}; {args.rows:,} rows x {len(TARGETS)} dimensions")
    ours_times, theirs_times = [], []
    ours = theirs = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        theirs = weightipy_direct(pandas_frame, TARGETS)
        theirs_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        ours = weigh_frame(frame, config)
        ours_times.append(time.perf_counter() - start)
    assert ours is not None and theirs is not None
    np.testing.assert_allclose(ours.weights, theirs, rtol=1e-12)
    report = ours.report
    print(
        f"Raking: {report.iterations} iteration(s), converged {report.converged} "
        f"(largest gap {report.max_gap:.1e} points), efficiency {report.efficiency:.1f} %, "
        f"effective base {report.effective_base:,.0f}"
    )
    best_ours, best_theirs = min(ours_times), min(theirs_times)

    def runs(times: list[float]) -> str:
        return ", ".join(f"{t:.3f}" for t in times)

    print(f"weightipy directly: {best_theirs:.3f} s (best of {args.repeat}: {runs(theirs_times)})")
    print(f"survey-tui weigh_frame: {best_ours:.3f} s (best of {args.repeat}: {runs(ours_times)})")
    print(f"Ratio: {best_ours / best_theirs:.2f}x weightipy  (target <= 1.2x)")


if __name__ == "__main__":
    main()
