"""Pluggy, an authorised Open Finance aggregator: the company's bank data through Pluggy's data API (README.md)."""
