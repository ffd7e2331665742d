"""``hedui keys``: run the CA, issue participant keys, sign the trust bundle, inspect files.

Commands call the same public API as servers do; every user error is a HeduiError that
the umbrella CLI prints as one line. Passphrases come from environment variables only
(``--passphrase-env VAR``, default ``HEDUI_KEY_PASSPHRASE``), never from argv, which
``ps`` shows to every user on the host.

Files (names are fixed so deployments can rely on them):

* ``init --dir DIR``: ``ca.crt``, ``ca.key``, ``root.key``, ``root.pub``
* ``issue --out DIR``: ``tls.crt``, ``tls.key``, ``signing.key``, ``signing.pub``, ``ca.crt``
  (and ``box.key``, the X25519 key offline bundles are sealed to, with ``--box``)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nacl.public
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hedui.errors import HeduiError
from hedui.keys import ca, dsse, keyfile, signing
from hedui.keys._files import read_limited, write_atomic
from hedui.keys.bundle import (
    LEGACY_LIFETIME,
    Bundle,
    TrustStore,
    bundle_from_toml,
    sign_bundle,
)
from hedui.keys.bundle_toml import DEFAULT_VALID_DAYS, MAX_VALID_DAYS
from hedui.keys.errors import (
    EnvelopeError,
    KeysError,
    PassphraseRequired,
    RefusingToOverwrite,
    UnrecognizedFile,
)
from hedui.keys.identity import parse_id, spiffe_ids_of_certificate
from hedui.v1 import envelope_pb2, trust_pb2

CA_CERT, CA_KEY, ROOT_KEY, ROOT_PUB = "ca.crt", "ca.key", "root.key", "root.pub"
TLS_CERT, TLS_KEY, SIGNING_KEY, SIGNING_PUB = "tls.crt", "tls.key", "signing.key", "signing.pub"
BOX_KEY = "box.key"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``keys`` command group to the umbrella parser."""
    group = subparsers.add_parser(
        "keys",
        help="CA, certificates, signing keys and the signed trust bundle",
        description="Run the center's CA, issue participant keys, sign the trust bundle.",
    )
    group.set_defaults(func=lambda _args: group.print_help() or 2)
    sub = group.add_subparsers(dest="keys_command", metavar="COMMAND")

    p = sub.add_parser("init", help="create the CA and the center's root signing key")
    p.add_argument("--domain", required=True, help="trust domain, e.g. county.example")
    p.add_argument("--dir", required=True, type=Path, help="directory to write into")
    p.add_argument("--days", type=int, default=3650, help="CA validity (default 3650)")
    _passphrase_arg(p, "encrypt the new private keys with the passphrase in VAR")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("issue", help="issue a participant's TLS certificate and signing key")
    p.add_argument("--ca-dir", required=True, type=Path, help="directory made by `keys init`")
    p.add_argument("--id", required=True, help="spiffe://<domain>/agent/<department> or similar")
    p.add_argument("--out", required=True, type=Path, help="directory to write into")
    p.add_argument("--dns", action="append", default=[],
                   help="DNS SAN the peers dial, e.g. banks-agent.county.example (repeat; the "
                        "id's own name <name>.<kind>.<domain> is always included)")
    p.add_argument("--ip", action="append", default=[],
                   help="IP SAN, e.g. 127.0.0.1 for a trial on one machine (repeat; none "
                        "unless asked)")
    p.add_argument("--days", type=int, default=397, help="certificate validity (default 397)")
    p.add_argument(
        "--box", action="store_true", help="also make an X25519 key for sealed offline bundles"
    )
    _passphrase_arg(p, "encrypt the new private keys with the passphrase in VAR")
    p.add_argument(
        "--ca-passphrase-env", metavar="VAR", help="read the CA key's passphrase from VAR"
    )
    p.set_defaults(func=cmd_issue)

    p = sub.add_parser("bundle", help="build and sign the trust bundle from TOML")
    p.add_argument("--config", required=True, type=Path, help="trust bundle TOML")
    p.add_argument("--root-key", required=True, type=Path, help="the center's root.key")
    p.add_argument("--out", required=True, type=Path, help="signed bundle file to write")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.add_argument(
        "--valid-days", type=int, metavar="N",
        help=f"the bundle expires N days after signing (default: the TOML's valid_days or "
             f"valid_until, else {DEFAULT_VALID_DAYS}; at most {MAX_VALID_DAYS})",
    )
    _passphrase_arg(p, "read the root key's passphrase from VAR")
    p.set_defaults(func=cmd_bundle)

    p = sub.add_parser("show", help="describe a certificate, key or signed bundle file")
    p.add_argument("file", type=Path)
    p.add_argument("--root-pub", type=Path, help="check a signed file against this public key")
    p.add_argument("--ca", type=Path, help="check a certificate chains to this CA file")
    _passphrase_arg(p, "read a private key's passphrase from VAR")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("secret", help="make a secret key file (audit pseudonyms, answers at rest)")
    p.add_argument("--out", required=True, type=Path, help="file to write (mode 0600)")
    p.set_defaults(func=cmd_secret)


def _passphrase_arg(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help=f"{text} (default: {keyfile.PASSPHRASE_ENV}, if set)",
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _refuse_existing(paths: list[Path]) -> None:
    for path in paths:
        if path.exists():
            raise RefusingToOverwrite(path)


def _make_dir(path: Path) -> None:
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise KeysError(f"cannot create directory {path}: {exc.strerror}") from None


# --- init ------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    passphrase = keyfile.passphrase_from_env(args.passphrase_env)
    out: Path = args.dir
    targets = [out / CA_CERT, out / CA_KEY, out / ROOT_KEY, out / ROOT_PUB]
    _refuse_existing(targets)
    cert, key = ca.create_ca(args.domain, now=_now(), days=args.days)
    root = signing.generate_signing_key()
    _make_dir(out)
    keyfile.write_private_key(out / CA_KEY, key, passphrase)
    keyfile.write_private_key(out / ROOT_KEY, root, passphrase)
    ca.write_certificate(out / CA_CERT, cert)
    signing.write_public_key(out / ROOT_PUB, root)
    enc = ", encrypted" if passphrase else ""
    print(f"wrote {out / CA_CERT}  (CA certificate, sha256 {ca.cert_fingerprint(cert)})")
    print(f"wrote {out / CA_KEY}  (CA private key, mode 0600{enc})")
    print(f"wrote {out / ROOT_KEY}  (root signing key, mode 0600{enc})")
    print(f"wrote {out / ROOT_PUB}  (root public key: pin it in every participant)")
    print(f"trust domain: {args.domain}")
    print(f"root keyid: {signing.keyid(root)}")
    return 0


# --- issue -----------------------------------------------------------------------


def cmd_issue(args: argparse.Namespace) -> int:
    parsed = parse_id(args.id)
    if parsed.kind == "staff":
        return _issue_personal(args)
    passphrase = keyfile.passphrase_from_env(args.passphrase_env)
    ca_passphrase = keyfile.passphrase_from_env(args.ca_passphrase_env)
    ca_cert = ca.load_certificate(args.ca_dir / CA_CERT)
    ca_key = _load_ca_key(args.ca_dir / CA_KEY, ca_passphrase)
    out: Path = args.out
    names = [TLS_CERT, TLS_KEY, SIGNING_KEY, SIGNING_PUB, CA_CERT] + ([BOX_KEY] if args.box else [])
    targets = [out / n for n in names]
    _refuse_existing(targets)
    cert, key = ca.issue_certificate(
        ca_cert,
        ca_key,  # type: ignore[arg-type]
        args.id,
        dns_names=tuple(args.dns),
        ip_addresses=tuple(args.ip),
        days=args.days,
        now=_now(),
    )
    sk = signing.generate_signing_key()
    _make_dir(out)
    keyfile.write_private_key(out / TLS_KEY, key, passphrase)
    keyfile.write_private_key(out / SIGNING_KEY, sk, passphrase)
    ca.write_certificate(out / TLS_CERT, cert)
    ca.write_certificate(out / CA_CERT, ca_cert)
    signing.write_public_key(out / SIGNING_PUB, sk)
    box = nacl.public.PrivateKey.generate() if args.box else None
    if box is not None:
        keyfile.write_private_key(out / BOX_KEY, box, passphrase)
    fingerprint = ca.cert_fingerprint(cert)
    for name in names:
        print(f"wrote {out / name}")
    print(f"id: {args.id}")
    print(f"certificate sha256: {fingerprint}")
    print(f"signing keyid: {signing.keyid(sk)}")
    print("for the trust bundle TOML:")
    print("  [[participants]]")
    print(f'  id = "{args.id}"')
    print(f'  certificate_sha256 = ["{fingerprint}"]')
    print("  [[participants.signing_keys]]")
    print(f'  public_key = "{signing.public_key_base64(sk)}"')
    if box is not None:
        print("  # and under [[participants]] (the box key is X25519):")
        print(f'  box_public_key = "{base64.b64encode(bytes(box.public_key)).decode()}"')
    return 0


def _issue_personal(args: argparse.Namespace) -> int:
    """A staff member's personal certificate (``…/staff/<staff-id>``): TLS only. A person
    signs nothing in the exchange, so no signing key, and they are no participant of the
    trust bundle; the gateway takes the operator from the certificate and the staff
    registry (``hedui staff add``) decides what they may do."""
    if args.box:
        raise HeduiError("a personal staff certificate has no box key (--box is for "
                         "offline participants)")
    passphrase = keyfile.passphrase_from_env(args.passphrase_env)
    ca_passphrase = keyfile.passphrase_from_env(args.ca_passphrase_env)
    ca_cert = ca.load_certificate(args.ca_dir / CA_CERT)
    ca_key = _load_ca_key(args.ca_dir / CA_KEY, ca_passphrase)
    out: Path = args.out
    names = [TLS_CERT, TLS_KEY, CA_CERT]
    _refuse_existing([out / n for n in names])
    cert, key = ca.issue_certificate(
        ca_cert, ca_key, args.id, dns_names=tuple(args.dns),  # type: ignore[arg-type]
        ip_addresses=tuple(args.ip), days=args.days, now=_now(),
    )
    _make_dir(out)
    keyfile.write_private_key(out / TLS_KEY, key, passphrase)
    ca.write_certificate(out / TLS_CERT, cert)
    ca.write_certificate(out / CA_CERT, ca_cert)
    for name in names:
        print(f"wrote {out / name}")
    print(f"id: {args.id}")
    print(f"certificate sha256: {ca.cert_fingerprint(cert)}")
    staff = args.id.rsplit("/", 1)[1]
    print(f"personal certificate of staff member {staff}: the gateway takes the operator "
          f"from it; register them with `hedui staff add {staff} --roles … --config "
          "gateway.toml --by ADMIN-ID`")
    return 0


# --- bundle ----------------------------------------------------------------------


def cmd_bundle(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.force:
        raise RefusingToOverwrite(args.out)
    passphrase = keyfile.passphrase_from_env(args.passphrase_env)
    root = keyfile.load_signing_key(args.root_key, passphrase)
    message = bundle_from_toml(args.config, now=_now(), valid_days=args.valid_days)
    envelope = sign_bundle(message, root)
    data = envelope.SerializeToString(deterministic=True)
    write_atomic(args.out, data, mode=0o644, overwrite=args.force)
    print(f"wrote {args.out}")
    print(f"trust domain: {message.trust_domain}")
    print(f"serial: {message.serial}")
    print(f"valid until: {_lifetime(Bundle(message))}")
    print(f"participants: {len(message.participants)}")
    print(f"policies: {len(message.policies)}")
    print(f"signed by root keyid: {signing.keyid(root)}")
    print(f"sha256 (file): {hashlib.sha256(data).hexdigest()}")
    print(f"sha256 (payload): {hashlib.sha256(envelope.payload).hexdigest()}")
    return 0


# --- show ------------------------------------------------------------------------


def cmd_show(args: argparse.Namespace) -> int:
    path: Path = args.file
    data = read_limited(path)
    text = data.lstrip()
    if text.startswith(b"-----BEGIN"):
        if b"PRIVATE KEY-----" in text:
            passphrase = keyfile.passphrase_from_env(args.passphrase_env)
            return _show_private_key(path, passphrase, encrypted=b"ENCRYPTED" in text)
        if b"-----BEGIN CERTIFICATE-----" in text:
            return _show_certificates(path, args.ca)
        if b"-----BEGIN PUBLIC KEY-----" in text:
            return _show_public_key(data)
        raise UnrecognizedFile(f"{path} holds a PEM block hedui does not know")
    if len(text.strip()) == 44:
        try:
            return _show_public_key(data)
        except KeysError:
            pass
    try:
        envelope = dsse.parse_envelope(data)
    except EnvelopeError:
        envelope = None
    if envelope is not None and envelope.payload_type and envelope.signatures:
        return _show_envelope(path, envelope, args.root_pub)
    try:
        x509.load_der_x509_certificate(data)
    except ValueError:
        raise UnrecognizedFile(
            f"{path} is not a certificate, key or signed envelope that hedui knows"
        ) from None
    return _show_certificates(path, args.ca)


def _show_private_key(path: Path, passphrase: bytes | None, *, encrypted: bool) -> int:
    try:
        key = keyfile.load_private_key(path, passphrase)  # checks the mode first
    except PassphraseRequired:
        print(f"file: {path}")
        print("kind: encrypted private key (PKCS#8)")
        print(f"mode: {_mode(path):04o} (ok)")
        print(f"public key: not shown; set {keyfile.PASSPHRASE_ENV} to decrypt it")
        return 0
    print(f"file: {path}")
    if isinstance(key, ed25519.Ed25519PrivateKey):
        print("kind: Ed25519 signing key")
        print(f"keyid: {signing.keyid(key)}")
    elif isinstance(key, x25519.X25519PrivateKey):
        print("kind: X25519 box key (offline bundles)")
        print(f"box_public_key: {base64.b64encode(key.public_key().public_bytes_raw()).decode()}")
    else:
        spki = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        print(f"kind: {keyfile.key_kind(key)} private key (TLS)")
        print(f"public key sha256 (SPKI): {hashlib.sha256(spki).hexdigest()}")
    print(f"mode: {_mode(path):04o} (ok)")
    print(f"encrypted: {'yes' if encrypted else 'no'}")
    return 0


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _show_public_key(data: bytes) -> int:
    vk = signing.parse_public_key(data)
    print("kind: Ed25519 public key")
    print(f"keyid: {signing.keyid(vk)}")
    print(f"base64: {signing.public_key_base64(vk)}")
    return 0


def _show_certificates(path: Path, ca_path: Path | None) -> int:
    certs = ca.load_certificates(path)
    for i, cert in enumerate(certs):
        if i:
            print()
        _print_certificate(cert)
    if ca_path is not None:
        spiffe = ca.verify_certificate(certs[0], ca.load_certificates(ca_path), now=_now())
        print(f"chain: verified against {ca_path} ({spiffe})")
    return 0


def _print_certificate(cert: x509.Certificate) -> None:
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = bc.ca
    except x509.ExtensionNotFound:
        is_ca = False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = san.get_values_for_type(x509.DNSName)
        ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        dns, ips = [], []
    ids = spiffe_ids_of_certificate(cert)
    print(f"kind: X.509 {'CA ' if is_ca else ''}certificate")
    print(f"subject: {cert.subject.rfc4514_string()}")
    print(f"issuer: {cert.issuer.rfc4514_string()}")
    if is_ca:
        print(f"trust domain: {ca.trust_domain_of_ca(cert) or '(none)'}")
    else:
        print(f"spiffe id: {', '.join(ids) if ids else '(none)'}")
    if dns or ips:
        print(f"dns/ip: {', '.join([*dns, *ips])}")
    print(f"not before: {cert.not_valid_before_utc.isoformat()}")
    print(f"not after: {cert.not_valid_after_utc.isoformat()}")
    print(f"sha256: {ca.cert_fingerprint(cert)}")


def _show_envelope(path: Path, envelope: envelope_pb2.Envelope, root_pub: Path | None) -> int:
    print(f"file: {path}")
    print(f"kind: signed envelope ({envelope.payload_type})")
    digest = hashlib.sha256(envelope.payload).hexdigest()
    print(f"payload: {len(envelope.payload)} bytes, sha256 {digest}")
    for sig in envelope.signatures:
        print(f"signer keyid: {sig.keyid}")
    if envelope.payload_type == dsse.TRUST_BUNDLE_TYPE:
        _print_bundle(Bundle.from_payload(envelope.payload))
    if root_pub is None:
        print("signature: not checked (give --root-pub FILE to check it)")
        return 0
    root = signing.read_public_key(root_pub)
    now = _now()
    try:
        if envelope.payload_type == dsse.TRUST_BUNDLE_TYPE:
            TrustStore(root).verify(envelope, now)
        else:
            lookup = _SingleKey(root)
            dsse.verify(envelope, lookup, payload_type=envelope.payload_type, now=now)
    except EnvelopeError:
        print("signature: DOES NOT VERIFY")
        raise
    print(f"signature: verified with {root_pub} (keyid {signing.keyid(root)})")
    return 0


class _SingleKey:
    def __init__(self, key: object) -> None:
        self.key = signing.verify_key(key)  # type: ignore[arg-type]
        self.keyid = signing.keyid(self.key)

    def signing_key(self, keyid: str, at: datetime) -> dsse.TrustedKey:
        if keyid != self.keyid:
            raise dsse.UnknownKey(keyid, f"the envelope is not signed by key {self.keyid}")
        return dsse.TrustedKey(self.key, "the given key")


def _print_bundle(bundle: Bundle) -> None:
    msg = bundle.proto
    print(f"trust domain: {bundle.trust_domain}")
    print(f"serial: {bundle.serial}")
    print(f"issued at: {bundle.issued_at.isoformat()}")
    print(f"valid until: {_lifetime(bundle)}")
    for cert in bundle.ca_certificates():
        subject = cert.subject.rfc4514_string()
        print(f"ca certificate: {subject} sha256 {ca.cert_fingerprint(cert)}")
    print(f"participants: {len(msg.participants)}")
    for p in msg.participants:
        flags = [trust_pb2.Role.Name(p.role).removeprefix("ROLE_").lower()]
        if p.offline:
            flags.append("offline")
        where = p.endpoint or "-"
        print(f"  {p.id}  [{', '.join(flags)}]  {where}  keys: {len(p.signing_keys)}")
    for r in msg.revoked_keys:
        print(f"revoked: {r.keyid} ({r.reason or 'no reason given'})")
    print(f"policies: {len(msg.policies)}")
    for policy in msg.policies:
        consent = "consent required" if policy.consent_required else "no consent needed"
        print(f"  {policy.purpose}: {consent}, retention {policy.retention_days} days")
        for dep in policy.departments:
            print(f"    {dep.department}: {', '.join(dep.field_paths)}")


def _lifetime(bundle: Bundle) -> str:
    """``2026-06-01T12:00:00+00:00 (90 days left)``, or ``… (EXPIRED …)``."""
    until, left = bundle.valid_until, bundle.remaining(_now())
    if until is None or left is None:
        return "unknown (the bundle states neither valid_until nor issued_at)"
    legacy = ("" if bundle.proto.HasField("valid_until")
              else f"; none stated, so {LEGACY_LIFETIME.days} days from issued_at")
    if left <= timedelta(0):
        return f"{until.isoformat()} (EXPIRED{legacy}; sign a new bundle)"
    return f"{until.isoformat()} ({left.days} days left{legacy})"


def cmd_secret(args: argparse.Namespace) -> int:
    """32 random bytes as hex, mode 0600: the pseudonym key or the answers key."""
    from hedui.keys.secrets import generate_secret, write_secret

    path = write_secret(args.out, generate_secret())
    print(f"wrote {path} (32 random bytes, mode 0600); keep it like a private key")
    return 0


def _load_ca_key(path: Path, passphrase: bytes | None):  # type: ignore[no-untyped-def]
    """The CA's key; an encrypted one without its passphrase names this command's own
    flag (--ca-passphrase-env), not the flag for the new keys' passphrase."""
    try:
        return keyfile.load_tls_private_key(path, passphrase)
    except PassphraseRequired:
        raise PassphraseRequired(path, "--ca-passphrase-env VAR") from None
