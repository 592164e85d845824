"""Server-rendered security pages: sign-in, sign-out, wall-screen sign-in, accounts, tokens and the audit log."""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user

from services.accounts import AccountError, Action, Principal, PrincipalKind, Role, SigninResult
from services.accounts.http import safe_next
from services.audit import Outcome, to_csv
from services.settings import DOMAINS
from services.web.auth import DEVICE_COOKIE, Security, client_ip, cookie_secure, current_principal, ensure_csrf
from services.web.i18n import words
from services.web.request import current_language, keep_language

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
AUDIT_PAGE_ROWS = 500
AUDIT_EXPORT_ROWS = 100_000


def _say(key: str, **fmt: Any) -> str:
    """Return the catalog's `key` in the request's language."""
    return words(key, current_language(), **fmt)


def _page(template: str, status: int = 200, **context: Any) -> Response:
    """Render a security page (its words come from the context processor, in the request's language)."""
    return Response(render_template(f"security/{template}", **context), status=status, mimetype="text/html")


def create_auth_blueprint(security: Security) -> Blueprint:
    """Return the sign-in, sign-out and device sign-in pages under /auth."""
    bp = Blueprint("vigie_auth", __name__, url_prefix="/auth", template_folder=str(TEMPLATES),
                   static_folder=str(TEMPLATES / "static"), static_url_path="/static")
    bp.url_defaults(keep_language)

    def form_csrf_ok() -> bool:
        sent, expected = request.form.get("csrf_token", ""), session.get("csrf", "")
        return bool(sent and expected and secrets.compare_digest(sent, expected) and security.same_origin())

    @bp.route("/signin", methods=["GET", "POST"])
    def signin() -> Any:
        target = safe_next(request.values.get("next"))
        if request.method == "GET":
            who = current_principal()
            if who is not None and who.kind != PrincipalKind.ANONYMOUS:  # an anonymous visitor may still sign in
                return redirect(target)
            message = _say("session.expired") if request.args.get("expired") else ""
            return _page("signin.html", next=target, message=message, first_start=security.store.user_count() == 0)
        if not form_csrf_ok():
            security.record(None, "csrf", Outcome.REFUSED, target=request.path, detail="sign-in form without a valid token")
            return _page("signin.html", 400, next=target, message=_say("form.expired"))
        name = request.form.get("name", "").strip().lower()[:64]
        password = request.form.get("password", "")
        now = security.clock()
        wait = security.throttle.wait_s(name, client_ip(), now=now)
        if wait > 0:
            security.record(None, "signin", Outcome.REFUSED, actor=name, detail=f"throttled after failures: wait {wait:.0f} s")
            response = _page("signin.html", 429, next=target, message=_say("signin.throttled", wait=f"{wait:.0f}"))
            response.headers["Retry-After"] = str(max(1, round(wait)))
            return response
        result, account = security.store.check_password(name, password)
        if result != SigninResult.OK or account is None:
            security.throttle.failed(name, client_ip(), now=now)
            security.record(None, "signin", Outcome.FAILED, actor=name, detail=str(result))
            return _page("signin.html", 401, next=target, message=_say("signin.wrong"))
        security.throttle.succeeded(name)
        session.clear()  # a fresh session: no fixation
        login_user(account.principal())
        session["since"] = session["seen"] = now
        ensure_csrf()
        security.record(account.principal(), "signin", Outcome.OK)
        return redirect(target)

    @bp.route("/signout", methods=["GET", "POST"])
    def signout() -> Any:
        principal = current_principal()
        if request.method == "GET":
            return _page("signout.html")
        security.record(principal, "signout", Outcome.OK)
        logout_user()
        session.clear()
        response = redirect(url_for("vigie_auth.signin"))
        response.delete_cookie(DEVICE_COOKIE, path="/", secure=cookie_secure(security.options.cookie_secure),
                               httponly=True, samesite="Lax")
        return response

    @bp.route("/device", methods=["GET", "POST"])
    def device() -> Any:
        if request.method == "GET":
            return _page("device.html")
        if not form_csrf_ok():
            security.record(None, "csrf", Outcome.REFUSED, target=request.path, detail="device form without a valid token")
            return _page("device.html", 400, message=_say("form.expired"))
        now = security.clock()
        wait = security.throttle.wait_s("device", client_ip(), now=now)
        if wait > 0:
            security.record(None, "device.signin", Outcome.REFUSED, actor="device", detail=f"throttled: wait {wait:.0f} s")
            return _page("device.html", 429, message=_say("device.throttled", wait=f"{wait:.0f}"))
        raw = request.form.get("token", "").strip()
        record = security.store.resolve_token(raw)
        if record is None or not record.device:
            security.throttle.failed("device", client_ip(), now=now)
            security.record(None, "device.signin", Outcome.FAILED, actor="device", detail="unknown, revoked or non-device token")
            return _page("device.html", 401, message=_say("device.invalid"))
        security.record(record.principal(), "device.signin", Outcome.OK, target=record.id)
        response = redirect("/")
        response.set_cookie(DEVICE_COOKIE, raw, max_age=security.options.device_cookie_days * 86400, path="/",
                            secure=cookie_secure(security.options.cookie_secure), httponly=True, samesite="Lax")
        return response

    @bp.route("/whoami")
    def whoami() -> Any:
        principal = current_principal()
        assert principal is not None  # the guard lets no anonymous request through
        return {"name": principal.name, "role": principal.role, "domains": sorted(principal.domains),
                "kind": principal.kind}

    return bp


def create_admin_blueprint(security: Security) -> Blueprint:
    """Return the admin pages under /admin: accounts, tokens, the audit log and its CSV export."""
    bp = Blueprint("vigie_admin", __name__, url_prefix="/admin", template_folder=str(TEMPLATES))
    bp.url_defaults(keep_language)
    tz = ZoneInfo(security.options.timezone)

    @bp.context_processor
    def helpers() -> dict[str, Any]:
        return {"can": lambda action: security.allowed(current_principal(), action), "roles": list(Role),
                "domains": DOMAINS, "local_time": lambda ts: datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M:%S")}

    def done(action: str, outcome: str, target: str, key: str, back: str = ".accounts", **fmt: Any) -> Response:
        """Audit the change (in English, whoever reads the log), say it to the admin in the page's language, go `back`."""
        security.record(current_principal(), action, outcome, target=target, detail=words(key, "en", **fmt))
        flash(_say(key, **fmt), "ok" if outcome == Outcome.OK else "error")
        return redirect(url_for(back))

    @bp.route("/")
    def index() -> Any:
        principal = current_principal()
        page = ".accounts" if security.allowed(principal, Action.ACCOUNTS_MANAGE) else ".audit"
        return redirect(url_for(page))

    @bp.route("/accounts", methods=["GET", "POST"])
    @security.require(Action.ACCOUNTS_MANAGE)
    def accounts() -> Any:
        if request.method == "POST":
            form = request.form
            try:
                account = security.store.create_user(form.get("name", ""), form.get("role", ""), form.getlist("domains"),
                                                     form.get("password", ""), now=security.clock())
            except AccountError as err:
                return done("account.create", Outcome.FAILED, form.get("name", "")[:64], "account.not_created", why=err)
            return done("account.create", Outcome.OK, account.name, "account.created", name=account.name, role=account.role)
        return _page("accounts.html", accounts=security.store.list_users())

    @bp.post("/accounts/<name>/<change>")
    @security.require(Action.ACCOUNTS_MANAGE)
    def change_account(name: str, change: str) -> Any:
        now = security.clock()
        try:
            if change == "password":
                account = security.store.reset_password(name, request.form.get("password", ""), now=now)
                return done("account.reset_password", Outcome.OK, account.name, "account.password_set", name=account.name)
            if change not in ("disable", "enable"):
                return _page("message.html", 404, title=_say("error.not_found"), message=_say("account.no_such_change"))
            admins = [a.name for a in security.store.active_admins()]
            if change == "disable" and admins == [name]:
                return done("account.disable", Outcome.REFUSED, name, "account.last_admin")
            account = security.store.set_disabled(name, change == "disable", now=now)
        except AccountError as err:
            return done(f"account.{change}", Outcome.FAILED, name[:64], "account.not_changed", why=err)
        return done(f"account.{change}", Outcome.OK, account.name, f"account.{change}d", name=account.name)

    @bp.route("/tokens", methods=["GET", "POST"])
    @security.require(Action.TOKENS_MANAGE)
    def tokens_page() -> Any:
        created = None
        if request.method == "POST":
            form, principal = request.form, current_principal()
            try:
                record, created = security.store.create_token(
                    form.get("name", ""), form.get("role", ""), form.getlist("domains"), device=bool(form.get("device")),
                    created_by=principal.label if principal else "", now=security.clock())
            except AccountError as err:
                return done("token.create", Outcome.FAILED, form.get("name", "")[:80], "token.not_created", ".tokens_page", why=err)
            security.record(principal, "token.create", Outcome.OK, target=record.id, detail=f"{record.name} ({record.role})")
        return _page("tokens.html", tokens=security.store.list_tokens(), created=created)

    @bp.post("/tokens/<token_id>/revoke")
    @security.require(Action.TOKENS_MANAGE)
    def revoke_token(token_id: str) -> Any:
        try:
            record = security.store.revoke_token(token_id, now=security.clock())
        except AccountError as err:
            return done("token.revoke", Outcome.FAILED, token_id[:32], "token.not_revoked", ".tokens_page", why=err)
        return done("token.revoke", Outcome.OK, record.id, "token.revoked", ".tokens_page", name=record.name)

    def audit_query() -> dict[str, Any]:
        args = request.args
        return {"since": _local_ts(args.get("since"), tz), "until": _local_ts(args.get("until"), tz),
                "actor": args.get("user", "")[:120], "action": args.get("action", "")[:64],
                "outcome": args.get("outcome", "") if args.get("outcome", "") in set(Outcome) else "",
                "domain": args.get("domain", "") if args.get("domain", "") in DOMAINS else ""}

    @bp.route("/audit")
    @security.require(Action.AUDIT_READ)
    def audit() -> Any:
        entries = security.audit.search(**audit_query(), limit=AUDIT_PAGE_ROWS)
        return _page("audit.html", entries=entries, args=request.args, outcomes=list(Outcome), max_rows=AUDIT_PAGE_ROWS)

    @bp.route("/audit.csv")
    @security.require(Action.AUDIT_READ)
    def audit_csv() -> Any:
        entries = security.audit.search(**audit_query(), limit=AUDIT_EXPORT_ROWS)
        security.record(current_principal(), "audit.export", Outcome.OK, detail=f"{len(entries)} entries")
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        return Response("\ufeff" + to_csv(entries), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="vigie-audit-{stamp}.csv"'})

    return bp


def _local_ts(raw: str | None, tz: ZoneInfo) -> float | None:
    """Parse a `datetime-local` form value (territory time) into epoch seconds; None when empty or bad."""
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw[:32])
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).timestamp()


def bootstrap_admin(security: Security) -> None:
    """Create the first admin from VIGIE_ADMIN_USER / VIGIE_ADMIN_PASSWORD when there is none yet."""
    options = security.options
    if security.store.active_admins():
        return
    if not (options.admin_user and options.admin_password):
        log.warning("no admin account yet: set VIGIE_ADMIN_USER and VIGIE_ADMIN_PASSWORD, or run "
                    "`python app.py user create --name NAME --role admin`")
        return
    try:
        account = security.store.create_user(options.admin_user, "admin", None, options.admin_password, now=security.clock())
    except AccountError as err:
        log.error("cannot create the first admin from VIGIE_ADMIN_USER: %s", err)
        return
    cli = Principal("environment", account.role, kind=PrincipalKind.CLI)
    security.record(cli, "account.create", Outcome.OK, target=account.name, detail="first admin, from the environment")
    log.info("created the first admin account %r from the environment", account.name)
