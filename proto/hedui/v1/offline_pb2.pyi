import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hedui.v1 import audit_pb2 as _audit_pb2
from hedui.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OfflineBundleHeader(_message.Message):
    __slots__ = ("format_version", "bundle_id", "sender", "recipient", "created_at", "expires_at", "content_kind", "count", "body_sha256", "sender_box_public_key", "recipient_box_public_key", "body_length")
    class ContentKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CONTENT_KIND_UNSPECIFIED: _ClassVar[OfflineBundleHeader.ContentKind]
        CONTENT_KIND_QUERIES: _ClassVar[OfflineBundleHeader.ContentKind]
        CONTENT_KIND_ANSWERS: _ClassVar[OfflineBundleHeader.ContentKind]
    CONTENT_KIND_UNSPECIFIED: OfflineBundleHeader.ContentKind
    CONTENT_KIND_QUERIES: OfflineBundleHeader.ContentKind
    CONTENT_KIND_ANSWERS: OfflineBundleHeader.ContentKind
    FORMAT_VERSION_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_KIND_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    BODY_SHA256_FIELD_NUMBER: _ClassVar[int]
    SENDER_BOX_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_BOX_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    BODY_LENGTH_FIELD_NUMBER: _ClassVar[int]
    format_version: int
    bundle_id: str
    sender: str
    recipient: str
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    content_kind: OfflineBundleHeader.ContentKind
    count: int
    body_sha256: bytes
    sender_box_public_key: bytes
    recipient_box_public_key: bytes
    body_length: int
    def __init__(self, format_version: _Optional[int] = ..., bundle_id: _Optional[str] = ..., sender: _Optional[str] = ..., recipient: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., content_kind: _Optional[_Union[OfflineBundleHeader.ContentKind, str]] = ..., count: _Optional[int] = ..., body_sha256: _Optional[bytes] = ..., sender_box_public_key: _Optional[bytes] = ..., recipient_box_public_key: _Optional[bytes] = ..., body_length: _Optional[int] = ...) -> None: ...

class OfflineBundleBody(_message.Message):
    __slots__ = ("envelopes", "refusals", "consistency_proofs", "bundle_id")
    ENVELOPES_FIELD_NUMBER: _ClassVar[int]
    REFUSALS_FIELD_NUMBER: _ClassVar[int]
    CONSISTENCY_PROOFS_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_ID_FIELD_NUMBER: _ClassVar[int]
    envelopes: _containers.RepeatedCompositeFieldContainer[_envelope_pb2.Envelope]
    refusals: _containers.RepeatedCompositeFieldContainer[OfflineRefusal]
    consistency_proofs: _containers.RepeatedCompositeFieldContainer[_audit_pb2.ConsistencyProof]
    bundle_id: str
    def __init__(self, envelopes: _Optional[_Iterable[_Union[_envelope_pb2.Envelope, _Mapping]]] = ..., refusals: _Optional[_Iterable[_Union[OfflineRefusal, _Mapping]]] = ..., consistency_proofs: _Optional[_Iterable[_Union[_audit_pb2.ConsistencyProof, _Mapping]]] = ..., bundle_id: _Optional[str] = ...) -> None: ...

class OfflineRefusal(_message.Message):
    __slots__ = ("query_id", "query_digest", "reason", "detail")
    QUERY_ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_DIGEST_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    query_id: str
    query_digest: bytes
    reason: str
    detail: str
    def __init__(self, query_id: _Optional[str] = ..., query_digest: _Optional[bytes] = ..., reason: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...
