"""``make demo``: deliver synthetic roster and claims files, then ``data-ops run`` locally.

The first run delivers ``--months`` months (from January 2025); every later run delivers the
next month only, so re-running the demo exercises the incremental path (new files, merge into
silver) exactly as a monthly production schedule would. State lives beside the landing folders
in ``.lakehouse/local/demo_state.json``; ``make clean`` starts over.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 2025
START = date(2025, 1, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--months", type=int, default=6, help="months in the first delivery")
    parser.add_argument("--defect-rate", type=float, default=0.02)
    args = parser.parse_args(argv)

    from python_ingest.cli import main as data_ops
    from python_ingest.contract import load_contracts
    from python_ingest.discovery import landing_dir
    from python_ingest.naming import Names
    from tools.datagen import (
        generate_claims,
        generate_roster,
        write_claims_files,
        write_member_files,
    )

    names = Names.for_target("local")
    state_file = names.catalog_dir / "demo_state.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {"months": 0}
    delivered = int(state["months"])
    months = args.months if delivered == 0 else delivered + 1
    contracts = {c.domain: c for c in load_contracts(ROOT)}
    roster = generate_roster(
        args.members, months, START, SEED, args.defect_rate, from_month=delivered
    )
    claims = generate_claims(roster, SEED, args.defect_rate, from_month=delivered)
    member_files = write_member_files(roster.deliveries, landing_dir(names, contracts["member"]))
    claims_files = write_claims_files(claims.deliveries, landing_dir(names, contracts["claims"]))
    print(
        f"demo: delivered months {delivered + 1}..{months} from {START:%Y-%m}: "
        f"{len(member_files)} roster file(s), {len(claims_files)} claims file(s) "
        f"into {names.volume_dir('bronze', 'external')}",
        file=sys.stderr,
    )
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps({"months": months}) + "\n")
    code = data_ops(["run", "--target", "local", "--project-dir", str(ROOT)])
    print(
        "demo: next steps: `uv run data-ops logs --status error`, `make docs`, "
        "`make demo` again for one more month",
        file=sys.stderr,
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
