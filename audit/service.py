"""The audit gRPC service: checkpoints and proofs for witnesses, searches for officers.

Served by the gateway over mutual TLS. Agents call ``GetConsistencyProof`` to
witness the center's log; privacy officers' tools call ``Search``. Who may search
is decided by the server that mounts this service (``may_search``).

Each agent serves it too, over its own log, so the gateway can witness the
departments' logs (``hedui.gateway.agent_witness``); there ``may_read`` admits only
gateways of the trust bundle. A proof that cannot be given says why in an ``ErrorInfo``
reason (``hedui.status``): ``PROOF_OUT_OF_RANGE`` with the log's size in its metadata —
a size below one the log once signed is evidence that it was cut back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc

from hedui import status
from hedui.audit.errors import AuditError, LogRangeError
from hedui.audit.search import AuditQueries, Criteria
from hedui.audit.store import AuditLog
from hedui.timestamps import from_timestamp
from hedui.v1 import audit_pb2, audit_pb2_grpc

MAX_PROOF_RANGE = 1 << 62


class AuditService(audit_pb2_grpc.AuditServiceServicer):
    """AuditService over one AuditLog; blocking reads run in threads."""

    def __init__(
        self,
        log: AuditLog,
        queries: AuditQueries | None,
        *,
        checkpoint: Callable[[], str],
        may_search: Callable[[grpc.aio.ServicerContext], bool] = lambda _ctx: False,
        may_read: Callable[[grpc.aio.ServicerContext], bool] = lambda _ctx: True,
    ) -> None:
        self.log = log
        self.queries = queries
        self.checkpoint = checkpoint
        self.may_search = may_search
        self.may_read = may_read

    async def _require_reader(self, context) -> None:
        if not self.may_read(context):
            await status.abort(context, grpc.StatusCode.PERMISSION_DENIED, "PEER_NOT_ALLOWED",
                               "only gateways of the trust bundle may read this audit log")

    async def GetCheckpoint(self, request, context):
        await self._require_reader(context)
        note = await asyncio.to_thread(self.checkpoint)
        return audit_pb2.GetCheckpointResponse(checkpoint=note)

    async def GetInclusionProof(self, request, context):
        await self._require_reader(context)
        try:
            size = request.tree_size or await asyncio.to_thread(self._signed_size)
            hashes = await asyncio.to_thread(self.log.inclusion_proof, request.leaf_index, size)
            entry = await asyncio.to_thread(self.log.leaf, request.leaf_index)
        except (LogRangeError, ValueError) as exc:
            await context.abort(grpc.StatusCode.OUT_OF_RANGE, str(exc))
        except AuditError as exc:
            await context.abort(grpc.StatusCode.INTERNAL, f"audit log damaged: {exc}")
        return audit_pb2.GetInclusionProofResponse(
            proof=audit_pb2.InclusionProof(
                leaf_index=request.leaf_index, tree_size=size, hashes=hashes
            ),
            entry=entry,
        )

    async def GetConsistencyProof(self, request, context):
        await self._require_reader(context)
        try:
            second = request.second_size or await asyncio.to_thread(self._signed_size)
            hashes = await asyncio.to_thread(
                self.log.consistency_proof, request.first_size, second
            )
        except (LogRangeError, ValueError) as exc:
            size = await asyncio.to_thread(self.log.size)
            await status.abort(context, grpc.StatusCode.OUT_OF_RANGE, "PROOF_OUT_OF_RANGE",
                               str(exc), {"log_size": str(size)})
        except AuditError as exc:
            await status.abort(context, grpc.StatusCode.INTERNAL, "AUDIT_LOG_DAMAGED",
                               f"audit log damaged: {exc}")
        return audit_pb2.GetConsistencyProofResponse(
            proof=audit_pb2.ConsistencyProof(
                first_size=request.first_size, second_size=second, hashes=hashes
            )
        )

    async def Search(self, request, context):
        if self.queries is None or not self.may_search(context):
            await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                "only privacy officers' clients may search the audit log")
        if not request.searched_by:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "searched_by must name the privacy officer")
        try:
            criteria = Criteria(
                subject_pseudonym=(self.queries.pseudonym(request.subject_id_number)
                                   if request.subject_id_number else None),
                operator=request.operator or None,
                department=request.department or None,
                purpose=request.purpose or None,
                case_id=request.case_id or None,
                kinds=frozenset(request.kinds),
                since=from_timestamp(request.since) if request.HasField("since") else None,
                until=from_timestamp(request.until) if request.HasField("until") else None,
            )
        except AuditError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        hits, truncated = await asyncio.to_thread(
            self.queries.search, criteria, searched_by=request.searched_by,
            limit=request.limit or 100,
        )
        return audit_pb2.SearchResponse(
            hits=[audit_pb2.SearchHit(leaf_index=h.leaf_index, entry=h.entry) for h in hits],
            truncated=truncated,
        )

    def _signed_size(self) -> int:
        """The size of the latest checkpoint: proofs are against what was signed."""
        return self.log.open_note(self.checkpoint()).size
