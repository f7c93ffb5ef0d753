"""Focus market expectations from Olinda `Expectativas`: per-entity-set field maps, paged URLs, row parsing.

Field names differ per entity set and are matched case-sensitively: `ExpectativasMercadoTop5Selic` uses
`indicador`, `reuniao`, `media`...; `ExpectativasMercadoSelic` has `Reuniao` instead of `DataReferencia`;
the 12-month inflation sets have no reference period at all (stored as `12M` / `24M`). A row without its
indicator, `Data`, reference period or median is quarantined.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ingestion.bcb import schemas
from ingestion.bcb.olinda import literal_query
from ingestion.bcb.result import ExtractResult
from ingestion.bcb.values import compact, json_number, parse_iso_date, row_record, unknown_fields_record

ENTITY = "focus_expectations"
PAGE_SIZE = 1000

_STATS = {
    "Media": "mean",
    "Mediana": "median",
    "DesvioPadrao": "std_dev",
    "Minimo": "minimum",
    "Maximo": "maximum",
}
_STATS_LOWER = {
    "media": "mean",
    "mediana": "median",
    "desvioPadrao": "std_dev",
    "minimo": "minimum",
    "maximo": "maximum",
}
_SURVEY = {"numeroRespondentes": "respondents", "baseCalculo": "calc_basis"}
_INT_COLUMNS = frozenset({"respondents", "calc_basis"})
_DECIMAL_COLUMNS = frozenset({"mean", "median", "std_dev", "minimum", "maximum"})


@dataclass(frozen=True)
class FocusSet:
    """How one entity set names its fields; `columns` maps source field -> lake column."""

    name: str
    indicator_field: str
    period_field: str | None  # DataReferencia / Reuniao / reuniao; None when the set has a fixed horizon
    columns: dict[str, str]
    order_by: tuple[str, ...]
    fixed_period: str | None = None
    ignored: tuple[str, ...] = field(default=())  # known fields not stored (derivable), not reported as unknown

    @property
    def median_field(self) -> str:
        return next(source for source, column in self.columns.items() if column == "median")

    @property
    def required(self) -> tuple[str, ...]:
        period = (self.period_field,) if self.period_field else ()
        return (self.indicator_field, "Data", *period, self.median_field)


def _annual_like(name: str, detail: bool) -> FocusSet:
    extra = {"IndicadorDetalhe": "indicator_detail"} if detail else {}
    order = (
        ("Data", "IndicadorDetalhe", "DataReferencia", "baseCalculo")
        if detail
        else ("Data", "DataReferencia", "baseCalculo")
    )
    columns = {"Indicador": "indicator", **extra, "Data": "computed_on", "DataReferencia": "reference_period"}
    return FocusSet(name, "Indicador", "DataReferencia", {**columns, **_STATS, **_SURVEY}, order)


def _inflation(name: str, horizon: str) -> FocusSet:
    columns = {"Indicador": "indicator", "Data": "computed_on", "Suavizada": "smoothed", **_STATS, **_SURVEY}
    return FocusSet(name, "Indicador", None, columns, ("Data", "Suavizada", "baseCalculo"), fixed_period=horizon)


def _top5(name: str) -> FocusSet:
    columns = {
        "Indicador": "indicator",
        "IndicadorDetalhe": "indicator_detail",
        "Data": "computed_on",
        "DataReferencia": "reference_period",
        "tipoCalculo": "calc_type",
        **_STATS,
    }
    return FocusSet(name, "Indicador", "DataReferencia", columns, ("Data", "DataReferencia", "tipoCalculo"))


FOCUS_SETS: dict[str, FocusSet] = {
    spec.name: spec
    for spec in (
        _annual_like("ExpectativasMercadoAnuais", detail=True),
        _annual_like("ExpectativaMercadoMensais", detail=False),
        _annual_like("ExpectativasMercadoTrimestrais", detail=False),
        _inflation("ExpectativasMercadoInflacao12Meses", "12M"),
        _inflation("ExpectativasMercadoInflacao24Meses", "24M"),
        FocusSet(
            "ExpectativasMercadoSelic",
            "Indicador",
            "Reuniao",
            {
                "Indicador": "indicator",
                "Data": "computed_on",
                "Reuniao": "reference_period",
                **_STATS,
                **_SURVEY,
            },
            ("Data", "Reuniao", "baseCalculo"),
        ),
        _top5("ExpectativasMercadoTop5Anuais"),
        _top5("ExpectativasMercadoTop5Mensais"),
        _top5("ExpectativaMercadoTop5Trimestral"),
        FocusSet(
            "ExpectativasMercadoTop5Selic",
            "indicador",
            "reuniao",
            {
                "indicador": "indicator",
                "Data": "computed_on",
                "reuniao": "reference_period",
                "tipoCalculo": "calc_type",
                **_STATS_LOWER,
            },
            ("Data", "reuniao", "tipoCalculo"),
            ignored=("coeficienteVariacao",),  # = desvioPadrao / media * 100
        ),
    )
}


def focus_set(name: str) -> FocusSet:
    try:
        return FOCUS_SETS[name]
    except KeyError:
        raise ValueError(f"unknown Focus entity set {name!r}; known: {', '.join(sorted(FOCUS_SETS))}") from None


def _odata_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def page_url(
    olinda_base_url: str,
    spec: FocusSet,
    indicator: str,
    start: date,
    end: date,
    skip: int,
    top: int = PAGE_SIZE,
) -> str:
    """One page: `$filter` on indicator and Data, a stable `$orderby`, `$top`/`$skip`, `$format=json`."""
    condition = (
        f"{spec.indicator_field} eq {_odata_text(indicator)} "
        f"and Data ge '{start.isoformat()}' and Data le '{end.isoformat()}'"
    )
    query = literal_query(
        [
            ("$filter", condition),
            ("$orderby", ",".join(f"{name} asc" for name in spec.order_by)),
            ("$top", str(top)),
            ("$skip", str(skip)),
            ("$format", "json"),
        ]
    )
    return f"{olinda_base_url.rstrip('/')}/Expectativas/versao/v1/odata/{spec.name}?{query}"


def describe(entity_set: str, indicator: str, start: date, end: date) -> str:
    return f"Olinda Focus {entity_set} indicator {indicator} window {start.isoformat()}..{end.isoformat()}"


def parse_focus_rows(rows: list[Any], spec: FocusSet, indicator: str, start: date, end: date) -> ExtractResult:
    """Rows of every page of one request, in order; rows for other indicators or dates are dropped."""
    request_key = f"focus {spec.name} indicator={indicator} window={start.isoformat()}..{end.isoformat()}"
    good: dict[tuple, dict] = {}
    quarantine = []
    extras: dict[str, dict[str, Any]] = {}
    for index, row in enumerate(rows):
        key = f"focus {spec.name} indicator={indicator} row={index}"
        if not isinstance(row, dict):
            quarantine.append(row_record(ENTITY, key, "the row is not an object", row))
            continue
        key = _row_key(spec, row, key)
        missing = [name for name in spec.required if row.get(name) is None]
        if missing:
            quarantine.append(row_record(ENTITY, key, f"required field(s) missing: {', '.join(missing)}", row))
            continue
        try:
            parsed = _parse_row(spec, row)
        except ValueError as error:
            quarantine.append(row_record(ENTITY, key, str(error), row))
            continue
        if parsed["indicator"] != indicator or not start <= parsed["computed_on"] <= end:
            continue
        identity = tuple(parsed[name] for name in _IDENTITY)
        if identity in good:
            quarantine.append(row_record(ENTITY, key, "duplicate row in the response; first kept", row))
            continue
        unknown = {name: value for name, value in row.items() if name not in spec.columns and name not in spec.ignored}
        if unknown:
            extras[key] = unknown
        good[identity] = parsed
    ordered = sorted(good.values(), key=_sort_key)  # the same rows always land in the same order
    table = schemas.rows_to_table(ordered, schemas.FOCUS_EXPECTATIONS)
    return ExtractResult(table, compact([*quarantine, unknown_fields_record(ENTITY, request_key, extras)]))


def _sort_key(row: dict) -> tuple:
    return tuple((row[name] is not None, row[name] if row[name] is not None else 0) for name in _IDENTITY)


_IDENTITY = (
    "indicator",
    "indicator_detail",
    "computed_on",
    "reference_period",
    "calc_basis",
    "calc_type",
    "smoothed",
)


def _row_key(spec: FocusSet, row: dict, fallback: str) -> str:
    parts = [
        f"{name}={row[name]}"
        for name in ("Data", spec.period_field, "baseCalculo", "tipoCalculo", "Suavizada")
        if name and row.get(name) is not None
    ]
    indicator = row.get(spec.indicator_field)
    return f"focus {spec.name} indicator={indicator} " + " ".join(parts) if parts else fallback


def _parse_row(spec: FocusSet, row: dict) -> dict:
    parsed: dict[str, Any] = dict.fromkeys(schemas.FOCUS_EXPECTATIONS.names)
    parsed["entity_set"] = spec.name
    parsed["reference_period"] = spec.fixed_period
    for source, column in spec.columns.items():
        value = row.get(source)
        if value is None:
            continue
        if column == "computed_on":
            parsed[column] = _field(source, parse_iso_date, value)
        elif column in _DECIMAL_COLUMNS:
            parsed[column] = _field(source, json_number, value)
        elif column in _INT_COLUMNS:
            parsed[column] = _field(source, _json_int, value)
        elif isinstance(value, str):
            parsed[column] = value
        else:
            raise ValueError(f"{source} {value!r} is not text")
    return parsed


def _field(name: str, parse, value: Any) -> Any:
    try:
        return parse(value)
    except ValueError as error:
        raise ValueError(f"{name} {error}") from None


def _json_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**31) <= value < 2**31:
        raise ValueError(f"{value!r} is not a 32-bit integer")
    return value
