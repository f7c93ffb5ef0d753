"""A dbt failure must reach the caller: a unit test whose expectation is wrong makes `importau-dbt` exit 1."""

import shutil

import yaml

from tests.dbt.dbt_harness import PROJECT_DIR, run_dbt


def test_a_failing_unit_test_fails_the_command(dbt_build, dbt_data_dir, tmp_path):
    assert dbt_build.returncode == 0, dbt_build.output[-8000:]  # the parents of the unit tests exist
    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    models_yml = project / "models" / "marts" / "fx" / "_fx__models.yml"
    spec = yaml.safe_load(models_yml.read_text())
    name = "customs_rate_on_monday_is_fridays_ptax_sell"
    unit_test = next(test for test in spec["unit_tests"] if test["name"] == name)
    unit_test["expect"]["rows"] = unit_test["expect"]["rows"].replace(
        "USD,2024-01-08,4.8850,2024-01-05,4.8899", "USD,2024-01-08,4.8850,2024-01-05,4.8850"
    )
    models_yml.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))

    run = run_dbt(dbt_data_dir, "test", "--select", "test_type:unit", project_dir=project)

    assert run.returncode == 1, run.output[-5000:]
    failed = [r["unique_id"] for r in run.run_results["results"] if r["status"] == "fail"]
    assert failed == ["unit_test.importau.fct_fx_rates_daily.customs_rate_on_monday_is_fridays_ptax_sell"]
    assert "Failure in unit_test customs_rate_on_monday_is_fridays_ptax_sell" in run.output
    assert "actual differs from expected" in run.output
