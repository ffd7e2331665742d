import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hedui.v1 import case_pb2 as _case_pb2
from hedui.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
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
