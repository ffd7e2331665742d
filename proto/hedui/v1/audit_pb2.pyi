import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuditKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIT_KIND_UNSPECIFIED: _ClassVar[AuditKind]
    AUDIT_KIND_CASE_OPENED: _ClassVar[AuditKind]
    AUDIT_KIND_QUERY_SENT: _ClassVar[AuditKind]
    AUDIT_KIND_QUERY_REFUSED: _ClassVar[AuditKind]
    AUDIT_KIND_QUERY_ANSWERED: _ClassVar[AuditKind]
    AUDIT_KIND_ANSWER_RECEIVED: _ClassVar[AuditKind]
    AUDIT_KIND_ANSWER_WITHHELD: _ClassVar[AuditKind]
    AUDIT_KIND_QUERY_FAILED: _ClassVar[AuditKind]
    AUDIT_KIND_CASE_DECIDED: _ClassVar[AuditKind]
    AUDIT_KIND_REPORT_VIEWED: _ClassVar[AuditKind]
    AUDIT_KIND_AUDIT_SEARCHED: _ClassVar[AuditKind]
    AUDIT_KIND_SUBJECT_REPORT: _ClassVar[AuditKind]
    AUDIT_KIND_KEY_PUBLISHED: _ClassVar[AuditKind]
    AUDIT_KIND_BUNDLE_PUBLISHED: _ClassVar[AuditKind]
    AUDIT_KIND_BUNDLE_EXPORTED: _ClassVar[AuditKind]
    AUDIT_KIND_BUNDLE_IMPORTED: _ClassVar[AuditKind]
    AUDIT_KIND_BUNDLE_REFUSED: _ClassVar[AuditKind]
    AUDIT_KIND_AUTHORIZATION_REGISTERED: _ClassVar[AuditKind]
    AUDIT_KIND_AUTHORIZATION_REVOKED: _ClassVar[AuditKind]
    AUDIT_KIND_ANSWER_ERASED: _ClassVar[AuditKind]
    AUDIT_KIND_WITNESS_ALARM: _ClassVar[AuditKind]
    AUDIT_KIND_CASE_CANCELLED: _ClassVar[AuditKind]
    AUDIT_KIND_CASE_VIEWED: _ClassVar[AuditKind]
    AUDIT_KIND_CASES_LISTED: _ClassVar[AuditKind]
    AUDIT_KIND_REQUEST_REFUSED: _ClassVar[AuditKind]
    AUDIT_KIND_STAFF_CHANGED: _ClassVar[AuditKind]
    AUDIT_KIND_CASE_ASSESSED: _ClassVar[AuditKind]
    AUDIT_KIND_CASE_REVIEWED: _ClassVar[AuditKind]
    AUDIT_KIND_CASES_SEARCHED: _ClassVar[AuditKind]
    AUDIT_KIND_CASE_HISTORY_VIEWED: _ClassVar[AuditKind]
    AUDIT_KIND_STAFF_SIGNED_IN: _ClassVar[AuditKind]
    AUDIT_KIND_STAFF_SIGN_IN_FAILED: _ClassVar[AuditKind]
    AUDIT_KIND_STAFF_SIGNED_OUT: _ClassVar[AuditKind]
    AUDIT_KIND_BULK_QUERY_SENT: _ClassVar[AuditKind]
    AUDIT_KIND_BULK_QUERY_ANSWERED: _ClassVar[AuditKind]
    AUDIT_KIND_BULK_QUERY_REFUSED: _ClassVar[AuditKind]
    AUDIT_KIND_BULK_ANSWER_RECEIVED: _ClassVar[AuditKind]
    AUDIT_KIND_REVERIFICATION_RUN: _ClassVar[AuditKind]
    AUDIT_KIND_REVERIFICATION_DECIDED: _ClassVar[AuditKind]
    AUDIT_KIND_ROSTER_CHANGED: _ClassVar[AuditKind]
    AUDIT_KIND_ALERT_ACTED: _ClassVar[AuditKind]
    AUDIT_KIND_ALERT_VIEWED: _ClassVar[AuditKind]

class AuditOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIT_OUTCOME_UNSPECIFIED: _ClassVar[AuditOutcome]
    AUDIT_OUTCOME_OK: _ClassVar[AuditOutcome]
    AUDIT_OUTCOME_REFUSED: _ClassVar[AuditOutcome]
    AUDIT_OUTCOME_FAILED: _ClassVar[AuditOutcome]
    AUDIT_OUTCOME_PARTIAL: _ClassVar[AuditOutcome]
AUDIT_KIND_UNSPECIFIED: AuditKind
AUDIT_KIND_CASE_OPENED: AuditKind
AUDIT_KIND_QUERY_SENT: AuditKind
AUDIT_KIND_QUERY_REFUSED: AuditKind
AUDIT_KIND_QUERY_ANSWERED: AuditKind
AUDIT_KIND_ANSWER_RECEIVED: AuditKind
AUDIT_KIND_ANSWER_WITHHELD: AuditKind
AUDIT_KIND_QUERY_FAILED: AuditKind
AUDIT_KIND_CASE_DECIDED: AuditKind
AUDIT_KIND_REPORT_VIEWED: AuditKind
AUDIT_KIND_AUDIT_SEARCHED: AuditKind
AUDIT_KIND_SUBJECT_REPORT: AuditKind
AUDIT_KIND_KEY_PUBLISHED: AuditKind
AUDIT_KIND_BUNDLE_PUBLISHED: AuditKind
AUDIT_KIND_BUNDLE_EXPORTED: AuditKind
AUDIT_KIND_BUNDLE_IMPORTED: AuditKind
AUDIT_KIND_BUNDLE_REFUSED: AuditKind
AUDIT_KIND_AUTHORIZATION_REGISTERED: AuditKind
AUDIT_KIND_AUTHORIZATION_REVOKED: AuditKind
AUDIT_KIND_ANSWER_ERASED: AuditKind
AUDIT_KIND_WITNESS_ALARM: AuditKind
AUDIT_KIND_CASE_CANCELLED: AuditKind
AUDIT_KIND_CASE_VIEWED: AuditKind
AUDIT_KIND_CASES_LISTED: AuditKind
AUDIT_KIND_REQUEST_REFUSED: AuditKind
AUDIT_KIND_STAFF_CHANGED: AuditKind
AUDIT_KIND_CASE_ASSESSED: AuditKind
AUDIT_KIND_CASE_REVIEWED: AuditKind
AUDIT_KIND_CASES_SEARCHED: AuditKind
AUDIT_KIND_CASE_HISTORY_VIEWED: AuditKind
AUDIT_KIND_STAFF_SIGNED_IN: AuditKind
AUDIT_KIND_STAFF_SIGN_IN_FAILED: AuditKind
AUDIT_KIND_STAFF_SIGNED_OUT: AuditKind
AUDIT_KIND_BULK_QUERY_SENT: AuditKind
AUDIT_KIND_BULK_QUERY_ANSWERED: AuditKind
AUDIT_KIND_BULK_QUERY_REFUSED: AuditKind
AUDIT_KIND_BULK_ANSWER_RECEIVED: AuditKind
AUDIT_KIND_REVERIFICATION_RUN: AuditKind
AUDIT_KIND_REVERIFICATION_DECIDED: AuditKind
AUDIT_KIND_ROSTER_CHANGED: AuditKind
AUDIT_KIND_ALERT_ACTED: AuditKind
AUDIT_KIND_ALERT_VIEWED: AuditKind
AUDIT_OUTCOME_UNSPECIFIED: AuditOutcome
AUDIT_OUTCOME_OK: AuditOutcome
AUDIT_OUTCOME_REFUSED: AuditOutcome
AUDIT_OUTCOME_FAILED: AuditOutcome
AUDIT_OUTCOME_PARTIAL: AuditOutcome

class AuditEntry(_message.Message):
    __slots__ = ("time", "actor", "operator", "kind", "case_id", "purpose", "department", "field_paths", "subject_pseudonyms", "query_id", "query_digest", "answer_digest", "outcome", "reason", "authorization_number", "report_digest", "reason_code", "client", "role")
    TIME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    FIELD_PATHS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_PSEUDONYMS_FIELD_NUMBER: _ClassVar[int]
    QUERY_ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_DIGEST_FIELD_NUMBER: _ClassVar[int]
    ANSWER_DIGEST_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REPORT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    actor: str
    operator: str
    kind: AuditKind
    case_id: str
    purpose: str
    department: str
    field_paths: _containers.RepeatedScalarFieldContainer[str]
    subject_pseudonyms: _containers.RepeatedScalarFieldContainer[str]
    query_id: str
    query_digest: bytes
    answer_digest: bytes
    outcome: AuditOutcome
    reason: str
    authorization_number: str
    report_digest: bytes
    reason_code: str
    client: str
    role: str
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ..., operator: _Optional[str] = ..., kind: _Optional[_Union[AuditKind, str]] = ..., case_id: _Optional[str] = ..., purpose: _Optional[str] = ..., department: _Optional[str] = ..., field_paths: _Optional[_Iterable[str]] = ..., subject_pseudonyms: _Optional[_Iterable[str]] = ..., query_id: _Optional[str] = ..., query_digest: _Optional[bytes] = ..., answer_digest: _Optional[bytes] = ..., outcome: _Optional[_Union[AuditOutcome, str]] = ..., reason: _Optional[str] = ..., authorization_number: _Optional[str] = ..., report_digest: _Optional[bytes] = ..., reason_code: _Optional[str] = ..., client: _Optional[str] = ..., role: _Optional[str] = ...) -> None: ...

class InclusionProof(_message.Message):
    __slots__ = ("leaf_index", "tree_size", "hashes")
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    HASHES_FIELD_NUMBER: _ClassVar[int]
    leaf_index: int
    tree_size: int
    hashes: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, leaf_index: _Optional[int] = ..., tree_size: _Optional[int] = ..., hashes: _Optional[_Iterable[bytes]] = ...) -> None: ...

class ConsistencyProof(_message.Message):
    __slots__ = ("first_size", "second_size", "hashes")
    FIRST_SIZE_FIELD_NUMBER: _ClassVar[int]
    SECOND_SIZE_FIELD_NUMBER: _ClassVar[int]
    HASHES_FIELD_NUMBER: _ClassVar[int]
    first_size: int
    second_size: int
    hashes: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, first_size: _Optional[int] = ..., second_size: _Optional[int] = ..., hashes: _Optional[_Iterable[bytes]] = ...) -> None: ...

class GetCheckpointRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCheckpointResponse(_message.Message):
    __slots__ = ("checkpoint",)
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    checkpoint: str
    def __init__(self, checkpoint: _Optional[str] = ...) -> None: ...

class GetInclusionProofRequest(_message.Message):
    __slots__ = ("leaf_index", "tree_size")
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    leaf_index: int
    tree_size: int
    def __init__(self, leaf_index: _Optional[int] = ..., tree_size: _Optional[int] = ...) -> None: ...

class GetInclusionProofResponse(_message.Message):
    __slots__ = ("proof", "entry")
    PROOF_FIELD_NUMBER: _ClassVar[int]
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    proof: InclusionProof
    entry: bytes
    def __init__(self, proof: _Optional[_Union[InclusionProof, _Mapping]] = ..., entry: _Optional[bytes] = ...) -> None: ...

class GetConsistencyProofRequest(_message.Message):
    __slots__ = ("first_size", "second_size")
    FIRST_SIZE_FIELD_NUMBER: _ClassVar[int]
    SECOND_SIZE_FIELD_NUMBER: _ClassVar[int]
    first_size: int
    second_size: int
    def __init__(self, first_size: _Optional[int] = ..., second_size: _Optional[int] = ...) -> None: ...

class GetConsistencyProofResponse(_message.Message):
    __slots__ = ("proof",)
    PROOF_FIELD_NUMBER: _ClassVar[int]
    proof: ConsistencyProof
    def __init__(self, proof: _Optional[_Union[ConsistencyProof, _Mapping]] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("subject_id_number", "operator", "department", "purpose", "case_id", "kinds", "since", "until", "limit", "searched_by")
    SUBJECT_ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SEARCHED_BY_FIELD_NUMBER: _ClassVar[int]
    subject_id_number: str
    operator: str
    department: str
    purpose: str
    case_id: str
    kinds: _containers.RepeatedScalarFieldContainer[AuditKind]
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    limit: int
    searched_by: str
    def __init__(self, subject_id_number: _Optional[str] = ..., operator: _Optional[str] = ..., department: _Optional[str] = ..., purpose: _Optional[str] = ..., case_id: _Optional[str] = ..., kinds: _Optional[_Iterable[_Union[AuditKind, str]]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ..., searched_by: _Optional[str] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("leaf_index", "entry")
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    leaf_index: int
    entry: AuditEntry
    def __init__(self, leaf_index: _Optional[int] = ..., entry: _Optional[_Union[AuditEntry, _Mapping]] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("hits", "truncated")
    HITS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SearchHit]
    truncated: bool
    def __init__(self, hits: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ..., truncated: _Optional[bool] = ...) -> None: ...
