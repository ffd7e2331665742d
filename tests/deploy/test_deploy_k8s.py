"""The Kubernetes manifests in deploy/k8s/ parse, and agree with the gateway's real code.

Checked here: every document parses; the ConfigMap's gateway.toml is read by
``hedui.gateway.config.load`` (every key it holds is one the loader reads) and builds a
real gateway when the files it names are put where the pod mounts them; probes target
the port the configuration serves health on; Secrets are mounted 0400/0600 and only by
the key installer; database URLs come from the Secret; every ``hedui`` command in a
container exists.

PyYAML is not a dependency of hedui; when it is missing the manifests are read by the
small loader below (the subset of YAML the manifests use). It should become a dev
dependency (``pyyaml`` in ``[project.optional-dependencies] dev``); then the loader is
only cross-checked against it.
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
from k8s_support import (
    container,
    load_all,
    manifests_in,
    port_of,
    remap,
)

from hedui.gateway import config as gateway_config

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
CONFIG_PATH = "/etc/hedui/gateway.toml"

#: keys the manifests use that gateway/config.py does not read (none now)
PENDING_KEYS: set[tuple[str, str]] = set()
#: commands the manifests run that the CLI does not have (none now)
PENDING_COMMANDS: set[tuple[str, str]] = set()


@pytest.fixture(scope="module")
def objs() -> dict[tuple[str, str], dict[str, Any]]:
    """Every object of the base, by (kind, name)."""
    return manifests_in(K8S)


@pytest.fixture(scope="module")
def pod(objs) -> dict[str, Any]:
    return objs[("Deployment", "hedui-gateway")]["spec"]["template"]["spec"]


@pytest.fixture(scope="module")
def gateway_toml(objs) -> str:
    return objs[("ConfigMap", "hedui-gateway-config")]["data"]["gateway.toml"]


# ----------------------------------------------------------- the gateway's config


def test_every_key_of_gateway_toml_is_one_the_loader_reads(
        gateway_toml: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader's schema refuses any key it does not read, so the ConfigMap loading is
    the proof; and a key slipped into it is refused, not ignored."""
    env = {"HEDUI_CASES_DB": f"sqlite:///{tmp_path}/c.sqlite",
           "HEDUI_AUDIT_DB": f"sqlite:///{tmp_path}/a.sqlite"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    path = tmp_path / "gateway.toml"
    path.write_text(remap(gateway_toml, tmp_path))
    gateway_config.load(path)
    path.write_text(remap(gateway_toml, tmp_path).replace("[fanout]", "[fanout]\nretry = 1", 1))
    with pytest.raises(gateway_config.ConfigError, match="retry is not a known key"):
        gateway_config.load(path)


def test_gateway_toml_loads_verbatim(gateway_toml: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEDUI_CASES_DB", "postgresql+psycopg://u:p@db/hedui")
    monkeypatch.setenv("HEDUI_AUDIT_DB", "postgresql+psycopg://u:p@db/hedui")
    path = tmp_path / "gateway.toml"
    path.write_text(remap(gateway_toml, tmp_path))
    cfg = gateway_config.load(path)
    assert cfg.cases_db == cfg.audit_db == "postgresql+psycopg://u:p@db/hedui"


def test_gateway_toml_builds_a_real_gateway(objs, pod, gateway_toml: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Put real files where the pod mounts them (keys 0400 as the installer leaves them)."""
    from hedui.gateway import sandbox, server

    sb = sandbox.provision(tmp_path / "center", persons=30)
    root = tmp_path / "pod"
    keys = root / "run/hedui/keys"
    keys.mkdir(parents=True)
    for name, src in {"tls.crt": sb.gateway.tls_certificate, "tls.key": sb.gateway.tls_key,
                      "signing.key": sb.gateway.signing_key,
                      "audit-signing.key": sb.pki / "audit" / "signing.key",
                      "pseudonym.key": sb.pseudonym_key,
                      "answers.key": sb.answer_key}.items():
        shutil.copyfile(src, keys / name)
        os.chmod(keys / name, 0o400)
    trust = root / "opt/hedui/trust"
    trust.mkdir(parents=True)
    for name, src in {"bundle.dsse": sb.bundle, "ca.crt": sb.ca_certificate,
                      "root.pub": sb.root_public_key}.items():
        shutil.copyfile(src, trust / name)
    standards = root / "opt/hedui/standards"
    standards.mkdir(parents=True)
    for name, text in objs[("ConfigMap", "hedui-standards")]["data"].items():
        (standards / name).write_text(text, encoding="utf-8")
    (root / "etc/hedui").mkdir(parents=True)
    env = {"HEDUI_CASES_DB": f"sqlite:///{tmp_path}/cases.sqlite",
           "HEDUI_AUDIT_DB": f"sqlite:///{tmp_path}/audit.sqlite"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    path = root / "etc/hedui/gateway.toml"
    path.write_text(remap(gateway_toml, root))
    cfg = gateway_config.load(path)
    gw = server.build(cfg)
    try:
        assert gw.trust.current.participant(cfg.gateway_id) is not None
        assert gw.cases.standards is not None
    finally:
        import asyncio

        asyncio.run(gw.close())
    assert cfg.state_dir == root / "var/lib/hedui/state"


# ----------------------------------------------------------------- ports and probes


def test_probes_ask_the_health_service_over_mutual_tls(pod, gateway_toml: str) -> None:
    """No plaintext port: every probe runs `hedui gateway health` on the mounted config."""
    from hedui.cli import build_parser

    raw = tomllib.loads(gateway_toml)["gateway"]
    gw = container(pod, "gateway")
    ports = {p["name"]: p["containerPort"] for p in gw["ports"]}
    assert ports == {"grpc": port_of(raw["listen"]), "metrics": port_of(raw["metrics_listen"])}
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = gw[kind]
        assert "grpc" not in probe and "tcpSocket" not in probe, kind
        command = probe["exec"]["command"]
        assert command == ["hedui", "gateway", "health", "--config", CONFIG_PATH], kind
        build_parser().parse_args(command[1:])
    assert "health_listen" not in raw


def test_service_and_metrics_annotations_match_the_config(objs, pod, gateway_toml: str) -> None:
    raw = tomllib.loads(gateway_toml)["gateway"]
    svc = objs[("Service", "hedui-gateway")]["spec"]
    gw = container(pod, "gateway")
    assert [p["targetPort"] for p in svc["ports"]] == ["grpc"]
    assert svc["selector"] == objs[("Deployment", "hedui-gateway")]["spec"]["selector"][
        "matchLabels"]
    notes = objs[("Deployment", "hedui-gateway")]["spec"]["template"]["metadata"][
        "annotations"]
    assert notes["prometheus.io/scrape"] == "true"
    assert int(notes["prometheus.io/port"]) == port_of(raw["metrics_listen"])
    assert notes["prometheus.io/path"] == "/metrics"
    assert any(p["containerPort"] == port_of(raw["metrics_listen"]) for p in gw["ports"])


def test_the_gateway_runs_the_configmap_it_mounts(pod) -> None:
    gw = container(pod, "gateway")
    assert gw["command"] == ["hedui", "gateway", "serve", "--config", CONFIG_PATH]
    mount = next(m for m in gw["volumeMounts"] if CONFIG_PATH.startswith(m["mountPath"] + "/"))
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["configMap"]["name"] == "hedui-gateway-config"


def test_every_hedui_command_exists(pod) -> None:
    from hedui.cli import build_parser

    parser = build_parser()
    missing = set()
    for c in pod.get("initContainers", []) + pod["containers"]:
        cmd = c.get("command", [])
        if cmd[:1] != ["hedui"]:
            continue
        try:
            parser.parse_args(cmd[1:])
        except SystemExit:
            missing.add(tuple(cmd[1:3]))
    assert missing <= PENDING_COMMANDS, f"unknown hedui commands: {missing - PENDING_COMMANDS}"


# ---------------------------------------------------------------- secrets and mounts


def test_secrets_are_mounted_0400_and_only_by_the_key_installer(objs, pod,
                                                                gateway_toml: str) -> None:
    secret_volumes = {v["name"]: v["secret"] for v in pod["volumes"] if "secret" in v}
    assert secret_volumes, "the keys come from a Secret"
    for name, s in secret_volumes.items():
        assert s.get("defaultMode") in (0o400, 0o600), name
        for item in s.get("items", []):
            assert item.get("mode", s["defaultMode"]) in (0o400, 0o600), (name, item)
    if pod.get("securityContext", {}).get("fsGroup") is not None:
        # fsGroup makes Secret files 0440: hedui would refuse them, so only the
        # installer may mount them, and it must write 0400 copies
        for c in pod["containers"]:
            assert not {m["name"] for m in c["volumeMounts"]} & set(secret_volumes), c["name"]
    installer = container(pod, "install-keys")
    script = installer["command"][-1]
    assert "umask 077" in script and 'chmod 0400 "/run/hedui/keys/$f"' in script
    copied = set(re.search(r"for f in ([^;]+);", script)[1].split())
    cfg = tomllib.loads(gateway_toml)
    referenced = {Path(v).name for v in (cfg["tls"]["certificate"], cfg["tls"]["key"],
                                         cfg["signing"]["key"], cfg["store"]["audit_key"],
                                         cfg["keys"]["pseudonym"], cfg["keys"]["answers"])}
    assert copied == referenced
    example = objs[("Secret", "hedui-gateway-keys")]["stringData"]
    assert set(example) == copied
    (secret_name,) = {s["secretName"] for s in secret_volumes.values()}
    assert secret_name == "hedui-gateway-keys"


def test_every_path_in_gateway_toml_is_mounted(objs, pod, gateway_toml: str) -> None:
    cfg = tomllib.loads(gateway_toml)
    files = [cfg["tls"]["certificate"], cfg["tls"]["key"], cfg["tls"]["ca"],
             cfg["signing"]["key"], cfg["store"]["audit_key"], cfg["trust"]["bundle"],
             cfg["trust"]["root_public_key"],
             cfg["keys"]["pseudonym"], cfg["keys"]["answers"]]
    folders = [cfg["gateway"]["state_dir"], cfg["standards"]["directory"]]
    gw = container(pod, "gateway")
    volumes = {v["name"]: v for v in pod["volumes"]}
    for p in files + folders:
        mount = next((m for m in gw["volumeMounts"]
                      if p == m["mountPath"] or p.startswith(m["mountPath"] + "/")), None)
        assert mount is not None, f"{p} is not under any mount of the gateway container"
        volume = volumes[mount["name"]]
        if p in files and "configMap" in volume:
            cm = objs[("ConfigMap", volume["configMap"]["name"])]
            keys = set(cm.get("data", {})) | set(cm.get("binaryData", {}))
            assert Path(p).name in keys, f"{p}: ConfigMap {cm['metadata']['name']} lacks it"
    state = next(m for m in gw["volumeMounts"] if m["mountPath"] == cfg["gateway"]["state_dir"])
    assert not state.get("readOnly"), "the state folder must be writable"


def test_database_urls_come_from_the_secret(objs, pod, gateway_toml: str) -> None:
    store = tomllib.loads(gateway_toml)["store"]
    assert "cases" not in store and "audit" not in store, "no URL (password) in the ConfigMap"
    secret = objs[("Secret", "hedui-gateway-db")]["stringData"]
    for name in ("gateway", "migrate"):
        env = {e["name"]: e for e in container(pod, name)["env"]}
        for key in ("cases_env", "audit_env"):
            ref = env[store[key]]["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "hedui-gateway-db" and ref["key"] in secret, (name, key)


def test_standards_configmap_is_deploy_standards() -> None:
    (cm,) = load_all(K8S / "standards-config.yaml")
    on_disk = {p.name: p.read_text(encoding="utf-8")
               for p in (REPO / "deploy" / "standards").glob("*.toml")}
    assert set(cm["data"]) == set(on_disk), "regenerate standards-config.yaml (see its header)"
    for name, text in on_disk.items():
        assert cm["data"][name].rstrip("\n") == text.rstrip("\n"), (
            f"{name} differs from deploy/standards; regenerate standards-config.yaml")


def test_replicas_resources_and_hardening(objs, pod) -> None:
    spec = objs[("Deployment", "hedui-gateway")]["spec"]
    assert spec["replicas"] >= 2
    assert pod["securityContext"]["runAsNonRoot"] is True
    for c in pod.get("initContainers", []) + pod["containers"]:
        req = c["resources"]["requests"]
        assert req.get("cpu") and req.get("memory"), c["name"]
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True
        assert sc["capabilities"]["drop"] == ["ALL"], c["name"]
    pdb = objs[("PodDisruptionBudget", "hedui-gateway")]["spec"]
    assert pdb["minAvailable"] < spec["replicas"]
