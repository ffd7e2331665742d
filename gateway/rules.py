"""The rules of a standard, each comparing one profile figure with one limit.

Each rule family says, in Chinese and English a verifier can read out to the applicant,
what it found and why, citing the evidence; the verdicts and how they combine into an
outcome are explained in :mod:`.assessment`. What each rule reads is data in
:mod:`.rule_needs`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hedui.agents.departments import DEPARTMENTS
from hedui.gateway.figures import (
    Figure,
    Gap,
    Profile,
    div_round_half_up,
    format_area,
    format_yuan,
    paths_overlap,
)
from hedui.gateway.rule_needs import (
    INCOME_KIND_TITLES,
    INCOME_NEEDS,
    PROPERTY_NEEDS,
    VEHICLE_NEEDS,
    WAGE_FALLBACK_NEEDS,
    Need,
    leaves,
    limit_words,
)
from hedui.gateway.standards import Standard
from hedui.v1 import case_pb2

RR = case_pb2.RuleResult
PASS, FAIL, UNKNOWN, REVIEW = (
    RR.VERDICT_PASS,
    RR.VERDICT_FAIL,
    RR.VERDICT_UNKNOWN,
    RR.VERDICT_REVIEW,
)

#: rule id → (title zh, title en)
RULE_TITLES: dict[str, tuple[str, str]] = {
    "income": ("家庭人均收入", "Income per person"),
    "money-assets": ("家庭人均金融资产", "Money assets per person"),
    "household-assets": ("家庭金融资产总额", "Household money assets"),
    "vehicle": ("机动车辆", "Motor vehicles"),
    "vehicle-value": ("机动车辆价值", "Value of motor vehicles"),
    "non-residential-property": ("非居住类房产", "Non-residential property"),
    "residential-property-count": ("住房套数", "Number of homes"),
    "residential-area": ("人均住房建筑面积", "Floor area per person"),
    "business-capital": ("工商注册认缴资本", "Subscribed business capital"),
}
#: what figure_fen / limit_fen hold for each rule: "fen", "count" or "area" (0.01 m²)
RULE_UNITS: dict[str, str] = {
    "income": "fen",
    "money-assets": "fen",
    "household-assets": "fen",
    "vehicle": "count",
    "vehicle-value": "fen",
    "non-residential-property": "count",
    "residential-property-count": "count",
    "residential-area": "area",
    "business-capital": "fen",
}


# ------------------------------------------------------------------ the rules


def _within_margin(figure: int, limit: int, margin_percent: int) -> bool:
    return margin_percent > 0 and limit > 0 and abs(figure - limit) * 100 <= limit * margin_percent


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


class Rules:
    """Builds each rule the standard sets, in a fixed order."""

    def __init__(self, profile: Profile, standard: Standard,
                 requested: Mapping[str, Sequence[str]] | None = None) -> None:
        self.p = profile
        self.s = standard
        self.requested = requested

    def all(self) -> list[case_pb2.RuleResult]:
        s = self.s
        out = [self.income()]
        if s.money_assets_multiple is not None:
            out.append(self.money_assets())
        if s.household_assets_limit_fen is not None:
            out.append(self.household_assets())
        if s.vehicle_max_count is not None:
            out.append(self.vehicle())
        if s.vehicle_max_value_fen is not None:
            out.append(self.vehicle_value())
        if not s.allow_non_residential:
            out.append(self.non_residential())
        if s.residential_max_count is not None:
            out.append(self.residential_count())
        if s.residential_max_area_per_person_cm2 is not None:
            out.append(self.residential_area())
        if s.business_max_capital_fen is not None:
            out.append(self.business_capital())
        return out

    # --- shared machinery ------------------------------------------------------

    def gaps(self, needs: Sequence[Need]) -> list[Gap]:
        found: list[Gap] = []
        for department, alternatives in needs:
            whole = [g for g in self.p.gaps if g.department == department and not g.path]
            if whole:
                found += whole
                continue
            unasked = self._never_asked(department, alternatives)
            if unasked is not None:
                found.append(unasked)
                continue
            withheld = [g for g in self.p.gaps if g.department == department and g.path]
            hits = [[g for g in withheld if paths_overlap(g.path, alt)] for alt in alternatives]
            if all(hits):
                found += [g for group in hits for g in group]
        return list(dict.fromkeys(found))

    def _never_asked(self, department: str, alternatives: tuple[str, ...]) -> Gap | None:
        """A gap when the department answered but its query asked for none of the
        alternatives (the exchange policy leaves out a field a rule reads)."""
        if self.requested is None or department not in self.p.answer_digests:
            return None
        asked = self.requested.get(department, ())
        if any(paths_overlap(a, alt) for a in asked for alt in alternatives):
            return None
        title = DEPARTMENTS[department]
        return Gap(department, alternatives[0],
                   f"交换策略未向{title.title_zh}询问字段 {alternatives[0]}",
                   f"the exchange policy does not ask {title.title_en} for {alternatives[0]}")

    def result(
        self,
        rule_id: str,
        *,
        figure: int,
        limit: int,
        compare: tuple[int, int] | None = None,
        strict: bool = False,
        margin: bool = True,
        monotone: bool = True,
        statement: tuple[str, str],
        figures: Sequence[Figure],
        needs: Sequence[Need],
    ) -> case_pb2.RuleResult:
        """Judge ``compare`` (exact values; default figure vs limit) and explain it."""
        value, bound = compare if compare is not None else (figure, limit)
        over = value >= bound if strict else value > bound
        near = margin and _within_margin(value, bound, self.s.review_margin_percent)
        notes = [n for f in figures for n in f.review_notes]
        gaps = self.gaps(needs)
        if gaps and not (monotone and over and not near):
            verdict = UNKNOWN
        elif near:
            verdict = REVIEW
        elif over:
            verdict = FAIL
        elif notes:
            verdict = REVIEW
        else:
            verdict = PASS
        zh, en = statement
        gaps_zh = "；".join(_unique([g.reason_zh for g in gaps]))
        gaps_en = "; ".join(_unique([g.reason_en for g in gaps]))
        if verdict == UNKNOWN:
            zh += f"。无法核定：{gaps_zh}。"
            en += f". It cannot be decided: {gaps_en}."
        elif verdict == FAIL and gaps:
            zh += f"，即使尚缺资料（{gaps_zh}）也已超出限额，不符合。"
            en += f"; even with data still missing ({gaps_en}) it is over the limit, so it fails."
        elif verdict == FAIL:
            zh += "，不符合。"
            en += ", so it fails."
        elif verdict == REVIEW and near:
            m = self.s.review_margin_percent
            zh += f"，与限额相差不超过 {m}%，需人工复核。"
            en += f"; it is within {m}% of the limit, so a verifier must review it."
        elif verdict == REVIEW:
            zh += "，需人工复核：" + "；".join(_unique([n[0] for n in notes])) + "。"
            en += "; a verifier must review it: " + "; ".join(_unique([n[1] for n in notes])) + "."
        else:
            zh += "，符合。"
            en += ", so it passes."
        title_zh, title_en = RULE_TITLES[rule_id]
        evidence = [e for f in figures for e in f.evidence]
        # A department whose answer held nothing relevant decided the rule too (no car,
        # no deposits...): cite its answer, with the path the rule read.
        cited = {e.department for e in evidence} | {g.department for g in gaps}
        for department, alternatives in needs:
            digest = self.p.answer_digests.get(department)
            if digest is not None and department not in cited:
                cited.add(department)
                evidence.append(
                    case_pb2.Evidence(
                        department=department, answer_digest=digest, field_path=alternatives[0]
                    )
                )
        return case_pb2.RuleResult(
            rule_id=rule_id,
            title_zh=title_zh,
            title_en=title_en,
            verdict=verdict,
            figure_fen=figure,
            limit_fen=limit,
            explanation_zh=zh,
            explanation_en=en,
            evidence=evidence,
        )

    # --- the rule families --------------------------------------------------------

    def income(self) -> case_pb2.RuleResult:
        p, s = self.p, self.s
        limit = s.monthly_income_limit_fen
        months = p.window.months
        needs = [n for kind in p.counted_income for n in INCOME_NEEDS[kind]]
        if "wages" in p.counted_income and s.wage_fallback == "contribution-base":
            needs += WAGE_FALLBACK_NEEDS
        below_zh, below_en = limit_words(s.income_strictly_below)
        fig = format_yuan(p.monthly_income_per_person_fen)
        excluded = [k for k in p.income if k not in p.counted_income]
        if excluded:
            not_zh = "（" + "、".join(INCOME_KIND_TITLES[k][0] for k in excluded) + "不计入）"
            not_en = " (" + ", ".join(INCOME_KIND_TITLES[k][1] for k in excluded) + " not counted)"
        else:
            not_zh = not_en = ""
        return self.result(
            "income",
            figure=p.monthly_income_per_person_fen,
            limit=limit,
            compare=(p.income_total_fen, limit * months * p.persons),
            strict=s.income_strictly_below,
            statement=(
                f"近 {months} 个月（{p.window.label()}）家庭 {p.persons} 人月人均收入 {fig} 元"
                f"{not_zh}，标准为{below_zh} {format_yuan(limit)} 元",
                f"Over the last {months} months ({p.window.label()}) the household of "
                f"{p.persons} has a monthly income of {fig} yuan per person{not_en}; the "
                f"standard requires {below_en} {format_yuan(limit)} yuan",
            ),
            figures=[p.income[k] for k in p.counted_income],
            needs=needs,
        )

    def _money_needs(self) -> list[Need]:
        needs: list[Need] = [
            ("banks", ("deposits.*.balance_fen",)),
            ("banks", ("securities.*.market_value_fen",)),
        ]
        if self.s.count_provident_fund:
            needs.append(("provident-fund", ("account.balance_fen",)))
        return needs

    def money_assets(self) -> case_pb2.RuleResult:
        p, s = self.p, self.s
        per_person_limit = s.asset_limit_per_person_fen
        per_person = div_round_half_up(p.money_assets_fen, p.persons)
        words_zh, words_en = limit_words(s.assets_strictly_below)
        return self.result(
            "money-assets",
            figure=p.money_assets_fen,
            limit=per_person_limit * p.persons,
            strict=s.assets_strictly_below,
            statement=(
                f"家庭金融资产合计 {format_yuan(p.money_assets_fen)} 元，人均 "
                f"{format_yuan(per_person)} 元，标准为人均{words_zh} "
                f"{format_yuan(per_person_limit)} 元（年标准的 {s.money_assets_multiple} 倍）",
                f"The household's money assets total {format_yuan(p.money_assets_fen)} yuan, "
                f"{format_yuan(per_person)} yuan per person; the standard requires {words_en} "
                f"{format_yuan(per_person_limit)} yuan per person ({s.money_assets_multiple} "
                "times the annual standard)",
            ),
            figures=[p.assets[k] for k in p.counted_money_assets],
            needs=self._money_needs(),
        )

    def household_assets(self) -> case_pb2.RuleResult:
        p, s = self.p, self.s
        limit = s.household_assets_limit_fen or 0
        words_zh, words_en = limit_words(s.assets_strictly_below)
        return self.result(
            "household-assets",
            figure=p.money_assets_fen,
            limit=limit,
            strict=s.assets_strictly_below,
            statement=(
                f"家庭金融资产合计 {format_yuan(p.money_assets_fen)} 元，标准为家庭{words_zh} "
                f"{format_yuan(limit)} 元",
                f"The household's money assets total {format_yuan(p.money_assets_fen)} yuan; "
                f"the standard requires {words_en} {format_yuan(limit)} yuan for the household",
            ),
            figures=[p.assets[k] for k in p.counted_money_assets],
            needs=self._money_needs(),
        )

    def vehicle(self) -> case_pb2.RuleResult:
        p, s = self.p, self.s
        limit = s.vehicle_max_count or 0
        kinds = "、".join(s.vehicle_counted_kinds)
        allowed_zh = "不得拥有" if limit == 0 else f"不超过 {limit} 辆"
        allowed_en = "none" if limit == 0 else f"at most {limit}"
        return self.result(
            "vehicle",
            figure=p.vehicle_count,
            limit=limit,
            margin=False,
            statement=(
                f"家庭成员名下计入的机动车（{kinds}）{p.vehicle_count} 辆，标准为{allowed_zh}",
                f"The household's members hold {p.vehicle_count} counted vehicle(s) "
                f"({', '.join(s.vehicle_counted_kinds)}); the standard allows {allowed_en}",
            ),
            figures=[p.assets["vehicles"]],
            needs=VEHICLE_NEEDS,
        )

    def vehicle_value(self) -> case_pb2.RuleResult:
        p, s = self.p, self.s
        limit = s.vehicle_max_value_fen or 0
        value = p.assets["vehicles"].amount
        words_zh, words_en = limit_words(s.vehicle_value_strictly_below)
        return self.result(
            "vehicle-value",
            figure=value,
            limit=limit,
            strict=s.vehicle_value_strictly_below,
            statement=(
                f"计入车辆价值合计 {format_yuan(value)} 元，标准为{words_zh} "
                f"{format_yuan(limit)} 元",
                f"The counted vehicles are worth {format_yuan(value)} yuan in total; the "
                f"standard requires {words_en} {format_yuan(limit)} yuan",
            ),
            figures=[p.assets["vehicles"]],
            needs=(
                *VEHICLE_NEEDS,
                ("public-security", ("vehicles.*.assessed_value_fen",
                                     "vehicles.*.purchase_price_fen")),
            ),
        )

    def non_residential(self) -> case_pb2.RuleResult:
        p = self.p
        n = p.non_residential_count
        return self.result(
            "non-residential-property",
            figure=n,
            limit=0,
            margin=False,
            statement=(
                f"家庭成员名下非居住类房产（商铺、办公、厂房、车位）{n} 处，标准为不得拥有",
                f"The household's members hold {n} non-residential properties (shops, "
                "offices, workshops, parking spaces); the standard allows none",
            ),
            figures=[p.assets["non-residential-property"], p.assets["residential-property"]],
            needs=PROPERTY_NEEDS,
        )

    def residential_count(self) -> case_pb2.RuleResult:
        p, s = self.p, self.s
        limit = s.residential_max_count or 0
        return self.result(
            "residential-property-count",
            figure=p.residential_count,
            limit=limit,
            margin=False,
            statement=(
                f"家庭成员名下住房 {p.residential_count} 套，标准为不超过 {limit} 套",
                f"The household's members hold {p.residential_count} home(s); the standard "
                f"allows at most {limit}",
            ),
            figures=[p.assets["residential-property"]],
            # the same certificate held by two members is one home, so without the
            # certificate ids the count can be too high: no failure is certain then
            monotone=False,
            needs=(*PROPERTY_NEEDS, *leaves("housing", "properties", "certificate_id")),
        )

    def residential_area(self) -> case_pb2.RuleResult:
        p, s = self.p, self.s
        limit = s.residential_max_area_per_person_cm2 or 0
        per_person = div_round_half_up(p.residential_area_cm2, p.persons)
        words_zh, words_en = limit_words(s.area_strictly_below)
        return self.result(
            "residential-area",
            figure=per_person,
            limit=limit,
            compare=(p.residential_area_cm2, limit * p.persons),
            strict=s.area_strictly_below,
            statement=(
                f"家庭人均拥有住房建筑面积 {format_area(per_person)} 平方米，标准为{words_zh} "
                f"{format_area(limit)} 平方米",
                f"The household owns {format_area(per_person)} m² of residential floor area per "
                f"person; the standard requires {words_en} {format_area(limit)} m²",
            ),
            figures=[p.assets["residential-property"]],
            needs=(*PROPERTY_NEEDS, *leaves("housing", "properties", "floor_area_m2",
                                              "share_percent")),
        )

    def business_capital(self) -> case_pb2.RuleResult:
        p, s = self.p, self.s
        limit = s.business_max_capital_fen or 0
        capital = p.assets["business-capital"].amount
        words_zh, words_en = limit_words(s.capital_strictly_below)
        return self.result(
            "business-capital",
            figure=capital,
            limit=limit,
            strict=s.capital_strictly_below,
            statement=(
                f"家庭成员在存续企业中的认缴资本合计 {format_yuan(capital)} 元，标准为{words_zh} "
                f"{format_yuan(limit)} 元",
                f"The household's members have subscribed {format_yuan(capital)} yuan of "
                f"capital in businesses still registered; the standard requires {words_en} "
                f"{format_yuan(limit)} yuan",
            ),
            figures=[p.assets["business-capital"]],
            needs=leaves("market-regulation", "businesses", "subscribed_capital_fen", "status"),
        )
