"""The BI role of dbt_project/roles/roles.sql: limits the user cannot lift, a quota, an optional HOST restriction,
grants only through the role, and marts without dbt leftovers.

What runs on the ClickHouse 26.9 engine (chDB) and what is only rendered and checked:
- enforced by the engine: the settings profile (readonly = 2 and every MIN/MAX/CONST constraint: a BI session
  cannot SET or pass in SETTINGS a value past them, a result over max_result_rows is an error) and the per-mart
  grants (every mart readable, `__dbt_backup`/`__dbt_tmp`/`__dbt_new_data` leftovers refused and not even listed,
  the grant following the table through dbt's EXCHANGE TABLES). chDB has no writable access storage (CREATE
  ROLE/USER/SETTINGS PROFILE/QUOTA fail with ACCESS_STORAGE_FOR_INSERTION_NOT_FOUND, measured), so the rendered
  profile and GRANTs are loaded into users.xml (profile + `<constraints>`, role `<grants>`) for the user chDB
  runs as, the same way tests/marts/test_roles.py loads grants;
- parsed and checked statement by statement (formatQuery, ClickHouse's own parser): the quota (chDB loads a
  quota but never counts queries against it: system.quota_usage stayed 0, measured), CREATE USER with its HOST
  clause, REVOKE ALL before the role grant WITH REPLACE OPTION, the profile assigned to role and user.
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
MARTS_MODELS = REPO / "dbt_project" / "models" / "marts"
SQL = (ROLES_DIR / "roles.sql").read_text()
PASSWORDS = {
    "IMPORTAU_BI_PASSWORD": "bi-test-password",
    "IMPORTAU_DBT_PASSWORD": "dbt-test-password",
    "IMPORTAU_INGESTION_PASSWORD": "ingestion-test-password",
}
BI_ROLE, BI_USER, BI_PROFILE, BI_QUOTA = "importau_bi", "importau_bi_reader", "importau_bi_profile", "importau_bi_quota"
HOSTS_VARIABLE = "IMPORTAU_BI_ALLOWED_HOSTS"
USERS = {"importau_bi_reader": "importau_bi", "importau_dbt_runner": "importau_dbt"}
USERS["importau_ingestion_loader"] = "importau_ingestion"
ACCESS_DENIED, SETTING_CONSTRAINT_VIOLATION, READONLY, TOO_MANY_ROWS_OR_BYTES = 497, 452, 164, 396
LEFTOVERS = ("__dbt_backup", "__dbt_tmp", "__dbt_new_data", "__dbt_new_data_3f2a9c", "__dbt_view_tmp")
# settings the profile must bound, and how: (lower bound at least, upper bound required)
BOUNDED = ("max_execution_time", "max_memory_usage", "max_result_rows", "max_result_bytes")
CONSTANT = {"readonly": "2", "result_overflow_mode": "'throw'", "timeout_overflow_mode": "'throw'"}
SETTING = re.compile(
    r"(?P<name>\w+) = (?P<value>'[^']*'|[^\s,]+)(?: MIN (?P<min>'[^']*'|[^\s,]+))?(?: MAX (?P<max>'[^']*'|[^\s,]+))?"
    r"(?: (?P<kind>CONST|READONLY|WRITABLE|CHANGEABLE_IN_READONLY))?"
)


apply_roles = load_apply_roles("apply_roles_bi")


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def formatted(folder: Path, statements: list[str]) -> list[str]:
    """Each statement as ClickHouse's parser prints it back; a statement that does not parse fails the test."""
    results = probe(folder, [f"SELECT formatQuerySingleLine({_literal(s)})" for s in statements])
    failed = [(s, r["error"]) for s, r in zip(statements, results, strict=True) if not r["ok"]]
    assert not failed
    # the probe prints TabSeparated, which escapes quotes as \' (the statements hold no other escape); names
    # compare without the formatter's backquotes
    return [r["rows"].replace("\\'", "'").replace("`", "") for r in results]


@pytest.fixture(scope="module")
def marts() -> list[str]:
    """The marts of the dbt manifest, re-parsed if a dbt file changed: what apply_roles.py grants."""
    return apply_roles.marts_from_manifest(apply_roles.current_manifest())


def rendered(marts: list[str], env: dict | None = None) -> list[str]:
    return apply_roles.statements(apply_roles.render(SQL, {**PASSWORDS, **(env or {})}, marts=marts))


@pytest.fixture(scope="module")
def parsed(marts, tmp_path_factory) -> list[str]:
    """The rendered roles.sql (no hosts configured), every statement through formatQuery."""
    return formatted(tmp_path_factory.mktemp("parse"), rendered(marts))


def profile_settings(statements: list[str]) -> dict[str, dict]:
    """The SETTINGS of the BI profile statement: {name: {value, min, max, kind}}."""
    (profile,) = [s for s in statements if s.startswith(f"CREATE SETTINGS PROFILE OR REPLACE {BI_PROFILE} ")]
    body = profile.split(" SETTINGS ", 1)[1].rsplit(" TO ", 1)[0]
    settings = {m.group("name"): m.groupdict() for m in SETTING.finditer(body)}
    assert len(settings) == body.count(" = "), body  # every setting understood
    return settings


def bi_config(workdir: Path, statements: list[str], name: str) -> Path:
    """A clickhouse-local config whose user `default` (the one chDB runs as) has the BI profile, its constraints
    and the BI role with the GRANTs of `statements` (their text minus `TO importau_bi`)."""
    grants = []
    for statement in statements:
        match = re.match(rf"^GRANT (?P<what>.+ ON .+) TO {BI_ROLE}$", statement)
        if match:
            grants.append(f"<query>{escape('GRANT ' + match.group('what'))}</query>")
    values, constraints = [], []
    for setting, spec in profile_settings(statements).items():
        values.append(f"<{setting}>{escape(spec['value'].strip(chr(39)))}</{setting}>")
        if spec["kind"] == "CONST":
            constraints.append(f"<{setting}><const/></{setting}>")
        elif spec["min"] or spec["max"]:
            bounds = "".join(f"<{k}>{spec[k]}</{k}>" for k in ("min", "max") if spec[k])
            constraints.append(f"<{setting}>{bounds}</{setting}>")
    users = workdir / f"users_{name}.xml"
    users.write_text(
        f"<clickhouse><profiles><default/><{BI_PROFILE}>{''.join(values)}"
        f"<constraints>{''.join(constraints)}</constraints></{BI_PROFILE}></profiles>"
        "<quotas><default/></quotas><users><default><password/><networks><ip>::/0</ip></networks>"
        f"<profile>{BI_PROFILE}</profile><quota>default</quota>"
        f"<grants><query>GRANT {BI_ROLE}</query></grants></default></users>"
        f"<roles><{BI_ROLE}><grants>{''.join(grants)}</grants></{BI_ROLE}></roles></clickhouse>"
    )
    config = workdir / f"config_{name}.xml"
    config.write_text(
        f"<clickhouse><user_directories><users_xml><path>{users}</path></users_xml></user_directories></clickhouse>"
    )
    return config


@pytest.fixture(scope="module")
def warehouse(marts, tmp_path_factory) -> Path:
    """Every mart of the manifest as a one-row table, plus the leftovers an interrupted dbt build leaves of
    dim_supplier, and a staging view; created by the unrestricted default user."""
    folder = tmp_path_factory.mktemp("bi_warehouse") / "warehouse"
    setup = ["CREATE DATABASE marts", "CREATE DATABASE staging"]
    for mart in marts:
        setup += [
            f"CREATE TABLE marts.{mart} (id String) ENGINE = MergeTree ORDER BY id",
            f"INSERT INTO marts.{mart} VALUES ('{mart}')",
        ]
    for suffix in LEFTOVERS:
        setup += [
            f"CREATE TABLE marts.dim_supplier{suffix} (id String) ENGINE = MergeTree ORDER BY id",
            f"INSERT INTO marts.dim_supplier{suffix} VALUES ('leftover')",
        ]
    setup.append("CREATE VIEW staging.stg_erp__suppliers AS SELECT 1 AS id")
    results = probe(folder, setup)
    assert all(r["ok"] for r in results), results
    return folder


def test_grants_name_each_mart_of_the_manifest_never_a_wildcard(marts, parsed):
    # the manifest's marts are the models under models/marts (none has an alias): a stale or wrong manifest fails
    assert marts == sorted(path.stem for path in MARTS_MODELS.rglob("*.sql"))
    assert "dim_supplier" in marts
    bi_grants = [s for s in parsed if s.startswith("GRANT ") and s.endswith(f" TO {BI_ROLE}")]
    assert bi_grants == [f"GRANT SELECT ON marts.{mart} TO {BI_ROLE}" for mart in marts]
    assert not [s for s in bi_grants if "*" in s or "__dbt_" in s]
    # a leftover name or anything that is not a plain identifier never becomes a grant
    for bad in ("dim_supplier__dbt_backup", "x; DROP USER admin", "*"):
        with pytest.raises(apply_roles.RolesConfigError):
            apply_roles.render(SQL, PASSWORDS, marts=[*marts, bad])
    with pytest.raises(apply_roles.RolesConfigError, match="no mart"):
        apply_roles.render(SQL, PASSWORDS, marts=[])


def test_bi_reads_every_mart_and_no_dbt_leftover(marts, warehouse):
    statements = rendered(marts)
    config = bi_config(warehouse.parent, statements, "per_mart")
    leftovers = [f"marts.dim_supplier{suffix}" for suffix in LEFTOVERS]
    listed = "SELECT arrayStringConcat(groupArray(name), ',') FROM (SELECT name FROM system.tables "
    listed += "WHERE database = 'marts' ORDER BY name)"
    reads = [f"SELECT id FROM marts.{mart}" for mart in marts]
    leftover_reads = [f"SELECT id FROM {table}" for table in leftovers]
    results = dict(
        zip(
            queries := [
                *reads,
                *leftover_reads,
                "SHOW TABLES FROM marts",
                listed,
                "SELECT 1 FROM staging.stg_erp__suppliers",
            ],
            probe(warehouse, queries, config),
            strict=True,
        )
    )
    assert {q: results[q]["error"] for q in reads if results[q]["rows"] != q.split(".")[-1]} == {}
    assert {q: results[q] for q in leftover_reads if results[q]["code"] != ACCESS_DENIED} == {}
    assert results["SHOW TABLES FROM marts"]["rows"].split("\n") == marts  # leftovers are not even listed
    assert results[listed]["rows"] == ",".join(marts)
    assert results["SELECT 1 FROM staging.stg_erp__suppliers"]["code"] == ACCESS_DENIED
    # the test tells the difference: the old `GRANT SELECT ON marts.*` exposes every leftover
    wildcard = [s for s in statements if not s.startswith("GRANT SELECT ON marts.")]
    wildcard.append(f"GRANT SELECT ON marts.* TO {BI_ROLE}")
    old = probe(warehouse, leftover_reads, bi_config(warehouse.parent, wildcard, "wildcard"))
    assert [r["rows"] for r in old] == ["leftover"] * len(leftovers)


def test_the_grant_follows_the_mart_through_dbt_exchange_tables(marts, tmp_path):
    """dbt-clickhouse rebuilds a table model as <model>__dbt_backup, then EXCHANGE TABLES: BI reads the new rows
    under the mart's name and cannot read the old ones, now in the backup."""
    folder = tmp_path / "warehouse"
    admin = [
        "CREATE DATABASE marts",
        "CREATE TABLE marts.dim_supplier (id String) ENGINE = MergeTree ORDER BY id",
        "INSERT INTO marts.dim_supplier VALUES ('old build')",
        "CREATE TABLE marts.dim_supplier__dbt_backup (id String) ENGINE = MergeTree ORDER BY id",
        "INSERT INTO marts.dim_supplier__dbt_backup VALUES ('new build')",
        "EXCHANGE TABLES marts.dim_supplier__dbt_backup AND marts.dim_supplier",
    ]
    assert all(r["ok"] for r in probe(folder, admin))
    config = bi_config(tmp_path, rendered(marts), "exchange")
    current, backup = probe(
        folder, ["SELECT id FROM marts.dim_supplier", "SELECT id FROM marts.dim_supplier__dbt_backup"], config
    )
    assert current["rows"] == "new build"
    assert backup["code"] == ACCESS_DENIED


def test_bi_profile_is_readonly_2_with_limits_the_user_cannot_lift(marts, parsed, tmp_path):
    settings = profile_settings(parsed)
    for name, value in CONSTANT.items():
        assert (settings[name]["value"], settings[name]["kind"]) == (value, "CONST"), name
    for name in BOUNDED:
        spec = settings[name]
        assert spec["min"] and int(spec["min"]) >= 1, f"{name}: 0 means unlimited, so MIN must be at least 1"
        assert spec["max"] and 1 <= int(spec["value"]) <= int(spec["max"]), name
    # enforced by ClickHouse: the profile with its constraints, loaded for the user chDB runs as
    folder = tmp_path / "warehouse"
    assert all(r["ok"] for r in probe(folder, ["CREATE DATABASE marts"]))
    config = bi_config(tmp_path, rendered(marts), "profile")
    maximum = {name: int(settings[name]["max"]) for name in BOUNDED}
    refused = [f"SELECT 1 SETTINGS {name} = {maximum[name] + 1}" for name in BOUNDED]
    refused += [f"SELECT 1 SETTINGS {name} = 0" for name in BOUNDED]  # 0 = unlimited
    refused += [f"SET {name} = {maximum[name] * 10}" for name in BOUNDED]
    refused += ["SET result_overflow_mode = 'break'", "SET timeout_overflow_mode = 'break'"]
    refused += ["SELECT 1 SETTINGS result_overflow_mode = 'break'"]
    lowered = "SELECT getSetting('max_memory_usage') SETTINGS max_memory_usage = 1000000"
    current = "SELECT " + ", ".join(f"toString(getSetting('{name}'))" for name in [*CONSTANT, *BOUNDED])
    too_many_rows = f"SELECT number FROM system.numbers LIMIT {maximum['max_result_rows'] + 1}"
    writes = ["SET readonly = 0", "SET readonly = 1", "CREATE TEMPORARY TABLE scratch (x Int32)"]
    queries = [current, *refused, lowered, *writes, current]
    results = dict(zip(queries, probe(folder, queries, config), strict=True))
    # in a session of its own: after a result cut by the limit, chDB hands the rows it had buffered to the next
    # query of the session as its result (measured on chdb 26.9; a server does not)
    (results[too_many_rows],) = probe(folder, [too_many_rows], config)
    expected = [value.strip("'") for value in CONSTANT.values()] + [settings[n]["value"] for n in BOUNDED]
    assert results[current]["rows"].split("\t") == expected  # also after every refused SET
    assert {q: results[q] for q in refused if results[q]["code"] != SETTING_CONSTRAINT_VIOLATION} == {}
    assert results[lowered]["rows"] == "1000000"  # lowering a limit is allowed
    assert results[too_many_rows]["code"] == TOO_MANY_ROWS_OR_BYTES
    assert results["SET readonly = 0"]["code"] == READONLY and results["SET readonly = 1"]["code"] == READONLY
    assert not results["CREATE TEMPORARY TABLE scratch (x Int32)"]["ok"]


def test_quota_profile_and_role_reach_the_bi_user_through_the_role_only(parsed):
    # the profile goes to the role, and to the user itself (SET ROLE NONE would otherwise drop it): ALTER USER
    # ... SETTINGS PROFILE replaces any setting given to the user directly
    (profile,) = [s for s in parsed if s.startswith(f"CREATE SETTINGS PROFILE OR REPLACE {BI_PROFILE} ")]
    assert profile.endswith(f" TO {BI_ROLE}")
    assert (
        f"ALTER USER {BI_USER} DEFAULT ROLE {BI_ROLE} DROP ALL SETTINGS, DROP ALL PROFILES, ADD PROFILE {BI_PROFILE}"
        in parsed
    )
    (quota,) = [s for s in parsed if s.startswith(f"CREATE QUOTA OR REPLACE {BI_QUOTA} ")]
    assert " KEYED BY user_name " in quota and quota.endswith(f" TO {BI_ROLE}, {BI_USER}")
    for limit in ("queries", "errors", "result_rows", "execution_time"):
        assert re.search(rf"FOR INTERVAL 1 hour MAX .*\b{limit} = [1-9]", quota), limit
    position = {s: i for i, s in enumerate(parsed)}
    created = {s.split()[-1]: position[s] for s in parsed if s.startswith("CREATE ROLE IF NOT EXISTS ")}
    assert created[BI_ROLE] < position[profile]
    for user, role in USERS.items():
        (create,) = [i for s, i in position.items() if s.startswith(f"CREATE USER IF NOT EXISTS {user} ")]
        revoke = position[f"REVOKE ALL ON *.* FROM {user}"]
        grant = position[f"GRANT {role} TO {user} WITH REPLACE OPTION"]
        assert created[role] < create < revoke < grant, user  # direct grants revoked, then the role only
        assert [s for s in parsed if s.startswith("GRANT ") and re.search(rf" TO {user}\b", s)] == [
            f"GRANT {role} TO {user} WITH REPLACE OPTION"
        ]
        if user == BI_USER:
            assert create < position[quota]
    # the BI role itself: reads only, only marts
    bi_grants = [s for s in parsed if s.startswith("GRANT ") and s.endswith(f" TO {BI_ROLE}")]
    assert bi_grants and all(s.startswith("GRANT SELECT ON marts.") for s in bi_grants)


def test_host_clause_is_there_exactly_when_configured(marts, parsed, tmp_path):
    assert not [s for s in parsed if " HOST " in s]
    hosts = "10.20.0.0/16, 192.168.7.9 2001:db8::/32"
    configured = formatted(tmp_path / "parse", rendered(marts, {HOSTS_VARIABLE: hosts}))
    with_host = [s for s in configured if " HOST " in s]
    assert [s.split(" IDENTIFIED ")[0] for s in with_host] == [
        f"CREATE USER IF NOT EXISTS {BI_USER}",
        f"ALTER USER {BI_USER}",
    ]
    for statement in with_host:  # ClickHouse's formatter groups the IP entries of the clause
        clause = statement.split(" HOST ", 1)[1]
        assert clause.startswith("IP ") and all(f"'{h}'" in clause for h in ("10.20.0.0/16", "192.168.7.9"))
        assert "'2001:db8::/32'" in clause
    # an entry that is not an IP address or network never reaches SQL, and the error names the variable
    for bad in ("10.0.0.0/8' OR 1", "bi.example.com", "10.0.0.300"):
        with pytest.raises(apply_roles.RolesConfigError, match=HOSTS_VARIABLE):
            rendered(marts, {HOSTS_VARIABLE: bad})


def test_dry_run_prints_the_per_mart_grants_and_refuses_bad_hosts(marts, tmp_path):
    manifest = apply_roles.current_manifest()
    script = [sys.executable, str(ROLES_DIR / "apply_roles.py"), "--dry-run", "--manifest", str(manifest)]
    env_base = {"PATH": "/usr/bin:/bin"}
    printed = subprocess.run(script, capture_output=True, text=True, env=env_base, timeout=60)
    assert printed.returncode == 0, printed.stderr
    assert f"GRANT SELECT ON marts.{marts[0]} TO {BI_ROLE};" in printed.stdout
    assert "marts.* TO importau_bi" not in printed.stdout
    assert HOSTS_VARIABLE in printed.stderr and "any host" in printed.stderr  # unset: said so
    refused = subprocess.run(
        script, capture_output=True, text=True, env={**env_base, HOSTS_VARIABLE: "0.0.0.0/0'--"}, timeout=60
    )
    assert refused.returncode == 2 and HOSTS_VARIABLE in refused.stderr and refused.stdout == ""
