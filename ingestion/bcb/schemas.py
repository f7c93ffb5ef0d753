"""Arrow schemas of the four BCB lake datasets: the single definition (docs/architecture.md).

Rates and values are `decimal128(38, 15)`, never float. Columns marked `?` in the contract are nullable; all
others are required. `quote_date` / `reference_date` / `computed_on` decide the partition `dt`.
"""

import pyarrow as pa

DECIMAL = pa.decimal128(38, 15)
DECIMAL_SCALE = 15
DECIMAL_PRECISION = 38


def _required(name: str, type_: pa.DataType) -> pa.Field:
    return pa.field(name, type_, nullable=False)


def _optional(name: str, type_: pa.DataType) -> pa.Field:
    return pa.field(name, type_, nullable=True)


SGS_OBSERVATIONS = pa.schema(
    [
        _required("series_code", pa.int32()),
        _required("reference_date", pa.date32()),
        _required("value", DECIMAL),
    ]
)

PTAX_QUOTES = pa.schema(
    [
        _required("currency", pa.string()),
        _required("quote_date", pa.date32()),
        _required("quoted_at", pa.timestamp("ms", tz="UTC")),
        _required("bulletin_type", pa.string()),
        _required("is_closing", pa.bool_()),
        _required("buy", DECIMAL),
        _required("sell", DECIMAL),
        _required("parity_buy", DECIMAL),
        _required("parity_sell", DECIMAL),
    ]
)

CLOSING_RATES = pa.schema(
    [
        _required("quote_date", pa.date32()),
        _required("bcb_currency_code", pa.string()),
        _required("currency_type", pa.string()),
        _required("currency", pa.string()),
        _required("buy", DECIMAL),
        _required("sell", DECIMAL),
        _required("parity_buy", DECIMAL),
        _required("parity_sell", DECIMAL),
    ]
)

FOCUS_EXPECTATIONS = pa.schema(
    [
        _required("entity_set", pa.string()),
        _required("indicator", pa.string()),
        _optional("indicator_detail", pa.string()),
        _required("computed_on", pa.date32()),
        _required("reference_period", pa.string()),
        _optional("calc_basis", pa.int32()),
        _optional("calc_type", pa.string()),
        _optional("smoothed", pa.string()),
        _optional("mean", DECIMAL),
        _optional("median", DECIMAL),
        _optional("std_dev", DECIMAL),
        _optional("minimum", DECIMAL),
        _optional("maximum", DECIMAL),
        _optional("respondents", pa.int32()),
    ]
)

# Dataset name (`bcb__<entity>`) -> schema.
DATASETS: dict[str, pa.Schema] = {
    "bcb__sgs_observations": SGS_OBSERVATIONS,
    "bcb__ptax_quotes": PTAX_QUOTES,
    "bcb__closing_rates": CLOSING_RATES,
    "bcb__focus_expectations": FOCUS_EXPECTATIONS,
}


def empty_table(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()


def rows_to_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Build a table from row dicts already holding Python values of the right kind (Decimal, date, ...)."""
    if not rows:
        return schema.empty_table()
    return pa.Table.from_pylist(rows, schema=schema)
