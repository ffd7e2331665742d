"""The determination report (书面认定报告): build it, sign it, and verify it offline.

A report carries everything needed to check it later with nothing but the trust bundle:
the agents' signed answers themselves, the gateway's signed audit checkpoint and the
inclusion proofs of the case's audit entries. :func:`verify_report` checks, in order:

1. the gateway's DSSE signature (at ``now``), by a key of a *gateway* participant that is
   the report's issuer;
2. every answer: signed by the agent named in its reference (checked at the report's
   ``issued_at``, when the gateway accepted it), that agent being the department's
   agent, SHA-256 of the payload equal to ``answer_digest``, and the answer bound to
   ``query_digest``; one answer per department;
3. every Evidence in the profile and the rules cites one of those answers, of the same
   department;
4. the audit checkpoint is signed by the issuing gateway (key name = its id without
   ``spiffe://``, one of its bundle keys), every audit entry is proven included in it and
   belongs to the case, and every answer's digest appears in an included entry — so the
   log recorded every answer the report rests on;
5. with a :class:`~hedui.gateway.standards.StandardsLibrary`: the standard is the one in
   force, copied faithfully, and the assessment recomputed from the embedded answers
   gives the very same figures, verdicts, evidence, outcome and reasons.

Step 5 catches a forged assessment signed with a genuine gateway key. Pseudonyms cannot
be recomputed offline (their HMAC key stays at the center), so it checks instead that
they are consistent: one pseudonym per member, throughout.

The assessment date is the case's application date (申请日期), stated in the report
with the income window it gives (:func:`report_as_of`): a case decided weeks after the
application — a retry, an offline answer — is still assessed over the months before
it. Reports from before the field existed were assessed as of ``issued_at``'s UTC
calendar date, and are checked so. :func:`build_report` refuses an assessment made for
any other date, so a verifier recomputes with the same income window.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import nacl.signing
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

from hedui.agents.departments import DEPARTMENTS
from hedui.audit.checkpoint import Checkpoint, open_checkpoint
from hedui.audit.errors import AuditError
from hedui.audit.hashing import leaf_hash
from hedui.audit.proof_verify import verify_inclusion
from hedui.china_time import china_date
from hedui.errors import HeduiError
from hedui.gateway.assessment import Assessment, assess
from hedui.gateway.profile import IncomeWindow, income_window
from hedui.gateway.standards import Standard, StandardError, StandardsLibrary, region_chain
from hedui.keys import dsse
from hedui.keys.bundle import Bundle
from hedui.keys.errors import KeysError
from hedui.timestamps import from_timestamp, to_timestamp
from hedui.v1 import audit_pb2, case_pb2, common_pb2, envelope_pb2, query_pb2, trust_pb2

__all__ = [
    "AnswerEvidenceInvalid",
    "AnswerInput",
    "AssessmentMismatch",
    "AuditEvidenceInvalid",
    "ReportInvalid",
    "ReportSignatureInvalid",
    "build_report",
    "report_as_of",
    "report_to_json",
    "sign_report",
    "verify_report",
]


class ReportInvalid(HeduiError):
    """A determination report failed verification; ``str()`` says what is wrong."""


class ReportSignatureInvalid(ReportInvalid):
    """The report is not signed by the gateway that issued it."""


class AnswerEvidenceInvalid(ReportInvalid):
    """An embedded answer, or evidence citing one, does not check out."""


class AuditEvidenceInvalid(ReportInvalid):
    """The audit checkpoint or an inclusion proof does not check out."""


class AssessmentMismatch(ReportInvalid):
    """Recomputing the assessment from the embedded answers gives another result."""


def report_as_of(issued_at: datetime,
                 application_date: common_pb2.Date | None = None) -> date:
    """The assessment date of a report: its application date when it states one, else
    (reports before that field) the UTC calendar date of ``issued_at``."""
    if issued_at.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware")
    if application_date is not None and application_date.year:
        try:
            return date(application_date.year, application_date.month, application_date.day)
        except ValueError:
            raise ReportInvalid("the report's application date is not a real date") from None
    return issued_at.astimezone(UTC).date()  # as those reports were assessed


def _pb_date(d: date) -> common_pb2.Date:
    return common_pb2.Date(year=d.year, month=d.month, day=d.day)


def window_period(window: IncomeWindow) -> common_pb2.Period:
    """An income window as dates: the first day of its first month to the last day of
    its last month."""
    first = date(window.first // 12, window.first % 12 + 1, 1)
    after = window.last + 1
    last = date(after // 12, after % 12 + 1, 1) - timedelta(days=1)
    return common_pb2.Period(start=_pb_date(first), end=_pb_date(last))


# ------------------------------------------------------------------ building


@dataclass(frozen=True, slots=True)
class AnswerInput:
    """One signed answer the report rests on, as the case store holds it."""

    department: str
    agent: str
    query_digest: bytes
    answer_digest: bytes
    envelope: envelope_pb2.Envelope


AnswerRefInput = (
    AnswerInput | case_pb2.AnswerReference | tuple[str, str, bytes, bytes, envelope_pb2.Envelope]
)


def _reference(item: AnswerRefInput) -> case_pb2.AnswerReference:
    if isinstance(item, case_pb2.AnswerReference):
        return item
    if isinstance(item, AnswerInput):
        department, agent = item.department, item.agent
        query_digest, answer_digest, envelope = item.query_digest, item.answer_digest, item.envelope
    else:
        department, agent, query_digest, answer_digest, envelope = item
    return case_pb2.AnswerReference(
        department=department,
        agent=agent,
        query_digest=query_digest,
        answer_digest=answer_digest,
        answer=envelope,
    )


def _all_evidence(
    profile: case_pb2.HouseholdProfile, rules: Iterable[case_pb2.RuleResult]
) -> list[case_pb2.Evidence]:
    out = [e for item in profile.income for e in item.evidence]
    out += [e for item in profile.assets for e in item.evidence]
    out += [e for rule in rules for e in rule.evidence]
    return out


def build_report(
    *,
    case_id: str,
    issuer: str,
    issued_at: datetime,
    programme: str,
    region: str,
    members: Sequence[case_pb2.Member],
    authorization_number: str,
    assessment: Assessment,
    standard: Standard,
    answers: Sequence[AnswerRefInput],
    audit_checkpoint: str,
    audit_evidence: Sequence[tuple[bytes, audit_pb2.InclusionProof]],
    report_id: str | None = None,
    application_date: date | None = None,
    steps: Sequence[case_pb2.CaseStep] = (),
) -> case_pb2.DeterminationReport:
    """Assemble a determination report from a finished assessment.

    ``answers``: :class:`AnswerInput`, AnswerReference messages or ``(department, agent
    id, query digest, answer digest, signed answer Envelope)`` tuples.
    ``audit_evidence``: the case's audit entries (exact stored bytes) with inclusion
    proofs against ``audit_checkpoint``; they must include an entry naming each answer's
    digest (ANSWER_RECEIVED). ``report_id`` defaults to a random UUID.
    ``application_date``: the case's 申请日期, the date the assessment was made for; the
    report states it with the income window. Left out, the report is dated as before
    (``issued_at``'s UTC date) and states neither.

    Preconditions (ValueError): ``issued_at`` timezone-aware; the assessment was made with
    ``standard`` for the application date (or :func:`report_as_of`); the standard is for
    ``programme`` and ``region`` (or its city or province); each answer's digest is the
    SHA-256 of its envelope payload; one answer per department; every evidence cites one
    of them. Everything else is :func:`verify_report`'s to check.
    """
    as_of = application_date or report_as_of(issued_at)
    _check_step_list(steps, ValueError)
    if assessment.standard_id != standard.standard_id:
        raise ValueError(
            f"the assessment used standard {assessment.standard_id}, not {standard.standard_id}"
        )
    if assessment.as_of != as_of:
        raise ValueError(
            f"the assessment is for {assessment.as_of.isoformat()} but the report is dated "
            f"{as_of.isoformat()}; assess again"
        )
    if standard.programme != programme or standard.region not in region_chain(region):
        raise ValueError(
            f"standard {standard.standard_id} is for {standard.programme} in "
            f"{standard.region}, not {programme} in {region}"
        )
    refs = [_reference(a) for a in answers]
    departments = [r.department for r in refs]
    if len(set(departments)) != len(departments):
        raise ValueError("a report carries one answer per department")
    for ref in refs:
        if hashlib.sha256(ref.answer.payload).digest() != ref.answer_digest:
            raise ValueError(f"the answer digest of {ref.department} is not its payload's SHA-256")
    profile = assessment.profile.to_proto()
    cited = {r.answer_digest for r in refs}
    for ev in _all_evidence(profile, assessment.rules):
        if ev.answer_digest not in cited:
            raise ValueError(f"evidence from {ev.department} cites an answer the report lacks")
    report = case_pb2.DeterminationReport(
        report_id=report_id or str(uuid.uuid4()),
        case_id=case_id,
        issuer=issuer,
        programme=programme,
        region=region,
        members=members,
        authorization_number=authorization_number,
        standard=standard.applied(),
        profile=profile,
        rules=assessment.rules,
        outcome=assessment.outcome,  # type: ignore[arg-type]
        reasons_zh=assessment.reasons_zh,
        reasons_en=assessment.reasons_en,
        answers=refs,
        audit_checkpoint=audit_checkpoint,
        audit_evidence=[
            case_pb2.AuditEvidence(entry=entry, proof=proof) for entry, proof in audit_evidence
        ],
        missing=[
            case_pb2.DepartmentStatus(
                department=department,
                state=case_pb2.DepartmentStatus.STATE_FAILED,
                reason=reason,
            )
            for department, reason in assessment.missing
        ],
    )
    if application_date is not None:
        report.application_date.CopyFrom(_pb_date(application_date))
        report.income_window.CopyFrom(window_period(assessment.profile.window))
    report.steps.extend(steps)
    to_timestamp(issued_at.astimezone(UTC), report.issued_at)
    return report


#: the level-by-level flow's steps, in order (受理 → 核对 → 审核)
STEPS = ("intake", "verification", "review")


def _check_step_list(steps: Sequence[case_pb2.CaseStep], error: type[Exception]) -> None:
    """Known steps, in order, each once, each naming someone; the reviewer is neither the
    intake clerk nor the verifier (separation of duties)."""
    names = [s.step for s in steps]
    if any(n not in STEPS for n in names) or names != sorted(names, key=STEPS.index) \
            or len(set(names)) != len(names):
        raise error(f"the report's steps {names} are not some of {list(STEPS)} in order")
    if any(not s.staff_id for s in steps):
        raise error("a step of the report names no staff member")
    by = {s.step: s.staff_id for s in steps}
    if "review" in by and by["review"] in (by.get("intake"), by.get("verification")):
        raise error(f"the report's reviewer {by['review']} also opened or verified the case")


def _check_steps(report: case_pb2.DeterminationReport) -> None:
    """The steps are well formed, and a review step is backed by the reviewer's
    CASE_REVIEWED entry among the report's proved audit evidence."""
    _check_step_list(report.steps, ReportInvalid)
    reviewer = next((s.staff_id for s in report.steps if s.step == "review"), "")
    if reviewer and not any(
            e.kind == audit_pb2.AUDIT_KIND_CASE_REVIEWED and e.operator == reviewer
            for e in (audit_pb2.AuditEntry.FromString(ev.entry) for ev in report.audit_evidence)):
        raise ReportInvalid(f"the report names reviewer {reviewer} but its audit evidence "
                            "holds no review by them")


def sign_report(
    report: case_pb2.DeterminationReport, signing_key: nacl.signing.SigningKey
) -> envelope_pb2.Envelope:
    """The report as a DSSE envelope (REPORT_TYPE) signed by the gateway's key."""
    payload = report.SerializeToString(deterministic=True)
    return dsse.sign(payload, dsse.REPORT_TYPE, signing_key)


def report_to_json(report: case_pb2.DeterminationReport) -> str:
    """Protobuf JSON with proto field names and sorted keys: the same report, the same text."""
    return json_format.MessageToJson(
        report,
        preserving_proto_field_name=True,
        indent=2,
        sort_keys=True,
        ensure_ascii=False,
    )


# ------------------------------------------------------------------ verifying


def verify_report(
    envelope: envelope_pb2.Envelope | bytes,
    bundle: Bundle,
    *,
    now: datetime,
    standards: StandardsLibrary | None = None,
) -> case_pb2.DeterminationReport:
    """Check a signed report offline (see the module docstring); return the report.

    Raises a :class:`ReportInvalid` subclass naming the first thing wrong.
    Precondition: ``now`` is timezone-aware.
    """
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    try:
        verified = dsse.verify(envelope, bundle, payload_type=dsse.REPORT_TYPE, now=now)
    except KeysError as exc:
        raise ReportSignatureInvalid(f"the report's signature is not accepted: {exc}") from None
    report = case_pb2.DeterminationReport()
    try:
        report.ParseFromString(verified.payload)
    except DecodeError:
        raise ReportInvalid("the signed payload is not a hedui.v1.DeterminationReport") from None
    issuer = bundle.participant(verified.signer)
    if issuer is None or issuer.role != trust_pb2.ROLE_GATEWAY:
        raise ReportSignatureInvalid(
            f"the report is signed by {verified.signer}, which is not a gateway"
        )
    if report.issuer != verified.signer:
        raise ReportSignatureInvalid(
            f"the report names {report.issuer or 'nobody'} as issuer but {verified.signer} "
            "signed it"
        )
    if not report.HasField("issued_at"):
        raise ReportInvalid("the report has no issued_at time")
    issued_at = from_timestamp(report.issued_at)

    _check_window(report, issued_at)
    answers = _check_answers(report, bundle, issued_at)
    _check_evidence(report, answers)
    _check_audit(report, [issuer, *bundle.participants_by_role(trust_pb2.ROLE_AUDIT)])
    _check_steps(report)
    if standards is not None:
        _check_recomputation(report, answers, standards, issued_at)
    return report


def _check_answers(
    report: case_pb2.DeterminationReport, bundle: Bundle, at: datetime
) -> dict[str, tuple[query_pb2.Answer, bytes]]:
    answers: dict[str, tuple[query_pb2.Answer, bytes]] = {}
    for n, ref in enumerate(report.answers, start=1):
        where = f"answer {n} ({ref.department or 'no department'})"
        if ref.department not in DEPARTMENTS:
            raise AnswerEvidenceInvalid(f"{where} names an unknown department")
        if ref.department in answers:
            raise AnswerEvidenceInvalid(f"{where} is the second answer of {ref.department}")
        agent = bundle.participant(ref.agent)
        if (
            agent is None
            or agent.role != trust_pb2.ROLE_AGENT
            or agent.department != ref.department
        ):
            raise AnswerEvidenceInvalid(
                f"{where} names {ref.agent or 'no agent'}, which is not the trust bundle's "
                f"agent of {ref.department}"
            )
        try:
            verified = dsse.verify(ref.answer, bundle, payload_type=dsse.ANSWER_TYPE, now=at)
        except KeysError as exc:
            raise AnswerEvidenceInvalid(
                f"{where} has a signature that is not accepted: {exc}"
            ) from None
        if verified.signer != ref.agent:
            raise AnswerEvidenceInvalid(f"{where} is signed by {verified.signer}, not {ref.agent}")
        digest = hashlib.sha256(verified.payload).digest()
        if digest != ref.answer_digest:
            raise AnswerEvidenceInvalid(
                f"{where}: the answer digest {ref.answer_digest.hex()[:16]}... is not the SHA-256 "
                f"of the signed answer ({digest.hex()[:16]}...)"
            )
        answer = query_pb2.Answer()
        try:
            answer.ParseFromString(verified.payload)
        except DecodeError:
            raise AnswerEvidenceInvalid(f"{where} does not hold a hedui.v1.Answer") from None
        if answer.query_digest != ref.query_digest:
            raise AnswerEvidenceInvalid(f"{where} answers another query than the one cited")
        if answer.agent != ref.agent:
            raise AnswerEvidenceInvalid(f"{where} says it comes from {answer.agent}")
        answers[ref.department] = (answer, digest)
    return answers


def _check_evidence(
    report: case_pb2.DeterminationReport, answers: dict[str, tuple[query_pb2.Answer, bytes]]
) -> None:
    by_digest = {digest: department for department, (_, digest) in answers.items()}
    for ev in _all_evidence(report.profile, report.rules):
        department = by_digest.get(ev.answer_digest)
        if department is None:
            raise AnswerEvidenceInvalid(
                f"evidence {ev.field_path or '(whole answer)'} from {ev.department} cites "
                f"answer {ev.answer_digest.hex()[:16]}..., which the report does not include"
            )
        if department != ev.department:
            raise AnswerEvidenceInvalid(
                f"evidence {ev.field_path} claims to come from {ev.department} but cites the "
                f"answer of {department}"
            )


def _open_checkpoint(
    report: case_pb2.DeterminationReport, signers: list[trust_pb2.Participant]
) -> Checkpoint:
    """The checkpoint, signed by the issuing gateway or by the center's audit-log key
    (an audit participant of the bundle, when the log has a key of its own)."""
    if not report.audit_checkpoint:
        raise AuditEvidenceInvalid("the report carries no audit checkpoint")
    last: AuditError | None = None
    for signer in signers:
        name = signer.id.removeprefix("spiffe://")
        for key in signer.signing_keys:
            try:
                return open_checkpoint(
                    report.audit_checkpoint, name, nacl.signing.VerifyKey(key.public_key)
                )
            except AuditError as exc:
                last = exc
    raise AuditEvidenceInvalid(
        f"the audit checkpoint is not signed by the issuing gateway {signers[0].id} or the "
        f"center's audit log: {last}"
    )


def _check_audit(report: case_pb2.DeterminationReport,
                 signers: list[trust_pb2.Participant]) -> None:
    checkpoint = _open_checkpoint(report, signers)
    logged: set[bytes] = set()
    for n, item in enumerate(report.audit_evidence, start=1):
        proof = item.proof
        if proof.tree_size != checkpoint.size:
            raise AuditEvidenceInvalid(
                f"audit entry {n} is proven in a tree of {proof.tree_size} leaves, but the "
                f"checkpoint has {checkpoint.size}"
            )
        try:
            verify_inclusion(
                leaf_hash(item.entry),
                proof.leaf_index,
                proof.tree_size,
                [bytes(h) for h in proof.hashes],
                checkpoint.root,
            )
        except AuditError as exc:
            raise AuditEvidenceInvalid(
                f"audit entry {n} (leaf {proof.leaf_index}) is not proven in the log: {exc}"
            ) from None
        entry = audit_pb2.AuditEntry()
        try:
            entry.ParseFromString(item.entry)
        except DecodeError:
            raise AuditEvidenceInvalid(f"audit entry {n} is not a hedui.v1.AuditEntry") from None
        if entry.case_id != report.case_id:
            raise AuditEvidenceInvalid(
                f"audit entry {n} (leaf {proof.leaf_index}) is about case {entry.case_id}, "
                f"not {report.case_id}"
            )
        if entry.answer_digest:
            logged.add(bytes(entry.answer_digest))
    for ref in report.answers:
        if ref.answer_digest not in logged:
            raise AuditEvidenceInvalid(
                f"no audit entry in the report records the answer of {ref.department} "
                f"({ref.answer_digest.hex()[:16]}...)"
            )


# ------------------------------------------------------------------ recomputation


def _placeholder(id_number: str) -> str:
    return "member:" + "".join(id_number.split()).upper()


def _check_window(report: case_pb2.DeterminationReport, issued_at: datetime) -> None:
    """A stated application date lies on or before the issue date, and the income window
    is the standard's months before its month."""
    if not report.HasField("application_date"):
        return
    as_of = report_as_of(issued_at, report.application_date)
    if as_of > china_date(issued_at):
        raise ReportInvalid(f"the application date {as_of.isoformat()} is after the report "
                            "was issued")
    months = report.standard.income_window_months
    if months < 1:
        raise ReportInvalid("the report's standard has no income window")
    want = window_period(income_window(as_of, months))
    if report.income_window != want:
        raise ReportInvalid(
            f"the report's income window is not the {months} whole months before the month "
            f"of its application date {as_of.isoformat()}")


def _check_recomputation(
    report: case_pb2.DeterminationReport,
    answers: dict[str, tuple[query_pb2.Answer, bytes]],
    standards: StandardsLibrary,
    issued_at: datetime,
) -> None:
    as_of = report_as_of(issued_at, report.application_date)
    applied = report.standard
    try:
        standard = standards.get(applied.standard_id)
        in_force = standards.select(report.region, report.programme, as_of)
    except StandardError as exc:
        raise AssessmentMismatch(f"the report's standard cannot be checked: {exc}") from None
    if in_force.standard_id != standard.standard_id:
        raise AssessmentMismatch(
            f"the report applies standard {standard.standard_id}, but {in_force.standard_id} "
            f"was in force for {report.programme} in {report.region} on {as_of.isoformat()}"
        )
    if standard.applied() != applied:
        raise AssessmentMismatch(
            f"the report's copy of standard {standard.standard_id} differs from the published one"
        )
    try:
        expected = assess(
            list(report.members),
            answers,
            standard,
            as_of=as_of,
            missing=[(m.department, m.reason) for m in report.missing],
            pseudonym=_placeholder,
        )
    except (ValueError, TypeError) as exc:
        raise AssessmentMismatch(f"the report's inputs cannot be assessed again: {exc}") from None
    want_profile = expected.profile.to_proto()
    want_rules = list(expected.rules)
    _map_pseudonyms(report, want_profile, want_rules)
    _compare(report, want_profile, want_rules, expected)


def _map_pseudonyms(
    report: case_pb2.DeterminationReport,
    want_profile: case_pb2.HouseholdProfile,
    want_rules: list[case_pb2.RuleResult],
) -> None:
    """Replace placeholders in the expectation by the report's pseudonyms, consistently."""
    want = _all_evidence(want_profile, want_rules)
    got = _all_evidence(report.profile, report.rules)
    if len(want) != len(got):
        raise AssessmentMismatch(
            f"the report cites {len(got)} pieces of evidence; the recomputation cites {len(want)}"
        )
    forward: dict[str, str] = {}
    backward: dict[str, str] = {}
    for w, g in zip(want, got, strict=True):
        if bool(w.subject_pseudonym) != bool(g.subject_pseudonym):
            raise AssessmentMismatch(
                f"evidence {g.field_path} from {g.department} names a subject where the "
                "recomputation does not, or the reverse"
            )
        if not w.subject_pseudonym:
            continue
        if forward.setdefault(w.subject_pseudonym, g.subject_pseudonym) != g.subject_pseudonym or (
            backward.setdefault(g.subject_pseudonym, w.subject_pseudonym) != w.subject_pseudonym
        ):
            raise AssessmentMismatch(
                f"evidence {g.field_path} from {g.department} gives a member a pseudonym "
                "inconsistent with the rest of the report"
            )
        w.subject_pseudonym = g.subject_pseudonym


def _differs(what: str, got: object, want: object) -> AssessmentMismatch:
    return AssessmentMismatch(
        f"the report's {what} is {got}, but recomputing from the signed answers gives {want}"
    )


def _compare(
    report: case_pb2.DeterminationReport,
    want_profile: case_pb2.HouseholdProfile,
    want_rules: list[case_pb2.RuleResult],
    expected: Assessment,
) -> None:
    got = report.profile
    for name in (
        "persons",
        "monthly_income_per_person_fen",
        "money_assets_fen",
        "vehicles",
        "residential_properties",
        "non_residential_properties",
        "business_capital_fen",
    ):
        if getattr(got, name) != getattr(want_profile, name):
            raise _differs(name.replace("_", " "), getattr(got, name), getattr(want_profile, name))
    for section in ("income", "assets"):
        got_items = {i.kind: i for i in getattr(got, section)}
        for item in getattr(want_profile, section):
            mine = got_items.get(item.kind)
            if mine is None or mine.amount_fen != item.amount_fen:
                found = "missing" if mine is None else f"{mine.amount_fen} fen"
                raise _differs(f"{section} line {item.kind}", found, f"{item.amount_fen} fen")
            if mine.excluded != item.excluded:
                raise _differs(
                    f"exclusion of {section} line {item.kind}", mine.excluded, item.excluded
                )
    if [r.rule_id for r in report.rules] != [r.rule_id for r in want_rules]:
        raise _differs(
            "list of rules",
            ", ".join(r.rule_id for r in report.rules),
            ", ".join(r.rule_id for r in want_rules),
        )
    for mine, want in zip(report.rules, want_rules, strict=True):
        for name in ("figure_fen", "limit_fen"):
            if getattr(mine, name) != getattr(want, name):
                raise _differs(
                    f"{mine.rule_id} {name.split('_')[0]}", getattr(mine, name), getattr(want, name)
                )
        if mine.verdict != want.verdict:
            raise _differs(
                f"{mine.rule_id} verdict",
                case_pb2.RuleResult.Verdict.Name(mine.verdict),
                case_pb2.RuleResult.Verdict.Name(want.verdict),
            )
    if report.outcome != expected.outcome:
        raise _differs(
            "outcome",
            case_pb2.Outcome.Name(report.outcome),
            case_pb2.Outcome.Name(expected.outcome),
        )
    if _neq(got, want_profile):
        raise AssessmentMismatch("the report's profile evidence differs from the recomputation's")
    for mine, want in zip(report.rules, want_rules, strict=True):
        if _neq(mine, want):
            raise AssessmentMismatch(
                f"the report's {mine.rule_id} rule (title, explanation or evidence) differs from "
                "the recomputation's"
            )
    if (
        tuple(report.reasons_zh) != expected.reasons_zh
        or tuple(report.reasons_en) != expected.reasons_en
    ):
        raise AssessmentMismatch("the report's reasons differ from the recomputation's")


def _neq(a: Message, b: Message) -> bool:
    return a.SerializeToString(deterministic=True) != b.SerializeToString(deterministic=True)
