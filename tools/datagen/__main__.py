"""Command line: fill landing folders with synthetic roster and claims deliveries.

    python -m tools.datagen --out-member DIR --out-claims DIR --members 1000 --months 3 \\
        --start 2025-01 --seed 7 --defect-rate 0.02 --manifest defects.jsonl

Later, the same arguments with ``--only-month 2025-04`` deliver April alone, consistent with the
January-March files (the generator replays the history from ``--start`` and writes one month).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import cast

from tools.datagen.claims import CLAIM_FORMATS, generate_claims
from tools.datagen.members import MEMBER_FORMATS, generate_roster
from tools.datagen.records import (
    CLAIM_DEFECT_KINDS,
    MEMBER_DEFECT_KINDS,
    DatagenError,
    Defect,
    DefectKind,
    FileFormat,
    count_defects,
)
from tools.datagen.writers import write_claims_files, write_manifest, write_member_files

__all__ = ["main"]


def _month(text: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a month as YYYY-MM, got {text!r}") from err


def _formats(allowed: Sequence[FileFormat]) -> Callable[[str], tuple[FileFormat, ...]]:
    """An argparse type for a comma list of formats this domain can write."""

    def parse(text: str) -> tuple[FileFormat, ...]:
        chosen = tuple(part.strip() for part in text.split(",") if part.strip())
        if not chosen or any(part not in allowed for part in chosen):
            raise argparse.ArgumentTypeError(
                f"expected a comma list from {','.join(allowed)}, got {text!r}"
            )
        return cast("tuple[FileFormat, ...]", chosen)

    return parse


def _kinds(text: str) -> frozenset[DefectKind]:
    try:
        return frozenset(DefectKind(part.strip()) for part in text.split(",") if part.strip())
    except ValueError as err:
        known = ",".join(sorted(DefectKind))
        raise argparse.ArgumentTypeError(f"{err}; known kinds: {known}") from err


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.datagen",
        description="Write seed-deterministic synthetic member roster and claims landing files.",
    )
    parser.add_argument("--out-member", type=Path, help="member landing folder (roster files)")
    parser.add_argument("--out-claims", type=Path, help="claims landing folder (claims files)")
    parser.add_argument("--members", type=int, default=1000, help="month-0 population")
    horizon = parser.add_mutually_exclusive_group()
    horizon.add_argument("--months", type=int, default=3, help="months from --start to deliver")
    horizon.add_argument(
        "--only-month", type=_month, help="deliver just this month (YYYY-MM), replaying from start"
    )
    parser.add_argument(
        "--from-month", type=_month, help="with --months: skip deliveries before this YYYY-MM"
    )
    parser.add_argument("--start", type=_month, default=date(2025, 1, 1), help="first month")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--defect-rate", type=float, default=0.0, help="share of records, 0..1")
    parser.add_argument("--defect-kinds", type=_kinds, help="comma list; default: all kinds")
    parser.add_argument(
        "--member-formats",
        type=_formats(MEMBER_FORMATS),
        default=MEMBER_FORMATS,
        help="roster formats, cycled by month (default csv,parquet)",
    )
    parser.add_argument(
        "--claims-formats",
        type=_formats(CLAIM_FORMATS),
        default=CLAIM_FORMATS,
        help="claims formats, cycled by month (default json,parquet)",
    )
    parser.add_argument("--manifest", type=Path, help="write the defect manifest here (JSON lines)")
    return parser


def _index(start: date, month: date) -> int:
    return (month.year - start.year) * 12 + month.month - start.month


def _run(args: argparse.Namespace) -> dict[str, object]:
    if args.out_member is None and args.out_claims is None:
        raise DatagenError("nothing to do: give --out-member and/or --out-claims")
    start: date = args.start
    if args.only_month is not None:
        if args.from_month is not None:
            raise DatagenError("--from-month cannot be combined with --only-month")
        months = _index(start, args.only_month) + 1
        from_month = months - 1
    else:
        months = args.months
        from_month = 0 if args.from_month is None else _index(start, args.from_month)
    if months < 1:
        raise DatagenError(f"--only-month {args.only_month:%Y-%m} is before --start {start:%Y-%m}")
    kinds: frozenset[DefectKind] | None = args.defect_kinds
    for landing in (args.out_member, args.out_claims):
        manifest: Path | None = args.manifest
        if manifest and landing and manifest.resolve().is_relative_to(landing.resolve()):
            raise DatagenError(
                f"--manifest {args.manifest} is inside landing folder {landing}; "
                "it would be ingested as data, put it elsewhere"
            )
    roster = generate_roster(
        args.members,
        months,
        start,
        args.seed,
        args.defect_rate,
        formats=args.member_formats,
        from_month=from_month,
        defect_kinds=None if kinds is None else kinds & MEMBER_DEFECT_KINDS,
    )
    defects: list[Defect] = []
    summary: dict[str, object] = {"months": months, "from_month": from_month}
    if args.out_member is not None:
        paths = write_member_files(roster.deliveries, args.out_member)
        defects.extend(roster.defects)
        summary["member_files"] = [str(path) for path in paths]
        summary["member_rows"] = sum(len(d.rows) for d in roster.deliveries)
    if args.out_claims is not None:
        claims = generate_claims(
            roster,
            args.seed,
            args.defect_rate,
            formats=args.claims_formats,
            defect_kinds=None if kinds is None else kinds & CLAIM_DEFECT_KINDS,
        )
        paths = write_claims_files(claims.deliveries, args.out_claims)
        defects.extend(claims.defects)
        summary["claims_files"] = [str(path) for path in paths]
        summary["claims_rows"] = sum(len(d.rows) for d in claims.deliveries)
    if args.manifest is not None:
        summary["manifest"] = str(write_manifest(args.manifest, defects))
    summary["defects"] = {
        str(kind): count for kind, count in sorted(count_defects(defects).items())
    }
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (2 for invalid arguments)."""
    args = _parser().parse_args(argv)
    try:
        summary = _run(args)
    except DatagenError as err:
        print(f"datagen: error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
