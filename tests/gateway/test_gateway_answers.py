"""The gateway believes an answer only when its signer, binding and fields all hold:
each rule below is shown refusing an answer that breaks it."""

from __future__ import annotations

import datetime as dt

import pytest
from test_gateway_report import GATEWAY, World, agent_id

from hedui.agents.departments import wrap
from hedui.gateway.answers import AnswerRejected, verify_answer
from hedui.gateway.queries import SignedQuery, SubjectRef, build_query, sign_query
from hedui.keys import dsse
from hedui.v1 import query_pb2, records_pb2

DEPT = "public-security"
PERSON = "110101199003074477"
FIELDS = ["vehicles.*.kind", "vehicles.*.purchase_price_fen"]
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def world() -> World:
    return World()


@pytest.fixture(scope="module")
def sent(world: World) -> SignedQuery:
    return sign_query(build_query(
        issuer=GATEWAY, audience=agent_id(DEPT), case_id="case-1", purpose="dibao",
        operator="op-1001", subjects=[SubjectRef(PERSON)], field_paths=FIELDS,
        authorization_number="SQ-1", consent_digest="ab" * 32, audit_checkpoint="",
        lifetime=dt.timedelta(minutes=5),
    ), world.gateway_key)


def answer(sent: SignedQuery, record: records_pb2.PublicSecurityRecord, key,
           **overrides: object) -> query_pb2.Answer:
    out = query_pb2.Answer(query_digest=sent.digest, query_id=sent.query.query_id,
                           agent=agent_id(DEPT))
    out.subjects.add(id_number=PERSON, status=query_pb2.SubjectAnswer.STATUS_FOUND,
                     record=wrap(DEPT, record))
    for name, value in overrides.items():
        setattr(out, name, value)
    return dsse.sign(out.SerializeToString(), dsse.ANSWER_TYPE, key)


def vehicles(**extra: object) -> records_pb2.PublicSecurityRecord:
    record = records_pb2.PublicSecurityRecord()
    for price in (12_000_000, 3_500_000):
        record.vehicles.add(kind=records_pb2.Vehicle.KIND_PASSENGER_CAR, purchase_price_fen=price,
                            **extra)
    return record


def check(world: World, sent: SignedQuery, envelope) -> object:
    return verify_answer(envelope, query=sent.query, query_digest=sent.digest,
                         department=DEPT, bundle=world.bundle, now=NOW)


def test_an_answer_with_only_requested_fields_is_accepted(world: World, sent) -> None:
    verified = check(world, sent, answer(sent, vehicles(), world.agent_keys[DEPT]))
    assert verified.signer == agent_id(DEPT)
    assert len(verified.answer.subjects[0].record.public_security.vehicles) == 2


def test_an_answer_carrying_a_field_not_asked_for_is_rejected(world: World, sent) -> None:
    oversharing = answer(sent, vehicles(plate="沪A12345"), world.agent_keys[DEPT])
    with pytest.raises(AnswerRejected, match=r"not asked for: vehicles\.\*\.plate"):
        check(world, sent, oversharing)


def test_an_answer_signed_by_another_agent_is_rejected(world: World, sent) -> None:
    forged = answer(sent, vehicles(), world.agent_keys["banks"])
    with pytest.raises(AnswerRejected, match="not by the agent asked"):
        check(world, sent, forged)


def test_an_answer_bound_to_another_query_is_rejected(world: World, sent) -> None:
    rebound = answer(sent, vehicles(), world.agent_keys[DEPT], query_digest=b"\x00" * 32)
    with pytest.raises(AnswerRejected, match="bound to another query"):
        check(world, sent, rebound)
