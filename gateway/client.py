"""A verifier's (or privacy officer's) connection to the gateway, from a small TOML file.

    # hedui-client.toml
    gateway = "127.0.0.1:7400"
    gateway_id = "spiffe://county.example/gateway/center"
    operator = "op-1001"
    [tls]
    certificate = "pki/desk/tls.crt"
    key = "pki/desk/tls.key"
    ca = "pki/ca.crt"
    passphrase_env = "HEDUI_KEY_PASSPHRASE"   # only for an encrypted (personal) key

gRPC errors become one-line ``GatewayError`` messages for the CLI, carrying the
gateway's machine-readable reason (``GatewayError.reason``, read from the status
details, never from the text).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from hedui import status
from hedui.config_schema import Section, load_toml
from hedui.errors import HeduiError
from hedui.keys import keyfile, tls
from hedui.v1 import audit_pb2_grpc, case_pb2_grpc, office_pb2_grpc, reverification_pb2_grpc


class GatewayError(HeduiError):
    """The gateway refused a request or could not be reached."""

    def __init__(self, code: grpc.StatusCode, detail: str, reason: str = "") -> None:
        self.code = code
        #: the ErrorInfo reason (e.g. NOT_ON_STAFF_LIST), "" when the peer gave none
        self.reason = reason
        super().__init__(f"{detail} ({code.name}: {reason})" if reason
                         else f"{detail} ({code.name})")


@dataclass(frozen=True)
class ClientConfig:
    gateway: str
    gateway_id: str
    operator: str
    certificate: Path
    key: Path
    ca: Path

    #: environment variable with the passphrase of an encrypted key (a personal one)
    passphrase_env: str | None = None

    @classmethod
    def load(cls, path: str | Path) -> ClientConfig:
        """The connection file, in any encoding an office editor saves (UTF-8 with or
        without BOM, GB18030/GBK: paths may hold Chinese folder names), checked against
        its schema: a misspelt key is refused with the name it resembles."""
        path = Path(path)
        if not path.exists():
            raise HeduiError(f"client configuration {path} does not exist (give --client FILE)")
        raw, _ = load_toml(_ClientFile, path)
        here = path.resolve().parent
        return cls(
            gateway=raw.gateway, gateway_id=raw.gateway_id, operator=raw.operator,
            certificate=here / raw.tls.certificate, key=here / raw.tls.key,
            ca=here / raw.tls.ca, passphrase_env=raw.tls.passphrase_env,
        )


class _Tls(Section):
    certificate: str
    key: str
    ca: str
    passphrase_env: str | None = None


class _ClientFile(Section):
    gateway: str
    gateway_id: str
    operator: str = ""
    tls: _Tls


class GatewayClient:
    """Blocking stubs for the case, office, re-verification and audit services over mutual
    TLS."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        passphrase = (keyfile.passphrase_from_env(config.passphrase_env)
                      if config.passphrase_env else None)
        material = tls.load_tls_material(config.certificate, config.key, config.ca, passphrase)
        options = [*tls.channel_options(config.gateway_id),
                   ("grpc.max_receive_message_length", 64 * 1024 * 1024)]
        target = config.gateway
        if "," in target:
            # several replicas: "ipv4:127.0.0.1:7400,127.0.0.1:7401", calls spread over all
            options.append(("grpc.lb_policy_name", "round_robin"))
            if not target.startswith(("ipv4:", "ipv6:")):
                target = "ipv4:" + target
        self.channel = grpc.secure_channel(target, tls.channel_credentials(*material),
                                           options=options)
        self.cases = case_pb2_grpc.CaseServiceStub(self.channel)
        self.audit = audit_pb2_grpc.AuditServiceStub(self.channel)
        self.office = office_pb2_grpc.OfficeServiceStub(self.channel)
        self.reverify = reverification_pb2_grpc.ReverificationServiceStub(self.channel)

    def call(self, method, request, *, timeout: float = 60.0):
        try:
            return method(request, timeout=timeout)
        except grpc.RpcError as exc:
            why = status.reason_of(exc)
            raise GatewayError(why.code, why.message or "no detail", why.reason) from None

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
