"""A gateway with its eight agents and staff of every role, and the web console in front
of it: ``ConsoleSite.start()`` runs the gateway and agents as processes; ``app_client``
gives a Starlette TestClient of the real console app (HTTPS base URL, so ``__Host-``
cookies are kept); ``serve`` runs ``hedui console serve`` as a process for browsers.

Every sandbox staff member has the password ``sandbox.CONSOLE_PASSWORD`` (kept, no change
at first sign-in) and a TOTP secret; ``code(staff_id)`` is their current code.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))

import pyotp
from people_site import PeopleSite
from starlette.testclient import TestClient

from hedui.console.accounts import AccountStore
from hedui.console.app import create_app
from hedui.console.config import ConsoleConfig
from hedui.console.signin import hash_password
from hedui.gateway import sandbox
from hedui.keys.secrets import load_secret

PASSWORD = sandbox.CONSOLE_PASSWORD


class ConsoleSite(PeopleSite):
    def __init__(self, root: Path, *, persons: int = 120, seed: int = 31,
                 idle_minutes: int = 15) -> None:
        super().__init__(root, persons=persons, seed=seed)
        self.console_file = sandbox.write_console_config(self.sb, idle_minutes=idle_minutes)
        self.config = ConsoleConfig.load(self.console_file)
        store = AccountStore(self.config.database, load_secret(self.config.secrets_key))
        self.secrets: dict[str, str] = {}
        hashed = hash_password(PASSWORD)
        for person in sandbox.STAFF:
            store.set_password(person.staff_id, hashed, must_change=False)
            self.secrets[person.staff_id] = pyotp.random_base32()
            store.set_totp(person.staff_id, self.secrets[person.staff_id])
        store.engine.dispose()
        self.url = f"https://{self.config.listen}"

    def code(self, staff_id: str, *, later: int = 0) -> str:
        """The current TOTP code (``later`` steps ahead: a code not yet used)."""
        totp = pyotp.TOTP(self.secrets[staff_id])
        return totp.at(time.time() + 30 * later)

    def app_client(self) -> TestClient:
        return TestClient(create_app(self.config), base_url="https://localhost",
                          follow_redirects=True)

    def sign_in(self, client: TestClient, staff_id: str, *, later: int = 0) -> None:
        """Password then code, as a person types them; asserts the person got in."""
        page = client.get("/signin")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        r = client.post("/signin", data={"csrf": csrf, "staff_id": staff_id,
                                         "password": PASSWORD})
        csrf = r.text.split('name="csrf" value="')[1].split('"')[0]
        r = client.post("/signin/code", data={"csrf": csrf,
                                              "code": self.code(staff_id, later=later)})
        assert r.status_code == 200 and "/signout" in r.text, r.text[:500]

    def serve(self) -> subprocess.Popen:
        """``hedui console serve`` as a process, waited for until it answers."""
        p = self.processes["console"] = sandbox.start_process(
            ["console", "serve", "--config", str(self.console_file)],
            self.sb.logs / "console.log")
        import ssl
        import urllib.request
        context = ssl.create_default_context(cafile=str(self.sb.ca_certificate))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise RuntimeError((self.sb.logs / "console.log").read_text())
            try:
                with urllib.request.urlopen(self.url + "/healthz", context=context, timeout=2):
                    return p
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the console did not answer within 30 s")
