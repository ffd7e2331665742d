"""An agent as department IT staff run it: `hedui agent check`, a newer trust bundle
loaded without a restart, a stale one refused, the replay cache surviving a restart,
and a graceful stop on SIGTERM."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import grpc
import pytest

from hedui.audit.store import AuditLog
from hedui.gateway import sandbox
from hedui.gateway.queries import SubjectRef, build_query, sign_query
from hedui.keys import keyfile, signing, tls
from hedui.keys.bundle import sign_bundle
from hedui.keys.bundle_toml import bundle_from_toml
from hedui.v1 import agent_pb2_grpc

DEPT = "banks"


@pytest.fixture()
def site(tmp_path: Path):
    sb = sandbox.provision(tmp_path / "site", persons=40, departments=[DEPT])
    key = keyfile.load_signing_key(sb.gateway.signing_key)
    log = AuditLog.create(f"sqlite:///{tmp_path / 'gw.sqlite'}",
                          origin="county.example/gateway/audit",
                          key_name=sb.gateway.id.removeprefix("spiffe://"), signing_key=key)
    log.append(b"x")
    note = log.checkpoint()
    log.close()
    people = json.loads((sb.data_dir / "households.json").read_text())["samples"]
    if isinstance(people, dict):
        people = [h for group in people.values() for h in group]
    return sb, key, note, people[0]["members"][0]["id_number"]


def start(sb: sandbox.Sandbox) -> subprocess.Popen:
    proc = sandbox.start_agent(sb, DEPT)
    sandbox.wait_healthy(sb.endpoints[DEPT], sb.agents[DEPT].id, sandbox.gateway_material(sb),
                         process=proc, log_file=sb.logs / f"agent-{DEPT}.log")
    return proc


def ask(sb: sandbox.Sandbox, envelope) -> None:
    creds = tls.channel_credentials(*sandbox.gateway_material(sb))
    with grpc.secure_channel(sb.endpoints[DEPT], creds,
                             options=tls.channel_options(sb.agents[DEPT].id)) as ch:
        agent_pb2_grpc.DepartmentAgentStub(ch).Answer(envelope, timeout=10)


def query(sb: sandbox.Sandbox, key, note: str, person: str):
    return sign_query(build_query(
        issuer=sb.gateway.id, audience=sb.agents[DEPT].id, case_id="c", purpose="dibao",
        operator="op-1001", subjects=[SubjectRef(person)], field_paths=["deposits"],
        authorization_number="SQ-1", consent_digest="cd" * 32, audit_checkpoint=note,
    ), key).envelope


def republish(sb: sandbox.Sandbox, serial: int, extra: str = "") -> None:
    text = sb.trust_toml.read_text()
    text = text.replace("serial = 1", f"serial = {serial}", 1) + extra
    sb.trust_toml.write_text(text)
    envelope = sign_bundle(bundle_from_toml(sb.trust_toml),
                           keyfile.load_signing_key(sb.root_signing_key))
    tmp = sb.bundle.with_suffix(".new")
    tmp.write_bytes(envelope.SerializeToString())
    tmp.replace(sb.bundle)


def test_agent_check_is_clean_then_names_a_wrong_column(site, tmp_path: Path) -> None:
    sb, *_ = site
    cmd = [*sandbox.hedui_command(), "agent", "check", "--config", str(sb.agent_config(DEPT))]
    ok = subprocess.run(cmd, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "everything checks out" in ok.stdout

    mapping = tmp_path / "broken.toml"
    original = (sandbox.MAPPINGS_DIR / f"{DEPT}.toml").read_text()
    wrong = 'institution = "no_such_column_x"'
    assert 'institution = "FIN_ORG_NM"' in original
    mapping.write_text(original.replace('institution = "FIN_ORG_NM"', wrong, 1))
    config = sb.agent_config(DEPT)
    config.write_text(config.read_text().replace(
        str(sandbox.MAPPINGS_DIR / f"{DEPT}.toml"), str(mapping)))
    bad = subprocess.run(cmd, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "no_such_column_x" in bad.stderr
    line = original.splitlines().index('institution = "FIN_ORG_NM"') + 1
    assert f"broken.toml:{line}:" in bad.stderr  # the line to fix
    assert "Traceback" not in bad.stderr


def test_newer_bundle_applies_without_restart_and_stale_is_refused(site) -> None:
    sb, key, note, person = site
    proc = start(sb)
    try:
        ask(sb, query(sb, key, note, person))
        # the center revokes the gateway's key in serial 2: refused without a restart
        kid = signing.keyid(key)
        republish(sb, 2, f'\n[[revoked]]\nkeyid = "{kid}"\n'
                         'revoked_at = 2026-01-01T00:00:00Z\nreason = "rotated"\n')
        deadline = time.monotonic() + 15
        while True:
            try:
                ask(sb, query(sb, key, note, person))
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.PERMISSION_DENIED
                assert "revoked" in exc.details().lower()
                break
            assert time.monotonic() < deadline, "the new bundle was not loaded"
            time.sleep(0.3)
        # an older bundle put back in place is refused and the newer one stays in force
        old = sb.root / "old.dsse"
        shutil.copy(sb.bundle, old)
        sb.trust_toml.write_text(sb.trust_toml.read_text().split("\n[[revoked]]")[0]
                                 .replace("serial = 2", "serial = 1", 1))
        envelope = sign_bundle(bundle_from_toml(sb.trust_toml),
                               keyfile.load_signing_key(sb.root_signing_key))
        sb.bundle.write_bytes(envelope.SerializeToString())
        time.sleep(3)
        with pytest.raises(grpc.RpcError) as info:
            ask(sb, query(sb, key, note, person))
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
        log = (sb.logs / f"agent-{DEPT}.log").read_text()
        assert "trust bundle refused" in log and "older" in log
    finally:
        sandbox.stop_process(proc)


def test_replay_cache_survives_restart_and_sigterm_is_graceful(site) -> None:
    sb, key, note, person = site
    envelope = query(sb, key, note, person)
    proc = start(sb)
    ask(sb, envelope)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    assert "agent stopped" in (sb.logs / f"agent-{DEPT}.log").read_text()
    proc = start(sb)
    try:
        with pytest.raises(grpc.RpcError) as info:
            ask(sb, envelope)
        assert info.value.code() == grpc.StatusCode.ALREADY_EXISTS
    finally:
        sandbox.stop_process(proc)


def test_an_answered_query_stays_claimed_after_sigkill(site) -> None:
    """Claims reach the replay file in batches, but always before the answer leaves:
    killing the agent right after an answer must not reopen that query for replay."""
    sb, key, note, person = site
    envelope = query(sb, key, note, person)
    proc = start(sb)
    ask(sb, envelope)
    proc.kill()
    proc.wait(20)
    proc = start(sb)
    try:
        with pytest.raises(grpc.RpcError) as info:
            ask(sb, envelope)
        assert info.value.code() == grpc.StatusCode.ALREADY_EXISTS
    finally:
        sandbox.stop_process(proc)


def test_agent_serves_prometheus_metrics_without_personal_data(site) -> None:
    import urllib.request

    sb, key, note, person = site
    port = sandbox.free_port()
    config = sb.agent_config(DEPT)
    config.write_text(config.read_text().replace(
        'state_dir = "state"', f'state_dir = "state"\nmetrics_listen = "127.0.0.1:{port}"', 1))
    proc = start(sb)
    try:
        ask(sb, query(sb, key, note, person))
        with pytest.raises(grpc.RpcError):
            ask(sb, query(sb, key, note, person[:-1] + "0" if person[-1] != "0" else "1"))
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
    finally:
        sandbox.stop_process(proc)
    body = text.decode()
    assert 'hedui_agent_queries_total{department="banks",outcome="ANSWERED"} 1.0' in body
    assert "MALFORMED_ID_NUMBER" in body
    assert "hedui_agent_query_seconds_bucket" in body
    assert person not in body
