"""The printable report page: words not codes, people masked (or in full on the
applicant's copy), money exact, everything escaped, nothing loaded from outside.

Also holds the builders of typical sandbox households' reports, made the way the
gateway makes them (assess the departments' answers, then build_report), which
test_report_pdf.py prints. The answers are not signed (the page does not check
signatures; `hedui report verify` does); records, evidence, pseudonyms and steps are as
in a real case. Synthetic people only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from stdnum.cn import ric

from hedui.agents.departments import DEPARTMENTS, wrap
from hedui.gateway.assessment import assess
from hedui.gateway.report import AnswerInput, build_report
from hedui.gateway.report_html import mask_id_number, mask_name, render_html, report_digest
from hedui.gateway.report_words import match_subjects, read_answers, region_name, scrub_paths
from hedui.gateway.standards import StandardsLibrary
from hedui.v1 import case_pb2, common_pb2, envelope_pb2, query_pb2, records_pb2

R = records_pb2
STANDARDS = StandardsLibrary(Path(__file__).parents[2] / "deploy" / "standards")
DOMAIN = "county.example"
APPLIED = date(2026, 11, 2)
ISSUED_AT = datetime(2026, 11, 20, 6, 15, tzinfo=UTC)


def make_id(region: str, birth: str, serial: int) -> str:
    body = f"{region}{birth}{serial:03d}"
    return body + ric.calc_check_digit(body + "0")


def pseudonym(id_number: str) -> str:
    return hashlib.sha256(b"center-key" + id_number.encode()).hexdigest()


def _d(y: int, m: int, d: int = 0) -> common_pb2.Date:
    return common_pb2.Date(year=y, month=m, day=d)


Records = dict[str, dict[str, object]]


def typical_household() -> tuple[list[case_pb2.Member], Records]:
    """A couple and a child in 徐汇区: wages, two deposits, a home, the child's
    assistance payment; nothing else."""
    members = [
        case_pb2.Member(id_number=make_id("310104", "19800305", 11), name="王建国",
                        relation=R.RELATION_SELF),
        case_pb2.Member(id_number=make_id("310104", "19820716", 22), name="李秀英",
                        relation=R.RELATION_SPOUSE),
        case_pb2.Member(id_number=make_id("310104", "20120901", 31), name="王小明",
                        relation=R.RELATION_CHILD),
    ]
    records: Records = {d: {m.id_number: dep.record_type() for m in members}
                        for d, dep in DEPARTMENTS.items()}
    me, spouse, child = (m.id_number for m in members)
    hr = records["human-resources"]
    for y, mo in [(2025, m) for m in range(11, 13)] + [(2026, m) for m in range(1, 11)]:
        hr[me].wages.add(employer="示范物流有限公司", month=_d(y, mo), amount_fen=180000)
    hr[spouse].insurance.add(scheme=R.InsuranceEnrolment.SCHEME_PENSION, employer="示范超市",
                             monthly_contribution_base_fen=90000, active=True,
                             since=_d(2025, 3, 1))
    banks = records["banks"]
    banks[me].deposits.add(institution="中国银行", kind=R.Deposit.KIND_DEMAND,
                           balance_fen=1234567, as_of=_d(2026, 10, 31))
    banks[spouse].deposits.add(institution="中国工商银行", kind=R.Deposit.KIND_TIME,
                               balance_fen=2000000, as_of=_d(2026, 10, 31))
    records["housing"][me].properties.add(
        certificate_id="沪(2015)徐字不动产权第000123号", nature=R.Property.NATURE_RESIDENTIAL,
        floor_area_m2=52.5, share_percent=50.0, assessed_value_fen=150000000)
    records["housing"][spouse].properties.add(
        certificate_id="沪(2015)徐字不动产权第000123号", nature=R.Property.NATURE_RESIDENTIAL,
        floor_area_m2=52.5, share_percent=50.0, assessed_value_fen=150000000)
    records["civil-affairs"][child].assistance_payments.add(
        programme="education-assistance", monthly_amount_fen=20000,
        period=common_pb2.Period(start=_d(2026, 9, 1), end=_d(2027, 6, 30)))
    records["provident-fund"][me].account.CopyFrom(R.ProvidentFundAccount(
        status=R.ProvidentFundAccount.STATUS_ACTIVE, monthly_contribution_fen=25200,
        balance_fen=4567800))
    return members, records


def build(members: list[case_pb2.Member], records: Records, *, programme: str = "dibao",
          region: str = "310104", missing: tuple[tuple[str, str], ...] = (),
          change: Callable[[list[case_pb2.Member], Records], None] | None = None,
          ) -> case_pb2.DeterminationReport:
    """The report the gateway would issue for this household on :data:`APPLIED`."""
    if change:
        change(members, records)
    gone = dict(missing)
    refs, answers = [], {}
    for n, d in enumerate(DEPARTMENTS):
        if d in gone:
            continue
        answer = query_pb2.Answer(query_digest=hashlib.sha256(f"query {d}".encode()).digest(),
                                  query_id=f"q-{d}", agent=f"spiffe://{DOMAIN}/agent/{d}",
                                  data_as_of=_d(2026, 10, 31 if d != "tax" else 30))
        answer.answered_at.FromDatetime(datetime(2026, 11, 18, 1, 2 + n, tzinfo=UTC))
        for m in members:
            answer.subjects.add(id_number=m.id_number, status=query_pb2.SubjectAnswer.STATUS_FOUND,
                                record=wrap(d, records[d][m.id_number]))  # type: ignore[arg-type]
        payload = answer.SerializeToString(deterministic=True)
        digest = hashlib.sha256(payload).digest()
        answers[d] = (answer, digest)
        refs.append(AnswerInput(d, answer.agent, answer.query_digest, digest,
                                envelope_pb2.Envelope(payload=payload)))
    standard = STANDARDS.select(region, programme, APPLIED)
    assessment = assess(members, answers, standard, as_of=APPLIED, missing=list(missing),
                        pseudonym=pseudonym)
    steps = [case_pb2.CaseStep(step="intake", staff_id="clerk-3101", name="乡镇经办乙"),
             case_pb2.CaseStep(step="verification", staff_id="op-1001", name="核对员丙"),
             case_pb2.CaseStep(step="review", staff_id="rv-4001", name="审核员戊")]
    return build_report(
        report_id="7f1c2b9e-1d2a-4c51-9a77-3f0e5b6c8d10", case_id="case-20261102-a1b2c3d4e5f6",
        issuer=f"spiffe://{DOMAIN}/gateway/center", issued_at=ISSUED_AT, programme=programme,
        region=region, members=members, authorization_number="XH-2026-0415",
        assessment=assessment, standard=standard, answers=refs,
        audit_checkpoint=f"{DOMAIN}/audit\n12\nAAAA\n\n— {DOMAIN}/gateway/center x\n",
        audit_evidence=[], application_date=APPLIED, steps=steps)


def typical_report(**kwargs: object) -> case_pb2.DeterminationReport:
    members, records = typical_household()
    return build(members, records, **kwargs)  # type: ignore[arg-type]


def car(members: list[case_pb2.Member], records: Records) -> None:
    """The spouse owns a passenger car (the dibao vehicle rule fails)."""
    records["public-security"][members[1].id_number].vehicles.add(  # type: ignore[attr-defined]
        kind=R.Vehicle.KIND_PASSENGER_CAR, plate="沪A12345", purchase_price_fen=9800000,
        status=R.Vehicle.STATUS_REGISTERED, purchase_date=_d(2022, 5, 1))


# ---------------------------------------------------------------- the page, in words

#: a field path with an index (deposits.0.balance_fen) or a wildcard (vehicles.*.kind)
FIELD_PATH = re.compile(r"\b[a-z_]+\.(?:\d+|\*)\.[a-z_]+\b|\baccount\.balance_fen\b")
#: a hex digest (or a prefix of one): 16+ hex digits, at least one a letter (an ID number
#: on the applicant's copy is all digits)
HEX_DIGEST = re.compile(r"\b(?=[0-9]*[a-f])[0-9a-f]{16,}\b")


def body_text(page: str) -> str:
    """The page's visible text before the verification block (no tags, no styles)."""
    body = page[page.index("<body>"):page.index('id="verification"')]
    return re.sub(r"<[^>]+>", " ", body)


def test_no_field_path_or_digest_in_the_body() -> None:
    for r in (typical_report(), typical_report(change=car, missing=(("tax", "超时"),))):
        for page in (render_html(r), render_html(r, applicant_copy=True)):
            text = body_text(page)
            assert not FIELD_PATH.search(page), FIELD_PATH.search(page)
            assert not HEX_DIGEST.search(text), HEX_DIGEST.search(text)
            assert "spiffe://" not in text and "shanghai-dibao-2021" not in text


def test_official_names_of_programme_region_and_center() -> None:
    page = render_html(typical_report())
    assert "城乡居民最低生活保障" in page and "Minimum living guarantee" in page
    assert "上海市徐汇区" in page and "Xuhui District, Shanghai" in page
    assert "上海市徐汇区居民家庭经济状况核对中心" in page
    named = render_html(typical_report(), center_name=("示范县核对中心", "Demo County Center"))
    assert "示范县核对中心" in named and "Demo County Center" in named


def test_region_names_come_from_the_shipped_table() -> None:
    assert region_name("310000") == ("上海市", "Shanghai")
    assert region_name("310115") == ("上海市浦东新区", "Pudong New Area, Shanghai")
    assert region_name("330424") == ("浙江省嘉兴市海盐县",
                                      "Haiyan County, Jiaxing, Zhejiang Province")
    assert region_name("110105")[0] == "北京市朝阳区"
    assert region_name("999999") == ("999999", "999999")  # unknown: shown as it is


def test_evidence_is_in_words_with_the_data_date() -> None:
    page = render_html(typical_report())
    assert "中国银行 存款余额 ¥12,345.67，截至 2026-10-31" in page
    assert "中国工商银行 存款余额 ¥20,000.00" in page
    assert "示范物流有限公司 工资 12 个月，合计 ¥21,600.00" in page
    assert "住房公积金余额 ¥45,678.00" in page
    # each piece of evidence is about the right member, named by relation, masked
    assert "申请人 王**：</span>中国银行" in page and "配偶 李**：</span>中国工商银行" in page
    assert "子女 王**：</span>社会救助金 ¥200.00/月" in page


def test_subjects_are_matched_whatever_the_member_order() -> None:
    members, records = typical_household()
    members = [members[1], members[0], members[2]]  # the spouse listed first
    r = build(members, records)
    subjects = match_subjects(r, read_answers(r))
    assert len(subjects) == 3 and sorted(subjects.values()) == [0, 1, 2]
    page = render_html(r)
    assert "配偶 李**：</span>中国工商银行" in page and "申请人 王**：</span>中国银行" in page


def test_each_department_says_data_as_of_and_answered_at() -> None:
    page = render_html(typical_report(missing=(("tax", "超时未答复"),)))
    assert "数据截至" in page and "答复时间" in page
    assert "2026-10-31" in page and "2026-11-18 09:02" in page  # public security, Beijing time
    assert "未答复（超时未答复）" in page


def test_people_signatures_and_seal() -> None:
    page = render_html(typical_report())
    for words in ("乡镇经办乙", "核对员丙", "审核员戊", "经办人（签字）", "审核人（签字）",
                  "（盖章）"):
        assert words in page


def test_the_standard_with_its_source_and_effective_date() -> None:
    page = render_html(typical_report())
    assert "上海市城乡居民最低生活保障标准（2021年7月起，示例）" in page
    assert "依据文件" in page and "2021-07-01" in page and "¥1,330.00/人·月" in page
    assert "申请日期" in page and "2026-11-02" in page
    assert "2025-11-01 至 2026-10-31" in page


def test_money_assets_rule_shows_per_person_figures() -> None:
    page = render_html(typical_report())
    assert "¥10,781.89/人" in page and "家庭 household ¥32,345.67" in page
    assert "¥63,840.00</td>" in page  # the per-person limit, not the household's


def test_the_verification_block_has_id_digest_qr_and_how_to_check() -> None:
    r = typical_report()
    page = render_html(r)
    block = page[page.index('id="verification"'):]
    assert r.report_id in block and report_digest(r) in block
    assert report_digest(r) == hashlib.sha256(r.SerializeToString(deterministic=True)).hexdigest()
    assert "<svg" in block and "hedui report verify" in block


def test_public_copy_masks_and_applicant_copy_shows_in_full() -> None:
    r = typical_report()
    public, own = render_html(r), render_html(r, applicant_copy=True)
    full = r.members[0].id_number
    assert full not in public and "王建国" not in public and "公开联" in public
    assert full in own and "王建国" in own and "申请人留存联" in own


def test_print_stylesheet_is_a4_with_page_numbers_and_repeated_headers() -> None:
    page = render_html(typical_report())
    assert "size: A4" in page and "@bottom-center" in page and "counter(pages)" in page
    assert "<thead>" in page and "table-header-group" in page and "break-inside: avoid" in page


def test_paths_in_explanations_become_words() -> None:
    assert scrub_paths("银行未提供字段 deposits.*.balance_fen（无此字段）") == \
        "银行未提供字段 存款余额（无此字段）"
    assert scrub_paths("withheld vehicles.*.kind", english=True) == "withheld vehicle registration"
    assert "相关记录" in scrub_paths("x.1.y")


# ---------------------------------------------------------------- escaping and masking

DIGEST = hashlib.sha256(b"answer").digest()


def report() -> case_pb2.DeterminationReport:
    """A hostile report: every string a chance to inject markup."""
    r = case_pb2.DeterminationReport(
        report_id="r-<1>",
        case_id="case&1",
        issuer="spiffe://county.example/gateway/center",
        programme="dibao",
        region="310000",
        authorization_number='A"1',
        outcome=case_pb2.OUTCOME_INELIGIBLE,
        reasons_zh=["收入超标 <b>"],
        reasons_en=["Income over <b>"],
        audit_checkpoint="county.example/audit\n3\nAAAA\n\n— county.example/gateway/center x\n",
    )
    r.issued_at.FromDatetime(datetime(2024, 7, 15, 2, 30, tzinfo=UTC))
    r.members.add(id_number="310101198001010012", name="<script>alert('x')</script>", relation=1)
    r.members.add(id_number="31010119800101002X", name="欧阳娜娜", relation=2)
    r.standard.CopyFrom(
        case_pb2.StandardApplied(
            standard_id="shanghai-dibao-2021",
            title="上海 <示例>",
            source="EXAMPLE: <source>",
            effective_from=common_pb2.Date(year=2021, month=7, day=1),
            monthly_income_limit_fen=133000,
            income_window_months=12,
            asset_limit_per_person_fen=6384000,
        )
    )
    r.profile.persons = 2
    r.profile.income.add(
        kind="wages",
        amount_fen=123456,
        evidence=[
            case_pb2.Evidence(
                department="human-resources", answer_digest=DIGEST, field_path="wages.0.amount_fen"
            )
        ],
    )
    r.profile.income.add(kind="assistance", amount_fen=5, excluded=True)
    r.profile.monthly_income_per_person_fen = 123456
    r.profile.money_assets_fen = -1
    r.rules.add(
        rule_id="income",
        title_zh="收入",
        title_en="Income",
        verdict=case_pb2.RuleResult.VERDICT_FAIL,
        figure_fen=140001,
        limit_fen=133000,
        explanation_zh="高于 <x-evil>；银行未提供字段 vehicles.*.kind",
        explanation_en="over <x-evil>",
    )
    r.rules.add(
        rule_id="residential-area",
        title_zh="面积",
        title_en="Area",
        verdict=case_pb2.RuleResult.VERDICT_PASS,
        figure_fen=705,
        limit_fen=700,
    )
    r.rules.add(
        rule_id="vehicle",
        title_zh="车",
        title_en="Vehicles",
        verdict=case_pb2.RuleResult.VERDICT_UNKNOWN,
        figure_fen=2,
        limit_fen=0,
    )
    r.answers.add(
        department="banks", agent="spiffe://county.example/agent/banks", answer_digest=DIGEST
    )
    r.missing.add(department="tax", reason="<timeout>")
    return r


def test_html_escapes_a_name_with_a_script_tag() -> None:
    for page in (render_html(report()), render_html(report(), applicant_copy=True)):
        assert "<script" not in page
    assert "alert" not in render_html(report())  # masked to the first character, then escaped
    assert "&lt;script&gt;alert" in render_html(report(), applicant_copy=True)


def test_html_escapes_every_report_string() -> None:
    page = render_html(report())
    for raw in ("<b>", "<x-evil>", "<source>", "<示例>", "<timeout>", "r-<1>", 'A"1', "case&1"):
        assert raw not in page
    assert "case&amp;1" in page and "&lt;timeout&gt;" in page and "A&#34;1" in page


def test_names_and_id_numbers_are_masked_for_print() -> None:
    page = render_html(report())
    assert "3101**********0012" in page and "3101**********002X" in page
    assert "310101198001010012" not in page
    assert "欧***" in page and "欧阳娜娜" not in page
    assert mask_name("张三") == "张*" and mask_name("李") == "李*"
    assert mask_id_number("310101198001010012") == "3101**********0012"


def test_money_is_printed_exactly_in_yuan_with_two_decimals() -> None:
    page = render_html(report())
    assert "¥1,234.56" in page and "¥1,400.01" in page and "¥1,330.00" in page
    assert "-¥0.01" in page and "¥63,840.00" in page
    assert "7.05 m²" in page  # area rule shown in m², not as money
    assert re.search(r'class="num">2 辆', page)  # vehicle count shown as a count


def test_page_is_standalone_and_printable() -> None:
    page = render_html(report())
    assert page.startswith("<!DOCTYPE html>")
    assert "@page" in page and "size: A4" in page
    assert not re.search(r"<(script|link|img|iframe)\b|src=|@import|url\(", page)
    assert "认定结论" in page and "Outcome" in page and "不符合条件" in page
    assert DIGEST.hex() not in page  # answer digests are the signed file's business
    assert "2024-07-15 10:30" in page and "UTC+8" in page
    assert "示例" in page and "must not ground a real decision" in page
    assert "上海市" in page and "城乡居民最低生活保障" in page
    assert not FIELD_PATH.search(page)


def test_the_application_date_and_income_window_are_shown() -> None:
    r = report()
    assert "2026-11-02" not in render_html(r)  # reports before the field show neither
    r.application_date.CopyFrom(common_pb2.Date(year=2026, month=11, day=2))
    r.income_window.CopyFrom(common_pb2.Period(start=common_pb2.Date(year=2026, month=5, day=1),
                                               end=common_pb2.Date(year=2026, month=10, day=31)))
    page = render_html(r)
    assert "申请日期" in page and "Application date" in page and "2026-11-02" in page
    assert "收入计算期间" in page and "Income window" in page
    assert "2026-05-01 至 2026-10-31" in page


def test_a_field_the_query_did_not_ask_for_is_left_out_not_said_as_zero() -> None:
    """The policies read only what the rules need: a property cited for its nature comes
    without area or value, and the page must not say 0 平方米 or ¥0.00."""
    from hedui.gateway.report_words import record_words
    from hedui.v1 import records_pb2

    prop = records_pb2.Property(nature=records_pb2.Property.Nature.Value(
        records_pb2.Property.Nature.keys()[1]))
    zh, en = record_words("properties.0.nature", [prop, prop.nature])
    assert "0 平方米" not in zh and "¥0.00" not in zh and "0 m²" not in en
    full = records_pb2.Property(nature=prop.nature, floor_area_m2=45.5,
                                assessed_value_fen=123_456_00)
    zh, _ = record_words("properties.0.nature", [full, full.nature])
    assert "45.5 平方米" in zh and "¥123,456.00" in zh
    car = records_pb2.Vehicle(kind=1)
    zh, en = record_words("vehicles.0.kind", [car, car.kind])
    assert "1 辆" in zh and "¥" not in zh
