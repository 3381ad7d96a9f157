"""Member domain tests, and a plain-Python reference of the member rules.

The reference re-derives gold member months from the generated roster deliveries alone, applying
the rules the member models document (models/member/**/_member_*__models.yml): what ingestion
quarantines, the silver exclusion rules, latest-version-wins segments with the full-snapshot end
date rule, newest-information-wins span resolution, and the mid-month (15th) member-month rule.
It shares no code with the models, so a match is evidence for both.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tools.datagen import Delivery, MemberRow, MemberTruth
from tools.datagen.codes import (
    GENDER_CODES,
    LINE_OF_BUSINESS_CODES,
    PRODUCT_CODES,
    RELATIONSHIP_CODES,
)

__all__ = [
    "AGE_BANDS",
    "DEFECT_RULES",
    "QUARANTINE_KINDS",
    "BronzeRow",
    "ReferenceResult",
    "Span",
    "age_band",
    "bronze_rows",
    "reference",
    "truth_member_months",
]

AGE_BANDS = ("00-17", "18-34", "35-49", "50-64", "65+")
DEFECT_RULES = {
    "bad_date": "invalid_date",
    "unknown_code": "unknown_code",
    "coverage_end_before_start": "coverage_end_before_start",
    "duplicate_row": "duplicate_row",
}
"""Generator defect kind -> the silver exclusion rule that must catch it."""
QUARANTINE_KINDS = {
    "missing_member_id": "missing_key:member_id",
    "too_many_fields": "malformed_csv_record",
    "too_few_fields": "malformed_csv_record",
}
"""Generator defect kind -> the start of ingestion's quarantine reason."""
_FILE_MONTH = re.compile(r"roster_(\d{4})_(\d{2})\.[a-z]+$")
_CODES = {
    "relationship_code": RELATIONSHIP_CODES,
    "gender_code": GENDER_CODES,
    "line_of_business": LINE_OF_BUSINESS_CODES,
    "product_code": PRODUCT_CODES,
}

SummaryKey = tuple[date, str, str, str]


@dataclass(frozen=True)
class BronzeRow:
    """A delivered row that ingestion loads into bronze, with the file it came in."""

    file_name: str
    row: MemberRow

    @property
    def member(self) -> str:
        return str(self.row["member_id"]).strip().upper()

    @property
    def roster_month(self) -> date | None:
        found = _FILE_MONTH.search(self.file_name)
        if found is None or not 1 <= int(found[2]) <= 12:
            return None
        return date(int(found[1]), int(found[2]), 1)

    def typed_date(self, column: str) -> date | None:
        """The bronze value: a date, or NULL for an empty field or text that is no date."""
        value = self.row[column]  # type: ignore[literal-required]
        return value if isinstance(value, date) else None

    @property
    def updated_at(self) -> datetime:
        return self.row["record_updated_at"]

    def content_rule(self) -> str | None:
        """The first content rule the row breaks, in the models' order."""
        row = self.row
        dates = ("birth_date", "coverage_start_date", "coverage_end_date")
        if self.roster_month is None:
            return "unrecognised_file_name"
        if (
            any(isinstance(row[c], str) for c in dates)  # type: ignore[literal-required]
            or self.typed_date("birth_date") is None
            or self.typed_date("coverage_start_date") is None
        ):
            return "invalid_date"
        if not (row["subscriber_id"] or "").strip() or not (row["plan_id"] or "").strip():
            return "missing_value"
        if any(row[c] not in codes for c, codes in _CODES.items()):  # type: ignore[literal-required]
            return "unknown_code"
        end, start = self.typed_date("coverage_end_date"), self.typed_date("coverage_start_date")
        if end is not None and start is not None and end < start:
            return "coverage_end_before_start"
        return None


@dataclass(frozen=True)
class Segment:
    member: str
    start: date
    end: date | None
    plan: tuple[str, str, str]
    """(line_of_business, product_code, plan_id), canonical."""
    updated_at: datetime


@dataclass(frozen=True)
class Span:
    member: str
    start: date
    end: date | None
    plan: tuple[str, str, str]


@dataclass
class ReferenceResult:
    """What silver and gold should hold for a set of deliveries."""

    exclusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(file name, rule) -> excluded rows."""
    spans: list[Span] = field(default_factory=list)
    member_months: dict[SummaryKey, int] = field(default_factory=dict)
    summary: dict[SummaryKey, dict[str, int]] = field(default_factory=dict)


def bronze_rows(deliveries: Iterable[Delivery[MemberRow]]) -> tuple[list[BronzeRow], Counter[str]]:
    """Rows that reach bronze, and quarantined rows per file (malformed lines, missing key)."""
    loaded: list[BronzeRow] = []
    quarantined: Counter[str] = Counter()
    for delivery in deliveries:
        for index, row in enumerate(delivery.rows):
            if index in delivery.raw_lines or not (row["member_id"] or "").strip():
                quarantined[delivery.file_name] += 1
            else:
                loaded.append(BronzeRow(delivery.file_name, row))
    return loaded, quarantined


def age_band(age: int) -> str:
    for band, limit in zip(AGE_BANDS, (18, 35, 50, 65), strict=False):
        if age < limit:
            return band
    return AGE_BANDS[-1]


def _month_end(first: date) -> date:
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _months(first: date, last: date) -> list[date]:
    months: list[date] = []
    month = first
    while month <= last:
        months.append(month)
        month = _month_end(month) + timedelta(days=1)
    return months


def _classify(rows: Sequence[BronzeRow]) -> list[tuple[BronzeRow, str | None]]:
    """Each bronze row with its exclusion rule; duplicates judged within one file and member."""
    content = [(row, row.content_rule()) for row in rows]
    newest: dict[tuple[str, str], BronzeRow] = {}
    for row, rule in content:
        if rule is None:
            key = (row.file_name, row.member)
            kept = newest.get(key)
            if kept is not None and kept.updated_at == row.updated_at and kept.row != row.row:
                raise AssertionError(f"reference cannot order two versions of {key}")
            if kept is None or row.updated_at > kept.updated_at:
                newest[key] = row
    result: list[tuple[BronzeRow, str | None]] = []
    for row, rule in content:
        duplicate = rule is None and newest[(row.file_name, row.member)] is not row
        result.append((row, "duplicate_row" if duplicate else rule))
    return result


def _plan(row: BronzeRow) -> tuple[str, str, str]:
    return (
        LINE_OF_BUSINESS_CODES[row.row["line_of_business"]],
        PRODUCT_CODES[row.row["product_code"]],
        row.row["plan_id"].strip().upper(),
    )


def _segments(classified: Sequence[tuple[BronzeRow, str | None]], latest: date) -> list[Segment]:
    """Latest version per (member, start); end stated, inferred from absence, or open."""
    versions: dict[tuple[str, date], list[BronzeRow]] = defaultdict(list)
    for row, rule in classified:
        start = row.typed_date("coverage_start_date")
        if rule is None and start is not None:
            versions[(row.member, start)].append(row)
    latest_start: dict[str, date] = {}
    for member, start in versions:
        latest_start[member] = max(start, latest_start.get(member, start))
    carried: dict[tuple[str, date], set[date]] = defaultdict(set)
    for row, _rule in classified:
        start, month = row.typed_date("coverage_start_date"), row.roster_month
        if month is None:
            continue
        if start is None and row.member in latest_start:
            carried[(row.member, latest_start[row.member])].add(month)
        elif start is not None and (row.member, start) in versions:
            carried[(row.member, start)].add(month)
    segments: list[Segment] = []
    for (member, start), rows in versions.items():
        winner = max(rows, key=lambda r: (r.updated_at, r.roster_month or date.min))
        end = winner.typed_date("coverage_end_date")
        last_carried = max(carried[(member, start)])
        if end is None and last_carried < latest:
            end = _month_end(last_carried)
        if end is None or end >= start:
            segments.append(Segment(member, start, end, _plan(winner), winner.updated_at))
    return segments


def _spans(segments: Sequence[Segment]) -> list[Span]:
    """Each day to the covering segment with the newest information; equal neighbours merge."""
    by_member: dict[str, list[Segment]] = defaultdict(list)
    for segment in segments:
        by_member[segment.member].append(segment)
    spans: list[Span] = []
    for member, owned in by_member.items():
        cuts = sorted(
            {s.start for s in owned} | {s.end + timedelta(days=1) for s in owned if s.end}
        )
        pieces: list[Span] = []
        for index, cut in enumerate(cuts):
            covering = [s for s in owned if s.start <= cut and (s.end is None or s.end >= cut)]
            if not covering:
                continue
            owner = max(covering, key=lambda s: (s.updated_at, s.start))
            piece_end = cuts[index + 1] - timedelta(days=1) if index + 1 < len(cuts) else None
            previous = pieces[-1] if pieces else None
            if (
                previous is not None
                and previous.end is not None
                and previous.end + timedelta(days=1) == cut
                and previous.plan == owner.plan
            ):
                pieces[-1] = Span(member, previous.start, piece_end, owner.plan)
            else:
                pieces.append(Span(member, cut, piece_end, owner.plan))
        spans.extend(pieces)
    return spans


def _covers(span: Span, day: date) -> bool:
    return span.start <= day and (span.end is None or span.end >= day)


def reference(deliveries: Sequence[Delivery[MemberRow]]) -> ReferenceResult:
    """Expected exclusions, spans, member_months and member_summary for these deliveries."""
    rows, _quarantined = bronze_rows(deliveries)
    classified = _classify(rows)
    result = ReferenceResult()
    for row, rule in classified:
        if rule is not None:
            result.exclusions[(row.file_name, rule)] += 1
    months_delivered = {row.roster_month for row in rows if row.roster_month is not None}
    first, latest = min(months_delivered), max(months_delivered)
    result.spans = _spans(_segments(classified, latest))
    demographics: dict[str, BronzeRow] = {}
    for row, rule in classified:
        current = demographics.get(row.member)
        if rule is None and (
            current is None
            or (row.updated_at, row.roster_month or date.min)
            > (current.updated_at, current.roster_month or date.min)
        ):
            demographics[row.member] = row
    counted: dict[SummaryKey, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for span in result.spans:
        if span.start > _month_end(latest) or (span.end is not None and span.end < first):
            continue
        person = demographics[span.member]
        gender = GENDER_CODES[person.row["gender_code"]]
        birth = person.typed_date("birth_date")
        assert birth is not None
        span_first = max(span.start.replace(day=1), first)
        span_last = min((span.end or latest).replace(day=1), latest)
        for month in _months(span_first, span_last):
            cell = counted[(month, *span.plan)]
            cell["touched"].add(span.member)
            if _covers(span, month.replace(day=15)):
                cell["member_months"].add(span.member)
                band = age_band(month.year - birth.year).replace("-", "_").replace("+", "_plus")
                cell[f"member_months_age_{band}"].add(span.member)
                cell[f"member_months_gender_{gender}"].add(span.member)
            if _covers(span, _month_end(month)):
                cell["active_member_count"].add(span.member)
            if span.start.replace(day=1) == month:
                cell["new_member_count"].add(span.member)
            if span.end is not None and span.end.replace(day=1) == month:
                cell["terminated_member_count"].add(span.member)
    columns = [
        "member_months",
        *(f"member_months_age_{b.replace('-', '_').replace('+', '_plus')}" for b in AGE_BANDS),
        *(f"member_months_gender_{g}" for g in ("female", "male", "unknown")),
        "active_member_count",
        "new_member_count",
        "terminated_member_count",
    ]
    for key, cell in counted.items():
        result.summary[key] = {column: len(cell[column]) for column in columns}
        if cell["member_months"]:
            result.member_months[key] = len(cell["member_months"])
    return result


def truth_member_months(
    members: Iterable[MemberTruth], first: date, latest: date
) -> dict[date, int]:
    """Members whose true coverage covers the 15th, per month: the generator's clean facts."""
    counts: dict[date, int] = {}
    for month in _months(first, latest):
        mid_month = month.replace(day=15)
        counts[month] = sum(1 for m in members if m.segment_on(mid_month) is not None)
    return counts
