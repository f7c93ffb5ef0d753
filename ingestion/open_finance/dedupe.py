"""How staging keeps one row per bank transaction across re-reads: the proposed rule, in Python (for the tests).

Transaction IDs change. `LANCAMENTO_FUTURO` / `TRANSACAO_PROCESSANDO` entries may get a new `transactionId`
or vanish when they post; DOC, boleto, card, deposit and other types only settle their ID on D+1; card
transaction IDs settle when the bill closes. Each daily pull re-reads a trailing window (default 7 days),
so the same transaction can arrive under two IDs from two pulls. Neither ID nor any field is a safe key alone.

Rule A (proposed for `stg_open_finance__transactions`): **the latest pull that covered a booking date is the
truth for that date.** Every pull returns the bank's complete current list for each booking date of its window,
so for each `(institution, booking_date)` staging keeps only the rows of the latest pull whose window covered
that date (pull day `_partition_date` >= booking_date > pull day - window days), then one row per
`transaction_id`. If the lake is partitioned by booking date and each pull overwrites the partitions of its
window whole (zero-row partitions included), the raw table already holds exactly this. Pending-to-posted
twins, re-IDs of posted D+1 entries and vanished entries all resolve, with no fuzzy matching. A date that has
left the window keeps its last view, by then final (IDs settle by D+1, well inside 7 days).

Rule B (a guard where the pull day is not available): key posted rows by `(institution, account_id,
transaction_id)` and other rows by the match key `(institution, account_id, signed_amount, booking_date,
normalised transaction_name)`, latest pull wins, and drop a pending row whose match key has a posted row. It
resolves pending-to-posted twins but not a posted entry that changes ID, which rule A does.

Card transactions follow rule A per `(institution, credit_card_account_id, bill_id)` for billed rows (each
pull re-reads whole bills) and per transaction date for open-bill rows.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

POSTED = "TRANSACAO_EFETIVADA"


def latest_per_booking_date(pulls: Sequence[tuple[date, date, Iterable[Mapping]]]) -> list[Mapping]:
    """Rule A. `pulls` are (window start, window end, rows) in pull order; a row survives unless a later pull's
    window covers its booking date (that pull then has the truth for the date, even if it returned no row)."""
    materialised = [(start, end, list(rows)) for start, end, rows in pulls]
    kept: dict[tuple, Mapping] = {}
    for index, (_start, _end, rows) in enumerate(materialised):
        later = materialised[index + 1 :]
        for row in rows:
            if not any(start <= row["booking_date"] <= end for start, end, _rows in later):
                kept[(row["institution"], row["account_id"], row["transaction_id"])] = row
    return list(kept.values())


def normalised_name(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().upper()


def match_key(row: Mapping) -> tuple:
    return (
        row["institution"],
        row["account_id"],
        row["signed_amount"],
        row["booking_date"],
        normalised_name(row["transaction_name"]),
    )


def stable_key(row: Mapping) -> tuple:
    if row["status"] == POSTED:
        return ("posted", row["institution"], row["account_id"], row["transaction_id"])
    return ("pending", *match_key(row))


def latest_by_stable_key(pulls: Iterable[Iterable[Mapping]]) -> list[Mapping]:
    """Rule B: rows of several pulls (oldest first), one per stable key, pending rows with a posted twin dropped."""
    latest: dict[tuple, Mapping] = {}
    for rows in pulls:
        for row in rows:
            latest[stable_key(row)] = row
    posted = {match_key(row) for row in latest.values() if row["status"] == POSTED}
    return [row for key, row in latest.items() if key[0] == "posted" or match_key(row) not in posted]
