"""Personal data at rest in the case database is sealed with one secret key.

Members' ID numbers and names, the signed answers and the reports are stored as
NaCl SecretBox ciphertexts (XSalsa20-Poly1305, random nonce). A stolen database
file without the key file tells nothing about anyone; erasing an answer after its
retention period deletes its ciphertext.
"""

from __future__ import annotations

import nacl.exceptions
import nacl.secret
import nacl.utils

from hedui.errors import HeduiError


class SealError(HeduiError):
    """A sealed value cannot be opened (wrong key or damaged data)."""


class Vault:
    """Seals and opens byte strings with one 32-byte key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != nacl.secret.SecretBox.KEY_SIZE:
            raise SealError(f"the answers key must be {nacl.secret.SecretBox.KEY_SIZE} bytes")
        self._box = nacl.secret.SecretBox(key)

    def __repr__(self) -> str:
        return "Vault(<key>)"

    def seal(self, plaintext: bytes) -> bytes:
        return bytes(self._box.encrypt(plaintext))

    def open(self, sealed: bytes) -> bytes:
        try:
            return bytes(self._box.decrypt(sealed))
        except nacl.exceptions.CryptoError:
            raise SealError(
                "stored data cannot be decrypted: wrong answers key or damaged record"
            ) from None
