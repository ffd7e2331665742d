"""A sandbox with people (``sandbox.provision(people=True)``): a staff registry with every
role, a personal certificate each, no declared operators, review required — and a
gateway with its eight agents over mutual TLS. Imported by the role and review tests.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import grpc
from case_site import Site, authorization, opening  # noqa: F401  (re-exported helpers)

from hedui import status
from hedui.gateway import sandbox
from hedui.gateway.client import ClientConfig, GatewayClient
from hedui.gateway.demo import write_client_config
from hedui.v1 import audit_pb2, case_pb2


class PeopleSite(Site):
    """``case_site.Site`` provisioned with people; ``person(id)`` is a client holding
    that staff member's own certificate."""

    def __init__(self, root: Path, *, persons: int = 120, seed: int = 31) -> None:
        self.sb = sandbox.provision(root, persons=persons, seed=seed, people=True)
        self.material = sandbox.gateway_material(self.sb)
        self.desk_file = write_client_config(self.sb, self.sb.desk, sandbox.VERIFIER,
                                             "desk.toml")
        self.officer_file = write_client_config(self.sb, self.sb.officer, sandbox.OFFICER,
                                                "officer.toml")
        import json
        data = json.loads((self.sb.data_dir / "households.json").read_text())["samples"]
        self.samples = [h for g in data.values() for h in g] if isinstance(data, dict) else data
        self.processes: dict[str, subprocess.Popen] = {}
        self._n = 0
        self.files = {sid: write_client_config(self.sb, ident, sid, f"{sid}.toml")
                      for sid, ident in self.sb.staff.items()}

    def person(self, staff_id: str, *, declares: str | None = None) -> GatewayClient:
        """A connection with ``staff_id``'s certificate, declaring ``declares`` (default:
        themselves) as the operator."""
        c = ClientConfig.load(self.files[staff_id])
        return GatewayClient(ClientConfig(c.gateway, c.gateway_id,
                                          staff_id if declares is None else declares,
                                          c.certificate, c.key, c.ca))

    def open_as(self, staff_id: str, hh, **changes) -> case_pb2.Case:
        with self.person(staff_id) as c:
            c.call(c.cases.RegisterAuthorization, case_pb2.RegisterAuthorizationRequest(
                authorization=hh.authorization))
            return c.call(c.cases.OpenCase, opening(hh, "", **changes))

    def staff_cli(self, *args: str) -> subprocess.CompletedProcess:
        return self.cli("staff", *args, "--config", str(self.sb.gateway_config))


def refusal(error: grpc.RpcError) -> status.Reason:
    return status.reason_of(error)


def kinds(entries: list[audit_pb2.AuditEntry], case_id: str) -> list[tuple[str, str, str]]:
    """(kind, operator, role) of a case's entries, in order."""
    return [(audit_pb2.AuditKind.Name(e.kind).removeprefix("AUDIT_KIND_"), e.operator, e.role)
            for e in entries if e.case_id == case_id]
