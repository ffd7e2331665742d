"""The signed determination report: built, signed and verified offline with only the
trust bundle; every tampering a reviewer must catch, each test named after the attack."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import nacl.signing
import pytest
from stdnum.cn import ric

from hedui.agents.departments import DEPARTMENTS, wrap
from hedui.audit.checkpoint import Checkpoint, sign_checkpoint
from hedui.audit.hashing import leaf_hash, node_hash
from hedui.gateway.assessment import assess
from hedui.gateway.report import (
    AnswerEvidenceInvalid,
    AnswerInput,
    AssessmentMismatch,
    AuditEvidenceInvalid,
    ReportInvalid,
    ReportSignatureInvalid,
    build_report,
    report_as_of,
    report_to_json,
    sign_report,
    verify_report,
)
from hedui.gateway.standards import StandardsLibrary
from hedui.keys import dsse
from hedui.keys.bundle import Bundle
from hedui.keys.signing import generate_signing_key, keyid
from hedui.v1 import (
    audit_pb2,
    case_pb2,
    common_pb2,
    envelope_pb2,
    query_pb2,
    records_pb2,
    trust_pb2,
)

STANDARDS = StandardsLibrary(Path(__file__).parents[2] / "deploy" / "standards")
DOMAIN = "county.example"
GATEWAY = f"spiffe://{DOMAIN}/gateway/center"
ISSUED_AT = datetime(2024, 7, 15, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai, assessed as of 2024-07-15
NOW = ISSUED_AT + timedelta(days=30)
AS_OF = report_as_of(ISSUED_AT)
CASE_ID = "case-2024-0001"
R = records_pb2


def agent_id(department: str) -> str:
    return f"spiffe://{DOMAIN}/agent/{department}"


def make_id(serial: int) -> str:
    body = f"33042419750505{serial:03d}"
    return body + ric.calc_check_digit(body + "0")


def pseudonym(id_number: str) -> str:
    return hashlib.sha256(b"key" + id_number.encode()).hexdigest()


# ---------------------------------------------------------------- the world


def _key_entry(key: nacl.signing.SigningKey) -> trust_pb2.SigningKey:
    return trust_pb2.SigningKey(keyid=keyid(key), public_key=bytes(key.verify_key))


@dataclass
class World:
    """A trust bundle with one gateway and eight agents, and their private keys."""

    gateway_key: nacl.signing.SigningKey = field(default_factory=generate_signing_key)
    agent_keys: dict[str, nacl.signing.SigningKey] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.agent_keys = {d: generate_signing_key() for d in DEPARTMENTS}
        message = trust_pb2.TrustBundle(trust_domain=DOMAIN, serial=1)
        message.participants.add(
            id=GATEWAY, role=trust_pb2.ROLE_GATEWAY, signing_keys=[_key_entry(self.gateway_key)]
        )
        for d, key in self.agent_keys.items():
            message.participants.add(
                id=agent_id(d),
                role=trust_pb2.ROLE_AGENT,
                department=d,
                endpoint=f"{d}.example:7443",
                signing_keys=[_key_entry(key)],
            )
        self.bundle = Bundle(message)


@pytest.fixture(scope="module")
def world() -> World:
    return World()


def _mth(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]) over leaf hashes."""
    if len(leaves) == 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


def household() -> tuple[list[case_pb2.Member], dict[str, object]]:
    members = [
        case_pb2.Member(
            id_number=make_id(1),
            name="王<script>alert(1)</script>",
            relation=records_pb2.RELATION_SELF,
        ),
        case_pb2.Member(id_number=make_id(2), name="李四", relation=records_pb2.RELATION_SPOUSE),
    ]
    records = {
        d: {m.id_number: dep.record_type() for m in members} for d, dep in DEPARTMENTS.items()
    }
    hr = records["human-resources"][members[0].id_number]
    for y, mo in [(2023, m) for m in range(7, 13)] + [(2024, m) for m in range(1, 7)]:
        hr.wages.add(employer="厂", month=common_pb2.Date(year=y, month=mo), amount_fen=150000)
    records["banks"][members[1].id_number].deposits.add(balance_fen=3000000)
    records["housing"][members[0].id_number].properties.add(
        nature=R.Property.NATURE_RESIDENTIAL, floor_area_m2=50.0, share_percent=100.0
    )
    return members, records


@dataclass
class Built:
    report: case_pb2.DeterminationReport
    envelope: envelope_pb2.Envelope
    answers: dict[str, tuple[query_pb2.Answer, bytes]]


def build(world: World, *, records_change=None, missing=(),  # type: ignore[no-untyped-def]
          application_date=None) -> Built:
    members, records = household()
    if records_change:
        records_change(members, records)
    refs, answers = [], {}
    for d in DEPARTMENTS:
        if d in dict(missing):
            continue
        answer = query_pb2.Answer(
            query_digest=hashlib.sha256(f"query {d}".encode()).digest(),
            query_id=f"q-{d}",
            agent=agent_id(d),
        )
        for m in members:
            answer.subjects.add(
                id_number=m.id_number,
                status=query_pb2.SubjectAnswer.STATUS_FOUND,
                record=wrap(d, records[d][m.id_number]),
            )
        payload = answer.SerializeToString(deterministic=True)
        envelope = dsse.sign(payload, dsse.ANSWER_TYPE, world.agent_keys[d])
        digest = hashlib.sha256(payload).digest()
        answers[d] = (answer, digest)
        refs.append(AnswerInput(d, agent_id(d), answer.query_digest, digest, envelope))
    as_of = application_date or AS_OF
    standard = STANDARDS.select("330424", "dibao", as_of)
    assessment = assess(
        members, answers, standard, as_of=as_of, missing=list(missing), pseudonym=pseudonym
    )
    entries = [
        audit_pb2.AuditEntry(
            actor=GATEWAY, kind=audit_pb2.AUDIT_KIND_CASE_OPENED, case_id=CASE_ID
        ).SerializeToString(),
        *(
            audit_pb2.AuditEntry(
                actor=GATEWAY,
                kind=audit_pb2.AUDIT_KIND_ANSWER_RECEIVED,
                case_id=CASE_ID,
                department=d,
                answer_digest=digest,
            ).SerializeToString()
            for d, (_, digest) in answers.items()
        ),
    ]
    leaves = [audit_pb2.AuditEntry(actor=GATEWAY, case_id="other").SerializeToString(), *entries]
    hashes = [leaf_hash(e) for e in leaves]
    root = _mth(hashes)
    checkpoint = sign_checkpoint(
        Checkpoint(f"{DOMAIN}/audit", len(leaves), root),
        f"{DOMAIN}/gateway/center",
        world.gateway_key,
    )
    evidence = [
        (
            leaves[i],
            audit_pb2.InclusionProof(leaf_index=i, tree_size=len(leaves), hashes=_path(i, hashes)),
        )
        for i in range(1, len(leaves))
    ]
    report = build_report(
        report_id="r-1",
        case_id=CASE_ID,
        issuer=GATEWAY,
        issued_at=ISSUED_AT,
        programme="dibao",
        region="330424",
        members=members,
        authorization_number="HY-2024-7",
        assessment=assessment,
        standard=standard,
        answers=refs,
        audit_checkpoint=checkpoint,
        audit_evidence=evidence,
        application_date=application_date,
    )
    return Built(report, sign_report(report, world.gateway_key), answers)


@pytest.fixture(scope="module")
def built(world: World) -> Built:
    return build(world)


def resign(
    report: case_pb2.DeterminationReport, key: nacl.signing.SigningKey
) -> envelope_pb2.Envelope:
    return sign_report(report, key)


def copy(report: case_pb2.DeterminationReport) -> case_pb2.DeterminationReport:
    out = case_pb2.DeterminationReport()
    out.CopyFrom(report)
    return out


# ---------------------------------------------------------------- the genuine report


def test_signed_report_verifies_offline_with_recomputation(world: World, built: Built) -> None:
    report = verify_report(built.envelope, world.bundle, now=NOW, standards=STANDARDS)
    assert report.outcome == case_pb2.OUTCOME_ELIGIBLE
    assert report.standard.standard_id == "haiyan-dibao-example"
    assert len(report.answers) == 8 and len(report.audit_evidence) == 9
    # the serialized envelope verifies just the same
    verify_report(built.envelope.SerializeToString(), world.bundle, now=NOW)


def test_report_json_is_stable_and_round_trips(built: Built) -> None:
    text = report_to_json(built.report)
    assert text == report_to_json(copy(built.report))
    data = json.loads(text)
    assert data["case_id"] == CASE_ID and data["outcome"] == "OUTCOME_ELIGIBLE"
    assert "王" in text  # not \u-escaped
    from google.protobuf import json_format

    back = json_format.Parse(text, case_pb2.DeterminationReport())
    assert back == built.report


def test_ineligible_and_incomplete_reports_verify_too(world: World) -> None:
    def car(members, records):  # type: ignore[no-untyped-def]
        records["public-security"][members[1].id_number].vehicles.add(
            kind=R.Vehicle.KIND_PASSENGER_CAR, purchase_price_fen=9000000
        )

    b = build(world, records_change=car, missing=[("tax", "deadline exceeded")])
    report = verify_report(b.envelope, world.bundle, now=NOW, standards=STANDARDS)
    assert report.outcome == case_pb2.OUTCOME_INELIGIBLE
    assert [m.department for m in report.missing] == ["tax"]
    c = build(world, missing=[("banks", "unavailable")])
    assert verify_report(c.envelope, world.bundle, now=NOW, standards=STANDARDS).outcome == (
        case_pb2.OUTCOME_INCOMPLETE
    )


# ---------------------------------------------------------------- the gateway's signature


def test_figure_changed_without_resigning_is_rejected(world: World, built: Built) -> None:
    report = copy(built.report)
    report.profile.monthly_income_per_person_fen = 1
    envelope = envelope_pb2.Envelope()
    envelope.CopyFrom(built.envelope)
    envelope.payload = report.SerializeToString(deterministic=True)
    with pytest.raises(ReportSignatureInvalid, match="does not verify"):
        verify_report(envelope, world.bundle, now=NOW)


def test_report_resigned_by_an_unknown_key_is_rejected(world: World, built: Built) -> None:
    with pytest.raises(ReportSignatureInvalid, match="not in trust bundle"):
        verify_report(resign(built.report, generate_signing_key()), world.bundle, now=NOW)


def test_report_signed_by_an_agent_key_is_rejected(world: World, built: Built) -> None:
    envelope = resign(built.report, world.agent_keys["banks"])
    with pytest.raises(ReportSignatureInvalid, match="not a gateway"):
        verify_report(envelope, world.bundle, now=NOW)


def test_report_naming_another_issuer_is_rejected(world: World, built: Built) -> None:
    report = copy(built.report)
    report.issuer = f"spiffe://{DOMAIN}/gateway/other"
    with pytest.raises(ReportSignatureInvalid, match=r"names .*other as issuer"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW)


def test_answer_envelope_passed_off_as_a_report_is_rejected(world: World, built: Built) -> None:
    with pytest.raises(ReportSignatureInvalid):
        verify_report(built.report.answers[0].answer, world.bundle, now=NOW)


# ---------------------------------------------------------------- the answers


def test_swapped_answer_envelope_is_rejected(world: World, built: Built) -> None:
    report = copy(built.report)
    other = build(
        world, records_change=lambda m, r: r["banks"][m[0].id_number].deposits.add(balance_fen=1)
    )
    banks = next(i for i, a in enumerate(report.answers) if a.department == "banks")
    report.answers[banks].answer.CopyFrom(other.report.answers[banks].answer)
    with pytest.raises(AnswerEvidenceInvalid, match=r"banks.*not the SHA-256"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW)


def test_changed_answer_digest_is_rejected(world: World, built: Built) -> None:
    report = copy(built.report)
    report.answers[2].answer_digest = hashlib.sha256(b"forged").digest()
    with pytest.raises(AnswerEvidenceInvalid, match="answer digest"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW)


def test_answer_with_altered_payload_is_rejected(world: World, built: Built) -> None:
    report = copy(built.report)
    answer = query_pb2.Answer.FromString(report.answers[0].answer.payload)
    answer.subjects[0].status = query_pb2.SubjectAnswer.STATUS_NOT_FOUND
    payload = answer.SerializeToString(deterministic=True)
    report.answers[0].answer.payload = payload
    report.answers[0].answer_digest = hashlib.sha256(payload).digest()
    with pytest.raises(AnswerEvidenceInvalid, match="signature"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW)


def test_answer_signed_by_another_agent_is_rejected(world: World, built: Built) -> None:
    report = copy(built.report)
    ref = report.answers[0]
    ref.answer.CopyFrom(dsse.sign(ref.answer.payload, dsse.ANSWER_TYPE, world.agent_keys["tax"]))
    with pytest.raises(AnswerEvidenceInvalid, match=r"signed by .*agent/tax"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW)


def test_answer_attributed_to_the_wrong_department_is_rejected(world: World, built: Built) -> None:
    report = copy(built.report)
    report.answers[0].department = "tax"
    with pytest.raises(AnswerEvidenceInvalid):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW)


def test_answer_bound_to_another_query_is_rejected(world: World, built: Built) -> None:
    report = copy(built.report)
    report.answers[1].query_digest = hashlib.sha256(b"other query").digest()
    with pytest.raises(AnswerEvidenceInvalid, match="another query"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW)


def test_evidence_citing_an_answer_not_in_the_report_is_rejected(
    world: World, built: Built
) -> None:
    report = copy(built.report)
    report.rules[0].evidence[0].answer_digest = hashlib.sha256(b"ghost").digest()
    with pytest.raises(AnswerEvidenceInvalid, match="does not include"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW)


def test_dropped_answer_leaves_evidence_dangling(world: World, built: Built) -> None:
    report = copy(built.report)
    keep = [a for a in report.answers if a.department != "human-resources"]
    del report.answers[:]
    report.answers.extend(keep)
    with pytest.raises(AnswerEvidenceInvalid, match="human-resources"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW)


# ---------------------------------------------------------------- the audit evidence


def test_tampered_inclusion_proof_is_rejected(world: World, built: Built) -> None:
    report = copy(built.report)
    first = report.audit_evidence[0].proof.hashes[0]
    report.audit_evidence[0].proof.hashes[0] = bytes([first[0] ^ 1]) + first[1:]
    with pytest.raises(AuditEvidenceInvalid, match="not proven"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW)


def test_audit_entry_edited_after_logging_is_rejected(world: World, built: Built) -> None:
    report = copy(built.report)
    entry = audit_pb2.AuditEntry.FromString(report.audit_evidence[0].entry)
    entry.operator = "someone-else"
    report.audit_evidence[0].entry = entry.SerializeToString()
    with pytest.raises(AuditEvidenceInvalid, match="leaf 1"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW)


def test_audit_entry_of_another_case_is_rejected(world: World, built: Built) -> None:
    report = copy(built.report)
    report.case_id = "case-other"
    with pytest.raises(AuditEvidenceInvalid, match="not case-other"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW)


def test_checkpoint_signed_by_another_key_is_rejected(world: World, built: Built) -> None:
    report = copy(built.report)
    cp = Checkpoint(f"{DOMAIN}/audit", 10, hashlib.sha256(b"x").digest())
    report.audit_checkpoint = sign_checkpoint(
        cp, f"{DOMAIN}/gateway/center", generate_signing_key()
    )
    with pytest.raises(AuditEvidenceInvalid, match="not signed by the issuing gateway"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW)


def test_answer_missing_from_the_audit_log_is_rejected(world: World, built: Built) -> None:
    report = copy(built.report)
    del report.audit_evidence[-1]
    with pytest.raises(AuditEvidenceInvalid, match=r"no audit entry .* records the answer"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW)


def test_proof_against_a_different_tree_size_is_rejected(world: World, built: Built) -> None:
    report = copy(built.report)
    report.audit_evidence[0].proof.tree_size += 1
    with pytest.raises(AuditEvidenceInvalid, match="tree of"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW)


# ---------------------------------------------------------------- forged assessments


def test_forged_figure_resigned_by_the_genuine_gateway_is_caught_by_recomputation(
    world: World, built: Built
) -> None:
    report = copy(built.report)
    report.profile.money_assets_fen = 100
    envelope = resign(report, world.gateway_key)
    verify_report(envelope, world.bundle, now=NOW)  # signatures alone cannot tell
    with pytest.raises(AssessmentMismatch, match="money assets fen is 100"):
        verify_report(envelope, world.bundle, now=NOW, standards=STANDARDS)


def test_forged_outcome_resigned_by_the_gateway_is_caught(world: World) -> None:
    def car(members, records):  # type: ignore[no-untyped-def]
        records["public-security"][members[0].id_number].vehicles.add(
            kind=R.Vehicle.KIND_PASSENGER_CAR
        )

    b = build(world, records_change=car)
    report = copy(b.report)
    assert report.outcome == case_pb2.OUTCOME_INELIGIBLE
    vehicle = next(r for r in report.rules if r.rule_id == "vehicle")
    vehicle.verdict = case_pb2.RuleResult.VERDICT_PASS
    report.outcome = case_pb2.OUTCOME_ELIGIBLE
    with pytest.raises(AssessmentMismatch, match="vehicle verdict is VERDICT_PASS"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW, standards=STANDARDS)


def test_forged_limit_and_standard_copy_are_caught(world: World, built: Built) -> None:
    report = copy(built.report)
    report.standard.monthly_income_limit_fen = 999999
    with pytest.raises(AssessmentMismatch, match="differs from the published one"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW, standards=STANDARDS)
    report = copy(built.report)
    report.rules[0].limit_fen += 1
    with pytest.raises(AssessmentMismatch, match="income limit"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW, standards=STANDARDS)


def test_reworded_explanation_is_caught(world: World, built: Built) -> None:
    report = copy(built.report)
    report.rules[0].explanation_en = "All fine, trust me."
    with pytest.raises(AssessmentMismatch, match="income rule"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW, standards=STANDARDS)


def test_hidden_missing_department_is_caught(world: World, built: Built) -> None:
    report = copy(built.report)
    report.missing.add(department="banks", reason="invented")
    with pytest.raises(AssessmentMismatch):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW, standards=STANDARDS)


def test_inconsistent_pseudonyms_are_caught(world: World, built: Built) -> None:
    report = copy(built.report)
    wages = next(i for i in report.profile.income if i.kind == "wages")
    wages.evidence[3].subject_pseudonym = pseudonym(make_id(2))
    with pytest.raises(AssessmentMismatch, match="pseudonym"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW, standards=STANDARDS)


def test_report_applying_a_superseded_or_wrong_standard_is_caught(
    world: World, built: Built
) -> None:
    report = copy(built.report)
    report.region = "310000"
    with pytest.raises(AssessmentMismatch, match="shanghai-dibao-2021 was in force"):
        verify_report(resign(report, world.gateway_key), world.bundle, now=NOW, standards=STANDARDS)


# ---------------------------------------------------------------- preconditions


def test_build_refuses_an_assessment_for_another_day(world: World, built: Built) -> None:
    members, _ = household()
    standard = STANDARDS.select("330424", "dibao", AS_OF)
    assessment = assess(
        members, built.answers, standard, as_of=date(2024, 7, 14), pseudonym=pseudonym
    )
    with pytest.raises(ValueError, match="assess again"):
        build_report(
            case_id=CASE_ID,
            issuer=GATEWAY,
            issued_at=ISSUED_AT,
            programme="dibao",
            region="330424",
            members=members,
            authorization_number="x",
            assessment=assessment,
            standard=standard,
            answers=[],
            audit_checkpoint="",
            audit_evidence=[],
        )


def test_report_as_of_is_the_utc_calendar_date() -> None:
    cst = timezone(timedelta(hours=8))
    assert report_as_of(datetime(2024, 7, 15, 7, 0, tzinfo=cst)) == date(2024, 7, 14)
    assert report_as_of(datetime(2024, 7, 14, 23, 59, tzinfo=UTC)) == date(2024, 7, 14)
    with pytest.raises(ValueError, match="timezone-aware"):
        report_as_of(datetime(2024, 7, 14))


def test_every_failure_is_a_one_sentence_report_invalid(world: World, built: Built) -> None:
    with pytest.raises(ReportInvalid) as err:
        verify_report(b"\xff\xff", world.bundle, now=NOW)
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------- the application date

APPLIED = date(2024, 5, 20)  # two months before ISSUED_AT: another income window


def _period(start: date, end: date) -> common_pb2.Period:
    return common_pb2.Period(start=common_pb2.Date(year=start.year, month=start.month,
                                                   day=start.day),
                             end=common_pb2.Date(year=end.year, month=end.month, day=end.day))


def test_report_states_the_application_date_and_its_income_window(world: World) -> None:
    built = build(world, application_date=APPLIED)
    report = verify_report(built.envelope, world.bundle, now=NOW, standards=STANDARDS)
    assert report.application_date == common_pb2.Date(year=2024, month=5, day=20)
    months = report.standard.income_window_months
    first_month = 4 - months + 1  # the months before May 2024
    year, month = (2024, first_month) if first_month >= 1 else (2023, first_month + 12)
    assert report.income_window == _period(date(year, month, 1), date(2024, 4, 30))
    assert report_as_of(ISSUED_AT, report.application_date) == APPLIED
    # a report from before the field keeps being read as of its issue date
    assert not build(world).report.HasField("application_date")


def test_a_window_or_date_changed_and_resigned_is_rejected(world: World) -> None:
    built = build(world, application_date=APPLIED)
    moved = copy(built.report)
    moved.income_window.start.month = moved.income_window.start.month % 12 + 1
    with pytest.raises(ReportInvalid, match="income window"):
        verify_report(resign(moved, world.gateway_key), world.bundle, now=NOW)
    redated = copy(built.report)
    redated.application_date.month = 6  # another month: the window no longer fits
    with pytest.raises(ReportInvalid, match="income window"):
        verify_report(resign(redated, world.gateway_key), world.bundle, now=NOW)
    future = copy(built.report)
    future.application_date.year = 2025
    with pytest.raises(ReportInvalid, match="after the report was issued"):
        verify_report(resign(future, world.gateway_key), world.bundle, now=NOW)


def test_build_report_refuses_an_assessment_for_another_date(world: World) -> None:
    with pytest.raises(ValueError, match="assess again"):
        build_with_mismatch(world)


def build_with_mismatch(world: World) -> None:
    """An assessment made as of the issue date, reported for an earlier application."""
    built = build(world)
    members, _ = household()
    standard = STANDARDS.select("330424", "dibao", AS_OF)
    assessment = assess(members, built.answers, standard, as_of=AS_OF, pseudonym=pseudonym)
    build_report(case_id=CASE_ID, issuer=GATEWAY, issued_at=ISSUED_AT, programme="dibao",
                 region="330424", members=members, authorization_number="HY-2024-7",
                 assessment=assessment, standard=standard, answers=[], audit_checkpoint="",
                 audit_evidence=[], application_date=APPLIED)
