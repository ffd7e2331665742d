"""The whole suite's order: the browser tests run last.

Playwright's sync API runs an event loop in the test process's main thread for as long
as a browser is open, and the browser suite keeps one open for all its tests (starting
a site and a browser costs seconds). Every test after it that calls ``asyncio.run``
would fail with "cannot be called from a running event loop" — so nothing comes after
it. (CI found this on the full run; each part alone passed.)

With pytest-xdist, ``make test`` runs ``-n 2 --dist loadfile``: each test module goes
whole to one worker, so its module fixtures (a gateway and eight agents) start once and
its tests run in order, and the modules are handed out in this order, so on each worker
the browser modules still come last. (``--dist loadgroup`` with ``xdist_group`` marks
does not group anything under pytest 9 — the nodeid suffix it relies on no longer
sticks — and split modules over both workers: a test that read what an earlier test of
its module had made found nothing. CI, 2026-12-04.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

BROWSER = Path(__file__).resolve().parent / "console" / "browser"


def _in_browser_suite(item: pytest.Item) -> bool:
    return BROWSER in Path(str(item.path)).parents


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items[:] = [i for i in items if not _in_browser_suite(i)] + \
        [i for i in items if _in_browser_suite(i)]
