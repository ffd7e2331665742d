"""The gateway's TOML configuration.

Relative paths resolve against the configuration file's folder.

    [gateway]
    id = "spiffe://county.example/gateway/center"
    listen = "127.0.0.1:7400"
    state_dir = "state"
    metrics_listen = "127.0.0.1:9464"        # Prometheus /metrics, plain HTTP: keep it local

    [tls]
    certificate = "pki/gateway/tls.crt"
    key = "pki/gateway/tls.key"
    ca = "pki/ca.crt"

    [signing]
    key = "pki/gateway/signing.key"

    [trust]
    bundle = "bundle.dsse"
    root_public_key = "pki/root.pub"
    warn_days = 14                           # warn this long before the bundle expires

    [store]
    cases = "sqlite:///state/cases.sqlite"   # or postgresql+psycopg://… for replicas
    # cases_env = "HEDUI_CASES_DB"           # … or the URL from an environment variable
    audit = "sqlite:///state/audit.sqlite"
    audit_origin = "county.example/gateway/audit"
    audit_key = "pki/audit/signing.key"       # the log's own key (an audit participant) …
    audit_key_id = "spiffe://county.example/audit/log"   # … so gateway keys can rotate

    [keys]
    pseudonym = "pki/pseudonym.key"          # HMAC key of the audit pseudonyms
    answers = "pki/answers.key"              # SecretBox key of answers at rest

    [clients]                                # who may call the case service
    allowed = ["spiffe://county.example/client/verifier-desk"]
    officers = ["spiffe://county.example/client/privacy-office"]  # may search the audit log

    [staff]                                  # operator ids allowed per programme
    dibao = ["op-1001", "op-1002"]

    [fanout]
    deadline_seconds = 5.0
    retries = 2

    [standards]
    directory = "deploy/standards"
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from hedui.database_url import resolve_sqlite_url
from hedui.errors import HeduiError
from hedui.keys.bundle import WARN_BEFORE


class ConfigError(HeduiError):
    """The gateway configuration is missing something or holds a wrong value."""

    exit_code = 2


#: ``host:port`` (``[::1]:9464`` for IPv6); the host may be empty for every interface
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):\d{1,5}")

#: seconds between two checkpoints carried in queries (each new one costs every agent a
#: consistency proof); what a deployment gets unless its gateway.toml says otherwise
CHECKPOINT_INTERVAL = 1.0


@dataclass(frozen=True)
class GatewayConfig:
    path: Path
    gateway_id: str
    listen: str
    state_dir: Path
    tls_certificate: Path
    tls_key: Path
    tls_ca: Path
    signing_key: Path
    bundle: Path
    root_public_key: Path
    cases_db: str
    audit_db: str
    audit_origin: str
    pseudonym_key: Path
    answers_key: Path
    allowed_clients: tuple[str, ...]
    officer_clients: tuple[str, ...] = ()
    staff: dict[str, tuple[str, ...]] = field(default_factory=dict)
    deadline: float = 5.0
    retries: int = 2
    standards_dir: Path | None = None
    checkpoint_interval: float = CHECKPOINT_INTERVAL
    #: this replica's name in case claims; stable across restarts so a restarted
    #: replica takes its own unfinished cases back at once
    replica: str = ""
    #: the audit log's own signing key and its participant id (role audit in the
    #: trust bundle); None means the gateway's signing key signs checkpoints
    audit_key: Path | None = None
    audit_key_id: str = ""
    #: host:port for Prometheus /metrics over HTTP (counters only, no personal data)
    metrics_listen: str | None = None
    #: how often answers past their retention period are erased
    retention_sweep: float = 3600.0
    #: how long before the trust bundle expires the gateway starts warning (log, metrics);
    #: an expired bundle is refused at start and on reload whatever this says
    bundle_warn_before: dt.timedelta = WARN_BEFORE

    @property
    def bundle_state(self) -> Path:
        return self.state_dir / "bundle-serial.json"


def load(path: str | Path) -> GatewayConfig:
    """Read and validate a gateway configuration file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    here = path.resolve().parent

    def get(section: str, key: str, default: object = ...) -> object:
        try:
            return raw[section][key]
        except KeyError:
            if default is ...:
                raise ConfigError(f"{path}: [{section}] {key} is missing") from None
            return default

    def p(section: str, key: str) -> Path:
        value = get(section, key)
        if not isinstance(value, str):
            raise ConfigError(f"{path}: [{section}] {key} must be a path string")
        return (here / value).resolve()

    def url(key: str) -> str:
        """A database URL given in the file, or named by an environment variable
        (``cases_env = "HEDUI_CASES_DB"``) so passwords stay in a Secret."""
        env = get("store", f"{key}_env", None)
        if env is None:
            return resolve_sqlite_url(str(get("store", key)), here)
        if key in raw.get("store", {}):
            raise ConfigError(f"{path}: [store] give {key} or {key}_env, not both")
        value = os.environ.get(str(env), "")
        if not value:
            raise ConfigError(f"{path}: [store] {key}_env names {env}, which is not set")
        return resolve_sqlite_url(value, here)

    state_dir = (here / str(get("gateway", "state_dir", "state"))).resolve()
    staff_raw = raw.get("staff", {})
    if not all(isinstance(v, list) for v in staff_raw.values()):
        raise ConfigError(f"{path}: [staff] maps each programme to a list of operator ids")
    standards = get("standards", "directory", None)
    try:
        deadline = float(get("fanout", "deadline_seconds", 5.0))  # type: ignore[arg-type]
        retries = int(get("fanout", "retries", 2))  # type: ignore[call-overload]
        interval = float(get("store", "checkpoint_interval_seconds",  # type: ignore[arg-type]
                             CHECKPOINT_INTERVAL))
        sweep = float(get("store", "retention_sweep_seconds", 3600.0))  # type: ignore[arg-type]
        warn_days = float(get("trust", "warn_days",  # type: ignore[arg-type]
                              WARN_BEFORE.total_seconds() / 86400))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: a number is expected ({exc})") from None
    if not 0 <= warn_days <= 366:
        raise ConfigError(f"{path}: [trust] warn_days must be from 0 to 366 days")
    metrics = get("gateway", "metrics_listen", None)
    if metrics is not None and not (isinstance(metrics, str) and _HOST_PORT.fullmatch(metrics)):
        raise ConfigError(f"{path}: [gateway] metrics_listen must be host:port, e.g. "
                          f'"127.0.0.1:9464", not {metrics!r}')
    return GatewayConfig(
        path=path,
        gateway_id=str(get("gateway", "id")),
        listen=str(get("gateway", "listen")),
        state_dir=state_dir,
        tls_certificate=p("tls", "certificate"),
        tls_key=p("tls", "key"),
        tls_ca=p("tls", "ca"),
        signing_key=p("signing", "key"),
        bundle=p("trust", "bundle"),
        root_public_key=p("trust", "root_public_key"),
        cases_db=url("cases"),
        audit_db=url("audit"),
        audit_origin=str(get("store", "audit_origin", "hedui-gateway-audit")),
        pseudonym_key=p("keys", "pseudonym"),
        answers_key=p("keys", "answers"),
        allowed_clients=tuple(get("clients", "allowed", ())),  # type: ignore[arg-type]
        officer_clients=tuple(get("clients", "officers", ())),  # type: ignore[arg-type]
        staff={k: tuple(v) for k, v in staff_raw.items()},
        deadline=deadline,
        retries=retries,
        standards_dir=(here / standards).resolve() if isinstance(standards, str) else None,
        checkpoint_interval=interval,
        replica=str(get("gateway", "replica", "")),
        audit_key=p("store", "audit_key") if "audit_key" in raw.get("store", {}) else None,
        audit_key_id=str(get("store", "audit_key_id", "")),
        metrics_listen=metrics,
        retention_sweep=sweep,
        bundle_warn_before=dt.timedelta(days=warn_days),
    )
