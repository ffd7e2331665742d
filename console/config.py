"""console.toml: where the console listens, how it reaches the gateway, how long sessions
live, how sign-in is limited.

Checked against a schema like every hedui configuration (``hedui.config_schema``): an
unknown key is refused with the name it resembles. Paths are relative to the file.

The console holds no case data: its own state (``state_dir``) is the sign-in secrets
and sessions (``console.sqlite``) and the scanned authorization documents, sealed with
``[keys] secrets``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from hedui.config_schema import ConfigProblem, Section, load_toml


class _Console(Section):
    listen: str = "127.0.0.1:8443"
    state_dir: str = "console-state"
    #: the issuing center's name, on every page's header
    center_name: str = "居民家庭经济状况核对中心"


class _Https(Section):
    certificate: str
    key: str


class _Gateway(Section):
    endpoint: str
    gateway_id: str
    certificate: str
    key: str
    ca: str


class _Sessions(Section):
    idle_minutes: int = Field(default=15, ge=1, le=240)
    lifetime_hours: int = Field(default=8, ge=1, le=24)


class _SignIn(Section):
    #: failed sign-ins of one staff id before it is locked for ``lock_minutes``
    max_failures: int = Field(default=5, ge=1, le=50)
    lock_minutes: int = Field(default=15, ge=1, le=1440)
    #: sign-in attempts from one address within a minute
    per_address_per_minute: int = Field(default=20, ge=1, le=1000)


class _Keys(Section):
    #: 32 random bytes sealing TOTP secrets and documents (``hedui console keygen``)
    secrets: str


class _File(Section):
    console: _Console = _Console()
    https: _Https
    gateway: _Gateway
    sessions: _Sessions = _Sessions()
    sign_in: _SignIn = _SignIn()
    keys: _Keys


@dataclass(frozen=True)
class ConsoleConfig:
    path: Path
    listen: str
    state_dir: Path
    center_name: str
    https_certificate: Path
    https_key: Path
    gateway_endpoint: str
    gateway_id: str
    certificate: Path
    key: Path
    ca: Path
    idle: dt.timedelta
    lifetime: dt.timedelta
    max_failures: int
    lock: dt.timedelta
    per_address_per_minute: int
    secrets_key: Path

    @property
    def database(self) -> Path:
        return self.state_dir / "console.sqlite"

    @property
    def documents(self) -> Path:
        return self.state_dir / "documents"

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        try:
            return host or "127.0.0.1", int(port)
        except ValueError:
            raise ConfigProblem(f"{self.path}: [console] listen is host:port, not "
                                f"{self.listen!r}") from None

    @classmethod
    def load(cls, path: str | Path) -> ConsoleConfig:
        path = Path(path)
        if not path.exists():
            raise ConfigProblem(f"console configuration {path} does not exist "
                                "(give --config FILE)")
        raw, _ = load_toml(_File, path)
        here = path.resolve().parent
        return cls(
            path=path, listen=raw.console.listen, state_dir=here / raw.console.state_dir,
            center_name=raw.console.center_name,
            https_certificate=here / raw.https.certificate, https_key=here / raw.https.key,
            gateway_endpoint=raw.gateway.endpoint, gateway_id=raw.gateway.gateway_id,
            certificate=here / raw.gateway.certificate, key=here / raw.gateway.key,
            ca=here / raw.gateway.ca,
            idle=dt.timedelta(minutes=raw.sessions.idle_minutes),
            lifetime=dt.timedelta(hours=raw.sessions.lifetime_hours),
            max_failures=raw.sign_in.max_failures,
            lock=dt.timedelta(minutes=raw.sign_in.lock_minutes),
            per_address_per_minute=raw.sign_in.per_address_per_minute,
            secrets_key=here / raw.keys.secrets,
        )
