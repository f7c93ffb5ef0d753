"""`python -m sandboxes.demo_company --seed 42 --messiness realistic --out data/demo`: generate and write the demo
company.

Writes `<out>/erp_exports/` (CSV per entity, products as XLSX, manifest), `<out>/bank/` (Parquet bank truth
for the Open Finance sandbox) and `<out>/ground_truth.json` (tests and evaluation only); with
`--bank-statements ofx,cnab240` also `<out>/bank_statements/` (the banks' statement files, statements.py).
"""

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from sandboxes.demo_company.company import generate
from sandboxes.demo_company.messiness import DEFAULT_LEVEL, LEVELS, apply
from sandboxes.demo_company.statements import FORMATS
from sandboxes.demo_company.writers import write_bank_statements, write_bank_truth, write_exports, write_ground_truth


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.demo_company", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--scale", type=float, default=1.0, help="volume multiplier (default 1)")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1), help="first day, ISO")
    parser.add_argument("--end", type=date.fromisoformat, default=date(2024, 12, 31), help="last day, ISO")
    parser.add_argument(
        "--messiness",
        choices=LEVELS,
        default=DEFAULT_LEVEL,
        help=f"planted real-world mess (messiness.py; default {DEFAULT_LEVEL})",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--bank-statements",
        type=_formats,
        default=(),
        help="also write the banks' statement files in these formats (ofx, cnab240, or both: 'ofx,cnab240')",
    )
    parser.add_argument(
        "--statements-per", choices=("month", "day"), default="month", help="one statement file per account and ..."
    )
    return parser.parse_args(argv)


def _formats(text: str) -> tuple[str, ...]:
    formats = tuple(part.strip() for part in text.split(",") if part.strip() and part.strip() != "none")
    if unknown := [f for f in formats if f not in FORMATS]:
        raise argparse.ArgumentTypeError(f"unknown statement format(s) {unknown}: use {', '.join(FORMATS)}")
    return formats


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    company = apply(generate(seed=args.seed, scale=args.scale, start=args.start, end=args.end), args.messiness)
    generated = time.perf_counter() - began
    write_exports(company, args.out / "erp_exports")
    write_bank_truth(company, args.out / "bank")
    write_ground_truth(company, args.out / "ground_truth.json")
    if args.bank_statements:
        files = write_bank_statements(
            company, args.out / "bank_statements", formats=args.bank_statements, per=args.statements_per
        )
        formats = ", ".join(args.bank_statements)
        print(f"{len(files) - 1} bank statement files ({formats}) in {args.out / 'bank_statements'}")
    counts = company.row_counts()
    width = max(len(name) for name in counts)
    for name, rows in counts.items():
        print(f"{name:<{width}}  {rows:>8,}")
    total = sum(counts.values())
    print(
        f"{total:,} rows generated in {generated:.2f} s ({total / generated:,.0f} rows/s); "
        f"written to {args.out} in {time.perf_counter() - began:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
