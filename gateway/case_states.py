"""Every case state and the way out of it: what the verifier can do next, and the command.

One table, so ``hedui case get`` (``下一步 / Next: …``), the verifier's guide and the
tests agree that no state is a dead end. Commands name the case; ``{departments}``
stands for the departments a case waits for.
"""

from __future__ import annotations

from dataclasses import dataclass

from hedui.v1 import case_pb2

State = case_pb2.CaseState


@dataclass(frozen=True)
class NextStep:
    """What a verifier can do with a case in one state."""

    zh: str
    en: str
    #: the commands, with ``{case_id}`` and ``{departments}`` to fill in
    commands: tuple[str, ...]
    #: no way on: the case is closed (DECIDED or CANCELLED)
    final: bool = False


NEXT_STEPS: dict[int, NextStep] = {
    State.CASE_STATE_OPEN: NextStep(
        "尚未发出查询：执行核对，或关闭案件",
        "no query sent yet: verify it, or close it",
        ("hedui case retry {case_id}", "hedui case cancel {case_id} --reason \"…\""),
    ),
    State.CASE_STATE_QUERYING: NextStep(
        "正在查询各部门：稍候再查看；若处理它的网关已停止，认领过期后重试即可接管",
        "the departments are being asked: look again shortly; if the gateway replica "
        "handling it stopped, retry once its claim has expired to take it over",
        ("hedui case get {case_id}", "hedui case retry {case_id}"),
    ),
    State.CASE_STATE_INCOMPLETE: NextStep(
        "有部门未答复（或评估未能进行，见原因）：部门恢复或原因排除后重试；无法完成时关闭案件",
        "a department did not answer (or the assessment could not run, see the reason): "
        "retry once it is back or the cause is fixed; close the case if it never can be",
        ("hedui case retry {case_id}", "hedui case cancel {case_id} --reason \"…\""),
    ),
    State.CASE_STATE_AWAITING_OFFLINE_ANSWER: NextStep(
        "等待离线部门答复：导出加密查询包交该部门答复后导入；该部门已联网时直接重试；无法完成时关闭案件",
        "waiting for an offline department: export its sealed queries, have it answer, "
        "import the answers; retry once the department is online; close the case if it "
        "never can be answered",
        ("hedui bundle export --config gateway.toml --department {departments} --out FILE",
         "hedui bundle import --config gateway.toml ANSWERS",
         "hedui case retry {case_id}",
         "hedui case cancel {case_id} --reason \"…\""),
    ),
    State.CASE_STATE_AWAITING_REVIEW: NextStep(
        "已核对，待审核：由未受理、未核对本案的审核员批准（出具报告）或退回",
        "verified, awaiting review: a reviewer who neither opened nor verified the case "
        "approves it (the report is issued) or returns it",
        ("hedui review --approve {case_id} --client REVIEWER.toml",
         "hedui review --return {case_id} --reason \"…\" --client REVIEWER.toml",
         "hedui case cancel {case_id} --reason \"…\""),
    ),
    State.CASE_STATE_RETURNED: NextStep(
        "审核退回（见原因）：核对员重新核对后再送审核；无法完成时关闭案件",
        "returned by the reviewer (see the reason): a verifier retries it, and it goes to "
        "review again; close the case if it never can be completed",
        ("hedui case retry {case_id}", "hedui case cancel {case_id} --reason \"…\""),
    ),
    State.CASE_STATE_DECIDED: NextStep(
        "已认定：取得书面认定报告（核对已结束）",
        "decided: get the determination report (the case is closed)",
        ("hedui case report {case_id} --out DIR",),
        final=True,
    ),
    State.CASE_STATE_CANCELLED: NextStep(
        "已关闭，未作认定：如需核对，凭有效授权书重新开案",
        "closed without a decision: to verify the household, open a new case under a "
        "valid authorization",
        ("hedui verify --household FILE.toml",),
        final=True,
    ),
}


def next_step(case: case_pb2.Case) -> list[str]:
    """The lines ``hedui case get`` prints under a case: the next step, then commands."""
    step = NEXT_STEPS[case.state]
    waiting = sorted(d.department for d in case.departments
                     if d.state == case_pb2.DepartmentStatus.STATE_AWAITING_OFFLINE)
    fill = {"case_id": case.case_id, "departments": ",".join(waiting) or "DEPARTMENT"}
    lines = [f"下一步 / Next: {step.zh} / {step.en}"]
    commands = step.commands
    if waiting and len(waiting) > 1:
        # one export per department
        commands = tuple(c for c in commands if "{departments}" not in c)
        commands = tuple(
            f"hedui bundle export --config gateway.toml --department {d} --out FILE"
            for d in waiting) + commands
    lines += [f"  {c.format(**fill)}" for c in commands]
    return lines


def late_contacts(case: case_pb2.Case) -> list[str]:
    """Whom to call for each department the case still waits for: its liaison (联络员)
    and responsible leader (分管领导), as the gateway copied them from the trust bundle
    into the case. The lines for ``hedui case get`` to print under a failed or waiting
    department; empty when nobody is named."""
    lines = []
    for d in case.departments:
        who = [f"{word} {c.name} {c.phone}" for word, c in (
            ("联络员 / liaison", d.liaison), ("分管领导 / leader", d.leader)) if c.name]
        if who and d.state != case_pb2.DepartmentStatus.STATE_ANSWERED:
            lines.append(f"  {d.department}: " + "; ".join(who))
    return lines
