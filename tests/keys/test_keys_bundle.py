"""The signed trust bundle: only the root signs it, serials never go back, lookups enforce keys."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nacl.signing
import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from hedui.keys import ca, dsse, signing
from hedui.keys.bundle import Bundle, TrustStore, bundle_from_toml, sign_bundle
from hedui.keys.errors import (
    BadSignature,
    BundleError,
    ConflictingBundle,
    InvalidBundle,
    KeyNotValid,
    NotRootKey,
    NoTrustBundle,
    RevokedKey,
    StaleBundle,
    UnknownKey,
    UnknownParticipant,
    WrongPayloadType,
)
from hedui.v1 import trust_pb2

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
ROOT = nacl.signing.SigningKey.generate()
BANKS = "spiffe://county.example/agent/banks"
GATEWAY = "spiffe://county.example/gateway/center"
GW_KEY = nacl.signing.SigningKey.generate()
BANK_KEY = nacl.signing.SigningKey.generate()
OLD_KEY = nacl.signing.SigningKey.generate()
LOST_KEY = nacl.signing.SigningKey.generate()
FUTURE_REVOKED = nacl.signing.SigningKey.generate()
CA_CERT, _CA_KEY = ca.create_ca("county.example")
FINGERPRINT = "ab" * 32


def _toml(serial: int, extra: str = "") -> str:
    b64 = signing.public_key_base64
    return f"""
trust_domain = "county.example"
serial = {serial}
valid_days = 366                       # the lookups below range over the whole year

[[participants]]
id = "{GATEWAY}"
[[participants.signing_keys]]
public_key = "{b64(GW_KEY)}"
not_before = 2026-01-01T00:00:00Z
not_after = 2027-01-01T00:00:00Z
[[participants.signing_keys]]
public_key = "{b64(OLD_KEY)}"
not_after = 2026-02-01T00:00:00Z
[[participants.signing_keys]]
public_key = "{b64(LOST_KEY)}"
[[participants.signing_keys]]
public_key = "{b64(FUTURE_REVOKED)}"

[[participants]]
id = "{BANKS}"
endpoint = "localhost:7443"
certificate_sha256 = ["{FINGERPRINT}"]
[[participants.signing_keys]]
public_key = "{b64(BANK_KEY)}"
not_before = 2026-04-01T00:00:00Z

[[revoked]]
keyid = "{signing.keyid(LOST_KEY)}"
revoked_at = 2026-02-20T00:00:00Z
reason = "key file lost"

[[revoked]]
keyid = "{signing.keyid(FUTURE_REVOKED)}"
revoked_at = 2026-06-01T00:00:00Z
reason = "scheduled retirement"

[policies.dibao]
retention_days = 365
[policies.dibao.departments]
banks = ["deposits.*.balance_fen"]
{extra}
"""


def _message(serial: int, extra: str = "") -> trust_pb2.TrustBundle:
    message = bundle_from_toml(_toml(serial, extra), now=NOW)
    message.ca_certificates.append(CA_CERT.public_bytes(Encoding.DER))
    return message


def _signed(serial: int, extra: str = "", key: nacl.signing.SigningKey = ROOT) -> bytes:
    return sign_bundle(_message(serial, extra), key).SerializeToString()


@pytest.fixture
def store() -> TrustStore:
    return TrustStore(ROOT.verify_key)


# --- lookups ----------------------------------------------------------------------------


def test_lookups(store: TrustStore) -> None:
    bundle = store.load(_signed(1), NOW)
    assert store.current is bundle and bundle.serial == 1
    assert bundle.participant(BANKS).endpoint == "localhost:7443"  # type: ignore[union-attr]
    assert bundle.participant("spiffe://county.example/agent/tax") is None
    assert [p.id for p in bundle.participants_by_role("agent")] == [BANKS]
    assert [p.id for p in bundle.participants_by_role(trust_pb2.ROLE_GATEWAY)] == [GATEWAY]
    assert bundle.agent("banks").id == BANKS  # type: ignore[union-attr]
    assert bundle.policy("dibao").retention_days == 365  # type: ignore[union-attr]
    assert bundle.policy("tekun") is None
    assert bundle.department_fields("dibao", "banks") == ("deposits.*.balance_fen",)
    assert bundle.department_fields("dibao", "tax") == ()
    assert bundle.ca_certificates_pem() == ca.certificate_pem(CA_CERT)


def test_authorize_peer_checks_pinned_certificate(store: TrustStore) -> None:
    bundle = store.load(_signed(1), NOW)
    assert bundle.authorize_peer(BANKS, FINGERPRINT).id == BANKS
    assert bundle.authorize_peer(GATEWAY, None).id == GATEWAY  # nothing pinned
    with pytest.raises(UnknownParticipant, match="does not pin"):
        bundle.authorize_peer(BANKS, "cd" * 32)
    with pytest.raises(UnknownParticipant, match="not a participant"):
        bundle.authorize_peer("spiffe://county.example/agent/tax")


def test_signing_key_valid(store: TrustStore) -> None:
    bundle = store.load(_signed(1), NOW)
    vk, owner = bundle.signing_key(signing.keyid(GW_KEY), NOW)
    assert (bytes(vk), owner) == (bytes(GW_KEY.verify_key), GATEWAY)


def test_signing_key_revoked(store: TrustStore) -> None:
    bundle = store.load(_signed(1), NOW)
    with pytest.raises(RevokedKey, match="key file lost"):
        bundle.signing_key(signing.keyid(LOST_KEY), NOW)


def test_revocation_applies_from_revoked_at(store: TrustStore) -> None:
    bundle = store.load(_signed(1), NOW)
    bundle.signing_key(signing.keyid(FUTURE_REVOKED), NOW)
    with pytest.raises(RevokedKey):
        bundle.signing_key(signing.keyid(FUTURE_REVOKED), datetime(2026, 6, 1, tzinfo=UTC))


def test_signing_key_expired(store: TrustStore) -> None:
    bundle = store.load(_signed(1), NOW)
    with pytest.raises(KeyNotValid, match="expired"):
        bundle.signing_key(signing.keyid(OLD_KEY), NOW)


def test_signing_key_not_yet_valid(store: TrustStore) -> None:
    bundle = store.load(_signed(1), NOW)
    with pytest.raises(KeyNotValid, match="not valid before"):
        bundle.signing_key(signing.keyid(BANK_KEY), NOW)
    bundle.signing_key(signing.keyid(BANK_KEY), NOW + timedelta(days=60))


def test_signing_key_unknown(store: TrustStore) -> None:
    bundle = store.load(_signed(1), NOW)
    with pytest.raises(UnknownKey, match="serial 1"):
        bundle.signing_key(signing.keyid(ROOT), NOW)


def test_store_is_a_key_lookup_for_dsse(store: TrustStore) -> None:
    with pytest.raises(NoTrustBundle):
        store.current  # noqa: B018
    store.load(_signed(1), NOW)
    envelope = dsse.sign(b"query", dsse.QUERY_TYPE, GW_KEY)
    result = dsse.verify(envelope, store, payload_type=dsse.QUERY_TYPE, now=NOW)
    assert result.signer == GATEWAY
    with pytest.raises(RevokedKey):
        dsse.verify(
            dsse.sign(b"query", dsse.QUERY_TYPE, LOST_KEY),
            store,
            payload_type=dsse.QUERY_TYPE,
            now=NOW,
        )


# --- what the store refuses -------------------------------------------------------------


def test_bundle_signed_by_non_root_key_refused(store: TrustStore) -> None:
    with pytest.raises(NotRootKey, match="not by the pinned root key") as err:
        store.load(_signed(1, key=GW_KEY), NOW)
    assert isinstance(err.value, UnknownKey)
    assert store.bundle is None


def test_tampered_bundle_refused(store: TrustStore) -> None:
    envelope = sign_bundle(_message(1), ROOT)
    forged = _message(1)
    forged.participants[1].endpoint = "attacker.example:443"
    envelope.payload = forged.SerializeToString()
    with pytest.raises(BadSignature):
        store.load(envelope, NOW)


def test_root_signed_query_is_not_a_bundle(store: TrustStore) -> None:
    envelope = dsse.sign(_message(1).SerializeToString(), dsse.QUERY_TYPE, ROOT)
    with pytest.raises(WrongPayloadType):
        store.load(envelope, NOW)


def test_root_signed_bundle_breaking_invariants_refused(store: TrustStore) -> None:
    bad = _message(1)
    bad.participants[0].signing_keys[0].keyid = "0" * 64
    with pytest.raises(InvalidBundle):
        sign_bundle(bad, ROOT)
    envelope = dsse.sign(bad.SerializeToString(), dsse.TRUST_BUNDLE_TYPE, ROOT)
    with pytest.raises(InvalidBundle, match="not the SHA-256"):
        store.load(envelope, NOW)


def test_lower_serial_refused(store: TrustStore) -> None:
    store.load(_signed(5), NOW)
    with pytest.raises(StaleBundle, match="older than the held serial 5"):
        store.load(_signed(4), NOW)
    assert store.current.serial == 5


def test_same_serial_same_content_is_a_no_op(store: TrustStore) -> None:
    first = store.load(_signed(2), NOW)
    again = store.load(_signed(2), NOW)  # fresh signature, identical payload
    assert again is first


def test_same_serial_different_content_refused(store: TrustStore) -> None:
    store.load(_signed(2), NOW)
    with pytest.raises(ConflictingBundle, match="higher serial"):
        store.load(
            _signed(
                2, "[policies.tekun]\nretention_days = 1\n[policies.tekun.departments]\ntax = ['x']"
            ),
            NOW,
        )
    assert store.current.policy("tekun") is None


def test_reload_newer_swaps_in(store: TrustStore) -> None:
    store.load(_signed(1), NOW)
    newer = _signed(
        2, "[policies.tekun]\nretention_days = 30\n[policies.tekun.departments]\ntax = ['x']"
    )
    store.load(newer, NOW)
    assert store.current.serial == 2 and store.current.policy("tekun") is not None


def test_rollback_after_restart_refused(tmp_path: Path) -> None:
    state = tmp_path / "trust-state.json"
    TrustStore(ROOT.verify_key, state).load(_signed(7), NOW)
    restarted = TrustStore(ROOT.verify_key, state)
    assert restarted.held_serial == 7 and restarted.bundle is None
    with pytest.raises(StaleBundle):
        restarted.load(_signed(6), NOW)
    assert restarted.restore(NOW).serial == 7  # type: ignore[union-attr]
    assert restarted.current.serial == 7


def test_load_from_file(tmp_path: Path, store: TrustStore) -> None:
    path = tmp_path / "bundle.dsse"
    path.write_bytes(_signed(3))
    assert store.load(path, NOW).serial == 3


def test_corrupt_state_file_refused_not_reset(tmp_path: Path) -> None:
    state = tmp_path / "trust-state.json"
    state.write_text("{not json")
    with pytest.raises(BundleError, match="rather than deleting"):
        TrustStore(ROOT.verify_key, state)


def test_root_rotation_pins_two_keys() -> None:
    new_root = nacl.signing.SigningKey.generate()
    store = TrustStore([ROOT.verify_key, bytes(new_root.verify_key)])
    store.load(_signed(1), NOW)
    store.load(_signed(2, key=new_root), NOW)
    assert store.current.serial == 2


def test_concurrent_loads_never_go_back() -> None:
    store = TrustStore(ROOT.verify_key)
    envelopes = {n: _signed(n) for n in range(1, 9)}
    held: list[int] = []

    def load(n: int) -> None:
        with contextlib.suppress(StaleBundle):
            store.load(envelopes[n], NOW)
        held.append(store.current.serial)

    threads = [threading.Thread(target=load, args=(n,)) for n in (3, 1, 8, 2, 5, 7, 4, 6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.current.serial == 8 and store.held_serial == 8
    assert len(held) == 8


def test_bundle_for_another_trust_domain_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    TrustStore(ROOT.verify_key, state).load(_signed(1), NOW)
    other = _toml(2).replace("county.example", "other.example")
    envelope = sign_bundle(bundle_from_toml(other, now=NOW), ROOT)
    with pytest.raises(InvalidBundle, match=r"belongs to county\.example"):
        TrustStore(ROOT.verify_key, state).load(envelope, NOW)


def test_bundle_view_validates_when_built() -> None:
    with pytest.raises(InvalidBundle):
        Bundle(trust_pb2.TrustBundle(trust_domain="county.example", serial=0))
