"""Every error ``hedui.keys`` raises, in one place so servers can map them to statuses.

Each class is a :class:`~hedui.errors.HeduiError`: ``str(err)`` is one sentence a user
can act on. ``reason`` is a stable UPPER_SNAKE code a server may put in a gRPC status
detail, so a peer learns *which* check failed without parsing English. The modules that
raise an error also re-export it (``hedui.keys.dsse.BadSignature`` is this class).
"""

from __future__ import annotations

from hedui.errors import HeduiError


class KeysError(HeduiError):
    """Base of every error in ``hedui.keys``."""

    reason: str = "KEYS_ERROR"


# --- files -------------------------------------------------------------------------


class RefusingToOverwrite(KeysError):
    """A write would replace an existing file and the caller did not ask for that."""

    reason = "FILE_EXISTS"

    def __init__(self, path: object) -> None:
        self.path = str(path)
        super().__init__(
            f"{self.path} already exists; refusing to overwrite it (move it away first)"
        )


class KeyFileError(KeysError):
    """A private key file cannot be used."""

    reason = "KEY_FILE"


class KeyFileNotFound(KeyFileError):
    reason = "KEY_FILE_NOT_FOUND"

    def __init__(self, path: object) -> None:
        self.path = str(path)
        super().__init__(f"private key file {self.path} does not exist")


class InsecureKeyFileError(KeyFileError):
    """The key file's mode lets group or others read or write it (like ssh, we refuse)."""

    reason = "INSECURE_KEY_FILE"

    def __init__(self, path: object, mode: int) -> None:
        self.path = str(path)
        self.mode = mode
        super().__init__(
            f"private key {self.path} is readable by group or others (mode {mode:04o}); "
            f"run: chmod 600 {self.path}"
        )


class PassphraseRequired(KeyFileError):
    reason = "PASSPHRASE_REQUIRED"

    def __init__(self, path: object, flag: str = "--passphrase-env VAR") -> None:
        self.path = str(path)
        super().__init__(
            f"private key {self.path} is encrypted; give its passphrase "
            f"(set HEDUI_KEY_PASSPHRASE or use {flag})"
        )


class WrongPassphrase(KeyFileError):
    reason = "WRONG_PASSPHRASE"

    def __init__(self, path: object) -> None:
        self.path = str(path)
        super().__init__(f"the passphrase does not decrypt private key {self.path}")


class NotAPrivateKey(KeyFileError):
    reason = "NOT_A_PRIVATE_KEY"

    def __init__(self, path: object, what: str = "") -> None:
        self.path = str(path)
        found = f" (it holds {what})" if what else ""
        super().__init__(
            f"{self.path} is not a PEM private key{found}; expected a "
            "'-----BEGIN PRIVATE KEY-----' or '-----BEGIN ENCRYPTED PRIVATE KEY-----' block"
        )


class WrongKeyType(KeyFileError):
    reason = "WRONG_KEY_TYPE"

    def __init__(self, path: object, expected: str, found: str) -> None:
        self.path = str(path)
        super().__init__(f"private key {self.path} is a {found} key; expected {expected}")


class InvalidPublicKey(KeysError):
    reason = "INVALID_PUBLIC_KEY"


# --- signed envelopes (DSSE) -------------------------------------------------------


class EnvelopeError(KeysError):
    """A DSSE envelope was not accepted; the subclass says which check refused it."""

    reason = "ENVELOPE"


class MalformedEnvelope(EnvelopeError):
    reason = "MALFORMED_ENVELOPE"


class UnsignedEnvelope(EnvelopeError):
    reason = "UNSIGNED_ENVELOPE"

    def __init__(self) -> None:
        super().__init__("the envelope carries no signature; the sender must sign it")


class TooManySignatures(EnvelopeError):
    reason = "TOO_MANY_SIGNATURES"

    def __init__(self, count: int, limit: int) -> None:
        self.count = count
        super().__init__(f"the envelope carries {count} signatures, more than the {limit} accepted")


class WrongPayloadType(EnvelopeError):
    reason = "WRONG_PAYLOAD_TYPE"

    def __init__(self, found: str, expected: str) -> None:
        self.found = found
        self.expected = expected
        super().__init__(f"the envelope holds {found!r}, but {expected!r} was expected here")


class UnknownKey(EnvelopeError):
    reason = "UNKNOWN_KEY"

    def __init__(self, keyid: str, detail: str = "") -> None:
        self.keyid = keyid
        super().__init__(
            detail
            or f"signing key {keyid} is not in the trust bundle; update the trust bundle "
            "or ask the sender which key it signs with"
        )


class NotRootKey(UnknownKey):
    """A trust bundle signed by a key other than the pinned root key(s)."""

    reason = "NOT_ROOT_KEY"

    def __init__(self, keyid: str, pinned: tuple[str, ...]) -> None:
        super().__init__(
            keyid,
            f"the trust bundle is signed by key {keyid}, not by the pinned root key "
            f"{' or '.join(pinned)}; get the bundle from the center again",
        )


class RevokedKey(EnvelopeError):
    reason = "REVOKED_KEY"

    def __init__(self, keyid: str, revoked_at: str = "", why: str = "") -> None:
        self.keyid = keyid
        when = f" on {revoked_at}" if revoked_at else ""
        because = f" ({why})" if why else ""
        super().__init__(
            f"signing key {keyid} was revoked{when}{because}; the sender must sign "
            "with a current key"
        )


class KeyNotValid(EnvelopeError):
    """The key exists but ``at`` is outside its not_before/not_after window."""

    reason = "KEY_NOT_VALID"

    def __init__(self, keyid: str, detail: str) -> None:
        self.keyid = keyid
        super().__init__(f"signing key {keyid} {detail}")


class BadSignature(EnvelopeError):
    """The signature does not match: the payload or type was changed, or a wrong key signed."""

    reason = "BAD_SIGNATURE"

    def __init__(self, keyid: str) -> None:
        self.keyid = keyid
        super().__init__(
            f"the signature by key {keyid} does not verify; the envelope was altered "
            "after signing or was not signed by that key"
        )


# --- identities and certificates ---------------------------------------------------


class InvalidIdentity(KeysError):
    reason = "INVALID_IDENTITY"


class UnauthenticatedPeer(KeysError):
    reason = "UNAUTHENTICATED_PEER"


class CertificateError(KeysError):
    reason = "CERTIFICATE"


class CertificateNotTrusted(CertificateError):
    reason = "CERTIFICATE_NOT_TRUSTED"


# --- trust bundle ------------------------------------------------------------------


class BundleError(KeysError):
    reason = "BUNDLE"


class BundleConfigError(BundleError):
    """The administrator's trust.toml is wrong; the message names the line or key."""

    reason = "BUNDLE_CONFIG"


class InvalidBundle(BundleError):
    """A (signed) TrustBundle breaks an invariant, e.g. a keyid that is not its key's hash."""

    reason = "INVALID_BUNDLE"


class StaleBundle(BundleError):
    """The offered bundle is not newer than the one already held."""

    reason = "STALE_BUNDLE"


class ConflictingBundle(StaleBundle):
    """Same serial as the held bundle but different content: the center equivocated."""

    reason = "CONFLICTING_BUNDLE"


class BundleExpired(BundleError):
    """The trust bundle's lifetime (``valid_until``) is over: nothing may rely on it.

    Servers refuse queries with FAILED_PRECONDITION and this reason, and refuse to start
    with such a bundle, the way X-Road servers stop on expired global configuration.
    """

    reason = "BUNDLE_EXPIRED"

    def __init__(self, serial: int, valid_until: str, detail: str = "") -> None:
        self.serial = serial
        self.valid_until = valid_until
        super().__init__(
            f"trust bundle serial {serial} expired on {valid_until}{detail}; the center must "
            "sign a new one (hedui keys bundle) and every participant must install it"
        )


class NoTrustBundle(BundleError):
    reason = "NO_TRUST_BUNDLE"

    def __init__(self) -> None:
        super().__init__(
            "no trust bundle is loaded yet; get the signed bundle from the center "
            "(hedui keys bundle) and load it"
        )


class UnknownParticipant(BundleError):
    reason = "UNKNOWN_PARTICIPANT"


class UnrecognizedFile(KeysError):
    reason = "UNRECOGNIZED_FILE"
