"""The running cockpit in a real browser: `importau cockpit` on the demo company, each page opened by a headless
Chromium (tests/servers/chromium.py), which waits for the page's script to finish and saves a screenshot.

Screenshots and the measured load times go to `tests/artifacts/cockpit/` (git-ignored; CI keeps the folder as an
artifact): `<page>.png` and `page_load_seconds.json` (each page's first visit after the server started, then a
warm one, with the load average). Times are reported, not asserted.
"""

import json
import os
import time
from pathlib import Path

import httpx
import pytest

from cockpit.i18n import PAGES
from tests.dbt.dbt_harness import REPO, dbt_env
from tests.servers.chromium import headless_chromium
from tests.servers.processes import free_port, started_group

ARTIFACTS = REPO / "tests" / "artifacts" / "cockpit"
# The page's script ran to its end (the marker is its last element) and Streamlit shows no error.
READY = (
    "!!document.querySelector('#cockpit-ready[data-page=\"{page}\"]') "
    "&& !document.querySelector('[data-testid=\"stStatusWidget\"]')"
)
ERRORS = 'document.querySelectorAll(\'[data-testid="stException"], [data-testid="stAlertContentError"]\').length'
# every visible table's grid canvas is there (tables draw after the script ends; one in a closed expander never)
TABLES_DRAWN = (
    "Array.from(document.querySelectorAll('[data-testid=\"stDataFrame\"]'))"
    ".every(e => e.closest('details:not([open])') || e.querySelector('canvas'))"
)
SETTLE_S = 2.0  # charts draw after the script ends: wait before the screenshot (not part of the load time)


def wait_healthy(url: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=5.0).text.strip() == "ok":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the cockpit did not answer at {url} within {timeout} s")


def visit_pages(base_url: str, workdir: Path, artifacts: Path) -> dict:
    """Open every page twice (first, then warm), screenshot the first visit; the load times and errors."""
    visits = {}
    with headless_chromium(workdir) as page:
        for key in PAGES:
            url = f"{base_url}/?page={key}"
            first = page.open(url, READY.format(page=key))
            errors = page.evaluate(ERRORS)
            page.wait_for(TABLES_DRAWN, timeout=60)
            time.sleep(SETTLE_S)
            page.screenshot(artifacts / f"{key}.png")
            warm = page.open(url, READY.format(page=key))
            visits[key] = {"first_s": round(first, 2), "warm_s": round(warm, 2), "errors": errors}
    return visits


@pytest.mark.integration
def test_every_page_opens_in_chromium_and_is_screenshot(demo_built, tmp_path):
    port = free_port()
    env = dbt_env(demo_built.data_dir)
    env["IMPORTAU_COCKPIT_MARKER"] = str(tmp_path)  # finds anything the server started, to stop it
    command = [str(REPO / ".venv" / "bin" / "importau"), "cockpit", "--port", str(port)]
    base_url = f"http://127.0.0.1:{port}"
    with started_group(
        command, env, tmp_path / "cockpit.log", f"IMPORTAU_COCKPIT_MARKER={tmp_path}", cwd=REPO, bound_s=15
    ):
        wait_healthy(base_url)
        visits = visit_pages(base_url, tmp_path, ARTIFACTS)
    report = {"load_average": os.getloadavg(), "pages": visits, "data_dir": str(demo_built.data_dir)}
    (ARTIFACTS / "page_load_seconds.json").write_text(json.dumps(report, indent=1))
    assert set(visits) == set(PAGES)
    assert {key: visit["errors"] for key, visit in visits.items()} == dict.fromkeys(PAGES, 0), (
        tmp_path / "cockpit.log"
    ).read_text()[-3000:]
    for key in PAGES:
        png = (ARTIFACTS / f"{key}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 20_000, key  # a drawn page, not a blank one
