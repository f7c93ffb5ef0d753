"""The ids each bank source gives the demo company's bank accounts and movements, back to the bank truth's ids.

`importau evaluate` and the reconciliation check score a warehouse against the ground truth, which names the
bank truth's ids (Open Finance's). But `stg_bank__*` and the marts carry the ids of the source that gave a row
(dbt_project/models/staging/bank/README.md: the first source in precedence), and `importau demo --bank-source`
feeds them from any source. Per source:
- Open Finance: the truth's own ids (the sandbox serves them). A movement delivered twice across pulls had a
  provisional id first; it is deliberately not mapped, so one left in staging is scored as the duplicate it is.
- Pluggy: UUIDs derived from the truth's ids (`sandboxes/pluggy/data.py`, `pluggy_id`), for accounts and movements.
- Statement files: an account is `account_key` (`<COMPE>-<branch>-<number>-<DV>`, the same from OFX and CNAB 240,
  `ingestion/bank_statements/contracts.py`); an OFX movement's FITID is the truth's id; a CNAB 240 movement gets
  `CNAB-<hash>` from the parser (`statements.cnab240_transaction_ids`).
The id spaces do not overlap, so one mapping serves a warehouse fed by any of them, or several. An id the mapping
lacks (an Open Finance id, a provisional id, a movement the truth does not have) stays as it is.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ingestion.bank_statements.contracts import account_key
from sandboxes.demo_company.statements import cnab240_transaction_ids
from sandboxes.pluggy.data import pluggy_id


@dataclass(frozen=True)
class TruthIds:
    """A bank source's id of a movement or an account -> the bank truth's."""

    transactions: Mapping[str, str]
    accounts: Mapping[str, str]

    def transaction(self, source_id: str) -> str:
        return self.transactions.get(source_id, source_id)

    def account(self, source_id: str) -> str:
        return self.accounts.get(source_id, source_id)


def truth_ids(bank: Mapping[str, list[dict]]) -> TruthIds:
    """The mapping for a bank truth (`sandboxes.open_finance_bank.erp_truth.read_truth`: lists of rows)."""
    transactions = {
        pluggy_id("transaction", row["transaction_id"]): row["transaction_id"] for row in bank["bank_transactions"]
    }
    transactions.update(cnab240_transaction_ids(bank))
    accounts = {}
    for account in bank["bank_accounts"]:
        accounts[pluggy_id("account", account["account_id"])] = account["account_id"]
        statement_id = account_key(
            account["compe_code"], account["branch_code"], account["number"], account["check_digit"]
        )
        accounts[statement_id] = account["account_id"]
    return TruthIds(transactions, accounts)


def with_truth_ids(rows: Iterable[Mapping], column: str, ids: Mapping[str, str]) -> list[dict]:
    """The rows with `column`, a source's id, replaced by the truth's (an id `ids` lacks stays as it is)."""
    return [{**row, column: ids.get(row[column], row[column])} for row in rows]
