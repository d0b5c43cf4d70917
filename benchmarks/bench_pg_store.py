"""PostgreSQL store benchmark: answer commit latency with many concurrent writers (issue 13).

Run by hand:  python benchmarks/bench_pg_store.py [--writers 20] [--answers 200] [--rounds 3]
Starts a throwaway loopback cluster (tests/pgserver.py; as root it runs as the `postgres` user), then in
each round, with `--writers` processes writing at once:
- store: `PostgresStore.save_answer` (BEGIN, read the old value, upsert, audit row, COMMIT) per answer;
- bare: a bare psycopg INSERT + COMMIT of one row per answer on its own connection (the baseline).
- silent: the same store calls on a second database whose change announcements (the LISTEN/NOTIFY triggers
  of the supervisor view) are disabled, so store / silent is what announcing every change costs a writer.
They alternate in the same run on the same server, so the ratio store p99 / bare p99 compares like with
like (target: <= 3). Latency is each process's wall time around one call, pooled over all processes.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _store_writer(url: str, answers: int, start: mp.Barrier, out: mp.Queue) -> None:  # type: ignore[type-arg]
    from survey_tui.core.store.postgres import PostgresStore

    with PostgresStore(url) as store:
        version = store.versions("bench")[0]
        interview = store.start_interview(version.id, interviewer=f"p{os.getpid()}")
        start.wait()
        times = []
        for i in range(answers):
            t = time.perf_counter()
            store.save_answer(interview.id, f"q{i}", i, None, actor="bench")
            times.append(time.perf_counter() - t)
    out.put(times)


def _bare_writer(url: str, answers: int, start: mp.Barrier, out: mp.Queue) -> None:  # type: ignore[type-arg]
    import psycopg

    with psycopg.connect(url) as conn:
        start.wait()
        times = []
        for i in range(answers):
            t = time.perf_counter()
            conn.execute("INSERT INTO bare (writer, question, value) VALUES (%s, %s, %s)", (os.getpid(), f"q{i}", "1"))
            conn.commit()
            times.append(time.perf_counter() - t)
    out.put(times)


def _run(target: object, url: str, writers: int, answers: int) -> list[float]:
    ctx = mp.get_context("spawn")
    start, out = ctx.Barrier(writers), ctx.Queue()
    procs = [ctx.Process(target=target, args=(url, answers, start, out)) for _ in range(writers)]
    for p in procs:
        p.start()
    times = [t for _ in procs for t in out.get(timeout=600)]
    for p in procs:
        p.join()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--answers", type=int, default=200, help="answers per writer per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import psycopg

    from survey_tui.core.store.postgres import PostgresStore
    from tests.pgserver import remove_cluster, start_cluster

    cluster, reason = start_cluster()
    if cluster is None:
        print(f"no PostgreSQL server to benchmark against: {reason}")
        return 1
    try:
        url, silent_url = cluster.create_database(), cluster.create_database()
        for where in (url, silent_url):
            with PostgresStore(where) as store:
                store.publish_instrument("bench", "id: bench\n")
        with psycopg.connect(silent_url, autocommit=True) as conn:
            for table in ("interviews", "answers", "sync_conflicts"):
                conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_announce")
        with psycopg.connect(url, autocommit=True) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            conn.execute(
                "CREATE TABLE bare (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, writer INTEGER,"
                " question TEXT, value TEXT)"
            )
        print(
            f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"PostgreSQL {version} on loopback (fsync on, synchronous_commit on)"
        )
        print(f"{args.writers} concurrent writer processes x {args.answers} answers, {args.rounds} rounds\n")
        store_all: list[float] = []
        bare_all: list[float] = []
        silent_all: list[float] = []
        for r in range(args.rounds):
            bare = _run(_bare_writer, url, args.writers, args.answers)
            store = _run(_store_writer, url, args.writers, args.answers)
            silent = _run(_store_writer, silent_url, args.writers, args.answers)
            bare_all += bare
            store_all += store
            silent_all += silent
            print(
                f"round {r + 1}: store p50 {statistics.median(store) * 1000:6.2f} ms  p99 "
                f"{percentile(store, 99) * 1000:6.2f} ms | bare p50 {statistics.median(bare) * 1000:6.2f} ms  p99 "
                f"{percentile(bare, 99) * 1000:6.2f} ms | p99 ratio {percentile(store, 99) / percentile(bare, 99):.2f}"
                f" | without announcements p99 {percentile(silent, 99) * 1000:6.2f} ms"
            )
        ratio = percentile(store_all, 99) / percentile(bare_all, 99)
        print(
            f"\nall rounds: store p99 {percentile(store_all, 99) * 1000:.2f} ms, bare INSERT+COMMIT p99 "
            f"{percentile(bare_all, 99) * 1000:.2f} ms: ratio {ratio:.2f} (target <= 3)"
        )
        p50_store, p50_bare = statistics.median(store_all), statistics.median(bare_all)
        print(
            f"            store p50 {p50_store * 1000:.2f} ms, bare p50 {p50_bare * 1000:.2f} ms: "
            f"ratio {p50_store / p50_bare:.2f}"
        )
        p99_silent, p50_silent = percentile(silent_all, 99), statistics.median(silent_all)
        print(
            f"announcing changes (LISTEN/NOTIFY triggers): store p99 {percentile(store_all, 99) * 1000:.2f} ms vs "
            f"{p99_silent * 1000:.2f} ms without (ratio {percentile(store_all, 99) / p99_silent:.2f}); p50 ratio "
            f"{p50_store / p50_silent:.2f}"
        )
    finally:
        remove_cluster(cluster)
    return 0


if __name__ == "__main__":
    sys.exit(main())
