"""The ground truth of the demo company: never read by the pipeline, only by tests and evaluation.

- `matches`: one row per (bank movement, ERP document) link, with the movement's role (PRINCIPAL, IOF, FEE
  of an FX contract, or TAX for customs debits) and the match type: FX_OPERATION, EXACT, DATE_OFFSET,
  PARTIAL, ONE_TO_MANY, FEE_DEDUCTED, DUPLICATE (a second payment of a paid invoice) or TAX_DEBIT. A bank
  movement with no row here settles no ERP document (fees, card bills, the stray TED).
- `anomalies`: planted oddities: DUPLICATE_PAYMENT, UNUSUAL_AMOUNT (an FX contract off the market rate),
  ODD_TIMING and UNKNOWN_COUNTERPARTY in the payments, and the bank-only kinds of `anomalies.py` (AMOUNT_OUTLIER,
  NEW_COUNTERPARTY, OFF_HOURS, ROUND_AMOUNT, SPLIT_BELOW_LIMIT), one row per planted bank movement.
- `erp_errors`: deliberate mistakes in the taxes the ERP recorded, per declaration and field.
"""

from decimal import Decimal

import pyarrow as pa

from sandboxes.demo_company.context import Context

S = pa.string()
GROUND_TRUTH_TABLES: dict[str, pa.Schema] = {
    "matches": pa.schema(
        [
            pa.field("match_id", S, False),
            pa.field("bank_transaction_id", S, False),
            pa.field("fx_operation_id", S),
            pa.field("role", S, False),
            pa.field("erp_document_type", S, False),
            pa.field("erp_document_id", S, False),
            pa.field("erp_settlement_id", S),
            pa.field("match_type", S, False),
            pa.field("bank_amount_brl", pa.decimal128(18, 4), False),
            pa.field("erp_amount", pa.decimal128(18, 4), False),
            pa.field("erp_currency", S, False),
            pa.field("note", S, False),
        ]
    ),
    "anomalies": pa.schema(
        [
            pa.field("anomaly_id", S, False),
            pa.field("kind", S, False),
            pa.field("bank_transaction_id", S),
            pa.field("fx_operation_id", S),
            pa.field("erp_document_id", S),
            pa.field("description", S, False),
        ]
    ),
    "erp_errors": pa.schema(
        [
            pa.field("declaration_id", S, False),
            pa.field("error_kind", S, False),
            pa.field("field", S, False),
            pa.field("recorded_value", S, False),
            pa.field("correct_value", S, False),
        ]
    ),
}


def match(
    ctx: Context,
    tx: str,
    op: str | None,
    role: str,
    doc_type: str,
    doc_id: str,
    settlement: str | None,
    match_type: str,
    bank_amount: Decimal,
    erp_amount: Decimal,
    currency: str,
    note: str = "",
) -> None:
    rows = ctx.truth_rows("matches")
    rows.append(
        {
            "match_id": f"M{len(rows) + 1:06d}",
            "bank_transaction_id": tx,
            "fx_operation_id": op,
            "role": role,
            "erp_document_type": doc_type,
            "erp_document_id": doc_id,
            "erp_settlement_id": settlement,
            "match_type": match_type,
            "bank_amount_brl": bank_amount,
            "erp_amount": erp_amount,
            "erp_currency": currency,
            "note": note,
        }
    )


def anomaly(ctx: Context, kind: str, tx: str | None, op: str | None, doc: str | None, description: str) -> None:
    rows = ctx.truth_rows("anomalies")
    rows.append(
        {
            "anomaly_id": f"A{len(rows) + 1:04d}",
            "kind": kind,
            "bank_transaction_id": tx,
            "fx_operation_id": op,
            "erp_document_id": doc,
            "description": description,
        }
    )
