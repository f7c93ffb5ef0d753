"""A local Open Finance Brasil institution over mutual TLS (`SandboxBank`), fed by a pluggable `BankData`."""

from ingestion.open_finance.sandbox.bank import SandboxBank
from ingestion.open_finance.sandbox.data import BankData, Entry, FxOperation

__all__ = ["BankData", "Entry", "FxOperation", "SandboxBank"]
