"""The gateway's TOML configuration, checked against a schema (``hedui.config_schema``).

Relative paths resolve against the configuration file's folder. An unknown section or
key is refused with the name it most resembles: ``[staf]`` used to start a gateway
with no staff at all.

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
    # People call with personal certificates (spiffe://…/staff/<staff-id>): always
    # accepted, the operator taken from the certificate, the staff registry deciding.
    consoles = ["spiffe://county.example/console/web"]  # assert the person signed in
    allowed = ["spiffe://county.example/client/verifier-desk"]  # desks (transitional)
    declared_operators = false               # true: a desk names its operator (unchecked!)
    officers = ["spiffe://county.example/client/privacy-office"]  # may search the audit log

    [review]
    required = true                          # 审核: a second person approves each report

    [cases]
    repeat_within_days = 90                  # same household, same programme: a reason
                                             # (0: off — a sandbox reusing synthetic people)

    [staff]                                  # old: seeds an empty staff registry once
    dibao = ["op-1001", "op-1002"]

    [fanout]
    deadline_seconds = 5.0
    retries = 2
    retry_failed_every_minutes = 30          # online departments that failed: asked
                                             # again automatically (0: off)
    retry_failed_per_sweep = 20              # at most this many cases each time

    [deadlines]                              # 协查反馈时限, in working days on the
    working_days = 5                         # official calendar (holidays, 调休上班)
    # calendar = "cn-workdays.toml"          # another calendar file (default: packaged)
    [deadlines.departments]
    banks = 10                               # a department's own deadline

    [standards]
    directory = "deploy/standards"

    [reverification]                         # 动态监测: runs over each programme's roster
    scheduled_by = "op-1001"                 # the verifier accountable for scheduled
                                             # runs (empty: runs are started by hand)
    every_months = 12                        # a programme's run is due this long after
    [reverification.programmes]              # its last (or its first enrolment)
    temporary-assistance = 6                 # irregular income: every six months
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field, field_validator

from hedui.config_schema import ConfigProblem, Section, did_you_mean, load_toml
from hedui.database_url import resolve_sqlite_url
from hedui.errors import HeduiError
from hedui.keys.bundle import WARN_BEFORE
from hedui.keys.identity import DEPARTMENTS


class ConfigError(HeduiError):
    """The gateway configuration is missing something or holds a wrong value."""

    exit_code = 2


#: ``host:port`` (``[::1]:9464`` for IPv6); the host may be empty for every interface
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):\d{1,5}")

#: seconds between two checkpoints carried in queries (each new one costs every agent a
#: consistency proof); what a deployment gets unless its gateway.toml says otherwise
CHECKPOINT_INTERVAL = 1.0


#: the longest feedback deadline a department may be given, in working days
MAX_WORKING_DAYS = 60


@dataclass(frozen=True)
class DeadlineSettings:
    """``[deadlines]``: each department's feedback deadline in working days."""

    working_days: int = 5
    #: department → its own deadline, overriding ``working_days``
    departments: dict[str, int] = field(default_factory=dict)
    #: another calendar file; None: the one packaged with hedui
    calendar: Path | None = None


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
    #: consoles that authenticate people and assert their staff id
    console_clients: tuple[str, ...] = ()
    #: transitional: desks on ``allowed`` name their operator and are believed
    declared_operators: bool = False
    #: a reviewer other than the verifier approves before the report is issued
    review_required: bool = True
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
    #: a case of the same programme for the same applicant decided this recently (or
    #: still under way) stops a new one unless the verifier gives a reason; None: off
    repeat_within: dt.timedelta | None = dt.timedelta(days=90)
    #: departments' feedback deadlines (``[deadlines]``)
    deadlines: DeadlineSettings = field(default_factory=DeadlineSettings)
    #: seconds between two automatic retries of cases whose online department failed;
    #: 0: off (``[fanout] retry_failed_every_minutes``)
    retry_failed_every: float = 1800.0
    #: at most this many cases are retried each time
    retry_failed_per_sweep: int = 20
    #: ``[reverification]``: whose scheduled runs are (empty: none), and the months
    #: between a programme's runs
    reverify_scheduled_by: str = ""
    reverify_every_months: int = 12
    reverify_programme_months: dict[str, int] = field(default_factory=dict)

    @property
    def bundle_state(self) -> Path:
        return self.state_dir / "bundle-serial.json"


class _Gateway(Section):
    id: str
    listen: str
    state_dir: str = "state"
    metrics_listen: str | None = None
    replica: str = ""

    @field_validator("metrics_listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None and not _HOST_PORT.fullmatch(value):
            raise ValueError(f'must be host:port, e.g. "127.0.0.1:9464", not {value!r}')
        return value


class _Tls(Section):
    certificate: str
    key: str
    ca: str


class _Signing(Section):
    key: str


class _Trust(Section):
    bundle: str
    root_public_key: str
    warn_days: float = Field(default=WARN_BEFORE.total_seconds() / 86400, ge=0, le=366)


class _Store(Section):
    cases: str | None = None
    cases_env: str | None = None
    audit: str | None = None
    audit_env: str | None = None
    audit_origin: str = "hedui-gateway-audit"
    audit_key: str | None = None
    audit_key_id: str = ""
    checkpoint_interval_seconds: float = Field(default=CHECKPOINT_INTERVAL, gt=0)
    retention_sweep_seconds: float = Field(default=3600.0, gt=0)


class _Keys(Section):
    pseudonym: str
    answers: str


class _Clients(Section):
    allowed: list[str] = Field(default_factory=list)
    officers: list[str] = Field(default_factory=list)
    consoles: list[str] = Field(default_factory=list)
    declared_operators: bool = False


class _Review(Section):
    required: bool = True


class _Cases(Section):
    #: 0 turns the check off (a training or test sandbox verifies its few synthetic
    #: households over and over)
    repeat_within_days: int = Field(default=90, ge=0, le=3660)


class _Reverification(Section):
    #: the staff member (a verifier) whose runs the scheduled ones are: their id is on
    #: each run and its entries; empty: no scheduled runs
    scheduled_by: str = ""
    every_months: int = Field(default=12, ge=1, le=60)
    #: programme → months between its runs, where not every_months
    programmes: dict[str, int] = Field(default_factory=dict)

    @field_validator("programmes")
    @classmethod
    def _months(cls, value: dict[str, int]) -> dict[str, int]:
        bad = [p for p, m in value.items() if not 1 <= m <= 60]
        if bad:
            raise ValueError(f"months between runs are 1 to 60, not so for {', '.join(bad)}")
        return value


class _Fanout(Section):
    deadline_seconds: float = Field(default=5.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    #: 0 turns the automatic retry off
    retry_failed_every_minutes: float = Field(default=30.0, ge=0, le=7 * 24 * 60)
    retry_failed_per_sweep: int = Field(default=20, ge=1, le=1000)


class _Deadlines(Section):
    working_days: int = Field(default=5, ge=1, le=MAX_WORKING_DAYS)
    departments: dict[str, int] = Field(default_factory=dict)
    calendar: str | None = None

    @field_validator("departments")
    @classmethod
    def _known(cls, value: dict[str, int]) -> dict[str, int]:
        for department, days in value.items():
            if department not in DEPARTMENTS:
                raise ValueError(f"{department} is not a department"
                                 f"{did_you_mean(department, DEPARTMENTS)} (known: "
                                 f"{', '.join(DEPARTMENTS)})")
            if not 1 <= days <= MAX_WORKING_DAYS:
                raise ValueError(f"{department} = {days}: a deadline is 1 to "
                                 f"{MAX_WORKING_DAYS} working days")
        return value


class _Standards(Section):
    directory: str | None = None


class _File(Section):
    """The whole gateway.toml: an unknown section (``[staf]``) is refused, never ignored."""

    gateway: _Gateway
    tls: _Tls
    signing: _Signing
    trust: _Trust
    store: _Store
    keys: _Keys
    clients: _Clients = _Clients()
    review: _Review = _Review()
    cases: _Cases = _Cases()
    staff: dict[str, list[str]] = Field(default_factory=dict)
    fanout: _Fanout = _Fanout()
    standards: _Standards = _Standards()
    deadlines: _Deadlines = _Deadlines()
    reverification: _Reverification = _Reverification()


def load(path: str | Path) -> GatewayConfig:
    """Read and validate a gateway configuration file."""
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

    def url(key: str) -> str:
        """A database URL given in the file, or named by an environment variable
        (``cases_env = "HEDUI_CASES_DB"``) so passwords stay in a Secret."""
        given, env = getattr(raw.store, key), getattr(raw.store, f"{key}_env")
        if env is None:
            if given is None:
                raise ConfigError(f"{path}: [store] {key} is missing")
            return resolve_sqlite_url(given, here)
        if given is not None:
            raise ConfigError(f"{path}: [store] give {key} or {key}_env, not both")
        value = os.environ.get(env, "")
        if not value:
            raise ConfigError(f"{path}: [store] {key}_env names {env}, which is not set")
        return resolve_sqlite_url(value, here)

    return GatewayConfig(
        path=path,
        gateway_id=raw.gateway.id,
        listen=raw.gateway.listen,
        state_dir=p(raw.gateway.state_dir),
        tls_certificate=p(raw.tls.certificate),
        tls_key=p(raw.tls.key),
        tls_ca=p(raw.tls.ca),
        signing_key=p(raw.signing.key),
        bundle=p(raw.trust.bundle),
        root_public_key=p(raw.trust.root_public_key),
        cases_db=url("cases"),
        audit_db=url("audit"),
        audit_origin=raw.store.audit_origin,
        pseudonym_key=p(raw.keys.pseudonym),
        answers_key=p(raw.keys.answers),
        allowed_clients=tuple(raw.clients.allowed),
        officer_clients=tuple(raw.clients.officers),
        console_clients=tuple(raw.clients.consoles),
        declared_operators=raw.clients.declared_operators,
        review_required=raw.review.required,
        staff={programme: tuple(ids) for programme, ids in raw.staff.items()},
        deadline=raw.fanout.deadline_seconds,
        retries=raw.fanout.retries,
        standards_dir=p(raw.standards.directory) if raw.standards.directory else None,
        checkpoint_interval=raw.store.checkpoint_interval_seconds,
        replica=raw.gateway.replica,
        audit_key=p(raw.store.audit_key) if raw.store.audit_key else None,
        audit_key_id=raw.store.audit_key_id,
        metrics_listen=raw.gateway.metrics_listen,
        retention_sweep=raw.store.retention_sweep_seconds,
        bundle_warn_before=dt.timedelta(days=raw.trust.warn_days),
        repeat_within=(dt.timedelta(days=raw.cases.repeat_within_days)
                       if raw.cases.repeat_within_days else None),
        deadlines=_deadlines(path, raw.deadlines, p),
        retry_failed_every=raw.fanout.retry_failed_every_minutes * 60,
        retry_failed_per_sweep=raw.fanout.retry_failed_per_sweep,
        reverify_scheduled_by=raw.reverification.scheduled_by,
        reverify_every_months=raw.reverification.every_months,
        reverify_programme_months=dict(raw.reverification.programmes),
    )


def _deadlines(path: Path, raw: _Deadlines, resolve: Callable[[str], Path]) -> DeadlineSettings:
    """``[deadlines]``, its calendar file read now so a wrong one stops the start."""
    from hedui.gateway.working_days import CalendarError, calendar_at

    calendar = resolve(raw.calendar) if raw.calendar else None
    if calendar is not None:
        try:
            calendar_at(calendar)
        except CalendarError as exc:
            raise ConfigError(f"{path}: [deadlines] calendar: {exc}") from None
    return DeadlineSettings(working_days=raw.working_days, departments=dict(raw.departments),
                            calendar=calendar)
