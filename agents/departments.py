"""The eight departments and the record message each one answers with.

This is part of the agents' contract: the gateway reads it to know which record
message a department's field paths are written over.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import Message

from hedui.department_names import TITLES
from hedui.v1 import records_pb2


@dataclass(frozen=True)
class Department:
    """One department: its id, the DepartmentRecord oneof member, the record type."""

    id: str
    record_field: str
    record_type: type[Message]
    title_zh: str
    title_en: str


#: department id → (the field of DepartmentRecord, its record message)
_RECORDS = {
    "public-security": ("public_security", records_pb2.PublicSecurityRecord),
    "housing": ("housing", records_pb2.HousingRecord),
    "human-resources": ("human_resources", records_pb2.HumanResourcesRecord),
    "civil-affairs": ("civil_affairs", records_pb2.CivilAffairsRecord),
    "banks": ("banks", records_pb2.BanksRecord),
    "provident-fund": ("provident_fund", records_pb2.ProvidentFundRecord),
    "market-regulation": ("market_regulation", records_pb2.MarketRegulationRecord),
    "tax": ("tax", records_pb2.TaxRecord),
}
DEPARTMENTS: dict[str, Department] = {
    d: Department(d, field, record, *TITLES[d]) for d, (field, record) in _RECORDS.items()
}


def department(department_id: str) -> Department:
    """The department with this id; raises KeyError naming the known ids."""
    try:
        return DEPARTMENTS[department_id]
    except KeyError:
        known = ", ".join(DEPARTMENTS)
        raise KeyError(f"unknown department {department_id!r}; known: {known}") from None


def wrap(department_id: str, record: Message) -> records_pb2.DepartmentRecord:
    """Put a department's record into the DepartmentRecord oneof."""
    wrapper = records_pb2.DepartmentRecord()
    getattr(wrapper, department(department_id).record_field).CopyFrom(record)
    return wrapper


def unwrap(wrapper: records_pb2.DepartmentRecord) -> tuple[str, Message] | None:
    """The (department id, record) held in a DepartmentRecord, or None when empty."""
    which = wrapper.WhichOneof("record")
    if which is None:
        return None
    for d in DEPARTMENTS.values():
        if d.record_field == which:
            return d.id, getattr(wrapper, which)
    raise AssertionError(f"DepartmentRecord member {which} has no department")
