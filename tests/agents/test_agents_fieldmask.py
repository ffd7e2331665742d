"""AIP-161 field paths and masking: an answer never carries more than may be released."""

from __future__ import annotations

import contextlib

import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from hedui.agents import fieldmask
from hedui.agents.departments import DEPARTMENTS
from hedui.v1 import records_pb2

PS = records_pb2.PublicSecurityRecord.DESCRIPTOR


def populate(message: Message, depth: int = 0) -> Message:
    """Set every field of a record to a non-default value (two elements per list)."""
    for field in message.DESCRIPTOR.fields:
        repeated = fieldmask._is_repeated(field)
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if repeated:
                for _ in range(2):
                    populate(getattr(message, field.name).add(), depth + 1)
            else:
                populate(getattr(message, field.name), depth + 1)
            continue
        value: object
        if field.type == FieldDescriptor.TYPE_STRING:
            value = "x"
        elif field.type == FieldDescriptor.TYPE_BOOL:
            value = True
        elif field.type == FieldDescriptor.TYPE_ENUM:
            value = field.enum_type.values[-1].number
        elif field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            value = 1.5
        else:
            value = 7
        if repeated:
            getattr(message, field.name).extend([value, value])
        else:
            setattr(message, field.name, value)
    return message


def test_expand_covers_subtree_and_star_forms_agree() -> None:
    a = fieldmask.expand(PS, "vehicles")
    b = fieldmask.expand(PS, "vehicles.*")
    assert a == b
    assert "vehicles.*.purchase_price_fen" in a
    assert fieldmask.expand(PS, "vehicles.*.plate") == {"vehicles.*.plate"}


@pytest.mark.parametrize(
    "path", ["", "Vehicles", "vehicles..plate", "*.plate", "vehicles.*.plate;drop", "a" * 300]
)
def test_malformed_paths_are_refused(path: str) -> None:
    with pytest.raises(fieldmask.FieldPathError):
        fieldmask.parse(path)


@pytest.mark.parametrize(
    "path", ["no_such", "vehicles.plate", "household_registration.*", "vehicles.*.plate.x"]
)
def test_paths_naming_no_field_are_no_such_field(path: str) -> None:
    with pytest.raises(fieldmask.NoSuchField):
        fieldmask.expand(PS, path)


def test_mask_keeps_only_released_leaves() -> None:
    record = populate(records_pb2.PublicSecurityRecord())
    released = frozenset({"vehicles.*.kind", "household_registration.region_code"})
    fieldmask.mask(record, released)
    assert fieldmask.present_leaves(record) == released
    assert len(record.vehicles) == 2
    assert record.household_registration.hukou_number == ""


def test_withheld_reasons_name_the_first_failing_rule() -> None:
    policy = fieldmask.expand_all(PS, ["vehicles"])
    narrowing = fieldmask.expand_all(PS, ["vehicles.*.kind", "vehicles.*.plate"])
    held = frozenset({"vehicles.*.kind"})
    release = fieldmask.decide_release(
        PS, ["vehicles.*.kind", "vehicles.*.plate", "vehicles.*.status",
             "household_registration", "nothing_here"], policy, narrowing, held)
    assert release.released == {"vehicles.*.kind"}
    reasons = {w.path: w.reason for w in release.withheld}
    assert reasons == {
        "vehicles.*.plate": "NOT_HELD",
        "vehicles.*.status": "NARROWED_LOCALLY",
        "household_registration": "NOT_IN_POLICY",
        "nothing_here": "NO_SUCH_FIELD",
    }


def _subsets(leaves: list[str]):
    return st.frozensets(st.sampled_from(leaves))


def _request_paths(leaves: list[str]):
    prefixes = sorted({leaf.rsplit(".", 1)[0].removesuffix(".*") for leaf in leaves if "." in leaf})
    return st.lists(st.sampled_from(leaves + prefixes + ["no_such_field"]), min_size=1,
                    max_size=8)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), department=st.sampled_from(sorted(DEPARTMENTS)))
def test_answer_never_exceeds_policy_narrowing_and_request(data, department: str) -> None:
    dept = DEPARTMENTS[department]
    desc = dept.record_type.DESCRIPTOR
    leaves = sorted(fieldmask.all_leaves(desc))
    policy = data.draw(_subsets(leaves), label="policy")
    narrowing = data.draw(st.one_of(st.none(), _subsets(leaves)), label="narrowing")
    held = data.draw(_subsets(leaves), label="held")
    requested = data.draw(_request_paths(leaves), label="requested")

    release = fieldmask.decide_release(desc, requested, policy, narrowing, held)
    record = populate(dept.record_type())
    fieldmask.mask(record, release.released)
    present = fieldmask.present_leaves(record)

    asked: set[str] = set()
    for path in requested:
        with contextlib.suppress(fieldmask.NoSuchField):
            asked |= fieldmask.expand(desc, path)
    allowed = policy & (narrowing if narrowing is not None else frozenset(leaves)) & asked & held
    assert present <= allowed
    assert release.released == allowed

    # every requested leaf is either released or covered by a withheld entry
    withheld_cover: set[str] = set()
    for w in release.withheld:
        if w.reason == "NO_SUCH_FIELD":
            withheld_cover.add(w.path)
        else:
            withheld_cover |= fieldmask.expand(desc, w.path)
    for path in requested:
        try:
            path_leaves = fieldmask.expand(desc, path)
        except fieldmask.NoSuchField:
            assert path in withheld_cover
            continue
        for leaf in path_leaves:
            assert leaf in release.released or leaf in withheld_cover, (path, leaf)
    # nothing is both released and withheld
    assert not (release.released & {w.path for w in release.withheld})


@settings(max_examples=150, deadline=None)
@given(data=st.data(), department=st.sampled_from(sorted(DEPARTMENTS)))
def test_extra_leaves_is_present_leaves_outside_allowed(data, department: str) -> None:
    """The gateway's shortcut (skip what ``allowed`` covers whole) finds exactly the
    fields a full walk would: none missed, none invented."""
    desc = DEPARTMENTS[department].record_type.DESCRIPTOR
    leaves = sorted(fieldmask.all_leaves(desc))
    record = populate(DEPARTMENTS[department].record_type())
    fieldmask.mask(record, data.draw(_subsets(leaves), label="set"))
    allowed = data.draw(st.one_of(_subsets(leaves), st.just(frozenset(leaves))), label="allowed")
    assert fieldmask.extra_leaves(record, allowed) == fieldmask.present_leaves(record) - allowed


def test_extra_leaves_names_a_leaf_inside_an_allowed_looking_list() -> None:
    record = populate(records_pb2.PublicSecurityRecord())
    allowed = fieldmask.all_leaves(PS) - {"vehicles.*.plate"}
    assert fieldmask.extra_leaves(record, allowed) == {"vehicles.*.plate"}
    assert fieldmask.extra_leaves(record, fieldmask.all_leaves(PS)) == frozenset()
