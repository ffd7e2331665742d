"""The department's side: `hedui agent answer-bundle`, with no network.

A damaged queries file is refused whole (one line, nothing answered, one BUNDLE_REFUSED
in the agent's log). A query the agent refuses — here because it lives longer than the
department's ``offline_max_query_lifetime_days`` — is not a crash: it is listed, sealed
back as a refusal, and at the center the case becomes incomplete with that reason, ready
for the next bundle. The longer offline lifetime never loosens the online check.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from offline_testlib import OFFLINE, Site

from hedui.agents import config as agent_config
from hedui.agents import offline, refusals, server
from hedui.gateway.queries import SubjectRef, build_query, sign_query
from hedui.keys import keyfile
from hedui.v1 import audit_pb2, case_pb2


def strict_agent(site: Site, root: Path, days: int) -> Path:
    """The provident-fund agent's config with a shorter offline limit, own state folder."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "agent.toml"
    text = site.sb.agent_config(OFFLINE).read_text(encoding="utf-8")
    path.write_text(text + f"\n[limits]\noffline_max_query_lifetime_days = {days}\n",
                    encoding="utf-8")
    return path


def test_tampered_queries_file_is_refused_whole(site: Site, tmp_path: Path) -> None:
    site.new_case("eligible")
    assert site.export(tmp_path / "q.bundle").returncode == 0
    data = bytearray((tmp_path / "q.bundle").read_bytes())
    data[-5] ^= 0xFF
    (tmp_path / "bad.bundle").write_bytes(bytes(data))
    config = strict_agent(site, tmp_path / "dept", 45)
    agent_log = config.parent / "state" / "audit.sqlite"
    result = site.answer(tmp_path / "bad.bundle", tmp_path / "a.bundle", config)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("hedui: bundle refused, no query answered: ")
    assert "altered" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "a.bundle").exists()
    entries = site.audit_entries(0, agent_log)
    assert [e.kind for e in entries] == [audit_pb2.AUDIT_KIND_BUNDLE_REFUSED]
    assert entries[0].reason.startswith("BUNDLE_TAMPERED")


def test_refused_query_is_listed_and_leaves_the_case_incomplete(site: Site,
                                                                tmp_path: Path) -> None:
    case = site.new_case("eligible")
    exported = site.export(tmp_path / "q.bundle", "--days", "40")
    assert exported.returncode == 0, exported.stderr
    config = strict_agent(site, tmp_path / "dept", 30)
    answered = site.answer(tmp_path / "q.bundle", tmp_path / "a.bundle", config)
    assert answered.returncode == 0, answered.stderr
    assert "0 answered, 1 refused" in answered.stdout
    assert f"(case {case.case_id}): MALFORMED_QUERY" in answered.stdout
    assert "at most 30 days" in answered.stdout
    agent_log = config.parent / "state" / "audit.sqlite"
    kinds = [e.kind for e in site.audit_entries(0, agent_log)]
    assert audit_pb2.AUDIT_KIND_QUERY_REFUSED in kinds

    imported = site.import_(tmp_path / "a.bundle")
    assert imported.returncode == 0, imported.stderr
    assert "imported: 0 answered, 1 refused" in imported.stdout
    after = site.get_case(case.case_id)
    assert after.state == case_pb2.CASE_STATE_INCOMPLETE
    (dept,) = [d for d in after.departments if d.department == OFFLINE]
    assert dept.state == case_pb2.DepartmentStatus.STATE_FAILED
    assert "refused the offline query: MALFORMED_QUERY" in dept.reason

    # a retry queues it for the next bundle, which carries a fresh query
    with site.client() as client:
        retried = client.call(client.cases.RetryCase, case_pb2.RetryCaseRequest(
            case_id=case.case_id, operator=client.config.operator), timeout=60)
    assert retried.state == case_pb2.CASE_STATE_AWAITING_OFFLINE_ANSWER
    again = site.export(tmp_path / "q2.bundle")
    assert again.returncode == 0 and "sealed into" in again.stdout, again.stderr


@pytest.fixture()
def built_agent(site: Site, tmp_path: Path):
    agent = server.build(agent_config.load(strict_agent(site, tmp_path / "dept", 45)))
    try:
        yield agent
    finally:
        agent.close()


def _query(site: Site, days: float, person: str):
    key = keyfile.load_signing_key(site.sb.gateway.signing_key)
    return sign_query(build_query(
        issuer=site.sb.gateway.id, audience=site.sb.agents[OFFLINE].id, case_id="case-x",
        purpose="dibao", operator="op-1001", subjects=[SubjectRef(person)],
        field_paths=["account"], authorization_number="SQ-X", consent_digest="ab" * 32,
        lifetime=dt.timedelta(days=days),
    ), key).envelope


def test_online_check_keeps_its_short_lifetime(site: Site, built_agent) -> None:
    person = site.samples[0]["members"][0]["id_number"]
    envelope = _query(site, 1, person)
    with pytest.raises(refusals.MalformedQuery, match="at most 0:10:00"):
        built_agent.answerer.answer(envelope, peer_id=site.sb.gateway.id)


def test_offline_path_accepts_up_to_its_own_limit_only(site: Site, built_agent) -> None:
    person = site.samples[0]["members"][0]["id_number"]
    answerer = offline.offline_answerer(built_agent, [], dt.timedelta(days=45))
    with pytest.raises(refusals.MalformedQuery, match="at most 45 days"):
        answerer.answer(_query(site, 46, person), peer_id=site.sb.gateway.id)
    with pytest.raises(refusals.PeerNotAllowed):
        answerer.answer(_query(site, 40, person), peer_id=site.sb.agents["banks"].id)


def test_offline_limit_is_read_from_the_config(site: Site, tmp_path: Path) -> None:
    cfg = agent_config.load(strict_agent(site, tmp_path / "d", 12))
    settings = offline.settings(cfg)
    assert settings.max_query_lifetime == dt.timedelta(days=12)
    assert settings.box_key == site.sb.agents[OFFLINE].box_key
    bad = strict_agent(site, tmp_path / "bad", 0)
    with pytest.raises(agent_config.ConfigError, match="offline_max_query_lifetime_days"):
        offline.settings(agent_config.load(bad))
