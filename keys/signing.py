"""Ed25519 signing keys, their keyids and public key files.

keyid = lowercase hex SHA-256 of the raw 32-byte public key (DESIGN.md, wire protocol),
so anyone holding the public key can recompute it and nobody can pick one.

Public key files are written as PEM SubjectPublicKeyInfo (``-----BEGIN PUBLIC KEY-----``)
so that ``openssl pkey -pubin`` reads them; reading also accepts the raw key as one line
of standard base64 (44 characters), the form the trust bundle TOML uses inline.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

import nacl.signing
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from hedui.keys._files import read_limited, write_atomic
from hedui.keys.errors import InvalidPublicKey

__all__ = [
    "PUBLIC_KEY_SIZE",
    "InvalidPublicKey",
    "generate_signing_key",
    "keyid",
    "parse_public_key",
    "public_key_base64",
    "public_key_bytes",
    "public_key_pem",
    "read_public_key",
    "verify_key",
    "write_public_key",
]

PUBLIC_KEY_SIZE = 32

KeyLike = (
    nacl.signing.SigningKey
    | nacl.signing.VerifyKey
    | ed25519.Ed25519PublicKey
    | ed25519.Ed25519PrivateKey
    | bytes
)


def generate_signing_key() -> nacl.signing.SigningKey:
    """A fresh Ed25519 signing key from the OS random source."""
    return nacl.signing.SigningKey.generate()


def public_key_bytes(key: KeyLike) -> bytes:
    """The raw 32-byte Ed25519 public key of ``key`` (a private key yields its public half)."""
    if isinstance(key, nacl.signing.SigningKey):
        return bytes(key.verify_key)
    if isinstance(key, nacl.signing.VerifyKey):
        return bytes(key)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.public_key().public_bytes_raw()
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key.public_bytes_raw()
    if isinstance(key, bytes | bytearray | memoryview):
        raw = bytes(key)
        if len(raw) != PUBLIC_KEY_SIZE:
            raise InvalidPublicKey(
                f"an Ed25519 public key is {PUBLIC_KEY_SIZE} bytes, not {len(raw)}"
            )
        return raw
    raise TypeError(f"not an Ed25519 key: {type(key).__name__}")


def keyid(key: KeyLike) -> str:
    """Lowercase hex SHA-256 of the raw public key: the name of the key on the wire."""
    return hashlib.sha256(public_key_bytes(key)).hexdigest()


def verify_key(key: KeyLike) -> nacl.signing.VerifyKey:
    """``key`` as a pynacl VerifyKey."""
    if isinstance(key, nacl.signing.VerifyKey):
        return key
    return nacl.signing.VerifyKey(public_key_bytes(key))


def public_key_base64(key: KeyLike) -> str:
    """The raw public key as standard base64, the inline form of the trust bundle TOML."""
    return base64.b64encode(public_key_bytes(key)).decode("ascii")


def public_key_pem(key: KeyLike) -> bytes:
    """The public key as PEM SubjectPublicKeyInfo."""
    pub = ed25519.Ed25519PublicKey.from_public_bytes(public_key_bytes(key))
    return pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def parse_public_key(data: bytes | str) -> nacl.signing.VerifyKey:
    """Parse an Ed25519 public key from PEM or one line of base64 of the raw 32 bytes."""
    raw = data.encode() if isinstance(data, str) else bytes(data)
    text = raw.strip()
    if text.startswith(b"-----BEGIN"):
        try:
            pub = serialization.load_pem_public_key(text)
        except ValueError:
            raise InvalidPublicKey("the PEM block is not a public key") from None
        if not isinstance(pub, ed25519.Ed25519PublicKey):
            raise InvalidPublicKey(f"the public key is {type(pub).__name__}, not Ed25519")
        return nacl.signing.VerifyKey(pub.public_bytes_raw())
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidPublicKey(
            "expected a PEM public key or the raw 32-byte key in base64"
        ) from None
    return nacl.signing.VerifyKey(public_key_bytes(decoded))


def read_public_key(path: str | os.PathLike[str]) -> nacl.signing.VerifyKey:
    """Read a public key file written by :func:`write_public_key` (or raw base64)."""
    data = read_limited(path)
    try:
        return parse_public_key(data)
    except InvalidPublicKey as exc:
        raise InvalidPublicKey(f"{path}: {exc}") from None


def write_public_key(
    path: str | os.PathLike[str], key: KeyLike, *, overwrite: bool = False
) -> Path:
    """Write the public half of ``key`` as PEM, mode 0644, atomically."""
    return write_atomic(path, public_key_pem(key), mode=0o644, overwrite=overwrite)
