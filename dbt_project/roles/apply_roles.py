"""Apply roles.sql to a ClickHouse server: passwords come from the environment, only salted hashes reach SQL.

    CLICKHOUSE_ADMIN_URL=https://admin:...@host:8443/ \\
    IMPORTAU_BI_PASSWORD=... IMPORTAU_DBT_PASSWORD=... IMPORTAU_INGESTION_PASSWORD=... \\
        .venv/bin/python dbt_project/roles/apply_roles.py            # or --dry-run to print (hashes redacted)

roles.sql holds placeholders `${<VAR>_SHA256}` and `${<VAR>_SALT}` (<VAR> upper case). For each <VAR>
this script reads the password from the environment variable <VAR>, draws a random salt and substitutes
SHA-256(password + salt) in hex, the form `IDENTIFIED WITH sha256_hash BY '<hash>' SALT '<salt>'` expects.
Neither the password nor the hash is printed or logged. Statements run one by one with clickhouse-connect, as
the admin user of the URL.
"""

import argparse
import hashlib
import os
import re
import secrets
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROLES_SQL = Path(__file__).resolve().parent / "roles.sql"
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)_(SHA256|SALT)\}")
HEX_SECRET = re.compile(r"[0-9a-fA-F]{32,}")  # a salt (32 hex) or a hash (64 hex) echoed in an error


class MissingPasswordError(RuntimeError):
    """A password variable named by a placeholder is unset or empty."""


def code(sql: str) -> str:
    """`sql` without its `--` comment lines."""
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


def statements(sql: str) -> list[str]:
    """The statements of `sql`, without comment lines and `;` terminators, whitespace collapsed."""
    return [" ".join(part.split()) for part in code(sql).split(";") if part.strip()]


def password_variables(sql: str) -> list[str]:
    return sorted({match.group(1) for match in PLACEHOLDER.finditer(code(sql))})


def sha256_hash(password: str, salt: str) -> str:
    """What ClickHouse stores and checks for `sha256_hash ... SALT`: SHA-256 of password + salt, in hex."""
    return hashlib.sha256((password + salt).encode()).hexdigest()


def render(sql: str, env: Mapping[str, str], salt: Callable[[], str] = lambda: secrets.token_hex(16)) -> str:
    """The statements of `sql` (comments dropped) with every placeholder replaced: one salt per password
    variable, its hash from the password in `env`."""
    values: dict[str, dict[str, str]] = {}
    for name in password_variables(sql):
        password = env.get(name, "")
        if not password:
            raise MissingPasswordError(f"set the environment variable {name} (the password roles.sql needs)")
        user_salt = salt()
        values[name] = {"SALT": user_salt, "SHA256": sha256_hash(password, user_salt)}
    return PLACEHOLDER.sub(lambda match: values[match.group(1)][match.group(2)], code(sql))


def redacted(sql: str) -> str:
    """`sql` with placeholders shown as `<sha256 of $VAR>` / `<salt>`: what --dry-run prints."""
    return PLACEHOLDER.sub(
        lambda match: f"<sha256 of ${match.group(1)}>" if match.group(2) == "SHA256" else "<salt>", sql
    )


def _client(url: str):
    import clickhouse_connect  # noqa: PLC0415 (only the apply path needs it)

    parts = urlsplit(url)
    return clickhouse_connect.get_client(
        host=parts.hostname,
        port=parts.port or (8443 if parts.scheme == "https" else 8123),
        username=unquote(parts.username or "default"),
        password=unquote(parts.password or ""),
        secure=parts.scheme == "https",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sql", type=Path, default=ROLES_SQL, help="the roles file (default: roles.sql here)")
    parser.add_argument("--url", default=os.environ.get("CLICKHOUSE_ADMIN_URL", ""), help="admin http(s) URL")
    parser.add_argument("--dry-run", action="store_true", help="print the statements, hashes redacted")
    args = parser.parse_args(argv)
    sql = args.sql.read_text()
    if args.dry_run:
        print(";\n".join(statements(redacted(sql))) + ";")
        return 0
    if not args.url:
        parser.error("set CLICKHOUSE_ADMIN_URL or --url (a user with ACCESS MANAGEMENT)")
    try:
        rendered = statements(render(sql, os.environ))
    except MissingPasswordError as error:
        print(f"apply_roles: {error}", file=sys.stderr)
        return 2
    client = _client(args.url)
    for number, statement in enumerate(rendered, start=1):
        try:
            client.command(statement)
        except Exception as error:  # noqa: BLE001 (report which statement failed, without its hash)
            message = HEX_SECRET.sub("<redacted>", (str(error).strip().splitlines() or [type(error).__name__])[0])
            print(f"apply_roles: statement {number} failed: {redacted_head(statement)}: {message}", file=sys.stderr)
            return 1
        print(f"{number}/{len(rendered)} {redacted_head(statement)}")
    return 0


def redacted_head(statement: str) -> str:
    """The first words of a statement, cut before any IDENTIFIED clause (which carries a hash)."""
    return statement.split(" IDENTIFIED ")[0][:100]


if __name__ == "__main__":
    sys.exit(main())
