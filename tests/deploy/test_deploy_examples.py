"""Every example in deploy/examples/ is accepted by the loader that reads it for real."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import tomllib
import urllib.request
from pathlib import Path

import pytest

from hedui.agents import config as agent_config
from hedui.agents.departments import DEPARTMENTS
from hedui.agents.mapping import MappingSource
from hedui.gateway import config as gateway_config
from hedui.gateway import household, sandbox
from hedui.gateway.client import ClientConfig
from hedui.keys import ca, keyfile, signing, tls
from hedui.keys.bundle import TrustStore, sign_bundle
from hedui.keys.bundle_toml import bundle_from_toml
from hedui.keys.identity import agent_id, audit_id, client_id, gateway_id
from hedui.keys.secrets import write_secret

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
    assert cfg.metrics_listen == "127.0.0.1:9464"  # plaintext: loopback unless told
    assert cfg.bundle_warn_before == dt.timedelta(days=14)


def test_gateway_metrics_listen_is_checked(tmp_path: Path) -> None:
    text = (EXAMPLES / "gateway.toml").read_text(encoding="utf-8")
    bad = tmp_path / "gateway.toml"
    bad.write_text(text.replace('metrics_listen = "127.0.0.1:9464"', "metrics_listen = 9464"))
    with pytest.raises(gateway_config.ConfigError, match="metrics_listen: Input should be a "
                                                         "valid string"):
        gateway_config.load(bad)
    bad.write_text(text.replace('metrics_listen = "127.0.0.1:9464"', 'metrics_listen = "9464"'))
    with pytest.raises(gateway_config.ConfigError, match="metrics_listen: must be host:port"):
        gateway_config.load(bad)


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_agent_example_loads_for_every_department(department: str) -> None:
    path = EXAMPLES / "agents" / f"{department}.toml"
    cfg = agent_config.load(path)
    assert cfg.department == department
    assert cfg.agent_id == agent_id("county.example", department)
    assert cfg.mapping == (REPO / "deploy" / "agents" / f"{department}.toml").resolve()
    assert cfg.metrics_listen == "127.0.0.1:9465"  # plaintext: loopback unless told
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


def _center_workspace(work: Path) -> None:
    """The keys the example trust.toml and gateway.toml name, as `hedui keys` makes them."""
    ca_cert, ca_key = ca.create_ca("county.example")
    root = signing.generate_signing_key()
    for folder in (work / "ca", work / "pki" / "audit"):
        folder.mkdir(parents=True)
    ca.write_certificate(work / "ca" / "ca.crt", ca_cert)
    ca.write_certificate(work / "pki" / "ca.crt", ca_cert)
    keyfile.write_private_key(work / "ca" / "root.key", root)
    signing.write_public_key(work / "pki" / "root.pub", root)
    cert, key = ca.issue_certificate(ca_cert, ca_key, gateway_id("county.example", "center"),
                                     dns_names=("gateway.county.example",))
    ca.write_certificate(work / "pki" / "tls.crt", cert)
    keyfile.write_private_key(work / "pki" / "tls.key", key)
    desk_cert, desk_key = ca.issue_certificate(ca_cert, ca_key,
                                               client_id("county.example", "verifier-desk"))
    (work / "desk").mkdir()
    ca.write_certificate(work / "desk" / "tls.crt", desk_cert)
    keyfile.write_private_key(work / "desk" / "tls.key", desk_key)
    private_files = {"gateway": work / "pki" / "signing.key",
                     "audit": work / "pki" / "audit" / "signing.key"}
    for name in ["gateway", "audit", *DEPARTMENTS]:
        key_ = signing.generate_signing_key()
        (work / "issued" / name).mkdir(parents=True)
        signing.write_public_key(work / "issued" / name / "signing.pub", key_)
        if name in private_files:
            keyfile.write_private_key(private_files[name], key_)
    write_secret(work / "pki" / "pseudonym.key", bytes(range(32)))
    write_secret(work / "pki" / "answers.key", bytes(range(32, 64)))
    message = bundle_from_toml(work / "trust.toml")
    (work / "bundle.dsse").write_bytes(sign_bundle(message, root).SerializeToString())


@pytest.mark.slow
def test_a_gateway_started_from_the_example_serves_metrics(tmp_path: Path) -> None:
    """The example as shipped, but for free ports and this checkout's standards."""
    work = tmp_path / "gateway"
    shutil.copytree(EXAMPLES, work, ignore=shutil.ignore_patterns("agents", "*.csv"))
    _center_workspace(work)
    grpc_port, metrics_port = sandbox.free_port(), sandbox.free_port()
    config = work / "gateway.toml"
    text = config.read_text(encoding="utf-8")
    for old, new in (('listen = "0.0.0.0:7443"', f'listen = "127.0.0.1:{grpc_port}"'),
                     ('metrics_listen = "127.0.0.1:9464"',
                      f'metrics_listen = "127.0.0.1:{metrics_port}"'),
                     ('"/opt/hedui/deploy/standards"', f'"{REPO / "deploy" / "standards"}"')):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    config.write_text(text, encoding="utf-8")
    cfg = gateway_config.load(config)
    log = tmp_path / "gateway.log"
    process = sandbox.start_process(["gateway", "serve", "--config", str(config)], log)
    try:
        material = tls.load_tls_material(work / "desk" / "tls.crt", work / "desk" / "tls.key",
                                         work / "pki" / "ca.crt")
        sandbox.wait_healthy(cfg.listen, cfg.gateway_id, material, process=process,
                             log_file=log)
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics",
                                    timeout=5) as reply:
            assert reply.status == 200
            body = reply.read().decode()
    finally:
        sandbox.stop_process(process)
    assert "hedui_gateway_verify_seconds" in body
    assert "hedui_trust_bundle_serial 1.0" in body
    assert "hedui_trust_bundle_expiring 0.0" in body
