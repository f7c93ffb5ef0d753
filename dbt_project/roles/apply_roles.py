"""Apply roles.sql to a ClickHouse server: passwords come from the environment, only salted hashes reach SQL.

    CLICKHOUSE_ADMIN_URL=https://admin:...@host:8443/ \\
    IMPORTAU_BI_PASSWORD=... IMPORTAU_DBT_PASSWORD=... IMPORTAU_INGESTION_PASSWORD=... \\
    IMPORTAU_BI_ALLOWED_HOSTS=10.0.0.0/8 \\
        .venv/bin/python dbt_project/roles/apply_roles.py            # or --dry-run to print (hashes redacted)

roles.sql holds three kinds of placeholder:
- `${<VAR>_SHA256}` and `${<VAR>_SALT}` (<VAR> upper case): for each <VAR> this script reads the password from
  the environment variable <VAR>, draws a random salt and substitutes SHA-256(password + salt) in hex, the form
  `IDENTIFIED WITH sha256_hash BY '<hash>' SALT '<salt>'` expects. Neither the password nor the hash is printed.
- `${HOSTS:<VAR>}`: `HOST IP '<network>', IP '<address>'` from the comma- or space-separated IP addresses and
  CIDR networks in the environment variable <VAR>, each checked to be one; nothing when <VAR> is unset or empty.
- `${DBT_MART}`: the statement holding it is repeated once per mart of the dbt manifest (models whose schema is
  `marts`), so the BI role gets SELECT on each mart by name and never on `marts.*`, which would also cover the
  `__dbt_backup`/`__dbt_tmp` tables an interrupted build leaves. The manifest is re-parsed first when a dbt file
  changed since it was built (orchestration/dbt_manifest.py), or read from --manifest.
Statements run one by one with clickhouse-connect, as the admin user of the URL.
"""

import argparse
import hashlib
import ipaddress
import json
import os
import re
import secrets
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROLES_SQL = Path(__file__).resolve().parent / "roles.sql"
REPO = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)_(SHA256|SALT)\}")
HOSTS_PLACEHOLDER = re.compile(r"\$\{HOSTS:([A-Z][A-Z0-9_]*)\}")
MART_PLACEHOLDER = "${DBT_MART}"
MARTS_SCHEMA = "marts"
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DBT_LEFTOVER_MARK = "__dbt_"  # dbt-clickhouse's __dbt_backup, __dbt_tmp, __dbt_new_data... (dbt_leftovers.py)
HEX_SECRET = re.compile(r"[0-9a-fA-F]{32,}")  # a salt (32 hex) or a hash (64 hex) echoed in an error


class MissingPasswordError(RuntimeError):
    """A password variable named by a placeholder is unset or empty."""


class RolesConfigError(RuntimeError):
    """A host list that is not IP addresses/networks, or a manifest without usable marts."""


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


def host_clause(variable: str, value: str) -> str:
    """`HOST IP '<a>', IP '<b>'` for the IP addresses / CIDR networks in `value` (comma or space separated), or
    "" when `value` is empty. Anything else is refused, naming `variable` (it never reaches SQL)."""
    hosts = []
    for entry in value.replace(",", " ").split():
        try:
            host = ipaddress.ip_network(entry, strict=False) if "/" in entry else ipaddress.ip_address(entry)
        except ValueError:
            raise RolesConfigError(
                f"{variable}: {entry!r} is not an IP address or CIDR network (e.g. 10.0.0.0/8, 192.168.1.7)"
            ) from None
        hosts.append(f"IP '{host}'")
    return f"HOST {', '.join(hosts)}" if hosts else ""


def host_variables(sql: str) -> list[str]:
    return sorted({match.group(1) for match in HOSTS_PLACEHOLDER.finditer(code(sql))})


def marts_from_manifest(manifest: Path) -> list[str]:
    """The relation names of the dbt models built in the `marts` database (alias, else name), sorted.

    A `distributed_*` mart (cluster mode, README "Scale out") adds its `<name>_local` table: a Distributed read
    runs on the shards as the reading user when the cluster has an inter-server secret, so BI needs both."""
    nodes = json.loads(Path(manifest).read_text())["nodes"].values()
    models = [
        node
        for node in nodes
        if node.get("resource_type") == "model"
        and node.get("schema") == MARTS_SCHEMA
        and node.get("config", {}).get("materialized") != "ephemeral"
    ]
    marts = sorted(
        [node.get("alias") or node["name"] for node in models]
        + [
            f"{node.get('alias') or node['name']}_local"
            for node in models
            if str(node.get("config", {}).get("materialized", "")).startswith("distributed_")
        ]
    )
    if not marts:
        raise RolesConfigError(f"{manifest}: no dbt model in the {MARTS_SCHEMA} schema (is this the right manifest?)")
    return marts


def expand(sql: str, env: Mapping[str, str], marts: Sequence[str] = ()) -> str:
    """`sql` without comments, each `${HOSTS:<VAR>}` replaced by its HOST clause (or nothing) and each statement
    holding `${DBT_MART}` repeated once per name in `marts`. Password placeholders are left as they are."""
    for mart in marts:
        if not IDENTIFIER.match(mart) or DBT_LEFTOVER_MARK in mart:
            raise RolesConfigError(f"mart {mart!r} is not a plain identifier or carries {DBT_LEFTOVER_MARK!r}")
    body = code(sql)
    parts = []
    for statement in body.split(";"):
        if not statement.strip():
            continue
        if MART_PLACEHOLDER in statement:
            if not marts:
                raise RolesConfigError(f"roles.sql grants per mart ({MART_PLACEHOLDER}) but no mart was given")
            parts.extend(statement.replace(MART_PLACEHOLDER, mart) for mart in marts)
        else:
            parts.append(statement)
    expanded = ";".join(parts) + ";"
    return HOSTS_PLACEHOLDER.sub(lambda match: host_clause(match.group(1), env.get(match.group(1), "")), expanded)


def render(
    sql: str,
    env: Mapping[str, str],
    salt: Callable[[], str] = lambda: secrets.token_hex(16),
    marts: Sequence[str] = (),
) -> str:
    """The statements of `sql` (comments dropped) with every placeholder replaced: HOST clauses and one statement
    per mart (`expand`), then one salt per password variable, its hash from the password in `env`."""
    values: dict[str, dict[str, str]] = {}
    for name in password_variables(sql):
        password = env.get(name, "")
        if not password:
            raise MissingPasswordError(f"set the environment variable {name} (the password roles.sql needs)")
        user_salt = salt()
        values[name] = {"SALT": user_salt, "SHA256": sha256_hash(password, user_salt)}
    return PLACEHOLDER.sub(lambda match: values[match.group(1)][match.group(2)], expand(sql, env, marts))


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


def current_manifest() -> Path:
    """dbt_project/target/manifest.json, re-parsed first if a dbt file changed since it was built."""
    sys.path.insert(0, str(REPO))
    from orchestration.dbt_manifest import refresh_manifest  # noqa: PLC0415 (the repo root is on the path now)

    return refresh_manifest()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sql", type=Path, default=ROLES_SQL, help="the roles file (default: roles.sql here)")
    parser.add_argument("--url", default=os.environ.get("CLICKHOUSE_ADMIN_URL", ""), help="admin http(s) URL")
    parser.add_argument("--dry-run", action="store_true", help="print the statements, hashes redacted")
    parser.add_argument(
        "--manifest", type=Path, help="the dbt manifest naming the marts (default: dbt_project/target, re-parsed)"
    )
    args = parser.parse_args(argv)
    sql = args.sql.read_text()
    try:
        marts = marts_from_manifest(args.manifest or current_manifest()) if MART_PLACEHOLDER in code(sql) else []
        expanded = expand(sql, os.environ, marts)
    except (RolesConfigError, OSError, ValueError, KeyError, RuntimeError) as error:
        print(f"apply_roles: {error}", file=sys.stderr)
        return 2
    for variable in host_variables(sql):
        if not os.environ.get(variable, "").strip():
            print(
                f"apply_roles: {variable} is unset: no HOST clause, so a new user accepts any host and an existing "
                "one keeps the hosts it has (lift a restriction with ALTER USER <user> HOST ANY)",
                file=sys.stderr,
            )
    if args.dry_run:
        print(";\n".join(statements(redacted(expanded))) + ";")
        return 0
    if not args.url:
        parser.error("set CLICKHOUSE_ADMIN_URL or --url (a user with ACCESS MANAGEMENT)")
    try:
        rendered = statements(render(sql, os.environ, marts=marts))
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
