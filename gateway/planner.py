"""Which programmes there are, which departments each asks and for which fields: read
from the policy.

The gateway never decides on its own what to ask: the signed trust bundle's
exchange policy for the purpose lists the departments and field paths, and the
agents enforce the same policy on their side. The policies are the programmes too:
a purpose with a policy in the bundle is a social-assistance programme hedui serves
(``access.require_programme``), so a programme the county designates is added as
data — its policy in the bundle, its standard in the standards directory — not code.
"""

from __future__ import annotations

from dataclasses import dataclass

from hedui.errors import HeduiError
from hedui.keys.bundle import Bundle
from hedui.v1 import trust_pb2


class NoPolicy(HeduiError):
    """The programme has no exchange policy in the trust bundle."""


@dataclass(frozen=True)
class DepartmentPlan:
    """What to ask one department for one case."""

    department: str
    agent: trust_pb2.Participant
    field_paths: tuple[str, ...]

    @property
    def offline(self) -> bool:
        return self.agent.offline


def programmes(bundle: Bundle) -> frozenset[str]:
    """The programmes the bundle serves: every purpose it has an exchange policy for."""
    return frozenset(p.purpose for p in bundle.proto.policies)


def plan(bundle: Bundle, purpose: str, only: set[str] | None = None) -> list[DepartmentPlan]:
    """The departments (optionally only some) the policy for ``purpose`` asks."""
    policy = bundle.policy(purpose)
    if policy is None:
        raise NoPolicy(
            f"programme {purpose!r} has no exchange policy in trust bundle serial {bundle.serial}"
        )
    agents = {p.department: p for p in bundle.participants_by_role(trust_pb2.ROLE_AGENT)}
    out = []
    for d in policy.departments:
        if only is not None and d.department not in only:
            continue
        agent = agents.get(d.department)
        if agent is None:
            raise NoPolicy(
                f"the policy for {purpose!r} asks {d.department}, which has no agent in the "
                "trust bundle"
            )
        out.append(DepartmentPlan(d.department, agent, tuple(d.field_paths)))
    return out
