import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hedui.v1 import case_pb2 as _case_pb2
from hedui.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Determination(_message.Message):
    __slots__ = ("determination_id", "run_id", "roster_id", "issuer", "issued_at", "programme", "region", "as_of", "standard", "profile", "rules", "outcome", "reasons_zh", "reasons_en", "answers", "missing", "member_pseudonyms", "previous_digest")
    DETERMINATION_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ROSTER_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    STANDARD_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASONS_ZH_FIELD_NUMBER: _ClassVar[int]
    REASONS_EN_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    MEMBER_PSEUDONYMS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_DIGEST_FIELD_NUMBER: _ClassVar[int]
    determination_id: str
    run_id: str
    roster_id: str
    issuer: str
    issued_at: _timestamp_pb2.Timestamp
    programme: str
    region: str
    as_of: _common_pb2.Date
    standard: _case_pb2.StandardApplied
    profile: _case_pb2.HouseholdProfile
    rules: _containers.RepeatedCompositeFieldContainer[_case_pb2.RuleResult]
    outcome: _case_pb2.Outcome
    reasons_zh: _containers.RepeatedScalarFieldContainer[str]
    reasons_en: _containers.RepeatedScalarFieldContainer[str]
    answers: _containers.RepeatedCompositeFieldContainer[ChunkReference]
    missing: _containers.RepeatedCompositeFieldContainer[_case_pb2.DepartmentStatus]
    member_pseudonyms: _containers.RepeatedScalarFieldContainer[str]
    previous_digest: bytes
    def __init__(self, determination_id: _Optional[str] = ..., run_id: _Optional[str] = ..., roster_id: _Optional[str] = ..., issuer: _Optional[str] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., programme: _Optional[str] = ..., region: _Optional[str] = ..., as_of: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., standard: _Optional[_Union[_case_pb2.StandardApplied, _Mapping]] = ..., profile: _Optional[_Union[_case_pb2.HouseholdProfile, _Mapping]] = ..., rules: _Optional[_Iterable[_Union[_case_pb2.RuleResult, _Mapping]]] = ..., outcome: _Optional[_Union[_case_pb2.Outcome, str]] = ..., reasons_zh: _Optional[_Iterable[str]] = ..., reasons_en: _Optional[_Iterable[str]] = ..., answers: _Optional[_Iterable[_Union[ChunkReference, _Mapping]]] = ..., missing: _Optional[_Iterable[_Union[_case_pb2.DepartmentStatus, _Mapping]]] = ..., member_pseudonyms: _Optional[_Iterable[str]] = ..., previous_digest: _Optional[bytes] = ...) -> None: ...

class ChunkReference(_message.Message):
    __slots__ = ("department", "agent", "query_digest", "chunk_digest", "chunk_index", "household_ref")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    QUERY_DIGEST_FIELD_NUMBER: _ClassVar[int]
    CHUNK_DIGEST_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLD_REF_FIELD_NUMBER: _ClassVar[int]
    department: str
    agent: str
    query_digest: bytes
    chunk_digest: bytes
    chunk_index: int
    household_ref: str
    def __init__(self, department: _Optional[str] = ..., agent: _Optional[str] = ..., query_digest: _Optional[bytes] = ..., chunk_digest: _Optional[bytes] = ..., chunk_index: _Optional[int] = ..., household_ref: _Optional[str] = ...) -> None: ...

class RunStatus(_message.Message):
    __slots__ = ("run_id", "programme", "as_of", "state", "started_by", "households", "pending", "claimed", "decided", "failed", "alerts_red", "alerts_orange", "alerts_yellow")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STARTED_BY_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLDS_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    CLAIMED_FIELD_NUMBER: _ClassVar[int]
    DECIDED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    ALERTS_RED_FIELD_NUMBER: _ClassVar[int]
    ALERTS_ORANGE_FIELD_NUMBER: _ClassVar[int]
    ALERTS_YELLOW_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    programme: str
    as_of: _common_pb2.Date
    state: str
    started_by: str
    households: int
    pending: int
    claimed: int
    decided: int
    failed: int
    alerts_red: int
    alerts_orange: int
    alerts_yellow: int
    def __init__(self, run_id: _Optional[str] = ..., programme: _Optional[str] = ..., as_of: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., state: _Optional[str] = ..., started_by: _Optional[str] = ..., households: _Optional[int] = ..., pending: _Optional[int] = ..., claimed: _Optional[int] = ..., decided: _Optional[int] = ..., failed: _Optional[int] = ..., alerts_red: _Optional[int] = ..., alerts_orange: _Optional[int] = ..., alerts_yellow: _Optional[int] = ...) -> None: ...

class StartRunRequest(_message.Message):
    __slots__ = ("operator", "programme", "as_of")
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    operator: str
    programme: str
    as_of: _common_pb2.Date
    def __init__(self, operator: _Optional[str] = ..., programme: _Optional[str] = ..., as_of: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class GetRunRequest(_message.Message):
    __slots__ = ("operator", "run_id")
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    operator: str
    run_id: str
    def __init__(self, operator: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ("operator", "programme")
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    operator: str
    programme: str
    def __init__(self, operator: _Optional[str] = ..., programme: _Optional[str] = ...) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ("runs",)
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[RunStatus]
    def __init__(self, runs: _Optional[_Iterable[_Union[RunStatus, _Mapping]]] = ...) -> None: ...

class AlertChange(_message.Message):
    __slots__ = ("grade", "kind", "rule_id", "text_zh", "text_en", "department")
    GRADE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_ZH_FIELD_NUMBER: _ClassVar[int]
    TEXT_EN_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    grade: str
    kind: str
    rule_id: str
    text_zh: str
    text_en: str
    department: str
    def __init__(self, grade: _Optional[str] = ..., kind: _Optional[str] = ..., rule_id: _Optional[str] = ..., text_zh: _Optional[str] = ..., text_en: _Optional[str] = ..., department: _Optional[str] = ...) -> None: ...

class Alert(_message.Message):
    __slots__ = ("alert_id", "run_id", "grade", "township", "programme", "due_on", "state", "overdue", "applicant_masked", "changes", "acted_by", "review_case_id")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    TOWNSHIP_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    APPLICANT_MASKED_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    ACTED_BY_FIELD_NUMBER: _ClassVar[int]
    REVIEW_CASE_ID_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    run_id: str
    grade: str
    township: str
    programme: str
    due_on: _common_pb2.Date
    state: str
    overdue: bool
    applicant_masked: str
    changes: _containers.RepeatedCompositeFieldContainer[AlertChange]
    acted_by: str
    review_case_id: str
    def __init__(self, alert_id: _Optional[str] = ..., run_id: _Optional[str] = ..., grade: _Optional[str] = ..., township: _Optional[str] = ..., programme: _Optional[str] = ..., due_on: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., state: _Optional[str] = ..., overdue: _Optional[bool] = ..., applicant_masked: _Optional[str] = ..., changes: _Optional[_Iterable[_Union[AlertChange, _Mapping]]] = ..., acted_by: _Optional[str] = ..., review_case_id: _Optional[str] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ("operator", "state", "grade", "township", "run_id")
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    GRADE_FIELD_NUMBER: _ClassVar[int]
    TOWNSHIP_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    operator: str
    state: str
    grade: str
    township: str
    run_id: str
    def __init__(self, operator: _Optional[str] = ..., state: _Optional[str] = ..., grade: _Optional[str] = ..., township: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class ListAlertsResponse(_message.Message):
    __slots__ = ("alerts",)
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    def __init__(self, alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ...) -> None: ...

class GetAlertRequest(_message.Message):
    __slots__ = ("operator", "alert_id")
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    operator: str
    alert_id: str
    def __init__(self, operator: _Optional[str] = ..., alert_id: _Optional[str] = ...) -> None: ...

class ActOnAlertRequest(_message.Message):
    __slots__ = ("operator", "alert_id", "action", "note", "review_case_id")
    class Action(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ACTION_UNSPECIFIED: _ClassVar[ActOnAlertRequest.Action]
        ACTION_CONFIRM: _ClassVar[ActOnAlertRequest.Action]
        ACTION_OPEN_REVIEW: _ClassVar[ActOnAlertRequest.Action]
        ACTION_DISMISS: _ClassVar[ActOnAlertRequest.Action]
    ACTION_UNSPECIFIED: ActOnAlertRequest.Action
    ACTION_CONFIRM: ActOnAlertRequest.Action
    ACTION_OPEN_REVIEW: ActOnAlertRequest.Action
    ACTION_DISMISS: ActOnAlertRequest.Action
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    REVIEW_CASE_ID_FIELD_NUMBER: _ClassVar[int]
    operator: str
    alert_id: str
    action: ActOnAlertRequest.Action
    note: str
    review_case_id: str
    def __init__(self, operator: _Optional[str] = ..., alert_id: _Optional[str] = ..., action: _Optional[_Union[ActOnAlertRequest.Action, str]] = ..., note: _Optional[str] = ..., review_case_id: _Optional[str] = ...) -> None: ...

class AlertCountsRequest(_message.Message):
    __slots__ = ("operator",)
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    operator: str
    def __init__(self, operator: _Optional[str] = ...) -> None: ...

class AlertCounts(_message.Message):
    __slots__ = ("townships",)
    class Township(_message.Message):
        __slots__ = ("township", "red", "orange", "yellow", "overdue")
        TOWNSHIP_FIELD_NUMBER: _ClassVar[int]
        RED_FIELD_NUMBER: _ClassVar[int]
        ORANGE_FIELD_NUMBER: _ClassVar[int]
        YELLOW_FIELD_NUMBER: _ClassVar[int]
        OVERDUE_FIELD_NUMBER: _ClassVar[int]
        township: str
        red: int
        orange: int
        yellow: int
        overdue: int
        def __init__(self, township: _Optional[str] = ..., red: _Optional[int] = ..., orange: _Optional[int] = ..., yellow: _Optional[int] = ..., overdue: _Optional[int] = ...) -> None: ...
    TOWNSHIPS_FIELD_NUMBER: _ClassVar[int]
    townships: _containers.RepeatedCompositeFieldContainer[AlertCounts.Township]
    def __init__(self, townships: _Optional[_Iterable[_Union[AlertCounts.Township, _Mapping]]] = ...) -> None: ...
