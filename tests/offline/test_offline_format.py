"""keys/sealed_bundle.py on its own: the file format, one test per attack on it.

Pure: keys made here, a trust bundle built in memory, time passed in. Every refusal is
a distinct SealedBundleError subclass, so a caller can say exactly which check failed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct

import nacl.public
import nacl.signing
import pytest

from hedui.gateway.queries import SubjectRef, build_query, sign_query
from hedui.keys import dsse
from hedui.keys import sealed_bundle as sb
from hedui.keys.bundle import Bundle
from hedui.keys.signing import keyid
from hedui.v1 import envelope_pb2, offline_pb2, trust_pb2

DOMAIN = "county.example"
GATEWAY = f"spiffe://{DOMAIN}/gateway/center"
BANKS = f"spiffe://{DOMAIN}/agent/banks"
HOUSING = f"spiffe://{DOMAIN}/agent/housing"
NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


class Party:
    def __init__(self, pid: str) -> None:
        self.id = pid
        self.signing = nacl.signing.SigningKey.generate()
        self.box = nacl.public.PrivateKey.generate()

    def participant(self, role: int, department: str = "", *, offline: bool = False
                    ) -> trust_pb2.Participant:
        vk = bytes(self.signing.verify_key)
        return trust_pb2.Participant(
            id=self.id, role=role, department=department, offline=offline,
            endpoint="" if offline else "127.0.0.1:7400",
            box_public_key=bytes(self.box.public_key),
            signing_keys=[trust_pb2.SigningKey(keyid=keyid(vk), public_key=vk)],
        )


@pytest.fixture(scope="module")
def world():
    gateway, banks, housing = Party(GATEWAY), Party(BANKS), Party(HOUSING)
    revoked = nacl.signing.SigningKey.generate()
    gw = gateway.participant(trust_pb2.ROLE_GATEWAY)
    rvk = bytes(revoked.verify_key)
    gw.signing_keys.append(trust_pb2.SigningKey(keyid=keyid(rvk), public_key=rvk))
    message = trust_pb2.TrustBundle(
        trust_domain=DOMAIN, serial=3,
        participants=[gw, banks.participant(trust_pb2.ROLE_AGENT, "banks", offline=True),
                      housing.participant(trust_pb2.ROLE_AGENT, "housing")],
        revoked_keys=[trust_pb2.RevokedKey(keyid=keyid(rvk), reason="key file lost")],
    )
    message.revoked_keys[0].revoked_at.FromDatetime(NOW - dt.timedelta(days=100))
    return {"gateway": gateway, "banks": banks, "housing": housing, "revoked": revoked,
            "trust": Bundle(message)}


def queries(world, n: int = 2) -> list[envelope_pb2.Envelope]:
    out = []
    for _ in range(n):
        q = build_query(issuer=GATEWAY, audience=BANKS, case_id="case-1", purpose="dibao",
                        operator="op-1", subjects=[SubjectRef("11010519491231002X")],
                        field_paths=["deposits"], now=NOW, lifetime=dt.timedelta(days=30))
        out.append(sign_query(q, world["gateway"].signing).envelope)
    return out


def sealed(world, **overrides) -> bytes:
    args = dict(
        kind=sb.QUERIES, envelopes=queries(world), sender=GATEWAY,
        signing_key=world["gateway"].signing, box_key=world["gateway"].box, recipient=BANKS,
        recipient_box_public_key=bytes(world["banks"].box.public_key), created_at=NOW,
        expires_at=NOW + dt.timedelta(days=30),
    )
    args.update(overrides)
    return sb.seal(**args)


def open_as_banks(world, data: bytes, *, now: dt.datetime = NOW, seen=(), kind=sb.QUERIES,
                  box=None) -> sb.OpenedBundle:
    return sb.open_sealed(data, trust=world["trust"], box_key=box or world["banks"].box,
                          recipient=BANKS, now=now, seen_bundle_ids=set(seen), kind=kind)


def resigned(world, data: bytes, edit, key=None) -> bytes:
    """Change the header and sign it again (a sender that seals inconsistent bytes)."""
    header_len = struct.unpack_from(">I", data, 9)[0]
    env = envelope_pb2.Envelope.FromString(data[13:13 + header_len])
    header = offline_pb2.OfflineBundleHeader.FromString(env.payload)
    edit(header)
    new = dsse.sign(header.SerializeToString(), dsse.OFFLINE_BUNDLE_TYPE,
                    key or world["gateway"].signing).SerializeToString()
    return data[:9] + struct.pack(">I", len(new)) + new + data[13 + header_len:]


# --------------------------------------------------------------------- good


def test_round_trip_gives_back_the_exact_envelopes(world) -> None:
    envelopes = queries(world, 3)
    data = sealed(world, envelopes=envelopes, bundle_id="b-1")
    assert data.startswith(b"HEDUIBND\x01")
    opened = open_as_banks(world, data)
    assert opened.header.bundle_id == "b-1"
    assert opened.header.count == 3
    assert opened.header.sender == GATEWAY and opened.header.recipient == BANKS
    assert [e.SerializeToString() for e in opened.envelopes] == \
        [e.SerializeToString() for e in envelopes]
    header, envs, _ = opened
    assert len(envs) == 3 and header.format_version == 1


def test_the_body_is_encrypted(world) -> None:
    envelopes = queries(world, 1)
    data = sealed(world, envelopes=envelopes)
    assert envelopes[0].payload not in data
    assert b"11010519491231002X" not in data


def test_seal_refuses_envelopes_of_the_wrong_kind(world) -> None:
    with pytest.raises(ValueError, match="carries only"):
        sealed(world, kind=sb.ANSWERS)


# ------------------------------------------------------------------- attacks


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04 a zip file", b"hello, world, not a bundle"])
def test_not_a_bundle(world, data: bytes) -> None:
    with pytest.raises(sb.NotABundle):
        open_as_banks(world, data)


@pytest.mark.parametrize("cut", [5, 11, 40, -1, -200])
def test_truncated_file(world, cut: int) -> None:
    data = sealed(world)
    with pytest.raises(sb.BundleTruncated):
        open_as_banks(world, data[:cut])


def test_unknown_format_version(world) -> None:
    data = sealed(world)
    with pytest.raises(sb.UnsupportedBundleVersion):
        open_as_banks(world, data[:8] + b"\x02" + data[9:])


def test_flipped_body_byte_is_tampering(world) -> None:
    data = bytearray(sealed(world))
    data[-30] ^= 0x01
    with pytest.raises(sb.BundleTampered, match="altered"):
        open_as_banks(world, bytes(data))


def test_flipped_header_byte_is_tampering(world) -> None:
    data = bytearray(sealed(world))
    data[40] ^= 0x01
    with pytest.raises(sb.BundleTampered):
        open_as_banks(world, bytes(data))


def test_trailing_garbage_is_tampering(world) -> None:
    with pytest.raises(sb.BundleTampered, match="after its signed end"):
        open_as_banks(world, sealed(world) + b"\x00")


def test_body_swapped_from_another_bundle_is_tampering(world) -> None:
    a, b = sealed(world), sealed(world)
    la, lb = (struct.unpack_from(">I", x, 9)[0] for x in (a, b))
    with pytest.raises(sb.BundleTampered):
        open_as_banks(world, a[:13 + la] + b[13 + lb:])


def test_sealed_to_someone_else(world) -> None:
    data = sealed(world, recipient=HOUSING,
                  recipient_box_public_key=bytes(world["housing"].box.public_key))
    with pytest.raises(sb.SealedToSomeoneElse, match="housing"):
        open_as_banks(world, data)


def test_sealed_to_another_box_key(world) -> None:
    other = nacl.public.PrivateKey.generate()
    data = sealed(world, recipient_box_public_key=bytes(other.public_key))
    with pytest.raises(sb.SealedToSomeoneElse, match="another box key"):
        open_as_banks(world, data)


def test_signed_by_an_unknown_key(world) -> None:
    with pytest.raises(sb.BundleSignerUnknown):
        open_as_banks(world, sealed(world, signing_key=nacl.signing.SigningKey.generate()))


def test_signed_by_a_revoked_key(world) -> None:
    with pytest.raises(sb.BundleSignerRevoked, match="key file lost"):
        open_as_banks(world, sealed(world, signing_key=world["revoked"]))


def test_signed_by_another_participant_than_the_named_sender(world) -> None:
    with pytest.raises(sb.SenderNotAllowed, match="signed by"):
        open_as_banks(world, sealed(world, signing_key=world["housing"].signing))


def test_queries_from_an_agent_are_refused(world) -> None:
    data = sealed(world, sender=HOUSING, signing_key=world["housing"].signing,
                  box_key=world["housing"].box)
    with pytest.raises(sb.SenderNotAllowed, match="may not send"):
        open_as_banks(world, data)


def test_boxed_with_a_key_not_the_senders(world) -> None:
    with pytest.raises(sb.SenderNotAllowed, match="box"):
        open_as_banks(world, sealed(world, box_key=nacl.public.PrivateKey.generate()))


def test_wrong_content_kind(world) -> None:
    with pytest.raises(sb.WrongContentKind):
        open_as_banks(world, sealed(world), kind=sb.ANSWERS)


def test_expired(world) -> None:
    with pytest.raises(sb.BundleExpired):
        open_as_banks(world, sealed(world), now=NOW + dt.timedelta(days=31))


def test_dated_in_the_future(world) -> None:
    with pytest.raises(sb.BundleNotYetValid):
        open_as_banks(world, sealed(world), now=NOW - dt.timedelta(hours=1))


def test_replayed_bundle_id(world) -> None:
    data = sealed(world, bundle_id="b-seen")
    with pytest.raises(sb.BundleReplayed):
        open_as_banks(world, data, seen={"b-seen"})


def test_header_count_that_lies_is_tampering(world) -> None:
    data = resigned(world, sealed(world), lambda h: setattr(h, "count", 5))
    with pytest.raises(sb.BundleTampered, match="header says 5"):
        open_as_banks(world, data)


def test_header_bundle_id_changed_and_resigned_is_caught_by_the_body(world) -> None:
    data = resigned(world, sealed(world), lambda h: setattr(h, "bundle_id", "fresh-id"))
    with pytest.raises(sb.BundleTampered, match="another bundle"):
        open_as_banks(world, data)


def test_body_digest_binds_every_byte(world) -> None:
    data = sealed(world)
    header_len = struct.unpack_from(">I", data, 9)[0]
    header = sb.peek_header(data)
    assert header is not None
    assert hashlib.sha256(data[13 + header_len:]).digest() == header.body_sha256
    assert header.body_length == len(data) - 13 - header_len
