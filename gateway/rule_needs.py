"""What each rule reads, and how published rules say their limits.

Kept beside the assessment (:mod:`.assessment`) as data: a rule is undecidable only when
a leaf its figure is computed from is missing, so these tables name leaves, never whole
record parts (``tests/gateway/test_gateway_rule_needs.py`` checks them by behaviour).
"""

from __future__ import annotations

# What each rule reads: (department, alternative field paths). A need is unmet when the
# department is a gap, or when every alternative path was withheld. Needs name the leaf
# fields a figure is computed from — never a whole record part — so a descriptive field
# a department does not hold (a pension's scheme, a bank's name) leaves the rule
# decidable: a rule is undecidable only when a figure it reads is missing.
Need = tuple[str, tuple[str, ...]]


def leaves(department: str, part: str, *fields: str) -> tuple[Need, ...]:
    return tuple((department, (f"{part}.*.{f}",)) for f in fields)


INCOME_NEEDS: dict[str, tuple[Need, ...]] = {
    "wages": leaves("human-resources", "wages", "amount_fen", "month"),
    "net-business": leaves("tax", "filings", "taxable_income_fen", "taxpayer_kind", "period"),
    "net-property": leaves("banks", "income", "amount_fen", "period"),
    "pensions": leaves("human-resources", "pensions", "monthly_amount_fen", "since"),
    "unemployment-benefits": leaves(
        "human-resources", "unemployment_benefits", "monthly_amount_fen", "period"
    ),
    "housing-subsidies": leaves("housing", "benefits", "monthly_amount_fen", "period"),
    "assistance": leaves("civil-affairs", "assistance_payments", "monthly_amount_fen", "period"),
}
WAGE_FALLBACK_NEEDS = leaves(
    "human-resources", "insurance", "monthly_contribution_base_fen", "active", "since"
)
#: income kinds in words, for the rule's statement
INCOME_KIND_TITLES: dict[str, tuple[str, str]] = {
    "wages": ("工资性收入", "wages"),
    "net-business": ("经营净收入", "net business income"),
    "net-property": ("财产净收入", "net property income"),
    "pensions": ("养老金", "pensions"),
    "unemployment-benefits": ("失业保险金", "unemployment benefits"),
    "housing-subsidies": ("住房保障补贴", "housing-security subsidies"),
    "assistance": ("社会救助金", "social-assistance payments"),
}
VEHICLE_NEEDS = leaves("public-security", "vehicles", "kind", "status")
PROPERTY_NEEDS = leaves("housing", "properties", "nature")


def limit_words(strict: bool) -> tuple[str, str]:
    """How a published rule says its comparison: 低于 (<) or 不超过 (<=)."""
    return ("低于", "less than") if strict else ("不超过", "at most")
