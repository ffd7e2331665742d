"""`hedui case list` as a person reads it, against a real gateway process over mutual
TLS: the application date, programme, masked applicant, state and the departments still
waited for, in columns that line up with Chinese names; an empty listing says so;
``--client`` before or after the sub-command; no traceback when piped into ``head``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import case_site
import pytest

from hedui.gateway import sandbox
from hedui.tables import display_width


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    s = case_site.Site(tmp_path_factory.mktemp("listing"))
    try:
        s.start()
        yield s
    finally:
        s.stop()


def test_an_empty_listing_says_so(site: case_site.Site) -> None:
    result = site.cli("case", "list", "--state", "cancelled", "--client", str(site.desk_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "no cases (state cancelled) / 没有案件\n"


def test_the_listing_shows_date_programme_applicant_state_and_waiting(
        site: case_site.Site) -> None:
    opened = [site.open(site.household()), site.open(site.household("low-income"))]
    result = site.cli("case", "--client", str(site.desk_file), "list", "--state", "open")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("申请日期/date") and "申请人/applicant" in lines[0]
    assert "等待部门/waiting for" in lines[0]
    assert lines[-1] == "2 case(s) (state open)"
    for case in opened:
        (line,) = [x for x in lines if case.case_id in x]
        applicant = next(m for m in case.members if m.relation == 1)  # RELATION_SELF
        assert line[:10] in {d.isoformat() for d in case_site.since_start()}
        assert f"  {case.programme}  " in line and "  open  " in line
        assert f"{applicant.name[0]}*" in line and applicant.name not in line
        waiting = ", ".join(d.department for d in case.departments)
        assert len(waiting) > 48 and line.endswith(waiting)  # whole, not cut
    # columns line up although the applicants' names are Chinese
    starts = {display_width(x[:x.index(" open ")]) for x in lines[2:-1]}
    assert len(starts) == 1


@pytest.mark.parametrize("order", ["top", "group", "command"])
def test_client_works_in_any_position(site: case_site.Site, order: str) -> None:
    client = ["--client", str(site.desk_file)]
    args = {"top": [*client, "case", "list"], "group": ["case", *client, "list"],
            "command": ["case", "list", *client]}[order]
    result = site.cli(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("申请日期/date")


def test_a_listing_piped_into_head_is_no_traceback(site: case_site.Site, tmp_path: Path
                                                   ) -> None:
    for _ in range(3):
        site.open(site.household())
    proc = subprocess.Popen(
        [*sandbox.hedui_command(), "case", "list", "--client", str(site.desk_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    proc.stdout.close()  # the reader went away before a line was written, as `head` does
    stderr = proc.stderr.read().decode()
    assert proc.wait(60) == 141, stderr  # 128 + SIGPIPE, as a shell reports it
    assert stderr == ""


def test_an_unknown_state_is_one_line(site: case_site.Site) -> None:
    result = site.cli("case", "list", "--state", "finished", "--client", str(site.desk_file))
    assert result.returncode == 1
    assert result.stderr.startswith("hedui: unknown state 'finished'; known: open,")
    assert result.stderr.count("\n") == 1
