"""The eight departments and the record message each one answers with.

This is part of the agents' contract: the gateway reads it to know which record
message a department's field paths are written over.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import Message

from hedui.v1 import records_pb2


@dataclass(frozen=True)
class Department:
    """One department: its id, the DepartmentRecord oneof member, the record type."""

    id: str
    record_field: str
    record_type: type[Message]
    title_zh: str
    title_en: str


DEPARTMENTS: dict[str, Department] = {
    d.id: d
    for d in (
        Department("public-security", "public_security", records_pb2.PublicSecurityRecord,
                   "公安", "Public security"),
        Department("housing", "housing", records_pb2.HousingRecord,
                   "住房和城乡建设", "Housing"),
        Department("human-resources", "human_resources", records_pb2.HumanResourcesRecord,
                   "人力资源和社会保障", "Human resources and social security"),
        Department("civil-affairs", "civil_affairs", records_pb2.CivilAffairsRecord,
                   "民政", "Civil affairs"),
        Department("banks", "banks", records_pb2.BanksRecord,
                   "银行及金融机构", "Banks and financial institutions"),
        Department("provident-fund", "provident_fund", records_pb2.ProvidentFundRecord,
                   "住房公积金", "Housing provident fund"),
        Department("market-regulation", "market_regulation", records_pb2.MarketRegulationRecord,
                   "市场监督管理", "Market regulation"),
        Department("tax", "tax", records_pb2.TaxRecord, "税务", "Tax"),
    )
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
