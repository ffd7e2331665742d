"""The agent's TOML configuration: who it is, its keys, its data, its limits.

Relative paths are resolved against the configuration file's folder, so a
department can keep one folder with the config, keys and mapping and move it. The file
is checked against a schema (``hedui.config_schema``): an unknown section or key is
refused with the name it most resembles and its line, and every narrowing path must
name a field of the department's record. See ``deploy/examples/agents/`` for annotated
examples.

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
    passphrase_env = "HEDUI_KEY_PASSPHRASE"   # only when the keys are encrypted (signing, TLS)

    [trust]
    bundle = "bundle.dsse"
    root_public_key = "keys/root.pub"

    [data]
    mapping = "mapping.toml"
    database = "sqlite:///data/banks.sqlite"  # overrides the mapping's own URL

    [audit]
    pseudonym_key = "keys/pseudonym.key"

    [witness]                      # the center's audit service, to check its checkpoints
    gateway_audit_endpoint = "gateway.county.example:7443"

    [limits]
    max_subjects = 20
    max_message_bytes = 262144

    [narrowing]                    # optional: the department narrows the policy
    dibao = ["deposits", "securities.*.market_value_fen"]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field, ValidationInfo, field_validator

from hedui.agents.checks import Limits
from hedui.agents.departments import DEPARTMENTS
from hedui.agents.fieldmask import expand
from hedui.config_schema import ConfigProblem, Section, TlsFiles, TrustFiles, load_toml
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
    #: answers sealed bundles only; never serves
    offline_only: bool = False

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


class _Agent(Section):
    id: str
    department: str
    listen: str
    state_dir: str = "state"
    metrics_listen: str | None = None
    #: true for a department without a network link: it answers sealed bundles only
    offline_only: bool = False

    @field_validator("department")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in DEPARTMENTS:
            raise ValueError(f"{value!r} is not one of {', '.join(DEPARTMENTS)}")
        return value


class _Signing(Section):
    key: str
    #: the environment variable holding the passphrase of the agent's encrypted key
    #: files (the signing key and the TLS key)
    passphrase_env: str | None = None


class _Data(Section):
    mapping: str
    database: str | None = None


class _Audit(Section):
    pseudonym_key: str


class _Witness(Section):
    gateway_audit_endpoint: str | None = None


class _Limits(Section):
    max_subjects: int = Field(default=Limits.max_subjects, ge=1, le=1000)
    max_field_paths: int = Field(default=Limits.max_field_paths, ge=1, le=10_000)
    max_message_bytes: int = Field(default=Limits.max_message_bytes, ge=1024, le=64 * 2**20)
    clock_skew_seconds: int = Field(default=60, ge=0, le=3600)
    max_query_lifetime_seconds: int = Field(default=600, ge=1, le=86_400)
    offline_max_query_lifetime_days: int = Field(default=45, ge=1, le=366)


class _Offline(Section):
    box_key: str | None = None


class _File(Section):
    """The whole agent.toml: a misspelt ``[narowing]`` is refused, never ignored (it would
    silently drop the department's own restriction)."""

    agent: _Agent
    tls: TlsFiles
    signing: _Signing
    trust: TrustFiles
    data: _Data
    audit: _Audit
    witness: _Witness = _Witness()
    limits: _Limits = _Limits()
    narrowing: dict[str, list[str]] | None = None
    offline: _Offline = _Offline()

    @field_validator("narrowing")
    @classmethod
    def _narrowing_paths_exist(cls, value: dict[str, list[str]] | None,
                               info: ValidationInfo) -> dict[str, list[str]] | None:
        """Each narrowing path names a field of this department's record message."""
        agent = info.data.get("agent")
        if value is None or agent is None:
            return value
        descriptor = DEPARTMENTS[agent.department].record_type.DESCRIPTOR
        for purpose, paths in value.items():
            for path in paths:
                try:
                    expand(descriptor, path)
                except HeduiError as exc:
                    raise ValueError(f"{purpose}: {exc}") from None
        return value


def load(path: str | Path) -> AgentConfig:
    """Read and validate an agent configuration file."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"configuration file {path} does not exist")
    try:
        raw, _ = load_toml(_File, path)
    except ConfigProblem as exc:
        raise ConfigError(str(exc)) from None
    here = path.resolve().parent

    def p(value: str) -> Path:
        return (here / value).resolve()

    database = raw.data.database
    if database is not None:
        database = resolve_sqlite_url(database, here)
    lim = raw.limits
    return AgentConfig(
        path=path,
        agent_id=raw.agent.id,
        department=raw.agent.department,
        listen=raw.agent.listen,
        state_dir=p(raw.agent.state_dir),
        tls_certificate=p(raw.tls.certificate),
        tls_key=p(raw.tls.key),
        tls_ca=p(raw.tls.ca),
        signing_key=p(raw.signing.key),
        passphrase_env=raw.signing.passphrase_env,
        bundle=p(raw.trust.bundle),
        root_public_key=p(raw.trust.root_public_key),
        mapping=p(raw.data.mapping),
        database=database,
        pseudonym_key=p(raw.audit.pseudonym_key),
        limits=Limits(
            max_subjects=lim.max_subjects, max_field_paths=lim.max_field_paths,
            max_message_bytes=lim.max_message_bytes,
            clock_skew=dt.timedelta(seconds=lim.clock_skew_seconds),
            max_lifetime=dt.timedelta(seconds=lim.max_query_lifetime_seconds),
        ),
        narrowing=raw.narrowing,
        gateway_audit_endpoint=raw.witness.gateway_audit_endpoint,
        metrics_listen=raw.agent.metrics_listen,
        offline_only=raw.agent.offline_only,
    )


def serving_problems(config: AgentConfig) -> list[str]:
    """What stops this configuration from serving online, in words for department IT."""
    if config.offline_only:
        return ["[agent] offline_only = true: this agent answers sealed bundles only "
                "(hedui agent answer-bundle), it does not serve"]
    if not config.gateway_audit_endpoint:
        return ["[witness] gateway_audit_endpoint is missing: without it the agent cannot "
                "check the center's log and refuses every query after the first checkpoint "
                "it sees (the center's clerks then see 'circuit open'); set it to the "
                "gateway's address, or set [agent] offline_only = true for an agent that "
                "only answers sealed bundles"]
    return []
