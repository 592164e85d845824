"""Password policy and strong hashing (Argon2id through argon2-cffi)."""
from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .roles import AccountError

MAX_PASSWORD_LENGTH = 1024  # hashing is costly: refuse absurd inputs before it
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def check_name(name: str) -> str:
    """Return the account name, lower-cased, or raise AccountError."""
    cleaned = name.strip().lower()
    if not NAME_PATTERN.match(cleaned):
        raise AccountError("an account name is 1-64 characters: lower-case letters, digits, '.', '_' or '-'")
    return cleaned


def check_password(password: str, *, name: str, min_length: int) -> None:
    """Raise AccountError when `password` does not meet the policy."""
    if len(password) < min_length:
        raise AccountError(f"a password needs at least {min_length} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    if password.strip().lower() == name.lower() or len(set(password)) < 4:
        raise AccountError("this password is too easy to guess")


class Passwords:
    """Hash and verify passwords; verification of an unknown account costs the same time."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()  # Argon2id, RFC 9106 low-memory profile
        self._dummy = self._hasher.hash("vigie: no such account")

    def hash(self, password: str) -> str:
        """Return the Argon2id hash of `password`."""
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Return whether `password` matches `stored` (None: compare against a dummy, then refuse)."""
        if len(password) > MAX_PASSWORD_LENGTH:
            return False
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """Return whether `stored` was made with weaker parameters than today's."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
