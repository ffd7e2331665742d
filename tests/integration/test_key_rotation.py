"""Key rotation and revocation end to end: the center publishes a new trust bundle and
the running gateway follows it without a restart. A new agent key is accepted, the old
one is refused after its end date, a revoked key is refused at once."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from hedui.gateway import household as household_mod
from hedui.gateway import sandbox, verifying
from hedui.gateway.client import ClientConfig, GatewayClient
from hedui.gateway.demo import write_client_config
from hedui.keys import keyfile, signing
from hedui.v1 import case_pb2, envelope_pb2

DEPT = "banks"


class Site:
    def __init__(self, root: Path) -> None:
        self.sb = sandbox.provision(root, persons=200, seed=3)
        self.material = sandbox.gateway_material(self.sb)
        self.client_file = write_client_config(self.sb, self.sb.desk, sandbox.VERIFIER,
                                               "client.toml")
        data = json.loads((self.sb.data_dir / "households.json").read_text())
        samples = data["samples"]
        self.samples = ([h for g in samples.values() for h in g]
                        if isinstance(samples, dict) else samples)
        self.processes: dict[str, object] = {}
        self.serial = 1
        self.n = 0
        ident = self.sb.agents[DEPT]
        self.k1_pub = ident.signing_public_key
        self.k2_key, self.k2_pub = ident.dir / "signing-2.key", ident.dir / "signing-2.pub"
        k2 = signing.generate_signing_key()
        keyfile.write_private_key(self.k2_key, k2)
        signing.write_public_key(self.k2_pub, k2)
        self.k2_id = signing.keyid(k2)
        self.original = self.sb.trust_toml.read_text()

    def start_agent(self, key: Path) -> None:
        if DEPT in self.processes:
            sandbox.stop_process(self.processes.pop(DEPT))
        config = self.sb.agent_config(DEPT)
        text = config.read_text()
        start = text.index("[signing]\nkey = ")
        end = text.index("\n", start + len("[signing]\nkey = "))
        config.write_text(text[:start] + f'[signing]\nkey = "{key}"' + text[end:])
        self.processes[DEPT] = sandbox.start_agent(self.sb, DEPT)
        sandbox.wait_healthy(self.sb.endpoints[DEPT], self.sb.agents[DEPT].id, self.material,
                             process=self.processes[DEPT])

    def publish(self, banks_keys: str, revoked: str = "") -> None:
        """A new serial whose banks participant has ``banks_keys`` (TOML blocks)."""
        self.serial += 1
        participants, policies = self.original.split("\n[policies.", 1)
        participants = participants.replace("serial = 1", f"serial = {self.serial}", 1)
        old_block = ('[[participants.signing_keys]]\n'
                     f'public_key_file = "{self.k1_pub}"\n')
        assert old_block in participants
        participants = participants.replace(old_block, banks_keys)
        self.sb.trust_toml.write_text(
            participants + "\n" + revoked + "\n[policies." + policies)
        sandbox.write_bundle(self.sb)

    def decide(self) -> case_pb2.Case:
        self.n += 1
        # the bundle waits poll by deciding cases: cycle through the eligible samples
        # (each case gets its own authorization number)
        eligible = [s for s in self.samples if s["expected"] == "eligible"]
        h = eligible[self.n % len(eligible)]
        path = household_mod.write(
            self.sb.root / f"hh-{self.n}.toml", programme="dibao", region="310000",
            members=h["members"], authorization_number=f"SQ-K-{self.n:04d}",
            today=dt.date.today())
        with GatewayClient(ClientConfig.load(self.client_file)) as client:
            return verifying.decide(client, household_mod.load(path))

    def banks_status(self, case: case_pb2.Case) -> case_pb2.DepartmentStatus:
        return next(d for d in case.departments if d.department == DEPT)

    def report_keyid(self, case: case_pb2.Case) -> str:
        with GatewayClient(ClientConfig.load(self.client_file)) as client:
            env = client.call(client.cases.GetReport, case_pb2.GetReportRequest(
                case_id=case.case_id, operator=client.config.operator))
        report = case_pb2.DeterminationReport()
        report.ParseFromString(env.payload)
        answer = next(a for a in report.answers if a.department == DEPT)
        return envelope_pb2.Envelope.FromString(answer.answer.SerializeToString()) \
            .signatures[0].keyid


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    s = Site(tmp_path_factory.mktemp("rotation"))
    s.processes["gateway"] = sandbox.start_gateway(s.sb)
    sandbox.wait_healthy(s.sb.gateway_endpoint, s.sb.gateway.id, s.material,
                         process=s.processes["gateway"])
    for d in s.sb.agents:
        if d != DEPT:
            s.processes[d] = sandbox.start_agent(s.sb, d)
    for d in s.sb.agents:
        if d != DEPT:
            sandbox.wait_healthy(s.sb.endpoints[d], s.sb.agents[d].id, s.material,
                                 process=s.processes[d])
    s.start_agent(s.sb.agents[DEPT].signing_key)
    try:
        yield s
    finally:
        for p in s.processes.values():
            sandbox.stop_process(p)


def _until(check, seconds: float = 15.0):
    """Bundles are picked up within a couple of seconds: ask until the answer changes."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result is not None or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def test_rotation_new_key_accepted_old_refused_after_end_date_revoked_at_once(site) -> None:
    assert site.decide().state == case_pb2.CASE_STATE_DECIDED

    # 1. rotate: the bundle lists the old key (ending tomorrow) and the new one
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    site.publish(
        f'[[participants.signing_keys]]\npublic_key_file = "{site.k1_pub}"\n'
        f"not_after = {tomorrow}\n\n"
        f'[[participants.signing_keys]]\npublic_key_file = "{site.k2_pub}"\n')
    site.start_agent(site.k2_key)
    case = _until(lambda: ((c := site.decide()).state == case_pb2.CASE_STATE_DECIDED and c)
                  or None)
    assert case is not None, "answers signed with the new key were not accepted"
    assert site.report_keyid(case) == site.k2_id

    # 2. the old key's end date passes: an agent still signing with it is refused
    site.publish(
        f'[[participants.signing_keys]]\npublic_key_file = "{site.k1_pub}"\n'
        "not_after = 2026-01-01T00:00:00Z\n\n"
        f'[[participants.signing_keys]]\npublic_key_file = "{site.k2_pub}"\n')
    site.start_agent(site.sb.agents[DEPT].signing_key)

    def refused_old() -> case_pb2.Case | None:
        c = site.decide()
        return c if c.state == case_pb2.CASE_STATE_INCOMPLETE else None

    case = _until(refused_old)
    assert case is not None, "an answer signed with an expired key was accepted"
    assert "expired" in site.banks_status(case).reason.lower()

    # 3. the new key is revoked: refused at once, without restarting anything
    site.start_agent(site.k2_key)
    assert _until(lambda: ((c := site.decide()).state == case_pb2.CASE_STATE_DECIDED and c)
                  or None) is not None
    site.publish(
        f'[[participants.signing_keys]]\npublic_key_file = "{site.k2_pub}"\n',
        revoked=f'[[revoked]]\nkeyid = "{site.k2_id}"\nrevoked_at = 2026-01-01T00:00:00Z\n'
                'reason = "key file copied to a lost laptop"\n')
    case = _until(refused_old)
    assert case is not None, "an answer signed with a revoked key was accepted"
    assert "revoked" in site.banks_status(case).reason.lower()
