"""Change alerts' grades: red (now ineligible), orange (approaching a limit, a new vehicle,
property or business), yellow (data missing), the highest winning, and the words."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedui.gateway.alerts import Alert, Counts, Snapshot, grade
from hedui.gateway.assessment import decide_outcome
from hedui.v1 import case_pb2

RR = case_pb2.RuleResult
LIMITS = {"income": 100_000, "money-assets": 3_000_000, "vehicle": 0,
          "non-residential-property": 0}


def rule(rule_id: str, figure: int, limit: int, verdict: int | None = None) -> RR:
    if verdict is None:
        verdict = RR.VERDICT_FAIL if figure > limit else RR.VERDICT_PASS
    return RR(rule_id=rule_id, verdict=verdict, figure_fen=figure, limit_fen=limit,
              evidence=[case_pb2.Evidence(department="banks", field_path="deposits.0.balance_fen",
                                          answer_digest=b"\xab" * 32, subject_pseudonym="p1")])


def snap(figures: Mapping[str, int] | None = None, *, unknown: tuple[str, ...] = (),
         counts: Counts | None = None, missing: tuple[str, ...] = ()) -> Snapshot:
    values = {"income": 50_000, "money-assets": 1_000_000, "vehicle": 0,
              "non-residential-property": 0, **(figures or {})}
    rules = tuple(rule(k, v, LIMITS[k], RR.VERDICT_UNKNOWN if k in unknown else None)
                  for k, v in values.items())
    return Snapshot(decide_outcome(r.verdict for r in rules), rules, counts or Counts(),
                    missing)


def test_nothing_changed_no_alert() -> None:
    assert grade(snap(), snap()) is None
    assert grade(None, snap()) is None  # first re-verification, well within limits


def test_red_when_now_ineligible_names_the_failing_rule() -> None:
    alert = grade(snap(), snap({"income": 120_000}))
    assert alert is not None and alert.grade == "red"
    red = [c for c in alert.changes if c.grade == "red"]
    assert [(c.rule_id, c.previous, c.current, c.limit) for c in red] == [
        ("income", 50_000, 120_000, 100_000)]
    assert red[0].evidence == (("banks", "deposits.0.balance_fen", "ab" * 32),)
    assert "1,200.00 元" in red[0].text_zh and "1,000.00 元" in red[0].text_zh
    assert "1,200.00 yuan" in red[0].text_en and "over the limit" in red[0].text_en
    # the failing rule is not listed again as approaching
    assert [c.rule_id for c in alert.changes].count("income") == 1


def test_red_only_once_ineligible_stays_quiet() -> None:
    assert grade(snap({"income": 120_000}), snap({"income": 130_000})) is None


def test_orange_when_a_money_figure_comes_near_its_limit() -> None:
    alert = grade(snap(), snap({"money-assets": 2_700_000}))
    assert alert is not None and alert.grade == "orange"
    (c,) = alert.changes
    assert (c.kind, c.rule_id, c.previous, c.current, c.limit) == (
        "approaching", "money-assets", 1_000_000, 2_700_000, 3_000_000)
    assert "90%" in c.text_zh and "27,000.00 元" in c.text_zh
    # just under the share: nothing; already near before: nothing new
    assert grade(snap(), snap({"money-assets": 2_699_999})) is None
    assert grade(snap({"money-assets": 2_800_000}), snap({"money-assets": 2_900_000})) is None
    assert grade(snap(), snap({"money-assets": 2_400_000}), approach_share=0.8) is not None


@pytest.mark.parametrize("name", ["vehicles", "non_residential_properties", "businesses"])
def test_orange_for_a_new_vehicle_property_or_business(name: str) -> None:
    alert = grade(snap(), snap(counts=Counts(**{name: 1})))
    assert alert is not None and alert.grade == "orange"
    (c,) = alert.changes
    assert (c.kind, c.previous, c.current) == ("new-record", 0, 1)
    assert "0" in c.text_en and "1" in c.text_en
    # one fewer is no alert
    assert grade(snap(counts=Counts(**{name: 2})), snap(counts=Counts(**{name: 1}))) is None


def test_yellow_when_data_is_missing() -> None:
    alert = grade(snap(), snap(unknown=("income",), missing=("tax",)))
    assert alert is not None and alert.grade == "yellow"
    assert [(c.kind, c.rule_id, c.department) for c in alert.changes] == [
        ("unknown", "income", ""), ("missing-department", "", "tax")]
    assert "tax" in alert.changes[1].text_zh


def test_highest_grade_wins_and_every_change_is_listed() -> None:
    alert = grade(snap(), snap({"income": 120_000, "money-assets": 2_900_000},
                               counts=Counts(vehicles=1), missing=("tax",)))
    assert alert is not None and alert.grade == "red"
    assert [c.grade for c in alert.changes] == ["red", "orange", "orange", "yellow"]
    assert Alert.from_json(alert.to_json()) == alert


def test_snapshot_of_a_report_and_of_an_assessment_agree() -> None:
    current = snap({"income": 95_000}, counts=Counts(vehicles=1, businesses=2),
                   missing=("tax",))
    report = case_pb2.DeterminationReport(
        outcome=current.outcome, rules=list(current.rules),
        profile=case_pb2.HouseholdProfile(vehicles=1, assets=[case_pb2.ProfileItem(
            kind="business-capital", evidence=[case_pb2.Evidence(), case_pb2.Evidence()])]),
        missing=[case_pb2.DepartmentStatus(department="tax")])
    assert Snapshot.of_report(report) == current


def test_snapshot_of_an_assessment() -> None:
    from hedui.gateway.assessment import Assessment
    from hedui.gateway.figures import Figure, income_window
    from hedui.gateway.profile import make_profile
    from hedui.gateway.standards import INCOME_KINDS

    class _Std:
        income_counted = ("wages",)
        count_provident_fund = False

    assets = {k: Figure(k) for k in ("deposits", "securities", "provident-fund",
                                      "business-capital")}
    assets["business-capital"].add(100, case_pb2.Evidence(department="market-regulation"))
    import datetime as dt

    profile = make_profile(_Std(), persons=2,  # type: ignore[arg-type]
                           window=income_window(dt.date(2027, 1, 5), 6),
                           income={k: Figure(k) for k in INCOME_KINDS}, assets=assets,
                           vehicle_count=2, non_residential_count=1)
    a = Assessment("S", dt.date(2027, 1, 5), profile, snap().rules, case_pb2.OUTCOME_ELIGIBLE,
                   (), (), (("tax", "timeout"),))
    s = Snapshot.of_assessment(a)
    assert s.counts == Counts(vehicles=2, non_residential_properties=1, businesses=1)
    assert s.missing_departments == ("tax",)


_RANK = {None: 3, "yellow": 2, "orange": 1, "red": 0}


@settings(max_examples=300, deadline=None)
@given(rule_id=st.sampled_from(["income", "money-assets"]),
       before=st.integers(0, 5_000_000), now=st.integers(0, 5_000_000),
       further=st.integers(0, 5_000_000), share=st.sampled_from([0.5, 0.8, 0.9, 1.0]))
def test_grade_never_lower_when_a_figure_moves_further_past_the_limit(
        rule_id: str, before: int, now: int, further: int, share: float) -> None:
    previous = snap({rule_id: before})
    a = grade(previous, snap({rule_id: now}), approach_share=share)
    b = grade(previous, snap({rule_id: now + further}), approach_share=share)
    assert _RANK[b.grade if b else None] <= _RANK[a.grade if a else None]


@settings(max_examples=200, deadline=None)
@given(income=st.integers(0, 300_000), assets=st.integers(0, 6_000_000),
       vehicles=st.integers(0, 3), share=st.sampled_from([0.5, 0.9, 1.0]))
def test_no_alert_when_nothing_changed(income: int, assets: int, vehicles: int,
                                       share: float) -> None:
    s = snap({"income": income, "money-assets": assets}, counts=Counts(vehicles=vehicles))
    assert grade(s, s, approach_share=share) is None


def test_approach_share_must_be_a_share() -> None:
    with pytest.raises(ValueError):
        grade(None, snap(), approach_share=0)
    with pytest.raises(ValueError):
        grade(None, snap(), approach_share=1.5)
