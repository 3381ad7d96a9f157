"""Raw code values the generator emits and what they mean.

Source systems disagree on spelling, so clean rows use several raw variants per meaning; every
variant is listed here. Defects use values from the ``UNKNOWN_*`` constants, which no map holds.
Silver models (and reference calculations) map raw values through these tables.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "ADJUSTMENT_TYPES",
    "BAD_DATES",
    "CLAIM_STATUS_CODES",
    "CLAIM_TYPE_CODES",
    "GENDER_CODES",
    "LINE_OF_BUSINESS_CODES",
    "PLANS",
    "PRODUCT_CODES",
    "RELATIONSHIP_CODES",
    "UNKNOWN_CODES",
    "Plan",
]

GENDER_CODES: dict[str, str] = {
    "M": "male",
    "F": "female",
    "U": "unknown",
    "m": "male",
    "f": "female",
    "male": "male",
    "female": "female",
    "Male": "male",
    "Female": "female",
}
RELATIONSHIP_CODES: dict[str, str] = {
    "SUB": "subscriber",
    "sub": "subscriber",
    "SELF": "subscriber",
    "SPS": "spouse",
    "sps": "spouse",
    "SPOUSE": "spouse",
    "DEP": "dependent",
    "dep": "dependent",
    "CHILD": "dependent",
}
LINE_OF_BUSINESS_CODES: dict[str, str] = {
    "commercial": "commercial",
    "COMMERCIAL": "commercial",
    "Commercial": "commercial",
    "medicare_advantage": "medicare_advantage",
    "MEDICARE_ADVANTAGE": "medicare_advantage",
    "MA": "medicare_advantage",
    "medicaid": "medicaid",
    "MEDICAID": "medicaid",
    "Medicaid": "medicaid",
}
PRODUCT_CODES: dict[str, str] = {
    "HMO": "HMO",
    "hmo": "HMO",
    "PPO": "PPO",
    "ppo": "PPO",
    "EPO": "EPO",
    "POS": "POS",
    "HDHP": "HDHP",
    "hdhp": "HDHP",
    "SNP": "SNP",
}
CLAIM_TYPE_CODES: dict[str, str] = {
    "institutional": "institutional",
    "INSTITUTIONAL": "institutional",
    "837I": "institutional",
    "professional": "professional",
    "PROFESSIONAL": "professional",
    "837P": "professional",
    "pharmacy": "pharmacy",
    "PHARMACY": "pharmacy",
    "NCPDP": "pharmacy",
}
CLAIM_STATUS_CODES: dict[str, str] = {
    "paid": "paid",
    "PAID": "paid",
    "Paid": "paid",
    "denied": "denied",
    "DENIED": "denied",
    "Denied": "denied",
    "pending": "pending",
    "PENDING": "pending",
    "PEND": "pending",
}
ADJUSTMENT_TYPES: tuple[str, ...] = ("ORIGINAL", "ADJUSTMENT", "REVERSAL")
"""Exact values of claims ``adjustment_type`` (never varied, never defective)."""

UNKNOWN_CODES: dict[str, str] = {
    "gender_code": "X9",
    "relationship_code": "ZZ",
    "line_of_business": "XX",
    "product_code": "ZZZ",
    "claim_type": "ZZ",
    "claim_status": "X9",
}
"""Column -> the out-of-vocabulary value an ``unknown_code`` defect writes."""
BAD_DATES: tuple[str, ...] = ("2025-13-45", "31/02/2025", "0000-00-00", "2024/07/04")
"""Texts a ``bad_date`` defect writes: none parses as ``yyyy-MM-dd``."""


class Plan(NamedTuple):
    """A benefit plan: plan_id with its canonical line of business and product."""

    plan_id: str
    line_of_business: str
    product: str


PLANS: tuple[Plan, ...] = (
    Plan("COM-HMO-01", "commercial", "HMO"),
    Plan("COM-PPO-01", "commercial", "PPO"),
    Plan("COM-PPO-02", "commercial", "PPO"),
    Plan("COM-EPO-01", "commercial", "EPO"),
    Plan("COM-POS-01", "commercial", "POS"),
    Plan("COM-HDHP-01", "commercial", "HDHP"),
    Plan("H1234-001", "medicare_advantage", "HMO"),
    Plan("H1234-002", "medicare_advantage", "HMO"),
    Plan("H5678-001", "medicare_advantage", "PPO"),
    Plan("H5678-010", "medicare_advantage", "SNP"),
    Plan("MCD-HMO-01", "medicaid", "HMO"),
    Plan("MCD-HMO-02", "medicaid", "HMO"),
)
