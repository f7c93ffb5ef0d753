"""Records that could not be landed, kept aside with the reason and the original text.

Every extraction returns its good rows as an Arrow table plus a list of `QuarantineRecord`s. A bad row costs
only itself; a body that cannot be parsed at all becomes one record holding the whole payload, and the
extraction raises `SourcePayloadError` (carrying that record) so the partition fails before anything is
written to the lake.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("entity", pa.string(), nullable=False),
        pa.field("record_key", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("payload", pa.string(), nullable=False),
    ]
)


@dataclass(frozen=True)
class QuarantineRecord:
    """One record kept out of the lake.

    `record_key` names the record (e.g. `series=1 date=2024-01-02`, or the request for a whole body),
    `reason` says what was wrong in words a person on call understands, and `payload` is the original text,
    unchanged.
    """

    source: str
    entity: str
    record_key: str
    reason: str
    payload: str


class SourcePayloadError(RuntimeError):
    """A source answered, but nothing usable could be read from the body (after every retry).

    `quarantine` holds the record(s) describing the body, so the caller can store them before failing.
    """

    def __init__(self, message: str, quarantine: list[QuarantineRecord]):
        super().__init__(message)
        self.quarantine = quarantine


def to_arrow(records: Iterable[QuarantineRecord]) -> pa.Table:
    """The records as an Arrow table in `QUARANTINE_SCHEMA` (zero rows for an empty list)."""
    rows = list(records)
    columns = {name: [getattr(record, name) for record in rows] for name in QUARANTINE_SCHEMA.names}
    return pa.Table.from_pydict(columns, schema=QUARANTINE_SCHEMA)
