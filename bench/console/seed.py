"""Fill a gateway's case store with many cases, fast and honestly.

A few dozen cases go through the real gateway first (RegisterAuthorization, OpenCase,
VerifyCase against the eight agents, ReviewCase): what intake, verification and review
write. The store then holds ``cases`` copies of them made with plain SQL while the
gateway is stopped: each copy is a template case row (its sealed members, state,
outcome, digests) under a new case id and opening time spread over a year, a township
of the county, and the template's department parts, member search keys, audit leaf
references and sealed report — the rows and indexes the console's pages make the gateway
read (sealing has no per-case binding, so a copy opens like its template), in seconds
instead of hours of fan-outs. The sealed answers (``answers``, a few GB at this size) are
not copied: no page reads them, only a report being built does.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import secrets
import sqlite3
from pathlib import Path

from hedui.gateway import household as household_mod
from hedui.gateway import sandbox
from hedui.gateway.client import ClientConfig, GatewayClient
from hedui.gateway.demo import write_client_config
from hedui.v1 import case_pb2

#: the county's townships in the copies (the sandbox clerk's first)
TOWNSHIPS = [sandbox.TOWNSHIP, *(f"3101120{n:02d}" for n in range(2, 13))]
#: tables keyed by case id whose rows are copied with each case
CASE_TABLES = ("case_departments", "case_member_keys", "case_audit_leaves", "reports")
#: timestamp columns of those rows, moved with the copy's opening
MOVED = ("updated_at", "queried_at", "received_at", "erase_after", "issued_at")


def person(sb: sandbox.Sandbox, staff_id: str) -> GatewayClient:
    path = write_client_config(sb, sb.staff[staff_id], staff_id, f"{staff_id}.toml")
    return GatewayClient(ClientConfig.load(path))


def templates(sb: sandbox.Sandbox, n: int) -> list[str]:
    """``n`` real cases through the running gateway: a third left opened, a third
    verified (awaiting review), a third approved (decided, report issued)."""
    data = json.loads((sb.data_dir / "households.json").read_text("utf-8"))["samples"]
    samples = [h for g in data.values() for h in g] if isinstance(data, dict) else data
    today = dt.date.today()
    (sb.root / "households").mkdir(exist_ok=True)
    ids = []
    with person(sb, sandbox.VERIFIER) as desk, person(sb, sandbox.REVIEWER) as reviewer:
        for i in range(n):
            h = samples[i % len(samples)]
            hh = household_mod.load(household_mod.write(
                sb.root / "households" / f"T{i}.toml", programme="dibao", region="310000",
                members=h["members"], authorization_number=f"SQ-BENCH-{i:04d}", today=today))
            desk.call(desk.cases.RegisterAuthorization, case_pb2.RegisterAuthorizationRequest(
                authorization=hh.authorization))
            case = desk.call(desk.cases.OpenCase, case_pb2.OpenCaseRequest(
                programme=hh.programme, region=hh.region, members=hh.members,
                authorization_number=hh.authorization.number,
                township=TOWNSHIPS[i % len(TOWNSHIPS)]))
            ids.append(case.case_id)
            if i % 3 == 0:
                continue
            desk.call(desk.cases.VerifyCase, case_pb2.VerifyCaseRequest(case_id=case.case_id),
                      timeout=120)
            if i % 3 == 2:
                reviewer.call(reviewer.cases.ReviewCase, case_pb2.ReviewCaseRequest(
                    case_id=case.case_id, verdict=case_pb2.ReviewCaseRequest.VERDICT_APPROVE))
    return ids


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in db.execute(f"PRAGMA table_info({table})")]


def _shift(value: str | None, delta: dt.timedelta) -> str | None:
    """A timestamp as SQLAlchemy keeps it in SQLite, moved by ``delta``."""
    if not value:
        return value
    return str(dt.datetime.fromisoformat(value) + delta)


def copy_cases(cases_db: Path, total: int, *, seed: int = 7) -> int:
    """Grow the store to ``total`` cases by copying its cases (the gateway stopped);
    returns how many were added."""
    rnd = random.Random(seed)
    db = sqlite3.connect(cases_db)
    try:
        cols = _columns(db, "cases")
        rows = [dict(zip(cols, r, strict=True)) for r in db.execute("SELECT * FROM cases")]
        have = len(rows)
        if not rows or total <= have:
            return 0
        related = {t: _columns(db, t) for t in CASE_TABLES if _columns(db, t)}
        parts = {t: {} for t in related}
        for t, tcols in related.items():
            for r in db.execute(f"SELECT * FROM {t}"):
                row = dict(zip(tcols, r, strict=True))
                parts[t].setdefault(row["case_id"], []).append(row)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        insert = {t: f"INSERT INTO {t} ({', '.join(c)}) VALUES ({', '.join('?' * len(c))})"
                  for t, c in [("cases", cols), *related.items()]}
        batch: dict[str, list[tuple]] = {t: [] for t in insert}

        def flush() -> None:
            for t, values in batch.items():
                db.executemany(insert[t], values)
                values.clear()

        for n in range(total - have):
            tpl = rows[n % have]
            opened = now - dt.timedelta(days=rnd.uniform(0, 365))
            delta = opened - dt.datetime.fromisoformat(tpl["created_at"])
            case_id = f"case-{opened:%Y%m%d}-{secrets.token_hex(6)}"
            row = {**tpl, "case_id": case_id, "batch_key": None,
                   "created_at": str(opened), "updated_at": _shift(tpl["updated_at"], delta),
                   "application_date": f"{opened:%Y-%m-%d}",
                   "township": rnd.choice(TOWNSHIPS) if tpl.get("township") is not None
                   else None,
                   "applicant_key": secrets.token_hex(32) if tpl.get("applicant_key") else
                   tpl.get("applicant_key")}
            batch["cases"].append(tuple(row[c] for c in cols))
            for t, tcols in related.items():
                for part in parts[t].get(tpl["case_id"], ()):
                    copy = {**part, "case_id": case_id}
                    for c in MOVED:
                        if c in copy:
                            copy[c] = _shift(copy[c], delta)
                    if t == "case_member_keys":  # other people's keys: search finds its own
                        copy["key"] = secrets.token_hex(32)
                    batch[t].append(tuple(copy[c] for c in tcols))
            if len(batch["cases"]) >= 5000:
                flush()
        flush()
        db.commit()  # no ANALYZE: the gateway never runs one, so neither does the bench
        return total - have
    finally:
        db.close()
