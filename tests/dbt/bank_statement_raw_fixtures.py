"""The raw tables of the bank statement files (`raw.bank_statement__<entity>`), for the dbt and mart tests.

`create_bank_statement_raw_tables` creates them empty from the lake schemas (as the raw load does);
`load_statements` renders the demo company's statements (OFX and CNAB 240, `sandboxes/demo_company/statements.py`),
reads each file back through the parsers and the contract (ingestion/bank_statements/filedrop.py) and inserts what
landed, each file with its own arrival, so staging sees exactly what the file drop would land.

`python tests/dbt/bank_statement_raw_fixtures.py <data_dir>` (a subprocess: chDB hosts one engine folder per
process) creates the tables and loads seed 42 at scale 0.2: first every file of the format that staging must NOT
keep for an account, then the other (Banco do Brasil's account ends on CNAB 240, Itaú's on OFX: the later file
covering a day replaces the earlier one), and prints the truth's count and sum per account and month as JSON.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from ingestion.bank_statements import contracts
from tests.dbt.parsed_raw import create_raw_tables, insert_rows

LOADED_AT = datetime(2025, 1, 2, 9, 0, tzinfo=UTC)
LAST_FORMAT = {"001": ".ret", "341": ".ofx"}  # the format loaded last (kept by staging) per COMPE code


def raw_name(entity: str) -> str:
    return f"bank_statement__{entity}"


def create_bank_statement_raw_tables(client) -> None:
    create_raw_tables(
        client,
        contracts,
        order_by=lambda entity: ["statement_format", *contracts.ENTITIES[entity].primary_key],
        more_low_cardinality=["institution", "currency"],
    )


def load_statements(client, files: dict[str, bytes], first_arrival: datetime) -> dict[str, int]:
    """Insert the files, in the given order, each with its own arrival (1 s apart); raises if any record is
    quarantined (the demo's statements keep the contract)."""
    from ingestion.bank_statements import cnab240, ofx
    from ingestion.bank_statements.filedrop import validate

    counts: dict[str, int] = defaultdict(int)
    for index, (name, data) in enumerate(files.items()):
        parser = ofx.parse if name.endswith(".ofx") else cnab240.parse
        valid, quarantine = validate(parser(data, name, hashlib.sha256(data).hexdigest()))
        if quarantine:
            raise ValueError(f"demo statements quarantined: {[q.reason for q in quarantine][:3]}")
        arrived = first_arrival + timedelta(seconds=index)
        for entity, rows in valid.items():
            counts[raw_name(entity)] += insert_rows(client, contracts, entity, rows, arrived, LOADED_AT)
    return dict(counts)


def truth_by_account_month(company) -> dict[str, dict]:
    out: dict[str, dict] = defaultdict(lambda: {"count": 0, "sum": Decimal(0)})
    accounts = {a["account_id"]: a for a in company.bank["bank_accounts"].to_pylist()}
    for row in company.bank["bank_transactions"].to_pylist():
        account = accounts[row["account_id"]]
        key = contracts.account_key(
            account["compe_code"], account["branch_code"], account["number"], account["check_digit"]
        )
        bucket = out[f"{key}|{row['booking_date']:%Y-%m}"]
        bucket["count"] += 1
        bucket["sum"] += row["amount"] if row["credit_debit_type"] == "CREDITO" else -row["amount"]
    return {key: {"count": v["count"], "sum": str(v["sum"])} for key, v in out.items()}


def main(data_dir: str) -> None:
    import clickhouse_connect

    from sandboxes.demo_company import generate
    from sandboxes.demo_company.messiness import apply
    from sandboxes.demo_company.statements import statement_files
    from tests.dbt.raw_fixtures import _empty_open_finance_tables

    company = apply(generate(seed=42, scale=0.2), "realistic")
    files = statement_files(company)
    ordered = sorted(files, key=lambda name: (name.endswith(LAST_FORMAT[name[:3]]), name))
    client = clickhouse_connect.get_client(interface="chdb", path=str(Path(data_dir) / "warehouse"))
    try:
        client.command("CREATE DATABASE IF NOT EXISTS raw")
        _empty_open_finance_tables(client)  # so stg_open_finance__* build and their columns can be compared
        create_bank_statement_raw_tables(client)
        counts = load_statements(client, {name: files[name] for name in ordered}, datetime(2025, 1, 2, 8, tzinfo=UTC))
    finally:
        client.close()
    print(json.dumps({"raw_rows": counts, "truth": truth_by_account_month(company), "files": len(files)}))


if __name__ == "__main__":
    main(sys.argv[1])
