"""The raw tables of the official customs declarations (`raw.customs__<entity>`), for the dbt and mart tests.

`create_customs_raw_tables` creates them empty from the lake schemas (as the raw load does); `load_declarations`
renders the demo company's declarations as the broker's files (DI XML, DUIMP JSON: `writers.
customs_declaration_files`), reads each back through the parsers and the contract (ingestion/customs/filedrop.py),
and inserts what landed, so staging sees exactly what the file drop would land.
"""

from __future__ import annotations

from datetime import datetime

from ingestion.customs import contracts, di_xml, duimp_json
from ingestion.customs.filedrop import validate
from tests.dbt.parsed_raw import create_raw_tables, insert_rows


def raw_name(entity: str) -> str:
    return f"customs__{entity}"


def create_customs_raw_tables(client) -> None:
    create_raw_tables(client, contracts)


def load_declarations(client, company, loaded_at: datetime) -> dict[str, int]:
    """Insert the demo company's declaration files, as parsed and checked, with `loaded_at` as their arrival."""
    from sandboxes.demo_company.writers import customs_declaration_files

    parsed = []
    for name, data in customs_declaration_files(company).items():
        parsed += (di_xml.parse if name.endswith(".xml") else duimp_json.parse)(data, name)
    valid, quarantine, _ = validate(parsed)
    if quarantine:
        raise ValueError(f"demo company: declarations quarantined: {[q.reason for q in quarantine][:3]}")
    return {
        raw_name(entity): insert_rows(client, contracts, entity, rows, loaded_at, loaded_at)
        for entity, rows in valid.items()
    }
