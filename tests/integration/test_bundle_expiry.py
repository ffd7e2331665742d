"""A trust bundle's life, for real: servers refuse to start on an expired bundle, an agent
warns ahead, refuses queries once its bundle has expired, and recovers on a new one."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from hedui.audit.store import AuditLog
from hedui.gateway import sandbox
from hedui.gateway.queries import SubjectRef, build_query, sign_query
from hedui.keys import keyfile, tls
from hedui.status import reason_of
from hedui.v1 import agent_pb2_grpc, envelope_pb2

DEPT = "housing"
FIELDS = ["properties.*.floor_area_m2"]
#: how long the running agent's bundle still lives when the agent is started
LIFE_AT_START = dt.timedelta(seconds=12)

pytestmark = pytest.mark.slow


def _resign(sb: sandbox.Sandbox, serial: int, *, ends: dt.datetime | None = None) -> None:
    """The administrator signs ``trust.toml`` under ``serial``; ``ends`` None: 90 days."""
    text = re.sub(r"^serial = \d+$", f"serial = {serial}", sb.trust_toml.read_text(),
                  count=1, flags=re.MULTILINE)
    sb.trust_toml.write_text(text)
    if ends is None:
        sandbox.write_bundle(sb)
    else:  # issued 30 days before ``ends``, valid 30 days
        sandbox.write_bundle(sb, issued_at=(ends - dt.timedelta(days=30)).replace(microsecond=0),
                             valid_days=30)


def _run_cli(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*sandbox.hedui_command(), *args], capture_output=True, text=True,
                          timeout=60)


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> sandbox.Sandbox:
    return sandbox.provision(tmp_path_factory.mktemp("expiry") / "site", persons=40,
                             departments=[DEPT])


def _refused_to_start(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("hedui: ")]
    assert len(lines) == 1, result.stderr[-2000:]
    return lines[0]


def test_the_gateway_refuses_to_start_on_an_expired_bundle(sb: sandbox.Sandbox) -> None:
    _resign(sb, 1, ends=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    line = _refused_to_start(_run_cli(["gateway", "serve", "--config",
                                       str(sb.gateway_config)]))
    assert re.fullmatch(r"hedui: trust bundle serial 1 expired on \S+Z; the center must sign a "
                        r"new one \(hedui keys bundle\) and every participant must install it",
                        line), line


def test_an_agent_refuses_to_start_on_an_expired_bundle(sb: sandbox.Sandbox) -> None:
    _resign(sb, 2, ends=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    line = _refused_to_start(_run_cli(["agent", "serve", "--config",
                                       str(sb.agent_config(DEPT))]))
    assert "trust bundle serial 2 expired on" in line


@dataclass
class Expiring:
    """An agent started on a bundle about to expire, and what it did around the end."""

    sb: sandbox.Sandbox
    metrics: str
    log: Path
    answered_before: envelope_pb2.Envelope
    refusal: grpc.RpcError
    metrics_after: str
    ask: object


def _metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        return reply.read().decode()


def _events(log: Path) -> list[dict]:
    out = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


@pytest.fixture(scope="module")
def expiring(sb: sandbox.Sandbox) -> Iterator[Expiring]:
    ends = dt.datetime.now(dt.UTC).replace(microsecond=0) + LIFE_AT_START
    _resign(sb, 3, ends=ends)
    port = sandbox.free_port()
    config = sb.agent_config(DEPT)
    config.write_text(config.read_text().replace(
        'state_dir = "state"', f'state_dir = "state"\nmetrics_listen = "127.0.0.1:{port}"', 1))
    gateway_key = keyfile.load_signing_key(sb.gateway.signing_key)
    audit = AuditLog.create(  # a genuine gateway checkpoint for the queries to carry
        f"sqlite:///{sb.root / 'gateway-audit.sqlite'}", origin="county.example/gateway/audit",
        key_name=sb.gateway.id.removeprefix("spiffe://"), signing_key=gateway_key)
    audit.append(b"first entry")
    checkpoint = audit.checkpoint()
    audit.close()
    person = json.loads((sb.data_dir / "households.json").read_text())["samples"]
    if isinstance(person, dict):
        person = [h for group in person.values() for h in group]
    id_number = person[0]["members"][0]["id_number"]
    material = sandbox.gateway_material(sb)

    def ask() -> envelope_pb2.Envelope:
        query = build_query(issuer=sb.gateway.id, audience=sb.agents[DEPT].id, case_id="c-1",
                            purpose="dibao", operator="op-1001",
                            subjects=[SubjectRef(id_number, "测试")], field_paths=FIELDS,
                            authorization_number="SQ-1", consent_digest="ab" * 32,
                            audit_checkpoint=checkpoint)
        envelope = sign_query(query, gateway_key).envelope
        with grpc.secure_channel(sb.endpoints[DEPT], tls.channel_credentials(*material),
                                 options=tls.channel_options(sb.agents[DEPT].id)) as channel:
            return agent_pb2_grpc.DepartmentAgentStub(channel).Answer(envelope, timeout=10)

    log = sb.logs / f"agent-{DEPT}.log"
    process = sandbox.start_agent(sb, DEPT)
    try:
        sandbox.wait_healthy(sb.endpoints[DEPT], sb.agents[DEPT].id, material,
                             process=process, log_file=log)
        metrics = _metrics(port)
        answered = ask()
        time.sleep(max(0.0, (ends - dt.datetime.now(dt.UTC)).total_seconds()) + 0.5)
        with pytest.raises(grpc.RpcError) as refusal:
            ask()
        deadline = time.monotonic() + 5  # the watcher looks every 2 s
        while time.monotonic() < deadline and not any(
                e.get("event") == "trust bundle expired" for e in _events(log)):
            time.sleep(0.2)
        yield Expiring(sb, metrics, log, answered, refusal.value, _metrics(port), ask)
    finally:
        sandbox.stop_process(process)


def test_the_agent_warns_at_start(expiring: Expiring) -> None:
    warnings = [e for e in _events(expiring.log) if e.get("event") == "trust bundle expires soon"]
    assert warnings and warnings[0]["serial"] == 3 and warnings[0]["days_left"] < 1
    assert "hedui_trust_bundle_expiring 1.0" in expiring.metrics
    assert "hedui_trust_bundle_expired 0.0" in expiring.metrics
    assert "hedui_trust_bundle_serial 3.0" in expiring.metrics


def test_the_agent_answers_while_the_bundle_lives(expiring: Expiring) -> None:
    assert expiring.answered_before.payload


def test_the_agent_refuses_queries_once_its_bundle_expired(expiring: Expiring) -> None:
    reason = reason_of(expiring.refusal)
    said = reason.reason or reason.message.split(":")[0]
    assert said == "BUNDLE_EXPIRED", (reason, expiring.refusal.details())
    assert "trust bundle serial 3 expired on" in reason.message


def test_the_refusal_is_failed_precondition(expiring: Expiring) -> None:
    assert expiring.refusal.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_the_agent_logs_and_exports_the_expiry(expiring: Expiring) -> None:
    events = _events(expiring.log)
    expired = [e for e in events if e.get("event") == "trust bundle expired"]
    assert expired and expired[0]["level"] == "error" and expired[0]["serial"] == 3
    assert "hedui_trust_bundle_expired 1.0" in expiring.metrics_after


def test_a_new_bundle_brings_the_agent_back_without_a_restart(expiring: Expiring) -> None:
    _resign(expiring.sb, 4)
    deadline = time.monotonic() + 10
    while True:
        try:
            assert expiring.ask().payload  # type: ignore[operator]
            return
        except grpc.RpcError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
