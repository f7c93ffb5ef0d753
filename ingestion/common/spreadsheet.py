"""Cells a person opens in a spreadsheet: text a spreadsheet would run as a formula is neutralised (OWASP's CSV
injection rule), while the warehouse and the lake keep every value as it came. Pure Python, no Dagster.

The rule (`neutralise`): a TEXT value whose first character is `=`, `+`, `-`, `@`, a tab or a carriage return
gets a single quote in front (`=HYPERLINK("http://x","y")` is written `'=HYPERLINK("http://x","y")`), which a
spreadsheet shows as text and never evaluates. Only text is touched: numbers, dates and NULLs are written as
they are, so `-12.50` from a Decimal column stays a number. A text that is a plain decimal number (`-12.50`,
`+3`, `1e-5`: sign, digits, optional fraction and exponent) is left alone too: a spreadsheet reads it as that
number, never as a formula, and prefixing it would turn an amount kept as text into a string. Everything else
that starts with a trigger is prefixed, `-2+3` and `+55 11 5555-0000` included (a spreadsheet would compute the
first and fail on the second).

Such a CSV also quotes every text value (`csv.QUOTE_NONNUMERIC`; numbers stay bare): Python's csv writer with
`\n` line ends leaves a carriage return inside a value unquoted, and a spreadsheet starts a new row there, whose
first cell (`x\r=cmd`) would escape the rule above.

Where it applies (outputs written for people): `importau sql --csv` (`orchestration/cli.py`, `write_csv`) and the
tables the ML assets log to MLflow as CSV artifacts (`ml_assets/common/training.py`). XLSX: `text_cells_only` stores a
string openpyxl took for a formula as the string it is (a string cell is never evaluated), used by the demo
ERP's XLSX export, the one XLSX the platform writes.

Where it does not (machine-to-machine files, byte-true on purpose): the demo ERP's CSV exports
(`sandboxes/demo_company/writers.py`) and the soak's corrected copies of them, which the platform reads back as an
ERP's files; the BCB replay recordings; and `quarantine/<stem>.rejected.csv` of a file drop, which holds the
ERP's own rows exactly as its export had them (no cell the dropped file did not already carry) for the ERP team
to fix and drop again: a quote added there would land with the fixed row (a `+55…` phone would come back as
`'+55…`).
"""

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TextIO

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def is_formula_like(value: object) -> bool:
    """A text a spreadsheet could take for a formula (see the module doc)."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and _PLAIN_NUMBER.fullmatch(value) is None


def neutralise(value: object) -> object:
    """The value to write in a cell a person opens: formula-like text prefixed with `'`, anything else as is."""
    return "'" + value if is_formula_like(value) else value


def neutralised_rows(rows: Iterable[Sequence[object]]) -> Iterator[list[object]]:
    """Each row with every cell `neutralise`d (for `csv.writer.writerows`)."""
    for row in rows:
        yield [neutralise(value) for value in row]


def write_csv(stream: TextIO, rows: Iterable[Sequence[object]]) -> None:
    """Rows (the header first) as a CSV for people: cells `neutralise`d, text quoted, numbers bare, `\n` ends."""
    csv.writer(stream, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC).writerows(neutralised_rows(rows))


def text_cells_only(worksheet) -> None:
    """In an openpyxl worksheet, every cell openpyxl took for a formula (a string starting with `=`) is stored as
    the string it is: the value stays byte-true and no spreadsheet evaluates it."""
    for row in worksheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
