"""A real Chromium (Debian's ``chromium``, driven by Playwright for Python) against the
console served as its own HTTPS process, in front of a real gateway and its agents.

One ConsoleSite and one browser for the whole browser suite (each takes seconds to
start); each test opens its own browser contexts (its own cookies). Screenshots of
every step go to ``test-artifacts/screenshots/<test>/<n>-<step>.png`` (gitignored) so a
person can see what the browser saw. See ``browsing.py`` for how the browser is made to
trust the console's certificate.
"""

from __future__ import annotations

import re
import shutil
import signal
import ssl
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browsing import CHROMIUM_ARGS, SCREENSHOTS, Browsing, chromium_path, spki_pin
from console_site import ConsoleSite

from hedui.gateway import sandbox


@pytest.fixture(scope="session")
def browsing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browsing]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (pip install -e '.[dev]')")
    executable = chromium_path()
    if executable is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run "
                    "does it)")
    site = ConsoleSite(tmp_path_factory.mktemp("browser"))
    try:
        start_all(site)
        pin = spki_pin(site.sb.console.dir / "web.crt")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=executable, headless=True,
                args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={pin}"])
            try:
                yield Browsing(site, browser)
            finally:
                browser.close()
    finally:
        stop_all(site)


def start_all(site: ConsoleSite) -> None:
    """The gateway, its eight agents and the console, started side by side and then
    waited for (one after another they take half a minute on two cores)."""
    sb = site.sb
    site.processes["gateway"] = sandbox.start_gateway(sb)
    for d in sb.agents:
        site.processes[d] = sandbox.start_agent(sb, d)
    console = site.processes["console"] = sandbox.start_process(
        ["console", "serve", "--config", str(site.console_file)], sb.logs / "console.log")
    sandbox.wait_healthy(sb.gateway_endpoint, sb.gateway.id, site.material, timeout=60,
                         process=site.processes["gateway"], log_file=sb.logs / "gateway.log")
    for d in sb.agents:
        sandbox.wait_healthy(sb.endpoints[d], sb.agents[d].id, site.material, timeout=60,
                             process=site.processes[d], log_file=sb.logs / f"agent-{d}.log")
    context = ssl.create_default_context(cafile=str(sb.ca_certificate))
    deadline = time.monotonic() + 60
    while True:
        if console.poll() is not None:
            raise RuntimeError((sb.logs / "console.log").read_text(errors="replace")[-3000:])
        try:
            with urllib.request.urlopen(site.url + "/healthz", context=context, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def stop_all(site: ConsoleSite) -> None:
    """SIGTERM to every process at once, then each waited for."""
    for p in site.processes.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    site.stop()


@pytest.fixture()
def shot(request: pytest.FixtureRequest) -> Callable[..., None]:
    """``shot(page, "step")`` saves ``<n>-<step>.png`` in this test's screenshot folder."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    count = [0]

    def save(page: Any, step: str) -> None:
        count[0] += 1
        page.screenshot(path=str(folder / f"{count[0]:02d}-{step}.png"), full_page=True)

    return save
