"""AIP-161 field paths over a department's record message, and masking by them.

A path names a field by its proto field names joined with dots; ``*`` stands for
every element of a repeated field (``vehicles.*.purchase_price_fen``). A path that
ends on a message field covers every leaf below it (``vehicles`` covers
``vehicles.*.plate``). Everything here works on *leaf paths*: the canonical, fully
expanded paths of scalar, enum and well-known-type fields. Releasing a field means
its leaf path is in (policy ∩ local narrowing ∩ request ∩ held); every other leaf
of a request is withheld with the first reason that applies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from hedui.errors import HeduiError

#: message types treated as leaves (no path may descend into them)
LEAF_MESSAGES = frozenset({"hedui.v1.Date", "google.protobuf.Timestamp"})

_SEGMENT = re.compile(r"^(?:[a-z][a-z0-9_]*|\*)$")
MAX_PATH_LENGTH = 256


class FieldPathError(HeduiError):
    """A field path is malformed (not AIP-161 syntax)."""


class NoSuchField(HeduiError):
    """A well-formed field path names no field of the record message."""


def parse(path: str) -> tuple[str, ...]:
    """Split a path into segments; raises FieldPathError when malformed.

    Preconditions checked: non-empty, at most MAX_PATH_LENGTH characters, segments
    are lower_snake_case field names or ``*``, and ``*`` never comes first.
    """
    if not path or len(path) > MAX_PATH_LENGTH:
        raise FieldPathError(f"field path {path[:40]!r} is empty or too long")
    segments = tuple(path.split("."))
    for s in segments:
        if not _SEGMENT.match(s):
            raise FieldPathError(f"field path {path!r} has a malformed segment {s!r}")
    if segments[0] == "*":
        raise FieldPathError(f"field path {path!r} cannot start with '*'")
    return segments


def _is_leaf(field: FieldDescriptor) -> bool:
    return (
        field.type != FieldDescriptor.TYPE_MESSAGE
        or field.message_type.full_name in LEAF_MESSAGES
    )


def _is_repeated(field: FieldDescriptor) -> bool:
    # protobuf >= 5.29 has is_repeated; `label` was removed in protobuf 7
    is_repeated = getattr(field, "is_repeated", None)
    if is_repeated is not None:
        return bool(is_repeated)
    return field.label == FieldDescriptor.LABEL_REPEATED


@cache
def all_leaves(descriptor: Descriptor) -> frozenset[str]:
    """Every canonical leaf path of a record message type."""
    out: set[str] = set()

    def walk(desc: Descriptor, prefix: str) -> None:
        for f in desc.fields:
            base = f"{prefix}{f.name}"
            if _is_repeated(f):
                base += ".*"
            if _is_leaf(f):
                out.add(base)
            else:
                walk(f.message_type, base + ".")

    walk(descriptor, "")
    return frozenset(out)


def expand(descriptor: Descriptor, path: str) -> frozenset[str]:
    """The leaf paths a (possibly non-leaf) path covers.

    ``vehicles`` and ``vehicles.*`` both cover every ``vehicles.*.<leaf>``. Raises
    FieldPathError when malformed and NoSuchField when it names no field.
    """
    segments = parse(path)
    desc: Descriptor | None = descriptor
    canonical: list[str] = []
    i = 0
    while i < len(segments):
        seg = segments[i]
        if desc is None:
            raise NoSuchField(f"field path {path!r}: {canonical[-1]!r} has no sub-fields")
        field = desc.fields_by_name.get(seg)
        if field is None:
            raise NoSuchField(f"field path {path!r}: {desc.name} has no field {seg!r}")
        canonical.append(seg)
        i += 1
        if _is_repeated(field):
            if i < len(segments) and segments[i] == "*":
                i += 1
            elif i < len(segments):
                raise NoSuchField(
                    f"field path {path!r}: use '*' after the repeated field {seg!r}"
                )
            canonical.append("*")
        elif i < len(segments) and segments[i] == "*":
            raise NoSuchField(f"field path {path!r}: {seg!r} is not a repeated field")
        desc = None if _is_leaf(field) else field.message_type
    prefix = ".".join(canonical)
    return frozenset(
        leaf for leaf in all_leaves(descriptor) if leaf == prefix or leaf.startswith(prefix + ".")
    )


def expand_all(descriptor: Descriptor, paths: Iterable[str]) -> frozenset[str]:
    """The union of ``expand`` over several paths (all must be valid)."""
    out: set[str] = set()
    for p in paths:
        out |= expand(descriptor, p)
    return frozenset(out)


@dataclass(frozen=True)
class WithheldPath:
    """A requested path, or a leaf of it, that will not be released."""

    path: str
    reason: str  # one of NOT_IN_POLICY, NARROWED_LOCALLY, NO_SUCH_FIELD, NOT_HELD
    detail: str


@dataclass(frozen=True)
class Release:
    """What a query may receive: leaf paths released, and everything withheld."""

    released: frozenset[str]
    withheld: tuple[WithheldPath, ...]


def decide_release(
    descriptor: Descriptor,
    requested: Iterable[str],
    policy: frozenset[str],
    narrowing: frozenset[str] | None,
    held: frozenset[str],
) -> Release:
    """Intersect request, policy, local narrowing and what the source holds.

    ``policy``, ``narrowing`` and ``held`` are sets of *leaf* paths (already
    expanded); ``narrowing`` None means the department did not narrow. Every leaf
    of every requested path is either released or withheld with the first failing
    reason in the order: not in policy, narrowed locally, not held. When all
    leaves of a requested path fail for the same reason the path itself is listed,
    not each leaf. Malformed paths raise FieldPathError (the whole query is bad);
    well-formed paths naming no field are withheld as NO_SUCH_FIELD.
    """
    released: set[str] = set()
    withheld: list[WithheldPath] = []
    seen: set[str] = set()
    for path in requested:
        if path in seen:
            continue
        seen.add(path)
        try:
            leaves = expand(descriptor, path)
        except NoSuchField as exc:
            withheld.append(WithheldPath(path, "NO_SUCH_FIELD", str(exc)))
            continue
        refused: list[WithheldPath] = []
        for leaf in sorted(leaves):
            if leaf not in policy:
                refused.append(WithheldPath(
                    leaf, "NOT_IN_POLICY", "the exchange policy for this purpose does not allow it"
                ))
            elif narrowing is not None and leaf not in narrowing:
                refused.append(WithheldPath(leaf, "NARROWED_LOCALLY",
                                            "the department has narrowed the policy locally"))
            elif leaf not in held:
                refused.append(WithheldPath(leaf, "NOT_HELD",
                                            "the department's database does not hold this field"))
            else:
                released.add(leaf)
        if refused and len(refused) == len(leaves) and len({r.reason for r in refused}) == 1:
            withheld.append(WithheldPath(path, refused[0].reason, refused[0].detail))
        else:
            withheld.extend(refused)
    return Release(frozenset(released), tuple(withheld))


def mask(message: Message, leaves: frozenset[str]) -> None:
    """Clear, in place, every field of ``message`` not on a released leaf path.

    The mask works on the message itself, so nothing unreleased can slip through a
    copy: sub-messages with no released leaf are cleared whole, repeated elements
    are masked one by one.
    """
    _mask(message, leaves, "")


def _mask(message: Message, leaves: frozenset[str], prefix: str) -> None:
    plan = _mask_plan(message.DESCRIPTOR, leaves, prefix)
    for field, value in message.ListFields():  # only what is set can leak
        action, sub = plan[field.name]
        if action == _CLEAR:
            message.ClearField(field.name)
        elif action == _EACH:
            for element in value:
                _mask(element, leaves, sub)
        elif action == _ONE:
            _mask(value, leaves, sub)


_KEEP, _CLEAR, _EACH, _ONE = range(4)


def _fields(descriptor: Descriptor, prefix: str) -> Iterator[tuple[FieldDescriptor, str]]:
    """Each field of ``descriptor`` with its canonical path under ``prefix``."""
    for field in descriptor.fields:
        base = f"{prefix}{field.name}"
        yield field, (base + ".*" if _is_repeated(field) else base)


@lru_cache(maxsize=4096)
def _mask_plan(descriptor: Descriptor, leaves: frozenset[str],
               prefix: str) -> dict[str, tuple[int, str]]:
    """What ``_mask`` does with each field of ``descriptor`` under ``prefix``: keep a
    released leaf, clear what has no released leaf, or descend. Worked out once per
    message type and release (a release repeats across queries), not per record."""
    plan: dict[str, tuple[int, str]] = {}
    for field, base in _fields(descriptor, prefix):
        if _is_leaf(field):
            plan[field.name] = (_KEEP if base in leaves else _CLEAR, "")
        elif not any(leaf.startswith(base + ".") for leaf in leaves):
            plan[field.name] = (_CLEAR, "")
        else:
            plan[field.name] = (_EACH if _is_repeated(field) else _ONE, base + ".")
    return plan


def extra_leaves(message: Message, allowed: frozenset[str]) -> frozenset[str]:
    """Canonical leaf paths set in ``message`` that are not in ``allowed``: equal to
    ``present_leaves(message) - allowed``, without walking the parts that ``allowed``
    covers whole. The gateway runs it on every record it receives."""
    out: set[str] = set()
    _extra(message, allowed, "", out)
    return frozenset(out)


def _extra(message: Message, allowed: frozenset[str], prefix: str, out: set[str]) -> None:
    plan = _extra_plan(message.DESCRIPTOR, allowed, prefix)
    for field, value in message.ListFields():
        action, sub = plan[field.name]
        if action == _CLEAR:  # a leaf that is not allowed
            out.add(sub)
        elif action == _EACH:
            for element in value:
                _extra(element, allowed, sub, out)
        elif action == _ONE:
            _extra(value, allowed, sub, out)


@lru_cache(maxsize=4096)
def _extra_plan(descriptor: Descriptor, allowed: frozenset[str],
                prefix: str) -> dict[str, tuple[int, str]]:
    """Per field of ``descriptor`` under ``prefix``: nothing to check (an allowed leaf,
    or a sub-message whose every leaf is allowed), an extra leaf (its path), or
    descend. Worked out once per message type and request."""
    plan: dict[str, tuple[int, str]] = {}
    for field, base in _fields(descriptor, prefix):
        if _is_leaf(field):
            plan[field.name] = (_KEEP, "") if base in allowed else (_CLEAR, base)
        elif all(f"{base}.{leaf}" in allowed for leaf in all_leaves(field.message_type)):
            plan[field.name] = (_KEEP, "")
        else:
            plan[field.name] = (_EACH if _is_repeated(field) else _ONE, base + ".")
    return plan


def present_leaves(message: Message) -> frozenset[str]:
    """Canonical leaf paths of the fields set (non-default) in ``message``.

    Used by tests to prove that an answer carries nothing outside what was released
    (the gateway checks the same with :func:`extra_leaves`).
    """
    out: set[str] = set()

    def walk(msg: Message, prefix: str) -> None:
        for field, value in msg.ListFields():
            base = f"{prefix}{field.name}"
            if _is_repeated(field):
                base += ".*"
                if _is_leaf(field):
                    out.add(base)
                else:
                    for element in value:
                        walk(element, base + ".")
            elif _is_leaf(field):
                out.add(base)
            else:
                walk(value, base + ".")

    walk(message, "")
    return frozenset(out)
