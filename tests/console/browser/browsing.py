"""What the browser tests share: the site and browser (``Browsing``), signing in by
keyboard, the screenshot folder, the label check.

The console's HTTPS certificate comes from the sandbox's own CA, which Chromium does
not know. Rather than ignoring certificate errors for every site, the browser is told
to accept exactly the console's key (``--ignore-certificate-errors-spki-list`` with the
SHA-256 of the certificate's SubjectPublicKeyInfo): any other certificate still fails.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from console_site import PASSWORD, ConsoleSite

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


def chromium_path() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def spki_pin(certificate: Path) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)) of a PEM certificate, as Chromium pins it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(certificate.read_bytes())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


class Browsing:
    """The site, the browser, and what every test does with them."""

    def __init__(self, site: ConsoleSite, browser: Any) -> None:
        self.site = site
        self.browser = browser
        self.url = site.url
        #: the last TOTP step used per person: a code is accepted once
        self._steps: dict[str, int] = {}
        #: each person's signed-in session (cookies) that tests share
        self._sessions: dict[str, Any] = {}

    def context(self, **options: Any) -> Any:
        ctx = self.browser.new_context(base_url=self.url, locale="zh-CN",
                                       viewport={"width": 1280, "height": 900}, **options)
        ctx.set_default_timeout(15_000)
        return ctx

    def page(self) -> Any:
        return self.context().new_page()

    def next_code(self, staff_id: str) -> str:
        """A code of a time step this person has not used yet (waiting if the next one
        is more than one step ahead, beyond what the console accepts)."""
        now = int(time.time() // 30)
        step = max(now, self._steps.get(staff_id, now - 1) + 1)
        if step > now + 1:
            time.sleep((step - 1) * 30 - time.time() + 0.5)
            now = int(time.time() // 30)
        self._steps[staff_id] = step
        return self.site.code(staff_id, later=step - now)

    def sign_in(self, page: Any, staff_id: str, shot: Callable[..., None] | None = None,
                *, start: bool = True) -> None:
        """Staff id, password and TOTP code typed as a person types them: the fields
        have focus in order (autofocus, Tab) and Enter submits — keyboard only, no
        click and no focus() anywhere. ``start=False``: the page is already on the
        sign-in form (sent there)."""
        if start:
            page.goto("/signin")
        assert has_focus(page.get_by_label("工号")), "the staff id field has focus (autofocus)"
        page.keyboard.type(staff_id)
        page.keyboard.press("Tab")
        assert has_focus(page.get_by_label("密码")), "Tab goes to the password"
        page.keyboard.type(PASSWORD)
        if shot:
            shot(page, "password")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        if "/signin/code" not in page.url:
            alert = page.get_by_role("alert")
            raise AssertionError(f"{staff_id} not past the password step: "
                                 f"{alert.inner_text() if alert.count() else page.url}")
        code = page.get_by_label("身份验证器上显示的6位数字")
        assert has_focus(code), "the code field has focus (autofocus)"
        page.keyboard.type(self.next_code(staff_id))
        if shot:
            shot(page, "code")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        if "/signin" in page.url:
            alert = page.get_by_role("alert")
            raise AssertionError(f"{staff_id}'s code refused: "
                                 f"{alert.inner_text() if alert.count() else page.url}")
        page.get_by_role("button", name="退出登录").wait_for()

    def signed_in(self, staff_id: str, shot: Callable[..., None] | None = None, *,
                  fresh: bool = False) -> Any:
        """A new page in a new context, signed in as ``staff_id``: by the keyboard the
        first time, then in the same session (its cookie) — a code counts once, and a
        third sign-in of a person within 30 seconds would wait for the next one.
        ``fresh``: a session of its own, for a test that ends it."""
        cached = None if fresh else self._sessions.get(staff_id)
        if cached is not None:
            page = self.context(storage_state=cached).new_page()
            page.goto("/")
            if "/signin" not in page.url:
                return page
            page.context.close()
        page = self.page()
        self.sign_in(page, staff_id, shot)
        if not fresh:
            self._sessions[staff_id] = page.context.storage_state()
        return page

    def console_db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.site.config.database)

    def cases_db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.site.sb.gateway_config.parent / "state" / "cases.sqlite")


def has_focus(locator: Any) -> bool:
    return locator.evaluate("e => e === document.activeElement")


def tab_to(page: Any, locator: Any, *, limit: int = 60) -> int:
    """Press Tab until ``locator`` has focus (as a keyboard user reaches it); how many
    presses it took. AssertionError if it is not reached within ``limit``."""
    for n in range(1, limit + 1):
        page.keyboard.press("Tab")
        if has_focus(locator):
            return n
    raise AssertionError(f"{locator} not reached by Tab within {limit} presses")


def wait_for_state(page: Any, words: str, *, timeout: float = 60) -> None:
    """Until the case page's state badge says ``words`` (the page follows the
    departments itself, by htmx; a reload now and then in case a poll was missed)."""
    badge = page.locator("#case-status .case-state .badge").first
    deadline = time.monotonic() + timeout
    last_reload = time.monotonic()
    while True:
        text = badge.inner_text() if badge.count() else ""
        if text.strip() == words:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the case is {text!r}, not {words!r}, after {timeout:g} s")
        if time.monotonic() - last_reload > 10:
            page.reload()
            last_reload = time.monotonic()
        page.wait_for_timeout(500)


def unlabelled_fields(page: Any) -> list[str]:
    """The form fields of the page (not hidden, not buttons) without a ``<label>``, each
    as ``tag#id[name]``."""
    return page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => e.type !== 'hidden' && e.type !== 'submit' && e.type !== 'button')
        .filter(e => !(e.labels && e.labels.length))
        .map(e => `${e.tagName.toLowerCase()}#${e.id}[${e.name}]`)""")
