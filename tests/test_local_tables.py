"""Several processes opening one new SQLite file create its tables without a race.

The demo gives every staff member a console password in parallel, one ``hedui console
password`` process each; with check-then-create they failed with "table accounts already
exists" (a CI run lost two guide tests to it).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
from pathlib import Path

from sqlalchemy import create_engine, inspect


def _open_store(args: tuple[str, object]) -> str:
    database, barrier = args
    from hedui.console.accounts import AccountStore

    barrier.wait()  # every process at the same point: the race's window, opened wide
    AccountStore(Path(database), b"k" * 32)
    return "ok"


def test_eight_processes_open_one_new_account_store(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    for attempt in range(3):  # each round a new file: three chances for the race to bite
        database = tmp_path / f"console-{attempt}.sqlite"
        with ctx.Manager() as manager:
            barrier = manager.Barrier(8)
            with ctx.Pool(8) as pool:
                assert pool.map(_open_store, [(str(database), barrier)] * 8) == ["ok"] * 8
        tables = set(inspect(create_engine(f"sqlite:///{database}")).get_table_names())
        assert {"accounts", "sessions"} <= tables


def test_creating_twice_keeps_what_was_written(tmp_path: Path) -> None:
    from hedui.console.accounts import AccountStore, accounts

    database = tmp_path / "console.sqlite"
    store = AccountStore(database, b"k" * 32)
    with store.engine.begin() as conn:
        conn.execute(accounts.insert().values(
            staff_id="s1", password_hash="h", totp_last_step=0, must_change=True,
            failures=0, updated_at=dt.datetime.now(dt.UTC)))
    again = AccountStore(database, b"k" * 32)
    with again.engine.connect() as conn:
        assert conn.execute(accounts.select()).first().staff_id == "s1"
