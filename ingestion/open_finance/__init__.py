"""Open Finance Brasil ingestion: a FAPI client (mutual TLS, private_key_jwt, consents, paging, call budget),
parsers into Arrow tables, and a local mutual-TLS sandbox institution. No Dagster import (see README.md)."""
