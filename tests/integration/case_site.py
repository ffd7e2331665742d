"""A gateway process (and, when asked, its eight agents) over mutual TLS for the case
service's access tests, with a staff list that tells programmes apart.

The sandbox's staff list names op-1001 and op-1002 for every programme; here op-3003 is
staff for low-income only, so "only the cases of your programmes" can be tested.
Imported as ``case_site`` by the tests beside it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import subprocess
from pathlib import Path

import grpc

from hedui import china_time, status
from hedui.gateway import household as household_mod
from hedui.gateway import sandbox
from hedui.gateway.client import ClientConfig, GatewayClient
from hedui.gateway.demo import write_client_config
from hedui.keys import tls
from hedui.v1 import audit_pb2, case_pb2, common_pb2

#: staff for low-income only
LOW_INCOME_ONLY = "op-3003"
TODAY = china_time.today()  # the gateway's today (China's)


def since_start() -> set[dt.date]:
    """The days from TODAY to now: "today" in a run that crossed midnight."""
    return {TODAY + dt.timedelta(days=n) for n in range((china_time.today() - TODAY).days + 1)}


class Site:
    """One provisioned sandbox; ``start`` runs its gateway (and agents)."""

    def __init__(self, root: Path, *, persons: int = 120, seed: int = 21) -> None:
        self.sb = sandbox.provision(root, persons=persons, seed=seed)
        config = self.sb.gateway_config
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace('low-income = ["op-1001", "op-1002"]',
                                       f'low-income = ["op-1001", "op-1002", "{LOW_INCOME_ONLY}"]'),
                          encoding="utf-8")
        self.material = sandbox.gateway_material(self.sb)
        self.desk_file = write_client_config(self.sb, self.sb.desk, sandbox.VERIFIER, "desk.toml")
        self.officer_file = write_client_config(self.sb, self.sb.officer, sandbox.OFFICER,
                                                "officer.toml")
        data = json.loads((self.sb.data_dir / "households.json").read_text())["samples"]
        self.samples = [h for g in data.values() for h in g] if isinstance(data, dict) else data
        self.processes: dict[str, subprocess.Popen] = {}
        self._n = 0

    # ------------------------------------------------------------ processes

    def start(self, *, agents: bool = False) -> None:
        sb = self.sb
        p = self.processes["gateway"] = sandbox.start_gateway(sb)
        sandbox.wait_healthy(sb.gateway_endpoint, sb.gateway.id, self.material, process=p,
                             log_file=sb.logs / "gateway.log")
        for d in sb.agents if agents else ():
            p = self.processes[d] = sandbox.start_agent(sb, d)
            sandbox.wait_healthy(sb.endpoints[d], sb.agents[d].id, self.material, process=p,
                                 log_file=sb.logs / f"agent-{d}.log")

    def stop(self) -> None:
        for p in self.processes.values():
            sandbox.stop_process(p)
        self.processes.clear()

    def alive(self) -> bool:
        return self.processes["gateway"].poll() is None

    # ------------------------------------------------------------ clients

    def client(self, operator: str = sandbox.VERIFIER, *, officer: bool = False) -> GatewayClient:
        c = ClientConfig.load(self.officer_file if officer else self.desk_file)
        return GatewayClient(ClientConfig(c.gateway, c.gateway_id, operator, c.certificate,
                                          c.key, c.ca))

    def channel(self) -> grpc.Channel:
        """A raw channel as the verifier desk (for requests of any bytes)."""
        return grpc.secure_channel(self.sb.gateway_endpoint,
                                   tls.channel_credentials(*self.material_of_desk()),
                                   options=tls.channel_options(self.sb.gateway.id))

    def material_of_desk(self) -> tls.TlsMaterial:
        d = self.sb.desk
        return tls.load_tls_material(d.tls_certificate, d.tls_key, self.sb.ca_certificate)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*sandbox.hedui_command(), *args], capture_output=True,
                              text=True, timeout=180)

    # ------------------------------------------------------------ households

    def household(self, programme: str = "dibao", *, label: str | None = None
                  ) -> household_mod.Household:
        """A fresh synthetic household (its own authorization number), not registered."""
        pool = [s for s in self.samples if label is None or s["expected"] == label]
        self._n += 1
        h = pool[self._n % len(pool)]
        path = household_mod.write(
            self.sb.root / f"hh-{self._n}.toml", programme=programme, region="310000",
            members=h["members"], authorization_number=f"SQ-CS-{self._n:05d}", today=TODAY)
        return household_mod.load(path)

    def open(self, hh: household_mod.Household, operator: str = sandbox.VERIFIER
             ) -> case_pb2.Case:
        """Register the household's authorization and open its case."""
        with self.client(operator) as c:
            c.call(c.cases.RegisterAuthorization, case_pb2.RegisterAuthorizationRequest(
                authorization=hh.authorization, operator=operator))
            return c.call(c.cases.OpenCase, opening(hh, operator))

    # ------------------------------------------------------------ the audit log

    def entries(self) -> list[audit_pb2.AuditEntry]:
        conn = sqlite3.connect(self.sb.gateway_config.parent / "state" / "audit.sqlite")
        try:
            rows = conn.execute("SELECT entry FROM audit_leaves ORDER BY idx").fetchall()
        finally:
            conn.close()
        return [audit_pb2.AuditEntry.FromString(bytes(r[0])) for r in rows]

    def raw_log(self) -> bytes:
        state = self.sb.gateway_config.parent / "state"
        return b"".join(p.read_bytes() for p in state.glob("audit.sqlite*"))

    def pseudonym(self, id_number: str) -> str:
        from hedui.audit.pseudonym import Pseudonymizer
        from hedui.keys.secrets import load_secret

        return Pseudonymizer(load_secret(self.sb.pseudonym_key)).pseudonym(id_number)


def opening(hh: household_mod.Household, operator: str = sandbox.VERIFIER, **changes
            ) -> case_pb2.OpenCaseRequest:
    request = case_pb2.OpenCaseRequest(
        programme=hh.programme, region=hh.region, members=hh.members,
        authorization_number=hh.authorization.number, operator=operator)
    for name, value in changes.items():
        if name == "members":
            del request.members[:]
            request.members.extend(value)
        else:
            setattr(request, name, value)
    return request


def authorization(number: str, members: list[case_pb2.Member], *, programme: str = "dibao",
                  start: dt.date = TODAY, end: dt.date = TODAY + dt.timedelta(days=300)
                  ) -> case_pb2.Authorization:
    return case_pb2.Authorization(
        number=number, programme=programme,
        covered_id_numbers=[m.id_number for m in members],
        signed_on=common_pb2.Date(year=start.year, month=start.month, day=start.day),
        validity=common_pb2.Period(
            start=common_pb2.Date(year=start.year, month=start.month, day=start.day),
            end=common_pb2.Date(year=end.year, month=end.month, day=end.day)),
        document_sha256=hashlib.sha256(number.encode()).hexdigest())


def reason(error: grpc.RpcError) -> status.Reason:
    return status.reason_of(error)
