"""The printable HTML page: everything escaped, people masked, money exact, no outside assets."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from hedui.gateway.report_html import mask_id_number, mask_name, render_html
from hedui.v1 import case_pb2, common_pb2

DIGEST = hashlib.sha256(b"answer").digest()


def report() -> case_pb2.DeterminationReport:
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
        explanation_zh="高于 <x-evil>",
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
    page = render_html(report())
    assert "<script" not in page
    assert "alert" not in page  # masked to the first character, then escaped
    assert "&lt;**" in page or "&lt;*" in page


def test_html_escapes_every_report_string() -> None:
    page = render_html(report())
    for raw in ("<b>", "<x-evil>", "<source>", "<示例>", "<timeout>", "r-<1>", 'A"1', "case&1"):
        assert raw not in page
    assert "case&amp;1" in page and "&lt;timeout&gt;" in page and "A&quot;1" in page


def test_names_and_id_numbers_are_masked_for_print() -> None:
    page = render_html(report())
    assert "3101**********0012" in page and "3101**********002X" in page
    assert "310101198001010012" not in page
    assert "欧***" in page and "欧阳娜娜" not in page
    assert mask_name("张三") == "张*" and mask_name("李") == "李*"
    assert mask_id_number("310101198001010012") == "3101**********0012"


def test_money_is_printed_exactly_in_yuan_with_two_decimals() -> None:
    page = render_html(report())
    assert "1,234.56 元" in page and "1,400.01 元" in page and "1,330.00 元" in page
    assert "-0.01 元" in page and "63,840.00 元" in page
    assert "7.05 m²" in page  # area rule shown in m², not as money
    assert re.search(r'class="num">2</td>', page)  # vehicle count shown as a count


def test_page_is_standalone_and_printable() -> None:
    page = render_html(report())
    assert page.startswith("<!DOCTYPE html>")
    assert "@media print" in page
    assert not re.search(r"<(script|link|img|iframe)\b|src=|@import|url\(", page)
    assert "认定结论" in page and "Outcome" in page and "不符合条件" in page
    assert DIGEST.hex() in page and DIGEST.hex()[:12] in page
    assert "county.example/audit" in page
    assert "2024-07-15 10:30:00 (UTC+8)" in page
    assert "示例" in page and "must not ground a real decision" in page


def test_the_application_date_and_income_window_are_shown() -> None:
    r = report()
    assert "申请日期" not in render_html(r)  # reports before the field show neither
    r.application_date.CopyFrom(common_pb2.Date(year=2026, month=11, day=2))
    r.income_window.CopyFrom(common_pb2.Period(start=common_pb2.Date(year=2026, month=5, day=1),
                                               end=common_pb2.Date(year=2026, month=10, day=31)))
    page = render_html(r)
    assert "申请日期" in page and "Application date" in page and "2026-11-02" in page
    assert "收入计算期间" in page and "Income window" in page
    assert "2026-05..2026-10" in page and "2026-05-01 – 2026-10-31" in page
