"""Sign-in in a real browser: password and TOTP by keyboard alone, sign-out; a POST
without the CSRF token refused; an expired session sent back to sign-in."""

from __future__ import annotations

import hashlib
import re

import pytest

pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")

from browsing import Browsing, tab_to, unlabelled_fields

from hedui.console.security import SESSION_COOKIE
from hedui.gateway import sandbox
from hedui.v1 import audit_pb2

pytestmark = pytest.mark.slow  # a real browser against a real site


def _session_digest(page) -> str:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    return hashlib.sha256(token.encode()).hexdigest()


def test_sign_in_with_totp_by_keyboard_then_sign_out(browsing: Browsing, shot) -> None:
    signed_in = audit_pb2.AUDIT_KIND_STAFF_SIGNED_IN
    before = sum(e.kind == signed_in for e in browsing.site.entries())
    page = browsing.page()
    page.goto("/signin")
    shot(page, "signin")
    assert unlabelled_fields(page) == []
    browsing.sign_in(page, sandbox.VERIFIER, shot)
    shot(page, "signed-in")
    assert page.get_by_text(f"（{sandbox.VERIFIER}）").is_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert not page.evaluate("document.cookie").count(SESSION_COOKIE), "readable by script"
    after = sum(e.kind == signed_in for e in browsing.site.entries())
    assert after == before + 1, "the sign-in is not in the gateway's audit log"

    tab_to(page, page.get_by_role("button", name="退出登录"))  # the keyboard again
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/signin\?why=signed-out"))
    shot(page, "signed-out")
    assert page.get_by_text("您已安全退出").is_visible()
    page.goto("/")
    assert "/signin" in page.url, "the session ended with the sign-out"
    page.context.close()


def test_a_wrong_code_is_refused_and_logged(browsing: Browsing, shot) -> None:
    page = browsing.page()
    page.goto("/signin")
    page.get_by_label("工号").fill("op-1002")
    page.get_by_label("密码").fill(sandbox.CONSOLE_PASSWORD)
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url(re.compile(r"/signin/code"))
    right = browsing.site.code("op-1002")
    page.get_by_label("身份验证器上显示的6位数字").fill(f"{(int(right) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="登录").click()
    shot(page, "refused")
    assert "/signin/code" in page.url
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_role("button", name="退出登录").count() == 0
    failed = [e for e in browsing.site.entries()
              if e.kind == audit_pb2.AUDIT_KIND_STAFF_SIGN_IN_FAILED]
    assert failed, "the failed sign-in is not in the audit log"
    page.context.close()


#: a form the browser submits to /signout, built in the page (as a forged one would be)
FORM = """([token]) => { const f = document.createElement('form');
    f.method = 'post'; f.action = '/signout';
    if (token !== null) { const i = document.createElement('input');
        i.type = 'hidden'; i.name = 'csrf'; i.value = token; f.appendChild(i); }
    document.body.appendChild(f); f.submit(); }"""


def test_a_post_without_the_csrf_token_is_refused(browsing: Browsing, shot) -> None:
    page = browsing.signed_in(sandbox.REVIEWER, shot, fresh=True)  # it signs out
    digest = _session_digest(page)
    # a form the browser posts with its cookies but without the token, then a forged one
    for name, token in (("no-token", None), ("forged-token", "forged-token")):
        with page.expect_navigation() as nav:
            page.evaluate(FORM, [token])
        shot(page, name)
        assert nav.value is not None and nav.value.status == 403, name
        assert "CSRF" in page.content()
        page.go_back()
    # a script of the page that leaves the header out
    status = page.evaluate("""async () => (await fetch('/signout', {method: 'POST',
        headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'x=1'})).status""")
    assert status == 403
    page.reload()
    shot(page, "still-signed-in")
    assert page.get_by_role("button", name="退出登录").is_visible(), "a refused POST signed out"
    with browsing.console_db() as db:
        ended = db.execute("SELECT ended_at FROM sessions WHERE token_sha256 = ?",
                           (digest,)).fetchone()
    assert ended == (None,)
    # the page's own form, with its token, is accepted: the refusal was the token's
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(re.compile(r"/signin\?why=signed-out"))
    shot(page, "signed-out")
    page.context.close()


def test_an_expired_session_goes_to_sign_in(browsing: Browsing, shot) -> None:
    page = browsing.signed_in("rv-4002", shot, fresh=True)  # it expires
    digest = _session_digest(page)
    idle = browsing.site.config.idle.total_seconds()
    with browsing.console_db() as db:  # the person left the desk longer than the idle limit
        db.execute("UPDATE sessions SET last_seen = datetime(last_seen, ?) "
                   "WHERE token_sha256 = ?", (f"-{int(idle) + 60} seconds", digest))
    page.goto("/search")
    shot(page, "expired")
    assert "/signin" in page.url and "why=expired" in page.url
    assert page.get_by_text("会话已过期").is_visible()
    with browsing.console_db() as db:
        reason = db.execute("SELECT end_reason FROM sessions WHERE token_sha256 = ?",
                            (digest,)).fetchone()
    assert reason == ("IDLE",)
    browsing.sign_in(page, "rv-4002", start=False)
    shot(page, "back")
    assert page.url.endswith("/search"), "signed in again, back where they were"
    page.context.close()


def test_the_logs_name_nobody(browsing: Browsing) -> None:
    """After the suite's cases, batches and searches (this file runs last): the
    console's and the gateway's program logs hold no member's ID number or name."""
    site = browsing.site
    people = [(m["id_number"], m["name"]) for h in site.samples for m in h["members"]]
    logs = {p.name: p.read_text(encoding="utf-8", errors="replace")
            for p in (site.sb.logs / "console.log", site.sb.logs / "gateway.log")}
    assert logs["console.log"].strip(), "the console wrote no log at all"
    for name, text in logs.items():
        for id_number, person in people:
            assert id_number not in text and id_number.lower() not in text, name
            assert len(person) < 2 or person not in text, f"{name} names a member"
