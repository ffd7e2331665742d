"""Database URLs in configuration files, shared by the gateway's and the agents' loaders."""

from __future__ import annotations

from pathlib import Path


def resolve_sqlite_url(url: str, base: Path) -> str:
    """Resolve a relative ``sqlite:///file`` URL against ``base`` (the config's folder),
    so a folder holding a config and its databases can move; other URLs pass through."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return f"sqlite:///{(base / url.removeprefix('sqlite:///')).resolve()}"
    return url
