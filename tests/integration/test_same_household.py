"""The same household twice, over a real gateway and its agents.

Before this, verifying a household for a programme while its case was still open (or
just decided) silently opened a second case and asked all eight departments again. Now
the opening is refused (FAILED_PRECONDITION, SAME_HOUSEHOLD_RECENT) naming the case
that stops it, unless the verifier gives a reason — which the CASE_OPENED entry keeps.
A batch re-run (same request id) is not a second opening, a case decided longer ago
than ``[cases] repeat_within_days`` does not count, and one authorization may name
several programmes ("check the same household for low-income too").
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from case_site import Site, opening, reason

from hedui.gateway import household as household_mod
from hedui.gateway import sandbox
from hedui.v1 import audit_pb2, case_pb2, records_pb2


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    s = Site(tmp_path_factory.mktemp("same-household"))
    config = s.sb.gateway_config  # a real deployment's window (the sandbox turns it off)
    text = config.read_text(encoding="utf-8")
    assert "repeat_within_days = 0" in text
    config.write_text(text.replace("repeat_within_days = 0", "repeat_within_days = 90"),
                      encoding="utf-8")
    try:
        s.start(agents=True)
        yield s
    finally:
        s.stop()


def fresh(site: Site, programme: str = "dibao") -> tuple[household_mod.Household, Path]:
    """A household whose applicant has no case yet (the sample pool repeats people), and
    its file."""
    while True:
        hh = site.household(programme)
        applicant = next(m for m in hh.members if m.relation == records_pb2.RELATION_SELF)
        key = site.pseudonym(applicant.id_number)
        with _db(site) as conn:
            if conn.execute("SELECT 1 FROM cases WHERE applicant_key = ?", (key,)).fetchone():
                continue
        return hh, site.sb.root / f"hh-{site._n}.toml"


def _db(site: Site) -> sqlite3.Connection:
    return sqlite3.connect(site.sb.gateway_config.parent / "state" / "cases.sqlite")


def open_again(site: Site, hh: household_mod.Household, **changes: str) -> case_pb2.Case:
    with site.client() as c:
        return c.call(c.cases.OpenCase, opening(hh, **changes))


def refusal_of(site: Site, hh: household_mod.Household, **changes: str):
    with site.client() as c, pytest.raises(grpc.RpcError) as info:
        c.cases.OpenCase(opening(hh, **changes), timeout=30)
    return info.value


def test_a_second_opening_is_refused_naming_the_open_case(site: Site) -> None:
    hh, _ = fresh(site)
    first = site.open(hh)
    error = refusal_of(site, hh)
    why = reason(error)
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert why.reason == "SAME_HOUSEHOLD_RECENT"
    assert why.metadata["case_id"] == first.case_id and why.metadata["state"] == "open"
    assert first.case_id in why.message and "with a reason" in why.message
    with _db(site) as conn:  # no second case, no query
        (n,) = conn.execute("SELECT count(*) FROM cases WHERE authorization_number = ?",
                            (hh.authorization.number,)).fetchone()
    assert n == 1


def test_with_a_reason_it_opens_and_the_reason_is_audited(site: Site) -> None:
    hh, _ = fresh(site)
    first = site.open(hh)
    bad = refusal_of(site, hh, repeat_reason="re-check 110101198001010053 again")
    assert reason(bad).reason == "REASON_HAS_PERSONAL_DATA"
    second = open_again(site, hh, repeat_reason="household reported a new job  on the phone")
    assert second.case_id != first.case_id
    opened = [e for e in site.entries() if e.kind == audit_pb2.AUDIT_KIND_CASE_OPENED
              and e.case_id == second.case_id]
    assert [e.reason for e in opened] == [
        "verified again: household reported a new job on the phone"]


def test_a_repeated_request_id_returns_its_case_not_a_refusal(site: Site) -> None:
    hh, _ = fresh(site)
    with site.client() as c:
        c.call(c.cases.RegisterAuthorization, case_pb2.RegisterAuthorizationRequest(
            authorization=hh.authorization, operator=sandbox.VERIFIER))
    first = open_again(site, hh, request_id="batch-abc-row-7")
    again = open_again(site, hh, request_id="batch-abc-row-7")
    assert again.case_id == first.case_id


def _age(site: Site, case_id: str, state: str, days: int) -> None:
    """Make the case ``state``, last changed ``days`` ago (as the store keeps times)."""
    when = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    with _db(site) as conn:
        conn.execute("UPDATE cases SET state = ?, updated_at = ? WHERE case_id = ?",
                     (state, when.strftime("%Y-%m-%d %H:%M:%S.%f"), case_id))


def test_only_a_case_under_way_or_decided_within_the_window_counts(site: Site) -> None:
    hh, _ = fresh(site)
    first = site.open(hh)
    _age(site, first.case_id, "CASE_STATE_DECIDED", 10)
    why = reason(refusal_of(site, hh))
    assert why.reason == "SAME_HOUSEHOLD_RECENT" and why.metadata["state"] == "decided"
    assert why.metadata["date"] == (dt.datetime.now(dt.UTC)
                                    - dt.timedelta(days=10)).date().isoformat()
    _age(site, first.case_id, "CASE_STATE_DECIDED", 91)  # [cases] repeat_within_days = 90
    second = open_again(site, hh)
    _age(site, second.case_id, "CASE_STATE_CANCELLED", 1)  # a cancelled case never counts
    assert open_again(site, hh).case_id not in (first.case_id, second.case_id)


def test_one_authorization_for_dibao_and_low_income_opens_both(site: Site) -> None:
    _, path = fresh(site)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("[authorization]\n",
                                 '[authorization]\nprogrammes = ["dibao", "low-income"]\n'),
                    encoding="utf-8")
    dibao = household_mod.load(path)
    low = household_mod.load(path, programme="low-income")
    assert list(dibao.authorization.programmes) == ["dibao", "low-income"]
    with site.client() as c:
        stored = c.call(c.cases.RegisterAuthorization, case_pb2.RegisterAuthorizationRequest(
            authorization=dibao.authorization, operator=sandbox.VERIFIER))
    assert (stored.programme, list(stored.programmes)) == ("dibao", ["dibao", "low-income"])
    a = open_again(site, dibao)
    b = open_again(site, low)  # already registered: the same authorization
    assert (a.programme, b.programme) == ("dibao", "low-income")
    assert b.authorization_number == a.authorization_number
    # a programme the form does not name is still refused
    other = refusal_of(site, low, programme="low-rent-housing")
    assert reason(other).reason == "AUTHORIZATION_WRONG_PROGRAMME"


def test_cli_refuses_in_one_line_and_goes_on_with_again(site: Site) -> None:
    _, path = fresh(site)
    out = site.sb.root / "cli-reports"
    args = ("verify", "--client", str(site.desk_file), "--household", str(path),
            "--out", str(out))
    first = site.cli(*args)
    assert first.returncode == 0, first.stdout + first.stderr
    case_id = first.stdout.split()[1].rstrip(":")
    second = site.cli(*args)
    assert second.returncode != 0
    lines = [x for x in second.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, second.stderr
    assert case_id in lines[0] and "SAME_HOUSEHOLD_RECENT" in lines[0]
    assert '--again "' in lines[0]
    third = site.cli(*args, "--again", "the household asked for a review")
    assert third.returncode == 0, third.stdout + third.stderr
    assert third.stdout.split()[1].rstrip(":") != case_id


def test_batch_row_refused_without_a_reason_the_others_go_on(site: Site) -> None:
    hh_a, path_a = fresh(site)
    site.open(hh_a)
    _, path_b = fresh(site)
    listing = site.sb.root / "again.csv"
    listing.write_text(f"household\n{path_a.name}\n{path_b.name}\n", encoding="utf-8")
    out = site.sb.root / "batch-out"
    args = ("verify", "--client", str(site.desk_file), "--batch", str(listing),
            "--out", str(out))
    result = site.cli(*args)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "1 decided" in result.stdout and "1 refused" in result.stdout
    assert "SAME_HOUSEHOLD_RECENT" in result.stdout and "复核原因" in result.stdout
    # the re-run resumes: the decided row is not opened again (nor refused), and a row
    # that gives its reason opens
    listing.write_text(f"household,复核原因\n{path_a.name},moved to a new address\n"
                       f"{path_b.name},\n", encoding="utf-8")
    rerun = site.cli(*args)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "2 decided" in rerun.stdout
