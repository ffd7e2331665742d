import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hedui.v1 import common_pb2 as _common_pb2
from hedui.v1 import trust_pb2 as _trust_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StaffMember(_message.Message):
    __slots__ = ("staff_id", "name", "roles", "townships", "programmes", "phone", "active")
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    TOWNSHIPS_FIELD_NUMBER: _ClassVar[int]
    PROGRAMMES_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    staff_id: str
    name: str
    roles: _containers.RepeatedScalarFieldContainer[str]
    townships: _containers.RepeatedScalarFieldContainer[str]
    programmes: _containers.RepeatedScalarFieldContainer[str]
    phone: str
    active: bool
    def __init__(self, staff_id: _Optional[str] = ..., name: _Optional[str] = ..., roles: _Optional[_Iterable[str]] = ..., townships: _Optional[_Iterable[str]] = ..., programmes: _Optional[_Iterable[str]] = ..., phone: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class ListStaffRequest(_message.Message):
    __slots__ = ("operator",)
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    operator: str
    def __init__(self, operator: _Optional[str] = ...) -> None: ...

class ListStaffResponse(_message.Message):
    __slots__ = ("staff",)
    STAFF_FIELD_NUMBER: _ClassVar[int]
    staff: _containers.RepeatedCompositeFieldContainer[StaffMember]
    def __init__(self, staff: _Optional[_Iterable[_Union[StaffMember, _Mapping]]] = ...) -> None: ...

class AddStaffRequest(_message.Message):
    __slots__ = ("operator", "member")
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    operator: str
    member: StaffMember
    def __init__(self, operator: _Optional[str] = ..., member: _Optional[_Union[StaffMember, _Mapping]] = ...) -> None: ...

class ChangeStaffRequest(_message.Message):
    __slots__ = ("operator", "staff_id", "set_roles", "roles", "townships", "programmes", "activity", "reason")
    class Activity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ACTIVITY_UNCHANGED: _ClassVar[ChangeStaffRequest.Activity]
        ACTIVITY_ENABLE: _ClassVar[ChangeStaffRequest.Activity]
        ACTIVITY_DISABLE: _ClassVar[ChangeStaffRequest.Activity]
    ACTIVITY_UNCHANGED: ChangeStaffRequest.Activity
    ACTIVITY_ENABLE: ChangeStaffRequest.Activity
    ACTIVITY_DISABLE: ChangeStaffRequest.Activity
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    SET_ROLES_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    TOWNSHIPS_FIELD_NUMBER: _ClassVar[int]
    PROGRAMMES_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    operator: str
    staff_id: str
    set_roles: bool
    roles: _containers.RepeatedScalarFieldContainer[str]
    townships: _containers.RepeatedScalarFieldContainer[str]
    programmes: _containers.RepeatedScalarFieldContainer[str]
    activity: ChangeStaffRequest.Activity
    reason: str
    def __init__(self, operator: _Optional[str] = ..., staff_id: _Optional[str] = ..., set_roles: _Optional[bool] = ..., roles: _Optional[_Iterable[str]] = ..., townships: _Optional[_Iterable[str]] = ..., programmes: _Optional[_Iterable[str]] = ..., activity: _Optional[_Union[ChangeStaffRequest.Activity, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class WhoAmIRequest(_message.Message):
    __slots__ = ("operator",)
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    operator: str
    def __init__(self, operator: _Optional[str] = ...) -> None: ...

class SignInEvent(_message.Message):
    __slots__ = ("kind", "staff_id", "operator", "reason_code", "reason")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[SignInEvent.Kind]
        KIND_SIGNED_IN: _ClassVar[SignInEvent.Kind]
        KIND_SIGN_IN_FAILED: _ClassVar[SignInEvent.Kind]
        KIND_SIGNED_OUT: _ClassVar[SignInEvent.Kind]
        KIND_SESSIONS_ENDED: _ClassVar[SignInEvent.Kind]
        KIND_TOTP_RESET: _ClassVar[SignInEvent.Kind]
        KIND_PASSWORD_SET: _ClassVar[SignInEvent.Kind]
    KIND_UNSPECIFIED: SignInEvent.Kind
    KIND_SIGNED_IN: SignInEvent.Kind
    KIND_SIGN_IN_FAILED: SignInEvent.Kind
    KIND_SIGNED_OUT: SignInEvent.Kind
    KIND_SESSIONS_ENDED: SignInEvent.Kind
    KIND_TOTP_RESET: SignInEvent.Kind
    KIND_PASSWORD_SET: SignInEvent.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    STAFF_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    kind: SignInEvent.Kind
    staff_id: str
    operator: str
    reason_code: str
    reason: str
    def __init__(self, kind: _Optional[_Union[SignInEvent.Kind, str]] = ..., staff_id: _Optional[str] = ..., operator: _Optional[str] = ..., reason_code: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SignInEventAck(_message.Message):
    __slots__ = ("leaf_index",)
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    leaf_index: int
    def __init__(self, leaf_index: _Optional[int] = ...) -> None: ...

class DepartmentInfo(_message.Message):
    __slots__ = ("department", "display_name", "online", "liaison", "leader", "feedback_working_days", "unavailable")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    LIAISON_FIELD_NUMBER: _ClassVar[int]
    LEADER_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_WORKING_DAYS_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_FIELD_NUMBER: _ClassVar[int]
    department: str
    display_name: str
    online: bool
    liaison: _trust_pb2.Contact
    leader: _trust_pb2.Contact
    feedback_working_days: int
    unavailable: bool
    def __init__(self, department: _Optional[str] = ..., display_name: _Optional[str] = ..., online: _Optional[bool] = ..., liaison: _Optional[_Union[_trust_pb2.Contact, _Mapping]] = ..., leader: _Optional[_Union[_trust_pb2.Contact, _Mapping]] = ..., feedback_working_days: _Optional[int] = ..., unavailable: _Optional[bool] = ...) -> None: ...

class ListDepartmentsRequest(_message.Message):
    __slots__ = ("operator",)
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    operator: str
    def __init__(self, operator: _Optional[str] = ...) -> None: ...

class ListDepartmentsResponse(_message.Message):
    __slots__ = ("departments", "calendar_source", "calendar_years")
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_SOURCE_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_YEARS_FIELD_NUMBER: _ClassVar[int]
    departments: _containers.RepeatedCompositeFieldContainer[DepartmentInfo]
    calendar_source: str
    calendar_years: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, departments: _Optional[_Iterable[_Union[DepartmentInfo, _Mapping]]] = ..., calendar_source: _Optional[str] = ..., calendar_years: _Optional[_Iterable[int]] = ...) -> None: ...

class StandardInfo(_message.Message):
    __slots__ = ("standard_id", "title", "programme", "region", "effective_from", "effective_until", "monthly_income_limit_fen", "asset_limit_per_person_fen", "asset_limit_household_fen", "source", "in_force")
    STANDARD_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_UNTIL_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_INCOME_LIMIT_FEN_FIELD_NUMBER: _ClassVar[int]
    ASSET_LIMIT_PER_PERSON_FEN_FIELD_NUMBER: _ClassVar[int]
    ASSET_LIMIT_HOUSEHOLD_FEN_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    standard_id: str
    title: str
    programme: str
    region: str
    effective_from: _common_pb2.Date
    effective_until: _common_pb2.Date
    monthly_income_limit_fen: int
    asset_limit_per_person_fen: int
    asset_limit_household_fen: int
    source: str
    in_force: bool
    def __init__(self, standard_id: _Optional[str] = ..., title: _Optional[str] = ..., programme: _Optional[str] = ..., region: _Optional[str] = ..., effective_from: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., effective_until: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., monthly_income_limit_fen: _Optional[int] = ..., asset_limit_per_person_fen: _Optional[int] = ..., asset_limit_household_fen: _Optional[int] = ..., source: _Optional[str] = ..., in_force: _Optional[bool] = ...) -> None: ...

class ListStandardsRequest(_message.Message):
    __slots__ = ("operator", "as_of")
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    operator: str
    as_of: _common_pb2.Date
    def __init__(self, operator: _Optional[str] = ..., as_of: _Optional[_Union[_common_pb2.Date, _Mapping]] = ...) -> None: ...

class ListStandardsResponse(_message.Message):
    __slots__ = ("standards",)
    STANDARDS_FIELD_NUMBER: _ClassVar[int]
    standards: _containers.RepeatedCompositeFieldContainer[StandardInfo]
    def __init__(self, standards: _Optional[_Iterable[_Union[StandardInfo, _Mapping]]] = ...) -> None: ...

class GetStatisticsRequest(_message.Message):
    __slots__ = ("operator", "opened_from", "opened_until", "counts_only")
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    OPENED_FROM_FIELD_NUMBER: _ClassVar[int]
    OPENED_UNTIL_FIELD_NUMBER: _ClassVar[int]
    COUNTS_ONLY_FIELD_NUMBER: _ClassVar[int]
    operator: str
    opened_from: _common_pb2.Date
    opened_until: _common_pb2.Date
    counts_only: bool
    def __init__(self, operator: _Optional[str] = ..., opened_from: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., opened_until: _Optional[_Union[_common_pb2.Date, _Mapping]] = ..., counts_only: _Optional[bool] = ...) -> None: ...

class CaseCount(_message.Message):
    __slots__ = ("programme", "month", "township", "outcome", "cases")
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    TOWNSHIP_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CASES_FIELD_NUMBER: _ClassVar[int]
    programme: str
    month: str
    township: str
    outcome: str
    cases: int
    def __init__(self, programme: _Optional[str] = ..., month: _Optional[str] = ..., township: _Optional[str] = ..., outcome: _Optional[str] = ..., cases: _Optional[int] = ...) -> None: ...

class DepartmentTimes(_message.Message):
    __slots__ = ("department", "answers", "median_seconds", "p95_seconds", "overdue")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    P95_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    department: str
    answers: int
    median_seconds: float
    p95_seconds: float
    overdue: int
    def __init__(self, department: _Optional[str] = ..., answers: _Optional[int] = ..., median_seconds: _Optional[float] = ..., p95_seconds: _Optional[float] = ..., overdue: _Optional[int] = ...) -> None: ...

class Statistics(_message.Message):
    __slots__ = ("counts", "departments", "computed_at")
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_AT_FIELD_NUMBER: _ClassVar[int]
    counts: _containers.RepeatedCompositeFieldContainer[CaseCount]
    departments: _containers.RepeatedCompositeFieldContainer[DepartmentTimes]
    computed_at: _timestamp_pb2.Timestamp
    def __init__(self, counts: _Optional[_Iterable[_Union[CaseCount, _Mapping]]] = ..., departments: _Optional[_Iterable[_Union[DepartmentTimes, _Mapping]]] = ..., computed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CheckReportRequest(_message.Message):
    __slots__ = ("operator", "envelope")
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    operator: str
    envelope: bytes
    def __init__(self, operator: _Optional[str] = ..., envelope: _Optional[bytes] = ...) -> None: ...

class ReportCheck(_message.Message):
    __slots__ = ("genuine", "problem", "problem_kind", "report_id", "case_id", "programme", "outcome", "issued_at", "answers", "audit_entries")
    GENUINE_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_KIND_FIELD_NUMBER: _ClassVar[int]
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    PROGRAMME_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    AUDIT_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    genuine: bool
    problem: str
    problem_kind: str
    report_id: str
    case_id: str
    programme: str
    outcome: str
    issued_at: _timestamp_pb2.Timestamp
    answers: int
    audit_entries: int
    def __init__(self, genuine: _Optional[bool] = ..., problem: _Optional[str] = ..., problem_kind: _Optional[str] = ..., report_id: _Optional[str] = ..., case_id: _Optional[str] = ..., programme: _Optional[str] = ..., outcome: _Optional[str] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., answers: _Optional[int] = ..., audit_entries: _Optional[int] = ...) -> None: ...
