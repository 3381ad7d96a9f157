"""Synthetic, seed-deterministic landing files for the member and claims domains.

Developer tooling, not part of the python_ingest wheel: tests, demos and benchmarks call the
functions below (or ``python -m tools.datagen``) to fill the landing folders with realistic
deliveries, known defects included, and reconcile what the pipeline did with the manifest.
"""

from tools.datagen.claims import CLAIM_FIELDS, CLAIM_LINE_FIELDS, generate_claims
from tools.datagen.members import MEMBER_COLUMNS, generate_roster
from tools.datagen.records import (
    ClaimLine,
    ClaimRow,
    ClaimsBatch,
    CoverageSegment,
    DatagenError,
    Defect,
    DefectKind,
    Delivery,
    MemberRow,
    MemberTruth,
    Roster,
    count_defects,
)
from tools.datagen.writers import (
    write_big_csv,
    write_big_jsonl,
    write_claims_files,
    write_manifest,
    write_member_files,
)

__all__ = [
    "CLAIM_FIELDS",
    "CLAIM_LINE_FIELDS",
    "MEMBER_COLUMNS",
    "ClaimLine",
    "ClaimRow",
    "ClaimsBatch",
    "CoverageSegment",
    "DatagenError",
    "Defect",
    "DefectKind",
    "Delivery",
    "MemberRow",
    "MemberTruth",
    "Roster",
    "count_defects",
    "generate_claims",
    "generate_roster",
    "write_big_csv",
    "write_big_jsonl",
    "write_claims_files",
    "write_manifest",
    "write_member_files",
]
