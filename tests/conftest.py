"""The whole suite's order and how it splits over workers.

Playwright's sync API runs an event loop in the test process's main thread for as long
as a browser is open, and the browser suite keeps one open for all its tests (starting
a site and a browser costs seconds). Every test after it that calls ``asyncio.run``
would fail with "cannot be called from a running event loop" — so nothing comes after
it. (CI found this on the full run; each part alone passed.)

With pytest-xdist (``-n 2 --dist loadgroup``, as ``make test`` runs) each test module is
one group, kept on one worker so its module fixtures (a gateway and eight agents) start
once, and the browser suite is one group, sent last, so on its worker too nothing
follows it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

BROWSER = Path(__file__).resolve().parent / "console" / "browser"


def _in_browser_suite(item: pytest.Item) -> bool:
    return BROWSER in Path(str(item.path)).parents


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items[:] = [i for i in items if not _in_browser_suite(i)] + \
        [i for i in items if _in_browser_suite(i)]
    for item in items:
        group = "browser" if _in_browser_suite(item) else str(item.path)
        item.add_marker(pytest.mark.xdist_group(group))
