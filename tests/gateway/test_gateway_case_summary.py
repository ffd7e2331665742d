"""`hedui case get` names whom to call for a department that is late (issue 15 item 1:
each participant's liaison and responsible leader, from the trust bundle)."""

from __future__ import annotations

from hedui.gateway.verifying import summary
from hedui.v1 import case_pb2

D = case_pb2.DepartmentStatus


def test_a_late_department_shows_its_liaison_and_leader() -> None:
    case = case_pb2.Case(case_id="case-20261202-aaaaaaaaaaaa",
                         state=case_pb2.CASE_STATE_INCOMPLETE)
    late = case.departments.add(department="tax", state=D.STATE_FAILED, reason="UNAVAILABLE")
    late.liaison.name, late.liaison.phone = "王联络", "0573-8600-0001"
    late.leader.name, late.leader.phone = "李分管", "0573-8600-0002"
    done = case.departments.add(department="banks", state=D.STATE_ANSWERED)
    done.liaison.name, done.liaison.phone = "赵联络", "0573-8600-0003"
    text = summary(case, steps=True)
    assert "tax: 联络员 / liaison 王联络 0573-8600-0001; 分管领导 / leader 李分管" in text
    assert "赵联络" not in text  # an answered department needs no call
    assert "hedui case retry" in text
