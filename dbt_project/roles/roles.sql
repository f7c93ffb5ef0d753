-- ClickHouse roles and users of the Importaú warehouse (production server; see README.md in this folder).
--
-- Apply with `python dbt_project/roles/apply_roles.py` as an administrator (a user with ACCESS MANAGEMENT).
-- The script replaces each `${<VAR>_SHA256}` / `${<VAR>_SALT}` pair with SHA-256(password + salt) and a fresh
-- random salt, the password being read from the environment variable <VAR> (never from this file); it then runs
-- the statements one by one. Re-applying is safe: each role is reset (REVOKE ALL) and granted exactly what is
-- below, and each user gets the current password.
--
-- Databases (ingestion/common/warehouse.py DATABASES): raw (ingestion tables and dbt seeds), staging and
-- intermediate (dbt views and tables), marts (dbt tables), ml (dbt feature models and ML scores).

-- importau_bi: BI tools and analysts. Read the marts, nothing else: no raw/staging/intermediate/ml, no writes.
CREATE ROLE IF NOT EXISTS importau_bi;
REVOKE ALL ON *.* FROM importau_bi;
GRANT SELECT ON marts.* TO importau_bi;

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

-- Users: one service account per role; the role is their only grant and their default role.
CREATE USER IF NOT EXISTS importau_bi_reader
    IDENTIFIED WITH sha256_hash BY '${IMPORTAU_BI_PASSWORD_SHA256}' SALT '${IMPORTAU_BI_PASSWORD_SALT}';
ALTER USER importau_bi_reader
    IDENTIFIED WITH sha256_hash BY '${IMPORTAU_BI_PASSWORD_SHA256}' SALT '${IMPORTAU_BI_PASSWORD_SALT}';
GRANT importau_bi TO importau_bi_reader;
ALTER USER importau_bi_reader DEFAULT ROLE importau_bi;

CREATE USER IF NOT EXISTS importau_dbt_runner
    IDENTIFIED WITH sha256_hash BY '${IMPORTAU_DBT_PASSWORD_SHA256}' SALT '${IMPORTAU_DBT_PASSWORD_SALT}';
ALTER USER importau_dbt_runner
    IDENTIFIED WITH sha256_hash BY '${IMPORTAU_DBT_PASSWORD_SHA256}' SALT '${IMPORTAU_DBT_PASSWORD_SALT}';
GRANT importau_dbt TO importau_dbt_runner;
ALTER USER importau_dbt_runner DEFAULT ROLE importau_dbt;

CREATE USER IF NOT EXISTS importau_ingestion_loader
    IDENTIFIED WITH sha256_hash BY '${IMPORTAU_INGESTION_PASSWORD_SHA256}' SALT '${IMPORTAU_INGESTION_PASSWORD_SALT}';
ALTER USER importau_ingestion_loader
    IDENTIFIED WITH sha256_hash BY '${IMPORTAU_INGESTION_PASSWORD_SHA256}' SALT '${IMPORTAU_INGESTION_PASSWORD_SALT}';
GRANT importau_ingestion TO importau_ingestion_loader;
ALTER USER importau_ingestion_loader DEFAULT ROLE importau_ingestion;
