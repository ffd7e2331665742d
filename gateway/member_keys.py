"""Finding a person's cases without unsealing every case: keyed digests of members.

A case's members are sealed (``vault``); a search by ID number or name cannot open
100,000 cases to look. At intake each member's ID number goes into ``case_member_keys``
as its audit pseudonym (kind "id") and their name as a keyed digest (kind "name",
``Pseudonymizer.name_key``), in the transaction that inserts the case, so the table
never holds a number or a name and a search is one indexed look-up. Cases opened before
the table existed get their keys when the gateway starts (``backfill``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import Connection, exists, insert, select

from hedui.gateway.store import case_member_keys, cases
from hedui.v1 import case_pb2

if TYPE_CHECKING:
    from hedui.audit.pseudonym import Pseudonymizer
    from hedui.gateway.cases import CaseManager
    from hedui.gateway.store import CaseStore

log = structlog.get_logger("hedui.gateway")

ID, NAME = "id", "name"
#: cases backfilled per transaction at start-up
_BACKFILL_BATCH = 500


def keys_of(pseudonymizer: Pseudonymizer, members: Iterable[case_pb2.Member]
            ) -> list[tuple[str, str]]:
    """(key, kind) of each member's ID number and name, without repeats."""
    out: dict[str, str] = {}
    for member in members:
        out.setdefault(pseudonymizer.pseudonym(member.id_number), ID)
        if member.name.strip():
            out.setdefault(pseudonymizer.name_key(member.name), NAME)
    return list(out.items())


def write(conn: Connection, case_id: str, keys: Sequence[tuple[str, str]]) -> None:
    """The case's member keys, in the caller's transaction."""
    if keys:
        conn.execute(insert(case_member_keys),
                     [{"key": k, "case_id": case_id, "kind": kind} for k, kind in keys])


def cases_with(store: CaseStore, key: str, kind: str) -> list[str]:
    """Ids of the cases one of whose members has ``key``."""
    with store.read() as conn:
        rows = conn.execute(select(case_member_keys.c.case_id).where(
            case_member_keys.c.key == key, case_member_keys.c.kind == kind))
        return [r[0] for r in rows]


def backfill(m: CaseManager) -> int:
    """Keys for every case that has none (opened before 0006); how many were written."""
    store, done, last = m.store, 0, ""
    keyed = exists().where(case_member_keys.c.case_id == cases.c.case_id)
    while True:
        with store.read() as conn:
            ids = [r[0] for r in conn.execute(
                select(cases.c.case_id).where(~keyed, cases.c.case_id > last)
                .order_by(cases.c.case_id).limit(_BACKFILL_BATCH))]
        if not ids:
            break
        last = ids[-1]
        with store.tx() as conn:
            for case_id in ids:
                row = store.get(case_id)
                if row is None:
                    continue
                write(conn, case_id, keys_of(m.recorder.pseudonymizer, m.members(row)))
                done += 1
    if done:
        log.info("member keys written for earlier cases", cases=done)
    return done
