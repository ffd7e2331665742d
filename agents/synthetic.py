"""Synthetic department databases for demos, tests and benchmarks.

``seed(directory, persons)`` writes eight SQLite files, ``<department-id>.sqlite``,
holding one consistent synthetic population seen through eight departments' own
schemas (see ``synthetic_schema``), and ``households.json``, a sample of households
per expected outcome, so a demo or an end-to-end test can pick "an eligible
household" or "one with a shop" without reading the databases.

Why synthetic: real household data may never leave a department, yet the gateway,
the agents and the mapping files need realistic volumes, codes and edge cases
(a scrapped car, a deregistered company, a deceased spouse still in the hukou).

Run it directly: ``python -m hedui.agents.synthetic DIR --persons 10000``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from hedui.agents.synthetic_people import (
    ASSET_LIMIT_FEN,
    CAPITAL_LIMIT_FEN,
    LABELS,
    STANDARD_FEN,
    Household,
    Population,
)
from hedui.agents.synthetic_schema import DDL, INDEXES, SYNC_LOG, RowBuilder, insert_sql

__all__ = ["DEPARTMENT_IDS", "LABELS", "SeedSummary", "seed"]

#: the eight agent ids, in the order of DESIGN.md
DEPARTMENT_IDS: tuple[str, ...] = tuple(DDL)
#: households kept per label in households.json
SAMPLES_PER_LABEL = 25
#: households generated between two flushes to SQLite (bounds memory)
_CHUNK = 4_000


@dataclass(frozen=True)
class SeedSummary:
    """What ``seed`` wrote: where, and how many rows of each department table."""

    directory: Path
    databases: dict[str, Path]
    households_file: Path
    persons: int
    households: int
    #: rows per table, keyed ``"<department>.<table>"``
    rows: dict[str, int]
    #: households per expected label over the whole population
    labels: dict[str, int]
    seconds: float = field(compare=False)

    def __str__(self) -> str:
        labels = ", ".join(f"{k} {v}" for k, v in self.labels.items())
        return (f"{self.persons} persons in {self.households} households -> {self.directory} "
                f"({self.seconds:.1f} s; {labels})")


def seed(directory: Path, persons: int, *, seed: int = 1,
         today: date = date(2026, 11, 1)) -> SeedSummary:
    """Write the eight department databases and households.json into ``directory``.

    Precondition: ``persons >= 1``. Existing files of the same names are replaced.
    Deterministic: the same (persons, seed, today) give the same database content.
    Memory stays bounded: households are generated and inserted in chunks.
    """
    if persons < 1:
        raise ValueError("persons must be at least 1")
    started = time.monotonic()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    population = Population(persons, seed, today)
    builder = RowBuilder(today, population.employers)
    paths = {d: directory / f"{d}.sqlite" for d in DEPARTMENT_IDS}
    conns: dict[str, sqlite3.Connection] = {}
    inserts: dict[str, dict[str, str]] = {}
    for dept, path in paths.items():
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        conn = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-8192",
                       "locking_mode=EXCLUSIVE"):
            conn.execute(f"PRAGMA {pragma}")
        conn.executescript(DDL[dept])
        conn.execute("BEGIN")
        conns[dept] = conn
        inserts[dept] = insert_sql(DDL[dept])
    counts = {f"{d}.{t}": 0 for d in DEPARTMENT_IDS for t in inserts[d]}
    label_counts = dict.fromkeys(LABELS, 0)
    samples: dict[str, list[dict[str, object]]] = {label: [] for label in LABELS}
    n_households = 0

    def flush(out: dict[str, dict[str, list[tuple[object, ...]]]]) -> None:
        for dept, tables in out.items():
            for table, rows in tables.items():
                if rows:
                    conns[dept].executemany(inserts[dept][table], rows)
                    counts[f"{dept}.{table}"] += len(rows)
                    rows.clear()

    out = {d: {t: [] for t in inserts[d]} for d in DEPARTMENT_IDS}
    try:
        out["human-resources"]["ab01"].extend(builder.employers())
        for h in population:
            n_households += 1
            builder.add(h, out)
            label_counts[h.label] += 1
            if len(samples[h.label]) < SAMPLES_PER_LABEL:
                samples[h.label].append(_sample(h))
            if n_households % _CHUNK == 0:
                flush(out)
        flush(out)
        synced = date.fromordinal(today.toordinal() - 1)
        for dept, (table, column, fmt) in SYNC_LOG.items():
            conns[dept].execute(f"INSERT INTO {table} ({column}) VALUES (?)", (fmt(synced),))
            counts[f"{dept}.{table}"] += 1
        flush(out)
        for dept, conn in conns.items():
            conn.execute("COMMIT")
            for ddl in INDEXES[dept]:
                conn.execute(ddl)
            conn.execute("ANALYZE")
            conn.execute("PRAGMA locking_mode=NORMAL")
            conn.execute("PRAGMA journal_mode=WAL")
    finally:
        for conn in conns.values():
            conn.close()
    households_file = directory / "households.json"
    households_file.write_text(json.dumps({
        "about": "Synthetic households by the outcome their data supports. Not real people.",
        "rules": {
            "programme": "dibao (Shanghai)",
            "income_standard_fen_per_person_month": STANDARD_FEN,
            "money_assets_limit_fen_per_person": ASSET_LIMIT_FEN,
            "subscribed_capital_limit_fen": CAPITAL_LIMIT_FEN,
            "income_window": "the 12 whole months before today",
            "today": today.isoformat(),
            "order": "vehicle, property, business, borderline (within 10%), income, assets",
        },
        "persons": persons,
        "households": n_households,
        "labels": label_counts,
        "samples": samples,
    }, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return SeedSummary(directory, paths, households_file, persons, n_households, counts,
                       label_counts, time.monotonic() - started)


def _sample(h: Household) -> dict[str, object]:
    return {
        "hukou_number": h.hukou_number,
        "expected": h.label,
        "facts": h.facts,
        "members": [{"id_number": p.id_number, "name": p.name, "relation": p.relation}
                    for p in h.members],
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m hedui.agents.synthetic DIR --persons N [--seed S]``."""
    parser = argparse.ArgumentParser(prog="python -m hedui.agents.synthetic",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    s = seed(args.directory, args.persons, seed=args.seed)
    print(f"{s.persons} persons in {s.households} households, {s.seconds:.1f} s -> "
          f"{s.directory}")
    for label, n in s.labels.items():
        print(f"  {label:22} {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
