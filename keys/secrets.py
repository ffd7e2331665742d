"""Raw symmetric secrets in files: the audit pseudonym key and the answers key.

32 random bytes, stored as one line of hex with mode 0600 and refused, like private
keys, when group or others may read them. Whoever holds the pseudonym key can test
whether a known person appears in an audit log; whoever holds the answers key can
read answers at rest.
"""

from __future__ import annotations

import os
from pathlib import Path

from hedui.keys._files import read_limited, write_atomic
from hedui.keys.errors import KeyFileError, KeyFileNotFound
from hedui.keys.keyfile import check_key_file_mode

SECRET_BYTES = 32


def generate_secret() -> bytes:
    return os.urandom(SECRET_BYTES)


def write_secret(path: str | os.PathLike[str], secret: bytes, *,
                 overwrite: bool = False) -> Path:
    """Write ``secret`` as hex, mode 0600, atomically; never replaces a file by default."""
    return write_atomic(path, secret.hex().encode("ascii") + b"\n", mode=0o600,
                        overwrite=overwrite)


def load_secret(path: str | os.PathLike[str]) -> bytes:
    """Read a secret file; refuses a loose mode, a missing file or a non-hex content."""
    if not Path(path).exists():
        raise KeyFileNotFound(path)
    check_key_file_mode(path)
    try:
        secret = bytes.fromhex(read_limited(path).decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise KeyFileError(f"{path} does not hold a hex-encoded secret key") from None
    if len(secret) < 16:
        raise KeyFileError(f"{path} holds {len(secret)} bytes; a secret key needs at least 16")
    return secret
