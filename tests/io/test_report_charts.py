"""Charts: the engine's numbers and letters on the bars, CJK font or a clear message, embedded in Word."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from docx import Document

from survey_tui.analysis.dataset import load_dataset
from survey_tui.analysis.tabplan import run_plan
from survey_tui.cli import main
from survey_tui.core.plan.tabplan import read_tab_plan
from survey_tui.core.study import open_study
from survey_tui.report import charts
from survey_tui.report.full_report import build_report, write_docx


@pytest.fixture(scope="module")
def table(demo_study_dir: Path):  # type: ignore[no-untyped-def]
    plan = read_tab_plan(demo_study_dir / "tabs" / "main.yaml", "tabs/main.yaml")
    tables = run_plan(plan, load_dataset(open_study(demo_study_dir)), "zh-TW", ["T1"])
    return tables[0]


def test_bars_are_the_tables_numbers_with_its_letters(table) -> None:  # type: ignore[no-untyped-def]
    data = charts.chart_data(table)
    assert data is not None and data.percent
    lettered = {c.part for r in table.rows for c, x in zip(table.columns, r.letters, strict=True) if x}
    assert lettered  # T1 of the demo has significant differences
    part = next(c.part for c in table.columns if c.part in lettered)  # the first such part, in banner order
    charted = [i for i, c in enumerate(table.columns) if (c.part in (None, part)) and c.unweighted > 0]
    assert len(data.series) == len(charted)
    rows = [r for r in table.rows if r.kind in charts.PERCENT_KINDS]
    assert data.categories == [r.label for r in rows]
    fig = charts.bar_figure(data, None)
    ax = fig.axes[0]
    widths = np.array([p.get_width() for p in ax.patches]).reshape(len(charted), len(rows))
    expected = np.array([[r.values[i] for r in rows] for i in charted])
    assert np.allclose(widths, np.nan_to_num(expected))
    labels = [t.get_text() for t in ax.texts]
    assert labels == [
        f"{r.values[i]:.1f}% {r.letters[i]}".strip() for i in charted for r in rows if not np.isnan(r.values[i])
    ]
    assert any(r.letters[i] for r in rows for i in charted)  # the letters are really shown on some bars


def test_without_a_cjk_font_the_report_says_so_and_has_no_charts(
    demo_study_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    report = build_report(open_study(demo_study_dir))
    notes = write_docx(report, tmp_path / "r.docx")
    assert notes == [charts.FONT_HINT] and "fonts-noto-cjk" in notes[0]
    assert not Document(str(tmp_path / "r.docx")).inline_shapes
    study = tmp_path / "study"
    shutil.copytree(demo_study_dir, study)
    assert main(["report", "--study", str(study), "--format", "docx"]) == 0
    assert "fonts-noto-cjk" in capsys.readouterr().err


@pytest.mark.skipif(charts.cjk_font() is None, reason="no CJK font installed (apt install fonts-noto-cjk)")
def test_with_a_cjk_font_every_charted_table_has_its_picture(demo_study_dir: Path, tmp_path: Path) -> None:
    report = build_report(open_study(demo_study_dir))
    assert write_docx(report, tmp_path / "r.docx") == []
    expected = sum(1 for b in report.blocks if b.kind == "banner" and charts.chart_data(b.table) is not None)
    assert expected > 5
    key = [b.table for b in report.blocks if b.kind == "frequency"]
    assert len(key) == 4  # the demo's hypotheses name four categorical outcomes
    expected += sum(1 for f in key if charts.frequency_data(f) is not None)
    assert len(Document(str(tmp_path / "r.docx")).inline_shapes) == expected
    png = charts.chart_png(next(b.table for b in report.blocks if b.kind == "banner"))
    assert png is not None and png.startswith(b"\x89PNG")
    assert not write_docx(report, tmp_path / "plain.docx", charts=False)
    assert not Document(str(tmp_path / "plain.docx")).inline_shapes


def test_key_frequencies_chart_the_valid_percent_with_the_base(demo_study_dir: Path, tmp_path: Path) -> None:
    """The key frequencies are the hypotheses' categorical outcomes (a multi column stands for its
    question) unless report.key_frequencies names them; each bar is the frequency's valid %."""
    from survey_tui.analysis.tables import TableOptions, frequencies
    from survey_tui.report.full_report import KEY_FREQUENCIES, key_frequency_names

    study = open_study(demo_study_dir)
    outcomes = [h.outcome for h in study.config.hypotheses]
    names = key_frequency_names(study)
    assert names == ["u1_freq", "a2_aided", "n2_intent", "b5_nps"] and "a2_aided_1" in outcomes
    dataset = load_dataset(study)
    freq = frequencies(dataset, ["u1_freq"], TableOptions(weight=dataset.weight))[0]
    data = charts.frequency_data(freq)
    assert data is not None
    valid = [r for r in freq.rows if r.valid_percent is not None]
    assert data.categories == [r.label for r in valid]
    fig = charts.bar_figure(data, None)
    assert [round(p.get_width(), 6) for p in fig.axes[0].patches] == [round(r.valid_percent, 6) for r in valid]
    assert abs(sum(p.get_width() for p in fig.axes[0].patches) - 100) < 1e-6  # valid % of one base
    assert data.series == [f"Base 樣本數 n = {freq.valid:.0f}"]
    report = build_report(study)
    md = "\n".join(b.text for b in report.blocks if b.kind == "frequency")
    assert f"Base 樣本數: {freq.valid:.0f} of {freq.total:.0f} (weighted)" in md
    assert KEY_FREQUENCIES in report.headings()
    # named in study.yaml instead
    study.config.report.key_frequencies = ["s3"]
    assert key_frequency_names(study) == ["s3"]
    assert [b.table.variable for b in build_report(study).blocks if b.kind == "frequency"] == ["s3"]


def _sample(title: str = "滿意度", low: str = "低") -> charts.ChartData:
    values = np.array([[40.0, 35.5, 24.5], [52.0, np.nan, 48.0]])
    letters = [["", "B", ""], ["A", "", ""]]
    return charts.ChartData(title, ["高", "中", low], ["Total", "男 (A)"], values, letters, True)


def test_a_chart_drawn_once_is_what_savefig_writes() -> None:
    """The picture is encoded from the one drawing, pixel for pixel what matplotlib's own savefig gives."""
    import io

    from PIL import Image

    data = _sample()
    ours = Image.open(io.BytesIO(charts._render_png(data, charts.cjk_font())))
    out = io.BytesIO()
    charts.bar_figure(data, charts.cjk_font()).savefig(out, format="png")
    reference = Image.open(out)
    assert ours.size == reference.size and ours.info["dpi"] == reference.info["dpi"]
    assert np.array_equal(np.asarray(ours), np.asarray(reference))


def test_unchanged_charts_come_from_the_cache_and_changed_ones_are_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(tmp_path / "cache"))
    drawn: list[str] = []
    real = charts.bar_figure

    def counting(data: charts.ChartData, font: str | None = None):  # type: ignore[no-untyped-def]
        drawn.append(data.title)
        return real(data, font)

    monkeypatch.setattr(charts, "bar_figure", counting)
    first = charts.png_of(_sample())
    assert first.startswith(b"\x89PNG") and drawn == ["滿意度"]
    assert charts.png_of(_sample()) == first and drawn == ["滿意度"]  # a re-run: no drawing
    changed = _sample()
    changed.values[1, 0] = 53.0
    assert charts.png_of(changed) != first and len(drawn) == 2  # one number moved: drawn anew
    assert charts.png_of(_sample(low="很低")) != first and len(drawn) == 3  # a label changed
    assert charts.png_of(_sample("另一題")) == first and len(drawn) == 3  # the title is not in the picture
    entries = list((tmp_path / "cache" / "charts").iterdir())
    assert len(entries) == 3
    for entry in entries:
        entry.write_bytes(b"half a pic")  # a damaged entry is drawn again, never embedded
    assert charts.png_of(_sample()) == first and len(drawn) == 4


def test_the_chart_cache_keeps_its_newest_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from survey_tui.core.cache import read_blob, write_blob

    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(tmp_path))
    for i in range(5):
        write_blob("charts", f"k{i}", bytes([i]), keep=3)
        os.utime(tmp_path / "charts" / f"k{i}", (1000 + i, 1000 + i))
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == ["k2", "k3", "k4"]
    assert read_blob("charts", "k4") == b"\x04" and read_blob("charts", "k0") is None


@pytest.fixture(scope="module")
def planned(demo_study_dir: Path):  # type: ignore[no-untyped-def]
    plan = read_tab_plan(demo_study_dir / "tabs" / "main.yaml", "tabs/main.yaml")
    return run_plan(plan, load_dataset(open_study(demo_study_dir)), "zh-TW")


def _drawn_here_then_counted(planned, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Four tables and their pictures drawn in this process; then a fresh cache, two cores (even on one) and
    a list of the charts this process draws from now on (a worker counts in its own copy)."""
    import threading

    if threading.active_count() > 1 or not hasattr(os, "sched_getaffinity"):
        pytest.skip("drawing ahead needs Linux and no other thread running (workers are forked)")
    tables = [t for t in planned if charts.chart_data(t) is not None][:4]
    assert len(tables) == 4
    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(tmp_path / "here"))
    charts._DRAWN.clear()
    here = [charts.chart_png(t) for t in tables]
    charts._DRAWN.clear()
    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(tmp_path / "ahead"))
    monkeypatch.setattr(charts.os, "sched_getaffinity", lambda pid: {0, 1})
    drawn: list[str] = []
    real = charts.bar_figure

    def counting(data: charts.ChartData, font: str | None = None):  # type: ignore[no-untyped-def]
        drawn.append(data.title)
        return real(data, font)

    monkeypatch.setattr(charts, "bar_figure", counting)
    return tables, here, drawn


def test_charts_drawn_ahead_by_workers_are_the_pictures_drawn_here(
    planned, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Worker processes draw a document's charts while it is written: byte for byte the pictures this process
    draws, taken in place without drawing here, and kept in the cache for the next run."""
    tables, here, drawn = _drawn_here_then_counted(planned, tmp_path, monkeypatch)
    with charts.drawn_ahead(tables):
        assert len(charts._AHEAD) == 4
        ahead = [charts.chart_png(t) for t in tables]
    assert ahead == here and drawn == [] and not charts._AHEAD
    assert len(list((tmp_path / "ahead" / "charts").iterdir())) == 4
    charts._DRAWN.clear()
    with charts.drawn_ahead(tables):  # all in the cache now: no worker is started
        assert not charts._AHEAD
        assert [charts.chart_png(t) for t in tables] == here and drawn == []


def test_no_workers_while_another_thread_runs_or_for_one_chart() -> None:
    """A forked child would inherit another thread's locks as they are (a screen's worker, say): then, and
    for a single chart, each chart is drawn in this process when it is asked for."""
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert charts._workers_for(10) == 0
    finally:
        stop.set()
        other.join()
    assert charts._workers_for(1) == 0


def test_charts_are_handed_to_workers_as_tables_arrive_and_drawn_once(
    planned, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """`ChartsAhead.add` takes tables as a report makes them: the workers start at the second chart to draw
    (a single one is drawn where it is asked for), later ones go to the same workers, a nested
    `drawn_ahead` (the document's own) leaves them to it, and each picture is the one drawn here."""
    tables, here, drawn = _drawn_here_then_counted(planned, tmp_path, monkeypatch)
    with charts.ChartsAhead() as many:  # more cores than charts known when the workers start: one per core
        monkeypatch.setattr(charts.os, "sched_getaffinity", lambda pid: set(range(12)))
        many.add(tables[:2])
        assert many._pool._max_workers == charts.MAX_WORKERS
    monkeypatch.setattr(charts.os, "sched_getaffinity", lambda pid: {0, 1})
    charts._DRAWN.clear()
    with charts.ChartsAhead() as ahead:
        ahead.add(tables[:1])
        assert not charts._AHEAD  # one chart: no workers for it yet
        ahead.add(tables[:2])  # the first again, and a second: both to the workers
        assert [charts._AHEAD[id(t)][0] for t in tables[:2]] == tables[:2]
        assert ahead._pool._max_workers == 2  # one per core, not one per chart known so far
        ahead.add(tables[2:])
        assert len(charts._AHEAD) == 4
        futures = {id(t): charts._AHEAD[id(t)][2] for t in tables}
        with charts.drawn_ahead(tables):  # the document's own: nothing drawn twice, no second pool
            assert {k: v[2] for k, v in charts._AHEAD.items()} == futures
            ahead_pngs = [charts.chart_png(t) for t in tables]
        assert not charts._AHEAD
    assert ahead_pngs == here and drawn == []
    assert len(list((tmp_path / "ahead" / "charts").iterdir())) == 4


def test_the_word_report_hands_each_results_table_to_the_workers_before_the_next_section(
    demo_study_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The charts are drawn while the report's later sections are still being made, not only once the Word
    file is written: by the time the hypothesis section starts, every results table's chart is with a worker."""
    import threading

    from survey_tui.report.full_report import SECTIONS, write_report

    if threading.active_count() > 1 or not hasattr(os, "sched_getaffinity"):
        pytest.skip("drawing ahead needs Linux and no other thread running (workers are forked)")
    study_dir = tmp_path / "study"
    shutil.copytree(demo_study_dir, study_dir, ignore=shutil.ignore_patterns("exports"))
    monkeypatch.setenv("SURVEY_TUI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(charts.os, "sched_getaffinity", lambda pid: {0, 1})
    charts._DRAWN.clear()
    with_workers: list[int] = []

    def progress(what: str, fraction: float) -> None:
        if what == SECTIONS[7]:
            with_workers.append(len(charts._AHEAD))

    write_report(open_study(study_dir), ("docx",), progress=progress)
    assert with_workers and with_workers[0] >= 2
    assert not charts._AHEAD  # all taken, or dropped once the files were written
    pictures = len(list((tmp_path / "cache" / "charts").iterdir()))
    assert pictures >= with_workers[0]
    doc = Document(str(study_dir / "exports" / "report.docx"))
    assert len(doc.inline_shapes) >= pictures
