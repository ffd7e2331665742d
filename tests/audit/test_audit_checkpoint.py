"""Signed checkpoints (C2SP signed-note + tlog-checkpoint): format, interop and attacks."""

from __future__ import annotations

import base64
import hashlib

import pytest
from nacl.signing import SigningKey

from hedui.audit.checkpoint import (
    Checkpoint,
    format_vkey,
    key_id,
    open_checkpoint,
    parse_vkey,
    sign_checkpoint,
    signed_size,
    verify_note,
)
from hedui.audit.errors import CheckpointError

KEY = SigningKey(b"\x01" * 32)
OTHER = SigningKey(b"\x02" * 32)
NAME = "hedui-gateway"
ROOT = hashlib.sha256(b"root").digest()
CP = Checkpoint(origin="hedui.example/county-1/audit", size=1234, root=ROOT)


@pytest.fixture
def note() -> str:
    return sign_checkpoint(CP, NAME, KEY)


def _open(text: str) -> Checkpoint:
    return open_checkpoint(text, NAME, KEY.verify_key)


def test_signed_note_layout(note: str) -> None:
    body, sigs = note.split("\n\n")
    assert body == f"{CP.origin}\n1234\n{base64.b64encode(ROOT).decode()}"
    assert sigs.startswith("\u2014 hedui-gateway ") and sigs.endswith("\n")
    raw = base64.b64decode(sigs.split(" ")[2])
    assert raw[:4] == key_id(NAME, KEY.verify_key) and len(raw) == 68


def test_round_trip(note: str) -> None:
    assert _open(note) == CP
    assert open_checkpoint(note, NAME, KEY.verify_key, origin=CP.origin) == CP


def test_key_id_is_sha256_of_name_newline_type_and_key() -> None:
    want = hashlib.sha256(NAME.encode() + b"\n\x01" + bytes(KEY.verify_key)).digest()[:4]
    assert key_id(NAME, KEY.verify_key) == want


def test_go_note_package_example_verifies() -> None:
    """Interop: the example vkey and signed note of golang.org/x/mod/sumdb/note."""
    name, verify_key = parse_vkey(
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    )
    text = (
        "If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n"
        "\n"
        "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ"
        "SNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    )
    body = verify_note(text, name, verify_key)
    assert body.startswith("If you think")
    with pytest.raises(CheckpointError, match="does not match"):
        verify_note(text.replace("cryptography", "cryptographY"), name, verify_key)


def test_vkey_round_trip() -> None:
    vkey = format_vkey(NAME, KEY.verify_key)
    assert vkey.startswith(f"{NAME}+{key_id(NAME, KEY.verify_key).hex()}+")
    name, verify_key = parse_vkey(vkey)
    assert name == NAME and bytes(verify_key) == bytes(KEY.verify_key)


@pytest.mark.parametrize(
    "vkey",
    [
        "no-plus-signs",
        "name+c74f20a3",
        "name+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong id
        "Other+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # id of another name
        "PeterNeumann+c74f20a3+AhpjZHEHFDw4TEHoMMW84SqogX7FZJqqvywxOIs1stdE",  # type 2
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",  # short key
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW===",
    ],
)
def test_malformed_vkey_is_refused(vkey: str) -> None:
    with pytest.raises(CheckpointError):
        parse_vkey(vkey)


# ---------------------------------------------------------------- attacks on a note


def _resign_body(note: str, body: str) -> str:
    """Keep the original signature line but change the signed body."""
    return body + note[note.rindex("\n\n") + 1 :]


def test_tampered_size_is_refused(note: str) -> None:
    with pytest.raises(CheckpointError, match="does not match"):
        _open(note.replace("\n1234\n", "\n1235\n", 1))


def test_tampered_root_is_refused(note: str) -> None:
    other = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    with pytest.raises(CheckpointError, match="does not match"):
        _open(_resign_body(note, f"{CP.origin}\n1234\n{other}\n"))


def test_tampered_origin_is_refused(note: str) -> None:
    with pytest.raises(CheckpointError, match="does not match"):
        _open(note.replace("county-1", "county-2", 1))


def test_note_for_another_origin_is_refused() -> None:
    other = sign_checkpoint(Checkpoint("elsewhere.example/log", 5, ROOT), NAME, KEY)
    with pytest.raises(CheckpointError, match="elsewhere"):
        open_checkpoint(other, NAME, KEY.verify_key, origin=CP.origin)


def test_wrong_key_is_refused(note: str) -> None:
    with pytest.raises(CheckpointError, match="no signature by key"):
        open_checkpoint(note, NAME, OTHER.verify_key)


def test_unknown_key_name_is_refused(note: str) -> None:
    with pytest.raises(CheckpointError, match="no signature by key 'someone-else'"):
        open_checkpoint(note, "someone-else", KEY.verify_key)


def test_signature_by_another_key_under_our_name_is_refused() -> None:
    forged = sign_checkpoint(CP, NAME, OTHER)
    with pytest.raises(CheckpointError, match="no signature by key"):
        _open(forged)


def test_signature_with_our_key_id_but_forged_bytes_is_refused(note: str) -> None:
    line = note.rsplit("\n", 2)[1]
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[-1] ^= 1
    forged = note.replace(line.split(" ")[2], base64.b64encode(bytes(raw)).decode())
    with pytest.raises(CheckpointError, match="does not match"):
        _open(forged)


def test_missing_signature_line_is_refused(note: str) -> None:
    with pytest.raises(CheckpointError, match="no signature lines"):
        _open(note[: note.rindex("\n\n") + 2])
    with pytest.raises(CheckpointError, match="no blank line"):
        _open(CP.body())


def test_witness_cosignature_is_ignored(note: str) -> None:
    witness = sign_checkpoint(CP, "county-witness", OTHER)
    cosigned = note + witness[witness.rindex("\n\n") + 2 :]
    assert _open(cosigned) == CP
    assert open_checkpoint(cosigned, "county-witness", OTHER.verify_key) == CP


def test_extension_line_in_body_is_refused() -> None:
    body = CP.body() + "extension line\n"
    signed = body + "\n" + sign_checkpoint(CP, NAME, KEY).split("\n\n")[1]
    # re-sign the longer body properly so only the extra line is at fault
    sig = KEY.sign(body.encode()).signature
    line = base64.b64encode(key_id(NAME, KEY.verify_key) + sig).decode()
    signed = f"{body}\n\u2014 {NAME} {line}\n"
    with pytest.raises(CheckpointError, match="4 lines"):
        _open(signed)


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda n: n + "trailing text\n", id="extra-line-after-signatures"),
        pytest.param(lambda n: n + "\n", id="extra-blank-line-at-end"),
        pytest.param(lambda n: n.rstrip("\n"), id="no-final-newline"),
        pytest.param(lambda n: n.replace("\u2014 ", "-- "), id="ascii-dash-signature"),
        pytest.param(lambda n: n.replace("\n\n", "\n\n\n"), id="two-blank-lines"),
        pytest.param(lambda n: n.replace("\n1234\n", "\n01234\n"), id="leading-zero-size"),
        pytest.param(lambda n: n.replace("\n1234\n", "\n+1234\n"), id="signed-size"),
        pytest.param(lambda n: n.replace("\n", "\r\n"), id="crlf-line-ends"),
        pytest.param(lambda n: n.replace("hedui.example", "hedui\x7fexample"), id="delete-char"),
        pytest.param(lambda n: n.replace("hedui.example", "hedui\texample"), id="tab"),
        pytest.param(lambda n: n.replace(" ", "  ", 1), id="double-space-in-signature"),
        pytest.param(lambda n: n.replace("=\n", "\n"), id="unpadded-base64"),
        pytest.param(lambda n: "\n".join(["x"] * 3) + "\n\n" + "\u2014 a b\n" * 101, id="flood"),
    ],
)
def test_malformed_note_is_refused(note: str, mangle: object) -> None:
    with pytest.raises(CheckpointError):
        _open(mangle(note))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [
        ("", 1, ROOT),
        ("two\nlines", 1, ROOT),
        ("o", -1, ROOT),
        ("o", 2**64, ROOT),
        ("o", 1, ROOT[:31]),
        ("o", True, ROOT),
    ],
)
def test_malformed_checkpoint_cannot_be_built(origin: str, size: int, root: bytes) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint(origin=origin, size=size, root=root)


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\tname"])
def test_invalid_key_names_are_refused(name: str) -> None:
    with pytest.raises(CheckpointError):
        sign_checkpoint(CP, name, KEY)


def test_vkey_whose_base64_holds_a_plus_sign_round_trips() -> None:
    """The name and key id never hold '+', the base64 key often does."""
    from nacl.signing import SigningKey

    from hedui.audit.checkpoint import format_vkey, parse_vkey

    for seed in range(200):
        key = SigningKey(bytes([seed]) * 32)
        vkey = format_vkey("county.example/gateway/center", key.verify_key)
        if "+" in vkey.split("+", 2)[2]:
            name, verify_key = parse_vkey(vkey)
            assert name == "county.example/gateway/center"
            assert bytes(verify_key) == bytes(key.verify_key)
            return
    raise AssertionError("no key with '+' in its base64 found")


def test_signed_size_reads_the_size_line_of_our_own_note(note: str) -> None:
    assert signed_size(note) == 1234
    with pytest.raises(CheckpointError):
        signed_size("not a checkpoint")
