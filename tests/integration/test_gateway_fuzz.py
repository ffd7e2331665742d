"""Fuzzing the case service of a real gateway process over mutual TLS.

Hypothesis builds requests for every CaseService method — field by field from the
message descriptors, strings drawn from plausible and hostile values (staff ids,
programmes, real synthetic ID numbers and names, case ids, page tokens, control
characters, long text), enum values out of range — and sometimes mutates their bytes
(flipped, cut, extended) before they are sent raw. Whatever arrives, the gateway must
answer with a status that is neither UNKNOWN nor INTERNAL, whose ErrorInfo carries a
reason and whose message holds no Python exception text; afterwards it still serves
a valid request, and its audit log holds none of the ID numbers that were thrown at it.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from case_site import Site, authorization, reason
from google.protobuf import descriptor as d
from google.protobuf import message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedui.gateway import sandbox
from hedui.v1 import case_pb2

pytestmark = pytest.mark.slow

METHODS = {m.name: message_factory.GetMessageClass(m.input_type)
           for m in case_pb2.DESCRIPTOR.services_by_name["CaseService"].methods}
#: what a leaked exception looks like in a message: a traceback, a class repr, the name
#: of a Python or library exception class (not any word ending in "Error": a caller's
#: authorization number "AError" is echoed back as given)
_CLASSES = sorted(n for n, v in vars(builtins).items()
                  if isinstance(v, type) and issubclass(v, BaseException))
LEAK = re.compile(r"Traceback|<class |File \"|\b(" + "|".join(
    [*_CLASSES, "DecodeError", "IntegrityError", "OperationalError", "DataError",
     "StatementError", "HeduiError", "CaseError", "KeysError"]) + r")\b")
EXAMPLES = 3000

_INT_RANGES = {
    d.FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    d.FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
}


class World:
    """The running gateway and the values worth throwing at it."""

    def __init__(self, site: Site) -> None:
        self.site = site
        hh = site.household()
        self.case = site.open(hh)  # cancelled below: nothing asks an agent (none runs)
        with site.client() as c:
            c.call(c.cases.CancelCase, case_pb2.CancelCaseRequest(
                case_id=self.case.case_id, reason="fuzz fixture", operator=sandbox.VERIFIER))
            self.auth = authorization("SQ-FUZZ-1", list(hh.members))
            self.spare = authorization("SQ-FUZZ-2", list(hh.members))  # to revoke
            for a in (self.auth, self.spare):
                c.call(c.cases.RegisterAuthorization, case_pb2.RegisterAuthorizationRequest(
                    authorization=a, operator=sandbox.VERIFIER))
        people = [m for h in site.samples[:6] for m in h["members"]]
        self.id_numbers = [m["id_number"] for m in people]
        self.members = [case_pb2.Member(id_number=m.id_number, name=m.name,
                                        relation=m.relation) for m in hh.members]
        self.strings = [
            "", "dibao", "low-income", "dibaoo", "DIBAO", "credit-scoring", "310000", "000000",
            sandbox.VERIFIER, "op-1002", "op-9999", sandbox.OFFICER, "张三", "李秀兰",
            self.case.case_id, "case-20260101-000000000000", self.auth.number, "SQ-NONE",
            "0" * 64, "abc", "-1", "0", "1", "500", "99999999999999999999", "x" * 300,
            "\x00", "\u202e", "a\nb", "%s%n", "'; DROP TABLE cases; --",
            *self.id_numbers, *(m["name"] for m in people),
        ]
        #: per field name, values that pass its gate, so later checks are reached too
        self.plausible = {
            "operator": [sandbox.VERIFIER, "op-1002"],
            "programme": ["dibao", "low-income"],
            "case_id": [self.case.case_id],
            "number": [self.spare.number], "authorization_number": [self.auth.number],
            "region": ["310000"], "id_number": self.id_numbers,
            "covered_id_numbers": self.id_numbers, "name": [m["name"] for m in people],
            "document_sha256": ["0" * 64], "page_token": ["0", "1", "50"],
            "reason": ["household moved away"],
        }
        op, case_id = sandbox.VERIFIER, self.case.case_id
        #: a valid request per method; a drawn one is merged into it half the time, so
        #: a few fields are wrong at once and the deeper checks are reached
        self.valid = {
            "OpenCase": case_pb2.OpenCaseRequest(
                programme="dibao", region="310000", members=self.members,
                authorization_number=self.auth.number, operator=op),
            "RegisterAuthorization": case_pb2.RegisterAuthorizationRequest(
                authorization=self.auth, operator=op),
            "RevokeAuthorization": case_pb2.RevokeAuthorizationRequest(
                number=self.spare.number, reason="withdrawn", operator=op),
            "ListCases": case_pb2.ListCasesRequest(operator=op),
            "CancelCase": case_pb2.CancelCaseRequest(case_id=case_id, reason="x", operator=op),
            "ReviewCase": case_pb2.ReviewCaseRequest(
                case_id=case_id, verdict=case_pb2.ReviewCaseRequest.VERDICT_APPROVE,
                operator=op),
            "SearchCases": case_pb2.SearchCasesRequest(
                id_number=self.id_numbers[0], operator=op),
            **{name: METHODS[name](case_id=case_id, operator=op)
               for name in ("GetCase", "VerifyCase", "RetryCase", "GetReport",
                            "GetCaseHistory")},
        }
        self.channel = site.channel()

    def strings_for(self, field: str) -> st.SearchStrategy[str]:
        generic = st.one_of(st.sampled_from(self.strings), st.text(max_size=24))
        if field not in self.plausible:
            return generic
        good = st.sampled_from(self.plausible[field])
        return st.one_of(good, good, good, generic)  # mostly past the gate

    def call(self, method: str, data: bytes) -> grpc.RpcError | None:
        try:
            self.channel.unary_unary(f"/hedui.v1.CaseService/{method}")(data, timeout=30)
        except grpc.RpcError as exc:
            return exc
        return None


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    site = Site(tmp_path_factory.mktemp("fuzz"), persons=40, seed=24)
    try:
        site.start()
        w = World(site)
        yield w
        w.channel.close()
    finally:
        site.stop()


Strings = Callable[[str], st.SearchStrategy[str]]


def _value(field: d.FieldDescriptor, strings: Strings, depth: int) -> st.SearchStrategy[Any]:
    t = field.type
    if t == d.FieldDescriptor.TYPE_STRING:
        return strings(field.name)
    if t == d.FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=40)
    if t == d.FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if t == d.FieldDescriptor.TYPE_ENUM:
        known = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(known), st.integers(-3, 2**31 - 1))
    if t in _INT_RANGES:
        lo, hi = _INT_RANGES[t]
        return st.one_of(st.integers(0, 3000), st.integers(lo, hi))
    if t == d.FieldDescriptor.TYPE_MESSAGE:
        return message(field.message_type, strings, depth + 1)
    return st.nothing()


def message(desc: d.Descriptor, strings: Strings, depth: int = 0) -> st.SearchStrategy[Any]:
    """Messages of ``desc`` with any subset of their fields set to drawn values."""
    cls = message_factory.GetMessageClass(desc)
    if depth > 3:
        return st.just(cls())
    optional = {}
    for f in desc.fields:
        v = _value(f, strings, depth)
        optional[f.name] = st.lists(v, max_size=5 if depth else 25) if f.is_repeated else v

    def build(values: dict[str, Any]) -> Any:
        out = cls()
        for name, value in values.items():
            f = desc.fields_by_name[name]
            nested = f.type == d.FieldDescriptor.TYPE_MESSAGE
            if f.is_repeated and nested:
                for x in value:
                    getattr(out, name).add().CopyFrom(x)
            elif f.is_repeated:
                getattr(out, name).extend(value)
            elif nested:
                getattr(out, name).CopyFrom(value)
            else:
                setattr(out, name, value)
        return out
    return st.fixed_dictionaries({}, optional=optional).map(build)


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with a few bytes flipped, cut or added (often no longer a message)."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(("flip", "cut", "insert")))
        at = draw(st.integers(0, len(out)))
        if op == "flip" and out:
            out[min(at, len(out) - 1)] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del out[at:]
        else:
            out[at:at] = draw(st.binary(min_size=1, max_size=6))
    return bytes(out)


def requests(w: World) -> st.SearchStrategy[tuple[str, bytes]]:
    @st.composite
    def one(draw: st.DrawFn) -> tuple[str, bytes]:
        method = draw(st.sampled_from(sorted(METHODS)))
        request = draw(message(METHODS[method].DESCRIPTOR, w.strings_for))
        if draw(st.booleans()):
            based = METHODS[method]()
            based.CopyFrom(w.valid[method])
            based.MergeFrom(request)  # the drawn fields win, repeated ones are added
            request = based
        data = request.SerializeToString()
        if draw(st.integers(0, 4)) == 0:
            data = draw(mutated(data))
        return method, data
    return one()


def check(method: str, data: bytes, error: grpc.RpcError | None) -> None:
    if error is None:
        return
    code, why = error.code(), reason(error)
    where = f"{method}({data[:80]!r})"
    assert code not in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL,
                        grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED), \
        f"{where} -> {code.name}: {error.details()}"
    assert why.reason, f"{where} -> {code.name} without an ErrorInfo reason: {error.details()}"
    assert not LEAK.search(why.message), f"{where} -> exception text: {why.message}"


def test_every_case_service_method_survives_fuzzed_requests(world: World) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example])
    @given(requests(world))
    def run(request: tuple[str, bytes]) -> None:
        method, data = request
        check(method, data, world.call(method, data))

    run()
    site = world.site
    assert site.alive()
    with site.client() as c:  # still serving a valid request
        got = c.call(c.cases.GetCase, case_pb2.GetCaseRequest(case_id=world.case.case_id,
                                                              operator=sandbox.VERIFIER))
        assert got.case_id == world.case.case_id
        health = health_pb2_grpc.HealthStub(c.channel).Check(
            health_pb2.HealthCheckRequest(service="hedui.v1.CaseService"), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
    raw = site.raw_log()
    assert not [n for n in world.id_numbers if n.encode() in raw]
