"""Member roster deliveries: one full snapshot per month, with realistic changes and defects.

Snapshot rule: the file for month M holds one row per member whose coverage overlaps M, i.e.
every member active in M, including members whose coverage ends on M's last day (a termination
shows as a filled ``coverage_end_date`` in the last file that carries the member). Unchanged
members repeat the same row, with the same ``record_updated_at``, in every file; a change
(address move, correction, termination, re-enrolment) shows as a new row version with a later
``record_updated_at`` inside the month of the change. A re-enrolment after a gap of at least one
month opens a new coverage segment: new ``coverage_start_date``, same ``member_id``.

Households: a subscriber (``subscriber_id == member_id``) with optional spouse and dependents
sharing the subscriber's address, plan and ``subscriber_id``. Dependents age out (26 commercial,
19 Medicaid) with coverage ending on the last day of their birthday month. Month 0 holds exactly
``members`` members; every later month adds new households (about 1.5 % of ``members``).

Determinism: each household draws from its own stream (seed, cohort, index) month by month, and
each file's defects from (seed, month), so month M's file is the same whether it is generated in
a run of M+1 months or of M+12 (see ``from_month``). Identifiers: ``member_id`` is ``M`` + 3-digit
cohort (0 for the initial population, M for members joining in month M) + 7-digit sequence. SSNs
use area numbers 900-999, which are never issued, and phones the fictional 555-01xx range.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from tools.datagen import _catalogue as cat
from tools.datagen._util import (
    add_months,
    applicable_kinds,
    below,
    between,
    check_formats,
    check_kinds,
    month_end,
    paused_gc,
    pick,
    random_timestamp,
    stream,
)
from tools.datagen.codes import BAD_DATES, PLANS, UNKNOWN_CODES, Plan
from tools.datagen.formatting import csv_fields, csv_line
from tools.datagen.records import (
    FILE_EXTENSIONS,
    MEMBER_DEFECT_KINDS,
    CoverageSegment,
    DatagenError,
    Defect,
    DefectKind,
    Delivery,
    FileFormat,
    MemberRow,
    MemberTruth,
    Roster,
)

__all__ = [
    "MEMBER_COLUMNS",
    "MEMBER_FORMATS",
    "generate_roster",
    "roster_file_name",
]

MEMBER_COLUMNS: tuple[str, ...] = tuple(MemberRow.__annotations__)
"""Roster columns in file order (CSV header, Parquet schema, contract)."""
MEMBER_FORMATS: tuple[FileFormat, ...] = ("csv", "parquet")

MAX_MEMBERS = 9_999_999
MAX_MONTHS = 998
P_TERMINATE = 0.015
P_MOVE = 0.01
P_CORRECTION = 0.004
P_REENROL = 0.12
JOIN_RATE = 0.015
_LOB_WEIGHTS = (("commercial", 0.6), ("medicare_advantage", 0.2), ("medicaid", 0.2))
_AGE_LIMIT = {"commercial": 26, "medicaid": 19}
_RELATIONSHIP_RAW = {
    "subscriber": ("SUB", "sub", "SELF"),
    "spouse": ("SPS", "sps", "SPOUSE"),
    "dependent": ("DEP", "dep", "CHILD"),
}
_GENDER_RAW = {
    "male": ("M", "m", "male", "Male"),
    "female": ("F", "f", "female", "Female"),
    "unknown": ("U",),
}
_LOB_RAW = {
    "commercial": ("commercial", "COMMERCIAL", "Commercial"),
    "medicare_advantage": ("medicare_advantage", "MEDICARE_ADVANTAGE", "MA"),
    "medicaid": ("medicaid", "MEDICAID", "Medicaid"),
}
_PRODUCT_RAW = {"HMO": ("HMO", "hmo"), "PPO": ("PPO", "ppo"), "HDHP": ("HDHP", "hdhp")}
_PLANS_BY_LOB = {
    lob: tuple(plan for plan in PLANS if plan.line_of_business == lob) for lob, _ in _LOB_WEIGHTS
}
_DATE_COLUMNS = ("birth_date", "coverage_start_date", "coverage_end_date")
_CODE_COLUMNS = ("gender_code", "relationship_code", "line_of_business", "product_code")
_ADDRESS_INDEX = MEMBER_COLUMNS.index("address_line")
_ASCII_FOLD = str.maketrans({"Ø": "O", "ø": "o", "ß": "ss", "Æ": "AE", "æ": "ae"})


@dataclass(slots=True)
class _Person:
    truth: MemberTruth
    relationship_raw: str
    gender_raw: str
    first_name: str
    last_name: str
    ssn: str | None
    phone: str
    email: str | None
    age_limit_date: date | None
    row: MemberRow | None = None


@dataclass(slots=True)
class _Household:
    rng: random.Random
    joined: int
    plan: Plan
    lob_raw: str
    product_raw: str
    city: cat.City
    address_line: str
    zip5: str
    people: list[_Person]
    active: bool = True
    ended: int = -1


class _Ids:
    """Allocates member ids within a cohort in creation order."""

    def __init__(self, cohort: int) -> None:
        self.cohort = cohort
        self.next = 1

    def take(self) -> str:
        member_id = f"M{self.cohort:03d}{self.next:07d}"
        self.next += 1
        return member_id


def roster_file_name(month: date, file_format: FileFormat) -> str:
    """Landing file name of a month's roster, e.g. ``roster_2025_01.csv``."""
    return f"roster_{month:%Y_%m}{FILE_EXTENSIONS[file_format]}"


def generate_roster(
    members: int,
    months: int,
    start: date,
    seed: int,
    defect_rate: float = 0.0,
    *,
    formats: Sequence[FileFormat] = MEMBER_FORMATS,
    from_month: int = 0,
    defect_kinds: Collection[DefectKind | str] | None = None,
) -> Roster:
    """Simulate `months` months from `start` and return the deliveries from `from_month` on.

    `members` is the month-0 population. Month i is written as ``formats[i % len(formats)]``.
    Each clean row becomes defective with probability `defect_rate`, with one kind drawn from
    `defect_kinds` (default: all roster kinds) that the file format can carry.
    """
    anchor = _validate(members, months, start, defect_rate, from_month)
    file_formats = check_formats(formats, MEMBER_FORMATS)
    kinds = check_kinds(defect_kinds, MEMBER_DEFECT_KINDS)
    with paused_gc():
        return _simulate(
            members, months, anchor, seed, defect_rate, file_formats, from_month, kinds
        )


def _simulate(
    members: int,
    months: int,
    anchor: date,
    seed: int,
    defect_rate: float,
    file_formats: tuple[FileFormat, ...],
    from_month: int,
    kinds: frozenset[DefectKind],
) -> Roster:
    """Replay every month from the anchor; only delivered months build files."""
    households: list[_Household] = []
    initial_ids = _Ids(0)
    index = 0
    while initial_ids.next <= members:
        rng = stream(seed, "household", 0, index)
        limit = members - initial_ids.next + 1
        households.append(_new_household(rng, initial_ids, limit, anchor, -1, None))
        index += 1
    deliveries: list[Delivery[MemberRow]] = []
    for month_index in range(months):
        first = add_months(anchor, month_index)
        last = month_end(first)
        if month_index > 0:
            households.extend(_joiners(seed, members, month_index, first))
        for household in households:
            if month_index > household.joined:
                _step(household, month_index, first, last)
        if month_index < from_month:
            continue
        rows = [
            person.row
            for household in households
            for person in household.people
            if person.row is not None and _overlaps(person.truth.segments[-1], first, last)
        ]
        file_format = file_formats[month_index % len(file_formats)]
        deliveries.append(
            _inject_defects(
                rows,
                roster_file_name(first, file_format),
                file_format,
                first,
                stream(seed, "member-defects", month_index),
                defect_rate,
                applicable_kinds(kinds, file_format),
            )
        )
    truth = {
        person.truth.member_id: person.truth
        for household in households
        for person in household.people
    }
    return Roster(start=anchor, months=months, seed=seed, deliveries=deliveries, members=truth)


def _validate(members: int, months: int, start: date, defect_rate: float, from_month: int) -> date:
    if not 1 <= members <= MAX_MEMBERS:
        raise DatagenError(f"members must be 1..{MAX_MEMBERS}, got {members!r}")
    if not 1 <= months <= MAX_MONTHS:
        raise DatagenError(f"months must be 1..{MAX_MONTHS}, got {months!r}")
    if not 0.0 <= defect_rate <= 1.0:
        raise DatagenError(f"defect_rate must be within 0..1, got {defect_rate!r}")
    if not 0 <= from_month < months:
        raise DatagenError(
            f"from_month must be a month index in 0..{months - 1}, got {from_month!r}; "
            "raise months to reach later deliveries"
        )
    return date(start.year, start.month, 1)


def _overlaps(segment: CoverageSegment, first: date, last: date) -> bool:
    return segment.start <= last and (segment.end is None or segment.end >= first)


def _weighted_lob(rng: random.Random) -> str:
    draw = rng.random()
    for lob, weight in _LOB_WEIGHTS:
        if draw < weight:
            return lob
        draw -= weight
    return _LOB_WEIGHTS[-1][0]


def _variant(rng: random.Random, variants: tuple[str, ...], canonical_share: float) -> str:
    """The first (canonical) spelling most of the time, another source spelling otherwise."""
    if len(variants) == 1 or rng.random() < canonical_share:
        return variants[0]
    return pick(rng, variants[1:])


def _product_raw(rng: random.Random, plan: Plan) -> str:
    return _variant(rng, _PRODUCT_RAW.get(plan.product, (plan.product,)), 0.9)


def _birth_date(rng: random.Random, today: date, age: int) -> date:
    """A birth date that makes the person `age` years old on `today`."""
    latest = date(today.year - age, today.month, 1)
    return latest - timedelta(days=below(rng, 365))


def _add_years(day: date, years: int) -> date:
    if day.month == 2 and day.day == 29:
        return date(day.year + years, 3, 1)
    return day.replace(year=day.year + years)


def _ssn(rng: random.Random) -> str:
    ssn = f"{between(rng, 900, 999)}-{between(rng, 1, 49):02d}-{between(rng, 1, 9999):04d}"
    return ssn if rng.random() < 0.85 else ssn.replace("-", "")


def _phone(rng: random.Random, style: int) -> str:
    area, line = between(rng, 201, 989), between(rng, 100, 199)
    if style == 0:
        return f"({area}) 555-{line:04d}"
    if style == 1:
        return f"{area}-555-{line:04d}"
    return f"{area}555{line:04d}"


@functools.cache
def _email_local(first_name: str, last_name: str) -> str:
    """ASCII local part for a name pair; cached, the name vocabulary is small."""
    folded = unicodedata.normalize("NFKD", f"{first_name}.{last_name}".translate(_ASCII_FOLD))
    local = folded.lower().encode("ascii", "ignore").decode()
    return "".join(char for char in local if char.isalnum() or char == ".")


def _email(rng: random.Random, first_name: str, last_name: str) -> str:
    local = _email_local(first_name, last_name)
    return f"{local}{between(rng, 1, 99)}@{pick(rng, cat.EMAIL_DOMAINS)}"


def _address(rng: random.Random) -> str:
    street = f"{between(rng, 1, 9999)} {pick(rng, cat.STREETS)} {pick(rng, cat.STREET_SUFFIXES)}"
    draw = rng.random()
    if draw < 0.12:
        return f"{street}, Apt {between(rng, 1, 40)}"
    if draw < 0.125:
        return f"{street}\nUnit {between(rng, 1, 12)}"
    return street


def _zip5(rng: random.Random, city: cat.City) -> str:
    return f"{city.zip3}{between(rng, 1, 99):02d}"


def _first_name(rng: random.Random, gender: str) -> str:
    if gender == "female":
        return pick(rng, cat.FEMALE_NAMES)
    if gender == "male":
        return pick(rng, cat.MALE_NAMES)
    return pick(rng, cat.FEMALE_NAMES + cat.MALE_NAMES)


def _gender(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.01:
        return "unknown"
    return "female" if draw < 0.505 else "male"


def _composition(rng: random.Random, lob: str) -> list[str]:
    if lob == "medicare_advantage":
        return ["subscriber"]
    draw = rng.random()
    single, couple = (0.45, 0.2) if lob == "commercial" else (0.35, 0.0)
    if draw < single:
        return ["subscriber"]
    if draw < single + couple:
        return ["subscriber", "spouse"]
    spouse = rng.random() < (0.7 if lob == "commercial" else 0.25)
    kids = between(rng, 1, 3 if lob == "commercial" else 4)
    return ["subscriber", *(["spouse"] if spouse else []), *(["dependent"] * kids)]


def _subscriber_age(rng: random.Random, lob: str, has_kids: bool) -> int:
    if lob == "medicare_advantage":
        return between(rng, 65, 94)
    if lob == "medicaid":
        return between(rng, 20, 50) if has_kids else between(rng, 18, 60)
    return between(rng, 24, 64)


def _new_household(
    rng: random.Random,
    ids: _Ids,
    limit: int,
    today: date,
    joined: int,
    coverage_start: date | None,
) -> _Household:
    """Draw one household; `today` dates ages, `coverage_start` None means an earlier start."""
    lob = _weighted_lob(rng)
    plan = pick(rng, _PLANS_BY_LOB[lob])
    relationships = _composition(rng, lob)[:limit]
    start = coverage_start or add_months(today, -below(rng, 60))
    city = pick(rng, cat.CITIES)
    household = _Household(
        rng=rng,
        joined=joined,
        plan=plan,
        lob_raw=_variant(rng, _LOB_RAW[lob], 0.85),
        product_raw=_product_raw(rng, plan),
        city=city,
        address_line=_address(rng),
        zip5=_zip5(rng, city),
        people=[],
    )
    phone_style = below(rng, 3)
    home_phone = _phone(rng, phone_style)
    family_name = pick(rng, cat.LAST_NAMES)
    sub_age = _subscriber_age(rng, lob, "dependent" in relationships)
    sub_gender = _gender(rng)
    subscriber_id = ""
    for relationship in relationships:
        member_id = ids.take()
        subscriber_id = subscriber_id or member_id
        if relationship == "subscriber":
            age, gender = sub_age, sub_gender
        elif relationship == "spouse":
            age = max(18, sub_age + between(rng, -6, 6))
            opposite = {"male": "female", "female": "male"}.get(sub_gender, _gender(rng))
            gender = opposite if rng.random() < 0.9 else _gender(rng)
        else:
            age = between(rng, 0, max(0, min(_AGE_LIMIT[lob] - 1, sub_age - 18)))
            gender = _gender(rng)
        birth = _birth_date(rng, today, age)
        first_name = _first_name(rng, gender)
        keeps_name = relationship != "spouse" or rng.random() < 0.8
        last_name = family_name if keeps_name else pick(rng, cat.LAST_NAMES)
        adult = relationship != "dependent" or age >= 18
        segment_start = max(start, date(birth.year, birth.month, 1))
        truth = MemberTruth(
            member_id=member_id,
            subscriber_id=subscriber_id,
            relationship=relationship,
            birth_date=birth,
            gender=gender,
            segments=[CoverageSegment(segment_start, None, plan.plan_id, lob)],
        )
        person = _Person(
            truth=truth,
            relationship_raw=_variant(rng, _RELATIONSHIP_RAW[relationship], 0.85),
            gender_raw=_variant(rng, _GENDER_RAW[gender], 0.8),
            first_name=first_name,
            last_name=last_name,
            ssn=None if age == 0 and rng.random() < 0.5 else _ssn(rng),
            phone=_phone(rng, phone_style) if adult and rng.random() < 0.5 else home_phone,
            email=_email(rng, first_name, last_name) if adult and rng.random() < 0.8 else None,
            age_limit_date=(
                _add_years(birth, _AGE_LIMIT[lob]) if relationship == "dependent" else None
            ),
        )
        updated = random_timestamp(
            rng, segment_start - timedelta(days=45), segment_start - timedelta(days=1)
        )
        person.row = _make_row(person, household, updated)
        household.people.append(person)
    return household


def _joiners(seed: int, members: int, month_index: int, first: date) -> list[_Household]:
    """New households enrolling in a month, from that month's own stream."""
    rng = stream(seed, "joiners", month_index)
    target = round(members * JOIN_RATE * (0.5 + rng.random()))
    ids = _Ids(month_index)
    joined: list[_Household] = []
    while ids.next <= target:
        household_rng = stream(seed, "household", month_index, len(joined))
        limit = target - ids.next + 1
        joined.append(_new_household(household_rng, ids, limit, first, month_index, first))
    return joined


def _make_row(person: _Person, household: _Household, updated_at: datetime) -> MemberRow:
    segment = person.truth.segments[-1]
    return {
        "member_id": person.truth.member_id,
        "subscriber_id": person.truth.subscriber_id,
        "relationship_code": person.relationship_raw,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "birth_date": person.truth.birth_date,
        "gender_code": person.gender_raw,
        "ssn": person.ssn,
        "address_line": household.address_line,
        "city": household.city.name,
        "state": household.city.state,
        "zip5": household.zip5,
        "phone": person.phone,
        "email": person.email,
        "line_of_business": household.lob_raw,
        "product_code": household.product_raw,
        "plan_id": segment.plan_id,
        "coverage_start_date": segment.start,
        "coverage_end_date": segment.end,
        "record_updated_at": updated_at,
    }


def _step(household: _Household, month_index: int, first: date, last: date) -> None:
    """Apply one month of events; the draw order is fixed, so replays give the same history."""
    rng = household.rng
    if not household.active:
        if month_index - household.ended >= 2 and rng.random() < P_REENROL:
            _reenrol(household, first, last)
        return
    draw = rng.random()
    if draw < P_TERMINATE:
        updated = random_timestamp(rng, first, last)
        for person in household.people:
            if person.truth.segments[-1].end is None:
                _end_segment(person, household, last, updated)
        household.active = False
        household.ended = month_index
        return
    if draw < P_TERMINATE + P_MOVE:
        _move(household, first, last)
    for person in household.people:
        if person.truth.segments[-1].end is not None:
            continue
        if person.age_limit_date is not None and person.age_limit_date <= last:
            _end_segment(person, household, last, random_timestamp(rng, first, last))
        elif rng.random() < P_CORRECTION:
            _correct(rng, person)
            person.row = _make_row(person, household, random_timestamp(rng, first, last))


def _end_segment(person: _Person, household: _Household, last: date, updated: datetime) -> None:
    segments = person.truth.segments
    segments[-1] = dataclasses.replace(segments[-1], end=last)
    person.row = _make_row(person, household, updated)


def _move(household: _Household, first: date, last: date) -> None:
    rng = household.rng
    if rng.random() < 0.3:
        household.city = pick(rng, cat.CITIES)
    household.address_line = _address(rng)
    household.zip5 = _zip5(rng, household.city)
    updated = random_timestamp(rng, first, last)
    for person in household.people:
        if person.truth.segments[-1].end is None:
            person.row = _make_row(person, household, updated)


def _correct(rng: random.Random, person: _Person) -> None:
    """A data-entry fix: the field changes, the member does not."""
    field = pick(rng, ("first_name", "last_name", "birth_date", "ssn"))
    if field == "first_name":
        person.first_name = _first_name(rng, person.truth.gender)
    elif field == "last_name":
        person.last_name = pick(rng, cat.LAST_NAMES)
    elif field == "birth_date":
        shift = pick(rng, (-1, 1)) * between(rng, 1, 40)
        person.truth.birth_date = person.truth.birth_date + timedelta(days=shift)
    else:
        person.ssn = _ssn(rng)


def _reenrol(household: _Household, first: date, last: date) -> None:
    rng = household.rng
    if rng.random() < 0.3:
        household.plan = pick(rng, _PLANS_BY_LOB[household.plan.line_of_business])
        household.product_raw = _product_raw(rng, household.plan)
    updated = random_timestamp(rng, first, last)
    plan = household.plan
    for person in household.people:
        if person.age_limit_date is not None and person.age_limit_date <= last:
            continue
        segment = CoverageSegment(first, None, plan.plan_id, plan.line_of_business)
        person.truth.segments.append(segment)
        person.row = _make_row(person, household, updated)
    household.active = True


def _set(row: MemberRow, column: str, value: object) -> None:
    cast("dict[str, object]", row)[column] = value


def _inject_defects(
    rows: list[MemberRow],
    file_name: str,
    file_format: FileFormat,
    month: date,
    rng: random.Random,
    rate: float,
    kinds: tuple[DefectKind, ...],
) -> Delivery[MemberRow]:
    """Turn a clean snapshot into a delivered file: each row is defective with chance `rate`."""
    if rate <= 0.0 or not kinds:
        return Delivery(file_name, file_format, month, list(rows), {}, [])
    out: list[MemberRow] = []
    raw_lines: dict[int, str] = {}
    defects: list[Defect] = []
    for row in rows:
        if rng.random() >= rate:
            out.append(row)
            continue
        kind = pick(rng, kinds)
        column: str | None = None
        value: str | None = None
        bad = row.copy()
        if kind is DefectKind.DUPLICATE_ROW:
            out.append(row)
            value = row["member_id"]
        elif kind is DefectKind.BAD_DATE:
            column = pick(rng, [c for c in _DATE_COLUMNS if cast("dict[str, object]", row)[c]])
            value = pick(rng, BAD_DATES)
            _set(bad, column, value)
        elif kind is DefectKind.MISSING_MEMBER_ID:
            column = "member_id"
            bad["member_id"] = value = pick(rng, (None, ""))
        elif kind is DefectKind.UNKNOWN_CODE:
            column = pick(rng, _CODE_COLUMNS)
            value = UNKNOWN_CODES[column]
            _set(bad, column, value)
        elif kind is DefectKind.COVERAGE_END_BEFORE_START:
            column = "coverage_end_date"
            start = cast("date", row["coverage_start_date"])
            end = start - timedelta(days=between(rng, 1, 120))
            bad["coverage_end_date"] = end
            value = end.isoformat()
        else:
            fields = csv_fields(row, MEMBER_COLUMNS)
            if kind is DefectKind.TOO_MANY_FIELDS:
                number, _, rest = (fields[_ADDRESS_INDEX] or "").partition(" ")
                fields[_ADDRESS_INDEX : _ADDRESS_INDEX + 1] = [number, rest]
            else:
                fields = fields[:-2]
            raw_lines[len(out)] = value = csv_line(fields)
        out.append(bad)
        defects.append(Defect(file_name, len(out), kind, column, value))
    return Delivery(file_name, file_format, month, out, raw_lines, defects)
