"""The assessment: a household profile checked against a standard's rules, and the outcome.

Each rule compares one profile figure with one limit and says, in Chinese and English a
verifier can read out to the applicant, what it found and why, citing the evidence.

Verdicts, for every rule:

* FAIL when the figure is over the limit (for a limit with ``strictly_below``, 低于:
  at or over it), PASS otherwise;
* REVIEW instead of PASS or FAIL when a money or area figure lies within the standard's
  ``review.margin_percent`` of its limit on either side (department data is a snapshot:
  a balance on one day, a market value), or instead of PASS when a record needs a
  person's judgement (a vehicle or property without a recorded kind);
* UNKNOWN when a department the rule needs did not answer, was not asked, did not cover
  a member, or withheld a field the rule's figure is computed from (a withheld
  descriptive field, a pension's scheme, decides nothing) — *unless* the figure known so far is
  already a FAIL outside the margin. Every figure is monotone (missing data can only add
  income, assets, vehicles, properties or capital; business losses count as zero, see
  :mod:`hedui.gateway.profile`), so such a FAIL is certain and stays a FAIL. The home
  count is the exception: without certificate ids one home held by two members looks
  like two, so while its data is missing its FAIL is never taken as certain. A field
  the query never asked for (``requested``) is missing data like a withheld one.

Outcome: any FAIL → INELIGIBLE (certain even when other rules are UNKNOWN); else any
UNKNOWN → INCOMPLETE; else any REVIEW → NEEDS_MANUAL_REVIEW; else ELIGIBLE.

Comparisons are exact integer comparisons of household totals (income over the window
against limit x months x persons; assets against the per-person limit x persons), never
of rounded per-person figures, so rounding cannot move a household across a limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from hedui.gateway.profile import AnswerLike, Profile, Pseudonym, build_profile
from hedui.gateway.rule_needs import INCOME_KIND_TITLES
from hedui.gateway.rules import FAIL, REVIEW, RULE_TITLES, RULE_UNITS, UNKNOWN, Rules
from hedui.gateway.standards import Standard
from hedui.v1 import case_pb2

__all__ = [
    "INCOME_KIND_TITLES",
    "RULE_TITLES",
    "RULE_UNITS",
    "Assessment",
    "assess",
    "assess_profile",
    "decide_outcome",
]

@dataclass(frozen=True)
class Assessment:
    """The profile, every rule's result, the outcome and its reasons."""

    standard_id: str
    as_of: date
    profile: Profile
    rules: tuple[case_pb2.RuleResult, ...]
    outcome: int
    reasons_zh: tuple[str, ...]
    reasons_en: tuple[str, ...]
    #: departments that did not answer: (department, reason), as given to :func:`assess`
    missing: tuple[tuple[str, str], ...]


def assess(
    members: Sequence[case_pb2.Member],
    answers: Mapping[str, AnswerLike],
    standard: Standard,
    *,
    as_of: date,
    missing: Sequence[tuple[str, str]] = (),
    pseudonym: Pseudonym,
    requested: Mapping[str, Sequence[str]] | None = None,
) -> Assessment:
    """Assess a household against ``standard`` on ``as_of``.

    ``requested`` maps each department to the field paths its query asked for (the
    exchange policy's); a field a rule reads that was never asked for is a gap like a
    withheld one — an answer's silence on a field nobody asked about proves nothing.
    None: every needed field is taken as asked (answers built by hand, in tests).

    Preconditions (ValueError): ``standard`` is in force on ``as_of``, plus those of
    :func:`~hedui.gateway.profile.build_profile`.
    """
    if not standard.in_force(as_of):
        raise ValueError(f"standard {standard.standard_id} is not in force on {as_of.isoformat()}")
    profile = build_profile(
        members, answers, standard, as_of=as_of, missing=missing, pseudonym=pseudonym
    )
    return assess_profile(profile, standard, as_of=as_of, missing=missing, requested=requested)


def assess_profile(
    profile: Profile,
    standard: Standard,
    *,
    as_of: date,
    missing: Sequence[tuple[str, str]] = (),
    requested: Mapping[str, Sequence[str]] | None = None,
) -> Assessment:
    """Check a household profile against every rule of ``standard`` (also what
    ``hedui standards check`` runs on sample profiles, with no answers behind them)."""
    rules = tuple(Rules(profile, standard, requested).all())
    outcome = decide_outcome(r.verdict for r in rules)
    reasons_zh, reasons_en = _reasons(outcome, rules, standard)
    return Assessment(
        standard_id=standard.standard_id,
        as_of=as_of,
        profile=profile,
        rules=rules,
        outcome=outcome,
        reasons_zh=reasons_zh,
        reasons_en=reasons_en,
        missing=tuple(missing),
    )


def decide_outcome(verdicts: object) -> int:
    """FAIL → INELIGIBLE, else UNKNOWN → INCOMPLETE, else REVIEW → NEEDS_MANUAL_REVIEW."""
    seen = set(verdicts)  # type: ignore[call-overload]
    if FAIL in seen:
        return case_pb2.OUTCOME_INELIGIBLE
    if UNKNOWN in seen:
        return case_pb2.OUTCOME_INCOMPLETE
    if REVIEW in seen:
        return case_pb2.OUTCOME_NEEDS_MANUAL_REVIEW
    return case_pb2.OUTCOME_ELIGIBLE


def _reasons(
    outcome: int, rules: Sequence[case_pb2.RuleResult], standard: Standard
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    wanted = {
        case_pb2.OUTCOME_INELIGIBLE: FAIL,
        case_pb2.OUTCOME_INCOMPLETE: UNKNOWN,
        case_pb2.OUTCOME_NEEDS_MANUAL_REVIEW: REVIEW,
    }.get(outcome)
    if wanted is None:
        return (
            (f"家庭经济状况符合标准 {standard.standard_id} 的全部条件。",),
            (f"The household meets every condition of standard {standard.standard_id}.",),
        )
    picked = [r for r in rules if r.verdict == wanted]
    zh = [r.explanation_zh for r in picked]
    en = [r.explanation_en for r in picked]
    if outcome == case_pb2.OUTCOME_INCOMPLETE:
        zh.append("请补齐缺失的部门答复后重新核定。")
        en.append("Obtain the missing answers and assess the household again.")
    return tuple(zh), tuple(en)
