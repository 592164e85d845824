"""Least-privilege Redis ACL rules for Vigie and for one supervisor (Redis >= 7.0)."""
from __future__ import annotations

import re

from services.contract.channels import DOMAINS, SUP_PATTERN

_ACL_USER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SUP_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # no glob characters: the channel rules stay exact
SOCKETIO_CHANNEL = "flask-socketio"  # Flask-SocketIO's default message-queue channel

# Vigie keeps every key under `vigie:`; reads `sup.*`, writes `cmd.*` and the Socket.IO queue. `sup:*`: the
# supervisors' retained states (contract v2), which it reads and its NGSI relay writes for its sources.
VIGIE_RULES = (
    "resetkeys", "~vigie:*", "~sup:*",
    "resetchannels", f"&{SUP_PATTERN}", "&cmd.*", f"&{SOCKETIO_CHANNEL}",
    "-@all", "+@connection", "+@read", "+@write", "+@stream", "+@pubsub", "+@transaction", "-@dangerous",
)
# A supervisor publishes on its own `sup.` channels, listens to its `cmd.` channel and writes its own retained
# state (contract v2: keys `sup:<domain>:<id>:*`, parts then manifest, expiry and announcement in one MULTI).
SUPERVISOR_COMMANDS = ("-@all", "+ping", "+publish", "+subscribe", "+unsubscribe",
                       "+get", "+set", "+exists", "+expire", "+multi", "+exec", "+discard")


class AclError(ValueError):
    """A user name, domain or supervisor id that cannot be written into an ACL rule."""


def _password_rule(password: str) -> str:
    if not password or any(c.isspace() for c in password):
        raise AclError("an ACL password is non-empty and has no spaces")
    return f">{password}"


def vigie_acl(user: str, password: str) -> list[str]:
    """Return the ACL SETUSER arguments for Vigie's own Redis user."""
    if not _ACL_USER.match(user):
        raise AclError(f"bad ACL user name {user[:64]!r}")
    return ["ACL", "SETUSER", user, "reset", "on", _password_rule(password), *VIGIE_RULES]


def supervisor_acl(domain: str, supervisor: str, password: str, *, user: str | None = None) -> list[str]:
    """Return the ACL SETUSER arguments for one supervisor: only its own channels and its own retained-state keys."""
    if domain not in DOMAINS:
        raise AclError(f"unknown domain {domain[:40]!r}")
    if not _SUP_ID.match(supervisor):
        raise AclError(f"bad supervisor id {supervisor[:64]!r}")
    name = user or f"sup-{domain}-{supervisor}"
    if not _ACL_USER.match(name):
        raise AclError(f"bad ACL user name {name[:64]!r}")
    channels = (f"&sup.{domain}.{supervisor}.*", f"&cmd.{domain}.{supervisor}")
    return ["ACL", "SETUSER", name, "reset", "on", _password_rule(password), "resetkeys", f"~sup:{domain}:{supervisor}:*",
            "resetchannels", *channels, *SUPERVISOR_COMMANDS]


def as_line(args: list[str]) -> str:
    """Return the arguments as one redis-cli line."""
    return " ".join(args)
