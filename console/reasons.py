"""The gateway's refusal reasons in words a clerk can act on, Chinese first.

The gateway answers every refusal with an ErrorInfo reason (``gateway/case_errors.py``);
the page shows the sentence here, and the gateway's own detail (English, never an ID
number) below it for the administrator. A reason not listed falls back to a general
sentence naming the code, so a new reason never shows a traceback.
"""

from __future__ import annotations

#: reason → (中文, English)
WORDS: dict[str, tuple[str, str]] = {
    "UNAVAILABLE": (
        "暂时连不上核对网关，请稍后再试；如持续出现请联系管理员。",
        "The gateway cannot be reached; try again shortly.",
    ),
    "NOT_ON_STAFF_LIST": (
        "您不在该项目的工作人员名单上。",
        "You are not on this programme's staff.",
    ),
    "STAFF_DISABLED": ("您的账号已被停用，请联系管理员。", "Your account is disabled."),
    "ROLE_NOT_ALLOWED": ("您的岗位无权进行此操作。", "Your role may not do this."),
    "OUTSIDE_SCOPE": (
        "该案件不属于您负责的乡镇或项目。",
        "This case is outside your township or programme.",
    ),
    "SAME_PERSON": (
        "审核人不能是本案的受理人或核对人。",
        "A reviewer may not review a case they opened or verified.",
    ),
    "UNKNOWN_PROGRAMME": ("没有这个救助项目。", "No such programme."),
    "NOT_A_SOCIAL_ASSISTANCE_PURPOSE": (
        "该用途不是社会救助，不能核对。",
        "Not a social-assistance purpose.",
    ),
    "MALFORMED_REQUEST": ("填写的内容格式不正确。", "The request is not well formed."),
    "HOUSEHOLD_SIZE": ("家庭成员人数不在允许范围内。", "The household size is out of range."),
    "MISSING_FIELD": ("有必填项没有填写。", "A required field is missing."),
    "BAD_REGION": ("行政区划代码不正确。", "The region code is not valid."),
    "BAD_TOWNSHIP": ("乡镇（街道）代码应为9位数字。", "A township code has nine digits."),
    "MALFORMED_ID_NUMBER": (
        "身份证号码不正确（位数、出生日期或校验码有误）。",
        "An ID number is not valid.",
    ),
    "BAD_NAME": ("姓名不正确。", "A name is not valid."),
    "BAD_RELATION": ("与申请人关系不正确。", "A relation is not valid."),
    "DUPLICATE_MEMBER": ("同一个人被填写了两次。", "The same person is listed twice."),
    "ONE_APPLICANT_REQUIRED": (
        "每户必须且只能有一位申请人（户主）。",
        "A household has exactly one applicant.",
    ),
    "BAD_APPLICATION_DATE": (
        "申请日期不正确（不能晚于今天）。",
        "The application date is not valid.",
    ),
    "NO_STANDARD_IN_FORCE": (
        "该项目在该地区、该申请日期没有生效的标准。",
        "No standard is in force for this programme, region and date.",
    ),
    "NO_EXCHANGE_POLICY": ("该项目没有数据交换策略。", "The programme has no exchange policy."),
    "BUNDLE_EXPIRED": ("信任配置已过期，请联系管理员。", "The trust bundle has expired."),
    "SAME_HOUSEHOLD_RECENT": (
        "该家庭近期已有同一项目的案件；如确需再次核对，请填写复核原因。",
        "This household has a recent case of this programme; give a reason.",
    ),
    "BAD_AUTHORIZATION": ("授权书信息不正确。", "The authorization is not valid."),
    "BAD_AUTHORIZATION_NUMBER": (
        "授权书编号格式不正确。",
        "The authorization number is not valid.",
    ),
    "AUTHORIZATION_NOT_FOUND": ("找不到该授权书，请先登记授权书。", "No such authorization."),
    "AUTHORIZATION_ALREADY_REGISTERED": (
        "该授权书编号已登记。",
        "This authorization is already registered.",
    ),
    "AUTHORIZATION_REVOKED": ("该授权书已撤销。", "The authorization was revoked."),
    "AUTHORIZATION_EXPIRED": ("该授权书已过有效期。", "The authorization has expired."),
    "AUTHORIZATION_NOT_YET_VALID": ("该授权书尚未生效。", "The authorization is not yet valid."),
    "AUTHORIZATION_WRONG_PROGRAMME": (
        "该授权书不包括这个项目。",
        "The authorization does not cover this programme.",
    ),
    "MEMBER_NOT_COVERED": (
        "有家庭成员没有签署授权书。",
        "A member is not covered by the authorization.",
    ),
    "CASE_NOT_FOUND": ("找不到该案件。", "No such case."),
    "WRONG_STATE": ("案件当前状态下不能进行此操作。", "The case is not in a state for this."),
    "CASE_BEING_VERIFIED": (
        "案件正在核对中，请稍后刷新。",
        "The case is being verified; refresh shortly.",
    ),
    "CONCURRENT_CHANGE": (
        "案件刚被他人修改，请刷新后重试。",
        "The case changed meanwhile; refresh and retry.",
    ),
    "REASON_REQUIRED": ("请填写原因。", "Give a reason."),
    "REASON_HAS_PERSONAL_DATA": (
        "原因中不能包含身份证号码等个人信息。",
        "A reason may not hold personal data.",
    ),
    "NO_REPORT_YET": ("该案件还没有认定报告。", "The case has no report yet."),
    "REPORT_ERASED": (
        "报告已按保存期限删除，案件保留认定结果。",
        "The report was erased after its retention period.",
    ),
    "BAD_PAGE_TOKEN": ("翻页参数无效，请从第一页开始。", "Bad page token; start again."),
    "SEARCH_WITHOUT_FILTER": ("请至少填写一个查询条件。", "Give at least one search filter."),
    "BAD_DATE_RANGE": (
        "日期不正确：请检查日期是否存在，结束日期不能早于开始日期。",
        "The dates are wrong: a date that does not exist, or the end before the start.",
    ),
    "MALFORMED_CASE_ID": (
        "案件编号格式不正确（例如 case-20261203-0123456789ab）。",
        "A case id looks like case-20261203-0123456789ab.",
    ),
    "UNKNOWN_STATE": ("没有这个案件状态。", "No such case state."),
    "BAD_VERDICT": ("请选择审核结论：通过或退回。", "Choose a verdict: approve or return."),
    "GATEWAY_NOT_READY": (
        "核对网关尚未就绪（如部门目录过期），请联系管理员。",
        "The gateway is not ready (e.g. its directory expired); tell the administrator.",
    ),
    "CLIENT_NOT_ALLOWED": (
        "本控制台未获准连接核对网关，请联系管理员。",
        "This console is not allowed to use the gateway; tell the administrator.",
    ),
    "UNAUTHENTICATED": (
        "本控制台的证书无效，请联系管理员。",
        "The console's certificate is not valid; tell the administrator.",
    ),
    "NOT_A_CONSOLE": (
        "只有经授权的控制台才能记录登录事件，请联系管理员。",
        "Only an allowed console may record sign-ins; tell the administrator.",
    ),
    "NO_OPERATOR": ("请先登录。", "Sign in first."),
    "OPERATOR_MISMATCH": (
        "登录身份与证书不一致，请重新登录。",
        "Your sign-in does not match the certificate; sign in again.",
    ),
    "OPERATOR_NOT_AUTHENTICATED": (
        "无法确认操作人员身份，请重新登录。",
        "Who is acting could not be established; sign in again.",
    ),
    "RUN_NOT_FOUND": ("找不到该动态监测批次。", "No such re-verification run."),
    "ALERT_NOT_FOUND": ("找不到该预警。", "No such alert."),
    "ALERT_NOT_OPEN": (
        "该预警已被处理，不能再次处理；请刷新页面查看结果。",
        "This alert was acted on already; refresh to see how.",
    ),
    "NOTE_REQUIRED": ("请填写核实情况说明。", "Write a note of what was checked."),
    "NOTE_TOO_LONG": (
        "说明太长（不超过2000字）。",
        "The note is too long (2,000 characters at most).",
    ),
    "BAD_ALERT_ACTION": (
        "请选择处理方式：确认、记录入户核查或排除。",
        "Choose an action: confirm, record a review or dismiss.",
    ),
    "REVIEW_CASE_REQUIRED": (
        "请先开展入户核查，并填写入户核查案件编号。",
        "Open the review case (home visit) first and give its case id.",
    ),
    "BAD_GRADE": ("预警等级应为红色、橙色或黄色。", "A grade is red, orange or yellow."),
    "INTERNAL_ERROR": (
        "网关内部错误，管理员可凭参考号在网关日志中查到原因。",
        "Internal error in the gateway; the administrator finds the reference in its log.",
    ),
}


def words(reason: str, detail: str = "", *, lang: str = "zh") -> str:
    """The sentence for ``reason``; an unknown reason names its code."""
    zh, en = WORDS.get(
        reason,
        (
            f"网关拒绝了该请求（{reason or '无原因代码'}）。",
            f"The gateway refused the request ({reason or 'no reason'}).",
        ),
    )
    return en if lang == "en" else zh
