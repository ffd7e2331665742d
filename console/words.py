"""The words every screen shows for the gateway's codes — programmes, case states,
outcomes, departments' parts, relations — Chinese first, one list for all pages.

Each word is a Chinese msgid (marked ``N_`` so extraction finds it); the template puts
it through ``_()`` and the catalogs give the English. A code not listed shows as it is,
so a new state never breaks a page.
"""

from __future__ import annotations

from typing import Any

from hedui.department_names import TITLES
from hedui.v1 import case_pb2, records_pb2

State = case_pb2.CaseState
Dept = case_pb2.DepartmentStatus


def N_(message: str) -> str:
    """Marks a message for extraction (gettext's usual name); translated where shown."""
    return message


#: case state → (word, css class of its badge)
STATES: dict[int, tuple[str, str]] = {
    State.CASE_STATE_OPEN: (N_("待核对"), "open"),
    State.CASE_STATE_QUERYING: (N_("核对中"), "querying"),
    State.CASE_STATE_INCOMPLETE: (N_("资料不全"), "orange"),
    State.CASE_STATE_AWAITING_OFFLINE_ANSWER: (N_("等待离线答复"), "yellow"),
    State.CASE_STATE_AWAITING_REVIEW: (N_("待审核"), "review"),
    State.CASE_STATE_RETURNED: (N_("已退回"), "red"),
    State.CASE_STATE_DECIDED: (N_("已认定"), "green"),
    State.CASE_STATE_CANCELLED: (N_("已撤销"), "cancelled"),
}

#: department part → (word, css class)
DEPARTMENT_STATES: dict[int, tuple[str, str]] = {
    Dept.STATE_PENDING: (N_("等待答复"), "pending"),
    Dept.STATE_ANSWERED: (N_("已答复"), "answered"),
    Dept.STATE_FAILED: (N_("失败"), "failed"),
    Dept.STATE_AWAITING_OFFLINE: (N_("等待离线答复"), "offline"),
}
WITHHELD = N_("已答复，部分字段未提供")

OUTCOMES: dict[int, str] = {
    case_pb2.OUTCOME_ELIGIBLE: N_("符合条件"),
    case_pb2.OUTCOME_INELIGIBLE: N_("不符合条件"),
    case_pb2.OUTCOME_INCOMPLETE: N_("资料不全，暂无法认定"),
    case_pb2.OUTCOME_NEEDS_MANUAL_REVIEW: N_("需人工复核"),
}

VERDICTS: dict[int, tuple[str, str]] = {
    case_pb2.RuleResult.VERDICT_PASS: (N_("符合"), "pass"),
    case_pb2.RuleResult.VERDICT_FAIL: (N_("不符合"), "fail"),
    case_pb2.RuleResult.VERDICT_UNKNOWN: (N_("无法核定"), "unknown"),
    case_pb2.RuleResult.VERDICT_REVIEW: (N_("需人工复核"), "review"),
}

RELATIONS: dict[int, str] = {
    records_pb2.RELATION_SELF: N_("申请人"),
    records_pb2.RELATION_SPOUSE: N_("配偶"),
    records_pb2.RELATION_CHILD: N_("子女"),
    records_pb2.RELATION_PARENT: N_("父母"),
    records_pb2.RELATION_SIBLING: N_("兄弟姐妹"),
    records_pb2.RELATION_GRANDPARENT: N_("祖父母"),
    records_pb2.RELATION_GRANDCHILD: N_("孙子女"),
    records_pb2.RELATION_OTHER: N_("其他"),
}

PROGRAMMES: dict[str, str] = {
    "dibao": N_("最低生活保障"),
    "low-income": N_("低收入家庭"),
    "tekun": N_("特困人员救助供养"),
    "low-rent-housing": N_("廉租住房"),
    "affordable-housing": N_("经济适用住房"),
    "temporary-assistance": N_("临时救助"),
    "medical-assistance": N_("医疗救助"),
    "education-assistance": N_("教育救助"),
}

#: a profile line's kind → its label
ITEMS: dict[str, str] = {
    "wages": N_("工资性收入"),
    "net-business": N_("经营净收入"),
    "net-property": N_("财产净收入"),
    "pensions": N_("养老金"),
    "unemployment-benefits": N_("失业保险金"),
    "housing-subsidies": N_("住房保障补贴"),
    "assistance": N_("社会救助金"),
    "net-transfers": N_("转移净收入"),
    "deposits": N_("存款"),
    "securities": N_("有价证券"),
    "provident-fund": N_("住房公积金余额"),
    "vehicles": N_("机动车辆价值"),
    "residential-property": N_("住宅价值（按份额）"),
    "non-residential-property": N_("非住宅价值（按份额）"),
    "business-capital": N_("认缴资本"),
}

#: a rule's figure: money (fen), a count, or an area (hundredths of a m²)
RULE_UNITS: dict[str, str] = {
    "vehicle": "count", "non-residential-property": "count",
    "residential-property-count": "count", "residential-area": "area",
}

STEPS: dict[str, str] = {"intake": N_("受理"), "verification": N_("核对"),
                         "review": N_("审核")}

#: a history event's kind (the audit kind, lowercase, without its prefix) → its words
EVENTS: dict[str, str] = {
    "case_opened": N_("受理立案"),
    "query_sent": N_("发出核对请求"),
    "answer_received": N_("收到部门答复"),
    "answer_withheld": N_("部门部分字段未提供"),
    "query_refused": N_("部门拒绝查询"),
    "query_answered": N_("部门已答复"),
    "answer_erased": N_("答复数据按保存期限删除"),
    "request_refused": N_("请求被拒绝"),
    "query_failed": N_("查询失败"),
    "case_assessed": N_("完成核对，提交审核"),
    "case_reviewed": N_("审核"),
    "case_decided": N_("出具认定报告"),
    "case_cancelled": N_("撤销案件"),
    "case_viewed": N_("查看案件"),
    "cases_listed": N_("出现在案件列表中"),
    "cases_searched": N_("查询案件"),
    "report_viewed": N_("查看认定报告"),
    "case_history_viewed": N_("查看办理记录"),
    "authorization_registered": N_("登记授权书"),
    "authorization_revoked": N_("撤销授权书"),
}

EVENT_OUTCOMES: dict[str, str] = {"ok": N_("成功"), "refused": N_("拒绝"), "failed": N_("失败"),
                                  "partial": N_("部分答复")}


def state_word(state: int) -> tuple[str, str]:
    return STATES.get(state, (case_pb2.CaseState.Name(state) if state in State.values()
                              else str(state), ""))


def programme_word(programme: str) -> str:
    return PROGRAMMES.get(programme, programme)


def department_name(department: str, *, english: bool = False,
                    known: dict[str, Any] | None = None) -> str:
    """The department's official name; else its directory name; else its id."""
    titles = TITLES.get(department)
    if titles is not None:
        return titles[1] if english else titles[0]
    info = (known or {}).get(department)
    return info.display_name if info is not None and info.display_name else department


#: case state enum name → its word (forms and tables that carry the name)
STATE_NAMES: dict[str, str] = {State.Name(k): word for k, (word, _) in STATES.items()}
#: outcome, by enum name and by the statistics' lowercase word → its word
OUTCOME_NAMES: dict[str, str] = {
    **{case_pb2.Outcome.Name(k): word for k, word in OUTCOMES.items()},
    **{case_pb2.Outcome.Name(k).removeprefix("OUTCOME_").lower(): word
       for k, word in OUTCOMES.items()},
}
