"""Shared parts of the gateway benches: a real deployment on loopback, households,
percentiles, py-spy and the results file.

Every bench stands up the same thing `hedui demo` does (gateway + eight agents, each
its own process, mutual TLS, signed bundle) through ``hedui.gateway.sandbox``; only the
trust bundle may be edited before start (to put a delaying proxy in front of one agent).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hedui.agents.synthetic_people import iter_households
from hedui.gateway import household as household_mod
from hedui.gateway import sandbox
from hedui.gateway.config import CHECKPOINT_INTERVAL
from hedui.gateway.demo import write_client_config
from hedui.v1 import case_pb2

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
RESULTS = REPO / "bench" / "results"
PY = sys.executable
#: what provision() seeds with (seed=7) and the synthetic data's default "today"
SEED = 7
SEED_TODAY = dt.date(2026, 11, 1)


def say(text: str = "") -> None:
    print(text, flush=True)


# ------------------------------------------------------------------ households


def households(persons: int, n: int | None = None) -> list[list[dict]]:
    """The members of the provisioned population's households (all of them, in order)."""
    out = []
    for h in iter_households(persons, SEED, SEED_TODAY):
        out.append([{"id_number": p.id_number, "name": p.name,
                     "relation": p.relation.removeprefix("RELATION_").lower().replace("_", "-")}
                    for p in h.members])
        if n is not None and len(out) >= n:
            break
    return [m for m in out if m]


def write_households(directory: Path, members: list[list[dict]], prefix: str,
                     count: int) -> list[Path]:
    """``count`` household TOMLs (cycling over ``members``), each with its own
    authorization number."""
    directory.mkdir(parents=True, exist_ok=True)
    today = dt.date.today()
    paths = []
    for i in range(count):
        number = f"SQ-{prefix}-{i:07d}"
        paths.append(household_mod.write(
            directory / f"{number}.toml", programme="dibao", region="310000",
            members=members[i % len(members)], authorization_number=number, today=today))
    return paths


def authorization(number: str, members: list[dict]) -> case_pb2.Authorization:
    """What ``household.load`` builds from a written file, without the file."""
    import hashlib

    from hedui.v1 import common_pb2

    today = dt.date.today()
    end = today + dt.timedelta(days=364)
    d = lambda x: common_pb2.Date(year=x.year, month=x.month, day=x.day)  # noqa: E731
    return case_pb2.Authorization(
        number=number, programme="dibao", covered_id_numbers=[m["id_number"] for m in members],
        signed_on=d(today), validity=common_pb2.Period(start=d(today), end=d(end)),
        document_sha256=hashlib.sha256(number.encode()).hexdigest())


def members_pb(members: list[dict]) -> list[case_pb2.Member]:
    return [case_pb2.Member(id_number=m["id_number"], name=m["name"],
                            relation=household_mod.RELATIONS[m["relation"]]) for m in members]


# ------------------------------------------------------------------ deployment


@dataclass
class Deployment:
    sb: sandbox.Sandbox
    client_config: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    proxied: str | None = None
    proxy_endpoint: str = ""
    proxy: subprocess.Popen | None = None

    def pid(self, name: str) -> int:
        return self.processes[name].pid


def _set_endpoint(trust_toml: Path, department: str, endpoint: str) -> None:
    """Point ``department``'s agent endpoint in trust.toml at ``endpoint``."""
    text = trust_toml.read_text(encoding="utf-8")
    pattern = re.compile(
        r'(department = "' + re.escape(department) + r'"\nendpoint = ")([^"]+)(")')
    new, n = pattern.subn(lambda m: m.group(1) + endpoint + m.group(3), text)
    if n != 1:
        raise RuntimeError(f"cannot find {department}'s endpoint in {trust_toml}")
    trust_toml.write_text(new, encoding="utf-8")


def provision(root: Path, *, persons: int, proxied: str | None = None) -> Deployment:
    """Provision a sandbox; with ``proxied``, that department's endpoint in the signed
    trust bundle points at a port where ``started`` runs the delay proxy."""
    sb = sandbox.provision(root, persons=persons)
    # the shipped checkpoint interval, not the tests' shorter one
    sandbox.write_gateway_config(sb, checkpoint_interval=CHECKPOINT_INTERVAL)
    desk = write_client_config(sb, sb.desk, sandbox.VERIFIER, "hedui-client.toml")
    dep = Deployment(sb, desk)
    if proxied:
        dep.proxied = proxied
        dep.proxy_endpoint = f"127.0.0.1:{sandbox.free_port()}"
        _set_endpoint(sb.trust_toml, proxied, dep.proxy_endpoint)
        sandbox.write_bundle(sb)
    return dep


@contextmanager
def started(dep: Deployment, *, delay: float = 0.2) -> Iterator[Deployment]:
    """Start (and at the end stop) the proxy if any, the gateway and the eight agents."""
    sb = dep.sb
    material = sandbox.gateway_material(sb)
    try:
        if dep.proxied:
            dep.proxy = subprocess.Popen(
                [PY, str(HERE / "delay_proxy.py"), dep.proxy_endpoint,
                 sb.endpoints[dep.proxied], str(delay)],
                stdout=subprocess.PIPE, start_new_session=True)
            if dep.proxy.stdout.readline().strip() != b"ready":
                raise RuntimeError("the delay proxy did not start")
        dep.processes["gateway"] = sandbox.start_gateway(sb)
        for d in sb.agents:
            dep.processes[d] = sandbox.start_agent(sb, d)
        sandbox.wait_healthy(sb.gateway_endpoint, sb.gateway.id, material,
                             process=dep.processes["gateway"], log_file=sb.logs / "gateway.log")
        for d, ident in sb.agents.items():
            sandbox.wait_healthy(sb.endpoints[d], ident.id, material, process=dep.processes[d],
                                 log_file=sb.logs / f"agent-{d}.log")
        yield dep
    finally:
        for p in dep.processes.values():
            sandbox.stop_process(p)
        dep.processes.clear()
        if dep.proxy is not None:
            sandbox.stop_process(dep.proxy, timeout=5)
            dep.proxy = None


@contextmanager
def deployment(root: Path, *, persons: int, proxied: str | None = None,
               delay: float = 0.2) -> Iterator[Deployment]:
    """Provision and start gateway + 8 agents; optionally a delay proxy before ``proxied``."""
    with started(provision(root, persons=persons, proxied=proxied), delay=delay) as dep:
        yield dep


@contextmanager
def workdir(prefix: str, keep: bool = False) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield root
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


# ------------------------------------------------------------------ figures


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def write_results(name: str, data: dict, quick: bool) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = RESULTS / f"gateway-{name}-{stamp}{'-quick' if quick else ''}.json"
    path.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    say(f"results written to {path.relative_to(REPO)}")
    return path


# ------------------------------------------------------------------ profiles


def py_spy(pids: dict[str, int], seconds: float, out_dir: Path) -> dict[str, subprocess.Popen]:
    """Start ``py-spy record`` (raw, non-blocking, with native idle filtering) per process."""
    exe = Path(PY).parent / "py-spy"
    if not exe.exists():
        return {}
    out_dir.mkdir(parents=True, exist_ok=True)
    procs = {}
    for name, pid in pids.items():
        procs[name] = subprocess.Popen(
            [str(exe), "record", "-p", str(pid), "-d", str(max(1, int(seconds))), "-f", "raw",
             "-o", str(out_dir / f"{name}.txt"), "--nonblocking", "-F", "-r", "100"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return procs


Ranked = list[tuple[str, float]]


def hotspots(raw: Path, top: int = 8) -> tuple[int, Ranked, Ranked]:
    """From a py-spy raw (collapsed) file: total samples, top self frames, top
    inclusive frames inside hedui (as a share of non-idle samples)."""
    if not raw.exists():
        return 0, [], []
    self_c: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        try:
            count = int(n)
        except ValueError:
            continue
        frames = stack.split(";")
        leaf = frames[-1]
        if _idle(leaf):
            continue
        total += count
        self_c[_short(leaf)] = self_c.get(_short(leaf), 0) + count
        seen = set()
        for f in frames:
            s = _short(f)
            if _ours(f) and s not in seen:
                seen.add(s)
                incl[s] = incl.get(s, 0) + count
    if not total:
        return 0, [], []
    rank = lambda d: [(k, v / total) for k, v in  # noqa: E731
                      sorted(d.items(), key=lambda kv: -kv[1])[:top]]
    return total, rank(self_c), rank(incl)


def _idle(frame: str) -> bool:
    """Frames where a thread waits (py-spy --nonblocking still samples some of them)."""
    return frame.startswith(("EpollSelector.select", "Condition.wait", "Event.wait",
                             "_worker (concurrent", "Thread.run (threading", "sleep ",
                             "_wait_for_tstate_lock", "select (selectors"))


_OURS = ("(hedui/", "(gateway/", "(agents/", "(audit/", "(keys/")


def _ours(frame: str) -> bool:
    """A frame of hedui's own code (not the CLI/server entry points, which are in every
    stack)."""
    return any(o in frame for o in _OURS) and not any(
        x in frame for x in ("(hedui/cli.py", "_serve (", "serve (", "(gateway/cli.py",
                             "(agents/cli.py"))


def _short(frame: str) -> str:
    """'func (path/to/file.py:12)' -> 'func (file.py:12)' with the hedui package path."""
    m = re.match(r"(.*) \((.*):(\d+)\)$", frame)
    if not m:
        return frame
    func, path, line = m.groups()
    for marker in ("/work/main/", "site-packages/", "/lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{func} ({path}:{line})"


def print_hotspots(name: str, raw: Path, top: int = 8) -> dict:
    total, selfs, incls = hotspots(raw, top)
    if not total:
        say(f"  {name}: no profile")
        return {}
    say(f"  {name}: {total} busy samples")
    say("    self time:")
    for k, v in selfs:
        say(f"      {v:6.1%}  {k}")
    say("    inclusive (hedui code):")
    for k, v in incls:
        say(f"      {v:6.1%}  {k}")
    return {"samples": total, "self": selfs, "inclusive": incls}


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds of a process so far (from /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ raw baseline


@contextmanager
def echo_deployment(sb: sandbox.Sandbox, *, floor: bool = False
                    ) -> Iterator[dict[str, subprocess.Popen]]:
    """The raw-gRPC 1 + 8 pattern on the same certificates: an echo "gateway" on the
    gateway's endpoint (the real one must be stopped) and eight echo "agents" on fresh
    ports. With ``floor``, the gateway also signs and verifies what a conforming one must
    (see echo_gateway.py) and the agents are the agent floor
    (``bench/agents/floor_server.py``) on the agents' own endpoints, which must be free.
    Yields the processes by name."""
    procs: dict[str, subprocess.Popen] = {}
    script = str(HERE / "echo_gateway.py")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    try:
        peers = {}
        for d, ident in sb.agents.items():
            if floor:  # the agent floor, on the agent's own configuration and endpoint
                endpoint = sb.endpoints[d]
                cmd = [PY, str(HERE.parent / "agents" / "floor_server.py"),
                       str(sb.agent_config(d))]
            else:
                endpoint = f"127.0.0.1:{sandbox.free_port()}"
                cmd = [PY, script, "agent", endpoint, str(ident.tls_certificate),
                       str(ident.tls_key), str(sb.ca_certificate)]
            procs[d] = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env,
                                        start_new_session=True)
            peers[d] = [endpoint, ident.id]
        g = sb.gateway
        keys = ([json.dumps({"self": str(g.signing_key), "peers": {
            d: str(ident.signing_key) for d, ident in sb.agents.items()}})] if floor else [])
        procs["gateway"] = subprocess.Popen(
            [PY, script, "floor-gateway" if floor else "gateway", sb.gateway_endpoint,
             str(g.tls_certificate), str(g.tls_key), str(sb.ca_certificate), json.dumps(peers),
             *keys], stdout=subprocess.PIPE, env=env, start_new_session=True)
        for name, p in procs.items():
            if p.stdout.readline().strip() != b"ready":
                raise RuntimeError(f"echo {name} did not start")
        yield procs
    finally:
        for p in procs.values():
            sandbox.stop_process(p, timeout=5)
