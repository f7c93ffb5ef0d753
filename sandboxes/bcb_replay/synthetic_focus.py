"""Synthetic Focus expectations for the demo year (2024), anchored on real outcomes. All of it is SYNTHETIC.

No public source gives a year of Focus answers, so the replay generates one survey date per week (the last
business day of each week) for the default pulls. Each statistic converges on the outcome the BCB later
published, which is real where the recordings have it:
- IPCA year 2024: the compounded real SGS 433 months; IPCA month: the real SGS 433 value;
- Selic year: the real SGS 432 target on 31 Dec; Selic per meeting: the real SGS 432 target the day after it;
- Câmbio year: the real SGS 1 rate on the year's last business day; Câmbio month: the month's mean real SGS 1;
- IGP-M year: the compounded synthetic SGS 189 months.
Periods after the recordings end use the last real value (IPCA: a flat 3.5 % a year, 0.30 % a month; 12-month
IPCA: 3.6 %). Median = outcome + a gap shrinking with the horizon (capped at a year) + noise; the other
statistics and the respondent counts are spread around it. Gaps and noise come from hashes, so every build
is identical.
"""

from datetime import date, timedelta
from decimal import Decimal

from sandboxes.bcb_replay.synthetic import q4, signed, text, unit

YEAR = 2024
# Copom decision dates (the public meeting calendar); the SGS 432 target changes the day after a decision.
COPOM_MEETINGS = {
    "R1/2024": date(2024, 1, 31),
    "R2/2024": date(2024, 3, 20),
    "R3/2024": date(2024, 5, 8),
    "R4/2024": date(2024, 6, 19),
    "R5/2024": date(2024, 7, 31),
    "R6/2024": date(2024, 9, 18),
    "R7/2024": date(2024, 11, 6),
    "R8/2024": date(2024, 12, 11),
    "R1/2025": date(2025, 1, 29),
    "R2/2025": date(2025, 3, 19),
    "R3/2025": date(2025, 5, 7),
    "R4/2025": date(2025, 6, 18),
}
SCALE = {"IPCA": Decimal("0.8"), "Selic": Decimal("1.5"), "Câmbio": Decimal("0.4"), "IGP-M": Decimal("1.5")}
MONTHLY_SCALE = {"IPCA": Decimal("0.15"), "Câmbio": Decimal("0.3")}
ANNUAL_FIELDS = (
    "Indicador",
    "IndicadorDetalhe",
    "Data",
    "DataReferencia",
    "Media",
    "Mediana",
    "DesvioPadrao",
    "Minimo",
    "Maximo",
    "numeroRespondentes",
    "baseCalculo",
)
MONTHLY_FIELDS = (
    "Indicador",
    "Data",
    "DataReferencia",
    "Media",
    "Mediana",
    "DesvioPadrao",
    "Minimo",
    "Maximo",
    "numeroRespondentes",
    "baseCalculo",
)
INFLATION_FIELDS = (
    "Indicador",
    "Data",
    "Suavizada",
    "Media",
    "Mediana",
    "DesvioPadrao",
    "Minimo",
    "Maximo",
    "numeroRespondentes",
    "baseCalculo",
)
SELIC_FIELDS = (
    "Indicador",
    "Data",
    "Reuniao",
    "Media",
    "Mediana",
    "DesvioPadrao",
    "Minimo",
    "Maximo",
    "numeroRespondentes",
    "baseCalculo",
)


def survey_dates(business_days: list[date]) -> list[date]:
    """The last business day of each week of YEAR."""
    by_week: dict[tuple[int, int], date] = {}
    for day in business_days:
        if day.year == YEAR:
            by_week[day.isocalendar()[:2]] = max(day, by_week.get(day.isocalendar()[:2], day))
    return sorted(by_week.values())


def compounded(monthly_pct: list[Decimal]) -> Decimal:
    factor = Decimal(1)
    for value in monthly_pct:
        factor *= 1 + value / 100
    return (factor - 1) * 100


def check_meetings(selic_target: dict[date, Decimal]) -> None:
    """Every change of the real SGS 432 target in YEAR must fall the day after a listed Copom meeting."""
    after_meetings = {meeting + timedelta(days=1) for meeting in COPOM_MEETINGS.values()}
    days = sorted(day for day in selic_target if day.year == YEAR)
    for before, day in zip(days, days[1:], strict=False):
        if selic_target[day] != selic_target[before] and day not in after_meetings:
            raise ValueError(f"SGS 432 changed on {day}, which follows no listed Copom meeting")


def _stats(anchor: Decimal, horizon_days: int, scale: Decimal, key: str, day: date, basis: int) -> dict:
    horizon = min(Decimal(max(horizon_days, 0)) / 365, Decimal(1))  # beyond a year the spread stops growing
    median = anchor + signed(f"gap {key}") * scale * horizon + signed(f"noise {key} {day} {basis}") * scale / 20
    std = scale * (Decimal("0.08") + horizon / 4) * (1 + unit(f"std {key} {day} {basis}") / 5)
    respondents = 100 + int(unit(f"n {key} {day}") * 60) if basis == 0 else 25 + int(unit(f"n {key} {day}") * 20)
    return {
        "Media": text(q4(median + signed(f"mean {key} {day} {basis}") * scale / 30)),
        "Mediana": text(q4(median)),
        "DesvioPadrao": text(q4(std)),
        "Minimo": text(q4(median - std * (2 + unit(f"min {key} {day}")))),
        "Maximo": text(q4(median + std * (2 + unit(f"max {key} {day}")))),
        "numeroRespondentes": str(respondents),
        "baseCalculo": str(basis),
    }


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def build_focus(
    usd_sell: dict[date, Decimal],
    selic_target: dict[date, Decimal],
    ipca: dict[date, Decimal],
    igpm: dict[date, Decimal],
) -> dict[str, tuple[tuple[str, ...], list[dict]]]:
    """Entity set -> (field order, rows as API field -> text); every row is synthetic."""
    check_meetings(selic_target)
    dates = survey_dates(sorted(usd_sell))
    last_usd_day = max(day for day in usd_sell if day.year == YEAR)
    year_end = {
        "IPCA": q4(compounded([v for d, v in sorted(ipca.items()) if d.year == YEAR])),
        "Selic": selic_target[date(YEAR, 12, 31)],
        "Câmbio": usd_sell[last_usd_day],
        "IGP-M": q4(compounded([v for d, v in sorted(igpm.items()) if d.year == YEAR])),
    }
    later_years = {
        "IPCA": Decimal("3.5"),
        "Selic": year_end["Selic"],
        "Câmbio": year_end["Câmbio"],
        "IGP-M": Decimal("4.0"),
    }

    def monthly_anchor(indicator: str, year: int, month: int) -> Decimal:
        if indicator == "IPCA":
            return ipca.get(date(year, month, 1), Decimal("0.30"))
        values = [v for d, v in usd_sell.items() if (d.year, d.month) == (year, month)]
        return q4(sum(values) / len(values)) if values else year_end["Câmbio"]

    annual, monthly, inflation, selic = [], [], [], []
    for day in dates:
        for basis in (0, 1):
            for indicator, scale in SCALE.items():
                for year in range(YEAR, YEAR + 4):
                    anchor = year_end[indicator] if year == YEAR else later_years[indicator]
                    stats = _stats(anchor, (date(year, 12, 31) - day).days, scale, f"{indicator} {year}", day, basis)
                    annual.append(
                        {
                            "Indicador": indicator,
                            "IndicadorDetalhe": "",
                            "Data": day.isoformat(),
                            "DataReferencia": str(year),
                            **stats,
                        }
                    )
            for indicator, scale in MONTHLY_SCALE.items():
                for offset in range(6):
                    year, month = day.year + (day.month - 1 + offset) // 12, (day.month - 1 + offset) % 12 + 1
                    anchor = monthly_anchor(indicator, year, month)
                    horizon = (_month_end(year, month) - day).days
                    stats = _stats(anchor, horizon, scale, f"{indicator} {month:02d}/{year}", day, basis)
                    monthly.append(
                        {
                            "Indicador": indicator,
                            "Data": day.isoformat(),
                            "DataReferencia": f"{month:02d}/{year}",
                            **stats,
                        }
                    )
            for smoothed in ("N", "S"):
                stats = _stats(Decimal("3.6"), 365, Decimal("0.5"), f"IPCA 12M {smoothed}", day, basis)
                inflation.append({"Indicador": "IPCA", "Data": day.isoformat(), "Suavizada": smoothed, **stats})
            upcoming = [(name, when) for name, when in COPOM_MEETINGS.items() if when >= day][:4]
            for name, when in upcoming:
                anchor = selic_target.get(when + timedelta(days=1), year_end["Selic"])
                stats = _stats(anchor, (when - day).days, SCALE["Selic"], f"Selic {name}", day, basis)
                selic.append({"Indicador": "Selic", "Data": day.isoformat(), "Reuniao": name, **stats})
    return {
        "ExpectativasMercadoAnuais": (ANNUAL_FIELDS, annual),
        "ExpectativaMercadoMensais": (MONTHLY_FIELDS, monthly),
        "ExpectativasMercadoInflacao12Meses": (INFLATION_FIELDS, inflation),
        "ExpectativasMercadoSelic": (SELIC_FIELDS, selic),
    }


def monthly_values(key: str, year: int, low: Decimal, high: Decimal) -> dict[date, Decimal]:
    """Twelve synthetic monthly percentages in [low, high), 2 decimals (used for IGP-M)."""
    span = high - low
    return {
        date(year, month, 1): (low + unit(f"{key} {year}-{month:02d}") * span).quantize(Decimal("0.01"))
        for month in range(1, 13)
    }
