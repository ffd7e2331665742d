"""Every example in deploy/examples/ is accepted by the loader that reads it for real."""

from __future__ import annotations

import csv
import shutil
import tomllib
from pathlib import Path

import pytest

from hedui.agents import config as agent_config
from hedui.agents.departments import DEPARTMENTS
from hedui.agents.mapping import MappingSource
from hedui.gateway import config as gateway_config
from hedui.gateway import household
from hedui.gateway.client import ClientConfig
from hedui.keys import ca, keyfile, signing
from hedui.keys.bundle import TrustStore, sign_bundle
from hedui.keys.bundle_toml import bundle_from_toml
from hedui.keys.identity import agent_id, audit_id, gateway_id

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "deploy" / "examples"


def test_gateway_example_loads() -> None:
    cfg = gateway_config.load(EXAMPLES / "gateway.toml")
    assert cfg.gateway_id == gateway_id("county.example", "center")
    assert cfg.cases_db.startswith("sqlite:////") and cfg.audit_db.endswith("state/audit.sqlite")
    assert cfg.audit_key == EXAMPLES / "pki" / "audit" / "signing.key"
    assert cfg.audit_key_id == audit_id("county.example")
    assert cfg.tls_key == EXAMPLES / "pki" / "tls.key"
    assert set(cfg.staff) <= set(tomllib.loads(
        (REPO / "deploy" / "policy" / "programmes.toml").read_text())["policies"])


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_agent_example_loads_for_every_department(department: str) -> None:
    path = EXAMPLES / "agents" / f"{department}.toml"
    cfg = agent_config.load(path)
    assert cfg.department == department
    assert cfg.agent_id == agent_id("county.example", department)
    assert cfg.mapping == (REPO / "deploy" / "agents" / f"{department}.toml").resolve()
    source = MappingSource(cfg.mapping, database_url_override="sqlite:////nonexistent.sqlite")
    source.close()


def test_every_department_has_an_agent_example() -> None:
    assert sorted(p.stem for p in (EXAMPLES / "agents").glob("*.toml")) == sorted(DEPARTMENTS)


def test_client_example_loads() -> None:
    cfg = ClientConfig.load(EXAMPLES / "hedui-client.toml")
    assert cfg.gateway_id == gateway_id("county.example", "center")
    assert cfg.operator and cfg.key == EXAMPLES / "desk" / "tls.key"


def test_household_example_loads() -> None:
    hh = household.load(EXAMPLES / "household.toml")
    assert hh.programme == "dibao" and len(hh.members) == 3
    assert hh.authorization.number == "SQ-2026-000123"
    assert list(hh.authorization.covered_id_numbers) == [m.id_number for m in hh.members]


def test_batch_example_has_the_columns_verify_batch_reads() -> None:
    with (EXAMPLES / "batch.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and {"household", "previous_outcome"} <= set(rows[0])


def test_trust_example_builds_and_signs_a_bundle(tmp_path: Path) -> None:
    """Create the keys it names (as `hedui keys init/issue` would), then sign it."""
    work = tmp_path / "center-admin"
    shutil.copytree(EXAMPLES, work, ignore=shutil.ignore_patterns("agents", "*.csv"))
    cert, _ca_key = ca.create_ca("county.example")
    (work / "ca").mkdir()
    ca.write_certificate(work / "ca" / "ca.crt", cert)
    root = signing.generate_signing_key()
    keyfile.write_private_key(work / "ca" / "root.key", root)
    signing.write_public_key(work / "ca" / "root.pub", root)
    for name in ["gateway", "audit", *DEPARTMENTS]:
        (work / "issued" / name).mkdir(parents=True)
        signing.write_public_key(work / "issued" / name / "signing.pub",
                                 signing.generate_signing_key())
    message = bundle_from_toml(work / "trust.toml")
    assert len(message.participants) == 2 + len(DEPARTMENTS)
    (work / "bundle.dsse").write_bytes(sign_bundle(message, root).SerializeToString())
    import datetime as dt

    bundle = TrustStore(root.verify_key).load(work / "bundle.dsse", dt.datetime.now(dt.UTC))
    for d in DEPARTMENTS:
        assert bundle.participant(agent_id("county.example", d)) is not None


def test_trust_example_policy_is_deploy_policy() -> None:
    mine = tomllib.loads((EXAMPLES / "trust.toml").read_text(encoding="utf-8"))["policies"]
    ours = tomllib.loads((REPO / "deploy" / "policy" / "programmes.toml").read_text(
        encoding="utf-8"))["policies"]
    assert mine == ours, "copy deploy/policy/programmes.toml into deploy/examples/trust.toml"
