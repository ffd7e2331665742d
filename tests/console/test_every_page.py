"""Every page every role can reach, checked alike: each form field has a label, nothing
inline that the CSP forbids, every POST form carries the CSRF token, and the page says
who is signed in and offers sign-out. A new screen is covered without a new test: the
pages are the header's links of each role plus the detail pages they lead to."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from console_site import ConsoleSite
from starlette.testclient import TestClient

from hedui.console import web
from hedui.gateway import sandbox

#: one person of each role
PEOPLE = (sandbox.CLERK, sandbox.VERIFIER, sandbox.REVIEWER, sandbox.ADMIN)
#: the detail pages a list links to: a case, a staff member, a change alert
DETAIL = r'href="(/(?:cases/case-[^"/]+|admin/staff/[a-z0-9-]+|alerts/al-[0-9a-f]+))"'


class _Page(HTMLParser):
    """The fields, labels, forms and inline code of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[dict[str, str]] = []
        self.labelled: set[str] = set()
        self.forms: list[dict[str, object]] = []
        self.inline: list[str] = []
        self._label_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if any(k.startswith("on") for k in a):
            self.inline.append(f"<{tag} {[k for k in a if k.startswith('on')]}>")
        if "style" in a:
            self.inline.append(f"<{tag} style=…>")
        if tag == "script" and "src" not in a:
            self.inline.append("<script> without src")
        if tag == "style":
            self.inline.append("<style>")
        if tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.labelled.add(a["for"])
        if tag == "form":
            self.forms.append({"method": a.get("method", "get").lower(),
                               "action": a.get("action", ""), "csrf": False})
        if tag == "input" and a.get("name") == "csrf" and self.forms:
            self.forms[-1]["csrf"] = True
        if tag in ("input", "select", "textarea"):
            kind = a.get("type", "text").lower()
            if tag == "input" and kind in ("hidden", "submit", "button", "reset", "image"):
                return
            a["_tag"] = tag
            a["_in_label"] = "1" if self._label_depth else ""
            self.fields.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._label_depth:
            self._label_depth -= 1


def _unlabelled(page: _Page) -> list[str]:
    out = []
    for f in page.fields:
        if f["_in_label"] or f.get("aria-label") or f.get("aria-labelledby"):
            continue
        if f.get("id") and f["id"] in page.labelled:
            continue
        out.append(f"<{f['_tag']} name={f.get('name', '')!r} id={f.get('id', '')!r}>")
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleSite]:
    s = ConsoleSite(tmp_path_factory.mktemp("every-page"))
    try:
        s.start()  # cases are opened, never verified: no agent is asked
        yield s
    finally:
        s.stop()


def _pages_of(client: TestClient, staff_id: str) -> dict[str, str]:
    """The header's links of this person, and the case, staff and alert pages they
    list."""
    first = client.get("/")
    (nav,) = re.findall(r"<nav[^>]*>.*?</nav>", first.text, re.S)
    found = dict.fromkeys(["/", *re.findall(r'href="(/[^"]*)"', nav)])
    pages: dict[str, str] = {}
    for href in list(found):
        r = client.get(href)
        assert r.status_code == 200, f"{staff_id} {href}: {r.status_code} {r.text[:300]}"
        pages[href] = r.text
        for more in re.findall(DETAIL, r.text)[:2]:
            if more not in pages:
                detail = client.get(more)
                assert detail.status_code == 200, f"{staff_id} {more}: {detail.status_code}"
                pages[more] = detail.text
    return pages


@pytest.mark.parametrize("staff_id", PEOPLE)
def test_every_page_has_labels_no_inline_code_and_csrf_on_its_forms(
        site: ConsoleSite, staff_id: str) -> None:
    site.open_as(sandbox.VERIFIER, site.household())  # something on the case pages
    with site.app_client() as client:
        site.sign_in(client, staff_id)
        pages = _pages_of(client, staff_id)
        expected = {n.href for n in web.NAV if not n.roles or any(
            r in n.roles for r in next(p for p in sandbox.STAFF
                                       if p.staff_id == staff_id).roles.split(","))}
        assert expected <= set(pages), f"{staff_id}: {sorted(expected - set(pages))}"
        assert len(pages) >= len(expected) >= 3
        problems, fields = [], 0
        for href, html in pages.items():
            page = _Page()
            page.feed(html)
            fields += len(page.fields)
            problems += [f"{href}: no label for {x}" for x in _unlabelled(page)]
            problems += [f"{href}: inline {x}" for x in page.inline]
            problems += [f"{href}: POST form to {f['action']} without csrf"
                         for f in page.forms if f["method"] == "post" and not f["csrf"]]
            if 'id="signout"' not in html:
                problems.append(f"{href}: no sign-out")
        assert fields, "no form field found: the parser sees nothing"
        assert not problems, f"{staff_id}:\n" + "\n".join(problems)
