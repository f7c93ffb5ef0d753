"""`python -m sandboxes.open_finance_bank [--port N] [--today YYYY-MM-DD] [--truth DIR [--compe CODE]]`.

Runs the sandbox institution, with the built-in demo dataset or, with `--truth`, one bank of the demo company's
bank truth (the Parquet folder `python -m sandboxes.demo_company` writes under `<out>/bank`; `--compe` picks the
bank by COMPE code, default the first).

Prints its URLs, the client certificate paths, a ready AUTHORISED consent with its one-time authorization
code, and the environment variables that point the platform at it; serves until Ctrl-C. The certificates
live in a temporary directory removed on exit. `--participants FILE` also writes a Directory participants
document naming this bank, for `importau open-finance connect` (OPEN_FINANCE_DIRECTORY_PARTICIPANTS=FILE).
"""

import argparse
import json
import signal
import sys
import threading
from datetime import date
from pathlib import Path

from sandboxes.open_finance_bank.bank import SandboxBank
from sandboxes.open_finance_bank.erp_truth import bank_data_from_truth, read_truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.open_finance_bank", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = a free port")
    parser.add_argument("--today", type=date.fromisoformat, default=None, help="the bank's calendar day")
    parser.add_argument("--truth", type=Path, default=None, help="bank truth folder of the ERP demo company")
    parser.add_argument("--compe", default=None, help="which bank of the truth (COMPE code)")
    parser.add_argument("--name", default="sandbox", help="institution name in the printed environment")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument("--participants", type=Path, default=None, help="write a Directory participants document")
    args = parser.parse_args(argv)
    data = None
    if args.truth is not None:
        banks = bank_data_from_truth(read_truth(args.truth))
        compe = args.compe or sorted(banks)[0]
        if compe not in banks:
            parser.error(f"no bank with COMPE code {compe} in {args.truth}; there are {sorted(banks)}")
        data = banks[compe]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SandboxBank(data=data, today=args.today, host=args.host, port=args.port, verbose=args.verbose) as bank:
        consent_id, code = bank.create_authorised_consent()
        certs = bank.certs
        brand = bank.state.data.brand_name
        print(f"Open Finance sandbox institution {brand!r} at {bank.base_url} (today = {bank.today})")
        print(f"  token endpoint         {bank.token_url}  (private_key_jwt, PS256; client_id {bank.client_id})")
        for family in ("consents", "resources", "accounts", "credit-cards-accounts", "exchanges"):
            print(f"  {family:<22} {bank.institution(consent_id).url(family)}")
        print(f"  OpenID discovery       {bank.discovery_url}  (authorize on {bank.front_url}, no client cert)")
        print(f"  control API            {bank.base_url}/_sandbox/  (mutual TLS too)")
        if args.participants is not None:
            args.participants.write_text(json.dumps(bank.participants(name=brand), indent=1), encoding="utf-8")
            print(f"  Directory participants {args.participants}  (OPEN_FINANCE_DIRECTORY_PARTICIPANTS)")
        print(f"  CA certificate         {certs.ca_cert}")
        print(f"  client certificate     {certs.client_cert}")
        print(f"  client key             {certs.client_key}")
        print(f"  consent                {consent_id} (AUTHORISED)")
        print("Environment for the platform (the authorization code is single-use):")
        for name, value in bank.env(consent_id, code, name=args.name).items():
            print(f"  export {name}='{value}'")
        sys.stdout.flush()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
