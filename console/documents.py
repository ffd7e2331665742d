"""The scanned authorization documents (授权书扫描件) a clerk uploads with a new case.

The gateway records only the document's SHA-256 (``Authorization.document_sha256``); the
file itself stays with the console, under ``state_dir/documents``, sealed with a key
derived from ``[keys] secrets`` (PyNaCl SecretBox, as the TOTP secrets in
``accounts.py``): a copy of the folder alone shows no signature, ID number or face. A
document is named by its digest, so the same scan uploaded twice is kept once and the
digest on the case leads back to the file.

What is accepted is checked by content, not by the name or the browser's type: a PDF,
a JPEG or a PNG (their magic bytes), at most :data:`MAX_BYTES`.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.secret

from hedui.console.words import N_

#: the largest scan accepted (a few pages at 300 dpi)
MAX_BYTES = 10 * 1024 * 1024

#: magic bytes → (media type, what the clerk reads)
KINDS: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "PDF"),
    (b"\xff\xd8\xff", "image/jpeg", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
)
_DIGEST = re.compile(r"[0-9a-f]{64}")



class DocumentProblem(ValueError):
    """An upload that is not kept: ``message`` is the Chinese sentence (a catalog msgid),
    ``params`` what fills it; ``words(gettext)`` says it in the page's language."""

    def __init__(self, message: str, **params: object) -> None:
        self.message = message
        self.params = params
        super().__init__(message.format(**params))

    def words(self, gettext: Callable[[str], str] = str) -> str:
        return gettext(self.message).format(**self.params)


@dataclass(frozen=True)
class StoredDocument:
    sha256: str
    media_type: str
    kind: str
    size: int


def kind_of(data: bytes) -> tuple[str, str] | None:
    """(media type, label) by the file's first bytes; None when not PDF, JPEG or PNG."""
    for magic, media_type, label in KINDS:
        if data.startswith(magic):
            return media_type, label
    return None


def check(data: bytes) -> tuple[str, str]:
    """The upload's (media type, label), or DocumentProblem saying why it is refused."""
    if not data:
        raise DocumentProblem(N_("请上传授权书扫描件（PDF、JPEG 或 PNG）。"))
    if len(data) > MAX_BYTES:
        raise DocumentProblem(N_("扫描件太大（{size:.1f} MB），最大 {limit} MB。"),
                              size=len(data) / 1048576, limit=MAX_BYTES // 1048576)
    kind = kind_of(data)
    if kind is None:
        raise DocumentProblem(N_("扫描件必须是 PDF、JPEG 或 PNG 文件。"))
    return kind


class DocumentStore:
    """Sealed documents in one folder, each ``<sha256>.sealed``."""

    def __init__(self, root: Path, secrets_key: bytes) -> None:
        self.root = root
        # its own key, derived apart from the TOTP secrets' (one purpose, one key)
        self.box = nacl.secret.SecretBox(
            hashlib.sha256(b"hedui console documents\x00" + secrets_key).digest())

    def path(self, sha256: str) -> Path:
        if not _DIGEST.fullmatch(sha256):
            raise DocumentProblem(N_("文件摘要格式不正确。"))
        return self.root / f"{sha256}.sealed"

    def put(self, data: bytes) -> StoredDocument:
        """Check and keep ``data`` sealed; returns its digest (of the plain bytes)."""
        media_type, label = check(data)
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not target.exists():
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(self.box.encrypt(data))
                os.chmod(tmp, 0o600)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return StoredDocument(digest, media_type, label, len(data))

    def get(self, sha256: str) -> tuple[bytes, str] | None:
        """The document's bytes and media type; None when not kept here (or tampered)."""
        path = self.path(sha256)
        try:
            data = self.box.decrypt(path.read_bytes())
        except (OSError, nacl.exceptions.CryptoError):
            return None
        if hashlib.sha256(data).hexdigest() != sha256:
            return None
        kind = kind_of(data)
        return data, kind[0] if kind else "application/octet-stream"

    def has(self, sha256: str) -> bool:
        return _DIGEST.fullmatch(sha256) is not None and self.path(sha256).exists()
