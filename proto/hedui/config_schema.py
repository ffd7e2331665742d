"""Configuration files checked against a schema (pydantic v2), in words a person can act on.

Every TOML file hedui reads — ``agent.toml``, ``gateway.toml``, client files — is a
pydantic model with ``extra="forbid"``: an unknown section or key is refused, with the
known name it most resembles ("[narowing] is not a known section; did you mean
[narrowing]?"), because a misspelt section silently drops what it holds (a
department's own narrowing, the gateway's staff list). The first problem becomes one
line naming the file, the line and the key; a misspelt key is reported before the
"missing" error it causes, so ``lisen =`` says "did you mean listen", not "listen is
missing".
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from hedui import textfiles
from hedui.errors import HeduiError
from hedui.toml_lines import TomlLines

__all__ = ["ConfigProblem", "Section", "TlsFiles", "TrustFiles", "did_you_mean", "load_toml",
           "validate"]

M = TypeVar("M", bound=BaseModel)


class ConfigProblem(HeduiError):
    """A configuration file is not what its schema says; the message says where."""

    exit_code = 2


class Section(BaseModel):
    """Base of every configuration table: unknown keys refused, values not coerced
    silently into something else (a path is a string, a port a number)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class TlsFiles(Section):
    """``[tls]`` of every server and client: its certificate, key and the center's CA."""

    certificate: str
    key: str
    ca: str


class TrustFiles(Section):
    """``[trust]``: the signed trust bundle and the one key pinned to check it."""

    bundle: str
    root_public_key: str


def did_you_mean(word: str, known: list[str] | tuple[str, ...]) -> str:
    """"; did you mean 'x'?" for the closest known name, or "" when none is close."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The sub-model a location points into (for the names it knows)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or not isinstance(part, str):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
        candidates = getattr(annotation, "__args__", (annotation,))
        current = next((c for c in candidates
                        if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return current


def _where(loc: tuple[Any, ...], table: bool = True) -> str:
    names = [str(p) for p in loc if not isinstance(p, int)]
    if not names:
        return "the file"
    if len(names) == 1:
        return f"[{names[0]}]" if table else names[0]
    return f"[{'.'.join(names[:-1])}] {names[-1]}"


def _sentence(model: type[BaseModel], error: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        known = sorted(parent.model_fields) if parent is not None else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        what = "section" if len(loc) == 1 and isinstance(error.get("input"), dict) else "key"
        hint = ""
        if close:
            hint = f"; did you mean [{close[0]}]?" if what == "section" else \
                f"; did you mean {close[0]}?"
        elif known:
            hint = f" (known: {', '.join(known)})"
        return f"{_where(loc, what == 'section')} is not a known {what}{hint}"
    if kind == "missing":
        return f"{_where(loc)} is missing"
    if kind in ("model_type", "dict_type"):
        sub = _model_at(model, loc)
        keys = f" ({', '.join(sub.model_fields)})" if sub is not None else ""
        return f"{_where(loc)} must be a table{keys}"
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    return f"{_where(loc)}: {message}"


def validate(model: type[M], data: dict[str, Any], *, source: str, text: str | None = None,
             context: dict[str, Any] | None = None) -> M:
    """``data`` as ``model``, or one :class:`ConfigProblem` line naming file, line, key."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        first = errors[0]
        line = TomlLines(text).line(tuple(str(p) for p in first["loc"]
                                          if not isinstance(p, int))) if text else None
        at = f", line {line}" if line else ""
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise ConfigProblem(f"{source}{at}: {_sentence(model, first)}{more}") from None


def load_toml(model: type[M], path: str | Path, *, context: dict[str, Any] | None = None
              ) -> tuple[M, str]:
    """Read a TOML file (UTF-8 with or without BOM, or GB18030) and validate it."""
    path = Path(path)
    try:
        data, text = textfiles.read_toml(path)
    except textfiles.FileProblem as exc:
        raise ConfigProblem(str(exc)) from None
    return validate(model, data, source=str(path), text=text, context=context), text
