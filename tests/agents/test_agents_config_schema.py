"""agent.toml against its schema (issue 14, items 1 and 2): a misspelt section that would
silently drop the department's narrowing, a narrowing path that names no field, a
misspelt key, and an agent that could not witness the center, all refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedui.agents import config

EXAMPLE = Path(__file__).parents[2] / "deploy" / "examples" / "agents" / "banks.toml"


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "agent.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("[limits]", '[narowing]\ndibao = ["deposits"]\n\n[limits]',
         "[narowing] is not a known section; did you mean [narrowing]?"),
        ("[limits]", '[narrowing]\ndibao = ["deposits.*.balanse_fen"]\n\n[limits]',
         "[narrowing]: dibao: field path 'deposits.*.balanse_fen'"),
        ("listen = ", "lisen = ", "[agent] lisen is not a known key; did you mean listen?"),
        ('department = "banks"', 'department = "bank"', "[agent] department: 'bank' is not one"),
        ("max_subjects = 20", "max_subjects = 0", "[limits] max_subjects: Input should be "
                                                  "greater than or equal to 1"),
    ],
)
def test_a_mistake_is_refused_with_its_line(tmp_path: Path, old: str, new: str,
                                            expected: str) -> None:
    with pytest.raises(config.ConfigError) as caught:
        config.load(_variant(tmp_path, old, new))
    assert expected in str(caught.value) and ", line " in str(caught.value)


def test_a_good_narrowing_loads(tmp_path: Path) -> None:
    path = _variant(tmp_path, "[limits]",
                    '[narrowing]\ndibao = ["deposits", "securities.*.market_value_fen"]\n\n'
                    "[limits]")
    assert config.load(path).narrowing == {
        "dibao": ["deposits", "securities.*.market_value_fen"]}


def test_an_agent_that_cannot_witness_the_center_does_not_serve(tmp_path: Path) -> None:
    path = _variant(tmp_path, 'gateway_audit_endpoint = "gateway.county.example:7443"', "")
    problems = config.serving_problems(config.load(path))
    assert problems and "gateway_audit_endpoint is missing" in problems[0]
    offline = _variant(tmp_path, 'gateway_audit_endpoint = "gateway.county.example:7443"',
                       "").read_text(encoding="utf-8").replace(
        'state_dir = "state"', 'state_dir = "state"\noffline_only = true', 1)
    path.write_text(offline, encoding="utf-8")
    assert "answers sealed bundles only" in config.serving_problems(config.load(path))[0]
