"""The study's database: one interface (base.py), one schema and migration history (schema.py), two backends.

- sqlite.py: the embedded default, `survey.db` beside study.yaml; needs no server.
- postgres.py: a team's PostgreSQL server (psycopg 3), named by `store:` in study.yaml or the environment
  variable SURVEY_TUI_DATABASE_URL; roles.py sets up its roles and row-level security.

`open_store` opens either from what names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from survey_tui.core.store.base import StoreBase


def open_store(where: str | Path) -> StoreBase:
    """A postgresql:// URL opens that server's store; anything else is the path of a survey.db."""
    from survey_tui.core.store.postgres import is_server_url

    if isinstance(where, str) and is_server_url(where):
        from survey_tui.core.store.postgres import PostgresStore

        return PostgresStore(where)
    from survey_tui.core.store.sqlite import Store

    return Store(Path(where))
