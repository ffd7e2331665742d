"""A re-verification run's bulk query through the sealed-file channel: an offline
department answers it from a queries bundle like any query — one audit entry naming
every subject, a household refused alone — and its signed chunks come back in the
answers bundle, where the gateway's bulk verification accepts them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from offline_testlib import OFFLINE, Site

from hedui.agents import config as agent_config
from hedui.agents import offline, server
from hedui.audit.store import AuditLog
from hedui.gateway.bulk_client import (
    HouseholdAnswer,
    HouseholdRefusal,
    HouseholdRequest,
    build_bulk_query,
    sign_bulk_query,
    verify_bulk_chunks,
)
from hedui.gateway.queries import SubjectRef
from hedui.keys import keyfile
from hedui.keys import sealed_bundle as sb
from hedui.keys.bundle import TrustStore
from hedui.keys.signing import read_public_key
from hedui.v1 import audit_pb2


def _checkpoint(sbx, root: Path) -> str:  # type: ignore[no-untyped-def]
    """A checkpoint of a log of the center's, for the agent to witness (a fresh one: the
    agent below keeps its own state, so the shared site's witness is not disturbed)."""
    log = AuditLog.create(
        f"sqlite:///{root / 'center-audit.sqlite'}", origin="county.example/gateway/audit",
        key_name=sbx.gateway.id.removeprefix("spiffe://"),
        signing_key=keyfile.load_signing_key(sbx.gateway.signing_key))
    log.append(b"first entry")
    note = log.checkpoint()
    log.close()
    return note


def test_a_bulk_query_travels_offline_and_its_chunks_verify(site: Site, tmp_path: Path
                                                             ) -> None:
    sbx = site.sb
    now = dt.datetime.now(dt.UTC)
    trust = TrustStore(read_public_key(sbx.root_public_key))
    trust.load(sbx.bundle, now)
    bundle = trust.current
    gateway_key = keyfile.load_signing_key(sbx.gateway.signing_key)
    gateway_box = keyfile.load_box_key(sbx.gateway.box_key)
    households = [HouseholdRequest(f"h{i}", [SubjectRef(m["id_number"], m["name"])
                                             for m in site.samples[i]["members"]],
                                   f"SQ-OFF-{i}", "ab" * 32) for i in range(3)]
    households.append(HouseholdRequest("bad", [SubjectRef("110101199001011234")],
                                       "SQ-OFF-X", "ab" * 32))  # a wrong check digit
    agent_id = sbx.agents[OFFLINE].id
    signed = sign_bulk_query(build_bulk_query(
        issuer=sbx.gateway.id, audience=agent_id, run_id="run-offline", purpose="dibao",
        operator="op-1001", households=households, field_paths=["account"],
        audit_checkpoint=_checkpoint(sbx, tmp_path), lifetime=dt.timedelta(days=10)),
        gateway_key)
    recipient = bundle.participant(agent_id)
    assert recipient is not None
    data = sb.seal(kind=sb.QUERIES, envelopes=[signed.envelope], sender=sbx.gateway.id,
                   signing_key=gateway_key, box_key=gateway_box, recipient=agent_id,
                   recipient_box_public_key=bytes(recipient.box_public_key), created_at=now,
                   expires_at=now + dt.timedelta(days=10), bundle_id="qb-bulk-1")

    own = tmp_path / "dept"  # the agent's config with its own state folder
    own.mkdir()
    (own / "agent.toml").write_text(sbx.agent_config(OFFLINE).read_text(encoding="utf-8"),
                                    encoding="utf-8")
    config = agent_config.load(own / "agent.toml")
    agent = server.build(config)
    try:
        settings = offline.settings(config)
        answered = offline.answer_bundle(agent, data,
                                         box_key=offline.load_box_key(config, settings),
                                         offline=settings)
        entries = [audit_pb2.AuditEntry.FromString(agent.audit_log.leaf(i))
                   for i in range(agent.audit_log.size())]
    finally:
        agent.close()
    assert answered.answered == [(signed.query.query_id, "run-offline")], answered.refused

    opened = sb.open_sealed(answered.data, trust=bundle, box_key=gateway_box,
                            recipient=sbx.gateway.id, now=now, seen_bundle_ids=set(),
                            kind=sb.ANSWERS)
    reply = verify_bulk_chunks(opened.envelopes, signed=signed, department=OFFLINE,
                               bundle=bundle, now=now)
    assert {r for r, h in reply.households.items() if isinstance(h, HouseholdAnswer)} == {
        "h0", "h1", "h2"}
    assert isinstance(reply.households["bad"], HouseholdRefusal)
    (entry,) = [e for e in entries if e.kind == audit_pb2.AUDIT_KIND_BULK_QUERY_ANSWERED]
    assert entry.case_id == "run-offline" and entry.outcome == audit_pb2.AUDIT_OUTCOME_PARTIAL
    # every well-formed subject is named (a malformed number has no pseudonym)
    assert len(entry.subject_pseudonyms) == sum(len(h.subjects) for h in households) - 1
