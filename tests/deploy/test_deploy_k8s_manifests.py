"""What holds for every Kubernetes base hedui ships (the center's gateway, a
department's agent): each manifest parses (with PyYAML, and with the small reader the
tests fall back on), names its namespace, and the kustomization applies all of them
but the examples."""

from __future__ import annotations

from pathlib import Path

import pytest
from k8s_support import _MiniYaml, load_all

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"

BASES = [
    pytest.param(K8S, "hedui", 9, id="gateway"),
    pytest.param(K8S / "agent", "hedui-banks", 10, id="agent"),
]


@pytest.mark.parametrize(("base", "namespace", "at_least"), BASES)
def test_every_manifest_parses_and_names_its_namespace(base: Path, namespace: str,
                                                       at_least: int) -> None:
    seen = 0
    for path in sorted(base.glob("*.yaml")):
        for doc in load_all(path):
            seen += 1
            assert isinstance(doc, dict) and doc.get("apiVersion"), path.name
            if doc.get("kind") in (None, "Kustomization"):
                continue
            assert doc["metadata"]["name"], path.name
            if doc["kind"] == "Namespace":
                assert doc["metadata"]["name"] == namespace
            else:
                assert doc["metadata"].get("namespace") == namespace, (path.name, doc["kind"])
    assert seen >= at_least


@pytest.mark.parametrize(("base", "namespace", "at_least"), BASES)
def test_kustomization_applies_every_manifest_but_the_examples(base: Path, namespace: str,
                                                                at_least: int) -> None:
    (kust,) = load_all(base / "kustomization.yaml")
    wanted = sorted(p.name for p in base.glob("*.yaml")
                    if p.name != "kustomization.yaml" and ".example." not in p.name)
    assert sorted(kust["resources"]) == wanted


@pytest.mark.parametrize(("base", "namespace", "at_least"), BASES)
def test_small_loader_agrees_with_pyyaml(base: Path, namespace: str, at_least: int) -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML not installed: nothing to compare with")
    for path in sorted(base.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        mine = [d for d in _MiniYaml(text).documents() if d is not None]
        assert mine == [d for d in yaml.safe_load_all(text) if d is not None], path.name
