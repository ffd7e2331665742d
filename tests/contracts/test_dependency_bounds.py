"""pyproject.toml declares what the code needs: bounds the generated code demands, and
every third-party import.

The committed ``*_pb2.py`` refuse a protobuf runtime older than the one that generated
them, and ``*_pb2_grpc.py`` a grpcio older than theirs, at import time; a lower bound
below that lets pip install a set that cannot even import ``hedui.v1``. An import of an
undeclared distribution works here only because something else pulled it in.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement  # pytest's own dependency
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
GENERATED = REPO / "proto" / "hedui" / "v1"
#: the package's source roots (pyproject.toml maps them to hedui, hedui.keys, …)
SOURCES = [REPO / "proto" / "hedui",
           *(REPO / d for d in ("keys", "audit", "agents", "gateway", "console"))]

#: import name -> distribution name, where they differ
DISTRIBUTION = {
    "argon2": "argon2-cffi",
    "google.protobuf": "protobuf",
    "google.rpc": "googleapis-common-protos",
    "grpc": "grpcio",
    "grpc_health": "grpcio-health-checking",
    "grpc_status": "grpcio-status",
    "nacl": "pynacl",
    "prometheus_client": "prometheus-client",
    "stdnum": "python-stdnum",
    "yaml": "pyyaml",
}
#: distributions imported but reached through a declared one whose API is made of them:
#: grpcio-status takes and returns google.rpc messages, so it always brings them
VIA = {"googleapis-common-protos": "grpcio-status"}
#: the grpc distributions released together; each must be at least the generated version
GRPC_FAMILY = ("grpcio", "grpcio-status", "grpcio-health-checking", "grpcio-tools")


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _requirements(*, dev: bool) -> dict[str, Requirement]:
    project = _pyproject()["project"]
    lines = list(project["dependencies"])
    if dev:
        lines += project.get("optional-dependencies", {}).get("dev", [])
    reqs = [Requirement(line) for line in lines]
    return {_normal(r.name): r for r in reqs}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lower_bound(req: Requirement) -> Version | None:
    bounds = [Version(s.version) for s in req.specifier if s.operator in (">=", "==", "~=")]
    return max(bounds) if bounds else None


def _generated_grpc_versions() -> dict[str, Version]:
    found = {}
    for path in sorted(GENERATED.glob("*_pb2_grpc.py")):
        m = re.search(r"^GRPC_GENERATED_VERSION = '([^']+)'$", path.read_text(), re.MULTILINE)
        assert m, f"{path.name} states no GRPC_GENERATED_VERSION"
        found[path.name] = Version(m[1])
    return found


def _generated_protobuf_versions() -> dict[str, Version]:
    found = {}
    for path in sorted(GENERATED.glob("*_pb2.py")):
        text = path.read_text()
        header = re.search(r"^# Protobuf Python Version: (\S+)$", text, re.MULTILINE)
        check = re.search(r"ValidateProtobufRuntimeVersion\(\s*_runtime_version\.Domain\.PUBLIC,"
                          r"\s*(\d+),\s*(\d+),\s*(\d+),\s*'([^']*)'", text)
        assert header and check, f"{path.name} states no protobuf runtime version"
        demanded = Version(".".join(check.groups()[:3]) + check[4])
        assert Version(header[1]) == demanded, f"{path.name}: header and check disagree"
        found[path.name] = demanded
    return found


def test_the_generated_code_is_found() -> None:
    assert len(_generated_grpc_versions()) >= 9
    assert _generated_grpc_versions().keys() == {
        n.replace("_pb2.py", "_pb2_grpc.py") for n in _generated_protobuf_versions()}


@pytest.mark.parametrize("distribution", GRPC_FAMILY)
def test_grpc_lower_bounds_cover_the_generated_code(distribution: str) -> None:
    req = _requirements(dev=True).get(distribution)
    assert req is not None, f"pyproject.toml does not declare {distribution}"
    bound = _lower_bound(req)
    for name, demanded in _generated_grpc_versions().items():
        assert bound is not None and bound >= demanded, (
            f"{name} demands grpcio>={demanded}; pyproject.toml declares {req}")


def test_protobuf_lower_bound_covers_the_generated_code() -> None:
    req = _requirements(dev=False)["protobuf"]
    bound = _lower_bound(req)
    for name, demanded in _generated_protobuf_versions().items():
        assert bound is not None and bound >= demanded, (
            f"{name} demands protobuf>={demanded}; pyproject.toml declares {req}")


def test_this_environment_satisfies_the_declared_bounds() -> None:
    """The bounds are real: what the tests run against lies inside them."""
    for name, req in _requirements(dev=True).items():
        installed = importlib.metadata.version(name)
        assert req.specifier.contains(installed, prereleases=True), (
            f"{name} {installed} is installed but pyproject.toml declares {req}")


def _third_party_imports() -> dict[str, set[str]]:
    """Import name (``google.protobuf`` for google's namespace) -> files importing it."""
    found: dict[str, set[str]] = {}
    for root in SOURCES:
        for path in root.rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    parts = module.split(".")
                    if parts[0] in sys.stdlib_module_names or parts[0] in ("hedui",
                                                                           "__future__"):
                        continue
                    name = ".".join(parts[:2]) if parts[0] == "google" else parts[0]
                    found.setdefault(name, set()).add(str(path.relative_to(REPO)))
    return found


def test_every_third_party_import_is_declared() -> None:
    declared = _requirements(dev=False)
    imports = _third_party_imports()
    assert {"grpc", "google.protobuf", "nacl", "sqlalchemy"} <= imports.keys()
    missing = []
    for name, files in sorted(imports.items()):
        dist = _normal(DISTRIBUTION.get(name, name))
        if dist in declared or VIA.get(dist) in declared:
            continue
        missing.append(f"{name} (distribution {dist}, imported by {sorted(files)[0]})")
    assert not missing, "imported but not in [project] dependencies: " + "; ".join(missing)


@pytest.mark.parametrize(("dist", "via"), sorted(VIA.items()))
def test_what_comes_through_another_dependency_really_does(dist: str, via: str) -> None:
    requires = [Requirement(r) for r in importlib.metadata.requires(via) or []]
    assert dist in {_normal(r.name) for r in requires if not r.marker}, (
        f"{via} no longer requires {dist}: declare {dist} in pyproject.toml")


def test_the_mapping_names_installed_distributions() -> None:
    """A typo in DISTRIBUTION would let an undeclared import through unnoticed."""
    installed = importlib.metadata.packages_distributions()
    for name in _third_party_imports():
        top = name.split(".")[0] if not name.startswith("google.") else "google"
        dist = _normal(DISTRIBUTION.get(name, name))
        assert dist in {_normal(d) for d in installed.get(top, [])}, (name, installed.get(top))
