"""What encrypting contact data at rest costs on an import and on a search of the list.

Baselines in the same run: committing the same import with the sealing step replaced by the plain insert
of the values (what the store did before contact rows were encrypted), and a SQL LIKE over a plaintext copy
of the contact table (what the search did before).

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

    with Store(work / "sealed.db") as store:
        start = time.perf_counter()
        found = resp.page(store, resp.RespondentFilter(search="受訪者4242"))
        search = time.perf_counter() - start
    conn = sqlite3.connect(work / "plain.db")
    start = time.perf_counter()
    like = conn.execute(
        "SELECT COUNT(*) FROM respondent_contacts WHERE name LIKE ? OR email LIKE ? OR phone LIKE ?",
        ("%受訪者4242%", "%受訪者4242%", "%4242%"),  # the query the list's search ran before encryption
    ).fetchone()[0]
    baseline = time.perf_counter() - start
    conn.close()
    print(
        f"search of {rows:,} sealed rows: {search:.3f} s ({found.total} found); "
        f"plaintext LIKE baseline {baseline:.3f} s ({like} found; {search / baseline:.1f}x)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
