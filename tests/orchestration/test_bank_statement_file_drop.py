"""The bank statement file-drop asset through Dagster: an OFX and a CNAB 240 file of the demo company land in lake and
raw (three entities), a bad file is quarantined with its reason, a re-dropped identical file is skipped (the
partition keeps the same rows)."""

import pyarrow.parquet as pq

from orchestration.defs.bank_statements import bank_statement_file_drop, raw_load
from orchestration.resources.bank_statements import BankStatementsResource
from tests.orchestration.file_drop_runs import DAY, materialize_month


def _materialize(tmp_path, chdb_url):
    inbox = BankStatementsResource(inbox_dir=str(tmp_path / "inbox"), data_dir=str(tmp_path))
    return materialize_month(tmp_path, chdb_url, [bank_statement_file_drop, raw_load], {"bank_statements": inbox})


def test_statements_land_a_bad_file_is_quarantined_and_a_redrop_is_skipped(tmp_path, chdb_url, warehouse):
    from sandboxes.demo_company import generate
    from sandboxes.demo_company.statements import statement_files

    files = statement_files(generate(seed=42, scale=0.2))
    ofx_name = next(n for n in sorted(files) if n.startswith("341_") and n.endswith("2024-03.ofx"))
    cnab_name = next(n for n in sorted(files) if n.startswith("001_") and n.endswith("2024-03.ret"))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / ofx_name).write_bytes(files[ofx_name])
    (inbox / cnab_name).write_bytes(files[cnab_name])
    (inbox / "broken.ret").write_bytes(b"not a statement\r\n")

    first = _materialize(tmp_path, chdb_url)
    metadata = {
        m.asset_key.path[-1]: m.metadata for m in first.asset_materializations_for_node("bank_statement_file_drop")
    }
    assert metadata["bank_statement__accounts"]["row_count"].value == 2
    assert metadata["bank_statement__transactions"]["quarantined"].value == 1  # the broken file, whole
    assert "not a CNAB 240 file header" in (inbox / "quarantine" / "broken.ret.reason.txt").read_text()
    lake_file = tmp_path / "lake" / "bank_statement" / "transactions" / f"dt={DAY}" / "part-000.parquet"
    landed = pq.read_table(lake_file)
    assert sorted(set(landed["statement_format"].to_pylist())) == ["CNAB240", "OFX"]
    rows = warehouse.query_rows(
        "SELECT statement_format, count(), sum(signed_amount) FROM raw.bank_statement__transactions "
        f"WHERE _partition_date = '{DAY}' GROUP BY statement_format ORDER BY statement_format"
    )
    assert [(r[0], r[1]) for r in rows] == [
        (fmt, sum(1 for f in landed["statement_format"].to_pylist() if f == fmt)) for fmt in ("CNAB240", "OFX")
    ]
    before = lake_file.read_bytes()

    (inbox / f"again_{cnab_name}").write_bytes(files[cnab_name])  # the same bytes under another name
    _materialize(tmp_path, chdb_url)
    assert (inbox / "skipped" / f"again_{cnab_name}").exists()
    assert lake_file.read_bytes() == before
    rows = warehouse.query_rows(f"SELECT count() FROM raw.bank_statement__transactions WHERE _partition_date = '{DAY}'")
    assert rows[0][0] == landed.num_rows
