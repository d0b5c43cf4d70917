"""Shared fixtures: small instruments written inline, and a ready demo study built once per run."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from survey_tui.core.instrument.loader import load_instrument_text
from survey_tui.core.instrument.model import Instrument

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session", autouse=True)
def _private_yaml_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Parsed-YAML cache in the test run's own folder (subprocesses inherit it), not the user's."""
    import os

    os.environ["SURVEY_TUI_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session", autouse=True)
def _private_key_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Contact keys of the test studies in the run's own folder (subprocesses inherit it), not the user's."""
    import os

    os.environ["SURVEY_TUI_KEY_DIR"] = str(tmp_path_factory.mktemp("keys"))
    os.environ.pop("SURVEY_TUI_CONTACT_KEY", None)
    # never the user's OS keyring (subprocesses too): a test that wants one sets its own in-memory backend
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"


@pytest.fixture(autouse=True)
def _english_interface(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Tests read the English interface whatever the machine's locale; a test that switches to zh-TW
    (the app's ui_lang, or --ui-lang) gets English back afterwards (the language is process-wide)."""
    from survey_tui.i18n import set_language

    monkeypatch.setenv("SURVEY_TUI_UI_LANG", "en")
    set_language("en")
    yield
    set_language("en")


SMALL = """
id: small
title: {zh-TW: 小問卷, en: Small}
languages: [zh-TW, en]
choice_lists:
  yes_no:
    - {code: 1, label: {zh-TW: 是, en: "Yes"}}
    - {code: 2, label: {zh-TW: 否, en: "No"}}
  brands:
    - {code: 1, label: {zh-TW: 甲牌, en: Brand A}}
    - {code: 2, label: {zh-TW: 乙牌, en: Brand B}}
    - {code: 3, label: {zh-TW: 丙牌, en: Brand C}}
    - {code: 97, label: {zh-TW: 都沒有, en: None of these}, exclusive: true, fixed: true}
terminate:
  - when: age < 15
    outcome: screened_out
sections:
  - name: screener
    label: {zh-TW: 過濾, en: Screener}
    questions:
      - name: age
        type: numeric
        label: {zh-TW: 您幾歲？, en: How old are you?}
        min: 0
        max: 120
        special_codes: {dont_know: -8, refused: -9}
      - name: drinks
        type: single
        label: {zh-TW: 您喝手搖飲嗎？, en: Do you drink bubble tea?}
        choices: yes_no
  - name: brands
    label: {zh-TW: 品牌, en: Brands}
    relevant: drinks = 1
    questions:
      - name: aware
        type: multi
        label: {zh-TW: 您聽過哪些品牌？, en: Which brands do you know?}
        choices: brands
      - name: favourite
        type: single
        label: {zh-TW: 最常買哪一個？, en: Which do you buy most?}
        choices: brands
        relevant: count_selected(aware) >= 1 and not selected(aware, 97)
        constraint: selected(aware, .)
        constraint_message: {zh-TW: 必須是聽過的品牌, en: Must be a brand you know}
      - name: why
        type: text
        label: {zh-TW: "為什麼最常買{favourite}？", en: "Why {favourite} most?"}
        required: false
      - name: sat
        type: grid
        label: {zh-TW: 滿意度, en: Satisfaction}
        items:
          - {name: taste, label: {zh-TW: 口味, en: Taste}}
          - {name: price, label: {zh-TW: 價格, en: Price}}
        choices:
          - {code: 1, label: {zh-TW: 不滿意, en: Dissatisfied}}
          - {code: 2, label: {zh-TW: 普通, en: Neutral}}
          - {code: 3, label: {zh-TW: 滿意, en: Satisfied}}
  - name: end
    label: {zh-TW: 結束, en: End}
    questions:
      - name: spend
        type: numeric
        label: {zh-TW: 每杯花多少錢？, en: Spend per cup?}
        min: 20
        max: 300
        special_codes: {dont_know: -8, refused: -9}
      - name: weekly
        type: calculate
        calculate: spend * 3
      - name: visit
        type: date
        label: {zh-TW: 上次購買日期, en: Last purchase date}
        constraint: . >= '2020-01-01'
      - name: thanks
        type: note
        label: {zh-TW: "謝謝！您每週約花 {weekly} 元", en: "Thanks! About {weekly} a week"}
"""


def load_small(text: str = SMALL) -> Instrument:
    instrument, problems = load_instrument_text(textwrap.dedent(text), "small.yaml")
    assert instrument is not None, "\n".join(map(str, problems))
    return instrument


@pytest.fixture
def small() -> Instrument:
    return load_small()


@pytest.fixture(scope="session")
def demo_study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo study, built once per test run (it drives the engine for every interview)."""
    from survey_tui.demo.build import build_demo

    target = tmp_path_factory.mktemp("demo") / "demo-study"
    build_demo(target, interviews=120, seed=7)
    return target


# -- PostgreSQL: one throwaway cluster per run (tests/pgserver.py), a fresh database per test ---------------
_PG_FIXTURES = {"pg_cluster", "pg_url"}


def _needs_postgresql(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return (
        bool(_PG_FIXTURES & set(getattr(item, "fixturenames", ())))
        or item.get_closest_marker("postgresql") is not None
        or (callspec is not None and callspec.params.get("open_store") == "postgresql")
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a PostgreSQL server to start, its tests are left out and the run says so in ONE line."""
    from tests.pgserver import unavailable

    reason = unavailable()
    if reason is None:
        return
    left_out = [item for item in items if _needs_postgresql(item)]
    if left_out:
        items[:] = [item for item in items if not _needs_postgresql(item)]
        config.hook.pytest_deselected(items=left_out)
        config.stash[_PG_SKIPPED] = f"PostgreSQL tests skipped ({len(left_out)}): {reason}"


_PG_SKIPPED = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    line = config.stash.get(_PG_SKIPPED, None)
    if line:
        terminalreporter.write_line(f"SKIPPED {line}", yellow=True)


@pytest.fixture(scope="session")
def pg_cluster():  # type: ignore[no-untyped-def]
    from tests.pgserver import remove_cluster, start_cluster

    cluster, reason = start_cluster()
    if cluster is None:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    yield cluster
    remove_cluster(cluster)


@pytest.fixture
def pg_url(pg_cluster) -> str:  # type: ignore[no-untyped-def]
    """An empty database on the test cluster (no password in it: libpq reads PGPASSFILE)."""
    url = pg_cluster.create_database()
    yield url
    pg_cluster.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A function opening the test's store on each backend: open_store(migrations=None) -> store."""
    from survey_tui.core.store.postgres import PostgresStore
    from survey_tui.core.store.sqlite import Store

    opened: list = []
    if request.param == "sqlite":

        def factory(migrations=None):  # type: ignore[no-untyped-def]
            opened.append(Store(tmp_path / "survey.db", migrations=migrations))
            return opened[-1]
    else:
        url = request.getfixturevalue("pg_url")

        def factory(migrations=None):  # type: ignore[no-untyped-def]
            opened.append(PostgresStore(url, migrations=migrations))
            return opened[-1]

    factory.backend = request.param  # type: ignore[attr-defined]
    yield factory
    for store in opened:
        store.close()
