"""`importau demo-data`: generate the deterministic demo importer (ERP exports, bank truth, ground truth)."""

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo-data", help="generate the demo company (same seed, same bytes)")
    parser.add_argument("--seed", default="42")
    parser.add_argument("--scale", default="1")
    parser.add_argument(
        "--messiness",
        choices=("clean", "realistic", "hostile"),
        default="realistic",
        help="planted real-world mess, each case in the ground truth (sandboxes/demo_company/messiness.py)",
    )
    parser.add_argument("--out", default=None, help="output folder (default $IMPORTAU_DATA_DIR/demo)")
    parser.add_argument(
        "--bank-statements",
        default="",
        metavar="FORMATS",
        help="also write the banks' statement files into <out>/bank_statements: ofx, cnab240 or 'ofx,cnab240'",
    )
    parser.add_argument("--statements-per", choices=("month", "day"), default="month")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import os

    from orchestration.env_defaults import apply_env_defaults
    from sandboxes.demo_company.__main__ import main

    apply_env_defaults()
    out = args.out or os.path.join(os.environ["IMPORTAU_DATA_DIR"], "demo")
    argv = ["--seed", args.seed, "--scale", args.scale, "--messiness", args.messiness, "--out", out]
    if args.bank_statements:
        argv += ["--bank-statements", args.bank_statements, "--statements-per", args.statements_per]
    return main(argv)
