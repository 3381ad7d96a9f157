"""Seeded random streams and month arithmetic shared by the generators.

Every stream is named (seed, purpose, ids...), so adding months or members never shifts the draws
of another stream: that is what makes "one more month later, same seed" consistent.
"""

from __future__ import annotations

import contextlib
import gc
import random
from collections.abc import Collection, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import TypeVar

from tools.datagen.records import (
    TEXT_ONLY,
    TEXT_ONLY_DEFECT_KINDS,
    DatagenError,
    DefectKind,
    FileFormat,
)

T = TypeVar("T")
_MALFORMED = frozenset(
    {DefectKind.TOO_MANY_FIELDS, DefectKind.TOO_FEW_FIELDS, DefectKind.MALFORMED_JSON}
)

__all__ = [
    "add_months",
    "applicable_kinds",
    "below",
    "between",
    "check_formats",
    "check_kinds",
    "month_end",
    "paused_gc",
    "pick",
    "random_day",
    "random_timestamp",
    "stream",
]


def stream(seed: int, *parts: object) -> random.Random:
    """A generator for one named stream; string seeds hash with SHA-512, stable across runs."""
    name = "/".join([str(seed), *(str(part) for part in parts)])
    return random.Random(name)  # noqa: S311 - synthetic test data, not a security use


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of acyclic rows.

    Each collection walks every live row, so with the collector on, generation time grows
    faster than the row count (1M roster rows: 31 s with it, 18 s without).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def below(rng: random.Random, limit: int) -> int:
    """A uniform int in [0, limit); ``randrange`` costs ten times more, and this runs per row."""
    return int(rng.random() * limit)


def between(rng: random.Random, low: int, high: int) -> int:
    """A uniform int in [low, high], like ``randint`` but cheap."""
    return low + int(rng.random() * (high - low + 1))


def pick(rng: random.Random, options: Sequence[T]) -> T:
    """A uniformly chosen element, like ``choice`` but cheap."""
    return options[int(rng.random() * len(options))]


def add_months(first: date, months: int) -> date:
    """The first day of the month `months` after the month of `first`."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(first: date) -> date:
    """The last day of the month of `first`."""
    return add_months(first, 1) - timedelta(days=1)


def random_day(rng: random.Random, first: date, last: date) -> date:
    """A uniformly drawn day in [first, last]."""
    return first + timedelta(days=below(rng, (last - first).days + 1))


def random_timestamp(rng: random.Random, first: date, last: date) -> datetime:
    """A uniformly drawn whole second within the days [first, last]."""
    seconds = below(rng, ((last - first).days + 1) * 86_400)
    return datetime(first.year, first.month, first.day) + timedelta(seconds=seconds)


def check_formats(
    formats: Sequence[FileFormat], allowed: Sequence[FileFormat]
) -> tuple[FileFormat, ...]:
    """The formats as a tuple, or an error naming the ones this domain cannot write."""
    chosen = tuple(formats)
    if not chosen or any(fmt not in allowed for fmt in chosen):
        raise DatagenError(
            f"formats must be a non-empty list from {list(allowed)!r}, got {list(chosen)!r}"
        )
    return chosen


def check_kinds(
    kinds: Collection[DefectKind | str] | None, allowed: frozenset[DefectKind]
) -> frozenset[DefectKind]:
    """The requested defect kinds (all `allowed` when None), or an error naming strays."""
    if kinds is None:
        return allowed
    try:
        chosen = frozenset(DefectKind(kind) for kind in kinds)
    except ValueError as err:
        raise DatagenError(f"{err}; choose from {sorted(allowed)}") from err
    if not chosen <= allowed:
        extra = sorted(chosen - allowed)
        raise DatagenError(f"defect kinds {extra} do not apply here; choose from {sorted(allowed)}")
    return chosen


def applicable_kinds(
    kinds: frozenset[DefectKind], file_format: FileFormat
) -> tuple[DefectKind, ...]:
    """Kinds this format can carry, as equally likely tickets in a fixed order.

    Content defects hold two tickets and malformed records one, so unparsable lines stay "a
    few" beside the other defects; the sorted order keeps draws reproducible.
    """
    own = TEXT_ONLY_DEFECT_KINDS.get(file_format, frozenset())
    tickets: list[DefectKind] = []
    for kind in sorted(kind for kind in kinds if kind not in TEXT_ONLY or kind in own):
        tickets.extend([kind] if kind in _MALFORMED else [kind, kind])
    return tuple(tickets)
