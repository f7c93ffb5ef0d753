"""Answer one GET like the live BCB hosts would, from the recordings: path -> `Reply`.

/dados/serie/bcdata.sgs.{code}/dados?formato=json|csv&dataInicial=dd/MM/yyyy&dataFinal=dd/MM/yyyy
/dados/serie/bcdata.sgs.{code}/dados/ultimos/{N}?formato=json
/olinda/servico/PTAX/versao/v1/odata/{Moedas | CotacaoMoedaPeriodo(...) | CotacaoMoedaDia(...)}?...
/olinda/servico/Expectativas/versao/v1/odata/{EntitySet}?$filter=...&$orderby=...&$top=...&$skip=...
/Download/fechamento/YYYYMMDD.csv
"""

import re
from datetime import date, datetime
from urllib.parse import parse_qsl, unquote

from ingestion.bcb.focus import FOCUS_SETS
from ingestion.bcb.series import OLINDA_PTAX_CURRENCIES, is_daily_series
from sandboxes.bcb_replay import layout, render
from sandboxes.bcb_replay.odata import ODataError, apply_options, parse_call
from sandboxes.bcb_replay.render import Reply
from sandboxes.bcb_replay.store import ReplayStore

SGS_PATH = re.compile(r"^/dados/serie/bcdata\.sgs\.(?P<code>\d+)/dados(?:/ultimos/(?P<last>\d+))?/?$")
OLINDA_PATH = re.compile(r"^/olinda/servico/(?P<service>PTAX|Expectativas)/versao/v1/odata/(?P<resource>.+)$")
CLOSING_PATH = re.compile(r"^/Download/fechamento/(?P<day>\d{8})\.csv$")
PTAX_FIELDS = [
    "paridadeCompra",
    "paridadeVenda",
    "cotacaoCompra",
    "cotacaoVenda",
    "dataHoraCotacao",
    "tipoBoletim",
]
MAX_LAST = 20


def split_target(raw_path: str) -> tuple[str, dict[str, str]]:
    path, _, query = raw_path.partition("?")
    return unquote(path), dict(parse_qsl(query, keep_blank_values=True))


def is_olinda(raw_path: str) -> bool:
    return raw_path.startswith("/olinda/")


def answer(store: ReplayStore, raw_path: str, today: date | None = None, cutoff: date | None = None) -> Reply:
    """`cutoff`: serve nothing dated after that day (a replayed "today": SGS values, PTAX quotes, closing files and
    Focus surveys of later days do not exist yet); None serves every recording."""
    path, query = split_target(raw_path)
    if match := SGS_PATH.match(path):
        return _sgs(store, int(match["code"]), match["last"], query, cutoff or today or date.today(), cutoff)
    if match := OLINDA_PATH.match(path):
        try:
            if match["service"] == "PTAX":
                return _ptax(store, match["resource"], query, cutoff)
            return _focus(store, match["resource"], query, cutoff)
        except ODataError as error:
            return render.olinda_error(400, str(error))
    if match := CLOSING_PATH.match(path):
        return _closing(store, match["day"], cutoff)
    return render.not_found_page()


# -- SGS ---------------------------------------------------------------------------------------------------


def _sgs_date(text: str) -> date:
    return datetime.strptime(text, "%d/%m/%Y").date()


def _sgs(
    store: ReplayStore, code: int, last: str | None, query: dict[str, str], today: date, cutoff: date | None = None
) -> Reply:
    csv_format = query.get("formato", "json").lower() == "csv"
    if last is not None:
        count = int(last)
        if count > MAX_LAST:
            return render.sgs_business_error(400, f"A quantidade máxima de valores deve ser {MAX_LAST}")
        rows = store.sgs_rows(code, date.min, cutoff)[-count:] if cutoff and count else store.sgs_last(code, count)
    else:
        try:
            start = _sgs_date(query["dataInicial"]) if query.get("dataInicial") else None
            end = _sgs_date(query["dataFinal"]) if query.get("dataFinal") else today
        except ValueError:
            return render.sgs_business_error(400, "Data inválida; use o formato dd/MM/aaaa")
        if start is None:
            if is_daily_series(code):
                return render.sgs_window_error()
            start = date.min
        elif is_daily_series(code) and end > _add_years(start, 10):
            return render.sgs_window_error()
        rows = store.sgs_rows(code, start, min(end, cutoff) if cutoff else end)
    if not rows:
        return render.sgs_not_found()
    return render.sgs_csv(rows) if csv_format else render.sgs_json(rows)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# -- Olinda ------------------------------------------------------------------------------------------------


def _olinda_date(value: object) -> date:
    text = str(value).replace("/", "-")
    try:
        return datetime.strptime(text, "%m-%d-%Y").date()
    except ValueError:
        raise ODataError(f"data inválida: {value!r} (use MM-DD-AAAA)") from None


def _check_format(query: dict[str, str]) -> None:
    if query.get("$format", "").lower() not in ("json", "application/json"):
        raise ODataError("the replay server answers $format=json only")


def _ptax(store: ReplayStore, resource: str, query: dict[str, str], cutoff: date | None = None) -> Reply:
    _check_format(query)
    name, arguments = parse_call(resource, query)
    if name == "Moedas":
        return Reply(200, render.OLINDA_JSON, store.moedas)
    if name == "CotacaoMoedaPeriodo":
        start, end = (
            _olinda_date(arguments.get("dataInicial")),
            _olinda_date(arguments.get("dataFinalCotacao")),
        )
        closing_label, context = layout.CLOSING, "_CotacaoMoedaPeriodo"
    elif name == "CotacaoMoedaDia":
        start = end = _olinda_date(arguments.get("dataCotacao"))
        closing_label, context = layout.CLOSING_IN_DAY_RESOURCE, "_CotacaoMoedaDia"
    else:
        return render.olinda_error(404, f"Recurso {name} não encontrado")
    currency = str(arguments.get("moeda", ""))
    if currency not in OLINDA_PTAX_CURRENCIES:
        return render.olinda_error(500, "Erro desconhecido")
    rows = [
        {
            "paridadeCompra": row.parity_buy,
            "paridadeVenda": row.parity_sell,
            "cotacaoCompra": row.buy,
            "cotacaoVenda": row.sell,
            "dataHoraCotacao": row.quoted_at,
            "tipoBoletim": closing_label if row.bulletin == layout.CLOSING else row.bulletin,
        }
        for row in store.ptax_rows(currency, start, min(end, cutoff) if cutoff else end)
    ]
    rows, fields = apply_options(rows, PTAX_FIELDS, query)
    return render.olinda_rows("PTAX", context, rows, fields if "$select" in query else None)


def _focus(store: ReplayStore, entity_set: str, query: dict[str, str], cutoff: date | None = None) -> Reply:
    _check_format(query)
    if entity_set not in FOCUS_SETS and entity_set not in store.focus:
        return render.olinda_error(404, f"Recurso {entity_set} não encontrado")
    fields, rows = store.focus.get(entity_set, (list(FOCUS_SETS[entity_set].columns), []))
    if cutoff:  # a survey is published on its `Data`
        rows = [row for row in rows if str(row.get("Data") or "") <= cutoff.isoformat()]
    rows, fields = apply_options(rows, fields, query)
    return render.olinda_rows("Expectativas", entity_set, rows, fields if "$select" in query else None)


# -- closing file ------------------------------------------------------------------------------------------


def _closing(store: ReplayStore, stamp: str, cutoff: date | None = None) -> Reply:
    try:
        day = datetime.strptime(stamp, "%Y%m%d").date()
    except ValueError:
        return render.not_found_page()
    if cutoff and day > cutoff:
        return render.not_found_page()
    if day in store.closing_files:
        return Reply(200, render.CSV, store.closing_files[day])
    rows = store.closing_rows(day)
    return render.closing_file(day, rows) if rows else render.not_found_page()
