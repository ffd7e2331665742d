"""Imports flow one way: console → the gateway's contract; gateway → agents' contract,
audit, keys; agents → audit, keys; never back. Each component's modules are imported in
a fresh interpreter and what got loaded is compared with what it may use, so an import
hidden three modules deep fails here too."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: the gateway modules the console may use: the protos' companions, no case logic
CONSOLE_MAY_USE = frozenset({
    "hedui.gateway", "hedui.gateway.client", "hedui.gateway.household",
    "hedui.gateway.batch", "hedui.gateway.batch_results", "hedui.gateway.masking",
    "hedui.gateway.case_errors",
})

_LOADED = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    if ".migrations." in info.name:  # alembic runs these, in its own context
        continue
    importlib.import_module(info.name)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("hedui."))))
"""


def _loaded(package: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", _LOADED, package], capture_output=True,
                         text=True, timeout=120, check=True)
    return json.loads(out.stdout)


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize(("package", "never"), [
    ("hedui.gateway", ("hedui.console",)),
    ("hedui.agents", ("hedui.gateway", "hedui.console")),
    ("hedui.audit", ("hedui.gateway", "hedui.agents", "hedui.console")),
    ("hedui.keys", ("hedui.gateway", "hedui.agents", "hedui.console", "hedui.audit")),
])
def test_no_component_imports_one_above_it(package: str, never: tuple[str, ...]) -> None:
    wrong = [m for m in _loaded(package) if any(_within(m, n) for n in never)]
    assert not wrong, f"{package} loads {', '.join(wrong)}"


def test_the_console_uses_only_the_gateway_s_contract() -> None:
    loaded = _loaded("hedui.console")
    wrong = [m for m in loaded
             if (_within(m, "hedui.gateway") and m not in CONSOLE_MAY_USE)
             or _within(m, "hedui.agents") or _within(m, "hedui.audit")]
    assert not wrong, f"the console loads {', '.join(wrong)}"
