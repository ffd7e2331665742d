"""An attacker with SQL access drops the triggers and edits rows; verify_all names it.

Each test is one attack. The log holds 40 leaves and checkpoints at sizes 10, 25, 40.
"""

from __future__ import annotations

import pytest
from audit_testlib import drop_triggers, table
from sqlalchemy import Engine, text

from hedui.audit.errors import TamperError
from hedui.audit.hashing import leaf_hash
from hedui.audit.proof_build import CompactRange
from hedui.audit.schema import row_hash
from hedui.audit.store import AuditLog

N = 40
ENTRIES = [f"access {i}: case c-{i % 7}, purpose dibao".encode() for i in range(N)]


@pytest.fixture
def victim(log: AuditLog, raw_engine: Engine, backend: dict[str, object]) -> AuditLog:
    log.append_many(ENTRIES[:10])
    log.checkpoint()
    log.append_many(ENTRIES[10:25])
    log.checkpoint()
    log.append_many(ENTRIES[25:])
    log.checkpoint()
    log.verify_all()
    drop_triggers(raw_engine, backend)
    return log


def _sql(engine: Engine, sql: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def _tamper(victim: AuditLog) -> TamperError:
    with pytest.raises(TamperError) as err:
        victim.verify_all()
    return err.value


def test_changed_entry_byte_names_the_leaf(
    victim: AuditLog, raw_engine: Engine, backend: dict[str, object]
) -> None:
    forged = bytearray(ENTRIES[13])
    forged[9] ^= 0x01
    _sql(raw_engine, f"UPDATE {table(backend, 'leaves')} SET entry = :e WHERE idx = 13",
         e=bytes(forged))  # fmt: skip
    err = _tamper(victim)
    assert err.leaf_index == 13 and "leaf 13" in str(err)


def test_changed_entry_with_recomputed_leaf_hash_names_the_leaf(
    victim: AuditLog, raw_engine: Engine, backend: dict[str, object]
) -> None:
    forged = b"access 13: nothing to see"
    _sql(raw_engine,
         f"UPDATE {table(backend, 'leaves')} SET entry = :e, leaf_hash = :h WHERE idx = 13",
         e=forged, h=leaf_hash(forged))  # fmt: skip
    assert _tamper(victim).leaf_index == 13


def test_fully_recomputed_row_is_caught_by_its_parent_node(
    victim: AuditLog, raw_engine: Engine, backend: dict[str, object]
) -> None:
    forged = b"access 12: nothing to see"
    h = leaf_hash(forged)
    _sql(raw_engine,
         f"UPDATE {table(backend, 'leaves')} SET entry = :e, leaf_hash = :h, row_hash = :r "
         "WHERE idx = 12", e=forged, h=h, r=row_hash(12, h))  # fmt: skip
    err = _tamper(victim)
    assert err.leaf_index == 12 and err.node == (1, 6)


def test_deleted_row_is_named(
    victim: AuditLog, raw_engine: Engine, backend: dict[str, object]
) -> None:
    _sql(raw_engine, f"DELETE FROM {table(backend, 'leaves')} WHERE idx = 20")
    err = _tamper(victim)
    assert err.leaf_index == 20 and "leaf 20 is missing" in str(err)


def test_deleted_last_rows_are_named(
    victim: AuditLog, raw_engine: Engine, backend: dict[str, object]
) -> None:
    _sql(raw_engine, f"DELETE FROM {table(backend, 'leaves')} WHERE idx >= 37")
    err = _tamper(victim)
    assert err.leaf_index == 37 and "from 37 on are missing" in str(err)


def test_deleted_tail_with_its_nodes_is_caught_by_the_checkpoint(
    victim: AuditLog, raw_engine: Engine, backend: dict[str, object]
) -> None:
    _sql(raw_engine, f"DELETE FROM {table(backend, 'leaves')} WHERE idx >= 32")
    _sql(raw_engine, f"DELETE FROM {table(backend, 'nodes')} WHERE (idx + 1) * "
         "(CASE level WHEN 1 THEN 2 WHEN 2 THEN 4 WHEN 3 THEN 8 ELSE 16 END) > 32")  # fmt: skip
    err = _tamper(victim)
    assert err.leaf_index == 32 and err.checkpoint_size == 40


@pytest.mark.parametrize(("first", "second"), [(7, 30), (4, 5)])
def test_swapped_rows_name_the_first(
    victim: AuditLog, raw_engine: Engine, backend: dict[str, object], first: int, second: int
) -> None:
    leaves = table(backend, "leaves")
    with raw_engine.begin() as conn:  # move whole rows, as an index swap does
        conn.execute(text(f"UPDATE {leaves} SET idx = -1 WHERE idx = :a"), {"a": first})
        conn.execute(text(f"UPDATE {leaves} SET idx = :a WHERE idx = :b"),
                     {"a": first, "b": second})  # fmt: skip
        conn.execute(text(f"UPDATE {leaves} SET idx = :b WHERE idx = -1"), {"b": second})
    err = _tamper(victim)
    assert err.leaf_index == first and f"leaf {first} was moved" in str(err)


def test_swapped_entries_name_the_first(
    victim: AuditLog, raw_engine: Engine, backend: dict[str, object]
) -> None:
    leaves = table(backend, "leaves")
    _sql(raw_engine, f"UPDATE {leaves} SET entry = :e WHERE idx = 9", e=ENTRIES[33])
    _sql(raw_engine, f"UPDATE {leaves} SET entry = :e WHERE idx = 33", e=ENTRIES[9])
    assert _tamper(victim).leaf_index == 9


def test_changed_subtree_hash_is_named(
    victim: AuditLog, raw_engine: Engine, backend: dict[str, object]
) -> None:
    _sql(raw_engine, f"UPDATE {table(backend, 'nodes')} SET hash = :h WHERE level = 3 AND idx = 2",
         h=b"\x00" * 32)  # fmt: skip
    err = _tamper(victim)
    assert err.node == (3, 2) and err.leaf_index is None and "16..23" in str(err)


def test_swapped_checkpoint_notes_name_the_first(
    victim: AuditLog, raw_engine: Engine, backend: dict[str, object]
) -> None:
    cps = table(backend, "checkpoints")
    with raw_engine.begin() as conn:
        notes = dict(conn.execute(text(f"SELECT size, note FROM {cps}")).all())
        conn.execute(text(f"UPDATE {cps} SET note = :n WHERE size = 25"), {"n": notes[40]})
        conn.execute(text(f"UPDATE {cps} SET note = :n WHERE size = 40"), {"n": notes[25]})
    err = _tamper(victim)
    assert err.checkpoint_size == 25 and err.leaf_index is None


def test_edited_checkpoint_note_is_named(
    victim: AuditLog, raw_engine: Engine, backend: dict[str, object]
) -> None:
    cps = table(backend, "checkpoints")
    _sql(raw_engine, f"UPDATE {cps} SET note = REPLACE(note, 'test.hedui', 'evil.hedui') "
         "WHERE size = 10")  # fmt: skip
    err = _tamper(victim)
    assert err.checkpoint_size == 10 and "signature" in str(err)


def _rewrite_history(engine: Engine, backend: dict[str, object], index: int) -> None:
    """Replace one entry and recompute everything derived from it (all but signatures)."""
    forged = list(ENTRIES)
    forged[index] = b"access: never happened"
    hashes = [leaf_hash(e) for e in forged]
    leaves, nodes = table(backend, "leaves"), table(backend, "nodes")
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {leaves} SET entry = :e, leaf_hash = :h, row_hash = :r "
                          "WHERE idx = :i"),
                     {"e": forged[index], "h": hashes[index],
                      "r": row_hash(index, hashes[index]), "i": index})  # fmt: skip
        for level, i, h in CompactRange().extend(hashes, include_leaves=False):
            conn.execute(text(f"UPDATE {nodes} SET hash = :h WHERE level = :l AND idx = :i"),
                         {"h": h, "l": level, "i": i})  # fmt: skip


def test_rewritten_history_is_caught_by_the_first_checkpoint_after_it(
    victim: AuditLog, raw_engine: Engine, backend: dict[str, object]
) -> None:
    _rewrite_history(raw_engine, backend, 17)
    err = _tamper(victim)
    assert err.checkpoint_size == 25 and "rewritten" in str(err)


def test_no_checkpoint_is_signed_over_rewritten_history(
    victim: AuditLog, raw_engine: Engine, backend: dict[str, object]
) -> None:
    _rewrite_history(raw_engine, backend, 3)
    victim.append(b"after the rewrite")
    with pytest.raises(TamperError, match="does not extend checkpoint 40"):
        victim.checkpoint()
    assert victim.open_note(victim.latest_checkpoint() or "").size == 40
