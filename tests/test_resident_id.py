"""hedui.resident_id: the one validation of resident ID numbers, and its three users.

Every number here is synthetic: built from a region code of stdnum's table, a date and
a sequence number, with its GB 11643 check digit computed.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stdnum import numdb
from stdnum.cn import ric

from hedui import china_time, resident_id
from hedui.agents import refusals
from hedui.agents.checks import QueryChecker, validate_id_number
from hedui.audit.errors import PseudonymError
from hedui.audit.pseudonym import Pseudonymizer
from hedui.resident_id import InvalidIdNumber, check_digit, is_valid, normalize
from hedui.v1 import query_pb2

#: today in China, as the check counts it (a run may cross midnight: the future starts
#: two days on)
TODAY = china_time.today()


def _known_regions() -> tuple[str, ...]:
    """Every six-digit code stdnum's cn/loc table has a county entry for, at any date."""
    codes = []
    for _, lo, hi, _, children in numdb.get("cn/loc").prefixes:
        for _, clo, chi, props, _ in children:
            if "county" not in props:
                continue
            for p in range(int(lo), int(hi) + 1):
                for c in range(int(clo), int(chi) + 1):
                    codes.append(f"{p:02d}{c:04d}")
    return tuple(sorted(set(codes)))


REGIONS = _known_regions()
KNOWN = frozenset(REGIONS)

#: 北京市通州区: its code 110112 exists only since 1997 (before, 通县 was 110223)
TONGZHOU = "110112"


def make(region: str, born: dt.date, seq: int) -> str:
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + check_digit(body)


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(REGIONS))
    born = draw(st.dates(dt.date(1900, 1, 1), TODAY))
    return make(region, born, draw(st.integers(0, 999)))


_FULL = {str(d): chr(0xFF10 + d) for d in range(10)} | {"X": "Ｘ"}
_SPACES = (" ", "\u3000", "\u00a0", "\t")


def test_check_digit_is_gb_11643() -> None:
    assert check_digit("11010519491231002") == "X"  # the standard's own example
    assert normalize("11010519491231002X") == "11010519491231002X"


@settings(max_examples=300, deadline=None)
@given(valid_ids())
def test_every_valid_number_normalizes_to_itself(number: str) -> None:
    assert normalize(number) == number
    assert is_valid(number)


@settings(max_examples=300, deadline=None)
@given(valid_ids(), st.data())
def test_typed_variants_normalize_to_the_canonical_form(number: str, data: st.DataObject) -> None:
    chars = list(number)
    full = data.draw(st.lists(st.booleans(), min_size=18, max_size=18))
    chars = [_FULL[c] if f else c for c, f in zip(chars, full, strict=True)]
    if number[17] == "X":
        chars[17] = data.draw(st.sampled_from(["X", "x", "Ｘ", "ｘ"]))
    for _ in range(data.draw(st.integers(0, 4))):  # spaces anywhere, also around
        at = data.draw(st.integers(0, len(chars)))
        chars.insert(at, data.draw(st.sampled_from(_SPACES)))
    typed = "".join(chars)
    assert normalize(typed) == number
    assert normalize(f" \u3000{typed}\n ") == number


@settings(max_examples=300, deadline=None)
@given(valid_ids(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_character_change_is_refused_by_the_check_digit(
    number: str, position: int, replacement: str
) -> None:
    assume(number[position] != replacement)
    assume(position == 17 or replacement != "X")
    typo = number[:position] + replacement + number[position + 1:]
    with pytest.raises(InvalidIdNumber) as err:
        normalize(typo)
    assert err.value.reason == "check-digit"
    assert typo not in str(err.value) and typo[:6] not in str(err.value)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 999_999), st.dates(dt.date(1900, 1, 1), TODAY), st.integers(0, 999))
def test_a_region_code_never_assigned_is_refused(code: int, born: dt.date, seq: int) -> None:
    region = f"{code:06d}"
    assume(region not in KNOWN)
    with pytest.raises(InvalidIdNumber) as err:
        normalize(make(region, born, seq))
    assert err.value.reason == "region"


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(REGIONS), st.dates(TODAY + dt.timedelta(days=2), dt.date(9999, 12, 31)))
def test_a_birth_date_in_the_future_is_refused(region: str, born: dt.date) -> None:
    with pytest.raises(InvalidIdNumber) as err:
        normalize(make(region, born, 1))
    assert err.value.reason == "birth-date"


@pytest.mark.parametrize("date", ["19490230", "19491301", "19490000", "19490431",
                                  "19000229", "18991231", "00000101"])
def test_an_impossible_or_too_early_birth_date_is_refused(date: str) -> None:
    body = f"110105{date}002"
    with pytest.raises(InvalidIdNumber) as err:
        normalize(body + check_digit(body))
    assert err.value.reason == "birth-date"
    assert date not in str(err.value)


def test_today_is_a_possible_birth_date_and_tomorrow_is_not() -> None:
    number = make("110105", dt.date(2024, 2, 29), 1)
    assert normalize(number, today=dt.date(2024, 2, 29)) == number
    with pytest.raises(InvalidIdNumber):
        normalize(number, today=dt.date(2024, 2, 28))


def test_a_region_created_after_the_holders_birth_is_accepted() -> None:
    """A region code is where the number was issued, not where its holder was born.

    Tongzhou district (110112) has existed since 1997 ("[1997-]通州区" in stdnum's
    loc.dat); someone born in 1965 in 通县 holds a 110112… number since then. stdnum's
    ``ric.validate`` checks the code against the birth year and refuses it; hedui must not.
    """
    number = make(TONGZHOU, dt.date(1965, 5, 5), 1)
    with pytest.raises(Exception):  # noqa: B017 - stdnum's own refusal is what we document
        ric.validate(number)
    assert normalize(number) == number
    assert validate_id_number(number) == number
    assert Pseudonymizer(b"k" * 32).normalize(number) == number


@pytest.mark.parametrize(("value", "reason"), [
    ("", "length"), ("11010519491231002", "length"), ("11010519491231002XX", "length"),
    ("1101051949123100AX", "characters"), ("11010519491231002Y", "characters"),
    ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "characters"),  # Arabic-Indic digits are not typed here
    ("110105194912310021", "check-digit"),
])
def test_each_refusal_names_its_reason_and_never_the_number(value: str, reason: str) -> None:
    with pytest.raises(InvalidIdNumber) as err:
        normalize(value)
    assert err.value.reason == reason
    assert not value or value not in str(err.value)
    assert not is_valid(value)


def test_not_text_is_refused() -> None:
    with pytest.raises(InvalidIdNumber):
        normalize(110105194912310021)  # type: ignore[arg-type]


def test_the_region_lookup_is_cached() -> None:
    resident_id.region_known.cache_clear()
    for seq in range(50):
        normalize(make("110105", dt.date(1970, 1, 1), seq))
    info = resident_id.region_known.cache_info()
    assert info.misses == 1 and info.hits == 49


# ------------------------------------------------------------------ the three users agree

_ALPHABET = "0123456789Xx０１２３４５６７８９Ｘｘ \u3000A-"


@settings(max_examples=400, deadline=None)
@given(st.one_of(valid_ids(), st.text(alphabet=_ALPHABET, min_size=15, max_size=22)))
def test_agent_audit_and_gateway_validation_accept_and_refuse_alike(value: str) -> None:
    try:
        want: str | None = normalize(value)
    except InvalidIdNumber:
        want = None
    try:
        agent: str | None = validate_id_number(value)
    except ValueError:
        agent = None
    try:
        audit: str | None = Pseudonymizer.normalize(value)
    except PseudonymError:
        audit = None
    assert agent == want
    assert audit == want


def _checker() -> QueryChecker:
    """A QueryChecker for the subject checks only: they need no bundle or data."""
    return QueryChecker(
        agent_id="spiffe://county.example/agent/public-security", department="public-security",
        bundle=lambda: None, replay=None, held_paths=frozenset,  # type: ignore[arg-type]
    )


def test_the_agent_accepts_a_number_issued_by_a_region_created_after_birth() -> None:
    number = make(TONGZHOU, dt.date(1962, 8, 1), 7)
    query = query_pb2.Query(query_id="q-1")
    query.subjects.add(id_number=number)
    query.subjects.add(id_number=" ".join(_FULL[c] for c in make("110105", dt.date(1980, 1, 1),
                                                                  3)))
    assert _checker()._check_subjects(query) == (number, make("110105", dt.date(1980, 1, 1), 3))


def test_the_agent_refuses_a_bad_number_by_position_and_reason_only() -> None:
    bad = make("110105", dt.date(1980, 1, 1), 3)[:-1] + "0"
    bad = bad if check_digit(bad) != "0" else bad[:-1] + "1"
    query = query_pb2.Query(query_id="q-2")
    query.subjects.add(id_number=make("110105", dt.date(1980, 1, 1), 4))
    query.subjects.add(id_number=bad)
    with pytest.raises(refusals.MalformedIdNumber) as err:
        _checker()._check_subjects(query)
    assert "subject #2" in str(err.value) and "check-digit" in str(err.value)
    assert bad not in str(err.value)


def test_china_s_day_begins_eight_hours_before_utc_s() -> None:
    """A server in UTC at 23:30 is already at tomorrow's 07:30 in the county."""
    late = dt.datetime(2026, 12, 2, 23, 30, tzinfo=dt.UTC)
    assert china_time.china_date(late) == dt.date(2026, 12, 3)
    assert china_time.china_date(late.replace(hour=15, minute=59)) == dt.date(2026, 12, 2)
    assert china_time.china_date(dt.datetime(2026, 12, 2, 16, 0)) == dt.date(2026, 12, 3)
