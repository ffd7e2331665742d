"""hedui.keys: who may take part in the exchange, and how each proves it.

One concept a module:

* ``keyfile``     private key files (PKCS#8 PEM, mode 0600, optional passphrase)
* ``signing``     Ed25519 signing keys, keyids, public key files
* ``dsse``        signed envelopes: ``pae``, ``sign``, ``verify`` and the media types
* ``identity``    SPIFFE-style participant ids and the authenticated gRPC peer
* ``ca``          the center's X.509 CA and participant certificates
* ``tls``         gRPC mutual-TLS credentials
* ``bundle_rules`` the invariants of a TrustBundle
* ``bundle_toml`` the administrator's TOML -> TrustBundle
* ``bundle``      signing the bundle, ``Bundle`` lookups, ``TrustStore`` (newest serial only)
* ``errors``      every error raised here, each a ``hedui.errors.HeduiError``
* ``cli``         ``hedui keys init|issue|bundle|show``
"""
