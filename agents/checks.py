"""Every check an agent makes on a query before it reads a single record.

``QueryChecker.check`` runs them in a fixed order — the cheap, identity-revealing
ones first, the replay claim last so a refused query never burns its nonce — and
returns a ``CheckedQuery`` or raises one ``QueryRefused`` subclass. Nothing here
touches the department's data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError

from hedui import resident_id
from hedui.agents import fieldmask, refusals
from hedui.agents.departments import department as department_info
from hedui.agents.replay import ReplayCache
from hedui.keys import dsse
from hedui.keys import errors as key_errors
from hedui.keys.bundle import Bundle
from hedui.timestamps import from_timestamp
from hedui.v1 import bulk_pb2, envelope_pb2, query_pb2, trust_pb2

#: a single query or a bulk one (hedui.agents.bulk): the checks they share read only the
#: fields both have (ids, times, purpose, field paths, checkpoint)
QueryLike = query_pb2.Query | bulk_pb2.BulkQuery

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
#: what a refusal's sentence may repeat of a query's own words: short, plain ASCII
_SHOWN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,79}")


def shown(value: str) -> str:
    """``value`` as a refusal's sentence may repeat it, else a placeholder.

    Only short ASCII identifiers are echoed (an id, a purpose, an agent's SPIFFE id);
    anything else — a name, a 100 KB string, control characters — is not repeated.
    """
    return repr(value) if _SHOWN.fullmatch(value) else "(not shown)"


@dataclass(frozen=True)
class Limits:
    """Bounds a department sets on what one query may ask."""

    max_subjects: int = 20
    max_field_paths: int = 64
    max_message_bytes: int = 256 * 1024
    #: how far a gateway's clock may run ahead of ours
    clock_skew: dt.timedelta = dt.timedelta(seconds=60)
    #: the longest validity window an online query may claim
    max_lifetime: dt.timedelta = dt.timedelta(minutes=10)
    min_nonce_bytes: int = 16


@dataclass(frozen=True)
class CheckedQuery:
    """A query that passed every check, with what it may receive."""

    query: query_pb2.Query
    #: SHA-256 of the exact signed payload; the answer is bound to it
    digest: bytes
    signer: str
    keyid: str
    #: normalized ID numbers, in the query's order
    id_numbers: tuple[str, ...]
    release: fieldmask.Release
    policy: trust_pb2.PurposePolicy = field(repr=False)


def consent_given(authorization_number: str, consent_digest: str) -> bool:
    """Does a query (or a bulk query's household) carry an authorization number and the
    SHA-256 of its signed document?"""
    return bool(authorization_number and _HEX64.match(consent_digest))


def validate_id_number(value: str) -> str:
    """The canonical form of a subject's resident ID number, or ``InvalidIdNumber``.

    A thin name for :func:`hedui.resident_id.normalize`, so an agent accepts and refuses
    exactly what the gateway does — including numbers whose region code was created
    after the holder's birth (it is where the number was issued).
    """
    return resident_id.normalize(value)


class QueryChecker:
    """Checks queries for one agent against the current trust bundle.

    ``bundle`` is called on every check so a newly loaded bundle applies at once.
    ``narrowing`` maps purpose → leaf paths the department allows (a purpose absent
    from a non-empty narrowing is allowed nothing); None means no local narrowing.
    """

    def __init__(
        self,
        *,
        agent_id: str,
        department: str,
        bundle: Callable[[], Bundle],
        replay: ReplayCache,
        held_paths: Callable[[], frozenset[str]],
        narrowing: Mapping[str, frozenset[str]] | None = None,
        limits: Limits | None = None,
        witness: Callable[[query_pb2.Query], None] | None = None,
    ) -> None:
        self.agent_id = agent_id
        self.department = department
        self.record_descriptor = department_info(department).record_type.DESCRIPTOR
        self._bundle = bundle
        self._replay = replay
        self._held_paths = held_paths
        self._narrowing = narrowing
        self.limits = limits or Limits()
        self._witness = witness
        self._releases: dict[tuple[str, str, tuple[str, ...]], fieldmask.Release] = {}

    # The order below is the contract: see the module docstring.
    def check(
        self,
        envelope: envelope_pb2.Envelope,
        *,
        peer_id: str | None,
        now: dt.datetime,
        peer_cert_sha256: str | None = None,
    ) -> CheckedQuery:
        bundle, verified = self.verify_sender(envelope, peer_id=peer_id, now=now,
                                              peer_cert_sha256=peer_cert_sha256)
        query = self._parse(verified.payload)
        try:
            return self._check_verified(bundle, query, verified, now)
        except refusals.QueryRefused as exc:
            # signed by the very gateway that sent it: its fields may be logged (after
            # their grammar check, hedui.agents.answering)
            exc.verified_query = query
            raise

    def verify_sender(
        self,
        envelope: envelope_pb2.Envelope,
        *,
        peer_id: str | None,
        now: dt.datetime,
        peer_cert_sha256: str | None = None,
        payload_type: str = dsse.QUERY_TYPE,
    ) -> tuple[Bundle, dsse.VerifiedPayload]:
        """The first checks of any query (single or bulk, ``hedui.agents.bulk``): the TLS
        peer is a gateway, the envelope verifies, and its signer is that peer."""
        bundle = self._bundle()
        self._check_peer(bundle, peer_id, peer_cert_sha256)
        try:
            verified = dsse.verify(envelope, bundle, payload_type=payload_type, now=now)
        except key_errors.KeysError as exc:
            raise refusals.from_envelope_error(exc) from None
        if verified.signer != peer_id:
            raise refusals.SignerIsNotPeer(
                f"the query is signed by {verified.signer} but was sent by {peer_id}"
            )
        return bundle, verified

    def _check_verified(self, bundle: Bundle, query: query_pb2.Query,
                        verified: dsse.VerifiedPayload, now: dt.datetime) -> CheckedQuery:
        """The checks on a query whose signature and sender are established."""
        if query.issuer != verified.signer:
            raise refusals.SignerIsNotPeer(
                f"the query names issuer {shown(query.issuer)} but is signed by "
                f"{verified.signer}"
            )
        if query.audience != self.agent_id:
            raise refusals.WrongAudience(
                f"the query is addressed to {shown(query.audience)}, not to this agent "
                f"({self.agent_id})"
            )
        self.check_time(query, now)
        id_numbers = self._check_subjects(query)
        policy = self._check_purpose(bundle, query)
        release = self.check_fields(query, policy, bundle.payload_sha256)
        self.witness_and_claim(query, now)
        return CheckedQuery(
            query=query,
            digest=hashlib.sha256(verified.payload).digest(),
            signer=verified.signer,
            keyid=verified.keyid,
            id_numbers=id_numbers,
            release=release,
            policy=policy,
        )

    def witness_and_claim(self, query: QueryLike, now: dt.datetime) -> None:
        """The last checks: the gateway's checkpoint is witnessed, then the nonce claimed
        (last, so a query refused for anything else never burns its nonce)."""
        if self._witness is not None:
            self._witness(query)  # type: ignore[arg-type]  # reads audit_checkpoint only
        if not self._replay.claim(query.nonce, from_timestamp(query.expires_at), now):
            raise refusals.ReplayedNonce(
                f"query {shown(query.query_id)} reuses a nonce this agent has already "
                "accepted (replay)"
            )

    def _check_peer(
        self, bundle: Bundle, peer_id: str | None, peer_cert_sha256: str | None
    ) -> None:
        if not peer_id:
            raise refusals.PeerUnauthenticated(
                "the caller presented no client certificate with a hedui identity"
            )
        try:
            participant = bundle.authorize_peer(peer_id, peer_cert_sha256)
        except key_errors.UnknownParticipant as exc:
            raise refusals.PeerNotAllowed(str(exc)) from None
        if participant.role != trust_pb2.ROLE_GATEWAY:
            raise refusals.PeerNotAllowed(
                f"{peer_id} is not a gateway in trust bundle serial {bundle.serial}"
            )

    def _parse(self, payload: bytes) -> query_pb2.Query:
        query = query_pb2.Query()
        try:
            query.ParseFromString(payload)
        except DecodeError:
            raise refusals.MalformedQuery("the signed payload is not a hedui.v1.Query") from None
        missing = [
            name for name in ("query_id", "issuer", "audience", "purpose")
            if not getattr(query, name)
        ]
        if not query.HasField("issued_at") or not query.HasField("expires_at"):
            missing.append("issued_at/expires_at")
        if missing:
            raise refusals.MalformedQuery(f"the query lacks {', '.join(missing)}")
        if len(query.nonce) < self.limits.min_nonce_bytes:
            raise refusals.MalformedQuery(
                f"the query nonce has {len(query.nonce)} bytes; at least "
                f"{self.limits.min_nonce_bytes} are required"
            )
        return query

    def check_time(self, query: QueryLike, now: dt.datetime) -> None:
        """Validity window: not expired, not issued in the future, not too long."""
        try:
            issued = from_timestamp(query.issued_at)
            expires = from_timestamp(query.expires_at)
        except (ValueError, OverflowError):
            # protobuf's own error for seconds/nanos outside 0001..9999: the sender's fault
            raise refusals.MalformedTimestamp(
                "the query's issued_at or expires_at lies outside the years 1 to 9999"
            ) from None
        if expires <= now:
            raise refusals.QueryExpired(
                f"query {shown(query.query_id)} expired at {expires.isoformat()} "
                f"(agent time {now.isoformat(timespec='seconds')})"
            )
        if issued > now + self.limits.clock_skew:
            raise refusals.QueryNotYetValid(
                f"query {shown(query.query_id)} is issued in the future ({issued.isoformat()}); "
                "check the gateway's clock"
            )
        if expires - issued > self.limits.max_lifetime:
            raise refusals.MalformedQuery(
                f"query {shown(query.query_id)} claims a validity of {expires - issued}; "
                f"this agent accepts at most {self.limits.max_lifetime}"
            )

    def _check_subjects(self, query: query_pb2.Query) -> tuple[str, ...]:
        count = len(query.subjects)
        if count == 0:
            raise refusals.MalformedQuery("the query names no subject")
        if count > self.limits.max_subjects:
            raise refusals.TooManySubjects(
                f"the query names {count} subjects; this agent answers at most "
                f"{self.limits.max_subjects} per query"
            )
        out = []
        for i, subject in enumerate(query.subjects):
            # The message names the position and the rule broken: never the number itself.
            try:
                out.append(validate_id_number(subject.id_number))
            except resident_id.InvalidIdNumber as exc:
                raise refusals.MalformedIdNumber(
                    f"subject #{i + 1} of query {shown(query.query_id)} has a malformed "
                    f"resident ID number ({exc.reason})"
                ) from None
        return tuple(out)

    def _check_purpose(self, bundle: Bundle, query: query_pb2.Query) -> trust_pb2.PurposePolicy:
        policy = self.purpose_policy(bundle, query)
        if policy.consent_required and not consent_given(
            query.authorization_number, query.consent_digest
        ):
            raise refusals.ConsentMissing(
                f"purpose {shown(query.purpose)} requires the applicant's authorization; the query "
                "carries no authorization number and document digest"
            )
        return policy

    def purpose_policy(self, bundle: Bundle, query: QueryLike) -> trust_pb2.PurposePolicy:
        """The exchange policy for the query's purpose, if it asks this department (the
        authorization a purpose requires is checked by the caller: per query, or per
        household of a bulk query)."""
        policy = bundle.policy(query.purpose)
        if policy is None:
            raise refusals.PurposeNotAllowed(
                f"purpose {shown(query.purpose)} is not in the exchange policy "
                f"(trust bundle serial {bundle.serial})"
            )
        if not any(d.department == self.department for d in policy.departments):
            raise refusals.PurposeNotAllowed(
                f"the exchange policy for {shown(query.purpose)} does not ask the "
                f"{self.department} department"
            )
        if self._narrowing is not None and query.purpose not in self._narrowing:
            raise refusals.PurposeNotAllowed(
                f"this department does not answer for purpose {shown(query.purpose)} "
                "(local policy)"
            )
        return policy

    def _release(self, bundle_sha: str, purpose: str, paths: tuple[str, ...],
                 policy: trust_pb2.PurposePolicy) -> fieldmask.Release:
        """decide_release, remembered per (bundle, purpose, paths): gateways repeat them."""
        key = (bundle_sha, purpose, paths)
        cached = self._releases.get(key)
        if cached is not None:
            return cached
        allowed = self.policy_leaves(policy)
        narrowing = None if self._narrowing is None else self._narrowing[purpose]
        try:
            release = fieldmask.decide_release(
                self.record_descriptor, paths, allowed, narrowing, self._held_paths()
            )
        except fieldmask.FieldPathError as exc:
            text = str(exc)
            raise refusals.MalformedFieldPath(
                text if text.isascii() and len(text) <= 200 else "a requested field path is "
                "malformed (AIP-161 names over the department's record, '*' for every element)"
            ) from None
        if len(self._releases) > 1024:
            self._releases.clear()
        self._releases[key] = release
        return release

    def check_fields(
        self, query: QueryLike, policy: trust_pb2.PurposePolicy, bundle_sha: str
    ) -> fieldmask.Release:
        """What of the requested paths may be released; refused when nothing can be."""
        paths = list(query.field_paths)
        if not paths:
            raise refusals.MalformedQuery("the query names no field path")
        if len(paths) > self.limits.max_field_paths:
            raise refusals.MalformedQuery(
                f"the query names {len(paths)} field paths; at most "
                f"{self.limits.max_field_paths} are accepted"
            )
        release = self._release(bundle_sha, query.purpose, tuple(paths), policy)
        if release.released:
            return release
        outside = [w.path for w in release.withheld if w.reason == "NOT_IN_POLICY"]
        if outside:
            raise refusals.FieldOutsidePolicy(
                f"nothing requested is allowed for purpose {shown(query.purpose)}: "
                f"{', '.join(shown(p) for p in outside[:5])} "
                f"{'is' if len(outside) == 1 else 'are'} outside the exchange policy"
            )
        # Nothing to read: answering would sign STATUS_NOT_FOUND ("holds nothing about
        # this person") for persons the department does hold. Refuse instead.
        counts: dict[str, int] = {}
        for w in release.withheld:
            counts[w.reason] = counts.get(w.reason, 0) + 1
        refusal = refusals.NothingReleasable(
            "no requested field can be released ("
            + ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items()))
            + "); this agent does not answer found or not found without a field to read"
        )
        refusal.metadata = {reason.lower(): str(n) for reason, n in sorted(counts.items())}
        raise refusal

    def has_policy(self, purpose: str) -> bool:
        """Does the current exchange policy name ``purpose``? (What a refusal may log.)"""
        return bool(purpose) and self._bundle().policy(purpose) is not None

    def policy_leaves(self, policy: trust_pb2.PurposePolicy) -> frozenset[str]:
        """The leaf paths the central policy allows this department for a purpose."""
        for d in policy.departments:
            if d.department == self.department:
                try:
                    return fieldmask.expand_all(self.record_descriptor, d.field_paths)
                except (fieldmask.FieldPathError, fieldmask.NoSuchField) as exc:
                    raise refusals.PurposeNotAllowed(
                        f"the trust bundle's policy for {policy.purpose!r} is invalid for "
                        f"{self.department}: {exc}"
                    ) from None
        return frozenset()
