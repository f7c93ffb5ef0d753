"""`importau demo --bank-source`: which bank source feeds the bank data the marts read (issue 17).

The marts read the bank through `staging.stg_bank__*` (dbt_project/models/staging/bank/README.md), the union of
the bank sources in `var('bank_sources')`; `IMPORTAU_BANK_SOURCES` narrows it to the ones a deployment receives.
The demo builds the union from the chosen source alone (`IMPORTAU_BANK_SOURCES`), so the same demo company reaches
reconciliation, cash and anomalies through any one source (tests/end_to_end/test_bank_sources.py compares them).
The main path's ingest jobs all run (a source without input, such as statement files with an empty inbox, lands
empty raw tables); an optional source's job (Pluggy's) runs when it is the chosen one; the statement files are
dropped into their inbox when they are (OFX brings the company's card statements too). FX operations (câmbio
contracts) come from Open Finance whatever the choice: only its APIs deliver them. Credit cards follow the choice
like the rest of `stg_bank__*` (`stg_bank__credit_card_*`; bills from Open Finance or Pluggy only, so none when
the statement files are chosen). Open Finance's accounts, balances, transactions and cards still land in `raw` but
do not feed `stg_bank__*` unless Open Finance is the chosen source.
What judges the bank data reads `stg_bank__*` as well, so it works whichever source was chosen: the
`balance_continuity` check (`orchestration/defs/bank_quality.py`) and `importau evaluate`, which maps each source's
ids back to the truth's (`sandboxes/demo_company/bank_source_ids.py`).
"""

from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_BANK_SOURCE = "open_finance"
BANK_SOURCES_ENV = "IMPORTAU_BANK_SOURCES"  # read by dbt (macros/bank_sources.sql)


@dataclass(frozen=True)
class BankSource:
    """One way the company's bank data arrives: the demo's name for it, its ingest job, its dbt staging prefix."""

    name: str  # `importau demo --bank-source <name>`
    job: str  # the Dagster job that lands it (orchestration/defs/jobs.py SOURCE_JOBS, or its own: ingest_pluggy)
    dbt_source: str  # `bank_source` in stg_bank__*, staging models `stg_<dbt_source>__*`
    description: str


# In precedence order (dbt var bank_sources). A source is available once its ingest job is defined.
BANK_SOURCES = (
    BankSource("open_finance", "ingest_open_finance", "open_finance", "the Open Finance sandbox institution"),
    BankSource("pluggy", "ingest_pluggy", "pluggy", "the aggregator (Pluggy) stand-in"),
    BankSource("statements", "ingest_bank_statements", "bank_statement", "OFX and CNAB 240 statement files"),
)


def by_name(name: str) -> BankSource:
    for source in BANK_SOURCES:
        if source.name == name:
            return source
    raise ValueError(f"unknown bank source {name!r}: one of {', '.join(s.name for s in BANK_SOURCES)}")


def available(job_names: Iterable[str]) -> list[BankSource]:
    """The bank sources whose ingest job is among `job_names` (the code location's jobs)."""
    jobs = set(job_names)
    return [source for source in BANK_SOURCES if source.job in jobs]


def choose(name: str, job_names: Iterable[str]) -> BankSource:
    """The bank source named `name` for the demo, or a ValueError saying which ones this version's demo has."""
    source, have = by_name(name), available(job_names)
    if source in have:
        return source
    raise ValueError(
        f"bank source {name!r} ({source.description}) is not in this version's demo: its ingest job {source.job!r} "
        f"is not defined. Available: {', '.join(s.name for s in have)}"
    )
