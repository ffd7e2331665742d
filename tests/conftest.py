"""The whole suite's order: the browser tests run last.

Playwright's sync API runs an event loop in the test process's main thread for as long
as a browser is open, and the browser suite keeps one open for all its tests (starting
a site and a browser costs seconds). Every test after it that calls ``asyncio.run``
would fail with "cannot be called from a running event loop" — so nothing comes after
it. (CI found this on the full run; each part alone passed.)

With pytest-xdist, ``make test`` runs ``-n 2 --dist loadfile``: each test module goes
whole to one worker, so its module fixtures (a gateway and eight agents) start once and
its tests run in order. xdist hands modules out largest first, not in this order, and
the browser modules share one site in an order of their own, so ``make test`` runs the
browser suite afterwards as a second pytest, in one process. (CI, 2026-12-04:
``--dist loadgroup`` with ``xdist_group`` marks grouped nothing under pytest 9 and split
modules over both workers; and with ``loadfile`` alone a browser module ran before
smaller modules on its worker, whose ``asyncio.run`` then failed.)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

BROWSER = Path(__file__).resolve().parent / "console" / "browser"

# Each xdist worker provisions sandboxes from its own port range (below Linux's
# ephemeral ports): two workers picking the same "free" port at once had one's agent
# answer the other's gateway (CI, 2026-12-04: "Hostname Verification Check failed").
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER.startswith("gw") and _WORKER[2:].isdigit():
    _first = 20000 + 3000 * (int(_WORKER[2:]) % 4)
    os.environ.setdefault("HEDUI_SANDBOX_PORTS", f"{_first}-{_first + 2999}")


def _in_browser_suite(item: pytest.Item) -> bool:
    return BROWSER in Path(str(item.path)).parents


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items[:] = [i for i in items if not _in_browser_suite(i)] + \
        [i for i in items if _in_browser_suite(i)]
