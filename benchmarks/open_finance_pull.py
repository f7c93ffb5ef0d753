"""Benchmark: one Open Finance pull of the demo company's busiest bank, the way the code pulled before issue 10
(every call locks and rewrites the budget file; FX operations one after another) against how it pulls now.

The demo company (`generate(seed=42, scale)`, 2024) is served by the sandbox institution running in a process of its
own (`python -m sandboxes.open_finance_bank --truth ...`: mutual TLS on 127.0.0.1, as a bank would be, so the
client's profile is only the client). The pull is one chunk of the demo's ranged run: the bank's day 2024-12-31,
a 31-day window, every FX operation (the list has no date filter) with its detail and events.

Configurations, measured in the same run, interleaved repeat by repeat (best of --repeat):
  before        `FapiSession(budget=CallBudget(file))` (one locked read-modify-write of the budget file per call)
                and `max_parallel_calls=1` (FX detail and events one operation after another): the code before
  session       `pull_institution` with `max_parallel_calls=1`: only the budget charged in memory (BudgetSession)
  pool N        `pull_institution` with `max_parallel_calls=N` (4 is the default): budget session + FX fan-out
Floors, in the same run: the same data-API requests the pull made (from the sandbox's request log) replayed with a
bare mutual-TLS httpx client and a ready token, no budget, no parsing: one after another ("floor 1") and by N
threads ("floor N"): what the local APIs need to answer.
--latency-ms adds that delay to every API answer in the sandbox (its `slow` fault), like a bank's round trip.

Reported per latency and configuration: wall seconds, calls (attempts), calls/s, budget-file writes (locked
reservations + give-backs), "vs before" = before's seconds / these seconds (the speed-up), "x floor" = these
seconds / the floor of the same pool size. The tables of every configuration must be byte-identical (Parquet), and
the budget file must hold the same counts after each pull, else the run fails.

    .venv/bin/python benchmarks/open_finance_pull.py                       # --scale 10 --latency-ms 0,10 --repeat 3
    .venv/bin/python benchmarks/open_finance_pull.py --scale 1 --configs before,pool4 --repeat 1
"""

import argparse
import hashlib
import io
import json
import os
import platform
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from ingestion.open_finance.auth import TokenManager, TokenStore, http_client
from ingestion.open_finance.budget import CallBudget
from ingestion.open_finance.client import OpenFinanceClient
from ingestion.open_finance.config import Institution, load_institutions
from ingestion.open_finance.extract import PullOptions, pull_institution, pull_with_client, to_extract
from ingestion.open_finance.transport import CallSettings, FapiSession
from sandboxes.demo_company.company import generate

REPO = Path(__file__).resolve().parents[1]
DAY = date(2024, 12, 31)  # the sandbox bank's today in the demo
WINDOW_DAYS = 31  # one chunk of the demo's ranged run (OPEN_FINANCE_BACKFILL_CHUNK_DAYS)
START_TIMEOUT = 120.0  # seconds for the sandbox process to print its environment


class CountingBudget(CallBudget):
    """The real file budget, counting its locked writes (reservations and give-backs) for the report."""

    def __init__(self, path):
        super().__init__(path)
        self.writes = 0

    def reserve(self, *args, **kwargs):
        self.writes += 1
        return super().reserve(*args, **kwargs)

    def give_back(self, unused):
        if any(n > 0 for n in unused.values()):
            self.writes += 1
        super().give_back(unused)


class Sandbox:
    """`python -m sandboxes.open_finance_bank --truth <dir> --compe <code>` in a child process."""

    def __init__(self, truth: Path, compe: str):
        command = [sys.executable, "-m", "sandboxes.open_finance_bank", "--truth", str(truth), "--compe", compe]
        command += ["--today", DAY.isoformat(), "--name", "bench"]
        self.process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
        self.env: dict[str, str] = {}
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in self.process.stdout], daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while "OPEN_FINANCE_BENCH_AUTHORIZATION_CODE" not in self.env:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise RuntimeError(f"the sandbox did not print its environment in {START_TIMEOUT:.0f} s") from None
            match = re.match(r"\s*export (\w+)='(.*)'$", line)
            if match:
                self.env[match.group(1)] = match.group(2)
        [institution] = load_institutions(self.env)
        self.institution = replace(institution, monthly_call_budget={"default": 1_000_000})
        self.control = http_client(self.institution, timeout=30)

    def call(self, method: str, route: str, payload: dict | None = None):
        response = self.control.request(method, f"{self.institution.api_base_url}/_sandbox/{route}", json=payload)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        if getattr(self, "control", None) is not None:
            self.control.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def digest(extract) -> str:
    sha = hashlib.sha256()
    for entity in sorted(extract.tables):
        sink = io.BytesIO()
        pq.write_table(extract.tables[entity], sink)
        sha.update(entity.encode() + sink.getvalue())
    return sha.hexdigest()[:16]


def pull_before(institution: Institution, store: TokenStore, budget: CallBudget, settings: CallSettings):
    """The code path before issue 10: the file budget charged per call, FX operations one after another."""
    institution = replace(institution, max_parallel_calls=1)
    options = PullOptions(window_days=WINDOW_DAYS)
    with http_client(institution, settings.timeout) as http:
        session = FapiSession(institution, http, TokenManager(institution, http, store), budget, settings)
        parsed = pull_with_client(OpenFinanceClient(session), DAY, DAY, options)
    return to_extract(institution.name, (DAY - timedelta(days=WINDOW_DAYS - 1), DAY), parsed, session.calls)


def pull_now(institution: Institution, store: TokenStore, budget: CallBudget, settings: CallSettings, workers: int):
    return pull_institution(
        replace(institution, max_parallel_calls=workers),
        DAY,
        token_store=store,
        budget=budget,
        settings=settings,
        options=PullOptions(window_days=WINDOW_DAYS),
        today=DAY,
    )


def replay(sandbox: Sandbox, store: TokenStore, requests: list[dict], workers: int, settings: CallSettings) -> float:
    """The pull's data-API GETs again with a bare client: token, interaction id, nothing else. Seconds."""
    institution = sandbox.institution
    urls = [
        f"{institution.api_base_url}{q['path']}" + (f"?{q['query']}" if q["query"] else "")
        for q in requests
        if q["method"] == "GET" and not q["path"].startswith("/open-banking/consents/")
    ]
    with http_client(institution, settings.timeout) as http:
        token = TokenManager(institution, http, store).data_token()

        def get(url: str) -> None:
            headers = {"Authorization": f"Bearer {token}", "x-fapi-interaction-id": str(uuid.uuid4())}
            response = http.get(url, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"replay: HTTP {response.status_code} for {url}")

        t0 = time.perf_counter()
        if workers <= 1:
            for url in urls:
                get(url)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for future in [pool.submit(get, url) for url in urls]:
                    future.result(timeout=settings.longest_call())
        return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=10.0, help="demo company scale (default 10)")
    parser.add_argument("--compe", default="", help="which bank (COMPE code); default the one with most FX operations")
    parser.add_argument("--latency-ms", default="0,10", help="delays added to every API answer (default 0,10)")
    parser.add_argument("--configs", default="before,session,pool4,pool8", help="default before,session,pool4,pool8")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each configuration; best shown (default 3)")
    parser.add_argument("--no-floor", action="store_true", help="skip the replay floors")
    args = parser.parse_args(argv)
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    for config in configs:
        if config not in ("before", "session") and not re.fullmatch(r"pool\d+", config):
            parser.error(f"unknown configuration {config!r}")
    latencies = [float(x) for x in args.latency_ms.split(",") if x.strip()]

    load = os.getloadavg()
    print(
        f"{platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        flush=True,
    )
    work = Path(tempfile.mkdtemp(prefix="bench-open-finance-"))
    company = generate(seed=42, scale=args.scale, start=date(2024, 1, 1), end=DAY)
    truth = work / "bank"
    truth.mkdir()
    for name, table in company.bank.items():
        pq.write_table(table, truth / f"{name}.parquet")
    compe_of = {a["account_id"]: a["compe_code"] for a in company.bank["bank_accounts"].to_pylist()}
    per_bank = Counter(compe_of.get(o["account_id"]) for o in company.bank["fx_operations"].to_pylist())
    compe = args.compe or per_bank.most_common(1)[0][0]
    print(f"scale {args.scale:g}: bank {compe}, {per_bank[compe]} FX operations in the truth", flush=True)

    settings = CallSettings()  # production waits and timeouts; nothing fails in a clean run
    sandbox = Sandbox(truth, compe)
    results: dict[tuple[float, str], list[tuple[float, int, int]]] = {}
    floors: dict[tuple[float, int], list[float]] = {}
    digests: set[str] = set()
    counted: set[str] = set()  # the budget file's counts after each pull: the same for every configuration
    try:
        store = TokenStore(work / "tokens.json")
        code = sandbox.env["OPEN_FINANCE_BENCH_AUTHORIZATION_CODE"]
        with http_client(sandbox.institution, 30) as http:  # first grant (untimed); refresh tokens afterwards
            TokenManager(sandbox.institution, http, store, authorization_code=code).data_token()
        pull_now(sandbox.institution, store, CallBudget(None), settings, 4)  # warm-up, untimed
        for latency in latencies:
            sandbox.call("DELETE", "faults")
            if latency:
                sandbox.call("POST", "faults", {"kind": "slow", "count": 10**9, "seconds": latency / 1000})
            for _ in range(args.repeat):
                for config in configs:
                    budget = CountingBudget(work / f"budget-{uuid.uuid4().hex}.json")
                    sandbox.call("DELETE", "requests")
                    t0 = time.perf_counter()
                    if config == "before":
                        extract = pull_before(sandbox.institution, store, budget, settings)
                    else:
                        workers = 1 if config == "session" else int(config.removeprefix("pool"))
                        extract = pull_now(sandbox.institution, store, budget, settings, workers)
                    seconds = time.perf_counter() - t0
                    calls = sum(extract.calls.values())
                    counted.add(json.dumps(budget.usage(), sort_keys=True))  # (follow-up pages are free)
                    digests.add(digest(extract))
                    results.setdefault((latency, config), []).append((seconds, calls, budget.writes))
                    print(f"  latency {latency:g} ms  {config:<8} {seconds:8.2f} s  {calls} calls", flush=True)
                if not args.no_floor:  # once per repeat: every configuration made the same requests
                    requests = sandbox.call("GET", "requests")
                    for workers in sorted({1, *(int(c[4:]) for c in configs if c.startswith("pool"))}):
                        took = replay(sandbox, store, requests, workers, settings)
                        floors.setdefault((latency, workers), []).append(took)
                        print(f"  latency {latency:g} ms  floor {workers:<2}  {took:8.2f} s", flush=True)
    finally:
        sandbox.stop()
    if len(digests) != 1:
        raise RuntimeError(f"the configurations landed different tables: {sorted(digests)}")
    if len(counted) != 1:
        raise RuntimeError(f"the configurations left different counts in the budget file: {sorted(counted)}")

    load = os.getloadavg()
    print(
        f"\nsame tables in every configuration (digest {digests.pop()}); load average at end "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print("| latency | configuration | s (best) | calls | calls/s | budget-file writes | vs before | x floor |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for latency in latencies:
        before = min(r[0] for r in results[(latency, "before")]) if (latency, "before") in results else None
        for config in configs:
            seconds, calls, writes = min(results[(latency, config)])
            workers = 1 if config in ("before", "session") else int(config[4:])
            floor = min(floors[(latency, workers)]) if (latency, workers) in floors else None
            speed_up = f"{before / seconds:.2f}" if before else ""
            ratio = f"{seconds / floor:.2f}" if floor else ""
            print(
                f"| {latency:g} ms | {config} | {seconds:.2f} | {calls} | {calls / seconds:,.0f} | {writes} | "
                f"{speed_up} | {ratio} |"
            )
        for workers in sorted({w for (lat, w) in floors if lat == latency}):
            print(f"| {latency:g} ms | *floor {workers}* | {min(floors[(latency, workers)]):.2f} | | | | | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
