"""The offline tests' deployment, started once per session (see ``offline_testlib``)."""

from __future__ import annotations

import pytest
from offline_testlib import Site


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory):
    s = Site(tmp_path_factory.mktemp("offline"))
    try:
        s.start()
        yield s
    finally:
        s.stop()
