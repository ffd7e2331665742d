"""Ask a hedui server whether it is serving, over mutual TLS with the caller's own keys.

What `hedui gateway health` and `hedui agent health` run as Kubernetes exec probes: the
kubelet's built-in gRPC probe cannot present a client certificate, and hedui servers
have no plaintext port. The server's certificate must be the expected participant's
(:func:`hedui.keys.tls.channel_options`).
"""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hedui.keys import tls

SERVING = health_pb2.HealthCheckResponse.ServingStatus.Name(
    health_pb2.HealthCheckResponse.SERVING
)


def probe(listen: str, server_id: str, material: tls.TlsMaterial, *,
          timeout: float) -> tuple[str, str]:
    """``(address asked, status)`` of the server listening on ``listen``: ``SERVING``,
    another serving status, or the gRPC code of a failed call (``UNAVAILABLE`` …).
    A wildcard listen address is asked on this host's loopback."""
    host, _, port = listen.rpartition(":")
    target = f"{'127.0.0.1' if host in ('', '0.0.0.0', '[::]') else host}:{port}"
    with grpc.secure_channel(target, tls.channel_credentials(*material),
                             options=tls.channel_options(server_id)) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        except grpc.RpcError as exc:
            return target, exc.code().name
    return target, health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
