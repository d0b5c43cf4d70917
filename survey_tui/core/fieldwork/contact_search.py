"""Searching sealed contacts at interactive speed: an in-memory index of the opened rows, never written anywhere.

Why this design (and not keyed search tokens stored beside the ciphertext): a contact row is one AES-GCM
ciphertext, so no SQL index can look inside it, and opening 100,000 rows for every keystroke takes about a
second. Two ways out were weighed:

- keyed-hash tokens in the database (HMAC of name n-grams, phone suffixes, e-mail local parts). They make a
  copied ``survey.db`` say more than it does now: equal tokens show which respondents share a surname (a few
  surnames cover a quarter of Taiwan, so a token's frequency alone names it), the last digits of a phone, or an
  e-mail's local part; and they are one more copy of personal data to erase on withdrawal and to purge.
- an index of the opened values held in the memory of the process that already holds the key and already shows
  those values on screen. It adds nothing to any file: a copy of the study folder, its WAL or any cache is
  exactly as opaque as before, and erasure has nothing more to remove on disk.

The second is what a privacy reviewer accepts without a new leak to argue about, so it is the one built. The
index keeps only what the list's search looks at (the pseudonymous id, name, phone and the lowercased e-mail:
no address, national id or other personal field), is built once per process in a worker thread (the screen
says it is preparing meanwhile), and is checked against the contact table's change token (the key's fingerprint,
the table's change counter and row count: one small read) before every use, so a write by any process (an
import, a withdrawal, a retention purge, a key rotation) makes it rebuild rather than answer from stale or
erased values. ``drop`` forgets it (the Respondents screen does so when it closes); a withdrawal or purge drops
it at once in the process that made it. Python cannot wipe the memory its strings used; what is freed is
reused by the process and gone when it ends, and nothing is ever written out.

This module holds the cache and the matching only; `fieldwork/respondents.py` (the only code touching the
contact table) opens the rows and supplies the token.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from survey_tui.core.lazy import lazy

if TYPE_CHECKING:
    import polars as pl
else:
    pl = lazy("polars")


@dataclass(frozen=True)
class ContactIndex:
    """The searchable contact values of one store as they were at `token`."""

    token: Hashable
    frame: pl.DataFrame  # respondent_id, name, phone, email (lowercased)

    @property
    def size(self) -> int:
        return self.frame.height

    def matching(self, term: str) -> list[str]:
        """Ids whose name or e-mail contains `term` (e-mail ignoring case) or whose phone contains its digits
        (three or more), the same rule the list's search always had."""
        term = term.strip()
        if not term or self.frame.height == 0:
            return []
        digits = "".join(ch for ch in term if ch.isdigit())
        hit = pl.col("name").str.contains(term, literal=True) | pl.col("email").str.contains(term.lower(), literal=True)
        if len(digits) >= 3:
            hit = hit | pl.col("phone").str.contains(digits, literal=True)
        return self.frame.filter(hit.fill_null(False))["respondent_id"].to_list()


_INDEXES: dict[str, ContactIndex] = {}
_LOCKS: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def current(where: str, token: Hashable) -> ContactIndex | None:
    """The index of `where` if it is built and still matches `token` (else None: it must be prepared)."""
    index = _INDEXES.get(where)
    return index if index is not None and index.token == token else None


def get(where: str, token: Hashable, build: Callable[[], tuple[Hashable, pl.DataFrame]]) -> ContactIndex:
    """The index of `where` at `token`, built with `build` (-> (token read before the rows, frame)) when missing
    or stale. Callers at the same time wait for one build rather than each opening every row."""
    index = current(where, token)
    if index is not None:
        return index
    with _GUARD:
        lock = _LOCKS.setdefault(where, threading.Lock())
    with lock:
        index = current(where, token)  # another thread built it meanwhile
        if index is None:
            _INDEXES.pop(where, None)  # the stale values go before the new ones are read
            built_token, frame = build()
            index = ContactIndex(built_token, frame)
            _INDEXES[where] = index
    return index


def drop(where: str | None = None) -> None:
    """Forget the index of `where` (every index when None): nothing of it is kept once the last use ends."""
    if where is None:
        _INDEXES.clear()
    else:
        _INDEXES.pop(where, None)


def held(where: str) -> ContactIndex | None:
    """The index of `where` whatever its token (for tests and the privacy report: is anything held?)."""
    return _INDEXES.get(where)
