"""The progress logger and session (`orchestration/commands/progress.py`) on a real, tiny Dagster job: few
terminal lines naming steps, row counts, checks and the failure; every event (DEBUG included) in the log file."""

import io
import os
import sys

import dagster as dg

from orchestration.commands.progress import (
    LOGGER_KEY,
    Terminal,
    append_run_creation_events,
    echo,
    importau_progress_logger,
    progress_run_config,
    progress_session,
)

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01")


@dg.asset(key=["lake", "widgets"], partitions_def=DAYS)
def lake_widgets(context: dg.AssetExecutionContext):
    context.log.info("fetched the widgets")
    print("chatter on stdout from the widgets step")  # a library printing: must land in the log only
    print("chatter on stderr from the widgets step", file=sys.stderr)
    os.write(1, b"bytes straight to file descriptor 1\n")  # a child process or C library would do this
    # A ranged run repeats this metadata on each of the 3 partitions: the progress line counts it once.
    return dg.MaterializeResult(metadata={"row_count": 1234, "quarantined": 2, "preview": "| a |\n|---|\n| 1 |"})


@dg.asset(
    key=["raw", "widgets"],
    deps=[lake_widgets],
    partitions_def=DAYS,
    check_specs=[
        dg.AssetCheckSpec("no_duplicate_keys", asset=["raw", "widgets"]),
        dg.AssetCheckSpec("fresh_enough", asset=["raw", "widgets"]),
        dg.AssetCheckSpec("has_rows", asset=["raw", "widgets"]),
    ],
)
def raw_widgets():
    yield dg.MaterializeResult(metadata={"row_count": 1232})
    yield dg.AssetCheckResult(check_name="no_duplicate_keys", passed=True)
    yield dg.AssetCheckResult(check_name="fresh_enough", passed=False, severity=dg.AssetCheckSeverity.WARN)
    yield dg.AssetCheckResult(check_name="has_rows", passed=False, description="7 duplicated widget ids")


@dg.asset(key=["marts", "widget_report"])
def widget_report():
    raise ValueError("the widget report cannot divide by zero widgets")


defs = dg.Definitions(
    assets=[lake_widgets, raw_widgets, widget_report],
    jobs=[
        dg.define_asset_job("ingest_widgets", selection=[lake_widgets, raw_widgets]),
        dg.define_asset_job("report_widgets", selection=[widget_report]),
    ],
    loggers={"console": dg.colored_console_logger, LOGGER_KEY: importau_progress_logger},
)


def _run(job_name: str, instance, log_file, **kwargs):
    result = defs.resolve_job_def(job_name).execute_in_process(
        run_config=progress_run_config(log_file), instance=instance, raise_on_error=False, **kwargs
    )
    append_run_creation_events(instance, result.run_id, log_file)
    return result


def test_progress_lines_on_the_terminal_and_every_event_in_the_log(tmp_path, capfd):
    log_file = tmp_path / "logs" / "demo-test.log"
    terminal = io.StringIO()
    with dg.instance_for_test() as instance, progress_session(log_file, stream=terminal):
        echo("  ingest_widgets 2024-01-01..2024-01-03")
        ingest = _run(
            "ingest_widgets",
            instance,
            log_file,
            tags={
                "dagster/asset_partition_range_start": "2024-01-01",
                "dagster/asset_partition_range_end": "2024-01-03",
            },
        )
        report = _run("report_widgets", instance, log_file)
    assert ingest.success and not report.success

    lines = terminal.getvalue().splitlines()
    text = "\n".join(lines)
    # One line per step and per run (plus the failing check and the error): not one line per event.
    assert len([line for line in lines if not line.startswith("        ")]) <= 12, text
    step_line = next(line for line in lines if "lake__widgets" in line)
    assert "1,234 rows" in step_line and "2 quarantined" in step_line  # counted once, not once per partition
    raw_line = next(line for line in lines if "raw__widgets" in line)
    assert "1,232 rows" in raw_line
    assert "checks 1 passed, 1 warned (fresh_enough), 1 failed" in raw_line
    assert any("has_rows on raw/widgets failed: 7 duplicated widget ids" in line for line in lines)
    assert any("ingest_widgets SUCCESS" in line and "lake 1,234" in line and "raw 1,232" in line for line in lines)
    assert any("marts__widget_report FAILED" in line for line in lines)
    assert "ValueError: the widget report cannot divide by zero widgets" in text  # the error, in full
    assert "in widget_report\n" in text or "in widget_report" in text  # with the user's frame
    assert any("report_widgets FAILURE" in line for line in lines)
    assert "\x1b[" not in text  # not a TTY: no colours, no status line
    for noise in ("chatter on stdout", "chatter on stderr", "bytes straight", "DEBUG", "STEP_START"):
        assert noise not in text

    log = log_file.read_text()
    assert " - DEBUG - " in log and "STEP_START" in log and "STEP_SUCCESS" in log and "RUN_SUCCESS" in log
    assert log.count("ASSET_MATERIALIZATION - ") >= 6  # every partition's event, DEBUG level
    assert "row_count=1234" in log and "preview=| a |\\n|---|\\n| 1 |" in log
    assert "ASSET_MATERIALIZATION_PLANNED" in log  # written at run creation, copied from the instance
    assert "fetched the widgets" in log
    for noise in ("chatter on stdout", "chatter on stderr", "bytes straight to file descriptor 1"):
        assert noise in log
    assert "ValueError: the widget report cannot divide by zero widgets" in log
    assert "ingest_widgets SUCCESS" in log  # the progress lines too

    # The session gave the file descriptors back.
    print("after the session")
    assert "after the session" in capfd.readouterr().out


def test_without_the_logger_in_the_run_config_dagster_logs_as_before(capfd):
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("ingest_widgets").execute_in_process(
            instance=instance, partition_key="2024-01-01", raise_on_error=False
        )
    assert result.success
    captured = capfd.readouterr()
    assert "STEP_START" in captured.err  # Dagster's console logger, DEBUG events and all
    assert "rows" not in captured.out


def test_a_tty_gets_a_status_line_that_the_step_line_replaces():
    stream = io.StringIO()
    terminal = Terminal(stream, live=True)
    terminal.step_started("run", "dbt_models", "dbt_models")
    terminal.line("    ✓ dbt_models 1m40s  89 assets", "ok")
    terminal.step_ended("run", "dbt_models")
    terminal.close()
    output = stream.getvalue()
    assert "... dbt_models 0.0s" in output  # the running step, with its elapsed time
    assert "\r\x1b[2K\x1b[32m    ✓ dbt_models 1m40s  89 assets\x1b[0m\n" in output  # cleared, then the line


def test_the_code_location_registers_the_logger_beside_the_console(definitions):
    assert set(definitions.loggers) == {"console", LOGGER_KEY}
    job = definitions.resolve_job_def("ingest_bcb")
    assert set(job.loggers) == {"console", LOGGER_KEY}
