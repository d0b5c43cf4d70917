"""The store interface on both backends: the same records, the same guarantees, the same migrations."""

from __future__ import annotations

import pytest

from survey_tui.core.store.schema import MIGRATIONS, TranslationError, postgresql_statements
from survey_tui.core.store.sqlite import StoreError


def test_published_versions_are_immutable_snapshots(open_store) -> None:  # type: ignore[no-untyped-def]
    store = open_store()
    v1 = store.publish_instrument("brand", "version one")
    assert v1.version == 1 and len(v1.sha256) == 64
    assert store.publish_instrument("brand", "version one").id == v1.id
    v2 = store.publish_instrument("brand", "version two")
    assert (v2.version, v2.id) == (2, v1.id + 1)
    with pytest.raises(Exception, match="immutable") as caught, store.transaction() as conn:
        conn.execute("UPDATE instrument_versions SET source = 'tampered' WHERE id = ?", (v1.id,))
    assert "IntegrityError" in [c.__name__ for c in type(caught.value).__mro__] or type(
        caught.value
    ).__name__.startswith("IntegrityConstraint")
    with pytest.raises(Exception, match="immutable"), store.transaction() as conn:
        conn.execute("DELETE FROM instrument_versions WHERE id = ?", (v1.id,))
    with pytest.raises(Exception, match="immutable"), store.transaction() as conn:
        conn.execute(
            "INSERT INTO instrument_versions (id, instrument_id, version, source, sha256, published_at)"
            " VALUES (?, 'brand', 1, 'tampered', 'x', 'now')",
            (v1.id,),
        )
    assert store.version_by_id(v1.id).source == "version one"
    assert [v.version for v in store.versions("brand")] == [1, 2]


def test_answers_upsert_and_audit_old_and_new_values(open_store) -> None:  # type: ignore[no-untyped-def]
    store = open_store()
    version = store.publish_instrument("x", "t")
    row = store.start_interview(version.id, mode="pilot", interviewer="amy")
    assert store.interview(row.id).interviewer == "amy" and row.path == []
    assert store.save_answer(row.id, "q1", 3, None)
    assert not store.save_answer(row.id, "q1", 3, None)
    assert store.save_answer(row.id, "q1", None, "dont_know")
    assert store.save_answer(row.id, "q2", ["a", "多"], None)
    assert store.answers(row.id)["q1"].special == "dont_know"
    assert store.answers(row.id)["q2"].value == ["a", "多"]
    audit = store.audit(row.id)
    assert [(a["action"], a["old_value"], a["new_value"], a["new_special"]) for a in audit] == [
        ("answered", None, "3", None),
        ("changed", "3", None, "dont_know"),
        ("answered", None, '["a","多"]', None),
    ]
    with pytest.raises(Exception, match="append-only"), store.transaction() as conn:
        conn.execute("UPDATE audit_log SET new_value = '2'")
    assert store.clear_answer(row.id, "q2", "went back")
    assert "q2" not in store.answers(row.id)
    store.set_position(row.id, "q3", ["q1", "q2"])
    store.finish_interview(row.id, "completed", "complete")
    done = store.interview(row.id)
    assert (done.status, done.outcome, done.current_question) == ("completed", "complete", "q3")
    assert done.path == ["q1", "q2"]
    assert [e["kind"] for e in store.events(row.id)] == ["start", "end"]
    assert store.interview_counts() == [("pilot", "completed", "complete", 1)]


def test_a_failed_transaction_leaves_nothing_half_written(open_store) -> None:  # type: ignore[no-untyped-def]
    store = open_store()
    version = store.publish_instrument("x", "t")
    row = store.start_interview(version.id)
    with pytest.raises(RuntimeError), store.transaction():
        store.save_answer(row.id, "q1", 1, None)
        store.save_answer(row.id, "q2", 2, None)
        raise RuntimeError("crash in the middle of a step")
    assert store.answers(row.id) == {}
    assert store.audit(row.id) == []
    with pytest.raises(Exception, match="(?i)foreign key"), store.transaction() as conn:
        conn.execute("INSERT INTO answers (interview_id, question, value, answered_at) VALUES (9999, 'q', '1', 'x')")
    assert store.save_answer(row.id, "q1", 1, None)  # the store is usable after a failed commit


def test_unknown_mode_is_refused(open_store) -> None:  # type: ignore[no-untyped-def]
    store = open_store()
    version = store.publish_instrument("x", "t")
    with pytest.raises(StoreError, match="unknown interview mode"):
        store.start_interview(version.id, mode="production")


def test_forward_migration_keeps_data(open_store) -> None:  # type: ignore[no-untyped-def]
    store = open_store()
    assert store.schema_version == len(MIGRATIONS)
    version = store.publish_instrument("x", "t")
    row = store.start_interview(version.id)
    store.save_answer(row.id, "q1", 1, None)
    store.close()
    newer = [*MIGRATIONS, "ALTER TABLE interviews ADD COLUMN supervisor TEXT;"]
    store = open_store(newer)
    assert store.schema_version == len(newer)
    assert store.answers(row.id)["q1"].value == 1
    assert "supervisor" in store.columns("interviews")


def test_a_database_of_a_newer_schema_is_refused_and_left_alone(open_store) -> None:  # type: ignore[no-untyped-def]
    open_store([*MIGRATIONS, "CREATE TABLE later (x TEXT);"]).close()
    with pytest.raises(
        StoreError, match=f"newer survey-tui .schema {len(MIGRATIONS) + 1}, this one knows {len(MIGRATIONS)}"
    ):
        open_store()
    assert "later" in open_store([*MIGRATIONS, "CREATE TABLE later (x TEXT);"]).tables()


def test_rows_read_by_name_and_position_and_like_ignores_case(open_store) -> None:  # type: ignore[no-untyped-def]
    store = open_store()
    version = store.publish_instrument("Brand", "t")
    rows = store.query("SELECT id, instrument_id FROM instrument_versions WHERE instrument_id LIKE ?", ("br%",))
    assert [(r[0], r["instrument_id"], dict(r)) for r in rows] == [
        (version.id, "Brand", {"id": version.id, "instrument_id": "Brand"})
    ]
    # a literal % and ? inside a string stay as they are
    assert store.query("SELECT '50% ?' || ?", ("x",))[0][0] == "50% ?x"


def test_every_migration_has_a_postgresql_translation() -> None:
    for script in MIGRATIONS:
        assert postgresql_statements(script)
    with pytest.raises(TranslationError, match="guard triggers"):
        postgresql_statements("CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET x = 1; END;")


def test_a_statement_can_give_its_own_postgresql_form() -> None:
    script = """
    -- postgresql: CREATE INDEX i ON t (a, b)
    CREATE INDEX i ON t (a, b, c, d);
    CREATE INDEX j ON t (c);
    """
    assert postgresql_statements(script) == ["CREATE INDEX i ON t (a, b)", "CREATE INDEX j ON t (c);"]


def test_answers_are_indexed_by_question_on_both_backends(open_store) -> None:  # type: ignore[no-untyped-def]
    """The data file is read one question at a time: on SQLite the index covers the values (a range read),
    on PostgreSQL it is the key alone (no free text in a B-tree entry)."""
    store = open_store()
    if open_store.backend == "postgresql":
        rows = store.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'answers_by_question'")
        assert [r[0].split(" USING btree ")[1] for r in rows] == ["(question, interview_id)"]
    else:
        plan = store.query(
            "EXPLAIN QUERY PLAN SELECT interview_id, value, special FROM answers WHERE question = ?", ("q",)
        )
        assert "COVERING INDEX answers_by_question" in " ".join(str(r[-1]) for r in plan)


def test_read_frame_gives_the_same_frame_on_both_backends(open_store) -> None:  # type: ignore[no-untyped-def]
    """4,000 answers, `special` NULL for 3,500 rows before the first 'dont_know'; in bulk and inside a
    transaction (on the store's own connection), equal to the rows read one by one."""
    import polars as pl
    from polars.testing import assert_frame_equal

    schema = {"interview_id": pl.Int64, "question": pl.String, "value": pl.String, "special": pl.String}
    sql = (
        "SELECT interview_id, question, value, special FROM answers WHERE question != ? ORDER BY interview_id, question"
    )
    store = open_store()
    version = store.publish_instrument("s", "id: s\n")
    ids = [store.start_interview(version.id).id for _ in range(3)]
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO answers (interview_id, question, value, special, answered_at) VALUES (?, ?, ?, ?, 'x')",
            [
                (ids[i % 3], f"q{i:05d}", None if i == 3500 else f'"{i}"', "dont_know" if i == 3500 else None)
                for i in range(4000)
            ],
        )
    bulk = store.read_frame(sql, ("q00001",), schema)
    with store.transaction():
        plain = store.read_frame(sql, ("q00001",), schema)
    reference = pl.DataFrame([tuple(r) for r in store.query(sql, ("q00001",))], schema=schema, orient="row")
    assert_frame_equal(bulk, reference)
    assert_frame_equal(plain, reference)
    assert bulk.height == 3999 and bulk.filter(pl.col("special") == "dont_know")["value"].to_list() == [None]
    empty = store.read_frame("SELECT interview_id, question, value, special FROM answers WHERE 1 = 0", (), schema)
    assert empty.height == 0 and empty.schema == pl.Schema(schema)
    if open_store.backend == "postgresql":  # the bulk path was really taken (ADBC's PostgreSQL driver)
        pytest.importorskip("adbc_driver_postgresql")
        from survey_tui.core.store import adbc
        from survey_tui.core.store.postgres import _adbc_database, _numbered

        direct = adbc.frames(lambda: _adbc_database(store.url), [(_numbered(sql), ("q00001",))], schema)
        assert direct is not None
        assert_frame_equal(next(direct), reference)
    many = list(store.read_frames(sql, [("q00001",), ("q03500",), ("none",)], schema))
    assert [frame.height for frame in many] == [3999, 3999, 4000]
    assert_frame_equal(many[0], reference)


def _three_answers(store):  # type: ignore[no-untyped-def]
    """`store` with one interview answering q0, q1 and q2 ("0", "1", "2"), and the query that reads one of
    them with its schema."""
    import polars as pl

    version = store.publish_instrument("s", "id: s\n")
    iid = store.start_interview(version.id).id
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO answers (interview_id, question, value, special, answered_at) VALUES (?, ?, ?, NULL, 'x')",
            [(iid, f"q{i}", f'"{i}"') for i in range(3)],
        )
    schema = {"interview_id": pl.Int64, "value": pl.String}
    return store, "SELECT interview_id, value FROM answers WHERE question = ?", schema


def test_a_frame_read_is_freed_once_the_caller_drops_it(open_store) -> None:  # type: ignore[no-untyped-def]
    """`read_frames` keeps no frame it gave (in bulk and on the store's own connection): one question's
    answers are gone before the next are read, which keeps a 100,000-interview data set near its size."""
    import gc
    import weakref

    store, sql, schema = _three_answers(open_store())

    def read_and_drop() -> None:
        frames = store.read_frames(sql, [("q0",), ("q1",), ("q2",)], schema)
        for i in range(3):
            frame = next(frames)
            assert frame["value"].to_list() == [f'"{i}"']
            gone = weakref.ref(frame)
            del frame
            gc.collect()
            assert gone() is None, f"read_frames still holds result {i}"
        assert next(frames, None) is None

    read_and_drop()
    with store.transaction():
        read_and_drop()


def test_open_store_picks_the_backend_from_what_names_it(open_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from survey_tui.core.store import open_store as open_any

    store = open_store()
    where = store.url if open_store.backend == "postgresql" else str(tmp_path / "other.db")
    with open_any(where) as opened:
        assert opened.dialect == open_store.backend and opened.schema_version == len(MIGRATIONS)


def test_a_light_transaction_skips_only_the_wait_for_the_disk(open_store) -> None:  # type: ignore[no-untyped-def]
    """`transaction(durable=False)` (call-queue leases): the commit is not waited for on disk, just for that
    transaction; the write is stored all the same, and the next transaction is fully durable again."""
    store = open_store()
    setting = "PRAGMA synchronous" if open_store.backend == "sqlite" else "SHOW synchronous_commit"
    light, full = ((1,), (2,)) if open_store.backend == "sqlite" else (("off",), ("on",))
    with store.transaction(durable=False) as conn:
        assert tuple(conn.execute(setting).fetchone()) == light
        conn.execute("INSERT INTO study_meta (key, value) VALUES ('k', 'v')")
    assert tuple(store.query(setting)[0]) == full
    with pytest.raises(RuntimeError), store.transaction(durable=False):
        raise RuntimeError("undone")
    assert tuple(store.query(setting)[0]) == full
    with store.transaction() as conn:
        assert tuple(conn.execute(setting).fetchone()) == full
    assert store.query("SELECT value FROM study_meta WHERE key = 'k'")[0][0] == "v"


class _PublicOnly:
    """A store seen only through its public surface: any private attribute is refused."""

    def __init__(self, store) -> None:  # type: ignore[no-untyped-def]
        object.__setattr__(self, "_store", store)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        if name.startswith("_"):
            raise AttributeError(f"the call queue reached into the store's private {name}")
        return getattr(object.__getattribute__(self, "_store"), name)


def test_the_call_queue_leases_through_the_public_store_interface(open_store) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from survey_tui.core.fieldwork import respondents as resp
    from survey_tui.core.fieldwork.call_queue import CallQueue

    store = open_store()
    rid = resp.add(store, {})
    tuesday_10_taipei = datetime(2026, 10, 6, 2, 0, tzinfo=UTC)  # inside calling hours
    queue = CallQueue(_PublicOnly(store), clock=lambda: tuesday_10_taipei)  # type: ignore[arg-type]
    case = queue.next_case("amy")
    assert case is not None and case.id == rid
    assert store.query("SELECT lease_holder FROM respondents WHERE id = ?", (rid,))[0][0] == "amy"
    assert queue.release(rid, "amy")
    assert store.query("SELECT lease_holder FROM respondents WHERE id = ?", (rid,))[0][0] is None


def test_many_rows_in_one_go_keep_every_row_type_and_count(open_store) -> None:  # type: ignore[no-untyped-def]
    """executemany of a plain or conflict-skipping INSERT: on PostgreSQL it goes as multi-row VALUES in chunks,
    so rows over a chunk's edge, quotes and '%' in text, NULLs, and a column mixing ints and texts (which one
    VALUES list cannot hold) must all arrive as one row per statement would, with the total row count."""
    from survey_tui.core.store import postgres

    store = open_store()
    version = store.publish_instrument("x", "t")
    interview = store.start_interview(version.id, mode="pilot", interviewer="amy").id
    n = postgres.MULTI_ROW_CHUNK * 2 + 7
    rows = [(interview, f"q{i}", "it's 100% 多" if i % 3 else None, None, "2026-01-01") for i in range(n)]
    sql = "INSERT INTO answers (interview_id, question, value, special, answered_at) VALUES (?, ?, ?, ?, ?)"
    with store.transaction() as conn:
        assert conn.executemany(sql, rows).rowcount == n
    stored = {
        r[0]: r[1] for r in store.query("SELECT question, value FROM answers WHERE interview_id = ?", (interview,))
    }
    assert stored == {q: v for _i, q, v, _s, _a in rows}
    again = sql + " ON CONFLICT (interview_id, question) DO NOTHING"
    with store.transaction() as conn:
        assert conn.executemany(again, rows).rowcount == 0
    mixed = [(interview, f"m{i}", i if i % 2 else str(i), None, "2026-01-01") for i in range(5)]
    with store.transaction() as conn:
        assert conn.executemany(sql, mixed).rowcount == 5
    got = store.query(
        "SELECT value FROM answers WHERE interview_id = ? AND question LIKE 'm%' ORDER BY question", (interview,)
    )
    assert [str(r[0]) for r in got] == [str(i) for i in range(5)]


def test_closing_the_reads_with_a_query_run_ahead_leaves_no_worker(open_store) -> None:  # type: ignore[no-untyped-def]
    """The bulk path runs the next query while the caller works on this one: stopping after the first frame
    waits for that query and closes it and the bulk connection, with no worker thread left behind (a report
    forks its chart workers only while the process has one thread)."""
    import threading

    driver = "adbc_driver_postgresql" if open_store.backend == "postgresql" else "adbc_driver_sqlite"
    pytest.importorskip(driver, reason=f"{driver} is not installed")
    store, sql, schema = _three_answers(open_store())
    frames = store.read_frames(sql, [("q0",), ("q1",), ("q2",)], schema)
    assert next(frames)["value"].to_list() == ['"0"']
    assert [t.name for t in threading.enumerate() if t.name.startswith("adbc-read")], "the bulk path was taken"
    frames.close()
    assert not [t.name for t in threading.enumerate() if t.name.startswith("adbc-read")]
    assert store.read_frame(sql, ("q2",), schema)["value"].to_list() == ['"2"']
