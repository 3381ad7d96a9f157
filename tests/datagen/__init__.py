"""Tests for the synthetic data generator (tools.datagen); pure Python, no Spark.

The small data sets below are shared by the test modules and built once per test process.
"""

from __future__ import annotations

import functools
import re
from datetime import date

from tools.datagen import ClaimsBatch, Roster, generate_claims, generate_roster

__all__ = [
    "ISO_DATE",
    "MONTHS",
    "SEED",
    "START",
    "clean_claims",
    "clean_roster",
    "defective_claims",
    "defective_roster",
    "parse_iso_date",
]

SEED = 20250101
START = date(2025, 1, 1)
MONTHS = 6
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@functools.cache
def clean_roster() -> Roster:
    """600 members over 6 months, no defects."""
    return generate_roster(600, MONTHS, START, SEED)


@functools.cache
def clean_claims() -> ClaimsBatch:
    """Claims for :func:`clean_roster`, no defects."""
    return generate_claims(clean_roster(), SEED)


@functools.cache
def defective_roster() -> Roster:
    """400 members over 4 months with one record in six defective, CSV and Parquet months."""
    return generate_roster(400, 4, START, SEED, defect_rate=0.15)


@functools.cache
def defective_claims() -> ClaimsBatch:
    """Claims for :func:`defective_roster`, one record in six defective."""
    return generate_claims(defective_roster(), SEED, defect_rate=0.15)


def parse_iso_date(text: str | None) -> date | None:
    """A strict ``yyyy-MM-dd`` parse (``date.fromisoformat`` also takes ``20250101``)."""
    if not text or not ISO_DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
