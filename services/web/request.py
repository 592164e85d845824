"""What a request knows of Vigie's security: who asks, authorising and auditing for them, CSRF, refusal answers,
and the language they are given in.

Usable anywhere in a Flask request (views, Dash callbacks, Socket.IO handlers); services/web/auth.py builds the
`Security` these read from the app's extensions.
"""
from __future__ import annotations

import math
import secrets
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, has_request_context, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from services.accounts import PERMISSIONS, Decision, Principal, Refusal
from services.accounts.http import wants_json
from services.web.i18n import LANGUAGES, label, language, words

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


def site_language() -> str:
    """Return the site's language (VIGIE_LANG), French when the app has no security."""
    security = current_app.extensions.get(EXTENSION) if has_request_context() else None
    return language(security.options.language if security else None)


def chosen_language() -> str | None:
    """Return the language this browser picked with `?lang=` (the Dash pages' switch), when not the site's."""
    chosen = request.args.get("lang") if has_request_context() else None
    return chosen if chosen in LANGUAGES and chosen != site_language() else None


def current_language() -> str:
    """Return the language this request is answered in: the browser's `?lang=` choice, else the site's."""
    return chosen_language() or site_language()


def page_words() -> dict[str, Any]:
    """Return what the security templates need to speak the request's language.

    `t(key, **kw)` (catalog words), `label(kind, code)` (a role, domain or outcome), `lang`, and `home` (the Dash pages,
    in the same language).
    """
    lang = current_language()

    def t(key: str, **fmt: Any) -> Markup:
        text = escape(words(key, lang))  # the arguments are escaped too, unless they are Markup (a <code> sample)
        return text.format(**fmt) if fmt else text

    return {"t": t, "label": lambda kind, code: label(kind, code, lang), "lang": lang,
            "home": "/" + (f"?lang={lang}" if chosen_language() else "")}


def keep_language(endpoint: str, values: dict[str, Any]) -> None:
    """Carry the browser's `?lang=` choice into the links, form actions and redirects a page builds."""
    chosen = chosen_language()
    if chosen and not endpoint.endswith(".static"):
        values.setdefault("lang", chosen)


def plain_error(status: int, error: str, message: str | None = None) -> Response:
    """Return a refusal: JSON `{error, message}` for API and Dash requests, a page otherwise.

    `message` defaults to the catalog's `refusal.<error>` in the request's language; `error` stays a code.
    """
    lang = current_language()
    message = words(f"refusal.{error}", lang) if message is None else message
    if wants_json(request.path, request.method, request.accept_mimetypes.accept_html):
        response = jsonify(error=error, message=message)
    else:
        page = render_template("security/message.html", title=words(f"error.{error}", lang), message=message)
        response = Response(page, mimetype="text/html")
    response.status_code = status
    return response


def refusal_words(decision: Decision, lang: str) -> str:
    """Say why `decision` was refused in `lang` (the core says it in English, for the audit log and callbacks)."""
    who, reason, rule = current_principal(), decision.reason, PERMISSIONS.get(decision.action)  # type: ignore[call-overload]
    if reason is None or (who is None and reason != Refusal.NOT_SIGNED_IN) or (reason == Refusal.ROLE and rule is None):
        return decision.message  # not one of the table's own refusals: its words as they are
    fmt: dict[str, Any] = {"action": decision.action, "domain": label("domain", decision.domain or "", lang),
                           "wait": math.ceil(decision.retry_after_s)}
    if who is not None:
        fmt.update(who=who.label, role=label("role", who.role, lang),
                   mine=", ".join(label("domain", d, lang) for d in sorted(who.domains)) or words("refusal.no_domain", lang))
    if reason == Refusal.ROLE:
        fmt["roles"] = ", ".join(label("role", r, lang) for r in sorted(rule.roles))
    if reason == Refusal.RATE_LIMITED:
        fmt["count"] = security_of().options.command_rate_per_min
    return words(f"refusal.{reason}", lang, **fmt)


def refusal_response(decision: Decision) -> Response:
    """Return the HTTP answer for a refused decision (JSON for API and Dash, a page otherwise), in the request's language."""
    response = plain_error(decision.http_status, str(decision.reason), refusal_words(decision, current_language()))
    if decision.retry_after_s:
        response.headers["Retry-After"] = str(math.ceil(decision.retry_after_s))
    return response


def unauthenticated_response(*, expired: bool = False) -> Response:
    """Return 401 JSON for API and Dash requests, a redirect to the sign-in page otherwise."""
    message = words("session.expired" if expired else "refusal.not_signed_in", current_language())
    if wants_json(request.path, request.method, request.accept_mimetypes.accept_html):
        response = jsonify(error="not_signed_in", message=message, signin=url_for("vigie_auth.signin"))
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="vigie"'
        return response
    return redirect(url_for("vigie_auth.signin", next=request.full_path.rstrip("?"), expired=1 if expired else None))
