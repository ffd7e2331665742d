"""A verifier follows docs/guide-verifier.md, literally, against a running center.

``hedui demo --dir`` leaves a whole deployment behind (keys, trust bundle, staff
registry, a connection file per staff member, the gateway's and every agent's
configuration). The test starts that gateway and its eight agents again from those
files (the provident fund, which the demo left offline, is put back online first), and
— as a colleague's earlier day would have — leaves one case incomplete because the tax
department was down, then brings tax back. Every ```sh block of the guide then runs, in
order, as one bash script (``set -euo pipefail``) in an empty folder. The only values
the test chooses are the ones the guide asks the reader to fill in (the assignment
lines at the top of the blocks): the connection files, the household file, the trust
bundle, the root key, the standards folder, the batch list and the authorization.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hedui.gateway import household as household_mod
from hedui.gateway import sandbox as sb_mod
from hedui.keys import tls

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "guide-verifier.md"


def blocks(text: str) -> list[str]:
    return re.findall(r"^[ \t]*```sh\n(.*?)^[ \t]*```$", text, flags=re.S | re.M)


def _env(home: Path) -> dict[str, str]:
    return {"PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                     os.environ.get("PATH", "/usr/bin:/bin")]),
            "HOME": str(home), "LANG": "C.UTF-8"}


def _hedui(args: list[str], home: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*sb_mod.hedui_command(), *args], capture_output=True, text=True,
                          timeout=180, env=_env(home), **kw)


class Center:
    """The demo's gateway and agents, started again from the files it left."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.processes: dict[str, subprocess.Popen] = {}
        gateway = tomllib.loads((root / "gateway" / "gateway.toml").read_text("utf-8"))
        self.gateway_id = gateway["gateway"]["id"]
        self.gateway_endpoint = gateway["gateway"]["listen"]
        self.agents = {
            p.parent.name: tomllib.loads(p.read_text("utf-8"))["agent"]
            for p in sorted((root / "agents").glob("*/agent.toml"))
        }
        pki = root / "pki" / "gateway"
        self.material = tls.load_tls_material(pki / "tls.crt", pki / "tls.key",
                                              root / "pki" / "ca.crt")

    def start(self, name: str) -> None:
        logs = self.root / "logs"
        if name == "gateway":
            args = ["gateway", "serve", "--config", str(self.root / "gateway" / "gateway.toml")]
            endpoint, ident = self.gateway_endpoint, self.gateway_id
        else:
            args = ["agent", "serve", "--config", str(self.root / "agents" / name / "agent.toml")]
            endpoint, ident = self.agents[name]["listen"], self.agents[name]["id"]
        log = logs / f"guide-{name}.log"
        self.processes[name] = sb_mod.start_process(args, log)
        sb_mod.wait_healthy(endpoint, ident, self.material, process=self.processes[name],
                            log_file=log)

    def stop(self, name: str) -> None:
        sb_mod.stop_process(self.processes.pop(name))

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)


def _bring_online(root: Path, department: str) -> None:
    """The administrator puts the department the demo left offline back online (a new
    serial of the trust bundle), with the sandbox's own helper."""
    sb = sb_mod.Sandbox(root, None, {}, {}, "", None, None)  # only its paths are used
    sb_mod.mark_online(sb, [department])


def _household(root: Path, sample: dict, path: Path, number: str) -> Path:
    return household_mod.write(path, programme="dibao", region="310000",
                               members=sample["members"], authorization_number=number,
                               today=dt.date.today())


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(demo folder, the verifier's empty work folder with their household files)."""
    home = tmp_path_factory.mktemp("verifier")
    demo = home / "demo"
    made = _hedui(["demo", "--dir", str(demo)], home)
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    _bring_online(demo, "provident-fund")
    data = json.loads((demo / "data" / "households.json").read_text("utf-8"))
    eligible = data["samples"]["eligible"]  # the demo used the first; these are new
    work = home / "desk"
    work.mkdir()
    center = Center(demo)
    try:
        center.start("gateway")
        for d in center.agents:
            if d != "tax":
                center.start(d)
        # a case a colleague opened yesterday while the tax department was down
        waiting = _household(demo, eligible[2], demo / "households" / "SQ-WAIT-0001.toml",
                             "SQ-WAIT-0001")
        earlier = _hedui(["verify", "--household", str(waiting), "--out", str(work / "old"),
                          "--client", str(demo / "op-1001.toml")], home)
        assert earlier.returncode == 3 and "incomplete" in earlier.stdout, earlier
        # tax is back; the gateway restarts overnight (its breaker forgets the outage)
        center.start("tax")
        center.stop("gateway")
        center.start("gateway")
        _household(demo, eligible[1], work / "SQ-2026-000123.toml", "SQ-2026-000123")
        yield demo, work
    finally:
        center.stop_all()


def script_for(demo: Path, work: Path) -> str:
    batch = work / "batch"
    (batch / "households").mkdir(parents=True)
    data = json.loads((demo / "data" / "households.json").read_text("utf-8"))
    for i, sample in enumerate(data["samples"]["eligible"][3:5]):
        _household(demo, sample, batch / "households" / f"SQ-2025-00010{i + 1}.toml",
                   f"SQ-2025-00010{i + 1}")
    (batch / "batch.csv").write_text(
        "家庭文件,申请日期,原结果\n"
        "households/SQ-2025-000101.toml,,符合条件\n"
        "households/SQ-2025-000102.toml,,不符合条件\n"
        "households/SQ-2025-000107.toml,,符合条件\n", encoding="utf-8")
    script = "set -euo pipefail\n" + "\n".join(blocks(GUIDE.read_text(encoding="utf-8")))
    values = {
        "CLIENT": demo / "op-1001.toml",
        "REVIEWER": demo / "rv-4001.toml",
        "HOUSEHOLD": work / "SQ-2026-000123.toml",
        "BUNDLE": demo / "bundle.dsse",
        "ROOT_PUB": demo / "pki" / "root.pub",
        "STANDARDS": REPO / "deploy" / "standards",
        "BATCH": batch / "batch.csv",
        "AUTHORIZATION": "SQ-2026-000123",
    }
    for name, value in values.items():
        script, n = re.subn(rf"^([ \t]*){name}=\S+", rf"\g<1>{name}={value}", script,
                            flags=re.M)
        assert n == 1, f"the guide sets {name} {n} times"
    return script


@pytest.mark.slow
def test_the_verifiers_guide_runs_as_written(center: tuple[Path, Path]) -> None:
    demo, work = center
    script = script_for(demo, work)
    (work / "guide.sh").write_text(script, encoding="utf-8")
    done = subprocess.run(["bash", "guide.sh"], cwd=work, capture_output=True, text=True,
                          timeout=400, env=_env(work))
    out = done.stdout
    logs = "".join(f"\n--- {p.name}\n{p.read_text(errors='replace')[-1500:]}"
                   for p in (demo / "logs").glob("guide-*.log"))
    assert done.returncode == 0, f"{out[-4000:]}\n{done.stderr[-3000:]}{logs}"
    assert "Traceback" not in done.stderr
    case = re.search(r"^case (case-\d{8}-[0-9a-f]{12}): awaiting_review$", out, flags=re.M)
    assert case, out[-3000:]
    case = case[1]
    # the reviewer approved it, the report was written and checks out, figures and all
    assert (work / "reports" / f"{case}.report.dsse").is_file()
    assert (work / "reports" / f"{case}.report.html").is_file()
    assert re.search(r"^report .* is genuine: .*they match$", out, flags=re.M), out[-3000:]
    # the colleague's incomplete case: listed, retried, returned by the reviewer, cancelled
    assert re.search(r"^\S+\s+case-\S+\s+dibao\s+\S+\s+incomplete\s+tax$", out, flags=re.M)
    assert "cancelled" in out
    # the batch: two rows verified (awaiting review), the missing file reported
    assert re.search(r"^batch: .*1 failed", out, flags=re.M), out[-3000:]
    assert (work / "reports" / "2026-11" / "batch.results.csv").is_file()
    assert re.search(r"^case-\S+: returned", out, flags=re.M)
    assert re.search(r"^case case-\S+: cancelled$", out, flags=re.M)
    assert "authorization SQ-2026-000123 revoked" in out
