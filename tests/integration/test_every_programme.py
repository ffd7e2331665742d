"""Every programme the pilot plan names is data: a policy, a standard, a decided household.

Issue 17, item 4. The plan (开展家庭经济状况核对试点方案) sends 廉租住房、经济适用住房、城乡低保、
医疗救助、临时救助、教育救助 and the special assistance the county designates through the
center; each is a purpose with an exchange policy in the trust bundle
(``deploy/policy/programmes.toml``) and a labelled example standard in
``deploy/standards/``. Which purposes count as social assistance is read from the
policies, so a programme the county designates is added as files, no code.

The fast tests read the shipped files; the slow one stands up a gateway and the eight
agents once and decides a synthetic household for every programme.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tomllib
from collections.abc import Iterator

import pytest
from case_site import TODAY, Site

from hedui.gateway import access, planner, rules, sandbox, verifying
from hedui.gateway.case_errors import CaseError, NotAllowed
from hedui.gateway.figures import paths_overlap
from hedui.gateway.standards import Standard, StandardsLibrary
from hedui.gateway.standards_check import Sample, decide_sample
from hedui.keys.bundle import Bundle
from hedui.v1 import case_pb2, envelope_pb2, trust_pb2

#: the plan's programmes (its list, in the ids hedui gives them): test data, not a gate
PILOT_PLAN = ("dibao", "low-income", "tekun", "low-rent-housing", "affordable-housing",
              "medical-assistance", "temporary-assistance", "education-assistance")
#: the region of the sandbox's households (Shanghai: the example standards' region)
REGION = "310000"
#: dibao's policy predates the rule tables and asks more (household registration, marriage,
#: provident fund…; the agent tests query it for them): it must cover its rules, no more
WIDER = {"dibao"}


def policies() -> dict[str, dict]:
    return tomllib.loads(sandbox.POLICY_FILE.read_text(encoding="utf-8"))["policies"]


def library() -> StandardsLibrary:
    return StandardsLibrary(sandbox.STANDARDS_DIR)


def in_force(programme: str) -> Standard:
    return library().select(REGION, programme, TODAY)


def rule_needs(standard: Standard) -> dict[str, set[tuple[str, ...]]]:
    """What the standard's rules read: department → its needs (alternative leaf paths),
    caught from the rules themselves as they judge a sample household."""
    seen: dict[str, set[tuple[str, ...]]] = {}
    judge = rules.Rules.result

    def catching(self: rules.Rules, rule_id: str, **kw) -> case_pb2.RuleResult:
        for department, alternatives in kw["needs"]:
            seen.setdefault(department, set()).add(tuple(alternatives))
        return judge(self, rule_id, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rules.Rules, "result", catching)
        decide_sample(standard, Sample("nothing", 3, {}, {}))
    return seen


# ------------------------------------------------------------------ the files


def test_the_plan_names_no_programme_without_a_policy_and_a_standard() -> None:
    asked = policies()
    assert set(PILOT_PLAN) <= set(asked), sorted(set(PILOT_PLAN) - set(asked))
    for programme in asked:
        standard = in_force(programme)  # NoStandard names the programme
        assert standard.example, f"{standard.path}: a shipped standard is labelled example"
        assert "示例" in standard.source or "EXAMPLE" in standard.source, standard.path
        assert "示例" in standard.title or "example" in standard.title, standard.path
    orphans = {s.programme for s in library()} - set(asked)
    assert not orphans, f"standards for programmes without a policy: {sorted(orphans)}"


def test_a_new_standard_cites_its_source_document_issuer_and_year() -> None:
    """示例，依据《title》（issuer，year）: a document number is never made up."""
    for s in library():
        if s.source.startswith("示例"):
            assert "依据《" in s.source and "》（" in s.source, s.path
            issuer_year = s.source.split("》（", 1)[1].split("）", 1)[0]
            assert "，" in issuer_year and issuer_year[-4:].isdigit(), (s.path, issuer_year)
            assert "号" not in issuer_year, s.path


@pytest.mark.parametrize("programme", sorted(policies()))
def test_a_policy_asks_exactly_what_its_standards_read(programme: str) -> None:
    """Every need of every standard of the programme is asked for (else every case of it
    is incomplete), and — data minimisation — nothing else is."""
    asked = {d: set(paths) for d, paths in policies()[programme]["departments"].items()}
    needs: dict[str, set[tuple[str, ...]]] = {}
    for s in library():
        if s.programme == programme:
            for department, wanted in rule_needs(s).items():
                needs.setdefault(department, set()).update(wanted)
    for department, wanted in needs.items():
        for alternatives in wanted:
            assert any(paths_overlap(a, alt) for a in asked.get(department, ())
                       for alt in alternatives), \
                f"{programme}: {department} is not asked for {alternatives[0]}"
    if programme in WIDER:
        return
    read = {d: {p for alts in w for p in alts} for d, w in needs.items()}
    extra = {d: sorted(paths - read.get(d, set())) for d, paths in asked.items()}
    assert not {d: p for d, p in extra.items() if p}, f"{programme} asks what no rule reads"


def test_a_purpose_is_a_programme_when_the_bundle_has_its_policy() -> None:
    """Adding a programme is adding its policy: the gateway asks the bundle's policies."""
    bundle = Bundle(trust_pb2.TrustBundle(trust_domain="county.example", serial=1, policies=[
        trust_pb2.PurposePolicy(purpose=p, retention_days=30, departments=[
            trust_pb2.DepartmentPolicy(department="banks",
                                       field_paths=["deposits.*.balance_fen"])])
        for p in ("dibao", "disability-assistance")]))
    known = planner.programmes(bundle)
    assert known == {"dibao", "disability-assistance"}
    access.require_programme("disability-assistance", known)
    with pytest.raises(CaseError) as typo:
        access.require_programme("disability-asistance", known)
    assert typo.value.reason == "UNKNOWN_PROGRAMME"
    assert "known: dibao, disability-assistance" in str(typo.value)
    with pytest.raises(NotAllowed) as outside:
        access.require_programme("tekun", known)  # not in this bundle: not served
    assert outside.value.reason == "NOT_A_SOCIAL_ASSISTANCE_PURPOSE"
    # a caller without a bundle (the staff registry) checks the shipped policy's
    assert access.shipped_programmes() == set(policies())
    access.require_programme("education-assistance")


# ------------------------------------------------------------------ decided for real

#: a programme the county designates (就业救助), added to the site as files only
COUNTY = "employment-assistance"
COUNTY_POLICY = f"""
[policies.{COUNTY}]
description = "Employment assistance (就业救助), designated by the county: income, money assets"
consent_required = true
retention_days = 365

[policies.{COUNTY}.departments]
human-resources = ["wages.*.amount_fen", "wages.*.month",
                   "insurance.*.monthly_contribution_base_fen", "insurance.*.active",
                   "insurance.*.since", "pensions.*.monthly_amount_fen", "pensions.*.since",
                   "unemployment_benefits.*.monthly_amount_fen", "unemployment_benefits.*.period"]
tax = ["filings.*.taxable_income_fen", "filings.*.taxpayer_kind", "filings.*.period"]
banks = ["deposits.*.balance_fen", "securities.*.market_value_fen",
         "income.*.amount_fen", "income.*.period"]
"""
COUNTY_STANDARD = f"""# EXAMPLE (test data): a programme the county designates, added without code.
id = "county-{COUNTY}-example"
region = "{REGION}"
programme = "{COUNTY}"
title = "示范县就业救助家庭经济状况标准（示例） / County employment assistance (example)"
effective_from = 2021-07-01
source = "示例，依据《社会救助暂行办法》（国务院，2014）就业救助一章；倍数为示例"
example = true
monthly_standard_fen = 133000
income_window_months = 12

[income]
limit_percent_of_standard = 150
strictly_below = false

[assets]
money_assets_multiple = 6

[property]
allow_non_residential = true
"""


def designate(site: Site) -> None:
    """The county's administrator adds a programme: its policy appended to the trust
    TOML (signed anew) and its standard beside the shipped ones — files, no code."""
    sb = site.sb
    standards = sb.root / "standards"
    shutil.copytree(sandbox.STANDARDS_DIR, standards)
    (standards / f"county-{COUNTY}-example.toml").write_text(COUNTY_STANDARD, encoding="utf-8")
    with sb.trust_toml.open("a", encoding="utf-8") as trust:
        trust.write(COUNTY_POLICY)
    sandbox.write_bundle(sb)
    text = sb.gateway_config.read_text(encoding="utf-8")
    text = text.replace(f'directory = "{sandbox.STANDARDS_DIR}"', f'directory = "{standards}"')
    text = text.replace("[staff]\n", f'[staff]\n{COUNTY} = ["{sandbox.VERIFIER}", "op-1002"]\n')
    sb.gateway_config.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    s = Site(tmp_path_factory.mktemp("programmes"), persons=200, seed=17)
    designate(s)
    try:
        s.start(agents=True)
        yield s
    finally:
        s.stop()


@pytest.mark.slow
@pytest.mark.parametrize("programme", PILOT_PLAN)
def test_a_household_is_decided_for_every_programme(site: Site, programme: str) -> None:
    """Opened, verified against the eight real agents and decided: an outcome under the
    programme's standard, every department its policy names answering, no rule left
    undecided for want of a field."""
    hh = site.household(programme, label="eligible")
    with site.client() as client:
        case = verifying.decide(client, hh)
        assert case.state == case_pb2.CASE_STATE_DECIDED, verifying.summary(case)
        envelope: envelope_pb2.Envelope = client.call(
            client.cases.GetReport,
            case_pb2.GetReportRequest(case_id=case.case_id, operator=client.config.operator))
    report = case_pb2.DeterminationReport.FromString(envelope.payload)
    standard = in_force(programme)
    assert report.programme == programme
    assert (report.standard.standard_id, report.standard.programme) == (
        standard.standard_id, programme)
    assert report.standard.source == standard.source and report.standard.title
    assert report.outcome in (case_pb2.OUTCOME_ELIGIBLE, case_pb2.OUTCOME_INELIGIBLE,
                              case_pb2.OUTCOME_NEEDS_MANUAL_REVIEW), report.reasons_en
    assert {a.department for a in report.answers} == set(policies()[programme]["departments"])
    undecided = [r.explanation_en for r in report.rules
                 if r.verdict == case_pb2.RuleResult.VERDICT_UNKNOWN]
    assert undecided == []
    assert report.application_date.year >= (TODAY - dt.timedelta(days=1)).year
    # the page handed over names the programme and the region officially, no code
    from hedui.gateway.report_html import render_html
    from hedui.gateway.report_words import programme_name, region_name

    page = render_html(report)
    body = page[:page.index('class="verification"')] if 'class="verification"' in page \
        else page
    assert programme_name(programme)[0] != programme and programme_name(programme)[0] in body
    assert region_name(report.region)[0] != report.region and region_name(report.region)[0] \
        in body
    assert not re.search(r"\b[a-z_]+\.(\d+|\*)\.[a-z_]+\b", body), "a field path on the page"


@pytest.mark.slow
def test_a_programme_the_county_designates_is_decided_from_its_files(site: Site) -> None:
    """Neither in the shipped policy nor in any code: the bundle's policy makes it one."""
    assert COUNTY not in access.shipped_programmes()
    hh = site.household(COUNTY, label="eligible")
    with site.client() as client:
        case = verifying.decide(client, hh)
    assert case.state == case_pb2.CASE_STATE_DECIDED, verifying.summary(case)
    assert case.outcome != case_pb2.OUTCOME_INCOMPLETE
