"""The FX operations' detail and events fetched by a bounded pool per institution, against a sandbox listing
many operations: the same bytes whatever the pool size, calls really in flight together, a failure that stops
the fan-out and names the operation, and the budget still exact."""

import io
import logging
import re
from dataclasses import replace
from datetime import datetime, time, timedelta
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from ingestion.open_finance.auth import TokenStore
from ingestion.open_finance.budget import CallBudget
from ingestion.open_finance.config import ConfigError, institution_from_mapping
from ingestion.open_finance.errors import OpenFinanceHTTPError
from ingestion.open_finance.extract import fan_out, pull_institution
from ingestion.open_finance.parse import SAO_PAULO
from sandboxes.open_finance_bank import SandboxBank
from sandboxes.open_finance_bank import records as r
from sandboxes.open_finance_bank.data import FxOperation
from sandboxes.open_finance_bank.demo import BANK, BANK_CNPJ, demo_bank_data
from tests.ingestion.open_finance.conftest import DAY, FAST

OPERATIONS = 24
DETAIL = "exchanges/v1/operations/{operationId}"
EVENTS = "exchanges/v1/operations/{operationId}/events"


def many_fx_operations(count: int) -> list[FxOperation]:
    operations = []
    for index in range(count):
        values = r.fx_values(Decimal("5.2712") + Decimal(index) / 100, Decimal(1000 + 37 * index), "USD")
        contracted = datetime.combine(DAY - timedelta(days=index % 9), time(10 + index % 6), tzinfo=SAO_PAULO)
        events = tuple(
            r.fx_event(f"{index:06d}{sequence:06d}", kind, contracted + timedelta(hours=sequence), values)
            for sequence, kind in enumerate(("1", "4")[: 1 + index % 2], start=1)
        )
        detail = r.fx_detail(BANK_CNPJ, BANK, "VENDA", contracted, DAY + timedelta(days=index), values, "90302")
        operations.append(FxOperation(f"FXOP-{index:06d}", detail, events, shown_from=contracted.date()))
    return operations


@pytest.fixture(scope="module")
def fx_bank():
    data = demo_bank_data(DAY)
    data.fx_operations = many_fx_operations(OPERATIONS)
    with SandboxBank(data=data, today=DAY) as bank:
        yield bank


@pytest.fixture
def fresh(fx_bank):
    fx_bank.clear_faults()
    fx_bank.reset_requests()
    yield fx_bank
    fx_bank.clear_faults()


def _pull(bank, budget: CallBudget | None = None, **overrides):
    consent_id, code = bank.create_authorised_consent()
    return pull_institution(
        bank.institution(consent_id, **overrides),
        DAY,
        token_store=TokenStore(None),
        budget=budget or CallBudget(None),
        settings=FAST,
        today=DAY,
        grant={"authorization_code": code},
    )


def _parquet(table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_the_tables_are_the_same_bytes_whatever_the_pool_size(fresh):
    sequential = _pull(fresh, max_parallel_calls=1)
    assert sequential.tables["fx_operations"].num_rows == OPERATIONS
    assert sequential.tables["fx_operation_events"].num_rows == OPERATIONS + OPERATIONS // 2
    for workers in (4, 7):
        parallel = _pull(fresh, max_parallel_calls=workers)
        for entity, table in sequential.tables.items():
            assert _parquet(parallel.tables[entity]) == _parquet(table), (entity, workers)
        assert parallel.calls == sequential.calls


def test_the_calls_of_several_operations_are_in_flight_together(fresh, caplog):
    """The first operation's detail answers late: the other operations are fetched meanwhile, by 4 threads."""
    fresh.inject("slow", count=1, match="/operations/FXOP-000000", seconds=1.5)
    with caplog.at_level(logging.INFO, logger="ingestion.open_finance.transport"):
        extract = _pull(fresh)  # the default pool: 4
    assert extract.tables["fx_operations"].column("operation_id").to_pylist()[0] == "FXOP-000000"
    fx_paths = [q["path"] for q in fresh.requests if "/operations/FXOP-" in q["path"]]
    first_events = fx_paths.index("/open-banking/exchanges/v1/operations/FXOP-000000/events")
    # sequentially the first operation's events would come right after its detail; here the other three
    # workers went through many operations while the first one waited
    assert first_events > 3, fx_paths[: first_events + 1]
    threads = {
        record.threadName
        for record in caplog.records
        if re.search(r"GET exchanges/v1/operations/\{", record.getMessage())
    }
    assert len(threads) == 4 and all(name.startswith("open-finance-sandbox") for name in threads), threads


def test_a_failing_operation_stops_the_fan_out_and_is_named(fresh, tmp_path):
    """Operation 0 fails while the other three workers wait on slow answers: nothing after them is asked for."""
    budget = CallBudget(tmp_path / "budget.json")
    fresh.inject("500", count=10, match="/operations/FXOP-000000")
    for index in (1, 2, 3):
        fresh.inject("slow", count=1, match=f"/operations/FXOP-00000{index}", seconds=2)
    with pytest.raises(OpenFinanceHTTPError, match=r"FX operation FXOP-000000 failed after 3 attempts: HTTP 500"):
        _pull(fresh, budget=budget)
    fx_calls = [q["path"] for q in fresh.requests if "/operations/FXOP-" in q["path"]]
    assert fx_calls.count("/open-banking/exchanges/v1/operations/FXOP-000000") == 3
    assert {path.split("/")[5] for path in fx_calls} <= {f"FXOP-00000{index}" for index in range(4)}, fx_calls
    counted = budget.usage()["sandbox"]
    assert counted[DETAIL] + counted.get(EVENTS, 0) == len(fx_calls)  # exact: the unused reservations came back


def test_fan_out_keeps_the_order_and_raises_the_first_failure_in_that_order():
    def work(n):
        if n in (3, 6):
            raise ValueError(f"item {n}")
        return n * n

    assert fan_out("bank", lambda n: n * n, list(range(20)), 4, 5.0, str) == [n * n for n in range(20)]
    with pytest.raises(ValueError, match="item 3"):
        fan_out("bank", work, list(range(20)), 4, 5.0, str)
    assert fan_out("bank", work, [], 4, 5.0, str) == []


def test_the_pool_size_comes_from_the_institution_config():
    entry = {
        "name": "banco_a",
        "api_base_url": "https://api.banco-a.com.br",
        "token_url": "https://auth.banco-a.com.br/token",
        "client_id": "client-a",
        "consent_id": "urn:bancoa:C1",
    }
    env = {"OPEN_FINANCE_CERT_PATH": "c", "OPEN_FINANCE_KEY_PATH": "k"}
    assert institution_from_mapping(entry, env).max_parallel_calls == 4  # the documented default
    assert institution_from_mapping({**entry, "max_parallel_calls": 2}, env).max_parallel_calls == 2
    for wrong in (0, 33):
        with pytest.raises(ConfigError, match="max_parallel_calls must be between 1 and 32"):
            institution_from_mapping({**entry, "max_parallel_calls": wrong}, env)
    assert replace(institution_from_mapping(entry, env), max_parallel_calls=1).max_parallel_calls == 1
