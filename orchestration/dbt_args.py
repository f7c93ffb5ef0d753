"""dbt command lines and targets as pure functions, so they are unit-tested without Dagster or dbt."""

TARGETS = {"local": "local", "ci": "ci", "prod": "prod"}


def dbt_target(app_env: str | None, clickhouse_url: str | None = None) -> str:
    """The dbt target for an APP_ENV value (local when unset).

    `local` and `ci` run on embedded chDB; `prod` is the ClickHouse server target. A server `CLICKHOUSE_URL`
    (http/https) always selects `prod`, so switching the warehouse to a server is one variable everywhere.
    """
    env = (app_env or "local").strip().lower()
    if env not in TARGETS:
        raise ValueError(f"APP_ENV must be one of {sorted(TARGETS)}, got {app_env!r}")
    if (clickhouse_url or "").strip().lower().startswith(("http://", "https://")):
        return "prod"
    return TARGETS[env]


# dbt unit tests check SQL logic on fixed inputs: they belong to CI, not to the runs of the data. The Dagster dbt step
# never runs them (they were 38 % of a production `dbt build`'s thread time, issue 10); CI runs all of them, once, in
# the whole-project builds of tests/dbt/conftest.py and tests/marts/conftest.py (`importau-dbt build`, which
# tests/marts/test_demo_build.py checks). Until 2026-12-07 they also ran in every dbt step under APP_ENV=ci, i.e. in
# every demo, soak day and UI run of the test suite (about 25 s of each transform on an idle machine).
UNIT_TESTS_IN_DAGSTER = False


def dbt_build_args(full_refresh: bool = False, unit_tests: bool = UNIT_TESTS_IN_DAGSTER) -> list[str]:
    """`dbt build` runs models, seeds, snapshots and their tests in dependency order; `unit_tests=False` skips the
    unit tests (`--exclude-resource-type unit_test`, which dbt-core 1.11 applies to `build` whatever the selection)."""
    args = ["build"]
    if full_refresh:
        args.append("--full-refresh")
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    return args
