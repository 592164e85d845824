"""API and device tokens: `vgt_<id>.<secret>`; only a SHA-256 digest of the secret is stored."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

TOKEN_PREFIX = "vgt_"
_TOKEN = re.compile(r"^vgt_([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$")


def new_token() -> tuple[str, str]:
    """Return (token id, the full token to hand over once)."""
    token_id = secrets.token_hex(8)
    return token_id, f"{TOKEN_PREFIX}{token_id}.{secrets.token_urlsafe(32)}"


def parse_token(raw: str) -> tuple[str, str] | None:
    """Return (token id, secret) of a well-formed token, else None."""
    match = _TOKEN.match(raw.strip()) if raw and len(raw) < 128 else None
    return (match.group(1), match.group(2)) if match else None


def digest(secret: str) -> str:
    """Return the stored form of a token secret (256 random bits need no slow hash)."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def matches(stored_digest: str, secret: str) -> bool:
    """Compare a presented secret with the stored digest in constant time."""
    return hmac.compare_digest(stored_digest, digest(secret))


def bearer(header: str | None) -> str | None:
    """Return the token of an `Authorization: Bearer <token>` header, else None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None
