"""Every feature on the PostgreSQL store: the demo study built on a server matches the same demo on SQLite.

The demo drives the real capture engine, respondents, appointments, consent, quality review and coding through
`study.store()`; with SURVEY_TUI_DATABASE_URL set, all of it goes to the server. Both builds use one seed, so
the answers, respondents and quota counts must be equal, and export, tables and the report must run on it.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from survey_tui.cli import main
from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.fieldwork.quotas import quota_counts
from survey_tui.core.study import open_study

INTERVIEWS = 40


def _without_weighting(root: Path) -> None:
    """40 interviews leave a weighting cell empty; the targets are not what this test is about."""
    path = root / "study.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(?ms)^weighting:.*?(?=^\S)", "", text), encoding="utf-8")


@pytest.fixture(scope="module")
def both(pg_cluster, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from survey_tui.demo.build import build_demo

    base = tmp_path_factory.mktemp("backends")
    url = pg_cluster.create_database()
    with pytest.MonkeyPatch.context() as env:
        build_demo(base / "sqlite", interviews=INTERVIEWS, seed=7)
        env.setenv("SURVEY_TUI_DATABASE_URL", url)
        build_demo(base / "pg", interviews=INTERVIEWS, seed=7)
    for name in ("sqlite", "pg"):
        _without_weighting(base / name)
    yield base / "sqlite", base / "pg", url
    pg_cluster.drop_database(url)


def _on(url: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if url:
        monkeypatch.setenv("SURVEY_TUI_DATABASE_URL", url)
    else:
        monkeypatch.delenv("SURVEY_TUI_DATABASE_URL", raising=False)


def _dataset(root: Path) -> pl.DataFrame:
    from survey_tui.analysis.dataset import load_dataset

    frame = load_dataset(open_study(root)).frame
    volatile = [c for c in frame.columns if c in ("uuid", "started_at", "ended_at", "device", "duration_s")]
    return frame.drop(volatile)


def test_the_same_data_on_both_backends(both, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    lite, server, url = both
    assert not (server / "survey.db").exists()
    _on(None, monkeypatch)
    expected = _dataset(lite)
    with open_study(lite).store() as store:
        lite_counts = store.interview_counts()
        lite_status = resp.status_counts(store)
        lite_quota = quota_counts(store, open_study(lite).config.quotas)
    _on(url, monkeypatch)
    got = _dataset(server)
    with open_study(server).store() as store:
        assert store.dialect == "postgresql"
        assert store.interview_counts() == lite_counts
        assert resp.status_counts(store) == lite_status
        assert quota_counts(store, open_study(server).config.quotas) == lite_quota
    assert expected.height > 0 and got.columns == expected.columns
    assert got.equals(expected), (got, expected)


def test_export_tables_and_report_run_on_the_server(both, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    _, server, url = both
    _on(url, monkeypatch)
    assert main(["export", "--study", str(server), "--format", "csv,sav"]) == 0
    csv = next((server / "exports").rglob("*.csv"))
    frame = pl.read_csv(csv)
    with open_study(server).store() as store:
        completes = store.query("SELECT COUNT(*) FROM interviews WHERE mode = 'field' AND outcome = 'complete'")
    assert 0 < frame.height <= completes[0][0]  # every complete, less those the quality review excluded
    assert main(["tables", "--study", str(server), "--plan", "tabs/main.yaml", "--format", "xlsx"]) == 0
    assert main(["report", "--study", str(server), "--format", "md"]) == 0
    assert main(["respondents", "list", "--study", str(server), "--limit", "5"]) == 0
    assert main(["privacy", "report", "--study", str(server)]) == 0


async def test_every_section_of_the_app_opens_on_the_server(both, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import DataTable

    from survey_tui.tui.app import SECTIONS, SurveyApp

    _, server, url = both
    _on(url, monkeypatch)
    with open_study(server).store() as store:
        expected = {
            (m, s.replace("_", " "), (o or "—").replace("_", " ")): n for m, s, o, n in store.interview_counts()
        }
    app = SurveyApp(open_study(server), keymap_file=server / "no-keymap.yaml")
    app.animation_level = "none"
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one("#interviews", DataTable)
        shown = {
            tuple(str(c) for c in table.get_row_at(i)[:3]): int(str(table.get_row_at(i)[3]))
            for i in range(table.row_count)
        }
        assert shown == expected
        for section in SECTIONS:
            await pilot.press(section.key)
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.current_mode == section.mode


def test_telephone_fieldwork_runs_on_the_server(both, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """AAPOR rates, the queue, a back-check sample and productivity, on the server's demo (its call history)."""
    lite, server, url = both
    _on(None, monkeypatch)
    assert main(["fieldwork", "rates", "--study", str(lite)]) == 0
    expected = capsys.readouterr().out
    _on(url, monkeypatch)
    assert main(["fieldwork", "rates", "--study", str(server)]) == 0
    assert capsys.readouterr().out == expected  # the same seed gives the same rates on both backends
    assert main(["fieldwork", "queue", "--study", str(server)]) == 0
    assert main(["fieldwork", "backcheck", "draw", "--study", str(server), "--share", "0.2", "--seed", "5"]) == 0
    assert "seed 5" in capsys.readouterr().out
    assert main(["fieldwork", "productivity", "--study", str(server), "-o", str(server / "prod.csv")]) == 0
    assert (server / "prod.csv").stat().st_size > 0


def test_searching_sealed_contacts_answers_the_same_on_both_backends(both, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from survey_tui.core.fieldwork import contact_search

    lite, server, url = both
    found: dict[str, list[list[str]]] = {}
    for name, root, where in (("sqlite", lite, None), ("pg", server, url)):
        _on(where, monkeypatch)
        contact_search.drop()
        with open_study(root).store() as store:
            ids = [r[0] for r in store.query("SELECT id FROM respondents ORDER BY rowid")]
            terms = ["陳", "example", "09", "0912", ids[3][:3].lower()]
            pages = [resp.page(store, resp.RespondentFilter(search=t), 0, 1000) for t in terms]
            assert resp.search_ready(store)
            assert all(p.total == len(p.rows) for p in pages)
            assert ids[3] in {r.id for r in pages[-1].rows}  # an id prefix, typed in lower case
            found[name] = [sorted(f"{r.name} {r.phone} {r.email}" for r in p.rows) for p in pages[:-1]]
            assert all(found[name])
            resp.add(store, contact={"name": "陳後來的", "phone": "0912000111"})  # a write: the index rebuilds
            assert not resp.search_ready(store)
            assert resp.page(store, resp.RespondentFilter(search="陳後來"), 0, 10).total == 1
    assert found["sqlite"] == found["pg"]  # the same seed: the same people match (ids are random)
