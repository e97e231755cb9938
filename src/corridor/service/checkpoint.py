"""Signed checkpoints of the audit chain's head, with an Ed25519 key kept outside the database.

The hash chain proves the log consistent with itself, not complete: whoever can write to the
database can cut the last entries and rewind the head, or rewrite the whole chain with recomputed
hashes. A checkpoint is the head (entry number, hash, time) signed with a key the database never
sees; kept elsewhere (a regulator's mailbox, another machine), it lets `verify` prove that every
entry up to that head is still there, unchanged. Checkpoints taken often shrink the window.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session

from corridor.service import audit
from corridor.service.db import AuditEntry

FORMAT = "corridor-audit-checkpoint/1"


class CheckpointError(ValueError):
    """A key or checkpoint file that is missing, unreadable or not what it should be."""


class TrailBroken(Exception):
    """The audit trail does not verify, so its head is not signed."""

    def __init__(self, report: audit.Verification):
        super().__init__(f"the audit trail is broken ({len(report.problems)} problems)")
        self.report = report


# --- keys -------------------------------------------------------------------------------------

def generate_key(path: Path) -> Path:
    """Write a new private key to `path` (PEM, mode 0600, never overwriting a file) and its
    public key to `path` + ".pub"; returns the public key's path."""
    path = Path(path)
    public_path = path.with_name(path.name + ".pub")
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    for target in (path, public_path):
        if target.exists():
            raise CheckpointError(f"{target} exists already; choose another file (a key is "
                                  "never overwritten)")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise CheckpointError(f"cannot create the key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(private)
    public_path.write_bytes(public)
    return public_path


def _read_key_file(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read the audit key {path}: {exc.strerror}; create one "
                              "with `corridor audit keygen --out FILE`") from None


def _private_pem(data: bytes):
    return serialization.load_pem_private_key(data, password=None)


def _parse_pem(data: bytes, load):
    """The key `load` reads from PEM bytes, or None when they hold no such key."""
    try:
        return load(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in a PEM file."""
    key = _parse_pem(_read_key_file(path), _private_pem)
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path} is not an unencrypted Ed25519 private key in PEM (signing "
                              "needs the private key written by `corridor audit keygen`)")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in a PEM file holding either the public or the private key."""
    data = _read_key_file(path)
    key = _parse_pem(data, serialization.load_pem_public_key)
    if key is None:
        private = _parse_pem(data, _private_pem)
        key = private.public_key() if private is not None else None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{path} is neither an Ed25519 public key nor an unencrypted "
                              "Ed25519 private key in PEM")
    return key


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key (SHA-256 of its raw bytes), to tell keys apart."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# --- checkpoints ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    """A signed head of the audit chain."""

    head: audit.Head
    signed_at: str
    key_id: str
    signature: str  # base64 of the Ed25519 signature over `payload()`

    def payload(self) -> bytes:
        """The signed bytes: every field but the signature, as canonical JSON."""
        return audit.canonical({"format": FORMAT, "seq": self.head.seq, "hash": self.head.hash,
                                "at": self.head.at, "signed_at": self.signed_at,
                                "key_id": self.key_id}).encode("utf-8")

    def to_dict(self) -> dict:
        return {**json.loads(self.payload()), "signature": self.signature}

    def describe(self) -> str:
        return f"the checkpoint of entry {self.head.seq} signed {self.signed_at}"

    def signature_problem(self, public_key: Ed25519PublicKey) -> str | None:
        """Why the signature does not hold with `public_key`, or None if it does."""
        if self.key_id != key_id(public_key):
            return (f"{self.describe()} names signing key {self.key_id}, not the key given "
                    f"({key_id(public_key)}): it was signed by another key, or edited")
        try:
            public_key.verify(base64.b64decode(self.signature, validate=True), self.payload())
        except (InvalidSignature, binascii.Error, ValueError):
            return (f"{self.describe()} has a bad signature: the file was edited after it was "
                    "signed, or forged")
        return None


def sign(head: audit.Head, private_key: Ed25519PrivateKey, now: datetime) -> Checkpoint:
    """Sign a head of the chain."""
    unsigned = Checkpoint(head, now.astimezone(UTC).isoformat(timespec="seconds"),
                          key_id(private_key.public_key()), "")
    signature = base64.b64encode(private_key.sign(unsigned.payload())).decode("ascii")
    return replace(unsigned, signature=signature)


def take(session: Session, private_key: Ed25519PrivateKey, now: datetime) -> Checkpoint:
    """Verify the whole trail and sign its head; raise `TrailBroken` instead of signing a head
    that does not verify."""
    report = audit.verify(session)
    if not report.ok:
        raise TrailBroken(report)
    entry = session.get(AuditEntry, report.head_seq) if report.head_seq else None
    return sign(audit.Head(report.head_seq, report.head_hash, entry.at if entry else None),
                private_key, now)


def write(path: Path, checkpoint: Checkpoint) -> None:
    """Save a checkpoint as JSON (a file per checkpoint: keep the older ones)."""
    try:
        Path(path).write_text(json.dumps(checkpoint.to_dict(), indent=2) + "\n")
    except OSError as exc:
        raise CheckpointError(f"cannot write the checkpoint {path}: {exc.strerror}") from None


def read(path: Path) -> Checkpoint:
    """A checkpoint file, checked for shape (the signature is checked by `verify`)."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise CheckpointError(f"cannot read the checkpoint {path}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a Corridor audit checkpoint (JSON with format "
                              f"{FORMAT!r}, written by `corridor audit checkpoint`)")
    kinds = {"seq": int, "hash": str, "at": (str, type(None)), "signed_at": str, "key_id": str,
             "signature": str}
    missing = [f for f in kinds if f not in data]
    if missing:
        raise CheckpointError(f"the checkpoint {path} is corrupt (missing {', '.join(missing)})")
    wrong = [f for f, kind in kinds.items() if not isinstance(data[f], kind)]
    if not wrong and (isinstance(data["seq"], bool) or data["seq"] < 0):
        wrong = ["seq"]
    if wrong:
        raise CheckpointError(f"the checkpoint {path} is corrupt (bad {', '.join(wrong)})")
    return Checkpoint(audit.Head(data["seq"], data["hash"], data["at"]), data["signed_at"],
                      data["key_id"], data["signature"])


def verify(session: Session, checkpoints: Sequence[Checkpoint],
           public_key: Ed25519PublicKey | None, expect_head: str | None = None,
           rows: bool = True) -> audit.Verification:
    """`audit.verify` against signed checkpoints: a checkpoint with a bad signature is a
    problem itself, and every good one must still be in the chain, unchanged."""
    if checkpoints and public_key is None:
        raise CheckpointError("checking a checkpoint needs the audit public key (or the "
                              "private key): give --key or set CORRIDOR_SERVICE_AUDIT_KEY")
    bad = [c.signature_problem(public_key) for c in checkpoints]
    good = [c.head for c, problem in zip(checkpoints, bad, strict=True) if problem is None]
    report = audit.verify(session, expect_head, good, rows)
    report.checkpoints = len(checkpoints)
    report.problems[:0] = [problem for problem in bad if problem]
    return report
