"""Opening a department's database so that it cannot be written.

SQLite files are opened with ``mode=ro`` and ``PRAGMA query_only``; PostgreSQL
sessions get ``default_transaction_read_only = on`` and every transaction is started
READ ONLY. Kept apart from the mapping adapter so the one promise "hedui never writes
to your database" lives in one short file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from hedui.agents.mapping_config import MappingError


def redact_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def read_only_engine(url_text: str) -> Engine:
    """An engine that cannot write: SQLite opened read-only, PostgreSQL read-only sessions."""
    try:
        url = make_url(url_text)
    except ArgumentError:
        raise MappingError(f"database URL {url_text!r} is not a URL like "
                           "sqlite:///path or postgresql+psycopg://host/db") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        db = url.database or ""
        if not db or db == ":memory:" or db.startswith("file:"):
            raise MappingError("a SQLite database URL must name a file: sqlite:///path/to/db")
        path = Path(db).resolve()
        if not path.is_file():
            raise MappingError(f"no SQLite database file at {path}")
        ro = URL.create("sqlite+pysqlite", database=f"file:{quote(path.as_posix())}",
                        query={"mode": "ro", "uri": "true"})
        engine = create_engine(ro, hide_parameters=True,
                               connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _query_only(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA query_only = ON")

        return engine
    if backend == "postgresql":
        # keep the department's own libpq options (e.g. -c search_path=...), add ours last
        given = url.query.get("options", ())
        options = " ".join([*([given] if isinstance(given, str) else given),
                            "-c default_transaction_read_only=on"])
        return create_engine(
            url.difference_update_query(["options"]), hide_parameters=True,
            pool_pre_ping=True, execution_options={"postgresql_readonly": True},
            connect_args={"connect_timeout": 5, "options": options},
        )
    raise MappingError(f"database {backend!r} is not supported; use sqlite or postgresql "
                       "(read-only access is enforced for those)")
