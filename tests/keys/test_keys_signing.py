"""Ed25519 keys, keyids and public key files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import nacl.signing
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from hedui.keys import signing
from hedui.keys.errors import InvalidPublicKey


def test_keyid_is_sha256_of_raw_public_key() -> None:
    key = signing.generate_signing_key()
    raw = bytes(key.verify_key)
    expected = hashlib.sha256(raw).hexdigest()
    assert signing.keyid(key) == expected
    assert signing.keyid(key.verify_key) == expected
    assert signing.keyid(raw) == expected
    assert expected == expected.lower() and len(expected) == 64


def test_keyid_vector() -> None:
    # RFC 8032 test 1 public key; reproduce: printf d75a...511a | xxd -r -p | sha256sum
    raw = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    assert signing.keyid(raw) == hashlib.sha256(raw).hexdigest()
    sk = nacl.signing.SigningKey(
        bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    )
    assert signing.public_key_bytes(sk) == raw


def test_cryptography_keys_accepted() -> None:
    priv = ed25519.Ed25519PrivateKey.generate()
    raw = priv.public_key().public_bytes_raw()
    assert signing.public_key_bytes(priv) == raw
    assert signing.public_key_bytes(priv.public_key()) == raw


def test_wrong_length_raw_key_refused() -> None:
    with pytest.raises(InvalidPublicKey, match="32 bytes"):
        signing.keyid(b"short")


@pytest.mark.parametrize("form", ["pem", "base64"])
def test_public_key_file_round_trip(tmp_path: Path, form: str) -> None:
    key = signing.generate_signing_key()
    path = tmp_path / "k.pub"
    if form == "pem":
        signing.write_public_key(path, key)
        assert path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    else:
        path.write_text(signing.public_key_base64(key) + "\n")
    assert bytes(signing.read_public_key(path)) == bytes(key.verify_key)


def test_public_key_file_not_a_key(tmp_path: Path) -> None:
    path = tmp_path / "k.pub"
    path.write_text("not base64!")
    with pytest.raises(InvalidPublicKey, match=r"k\.pub"):
        signing.read_public_key(path)


def test_non_ed25519_pem_refused() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(InvalidPublicKey, match="not Ed25519"):
        signing.parse_public_key(pem)
