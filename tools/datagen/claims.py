"""Claims deliveries: one file per month of claim records received that month.

Each record is one claim version with its nested service ``lines``. Originals (``claim_version``
1, ``adjustment_type`` ORIGINAL) are drawn per member and covered month, with service dates
inside the member's coverage; later versions arrive in later months' files with a new
``claim_id`` (``<original>-02``), ``claim_version`` + 1 and ``original_claim_id`` pointing at the
original: pending claims are finalised (ADJUSTMENT to paid or denied), some paid claims are
re-priced (ADJUSTMENT) or voided (REVERSAL: it repeats the voided version's lines and amounts;
the latest version of a claim is the one that counts, and a REVERSAL means "no claim").

A record is delivered in the file of its ``received_date``'s month; records received after the
horizon appear when a later run extends it. Services start in the roster's first month, so the
first file ramps up (it lacks the claims of earlier services still in the mail).

Amounts obey paid <= allowed <= billed on every clean line; denied and pending versions carry
allowed = paid = 0.00. In JSON files about 15 % of records spell their amounts as strings
(``"12.50"``), the rest as numbers with two decimals.

Determinism: each member's claims come from their own stream, replayed month by month from the
roster's start, and each file's noise and defects from (seed, month).
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
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
    random_day,
    stream,
)
from tools.datagen.codes import BAD_DATES, UNKNOWN_CODES
from tools.datagen.formatting import json_line
from tools.datagen.identifiers import ndc_variants, npi_check_digit
from tools.datagen.records import (
    CLAIM_DEFECT_KINDS,
    FILE_EXTENSIONS,
    ClaimLine,
    ClaimRow,
    ClaimsBatch,
    DatagenError,
    Defect,
    DefectKind,
    Delivery,
    FileFormat,
    Roster,
)

__all__ = [
    "CLAIM_FIELDS",
    "CLAIM_FORMATS",
    "CLAIM_LINE_FIELDS",
    "claims_file_name",
    "generate_claims",
]

CLAIM_FIELDS: tuple[str, ...] = tuple(ClaimRow.__annotations__)
"""Claim record fields in file order (JSON keys, Parquet columns, contract)."""
CLAIM_LINE_FIELDS: tuple[str, ...] = tuple(ClaimLine.__annotations__)
"""Fields of each element of ``lines``, in order."""
CLAIM_FORMATS: tuple[FileFormat, ...] = ("json", "parquet")

STRING_AMOUNT_SHARE = 0.15
_CLAIMS_PER_MONTH = {
    "commercial": (("professional", 0.5), ("pharmacy", 0.6), ("institutional", 0.06)),
    "medicare_advantage": (("professional", 1.2), ("pharmacy", 1.8), ("institutional", 0.15)),
    "medicaid": (("professional", 0.7), ("pharmacy", 0.7), ("institutional", 0.1)),
}
_STATUS_SHARES = {
    "professional": (("paid", 0.8), ("denied", 0.1), ("pending", 0.1)),
    "institutional": (("paid", 0.7), ("denied", 0.12), ("pending", 0.18)),
    "pharmacy": (("paid", 0.92), ("denied", 0.08)),
}
_TYPE_RAW = {
    "professional": ("professional", "PROFESSIONAL", "837P"),
    "institutional": ("institutional", "INSTITUTIONAL", "837I"),
    "pharmacy": ("pharmacy", "PHARMACY", "NCPDP"),
}
_STATUS_RAW = {
    "paid": ("paid", "PAID", "Paid"),
    "denied": ("denied", "DENIED", "Denied"),
    "pending": ("pending", "PENDING", "PEND"),
}
_MAX_CLAIMS_PER_TYPE = 9
_DATE_FIELDS = ("service_from_date", "service_to_date", "received_date")
_UNKNOWN_MEMBER_COHORT = 999


@dataclass(frozen=True, slots=True)
class _Providers:
    clinicians: tuple[str, ...]
    groups: tuple[str, ...]
    facilities: tuple[str, ...]
    pharmacies: tuple[str, ...]


@dataclass(slots=True)
class _Line:
    """A service line in cents, so re-pricing stays exact."""

    procedure_code: str | None
    ndc: str | None
    units: int
    service_date: date
    billed: int
    allowed: int
    paid: int


@dataclass(slots=True)
class _Version:
    claim_id: str
    version: int
    adjustment_type: str
    status: str
    status_raw: str
    received: date
    lines: list[_Line]


def claims_file_name(month: date, file_format: FileFormat) -> str:
    """Landing file name of a month's claims, e.g. ``claims_2025_01.jsonl``."""
    return f"claims_{month:%Y_%m}{FILE_EXTENSIONS[file_format]}"


def generate_claims(
    roster: Roster,
    seed: int,
    defect_rate: float = 0.0,
    *,
    formats: Sequence[FileFormat] = CLAIM_FORMATS,
    from_month: int | None = None,
    defect_kinds: Collection[DefectKind | str] | None = None,
) -> ClaimsBatch:
    """Claims for the roster's members over the roster's horizon, delivered from `from_month`.

    `from_month` defaults to the roster's first delivered month. Month i is written as
    ``formats[i % len(formats)]``. Each clean record becomes defective with probability
    `defect_rate`, with one kind drawn from `defect_kinds` (default: all claim kinds) that the
    file format can carry.
    """
    if not 0.0 <= defect_rate <= 1.0:
        raise DatagenError(f"defect_rate must be within 0..1, got {defect_rate!r}")
    months, start = roster.months, roster.start
    first_month = (
        _month_index(start, roster.deliveries[0].month) if from_month is None else from_month
    )
    if not 0 <= first_month < months:
        raise DatagenError(f"from_month must be within 0..{months - 1}, got {first_month!r}")
    file_formats = check_formats(formats, CLAIM_FORMATS)
    kinds = check_kinds(defect_kinds, CLAIM_DEFECT_KINDS)
    with paused_gc():
        return _generate(roster, seed, defect_rate, file_formats, first_month, kinds)


def _generate(
    roster: Roster,
    seed: int,
    defect_rate: float,
    file_formats: tuple[FileFormat, ...],
    first_month: int,
    kinds: frozenset[DefectKind],
) -> ClaimsBatch:
    """Replay every member's claims from the roster's start; keep delivered months only."""
    months, start = roster.months, roster.start
    providers = _providers(seed)
    buckets: list[list[ClaimRow]] = [[] for _ in range(months)]
    for truth in roster.members.values():
        rng = stream(seed, "claims", truth.member_id)
        pcp = pick(rng, providers.clinicians)
        for month_index in range(months):
            first = add_months(start, month_index)
            segment = truth.segment_on(first)
            if segment is None:
                continue
            sequence = 0
            for claim_type, mean in _CLAIMS_PER_MONTH[segment.line_of_business]:
                for _ in range(_geometric(rng, mean)):
                    sequence += 1
                    claim_id = f"C{first:%Y%m}{truth.member_id[1:]}{sequence:02d}"
                    rows = _claim(rng, claim_id, truth.member_id, claim_type, first, pcp, providers)
                    for row in rows:
                        received = _month_index(start, cast("date", row["received_date"]))
                        if first_month <= received < months:
                            buckets[received].append(row)
    first_starts = {
        member_id: truth.segments[0].start for member_id, truth in roster.members.items()
    }
    deliveries: list[Delivery[ClaimRow]] = []
    for month_index in range(first_month, months):
        first = add_months(start, month_index)
        file_format = file_formats[month_index % len(file_formats)]
        rows = sorted(buckets[month_index], key=_sort_key)
        deliveries.append(
            _deliver(
                rows,
                claims_file_name(first, file_format),
                file_format,
                first,
                stream(seed, "claims-defects", month_index),
                defect_rate,
                applicable_kinds(kinds, file_format),
                first_starts,
            )
        )
    return ClaimsBatch(deliveries=deliveries)


def _month_index(start: date, day: date) -> int:
    return (day.year - start.year) * 12 + day.month - start.month


def _sort_key(row: ClaimRow) -> tuple[date, str]:
    return cast("date", row["received_date"]), cast("str", row["claim_id"])


def _geometric(rng: random.Random, mean: float) -> int:
    """A count with the given mean, capped so claim ids keep two sequence digits."""
    keep = mean / (1.0 + mean)
    count = 0
    while count < _MAX_CLAIMS_PER_TYPE and rng.random() < keep:
        count += 1
    return count


def _npi(rng: random.Random, first_digit: int) -> str:
    base = f"{first_digit}{below(rng, 10**8):08d}"
    return f"{base}{npi_check_digit(base)}"


def _providers(seed: int) -> _Providers:
    """A fixed provider pool per seed: individuals start with 1, organisations with 2."""
    rng = stream(seed, "providers")
    seen: set[str] = set()

    def pool(size: int, first_digit: int) -> tuple[str, ...]:
        npis: list[str] = []
        while len(npis) < size:
            npi = _npi(rng, first_digit)
            if npi not in seen:
                seen.add(npi)
                npis.append(npi)
        return tuple(npis)

    return _Providers(pool(200, 1), pool(50, 2), pool(20, 2), pool(40, 2))


def _choose(rng: random.Random, shares: tuple[tuple[str, float], ...]) -> str:
    draw = rng.random()
    for value, share in shares:
        if draw < share:
            return value
        draw -= share
    return shares[-1][0]


def _raw(rng: random.Random, variants: tuple[str, ...]) -> str:
    return variants[0] if rng.random() < 0.8 else pick(rng, variants[1:])


def _diagnosis(rng: random.Random) -> str:
    code = pick(rng, cat.DIAGNOSES)
    draw = rng.random()
    if draw < 0.75:
        return code
    if draw < 0.85:
        return code.replace(".", "")
    if draw < 0.93:
        return code.lower()
    return code.replace(".", "").lower()


def _cost_share(rng: random.Random, allowed: int, claim_type: str) -> int:
    draw = rng.random()
    if claim_type == "pharmacy":
        return min(allowed, between(rng, 500, 4_000)) if draw < 0.7 else 0
    if draw < 0.4:
        return min(allowed, between(rng, 10, 50) * 100)
    if draw < 0.7:
        return allowed // 5
    return 0


def _price(rng: random.Random, line: _Line, status: str, claim_type: str) -> None:
    """Set allowed and paid for a status: paid lines keep paid <= allowed <= billed."""
    if status != "paid":
        line.allowed = line.paid = 0
        return
    line.allowed = round(line.billed * rng.uniform(0.35, 0.85))
    line.paid = line.allowed - _cost_share(rng, line.allowed, claim_type)


def _lines(
    rng: random.Random, claim_type: str, service_from: date, service_to: date
) -> list[_Line]:
    lines: list[_Line] = []
    if claim_type == "pharmacy":
        drug = pick(rng, cat.DRUGS)
        units = pick(rng, drug.quantities)
        fee = between(rng, 150, 300)
        billed = round(drug.unit_price_cents * units * rng.uniform(1.0, 1.3)) + fee
        variants = ndc_variants(drug.ndc11)
        ndc = drug.ndc11 if rng.random() < 0.5 else pick(rng, variants)
        return [_Line(None, ndc, units, service_from, billed, 0, 0)]
    if claim_type == "professional":
        catalogue, count = cat.PROFESSIONAL_PROCEDURES, between(rng, 1, 3)
    else:
        catalogue, count = cat.INSTITUTIONAL_PROCEDURES, between(rng, 2, 5)
    for _ in range(count):
        procedure = pick(rng, catalogue)
        units = between(rng, 1, procedure.max_units)
        billed = max(1, round(procedure.price_cents * units * rng.uniform(0.9, 1.5)))
        code = procedure.code
        if code[0].isalpha() and rng.random() < 0.1:
            code = code.lower()
        day = random_day(rng, service_from, service_to)
        lines.append(_Line(code, None, units, day, billed, 0, 0))
    return lines


def _claim(
    rng: random.Random,
    claim_id: str,
    member_id: str,
    claim_type: str,
    first: date,
    pcp: str,
    providers: _Providers,
) -> list[ClaimRow]:
    """An original and its later versions; draws never depend on the horizon."""
    last = month_end(first)
    service_from = random_day(rng, first, last)
    service_to = service_from
    if claim_type == "institutional" and rng.random() < 0.4:
        service_to = min(last, service_from + timedelta(days=between(rng, 1, 6)))
    if claim_type == "pharmacy":
        billing, rendering = pick(rng, providers.pharmacies), pick(rng, providers.clinicians)
        diagnoses: list[str] = []
        lag = between(rng, 0, 2)
    else:
        rendering = pcp if rng.random() < 0.6 else pick(rng, providers.clinicians)
        if claim_type == "institutional":
            billing = pick(rng, providers.facilities)
            diagnoses = [_diagnosis(rng) for _ in range(between(rng, 2, 4))]
            lag = between(rng, 7, 60)
        else:
            billing = pick(rng, providers.groups) if rng.random() < 0.7 else rendering
            diagnoses = [_diagnosis(rng) for _ in range(between(rng, 1, 3))]
            lag = between(rng, 2, 45)
    status = _choose(rng, _STATUS_SHARES[claim_type])
    lines = _lines(rng, claim_type, service_from, service_to)
    for line in lines:
        _price(rng, line, status, claim_type)
    versions = [
        _Version(
            claim_id,
            1,
            "ORIGINAL",
            status,
            _raw(rng, _STATUS_RAW[status]),
            service_to + timedelta(days=lag),
            lines,
        )
    ]
    _later_versions(rng, versions, claim_type)
    type_raw = _raw(rng, _TYPE_RAW[claim_type])
    return [
        {
            "claim_id": version.claim_id,
            "claim_version": version.version,
            "adjustment_type": version.adjustment_type,
            "original_claim_id": None if version.version == 1 else claim_id,
            "member_id": member_id,
            "claim_type": type_raw,
            "claim_status": version.status_raw,
            "billing_npi": billing,
            "rendering_npi": rendering,
            "service_from_date": service_from,
            "service_to_date": service_to,
            "received_date": version.received,
            "diagnosis_codes": list(diagnoses),
            "lines": [_claim_line(number, line) for number, line in enumerate(version.lines, 1)],
        }
        for version in versions
    ]


def _later_versions(rng: random.Random, versions: list[_Version], claim_type: str) -> None:
    """Append adjustments and reversals, each received in a later month than the last."""
    original = versions[0]
    draw = rng.random()
    if original.status == "pending":
        final = "paid" if rng.random() < 0.85 else "denied"
        _append(rng, versions, "ADJUSTMENT", final, claim_type, between(rng, 1, 2))
        if final == "paid" and rng.random() < 0.02:
            _append(rng, versions, "REVERSAL", final, claim_type, between(rng, 1, 2))
    elif original.status == "paid" and draw < 0.03:
        _append(rng, versions, "ADJUSTMENT", "paid", claim_type, between(rng, 1, 3))
    elif original.status == "paid" and draw < 0.05:
        _append(rng, versions, "REVERSAL", "paid", claim_type, between(rng, 1, 3))
    elif original.status == "denied" and draw < 0.06:
        _append(rng, versions, "ADJUSTMENT", "paid", claim_type, between(rng, 1, 3))


def _append(
    rng: random.Random,
    versions: list[_Version],
    adjustment_type: str,
    status: str,
    claim_type: str,
    delay_months: int,
) -> None:
    previous = versions[-1]
    month = add_months(date(previous.received.year, previous.received.month, 1), delay_months)
    received = random_day(rng, month, month_end(month))
    if adjustment_type == "REVERSAL":
        lines = [_copy_line(line) for line in previous.lines]
        status_raw = previous.status_raw
    else:
        lines = [_copy_line(line) for line in previous.lines]
        for line in lines:
            _price(rng, line, status, claim_type)
        status_raw = _raw(rng, _STATUS_RAW[status])
    number = previous.version + 1
    claim_id = f"{versions[0].claim_id}-{number:02d}"
    versions.append(
        _Version(claim_id, number, adjustment_type, status, status_raw, received, lines)
    )


def _copy_line(line: _Line) -> _Line:
    return _Line(
        line.procedure_code,
        line.ndc,
        line.units,
        line.service_date,
        line.billed,
        line.allowed,
        line.paid,
    )


def _dollars(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _cents(amount: Decimal | str) -> int:
    return int(Decimal(amount).scaleb(2))


def _claim_line(number: int, line: _Line) -> ClaimLine:
    return {
        "line_number": number,
        "procedure_code": line.procedure_code,
        "ndc": line.ndc,
        "units": line.units,
        "service_date": line.service_date,
        "billed_amount": _dollars(line.billed),
        "allowed_amount": _dollars(line.allowed),
        "paid_amount": _dollars(line.paid),
    }


def _set(row: ClaimRow, column: str, value: object) -> None:
    cast("dict[str, object]", row)[column] = value


def _string_amounts(row: ClaimRow) -> ClaimRow:
    """The same record with every amount spelled as a JSON string."""
    copy = row.copy()
    copy["lines"] = [
        {
            **line,
            "billed_amount": str(line["billed_amount"]),
            "allowed_amount": str(line["allowed_amount"]),
            "paid_amount": str(line["paid_amount"]),
        }
        for line in row["lines"]
    ]
    return copy


def _damage(
    rng: random.Random, row: ClaimRow, kind: DefectKind, first_starts: dict[str, date]
) -> tuple[ClaimRow, str | None, str | None]:
    """A copy of `row` carrying one content defect, with the damaged column and value."""
    bad = row.copy()
    bad["lines"] = [line.copy() for line in row["lines"]]
    if kind is DefectKind.BAD_DATE:
        column = pick(rng, _DATE_FIELDS)
        value = pick(rng, BAD_DATES)
        _set(bad, column, value)
        return bad, column, value
    if kind is DefectKind.MISSING_CLAIM_ID:
        missing = pick(rng, (None, ""))
        bad["claim_id"] = missing
        return bad, "claim_id", missing
    if kind is DefectKind.UNKNOWN_CODE:
        column = pick(rng, ("claim_type", "claim_status"))
        _set(bad, column, UNKNOWN_CODES[column])
        return bad, column, UNKNOWN_CODES[column]
    service_from = cast("date", row["service_from_date"])
    service_to = cast("date", row["service_to_date"])
    if kind is DefectKind.SERVICE_TO_BEFORE_FROM:
        early = service_from - timedelta(days=between(rng, 1, 10))
        bad["service_to_date"] = early
        return bad, "service_to_date", early.isoformat()
    if kind is DefectKind.INVALID_NPI:
        column = pick(rng, ("billing_npi", "rendering_npi"))
        npi = cast("str", cast("dict[str, object]", row)[column])
        wrong = f"{npi[:9]}{(int(npi[9]) + between(rng, 1, 9)) % 10}"
        _set(bad, column, wrong)
        return bad, column, wrong
    if kind is DefectKind.OUTSIDE_COVERAGE:
        new_to = first_starts[row["member_id"]] - timedelta(days=between(rng, 1, 300))
        shift = new_to - service_to
        bad["service_from_date"] = new_from = service_from + shift
        bad["service_to_date"] = new_to
        for line in bad["lines"]:
            line["service_date"] = line["service_date"] + shift
        return bad, "service_from_date", new_from.isoformat()
    if kind is DefectKind.UNKNOWN_MEMBER:
        stranger = f"M{_UNKNOWN_MEMBER_COHORT:03d}{between(rng, 1, 9_999_999):07d}"
        bad["member_id"] = stranger
        return bad, "member_id", stranger
    line = pick(rng, bad["lines"])
    billed, allowed = _cents(line["billed_amount"]), _cents(line["allowed_amount"])
    if rng.random() < 0.5:
        line["paid_amount"] = _dollars(allowed + between(rng, 1, 5_000))
        return bad, "lines.paid_amount", str(line["paid_amount"])
    line["allowed_amount"] = _dollars(billed + between(rng, 1, 5_000))
    return bad, "lines.allowed_amount", str(line["allowed_amount"])


def _deliver(
    rows: list[ClaimRow],
    file_name: str,
    file_format: FileFormat,
    month: date,
    rng: random.Random,
    rate: float,
    kinds: tuple[DefectKind, ...],
    first_starts: dict[str, date],
) -> Delivery[ClaimRow]:
    """A month's clean records as delivered: JSON amount spelling, then at most one defect each."""
    out: list[ClaimRow] = []
    raw_lines: dict[int, str] = {}
    defects: list[Defect] = []
    as_json = file_format == "json"
    for row in rows:
        spelled = as_json and rng.random() < STRING_AMOUNT_SHARE
        if rate <= 0.0 or not kinds or rng.random() >= rate:
            out.append(_string_amounts(row) if spelled else row)
            continue
        kind = pick(rng, kinds)
        column: str | None = None
        value: str | None = None
        if kind is DefectKind.DUPLICATE_ROW:
            bad = _string_amounts(row) if spelled else row
            out.append(bad)
            value = bad["claim_id"]
        elif kind is DefectKind.MALFORMED_JSON:
            bad = _string_amounts(row) if spelled else row
            text = json_line(bad)
            raw_lines[len(out)] = value = text[: between(rng, len(text) // 3, len(text) - 1)]
        else:
            bad, column, value = _damage(rng, row, kind, first_starts)
            if spelled:
                bad = _string_amounts(bad)
        out.append(bad.copy() if kind is DefectKind.DUPLICATE_ROW else bad)
        defects.append(Defect(file_name, len(out), kind, column, value))
    return Delivery(file_name, file_format, month, out, raw_lines, defects)
