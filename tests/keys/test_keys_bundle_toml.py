"""The trust bundle TOML: the shipped example parses; every mistake names its key or line."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import nacl.signing
import pytest

from hedui.keys import ca, signing
from hedui.keys.bundle import bundle_from_toml
from hedui.keys.errors import BundleConfigError
from hedui.v1 import trust_pb2

EXAMPLE = Path(__file__).resolve().parents[2] / "keys" / "example-trust.toml"
NOW = datetime(2026, 3, 1, tzinfo=UTC)
KEY = signing.generate_signing_key()
B64 = signing.public_key_base64(KEY)

MINIMAL = f"""
trust_domain = "county.example"
serial = 3

[[participants]]
id = "spiffe://county.example/agent/banks"
endpoint = "localhost:7443"

[[participants.signing_keys]]
public_key = "{B64}"
not_after = 2027-01-01T00:00:00Z

[policies.dibao]
retention_days = 365

[policies.dibao.departments]
banks = ["deposits.*.balance_fen"]
"""


def _load(text: str, tmp_path: Path | None = None) -> trust_pb2.TrustBundle:
    return bundle_from_toml(text, now=NOW, base_dir=tmp_path)


def test_minimal(tmp_path: Path) -> None:
    b = _load(MINIMAL)
    assert (b.trust_domain, b.serial) == ("county.example", 3)
    assert b.issued_at.ToDatetime(tzinfo=UTC) == NOW
    (p,) = b.participants
    assert (p.role, p.department) == (trust_pb2.ROLE_AGENT, "banks")
    assert p.signing_keys[0].keyid == signing.keyid(KEY)
    assert p.signing_keys[0].public_key == bytes(KEY.verify_key)
    assert not p.signing_keys[0].HasField("not_before")
    (policy,) = b.policies
    assert policy.consent_required is True  # the safe default
    assert list(policy.departments[0].field_paths) == ["deposits.*.balance_fen"]


def test_shipped_example_parses(tmp_path: Path) -> None:
    (tmp_path / "ca").mkdir()
    ca.write_certificate(tmp_path / "ca" / "ca.crt", ca.create_ca("county.example")[0])
    (tmp_path / "gateway").mkdir()
    gateway_key = signing.generate_signing_key()
    signing.write_public_key(tmp_path / "gateway" / "signing.pub", gateway_key)
    b = bundle_from_toml(EXAMPLE.read_text(), now=NOW, base_dir=tmp_path)
    assert b.serial == 1 and len(b.ca_certificates) == 1
    assert len(b.participants) == 6
    assert b.participants[0].signing_keys[0].keyid == signing.keyid(gateway_key)
    tax = b.participants[-1]
    assert tax.offline and len(tax.box_public_key) == 32 and len(tax.signing_keys) == 2
    assert [p.purpose for p in b.policies] == ["dibao", "low-rent-housing"]
    assert len(b.revoked_keys) == 1


def test_reads_from_path_and_resolves_relative_files(tmp_path: Path) -> None:
    signing.write_public_key(tmp_path / "banks.pub", KEY)
    text = MINIMAL.replace(f'public_key = "{B64}"', 'public_key_file = "banks.pub"')
    (tmp_path / "trust.toml").write_text(text)
    b = bundle_from_toml(tmp_path / "trust.toml", now=NOW)
    assert b.participants[0].signing_keys[0].keyid == signing.keyid(KEY)


def _error(text: str) -> str:
    with pytest.raises(BundleConfigError) as err:
        _load(text)
    return str(err.value)


def test_syntax_error_names_the_line() -> None:
    msg = _error(MINIMAL.replace("serial = 3", "serial = = 3"))
    assert "line 3" in msg


def test_misspelt_key_is_refused_with_suggestion() -> None:
    msg = _error(MINIMAL.replace("retention_days", "consent_requried = false\nretention_days"))
    assert "policies.dibao.consent_requried: unknown key; did you mean 'consent_required'?" in msg


def test_wrong_type_names_the_key() -> None:
    assert "serial: expected an integer, got a string" in _error(
        MINIMAL.replace("serial = 3", 'serial = "3"')
    )


def test_boolean_is_not_an_integer() -> None:
    assert "serial: expected an integer, got a boolean" in _error(
        MINIMAL.replace("serial = 3", "serial = true")
    )


def test_serial_zero() -> None:
    assert "serial: must be" in _error(MINIMAL.replace("serial = 3", "serial = 0"))


def test_datetime_without_time_zone() -> None:
    msg = _error(MINIMAL.replace("2027-01-01T00:00:00Z", "2027-01-01T00:00:00"))
    assert "participants[0].signing_keys[0].not_after: the datetime has no time zone" in msg


def test_date_instead_of_datetime() -> None:
    msg = _error(MINIMAL.replace("2027-01-01T00:00:00Z", "2027-01-01"))
    assert "not_after: expected a datetime" in msg


def test_stated_keyid_must_match_key() -> None:
    msg = _error(
        MINIMAL.replace(f'public_key = "{B64}"', f'public_key = "{B64}"\nkeyid = "{"0" * 64}"')
    )
    assert "participants[0].signing_keys[0].keyid" in msg


def test_key_not_32_bytes() -> None:
    msg = _error(MINIMAL.replace(B64, base64.b64encode(b"x" * 31).decode()))
    assert "participants[0].signing_keys[0].public_key" in msg


def test_both_key_forms() -> None:
    msg = _error(
        MINIMAL.replace(f'public_key = "{B64}"', f'public_key = "{B64}"\npublic_key_file = "x"')
    )
    assert "exactly one of public_key" in msg


def test_validity_window_backwards() -> None:
    msg = _error(MINIMAL.replace("not_after", "not_before = 2028-01-01T00:00:00Z\nnot_after"))
    assert "not_before is not before not_after" in msg


def test_participant_outside_trust_domain() -> None:
    msg = _error(MINIMAL.replace("spiffe://county.example/agent", "spiffe://other.example/agent"))
    assert "participants[0]" in msg and "outside" in msg


def test_unknown_department_in_id() -> None:
    assert "participants[0].id" in _error(MINIMAL.replace("agent/banks", "agent/bank"))


def test_role_contradicting_id() -> None:
    msg = _error(
        MINIMAL.replace(
            'endpoint = "localhost:7443"', 'endpoint = "localhost:7443"\nrole = "gateway"'
        )
    )
    assert "participants[0]" in msg and "role" in msg


def test_online_agent_needs_endpoint() -> None:
    assert "without an endpoint" in _error(MINIMAL.replace('endpoint = "localhost:7443"', ""))


def test_offline_agent_needs_box_key() -> None:
    msg = _error(MINIMAL.replace('endpoint = "localhost:7443"', "offline = true"))
    assert "box_public_key" in msg


def test_duplicate_participant() -> None:
    extra = MINIMAL.split("[policies")[0].split("serial = 3")[1]
    other = signing.public_key_base64(nacl.signing.SigningKey.generate())
    msg = _error(
        MINIMAL.replace("[policies.dibao]", extra.replace(B64, other) + "[policies.dibao]", 1)
    )
    assert "listed twice" in msg


def test_one_key_for_two_participants() -> None:
    extra = MINIMAL.split("[policies")[0].split("serial = 3")[1].replace("agent/banks", "agent/tax")
    msg = _error(MINIMAL.replace("[policies.dibao]", extra + "[policies.dibao]", 1))
    assert "a key speaks for one participant" in msg


def test_policy_unknown_department() -> None:
    msg = _error(MINIMAL.replace('banks = ["deposits', 'bank = ["deposits'))
    assert "policies.dibao" in msg and "'bank' is not a department" in msg


@pytest.mark.parametrize("path", ["*", "*.x", "deposits..x", "deposits.*.", "Deposits", "a b"])
def test_policy_bad_field_path(path: str) -> None:
    msg = _error(MINIMAL.replace("deposits.*.balance_fen", path))
    assert "policies.dibao.departments.banks[0]" in msg


def test_policy_needs_retention() -> None:
    assert "policies.dibao.retention_days: is required" in _error(
        MINIMAL.replace("retention_days = 365", "")
    )


def test_bad_purpose_name() -> None:
    assert "policies.Dibao" in _error(MINIMAL.replace("policies.dibao", "policies.Dibao"))


def test_revoked_needs_time() -> None:
    msg = _error(MINIMAL + f'\n[[revoked]]\nkeyid = "{"a" * 64}"\n')
    assert "revoked[0].revoked_at: is required" in msg


def test_missing_ca_file_named(tmp_path: Path) -> None:
    with pytest.raises(BundleConfigError, match=r"ca_certificates\[0\].*does not exist"):
        _load('ca_certificates = ["nope.crt"]\n' + MINIMAL, tmp_path)


def test_leaf_certificate_is_not_a_ca(tmp_path: Path) -> None:
    county = ca.create_ca("county.example")
    leaf, _ = ca.issue_certificate(*county, "spiffe://county.example/gateway/center")
    ca.write_certificate(tmp_path / "leaf.crt", leaf)
    with pytest.raises(BundleConfigError, match="not a CA"):
        _load('ca_certificates = ["leaf.crt"]\n' + MINIMAL, tmp_path)
