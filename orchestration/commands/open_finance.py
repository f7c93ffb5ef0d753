"""`importau open-finance connect <institution>`: the direct consent journey (ingestion/open_finance/journey.py).

Reads the institution's entry from OPEN_FINANCE_INSTITUTIONS (its `client_id` and `directory` selector), the
Directory participants document from OPEN_FINANCE_DIRECTORY_PARTICIPANTS (a path or URL; default the production
Directory), the certificates as every pull does, and stores the refresh token where the pulls read it
(OPEN_FINANCE_TOKEN_FILE, else <OPEN_FINANCE_STATE_DIR or $IMPORTAU_DATA_DIR/open_finance>/tokens.json, mode 0600).
Prints the bank's authorization URL (and opens it with `--open`), waits for the callback on the loopback redirect
URI, and prints the consent it connected: never a token or a code.
"""

import argparse
import os
import ssl
import sys
import webbrowser
from datetime import UTC, datetime, timedelta

from orchestration.resources.settings import resolve_data_dir

DIRECTORY_ENV = "OPEN_FINANCE_DIRECTORY_PARTICIPANTS"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "open-finance",
        help="Open Finance Brasil: connect an institution (the consent journey)",
        description="Open Finance Brasil commands for a company that is itself a participant (README: 'Connect "
        "your banks').",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    connect = actions.add_parser(
        "connect",
        help="create a consent, send the account holder to the bank, store the refresh token",
        description="Discover the institution in the Directory, create the consent, push the authorization "
        "request, print the bank's URL, receive the callback on 127.0.0.1, exchange the code and store the "
        "refresh token (0600) where the pulls read it.",
    )
    connect.add_argument("institution", help="the institution's name in OPEN_FINANCE_INSTITUTIONS")
    connect.add_argument("--cpf", help="CPF of the person who approves at the bank (else OPEN_FINANCE_LOGGED_USER_CPF)")
    connect.add_argument("--cnpj", help="the company's CNPJ (else OPEN_FINANCE_BUSINESS_CNPJ)")
    connect.add_argument(
        "--redirect-uri",
        help="loopback redirect URI registered for the client (else the institution's redirect_uri, "
        "OPEN_FINANCE_REDIRECT_URI, http://127.0.0.1:8765/callback)",
    )
    connect.add_argument(
        "--timeout",
        type=float,
        help="seconds to wait for the callback (else OPEN_FINANCE_CALLBACK_TIMEOUT_SECONDS, 300)",
    )
    connect.add_argument("--days", type=int, default=365, help="consent term in days (0 = no fixed term); 365")
    connect.add_argument("--open", action="store_true", help="open the URL in the default browser as well")
    connect.set_defaults(handler=run_connect)


def _callback_context(environ) -> ssl.SSLContext | None:
    cert, key = environ.get("OPEN_FINANCE_CALLBACK_CERT_PATH"), environ.get("OPEN_FINANCE_CALLBACK_KEY_PATH")
    if not cert or not key:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def run_connect(args: argparse.Namespace) -> int:
    from ingestion.open_finance.auth import TokenStore
    from ingestion.open_finance.budget import CallBudget
    from ingestion.open_finance.config import (
        DEFAULT_PERMISSIONS,
        ConfigError,
        budget_file,
        institution_entries,
        token_file,
    )
    from ingestion.open_finance.directory import DEFAULT_PARTICIPANTS_URL
    from ingestion.open_finance.errors import OpenFinanceError
    from ingestion.open_finance.journey import (
        DEFAULT_CALLBACK_TIMEOUT,
        DEFAULT_REDIRECT_URI,
        ConnectOptions,
        connect,
        find_entry,
    )

    environ = dict(os.environ)
    name = args.institution
    prefix = f"importau open-finance connect {name}"
    cpf = args.cpf or environ.get("OPEN_FINANCE_LOGGED_USER_CPF", "")
    if not cpf.isdigit() or len(cpf) != 11:
        print(
            f"{prefix}: give the CPF (11 digits) of the person who approves: --cpf or OPEN_FINANCE_LOGGED_USER_CPF",
            file=sys.stderr,
        )
        return 2
    data_dir = resolve_data_dir(environ.get("IMPORTAU_DATA_DIR", ""))
    try:
        entry = find_entry(institution_entries(environ), name)
        timeout = args.timeout or float(
            environ.get("OPEN_FINANCE_CALLBACK_TIMEOUT_SECONDS") or DEFAULT_CALLBACK_TIMEOUT
        )
        options = ConnectOptions(
            logged_user_cpf=cpf,
            business_cnpj=args.cnpj or environ.get("OPEN_FINANCE_BUSINESS_CNPJ") or None,
            redirect_uri=args.redirect_uri
            or entry.get("redirect_uri")
            or environ.get("OPEN_FINANCE_REDIRECT_URI")
            or DEFAULT_REDIRECT_URI,
            callback_timeout=timeout,
            expiration=datetime.now(UTC) + timedelta(days=args.days) if args.days > 0 else None,
            permissions=tuple(entry.get("permissions") or DEFAULT_PERMISSIONS),
            callback_ssl_context=_callback_context(environ),
        )

        def show(url: str) -> None:
            print(
                f"Open this address, sign in at the bank and approve the consent (waiting {timeout:g} s):", flush=True
            )
            print(f"  {url}", flush=True)
            if args.open:
                webbrowser.open(url)

        connection = connect(
            entry,
            environ,
            participants_source=environ.get(DIRECTORY_ENV) or DEFAULT_PARTICIPANTS_URL,
            options=options,
            token_store=TokenStore(token_file(environ, data_dir)),
            budget=CallBudget(budget_file(environ, data_dir)),
            show_url=show,
        )
    except (OpenFinanceError, ConfigError, OSError, ssl.SSLError, ValueError) as error:
        print(f"{prefix}: {error}", file=sys.stderr)
        return 1
    until = f"until {connection.expiration:%Y-%m-%d}" if connection.expiration else "with no fixed term"
    print(
        f"Connected {name} ({connection.authorisation_server.name}): consent {connection.consent_id} AUTHORISED "
        f"{until}, permissions {', '.join(connection.permissions)}. The refresh token is stored in "
        f"{token_file(environ, data_dir)}; the Open Finance pulls use it from now on."
    )
    return 0
