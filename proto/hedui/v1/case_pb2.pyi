import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hedui.v1 import audit_pb2 as _audit_pb2
from hedui.v1 import common_pb2 as _common_pb2
from hedui.v1 import envelope_pb2 as _envelope_pb2
from hedui.v1 import records_pb2 as _records_pb2
from hedui.v1 import trust_pb2 as _trust_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CaseState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CASE_STATE_UNSPECIFIED: _ClassVar[CaseState]
    CASE_STATE_OPEN: _ClassVar[CaseState]
    CASE_STATE_QUERYING: _ClassVar[CaseState]
    CASE_STATE_INCOMPLETE: _ClassVar[CaseState]
    CASE_STATE_AWAITING_OFFLINE_ANSWER: _ClassVar[CaseState]
    CASE_STATE_DECIDED: _ClassVar[CaseState]
    CASE_STATE_CANCELLED: _ClassVar[CaseState]
    CASE_STATE_AWAITING_REVIEW: _ClassVar[CaseState]
    CASE_STATE_RETURNED: _ClassVar[CaseState]

class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTCOME_UNSPECIFIED: _ClassVar[Outcome]
    OUTCOME_ELIGIBLE: _ClassVar[Outcome]
    OUTCOME_INELIGIBLE: _ClassVar[Outcome]
    OUTCOME_INCOMPLETE: _ClassVar[Outcome]
    OUTCOME_NEEDS_MANUAL_REVIEW: _ClassVar[Outcome]
CASE_STATE_UNSPECIFIED: CaseState
CASE_STATE_OPEN: CaseState
CASE_STATE_QUERYING: CaseState
CASE_STATE_INCOMPLETE: CaseState
CASE_STATE_AWAITING_OFFLINE_ANSWER: CaseState
CASE_STATE_DECIDED: CaseState
CASE_STATE_CANCELLED: CaseState
CASE_STATE_AWAITING_REVIEW: CaseState
CASE_STATE_RETURNED: CaseState
OUTCOME_UNSPECIFIED: Outcome
OUTCOME_ELIGIBLE: Outcome
OUTCOME_INELIGIBLE: Outcome
OUTCOME_INCOMPLETE: Outcome
OUTCOME_NEEDS_MANUAL_REVIEW: Outcome

class Member(_message.Message):
    __slots__ = ("id_number", "name", "relation")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RELATION_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    name: str
    relation: _records_pb2.Relation
    def __init__(self, id_number: _Optional[str] = ..., name: _Optional[str] = ..., relation: _Optional[_Union[_records_pb2.Relation, str]] = ...) -> None: ...

class Authorization(_message.Message):
    __slots__ = ("number", "programme", "covered_id_numbers", "signed_on", "validity", "document_sha256", "revoked", "revoked_at", "revocation_reason", "programmes")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    COVERED_ID_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    SIGNED_ON_FIELD_NUMBER: _ClassVar[int]
    VALIDITY_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOCATION_REASON_FIELD_NUMBER: _ClassVar[int]
    PROGRAMMES_FIELD_NUMBER: _ClassVar[int]
    number: str
    programme: str
    covered_id_numbers: _containers.RepeatedScalarFieldContainer[str]
    signed_on: _common_pb2.Date
    validity: _common_pb2.Period
    document_sha256: str
    revoked: bool
    revoked_at: _timestamp_pb2.Timestamp
    revocation_reason: str
    programmes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, number: _Optional[str] = ..., programme: _Optional[str] = ..., covered_id_numbers: _Optional[_Iterable[str]] = ..., signed_on: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., validity: _Optional[_Union[_common_pb2.Period, _Mapping]] = ..., document_sha256: _Optional[str] = ..., revoked: _Optional[bool] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revocation_reason: _Optional[str] = ..., programmes: _Optional[_Iterable[str]] = ...) -> None: ...

class DepartmentStatus(_message.Message):
    __slots__ = ("department", "state", "reason", "answer_digest", "attempts", "updated_at", "liaison", "leader", "deadline", "overdue", "offline")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[DepartmentStatus.State]
        STATE_PENDING: _ClassVar[DepartmentStatus.State]
        STATE_ANSWERED: _ClassVar[DepartmentStatus.State]
        STATE_FAILED: _ClassVar[DepartmentStatus.State]
        STATE_AWAITING_OFFLINE: _ClassVar[DepartmentStatus.State]
    STATE_UNSPECIFIED: DepartmentStatus.State
    STATE_PENDING: DepartmentStatus.State
    STATE_ANSWERED: DepartmentStatus.State
    STATE_FAILED: DepartmentStatus.State
    STATE_AWAITING_OFFLINE: DepartmentStatus.State
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ANSWER_DIGEST_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    LIAISON_FIELD_NUMBER: _ClassVar[int]
    LEADER_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_FIELD_NUMBER: _ClassVar[int]
    department: str
    state: DepartmentStatus.State
    reason: str
    answer_digest: bytes
    attempts: int
    updated_at: _timestamp_pb2.Timestamp
    liaison: _trust_pb2.Contact
    leader: _trust_pb2.Contact
    deadline: _common_pb2.Date
    overdue: bool
    offline: bool
    def __init__(self, department: _Optional[str] = ..., state: _Optional[_Union[DepartmentStatus.State, str]] = ..., reason: _Optional[str] = ..., answer_digest: _Optional[bytes] = ..., attempts: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., liaison: _Optional[_Union[_trust_pb2.Contact, _Mapping]] = ..., leader: _Optional[_Union[_trust_pb2.Contact, _Mapping]] = ..., deadline: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., overdue: _Optional[bool] = ..., offline: _Optional[bool] = ...) -> None: ...

class Case(_message.Message):
    __slots__ = ("case_id", "state", "programme", "region", "members", "authorization_number", "operator", "created_at", "updated_at", "departments", "outcome", "report_digest", "application_date", "state_reason", "township", "verifier", "reviewer")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REPORT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_DATE_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_FIELD_NUMBER: _ClassVar[int]
    TOWNSHIP_FIELD_NUMBER: _ClassVar[int]
    VERIFIER_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    state: CaseState
    programme: str
    region: str
    members: _containers.RepeatedCompositeFieldContainer[Member]
    authorization_number: str
    operator: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    departments: _containers.RepeatedCompositeFieldContainer[DepartmentStatus]
    outcome: Outcome
    report_digest: bytes
    application_date: _common_pb2.Date
    state_reason: str
    township: str
    verifier: str
    reviewer: str
    def __init__(self, case_id: _Optional[str] = ..., state: _Optional[_Union[CaseState, str]] = ..., programme: _Optional[str] = ..., region: _Optional[str] = ..., members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., authorization_number: _Optional[str] = ..., operator: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., departments: _Optional[_Iterable[_Union[DepartmentStatus, _Mapping]]] = ..., outcome: _Optional[_Union[Outcome, str]] = ..., report_digest: _Optional[bytes] = ..., application_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., state_reason: _Optional[str] = ..., township: _Optional[str] = ..., verifier: _Optional[str] = ..., reviewer: _Optional[str] = ...) -> None: ...

class RegisterAuthorizationRequest(_message.Message):
    __slots__ = ("authorization", "operator")
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    authorization: Authorization
    operator: str
    def __init__(self, authorization: _Optional[_Union[Authorization, _Mapping]] = ..., operator: _Optional[str] = ...) -> None: ...

class RevokeAuthorizationRequest(_message.Message):
    __slots__ = ("number", "reason", "operator")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    number: str
    reason: str
    operator: str
    def __init__(self, number: _Optional[str] = ..., reason: _Optional[str] = ..., operator: _Optional[str] = ...) -> None: ...

class OpenCaseRequest(_message.Message):
    __slots__ = ("programme", "region", "members", "authorization_number", "operator", "request_id", "application_date", "township", "repeat_reason")
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_DATE_FIELD_NUMBER: _ClassVar[int]
    TOWNSHIP_FIELD_NUMBER: _ClassVar[int]
    REPEAT_REASON_FIELD_NUMBER: _ClassVar[int]
    programme: str
    region: str
    members: _containers.RepeatedCompositeFieldContainer[Member]
    authorization_number: str
    operator: str
    request_id: str
    application_date: _common_pb2.Date
    township: str
    repeat_reason: str
    def __init__(self, programme: _Optional[str] = ..., region: _Optional[str] = ..., members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., authorization_number: _Optional[str] = ..., operator: _Optional[str] = ..., request_id: _Optional[str] = ..., application_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., township: _Optional[str] = ..., repeat_reason: _Optional[str] = ...) -> None: ...

class ReviewCaseRequest(_message.Message):
    __slots__ = ("case_id", "verdict", "reason", "operator")
    class Verdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        VERDICT_UNSPECIFIED: _ClassVar[ReviewCaseRequest.Verdict]
        VERDICT_APPROVE: _ClassVar[ReviewCaseRequest.Verdict]
        VERDICT_RETURN: _ClassVar[ReviewCaseRequest.Verdict]
    VERDICT_UNSPECIFIED: ReviewCaseRequest.Verdict
    VERDICT_APPROVE: ReviewCaseRequest.Verdict
    VERDICT_RETURN: ReviewCaseRequest.Verdict
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    verdict: ReviewCaseRequest.Verdict
    reason: str
    operator: str
    def __init__(self, case_id: _Optional[str] = ..., verdict: _Optional[_Union[ReviewCaseRequest.Verdict, str]] = ..., reason: _Optional[str] = ..., operator: _Optional[str] = ...) -> None: ...

class VerifyCaseRequest(_message.Message):
    __slots__ = ("case_id", "operator")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    operator: str
    def __init__(self, case_id: _Optional[str] = ..., operator: _Optional[str] = ...) -> None: ...

class GetCaseRequest(_message.Message):
    __slots__ = ("case_id", "operator")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    operator: str
    def __init__(self, case_id: _Optional[str] = ..., operator: _Optional[str] = ...) -> None: ...

class ListCasesRequest(_message.Message):
    __slots__ = ("state", "programme", "page_size", "page_token", "operator", "overdue_only")
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_ONLY_FIELD_NUMBER: _ClassVar[int]
    state: CaseState
    programme: str
    page_size: int
    page_token: str
    operator: str
    overdue_only: bool
    def __init__(self, state: _Optional[_Union[CaseState, str]] = ..., programme: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., operator: _Optional[str] = ..., overdue_only: _Optional[bool] = ...) -> None: ...

class ListCasesResponse(_message.Message):
    __slots__ = ("cases", "next_page_token")
    CASES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    cases: _containers.RepeatedCompositeFieldContainer[Case]
    next_page_token: str
    def __init__(self, cases: _Optional[_Iterable[_Union[Case, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RetryCaseRequest(_message.Message):
    __slots__ = ("case_id", "operator")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    operator: str
    def __init__(self, case_id: _Optional[str] = ..., operator: _Optional[str] = ...) -> None: ...

class CancelCaseRequest(_message.Message):
    __slots__ = ("case_id", "reason", "operator")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    reason: str
    operator: str
    def __init__(self, case_id: _Optional[str] = ..., reason: _Optional[str] = ..., operator: _Optional[str] = ...) -> None: ...

class GetReportRequest(_message.Message):
    __slots__ = ("case_id", "operator")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    operator: str
    def __init__(self, case_id: _Optional[str] = ..., operator: _Optional[str] = ...) -> None: ...

class DeterminationReport(_message.Message):
    __slots__ = ("report_id", "case_id", "issuer", "issued_at", "programme", "region", "members", "authorization_number", "standard", "profile", "rules", "outcome", "reasons_zh", "reasons_en", "answers", "audit_checkpoint", "audit_evidence", "missing", "application_date", "income_window", "steps")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    STANDARD_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASONS_ZH_FIELD_NUMBER: _ClassVar[int]
    REASONS_EN_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    AUDIT_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    AUDIT_EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_DATE_FIELD_NUMBER: _ClassVar[int]
    INCOME_WINDOW_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    case_id: str
    issuer: str
    issued_at: _timestamp_pb2.Timestamp
    programme: str
    region: str
    members: _containers.RepeatedCompositeFieldContainer[Member]
    authorization_number: str
    standard: StandardApplied
    profile: HouseholdProfile
    rules: _containers.RepeatedCompositeFieldContainer[RuleResult]
    outcome: Outcome
    reasons_zh: _containers.RepeatedScalarFieldContainer[str]
    reasons_en: _containers.RepeatedScalarFieldContainer[str]
    answers: _containers.RepeatedCompositeFieldContainer[AnswerReference]
    audit_checkpoint: str
    audit_evidence: _containers.RepeatedCompositeFieldContainer[AuditEvidence]
    missing: _containers.RepeatedCompositeFieldContainer[DepartmentStatus]
    application_date: _common_pb2.Date
    income_window: _common_pb2.Period
    steps: _containers.RepeatedCompositeFieldContainer[CaseStep]
    def __init__(self, report_id: _Optional[str] = ..., case_id: _Optional[str] = ..., issuer: _Optional[str] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., programme: _Optional[str] = ..., region: _Optional[str] = ..., members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., authorization_number: _Optional[str] = ..., standard: _Optional[_Union[StandardApplied, _Mapping]] = ..., profile: _Optional[_Union[HouseholdProfile, _Mapping]] = ..., rules: _Optional[_Iterable[_Union[RuleResult, _Mapping]]] = ..., outcome: _Optional[_Union[Outcome, str]] = ..., reasons_zh: _Optional[_Iterable[str]] = ..., reasons_en: _Optional[_Iterable[str]] = ..., answers: _Optional[_Iterable[_Union[AnswerReference, _Mapping]]] = ..., audit_checkpoint: _Optional[str] = ..., audit_evidence: _Optional[_Iterable[_Union[AuditEvidence, _Mapping]]] = ..., missing: _Optional[_Iterable[_Union[DepartmentStatus, _Mapping]]] = ..., application_date: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., income_window: _Optional[_Union[_common_pb2.Period, _Mapping]] = ..., steps: _Optional[_Iterable[_Union[CaseStep, _Mapping]]] = ...) -> None: ...

class CaseStep(_message.Message):
    __slots__ = ("step", "staff_id", "name")
    STEP_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    step: str
    staff_id: str
    name: str
    def __init__(self, step: _Optional[str] = ..., staff_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class StandardApplied(_message.Message):
    __slots__ = ("standard_id", "title", "region", "programme", "effective_from", "monthly_income_limit_fen", "income_window_months", "asset_limit_per_person_fen", "asset_limit_household_fen", "source")
    STANDARD_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_INCOME_LIMIT_FEN_FIELD_NUMBER: _ClassVar[int]
    INCOME_WINDOW_MONTHS_FIELD_NUMBER: _ClassVar[int]
    ASSET_LIMIT_PER_PERSON_FEN_FIELD_NUMBER: _ClassVar[int]
    ASSET_LIMIT_HOUSEHOLD_FEN_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    standard_id: str
    title: str
    region: str
    programme: str
    effective_from: _common_pb2.Date
    monthly_income_limit_fen: int
    income_window_months: int
    asset_limit_per_person_fen: int
    asset_limit_household_fen: int
    source: str
    def __init__(self, standard_id: _Optional[str] = ..., title: _Optional[str] = ..., region: _Optional[str] = ..., programme: _Optional[str] = ..., effective_from: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., monthly_income_limit_fen: _Optional[int] = ..., income_window_months: _Optional[int] = ..., asset_limit_per_person_fen: _Optional[int] = ..., asset_limit_household_fen: _Optional[int] = ..., source: _Optional[str] = ...) -> None: ...

class HouseholdProfile(_message.Message):
    __slots__ = ("persons", "income", "monthly_income_per_person_fen", "assets", "money_assets_fen", "vehicles", "residential_properties", "non_residential_properties", "business_capital_fen")
    PERSONS_FIELD_NUMBER: _ClassVar[int]
    INCOME_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_INCOME_PER_PERSON_FEN_FIELD_NUMBER: _ClassVar[int]
    ASSETS_FIELD_NUMBER: _ClassVar[int]
    MONEY_ASSETS_FEN_FIELD_NUMBER: _ClassVar[int]
    VEHICLES_FIELD_NUMBER: _ClassVar[int]
    RESIDENTIAL_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    NON_RESIDENTIAL_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_CAPITAL_FEN_FIELD_NUMBER: _ClassVar[int]
    persons: int
    income: _containers.RepeatedCompositeFieldContainer[ProfileItem]
    monthly_income_per_person_fen: int
    assets: _containers.RepeatedCompositeFieldContainer[ProfileItem]
    money_assets_fen: int
    vehicles: int
    residential_properties: int
    non_residential_properties: int
    business_capital_fen: int
    def __init__(self, persons: _Optional[int] = ..., income: _Optional[_Iterable[_Union[ProfileItem, _Mapping]]] = ..., monthly_income_per_person_fen: _Optional[int] = ..., assets: _Optional[_Iterable[_Union[ProfileItem, _Mapping]]] = ..., money_assets_fen: _Optional[int] = ..., vehicles: _Optional[int] = ..., residential_properties: _Optional[int] = ..., non_residential_properties: _Optional[int] = ..., business_capital_fen: _Optional[int] = ...) -> None: ...

class ProfileItem(_message.Message):
    __slots__ = ("kind", "amount_fen", "excluded", "evidence")
    KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    amount_fen: int
    excluded: bool
    evidence: _containers.RepeatedCompositeFieldContainer[Evidence]
    def __init__(self, kind: _Optional[str] = ..., amount_fen: _Optional[int] = ..., excluded: _Optional[bool] = ..., evidence: _Optional[_Iterable[_Union[Evidence, _Mapping]]] = ...) -> None: ...

class RuleResult(_message.Message):
    __slots__ = ("rule_id", "title_zh", "title_en", "verdict", "figure_fen", "limit_fen", "explanation_zh", "explanation_en", "evidence")
    class Verdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        VERDICT_UNSPECIFIED: _ClassVar[RuleResult.Verdict]
        VERDICT_PASS: _ClassVar[RuleResult.Verdict]
        VERDICT_FAIL: _ClassVar[RuleResult.Verdict]
        VERDICT_UNKNOWN: _ClassVar[RuleResult.Verdict]
        VERDICT_REVIEW: _ClassVar[RuleResult.Verdict]
    VERDICT_UNSPECIFIED: RuleResult.Verdict
    VERDICT_PASS: RuleResult.Verdict
    VERDICT_FAIL: RuleResult.Verdict
    VERDICT_UNKNOWN: RuleResult.Verdict
    VERDICT_REVIEW: RuleResult.Verdict
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_ZH_FIELD_NUMBER: _ClassVar[int]
    TITLE_EN_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    FIGURE_FEN_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FEN_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_ZH_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_EN_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    title_zh: str
    title_en: str
    verdict: RuleResult.Verdict
    figure_fen: int
    limit_fen: int
    explanation_zh: str
    explanation_en: str
    evidence: _containers.RepeatedCompositeFieldContainer[Evidence]
    def __init__(self, rule_id: _Optional[str] = ..., title_zh: _Optional[str] = ..., title_en: _Optional[str] = ..., verdict: _Optional[_Union[RuleResult.Verdict, str]] = ..., figure_fen: _Optional[int] = ..., limit_fen: _Optional[int] = ..., explanation_zh: _Optional[str] = ..., explanation_en: _Optional[str] = ..., evidence: _Optional[_Iterable[_Union[Evidence, _Mapping]]] = ...) -> None: ...

class Evidence(_message.Message):
    __slots__ = ("department", "answer_digest", "field_path", "subject_pseudonym")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    ANSWER_DIGEST_FIELD_NUMBER: _ClassVar[int]
    FIELD_PATH_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    department: str
    answer_digest: bytes
    field_path: str
    subject_pseudonym: str
    def __init__(self, department: _Optional[str] = ..., answer_digest: _Optional[bytes] = ..., field_path: _Optional[str] = ..., subject_pseudonym: _Optional[str] = ...) -> None: ...

class AnswerReference(_message.Message):
    __slots__ = ("department", "agent", "query_digest", "answer_digest", "answer")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    QUERY_DIGEST_FIELD_NUMBER: _ClassVar[int]
    ANSWER_DIGEST_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    department: str
    agent: str
    query_digest: bytes
    answer_digest: bytes
    answer: _envelope_pb2.Envelope
    def __init__(self, department: _Optional[str] = ..., agent: _Optional[str] = ..., query_digest: _Optional[bytes] = ..., answer_digest: _Optional[bytes] = ..., answer: _Optional[_Union[_envelope_pb2.Envelope, _Mapping]] = ...) -> None: ...

class AuditEvidence(_message.Message):
    __slots__ = ("entry", "proof")
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    entry: bytes
    proof: _audit_pb2.InclusionProof
    def __init__(self, entry: _Optional[bytes] = ..., proof: _Optional[_Union[_audit_pb2.InclusionProof, _Mapping]] = ...) -> None: ...

class SearchCasesRequest(_message.Message):
    __slots__ = ("operator", "id_number", "name", "case_id", "opened_from", "opened_until", "state", "programme", "township", "page_size", "page_token")
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OPENED_FROM_FIELD_NUMBER: _ClassVar[int]
    OPENED_UNTIL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    TOWNSHIP_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    operator: str
    id_number: str
    name: str
    case_id: str
    opened_from: _common_pb2.Date
    opened_until: _common_pb2.Date
    state: CaseState
    programme: str
    township: str
    page_size: int
    page_token: str
    def __init__(self, operator: _Optional[str] = ..., id_number: _Optional[str] = ..., name: _Optional[str] = ..., case_id: _Optional[str] = ..., opened_from: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., opened_until: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., state: _Optional[_Union[CaseState, str]] = ..., programme: _Optional[str] = ..., township: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetCaseHistoryRequest(_message.Message):
    __slots__ = ("case_id", "operator")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    operator: str
    def __init__(self, case_id: _Optional[str] = ..., operator: _Optional[str] = ...) -> None: ...

class CaseEvent(_message.Message):
    __slots__ = ("at", "kind", "staff_id", "staff_name", "role", "department", "outcome", "reason", "leaf_index")
    AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    STAFF_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    kind: str
    staff_id: str
    staff_name: str
    role: str
    department: str
    outcome: str
    reason: str
    leaf_index: int
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[str] = ..., staff_id: _Optional[str] = ..., staff_name: _Optional[str] = ..., role: _Optional[str] = ..., department: _Optional[str] = ..., outcome: _Optional[str] = ..., reason: _Optional[str] = ..., leaf_index: _Optional[int] = ...) -> None: ...

class CaseHistory(_message.Message):
    __slots__ = ("case_id", "events")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    events: _containers.RepeatedCompositeFieldContainer[CaseEvent]
    def __init__(self, case_id: _Optional[str] = ..., events: _Optional[_Iterable[_Union[CaseEvent, _Mapping]]] = ...) -> None: ...
