"""The committed generated code must be exactly what `make proto` writes today."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROTO_DIR = REPO / "proto"
V1 = PROTO_DIR / "hedui" / "v1"


def test_committed_generated_code_is_not_stale(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools")
    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in V1.glob("*.proto"))
    assert protos, "no .proto files found"
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-I", str(PROTO_DIR),
         f"--python_out={tmp_path}", f"--pyi_out={tmp_path}",
         f"--grpc_python_out={tmp_path}", *protos],
        check=True, cwd=PROTO_DIR,
    )
    fresh = sorted(p.name for p in (tmp_path / "hedui" / "v1").iterdir())
    committed = sorted(
        p.name for p in V1.iterdir()
        if p.name.endswith(("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"))
    )
    assert fresh == committed, "generated file set differs; run `make proto`"
    fresh_dir = tmp_path / "hedui" / "v1"
    stale = [n for n in fresh if not filecmp.cmp(fresh_dir / n, V1 / n, shallow=False)]
    assert not stale, f"generated code is stale, run `make proto`: {stale}"


def test_every_message_and_field_is_documented() -> None:
    """Other departments implement agents from the .proto files alone."""
    from google.protobuf import descriptor_pb2

    undocumented: list[str] = []
    for proto in sorted(V1.glob("*.proto")):
        text = proto.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(text):
            stripped = line.strip()
            if stripped.startswith(("message ", "service ", "enum ")) and "{}" not in stripped:
                prev = text[i - 1].strip() if i else ""
                if not prev.startswith("//"):
                    undocumented.append(f"{proto.name}:{i + 1}: {stripped}")
    assert descriptor_pb2  # the import proves protobuf is usable here
    assert not undocumented, "undocumented definitions:\n" + "\n".join(undocumented)
