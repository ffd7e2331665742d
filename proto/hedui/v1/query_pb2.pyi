import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hedui.v1 import common_pb2 as _common_pb2
from hedui.v1 import records_pb2 as _records_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Query(_message.Message):
    __slots__ = ("query_id", "case_id", "issuer", "audience", "issued_at", "expires_at", "nonce", "operator", "purpose", "authorization_number", "consent_digest", "subjects", "field_paths", "audit_checkpoint")
    QUERY_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CONSENT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    SUBJECTS_FIELD_NUMBER: _ClassVar[int]
    FIELD_PATHS_FIELD_NUMBER: _ClassVar[int]
    AUDIT_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    query_id: str
    case_id: str
    issuer: str
    audience: str
    issued_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    nonce: bytes
    operator: str
    purpose: str
    authorization_number: str
    consent_digest: str
    subjects: _containers.RepeatedCompositeFieldContainer[Subject]
    field_paths: _containers.RepeatedScalarFieldContainer[str]
    audit_checkpoint: str
    def __init__(self, query_id: _Optional[str] = ..., case_id: _Optional[str] = ..., issuer: _Optional[str] = ..., audience: _Optional[str] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., nonce: _Optional[bytes] = ..., operator: _Optional[str] = ..., purpose: _Optional[str] = ..., authorization_number: _Optional[str] = ..., consent_digest: _Optional[str] = ..., subjects: _Optional[_Iterable[_Union[Subject, _Mapping]]] = ..., field_paths: _Optional[_Iterable[str]] = ..., audit_checkpoint: _Optional[str] = ...) -> None: ...

class Subject(_message.Message):
    __slots__ = ("id_number", "name", "relation")
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RELATION_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    name: str
    relation: _records_pb2.Relation
    def __init__(self, id_number: _Optional[str] = ..., name: _Optional[str] = ..., relation: _Optional[_Union[_records_pb2.Relation, str]] = ...) -> None: ...

class Answer(_message.Message):
    __slots__ = ("query_digest", "query_id", "agent", "answered_at", "data_as_of", "subjects", "withheld", "agent_checkpoint", "agent_log_key")
    QUERY_DIGEST_FIELD_NUMBER: _ClassVar[int]
    QUERY_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_AT_FIELD_NUMBER: _ClassVar[int]
    DATA_AS_OF_FIELD_NUMBER: _ClassVar[int]
    SUBJECTS_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_FIELD_NUMBER: _ClassVar[int]
    AGENT_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    AGENT_LOG_KEY_FIELD_NUMBER: _ClassVar[int]
    query_digest: bytes
    query_id: str
    agent: str
    answered_at: _timestamp_pb2.Timestamp
    data_as_of: _common_pb2.Date
    subjects: _containers.RepeatedCompositeFieldContainer[SubjectAnswer]
    withheld: _containers.RepeatedCompositeFieldContainer[Withheld]
    agent_checkpoint: str
    agent_log_key: str
    def __init__(self, query_digest: _Optional[bytes] = ..., query_id: _Optional[str] = ..., agent: _Optional[str] = ..., answered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data_as_of: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., subjects: _Optional[_Iterable[_Union[SubjectAnswer, _Mapping]]] = ..., withheld: _Optional[_Iterable[_Union[Withheld, _Mapping]]] = ..., agent_checkpoint: _Optional[str] = ..., agent_log_key: _Optional[str] = ...) -> None: ...

class SubjectAnswer(_message.Message):
    __slots__ = ("id_number", "status", "record", "detail")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[SubjectAnswer.Status]
        STATUS_FOUND: _ClassVar[SubjectAnswer.Status]
        STATUS_NOT_FOUND: _ClassVar[SubjectAnswer.Status]
        STATUS_ERROR: _ClassVar[SubjectAnswer.Status]
    STATUS_UNSPECIFIED: SubjectAnswer.Status
    STATUS_FOUND: SubjectAnswer.Status
    STATUS_NOT_FOUND: SubjectAnswer.Status
    STATUS_ERROR: SubjectAnswer.Status
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    id_number: str
    status: SubjectAnswer.Status
    record: _records_pb2.DepartmentRecord
    detail: str
    def __init__(self, id_number: _Optional[str] = ..., status: _Optional[_Union[SubjectAnswer.Status, str]] = ..., record: _Optional[_Union[_records_pb2.DepartmentRecord, _Mapping]] = ..., detail: _Optional[str] = ...) -> None: ...

class Withheld(_message.Message):
    __slots__ = ("path", "reason", "detail")
    class Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REASON_UNSPECIFIED: _ClassVar[Withheld.Reason]
        REASON_NOT_IN_POLICY: _ClassVar[Withheld.Reason]
        REASON_NARROWED_LOCALLY: _ClassVar[Withheld.Reason]
        REASON_NO_SUCH_FIELD: _ClassVar[Withheld.Reason]
        REASON_NOT_HELD: _ClassVar[Withheld.Reason]
    REASON_UNSPECIFIED: Withheld.Reason
    REASON_NOT_IN_POLICY: Withheld.Reason
    REASON_NARROWED_LOCALLY: Withheld.Reason
    REASON_NO_SUCH_FIELD: Withheld.Reason
    REASON_NOT_HELD: Withheld.Reason
    PATH_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    path: str
    reason: Withheld.Reason
    detail: str
    def __init__(self, path: _Optional[str] = ..., reason: _Optional[_Union[Withheld.Reason, str]] = ..., detail: _Optional[str] = ...) -> None: ...
