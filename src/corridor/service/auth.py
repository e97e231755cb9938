"""Authentication: Argon2 password hashes (pwdlib) and opaque bearer tokens.

A token is 32 random bytes from `secrets`; the database keeps only its SHA-256, so a copy of the
database cannot be used to log in. Tokens expire after `token_ttl_hours` and are revoked at logout.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.service.db import ApiToken, User

_hasher = PasswordHash.recommended()  # Argon2id with the library's current parameters
_DUMMY = _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    """An Argon2id hash of `password` for storage."""
    return _hasher.hash(password)


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches the stored hash."""
    return _hasher.verify(password, stored)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (timing does not reveal which failed)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        _hasher.verify(password, _DUMMY)
        return None
    if not (verify_password(password, user.password_hash) and user.active):
        return None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User, ttl_hours: float,
                now: datetime | None = None) -> tuple[str, datetime]:
    """A new bearer token for `user` and its expiry; call inside a write transaction."""
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=ttl_hours)
    session.add(ApiToken(token_hash=_digest(token), user_id=user.id, created_at=now,
                         expires_at=expires, revoked=False))
    return token, expires


def user_for_token(session: Session, token: str, now: datetime | None = None) -> User | None:
    """The active user a valid, unexpired, unrevoked token belongs to."""
    now = now or datetime.now(UTC)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.revoked:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires <= now:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def revoke_token(session: Session, token: str) -> bool:
    """Revoke a token (logout); True if it existed."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None:
        return False
    row.revoked = True
    return True
