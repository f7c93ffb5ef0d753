"""The customs file-drop asset through Dagster: a broker's DI XML lands in lake and raw (its three entities), a bad
file is quarantined with its reason, a re-dropped identical file is skipped (the partition keeps the same rows)."""

from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from orchestration.defs.customs import customs_file_drop, raw_load
from orchestration.resources.customs import CustomsResource
from orchestration.resources.lake import LakeResource
from orchestration.resources.warehouse import ClickHouseResource

DAY = "2024-12-31"  # the load day: the last day of the past month the run materializes
MONTH = "2024-12-01"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "customs" / "di_public_shape.xml"


def _materialize(tmp_path, chdb_url):
    resources = {
        "customs": CustomsResource(inbox_dir=str(tmp_path / "inbox"), data_dir=str(tmp_path)),
        "lake": LakeResource(url=str(tmp_path / "lake"), data_dir=str(tmp_path)),
        "warehouse": ClickHouseResource(url=chdb_url, data_dir=str(tmp_path)),
    }
    result = dg.materialize([customs_file_drop, raw_load], partition_key=MONTH, resources=resources)
    assert result.success
    return result


def test_a_declaration_lands_a_bad_file_is_quarantined_and_a_redrop_is_skipped(tmp_path, chdb_url, warehouse):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "DI_2300120746.xml").write_bytes(FIXTURE.read_bytes())
    (inbox / "DI_broken.xml").write_bytes(b"<ListaDeclaracoes>")

    first = _materialize(tmp_path, chdb_url)
    metadata = {m.asset_key.path[-1]: m.metadata for m in first.asset_materializations_for_node("customs_file_drop")}
    assert metadata["customs__declarations"]["row_count"].value == 1
    assert metadata["customs__declarations"]["quarantined"].value == 1  # the broken file, whole
    assert metadata["customs__taxes_paid"]["row_count"].value == 5
    assert "not well-formed XML" in (inbox / "quarantine" / "DI_broken.xml.reason.txt").read_text()
    lake_file = tmp_path / "lake" / "customs" / "taxes_paid" / f"dt={DAY}" / "part-000.parquet"
    assert sorted(pq.read_table(lake_file)["tax"].to_pylist()) == ["COFINS", "II", "IPI", "PIS", "SISCOMEX_FEE"]
    rows = warehouse.query_rows(
        f"SELECT declaration_id, sum(amount_brl) FROM raw.customs__taxes_paid WHERE _partition_date = '{DAY}' "
        "GROUP BY declaration_id"
    )
    assert [(r[0], str(r[1])) for r in rows] == [("23/0012074-6", "39214.2300")]
    before = lake_file.read_bytes()

    (inbox / "DI_again.xml").write_bytes(FIXTURE.read_bytes())  # the same bytes under another name
    _materialize(tmp_path, chdb_url)
    assert (inbox / "skipped" / "DI_again.xml").exists()
    assert lake_file.read_bytes() == before
    rows = warehouse.query_rows(f"SELECT count() FROM raw.customs__declaration_items WHERE _partition_date = '{DAY}'")
    assert rows[0][0] == 1
