"""Reasons travel as google.rpc.ErrorInfo in the status details, bounded, over a real
gRPC server (hedui.status), so no peer parses "REASON: text" out of a message."""

from __future__ import annotations

import asyncio

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hedui import status


class _Refusing(health_pb2_grpc.HealthServicer):
    async def Check(self, request, context):  # type: ignore[no-untyped-def]
        await status.abort(context, grpc.StatusCode.INVALID_ARGUMENT, "MALFORMED_QUERY",
                           "the query cannot be read " + "x" * 100_000,
                           {"keyid": "k" * 100_000})


async def _call() -> status.Reason:
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(_Refusing(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            try:
                await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
            except grpc.aio.AioRpcError as exc:
                return status.reason_of(exc)
    finally:
        await server.stop(None)
    raise AssertionError("the call was not refused")


def test_the_reason_arrives_as_error_info_and_every_echo_is_bounded() -> None:
    got = asyncio.run(_call())
    assert got.code == grpc.StatusCode.INVALID_ARGUMENT
    assert got.reason == "MALFORMED_QUERY"
    assert len(got.message) <= status.MAX_MESSAGE and got.message.endswith("…")
    assert len(got.metadata["keyid"]) <= status.MAX_METADATA


def test_an_error_without_details_has_no_reason() -> None:
    class Plain(grpc.RpcError):
        def code(self):  # type: ignore[no-untyped-def]
            return grpc.StatusCode.UNAVAILABLE

        def details(self):  # type: ignore[no-untyped-def]
            return "connection refused"

        def trailing_metadata(self):  # type: ignore[no-untyped-def]
            return ()

    got = status.reason_of(Plain())
    assert got.reason == "" and got.code == grpc.StatusCode.UNAVAILABLE
