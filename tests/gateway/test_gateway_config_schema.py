"""gateway.toml against its schema (issue 14, item 1): a misspelt section or key is
refused with what it resembles, instead of starting a gateway with no staff."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedui.gateway import config

EXAMPLE = Path(__file__).parents[2] / "deploy" / "examples" / "gateway.toml"


def _variant(tmp_path: Path, old: str, new: str, encoding: str = "utf-8") -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "gateway.toml"
    path.write_bytes(text.replace(old, new, 1).encode(encoding))
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("[staff]", "[staf]", "[staf] is not a known section; did you mean [staff]?"),
        ("listen = ", "lisen = ", "[gateway] lisen is not a known key; did you mean listen?"),
        ("[fanout]\n", "[fanout]\ndeadline_second = 3\n",
         "[fanout] deadline_second is not a known key; did you mean deadline_seconds?"),
        ("[clients]", "[clients]\nallowd = []\n#",
         "[clients] allowd is not a known key; did you mean allowed?"),
    ],
)
def test_a_typo_is_refused_naming_what_it_resembles(tmp_path: Path, old: str, new: str,
                                                    expected: str) -> None:
    path = _variant(tmp_path, old, new)
    with pytest.raises(config.ConfigError) as caught:
        config.load(path)
    message = str(caught.value)
    assert expected in message and "line " in message and "\n" not in message


def test_a_wrong_type_is_refused(tmp_path: Path) -> None:
    path = _variant(tmp_path, 'listen = "', 'listen = 7400 #"')
    with pytest.raises(config.ConfigError, match=r"\[gateway\] listen: Input should be a valid "
                                                  r"string"):
        config.load(path)


def test_the_example_loads_also_saved_as_gbk(tmp_path: Path) -> None:
    path = _variant(tmp_path, "[staff]", "# 核对中心\n[staff]", encoding="gb18030")
    loaded = config.load(path)
    assert loaded.staff["dibao"] == ("op-1001", "op-1002")
