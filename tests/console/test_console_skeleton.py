"""The console's skeleton on its own (no gateway needed): the sign-in page, its headers,
the CSRF refusal before any session, the sign-in rules and the English catalog."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pyotp
import pytest
from starlette.testclient import TestClient

from hedui.console import i18n
from hedui.console.accounts import AccountStore
from hedui.console.app import create_app
from hedui.console.config import ConsoleConfig
from hedui.console.signin import password_problem, totp_step
from hedui.gateway import sandbox


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> ConsoleConfig:
    sb = sandbox.provision(tmp_path_factory.mktemp("console"), persons=10, people=True)
    return ConsoleConfig.load(sandbox.write_console_config(sb))


@pytest.fixture()
def client(config: ConsoleConfig) -> TestClient:
    return TestClient(create_app(config), base_url="https://localhost")


def test_the_sign_in_page_carries_the_security_headers(client: TestClient) -> None:
    r = client.get("/signin")
    assert r.status_code == 200 and "工号" in r.text and "密码" in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "unsafe-inline" not in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("__Host-hedui-pre=")
    assert all(a in cookie.lower() for a in ("secure", "httponly", "samesite=strict", "path=/"))
    assert not re.search(r"<script(?![^>]*\bsrc=)", r.text), "inline script"
    assert not re.search(r"\sstyle=|\son[a-z]+=", r.text), "inline style or handler"


def test_a_post_without_the_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/signin")
    r = client.post("/signin", data={"staff_id": "op-1001", "password": "x" * 12})
    assert r.status_code == 403 and "CSRF" in r.text


def test_a_page_without_a_session_goes_to_sign_in(client: TestClient) -> None:
    r = client.get("/cases/new", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")


def test_the_english_catalog_translates_the_sign_in_page(client: TestClient) -> None:
    r = client.get("/signin", headers={"accept-language": "en-GB,en;q=0.9"})
    assert "Staff ID" in r.text and "Password" in r.text
    assert i18n.translations("en").gettext("退出登录") == "Sign out"


def test_a_totp_code_is_accepted_once(config: ConsoleConfig, tmp_path: Path) -> None:
    store = AccountStore(tmp_path / "a.sqlite", b"k" * 32)
    store.set_password("op-1001", "hash", must_change=False)
    secret = pyotp.random_base32()
    store.set_totp("op-1001", secret)
    step = totp_step(secret, pyotp.TOTP(secret).now())
    assert step is not None
    assert store.use_totp_step("op-1001", step)
    assert not store.use_totp_step("op-1001", step), "a code replayed"
    assert totp_step(secret, "000000", at=time.time()) in (None, step - 1, step, step + 1)
    assert store.account("op-1001").totp_secret == secret  # sealed at rest, opened here


def test_password_rules() -> None:
    assert password_problem("short", "op-1001")
    assert password_problem("op-1001op-1001", "op-1001")
    assert password_problem("aaaaaaaaaaaa", "op-1001")
    assert password_problem("春天的县城里有一棵老槐树", "op-1001") is None


def test_the_later_sign_in_steps_need_their_session(client: TestClient) -> None:
    """The code and setup steps without a session go to sign-in, never an error page."""
    for path in ("/signin/code", "/signin/setup"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/signin"), path
    page = client.get("/signin")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    r = client.post("/signin/code", data={"csrf": csrf, "code": "123456"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
