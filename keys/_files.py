"""Atomic, no-clobber file writes (internal).

Key material must never be visible half-written or, even for a moment, with a looser
mode than intended; so every file is written under a temporary name created with its
final mode (``O_CREAT|O_EXCL``), synced, then moved into place in one rename.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from hedui.keys.errors import KeysError, RefusingToOverwrite

#: files larger than this are not key material, certificates or bundles; refuse to slurp them
MAX_READ_BYTES = 16 * 1024 * 1024


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int, overwrite: bool) -> Path:
    """Write ``data`` to ``path`` with ``mode``, atomically.

    Precondition: the parent directory exists. Without ``overwrite`` an existing file is
    never replaced, also not by a concurrent writer (``os.link`` refuses atomically).
    """
    target = Path(path)
    parent = target.parent
    if not parent.is_dir():
        raise KeysError(f"directory {parent} does not exist; create it first")
    if not overwrite and (target.exists() or target.is_symlink()):
        raise RefusingToOverwrite(target)
    tmp = parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        try:
            os.fchmod(fd, mode)  # the umask may have removed bits we want (e.g. 0644 files)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # fails if target appeared meanwhile
            except FileExistsError:
                raise RefusingToOverwrite(target) from None
            except OSError:  # filesystem without hard links
                if target.exists():
                    raise RefusingToOverwrite(target) from None
                os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(parent)
    return target


def read_limited(path: str | os.PathLike[str]) -> bytes:
    """Read a whole (small) file; refuse anything over :data:`MAX_READ_BYTES`."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_READ_BYTES + 1)
    except FileNotFoundError:
        raise KeysError(f"{p} does not exist") from None
    except IsADirectoryError:
        raise KeysError(f"{p} is a directory, not a file") from None
    except PermissionError:
        raise KeysError(f"{p} cannot be read (permission denied)") from None
    if len(data) > MAX_READ_BYTES:
        raise KeysError(f"{p} is larger than {MAX_READ_BYTES} bytes; it is not a hedui key file")
    return data


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
