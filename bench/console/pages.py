"""How fast the console's pages render with a full case store, beside a static file.

    .venv/bin/python bench/console/pages.py [--cases 100000] [--requests 200] [--quick]

A sandbox with people; the real gateway and its eight agents; a few dozen real cases
through intake, verification and review, copied to ``--cases`` in the case store
(``seed.py``); then ``hedui console serve`` as its own process over HTTPS. A verifier
and an administrator sign in (password and TOTP, httpx with cookies, the CA file
verifying the console's certificate) and each page is asked ``--requests`` times, one
after another: sign-in, My work, a case and a report (a different one each time), the
new-case form, search (the form, and POSTed searches by state and dates, by case id, by
township), batch, statistics, staff, departments, standards — beside
``/static/console.css`` from the same server as baseline: the floor of TLS, HTTP and the
console's middleware (the session looked up, the headers) in this runtime, without a
page's calls to the gateway. Each time is the whole request as a browser sees it,
including those calls. A page that answers 404 is reported as not built; one that
fails, with its error, and the others still run.

Target (issue 16): every page <= 150 ms at the 95th percentile with 100,000 cases.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pyotp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seed import copy_cases, templates

from hedui.gateway import sandbox

TARGET_P95_MS = 150.0
REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results"


def say(text: str = "") -> None:
    print(text, flush=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Console:
    """The gateway, its agents and the console as processes of one sandbox."""

    def __init__(self, root: Path) -> None:
        self.sb = sandbox.provision(root, persons=400, people=True)
        self.material = sandbox.gateway_material(self.sb)
        self.processes: dict = {}
        self.cases_db = self.sb.gateway_config.parent / "state" / "cases.sqlite"

    def start_gateway(self, *, agents: bool) -> None:
        sb = self.sb
        p = self.processes["gateway"] = sandbox.start_gateway(sb)
        sandbox.wait_healthy(sb.gateway_endpoint, sb.gateway.id, self.material, process=p,
                             log_file=sb.logs / "gateway.log")
        for d in sb.agents if agents else ():
            p = self.processes[d] = sandbox.start_agent(sb, d)
            sandbox.wait_healthy(sb.endpoints[d], sb.agents[d].id, self.material, process=p)

    def stop(self, *names: str) -> None:
        for name in names or list(self.processes):
            sandbox.stop_process(self.processes.pop(name))

    def start_console(self) -> tuple[str, dict[str, str]]:
        """The console process, every staff member with the sandbox password and a TOTP
        secret; (its URL, the secrets)."""
        from hedui.console.accounts import AccountStore
        from hedui.console.config import ConsoleConfig
        from hedui.console.signin import hash_password
        from hedui.keys.secrets import load_secret

        path = sandbox.write_console_config(self.sb)
        config = ConsoleConfig.load(path)
        store = AccountStore(config.database, load_secret(config.secrets_key))
        hashed = hash_password(sandbox.CONSOLE_PASSWORD)
        totp = {}
        for person in sandbox.STAFF:
            store.set_password(person.staff_id, hashed, must_change=False)
            totp[person.staff_id] = pyotp.random_base32()
            store.set_totp(person.staff_id, totp[person.staff_id])
        store.engine.dispose()
        p = self.processes["console"] = sandbox.start_process(
            ["console", "serve", "--config", str(path)], self.sb.logs / "console.log")
        url = f"https://{config.listen}"
        deadline = time.monotonic() + 30
        while True:
            if p.poll() is not None:
                raise RuntimeError((self.sb.logs / "console.log").read_text())
            try:
                httpx.get(url + "/healthz", verify=str(self.sb.ca_certificate), timeout=2)
                return url, totp
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html)[1]


def signed_in(url: str, ca: Path, staff_id: str, secret: str) -> httpx.Client:
    """A client holding a full session of ``staff_id``, signed in as a person does."""
    client = httpx.Client(base_url=url, verify=str(ca), follow_redirects=True, timeout=30)
    r = client.get("/signin")
    r = client.post("/signin", data={"csrf": _csrf(r.text), "staff_id": staff_id,
                                     "password": sandbox.CONSOLE_PASSWORD})
    r = client.post("/signin/code", data={"csrf": _csrf(r.text),
                                          "code": pyotp.TOTP(secret).now()})
    if "/signout" not in r.text:
        raise RuntimeError(f"{staff_id} could not sign in: {r.status_code} {r.text[:300]}")
    return client


#: a request of the bench: (method, path, form data or None)
Ask = tuple[str, str, dict | None]


class NotBuilt(Exception):
    """The page answered 404: its screen is not in this console yet."""


def measure(client: httpx.Client, asks: Callable[[], Ask], n: int) -> list[float]:
    """Milliseconds per request over ``n`` requests (after two to warm up)."""
    times = []
    for i in range(n + 2):
        method, path, data = asks()
        t = time.perf_counter()
        r = client.request(method, path, data=data)
        ms = (time.perf_counter() - t) * 1000
        if r.status_code == 404 and i == 0:
            raise NotBuilt(path)
        if r.status_code != 200 or (r.url.path.startswith("/signin") and path != "/signin"):
            raise RuntimeError(f"{method} {path}: {r.status_code} at {r.url.path}\n"
                               f"{r.text[:400]}")
        if i >= 2:
            times.append(ms)
    return times


def sample_case_ids(cases_db: Path, k: int, *, state: str = "") -> list[str]:
    """``k`` case ids at random (of ``state``), as many times over as needed."""
    db = sqlite3.connect(cases_db)
    try:
        ids = [r[0] for r in db.execute(
            "SELECT case_id FROM cases WHERE ? IN ('', state) ORDER BY random() LIMIT ?",
            (state, k))]
    finally:
        db.close()
    return (ids * (k // max(len(ids), 1) + 1))[:k]


def run(cases: int, requests: int, templates_n: int, keep: bool) -> dict:
    root = Path(tempfile.mkdtemp(prefix="hedui-bench-console-"))
    site = Console(root)
    try:
        say(f"sandbox under {root}")
        t = time.perf_counter()
        site.start_gateway(agents=True)
        ids = templates(site.sb, templates_n)
        say(f"{len(ids)} cases through the real gateway in {time.perf_counter() - t:.1f} s")
        site.stop()
        t = time.perf_counter()
        added = copy_cases(site.cases_db, cases)
        say(f"{added} copies written in {time.perf_counter() - t:.1f} s: {cases} cases")
        site.start_gateway(agents=True)
        url, totp = site.start_console()
        ca = site.sb.ca_certificate
        verifier = signed_in(url, ca, sandbox.VERIFIER, totp[sandbox.VERIFIER])
        admin = signed_in(url, ca, sandbox.ADMIN, totp[sandbox.ADMIN])
        case_ids = sample_case_ids(site.cases_db, requests + 2)
        decided = sample_case_ids(site.cases_db, requests + 2, state="CASE_STATE_DECIDED")
        rnd = random.Random(3)
        token = _csrf(verifier.get("/search").text)
        today = time.strftime("%Y-%m-%d")
        anonymous = httpx.Client(base_url=url, verify=str(ca), timeout=30)

        def search(**fields: str) -> Callable[[], Ask]:
            return lambda: ("POST", "/search", {"csrf": token, **fields})

        def get(path: str) -> Callable[[], Ask]:
            return lambda: ("GET", path, None)

        pages: list[tuple[str, httpx.Client, Callable[[], Ask]]] = [
            ("static /static/console.css", verifier, get("/static/console.css")),
            ("sign-in /signin", anonymous, get("/signin")),
            ("my work /", verifier, get("/")),
            ("case /cases/ID", verifier, lambda: ("GET", f"/cases/{case_ids.pop()}", None)),
            ("report /cases/ID/report", verifier,
             lambda: ("GET", f"/cases/{decided.pop()}/report", None)),
            ("new case /cases/new", verifier, get("/cases/new")),
            ("search form /search", verifier, get("/search")),
            ("search: state, dates", verifier,
             search(state="CASE_STATE_AWAITING_REVIEW", opened_from="2000-01-01",
                    opened_until=today)),
            ("search: case id", verifier, lambda: search(case_id=rnd.choice(ids))()),
            ("search: township", verifier, search(township=sandbox.TOWNSHIP)),
            ("batch /batch", verifier, get("/batch")),
            ("statistics", verifier, get("/statistics")),
            ("staff /admin/staff", admin, get("/admin/staff")),
            ("departments", admin, get("/admin/departments")),
            ("standards", admin, get("/admin/standards")),
        ]
        figures: dict[str, dict[str, float]] = {}
        missing: list[str] = []
        failed: dict[str, str] = {}
        for name, client, asks in pages:
            try:
                times = measure(client, asks, requests)
            except NotBuilt:
                missing.append(name)
                say(f"  {name}: 404, not built yet")
                continue
            except RuntimeError as err:  # the page is wrong: reported, the others still run
                failed[name] = str(err).splitlines()[0]
                say(f"  {name}: FAILED {failed[name]}")
                continue
            figures[name] = {"p50_ms": statistics.median(times), "p95_ms": pct(times, 95),
                             "max_ms": max(times)}
            say(f"  {name}: p95 {figures[name]['p95_ms']:.1f} ms")
        anonymous.close()
        verifier.close()
        admin.close()
        return {"cases": cases, "requests": requests, "pages": figures,
                "not_built": missing, "failed": failed}
    finally:
        site.stop()
        if not keep:
            import shutil
            shutil.rmtree(root, ignore_errors=True)


def report(result: dict) -> bool:
    figures = result["pages"]
    base = figures["static /static/console.css"]["p95_ms"]
    say(f"\nconsole pages, {result['cases']:,} cases in the store, {result['requests']} "
        "requests each (ms, whole HTTPS request)")
    say(f"  {'page':<28} {'p50':>8} {'p95':>8} {'max':>8} {'p95/static':>11}")
    ok = True
    for name, f in figures.items():
        over = not name.startswith("static") and f["p95_ms"] > TARGET_P95_MS
        ok &= not over
        say(f"  {name:<28} {f['p50_ms']:8.1f} {f['p95_ms']:8.1f} {f['max_ms']:8.1f} "
            f"{f['p95_ms'] / base:10.1f}x" + ("  OVER TARGET" if over else ""))
    for name in result.get("not_built", []):
        say(f"  {name:<28} not built yet (404)")
    for name, why in result.get("failed", {}).items():
        ok = False
        say(f"  {name:<28} FAILED: {why}")
    say(f"target: every page <= {TARGET_P95_MS:.0f} ms p95 — {'met' if ok else 'NOT met'}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=200, help="requests per page")
    ap.add_argument("--templates", type=int, default=36,
                    help="cases through the real gateway before copying")
    ap.add_argument("--quick", action="store_true", help="10,000 cases, 60 requests a page")
    ap.add_argument("--keep", action="store_true", help="keep the sandbox folder")
    args = ap.parse_args()
    if args.quick:
        args.cases, args.requests = min(args.cases, 10_000), min(args.requests, 60)
    result = run(args.cases, args.requests, args.templates, args.keep)
    ok = report(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"console-pages-{time.strftime('%Y%m%dT%H%M%S')}" \
                    f"{'-quick' if args.quick else ''}.json"
    out.write_text(json.dumps({**result, "target_met": ok}, indent=1) + "\n", "utf-8")
    say(f"results written to {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
