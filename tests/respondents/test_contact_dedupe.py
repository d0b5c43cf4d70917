"""Duplicate groups (same phone OR same e-mail, chains included) and the bulk write of an import."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest

from survey_tui.core.store.sqlite import Store
from survey_tui.io import contact_import as ci

HEADER = "姓名,手機,Email,性別,年齡,縣市,職業\n"


def union_find_roots(lines: list[int], phones: list[str | None], emails: list[str | None]) -> dict[int, int]:
    """Reference: the first line of each row's group, by plain union-find (rows in groups of 2+ only)."""
    parent = {line: line for line in lines}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for keys in (phones, emails):
        first: dict[str, int] = {}
        for line, key in zip(lines, keys, strict=True):
            if key is not None:
                union(first.setdefault(key, line), line)
    sizes: dict[int, int] = {}
    for line in lines:
        sizes[find(line)] = sizes.get(find(line), 0) + 1
    return {line: find(line) for line in lines if sizes[find(line)] > 1}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_groups_match_union_find_on_random_lists(seed: int) -> None:
    rng = random.Random(seed)
    n = 3000  # keys drawn from small pools: many groups, long chains across phone and e-mail
    lines = list(range(2, n + 2))
    phones = [None if rng.random() < 0.2 else f"09{rng.randrange(1800):08d}" for _ in lines]
    emails = [None if rng.random() < 0.3 else f"u{rng.randrange(1800)}@example.com" for _ in lines]
    good = pl.DataFrame({"line": lines, "phone": phones, "email": emails}, schema_overrides={"line": pl.Int64})
    roots = ci._component_roots(good)
    expected = union_find_roots(lines, phones, emails)
    assert dict(roots.iter_rows()) == expected
    assert max(expected.values()) > 2 and len(set(expected.values())) > 10  # the data really has groups


def test_a_long_chain_in_shuffled_order_collapses_onto_its_first_line() -> None:
    rng = random.Random(7)
    length = 400
    positions = list(range(length))  # chain position k is linked to k+1, alternately by phone and by e-mail
    rng.shuffle(positions)
    phones = [f"09{(k + 1) // 2:08d}" for k in positions]
    emails = [f"c{k // 2}@example.com" for k in positions]
    lines = list(range(2, length + 2))
    good = pl.DataFrame({"line": lines, "phone": phones, "email": emails}, schema_overrides={"line": pl.Int64})
    roots = ci._component_roots(good)
    assert roots.height == length and set(roots["root"]) == {2}


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "list.csv"
    path.write_bytes((HEADER + body).encode("utf-8"))
    return path


def test_rows_linked_only_through_a_later_row_are_one_person(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "甲,0911000111,a@example.com,男,30,,\n"  # line 2
        "乙,0922000222,b@example.com,,,台中市,\n"  # line 3: shares nothing with line 2 ...
        "丙,0911-000-111,B@example.com,,,,教師\n",  # line 4: ... but line 4 has line 2's phone and line 3's e-mail
    )
    plan = ci.prepare_import(ci.read_contact_file(path), rule="merge")
    assert plan.duplicates.select("line", "duplicate_of").rows() == [(3, "line 2"), (4, "line 2")]
    assert plan.new.height == 1
    row = plan.new.row(0, named=True)
    assert (row["line"], row["name"], row["email"]) == (2, "甲", "a@example.com")
    assert '"region":"台中市"' in row["attributes"] and '"職業":"教師"' in row["attributes"]


def test_excel_number_stored_with_decimal_zero_is_a_mobile() -> None:
    frame = pl.DataFrame({"p": ["912345678.0", "0912345678.0", "(02)2345-6789"]})
    assert frame.select(ci.normalise_phone(pl.col("p"))).to_series().to_list() == [
        "0912345678",
        "0912345678",
        "0223456789",
    ]


def test_bom_file_with_bad_bytes_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER.encode("utf-8") + b"\xa4\xa4,0912345678,,,,,\n")
    with pytest.raises(ci.ImportFailed) as caught:
        ci.read_contact_file(path)
    assert caught.value.problems[0].line == 2


def test_bulk_write_keeps_file_order_and_leaves_the_connection_as_it_was(tmp_path: Path) -> None:
    body = "".join(f"受訪者{i},09{i:08d},,女,30,,\n" for i in range(50))
    with Store(tmp_path / "survey.db") as store:
        ci.import_file(store, write(tmp_path, "舊,0987654321,,,,,\n"))
        with store.transaction() as conn:
            cache_before = conn.execute("PRAGMA cache_size").fetchone()[0]
        plan, result = ci.import_file(store, write(tmp_path, body))
        assert result is not None and result.imported == 50
        assert result.ids == sorted(result.ids)  # handed out in file order: id-keyed B-trees grow at the end
        rows = store.query("SELECT id FROM respondents ORDER BY rowid")
        assert [r[0] for r in rows][1:] == result.ids  # the list still shows the file's order
        history = store.query("SELECT COUNT(*) FROM respondent_status_history WHERE note = 'imported from list.csv'")
        assert history[0][0] == 51
        with store.transaction() as conn:
            assert conn.execute("PRAGMA cache_size").fetchone()[0] == cache_before
        assert store.integrity_check() == "ok"
