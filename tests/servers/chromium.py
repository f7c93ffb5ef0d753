"""A headless Chromium (Debian's `chromium`, installed by `.ci/services.sh`) driven over the DevTools protocol.

No Playwright or Selenium (neither can fetch a browser offline): the browser starts with
`--remote-debugging-port` on 127.0.0.1, and this module speaks the protocol's JSON messages over its websocket
(`websockets`' sync client). It opens a URL, waits (bounded) until a JavaScript condition holds, and saves a PNG
of the viewport. The time from `Page.navigate` to the condition is what a person waits for the page: it is
reported, never asserted (tests assert no timing). The browser runs in its own process group with its own
profile folder and gets SIGTERM if the test process dies.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from websockets.sync.client import connect

from tests.servers.processes import die_with_parent, free_port
from tests.servers.seaweedfs import stop_process_group


def chromium_binary() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise RuntimeError("no `chromium` on PATH: `bash .ci/services.sh` installs Debian's chromium package")
    return found


class Page:
    """One DevTools session on a page target."""

    def __init__(self, socket):
        self._socket = socket
        self._ids = itertools.count(1)

    def call(self, method: str, timeout: float = 60.0, **params) -> dict:
        """Send one command and return its result; events that arrive meanwhile are dropped."""
        message_id = next(self._ids)
        self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"DevTools {method}: no answer in {timeout} s")
            message = json.loads(self._socket.recv(timeout=left))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"DevTools {method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def open(self, url: str, ready: str, timeout: float = 180.0, poll: float = 0.1) -> float:
        """Navigate to `url` and wait until the JavaScript expression `ready` is true; the seconds it took."""
        started = time.monotonic()
        self.call("Page.navigate", url=url)
        while not self.evaluate(ready):
            if time.monotonic() - started > timeout:
                body = self.evaluate("document.body ? document.body.innerText.slice(0, 2000) : ''")
                raise TimeoutError(f"{url}: not ready after {timeout} s ({ready}); page text: {body!r}")
            time.sleep(poll)
        return time.monotonic() - started

    def wait_for(self, condition: str, timeout: float = 60.0, poll: float = 0.2) -> None:
        """Wait (bounded) until the JavaScript expression `condition` is true on the open page."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(condition):
            if time.monotonic() > deadline:
                raise TimeoutError(f"not true after {timeout} s: {condition}")
            time.sleep(poll)

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


@contextmanager
def headless_chromium(workdir: Path, width: int = 1440, height: int = 1400, timeout: float = 60.0) -> Iterator[Page]:
    """A headless Chromium on 127.0.0.1 with a blank page, and a DevTools session on that page."""
    port = free_port()
    profile = workdir / "chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    command = [
        chromium_binary(),
        "--headless",
        "--no-sandbox",  # tests may run as root, where Chromium's sandbox refuses to start
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",  # nothing leaves the machine
        f"--remote-debugging-port={port}",
        "--remote-debugging-address=127.0.0.1",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        "about:blank",
    ]
    with open(workdir / "chromium.log", "w") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=5.0).json()
                pages = [t for t in targets if t.get("type") == "page" and t.get("webSocketDebuggerUrl")]
                if pages:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Chromium did not start (see {workdir / 'chromium.log'})")
            time.sleep(0.2)
        # screenshots are several MB of base64; no proxy: the browser is on 127.0.0.1
        with connect(pages[0]["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024, open_timeout=30, proxy=None) as ws:
            page = Page(ws)
            page.call("Page.enable")
            yield page
    finally:
        stop_process_group(process)
