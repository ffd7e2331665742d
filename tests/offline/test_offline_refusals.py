"""Bad answers bundles at the center: each is refused, and nothing from it is imported.

One case waits for provident-fund; its queries were exported and answered for real, so
a genuine answers bundle exists. Every test below offers the center a damaged or forged
variant and shows (1) the refusal, named by its error class or its one CLI line, and
(2) that the case database is exactly as before and the audit log holds exactly one new
entry, the BUNDLE_REFUSED. The last test imports the genuine file: the case was never
disturbed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import uuid
from pathlib import Path

import nacl.public
import pytest
from offline_testlib import OFFLINE, Site

from hedui.gateway import config as gateway_config
from hedui.gateway import server
from hedui.gateway.offline import ImportRefused, OfflineDesk
from hedui.keys import dsse, keyfile
from hedui.keys import sealed_bundle as sb
from hedui.keys.signing import generate_signing_key
from hedui.v1 import case_pb2, offline_pb2, query_pb2


class Files:
    def __init__(self, site: Site, work: Path, case: case_pb2.Case) -> None:
        self.site = site
        self.work = work
        self.case = case
        ident = site.sb.agents[OFFLINE]
        self.agent_id = ident.id
        self.agent_key = keyfile.load_signing_key(ident.signing_key)
        self.agent_box = keyfile.load_box_key(ident.box_key)
        self.gateway_box = keyfile.load_box_key(site.sb.gateway.box_key)
        self.good = (work / "answers.bundle").read_bytes()
        self.queries = (work / "queries.bundle").read_bytes()

    def good_envelopes(self, trust) -> list:
        opened = sb.open_sealed(self.good, trust=trust, box_key=self.gateway_box,
                                recipient=self.site.sb.gateway.id,
                                now=dt.datetime.now(dt.UTC), seen_bundle_ids=(),
                                kind=sb.ANSWERS)
        return opened.envelopes

    def reseal(self, envelopes, **overrides) -> bytes:
        now = dt.datetime.now(dt.UTC)
        args = dict(
            kind=sb.ANSWERS, envelopes=envelopes, sender=self.agent_id,
            signing_key=self.agent_key, box_key=self.agent_box,
            recipient=self.site.sb.gateway.id,
            recipient_box_public_key=bytes(self.gateway_box.public_key),
            created_at=now, expires_at=now + dt.timedelta(days=30),
        )
        args.update(overrides)
        return sb.seal(**args)

    def write(self, name: str, data: bytes) -> Path:
        path = self.work / name
        path.write_bytes(data)
        return path


@pytest.fixture(scope="module")
def files(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Files:
    work = tmp_path_factory.mktemp("refusals")
    case = site.new_case("eligible")
    exported = site.export(work / "queries.bundle")
    assert exported.returncode == 0, exported.stderr
    answered = site.answer(work / "queries.bundle", work / "answers.bundle")
    assert answered.returncode == 0, answered.stderr
    return Files(site, work, case)


@pytest.fixture(scope="module")
def desk(site: Site):
    gw = server.build(gateway_config.load(site.sb.gateway_config))
    try:
        yield OfflineDesk.for_gateway(gw)
    finally:
        asyncio.run(gw.close())


def refused(site: Site, desk: OfflineDesk, data: bytes, error: type[Exception]) -> Exception:
    before = site.snapshot()
    with pytest.raises(error) as info:
        desk.import_bundle(data, operator="it-3001")
    site.assert_only_refusal_logged(before, info.value.reason)
    return info.value


def cli_refused(site: Site, path: Path, reason: str) -> str:
    before = site.snapshot()
    result = site.import_(path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith("hedui: bundle refused, nothing imported: "), result.stderr
    site.assert_only_refusal_logged(before, reason)
    return result.stderr


# ------------------------------------------------------------------ the file


def test_not_a_bundle_at_all(site: Site, files: Files) -> None:
    path = files.write("trust-bundle-instead.bundle", site.sb.bundle.read_bytes())
    stderr = cli_refused(site, path, "NOT_A_BUNDLE")
    assert len(stderr.strip().splitlines()) == 1
    assert "not a hedui offline bundle" in stderr


def test_tampered_body(site: Site, files: Files) -> None:
    data = bytearray(files.good)
    data[-20] ^= 0x40
    stderr = cli_refused(site, files.write("tampered.bundle", bytes(data)), "BUNDLE_TAMPERED")
    assert len(stderr.strip().splitlines()) == 1
    assert "altered" in stderr


def test_tampered_header(site: Site, desk: OfflineDesk, files: Files) -> None:
    data = bytearray(files.good)
    data[30] ^= 0x01
    refused(site, desk, bytes(data), sb.BundleTampered)


def test_truncated(site: Site, desk: OfflineDesk, files: Files) -> None:
    err = refused(site, desk, files.good[: len(files.good) * 2 // 3], sb.BundleTruncated)
    assert "cut off" in str(err)


def test_cut_inside_the_header(site: Site, desk: OfflineDesk, files: Files) -> None:
    refused(site, desk, files.good[:40], sb.BundleTruncated)


def test_sealed_to_someone_else(site: Site, desk: OfflineDesk, files: Files) -> None:
    other = nacl.public.PrivateKey.generate()
    data = files.reseal(files.good_envelopes(desk.cases.bundle()),
                        recipient="spiffe://county.example/gateway/elsewhere",
                        recipient_box_public_key=bytes(other.public_key))
    err = refused(site, desk, data, sb.SealedToSomeoneElse)
    assert "elsewhere" in str(err)


def test_signed_by_an_unknown_key(site: Site, desk: OfflineDesk, files: Files) -> None:
    data = files.reseal(files.good_envelopes(desk.cases.bundle()),
                        signing_key=generate_signing_key())
    refused(site, desk, data, sb.BundleSignerUnknown)


def test_signed_by_a_revoked_key(site: Site, desk: OfflineDesk, files: Files) -> None:
    data = files.reseal(files.good_envelopes(desk.cases.bundle()),
                        signing_key=site.revoked_key)
    err = refused(site, desk, data, sb.BundleSignerRevoked)
    assert "key file lost" in str(err)


def test_signed_by_another_department(site: Site, desk: OfflineDesk, files: Files) -> None:
    banks_key = keyfile.load_signing_key(site.sb.agents["banks"].signing_key)
    data = files.reseal(files.good_envelopes(desk.cases.bundle()), signing_key=banks_key)
    refused(site, desk, data, sb.SenderNotAllowed)


def test_expired(site: Site, desk: OfflineDesk, files: Files) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=60)
    data = files.reseal(files.good_envelopes(desk.cases.bundle()), created_at=long_ago,
                        expires_at=long_ago + dt.timedelta(days=30))
    err = refused(site, desk, data, sb.BundleExpired)
    assert "expired" in str(err)


def test_queries_bundle_offered_as_answers(site: Site, desk: OfflineDesk,
                                           files: Files) -> None:
    refused(site, desk, files.queries, sb.WrongContentKind)


# ------------------------------------------------------------ its contents


def test_answer_to_no_pending_query_refuses_the_whole_file(site: Site, desk: OfflineDesk,
                                                           files: Files) -> None:
    stray = query_pb2.Answer(query_digest=hashlib.sha256(b"never sent").digest(),
                             query_id=str(uuid.uuid4()), agent=files.agent_id)
    stray_env = dsse.sign(stray.SerializeToString(), dsse.ANSWER_TYPE, files.agent_key)
    data = files.reseal([*files.good_envelopes(desk.cases.bundle()), stray_env])
    stderr = cli_refused(site, files.write("stray.bundle", data), "BUNDLE_CONTENT_REFUSED")
    assert "1 of the 2 items" in stderr
    listed = [line for line in stderr.splitlines() if line.startswith("  - ")]
    assert listed == [f"  - answer 2 (query {stray.query_id}) matches no pending query for "
                      f"{OFFLINE}"]


def test_answer_signed_by_another_agent_inside_a_genuine_bundle(
        site: Site, desk: OfflineDesk, files: Files) -> None:
    (good,) = files.good_envelopes(desk.cases.bundle())
    banks_key = keyfile.load_signing_key(site.sb.agents["banks"].signing_key)
    forged = dsse.sign(good.payload, dsse.ANSWER_TYPE, banks_key)
    err = refused(site, desk, files.reseal([forged]), ImportRefused)
    assert "not by the agent asked" in str(err)


def test_refusal_of_a_query_never_sent(site: Site, desk: OfflineDesk, files: Files) -> None:
    bogus = offline_pb2.OfflineRefusal(query_id=str(uuid.uuid4()), query_digest=b"\x00" * 32,
                                       reason="QUERY_EXPIRED", detail="made up")
    refused(site, desk, files.reseal([], refusals=[bogus]), ImportRefused)


def test_the_genuine_file_still_imports_after_all_that(site: Site, desk: OfflineDesk,
                                                       files: Files) -> None:
    result = desk.import_bundle(files.good, operator="it-3001")
    assert result.answered == [files.case.case_id]
    (case,) = result.cases
    assert case.state == case_pb2.CASE_STATE_DECIDED
