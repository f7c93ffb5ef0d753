"""Load the demo company into an ERP schema of a PostgreSQL database (a stand-in for the ERP's own database).

    .venv/bin/python -m sandboxes.demo_company.load_postgres --dsn "host=127.0.0.1 dbname=test user=postgres" --scale 1

`--dsn` defaults to `$ERP_POSTGRES_DSN`. Tables are created from the contracts if missing and rows are upserted
(a re-run with the same seed and scale changes nothing). Prints a JSON summary (the DSN password masked).
"""

import argparse
import json
import sys
from datetime import date

from ingestion.erp.postgres import DEFAULT_SCHEMA, connect, dsn_from_env, load_company, safe_dsn
from sandboxes.demo_company import generate


def load_demo(
    dsn: str,
    seed: int = 42,
    scale: float = 1.0,
    schema: str = DEFAULT_SCHEMA,
    start: date = date(2024, 1, 1),
    end: date = date(2024, 12, 31),
) -> dict[str, int]:
    """Generate the demo company and load it; returns the rows inserted or changed per entity."""
    company = generate(seed=seed, scale=scale, start=start, end=end)
    with connect(dsn) as conn:
        return load_company(conn, company, schema)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandboxes.demo_company.load_postgres", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--dsn", help="libpq DSN or postgresql:// URL (default: $ERP_POSTGRES_DSN)")
    parser.add_argument("--schema", default=DEFAULT_SCHEMA)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2024, 12, 31))
    args = parser.parse_args(argv)
    dsn = args.dsn or dsn_from_env()
    counts = load_demo(dsn, args.seed, args.scale, args.schema, args.start, args.end)
    summary = {"dsn": safe_dsn(dsn), "schema": args.schema, "upserted": counts}
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
