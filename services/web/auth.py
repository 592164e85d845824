"""Flask integration of Vigie's security: sign-in, sessions, tokens, CSRF, headers and authorisation."""
from __future__ import annotations

import logging
import math
import secrets
import time
from functools import wraps
from typing import Any, Callable, TypeVar

from flask import Flask, Response, g, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import logout_user

from services.accounts import (
    PERMISSIONS,
    AccountStore,
    Action,
    Decision,
    Limit,
    Principal,
    PrincipalKind,
    Role,
    RateLimiter,
    Refusal,
    SecurityOptions,
    SigninThrottle,
    decide,
    tokens,
)
from services.accounts.http import (
    DASH_RENDERER,
    host_of,
    is_passive_dash_update,
    is_public,
    origin_of,
    script_hash,
    security_headers,
)
from services.audit import AuditLog, Outcome
from services.settings import DOMAINS
from services.redis_conn import BUS_ERRORS, BusUnavailable
from services.web.request import (  # noqa: F401 - the request helpers are also imported from here
    EXTENSION,
    authorize,
    client_ip,
    current_principal,
    ensure_csrf,
    plain_error,
    record,
    refusal_response,
    security_of,
    unauthenticated_response,
)

log = logging.getLogger(__name__)
SESSION_COOKIE = "vigie_session"
CSRF_COOKIE = "_csrf_token"  # the cookie Dash's renderer echoes in the X-CSRFToken header
CSRF_HEADER = "X-CSRFToken"
CSRF_FIELD = "csrf_token"
DEVICE_COOKIE = "vigie_device"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_USE_EVERY_S = 60  # a token's use is audited at most once a minute per address
SEEN_RESOLUTION_S = 5.0  # activity is noted at most this often (the session cookie is not re-signed each request)
REFUSED_TOKEN_LOG = Limit(10, 60.0)  # refused tokens are all refused, but logged at most 10 a minute per address
V = TypeVar("V", bound=Callable[..., Any])


class _SessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions whose Secure flag follows the request's scheme (behind TLS: Secure)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def get_cookie_secure(self, app: Flask) -> bool:
        return cookie_secure(self.mode)


def cookie_secure(mode: str) -> bool:
    """Return whether cookies set now get the Secure flag."""
    return mode == "always" or (mode == "auto" and has_request_context() and request.is_secure)


class Security:
    """Authorises actions, records them, and guards every request of the Flask app it is bound to."""

    def __init__(self, options: SecurityOptions, store: AccountStore, audit: AuditLog, limiter: RateLimiter,
                 throttle: SigninThrottle, *, clock: Callable[[], float] = time.time) -> None:
        self.options = options
        self.store = store
        self.audit = audit
        self.limiter = limiter
        self.throttle = throttle
        self.clock = clock
        self._dash_apps: list[Any] = []
        self._anonymous = (Principal("anonymous", Role(options.anonymous_role), frozenset(DOMAINS), PrincipalKind.ANONYMOUS)
                           if options.anonymous_role else None)

    # --- authorisation ----------------------------------------------------------------
    def authorize(self, principal: Principal | None, action: str, domain: str | None = None, *, target: str = "") -> Decision:
        """Decide whether `principal` may do `action` (in `domain`) now; record every refusal."""
        decision = decide(principal, action, domain)
        if decision and principal is not None and PERMISSIONS[Action(action)].rate_limited:
            limit = Limit(self.options.command_rate_per_min, 60.0)
            hit = self.limiter.hit(action, principal.label, limit, now=self.clock())
            if not hit.allowed:
                wait = math.ceil(hit.retry_after_s)
                decision = Decision(False, action, domain, Refusal.RATE_LIMITED,
                                    f"Refused: more than {limit.count} {action} a minute; wait {wait} s.", hit.retry_after_s)
        if not decision:
            try:
                self.record(principal, action, Outcome.REFUSED, domain=domain, target=target, detail=decision.message)
            except BusUnavailable:
                log.warning("audit log unreachable; refusal of %s to %s not recorded", action, principal and principal.label)
        return decision

    def allowed(self, principal: Principal | None, action: str, domain: str | None = None) -> bool:
        """Return whether the table allows it (to show or hide a control; the action itself calls `authorize`)."""
        return bool(decide(principal, action, domain))

    def record(self, principal: Principal | None, action: str, outcome: str, *, domain: str | None = None,
               target: str = "", detail: str = "", actor: str | None = None) -> str:
        """Append an audit entry for `principal` (None: anonymous) and return its id."""
        return self.audit.record(
            actor=actor or (principal.label if principal else "anonymous"),
            actor_kind=str(principal.kind) if principal else "anonymous",
            role=str(principal.role) if principal else "", ip=client_ip(), action=action, domain=domain,
            target=target, outcome=outcome, detail=detail)

    def require(self, action: str, *, domain_arg: str | None = None) -> Callable[[V], V]:
        """Decorate a Flask view: refuse (401/403/429, JSON or page) unless the current principal may `action`."""

        def decorate(view: V) -> V:
            @wraps(view)
            def guarded(*args: Any, **kwargs: Any) -> Any:
                domain = kwargs.get(domain_arg) if domain_arg else None
                decision = self.authorize(current_principal(), action, domain, target=request.path)
                return view(*args, **kwargs) if decision else refusal_response(decision)

            return guarded  # type: ignore[return-value]

        return decorate

    def register_dash(self, dash_app: Any) -> None:
        """Allow this Dash app's inline scripts (renderer, inline clientside callbacks) in the CSP."""
        self._dash_apps.append(dash_app)

    def script_hashes(self) -> set[str]:
        """Return the CSP hashes of the inline scripts Vigie serves."""
        hashes = {script_hash(DASH_RENDERER)}
        for dash_app in self._dash_apps:
            hashes.update(dash_app.csp_hashes())
        return hashes

    # --- principals -------------------------------------------------------------------
    def load_session_user(self, user_id: str) -> Principal | None:
        """Return the principal of a session, unless the account was disabled or reset since."""
        name, _, epoch = user_id.rpartition(":")
        account = self.store.get_user(name) if name else None
        if account is None or account.disabled or str(account.epoch) != epoch:
            return None
        return account.principal()

    def load_request_principal(self, req: Any) -> Principal | None:
        """Return the principal of a bearer token, else of a wall screen's device cookie."""
        raw = tokens.bearer(req.headers.get("Authorization"))
        if raw is not None:
            return self._token_principal(raw, device=False)
        raw = req.cookies.get(DEVICE_COOKIE)
        if raw:
            principal = self._token_principal(raw, device=True)
            if principal is None:
                g.vigie_forget_device = True
            return principal
        return self._anonymous

    def _token_principal(self, raw: str, *, device: bool) -> Principal | None:
        record = self.store.resolve_token(raw)
        if record is None or (device and not record.device):
            parsed = tokens.parse_token(raw)
            if self.limiter.hit("audit.token_refused", client_ip(), REFUSED_TOKEN_LOG, now=self.clock()).allowed:
                self.record(None, "device.use" if device else "token.use", Outcome.REFUSED, target=parsed[0] if parsed else "",
                            detail="unknown, revoked or malformed token", actor="device" if device else "token")
            return None
        if self._first_use_in_a_while(record.id):
            self.record(record.principal(), "device.use" if record.device else "token.use", Outcome.OK, target=record.id)
        return record.principal()

    def _first_use_in_a_while(self, token_id: str) -> bool:
        try:
            key = f"vigie:tokenseen:{token_id}:{client_ip()}"
            return bool(self.store.client.set(key, b"1", nx=True, ex=TOKEN_USE_EVERY_S))
        except BUS_ERRORS as err:
            raise BusUnavailable(f"account store unreachable: {err}") from err

    # --- request guard ----------------------------------------------------------------
    def guard(self) -> Response | None:
        """Run before every request: public paths pass; others need a principal, and CSRF proof to change state."""
        path = request.path
        if is_public(path, metrics_public=self.options.metrics_public):
            return None
        now = self.clock()
        try:
            self._expire_session(now)
            principal = current_principal()
        except BusUnavailable as err:
            log.warning("security store unreachable: %s", err)
            return plain_error(503, "unavailable")
        if principal is None:
            if session.get("_user_id"):  # the account was disabled or its password reset meanwhile
                self.record(None, "session.ended", Outcome.REFUSED, detail="account disabled or password reset",
                            actor=str(session["_user_id"]).rpartition(":")[0])
                session.clear()
            return unauthenticated_response(expired=bool(g.get("vigie_expired")))
        if principal.kind == PrincipalKind.ANONYMOUS:  # no credential to steal: a foreign page must not act through it
            if request.method not in SAFE_METHODS and not self.same_origin():
                self.record(principal, "csrf", Outcome.REFUSED, target=path, detail="foreign origin")
                return plain_error(403, "csrf")
            ensure_csrf()
        if principal.kind in (PrincipalKind.USER, PrincipalKind.DEVICE):
            csrf = ensure_csrf()
            if request.method not in SAFE_METHODS and not self._csrf_ok(csrf):
                self.record(principal, "csrf", Outcome.REFUSED, target=path, detail="missing or wrong CSRF token, or foreign origin")
                return plain_error(403, "csrf")
        if principal.kind == PrincipalKind.USER and now - float(session.get("seen", 0.0)) > SEEN_RESOLUTION_S \
                and not is_passive_dash_update(path, request.get_data):
            session["seen"] = now
        return None

    def _expire_session(self, now: float) -> None:
        user_id = session.get("_user_id")
        if not user_id:
            return
        idle = now - float(session.get("seen", 0.0))
        age = now - float(session.get("since", 0.0))
        if idle <= self.options.session_idle_s and age <= self.options.session_max_s:
            return
        why = f"inactive for {idle:.0f} s" if idle > self.options.session_idle_s else f"signed in {age:.0f} s ago"
        logout_user()
        session.clear()
        g.vigie_expired = True
        self.record(None, "session.expired", Outcome.EXPIRED, detail=why, actor=str(user_id).rpartition(":")[0])

    def _csrf_ok(self, expected: str) -> bool:
        sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
        if not sent or not secrets.compare_digest(sent, expected):
            return False
        return self.same_origin()

    def same_origin(self) -> bool:
        """Return whether the request's Origin (or Referer) is this host or a trusted origin.

        Hosts are compared, not schemes, so that a TLS-terminating proxy without ProxyFix still works.
        """
        claimed = origin_of(request.headers.get("Origin")) or origin_of(request.headers.get("Referer"))
        if claimed is None:
            return True  # non-browser clients send neither; the token is the proof
        return host_of(claimed) == request.host.lower() or claimed in self.options.trusted_origins

    def decorate_response(self, response: Response) -> Response:
        """Run after every request: security headers, the CSRF cookie Dash echoes, a forgotten device cookie."""
        headers = response.headers
        host = request.host if all(c.isalnum() or c in ".-:[]" for c in request.host) else ""
        headers.update(security_headers(script_hashes=self.script_hashes(), host=host, secure=request.is_secure,
                                        tile_origin=self.options.tile_origin, frame_ancestors=self.options.frame_ancestors))
        if request.path.startswith(("/auth/", "/admin")) and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        secure = cookie_secure(self.options.cookie_secure)
        csrf = session.get("csrf")
        if csrf and request.cookies.get(CSRF_COOKIE) != csrf:
            response.set_cookie(CSRF_COOKIE, csrf, secure=secure, httponly=False, samesite="Strict", path="/")
        if g.get("vigie_forget_device"):
            response.delete_cookie(DEVICE_COOKIE, path="/", secure=secure, httponly=True, samesite="Lax")
        return response
