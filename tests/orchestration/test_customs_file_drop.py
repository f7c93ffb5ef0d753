"""The customs file-drop asset through Dagster: a broker's DI XML lands in lake and raw (its three entities), a bad
file is quarantined with its reason, a re-dropped identical file is skipped (the partition keeps the same rows)."""

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from orchestration.defs.customs import customs_file_drop, raw_load
from orchestration.resources.customs import CustomsResource
from tests.orchestration.file_drop_runs import DAY, materialize_month

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "customs" / "di_public_shape.xml"


def _materialize(tmp_path, chdb_url, **customs):
    inbox = CustomsResource(inbox_dir=str(tmp_path / "inbox"), data_dir=str(tmp_path), **customs)
    return materialize_month(tmp_path, chdb_url, [customs_file_drop, raw_load], {"customs": inbox})


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


def test_customs_source_portal_lands_the_erps_duimps_from_the_portal_in_the_same_tables(
    tmp_path, chdb_url, warehouse, monkeypatch
):
    """CUSTOMS_SOURCE=portal: the same asset asks the Portal Único stand-in (mutual TLS) for each DUIMP the ERP's
    file-drop dataset holds, and lands the answers in the same lake datasets and raw tables as the files."""
    from datetime import date

    import pyarrow as pa

    from ingestion.common.lake import LocalLake
    from sandboxes.customs_portal.server import CustomsPortal
    from sandboxes.demo_company import generate

    company = generate(seed=42, scale=1.0)
    duimps = sorted(
        d["declaration"]["declaration_id"]
        for d in company.declarations
        if d["declaration"]["declaration_type"] == "DUIMP"
    )[:3]
    erp_rows = pa.table({"declaration_id": [*duimps, "24/1234567-8"], "declaration_type": ["DUIMP"] * 3 + ["DI"]})
    LocalLake(str(tmp_path / "lake")).write_partition("erp", "import_declarations", date(2024, 12, 2), erp_rows)
    with CustomsPortal.from_company(company) as portal:
        monkeypatch.setenv("PORTAL_UNICO_URL", portal.base_url)
        monkeypatch.setenv("PORTAL_UNICO_CLIENT_CERT", str(portal.certs.client_cert))
        monkeypatch.setenv("PORTAL_UNICO_CLIENT_KEY", str(portal.certs.client_key))
        monkeypatch.setenv("PORTAL_UNICO_CA_BUNDLE", str(portal.certs.ca_cert))
        _materialize(tmp_path, chdb_url, source="portal")
        assert [r[0] for r in portal.requests()] == ["POST", "GET", "GET", "GET"]  # only the DUIMPs, one session
    rows = warehouse.query_rows(
        f"SELECT declaration_id, source_file FROM raw.customs__declarations WHERE _partition_date = '{DAY}' "
        "ORDER BY declaration_id"
    )
    assert [r[0] for r in rows] == duimps
    assert all(r[1].startswith("DUIMP_") for r in rows)


def test_the_generators_declarations_land_in_batches_one_lake_object_per_entity(tmp_path, chdb_url, warehouse):
    """Every declaration of the scale-1 company in one run, landed in batches of 50 files: one lake object per
    entity and day holding every record once (a batch appends to what the earlier ones wrote), the same in raw."""
    from ingestion.erp import parsed_filedrop
    from sandboxes.demo_company import generate
    from sandboxes.demo_company.writers import customs_declaration_files

    files = customs_declaration_files(generate(seed=42, scale=1.0))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, data in files.items():
        (inbox / name).write_bytes(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parsed_filedrop, "BATCH_FILES", 50)
        result = _materialize(tmp_path, chdb_url)
    metadata = {m.asset_key.path[-1]: m.metadata for m in result.asset_materializations_for_node("customs_file_drop")}
    assert metadata["customs__declarations"]["row_count"].value == len(files) > 150  # one declaration per file
    assert metadata["customs__declarations"]["files_seen"].value == len(files)
    for entity in ("declarations", "declaration_items", "taxes_paid"):
        [lake_file] = (tmp_path / "lake" / "customs" / entity).glob("dt=*/*.parquet")
        lake_rows = pq.read_table(lake_file).num_rows
        assert lake_rows == metadata[f"customs__{entity}"]["row_count"].value > 0, entity
        [(raw_rows, distinct)] = warehouse.query_rows(
            f"SELECT (SELECT count() FROM raw.customs__{entity} WHERE _partition_date = '{DAY}'), "
            f"(SELECT count() FROM (SELECT DISTINCT * EXCEPT (_arrived_at, _loaded_at) FROM raw.customs__{entity} "
            f"WHERE _partition_date = '{DAY}'))"
        )
        assert raw_rows == lake_rows == distinct, entity  # every record once
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == sorted(files)
