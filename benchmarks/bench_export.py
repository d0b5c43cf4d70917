"""Export speed on a synthetic 1,000,000 x 140 data set (run by hand: `python benchmarks/bench_export.py`).

Targets (issues 8 and 12): .sav with full metadata (labels in Chinese, value labels, user-missing codes,
measures, widths, formats, notes, row compression, the multiple-response sets record written into the file
and the .sps companion) <= 1.15x a bare `pyreadstat.write_sav` of the same polars frame, measured in the
same run; CSV and Parquet near polars' own writers. Prints every figure and
ratio with the machine it ran on. `--rows N` for a quicker look.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pyreadstat

from survey_tui.io import flat, spss
from survey_tui.io.meta import ExportData, ExportVariable

AGREE = {
    "zh-TW": {1: "非常不同意", 2: "不同意", 3: "普通", 4: "同意", 5: "非常同意", 98: "不知道", 99: "拒答"},
    "en": {
        1: "Strongly disagree",
        2: "Disagree",
        3: "Neutral",
        4: "Agree",
        5: "Strongly agree",
        98: "Don't know",
        99: "Refused",
    },
}
SELECTED = {"zh-TW": {0: "未選", 1: "有選"}, "en": {0: "Not selected", 1: "Selected"}}


def synthetic(rows: int, seed: int = 8) -> ExportData:
    """140 columns: id, 90 coded (with DK/refused), 24 dichotomies (3 multi questions), 20 numbers, 5 texts."""
    rng = np.random.default_rng(seed)
    columns: dict[str, pl.Series] = {"interview_id": pl.Series("interview_id", np.arange(1, rows + 1, dtype=np.int64))}
    variables = [ExportVariable("interview_id", "id", {"zh-TW": "訪問編號", "en": "Interview ID"})]
    for i in range(90):
        name = f"q{i:03d}"
        codes = rng.choice(
            np.array([1, 2, 3, 4, 5, 98, 99], dtype=np.int32), size=rows, p=[0.18, 0.2, 0.22, 0.2, 0.15, 0.03, 0.02]
        )
        columns[name] = pl.Series(name, codes)
        variables.append(
            ExportVariable(
                name,
                "scale",
                {"zh-TW": f"第{i}題：您同意嗎？", "en": f"Q{i}: agree?"},
                question=name,
                measure="ordinal",
                value_labels=AGREE,
                missing={98: "dont_know", 99: "refused"},
            )
        )
    for m in range(3):
        for c in range(1, 9):
            name = f"m{m}_{c}"
            columns[name] = pl.Series(name, (rng.random(rows) < 0.3).astype(np.int8))
            variables.append(
                ExportVariable(
                    name,
                    "multi",
                    {"zh-TW": f"複選{m}：品牌{c}", "en": f"Multi {m}: brand {c}"},
                    question=f"m{m}",
                    question_text={"zh-TW": f"複選題{m}", "en": f"Multi {m}"},
                    value_labels=SELECTED,
                    choice_code=c,
                )
            )
    for i in range(20):
        name = f"n{i:02d}"
        values = np.round(rng.normal(75, 20, rows), 1)
        values[rng.random(rows) < 0.02] = -8.0
        columns[name] = pl.Series(name, values)
        variables.append(
            ExportVariable(
                name,
                "numeric",
                {"zh-TW": f"金額{i}（元）", "en": f"Amount {i} (NT$)"},
                question=name,
                measure="scale",
                decimals=1,
                value_labels={"zh-TW": {-8: "不知道"}, "en": {-8: "Don't know"}},
                missing={-8: "dont_know"},
            )
        )
    words = np.array(["珍珠很Q", "價格便宜", "店員親切", "too sweet", "排隊太久", ""], dtype=object)
    for i in range(5):
        name = f"t{i}"
        columns[name] = pl.Series(name, words[rng.integers(0, len(words), rows)].tolist(), dtype=pl.String)
        variables.append(ExportVariable(name, "text", {"zh-TW": f"開放題{i}", "en": f"Open end {i}"}, question=name))
    frame = pl.DataFrame(list(columns.values()))
    assert frame.width == 140, frame.width
    return ExportData(
        frame,
        variables,
        title="效能測試 Benchmark",
        instrument_id="bench",
        versions=["v1"],
        languages=["zh-TW", "en"],
        filters=["synthetic"],
    )


def timed(fn: Callable[[], object], clear: Path | None = None) -> float:
    """Seconds for one call; `clear` is deleted first (outside the timing) so no run pays for another's file."""
    if clear is not None:
        clear.unlink(missing_ok=True)
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def sav(data: ExportData, out: Path, repeat: int = 3) -> None:
    """Best of `repeat` interleaved runs each, so a busy shared machine disturbs all three alike."""
    frame = data.frame

    def ours_once() -> None:
        meta = spss.write_sav(data, out / "ours.sav", "zh-TW")
        spss.write_sps(data, meta, out / "ours.sps", "zh-TW", "ours.sav")

    runs: dict[str, list[float]] = {"bare": [], "bare_rc": [], "ours": []}
    for _ in range(repeat):
        runs["bare"].append(timed(lambda: pyreadstat.write_sav(frame, str(out / "bare.sav")), out / "bare.sav"))
        runs["ours"].append(timed(ours_once, out / "ours.sav"))
        runs["bare_rc"].append(
            timed(lambda: pyreadstat.write_sav(frame, str(out / "bare_rc.sav"), row_compress=True), out / "bare_rc.sav")
        )
    bare, ours, bare_rc = (min(runs[k]) for k in ("bare", "ours", "bare_rc"))
    size = {name: os.path.getsize(out / name) / 1e6 for name in ("bare.sav", "bare_rc.sav", "ours.sav")}
    print(
        f"sav  (best of {repeat}; all runs: "
        + ", ".join(f"{k} {' '.join(f'{t:.1f}' for t in v)}" for k, v in runs.items())
        + ")"
    )
    print(f"sav  bare write_sav                {bare:8.2f}s  {size['bare.sav']:8.1f} MB")
    print(f"sav  bare write_sav row_compress   {bare_rc:8.2f}s  {size['bare_rc.sav']:8.1f} MB")
    print(f"sav  survey-tui full metadata      {ours:8.2f}s  {size['ours.sav']:8.1f} MB")
    print(f"     ratio vs bare: {ours / bare:.3f}x (target <= 1.15x); vs bare row-compressed: {ours / bare_rc:.3f}x")
    _, meta = pyreadstat.read_sav(str(out / "ours.sav"), metadataonly=True)
    print(f"     multiple-response sets in the file: {len(meta.mr_sets)} ({', '.join(sorted(meta.mr_sets))})")


def flat_files(data: ExportData, out: Path) -> None:
    frame = data.frame
    runs = (
        ("csv", "csv", lambda: frame.write_csv(out / "p.csv"), lambda: flat.write_csv_codes(data, out / "o.csv")),
        (
            "parquet",
            "parquet",
            lambda: frame.write_parquet(out / "p.parquet"),
            lambda: flat.write_parquet(data, out / "o.parquet", "zh-TW"),
        ),
    )
    for label, ext, baseline, mine in runs:
        base_t = min(timed(baseline, out / f"p.{ext}") for _ in range(3))
        mine_t = min(timed(mine, out / f"o.{ext}") for _ in range(3))
        print(f"{label:8s} polars {base_t:6.2f}s  survey-tui {mine_t:6.2f}s  ratio {mine_t / base_t:.3f}x (best of 3)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-sav", action="store_true", help="only CSV and Parquet")
    parser.add_argument("--skip-flat", action="store_true", help="only the .sav")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each .sav writer (best is reported)")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"python {platform.python_version()}, polars {pl.__version__}, pyreadstat {pyreadstat.__version__}"
    )
    start = time.perf_counter()
    data = synthetic(args.rows)
    print(
        f"data: {data.frame.height:,} x {data.frame.width} built in {time.perf_counter() - start:.1f}s "
        f"({data.frame.estimated_size('mb'):.0f} MB)"
    )
    with tempfile.TemporaryDirectory(prefix="bench_export_") as tmp:
        out = Path(tmp)
        if not args.skip_sav:
            sav(data, out, args.repeat)
        if not args.skip_flat:
            flat_files(data, out)


if __name__ == "__main__":
    main()
