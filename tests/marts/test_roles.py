"""dbt_project/roles/roles.sql on the ClickHouse 26.9 engine (chDB): it parses, and its grants do what they say.

What this proves, and what it does not (dbt_project/roles/README.md):
- every statement of the rendered file parses on ClickHouse (`formatQuery`, the server's own parser);
- the password hashes are what ClickHouse checks (SHA-256 of password + salt, computed by the engine);
- the GRANT statements of each role, loaded into that role (users.xml `<roles>`, the same GRANT text minus
  `TO <role>`) and given to the user chDB runs as, are enforced by ClickHouse's access control: the BI role reads
  marts and nothing else and writes nothing; dbt reads raw, writes only its seeds there and owns the modelled
  databases; ingestion writes raw only.
chDB (clickhouse-local) has no writable access storage, so CREATE ROLE/USER, REVOKE and `GRANT role TO user`
cannot run here: they are parsed, not executed. Password login over the network is not tested either.
"""

import re
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from tests.marts.chdb_access_probe import load_apply_roles, probe

REPO = Path(__file__).resolve().parents[2]
ROLES_DIR = REPO / "dbt_project" / "roles"
SEEDS_DIR = REPO / "dbt_project" / "seeds"
# the marts apply_roles.py reads from the dbt manifest (tests/security/test_bi_role.py checks they are the same)
MARTS = sorted(path.stem for path in (REPO / "dbt_project" / "models" / "marts").rglob("*.sql"))
ACCESS_DENIED = 497
PASSWORDS = {
    "IMPORTAU_BI_PASSWORD": "bi-test-password",
    "IMPORTAU_DBT_PASSWORD": "dbt-test-password",
    "IMPORTAU_INGESTION_PASSWORD": "ingestion-test-password",
}
GRANT_TO_ROLE = re.compile(r"^GRANT (?P<what>.+ ON .+) TO (?P<role>\w+)$")


apply_roles = load_apply_roles("apply_roles")
SQL = (ROLES_DIR / "roles.sql").read_text()


def rendered_statements(salt: str = "00112233445566778899aabbccddeeff") -> list[str]:
    return apply_roles.statements(apply_roles.render(SQL, PASSWORDS, salt=lambda: salt, marts=MARTS))


def role_grants(role: str) -> list[str]:
    """The privilege grants roles.sql gives `role`, as `GRANT <privileges> ON <target>`."""
    grants = []
    for statement in rendered_statements():
        match = GRANT_TO_ROLE.match(statement)
        if match and match.group("role") == role:
            grants.append(f"GRANT {match.group('what')}")
    return grants


def role_config(workdir: Path, role: str) -> Path:
    """A clickhouse-local config whose only user, `default`, holds `role` with exactly roles.sql's grants."""
    queries = "".join(f"<query>{escape(grant)}</query>" for grant in role_grants(role))
    users = workdir / f"users_{role}.xml"
    users.write_text(
        "<clickhouse><profiles><default/></profiles><quotas><default/></quotas><users><default>"
        "<password/><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota>"
        f"<grants><query>GRANT {role}</query></grants></default></users>"
        f"<roles><{role}><grants>{queries}</grants></{role}></roles></clickhouse>"
    )
    config = workdir / f"config_{role}.xml"
    config.write_text(
        f"<clickhouse><user_directories><users_xml><path>{users}</path></users_xml></user_directories></clickhouse>"
    )
    return config


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """A small warehouse with a table or view in every database, created by the unrestricted default user."""
    workdir = tmp_path_factory.mktemp("roles")
    folder = workdir / "warehouse"
    setup = [f"CREATE DATABASE {name}" for name in ("raw", "staging", "intermediate", "marts", "ml")] + [
        "CREATE TABLE raw.erp__suppliers (supplier_id String, _partition_date Date) "
        "ENGINE = MergeTree ORDER BY supplier_id",
        "INSERT INTO raw.erp__suppliers VALUES ('SUP-0001', '2024-01-02')",
        "CREATE TABLE raw.bcb_currencies (currency String) ENGINE = MergeTree ORDER BY currency",
        "CREATE VIEW staging.stg_erp__suppliers AS SELECT supplier_id FROM raw.erp__suppliers",
        "CREATE VIEW intermediate.int_suppliers AS SELECT supplier_id FROM staging.stg_erp__suppliers",
        "CREATE TABLE marts.dim_supplier (supplier_id String) ENGINE = MergeTree ORDER BY supplier_id",
        "INSERT INTO marts.dim_supplier VALUES ('SUP-0001')",
        "CREATE TABLE ml.demo__scores (supplier_id String) ENGINE = MergeTree ORDER BY supplier_id",
    ]
    results = probe(folder, setup)
    assert all(result["ok"] for result in results), results
    return folder


def run_as(warehouse: Path, role: str, queries: list[str]) -> dict[str, dict]:
    results = probe(warehouse, queries, role_config(warehouse.parent, role))
    return dict(zip(queries, results, strict=True))


def denied(result: dict) -> bool:
    return not result["ok"] and result["code"] == ACCESS_DENIED


def test_every_statement_parses_on_clickhouse(tmp_path):
    statements = rendered_statements()
    results = probe(tmp_path / "parse", ["SELECT formatQuery(" + _literal(s) + ")" for s in statements])
    failed = [(s, r["error"]) for s, r in zip(statements, results, strict=True) if not r["ok"]]
    assert not failed
    assert len(statements) >= 20
    assert {"importau_bi", "importau_dbt", "importau_ingestion"} <= {
        s.split()[-1] for s in statements if s.startswith("CREATE ROLE")
    }
    # a statement that does not parse is caught the same way (the probe is not a rubber stamp)
    assert probe(tmp_path / "parse", ["SELECT formatQuery('GRANT SELEC ON marts.* TO importau_bi')"])[0]["code"] == 62


def test_password_hash_is_what_clickhouse_checks(tmp_path):
    salt = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    create_user = "CREATE USER IF NOT EXISTS importau_bi_reader"
    statement = next(s for s in rendered_statements(salt) if s.startswith(create_user))
    found = re.search(r"sha256_hash BY '([0-9a-f]{64})' SALT '([0-9a-f]+)'", statement)
    assert found and found.group(2) == salt
    engine = probe(
        tmp_path / "hash",
        [f"SELECT lower(hex(SHA256(concat({_literal(PASSWORDS['IMPORTAU_BI_PASSWORD'])}, {_literal(salt)}))))"],
    )[0]
    assert engine["rows"] == found.group(1)


def test_no_secret_in_the_file_and_every_password_is_required():
    assert not re.search(r"[0-9a-fA-F]{32,}", SQL), "roles.sql must hold placeholders, never a hash or salt"
    assert apply_roles.password_variables(SQL) == sorted(PASSWORDS)
    rendered = "\n".join(rendered_statements())
    assert "${" not in rendered and not any(password in rendered for password in PASSWORDS.values())
    for name in PASSWORDS:
        with pytest.raises(apply_roles.MissingPasswordError, match=name):
            apply_roles.render(SQL, {k: v for k, v in PASSWORDS.items() if k != name}, marts=MARTS)
    dry_run = subprocess.run(
        [sys.executable, str(ROLES_DIR / "apply_roles.py"), "--dry-run"], capture_output=True, text=True, check=True
    ).stdout
    assert "<sha256 of $IMPORTAU_BI_PASSWORD>" in dry_run and not re.search(r"[0-9a-f]{32,}", dry_run)


def test_bi_role_is_select_on_marts_only():
    # one grant per mart, never marts.* (which would also cover dbt's __dbt_backup leftovers)
    assert role_grants("importau_bi") == [f"GRANT SELECT ON marts.{mart}" for mart in MARTS]


def test_bi_role_reads_marts_and_nothing_else(warehouse):
    results = run_as(
        warehouse,
        "importau_bi",
        reads := [
            "SELECT supplier_id FROM marts.dim_supplier",
            "SELECT count() FROM raw.erp__suppliers",
            "SELECT count() FROM staging.stg_erp__suppliers",
            "SELECT count() FROM intermediate.int_suppliers",
            "SELECT count() FROM ml.demo__scores",
            "SELECT * FROM file('/etc/hostname', 'LineAsString')",
            "SELECT * FROM s3('http://127.0.0.1:9/bucket/x.parquet', 'Parquet')",
        ],
    )
    assert results[reads[0]] == {"ok": True, "code": None, "error": None, "rows": "SUP-0001"}
    assert [query for query in reads[1:] if not denied(results[query])] == []


def test_bi_role_cannot_write(warehouse):
    writes = [
        "INSERT INTO marts.dim_supplier VALUES ('SUP-9999')",
        "ALTER TABLE marts.dim_supplier DELETE WHERE 1",
        "TRUNCATE TABLE marts.dim_supplier",
        "DROP TABLE marts.dim_supplier",
        "CREATE TABLE marts.bi_scratch (x Int32) ENGINE = Memory",
        "CREATE TEMPORARY TABLE bi_scratch (x Int32)",
        "INSERT INTO raw.erp__suppliers VALUES ('SUP-9999', '2024-01-02')",
        "CREATE ROLE bi_escalation",
    ]
    results = run_as(warehouse, "importau_bi", writes + ["SELECT count() FROM marts.dim_supplier"])
    assert [query for query in writes if not denied(results[query])] == []
    assert results["SELECT count() FROM marts.dim_supplier"]["rows"] == "1"  # nothing was written


def test_dbt_role_reads_raw_and_writes_only_its_databases_and_seeds(warehouse):
    allowed = [
        "SELECT count() FROM raw.erp__suppliers",
        "CREATE DATABASE IF NOT EXISTS marts",
        "CREATE OR REPLACE VIEW staging.stg_erp__suppliers AS SELECT supplier_id FROM raw.erp__suppliers",
        "CREATE TABLE marts.dim_supplier__dbt_backup (supplier_id String) ENGINE = MergeTree ORDER BY supplier_id",
        "INSERT INTO marts.dim_supplier__dbt_backup SELECT supplier_id FROM intermediate.int_suppliers",
        "EXCHANGE TABLES marts.dim_supplier__dbt_backup AND marts.dim_supplier",
        "DROP TABLE marts.dim_supplier__dbt_backup",
        "CREATE TABLE ml.ml_demo__features (x Int32) ENGINE = MergeTree ORDER BY x",
        "CREATE TEMPORARY TABLE unit_fixture (x Int32)",
    ]
    forbidden = [
        "INSERT INTO raw.erp__suppliers VALUES ('SUP-9999', '2024-01-02')",
        "DROP TABLE raw.erp__suppliers",
        "ALTER TABLE raw.erp__suppliers DELETE WHERE 1",
        "CREATE TABLE raw.not_a_seed (x Int32) ENGINE = Memory",
        "CREATE ROLE dbt_escalation",
    ]
    results = run_as(warehouse, "importau_dbt", allowed + forbidden)
    assert {q: results[q]["error"] for q in allowed if not results[q]["ok"]} == {}
    assert [q for q in forbidden if not denied(results[q])] == []


def test_dbt_role_can_load_every_seed_in_raw(warehouse):
    seeds = sorted(path.stem for path in SEEDS_DIR.glob("*.csv"))
    assert "bcb_currencies" in seeds
    queries = []
    for seed in seeds:
        table = f"raw.`{seed}`"
        queries += [
            f"DROP TABLE IF EXISTS {table}",  # --full-refresh
            f"CREATE TABLE {table} (x Int32) ENGINE = MergeTree ORDER BY x",
            f"INSERT INTO {table} VALUES (1)",
            f"TRUNCATE TABLE {table}",  # a plain re-run
            f"SELECT count() FROM {table}",
        ]
    results = run_as(warehouse, "importau_dbt", queries)
    assert {q: results[q]["error"] for q in queries if not results[q]["ok"]} == {}


def test_ingestion_role_writes_raw_only(warehouse):
    allowed = [
        "CREATE DATABASE IF NOT EXISTS raw",
        "CREATE TABLE IF NOT EXISTS raw.erp__products (sku String, _partition_date Date) "
        "ENGINE = MergeTree ORDER BY sku",
        "DELETE FROM raw.erp__suppliers WHERE _partition_date BETWEEN '2024-01-01' AND '2024-01-31'",
        "INSERT INTO raw.erp__suppliers VALUES ('SUP-0001', '2024-01-02')",
        "SELECT count() FROM raw.erp__suppliers",
    ]
    forbidden = [
        "SELECT count() FROM marts.dim_supplier",
        "SELECT count() FROM staging.stg_erp__suppliers",
        "INSERT INTO marts.dim_supplier VALUES ('SUP-9999')",
        "CREATE TABLE staging.scratch (x Int32) ENGINE = Memory",
        "CREATE DATABASE IF NOT EXISTS staging",
        "DROP TABLE raw.erp__suppliers",
        "SELECT * FROM file('/etc/hostname', 'LineAsString')",
    ]
    # the S3 lake: the access check passes, then the (absent) endpoint refuses the connection
    s3 = (
        "SELECT * FROM s3('http://127.0.0.1:9/bucket/x.parquet', 'Parquet') SETTINGS s3_retry_attempts = 0, "
        "s3_connect_timeout_ms = 200, s3_request_timeout_ms = 200, s3_max_single_read_retries = 0"
    )
    # opening the warehouse (ingestion/common/warehouse.py) accepts a refused CREATE DATABASE IF NOT EXISTS when
    # the database shows in system.databases: the four databases must be visible (by name only)
    visible = "SELECT count() FROM system.databases WHERE name IN ('staging', 'intermediate', 'marts', 'ml')"
    listed = "SELECT count() FROM system.tables WHERE database IN ('staging', 'intermediate', 'marts', 'ml')"
    results = run_as(warehouse, "importau_ingestion", allowed + forbidden + [s3, visible, listed])
    assert {q: results[q]["error"] for q in allowed if not results[q]["ok"]} == {}
    assert [q for q in forbidden if not denied(results[q])] == []
    assert not results[s3]["ok"] and results[s3]["code"] != ACCESS_DENIED
    assert (results[visible]["rows"], results[listed]["rows"]) == ("4", "0")


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
