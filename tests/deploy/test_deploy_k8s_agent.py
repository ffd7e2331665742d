"""The department agent's Kubernetes base in deploy/k8s/agent/ parses, and agrees with the
agent's real code.

Checked here: every document parses and names the agent's namespace; the ConfigMap's
agent.toml is read by ``hedui.agents.config.load`` (every key it holds is one the
loader reads); with the files it names put where the pod mounts them, ``hedui agent
check`` passes and ``hedui agent serve`` answers ``hedui agent health``; the mapping in
the ConfigMap is deploy/agents/banks.toml; probes run ``hedui agent health`` (mutual TLS,
no plaintext port); Secrets are mounted 0400 and only by the key installer; the database
URL comes from the Secret; one replica on a PersistentVolumeClaim; every ``hedui``
command in a container exists. Also ``hedui agent health`` against a sandbox agent.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from k8s_support import (
    container,
    manifests_in,
    port_of,
    remap,
)

from hedui.agents import config as agent_config
from hedui.agents import mapping_config
from hedui.gateway import sandbox

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "deploy" / "k8s" / "agent"
NAMESPACE = "hedui-banks"
CONFIG_PATH = "/etc/hedui/agent.toml"
DEPT = "banks"
MAPPING = REPO / "deploy" / "agents" / f"{DEPT}.toml"


@pytest.fixture(scope="module")
def objs() -> dict[tuple[str, str], dict[str, Any]]:
    """Every object of the base, by (kind, name)."""
    return manifests_in(BASE)


@pytest.fixture(scope="module")
def pod(objs) -> dict[str, Any]:
    return objs[("Deployment", "hedui-agent")]["spec"]["template"]["spec"]


@pytest.fixture(scope="module")
def agent_toml(objs) -> str:
    return objs[("ConfigMap", "hedui-agent-config")]["data"]["agent.toml"]


@pytest.fixture(scope="module")
def mapping_toml(objs) -> str:
    return objs[("ConfigMap", "hedui-agent-config")]["data"]["mapping.toml"]


def hedui(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*sandbox.hedui_command(), *args], capture_output=True, text=True,
                          timeout=timeout)


# ------------------------------------------------------------------------- parsing


# ------------------------------------------------------------- the agent's config


def test_every_key_of_agent_toml_is_one_the_loader_reads(
        agent_toml: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader's schema refuses any key it does not read: loading is the proof, and a
    key slipped into the ConfigMap's agent.toml is refused, not ignored."""
    path = tmp_path / "agent.toml"
    path.write_text(remap(agent_toml, tmp_path))
    cfg = agent_config.load(path)
    root = tmp_path
    assert cfg.agent_id == "spiffe://county.example/agent/banks" and cfg.department == DEPT
    assert cfg.state_dir == root / "var/lib/hedui/state"
    assert cfg.mapping == root / "etc/hedui/mapping.toml"
    assert cfg.database is None, "no URL (password) in the ConfigMap: database_env instead"
    assert cfg.metrics_listen
    assert agent_config.serving_problems(cfg) == []
    path.write_text(remap(agent_toml, tmp_path).replace("[limits]", "[limit]", 1))
    with pytest.raises(agent_config.ConfigError, match=r"\[limit\] is not a known section; "
                                                       r"did you mean \[limits\]\?"):
        agent_config.load(path)


def test_mapping_is_deploy_agents_banks(mapping_toml: str) -> None:
    assert mapping_toml.rstrip("\n") == MAPPING.read_text(encoding="utf-8").rstrip("\n"), (
        "mapping.toml in agent-config.yaml differs from deploy/agents/banks.toml")
    compiled = mapping_config.load(tomllib.loads(mapping_toml))
    assert compiled.database_env == "HEDUI_BANKS_DB"


def _pod_tree(objs, sb: sandbox.Sandbox, root: Path) -> Path:
    """The files the pod mounts, from a sandbox: keys 0400 as the installer leaves them."""
    ident = sb.agents[DEPT]
    keys = root / "run/hedui/keys"
    keys.mkdir(parents=True)
    for name, src in {"tls.crt": ident.tls_certificate, "tls.key": ident.tls_key,
                      "signing.key": ident.signing_key,
                      "pseudonym.key": sb.pseudonym_key}.items():
        shutil.copyfile(src, keys / name)
        os.chmod(keys / name, 0o400)
    trust = root / "opt/hedui/trust"
    trust.mkdir(parents=True)
    for name, src in {"bundle.dsse": sb.bundle, "ca.crt": sb.ca_certificate,
                      "root.pub": sb.root_public_key}.items():
        shutil.copyfile(src, trust / name)
    config = root / "etc/hedui"
    config.mkdir(parents=True)
    for name, text in objs[("ConfigMap", "hedui-agent-config")]["data"].items():
        (config / name).write_text(remap(text, root), encoding="utf-8")
    (root / "var/lib/hedui/state").mkdir(parents=True)
    return config / "agent.toml"


def test_the_pod_checks_serves_and_answers_its_probe(objs, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """`hedui agent check`, `serve` and `health` on the ConfigMap's files where the pod has
    them (only the ports moved to free ones, the database URL from HEDUI_BANKS_DB)."""
    sb = sandbox.provision(tmp_path / "center", persons=30, departments=[DEPT])
    root = tmp_path / "pod"
    path = _pod_tree(objs, sb, root)
    monkeypatch.setenv("HEDUI_BANKS_DB", f"sqlite:///{sb.data_dir / 'banks.sqlite'}")

    check = hedui("agent", "check", "--config", str(path))
    assert check.returncode == 0, check.stderr
    assert "everything checks out" in check.stdout

    text = path.read_text()
    text = text.replace('"0.0.0.0:7443"', f'"0.0.0.0:{sandbox.free_port()}"')
    text = text.replace('"0.0.0.0:9465"', f'"0.0.0.0:{sandbox.free_port()}"')
    path.write_text(text)
    cfg = agent_config.load(path)
    log = tmp_path / "agent.log"
    proc = sandbox.start_process(["agent", "serve", "--config", str(path)], log)
    try:
        sandbox.wait_healthy(f"127.0.0.1:{port_of(cfg.listen)}", cfg.agent_id,
                             sandbox.gateway_material(sb), process=proc, log_file=log)
        ok = hedui("agent", "health", "--config", str(path))
        assert ok.returncode == 0, ok.stderr
        assert "SERVING" in ok.stdout
    finally:
        sandbox.stop_process(proc)
    assert (root / "var/lib/hedui/state/audit.sqlite").exists()


# ------------------------------------------------------------- `hedui agent health`


def test_agent_health_against_a_real_agent(tmp_path: Path) -> None:
    sb = sandbox.provision(tmp_path / "site", persons=30, departments=[DEPT])
    config = str(sb.agent_config(DEPT))
    proc = sandbox.start_agent(sb, DEPT)
    try:
        sandbox.wait_healthy(sb.endpoints[DEPT], sb.agents[DEPT].id,
                             sandbox.gateway_material(sb), process=proc,
                             log_file=sb.logs / f"agent-{DEPT}.log")
        ok = hedui("agent", "health", "--config", config)
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.strip() == f"agent at {sb.endpoints[DEPT]}: SERVING"
    finally:
        assert sandbox.stop_process(proc) == 0
    down = hedui("agent", "health", "--config", config, "--timeout", "2")
    assert down.returncode != 0
    assert "Traceback" not in down.stderr
    lines = down.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hedui: agent at "), down.stderr
    assert "is not serving: UNAVAILABLE" in lines[0]


def test_agent_health_names_a_missing_config(tmp_path: Path) -> None:
    r = hedui("agent", "health", "--config", str(tmp_path / "nope.toml"))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


# ----------------------------------------------------------------- ports and probes


def test_probes_ask_the_health_service_over_mutual_tls(pod, agent_toml: str) -> None:
    """No plaintext port: every probe runs `hedui agent health` on the mounted config."""
    from hedui.cli import build_parser

    raw = tomllib.loads(agent_toml)["agent"]
    agent = container(pod, "agent")
    ports = {p["name"]: p["containerPort"] for p in agent["ports"]}
    assert ports == {"grpc": port_of(raw["listen"]), "metrics": port_of(raw["metrics_listen"])}
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = agent[kind]
        assert "grpc" not in probe and "tcpSocket" not in probe and "httpGet" not in probe
        command = probe["exec"]["command"]
        assert command == ["hedui", "agent", "health", "--config", CONFIG_PATH], kind
        args = build_parser().parse_args(command[1:])
        assert args.func.__module__ == "hedui.agents.cli" and args.func.__name__ == "_health"
        assert probe["timeoutSeconds"] > 3, "longer than `hedui agent health`'s own timeout"


def test_service_and_metrics_annotations_match_the_config(objs, pod, agent_toml: str) -> None:
    raw = tomllib.loads(agent_toml)["agent"]
    svc = objs[("Service", "hedui-agent")]["spec"]
    assert [(p["port"], p["targetPort"]) for p in svc["ports"]] == [
        (port_of(raw["listen"]), "grpc")], "the gRPC port only"
    assert svc["selector"] == objs[("Deployment", "hedui-agent")]["spec"]["selector"][
        "matchLabels"]
    notes = objs[("Deployment", "hedui-agent")]["spec"]["template"]["metadata"]["annotations"]
    assert notes["prometheus.io/scrape"] == "true"
    assert int(notes["prometheus.io/port"]) == port_of(raw["metrics_listen"])
    assert notes["prometheus.io/path"] == "/metrics"
    policy = objs[("NetworkPolicy", "hedui-agent")]["spec"]
    open_ports = {p["port"] for rule in policy["ingress"] for p in rule["ports"]}
    assert open_ports == {port_of(raw["listen"]), port_of(raw["metrics_listen"])}


def test_the_agent_runs_the_configmap_it_mounts(pod) -> None:
    agent = container(pod, "agent")
    assert agent["command"] == ["hedui", "agent", "serve", "--config", CONFIG_PATH]
    assert container(pod, "check")["command"] == ["hedui", "agent", "check", "--config",
                                                  CONFIG_PATH]
    mount = next(m for m in agent["volumeMounts"]
                 if CONFIG_PATH.startswith(m["mountPath"] + "/"))
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["configMap"]["name"] == "hedui-agent-config"


def test_every_hedui_command_exists(pod) -> None:
    from hedui.cli import build_parser

    parser = build_parser()
    commands = [c.get("command", []) for c in pod.get("initContainers", []) + pod["containers"]]
    commands += [c[k]["exec"]["command"] for c in pod["containers"]
                 for k in ("startupProbe", "readinessProbe", "livenessProbe") if k in c]
    used = [cmd for cmd in commands if cmd[:1] == ["hedui"]]
    assert len(used) >= 5
    for cmd in used:
        parser.parse_args(cmd[1:])  # SystemExit (argparse) fails the test


# ---------------------------------------------------------------- secrets and mounts


def test_secrets_are_mounted_0400_and_only_by_the_key_installer(objs, pod,
                                                                agent_toml: str) -> None:
    secret_volumes = {v["name"]: v["secret"] for v in pod["volumes"] if "secret" in v}
    assert secret_volumes, "the keys come from a Secret"
    for name, s in secret_volumes.items():
        assert s.get("defaultMode") == 0o400, name
        for item in s.get("items", []):
            assert item.get("mode", s["defaultMode"]) == 0o400, (name, item)
    if pod.get("securityContext", {}).get("fsGroup") is not None:
        for c in pod["containers"] + [c for c in pod["initContainers"]
                                      if c["name"] != "install-keys"]:
            assert not {m["name"] for m in c["volumeMounts"]} & set(secret_volumes), c["name"]
    installer = container(pod, "install-keys")
    script = installer["command"][-1]
    assert "umask 077" in script and 'chmod 0400 "/run/hedui/keys/$f"' in script
    copied = set(re.search(r"for f in ([^;]+);", script)[1].split())
    cfg = tomllib.loads(agent_toml)
    referenced = {Path(v).name for v in (cfg["tls"]["certificate"], cfg["tls"]["key"],
                                         cfg["signing"]["key"], cfg["audit"]["pseudonym_key"])}
    assert copied == referenced
    assert all(Path(v).parent == Path("/run/hedui/keys")
               for v in (cfg["tls"]["key"], cfg["signing"]["key"], cfg["audit"]["pseudonym_key"]))
    example = objs[("Secret", "hedui-agent-keys")]["stringData"]
    assert set(example) == copied
    (secret_name,) = {s["secretName"] for s in secret_volumes.values()}
    assert secret_name == "hedui-agent-keys"


def test_every_path_in_agent_toml_is_mounted(objs, pod, agent_toml: str) -> None:
    cfg = tomllib.loads(agent_toml)
    files = [cfg["tls"]["certificate"], cfg["tls"]["key"], cfg["tls"]["ca"],
             cfg["signing"]["key"], cfg["trust"]["bundle"], cfg["trust"]["root_public_key"],
             cfg["data"]["mapping"], cfg["audit"]["pseudonym_key"]]
    folders = [cfg["agent"]["state_dir"]]
    volumes = {v["name"]: v for v in pod["volumes"]}
    for name in ("agent", "check"):
        c = container(pod, name)
        for p in files + (folders if name == "agent" else []):
            mount = next((m for m in c["volumeMounts"]
                          if p == m["mountPath"] or p.startswith(m["mountPath"] + "/")), None)
            assert mount is not None, f"{p} is not under any mount of the {name} container"
            volume = volumes[mount["name"]]
            if p in files and "configMap" in volume:
                cm = objs.get(("ConfigMap", volume["configMap"]["name"]))
                assert cm is not None, volume["configMap"]["name"]
                keys = set(cm.get("data", {})) | set(cm.get("binaryData", {}))
                assert Path(p).name in keys, f"{p}: ConfigMap {cm['metadata']['name']} lacks it"
    agent = container(pod, "agent")
    state = next(m for m in agent["volumeMounts"] if m["mountPath"] == cfg["agent"]["state_dir"])
    assert not state.get("readOnly"), "the state folder must be writable"
    claim = volumes[state["name"]]["persistentVolumeClaim"]["claimName"]
    pvc = objs[("PersistentVolumeClaim", claim)]["spec"]
    assert pvc["accessModes"] == ["ReadWriteOnce"] and pvc["resources"]["requests"]["storage"]


def test_database_url_comes_from_the_secret(objs, pod, agent_toml: str,
                                            mapping_toml: str) -> None:
    assert "database" not in tomllib.loads(agent_toml).get("data", {}), (
        "no URL (password) in the ConfigMap")
    variable = tomllib.loads(mapping_toml)["database_env"]
    secret = objs[("Secret", "hedui-agent-db")]["stringData"]
    for name in ("check", "agent"):
        env = {e["name"]: e for e in container(pod, name)["env"]}
        ref = env[variable]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "hedui-agent-db" and ref["key"] in secret, name


def test_one_replica_resources_and_hardening(objs, pod) -> None:
    spec = objs[("Deployment", "hedui-agent")]["spec"]
    assert spec["replicas"] == 1, "one writer of the SQLite audit log and replay cache"
    assert spec["strategy"]["type"] == "Recreate", "never two pods on the state volume"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    for c in pod.get("initContainers", []) + pod["containers"]:
        req = c["resources"]["requests"]
        assert req.get("cpu") and req.get("memory") and c["resources"]["limits"]["memory"]
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True
        assert sc["capabilities"]["drop"] == ["ALL"], c["name"]
    assert not any(doc[0] == "PodDisruptionBudget" for doc in objs), (
        "a PDB on one replica blocks node drains")
