"""Banco Central do Brasil ingestion: SGS, PTAX, closing file and Focus into Arrow tables (see README.md)."""
