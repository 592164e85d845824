"""Wire Vigie's security onto a Flask app: sign-in, sessions, tokens, CSRF, headers, admin pages, the audit log.

`init_security` is the one entry point; `services/web/auth.py` holds the pieces it assembles and
`services/web/admin.py` the sign-in and admin pages (this module imports both, neither imports it).
"""
from __future__ import annotations

import os
import secrets
import time
from typing import Any, Callable

import redis
from flask import Flask
from flask_login import LoginManager

from services.accounts import AccountStore, Passwords, RateLimiter, SecurityOptions, SigninThrottle
from services.audit import AuditLog
from services.web.admin import bootstrap_admin, create_admin_blueprint, create_auth_blueprint
from services.web.auth import SESSION_COOKIE, Security, _SessionInterface, current_principal, ensure_csrf
from services.web.request import EXTENSION, page_words


def init_security(app: Flask, settings: Any, redis_client: redis.Redis, *, clock: Callable[[], float] = time.time,
                  passwords: Passwords | None = None) -> Security:
    """Register sign-in, sessions, tokens, CSRF, headers, admin pages and the audit log on `app`."""
    options = SecurityOptions.from_settings(settings, env=dict(os.environ))
    if passwords is None:
        from argon2 import PasswordHasher

        cost = {k: v for k, v in (("time_cost", options.argon2_time_cost), ("memory_cost", options.argon2_memory_kib)) if v}
        passwords = Passwords(PasswordHasher(**cost, **({"parallelism": 1} if cost else {})))
    store = AccountStore(redis_client, passwords, min_password_length=options.password_min_length)
    audit = AuditLog(redis_client, retention_days=options.audit_retention_days)
    throttle = SigninThrottle(redis_client, free_per_name=options.signin_free_attempts, free_per_ip=options.signin_free_per_ip,
                              base_s=options.signin_base_delay_s, cap_s=options.signin_max_delay_s)
    security = Security(options, store, audit, RateLimiter(redis_client), throttle, clock=clock)

    app.secret_key = app.secret_key or getattr(settings, "secret_key", "") or _shared_secret(redis_client)
    app.session_interface = _SessionInterface(options.cookie_secure)
    app.config.update(SESSION_COOKIE_NAME=SESSION_COOKIE, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    login = LoginManager()
    login.session_protection = "basic"
    login.user_loader(security.load_session_user)
    login.request_loader(security.load_request_principal)
    login.init_app(app)

    app.before_request_funcs.setdefault(None, []).insert(0, security.guard)
    app.after_request(security.decorate_response)
    app.context_processor(lambda: {"csrf_token": ensure_csrf, "principal": current_principal(), **page_words()})
    app.register_blueprint(create_auth_blueprint(security))
    app.register_blueprint(create_admin_blueprint(security))
    app.extensions[EXTENSION] = security
    bootstrap_admin(security)
    return security


def _shared_secret(client: redis.Redis) -> bytes:
    """Return the session-signing key shared by every worker and kept across restarts (made once)."""
    client.set("vigie:secret_key", secrets.token_bytes(32), nx=True)
    return client.get("vigie:secret_key")  # type: ignore[return-value]
