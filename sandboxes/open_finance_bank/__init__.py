"""A local Open Finance Brasil institution over mutual TLS (`SandboxBank`), fed by a pluggable `BankData`."""

from sandboxes.open_finance_bank.bank import SandboxBank
from sandboxes.open_finance_bank.data import BankData, Entry, FxOperation

__all__ = ["BankData", "Entry", "FxOperation", "SandboxBank"]
