"""Purpose-bound keys derived from the one secret, and hashing of opaque tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

OPAQUE_TOKEN_BYTES = 32


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A separate key per use, so one leaked or misused key opens nothing else."""
    return hmac.new(secret, f"dreamlust:{purpose}".encode(), hashlib.sha256).digest()


def new_opaque_token() -> str:
    return secrets.token_urlsafe(OPAQUE_TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Opaque tokens carry 256 random bits, so a plain SHA-256 is a safe one-way store."""
    return hashlib.sha256(token.encode()).hexdigest()
