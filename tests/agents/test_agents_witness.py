"""Departments witness the center: an agent that sees two inconsistent checkpoints
stops answering, says why, and stays stopped across a restart."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from hedui.agents import refusals
from hedui.agents.witness import Witness, checkpoint_key_name
from hedui.audit.store import AuditLog
from hedui.keys import ca as ca_mod
from hedui.keys import signing
from hedui.keys.bundle import Bundle
from hedui.v1 import query_pb2, trust_pb2

GATEWAY = "spiffe://county.example/gateway/center"
ORIGIN = "county.example/gateway/audit"


@pytest.fixture()
def gateway_key():
    return signing.generate_signing_key()


@pytest.fixture()
def bundle(gateway_key) -> Bundle:
    ca_cert, _ = ca_mod.create_ca("county.example")
    from cryptography.hazmat.primitives.serialization import Encoding

    msg = trust_pb2.TrustBundle(trust_domain="county.example", serial=1,
                                ca_certificates=[ca_cert.public_bytes(Encoding.DER)])
    msg.issued_at.GetCurrentTime()
    p = msg.participants.add(id=GATEWAY, role=trust_pb2.ROLE_GATEWAY, endpoint="127.0.0.1:1")
    p.signing_keys.add(keyid=signing.keyid(gateway_key),
                       public_key=signing.public_key_bytes(gateway_key))
    return Bundle(msg)


def make_log(path: Path, key, entries: list[bytes]) -> AuditLog:
    log = AuditLog.create(f"sqlite:///{path}", origin=ORIGIN,
                          key_name=checkpoint_key_name(GATEWAY), signing_key=key)
    for e in entries:
        log.append(e)
    return log


def q(note: str) -> query_pb2.Query:
    return query_pb2.Query(query_id="q", audit_checkpoint=note)


def test_consistent_growth_is_accepted(tmp_path: Path, gateway_key, bundle: Bundle) -> None:
    log = make_log(tmp_path / "log.sqlite", gateway_key, [b"a", b"b"])
    witness = Witness(tmp_path / "w.sqlite", bundle=lambda: bundle, recorder=None,
                      proof_source=log.consistency_proof)
    witness.observe(q(log.checkpoint()))
    for e in (b"c", b"d", b"e"):
        log.append(e)
    witness.observe(q(log.checkpoint()))
    assert witness.latest[0].size == 5
    log.close()


def test_forked_log_raises_the_alarm_and_it_survives_restart(
    tmp_path: Path, gateway_key, bundle: Bundle
) -> None:
    honest = make_log(tmp_path / "honest.sqlite", gateway_key, [b"a", b"b"])
    forked = make_log(tmp_path / "forked.sqlite", gateway_key, [b"a", b"B!", b"c"])
    witness = Witness(tmp_path / "w.sqlite", bundle=lambda: bundle, recorder=None,
                      proof_source=forked.consistency_proof)
    witness.observe(q(honest.checkpoint()))
    with pytest.raises(refusals.WitnessAlarm) as info:
        witness.observe(q(forked.checkpoint()))
    assert info.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "inconsistent" in str(info.value)
    # every further query is refused, also by a restarted agent
    with pytest.raises(refusals.WitnessAlarm):
        witness.observe(q(honest.checkpoint()))
    restarted = Witness(tmp_path / "w.sqlite", bundle=lambda: bundle, recorder=None,
                        proof_source=honest.consistency_proof)
    with pytest.raises(refusals.WitnessAlarm) as again:
        restarted.observe(q(honest.checkpoint()))
    assert "administrator" in str(again.value)
    honest.close()
    forked.close()


def test_two_roots_for_one_size_raise_the_alarm(tmp_path: Path, gateway_key,
                                                bundle: Bundle) -> None:
    one = make_log(tmp_path / "one.sqlite", gateway_key, [b"a", b"b"])
    two = make_log(tmp_path / "two.sqlite", gateway_key, [b"a", b"x"])
    witness = Witness(None, bundle=lambda: bundle, recorder=None)
    witness.observe(q(one.checkpoint()))
    with pytest.raises(refusals.WitnessAlarm, match="two different roots"):
        witness.observe(q(two.checkpoint()))
    one.close()
    two.close()


def test_checkpoint_signed_by_a_stranger_is_refused(tmp_path: Path, bundle: Bundle) -> None:
    stranger = make_log(tmp_path / "s.sqlite", signing.generate_signing_key(), [b"a"])
    witness = Witness(None, bundle=lambda: bundle, recorder=None)
    with pytest.raises(refusals.MalformedQuery, match="not signed by any gateway key"):
        witness.observe(q(stranger.checkpoint()))
    stranger.close()


def test_query_without_checkpoint_is_refused(bundle: Bundle) -> None:
    witness = Witness(None, bundle=lambda: bundle, recorder=None)
    with pytest.raises(refusals.MalformedQuery, match="no audit checkpoint"):
        witness.observe(q(""))


def test_unreachable_audit_service_is_unavailable_not_an_alarm(
    tmp_path: Path, gateway_key, bundle: Bundle
) -> None:
    log = make_log(tmp_path / "log.sqlite", gateway_key, [b"a"])

    def down(_a: int, _b: int) -> list[bytes]:
        raise ConnectionError("connection refused")

    witness = Witness(None, bundle=lambda: bundle, recorder=None, proof_source=down)
    witness.observe(q(log.checkpoint()))
    log.append(b"b")
    with pytest.raises(refusals.DataUnavailable):
        witness.observe(q(log.checkpoint()))
    assert witness.alarm is None
    log.close()
