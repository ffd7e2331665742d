"""Private key files: 0600 from the first byte, loose modes refused, passphrases."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import nacl.public
import nacl.signing
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from hedui.errors import HeduiError
from hedui.keys import keyfile
from hedui.keys.errors import KeyFileError, RefusingToOverwrite
from hedui.keys.keyfile import (
    InsecureKeyFileError,
    KeyFileNotFound,
    NotAPrivateKey,
    PassphraseRequired,
    WrongKeyType,
    WrongPassphrase,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ed25519_round_trip_with_mode_0600(tmp_path: Path) -> None:
    key = nacl.signing.SigningKey.generate()
    path = keyfile.write_private_key(tmp_path / "s.key", key)
    assert _mode(path) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert bytes(keyfile.load_signing_key(path)) == bytes(key)


def test_mode_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = keyfile.write_private_key(tmp_path / "s.key", nacl.signing.SigningKey.generate())
    finally:
        os.umask(old)
    assert _mode(path) == 0o600


def test_no_temporary_files_left_behind(tmp_path: Path) -> None:
    keyfile.write_private_key(tmp_path / "s.key", nacl.signing.SigningKey.generate())
    assert [p.name for p in tmp_path.iterdir()] == ["s.key"]


def test_ec_tls_key_round_trip(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = keyfile.write_private_key(tmp_path / "tls.key", key)
    loaded = keyfile.load_tls_private_key(path)
    assert loaded.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]


def test_passphrase_round_trip(tmp_path: Path) -> None:
    key = nacl.signing.SigningKey.generate()
    path = keyfile.write_private_key(tmp_path / "s.key", key, b"correct horse")
    assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    assert bytes(keyfile.load_signing_key(path, b"correct horse")) == bytes(key)


def test_wrong_passphrase(tmp_path: Path) -> None:
    path = keyfile.write_private_key(tmp_path / "s.key", nacl.signing.SigningKey.generate(), b"a")
    with pytest.raises(WrongPassphrase, match="does not decrypt"):
        keyfile.load_signing_key(path, b"b")


def test_encrypted_key_without_passphrase(tmp_path: Path) -> None:
    path = keyfile.write_private_key(tmp_path / "s.key", nacl.signing.SigningKey.generate(), b"a")
    with pytest.raises(PassphraseRequired, match="HEDUI_KEY_PASSPHRASE"):
        keyfile.load_signing_key(path)


def test_passphrase_for_unencrypted_key_is_ignored(tmp_path: Path) -> None:
    key = nacl.signing.SigningKey.generate()
    path = keyfile.write_private_key(tmp_path / "s.key", key)
    assert bytes(keyfile.load_signing_key(path, b"whatever")) == bytes(key)


def test_empty_passphrase_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="empty"):
        keyfile.write_private_key(tmp_path / "s.key", nacl.signing.SigningKey.generate(), b"")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602, 0o660])
def test_world_or_group_accessible_key_refused_with_chmod_advice(tmp_path: Path, mode: int) -> None:
    path = keyfile.write_private_key(tmp_path / "s.key", nacl.signing.SigningKey.generate())
    path.chmod(mode)
    with pytest.raises(InsecureKeyFileError) as err:
        keyfile.load_signing_key(path)
    assert str(err.value) == (
        f"private key {path} is readable by group or others (mode {mode:04o}); "
        f"run: chmod 600 {path}"
    )
    assert isinstance(err.value, HeduiError)


def test_0400_key_is_accepted(tmp_path: Path) -> None:
    path = keyfile.write_private_key(tmp_path / "s.key", nacl.signing.SigningKey.generate())
    path.chmod(0o400)
    keyfile.load_signing_key(path)


def test_insecure_mode_checked_before_passphrase(tmp_path: Path) -> None:
    path = keyfile.write_private_key(tmp_path / "s.key", nacl.signing.SigningKey.generate(), b"p")
    path.chmod(0o644)
    with pytest.raises(InsecureKeyFileError):
        keyfile.load_signing_key(path)


def test_refuses_to_overwrite_existing_key(tmp_path: Path) -> None:
    first = nacl.signing.SigningKey.generate()
    path = keyfile.write_private_key(tmp_path / "s.key", first)
    with pytest.raises(RefusingToOverwrite, match="already exists"):
        keyfile.write_private_key(path, nacl.signing.SigningKey.generate())
    assert bytes(keyfile.load_signing_key(path)) == bytes(first)
    second = nacl.signing.SigningKey.generate()
    keyfile.write_private_key(path, second, overwrite=True)
    assert bytes(keyfile.load_signing_key(path)) == bytes(second)
    assert _mode(path) == 0o600


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileNotFound, match="does not exist"):
        keyfile.load_signing_key(tmp_path / "nope.key")


def test_not_a_key(tmp_path: Path) -> None:
    path = tmp_path / "junk.key"
    path.write_bytes(b"hello")
    path.chmod(0o600)
    with pytest.raises(NotAPrivateKey, match="not a PEM private key"):
        keyfile.load_signing_key(path)


def test_certificate_given_as_key_says_so(tmp_path: Path) -> None:
    path = tmp_path / "cert.key"
    path.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    path.chmod(0o600)
    with pytest.raises(NotAPrivateKey, match="certificate"):
        keyfile.load_private_key(path)


def test_tls_key_where_signing_key_expected(tmp_path: Path) -> None:
    path = keyfile.write_private_key(tmp_path / "tls.key", ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(WrongKeyType, match="expected an Ed25519 signing key"):
        keyfile.load_signing_key(path)


def test_signing_key_where_tls_key_expected(tmp_path: Path) -> None:
    path = keyfile.write_private_key(tmp_path / "s.key", nacl.signing.SigningKey.generate())
    with pytest.raises(WrongKeyType):
        keyfile.load_tls_private_key(path)


def test_passphrase_from_env() -> None:
    assert keyfile.passphrase_from_env(environ={}) is None
    assert keyfile.passphrase_from_env(environ={"HEDUI_KEY_PASSPHRASE": "x"}) == b"x"
    assert keyfile.passphrase_from_env("MINE", environ={"MINE": "y"}) == b"y"
    with pytest.raises(KeyFileError, match="MINE is not set"):
        keyfile.passphrase_from_env("MINE", environ={})


def test_box_key_round_trip(tmp_path: Path) -> None:
    box = nacl.public.PrivateKey.generate()
    path = keyfile.write_private_key(tmp_path / "box.key", box, b"pw")
    assert bytes(keyfile.load_box_key(path, b"pw")) == bytes(box)
    with pytest.raises(WrongKeyType, match="X25519"):
        keyfile.load_signing_key(path, b"pw")
    with pytest.raises(WrongKeyType):
        keyfile.load_tls_private_key(path, b"pw")
