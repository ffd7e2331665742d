"""Signed checkpoints in the C2SP formats, so any tlog tool can read and witness them.

A checkpoint (C2SP tlog-checkpoint) commits to the log's state in three body lines::

    <origin>\\n<tree size>\\n<base64 root hash>\\n

and is wrapped in a C2SP signed note: the body, a blank line, then one line per
signature ``— <key name> <base64(key id ‖ signature)>\\n`` (U+2014 and a space). The
Ed25519 key id is the first 4 bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key) and
the signature covers the body bytes. A verifier key is written as the *vkey* string
``<name>+<hex key id>+<base64(0x01 ‖ public key)>``.

The parser is strict: it accepts only what :func:`sign_checkpoint` writes plus signature
lines from other keys (witness cosignatures, ignored as the spec requires). A note with
extension lines in its body, blank or stray lines among the signatures, a non-canonical
number or base64, or no valid signature by the expected key raises
:class:`CheckpointError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from hedui.audit.errors import CheckpointError
from hedui.audit.hashing import HASH_SIZE

#: signature type byte of Ed25519 keys in the signed-note spec
ALG_ED25519 = 0x01
#: first characters of every signature line
SIGNATURE_PREFIX = "\u2014 "
#: more signature lines than this is refused (the Go note package uses the same limit)
MAX_SIGNATURES = 100
#: a tree size fits in uint64 (tlog-checkpoint)
MAX_TREE_SIZE = 2**64 - 1

_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


#: a control character other than newline (the signed-note spec forbids them)
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def _b64decode_strict(text: str, what: str) -> bytes:
    """Decode standard padded base64, refusing anything that does not re-encode identically."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise CheckpointError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckpointError(f"{what} is not canonical base64")
    return raw


def check_key_name(name: str) -> None:
    """Refuse a key name the signed-note spec forbids: empty, spaces, ``+``, controls."""
    if not isinstance(name, str) or not name:
        raise CheckpointError("a key name must be a non-empty string")
    if "+" in name or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise CheckpointError(f"key name {name!r} contains a space, '+' or a control character")


def key_id(name: str, verify_key: VerifyKey) -> bytes:
    """Return the 4-byte signed-note key id of an Ed25519 key under ``name``."""
    check_key_name(name)
    material = name.encode() + b"\n" + bytes([ALG_ED25519]) + bytes(verify_key)
    return hashlib.sha256(material).digest()[:4]


def format_vkey(name: str, verify_key: VerifyKey) -> str:
    """Return the verifier key string ``<name>+<hex key id>+<base64(0x01 ‖ key)>``."""
    kid = key_id(name, verify_key)
    encoded = base64.b64encode(bytes([ALG_ED25519]) + bytes(verify_key)).decode("ascii")
    return f"{name}+{kid.hex()}+{encoded}"


def parse_vkey(vkey: str) -> tuple[str, VerifyKey]:
    """Parse a verifier key string into its name and Ed25519 key.

    Requires an Ed25519 key whose embedded key id matches its name and key; raises
    :class:`CheckpointError` otherwise.
    """
    # the name and key id hold no "+"; the base64 key may
    parts = vkey.split("+", 2) if isinstance(vkey, str) else []
    if len(parts) != 3:
        raise CheckpointError("a verifier key must look like <name>+<hex key id>+<base64 key>")
    name, kid_hex, key_b64 = parts
    check_key_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", kid_hex):
        raise CheckpointError(f"verifier key id {kid_hex!r} is not 8 lowercase hex digits")
    raw = _b64decode_strict(key_b64, "verifier key")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise CheckpointError("verifier key is not an Ed25519 key (type 0x01, 32 bytes)")
    verify_key = VerifyKey(raw[1:])
    if key_id(name, verify_key).hex() != kid_hex:
        raise CheckpointError(f"verifier key id {kid_hex} does not match name {name!r} and key")
    return name, verify_key


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The state of a log: its origin, number of leaves and root hash.

    Validated when built: a non-empty single-line origin, ``0 <= size < 2**64`` and a
    32-byte root, so a malformed checkpoint cannot exist.
    """

    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin:
            raise CheckpointError("a checkpoint origin must be a non-empty string")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in self.origin):
            raise CheckpointError("a checkpoint origin must be one line without control characters")
        if type(self.size) is not int or not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError(f"checkpoint size {self.size!r} is not a uint64")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise CheckpointError(f"a checkpoint root must be {HASH_SIZE} bytes")

    def body(self) -> str:
        """Return the note body: origin, size and base64 root, one per line."""
        root = base64.b64encode(self.root).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n"

    @classmethod
    def from_body(cls, body: str) -> Checkpoint:
        """Parse a note body written by :meth:`body`; extension lines are refused."""
        if not body.endswith("\n"):
            raise CheckpointError("checkpoint body does not end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) != 3:
            raise CheckpointError(
                f"checkpoint body has {len(lines)} lines, expected origin, size and root"
            )
        origin, size_text, root_text = lines
        if not _DECIMAL.fullmatch(size_text):
            raise CheckpointError(f"checkpoint size {size_text!r} is not a canonical decimal")
        root = _b64decode_strict(root_text, "checkpoint root")
        return cls(origin=origin, size=int(size_text), root=root)


def sign_checkpoint(cp: Checkpoint, name: str, signing_key: SigningKey) -> str:
    """Return ``cp`` as a signed note with one Ed25519 signature by ``name``."""
    body = cp.body()
    kid = key_id(name, signing_key.verify_key)
    signature = signing_key.sign(body.encode()).signature
    encoded = base64.b64encode(kid + signature).decode("ascii")
    return f"{body}\n{SIGNATURE_PREFIX}{name} {encoded}\n"


def _split_note(note_text: str) -> tuple[str, list[str]]:
    if not isinstance(note_text, str):
        raise CheckpointError("a signed note must be text")
    if _CONTROL.search(note_text):
        raise CheckpointError("signed note contains a control character other than newline")
    split = note_text.rfind("\n\n")
    if split < 0:
        raise CheckpointError("signed note has no blank line before its signatures")
    body, sig_block = note_text[: split + 1], note_text[split + 2 :]
    if not sig_block:
        raise CheckpointError("signed note has no signature lines after its last blank line")
    if not sig_block.endswith("\n"):
        raise CheckpointError("signed note does not end with a newline after its signatures")
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"signed note has more than {MAX_SIGNATURES} signatures")
    return body, lines


def verify_note(note_text: str, name: str, verify_key: VerifyKey) -> str:
    """Verify a C2SP signed note and return its body (the signed text).

    Requires a well-formed note carrying a valid Ed25519 signature by key ``name`` /
    ``verify_key``; signatures by other keys (witnesses) are ignored, as the spec says.
    Raises :class:`CheckpointError` naming what is wrong.
    """
    check_key_name(name)
    body, lines = _split_note(note_text)
    want_kid = key_id(name, verify_key)
    verified = False
    for n, line in enumerate(lines, start=1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError(f"signature line {n} does not start with '— '")
        fields = line[len(SIGNATURE_PREFIX) :].split(" ")
        if len(fields) != 2:
            raise CheckpointError(f"signature line {n} is not '— <name> <base64 signature>'")
        sig_name, sig_b64 = fields
        check_key_name(sig_name)
        raw = _b64decode_strict(sig_b64, f"signature line {n}")
        if len(raw) < 5:
            raise CheckpointError(f"signature line {n} is too short to hold a key id")
        if sig_name != name or not hmac.compare_digest(raw[:4], want_kid):
            continue  # another key's signature (a witness): ignored
        if len(raw) != 4 + 64:
            raise CheckpointError(f"signature by {name!r} is not a 64-byte Ed25519 signature")
        try:
            verify_key.verify(body.encode(), raw[4:])
        except BadSignatureError:
            raise CheckpointError(f"signature by {name!r} does not match the note") from None
        verified = True
    if not verified:
        raise CheckpointError(f"signed note has no signature by key {name!r}")
    return body


def open_checkpoint(
    note_text: str, name: str, verify_key: VerifyKey, *, origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint note and return the checkpoint it carries.

    Requires what :func:`verify_note` requires, a body of exactly origin, size and root,
    and the given ``origin`` when one is given. Raises :class:`CheckpointError`.
    """
    cp = Checkpoint.from_body(verify_note(note_text, name, verify_key))
    if origin is not None and cp.origin != origin:
        raise CheckpointError(f"checkpoint is for log {cp.origin!r}, not {origin!r}")
    return cp


def signed_size(note_text: str) -> int:
    """The tree size a checkpoint note states, read without checking its signature:
    for notes the caller's own log has just signed or verified (a publisher learning
    what its fresh checkpoint covers); anything received goes through
    :func:`open_checkpoint`."""
    try:
        return int(note_text.split("\n", 2)[1])
    except (IndexError, ValueError):
        raise CheckpointError("a checkpoint's second line must be its tree size") from None
