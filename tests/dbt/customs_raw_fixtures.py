"""The raw tables of the official customs declarations (`raw.customs__<entity>`), for the dbt and mart tests.

`create_customs_raw_tables` creates them empty from the lake schemas (as the raw load does); `load_declarations`
renders the demo company's declarations as the broker's files (DI XML, DUIMP JSON: `writers.
customs_declaration_files`), reads each back through the parsers and the contract (ingestion/customs/filedrop.py),
and inserts what landed, so staging sees exactly what the file drop would land.
"""

from __future__ import annotations

from datetime import datetime

from ingestion.common.raw_load import ensure_raw_table
from ingestion.customs import contracts, di_xml, duimp_json
from ingestion.customs.filedrop import validate


def raw_name(entity: str) -> str:
    return f"customs__{entity}"


def low_cardinality(entity: str) -> list[str]:
    return [column.name for column in contracts.ENTITIES[entity].columns if column.allowed is not None]


def create_customs_raw_tables(client) -> None:
    for entity in contracts.ENTITY_NAMES:
        client.command(f"DROP TABLE IF EXISTS raw.{raw_name(entity)}")
        ensure_raw_table(
            client,
            raw_name(entity),
            contracts.lake_schema(entity),
            list(contracts.ENTITIES[entity].primary_key),
            low_cardinality(entity),
        )


def load_declarations(client, company, loaded_at: datetime) -> dict[str, int]:
    """Insert the demo company's declaration files, as parsed and checked, with `loaded_at` as their arrival."""
    from sandboxes.demo_company.writers import customs_declaration_files

    parsed = []
    for name, data in customs_declaration_files(company).items():
        parsed += (di_xml.parse if name.endswith(".xml") else duimp_json.parse)(data, name)
    valid, quarantine, _ = validate(parsed)
    if quarantine:
        raise ValueError(f"demo company: declarations quarantined: {[q.reason for q in quarantine][:3]}")
    counts = {}
    for entity, rows in valid.items():
        names = contracts.schema(entity).names
        records = [
            [row[name] for name in names] + [loaded_at, loaded_at.date(), loaded_at, f"/lake/customs/{entity}"]
            for row in rows
        ]
        if records:
            columns = [*names, contracts.ARRIVED_AT, "_partition_date", "_loaded_at", "_source_file"]
            client.insert(f"raw.{raw_name(entity)}", records, column_names=columns)
        counts[f"customs__{entity}"] = len(records)
    return counts
