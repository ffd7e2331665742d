"""A privacy officer follows docs/guide-privacy-officer.md, literally, on a real log.

``hedui demo --dir`` leaves a gateway's audit log behind (real cases, real checkpoints);
every ```sh block of the guide then runs, in order, as one bash script
(``set -euo pipefail``). The only values the test chooses are the ones the guide asks
the reader to fill in: where the log and the pseudonym key are, the vkey the
administrator confirmed, the ID number of the person who asked, and the size of an
earlier checkpoint.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "guide-privacy-officer.md"


def blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", text, flags=re.S | re.M)


def _env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                     os.environ.get("PATH", "/usr/bin:/bin")]),
            "HOME": str(tmp_path), "LANG": "C.UTF-8"}


@pytest.mark.slow
def test_the_privacy_officers_guide_runs_as_written(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    made = subprocess.run([sys.executable, "-m", "hedui.cli", "demo", "--dir", str(demo)],
                          capture_output=True, text=True, timeout=300, env=_env(tmp_path))
    assert made.returncode == 0, made.stderr[-3000:]
    db = demo / "gateway" / "state" / "audit.sqlite"
    url = f"sqlite:///{db}"
    vkey = json.loads(subprocess.run(
        [sys.executable, "-m", "hedui.cli", "audit", "checkpoint", "--db", url],
        capture_output=True, text=True, check=True).stdout)["vkey"]
    with sqlite3.connect(db) as conn:
        sizes = sorted(s for (s,) in conn.execute("SELECT size FROM audit_checkpoints"))
    old = next(s for s in sizes if s > 18 and s < sizes[-1])
    household = sorted((demo / "households").glob("*.toml"))[0]
    person = tomllib.loads(household.read_text(encoding="utf-8"))["members"][0]["id_number"]

    script = "set -euo pipefail\n" + "\n".join(blocks(GUIDE.read_text(encoding="utf-8")))
    script = (script
              .replace("LOG=sqlite:////etc/hedui/gateway/state/audit.sqlite", f"LOG={url}")
              .replace("KEY=/etc/hedui/officer/pseudonym.key", f"KEY={demo}/pki/pseudonym.key")
              .replace("110101198001010053", person))
    script = re.sub(r'^VKEY="[^"]*"', f'VKEY="{vkey}"', script, flags=re.M)
    script = re.sub(r"^OLD=\d+", f"OLD={old}", script, flags=re.M)
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env=_env(tmp_path))
    out = done.stdout
    assert done.returncode == 0, f"{out[-3000:]}\n{done.stderr[-3000:]}"
    assert out.count("audit log intact") == 2  # once unpinned, once with the vkey
    assert "Access report" in out or "access" in out.lower()
    assert len(re.findall(r"^OK: ", out, flags=re.M)) == 2  # the inclusion and the extension
    assert "Traceback" not in done.stderr
