"""Configuration schemas (hedui.config_schema): unknown sections and keys refused with
"did you mean", the misspelling reported before the "missing" it causes, line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedui.config_schema import ConfigProblem, Section, load_toml


class _Agent(Section):
    id: str
    listen: str
    metrics_listen: str | None = None


class _File(Section):
    agent: _Agent
    narrowing: dict[str, list[str]] | None = None


def _load(tmp_path: Path, text: str, encoding: str = "utf-8") -> _File:
    path = tmp_path / "agent.toml"
    path.write_bytes(text.encode(encoding))
    return load_toml(_File, path)[0]


def test_a_good_file_loads_in_gbk_too(tmp_path: Path) -> None:
    got = _load(tmp_path, '# 民政局\n[agent]\nid = "a"\nlisten = ":1"\n', "gb18030")
    assert got.agent.listen == ":1" and got.narrowing is None


def test_a_misspelt_section_is_refused_with_did_you_mean(tmp_path: Path) -> None:
    with pytest.raises(ConfigProblem) as caught:
        _load(tmp_path, '[agent]\nid = "a"\nlisten = ":1"\n\n[narowing]\ndibao = ["wages"]\n')
    assert str(caught.value).endswith(
        "agent.toml, line 5: [narowing] is not a known section; did you mean [narrowing]?")


def test_a_misspelt_key_is_named_before_the_missing_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigProblem) as caught:
        _load(tmp_path, '[agent]\nid = "a"\nlisen = ":1"\n')
    message = str(caught.value)
    assert "line 3: [agent] lisen is not a known key; did you mean listen?" in message
    assert "(and 1 more problem(s))" in message


def test_a_wrong_type_is_not_coerced(tmp_path: Path) -> None:
    with pytest.raises(ConfigProblem, match=r"line 3: \[agent\] listen: Input should be a "
                                            r"valid string"):
        _load(tmp_path, '[agent]\nid = "a"\nlisten = 7405\n')
