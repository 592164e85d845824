"""The security settings, read from `Settings` with defaults until it grows these fields."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .http import origin_of


@dataclass(frozen=True, slots=True)
class SecurityOptions:
    """Everything the security layer is tuned with (see docs/security.md)."""

    session_idle_s: float = 1800.0  # signed out after this long without activity
    session_max_s: float = 12 * 3600.0  # ... and this long after signing in, whatever happens
    signin_free_attempts: int = 3  # failed sign-ins of one name before the delay starts
    signin_free_per_ip: int = 20  # failed sign-ins from one address before the delay starts
    signin_base_delay_s: float = 1.0  # first delay, doubled at each further failure
    signin_max_delay_s: float = 60.0
    command_rate_per_min: int = 30  # commands one principal may send per minute
    password_min_length: int = 12
    audit_retention_days: float = 365.0
    cookie_secure: str = "auto"  # auto (Secure when the request came over TLS), always, never
    trusted_origins: tuple[str, ...] = ()  # extra origins allowed to POST (a reverse proxy's public URL)
    frame_ancestors: str = "'none'"  # who may frame Vigie ('none'; or a portal's origin)
    device_cookie_days: int = 400  # browsers cap cookie lifetimes at 400 days
    metrics_public: bool = True
    tile_url: str | None = None
    timezone: str = "Europe/Paris"  # audit times are shown in the territory's time
    language: str = "fr"  # the sign-in and admin pages' language (VIGIE_LANG); a page's ?lang= overrides it
    admin_user: str | None = None  # first admin, created once when no admin exists
    admin_password: str | None = None
    anonymous_role: str | None = None  # a role for browsers that do not sign in (never admin); None: sign-in required
    argon2_time_cost: int | None = None
    argon2_memory_kib: int | None = None

    @classmethod
    def from_settings(cls, settings: Any, env: dict[str, str] | None = None) -> "SecurityOptions":
        """Take every field `settings` has; the first admin may come from `env` until Settings carries it."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if hasattr(settings, f.name):
                values[f.name] = getattr(settings, f.name)
        env = env or {}
        values.setdefault("admin_user", env.get("VIGIE_ADMIN_USER") or None)
        values.setdefault("admin_password", env.get("VIGIE_ADMIN_PASSWORD") or None)
        origins = values.get("trusted_origins") or ()
        if isinstance(origins, str):
            origins = tuple(o.strip() for o in origins.split(",") if o.strip())
        values["trusted_origins"] = tuple(filter(None, (origin_of(o) for o in origins)))
        if values.get("cookie_secure") not in (None, "auto", "always", "never"):
            values["cookie_secure"] = "always" if values["cookie_secure"] in (True, "1", "true", "yes") else "auto"
        if values.get("anonymous_role") == "admin":
            raise ValueError("VIGIE_ANONYMOUS_ROLE cannot be admin: accounts and tokens need a signed-in administrator")
        return cls(**{k: v for k, v in values.items() if v is not None or k in ("tile_url", "admin_user", "admin_password")})

    @property
    def tile_origin(self) -> str | None:
        """Return the origin of the online base layer, allowed in img-src."""
        return origin_of(self.tile_url)
