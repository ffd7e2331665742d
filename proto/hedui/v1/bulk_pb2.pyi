import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hedui.v1 import common_pb2 as _common_pb2
from hedui.v1 import query_pb2 as _query_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BulkQuery(_message.Message):
    __slots__ = ("query_id", "run_id", "issuer", "audience", "issued_at", "expires_at", "nonce", "operator", "purpose", "households", "field_paths", "audit_checkpoint")
    QUERY_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLDS_FIELD_NUMBER: _ClassVar[int]
    FIELD_PATHS_FIELD_NUMBER: _ClassVar[int]
    AUDIT_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    query_id: str
    run_id: str
    issuer: str
    audience: str
    issued_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    nonce: bytes
    operator: str
    purpose: str
    households: _containers.RepeatedCompositeFieldContainer[BulkHousehold]
    field_paths: _containers.RepeatedScalarFieldContainer[str]
    audit_checkpoint: str
    def __init__(self, query_id: _Optional[str] = ..., run_id: _Optional[str] = ..., issuer: _Optional[str] = ..., audience: _Optional[str] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., nonce: _Optional[bytes] = ..., operator: _Optional[str] = ..., purpose: _Optional[str] = ..., households: _Optional[_Iterable[_Union[BulkHousehold, _Mapping]]] = ..., field_paths: _Optional[_Iterable[str]] = ..., audit_checkpoint: _Optional[str] = ...) -> None: ...

class BulkHousehold(_message.Message):
    __slots__ = ("household_ref", "authorization_number", "consent_digest", "subjects")
    HOUSEHOLD_REF_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CONSENT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    SUBJECTS_FIELD_NUMBER: _ClassVar[int]
    household_ref: str
    authorization_number: str
    consent_digest: str
    subjects: _containers.RepeatedCompositeFieldContainer[_query_pb2.Subject]
    def __init__(self, household_ref: _Optional[str] = ..., authorization_number: _Optional[str] = ..., consent_digest: _Optional[str] = ..., subjects: _Optional[_Iterable[_Union[_query_pb2.Subject, _Mapping]]] = ...) -> None: ...

class BulkAnswerChunk(_message.Message):
    __slots__ = ("query_digest", "query_id", "agent", "chunk_index", "last", "answered_at", "data_as_of", "households", "withheld", "agent_checkpoint", "agent_log_key")
    QUERY_DIGEST_FIELD_NUMBER: _ClassVar[int]
    QUERY_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_AT_FIELD_NUMBER: _ClassVar[int]
    DATA_AS_OF_FIELD_NUMBER: _ClassVar[int]
    HOUSEHOLDS_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_FIELD_NUMBER: _ClassVar[int]
    AGENT_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    AGENT_LOG_KEY_FIELD_NUMBER: _ClassVar[int]
    query_digest: bytes
    query_id: str
    agent: str
    chunk_index: int
    last: bool
    answered_at: _timestamp_pb2.Timestamp
    data_as_of: _common_pb2.Date
    households: _containers.RepeatedCompositeFieldContainer[BulkHouseholdAnswer]
    withheld: _containers.RepeatedCompositeFieldContainer[_query_pb2.Withheld]
    agent_checkpoint: str
    agent_log_key: str
    def __init__(self, query_digest: _Optional[bytes] = ..., query_id: _Optional[str] = ..., agent: _Optional[str] = ..., chunk_index: _Optional[int] = ..., last: _Optional[bool] = ..., answered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data_as_of: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., households: _Optional[_Iterable[_Union[BulkHouseholdAnswer, _Mapping]]] = ..., withheld: _Optional[_Iterable[_Union[_query_pb2.Withheld, _Mapping]]] = ..., agent_checkpoint: _Optional[str] = ..., agent_log_key: _Optional[str] = ...) -> None: ...

class BulkHouseholdAnswer(_message.Message):
    __slots__ = ("household_ref", "answer", "refusal")
    HOUSEHOLD_REF_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_FIELD_NUMBER: _ClassVar[int]
    household_ref: str
    answer: _query_pb2.Answer
    refusal: BulkRefusal
    def __init__(self, household_ref: _Optional[str] = ..., answer: _Optional[_Union[_query_pb2.Answer, _Mapping]] = ..., refusal: _Optional[_Union[BulkRefusal, _Mapping]] = ...) -> None: ...

class BulkRefusal(_message.Message):
    __slots__ = ("reason", "detail")
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    reason: str
    detail: str
    def __init__(self, reason: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...
