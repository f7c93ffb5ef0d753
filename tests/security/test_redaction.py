"""Redaction holds for any password: every DSN and URL form the platform prints goes through
`ingestion.common.redact`, and for generated passwords (any characters: `@ : / % ' \\`, spaces, non-ASCII) the
printed text never holds the password nor its percent-encoded form, and still shows host, port and database.

The property tests call the real printing functions (`safe_dsn` of the ERP's PostgreSQL, `redact_url`,
`redact_text`, `url_origin`, MLflow's `TrackingConfig`); the connection tests go through the real drivers against
127.0.0.1 ports nothing listens on.
"""

import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict

from ingestion.common.redact import (
    MASK,
    MIN_SECRET_LENGTH,
    redact_text,
    redact_url,
    secrets_of,
    url_origin,
    url_userinfo_problem,
)
from ingestion.erp.postgres import ErpDatabaseError, connect, safe_dsn
from ml_assets.common.tracking import TrackingConfig

PASSWORDS = st.text(
    alphabet=st.one_of(
        st.sampled_from("@:/%?#&=' \"\\+;,[]<>!$*()~\t\n"),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    ),
    min_size=1,
    max_size=32,
)
HYPOTHESIS = settings(max_examples=300, deadline=None, database=None)
HOST, PORT, DB = "db.example.com", 5432, "erp"


def enc(password: str) -> str:
    return quote(password, safe="")


def libpq_quoted(password: str) -> str:
    return "'" + password.replace("\\", "\\\\").replace("'", "\\'") + "'"


def libpq_unquoted(password: str) -> str:
    escaped = "".join("\\" + char if char.isspace() or char == "\\" else char for char in password)
    return "\\" + escaped if escaped.startswith("'") else escaped


def forms(password: str) -> list[tuple[str, str]]:
    """(DSN or URL holding the password, what its redaction must be): every form the platform meets."""
    return [
        (f"postgresql://importau:{enc(password)}@{HOST}:{PORT}/{DB}", f"postgresql://importau:***@{HOST}:{PORT}/{DB}"),
        (f"postgresql://importau:{password}@{HOST}:{PORT}/{DB}", f"postgresql://importau:***@{HOST}:{PORT}/{DB}"),
        (
            f"postgres://importau:{enc(password)}@{HOST}:{PORT},replica.example.com:5433/{DB}?sslmode=require",
            f"postgres://importau:***@{HOST}:{PORT},replica.example.com:5433/{DB}?sslmode=require",
        ),
        (
            f"postgresql://{HOST}:{PORT}/{DB}?user=importau&password={enc(password)}&sslmode=require",
            f"postgresql://{HOST}:{PORT}/{DB}?user=importau&password=***&sslmode=require",
        ),
        (
            f"host={HOST} port={PORT} dbname={DB} user=importau password={libpq_quoted(password)} connect_timeout=5",
            f"host={HOST} port={PORT} dbname={DB} user=importau password=*** connect_timeout=5",
        ),
        (
            f"host={HOST} port={PORT} dbname={DB} user=importau password={libpq_unquoted(password)}",
            f"host={HOST} port={PORT} dbname={DB} user=importau password=***",
        ),
        (f"amqp://importau:{enc(password)}@mq.example.com:5672/%2F", "amqp://importau:***@mq.example.com:5672/%2F"),
        (f"amqp://importau:{password}@mq.example.com:5672/%2F", "amqp://importau:***@mq.example.com:5672/%2F"),
        (
            f"https://AKIAEXAMPLE:{enc(password)}@s3.example.com:8333/lake/erp/part-000.parquet"
            f"?partNumber=1&X-Amz-Signature={enc(password)}&X-Amz-Security-Token={enc(password)}",
            "https://AKIAEXAMPLE:***@s3.example.com:8333/lake/erp/part-000.parquet"
            "?partNumber=1&X-Amz-Signature=***&X-Amz-Security-Token=***",
        ),
        (f"s3://{enc(password)}@lake/erp/x.parquet", "s3://***@lake/erp/x.parquet"),
        (f"http://default:{enc(password)}@127.0.0.1:8123", "http://default:***@127.0.0.1:8123"),
        (f"https://mlflow.example.com/api?token={enc(password)}", "https://mlflow.example.com/api?token=***"),
    ]


def assert_hidden(password: str, printed: str, expected: str) -> None:
    assert printed == expected
    for spelling in {password, enc(password)}:
        if spelling not in expected:  # a password like "erp" is also the database's name: not a leak
            assert spelling not in printed


@HYPOTHESIS
@given(PASSWORDS)
@example("pa@8899")  # the probe's: a URL printed as host=8899@127.0.0.1
@example("p@ss:w/rd%20 x")
@example("a'b\\c")
@example("@")
@example("%")
def test_every_dsn_and_url_form_hides_any_password(password):
    assume("**" not in password)  # a password of asterisks cannot be told from the mask
    for dsn, expected in forms(password):
        assert_hidden(password, redact_url(dsn), expected)


@HYPOTHESIS
@given(PASSWORDS)
@example("pa@8899")
def test_the_generated_dsns_are_real_ones(password):
    """The forms above are what libpq itself reads as this password (so the property is about real DSNs)."""
    assert conninfo_to_dict(f"postgresql://importau:{enc(password)}@{HOST}:{PORT}/{DB}")["password"] == password
    assert conninfo_to_dict(f"host={HOST} password={libpq_quoted(password)}")["password"] == password
    assert conninfo_to_dict(f"host={HOST} password={libpq_unquoted(password)}")["password"] == password


@HYPOTHESIS
@given(PASSWORDS)
@example("pa@8899")
@example("p@ss:w/rd")
def test_the_erp_postgres_dsn_is_printed_without_the_password(password):
    assume("**" not in password)
    for dsn, expected in forms(password)[:6]:
        assert_hidden(password, safe_dsn(dsn), expected)


@HYPOTHESIS
@given(PASSWORDS)
@example("pa@8899")
def test_free_text_naming_a_dsn_hides_the_password(password):
    """Errors and log lines: the DSN inside a sentence, with nothing known about the password."""
    assume("**" not in password)
    for dsn, expected in forms(password):
        if f":{password}@" in dsn and re.search(r"[\s\"'<>]", password):
            continue  # a raw space ends a URL in free text: callers pass the secret itself (next test)
        assert_hidden(
            password, redact_text(f"cannot connect to {dsn} (refused)"), f"cannot connect to {expected} (refused)"
        )


@HYPOTHESIS
@given(PASSWORDS)
@example("pa ss@8899")
def test_free_text_with_the_known_secret_hides_it_in_every_spelling(password):
    assume("**" not in password and len(password) >= MIN_SECRET_LENGTH)
    for dsn, _ in forms(password):
        for spelling in (password, enc(password), repr(password), quote(password)):
            printed = redact_text(f"driver said: {dsn} / {spelling} failed", secrets_of(dsn))
            assert password not in printed and enc(password) not in printed


@HYPOTHESIS
@given(PASSWORDS)
def test_webhook_and_mlflow_urls_show_no_secret(password):
    assume("**" not in password)
    hook = f"https://bot:{enc(password)}@hooks.example.com:8443/services/{enc(password)}?token={enc(password)}"
    assert url_origin(hook) == "https://hooks.example.com:8443/…"
    tracking = TrackingConfig(f"https://user:{password}@mlflow.example.com/?token={enc(password)}")
    assert_hidden(password, str(tracking), "https://user:***@mlflow.example.com/?token=***")


def test_libpq_messages_about_a_split_url_name_no_password_piece():
    """libpq splits a URL at its first `@`: the driver's own words then name `8899@127.0.0.1` as the host."""
    said = 'could not translate host name "8899@127.0.0.1" to address; host=8899@127.0.0.1'
    printed = redact_text(said, secrets_of("postgresql://importau:pa@8899@127.0.0.1:5432/erp"))
    assert "8899" not in printed and "127.0.0.1" in printed


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_erp_url_with_a_raw_at_in_its_password_is_refused_naming_the_fix_not_the_password():
    port = _closed_port()
    dsn = f"postgresql://importau:pa@8899@127.0.0.1:{port}/erp"
    assert url_userinfo_problem(dsn) and url_userinfo_problem(dsn.replace("pa@8899", "pa%408899")) is None
    with pytest.raises(ErpDatabaseError) as error:
        connect(dsn, connect_timeout=3)
    message = str(error.value)
    assert f"postgresql://importau:***@127.0.0.1:{port}/erp" in message and "%40" in message
    assert "8899" not in message and "pa@" not in message


@pytest.mark.parametrize("password", ["pa@8899 x'y\\z", "s3cret/with:colon%"])
def test_a_refused_erp_connection_names_the_database_never_the_password(password):
    port = _closed_port()
    for dsn in (
        f"host=127.0.0.1 port={port} dbname=erp user=importau password={libpq_quoted(password)}",
        f"postgresql://importau:{enc(password)}@127.0.0.1:{port}/erp",
    ):
        with pytest.raises(ErpDatabaseError) as error:
            connect(dsn, connect_timeout=3)
        message = str(error.value)
        assert "127.0.0.1" in message and str(port) in message and MASK in message
        for piece in (password, enc(password), "8899", "s3cret"):
            assert piece not in message


def test_a_refused_rabbitmq_connection_names_the_broker_never_the_password():
    from ingestion.erp.events import EventConsumer

    port, password = _closed_port(), "mq@pa:ss/8899"
    with pytest.raises(ConnectionError) as error:
        EventConsumer(f"amqp://importau:{enc(password)}@127.0.0.1:{port}/%2F")
    message = str(error.value)
    assert f"amqp://importau:***@127.0.0.1:{port}/%2F" in message
    assert password not in message and enc(password) not in message and "8899" not in message


def test_an_unreachable_airbyte_names_its_server_never_the_credentials():
    from ingestion.open_finance.airbyte import AirbyteError, AirbyteSync

    port, password = _closed_port(), "ab@cd:ef/gh"
    sync = AirbyteSync(
        f"http://importau:{enc(password)}@127.0.0.1:{port}/v1",
        "9f3c1a52-6f2b-4d3e-9a1c-0b6f7e2d4c11",
        bearer_token="bearer-s3cret-token",
        request_timeout=2,
        retry_max_elapsed=0.5,
        retry_initial=0.1,
    )
    with pytest.raises(AirbyteError) as error:
        sync.run_sync()
    for printed in (str(error.value), repr(sync)):
        assert f"http://importau:***@127.0.0.1:{port}/v1" in printed
        assert enc(password) not in printed and password not in printed and "bearer-s3cret-token" not in printed


def test_the_soak_refuses_a_postgres_url_whose_password_libpq_would_split():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration.cli",
            "soak",
            "--days",
            "1",
            "--postgres-dsn",
            "postgresql://importau:pa@8899@127.0.0.1:1/dagster",
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "postgresql://importau:***@127.0.0.1:1/dagster" in done.stderr and "%40" in done.stderr
    assert "8899" not in done.stderr + done.stdout


def test_what_is_not_a_secret_stays_readable():
    said = "step bcb_pull failed: partition_key=2024-03 run_key=abc sort_key=id; HTTP 500 from http://127.0.0.1:8080/x"
    assert redact_text(said) == said
    assert (
        redact_url("postgresql://127.0.0.1:5432/erp?sslmode=require")
        == "postgresql://127.0.0.1:5432/erp?sslmode=require"
    )
    assert redact_url("host=127.0.0.1 port=5432 dbname=erp") == "host=127.0.0.1 port=5432 dbname=erp"
