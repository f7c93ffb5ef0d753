"""A GraphQL query to a server the test started (the Dagster webserver of test_ui_runs and test_deployed_instance).

`graphql_data` posts the query with its variables, raises on an HTTP error status (`httpx.HTTPStatusError`),
asserts the answer holds no `errors` and returns its `data`. The caller's client must not use a proxy
(`trust_env=False`: the servers listen on 127.0.0.1 only).
"""

from __future__ import annotations

import httpx


def graphql_data(client: httpx.Client, url: str, query: str, variables: dict) -> dict:
    response = client.post(url, json={"query": query, "variables": variables})
    response.raise_for_status()
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]
