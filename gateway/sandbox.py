"""A complete throwaway deployment on loopback: what `hedui demo` and the tests stand up.

``provision(dir)`` plays the center's administrator and every department's IT staff
at once: it creates the CA and the root signing key, issues a certificate and a
signing key to the gateway and to each agent, writes the trust bundle (participants
plus ``deploy/policy/programmes.toml``) and signs it, seeds the synthetic
department databases and writes each agent's configuration beside the example
mapping in ``deploy/agents/``. Everything stays under ``dir``; nothing is shared
with another sandbox, so tests can run several side by side.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import grpc
import nacl.public
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hedui.errors import HeduiError
from hedui.keys import ca as ca_mod
from hedui.keys import keyfile, signing, tls
from hedui.keys.bundle import sign_bundle
from hedui.keys.bundle_toml import bundle_from_toml
from hedui.keys.identity import (
    DEPARTMENTS,
    agent_id,
    audit_id,
    client_id,
    console_id,
    gateway_id,
    staff_id,
)
from hedui.keys.secrets import write_secret
from hedui.keys.tls import TlsMaterial

REPO = Path(__file__).resolve().parents[1]
POLICY_FILE = REPO / "deploy" / "policy" / "programmes.toml"
MAPPINGS_DIR = REPO / "deploy" / "agents"
STANDARDS_DIR = REPO / "deploy" / "standards"

TRUST_DOMAIN = "county.example"


#: ports this process has handed out (a port is given once, even after it was freed)
_GIVEN: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago.

    ``HEDUI_SANDBOX_PORTS=first-last`` confines the choice to a range: test workers
    running side by side each get their own (tests/conftest.py), so two sandboxes never
    pick the same port between one's check and its server's bind."""
    span = os.environ.get("HEDUI_SANDBOX_PORTS", "")
    if not span:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    first, _, last = span.partition("-")
    for port in range(int(first), int(last) + 1):
        if port in _GIVEN:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN.add(port)
        return port
    raise HeduiError(f"no free port left in HEDUI_SANDBOX_PORTS={span}")


@dataclass(frozen=True)
class Identity:
    """One participant's files."""

    id: str
    dir: Path

    @property
    def tls_certificate(self) -> Path:
        return self.dir / "tls.crt"

    @property
    def tls_key(self) -> Path:
        return self.dir / "tls.key"

    @property
    def signing_key(self) -> Path:
        return self.dir / "signing.key"

    @property
    def signing_public_key(self) -> Path:
        return self.dir / "signing.pub"

    @property
    def box_key(self) -> Path:
        """The X25519 key offline bundles to this participant are sealed to (if issued)."""
        return self.dir / "box.key"

    def box_public_key_base64(self) -> str | None:
        """The box key's public half as the trust TOML writes it, or None without one."""
        if not self.box_key.exists():
            return None
        public = keyfile.load_box_key(self.box_key).public_key
        return base64.b64encode(bytes(public)).decode("ascii")


@dataclass(frozen=True)
class Sandbox:
    """Where everything of one provisioned deployment lives."""

    root: Path
    gateway: Identity
    agents: dict[str, Identity]
    endpoints: dict[str, str]
    gateway_endpoint: str
    desk: Identity
    officer: Identity
    #: personal certificates by staff id (``provision(people=True)``), else empty
    staff: dict[str, Identity] = field(default_factory=dict)
    #: the web console's identity (``people=True``): its certificate is a gRPC client
    #: of the gateway on ``[clients] consoles``; ``console_web`` holds the HTTPS
    #: certificate browsers see (names localhost and 127.0.0.1)
    console: Identity | None = None

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def ca_certificate(self) -> Path:
        return self.pki / "ca.crt"

    @property
    def root_public_key(self) -> Path:
        return self.pki / "root.pub"

    @property
    def root_signing_key(self) -> Path:
        return self.pki / "root.key"

    @property
    def pseudonym_key(self) -> Path:
        return self.pki / "pseudonym.key"

    @property
    def answer_key(self) -> Path:
        return self.pki / "answers.key"

    @property
    def trust_toml(self) -> Path:
        return self.root / "trust.toml"

    @property
    def bundle(self) -> Path:
        return self.root / "bundle.dsse"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def agent_config(self, department: str) -> Path:
        return self.root / "agents" / department / "agent.toml"

    @property
    def gateway_config(self) -> Path:
        return self.root / "gateway" / "gateway.toml"

    @property
    def logs(self) -> Path:
        return self.root / "logs"


def _issue(ca_cert, ca_key, participant_id: str, directory: Path, *,
           box: bool = False) -> Identity:
    directory.mkdir(parents=True, exist_ok=True)
    ident = Identity(participant_id, directory)
    cert, key = ca_mod.issue_certificate(ca_cert, ca_key, participant_id)
    ca_mod.write_certificate(ident.tls_certificate, cert)
    keyfile.write_private_key(ident.tls_key, key)
    sk = signing.generate_signing_key()
    keyfile.write_private_key(ident.signing_key, sk)
    signing.write_public_key(ident.signing_public_key, sk)
    if box:
        issue_box_key(ident)
    return ident


def issue_box_key(ident: Identity) -> None:
    """Give a participant an X25519 box key (``box.key``, 0600) unless it has one."""
    if not ident.box_key.exists():
        keyfile.write_private_key(ident.box_key, nacl.public.PrivateKey.generate())


@dataclass(frozen=True)
class ExtraKey:
    """An additional gateway signing key (for rotation and revocation tests)."""

    public_key_file: Path
    not_before: str = ""
    not_after: str = ""
    revoked_reason: str = ""


def _participants_toml(sb_agents: dict[str, Identity], gateway: Identity,
                       endpoints: dict[str, str], gateway_endpoint: str,
                       offline: Iterable[str], extra_keys: Iterable[ExtraKey]) -> str:
    offline = set(offline)
    lines = [
        "[[participants]]",
        f'id = "{gateway.id}"',
        'role = "gateway"',
        f'endpoint = "{gateway_endpoint}"',
        'display_name = "County verification center"',
        *_box_line(gateway),
        "[[participants.signing_keys]]",
        f'public_key_file = "{gateway.signing_public_key}"',
        "",
    ]
    lines += [
        "[[participants]]",
        f'id = "{audit_id(TRUST_DOMAIN)}"',
        'role = "audit"',
        'display_name = "The center\'s audit log (signs its checkpoints)"',
        "[[participants.signing_keys]]",
        f'public_key_file = "{gateway.dir.parent / "audit" / "signing.pub"}"',
        "",
    ]
    revoked = []
    for extra in extra_keys:
        lines += ["[[participants.signing_keys]]", f'public_key_file = "{extra.public_key_file}"']
        if extra.not_before:
            lines.append(f"not_before = {extra.not_before}")
        if extra.not_after:
            lines.append(f"not_after = {extra.not_after}")
        lines.append("")
        if extra.revoked_reason:
            kid = signing.keyid(signing.read_public_key(extra.public_key_file))
            revoked += ["[[revoked]]", f'keyid = "{kid}"', "revoked_at = 2026-01-01T00:00:00Z",
                        f'reason = "{extra.revoked_reason}"', ""]
    for n, (department, ident) in enumerate(sb_agents.items()):
        lines += [
            "[[participants]]",
            f'id = "{ident.id}"',
            'role = "agent"',
            f'department = "{department}"',
            f'endpoint = "{endpoints[department]}"',
            f"offline = {'true' if department in offline else 'false'}",
            *_box_line(ident),
            # synthetic contacts: whom the center calls when the department is late
            f'liaison = {{ name = "{department}联络员", phone = "021-5551{n:03d}" }}',
            f'leader = {{ name = "{department}分管领导", phone = "021-5552{n:03d}" }}',
            "[[participants.signing_keys]]",
            f'public_key_file = "{ident.signing_public_key}"',
            "",
        ]
    return "\n".join(lines + revoked)


def _box_line(ident: Identity) -> list[str]:
    public = ident.box_public_key_base64()
    return [f'box_public_key = "{public}"'] if public else []


def provision(
    root: Path,
    *,
    persons: int = 300,
    seed: int = 7,
    departments: Iterable[str] = DEPARTMENTS,
    offline: Iterable[str] = (),
    serial: int = 1,
    extra_gateway_keys: Iterable[ExtraKey] = (),
    people: bool = False,
) -> Sandbox:
    """Create PKI, trust bundle, synthetic data and agent configs under ``root``.

    The gateway and every ``offline`` department also get a box key (``box.key``) for
    sealed offline bundles, its public half in the trust bundle.

    ``people``: the deployment as new configurations make it — a staff registry with
    every role (:data:`STAFF`), a personal certificate each (``pki/staff/<id>/``), no
    declared operators, review required. Without it (most older tests) the gateway runs
    in the transitional mode: the desk declares its operator, the old ``[staff]`` list
    seeds the registry with verifiers, and reports are issued without review.
    """
    from hedui.agents.synthetic import seed as seed_departments  # the demo's data only

    departments = list(departments)
    root = root.resolve()
    pki = root / "pki"
    pki.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = ca_mod.create_ca(TRUST_DOMAIN)
    ca_mod.write_certificate(pki / "ca.crt", ca_cert)
    keyfile.write_private_key(pki / "ca.key", ca_key)
    root_key = signing.generate_signing_key()
    keyfile.write_private_key(pki / "root.key", root_key)
    signing.write_public_key(pki / "root.pub", root_key)
    write_secret(pki / "pseudonym.key", os.urandom(32))
    write_secret(pki / "answers.key", os.urandom(32))

    offline = set(offline)
    gateway = _issue(ca_cert, ca_key, gateway_id(TRUST_DOMAIN, "center"), pki / "gateway",
                     box=True)
    agents = {
        d: _issue(ca_cert, ca_key, agent_id(TRUST_DOMAIN, d), pki / "agents" / d,
                  box=d in offline)
        for d in departments
    }
    audit_key = signing.generate_signing_key()
    (pki / "audit").mkdir()
    keyfile.write_private_key(pki / "audit" / "signing.key", audit_key)
    signing.write_public_key(pki / "audit" / "signing.pub", audit_key)
    desk = _issue(ca_cert, ca_key, client_id(TRUST_DOMAIN, "verifier-desk"), pki / "desk")
    officer = _issue(ca_cert, ca_key, client_id(TRUST_DOMAIN, "privacy-office"),
                     pki / "officer")
    endpoints = {d: f"127.0.0.1:{free_port()}" for d in departments}
    gateway_endpoint = f"127.0.0.1:{free_port()}"
    personal = {}
    for person in STAFF if people else ():
        ident = Identity(staff_id(TRUST_DOMAIN, person.staff_id), pki / "staff" / person.staff_id)
        ident.dir.mkdir(parents=True, exist_ok=True)
        cert, key = ca_mod.issue_certificate(ca_cert, ca_key, ident.id)
        ca_mod.write_certificate(ident.tls_certificate, cert)
        keyfile.write_private_key(ident.tls_key, key)
        personal[person.staff_id] = ident
    console = None
    if people:
        console = _issue(ca_cert, ca_key, console_id(TRUST_DOMAIN, "web"), pki / "console")
        web_cert, web_key = ca_mod.issue_certificate(
            ca_cert, ca_key, console.id, dns_names=["localhost"], ip_addresses=["127.0.0.1"])
        ca_mod.write_certificate(pki / "console" / "web.crt", web_cert)
        keyfile.write_private_key(pki / "console" / "web.key", web_key)
    sb = Sandbox(root, gateway, agents, endpoints, gateway_endpoint, desk, officer, personal,
                 console)

    trust_text = "\n".join([
        f'trust_domain = "{TRUST_DOMAIN}"',
        f"serial = {serial}",
        f'ca_certificates = ["{sb.ca_certificate}"]',
        "",
        _participants_toml(agents, gateway, endpoints, gateway_endpoint, offline,
                           extra_gateway_keys),
        POLICY_FILE.read_text(encoding="utf-8"),
    ])
    sb.trust_toml.write_text(trust_text, encoding="utf-8")
    write_bundle(sb)

    seed_departments(sb.data_dir, persons, seed=seed)
    for d in departments:
        write_agent_config(sb, d)
    write_gateway_config(sb, people=people)
    if people:
        register_staff(sb)
    sb.logs.mkdir(exist_ok=True)
    return sb


#: the demo's verifier and privacy-officer staff ids
VERIFIER = "op-1001"
OFFICER = "po-2001"
ADMIN = "admin-01"
CLERK = "clerk-3101"
REVIEWER = "rv-4001"
#: the township the demo's intake clerk works for (a synthetic nine-digit code)
TOWNSHIP = "310112001"


@dataclass(frozen=True)
class StaffMember:
    """One person of the sandbox's staff registry (synthetic names)."""

    staff_id: str
    name: str
    roles: str
    township: str = ""
    phone: str = ""


#: a small staff with every role (``provision(people=True)``)
STAFF = (
    StaffMember(ADMIN, "管理员甲", "administrator", phone="021-5550100"),
    StaffMember(CLERK, "乡镇经办乙", "intake-clerk", TOWNSHIP, "021-5550101"),
    StaffMember(VERIFIER, "核对员丙", "verifier", phone="021-5550102"),
    StaffMember("op-1002", "核对员丁", "verifier", phone="021-5550103"),
    StaffMember(REVIEWER, "审核员戊", "reviewer", phone="021-5550104"),
    StaffMember("rv-4002", "审核员己", "reviewer,verifier", phone="021-5550105"),
    StaffMember(OFFICER, "隐私专员庚", "privacy-officer", phone="021-5550106"),
)


def register_staff(sb: Sandbox) -> None:
    """The administrator's first day: themselves, then everyone else (each logged), as
    ``hedui staff add … --by admin-01`` does."""
    from hedui.gateway.staff_cli import open_registry

    with open_registry(sb.gateway_config) as registry:
        for p in STAFF:
            registry.add(p.staff_id, name=p.name, roles=p.roles.split(","),
                         townships=[p.township] if p.township else [], phone=p.phone,
                         by="" if p.staff_id == ADMIN else ADMIN)


def programmes() -> list[str]:
    """The programmes of the shipped exchange policy (the sandbox's bundle), in order."""
    return list(tomllib.loads(POLICY_FILE.read_text(encoding="utf-8"))["policies"])


def write_gateway_config(sb: Sandbox, *, cases_db: str | None = None,
                         audit_db: str | None = None, listen: str | None = None,
                         state_dir: str = "state", path: Path | None = None,
                         checkpoint_interval: float = 0.5, people: bool | None = None) -> Path:
    """The gateway.toml the center's administrator would write.

    ``checkpoint_interval`` is half the shipped default so that tests see witnesses
    move on quickly; benchmarks pass the shipped one. ``people`` (default: whether the
    sandbox has personal certificates): no declared operators, review required.
    """
    people = bool(sb.staff) if people is None else people
    path = path or sb.gateway_config
    path.parent.mkdir(parents=True, exist_ok=True)
    g = sb.gateway
    staff = "\n".join(f'{p} = ["{VERIFIER}", "op-1002"]' for p in programmes())
    path.write_text(
        f"""# hedui gateway (generated by the sandbox)
[gateway]
id = "{g.id}"
listen = "{listen or sb.gateway_endpoint}"
state_dir = "{state_dir}"

[tls]
certificate = "{g.tls_certificate}"
key = "{g.tls_key}"
ca = "{sb.ca_certificate}"

[signing]
key = "{g.signing_key}"

[trust]
bundle = "{sb.bundle}"
root_public_key = "{sb.root_public_key}"

[store]
cases = "{cases_db or 'sqlite:///state/cases.sqlite'}"
audit = "{audit_db or 'sqlite:///state/audit.sqlite'}"
audit_origin = "{TRUST_DOMAIN}/gateway/audit"
audit_key = "{sb.pki / 'audit' / 'signing.key'}"
audit_key_id = "{audit_id(TRUST_DOMAIN)}"
checkpoint_interval_seconds = {checkpoint_interval}

[keys]
pseudonym = "{sb.pseudonym_key}"
answers = "{sb.answer_key}"

[clients]
allowed = ["{sb.desk.id}", "{sb.officer.id}"]
officers = ["{sb.officer.id}"]
consoles = [{f'"{sb.console.id}"' if sb.console else ''}]
declared_operators = {'false' if people else 'true'}

[review]
required = {'true' if people else 'false'}

[cases]
# the sandbox verifies its few synthetic households over and over: no repeat check
repeat_within_days = 0

[staff]
{staff if not people else ''}

[fanout]
deadline_seconds = 5.0
retries = 2

[standards]
directory = "{STANDARDS_DIR}"
""",
        encoding="utf-8",
    )
    return path


#: the password every sandbox staff member signs in to the console with (synthetic)
CONSOLE_PASSWORD = "沙盒演示密码-sandbox-only"


def write_console_config(sb: Sandbox, *, listen: str | None = None,
                         path: Path | None = None, idle_minutes: int = 15) -> Path:
    """console.toml for the sandbox's console (``provision(people=True)``), with its
    secrets key; returns the file."""
    if sb.console is None:
        raise HeduiError("the sandbox has no console identity: provision(people=True)")
    path = path or sb.root / "console.toml"
    key = sb.pki / "console" / "secrets.key"
    if not key.exists():
        write_secret(key, os.urandom(32))
    c = sb.console
    path.write_text(f"""# hedui console (generated by the sandbox)
[console]
listen = "{listen or f'127.0.0.1:{free_port()}'}"
state_dir = "console-state"
center_name = "示范县居民家庭经济状况核对中心"

[https]
certificate = "{c.dir / 'web.crt'}"
key = "{c.dir / 'web.key'}"

[gateway]
endpoint = "{sb.gateway_endpoint}"
gateway_id = "{sb.gateway.id}"
certificate = "{c.tls_certificate}"
key = "{c.tls_key}"
ca = "{sb.ca_certificate}"

[sessions]
idle_minutes = {idle_minutes}
lifetime_hours = 8

[keys]
secrets = "{key}"
""", encoding="utf-8")
    return path


def start_gateway(sb: Sandbox, config: Path | None = None,
                  log_name: str = "gateway") -> subprocess.Popen:
    return start_process(["gateway", "serve", "--config", str(config or sb.gateway_config)],
                         sb.logs / f"{log_name}.log")


def write_bundle(sb: Sandbox, *, issued_at: datetime | None = None,
                 valid_days: int | None = None) -> None:
    """Sign ``trust.toml`` into ``bundle.dsse`` with the root key (atomically).

    ``issued_at`` (default now) and ``valid_days`` (default 90) set the bundle's life,
    so tests can stand up one that is expired or about to expire.
    """
    message = bundle_from_toml(sb.trust_toml, now=issued_at, valid_days=valid_days)
    envelope = sign_bundle(message, keyfile.load_signing_key(sb.root_signing_key))
    tmp = sb.bundle.with_suffix(".tmp")
    tmp.write_bytes(envelope.SerializeToString())
    tmp.replace(sb.bundle)


def mark_offline(sb: Sandbox, departments: Iterable[str]) -> int:
    """The administrator marks departments offline: box keys, a new serial, re-signed.

    Rewrites ``trust.toml`` (``offline = true`` and ``box_public_key`` for each) and signs
    it under the next serial into ``bundle.dsse``; returns that serial. Agents load the
    new bundle by themselves; a gateway reads it when (re)started.
    """
    text = sb.trust_toml.read_text(encoding="utf-8")
    for department in departments:
        ident = sb.agents[department]
        issue_box_key(ident)
        block = re.compile(
            rf'(department = "{re.escape(department)}"\nendpoint = "[^"]*"\n)offline = false\n'
            r'(box_public_key = "[^"]*"\n)?'
        )
        text, n = block.subn(
            rf'\g<1>offline = true\nbox_public_key = "{ident.box_public_key_base64()}"\n', text
        )
        if n != 1:
            raise HeduiError(f"{department} is not an online participant of {sb.trust_toml}")
    serial_re = re.compile(r"^serial = (\d+)$", re.MULTILINE)
    match = serial_re.search(text)
    if match is None:
        raise HeduiError(f"{sb.trust_toml} has no serial")
    serial = int(match.group(1)) + 1
    text = serial_re.sub(f"serial = {serial}", text, count=1)
    sb.trust_toml.write_text(text, encoding="utf-8")
    write_bundle(sb)
    return serial


def mark_online(sb: Sandbox, departments: Iterable[str]) -> int:
    """The administrator brings offline departments online: ``offline = false`` (their
    endpoints stay), a new serial, re-signed; returns the serial. Cases waiting for them
    are then asked over the network by ``hedui case retry`` (a gateway reads the new
    bundle when (re)started)."""
    text = sb.trust_toml.read_text(encoding="utf-8")
    for department in departments:
        block = re.compile(
            rf'(department = "{re.escape(department)}"\nendpoint = "[^"]*"\n)offline = true\n'
        )
        text, n = block.subn(r"\g<1>offline = false\n", text)
        if n != 1:
            raise HeduiError(f"{department} is not an offline participant of {sb.trust_toml}")
    serial_re = re.compile(r"^serial = (\d+)$", re.MULTILINE)
    match = serial_re.search(text)
    if match is None:
        raise HeduiError(f"{sb.trust_toml} has no serial")
    serial = int(match.group(1)) + 1
    text = serial_re.sub(f"serial = {serial}", text, count=1)
    sb.trust_toml.write_text(text, encoding="utf-8")
    write_bundle(sb)
    return serial


def write_agent_config(sb: Sandbox, department: str, *, extra: str = "") -> Path:
    """The agent.toml a department's IT staff would write, pointing into the sandbox."""
    ident = sb.agents[department]
    path = sb.agent_config(department)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"""# hedui agent for {department} (generated by the sandbox)
[agent]
id = "{ident.id}"
department = "{department}"
listen = "{sb.endpoints[department]}"
state_dir = "state"

[tls]
certificate = "{ident.tls_certificate}"
key = "{ident.tls_key}"
ca = "{sb.ca_certificate}"

[signing]
key = "{ident.signing_key}"

[trust]
bundle = "{sb.bundle}"
root_public_key = "{sb.root_public_key}"

[data]
mapping = "{MAPPINGS_DIR / (department + '.toml')}"
database = "sqlite:///{sb.data_dir / (department + '.sqlite')}"

[audit]
pseudonym_key = "{sb.pseudonym_key}"

[witness]
gateway_audit_endpoint = "{sb.gateway_endpoint}"
{extra}""",
        encoding="utf-8",
    )
    return path


# ---------------------------------------------------------------- running processes


def hedui_command() -> list[str]:
    """How to start the hedui CLI from here: the same interpreter, as a module."""
    return [sys.executable, "-m", "hedui.cli"]


def start_process(args: list[str], log_file: Path) -> subprocess.Popen:
    """Start a hedui sub-command as its own process, output appended to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log_file, "ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen([*hedui_command(), *args], stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)


def start_agent(sb: Sandbox, department: str) -> subprocess.Popen:
    return start_process(["agent", "serve", "--config", str(sb.agent_config(department))],
                         sb.logs / f"agent-{department}.log")


def wait_healthy(
    endpoint: str, server_id: str, material: TlsMaterial, *, timeout: float = 20.0,
    process: subprocess.Popen | None = None, log_file: Path | None = None,
) -> None:
    """Block until the server's gRPC health service says SERVING, over mutual TLS."""
    deadline = time.monotonic() + timeout
    creds = tls.channel_credentials(*material)
    last = ""
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log_file.read_text(errors="replace")[-2000:] if log_file else ""
            raise HeduiError(f"{server_id} exited with code {process.returncode}:\n{tail}")
        with grpc.secure_channel(endpoint, creds, options=tls.channel_options(server_id)) as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError as exc:
                last = f"{exc.code().name}: {exc.details()}"
        time.sleep(0.1)
    raise HeduiError(
        f"{server_id} at {endpoint} did not become healthy in {timeout:.0f} s ({last})"
    )


def stop_process(process: subprocess.Popen, timeout: float = 15.0) -> int:
    """SIGTERM, wait for a graceful exit, SIGKILL as a last resort."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def gateway_material(sb: Sandbox) -> TlsMaterial:
    return tls.load_tls_material(sb.gateway.tls_certificate, sb.gateway.tls_key,
                                 sb.ca_certificate)
