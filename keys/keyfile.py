"""Private key files: PKCS#8 PEM, mode 0600, optionally encrypted with a passphrase.

A key file that group or others can read is refused when loaded (as ssh does), because
a key that may have leaked must be replaced, not used. Files are written atomically with
mode 0600 from the first byte. The CLI takes passphrases from an environment variable,
``HEDUI_KEY_PASSPHRASE`` by default (:data:`PASSPHRASE_ENV`), never from the command line
where ``ps`` would show them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nacl.public
import nacl.signing
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from hedui.keys._files import MAX_READ_BYTES, write_atomic
from hedui.keys.errors import (
    InsecureKeyFileError,
    KeyFileError,
    KeyFileNotFound,
    NotAPrivateKey,
    PassphraseRequired,
    WrongKeyType,
    WrongPassphrase,
)

__all__ = [
    "PASSPHRASE_ENV",
    "InsecureKeyFileError",
    "KeyFileNotFound",
    "NotAPrivateKey",
    "PassphraseRequired",
    "WrongKeyType",
    "WrongPassphrase",
    "check_key_file_mode",
    "key_kind",
    "load_box_key",
    "load_private_key",
    "load_signing_key",
    "load_tls_private_key",
    "passphrase_from_env",
    "private_key_pem",
    "write_private_key",
]

#: environment variable the CLI reads a key passphrase from when no other is named
PASSPHRASE_ENV = "HEDUI_KEY_PASSPHRASE"

_ENCRYPTED_MARKERS = (b"-----BEGIN ENCRYPTED PRIVATE KEY-----", b"Proc-Type: 4,ENCRYPTED")
_OTHER_PEM = {
    b"-----BEGIN CERTIFICATE-----": "a certificate",
    b"-----BEGIN PUBLIC KEY-----": "a public key",
    b"-----BEGIN OPENSSH PRIVATE KEY-----": "an OpenSSH key; convert: ssh-keygen -p -m PKCS8",
}


AnyPrivateKey = nacl.signing.SigningKey | nacl.public.PrivateKey | PrivateKeyTypes


def private_key_pem(key: AnyPrivateKey, passphrase: bytes | None = None) -> bytes:
    """Serialize ``key`` as PKCS#8 PEM, encrypted when ``passphrase`` is given.

    Precondition: ``passphrase`` is None or non-empty (an empty one would protect nothing).
    """
    if passphrase is not None and not passphrase:
        raise KeyFileError("the passphrase is empty; give a non-empty one or none at all")
    ckey = _to_cryptography(key)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return ckey.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def write_private_key(
    path: str | os.PathLike[str],
    key: AnyPrivateKey,
    passphrase: bytes | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Write ``key`` to ``path`` as PKCS#8 PEM with mode 0600, atomically.

    ``key``: a pynacl SigningKey (Ed25519) or PrivateKey (X25519 box key), or any
    ``cryptography`` private key.

    Preconditions: the directory exists; ``path`` does not exist unless ``overwrite``.
    """
    return write_atomic(path, private_key_pem(key, passphrase), mode=0o600, overwrite=overwrite)


def check_key_file_mode(path: str | os.PathLike[str], st: os.stat_result | None = None) -> None:
    """Raise :class:`InsecureKeyFileError` when group or others may read or write ``path``."""
    if st is None:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise KeyFileNotFound(path) from None
    if st.st_mode & 0o077:
        raise InsecureKeyFileError(path, stat.S_IMODE(st.st_mode))


def load_private_key(
    path: str | os.PathLike[str], passphrase: bytes | None = None
) -> PrivateKeyTypes:
    """Load any PEM private key after checking the file's mode.

    A passphrase given for an unencrypted key is ignored, so one passphrase variable can
    serve a process whose keys are not all encrypted.
    """
    data = _read_key_file(path)
    encrypted = any(marker in data for marker in _ENCRYPTED_MARKERS)
    if encrypted and not passphrase:
        raise PassphraseRequired(path)
    try:
        return serialization.load_pem_private_key(data, passphrase if encrypted else None)
    except ValueError:
        if encrypted:
            raise WrongPassphrase(path) from None
        raise NotAPrivateKey(path, _what_else(data)) from None
    except (TypeError, UnsupportedAlgorithm):
        raise NotAPrivateKey(path, _what_else(data)) from None


def load_signing_key(
    path: str | os.PathLike[str], passphrase: bytes | None = None
) -> nacl.signing.SigningKey:
    """Load an Ed25519 signing key (as pynacl) from a private key file."""
    key = load_private_key(path, passphrase)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise WrongKeyType(path, "an Ed25519 signing key", key_kind(key))
    return nacl.signing.SigningKey(key.private_bytes_raw())


def load_box_key(
    path: str | os.PathLike[str], passphrase: bytes | None = None
) -> nacl.public.PrivateKey:
    """Load the X25519 key that opens offline bundles sealed to a participant."""
    key = load_private_key(path, passphrase)
    if not isinstance(key, x25519.X25519PrivateKey):
        raise WrongKeyType(path, "an X25519 box key", key_kind(key))
    return nacl.public.PrivateKey(key.private_bytes_raw())


def load_tls_private_key(
    path: str | os.PathLike[str], passphrase: bytes | None = None
) -> PrivateKeyTypes:
    """Load the (ECDSA or RSA) private key that goes with a TLS certificate."""
    key = load_private_key(path, passphrase)
    if isinstance(key, ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey):
        raise WrongKeyType(path, "an ECDSA or RSA TLS key", key_kind(key))
    return key


def passphrase_from_env(
    var: str | None = None, environ: Mapping[str, str] | None = None
) -> bytes | None:
    """The passphrase in environment variable ``var`` (default :data:`PASSPHRASE_ENV`).

    A variable named explicitly must be set and non-empty; the default one may be absent.
    """
    env = os.environ if environ is None else environ
    name = var or PASSPHRASE_ENV
    value = env.get(name)
    if value is None or value == "":
        if var:
            raise KeyFileError(
                f"environment variable {var} is not set or empty; export the passphrase in it"
            )
        return None
    return value.encode()


def key_kind(key: Any) -> str:
    """A short human name for a key's algorithm, e.g. ``"ECDSA P-256"``."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, nacl.signing.SigningKey | ed25519.Ed25519PrivateKey):
        return "Ed25519"
    if isinstance(key, nacl.public.PrivateKey | x25519.X25519PrivateKey):
        return "X25519"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"ECDSA {key.curve.name}"
    if isinstance(key, rsa.RSAPrivateKey):
        return f"RSA-{key.key_size}"
    return type(key).__name__


def _to_cryptography(key: AnyPrivateKey) -> PrivateKeyTypes:
    if isinstance(key, nacl.signing.SigningKey):
        return ed25519.Ed25519PrivateKey.from_private_bytes(bytes(key))
    if isinstance(key, nacl.public.PrivateKey):
        return x25519.X25519PrivateKey.from_private_bytes(bytes(key))
    return key


def _read_key_file(path: str | os.PathLike[str]) -> bytes:
    # fstat the descriptor we read from, so the mode checked is the file's we use
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise KeyFileNotFound(path) from None
    except IsADirectoryError:
        raise NotAPrivateKey(path, "a directory") from None
    except PermissionError:
        raise KeyFileError(f"private key {path} cannot be read (permission denied)") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise NotAPrivateKey(path, "no regular file")
        check_key_file_mode(path, st)
        data = fh.read(MAX_READ_BYTES + 1)
    if len(data) > MAX_READ_BYTES:
        raise NotAPrivateKey(path, "far too much data")
    return data


def _what_else(data: bytes) -> str:
    for marker, what in _OTHER_PEM.items():
        if marker in data:
            return what
    return ""
