"""A newcomer follows docs/guide-department-it.md's walkthrough, literally.

Every ```sh block under "## Walkthrough: your first agent" is run, in order, as one bash
script (``set -euo pipefail``) in an empty folder, with the venv's ``hedui`` on PATH:
the practice bank database, the center's keys and bundle, the agent's configuration,
``hedui agent check``, the agent and a gateway in the background, a real
``hedui verify`` through the gateway, the agent's own audit log, and the stop. The
only things the test chooses are the ones the guide asks the reader to choose: where
hedui's release folder is (HEDUI_SRC) and two free ports.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hedui.gateway.sandbox import free_port

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "guide-department-it.md"
HEADING = "## Walkthrough: your first agent"


def walkthrough_blocks(text: str) -> list[str]:
    start = text.index(HEADING + "\n")
    end = text.find("\n## ", start + len(HEADING))
    section = text[start: end if end >= 0 else None]
    return re.findall(r"^```sh\n(.*?)^```$", section, flags=re.S | re.M)


def test_walkthrough_has_the_steps_a_newcomer_needs() -> None:
    script = "\n".join(walkthrough_blocks(GUIDE.read_text(encoding="utf-8")))
    for step in ("hedui demo seed", "hedui keys init", "hedui keys issue", "hedui keys bundle",
                 "hedui agent check", "hedui agent serve", "hedui gateway serve",
                 "hedui verify", "hedui audit verify"):
        assert step in script, step


@pytest.mark.slow
def test_walkthrough_runs_as_written(tmp_path: Path) -> None:
    blocks = walkthrough_blocks(GUIDE.read_text(encoding="utf-8"))
    script = "set -euo pipefail\n" + "\n".join(blocks)
    (tmp_path / "walkthrough.sh").write_text(script, encoding="utf-8")
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                 os.environ.get("PATH", "/usr/bin:/bin")]),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "HEDUI_SRC": str(REPO),
        "GATEWAY_PORT": str(free_port()),
        "AGENT_PORT": str(free_port()),
    }
    output = tmp_path / "walkthrough.out"
    # a file, not a pipe: the servers started in the background inherit it
    with output.open("wb") as sink:
        proc = subprocess.Popen(["bash", "walkthrough.sh"], cwd=tmp_path, env=env,
                                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        pass
    finally:
        # the agent and gateway it started, if the script stopped early
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    out = output.read_text(encoding="utf-8", errors="replace")
    logs = "".join(f"\n--- {p}\n{p.read_text(errors='replace')[-1500:]}"
                   for p in tmp_path.rglob("*.log"))
    assert proc.returncode == 0, f"walkthrough failed:\n{out[-4000:]}{logs}"
    practice = tmp_path / "practice"
    assert "everything checks out" in out
    # three cases, the last after the agent restarted: every one answered, none refused
    assert len(re.findall(r"banks\s+answered", out)) == 3, out[-3000:]
    assert "circuit open" not in out
    assert b"ENCRYPTED" in (tmp_path / "practice" / "banks" / "keys" / "tls.key").read_bytes()
    assert list((practice / "reports").glob("*.report.html"))
    assert (practice / "banks" / "state" / "audit.sqlite").exists()
