"""The household file a verifier fills in: members, programme, authorization.

    programme = "dibao"
    region = "310000"
    application_date = 2026-11-02   # 申请日期; optional, default today (never in the future)

    [authorization]            # the signed 授权书 (registered on first use)
    number = "SQ-2026-000123"
    programmes = ["dibao", "low-income"]   # optional: every programme the form names
    signed_on = 2026-11-02
    valid_from = 2026-11-02
    valid_until = 2027-11-01
    document_sha256 = "<sha256 of the scanned form>"   # or document = "scan.pdf"

    [[members]]
    id_number = "310101198001010012"
    name = "张三"
    relation = "self"          # self, spouse, child, parent, sibling, grandparent, ...
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from hedui.errors import HeduiError
from hedui.resident_id import InvalidIdNumber, normalize
from hedui.textfiles import FileProblem, read_toml
from hedui.v1 import case_pb2, common_pb2, records_pb2


class HouseholdFileError(HeduiError):
    exit_code = 2


RELATIONS = {
    name.removeprefix("RELATION_").lower().replace("_", "-"): value
    for name, value in records_pb2.Relation.items()
    if value
}


@dataclass(frozen=True)
class Household:
    programme: str
    region: str
    members: list[case_pb2.Member]
    authorization: case_pb2.Authorization
    #: 申请日期; None: the gateway takes today
    application_date: dt.date | None = None

    def with_application_date(self, when: dt.date | None) -> Household:
        """The same household applying on ``when`` (``--application-date``); None keeps
        the file's."""
        if when is None:
            return self
        return Household(self.programme, self.region, self.members, self.authorization, when)


def member_label(position: int, name: str) -> str:
    """``member 2 (李四)``: how a refusal names a member — never by the ID number (the
    gateway's ``intake`` says it the same way)."""
    return f"member {position} ({name})" if name else f"member {position}"


def normalized_id(value: object, position: int, name: str, where: str) -> str:
    """A member's ID number in canonical form, or a refusal naming the member."""
    try:
        return normalize(str(value))
    except InvalidIdNumber as exc:
        raise HouseholdFileError(f"{where}: {member_label(position, name)}: {exc}") from None


def parse_date(value: object, where: str) -> dt.date:
    """A TOML date (or ISO text) as a date; HouseholdFileError naming ``where``."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = dt.date.fromisoformat(value.strip())
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise HouseholdFileError(f"{where} must be a date like 2026-11-02")
    return value


def _date(value: object, where: str) -> common_pb2.Date:
    value = parse_date(value, where)
    return common_pb2.Date(year=value.year, month=value.month, day=value.day)


def load(path: str | Path, *, programme: str | None = None) -> Household:
    """The household file at ``path``, checked; saved as UTF-8 (with or without BOM) or
    GB18030/GBK, as Notepad and WPS on a Chinese desk write it."""
    path = Path(path)
    if not path.exists():
        raise HouseholdFileError(f"household file {path} does not exist")
    try:
        raw, _text = read_toml(path)
    except FileProblem as exc:
        raise HouseholdFileError(str(exc)) from None
    programme = programme or raw.get("programme")
    if not programme:
        raise HouseholdFileError(f"{path}: no programme (give --program or programme = ...)")
    region = str(raw.get("region", ""))
    if not region:
        raise HouseholdFileError(f"{path}: region (six-digit region code) is missing")
    listed = raw.get("members", [])
    if not isinstance(listed, list) or not all(isinstance(m, dict) for m in listed):
        raise HouseholdFileError(f"{path}: members must be [[members]] tables, one per person")
    members = []
    for i, m in enumerate(listed, 1):
        relation = str(m.get("relation", "self")).lower().removeprefix("relation_")
        relation = relation.replace("_", "-")
        if relation not in RELATIONS:
            raise HouseholdFileError(
                f"{path}: members[{i}].relation {relation!r} is not one of "
                f"{', '.join(RELATIONS)}"
            )
        if "id_number" not in m:
            raise HouseholdFileError(f"{path}: members[{i}] has no id_number")
        name = str(m.get("name", ""))
        members.append(case_pb2.Member(id_number=normalized_id(m["id_number"], i, name, str(path)),
                                       name=name, relation=RELATIONS[relation]))
    if not members:
        raise HouseholdFileError(f"{path}: the household lists no [[members]]")
    a = raw.get("authorization")
    if not isinstance(a, dict) or "number" not in a:
        raise HouseholdFileError(f"{path}: [authorization] with a number is missing")
    listed = authorized_programmes(a, programme, str(path))
    digest = a.get("document_sha256", "")
    if not digest and "document" in a:
        doc = path.resolve().parent / a["document"]
        try:
            digest = hashlib.sha256(doc.read_bytes()).hexdigest()
        except OSError as exc:
            raise HouseholdFileError(f"{path}: cannot read authorization document {doc}: "
                                     f"{exc.strerror}") from None
    auth = case_pb2.Authorization(
        number=str(a["number"]), programme=listed[0],
        programmes=listed if len(listed) > 1 else [],
        covered_id_numbers=[m.id_number for m in members],
        signed_on=_date(a.get("signed_on"), f"{path}: authorization.signed_on"),
        validity=common_pb2.Period(
            start=_date(a.get("valid_from"), f"{path}: authorization.valid_from"),
            end=_date(a.get("valid_until"), f"{path}: authorization.valid_until"),
        ),
        document_sha256=digest,
    )
    applied = raw.get("application_date")
    when = None if applied is None else parse_date(applied, f"{path}: application_date")
    return Household(programme, region, members, auth, when)


def authorized_programmes(a: dict, programme: str, where: str) -> list[str]:
    """The programmes the form names: ``programmes = [...]`` when given (it must name
    the one verified, or the gateway would refuse every query), else the one verified."""
    listed = a.get("programmes")
    if listed is None:
        return [programme]
    if (not isinstance(listed, list) or not listed
            or not all(isinstance(p, str) and p.strip() for p in listed)):
        raise HouseholdFileError(f'{where}: authorization.programmes is a list of programmes, '
                                 'e.g. ["dibao", "low-income"]')
    listed = list(dict.fromkeys(p.strip() for p in listed))
    if programme not in listed:
        raise HouseholdFileError(
            f"{where}: the authorization is for {', '.join(listed)}, not for {programme}; "
            "verify one of those, or have the household sign for it too")
    return listed


def write(path: Path, *, programme: str, region: str, members: list[dict],
          authorization_number: str, today: dt.date,
          application_date: dt.date | None = None) -> Path:
    """Write a household file (the demo writes them from the synthetic population);
    the authorization is signed ``today``."""
    head = [f'programme = "{programme}"', f'region = "{region}"']
    if application_date is not None:
        head.append(f"application_date = {application_date.isoformat()}")
    lines = [*head, "", "[authorization]",
             f'number = "{authorization_number}"', f"signed_on = {today.isoformat()}",
             f"valid_from = {today.isoformat()}",
             f"valid_until = {(today + dt.timedelta(days=364)).isoformat()}",
             f'document_sha256 = "{hashlib.sha256(authorization_number.encode()).hexdigest()}"',
             ""]
    for m in members:
        lines += ["[[members]]", f'id_number = "{m["id_number"]}"', f'name = "{m["name"]}"',
                  f'relation = "{m["relation"]}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
