"""`ml.<model>__scores` on the session chDB: one row per scored entity, the model version on every row."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ml_assets.common.scores import ScoresSchemaError, ScoresTable, write_scores

TABLE = ScoresTable(
    model_name="test_toy",
    columns=(
        ("as_of_date", "Date"),
        ("entity", "LowCardinality(String)"),
        ("value", "Decimal(38, 8)"),
    ),
    order_by=("entity", "as_of_date"),
    replace_by=("as_of_date",),
)


def _rows(day: date, scale: int) -> list[dict]:
    return [{"as_of_date": day, "entity": name, "value": Decimal(scale * (i + 1))} for i, name in enumerate("abc")]


def _table(warehouse, name: str) -> list[tuple]:
    return warehouse.query_rows(
        f"SELECT as_of_date, entity, value, model_name, model_version FROM ml.{name} ORDER BY as_of_date, entity"
    )


def test_scores_replace_their_slice_and_name_the_version(warehouse):
    warehouse.command("DROP TABLE IF EXISTS ml.test_toy__scores")
    day1, day2 = date(2024, 12, 30), date(2024, 12, 31)
    scored_at = datetime(2025, 1, 2, 12, 0, tzinfo=UTC)
    assert write_scores(warehouse.client, TABLE, _rows(day1, 1), "1", scored_at) == 3
    assert write_scores(warehouse.client, TABLE, _rows(day1, 10), "2", scored_at) == 3  # same day: replaced
    assert write_scores(warehouse.client, TABLE, _rows(day2, 100), "2", scored_at) == 3
    rows = _table(warehouse, "test_toy__scores")
    assert rows == [
        (day1, "a", Decimal(10), "test_toy", "2"),
        (day1, "b", Decimal(20), "test_toy", "2"),
        (day1, "c", Decimal(30), "test_toy", "2"),
        (day2, "a", Decimal(100), "test_toy", "2"),
        (day2, "b", Decimal(200), "test_toy", "2"),
        (day2, "c", Decimal(300), "test_toy", "2"),
    ]
    (stamp,) = warehouse.query_rows("SELECT DISTINCT scored_at FROM ml.test_toy__scores")[0]
    assert stamp.replace(tzinfo=UTC) == scored_at


def test_scores_without_replace_key_keep_only_the_latest_batch(warehouse):
    latest_only = ScoresTable("test_latest", TABLE.columns, TABLE.order_by)
    warehouse.command("DROP TABLE IF EXISTS ml.test_latest__scores")
    write_scores(warehouse.client, latest_only, _rows(date(2024, 12, 30), 1), "1")
    write_scores(warehouse.client, latest_only, _rows(date(2024, 12, 31), 1)[:2], "3")
    assert [row[1:] for row in _table(warehouse, "test_latest__scores")] == [
        ("a", Decimal(1), "test_latest", "3"),
        ("b", Decimal(2), "test_latest", "3"),
    ]


def test_scores_table_with_other_columns_is_refused(warehouse):
    warehouse.command("DROP TABLE IF EXISTS ml.test_drift__scores")
    warehouse.command("CREATE TABLE ml.test_drift__scores (entity String) ENGINE = MergeTree ORDER BY entity")
    drifted = ScoresTable("test_drift", TABLE.columns, TABLE.order_by, TABLE.replace_by)
    with pytest.raises(ScoresSchemaError, match="ml.test_drift__scores has columns"):
        write_scores(warehouse.client, drifted, _rows(date(2024, 12, 30), 1), "1")
    with pytest.raises(ValueError, match="lacks"):
        write_scores(warehouse.client, TABLE, [{"entity": "a"}], "1")


def test_a_table_from_before_model_kind_gets_the_column_and_its_rows_stay_model(warehouse):
    warehouse.command("DROP TABLE IF EXISTS ml.test_kindless__scores")
    warehouse.command(
        "CREATE TABLE ml.test_kindless__scores (as_of_date Date, entity LowCardinality(String), value Decimal(38, 8), "
        "model_name LowCardinality(String), model_version LowCardinality(String), scored_at DateTime64(3, 'UTC')) "
        "ENGINE = MergeTree ORDER BY (entity, as_of_date)"
    )
    warehouse.command(
        "INSERT INTO ml.test_kindless__scores "
        "VALUES ('2024-12-30', 'a', 1, 'test_kindless', '1', '2025-01-01 00:00:00')"
    )
    table = ScoresTable("test_kindless", TABLE.columns, TABLE.order_by, TABLE.replace_by)
    write_scores(warehouse.client, table, _rows(date(2024, 12, 31), 1)[:1], "2", model_kind="baseline")
    columns = warehouse.query_rows(
        "SELECT name, type FROM system.columns WHERE database = 'ml' AND table = 'test_kindless__scores' "
        "ORDER BY position"
    )
    assert [tuple(column) for column in columns] == table.all_columns
    assert warehouse.query_rows(
        "SELECT as_of_date, model_version, model_kind FROM ml.test_kindless__scores ORDER BY as_of_date"
    ) == [(date(2024, 12, 30), "1", "model"), (date(2024, 12, 31), "2", "baseline")]
    with pytest.raises(ValueError, match="model_kind must be one of"):
        write_scores(warehouse.client, table, [], "3", model_kind="naive")
