"""The determination report as an A4 PDF, printed by headless Chromium.

Chromium prints the page as a person would (its print stylesheet: A4, page numbers in
the bottom margin box, repeated table headers), so the PDF and a page printed from a
browser are the same document. Debian's ``chromium`` package is enough; nothing is
downloaded. The page is written to a private temporary folder and loaded from there
with a throwaway profile, so no printing job sees another's files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from hedui.errors import HeduiError

__all__ = ["ChromiumMissing", "chromium_path", "html_file_to_pdf", "html_to_pdf", "page_count"]

#: where Debian's chromium package puts it; HEDUI_CHROMIUM overrides
DEFAULT_CHROMIUM = "/usr/bin/chromium"
_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


class ChromiumMissing(HeduiError):
    """No Chromium to print with; ``str()`` says how to get one."""


def chromium_path() -> Path:
    """The Chromium to print with, or :class:`ChromiumMissing`."""
    wanted = os.environ.get("HEDUI_CHROMIUM") or DEFAULT_CHROMIUM
    found = wanted if Path(wanted).is_file() and os.access(wanted, os.X_OK) else None
    found = found or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise ChromiumMissing(
            f"cannot print the report to PDF: no Chromium at {wanted} (install Debian's "
            "chromium package, `apt-get install chromium`, or set HEDUI_CHROMIUM to its "
            "path); the .html report can still be printed from any browser")
    return Path(found)


def html_to_pdf(html: str, pdf: Path, *, timeout: float = 90.0) -> Path:
    """Print ``html`` (a standalone page) to ``pdf``; returns ``pdf``."""
    with tempfile.TemporaryDirectory(prefix="hedui-report-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        return _print(page, pdf, Path(tmp), timeout)


def html_file_to_pdf(html_file: Path, pdf: Path | None = None, *,
                     timeout: float = 90.0) -> Path:
    """Print a saved report page; ``pdf`` defaults to the same name with ``.pdf``."""
    target = pdf or html_file.with_suffix(".pdf")
    return html_to_pdf(html_file.read_text(encoding="utf-8"), target, timeout=timeout)


def _print(page: Path, pdf: Path, tmp: Path, timeout: float) -> Path:
    browser = chromium_path()
    pdf = pdf.resolve()
    pdf.parent.mkdir(parents=True, exist_ok=True)
    out = tmp / "report.pdf"
    args = [str(browser), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={tmp / 'profile'}",
            f"--print-to-pdf={out}", "--no-pdf-header-footer", page.as_uri()]
    try:
        done = subprocess.run(args, capture_output=True, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise HeduiError(f"Chromium did not print the report within {timeout:.0f} s") from None
    except OSError as exc:
        raise ChromiumMissing(f"cannot run Chromium at {browser}: {exc.strerror}") from None
    if done.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise HeduiError("Chromium could not print the report to PDF"
                         + (": " + " / ".join(tail) if tail else ""))
    shutil.move(str(out), pdf)
    return pdf


def page_count(pdf: bytes) -> int:
    """How many pages a PDF has (its /Type /Page objects; Chromium's PDFs do not hide
    them in object streams)."""
    return len(_PAGE.findall(pdf))
