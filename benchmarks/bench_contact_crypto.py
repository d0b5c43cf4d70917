"""What encrypting contact data at rest costs on an import and on a search of the list.

Baselines in the same run: committing the same import with the sealing step replaced by the plain insert
of the values (what the store did before contact rows were encrypted), and a SQL LIKE over a plaintext copy
of the contact table (what the search did before encryption), with the same terms. The search is timed once
cold (the first search of a process opens every sealed row into the in-memory index) and then repeated.

Run: PYTHONPATH=. python benchmarks/bench_contact_crypto.py [ROWS]   (default 100,000)
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path


def main(rows: int) -> None:
    import polars as pl

    from survey_tui.core.fieldwork import respondents as resp
    from survey_tui.core.store.sqlite import Store
    from survey_tui.io.contact_import import RawTable, commit_import, prepare_import

    work = Path(tempfile.mkdtemp(prefix="bench-crypto-"))
    os.environ.setdefault("SURVEY_TUI_KEY_DIR", str(work / "keys"))
    frame = pl.DataFrame(
        {
            "姓名": [f"受訪者{i}" for i in range(rows)],
            "手機": [f"09{i:08d}" for i in range(rows)],
            "Email": [f"p{i}@example.tw" for i in range(rows)],
            "地址": [f"臺北市某路{i}號" for i in range(rows)],
            "身分證字號": [f"A{i:09d}" for i in range(rows)],
        }
    )
    plan = prepare_import(RawTable(frame, "bench.csv", "utf-8"), rule="merge")

    def timed_import(name: str, plain: bool) -> float:
        store = Store(work / f"{name}.db")
        original = resp._insert_contacts
        if plain:  # the baseline: the same rows stored as they are

            def insert_plain(store_: object, conn: sqlite3.Connection, rows_: object, **_: object) -> None:
                conn.executemany(
                    "INSERT INTO respondent_contacts (respondent_id, name, phone, email, address, personal)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    rows_,  # type: ignore[arg-type]
                )

            resp._insert_contacts = insert_plain  # type: ignore[assignment]
        else:
            resp.ensure_key(store)
        try:
            start = time.perf_counter()
            commit_import(store, plan)
            return time.perf_counter() - start
        finally:
            resp._insert_contacts = original  # type: ignore[assignment]
            store.close()

    plain = timed_import("plain", plain=True)
    sealed = timed_import("sealed", plain=False)
    print(f"import of {rows:,} rows: sealed {sealed:.2f} s, plaintext baseline {plain:.2f} s ({sealed / plain:.2f}x)")

    # the search: the first one in a process opens every sealed row into the in-memory index (the screen says
    # it is preparing); later ones answer from it. Baseline: the SQL LIKE over the plaintext copy, the same terms.
    terms = ["受訪者4242", "p777@", "0900031337", "受訪者99", "A000012345"]
    conn = sqlite3.connect(work / "plain.db")
    like_sql = "SELECT COUNT(*) FROM respondent_contacts WHERE name LIKE ? OR email LIKE ? OR phone LIKE ?"

    def like(term: str) -> tuple[float, int]:
        digits = "".join(c for c in term if c.isdigit())
        start = time.perf_counter()
        count = conn.execute(like_sql, (f"%{term}%", f"%{term.lower()}%", f"%{digits or term}%")).fetchone()[0]
        return time.perf_counter() - start, count

    with Store(work / "sealed.db") as store:
        from survey_tui.core.fieldwork import contact_search

        contact_search.drop()
        start = time.perf_counter()
        first = resp.page(store, resp.RespondentFilter(search=terms[0]))
        cold = time.perf_counter() - start
        warm: list[float] = []
        for _round in range(3):
            for term in terms:
                start = time.perf_counter()
                resp.page(store, resp.RespondentFilter(search=term))
                warm.append(time.perf_counter() - start)
        start = time.perf_counter()
        broad = resp.page(store, resp.RespondentFilter(search="受訪者"))  # every row matches: the worst case
        broad_s = time.perf_counter() - start
    baseline = sorted(like(t)[0] for t in terms * 3)
    like_first, like_count = like(terms[0])
    like_broad, _count = like("受訪者")
    conn.close()
    warm.sort()
    median, worst = warm[len(warm) // 2], warm[-1]
    base_median = baseline[len(baseline) // 2]
    print(
        f"first search of {rows:,} sealed rows (opens them into the index): {cold:.3f} s ({first.total} found); "
        f"plaintext LIKE {like_first:.3f} s ({like_count} found; {cold / like_first:.1f}x)"
    )
    print(
        f"repeated searches ({len(warm)}): median {median:.3f} s, slowest {worst:.3f} s; plaintext LIKE median "
        f"{base_median:.3f} s ({median / base_median:.1f}x)"
    )
    print(
        f"a term every row matches: {broad_s:.3f} s ({broad.total:,} found, 50 shown); "
        f"plaintext LIKE {like_broad:.3f} s ({broad_s / like_broad:.1f}x)"
    )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
