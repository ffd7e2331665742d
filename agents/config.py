"""The agent's TOML configuration: who it is, its keys, its data, its limits.

Relative paths are resolved against the configuration file's folder, so a
department can keep one folder with the config, keys and mapping and move it.
Every problem is reported with the key that is wrong; see ``deploy/agents/`` for
annotated examples.

    [agent]
    id = "spiffe://county.example/agent/banks"
    department = "banks"
    listen = "127.0.0.1:7405"
    state_dir = "state"            # replay cache, audit log, held bundle serial
    metrics_listen = "127.0.0.1:9465"   # optional: Prometheus /metrics (no personal data)

    [tls]
    certificate = "keys/banks/tls.crt"
    key = "keys/banks/tls.key"
    ca = "keys/ca.crt"

    [signing]
    key = "keys/banks/signing.key"
    passphrase_env = "HEDUI_KEY_PASSPHRASE"   # only when the key is encrypted

    [trust]
    bundle = "bundle.dsse"
    root_public_key = "keys/root.pub"

    [data]
    mapping = "mapping.toml"
    database = "sqlite:///data/banks.sqlite"  # overrides the mapping's own URL

    [audit]
    pseudonym_key = "keys/pseudonym.key"

    [limits]
    max_subjects = 20
    max_message_bytes = 262144

    [narrowing]                    # optional: the department narrows the policy
    dibao = ["deposits", "securities.*.market_value_fen"]
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from hedui.agents.checks import Limits
from hedui.agents.departments import DEPARTMENTS
from hedui.database_url import resolve_sqlite_url
from hedui.errors import HeduiError


class ConfigError(HeduiError):
    """The agent configuration is missing something or holds a wrong value."""

    exit_code = 2


@dataclass(frozen=True)
class AgentConfig:
    path: Path
    agent_id: str
    department: str
    listen: str
    state_dir: Path
    tls_certificate: Path
    tls_key: Path
    tls_ca: Path
    signing_key: Path
    passphrase_env: str | None
    bundle: Path
    root_public_key: Path
    mapping: Path
    database: str | None
    pseudonym_key: Path
    limits: Limits = field(default_factory=Limits)
    narrowing: dict[str, list[str]] | None = None
    gateway_audit_endpoint: str | None = None
    #: host:port for Prometheus /metrics over HTTP (counters only, no personal data)
    metrics_listen: str | None = None

    @property
    def replay_db(self) -> Path:
        return self.state_dir / "replay.sqlite"

    @property
    def audit_db(self) -> str:
        return f"sqlite:///{self.state_dir / 'audit.sqlite'}"

    @property
    def bundle_state(self) -> Path:
        return self.state_dir / "bundle-serial.json"

    @property
    def witness_db(self) -> Path:
        return self.state_dir / "witness.sqlite"


def _get(table: dict, section: str, key: str, path: Path) -> object:
    try:
        return table[section][key]
    except KeyError:
        raise ConfigError(f"{path}: [{section}] {key} is missing") from None


def load(path: str | Path) -> AgentConfig:
    """Read and validate an agent configuration file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    here = path.resolve().parent

    def p(section: str, key: str) -> Path:
        value = _get(raw, section, key, path)
        if not isinstance(value, str):
            raise ConfigError(f"{path}: [{section}] {key} must be a path string")
        return (here / value).resolve()

    department = str(_get(raw, "agent", "department", path))
    if department not in DEPARTMENTS:
        raise ConfigError(
            f"{path}: [agent] department {department!r} is not one of {', '.join(DEPARTMENTS)}"
        )
    limits_raw = raw.get("limits", {})
    try:
        limits = Limits(
            max_subjects=int(limits_raw.get("max_subjects", Limits.max_subjects)),
            max_field_paths=int(limits_raw.get("max_field_paths", Limits.max_field_paths)),
            max_message_bytes=int(limits_raw.get("max_message_bytes", Limits.max_message_bytes)),
            clock_skew=dt.timedelta(seconds=int(limits_raw.get("clock_skew_seconds", 60))),
            max_lifetime=dt.timedelta(seconds=int(limits_raw.get("max_query_lifetime_seconds",
                                                                 600))),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: [limits] holds a value that is not a number ({exc})") from None
    narrowing = raw.get("narrowing")
    if narrowing is not None and not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in narrowing.values()
    ):
        raise ConfigError(f"{path}: [narrowing] maps each purpose to a list of field paths")
    data = raw.get("data", {})
    database = data.get("database")
    if isinstance(database, str):
        database = resolve_sqlite_url(database, here)
    state_dir = here / str(raw.get("agent", {}).get("state_dir", "state"))
    return AgentConfig(
        path=path,
        agent_id=str(_get(raw, "agent", "id", path)),
        department=department,
        listen=str(_get(raw, "agent", "listen", path)),
        state_dir=state_dir.resolve(),
        tls_certificate=p("tls", "certificate"),
        tls_key=p("tls", "key"),
        tls_ca=p("tls", "ca"),
        signing_key=p("signing", "key"),
        passphrase_env=raw.get("signing", {}).get("passphrase_env"),
        bundle=p("trust", "bundle"),
        root_public_key=p("trust", "root_public_key"),
        mapping=p("data", "mapping"),
        database=database,
        pseudonym_key=p("audit", "pseudonym_key"),
        limits=limits,
        narrowing=narrowing,
        gateway_audit_endpoint=raw.get("witness", {}).get("gateway_audit_endpoint"),
        metrics_listen=raw.get("agent", {}).get("metrics_listen"),
    )
