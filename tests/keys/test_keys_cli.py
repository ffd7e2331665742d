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


# --- loopback names only when asked; the bundle's lifetime -------------------------------


def _sans(path: Path) -> tuple[list[str], list[str]]:
    from cryptography import x509

    san = ca.load_certificate(path).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    return san.get_values_for_type(x509.DNSName), [
        str(ip) for ip in san.get_values_for_type(x509.IPAddress)]


def test_issue_adds_loopback_names_only_when_asked(
    pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "issue", "--ca-dir", pki / "ca", "--id", ID,
                        "--out", tmp_path / "prod")
    assert code == 0, err
    assert _sans(tmp_path / "prod" / "tls.crt") == (["banks.agent.county.example"], [])
    code, _, err = _run(capsys, "issue", "--ca-dir", pki / "ca", "--id", ID,
                        "--out", tmp_path / "trial", "--dns", "localhost", "--ip", "127.0.0.1")
    assert code == 0, err
    assert _sans(tmp_path / "trial" / "tls.crt") == (
        ["banks.agent.county.example", "localhost"], ["127.0.0.1"])


def _trust_toml(pki: Path, tmp_path: Path, extra: str = "") -> Path:
    gw = tmp_path / "gateway"
    gw.mkdir(exist_ok=True)
    signing.write_public_key(gw / "signing.pub", signing.generate_signing_key())
    config = tmp_path / "trust.toml"
    config.write_text(f"""
trust_domain = "county.example"
serial = 1
{extra}
ca_certificates = ["{pki / "ca" / "ca.crt"}"]
[[participants]]
id = "spiffe://county.example/gateway/center"
[[participants.signing_keys]]
public_key_file = "gateway/signing.pub"
""")
    return config


def _bundle(capsys: pytest.CaptureFixture[str], pki: Path, config: Path, out: Path,
            *extra: str) -> tuple[int, str, str]:
    return _run(capsys, "bundle", "--config", config, "--root-key", pki / "ca" / "root.key",
                "--out", out, "--force", *extra)


def _valid_until(out_file: Path) -> datetime:
    from hedui.keys import dsse
    from hedui.keys.bundle import Bundle

    bundle = Bundle.from_payload(dsse.parse_envelope(out_file.read_bytes()).payload)
    assert bundle.valid_until is not None
    return bundle.valid_until


def test_bundle_lives_90_days_unless_told(
    pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import timedelta

    config, out_file = _trust_toml(pki, tmp_path), tmp_path / "bundle.dsse"
    code, out, err = _bundle(capsys, pki, config, out_file)
    assert code == 0, err
    assert "valid until: " in out and "(89 days left)" in out  # 89 days and 23:59:59
    left = _valid_until(out_file) - datetime.now(UTC)
    assert timedelta(days=89, hours=23) < left <= timedelta(days=90)

    code, out, err = _bundle(capsys, pki, config, out_file, "--valid-days", "30")
    assert code == 0, err
    assert timedelta(days=29, hours=23) < _valid_until(out_file) - datetime.now(UTC)
    assert _valid_until(out_file) - datetime.now(UTC) <= timedelta(days=30)
    code, out, _ = _run(capsys, "show", out_file, "--root-pub", pki / "ca" / "root.pub")
    assert code == 0 and "valid until: " in out and "days left)" in out


@pytest.mark.parametrize("days", ["0", "367", "-3"])
def test_bundle_refuses_a_lifetime_out_of_range(
    pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], days: str
) -> None:
    config = _trust_toml(pki, tmp_path)
    code, _, err = _bundle(capsys, pki, config, tmp_path / "b.dsse", "--valid-days", days)
    assert code == 1 and "--valid-days: must be from 1 to 366 days" in err
    assert err.count("\n") == 1 and not (tmp_path / "b.dsse").exists()


def test_bundle_valid_until_from_the_toml(
    pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _trust_toml(pki, tmp_path, "valid_until = 2099-01-01T00:00:00Z\n"
                                        "issued_at = 2098-12-01T00:00:00Z")
    out_file = tmp_path / "bundle.dsse"
    code, _, err = _bundle(capsys, pki, config, out_file)
    assert code == 0, err
    assert _valid_until(out_file) == datetime(2099, 1, 1, tzinfo=UTC)
    code, _, err = _bundle(capsys, pki, config, out_file, "--valid-days", "10")
    assert code == 1 and "leave out --valid-days" in err and err.count("\n") == 1


def test_show_says_an_expired_bundle_is_expired(
    pki: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _trust_toml(pki, tmp_path, "issued_at = 2025-01-01T00:00:00Z\nvalid_days = 30")
    out_file = tmp_path / "bundle.dsse"
    assert _bundle(capsys, pki, config, out_file)[0] == 0
    code, out, _ = _run(capsys, "show", out_file, "--root-pub", pki / "ca" / "root.pub")
    assert code == 0 and "valid until: 2025-01-31T00:00:00+00:00 (EXPIRED" in out
    assert "signature: verified" in out


def test_an_encrypted_ca_key_names_the_ca_passphrase_flag(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CA_PASS", "a long ca passphrase")
    code, _, _ = _run(capsys, "init", "--domain", "county.example", "--dir",
                      str(tmp_path / "ca"), "--passphrase-env", "CA_PASS")
    assert code == 0
    monkeypatch.delenv("CA_PASS")
    monkeypatch.delenv("HEDUI_KEY_PASSPHRASE", raising=False)
    code, _, err = _run(capsys, "issue", "--ca-dir", str(tmp_path / "ca"), "--id",
                        "spiffe://county.example/agent/banks", "--out", str(tmp_path / "b"))
    assert code != 0 and "--ca-passphrase-env VAR" in err
