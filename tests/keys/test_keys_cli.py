"""``hedui keys``: the administrator's whole flow, and one-line refusals."""

from __future__ import annotations

import base64
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hedui.cli import main
from hedui.keys import ca, keyfile, signing
from hedui.keys.bundle import TrustStore

ID = "spiffe://county.example/agent/banks"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["keys", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`keys init` once for the module (files are read, never changed, by the tests)."""
    base = tmp_path_factory.mktemp("pki")
    assert main(["keys", "init", "--domain", "county.example", "--dir", str(base / "ca")]) == 0
    return base


def test_init_writes_ca_and_root_key(pki: Path) -> None:
    d = pki / "ca"
    for name in ("ca.key", "root.key"):
        assert stat.S_IMODE((d / name).stat().st_mode) == 0o600
    cert = ca.load_certificate(d / "ca.crt")
    assert ca.trust_domain_of_ca(cert) == "county.example"
    root = keyfile.load_signing_key(d / "root.key")
    assert signing.keyid(signing.read_public_key(d / "root.pub")) == signing.keyid(root)


def test_init_prints_root_keyid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "init", "--domain", "county.example", "--dir", tmp_path / "ca")
    assert code == 0
    root = keyfile.load_signing_key(tmp_path / "ca" / "root.key")
    assert f"root keyid: {signing.keyid(root)}" in out
    assert "BEGIN" not in out


def test_init_refuses_to_overwrite(pki: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (pki / "ca" / "root.key").read_bytes()
    code, _, err = _run(capsys, "init", "--domain", "county.example", "--dir", pki / "ca")
    assert code == 1 and "already exists" in err and err.count("\n") == 1
    assert (pki / "ca" / "root.key").read_bytes() == before


def test_issue(pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "banks"
    code, out, _ = _run(
        capsys, "issue", "--ca-dir", pki / "ca", "--id", ID, "--out", out_dir,
        "--dns", "agent.bank.example", "--ip", "10.0.0.5",
    )  # fmt: skip
    assert code == 0
    cert = ca.load_certificate(out_dir / "tls.crt")
    assert (
        ca.verify_certificate(cert, ca.load_certificates(out_dir / "ca.crt"), now=datetime.now(UTC))
        == ID
    )
    assert f"certificate sha256: {ca.cert_fingerprint(cert)}" in out
    sk = keyfile.load_signing_key(out_dir / "signing.key")
    assert f"signing keyid: {signing.keyid(sk)}" in out
    keyfile.load_tls_private_key(out_dir / "tls.key")
    assert stat.S_IMODE((out_dir / "tls.key").stat().st_mode) == 0o600


def test_issue_box_key_for_offline_department(
    pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "tax"
    tax = "spiffe://county.example/agent/tax"
    code, out, _ = _run(
        capsys, "issue", "--ca-dir", pki / "ca", "--id", tax, "--out", out_dir, "--box"
    )
    assert code == 0
    box = keyfile.load_box_key(out_dir / "box.key")
    public = base64.b64encode(bytes(box.public_key)).decode()
    assert f'box_public_key = "{public}"' in out
    code, out, _ = _run(capsys, "show", out_dir / "box.key")
    assert code == 0 and f"box_public_key: {public}" in out and bytes(box).hex() not in out


def test_issue_with_passphrase_env(
    pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANK_PW", "s3cret")
    code, _, err = _run(
        capsys,
        "issue",
        "--ca-dir",
        pki / "ca",
        "--id",
        ID,
        "--out",
        tmp_path / "b",
        "--passphrase-env",
        "BANK_PW",
    )
    assert code == 0, err
    keyfile.load_signing_key(tmp_path / "b" / "signing.key", b"s3cret")
    code, _, err = _run(capsys, "show", tmp_path / "b" / "signing.key")
    assert (
        code == 0
        and "encrypted private key" in _run(capsys, "show", tmp_path / "b" / "signing.key")[1]
    )
    monkeypatch.setenv("HEDUI_KEY_PASSPHRASE", "wrong")
    code, _, err = _run(capsys, "show", tmp_path / "b" / "signing.key")
    assert code == 1 and "does not decrypt" in err


def test_issue_unset_passphrase_variable(
    pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(
        capsys,
        "issue",
        "--ca-dir",
        pki / "ca",
        "--id",
        ID,
        "--out",
        tmp_path / "b",
        "--passphrase-env",
        "NOPE_X",
    )
    assert code == 1 and "NOPE_X is not set" in err
    assert not (tmp_path / "b").exists()


def test_issue_malformed_id_is_one_line(
    pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(
        capsys,
        "issue",
        "--ca-dir",
        pki / "ca",
        "--id",
        "spiffe://county.example/agent/police",
        "--out",
        tmp_path,
    )
    assert code == 1 and err.startswith("hedui: ") and err.count("\n") == 1


def test_bundle_and_show(pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gw = tmp_path / "gateway"
    assert (
        _run(
            capsys,
            "issue",
            "--ca-dir",
            pki / "ca",
            "--id",
            "spiffe://county.example/gateway/center",
            "--out",
            gw,
        )[0]
        == 0
    )
    config = tmp_path / "trust.toml"
    config.write_text(f"""
trust_domain = "county.example"
serial = 4
ca_certificates = ["{pki / "ca" / "ca.crt"}"]
[[participants]]
id = "spiffe://county.example/gateway/center"
[[participants.signing_keys]]
public_key_file = "gateway/signing.pub"
[policies.dibao]
retention_days = 365
[policies.dibao.departments]
banks = ["deposits.*.balance_fen"]
""")
    out_file = tmp_path / "bundle.dsse"
    code, out, err = _run(
        capsys,
        "bundle",
        "--config",
        config,
        "--root-key",
        pki / "ca" / "root.key",
        "--out",
        out_file,
    )
    assert code == 0, err
    assert "serial: 4" in out and "participants: 1" in out and "sha256 (file): " in out

    store = TrustStore(signing.read_public_key(pki / "ca" / "root.pub"))
    assert store.load(out_file, datetime.now(UTC)).serial == 4

    code, out, _ = _run(capsys, "show", out_file, "--root-pub", pki / "ca" / "root.pub")
    assert code == 0
    assert "serial: 4" in out and "trust domain: county.example" in out
    assert "dibao: consent required" in out and "signature: verified" in out

    code, out, err = _run(capsys, "show", out_file, "--root-pub", gw / "signing.pub")
    assert code == 1 and "signature: DOES NOT VERIFY" in out and "pinned root key" in err

    code, _, err = _run(
        capsys,
        "bundle",
        "--config",
        config,
        "--root-key",
        pki / "ca" / "root.key",
        "--out",
        out_file,
    )
    assert code == 1 and "already exists" in err


def test_bundle_bad_toml_names_key(
    pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "trust.toml"
    config.write_text('trust_domain = "county.example"\nserial = 1\nserail = 2\n')
    code, _, err = _run(
        capsys,
        "bundle",
        "--config",
        config,
        "--root-key",
        pki / "ca" / "root.key",
        "--out",
        tmp_path / "b",
    )
    assert code == 1 and "serail: unknown key; did you mean 'serial'?" in err
    assert err.count("\n") == 1


def test_show_certificate(pki: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "show", pki / "ca" / "ca.crt")
    assert code == 0 and "X.509 CA certificate" in out and "trust domain: county.example" in out
    fingerprint = ca.cert_fingerprint(ca.load_certificate(pki / "ca" / "ca.crt"))
    assert f"sha256: {fingerprint}" in out


def test_show_public_and_private_key_without_secrets(
    pki: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = keyfile.load_signing_key(pki / "ca" / "root.key")
    code, out, _ = _run(capsys, "show", pki / "ca" / "root.key")
    assert code == 0 and f"keyid: {signing.keyid(root)}" in out and "mode: 0600" in out
    assert "PRIVATE" not in out and bytes(root).hex() not in out
    code, out, _ = _run(capsys, "show", pki / "ca" / "root.pub")
    assert code == 0 and f"keyid: {signing.keyid(root)}" in out


def test_show_world_readable_private_key_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = keyfile.write_private_key(tmp_path / "leaky.key", signing.generate_signing_key())
    path.chmod(0o644)
    code, out, err = _run(capsys, "show", path)
    assert code != 0 and out == ""
    assert err == (
        f"hedui: private key {path} is readable by group or others (mode 0644); "
        f"run: chmod 600 {path}\n"
    )


def test_show_unknown_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n")
    code, _, err = _run(capsys, "show", path)
    assert code == 1 and "not a certificate, key or signed envelope" in err


def test_show_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "show", tmp_path / "nope")
    assert code == 1 and "does not exist" in err
