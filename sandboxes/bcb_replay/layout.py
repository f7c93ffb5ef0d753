"""Where the replay recordings live and how their files are laid out (shared by the builder and the server).

data/bcb_replay/
  catalog.json               every recording file: what it is, row counts by provenance, how it was made
  sources/                   verbatim copies of the real files the recordings come from (README names them)
  sgs/<code>.csv             date,value,provenance           (value as the API prints it)
  ptax/<CUR>.csv             quoted_at,bulletin,buy,sell,parity_buy,parity_sell,provenance
  closing/currencies.csv     code,type,symbol                (from the real closing file of 2026-07-31)
  closing/extra/<CUR>.csv    date,buy,sell,parity_buy,parity_sell,provenance  (closing-file-only currencies)
  closing/files/YYYYMMDD.csv real closing files, served verbatim
  focus/<EntitySet>.csv      the API's field names as header, plus provenance
  olinda/Moedas.json         the real PTAX `Moedas` answer

`provenance` is `real` (every number of the row is BCB's, copied from a source named in sources/README.md),
`partly_synthetic` (the sell rate is real, the other numbers and the time were generated) or `synthetic`.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT / "data" / "bcb_replay"

CATALOG = "catalog.json"
SGS_DIR = "sgs"
PTAX_DIR = "ptax"
CLOSING_DIR = "closing"
CLOSING_CURRENCIES = "closing/currencies.csv"
CLOSING_EXTRA_DIR = "closing/extra"
CLOSING_FILES_DIR = "closing/files"
FOCUS_DIR = "focus"
MOEDAS = "olinda/Moedas.json"
SOURCES_DIR = "sources"

SGS_COLUMNS = ("date", "value", "provenance")
PTAX_COLUMNS = ("quoted_at", "bulletin", "buy", "sell", "parity_buy", "parity_sell", "provenance")
CLOSING_EXTRA_COLUMNS = ("date", "buy", "sell", "parity_buy", "parity_sell", "provenance")

REAL = "real"
PARTLY_SYNTHETIC = "partly_synthetic"
SYNTHETIC = "synthetic"
PROVENANCES = (REAL, PARTLY_SYNTHETIC, SYNTHETIC)

# Bulletin names as stored; CotacaoMoedaDia calls the closing bulletin "Fechamento PTAX".
OPENING, INTERMEDIATE, CLOSING = "Abertura", "Intermediário", "Fechamento"
CLOSING_IN_DAY_RESOURCE = "Fechamento PTAX"

# Focus fields holding numbers (everything else is text); empty cells are JSON null.
FOCUS_DECIMAL_FIELDS = frozenset(
    {
        "Media",
        "Mediana",
        "DesvioPadrao",
        "Minimo",
        "Maximo",
        "media",
        "mediana",
        "desvioPadrao",
        "coeficienteVariacao",
        "minimo",
        "maximo",
    }
)
FOCUS_INT_FIELDS = frozenset({"numeroRespondentes", "baseCalculo"})
