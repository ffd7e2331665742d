"""``hedui reverify``: the beneficiary roster, re-verification runs and their alerts.

    hedui reverify enroll  --config gateway.toml CASE_ID            a decided case's household
    hedui reverify import  --config gateway.toml --programme P FILE  a programme's list (xlsx/csv)
    hedui reverify start   --config gateway.toml --programme P --operator OP [--as-of D]
    hedui reverify resume  --config gateway.toml RUN_ID --operator OP
    hedui reverify status  --config gateway.toml RUN_ID
    hedui reverify alerts  --config gateway.toml [--grade G] [--township T]
    hedui reverify act     --config gateway.toml ALERT_ID confirm|dismiss|review --operator OP
                           --note TEXT [--review-case ID]

Each runs in this process against the gateway's own databases and keys, as
``gateway erase-expired`` does (the case store and the audit log take several writers:
replicas, and these commands beside a serving gateway). A run is resumable: ``resume``
(or ``start`` again elsewhere) takes over households whose claim went stale.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys

from hedui.errors import HeduiError

_CLAIMER = f"cli-{os.getpid()}"


def register(sub: argparse._SubParsersAction) -> None:
    rv = sub.add_parser("reverify", help="re-verify beneficiaries in bulk, with change alerts")
    cmds = rv.add_subparsers(dest="command", metavar="COMMAND")
    cmds.required = True

    def command(name: str, help_: str, func) -> argparse.ArgumentParser:  # type: ignore[no-untyped-def]
        p = cmds.add_parser(name, help=help_)
        p.add_argument("--config", required=True, help="the gateway's TOML")
        p.set_defaults(func=func)
        return p

    p = command("enroll", "put a decided case's household on its programme's roster", _enroll)
    p.add_argument("case_id")
    p = command("import", "import a programme's beneficiary list (xlsx, csv)", _import)
    p.add_argument("--programme", required=True)
    p.add_argument("file")
    p = command("start", "start a run over a programme's roster and work it", _start)
    p.add_argument("--programme", required=True)
    p.add_argument("--operator", required=True, help="the staff id starting the run")
    p.add_argument("--as-of", help="the date households are assessed as of (default: today)")
    p.add_argument("--chunk", type=int, default=500, help="households per bulk query")
    p.add_argument("--workers", type=int, default=1,
                   help="processes working the run together (one per core)")
    p = command("resume", "work an interrupted run to its end", _resume)
    p.add_argument("run_id")
    p.add_argument("--operator", required=True)
    p.add_argument("--chunk", type=int, default=500)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--stale-after", type=float, default=300.0, metavar="SECONDS",
                   help="take over households another process claimed this long ago "
                        "(it died); default 300")
    p = command("status", "a run's progress", _status)
    p.add_argument("run_id")
    p = command("alerts", "open change alerts", _alerts)
    p.add_argument("--grade", choices=("red", "orange", "yellow"))
    p.add_argument("--township")
    p = command("act", "act on a change alert", _act)
    p.add_argument("alert_id")
    p.add_argument("action", choices=("confirm", "dismiss", "review"))
    p.add_argument("--operator", required=True)
    p.add_argument("--note", default="")
    p.add_argument("--review-case", default="")


# ------------------------------------------------------------------ wiring


def reverifier_for(gw, *, claimer: str = _CLAIMER, chunk_size: int = 500):  # type: ignore[no-untyped-def]
    """The re-verification parts of a built gateway, for this command's process."""
    from hedui.gateway.reverify_runner import reverifier_for as parts

    return parts(gw, claimer=claimer, chunk_size=chunk_size)


def _gateway(path: str):  # type: ignore[no-untyped-def]
    from hedui.gateway import config as config_mod
    from hedui.gateway import server

    return server.build(config_mod.load(path))


def _with_gateway(path: str, work) -> int:  # type: ignore[no-untyped-def]
    gw = _gateway(path)

    async def main() -> int:
        try:
            return await work(gw)
        finally:
            await gw.close()

    return asyncio.run(main())


def _helpers(args: argparse.Namespace, run_id: str) -> list:  # type: ignore[type-arg]
    """``--workers N``: N - 1 more processes resuming the same run; claims keep them
    from deciding a household twice."""
    import subprocess

    if args.workers < 1:
        raise HeduiError("--workers is at least 1")
    cmd = [sys.executable, "-m", "hedui.cli", "reverify", "resume", "--config", args.config,
           run_id, "--operator", args.operator, "--chunk", str(args.chunk)]
    return [subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
            for _ in range(args.workers - 1)]


def _wait(helpers: list, roster) -> None:  # type: ignore[type-arg,no-untyped-def]
    """Wait for the helpers; what a failed one still held goes back to PENDING at once
    (not after its claims go stale), for this process to finish."""
    failed = [p for p in helpers if p.wait() != 0]
    for p in failed:
        released = roster.release_claims(f"cli-{p.pid}")
        print(f"a helper process (pid {p.pid}) failed; its {released} unfinished "
              "household(s) are decided here", file=sys.stderr)


def _print_progress(p) -> None:  # type: ignore[no-untyped-def]
    states = ", ".join(f"{k} {v}" for k, v in sorted(p.by_state.items()))
    alerts = ", ".join(f"{k} {v}" for k, v in sorted(p.alerts.items())) or "none"
    print(f"run {p.run_id} ({p.programme}, as of {p.as_of.isoformat()}): {p.state}; "
          f"{p.households} households: {states}; alerts: {alerts}")


# ------------------------------------------------------------------ commands


def _enroll(args: argparse.Namespace) -> int:
    async def work(gw) -> int:  # type: ignore[no-untyped-def]
        rv = reverifier_for(gw)
        row = gw.store.get(args.case_id)
        if row is None:
            raise HeduiError(f"no case {args.case_id}")
        if row.state != "CASE_STATE_DECIDED":
            raise HeduiError(f"case {args.case_id} is {row.state}, not decided: only a "
                             "decided case's household goes on the roster")
        try:
            auth = gw.cases.authorizations.get(row.authorization_number)
            valid = {"valid_until": auth.valid_until, "document_sha256": auth.document_sha256}
        except Exception:  # an authorization the registry no longer has
            valid = None
        roster_id = rv.roster.enroll_case(row, gw.cases.members(row), authorization=valid)
        print(f"case {args.case_id} enrolled in {row.programme} as {roster_id}")
        return 0

    return _with_gateway(args.config, work)


def _import(args: argparse.Namespace) -> int:
    from hedui.gateway.roster_import import import_roster

    async def work(gw) -> int:  # type: ignore[no-untyped-def]
        rv = reverifier_for(gw)
        result = import_roster(rv.roster, args.programme, args.file)
        print(f"{len(result.added)} households added to {args.programme}'s roster, "
              f"{result.skipped} already on it")
        return 0

    return _with_gateway(args.config, work)


def _as_of(text: str | None) -> dt.date:
    from hedui import china_time

    if not text:
        return china_time.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise HeduiError(f"--as-of {text!r} is not a date (YYYY-MM-DD)") from None


def _start(args: argparse.Namespace) -> int:
    from hedui.gateway.planner import plan

    as_of = _as_of(args.as_of)

    async def work(gw) -> int:  # type: ignore[no-untyped-def]
        rv = reverifier_for(gw, chunk_size=args.chunk)
        gw.cases.registry.require_active(args.operator)
        plan(rv.bundle(), args.programme)  # NoPolicy before a run is recorded
        run_id = rv.roster.create_run(args.programme, as_of, args.operator)
        print(f"run {run_id} started", flush=True)
        helpers = _helpers(args, run_id)
        await rv.run(run_id, operator=args.operator)
        await asyncio.to_thread(_wait, helpers, rv.roster)
        _print_progress(await rv.run(run_id, operator=args.operator))
        return 0

    return _with_gateway(args.config, work)


def _resume(args: argparse.Namespace) -> int:
    async def work(gw) -> int:  # type: ignore[no-untyped-def]
        rv = reverifier_for(gw, chunk_size=args.chunk)
        rv.stale_after = dt.timedelta(seconds=args.stale_after)
        gw.cases.registry.require_active(args.operator)
        if rv.roster.progress(args.run_id) is None:
            raise HeduiError(f"no run {args.run_id}")
        helpers = _helpers(args, args.run_id)
        await rv.run(args.run_id, operator=args.operator)
        await asyncio.to_thread(_wait, helpers, rv.roster)
        _print_progress(await rv.run(args.run_id, operator=args.operator))
        return 0

    return _with_gateway(args.config, work)


def _status(args: argparse.Namespace) -> int:
    async def work(gw) -> int:  # type: ignore[no-untyped-def]
        p = reverifier_for(gw).roster.progress(args.run_id)
        if p is None:
            raise HeduiError(f"no run {args.run_id}")
        _print_progress(p)
        return 0

    return _with_gateway(args.config, work)


def _alerts(args: argparse.Namespace) -> int:
    async def work(gw) -> int:  # type: ignore[no-untyped-def]
        store = reverifier_for(gw).roster
        rows = store.list_alerts(state="OPEN", township=args.township, grade=args.grade)
        for a in rows:
            print(f"{a.alert_id}\t{a.grade}\t{a.township}\tdue {a.due_on.isoformat()}\t"
                  f"run {a.run_id}\t{a.roster_id}")
        print(f"{len(rows)} open alert(s)", file=sys.stderr)
        return 0

    return _with_gateway(args.config, work)


def _act(args: argparse.Namespace) -> int:
    from hedui.gateway import worklist

    async def work(gw) -> int:  # type: ignore[no-untyped-def]
        rv = reverifier_for(gw)
        gw.cases.registry.require_active(args.operator)
        try:
            if args.action == "confirm":
                acted = worklist.confirm(rv.roster, args.alert_id, args.operator, args.note)
            elif args.action == "dismiss":
                acted = worklist.dismiss(rv.roster, args.alert_id, args.operator, args.note)
            else:
                acted = worklist.open_review(rv.roster, args.alert_id, args.operator,
                                             args.review_case, note=args.note)
                if isinstance(acted, worklist.ReviewNeeded):
                    raise HeduiError(
                        "open the review case (入户核查) first, then give its id with "
                        f"--review-case; its repeat reason: {acted.repeat_reason}")
        except worklist.WorklistError as exc:
            raise HeduiError(str(exc)) from None
        await rv.recorder.record_async(**acted.audit)
        print(f"alert {args.alert_id}: {args.action} recorded")
        return 0

    return _with_gateway(args.config, work)
