"""Accounts, roles and permissions, password hashing, API/device tokens and rate limits (no Flask here)."""
from . import tokens
from .options import SecurityOptions
from .passwords import Passwords, check_name, check_password
from .ratelimit import Limit, RateLimiter, RateResult, SigninThrottle, signin_delay
from .roles import (
    PERMISSIONS,
    AccountError,
    Action,
    Decision,
    Principal,
    PrincipalKind,
    Refusal,
    Role,
    Rule,
    decide,
    parse_domains,
    parse_role,
)
from .store import Account, AccountExists, AccountStore, NotFound, SigninResult, TokenRecord

__all__ = [
    "PERMISSIONS", "Account", "AccountError", "AccountExists", "AccountStore", "Action", "Decision", "Limit",
    "NotFound", "Passwords", "Principal", "PrincipalKind", "RateLimiter", "RateResult", "Refusal", "Role", "Rule",
    "SecurityOptions", "SigninResult", "SigninThrottle", "TokenRecord", "check_name", "check_password", "decide",
    "parse_domains", "parse_role", "signin_delay", "tokens",
]
