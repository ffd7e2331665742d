"""Creating a component's own SQLite tables when several processes start at once.

``metadata.create_all`` checks, then creates: two processes opening the same new file
(the demo gives every staff member a password in parallel, each a ``hedui console
password`` process) both see no table and the second fails with "table … already
exists". ``CREATE TABLE IF NOT EXISTS`` in one transaction has no such window.
"""

from __future__ import annotations

from sqlalchemy import Engine, MetaData
from sqlalchemy.schema import CreateIndex, CreateTable

__all__ = ["create_missing"]


def create_missing(engine: Engine, metadata: MetaData) -> None:
    """Every table and index of ``metadata`` that ``engine``'s database lacks."""
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            conn.execute(CreateTable(table, if_not_exists=True))
            for index in table.indexes:
                conn.execute(CreateIndex(index, if_not_exists=True))
