"""What every BCB extraction returns: the rows that landed and the records kept aside."""

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa

from ingestion.common.quarantine import QuarantineRecord


@dataclass(frozen=True)
class ExtractResult:
    """`table` is in one of the schemas of `ingestion.bcb.schemas`; `quarantine` lists what did not land."""

    table: pa.Table
    quarantine: list[QuarantineRecord] = field(default_factory=list)

    @classmethod
    def combine(cls, results: Iterable["ExtractResult"], schema: pa.Schema) -> "ExtractResult":
        """Concatenate several results of the same dataset (zero rows when there are none)."""
        parts = list(results)
        tables = [part.table for part in parts if part.table.num_rows]
        table = pa.concat_tables(tables) if tables else schema.empty_table()
        quarantine = [record for part in parts for record in part.quarantine]
        return cls(table=table, quarantine=quarantine)
