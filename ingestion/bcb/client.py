"""`BcbClient`: fetches SGS series, PTAX quotes, closing files and Focus expectations into Arrow tables.

Each fetch returns `ExtractResult(table, quarantine)`. Transient failures are retried (common/retry.py);
what stays broken ends in `SourceHTTPError` (HTTP) or `SourcePayloadError` (a body nothing could be read
from, quarantined as one record). Bad rows are quarantined one by one and the rest lands.
"""

from collections.abc import Callable, Collection
from datetime import date

import httpx

from ingestion.bcb import closing, focus, ptax, schemas, sgs
from ingestion.bcb.olinda import error_message, parse_envelope
from ingestion.bcb.result import ExtractResult
from ingestion.bcb.series import DEFAULT_CLOSING_FILE_CURRENCIES, OLINDA_PTAX_CURRENCIES, is_daily_series
from ingestion.bcb.values import SOURCE, UnparseableBody, body_record, load_json
from ingestion.common.quarantine import SourcePayloadError
from ingestion.common.retry import (
    RetryableBodyError,
    RetryCounter,
    RetrySettings,
    SourceHTTPError,
    body_excerpt,
    get_with_retry,
)

PTAX_WINDOW_YEARS = 1  # Olinda has no documented range limit; one year per request keeps answers small
MAX_FOCUS_PAGES = 10_000


class SgsWindowError(SourceHTTPError):
    """SGS refused the window: daily series accept at most 10 years per request, and need `dataInicial`."""


def _json_check(response: httpx.Response) -> None:
    if response.status_code == 200:
        try:
            load_json(response.text)
        except UnparseableBody as error:
            raise RetryableBodyError(str(error), response.text) from None


def _closing_check(response: httpx.Response) -> None:
    if response.status_code == 200:
        text = closing.decode(response.content)
        try:
            closing.check_body(text)
        except UnparseableBody as error:
            raise RetryableBodyError(str(error), text) from None


def _olinda_detail(response: httpx.Response) -> str:
    return error_message(response.text) or body_excerpt(response)


class BcbClient:
    """Client for the three BCB hosts; base URLs point at the live APIs or at the local replay server.

    `retries` counts every retry of its calls (pass one counter to follow several clients); each is also logged at
    WARNING (ingestion.common.retry).
    """

    sgs_window_years = sgs.WINDOW_YEARS  # the API's limit for daily series; tests raise it to provoke the 406

    def __init__(
        self,
        sgs_base_url: str,
        olinda_base_url: str,
        closing_base_url: str,
        timeout: float = 30.0,
        max_attempts: int = 5,
        wait_initial: float = 1.0,
        wait_max: float = 30.0,
        retries: RetryCounter | None = None,
    ):
        self.sgs_base_url = sgs_base_url.rstrip("/")
        self.olinda_base_url = olinda_base_url.rstrip("/")
        self.closing_base_url = closing_base_url.rstrip("/")
        self.retry = RetrySettings(max_attempts=max_attempts, wait_initial=wait_initial, wait_max=wait_max)
        self.retries = retries if retries is not None else RetryCounter()
        self._http = httpx.Client(timeout=timeout, headers={"User-Agent": "importau-ingestion/0.1"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "BcbClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- SGS -------------------------------------------------------------------------------------------------

    def fetch_sgs(self, series_code: int, start: date, end: date) -> ExtractResult:
        """Observations of one SGS series dated start..end (inclusive); daily series in <=10-year windows."""
        daily = is_daily_series(series_code)
        windows = sgs.split_windows(start, end, self.sgs_window_years) if daily else [(start, end)]
        return ExtractResult.combine(
            (self._fetch_sgs_window(series_code, first, last) for first, last in windows),
            schemas.SGS_OBSERVATIONS,
        )

    def _fetch_sgs_window(self, series_code: int, start: date, end: date) -> ExtractResult:
        request = sgs.describe(series_code, start, end)
        key = f"sgs series={series_code} window={start.isoformat()}..{end.isoformat()}"
        url = sgs.sgs_url(self.sgs_base_url, series_code, start, end)
        response = self._get(url, request, sgs.ENTITY, key, (200, 400, 404, 406), _json_check)
        body = response.text
        if response.status_code == 200:
            return self._parse_or_fail(sgs.ENTITY, key, body, lambda: sgs.parse_sgs_json(body, series_code, start, end))
        if response.status_code == 404 and sgs.is_not_found(body):
            return ExtractResult(schemas.SGS_OBSERVATIONS.empty_table())
        detail = sgs.error_detail(body) or body_excerpt(response)
        if sgs.is_window_error(body):
            hint = "SGS accepts at most 10 years per request for daily series (and needs dataInicial)"
            raise SgsWindowError(SOURCE, request, response.status_code, f"{hint}; the API said: {detail}")
        raise SourceHTTPError(SOURCE, request, response.status_code, detail)

    # -- PTAX ------------------------------------------------------------------------------------------------

    def fetch_ptax(self, currency: str, start: date, end: date) -> ExtractResult:
        """Every PTAX bulletin of `currency` quoted start..end (CotacaoMoedaPeriodo); closing by type."""
        code = self._ptax_currency(currency)
        parts = []
        for first, last in sgs.split_windows(start, end, years=PTAX_WINDOW_YEARS):
            url = ptax.period_url(self.olinda_base_url, code, first, last)
            parts.append(self._fetch_ptax(url, code, first, last))
        return ExtractResult.combine(parts, schemas.PTAX_QUOTES)

    def fetch_ptax_day(self, currency: str, day: date) -> ExtractResult:
        """Every bulletin of one day (CotacaoMoedaDia; its closing bulletin is labelled 'Fechamento PTAX')."""
        code = self._ptax_currency(currency)
        return self._fetch_ptax(ptax.day_url(self.olinda_base_url, code, day), code, day, day)

    def _fetch_ptax(self, url: str, currency: str, start: date, end: date) -> ExtractResult:
        key = f"ptax currency={currency} window={start.isoformat()}..{end.isoformat()}"
        response = self._get(
            url,
            ptax.describe(currency, start, end),
            ptax.ENTITY,
            key,
            (200,),
            _json_check,
            error_detail=_olinda_detail,
        )
        body = response.text
        return self._parse_or_fail(ptax.ENTITY, key, body, lambda: ptax.parse_ptax(body, currency, start, end))

    @staticmethod
    def _ptax_currency(currency: str) -> str:
        code = currency.strip().upper()
        if code not in OLINDA_PTAX_CURRENCIES:
            served = ", ".join(OLINDA_PTAX_CURRENCIES)
            raise ValueError(
                f"Olinda PTAX does not serve {currency!r} (it serves {served}); "
                "CNY and other currencies come from the closing file"
            )
        return code

    # -- closing file ----------------------------------------------------------------------------------------

    def fetch_closing_file(
        self, day: date, currencies: Collection[str] | None = DEFAULT_CLOSING_FILE_CURRENCIES
    ) -> ExtractResult:
        """The closing rates of `day` for the given symbols (None = every currency); HTTP 404 = no quotes."""
        key = f"closing file={day:%Y%m%d}"
        url = closing.closing_url(self.closing_base_url, day)
        response = self._get(url, closing.describe(day), closing.ENTITY, key, (200, 404), _closing_check)
        if response.status_code == 404:
            return ExtractResult(schemas.CLOSING_RATES.empty_table())
        text = closing.decode(response.content)
        return self._parse_or_fail(closing.ENTITY, key, text, lambda: closing.parse_closing_file(text, day, currencies))

    # -- Focus -----------------------------------------------------------------------------------------------

    def fetch_focus(
        self, entity_set: str, indicator: str, start: date, end: date, page_size: int = focus.PAGE_SIZE
    ) -> ExtractResult:
        """Expectations computed start..end for one indicator of one entity set, every page."""
        spec = focus.focus_set(entity_set)
        request = focus.describe(entity_set, indicator, start, end)
        rows: list = []
        for page in range(MAX_FOCUS_PAGES):
            skip = page * page_size
            key = f"focus {entity_set} indicator={indicator} window={start}..{end} skip={skip}"
            url = focus.page_url(self.olinda_base_url, spec, indicator, start, end, skip, page_size)
            response = self._get(
                url,
                f"{request} page skip={skip}",
                focus.ENTITY,
                key,
                (200,),
                _json_check,
                error_detail=_olinda_detail,
            )
            body = response.text
            page_rows = self._parse_or_fail(focus.ENTITY, key, body, lambda body=body: parse_envelope(body))
            rows.extend(page_rows)
            if len(page_rows) < page_size:
                return focus.parse_focus_rows(rows, spec, indicator, start, end)
        raise SourceHTTPError(SOURCE, request, 200, f"still full pages after {MAX_FOCUS_PAGES} pages; giving up")

    # -- plumbing --------------------------------------------------------------------------------------------

    def _get(
        self,
        url: str,
        request: str,
        entity: str,
        record_key: str,
        expected: tuple[int, ...],
        check: Callable[[httpx.Response], None],
        error_detail: Callable[[httpx.Response], str] = body_excerpt,
    ) -> httpx.Response:
        try:
            return get_with_retry(
                self._http,
                url,
                source=SOURCE,
                request=request,
                settings=self.retry,
                expected_statuses=expected,
                check=check,
                error_detail=error_detail,
                retries=self.retries,
            )
        except RetryableBodyError as error:
            reason = f"{error.reason} (still so after {error.attempts} attempts)"
            record = body_record(entity, record_key, reason, error.body)
            raise SourcePayloadError(f"{SOURCE}: {request}: {reason}; body quarantined", [record]) from None

    @staticmethod
    def _parse_or_fail(entity: str, record_key: str, body: str, parse: Callable):
        try:
            return parse()
        except UnparseableBody as error:
            record = body_record(entity, record_key, str(error), body)
            raise SourcePayloadError(f"{SOURCE}: {record_key}: {error}; body quarantined", [record]) from None
