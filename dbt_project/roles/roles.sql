-- ClickHouse roles and users of the Importaú warehouse (production server; see README.md in this folder).
--
-- Apply with `python dbt_project/roles/apply_roles.py` as an administrator (a user with ACCESS MANAGEMENT).
-- The script replaces each `${<VAR>_SHA256}` / `${<VAR>_SALT}` pair with SHA-256(password + salt) and a fresh
-- random salt, the password being read from the environment variable <VAR> (never from this file), each
-- `${HOSTS:<VAR>}` with `HOST IP '...'` for the addresses/networks in <VAR> (nothing when unset), and repeats a
-- statement holding `${DBT_MART}` once per mart of the dbt manifest; it then runs the statements one by one.
-- Re-applying is safe: each role is reset (REVOKE ALL) and granted exactly what is below, each user loses any
-- direct grant (REVOKE ALL) and keeps only its role (WITH REPLACE OPTION), and gets the current password.
--
-- Databases (ingestion/common/warehouse.py DATABASES): raw (ingestion tables and dbt seeds), staging and
-- intermediate (dbt views and tables), marts (dbt tables), ml (dbt feature models and ML scores).

-- importau_bi: BI tools and analysts. Read the marts, nothing else: no raw/staging/intermediate/ml, no writes.
-- SELECT on each mart by name, never `marts.*`: a wildcard also covers the `<model>__dbt_backup`, `__dbt_tmp` and
-- `__dbt_new_data` tables an interrupted dbt build leaves in marts. A grant names a table, not its data, so it
-- survives dbt's EXCHANGE TABLES and a rebuild; a new mart needs a re-apply (README.md: after each deploy).
CREATE ROLE IF NOT EXISTS importau_bi;
REVOKE ALL ON *.* FROM importau_bi;
GRANT SELECT ON marts.${DBT_MART} TO importau_bi;

-- Limits of every BI session, as constraints the user cannot lift: readonly = 2 (reads, and SET of the other
-- settings within these bounds; readonly itself cannot change), each MIN 1 because 0 means unlimited.
-- result_overflow_mode 'throw': a result over the limit is an error, never silently cut (BI would show it as
-- complete). Also assigned to the user itself below, so SET ROLE NONE does not drop it.
CREATE SETTINGS PROFILE OR REPLACE importau_bi_profile SETTINGS
    readonly = 2 CONST,
    max_execution_time = 60 MIN 1 MAX 300,
    timeout_overflow_mode = 'throw' CONST,
    max_memory_usage = 4000000000 MIN 1 MAX 4000000000,
    max_memory_usage_for_user = 8000000000 MIN 1 MAX 8000000000,
    max_concurrent_queries_for_user = 8 MIN 1 MAX 8,
    max_result_rows = 1000000 MIN 1 MAX 1000000,
    max_result_bytes = 1000000000 MIN 1 MAX 1000000000,
    result_overflow_mode = 'throw' CONST
    TO importau_bi;

-- importau_dbt: dbt (`importau-dbt --target prod`). Reads raw, owns the four modelled databases, and writes only
-- its own seed tables in raw (dbt seeds land in raw, dbt_project.yml; truncated on re-run, dropped on
-- --full-refresh). Seed tables are listed by name or by a prefix only they use (tests/marts/test_roles.py checks
-- that every seed in dbt_project/seeds is covered).
CREATE ROLE IF NOT EXISTS importau_dbt;
REVOKE ALL ON *.* FROM importau_dbt;
GRANT SELECT ON raw.* TO importau_dbt;
GRANT CREATE DATABASE ON raw.* TO importau_dbt;
GRANT CREATE TABLE, DROP TABLE, INSERT, TRUNCATE ON raw.br_holidays_anbima_b3 TO importau_dbt;
GRANT CREATE TABLE, DROP TABLE, INSERT, TRUNCATE ON raw.bcb_sgs_series TO importau_dbt;
GRANT CREATE TABLE, DROP TABLE, INSERT, TRUNCATE ON raw.bcb_currencies TO importau_dbt;
GRANT CREATE TABLE, DROP TABLE, INSERT, TRUNCATE ON raw.tax_* TO importau_dbt;
GRANT SELECT, INSERT, ALTER, CREATE DATABASE, CREATE TABLE, CREATE VIEW, DROP TABLE, DROP VIEW, TRUNCATE, OPTIMIZE
    ON staging.* TO importau_dbt;
GRANT SELECT, INSERT, ALTER, CREATE DATABASE, CREATE TABLE, CREATE VIEW, DROP TABLE, DROP VIEW, TRUNCATE, OPTIMIZE
    ON intermediate.* TO importau_dbt;
GRANT SELECT, INSERT, ALTER, CREATE DATABASE, CREATE TABLE, CREATE VIEW, DROP TABLE, DROP VIEW, TRUNCATE, OPTIMIZE
    ON marts.* TO importau_dbt;
GRANT SELECT, INSERT, ALTER, CREATE DATABASE, CREATE TABLE, CREATE VIEW, DROP TABLE, DROP VIEW, TRUNCATE, OPTIMIZE
    ON ml.* TO importau_dbt;
-- dbt unit tests build their fixtures in temporary tables
GRANT CREATE TEMPORARY TABLE ON *.* TO importau_dbt;

-- importau_ingestion: the Dagster raw loads (ingestion/common/raw_load.py). Creates raw tables, replaces a date
-- window with a lightweight DELETE then an INSERT ... SELECT from the lake (`s3(importau_lake_s3, ...)`).
CREATE ROLE IF NOT EXISTS importau_ingestion;
REVOKE ALL ON *.* FROM importau_ingestion;
GRANT SELECT, INSERT, CREATE TABLE, ALTER DELETE, CREATE DATABASE ON raw.* TO importau_ingestion;
GRANT READ ON S3 TO importau_ingestion;
GRANT NAMED COLLECTION ON importau_lake_s3 TO importau_ingestion;
-- Opening the warehouse (ingestion/common/warehouse.py) runs CREATE DATABASE IF NOT EXISTS for all five databases
-- and accepts a refusal when the database shows in system.databases: these make the other four visible, by name
-- only (no table in them can be listed or read).
GRANT SHOW DATABASES ON staging.* TO importau_ingestion;
GRANT SHOW DATABASES ON intermediate.* TO importau_ingestion;
GRANT SHOW DATABASES ON marts.* TO importau_ingestion;
GRANT SHOW DATABASES ON ml.* TO importau_ingestion;

-- Users: one service account per role; the role is their only grant and their default role. REVOKE ALL drops any
-- privilege granted to the user directly; WITH REPLACE OPTION drops any other role it was given.
-- The BI user: HOST IP from IMPORTAU_BI_ALLOWED_HOSTS when set (unset: no HOST clause, a new user accepts any
-- host and an existing one keeps its hosts); its settings are exactly the BI profile (ALTER USER ... SETTINGS
-- replaces any setting given to the user directly); the quota counts per user.
CREATE USER IF NOT EXISTS importau_bi_reader
    IDENTIFIED WITH sha256_hash BY '${IMPORTAU_BI_PASSWORD_SHA256}' SALT '${IMPORTAU_BI_PASSWORD_SALT}'
    ${HOSTS:IMPORTAU_BI_ALLOWED_HOSTS};
ALTER USER importau_bi_reader
    IDENTIFIED WITH sha256_hash BY '${IMPORTAU_BI_PASSWORD_SHA256}' SALT '${IMPORTAU_BI_PASSWORD_SALT}'
    ${HOSTS:IMPORTAU_BI_ALLOWED_HOSTS};
REVOKE ALL ON *.* FROM importau_bi_reader;
GRANT importau_bi TO importau_bi_reader WITH REPLACE OPTION;
ALTER USER importau_bi_reader DEFAULT ROLE importau_bi SETTINGS PROFILE 'importau_bi_profile';
CREATE QUOTA OR REPLACE importau_bi_quota KEYED BY user_name
    FOR INTERVAL 1 minute MAX queries = 120, errors = 60,
    FOR INTERVAL 1 hour MAX queries = 3000, errors = 600, result_rows = 100000000, execution_time = 3600
    TO importau_bi, importau_bi_reader;

CREATE USER IF NOT EXISTS importau_dbt_runner
    IDENTIFIED WITH sha256_hash BY '${IMPORTAU_DBT_PASSWORD_SHA256}' SALT '${IMPORTAU_DBT_PASSWORD_SALT}';
ALTER USER importau_dbt_runner
    IDENTIFIED WITH sha256_hash BY '${IMPORTAU_DBT_PASSWORD_SHA256}' SALT '${IMPORTAU_DBT_PASSWORD_SALT}';
REVOKE ALL ON *.* FROM importau_dbt_runner;
GRANT importau_dbt TO importau_dbt_runner WITH REPLACE OPTION;
ALTER USER importau_dbt_runner DEFAULT ROLE importau_dbt;

CREATE USER IF NOT EXISTS importau_ingestion_loader
    IDENTIFIED WITH sha256_hash BY '${IMPORTAU_INGESTION_PASSWORD_SHA256}' SALT '${IMPORTAU_INGESTION_PASSWORD_SALT}';
ALTER USER importau_ingestion_loader
    IDENTIFIED WITH sha256_hash BY '${IMPORTAU_INGESTION_PASSWORD_SHA256}' SALT '${IMPORTAU_INGESTION_PASSWORD_SALT}';
REVOKE ALL ON *.* FROM importau_ingestion_loader;
GRANT importau_ingestion TO importau_ingestion_loader WITH REPLACE OPTION;
ALTER USER importau_ingestion_loader DEFAULT ROLE importau_ingestion;
