"""Build a TrustBundle from the administrator's TOML (see ``keys/example-trust.toml``).

The administrator edits this by hand, so every mistake is reported as one sentence that
names the file and the TOML key (``participants[2].signing_keys[0].not_after``) or the
line for syntax errors; unknown keys are refused (with a suggestion) rather than
silently ignored, since a misspelt ``consent_required`` must not weaken a policy.
Relative file paths in the TOML are resolved against the TOML file's directory.

The bundle's lifetime is ``valid_days`` (default :data:`DEFAULT_VALID_DAYS`) from
``issued_at``, or an explicit ``valid_until``; at most :data:`MAX_VALID_DAYS`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import difflib
import os
import re
import tomllib
from pathlib import Path
from typing import Any, NoReturn

from google.protobuf import timestamp_pb2

from hedui.keys._files import read_limited
from hedui.keys.bundle_rules import (
    ROLE_BY_KIND,
    check_ca_certificate,
    check_field_path,
    check_hex256,
    check_participant,
    check_policy,
    check_purpose,
    check_signing_key,
    validate_bundle,
)
from hedui.keys.errors import (
    BundleConfigError,
    CertificateError,
    InvalidBundle,
    InvalidIdentity,
    KeysError,
)
from hedui.keys.identity import parse_id
from hedui.keys.signing import keyid as compute_keyid
from hedui.keys.signing import parse_public_key, public_key_bytes, read_public_key
from hedui.timestamps import from_timestamp, to_timestamp
from hedui.v1 import trust_pb2

__all__ = ["DEFAULT_VALID_DAYS", "MAX_VALID_DAYS", "BundleConfigError", "bundle_from_toml"]

#: a bundle's life unless the TOML or ``--valid-days`` says otherwise: bundles travel by
#: hand (docs/guide-administrator.md), so a quarter gives time to publish the next one
DEFAULT_VALID_DAYS = 90
#: the longest life a bundle may be given: a lifetime of years would be none at all
MAX_VALID_DAYS = 366

_TOP = {"trust_domain", "serial", "issued_at", "valid_until", "valid_days", "ca_certificates",
        "participants", "revoked", "policies"}  # fmt: skip
_PARTICIPANT = {"id", "role", "department", "endpoint", "certificate_sha256", "offline",
                "display_name", "box_public_key", "signing_keys", "leader", "liaison"}  # fmt: skip
#: a member unit's responsible leader (分管领导) or liaison (联络员): whom to call
_CONTACT = {"name", "phone"}
_PHONE_RE = re.compile(r"\+?[0-9][0-9 -]{2,30}")
_SIGNING_KEY = {"public_key", "public_key_file", "keyid", "not_before", "not_after"}
_REVOKED = {"keyid", "revoked_at", "reason"}
_POLICY = {"description", "consent_required", "retention_days", "departments"}
_UINT32_MAX = 2**32 - 1
_UINT64_MAX = 2**64 - 1


def bundle_from_toml(
    path_or_text: str | bytes | os.PathLike[str],
    *,
    now: dt.datetime | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    valid_days: int | None = None,
) -> trust_pb2.TrustBundle:
    """Parse and check the trust bundle TOML; return the TrustBundle to sign.

    ``path_or_text``: a ``Path`` (or a ``str`` without a newline) is a file to read; ``bytes``
    or a ``str`` with newlines is the TOML itself, whose relative paths resolve against
    ``base_dir`` (default: the current directory). ``issued_at`` defaults to ``now``
    (default: the current time). ``valid_days`` (``hedui keys bundle --valid-days``)
    overrides the TOML's ``valid_days`` and may not be combined with its ``valid_until``.
    Raises BundleConfigError naming the line or key.
    """
    if isinstance(path_or_text, bytes):
        source, text, base = "trust bundle TOML", path_or_text.decode("utf-8", "replace"), None
    elif isinstance(path_or_text, str) and "\n" in path_or_text:
        source, text, base = "trust bundle TOML", path_or_text, None
    else:
        path = Path(path_or_text)
        try:
            raw = read_limited(path)
        except KeysError as exc:
            raise BundleConfigError(str(exc)) from None
        source, text, base = str(path), raw.decode("utf-8", "replace"), path.parent
    if base_dir is not None:
        base = Path(base_dir)
    reader = _Reader(source, base or Path.cwd())
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reader.syntax_error(exc)
    when = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    if when.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    bundle = reader.bundle(data, when)
    reader.lifetime(data, bundle, valid_days)
    try:
        validate_bundle(bundle)
    except InvalidBundle as exc:
        raise BundleConfigError(f"{source}: {exc}") from None
    return bundle


class _Reader:
    """Reads one TOML document, remembering where it is for error messages."""

    def __init__(self, source: str, base: Path) -> None:
        self.source = source
        self.base = base

    # --- errors ------------------------------------------------------------------

    def fail(self, key: str, problem: str) -> NoReturn:
        raise BundleConfigError(f"{self.source}: {key}: {problem}")

    def syntax_error(self, exc: tomllib.TOMLDecodeError) -> NoReturn:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        if m:
            what = msg[: m.start()].strip().rstrip(".")
            raise BundleConfigError(
                f"{self.source}: line {m[1]}, column {m[2]}: {what[:1].lower()}{what[1:]}"
            ) from None
        raise BundleConfigError(f"{self.source}: {msg}") from None

    def rewrap(self, key: str, exc: Exception) -> NoReturn:
        self.fail(key, str(exc))

    # --- typed access ------------------------------------------------------------

    def table(self, value: Any, key: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(key, f"expected a table, got {_kind(value)}")
        for name in value:
            if name not in allowed:
                close = difflib.get_close_matches(name, sorted(allowed), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.fail(
                    f"{key}.{name}" if key else name,
                    f"unknown key{hint} (allowed: {', '.join(sorted(allowed))})",
                )
        return value

    def get(self, t: dict[str, Any], key: str, name: str, kind: type | tuple[type, ...],
            *, required: bool = False) -> Any:  # fmt: skip
        full = f"{key}.{name}" if key else name
        if name not in t:
            if required:
                self.fail(full, "is required")
            return None
        value = t[name]
        # TOML booleans are not integers here, whatever Python thinks
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            self.fail(full, f"expected {_names(kind)}, got a boolean")
        if not isinstance(value, kind):
            self.fail(full, f"expected {_names(kind)}, got {_kind(value)}")
        return value

    def string(self, t: dict[str, Any], key: str, name: str, *, required: bool = False) -> str:
        value = self.get(t, key, name, str, required=required)
        return "" if value is None else value

    def strings(self, t: dict[str, Any], key: str, name: str) -> list[str]:
        value = self.get(t, key, name, (list, str))
        if value is None:
            return []
        items = [value] if isinstance(value, str) else value
        for i, item in enumerate(items):
            if not isinstance(item, str):
                self.fail(f"{key}.{name}[{i}]" if key else f"{name}[{i}]", "expected a string")
        return items

    def timestamp(self, t: dict[str, Any], key: str, name: str) -> timestamp_pb2.Timestamp | None:
        full = f"{key}.{name}" if key else name
        value = t.get(name)
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            self.fail(full, f"expected a datetime like 2026-01-01T00:00:00Z, got {_kind(value)}")
        if value.tzinfo is None:
            self.fail(full, "the datetime has no time zone; add one, e.g. 2026-01-01T00:00:00Z")
        return to_timestamp(value.astimezone(dt.UTC))

    def path(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base / p

    # --- the document ------------------------------------------------------------

    def bundle(self, data: dict[str, Any], now: dt.datetime) -> trust_pb2.TrustBundle:
        self.table(data, "", _TOP)
        domain = self.string(data, "", "trust_domain", required=True)
        try:
            parse_id(f"spiffe://{domain}/gateway/x")
        except InvalidIdentity as exc:
            self.rewrap("trust_domain", exc)
        serial = self.get(data, "", "serial", int, required=True)
        if not 1 <= serial <= _UINT64_MAX:
            self.fail("serial", "must be a whole number from 1 up; raise it for every new bundle")
        bundle = trust_pb2.TrustBundle(trust_domain=domain, serial=serial)
        issued = self.timestamp(data, "", "issued_at")
        if issued is None:
            to_timestamp(now.astimezone(dt.UTC), bundle.issued_at)
        else:
            bundle.issued_at.CopyFrom(issued)
        for i, ca in enumerate(self.strings(data, "", "ca_certificates")):
            bundle.ca_certificates.extend(self.ca_certificates(f"ca_certificates[{i}]", ca))
        participants = self.get(data, "", "participants", list) or []
        for i, p in enumerate(participants):
            bundle.participants.append(self.participant(p, f"participants[{i}]", domain))
        for i, r in enumerate(self.get(data, "", "revoked", list) or []):
            bundle.revoked_keys.append(self.revoked(r, f"revoked[{i}]"))
        policies = self.get(data, "", "policies", dict) or {}
        for purpose, policy in policies.items():
            bundle.policies.append(self.policy(purpose, policy, f"policies.{purpose}"))
        return bundle

    def lifetime(self, data: dict[str, Any], bundle: trust_pb2.TrustBundle,
                 override: int | None) -> None:  # fmt: skip
        """Set ``valid_until`` from the TOML's ``valid_until`` / ``valid_days`` or ``override``."""
        until = self.timestamp(data, "", "valid_until")
        days = self.get(data, "", "valid_days", int)
        if until is not None and days is not None:
            self.fail("valid_until", "give valid_until or valid_days, not both")
        if until is not None and override is not None:
            self.fail("valid_until", "is set in the file; leave out --valid-days or remove it")
        issued = from_timestamp(bundle.issued_at)
        if until is None:
            key = "--valid-days" if override is not None else "valid_days"
            days = override if override is not None else days
            days = DEFAULT_VALID_DAYS if days is None else days
            if not 1 <= days <= MAX_VALID_DAYS:
                self.fail(key, f"must be from 1 to {MAX_VALID_DAYS} days, not {days}")
            to_timestamp(issued + dt.timedelta(days=days), bundle.valid_until)
            return
        end = from_timestamp(until)
        if end <= issued:
            self.fail("valid_until", f"is not after issued_at ({issued.isoformat()})")
        if end - issued > dt.timedelta(days=MAX_VALID_DAYS):
            self.fail("valid_until", f"is more than {MAX_VALID_DAYS} days after issued_at")
        bundle.valid_until.CopyFrom(until)

    def ca_certificates(self, key: str, value: str) -> list[bytes]:
        from cryptography.hazmat.primitives.serialization import Encoding

        from hedui.keys.ca import load_certificates

        try:
            certs = load_certificates(self.path(value))
        except (KeysError, CertificateError) as exc:
            self.rewrap(key, exc)
        ders = [c.public_bytes(Encoding.DER) for c in certs]
        for der in ders:
            try:
                check_ca_certificate(der)
            except InvalidBundle as exc:
                self.rewrap(key, exc)
        return ders

    def participant(self, value: Any, key: str, domain: str) -> trust_pb2.Participant:
        t = self.table(value, key, _PARTICIPANT)
        pid = self.string(t, key, "id", required=True)
        try:
            sid = parse_id(pid)
        except InvalidIdentity as exc:
            self.rewrap(f"{key}.id", exc)
        if sid.kind not in ROLE_BY_KIND:  # a desk, a person or a console: no participant
            self.fail(f"{key}.id", f"{pid} is a {sid.kind} identity, not an exchange "
                      f"participant (kinds: {', '.join(ROLE_BY_KIND)})")
        role = self.string(t, key, "role") or sid.kind
        if role not in ROLE_BY_KIND:
            self.fail(f"{key}.role", f"{role!r} is not one of {', '.join(ROLE_BY_KIND)}")
        p = trust_pb2.Participant(
            id=pid,
            role=ROLE_BY_KIND[role],
            department=self.string(t, key, "department")
            or (sid.name if sid.kind == "agent" else ""),
            endpoint=self.string(t, key, "endpoint"),
            offline=bool(self.get(t, key, "offline", bool)),
            display_name=self.string(t, key, "display_name"),
        )
        for j, fp in enumerate(self.strings(t, key, "certificate_sha256")):
            normal = fp.replace(":", "").lower()
            try:
                check_hex256(normal, "certificate SHA-256")
            except InvalidBundle as exc:
                self.rewrap(f"{key}.certificate_sha256[{j}]", exc)
            p.certificate_sha256.append(normal)
        for which in ("leader", "liaison"):
            if which in t:
                getattr(p, which).CopyFrom(self.contact(t[which], f"{key}.{which}"))
        box = self.string(t, key, "box_public_key")
        if box:
            p.box_public_key = self.base64_key(box, f"{key}.box_public_key")
        for j, k in enumerate(self.get(t, key, "signing_keys", list) or []):
            p.signing_keys.append(self.signing_key(k, f"{key}.signing_keys[{j}]"))
        try:
            check_participant(p, domain)
        except InvalidBundle as exc:
            self.rewrap(key, exc)
        return p

    def contact(self, value: Any, key: str) -> trust_pb2.Contact:
        """``{ name = "…", phone = "…" }``: a name and a work phone, both required."""
        t = self.table(value, key, _CONTACT)
        name = self.string(t, key, "name", required=True).strip()
        phone = self.string(t, key, "phone", required=True).strip()
        if not name or len(name) > 64 or not name.isprintable():
            self.fail(f"{key}.name", "a name is 1 to 64 printable characters")
        if not _PHONE_RE.fullmatch(phone):
            self.fail(f"{key}.phone", f"{phone!r} is not a phone number (digits, spaces, "
                      "'-', an optional leading '+')")
        return trust_pb2.Contact(name=name, phone=phone)

    def base64_key(self, value: str, key: str) -> bytes:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            self.fail(key, "is not valid base64")
        if len(raw) != 32:
            self.fail(key, f"decodes to {len(raw)} bytes; a key has 32")
        return raw

    def signing_key(self, value: Any, key: str) -> trust_pb2.SigningKey:
        t = self.table(value, key, _SIGNING_KEY)
        inline = self.string(t, key, "public_key")
        file = self.string(t, key, "public_key_file")
        if bool(inline) == bool(file):
            self.fail(key, "give exactly one of public_key (base64) or public_key_file")
        try:
            vk = parse_public_key(inline) if inline else read_public_key(self.path(file))
        except KeysError as exc:  # InvalidPublicKey, or the file is missing
            self.rewrap(f"{key}.{'public_key' if inline else 'public_key_file'}", exc)
        sk = trust_pb2.SigningKey(keyid=compute_keyid(vk), public_key=public_key_bytes(vk))
        stated = self.string(t, key, "keyid")
        if stated and stated != sk.keyid:
            self.fail(f"{key}.keyid", f"{stated} is not the keyid of this key ({sk.keyid})")
        for name in ("not_before", "not_after"):
            ts = self.timestamp(t, key, name)
            if ts is not None:
                getattr(sk, name).CopyFrom(ts)
        try:
            check_signing_key(sk)
        except InvalidBundle as exc:
            self.rewrap(key, exc)
        return sk

    def revoked(self, value: Any, key: str) -> trust_pb2.RevokedKey:
        t = self.table(value, key, _REVOKED)
        keyid = self.string(t, key, "keyid", required=True)
        try:
            check_hex256(keyid, "keyid")
        except InvalidBundle as exc:
            self.rewrap(f"{key}.keyid", exc)
        r = trust_pb2.RevokedKey(keyid=keyid, reason=self.string(t, key, "reason"))
        ts = self.timestamp(t, key, "revoked_at")
        if ts is None:
            self.fail(f"{key}.revoked_at", "is required (when the key stopped being trusted)")
        r.revoked_at.CopyFrom(ts)
        return r

    def policy(self, purpose: str, value: Any, key: str) -> trust_pb2.PurposePolicy:
        try:
            check_purpose(purpose)
        except InvalidBundle as exc:
            self.rewrap(key, exc)
        t = self.table(value, key, _POLICY)
        consent = self.get(t, key, "consent_required", bool)
        retention = self.get(t, key, "retention_days", int, required=True)
        if not 1 <= retention <= _UINT32_MAX:
            self.fail(f"{key}.retention_days", "must be 1 or more")
        policy = trust_pb2.PurposePolicy(
            purpose=purpose,
            consent_required=True if consent is None else consent,
            retention_days=retention,
            description=self.string(t, key, "description"),
        )
        departments = self.get(t, key, "departments", dict, required=True)
        for department, paths in departments.items():
            dkey = f"{key}.departments.{department}"
            if not isinstance(paths, list) or not all(isinstance(x, str) for x in paths):
                self.fail(dkey, "expected a list of field paths (strings)")
            for j, path in enumerate(paths):
                try:
                    check_field_path(path)
                except InvalidBundle as exc:
                    self.rewrap(f"{dkey}[{j}]", exc)
            policy.departments.add(department=department, field_paths=paths)
        try:
            check_policy(policy)
        except InvalidBundle as exc:
            self.rewrap(key, exc)
        return policy


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dt.datetime):
        return "a datetime"
    if isinstance(value, dt.date):
        return "a date without time"
    return {
        str: "a string",
        int: "an integer",
        float: "a float",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(_kind(k()) if k is not dt.datetime else "a datetime" for k in kinds)
