"""Validators built from the official OpenAPI files in ingestion/open_finance/specs/ (jsonschema, draft 4 rules,
which OpenAPI 3.0 schema objects follow). `$ref`s resolve inside the spec document itself.

`validate(spec, path, method, status, body)` checks a body against the schema of that operation's response.
The specs' `Links` patterns demand a DNS name with a top-level domain (`...\\.[a-z]{2,6}\\b`), which
`https://127.0.0.1:<port>` cannot match; `as_bank_host` rewrites the sandbox origin to the specs' own server
host (`https://api.banco.com.br`) before validation, and changes nothing else.
"""

import json
from functools import cache
from pathlib import Path

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPECS = Path(__file__).resolve().parents[3] / "ingestion" / "open_finance" / "specs"
FILES = {
    "accounts": "accounts/2.4.2.yml",
    "credit-cards": "credit-cards/2.3.1.yml",
    "exchanges": "exchanges/1.0.0.yml",
    "consents": "consents/3.3.1.yml",
    "resources": "resources/3.1.0.yml",
}
SPEC_HOST = "https://api.banco.com.br"


@cache
def spec(name: str) -> dict:
    return yaml.safe_load((SPECS / FILES[name]).read_text(encoding="utf-8-sig"))


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def _resolve(document: dict, ref: str) -> tuple[dict, list[str]]:
    parts = [part.replace("~1", "/").replace("~0", "~") for part in ref.removeprefix("#/").split("/")]
    node = document
    for part in parts:
        node = node[part]
    return node, parts


@cache
def validator(name: str, path: str, method: str, status: str) -> jsonschema.Draft4Validator:
    document = spec(name)
    response = document["paths"][path][method]["responses"][status]
    parts = ["paths", path, method, "responses", status]
    if "$ref" in response:
        response, parts = _resolve(document, response["$ref"])
    media = next(iter(response["content"]))
    uri = f"urn:open-finance-spec:{name}"
    registry = Registry().with_resource(uri, Resource.from_contents(document, default_specification=DRAFT4))
    schema = {"$ref": uri + _pointer(*parts, "content", media, "schema")}
    return jsonschema.Draft4Validator(schema, registry=registry)


def as_bank_host(body: dict, sandbox_base_url: str) -> dict:
    return json.loads(json.dumps(body).replace(sandbox_base_url, SPEC_HOST))


def validate(name: str, path: str, method: str, status: str, body: dict, sandbox_base_url: str) -> None:
    """Raise `jsonschema.ValidationError` (the first error, with its path) if `body` does not conform."""
    errors = sorted(
        validator(name, path, method, status).iter_errors(as_bank_host(body, sandbox_base_url)),
        key=lambda error: list(error.absolute_path),
    )
    if errors:
        first = errors[0]
        location = "/".join(str(part) for part in first.absolute_path)
        raise jsonschema.ValidationError(f"{name} {method.upper()} {path} {status} at /{location}: {first.message}")
