"""`generate()`: the whole demo company, ERP tables in the contract schemas, bank truth and ground truth."""

from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from ingestion.erp.contracts import ENTITY_NAMES, schema
from sandboxes.demo_company import (
    anomalies,
    bank_misc,
    customs,
    masters,
    payables,
    purchasing,
    receipts,
    sales,
    settlements,
)
from sandboxes.demo_company.bank import BANK_TABLES
from sandboxes.demo_company.context import Context
from sandboxes.demo_company.ground_truth import GROUND_TRUTH_TABLES


@dataclass(frozen=True)
class DemoCompany:
    """One generated company: `erp` (13 entities), `bank` (Open Finance truth), `ground_truth`
    (tests and evaluation only), and `declarations`: the import declarations as the Receita registered them
    (`{"declaration", "items", "taxes"}` each, the true figures), which the broker delivers as DI XML / DUIMP
    JSON files (`writers.write_customs_declarations`)."""

    seed: int
    scale: float
    start: date
    end: date
    company: dict
    erp: dict[str, pa.Table]
    bank: dict[str, pa.Table]
    ground_truth: dict[str, pa.Table]
    messiness: str = "clean"  # `messiness.apply` sets its level; the generator itself is always clean
    declarations: list[dict] = field(default_factory=list)

    def row_counts(self) -> dict[str, int]:
        return {
            name: table.num_rows for group in (self.erp, self.bank, self.ground_truth) for name, table in group.items()
        }


def generate(
    seed: int = 42, scale: float = 1.0, start: date = date(2024, 1, 1), end: date = date(2024, 12, 31)
) -> DemoCompany:
    """Generate the demo importer. Same arguments, same data; `scale` multiplies the volume (POs, suppliers,
    customers, products; the date range stays fixed). Dates must lie within the real PTAX
    history (2015-04-22..2024-12-31)."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if end <= start:
        raise ValueError(f"the date range ends before it starts: {start}..{end}")
    ctx = Context(seed=seed, scale=scale, start=start, end=end)
    masters.build_company(ctx)
    masters.build_suppliers(ctx)
    masters.build_products(ctx)
    masters.build_customers(ctx)
    purchasing.build_purchase_orders(ctx)
    customs.build_declarations(ctx)
    plan = payables.plan_hard_cases(ctx, payables.build_payables(ctx))
    settlements.execute(ctx, plan)
    purchasing.finish_purchase_orders(ctx)
    sales.build_sales(ctx)
    sales.build_adjustments(ctx)
    receipts.build_receipts(ctx)
    bank_misc.customs_debits(ctx)
    bank_misc.package_fees(ctx)
    bank_misc.card_spend(ctx)
    bank_misc.stray_payment(ctx)
    anomalies.plant_anomalies(ctx)
    ctx.rows("bank_transactions").sort(key=lambda r: (r["account_id"], r["transaction_datetime"], r["transaction_id"]))
    return DemoCompany(
        seed=seed,
        scale=scale,
        start=start,
        end=end,
        company=ctx.catalog["company"],
        erp={name: pa.Table.from_pylist(ctx.rows(name), schema=schema(name)) for name in ENTITY_NAMES},
        bank={name: pa.Table.from_pylist(ctx.rows(name), schema=s) for name, s in BANK_TABLES.items()},
        ground_truth={
            name: pa.Table.from_pylist(ctx.truth_rows(name), schema=s) for name, s in GROUND_TRUTH_TABLES.items()
        },
        declarations=ctx.catalog.get("official_declarations", []),
    )
