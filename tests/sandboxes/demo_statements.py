"""The demo company's bank as each bank source delivers it, for the tests of `importau evaluate` and of
sandboxes/demo_company/bank_source_ids.py: the company (seed 42, scale 0.2, realistic), its bank truth as
`read_truth` gives it, the records of its statement files read by the real parsers, and the CNAB 240 id of each
truth movement found from the files alone (a CNAB 240 movement is aligned with its OFX twin, whose FITID is the
truth's id: both files list a day's movements in the same order)."""

from collections import defaultdict
from datetime import date
from functools import cache

from ingestion.bank_statements import cnab240, ofx


@cache
def company():
    from sandboxes.demo_company import generate
    from sandboxes.demo_company.messiness import apply

    return apply(generate(seed=42, scale=0.2), "realistic")


@cache
def bank_truth() -> dict[str, list[dict]]:
    """The bank truth as `read_truth` gives it: lists of rows per table."""
    return {name: table.to_pylist() for name, table in company().bank.items()}


@cache
def statement_records() -> dict[str, dict[str, list[dict]]]:
    """Every record of the demo company's statement files (the whole year, both formats), per format."""
    from sandboxes.demo_company.statements import statement_files

    found: dict[str, dict[str, list[dict]]] = {"ofx": defaultdict(list), "cnab240": defaultdict(list)}
    for name, data in sorted(statement_files(company()).items()):
        fmt, parse = ("ofx", ofx.parse) if name.endswith(".ofx") else ("cnab240", cnab240.parse)
        parsed = parse(data, name, "sha")
        assert not parsed.bad, parsed.bad[:3]
        for entity, rows in parsed.records.items():
            found[fmt][entity] += rows
    return found


@cache
def cnab240_ids_from_the_files() -> dict[str, str]:
    """{CNAB 240 id: the truth's id}: the n-th movement of an account's day in its CNAB 240 file is the n-th of
    that day in its OFX file, whose FITID is the truth's id."""

    def by_day(rows: list[dict]) -> dict[tuple[str, date], list[dict]]:
        days = defaultdict(list)
        for row in rows:  # file order
            days[(row["account_id"], row["booking_date"])].append(row)
        return days

    cnab, ofx_days = (
        by_day(statement_records()["cnab240"]["transactions"]),
        by_day(statement_records()["ofx"]["transactions"]),
    )
    assert cnab.keys() == ofx_days.keys()
    ids = {}
    for day, rows in cnab.items():
        twins = ofx_days[day]
        assert [r["signed_amount"] for r in rows] == [t["signed_amount"] for t in twins], day
        ids.update({row["transaction_id"]: twin["fitid"] for row, twin in zip(rows, twins, strict=True)})
    return ids
