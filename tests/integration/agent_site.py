"""One real department agent for the refusal, log and fuzz tests: the gateway's signing
key and a genuine signed checkpoint of a gateway log (queries must carry one), a
synthetic person the department holds, and the agent process serving until the end."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nacl.signing

from hedui.audit.store import AuditLog
from hedui.gateway import sandbox
from hedui.keys import keyfile, tls


def gateway_checkpoint(sb: sandbox.Sandbox, root: Path) -> tuple[nacl.signing.SigningKey, str]:
    """The gateway's signing key, and a checkpoint its audit log signed over one entry."""
    gateway_key = keyfile.load_signing_key(sb.gateway.signing_key)
    log = AuditLog.create(
        f"sqlite:///{root / 'gateway-audit.sqlite'}", origin="county.example/gateway/audit",
        key_name=sb.gateway.id.removeprefix("spiffe://"), signing_key=gateway_key)
    log.append(b"first entry")
    note = log.checkpoint()
    log.close()
    return gateway_key, note


def first_person(sb: sandbox.Sandbox) -> str:
    """The ID number of the first member of the sandbox's first sample household."""
    people = json.loads((sb.data_dir / "households.json").read_text())["samples"]
    if isinstance(people, dict):
        people = [h for group in people.values() for h in group]
    return people[0]["members"][0]["id_number"]


@contextmanager
def serving_agent(sb: sandbox.Sandbox, department: str
                  ) -> Iterator[tuple[tls.TlsMaterial, subprocess.Popen]]:
    """Start the department's agent, wait until it is healthy, stop it at the end; yields
    the gateway's TLS material for calling it, and the process."""
    process = sandbox.start_agent(sb, department)
    material = sandbox.gateway_material(sb)
    try:
        sandbox.wait_healthy(sb.endpoints[department], sb.agents[department].id, material,
                             process=process, log_file=sb.logs / f"agent-{department}.log")
        yield material, process
    finally:
        sandbox.stop_process(process)
