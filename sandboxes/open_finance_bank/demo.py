"""The small deterministic built-in dataset of the sandbox institution, anchored on a day `as_of` (D).

One company checking account and one corporate card at "Banco Sandbox", and two FX contracts:
* D-6 an import payment is contracted (USD 10,000.00 at 5.2712, spot), settled D-4: the account shows the BRL
  debit of 52,712.00, the IOF and the FX fee; the settlement event names the supplier abroad;
* D-2 a forward contract (USD 25,000.00 at 5.3100, due D+30) is still open;
* D-5 a customer receipt (PIX), D-1 another (TED), D-3 the monthly fee package, D-2 the previous card bill paid;
* D a boleto to a domestic supplier shows as `LANCAMENTO_FUTURO` with id `TXPEND0007`; from D+1 the bank shows
  it posted as `TX0007` (a new id, same amount, date and description): the pending-to-posted twin;
* the card: a bill closed D-12 (due D-2), one closed D-1 (due D+9) with a USD purchase and its IOF, and open
  spend since. Balances are published daily, from an opening balance on D-8.

Values are illustrative. Whoever plugs in the ERP demo company replaces this with its own `BankData`.
"""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from ingestion.open_finance.parse import SAO_PAULO
from sandboxes.open_finance_bank import records as r
from sandboxes.open_finance_bank.data import BankData, Entry, FxOperation

BANK = "Banco Sandbox"
BANK_CNPJ = "11222333000181"
COMPE = "999"
ACCOUNT_ID = "acc-importau-0001"
CARD_ID = "card-importau-01"
CUSTOMER = {
    "partieCnpjCpf": "11444777000161",
    "partiePersonType": "PESSOA_JURIDICA",
    "partieCompeCode": "341",
    "partieBranchCode": "1234",
    "partieNumber": "12345678",
    "partieCheckDigit": "9",
}
SUPPLIER = {"partieCnpjCpf": "45997418000153", "partiePersonType": "PESSOA_JURIDICA"}
OPENING_BALANCE = Decimal("250000.00")


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A São Paulo wall-clock time as an aware datetime."""
    return datetime.combine(day, time(hour, minute), tzinfo=SAO_PAULO)


def _account_entries(d: date) -> list[Entry]:
    t = r.account_transaction
    posted = [
        t(
            "TX0001",
            Decimal("48500.00"),
            _at(d - timedelta(5), 10, 15),
            "PIX RECEBIDO ALFA COMERCIO LTDA",
            "PIX",
            partie=CUSTOMER,
        ),
        t(
            "TX0002",
            Decimal("-52712.00"),
            _at(d - timedelta(4), 11),
            "LIQ CAMBIO IMPORTACAO USD 10.000,00 CONTR 000000123456",
            "OUTROS",
        ),
        t(
            "TX0003",
            Decimal("-200.31"),
            _at(d - timedelta(4), 11, 1),
            "IOF CAMBIO CONTR 000000123456",
            "OUTROS",
        ),
        t(
            "TX0004",
            Decimal("-35.00"),
            _at(d - timedelta(4), 11, 2),
            "TARIFA CONTRATO DE CAMBIO",
            "TARIFA_SERVICOS_AVULSOS",
        ),
        t(
            "TX0005",
            Decimal("-89.90"),
            _at(d - timedelta(3), 6),
            "TARIFA PACOTE SERVICOS PJ",
            "PACOTE_TARIFA_SERVICOS",
        ),
        t("TX0006", Decimal("-1843.72"), _at(d - timedelta(2), 9, 30), "PAGAMENTO FATURA CARTAO", "BOLETO"),
        t(
            "TX0008",
            Decimal("7300.00"),
            _at(d - timedelta(1), 15, 40),
            "TED RECEBIDA ALFA COMERCIO LTDA",
            "TED",
            partie=CUSTOMER,
        ),
    ]
    entries = [Entry(ACCOUNT_ID, record) for record in posted]
    boleto = dict(
        signed_amount=Decimal("-12450.00"),
        when=_at(d, 9),
        name="PAGTO BOLETO BETA INDUSTRIA LTDA",
        kind="BOLETO",
        partie=SUPPLIER,
    )
    entries.append(Entry(ACCOUNT_ID, t("TXPEND0007", status="LANCAMENTO_FUTURO", **boleto), shown_until=d))
    entries.append(Entry(ACCOUNT_ID, t("TX0007", **boleto), shown_from=d + timedelta(1)))
    return entries


def _balances(d: date, transactions: list[Entry]) -> list[Entry]:
    """One balance per day from D-8 to D+1: opening balance plus posted transactions booked up to that day."""
    out = []
    for offset in range(-8, 2):
        day = d + timedelta(offset)
        total = OPENING_BALANCE
        for entry in transactions:
            data = entry.data
            booked = datetime.fromisoformat(data["transactionDateTime"].replace("Z", "+00:00")).astimezone(SAO_PAULO)
            if (
                data["completedAuthorisedPaymentType"] == "TRANSACAO_EFETIVADA"
                and booked.date() <= day
                and entry.shown_on(day)
            ):
                sign = 1 if data["creditDebitType"] == "CREDITO" else -1
                total += sign * Decimal(data["transactionAmount"]["amount"])
        out.append(Entry(ACCOUNT_ID, r.balance(total, _at(day, 20)), shown_from=day))
    return out


def _card(d: date) -> tuple[list[Entry], list[Entry]]:
    c = r.card_transaction
    prev_due, curr_due = d - timedelta(2), d + timedelta(9)
    bills = [
        Entry(CARD_ID, r.bill("BILL-PREV", prev_due, Decimal("1843.72"), Decimal("276.56")), d - timedelta(12)),
        Entry(CARD_ID, r.bill("BILL-CURR", curr_due, Decimal("1506.35"), Decimal("225.95")), d - timedelta(1)),
    ]

    def spend(tid, brl, when, name, **options) -> Entry:
        return Entry(CARD_ID, c(tid, "4453", Decimal(brl), when, name, when.date(), **options))

    usd = "USD"
    transactions = [
        spend(
            "CT0001",
            "-262.48",
            _at(d - timedelta(30), 8),
            "GITHUB INC SUBSCRIPTION",
            original=(Decimal("49.90"), usd),
            bill_id="BILL-PREV",
            mcc=5734,
        ),
        spend(
            "CT0002",
            "-1581.24",
            _at(d - timedelta(25), 14),
            "LATAM AIRLINES GRU-PVG",
            bill_id="BILL-PREV",
            mcc=3005,
        ),
        spend(
            "CT0003",
            "-633.60",
            _at(d - timedelta(20), 3),
            "AWS EMEA",
            original=(Decimal("120.00"), usd),
            bill_id="BILL-CURR",
            mcc=4816,
        ),
        spend(
            "CT0004",
            "-27.75",
            _at(d - timedelta(20), 3, 1),
            "IOF COMPRA INTERNACIONAL",
            kind="TARIFA",
            bill_id="BILL-CURR",
        ),
        spend("CT0005", "-845.00", _at(d - timedelta(8), 19), "HOTEL CANTON FAIR", bill_id="BILL-CURR", mcc=7011),
        spend("CT0006", "-58.40", _at(d - timedelta(1), 18, 20), "UBER TRIP", mcc=4121),
        spend("CT0007", "-212.00", _at(d, 12, 30), "RESTAURANTE FASANO", mcc=5812),
    ]
    return bills, transactions


def _fx(d: date) -> list[FxOperation]:
    spot_values = r.fx_values(Decimal("5.2712"), Decimal("10000.00"), "USD", vet=Decimal("5.294731"))
    spot = FxOperation(
        "FXOP-000123",
        # operationType from the authorised institution's side (BCB convention): the bank SELLS foreign currency
        # to the importer. operationCategoryCode is the spec's example value, not a classified natureza code.
        r.fx_detail(
            BANK_CNPJ,
            BANK,
            "VENDA",
            _at(d - timedelta(6), 11),
            d - timedelta(4),
            spot_values,
            "90302",
            operation_number="000000123456",
        ),
        (
            r.fx_event(
                "000000000001",
                "1",
                _at(d - timedelta(6), 11),
                spot_values,
                None,
                dueDate=(d - timedelta(4)).isoformat(),
                deliveryForeignCurrency="TELETRANSMISSAO",
                operationCategoryCode="90302",
            ),
            r.fx_event(
                "000000000002",
                "4",
                _at(d - timedelta(4), 11),
                spot_values,
                ("50", "SHENZHEN HUAXIN ELECTRONICS CO LTD", "CN"),
                deliveryForeignCurrency="TELETRANSMISSAO",
                operationCategoryCode="90302",
            ),
        ),
        shown_from=d - timedelta(6),
    )
    forward_values = r.fx_values(Decimal("5.3100"), Decimal("25000.00"), "USD", outstanding=Decimal("25000.00"))
    forward = FxOperation(
        "FXOP-000124",
        r.fx_detail(BANK_CNPJ, BANK, "VENDA", _at(d - timedelta(2), 15), d + timedelta(30), forward_values, "90302"),
        (
            r.fx_event(
                "000000000003",
                "1",
                _at(d - timedelta(2), 15),
                forward_values,
                dueDate=(d + timedelta(30)).isoformat(),
            ),
        ),
        shown_from=d - timedelta(2),
    )
    return [spot, forward]


def demo_bank_data(as_of: date | None = None) -> BankData:
    """The built-in dataset for the day `as_of` (default: today in UTC)."""
    d = as_of or datetime.now(UTC).date()
    transactions = _account_entries(d)
    bills, card_transactions = _card(d)
    return BankData(
        brand_name=BANK,
        bank_cnpj=BANK_CNPJ,
        accounts=[r.account(ACCOUNT_ID, "0012345678", "5", BANK, BANK_CNPJ, COMPE)],
        balances=_balances(d, transactions),
        transactions=transactions,
        credit_card_accounts=[r.card_account(CARD_ID, "CARTAO CORPORATIVO IMPORTAU", BANK, BANK_CNPJ)],
        credit_card_bills=bills,
        credit_card_transactions=card_transactions,
        fx_operations=_fx(d),
    )
