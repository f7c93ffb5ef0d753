"""Messiness: the clean demo company made as untidy as a real importer's, every planted case in the ground truth.

`apply(company, level)` post-processes a clean `generate()` result; the clean generator is left as it is. Levels:
`clean` (no change), `realistic` (the default demo: a few percent of the movements touched) and `hostile` (several
times more, cases stacked). Each case is one small function below that edits the ERP rows, the bank truth and the
ground truth `matches` consistently (a link that moves to another bank movement moves in `matches` too) and
records every item it touched in the ground-truth table `planted_cases` (kind, bank transaction, ERP document,
what was done), so `evaluation.py` can score the reconciliation per planted case.

| kind | what the bank or the ERP shows |
|---|---|
| NAME_VARIANT | the counterparty name in a TED/PIX text abbreviated, misspelt or in another case |
| CNPJ_MISSING / CNPJ_MISTYPED | the transfer carries no counterparty CNPJ (hostile: boletos too), or a wrong digit |
| BATCH_PAYMENT | one debit ("PAGTO FORNECEDORES LOTE ...") pays invoices of several suppliers, dated on it in the ERP |
| SPLIT_IN_THREE | one supplier payment leaves as three debits on consecutive business days; the ERP has one |
| FEE_ONE_SIDE | the bank adds its transfer fee to a supplier debit; the ERP booked the invoice amount only |
| FX_VALUE_DATE | an FX contract's debits booked two business days before the value date the ERP settled on |
| REVERSAL | a supplier TED is returned by the beneficiary's bank (DEVOLUCAO TED) and sent again |
| CHARGEBACK | a customer's PIX is returned (ESTORNO PIX, MED) and the customer pays again |
| CROSS_PULL_DUPLICATE | a movement first served under a provisional id, later under its final id (staging dedupes) |
| ERP_DATE_SHIFT | the ERP dates a settlement or a receipt up to five business days away from the bank |
| PARTIAL_MONTH_END | a supplier invoice paid in two parts, on the last business day of a month and after it |
| CANCELLED_AFTER_PAYMENT | the ERP cancels a payable after the bank paid it |

Money stays Decimal. Randomness comes from one stream per (seed, level, case): the same arguments give the same
company, and adding a case never shifts another's draws.
"""

import dataclasses
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa

from ingestion.erp.contracts import schema
from sandboxes.demo_company.bank import BANK_TABLES
from sandboxes.demo_company.calendar_fx import add_business_days, previous_business_day
from sandboxes.demo_company.company import DemoCompany
from sandboxes.demo_company.ground_truth import GROUND_TRUTH_TABLES

LEVELS = ("clean", "realistic", "hostile")
DEFAULT_LEVEL = "realistic"
CENT = Decimal("0.01")
TRANSFER_PREFIXES = ("TED ENVIADA ", "PIX ENVIADO ", "PIX RECEBIDO ")
# the demo's Open Finance backfill pulls once per 31 days (orchestration/commands/sandbox_bank.py)
DEMO_PULL_CHUNK_DAYS = 31
TED_FEES = (Decimal("8.50"), Decimal("10.90"), Decimal("12.40"), Decimal("14.90"))  # synthetic transfer fees

# Per case: a share of the eligible items (float) or a number per unit of scale (int).
RATES: dict[str, dict[str, float | int]] = {
    "realistic": {
        "BATCH_PAYMENT": 3,
        "SPLIT_IN_THREE": 3,
        "REVERSAL": 3,
        "CHARGEBACK": 2,
        "PARTIAL_MONTH_END": 3,
        "CANCELLED_AFTER_PAYMENT": 3,
        "FEE_ONE_SIDE": 5,
        "ERP_DATE_SHIFT": 0.05,
        "FX_VALUE_DATE": 0.05,
        "CROSS_PULL_DUPLICATE": 5,
        "NAME_VARIANT": 0.10,
        "CNPJ_MISSING": 0.02,
        "CNPJ_MISTYPED": 0.01,
    },
    "hostile": {
        "BATCH_PAYMENT": 8,
        "SPLIT_IN_THREE": 8,
        "REVERSAL": 8,
        "CHARGEBACK": 6,
        "PARTIAL_MONTH_END": 8,
        "CANCELLED_AFTER_PAYMENT": 8,
        "FEE_ONE_SIDE": 15,
        "ERP_DATE_SHIFT": 0.20,
        "FX_VALUE_DATE": 0.20,
        "CROSS_PULL_DUPLICATE": 20,
        "NAME_VARIANT": 0.35,
        "CNPJ_MISSING": 0.08,
        "CNPJ_MISTYPED": 0.04,
    },
}


@dataclasses.dataclass
class Mess:
    """The company as mutable rows while the cases edit it, plus what the cases have already touched."""

    company: DemoCompany
    level: str
    erp: dict[str, list[dict]]
    bank: dict[str, list[dict]]
    truth: dict[str, list[dict]]
    touched: set[str] = dataclasses.field(default_factory=set)  # bank transaction ids and ERP document ids
    # bank transaction id -> row, and -> its ground-truth links: built on first use, kept current by the methods
    # below (a linear scan per lookup made the cases quadratic: about 6 min of CPU at scale 30)
    _by_id: dict[str, dict] | None = dataclasses.field(default=None, repr=False)
    _links: dict[str, list[dict]] | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def of(cls, company: DemoCompany, level: str) -> "Mess":
        rows = {
            group: {name: table.to_pylist() for name, table in tables.items()}
            for group, tables in (("erp", company.erp), ("bank", company.bank), ("truth", company.ground_truth))
        }
        return cls(company, level, rows["erp"], rows["bank"], rows["truth"])

    def rng(self, case: str) -> random.Random:
        return random.Random(f"importau-messiness:{self.company.seed}:{self.level}:{case}")

    def amount(self, case: str, eligible: int) -> int:
        """How many items a case plants at this level, out of `eligible`."""
        rate = RATES[self.level][case]
        wanted = round(eligible * rate) if isinstance(rate, float) else max(1, round(rate * self.company.scale))
        return min(wanted, eligible)

    def new_id(self, rng: random.Random) -> str:
        return f"{rng.getrandbits(128):032x}"

    def _transactions(self) -> dict[str, dict]:
        if self._by_id is None:
            self._by_id = {t["transaction_id"]: t for t in self.bank["bank_transactions"]}
        return self._by_id

    def _links_by_tx(self) -> dict[str, list[dict]]:
        if self._links is None:
            self._links = defaultdict(list)
            for row in self.truth["matches"]:
                self._links[row["bank_transaction_id"]].append(row)
        return self._links

    def transaction(self, transaction_id: str) -> dict:
        found = self._transactions().get(transaction_id)
        if found is None:
            raise LookupError(f"messiness: no bank transaction {transaction_id}")
        return found

    def add_transaction(self, row: dict) -> None:
        self.bank["bank_transactions"].append(row)
        self._transactions()[row["transaction_id"]] = row

    def remove_transaction(self, row: dict) -> None:
        self.bank["bank_transactions"].remove(row)
        self._transactions().pop(row["transaction_id"], None)

    def links_of(self, transaction_id: str) -> list[dict]:
        """The ground-truth links (`matches` rows) of one bank movement."""
        return list(self._links_by_tx().get(transaction_id, ()))

    def add_link(self, row: dict) -> None:
        links = self._links_by_tx()  # built before the append, or a first build would index the row twice
        self.truth["matches"].append(row)
        links[row["bank_transaction_id"]].append(row)

    def remove_link(self, row: dict) -> None:
        links = self._links_by_tx()  # built (lazily) before the row leaves the matches, or it would not be indexed
        self.truth["matches"].remove(row)
        links[row["bank_transaction_id"]].remove(row)

    def plant(self, kind: str, tx: str | None, doc_type: str | None, doc_id: str | None, description: str) -> None:
        rows = self.truth_rows("planted_cases")
        rows.append(
            {
                "case_id": f"C{len(rows) + 1:05d}",
                "kind": kind,
                "bank_transaction_id": tx,
                "erp_document_type": doc_type,
                "erp_document_id": doc_id,
                "description": description,
            }
        )

    def truth_rows(self, name: str) -> list[dict]:
        return self.truth.setdefault(name, [])

    def repoint(self, old_tx: str, new_tx: str, bank_amount: Decimal | None = None, match_type: str | None = None):
        """Move the ground-truth links of one bank movement to another."""
        links = self._links_by_tx()
        for row in links.pop(old_tx, []):
            links[new_tx].append(row)
            row["bank_transaction_id"] = new_tx
            if bank_amount is not None:
                row["bank_amount_brl"] = bank_amount
            if match_type is not None:
                row["match_type"] = match_type

    def last_day(self) -> date:
        return add_business_days(self.company.end, -10)


# -- pools: the clean single links a case may rework -------------------------------------------------------------


def single_links(mess: Mess, doc_type: str, direction: str) -> list[dict]:
    """Ground-truth links where one named BRL transfer settles one document alone (and that document has no other
    link): a plain supplier TED/PIX or a plain customer receipt, untouched so far, well inside the date range."""
    by_tx, by_doc = defaultdict(list), defaultdict(list)
    for row in mess.truth["matches"]:
        by_tx[row["bank_transaction_id"]].append(row)
        by_doc[(row["erp_document_type"], row["erp_document_id"])].append(row)
    flagged = {a["bank_transaction_id"] for a in mess.truth["anomalies"]}
    transactions = mess._transactions()
    first_day, last_day = mess.company.start + timedelta(days=10), mess.last_day()
    pool = []
    for tx, links in by_tx.items():
        (link,) = links if len(links) == 1 else (None,)
        if link is None or link["erp_document_type"] != doc_type or tx in flagged:
            continue
        movement = transactions[tx]
        if (
            len(by_doc[(doc_type, link["erp_document_id"])]) == 1
            and movement["credit_debit_type"] == direction
            and movement["type"] in ("TED", "PIX")
            and movement["partie_cnpj_cpf"]
            and link["match_type"] in ("EXACT", "DATE_OFFSET")
            and first_day <= movement["booking_date"] <= last_day
            and not {tx, link["erp_document_id"]} & mess.touched
        ):
            pool.append(link)
    return sorted(pool, key=lambda row: row["match_id"])


def pick(mess: Mess, rng: random.Random, case: str, pool: list) -> list:
    chosen = rng.sample(pool, mess.amount(case, len(pool)))
    return sorted(
        chosen, key=lambda row: (row.get("match_id") or row["transaction_id"]) if isinstance(row, dict) else row
    )


def counterparty_name(movement: dict) -> str:
    for prefix in TRANSFER_PREFIXES:
        if movement["transaction_name"].startswith(prefix):
            return movement["transaction_name"][len(prefix) :]
    return ""


def moved(moment: datetime, day: date, old_day: date) -> datetime:
    return moment + timedelta(days=(day - old_day).days)


def post_like(mess: Mess, rng, template: dict, day: date, **changes) -> dict:
    """A new bank movement copied from `template`, booked on `day` (same time of day), with `changes`."""
    row = {
        **template,
        "transaction_id": mess.new_id(rng),
        "booking_date": day,
        "transaction_datetime": moved(template["transaction_datetime"], day, template["booking_date"]),
        **changes,
    }
    mess.add_transaction(row)
    return row


def settlement_of(mess: Mess, link: dict) -> dict:
    return next(s for s in mess.erp["payable_settlements"] if s["settlement_id"] == link["erp_settlement_id"])


# -- the cases, structural ones first ------------------------------------------------------------------------------


def batch_payment(mess: Mess) -> None:
    """Several suppliers' invoices paid by one debit; the ERP dates every settlement of the batch on its day."""
    rng = mess.rng("BATCH_PAYMENT")
    pool = single_links(mess, "PAYABLE", "DEBITO")
    for number, anchor in enumerate(pick(mess, rng, "BATCH_PAYMENT", pool), start=1):
        if anchor["erp_document_id"] in mess.touched:
            continue
        first = mess.transaction(anchor["bank_transaction_id"])
        day = first["booking_date"]
        members = [anchor]
        for link in pool:
            other = mess.transaction(link["bank_transaction_id"])
            suppliers = {mess.transaction(m["bank_transaction_id"])["partie_cnpj_cpf"] for m in members}
            if (
                len(members) < 3
                and link["erp_document_id"] not in mess.touched | {m["erp_document_id"] for m in members}
                and other["partie_cnpj_cpf"] not in suppliers
                and other["account_id"] == first["account_id"]
                and abs((other["booking_date"] - day).days) <= 5
            ):
                members.append(link)
        if len(members) < 2:
            continue
        total = sum((mess.transaction(m["bank_transaction_id"])["amount"] for m in members), Decimal(0))
        batch = post_like(
            mess, rng, first, day, type="TED", amount=total,
            transaction_name=f"PAGTO FORNECEDORES LOTE {number:04d} {len(members)} TITULOS",
            partie_cnpj_cpf=None, partie_person_type=None, partie_compe_code=None, partie_branch_code=None,
            partie_number=None, partie_check_digit=None,
        )  # fmt: skip
        for member in members:
            old = member["bank_transaction_id"]
            mess.remove_transaction(mess.transaction(old))
            settlement_of(mess, member)["settled_date"] = day
            mess.repoint(old, batch["transaction_id"], total, "BATCH")
            mess.touched.update((old, member["erp_document_id"]))
            mess.plant("BATCH_PAYMENT", batch["transaction_id"], "PAYABLE", member["erp_document_id"],
                       f"one debit of {total} pays {len(members)} invoices of {len(members)} suppliers")  # fmt: skip
        mess.touched.add(batch["transaction_id"])


def split_in_three(mess: Mess) -> None:
    """One supplier payment leaves as three debits on consecutive business days; the ERP keeps one settlement."""
    rng = mess.rng("SPLIT_IN_THREE")
    pool = [row for row in single_links(mess, "PAYABLE", "DEBITO") if row["bank_amount_brl"] >= 300]
    for link in pick(mess, rng, "SPLIT_IN_THREE", pool):
        original = mess.transaction(link["bank_transaction_id"])
        total = original["amount"]
        first = (total * Decimal("0.40")).quantize(CENT)
        second = (total * Decimal("0.35")).quantize(CENT)
        parts = [first, second, total - first - second]
        mess.remove_transaction(original)
        mess.remove_link(link)
        mess.touched.update((original["transaction_id"], link["erp_document_id"]))
        for offset, part in enumerate(parts):
            row = post_like(mess, rng, original, add_business_days(original["booking_date"], offset), amount=part)
            mess.touched.add(row["transaction_id"])
            mess.add_link(
                {**link, "match_id": f"{link['match_id']}-{offset + 1}", "bank_transaction_id": row["transaction_id"],
                 "bank_amount_brl": part, "match_type": "SPLIT"}
            )  # fmt: skip
            mess.plant("SPLIT_IN_THREE", row["transaction_id"], "PAYABLE", link["erp_document_id"],
                       f"part {offset + 1} of 3 ({part} of {total})")  # fmt: skip


def reversal(mess: Mess, case: str = "REVERSAL", direction: str = "DEBITO", doc_type: str = "PAYABLE") -> None:
    """A transfer returned the next business day and made again the business day after: the first movement and
    its return settle nothing, the second movement settles the document."""
    rng = mess.rng(case)
    for link in pick(mess, rng, case, single_links(mess, doc_type, direction)):
        original = mess.transaction(link["bank_transaction_id"])
        back = "CREDITO" if direction == "DEBITO" else "DEBITO"
        text = ("DEVOLUCAO TED " if case == "REVERSAL" else "ESTORNO PIX ") + counterparty_name(original)
        returned = post_like(mess, rng, original, add_business_days(original["booking_date"], 1),
                             credit_debit_type=back, transaction_name=text)  # fmt: skip
        again = post_like(mess, rng, original, add_business_days(original["booking_date"], 2))
        mess.repoint(original["transaction_id"], again["transaction_id"])
        for tx, what in ((original, "first transfer, returned"), (returned, "the return"), (again, "made again")):
            mess.touched.add(tx["transaction_id"])
            mess.plant(case, tx["transaction_id"], doc_type, link["erp_document_id"], what)
        mess.touched.add(link["erp_document_id"])


def chargeback(mess: Mess) -> None:
    reversal(mess, "CHARGEBACK", "CREDITO", "RECEIVABLE")


def partial_month_end(mess: Mess) -> None:
    """A supplier invoice paid in two parts either side of a month end: two debits and two ERP settlements."""
    rng = mess.rng("PARTIAL_MONTH_END")
    pool = [
        row for row in single_links(mess, "PAYABLE", "DEBITO")
        if mess.transaction(row["bank_transaction_id"])["booking_date"].day <= 10 and row["bank_amount_brl"] >= 200
    ]  # fmt: skip
    for link in pick(mess, rng, "PARTIAL_MONTH_END", pool):
        movement = mess.transaction(link["bank_transaction_id"])
        month_end = previous_business_day(movement["booking_date"].replace(day=1) - timedelta(days=1))
        if month_end < mess.company.start:
            continue
        first = (movement["amount"] * Decimal(str(rng.choice((0.3, 0.4, 0.5, 0.6))))).quantize(CENT)
        settlement = settlement_of(mess, link)
        early = {**settlement, "settlement_id": f"{settlement['settlement_id']}-A", "settled_date": month_end,
                 "amount": first, "brl_amount": first,
                 "updated_at": moved(settlement["updated_at"], month_end, settlement["settled_date"])}  # fmt: skip
        mess.erp["payable_settlements"].append(early)
        settlement["amount"] = settlement["brl_amount"] = movement["amount"] - first
        movement["amount"] = movement["amount"] - first
        link["bank_amount_brl"] = link["erp_amount"] = movement["amount"]
        link["match_type"] = "PARTIAL"
        part = post_like(mess, rng, movement, month_end, amount=first)
        mess.add_link(
            {**link, "match_id": f"{link['match_id']}-A", "bank_transaction_id": part["transaction_id"],
             "erp_settlement_id": early["settlement_id"], "bank_amount_brl": first, "erp_amount": first}
        )  # fmt: skip
        for tx in (part, movement):
            mess.touched.add(tx["transaction_id"])
            mess.plant("PARTIAL_MONTH_END", tx["transaction_id"], "PAYABLE", link["erp_document_id"],
                       f"{tx['amount']} paid on {tx['booking_date']}")  # fmt: skip
        mess.touched.add(link["erp_document_id"])


def cancelled_after_payment(mess: Mess) -> None:
    """The ERP cancels a payable the bank has already paid (a refund is due, or the cancellation is wrong)."""
    rng = mess.rng("CANCELLED_AFTER_PAYMENT")
    payables = {row["payable_id"]: row for row in mess.erp["payables"]}
    for link in pick(mess, rng, "CANCELLED_AFTER_PAYMENT", single_links(mess, "PAYABLE", "DEBITO")):
        payable = payables[link["erp_document_id"]]
        paid = settlement_of(mess, link)["updated_at"]
        payable["status"] = "CANCELLED"
        payable["updated_at"] = max(payable["updated_at"], paid) + timedelta(days=rng.randint(2, 9))
        mess.touched.update((link["bank_transaction_id"], link["erp_document_id"]))
        mess.plant("CANCELLED_AFTER_PAYMENT", link["bank_transaction_id"], "PAYABLE", link["erp_document_id"],
                   "payable cancelled in the ERP after the bank paid it")  # fmt: skip


def fee_one_side(mess: Mess) -> None:
    """The bank debits the invoice plus its transfer fee; the ERP booked the invoice amount only."""
    rng = mess.rng("FEE_ONE_SIDE")
    for link in pick(mess, rng, "FEE_ONE_SIDE", single_links(mess, "PAYABLE", "DEBITO")):
        movement = mess.transaction(link["bank_transaction_id"])
        fee = rng.choice(TED_FEES)
        movement["amount"] += fee
        link["bank_amount_brl"] = movement["amount"]
        mess.touched.update((movement["transaction_id"], link["erp_document_id"]))
        mess.plant("FEE_ONE_SIDE", movement["transaction_id"], "PAYABLE", link["erp_document_id"],
                   f"transfer fee {fee} added to the debit by the bank only")  # fmt: skip


# -- dates ----------------------------------------------------------------------------------------------------------


def erp_date_shift(mess: Mess) -> None:
    """The ERP dates a BRL settlement or a customer receipt one to five business days away from the bank."""
    rng = mess.rng("ERP_DATE_SHIFT")
    receivables = {row["receivable_id"]: row for row in mess.erp["receivables"]}
    pool = single_links(mess, "PAYABLE", "DEBITO") + single_links(mess, "RECEIVABLE", "CREDITO")
    for link in pick(mess, rng, "ERP_DATE_SHIFT", pool):
        shift = rng.choice((-5, -4, -3, -2, -1, 1, 2, 3, 4, 5))
        if link["erp_document_type"] == "PAYABLE":
            row, field = settlement_of(mess, link), "settled_date"
        else:
            row, field = receivables[link["erp_document_id"]], "paid_date"
        new_day = add_business_days(row[field], shift)
        if not mess.company.start <= new_day <= mess.company.end:
            continue
        row[field] = new_day
        mess.touched.update((link["bank_transaction_id"], link["erp_document_id"]))
        mess.plant("ERP_DATE_SHIFT", link["bank_transaction_id"], link["erp_document_type"], link["erp_document_id"],
                   f"the ERP dates it {shift:+d} business day(s) from the bank")  # fmt: skip


def fx_value_date(mess: Mess) -> None:
    """An FX contract's debits booked two business days before its value date (D+2 spot), on which the ERP
    settled it."""
    rng = mess.rng("FX_VALUE_DATE")
    operations = defaultdict(list)
    for row in mess.bank["bank_transactions"]:
        if row["fx_operation_id"] and row["transaction_id"] not in mess.touched:
            operations[row["fx_operation_id"]].append(row)
    flagged = {a["fx_operation_id"] for a in mess.truth["anomalies"]}
    pool = sorted(op for op in operations if op not in flagged)
    for operation_id in pick(mess, rng, "FX_VALUE_DATE", pool):
        for movement in operations[operation_id]:
            day = add_business_days(movement["booking_date"], -2)
            if day < mess.company.start:
                break
            movement["transaction_datetime"] = moved(movement["transaction_datetime"], day, movement["booking_date"])
            movement["booking_date"] = day
            mess.touched.add(movement["transaction_id"])
            docs = {m["erp_document_id"] for m in mess.links_of(movement["transaction_id"])}
            for doc in sorted(docs):
                mess.plant("FX_VALUE_DATE", movement["transaction_id"], "PAYABLE", doc,
                           "booked two business days before the FX contract's value date")  # fmt: skip


def cross_pull_duplicate(mess: Mess) -> None:
    """A movement first served under a provisional id: the bank truth's `provisional_transaction_id`, which the
    sandbox serves to pulls whose window ends less than two days after the booking date (ids settle on D+2). A
    backfill pull ending on that day, then the next pull that re-reads it, deliver it twice; staging keeps the
    latest pull's view of the date, so only the final id may reach the warehouse."""
    rng = mess.rng("CROSS_PULL_DUPLICATE")
    linked = {row["bank_transaction_id"] for row in mess.truth["matches"]}
    pool = [
        row for row in mess.bank["bank_transactions"]
        if row["transaction_id"] in linked and row["type"] in ("TED", "PIX", "BOLETO")
        and mess.company.start + timedelta(days=10) <= row["booking_date"] <= mess.last_day()
        # booked on the last two days of a backfill chunk of the demo, so a chunk's pull sees the provisional id
        and (row["booking_date"] - mess.company.start).days % DEMO_PULL_CHUNK_DAYS >= DEMO_PULL_CHUNK_DAYS - 2
    ]  # fmt: skip
    for movement in pick(mess, rng, "CROSS_PULL_DUPLICATE", sorted(pool, key=lambda r: r["transaction_id"])):
        movement["provisional_transaction_id"] = mess.new_id(rng)
        mess.plant("CROSS_PULL_DUPLICATE", movement["transaction_id"], None, None,
                   f"first delivered as {movement['provisional_transaction_id']}")  # fmt: skip


# -- texts and counterparties ------------------------------------------------------------------------------------------


def vary_name(rng: random.Random, name: str) -> str:
    words = name.split()
    style = rng.choice(("abbreviate", "misspell", "case"))
    if style == "abbreviate":
        return " ".join(w[:4] + "." if len(w) > 6 and i > 0 else w for i, w in enumerate(words))
    if style == "misspell":
        longest = max(range(len(words)), key=lambda i: len(words[i]))
        word = words[longest]
        at = rng.randint(1, len(word) - 2)
        words[longest] = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        return " ".join(words)
    return name.title()


def name_variant(mess: Mess) -> None:
    rng = mess.rng("NAME_VARIANT")
    pool = [row for row in mess.bank["bank_transactions"] if len(counterparty_name(row)) > 8]
    for movement in pick(mess, rng, "NAME_VARIANT", sorted(pool, key=lambda r: r["transaction_id"])):
        name = counterparty_name(movement)
        prefix = movement["transaction_name"][: -len(name)]
        movement["transaction_name"] = prefix + vary_name(rng, name)
        mess.plant(
            "NAME_VARIANT", movement["transaction_id"], None, None, f"{name!r} written {movement['transaction_name']!r}"
        )


def _cnpj_pool(mess: Mess, unnamed_too: bool = False) -> list[dict]:
    """Linked transfers with a CNPJ, untouched; named ones (TED/PIX), and boletos, which name nobody, if asked."""
    linked = {row["bank_transaction_id"] for row in mess.truth["matches"]}
    return sorted(
        (row for row in mess.bank["bank_transactions"]
         if row["partie_cnpj_cpf"] and row["transaction_id"] in linked
         and (counterparty_name(row) or (unnamed_too and row["type"] == "BOLETO"))
         and row["transaction_id"] not in mess.touched),
        key=lambda r: r["transaction_id"],
    )  # fmt: skip


def cnpj_missing(mess: Mess) -> None:
    """At `hostile` a boleto may lose its CNPJ too: then only the amount and the date are left to go by."""
    rng = mess.rng("CNPJ_MISSING")
    for movement in pick(mess, rng, "CNPJ_MISSING", _cnpj_pool(mess, unnamed_too=mess.level == "hostile")):
        movement["partie_cnpj_cpf"] = movement["partie_person_type"] = None
        mess.touched.add(movement["transaction_id"])
        mess.plant("CNPJ_MISSING", movement["transaction_id"], None, None, "the transfer names no counterparty CNPJ")


def cnpj_mistyped(mess: Mess) -> None:
    rng = mess.rng("CNPJ_MISTYPED")
    for movement in pick(mess, rng, "CNPJ_MISTYPED", _cnpj_pool(mess)):
        cnpj = movement["partie_cnpj_cpf"]
        digits = [i for i, c in enumerate(cnpj) if c.isdigit()][:8]  # a slip in the root, not the check digits
        at = rng.choice(digits)
        wrong = str((int(cnpj[at]) + rng.randint(1, 9)) % 10)
        movement["partie_cnpj_cpf"] = cnpj[:at] + wrong + cnpj[at + 1 :]
        mess.touched.add(movement["transaction_id"])
        mess.plant(
            "CNPJ_MISTYPED", movement["transaction_id"], None, None, f"CNPJ {cnpj} typed {movement['partie_cnpj_cpf']}"
        )


CASES: tuple[Callable[[Mess], None], ...] = (
    batch_payment,
    split_in_three,
    reversal,
    chargeback,
    partial_month_end,
    cancelled_after_payment,
    fee_one_side,
    erp_date_shift,
    fx_value_date,
    cross_pull_duplicate,
    name_variant,
    cnpj_missing,
    cnpj_mistyped,
)

PLANTED_CASES = pa.schema(
    [
        pa.field("case_id", pa.string(), False),
        pa.field("kind", pa.string(), False),
        pa.field("bank_transaction_id", pa.string()),
        pa.field("erp_document_type", pa.string()),
        pa.field("erp_document_id", pa.string()),
        pa.field("description", pa.string(), False),
    ]
)
# the bank truth of a messy company: the clean columns plus the id a movement is first served under
BANK_TRANSACTIONS = BANK_TABLES["bank_transactions"].append(pa.field("provisional_transaction_id", pa.string()))


def apply(company: DemoCompany, level: str = DEFAULT_LEVEL) -> DemoCompany:
    """The company with the planted cases of `level` (`clean` returns it unchanged)."""
    if level not in LEVELS:
        raise ValueError(f"unknown messiness {level!r}; known: {', '.join(LEVELS)}")
    if level == "clean":
        return company
    mess = Mess.of(company, level)
    mess.truth_rows("planted_cases")
    for case in CASES:
        case(mess)
    mess.bank["bank_transactions"].sort(key=lambda r: (r["account_id"], r["transaction_datetime"], r["transaction_id"]))
    bank_schemas = {**BANK_TABLES, "bank_transactions": BANK_TRANSACTIONS}
    truth_schemas = {**GROUND_TRUTH_TABLES, "planted_cases": PLANTED_CASES}
    return dataclasses.replace(
        company,
        messiness=level,
        erp={name: pa.Table.from_pylist(rows, schema=schema(name)) for name, rows in mess.erp.items()},
        bank={name: pa.Table.from_pylist(rows, schema=bank_schemas[name]) for name, rows in mess.bank.items()},
        ground_truth={
            name: pa.Table.from_pylist(rows, schema=truth_schemas[name]) for name, rows in mess.truth.items()
        },
    )


def generate_messy(seed: int = 42, scale: float = 1.0, messiness: str = DEFAULT_LEVEL, **dates) -> DemoCompany:
    """`generate(seed, scale)` then `apply(level)`: the demo company at a messiness level."""
    from sandboxes.demo_company.company import generate

    return apply(generate(seed=seed, scale=scale, **dates), messiness)
