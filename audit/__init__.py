"""hedui.audit — the append-only Merkle audit log: entries, proofs, checkpoints, verification.

One concept a module; building and checking live apart (STYLE.md). What is where:

``hedui.audit.errors``
    ``AuditError`` (a ``HeduiError``) and its subclasses: ``ProofError`` ⊃
    ``RootMismatchError``, ``CheckpointError``, ``TamperError`` (``.leaf_index``,
    ``.checkpoint_size``, ``.node``), ``LogRangeError``, ``StoreError``, ``EntryError``,
    ``PseudonymError``.
``hedui.audit.hashing``
    RFC 6962 hashing: ``leaf_hash(entry)``, ``node_hash(left, right)``, ``EMPTY_ROOT``,
    ``HASH_SIZE``.
``hedui.audit.proof_build``
    Proofs and roots from stored perfect subtrees ``(level, index)``:
    ``inclusion_plan(index, size)``, ``consistency_plan(size1, size2)``,
    ``root_plan(size)`` → ``ProofPlan`` (``.node_ids()``, ``.hashes(nodes)``);
    ``inclusion_proof / consistency_proof / root_hash(..., get_node)``;
    ``range_nodes(begin, end)``, ``fold_range(hashes)``; ``CompactRange`` (the appender's
    right edge: ``append``, ``extend``, ``root``, ``size``, ``edge``).
``hedui.audit.proof_verify``
    RFC 9162 §2.1.3.2 / §2.1.4.2: ``verify_inclusion(leaf_hash, index, size, proof,
    root)``, ``verify_consistency(size1, size2, proof, root1, root2)``,
    ``root_from_inclusion_proof(leaf_hash, index, size, proof)``; each returns ``None``
    or raises ``ProofError``.
``hedui.audit.checkpoint``
    C2SP signed-note checkpoints: ``Checkpoint(origin, size, root)``,
    ``sign_checkpoint(cp, name, signing_key) -> str``,
    ``open_checkpoint(note, name, verify_key, *, origin=None) -> Checkpoint``,
    ``verify_note(note, name, verify_key) -> body``, ``key_id``, ``format_vkey``,
    ``parse_vkey``.
``hedui.audit.store``
    ``AuditLog.create(url, *, origin, key_name, signing_key, prefix="", schema=None,
    pseudonym_key=None, clock=...)`` / ``AuditLog.open(..., signing_key=None,
    verify_key=None, create=False)``; ``append(entry) -> int``,
    ``append_many(entries) -> list[int]``, ``size()``, ``root(size=None)``,
    ``inclusion_proof(index, size=None)``, ``consistency_proof(size1, size2)``,
    ``leaf(index)``, ``iter_entries(start, stop)``, ``checkpoint() -> note``,
    ``latest_checkpoint()``, ``open_note(note)``, ``verify_all()``, ``pseudonym(id)``,
    ``close()``; ``make_engine(url)``.
``hedui.audit.schema``
    Table definitions and append-only triggers: ``make_tables(prefix, schema)``,
    ``install(conn, tables)``, ``row_hash(idx, leaf_hash)``.
``hedui.audit.group_commit``
    ``GroupCommitter``: the single writer thread that batches concurrent appends.
``hedui.audit.pseudonym``
    ``Pseudonymizer(key).pseudonym(id_number) -> hex HMAC-SHA-256``.

The RFC-level modules (hashing, proof_build, proof_verify, checkpoint) do no I/O and are
safe to use from any verifier, e.g. an agent witnessing the gateway's log.
"""
