import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_GATEWAY: _ClassVar[Role]
    ROLE_AGENT: _ClassVar[Role]
    ROLE_AUDIT: _ClassVar[Role]
ROLE_UNSPECIFIED: Role
ROLE_GATEWAY: Role
ROLE_AGENT: Role
ROLE_AUDIT: Role

class TrustBundle(_message.Message):
    __slots__ = ("trust_domain", "serial", "issued_at", "ca_certificates", "participants", "revoked_keys", "policies", "valid_until")
    TRUST_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    CA_CERTIFICATES_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    REVOKED_KEYS_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    trust_domain: str
    serial: int
    issued_at: _timestamp_pb2.Timestamp
    ca_certificates: _containers.RepeatedScalarFieldContainer[bytes]
    participants: _containers.RepeatedCompositeFieldContainer[Participant]
    revoked_keys: _containers.RepeatedCompositeFieldContainer[RevokedKey]
    policies: _containers.RepeatedCompositeFieldContainer[PurposePolicy]
    valid_until: _timestamp_pb2.Timestamp
    def __init__(self, trust_domain: _Optional[str] = ..., serial: _Optional[int] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ca_certificates: _Optional[_Iterable[bytes]] = ..., participants: _Optional[_Iterable[_Union[Participant, _Mapping]]] = ..., revoked_keys: _Optional[_Iterable[_Union[RevokedKey, _Mapping]]] = ..., policies: _Optional[_Iterable[_Union[PurposePolicy, _Mapping]]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Participant(_message.Message):
    __slots__ = ("id", "role", "department", "endpoint", "certificate_sha256", "signing_keys", "offline", "box_public_key", "display_name", "leader", "liaison")
    ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_SHA256_FIELD_NUMBER: _ClassVar[int]
    SIGNING_KEYS_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_FIELD_NUMBER: _ClassVar[int]
    BOX_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LEADER_FIELD_NUMBER: _ClassVar[int]
    LIAISON_FIELD_NUMBER: _ClassVar[int]
    id: str
    role: Role
    department: str
    endpoint: str
    certificate_sha256: _containers.RepeatedScalarFieldContainer[str]
    signing_keys: _containers.RepeatedCompositeFieldContainer[SigningKey]
    offline: bool
    box_public_key: bytes
    display_name: str
    leader: Contact
    liaison: Contact
    def __init__(self, id: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ..., department: _Optional[str] = ..., endpoint: _Optional[str] = ..., certificate_sha256: _Optional[_Iterable[str]] = ..., signing_keys: _Optional[_Iterable[_Union[SigningKey, _Mapping]]] = ..., offline: _Optional[bool] = ..., box_public_key: _Optional[bytes] = ..., display_name: _Optional[str] = ..., leader: _Optional[_Union[Contact, _Mapping]] = ..., liaison: _Optional[_Union[Contact, _Mapping]] = ...) -> None: ...

class Contact(_message.Message):
    __slots__ = ("name", "phone")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    name: str
    phone: str
    def __init__(self, name: _Optional[str] = ..., phone: _Optional[str] = ...) -> None: ...

class SigningKey(_message.Message):
    __slots__ = ("keyid", "public_key", "not_before", "not_after")
    KEYID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    NOT_AFTER_FIELD_NUMBER: _ClassVar[int]
    keyid: str
    public_key: bytes
    not_before: _timestamp_pb2.Timestamp
    not_after: _timestamp_pb2.Timestamp
    def __init__(self, keyid: _Optional[str] = ..., public_key: _Optional[bytes] = ..., not_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., not_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RevokedKey(_message.Message):
    __slots__ = ("keyid", "revoked_at", "reason")
    KEYID_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    keyid: str
    revoked_at: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, keyid: _Optional[str] = ..., revoked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class PurposePolicy(_message.Message):
    __slots__ = ("purpose", "departments", "consent_required", "retention_days", "description")
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    CONSENT_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    RETENTION_DAYS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    purpose: str
    departments: _containers.RepeatedCompositeFieldContainer[DepartmentPolicy]
    consent_required: bool
    retention_days: int
    description: str
    def __init__(self, purpose: _Optional[str] = ..., departments: _Optional[_Iterable[_Union[DepartmentPolicy, _Mapping]]] = ..., consent_required: _Optional[bool] = ..., retention_days: _Optional[int] = ..., description: _Optional[str] = ...) -> None: ...

class DepartmentPolicy(_message.Message):
    __slots__ = ("department", "field_paths")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    FIELD_PATHS_FIELD_NUMBER: _ClassVar[int]
    department: str
    field_paths: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, department: _Optional[str] = ..., field_paths: _Optional[_Iterable[str]] = ...) -> None: ...
