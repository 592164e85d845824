"""Accounts and tokens kept in Redis (hashes under `vigie:`), so they survive restarts."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Callable, Iterable, TypeVar

import redis

from services.redis_conn import BUS_ERRORS, BusUnavailable

from . import tokens
from .passwords import Passwords, check_name, check_password
from .roles import (
    DEVICE_ROLES,
    TOKEN_ROLES,
    AccountError,
    Principal,
    PrincipalKind,
    Role,
    parse_domains,
    parse_role,
)

PREFIX = "vigie:"
TOKEN_NAME_MAX = 80
F = TypeVar("F", bound=Callable[..., Any])


class AccountExists(AccountError):
    """An account with this name already exists."""


class NotFound(AccountError):
    """No such account or token."""


class SigninResult(StrEnum):
    """How a password check ended (the audit log keeps the distinction, the page does not)."""

    OK = "ok"
    UNKNOWN = "unknown_account"
    BAD_PASSWORD = "bad_password"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class Account:
    """A person's account (the password hash stays out of repr)."""

    name: str
    role: Role
    domains: frozenset[str]
    disabled: bool
    epoch: int
    created_at: float
    updated_at: float
    password_hash: str = ""

    def __repr__(self) -> str:
        return f"Account({self.name!r}, {self.role}, domains={sorted(self.domains)}, disabled={self.disabled})"

    def principal(self) -> Principal:
        """Return who this account acts as."""
        return Principal(self.name, self.role, self.domains, PrincipalKind.USER, epoch=self.epoch)


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API or device token (the secret itself is never stored)."""

    id: str
    name: str
    role: Role
    domains: frozenset[str]
    device: bool
    created_at: float
    created_by: str
    revoked_at: float | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def principal(self) -> Principal:
        """Return who this token acts as."""
        kind = PrincipalKind.DEVICE if self.device else PrincipalKind.TOKEN
        return Principal(self.name, self.role, self.domains, kind, token_id=self.id)


def _unavailable(fn: F) -> F:
    """Turn Redis connection errors into BusUnavailable."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BUS_ERRORS as err:
            raise BusUnavailable(f"account store unreachable: {err}") from err

    return wrapper  # type: ignore[return-value]


def _text(raw: dict[bytes | str, bytes | str]) -> dict[str, str]:
    return {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v) for k, v in raw.items()}


def _domains(raw: str) -> frozenset[str]:
    return frozenset(d for d in raw.split(",") if d)


class AccountStore:
    """Create, find, disable and reset accounts; create, resolve and revoke tokens."""

    def __init__(self, client: redis.Redis, passwords: Passwords, *, min_password_length: int = 12) -> None:
        self.client = client
        self.passwords = passwords
        self.min_password_length = min_password_length

    # --- accounts ---------------------------------------------------------------------
    @_unavailable
    def create_user(self, name: str, role: str, domains: str | Iterable[str] | None, password: str, *, now: float) -> Account:
        """Create an account; raise AccountError (bad input) or AccountExists."""
        name = check_name(name)
        parsed_role = parse_role(role)
        scope = parse_domains(domains, parsed_role)
        check_password(password, name=name, min_length=self.min_password_length)
        fields = {"name": name, "role": parsed_role.value, "domains": ",".join(sorted(scope)), "disabled": "0",
                  "epoch": "1", "created_at": repr(now), "updated_at": repr(now), "password": self.passwords.hash(password)}
        key = f"{PREFIX}user:{name}"
        with self.client.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(key)
                if pipe.exists(key):
                    raise AccountExists(f"the account {name!r} already exists")
                pipe.multi()
                pipe.hset(key, mapping=fields)
                pipe.sadd(f"{PREFIX}users", name)
                pipe.execute()
            except redis.WatchError as err:
                if not self.client.exists(key):  # redis-py says WatchError too when the connection drops while watching
                    raise BusUnavailable(f"account store unreachable while creating {name!r}: {err}") from err
                raise AccountExists(f"the account {name!r} already exists") from err
        return self._account(fields)

    @_unavailable
    def get_user(self, name: str) -> Account | None:
        """Return the account `name`, or None."""
        raw = _text(self.client.hgetall(f"{PREFIX}user:{name.strip().lower()[:64]}"))
        return self._account(raw) if raw.get("role") else None

    @_unavailable
    def list_users(self) -> list[Account]:
        """Return every account, by name."""
        names = sorted(n.decode() if isinstance(n, bytes) else n for n in self.client.smembers(f"{PREFIX}users"))
        return [a for a in (self.get_user(n) for n in names) if a is not None]

    @_unavailable
    def user_count(self) -> int:
        """Return how many accounts exist."""
        return int(self.client.scard(f"{PREFIX}users"))

    def active_admins(self) -> list[Account]:
        """Return the enabled admin accounts."""
        return [a for a in self.list_users() if a.role == Role.ADMIN and not a.disabled]

    @_unavailable
    def set_disabled(self, name: str, disabled: bool, *, now: float) -> Account:
        """Disable (ending its sessions) or re-enable an account."""
        account = self._require(name)
        self._update(account.name, {"disabled": "1" if disabled else "0", "updated_at": repr(now)}, bump=disabled)
        return self._require(name)

    @_unavailable
    def reset_password(self, name: str, password: str, *, now: float) -> Account:
        """Set a new password and end the account's sessions."""
        account = self._require(name)
        check_password(password, name=account.name, min_length=self.min_password_length)
        self._update(account.name, {"password": self.passwords.hash(password), "updated_at": repr(now)}, bump=True)
        return self._require(name)

    @_unavailable
    def check_password(self, name: str, password: str) -> tuple[SigninResult, Account | None]:
        """Check a sign-in; unknown accounts cost the same time as known ones."""
        account = self.get_user(name) if name and len(name) <= 64 else None
        if not self.passwords.verify(account.password_hash if account else None, password):
            return (SigninResult.BAD_PASSWORD if account else SigninResult.UNKNOWN), account
        if account is None:
            return SigninResult.UNKNOWN, None
        if account.disabled:
            return SigninResult.DISABLED, account
        if self.passwords.needs_rehash(account.password_hash):
            self._update(account.name, {"password": self.passwords.hash(password)}, bump=False)
        return SigninResult.OK, account

    def _require(self, name: str) -> Account:
        account = self.get_user(name)
        if account is None:
            raise NotFound(f"no account named {name[:64]!r}")
        return account

    def _update(self, name: str, fields: dict[str, str], *, bump: bool) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(f"{PREFIX}user:{name}", mapping=fields)
        if bump:
            pipe.hincrby(f"{PREFIX}user:{name}", "epoch", 1)
        pipe.execute()

    @staticmethod
    def _account(raw: dict[str, str]) -> Account:
        return Account(raw["name"], Role(raw["role"]), _domains(raw.get("domains", "")), raw.get("disabled") == "1",
                       int(raw.get("epoch", "1")), float(raw.get("created_at", "0")), float(raw.get("updated_at", "0")),
                       raw.get("password", ""))

    # --- tokens -----------------------------------------------------------------------
    @_unavailable
    def create_token(self, name: str, role: str, domains: str | Iterable[str] | None, *, device: bool,
                     created_by: str, now: float) -> tuple[TokenRecord, str]:
        """Create a token; return its record and the token itself (shown once, never stored)."""
        label = " ".join(name.split())[:TOKEN_NAME_MAX]
        if not label or not label.isprintable():
            raise AccountError(f"a token needs a printable name of 1-{TOKEN_NAME_MAX} characters")
        parsed_role = parse_role(role)
        allowed = DEVICE_ROLES if device else TOKEN_ROLES
        if parsed_role not in allowed:
            what = "a device token is read-only (viewer)" if device else "accounts are not managed with a token"
            raise AccountError(f"role {parsed_role} refused: {what}")
        scope = parse_domains(domains, parsed_role)
        token_id, raw = tokens.new_token()
        secret = raw.split(".", 1)[1]
        fields = {"id": token_id, "name": label, "role": parsed_role.value, "domains": ",".join(sorted(scope)),
                  "device": "1" if device else "0", "created_at": repr(now), "created_by": created_by[:80],
                  "digest": tokens.digest(secret)}
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(f"{PREFIX}token:{token_id}", mapping=fields)
        pipe.sadd(f"{PREFIX}tokens", token_id)
        pipe.execute()
        return self._token(fields), raw

    @_unavailable
    def resolve_token(self, raw: str) -> TokenRecord | None:
        """Return the live token `raw` stands for; None when malformed, unknown, wrong or revoked."""
        parsed = tokens.parse_token(raw)
        if parsed is None:
            return None
        stored = _text(self.client.hgetall(f"{PREFIX}token:{parsed[0]}"))
        if not stored.get("digest") or not tokens.matches(stored["digest"], parsed[1]) or stored.get("revoked_at"):
            return None
        return self._token(stored)

    @_unavailable
    def get_token(self, token_id: str) -> TokenRecord | None:
        """Return a token's record by id (revoked ones too)."""
        stored = _text(self.client.hgetall(f"{PREFIX}token:{token_id[:32]}"))
        return self._token(stored) if stored.get("id") else None

    @_unavailable
    def list_tokens(self) -> list[TokenRecord]:
        """Return every token, newest first."""
        ids = [i.decode() if isinstance(i, bytes) else i for i in self.client.smembers(f"{PREFIX}tokens")]
        found = [t for t in (self.get_token(i) for i in ids) if t is not None]
        return sorted(found, key=lambda t: t.created_at, reverse=True)

    @_unavailable
    def revoke_token(self, token_id: str, *, now: float) -> TokenRecord:
        """Revoke a token: the next request that presents it is refused."""
        record = self.get_token(token_id)
        if record is None:
            raise NotFound(f"no token with id {token_id[:32]!r}")
        if not record.revoked:
            self.client.hset(f"{PREFIX}token:{record.id}", "revoked_at", repr(now))
        return self.get_token(token_id)  # type: ignore[return-value]

    @staticmethod
    def _token(raw: dict[str, str]) -> TokenRecord:
        revoked = raw.get("revoked_at")
        return TokenRecord(raw["id"], raw["name"], Role(raw["role"]), _domains(raw.get("domains", "")),
                           raw.get("device") == "1", float(raw.get("created_at", "0")), raw.get("created_by", ""),
                           float(revoked) if revoked else None)
