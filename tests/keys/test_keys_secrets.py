"""Secret key files (pseudonym and answers keys): written 0600, refused when loose."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hedui.cli import main
from hedui.keys.errors import InsecureKeyFileError, KeyFileError, KeyFileNotFound
from hedui.keys.secrets import generate_secret, load_secret, write_secret


def test_round_trip_and_mode(tmp_path: Path) -> None:
    secret = generate_secret()
    path = write_secret(tmp_path / "p.key", secret)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert load_secret(path) == secret


def test_group_readable_secret_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = write_secret(tmp_path / "p.key", generate_secret())
    os.chmod(path, 0o644)
    with pytest.raises(InsecureKeyFileError, match="chmod 600"):
        load_secret(path)


@pytest.mark.parametrize("content", [b"not hex\n", b"abcd\n"])
def test_malformed_secret_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "p.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, content)
    os.close(fd)
    with pytest.raises(KeyFileError):
        load_secret(path)


def test_missing_secret_is_named(tmp_path: Path) -> None:
    with pytest.raises(KeyFileNotFound):
        load_secret(tmp_path / "none.key")


def test_cli_writes_once_and_refuses_to_overwrite(tmp_path: Path, capsys) -> None:
    out = tmp_path / "answers.key"
    assert main(["keys", "secret", "--out", str(out)]) == 0
    first = out.read_bytes()
    assert main(["keys", "secret", "--out", str(out)]) != 0
    assert "refusing to overwrite" in capsys.readouterr().err
    assert out.read_bytes() == first
