"""Helpers shared by the Kubernetes manifest tests: read a config the way its real loader
does while recording which keys the loader looked at, and put a pod's absolute paths
under a test folder.

Also the small YAML reader the tests fall back on when PyYAML is not installed, and the
look-ups every manifest test makes (``manifests_in``, ``container``, ``port_of``).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

#: the folders the manifests mount the configuration, keys, trust and state at
POD_PREFIXES = ("/etc/hedui", "/opt/hedui", "/run/hedui", "/var/lib/hedui")


class Recorder(dict):
    """A TOML table that remembers which of its keys the loader looked at."""

    def __init__(self, data: dict[str, Any], path: tuple[str, ...], seen: set) -> None:
        super().__init__({k: _wrap(v, (*path, k), seen) for k, v in data.items()})
        self._path, self._seen = path, seen

    def __getitem__(self, key: str) -> Any:
        self._seen.add((*self._path, key))
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._seen.add((*self._path, key))
        return super().get(key, default)

    def _all(self) -> None:
        for k in dict.__iter__(self):
            self._seen.add((*self._path, k))

    def items(self):  # type: ignore[override]
        self._all()
        return super().items()

    def values(self):  # type: ignore[override]
        self._all()
        return super().values()


def _wrap(v: Any, path: tuple[str, ...], seen: set) -> Any:
    return Recorder(v, path, seen) if isinstance(v, dict) else v


def leaves(d: dict[str, Any], path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for k, v in d.items():
        if isinstance(v, dict):
            out |= leaves(v, (*path, k))
        else:
            out.add((*path, k))
    return out


def remap(text: str, root: Path) -> str:
    """Put the pod's absolute paths under ``root`` (a stand-in for the container)."""
    for prefix in POD_PREFIXES:
        text = text.replace(f'"{prefix}', f'"{root}{prefix}')
    return text


def load_recording(module: ModuleType, load: Callable[[Path], Any], path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> tuple[Any, set, set]:
    """``load(path)`` with ``module.tomllib.loads`` recording: (result, all keys, keys read)."""
    seen: set[tuple[str, ...]] = set()
    real = tomllib.loads
    holder: dict[str, Any] = {}

    def loads(text: str, **kw: Any) -> Any:
        data = real(text, **kw)
        holder["all"] = leaves(data)
        return Recorder(data, (), seen)

    monkeypatch.setattr(module.tomllib, "loads", loads)
    try:
        result = load(path)
    finally:
        monkeypatch.setattr(module.tomllib, "loads", real)
    return result, holder["all"], seen


# ------------------------------------------------------------------ a small YAML reader


class _MiniYaml:
    """Block mappings/sequences, ``- key: v`` items, ``|``/``|-`` blocks, flow lists, scalars."""

    _KEY = re.compile(r"""^(?P<k>"[^"]*"|'[^']*'|[^\s"'#\-\[\]{}][^:]*?|-[^\s:][^:]*?)\s*:"""
                      r"""(?:\s+(?P<v>.*))?$""")

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.i = 0

    @staticmethod
    def _indent(line: str) -> int:
        return len(line) - len(line.lstrip(" "))

    def _skip(self) -> None:
        while self.i < len(self.lines):
            s = self.lines[self.i].strip()
            if s and not s.startswith("#"):
                return
            self.i += 1

    def documents(self) -> list[Any]:
        docs: list[Any] = []
        while True:
            self._skip()
            if self.i >= len(self.lines):
                return docs
            if self.lines[self.i].strip() == "---":
                self.i += 1
                continue
            docs.append(self._block(0))

    def _at_end(self, indent: int) -> bool:
        self._skip()
        if self.i >= len(self.lines):
            return True
        line = self.lines[self.i]
        return line.strip() == "---" or self._indent(line) < indent

    def _block(self, indent: int) -> Any:
        if self._at_end(indent):
            return None
        line = self.lines[self.i]
        ind = self._indent(line)
        if self._is_item(line):
            return self._seq(ind)
        return self._map(ind)

    @staticmethod
    def _is_item(line: str) -> bool:
        s = line.strip()
        return s == "-" or s.startswith("- ")

    def _map(self, ind: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while not self._at_end(ind):
            line = self.lines[self.i]
            if self._indent(line) != ind or self._is_item(line):
                break
            m = self._KEY.match(line.strip())
            if not m:
                raise ValueError(f"line {self.i + 1}: cannot read {line!r}")
            key = self._scalar(m["k"])
            self.i += 1
            out[str(key)] = self._value(m["v"] or "", ind)
        return out

    def _seq(self, ind: int) -> list[Any]:
        out: list[Any] = []
        while not self._at_end(ind):
            line = self.lines[self.i]
            if self._indent(line) != ind or not self._is_item(line):
                break
            content = line.strip()[2:] if line.strip() != "-" else ""
            if content and self._KEY.match(content) and not content.startswith(("'", '"')):
                self.lines[self.i] = " " * (ind + 2) + content
                out.append(self._map(ind + 2))
            else:
                self.i += 1
                out.append(self._value(content, ind))
        return out

    def _value(self, rest: str, ind: int) -> Any:
        rest = self._uncomment(rest)
        if rest in ("|", "|-"):
            return self._literal(ind, keep_newline=rest == "|")
        if rest:
            return self._scalar(rest)
        if self._at_end(0):
            return None
        line = self.lines[self.i]
        if self._indent(line) > ind:
            return self._block(self._indent(line))
        if self._indent(line) == ind and self._is_item(line):
            return self._seq(ind)
        return None

    def _literal(self, ind: int, *, keep_newline: bool) -> str:
        body: list[str] = []
        block_indent = None
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.strip() == "":
                body.append("")
                self.i += 1
                continue
            if block_indent is None:
                block_indent = self._indent(line)
                if block_indent <= ind:
                    break
            if self._indent(line) < block_indent:
                break
            body.append(line[block_indent:])
            self.i += 1
        text = "\n".join(body).rstrip("\n")
        return text + "\n" if keep_newline and text else text

    @staticmethod
    def _uncomment(text: str) -> str:
        quote = None
        for k, ch in enumerate(text):
            if quote:
                if ch == quote:
                    quote = None
            elif ch in "\"'" and (k == 0 or text[k - 1] in " [,{"):
                quote = ch
            elif ch == "#" and (k == 0 or text[k - 1] in " \t"):
                return text[:k].rstrip()
        return text.strip()

    def _scalar(self, text: str) -> Any:
        text = text.strip()
        if text.startswith('"'):
            return json.loads(text)
        if text.startswith("'"):
            return text[1:-1].replace("''", "'")
        if text.startswith("[") and text.endswith("]"):
            inner = text[1:-1].strip()
            return [self._scalar(p) for p in inner.split(",")] if inner else []
        if text == "{}":
            return {}
        if text in ("true", "True"):
            return True
        if text in ("false", "False"):
            return False
        if text in ("null", "~", ""):
            return None
        if re.fullmatch(r"[-+]?(0|[1-9][0-9]*)", text):
            return int(text)
        if re.fullmatch(r"[-+]?[0-9]+\.[0-9]+", text):
            return float(text)
        if re.fullmatch(r"0[0-7]+", text):  # YAML 1.1 octal, as kubectl reads it
            return int(text, 8)
        return text


def load_all(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    try:
        import yaml
    except ModuleNotFoundError:
        return [d for d in _MiniYaml(text).documents() if d is not None]
    return [d for d in yaml.safe_load_all(text) if d is not None]


def manifests_in(folder: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Every object of the folder's manifests (not the kustomization), by (kind, name)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in load_all(path):
            out[(doc["kind"], doc["metadata"]["name"])] = doc | {"_file": path.name}
    return out


def container(pod: dict[str, Any], name: str) -> dict[str, Any]:
    for c in pod.get("initContainers", []) + pod["containers"]:
        if c["name"] == name:
            return c
    raise AssertionError(f"no container {name}")


def port_of(listen: str) -> int:
    return int(listen.rsplit(":", 1)[1])


# ------------------------------------------------------------------------- parsing
