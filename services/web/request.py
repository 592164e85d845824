"""What a request knows of Vigie's security: who asks, authorising and auditing for them, CSRF, refusal answers.

Usable anywhere in a Flask request (views, Dash callbacks, Socket.IO handlers); services/web/auth.py builds the
`Security` these read from the app's extensions.
"""
from __future__ import annotations

import math
import secrets
from typing import TYPE_CHECKING

from flask import Flask, Response, current_app, has_request_context, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from services.accounts import Decision, Principal
from services.accounts.http import wants_json

if TYPE_CHECKING:
    from services.web.auth import Security

EXTENSION = "vigie.security"


def security_of(app: Flask | None = None) -> Security:
    """Return the Security bound to `app` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION]


def current_principal() -> Principal | None:
    """Return who is making the current request, or None (not signed in, or no request)."""
    if not has_request_context():
        return None
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    return user if isinstance(user, Principal) else None


def authorize(action: str, domain: str | None = None, *, target: str = "") -> Decision:
    """Authorise `action` for the current principal (for Dash callbacks): refusals are recorded."""
    return security_of().authorize(current_principal(), action, domain, target=target)


def record(action: str, outcome: str, *, domain: str | None = None, target: str = "", detail: str = "") -> str:
    """Record in the audit log what the current principal did and how it ended."""
    return security_of().record(current_principal(), action, outcome, domain=domain, target=target, detail=detail)


def client_ip() -> str:
    """Return the client's address (behind a proxy, configure werkzeug's ProxyFix)."""
    return (request.remote_addr or "") if has_request_context() else ""


def ensure_csrf() -> str:
    """Return this session's CSRF token, creating it if needed."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def plain_error(status: int, error: str, message: str) -> Response:
    if wants_json(request.path, request.method, request.accept_mimetypes.accept_html):
        response = jsonify(error=error, message=message)
    else:
        response = Response(render_template("security/message.html", title=error, message=message), mimetype="text/html")
    response.status_code = status
    return response


def refusal_response(decision: Decision) -> Response:
    """Return the HTTP answer for a refused decision (JSON for API and Dash, a page otherwise)."""
    response = plain_error(decision.http_status, str(decision.reason), decision.message)
    if decision.retry_after_s:
        response.headers["Retry-After"] = str(math.ceil(decision.retry_after_s))
    return response


def unauthenticated_response(*, expired: bool = False) -> Response:
    """Return 401 JSON for API and Dash requests, a redirect to the sign-in page otherwise."""
    message = "Your session expired; sign in again." if expired else "Sign in first."
    if wants_json(request.path, request.method, request.accept_mimetypes.accept_html):
        response = jsonify(error="not_signed_in", message=message, signin=url_for("vigie_auth.signin"))
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="vigie"'
        return response
    return redirect(url_for("vigie_auth.signin", next=request.full_path.rstrip("?"), expired=1 if expired else None))
