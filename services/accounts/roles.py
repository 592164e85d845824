"""Roles, actions and who may do what, as one table; the decision itself is pure."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Iterable

from services.settings import DOMAINS


class Role(StrEnum):
    """What a person or a client is in the control room."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ENGINEER = "engineer"
    TRAINER = "trainer"
    ADMIN = "admin"


class Action(StrEnum):
    """Everything that is authorised, by name (the names appear in the audit log)."""

    DASHBOARD_VIEW = "dashboard.view"
    API_READ = "api.read"
    ALARM_ACKNOWLEDGE = "alarm.acknowledge"
    ALARM_SHELVE = "alarm.shelve"
    ALARM_COMMENT = "alarm.comment"
    COMMAND_SEND = "command.send"
    SETTINGS_THRESHOLDS = "settings.thresholds"
    REPLAY_RUN = "replay.run"
    ACCOUNTS_MANAGE = "accounts.manage"
    TOKENS_MANAGE = "tokens.manage"
    AUDIT_READ = "audit.read"
    NGSI_NOTIFY = "ngsi.notify"  # a context broker pushing notifications (a token of an engineer of those domains)
    SUPERVISORS_MANAGE = "supervisors.manage"  # approve, reject or remove a supervisor of its domain (registry of supervisors)
    WORKORDER_MANAGE = "workorder.manage"  # open, plan, close work orders of its domain (people, or a GMAO's API token)


class PrincipalKind(StrEnum):
    """How a principal proved who it is."""

    USER = "user"  # a person signed in with a password (session cookie)
    TOKEN = "token"  # an API client with a bearer token
    DEVICE = "device"  # a wall screen or kiosk with its device cookie
    CLI = "cli"  # someone at the server's shell
    ANONYMOUS = "anonymous"  # a browser that did not sign in, where the site allows it (VIGIE_ANONYMOUS_ROLE)


class Refusal(StrEnum):
    """Why an action was refused."""

    NOT_SIGNED_IN = "not_signed_in"
    UNKNOWN_ACTION = "unknown_action"
    ROLE = "role"
    DOMAIN = "domain"
    DOMAIN_REQUIRED = "domain_required"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may perform one action, and whether it is confined to the principal's domains."""

    roles: frozenset[Role]
    scoped: bool = False
    rate_limited: bool = False


_EVERYONE = frozenset(Role)
_HANDS_ON = frozenset({Role.OPERATOR, Role.ENGINEER})

# The permission table: this is the specification `tests/unit/test_accounts.py` pins.
PERMISSIONS: dict[Action, Rule] = {
    Action.DASHBOARD_VIEW: Rule(_EVERYONE),
    Action.API_READ: Rule(_EVERYONE),
    Action.ALARM_ACKNOWLEDGE: Rule(_HANDS_ON, scoped=True),
    Action.ALARM_SHELVE: Rule(_HANDS_ON, scoped=True),
    Action.ALARM_COMMENT: Rule(_HANDS_ON, scoped=True),
    Action.COMMAND_SEND: Rule(_HANDS_ON, scoped=True, rate_limited=True),
    Action.SETTINGS_THRESHOLDS: Rule(frozenset({Role.ENGINEER}), scoped=True),
    Action.REPLAY_RUN: Rule(frozenset({Role.TRAINER})),
    Action.ACCOUNTS_MANAGE: Rule(frozenset({Role.ADMIN})),
    Action.TOKENS_MANAGE: Rule(frozenset({Role.ADMIN})),
    Action.AUDIT_READ: Rule(frozenset({Role.ENGINEER, Role.ADMIN})),
    Action.NGSI_NOTIFY: Rule(frozenset({Role.ENGINEER}), scoped=True),
    Action.SUPERVISORS_MANAGE: Rule(frozenset({Role.ENGINEER}), scoped=True),
    Action.WORKORDER_MANAGE: Rule(_HANDS_ON, scoped=True),
}

SCOPED_ROLES = frozenset({Role.OPERATOR, Role.ENGINEER})  # roles whose rights stop at their domains
TOKEN_ROLES = frozenset(Role) - {Role.ADMIN}  # accounts are never managed with a bearer token
DEVICE_ROLES = frozenset({Role.VIEWER})  # wall screens only look


class AccountError(ValueError):
    """A name, role, domain list or password that cannot be accepted; the text says why."""


def parse_role(raw: str) -> Role:
    """Return the role named `raw`, or raise AccountError."""
    try:
        return Role(raw.strip().lower())
    except ValueError as err:
        raise AccountError(f"unknown role {raw[:40]!r} (one of {', '.join(Role)})") from err


def parse_domains(raw: str | Iterable[str] | None, role: Role) -> frozenset[str]:
    """Return the domains a role is scoped to; `all` means every domain; unscoped roles get none."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or ())
    names = {item.strip().lower() for item in items if item.strip()}
    if "all" in names or "*" in names:
        names = set(DOMAINS)
    unknown = names - set(DOMAINS)
    if unknown:
        raise AccountError(f"unknown domain(s) {', '.join(sorted(unknown))} (one of {', '.join(DOMAINS)}, all)")
    if role in SCOPED_ROLES and not names:
        raise AccountError(f"an {role} needs at least one domain (--domains lighting,water or all)")
    return frozenset(names) if role in SCOPED_ROLES else frozenset()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a signed-in person, an API client, a wall screen or the CLI."""

    name: str
    role: Role
    domains: frozenset[str] = field(default_factory=frozenset)
    kind: PrincipalKind = PrincipalKind.USER
    token_id: str | None = None
    epoch: int = 0  # bumped on password reset or disable: older sessions stop working

    # Flask-Login's user interface.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """Return the session id Flask-Login stores: name and epoch."""
        return f"{self.name}:{self.epoch}"

    @property
    def label(self) -> str:
        """Return the name shown in the audit log (`alice`, `token:gmao`, `device:wall-1`)."""
        return self.name if self.kind in (PrincipalKind.USER, PrincipalKind.ANONYMOUS) else f"{self.kind}:{self.name}"


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to "may this principal do this?", with a message an operator understands."""

    allowed: bool
    action: str
    domain: str | None = None
    reason: Refusal | None = None
    message: str = ""
    retry_after_s: float = 0.0

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def http_status(self) -> int:
        """Return the HTTP status that carries this decision."""
        if self.allowed:
            return 200
        return {Refusal.NOT_SIGNED_IN: 401, Refusal.RATE_LIMITED: 429}.get(self.reason, 403)  # type: ignore[arg-type]


def decide(principal: Principal | None, action: str, domain: str | None = None) -> Decision:
    """Decide from the table alone (no rate limit, no audit): may `principal` do `action` in `domain`?"""
    if principal is None:
        return Decision(False, action, domain, Refusal.NOT_SIGNED_IN, "Sign in first.")
    try:
        rule = PERMISSIONS[Action(action)]
    except ValueError:
        return Decision(False, action, domain, Refusal.UNKNOWN_ACTION, f"Unknown action {action[:60]!r}.")
    if principal.role not in rule.roles:
        allowed = ", ".join(sorted(rule.roles))
        return Decision(False, action, domain, Refusal.ROLE,
                        f"Refused: {action} needs the role {allowed}; {principal.label} is {principal.role}.")
    if rule.scoped:
        if not domain:
            return Decision(False, action, domain, Refusal.DOMAIN_REQUIRED, f"Refused: {action} needs a domain.")
        if domain not in principal.domains:
            mine = ", ".join(sorted(principal.domains)) or "none"
            return Decision(False, action, domain, Refusal.DOMAIN,
                            f"Refused: {principal.label} acts on {mine}, not on {domain}.")
    return Decision(True, action, domain)
