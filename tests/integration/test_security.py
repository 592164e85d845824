"""The security layer on a small Flask + Dash app against the real redis-server: who gets in, who may act, what is logged."""
from __future__ import annotations

import json
import re
import time
from dataclasses import fields
from html import unescape
from types import SimpleNamespace

import pytest
import redis
from argon2 import PasswordHasher
from dash import Dash, Input, Output, State, dcc, html
from flask import Flask

from services.accounts import Action, Passwords, Role
from services.settings import Settings
from services.web.auth import current_principal, record, security_of
from services.web.security import init_security

pytestmark = pytest.mark.integration
PW = "correct horse battery"
CHEAP = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
DOMAINS_OF = {Role.OPERATOR: "lighting", Role.ENGINEER: "lighting"}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def make_settings(**extra) -> SimpleNamespace:
    """Settings plus the security fields Settings does not have yet."""
    base = Settings()
    values = {f.name: getattr(base, f.name) for f in fields(base)}
    values.update(session_idle_s=60.0, session_max_s=3600.0, signin_free_attempts=2, signin_base_delay_s=1.0,
                  command_rate_per_min=3)
    values.update(extra)
    return SimpleNamespace(**values)


def build_app(redis_url: str, clock=time.time, **extra):
    """A Flask server with the security layer, a protected API per action and a Dash page whose callback acts."""
    client = redis.Redis.from_url(redis_url)
    server = Flask(__name__)

    @server.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @server.get("/metrics")
    def metrics():
        return "vigie_up 1\n"

    @server.get("/api/v1/probe")
    def probe():
        return {"who": current_principal().label}

    security = init_security(server, make_settings(**extra), client, clock=clock, passwords=CHEAP)
    for action in Action:
        def act(domain: str, _action: str = action) -> dict:
            record(_action, "ok", domain=domain, target="probe")
            return {"done": _action, "domain": domain}

        server.add_url_rule(f"/api/v1/do/{action}/<domain>", f"do_{action}", security.require(action, domain_arg="domain")(act),
                            methods=["POST"])

    dash_app = Dash(__name__, server=server, url_base_pathname="/")
    dash_app.layout = html.Div([dcc.Store(id="action"), dcc.Store(id="domain"), html.Button(id="go"), html.Div(id="result")])

    @dash_app.callback(Output("result", "children"), Input("go", "n_clicks"), State("action", "data"), State("domain", "data"),
                       prevent_initial_call=True)
    def act_in_dash(_clicks, action, domain):
        decision = security_of().authorize(current_principal(), action, domain, target="dash")
        return "done" if decision else decision.message

    security.register_dash(dash_app)
    return server, security


def dash_payload(action: str, domain: str) -> dict:
    return {"output": "result.children", "outputs": {"id": "result", "property": "children"},
            "inputs": [{"id": "go", "property": "n_clicks", "value": 1}], "changedPropIds": ["go.n_clicks"],
            "state": [{"id": "action", "property": "data", "value": action}, {"id": "domain", "property": "data", "value": domain}]}


def sign_in(server: Flask, name: str, password: str = PW, *, client=None, base_url: str = "http://localhost"):
    """Return a test client signed in through the real form, and the sign-in response."""
    client = client or server.test_client()
    page = client.get("/auth/signin", base_url=base_url)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/auth/signin", data={"csrf_token": token, "name": name, "password": password}, base_url=base_url)
    return client, response


def csrf(client) -> dict:
    return {"X-CSRFToken": client.get_cookie("_csrf_token").value}


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def app(redis_url, clock):
    server, security = build_app(redis_url, clock)
    for role in Role:
        security.store.create_user(f"a-{role}", role, DOMAINS_OF.get(role), PW, now=clock())
    return server, security


def entries(security, **query):
    return security.audit.search(**query)


# --- the matrix: every role against every action, through the API and through a Dash callback ------

MATRIX = {  # action -> roles allowed (in their own domain, lighting)
    Action.DASHBOARD_VIEW: set(Role), Action.API_READ: set(Role),
    Action.ALARM_ACKNOWLEDGE: {Role.OPERATOR, Role.ENGINEER}, Action.ALARM_SHELVE: {Role.OPERATOR, Role.ENGINEER},
    Action.ALARM_COMMENT: {Role.OPERATOR, Role.ENGINEER}, Action.COMMAND_SEND: {Role.OPERATOR, Role.ENGINEER},
    Action.SETTINGS_THRESHOLDS: {Role.ENGINEER}, Action.REPLAY_RUN: {Role.TRAINER},
    Action.ACCOUNTS_MANAGE: {Role.ADMIN}, Action.TOKENS_MANAGE: {Role.ADMIN}, Action.AUDIT_READ: {Role.ENGINEER, Role.ADMIN},
    Action.NGSI_NOTIFY: {Role.ENGINEER}, Action.SUPERVISORS_MANAGE: {Role.ENGINEER},
    Action.WORKORDER_MANAGE: {Role.OPERATOR, Role.ENGINEER},
}
SCOPED = {Action.ALARM_ACKNOWLEDGE, Action.ALARM_SHELVE, Action.ALARM_COMMENT, Action.COMMAND_SEND, Action.SETTINGS_THRESHOLDS,
          Action.NGSI_NOTIFY, Action.SUPERVISORS_MANAGE, Action.WORKORDER_MANAGE}


@pytest.mark.parametrize("role", list(Role))
def test_matrix_every_role_every_action_api_and_dash(app, role):
    server, security = app
    client, _ = sign_in(server, f"a-{role}")
    for action in Action:
        for domain in ("lighting", "water"):
            expected = role in MATRIX[action] and (domain == "lighting" or action not in SCOPED)
            api = client.post(f"/api/v1/do/{action}/{domain}", headers=csrf(client))
            assert (api.status_code == 200) is expected, (role, action, domain, api.json)
            dash = client.post("/_dash-update-component", json=dash_payload(action, domain), headers=csrf(client))
            assert dash.status_code == 200
            shown = dash.json["response"]["result"]["children"]
            assert (shown == "done") is expected, (role, action, domain, shown)
            if not expected:
                # the callback shows the core's English words; the HTTP refusal speaks the site's language (French)
                assert shown.startswith("Refused") and api.json["message"].startswith("Refusé :")
    refused = entries(security, actor=f"a-{role}", outcome="refused")
    assert len(refused) == 2 * sum(1 for a in Action for d in ("lighting", "water")
                                   if not (role in MATRIX[a] and (d == "lighting" or a not in SCOPED)))


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR, Role.ENGINEER, Role.TRAINER])
def test_matrix_bearer_tokens_carry_their_role_and_scope(app, clock, role):
    server, security = app
    _, raw = security.store.create_token(f"client-{role}", role, DOMAINS_OF.get(role), device=False, created_by="test", now=clock())
    client = server.test_client()
    for action in Action:
        for domain in ("lighting", "water"):
            expected = role in MATRIX[action] and (domain == "lighting" or action not in SCOPED)
            response = client.post(f"/api/v1/do/{action}/{domain}", headers={"Authorization": f"Bearer {raw}"})
            assert (response.status_code == 200) is expected, (role, action, domain)
    assert client.get_cookie("vigie_session") is None  # API clients get no session and need no CSRF token
    assert entries(security, actor=f"token:client-{role}", action="token.use", outcome="ok")


# --- signing in, out, expiry, throttling -------------------------------------------------------


def test_pages_redirect_to_sign_in_and_api_answers_401(app):
    server, _ = app
    client = server.test_client()
    assert client.get("/healthz").status_code == 200 and client.get("/metrics").status_code == 200
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"].startswith("/auth/signin?next=/")
    for path in ("/api/v1/probe", "/_dash-layout", "/_dash-dependencies"):
        answer = client.get(path)
        assert answer.status_code == 401 and answer.json["error"] == "not_signed_in"
    assert client.get("/auth/static/vigie-security.css").status_code == 200


def test_metrics_can_be_protected(redis_url):
    server, _ = build_app(redis_url, metrics_public=False)
    assert server.test_client().get("/metrics").status_code == 401


def test_sign_in_sets_hardened_cookies_and_headers(app):
    server, security = app
    tls = "https://localhost"  # as behind TLS (with ProxyFix)
    client, response = sign_in(server, "a-operator", base_url=tls)
    assert response.status_code == 302
    cookies = {c.split("=")[0]: c for c in response.headers.getlist("Set-Cookie")}
    assert all(flag in cookies["vigie_session"] for flag in ("HttpOnly", "SameSite=Lax", "Secure"))
    assert "Secure" in cookies["_csrf_token"] and "SameSite=Strict" in cookies["_csrf_token"]
    page = client.get("/", headers={"Accept": "text/html"}, base_url=tls)
    assert page.status_code == 200 and "DashRenderer" in page.text
    headers = page.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"] and "unsafe-eval" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Strict-Transport-Security"]
    assert entries(security, actor="a-operator", action="signin", outcome="ok")


def test_plain_http_cookies_are_not_secure(app):
    server, _ = app
    _, response = sign_in(server, "a-operator")
    assert all("Secure" not in c for c in response.headers.getlist("Set-Cookie"))


def test_failed_sign_ins_are_slowed_down_and_logged(app, clock):
    server, security = app
    client = server.test_client()
    for _ in range(2):
        assert sign_in(server, "a-operator", "wrong password", client=client)[1].status_code == 401
    throttled = sign_in(server, "a-operator", PW, client=client)[1]  # even the right password waits
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1 and "Réessayez dans" in throttled.text
    clock.t += 1.1
    assert sign_in(server, "a-operator", PW, client=client)[1].status_code == 302
    logged = [(e.action, e.outcome) for e in entries(security, actor="a-operator", action="signin")]
    assert logged == [("signin", "ok"), ("signin", "refused"), ("signin", "failed"), ("signin", "failed")]


def test_session_expires_after_inactivity_but_not_while_active(app, clock):
    server, security = app
    client, _ = sign_in(server, "a-operator")
    for _ in range(3):
        clock.t += 50
        assert client.get("/api/v1/probe").status_code == 200  # activity keeps it alive
    clock.t += 40
    timer = dict(dash_payload("dashboard.view", "lighting"), changedPropIds=["clock.n_intervals"])
    client.post("/_dash-update-component", json=timer, headers=csrf(client))  # a timer is not activity
    clock.t += 30
    expired = client.get("/api/v1/probe")
    assert expired.status_code == 401 and expired.json["message"] == "Votre session a expiré ; reconnectez-vous."
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 302
    (entry,) = entries(security, action="session.expired")
    assert (entry.actor, entry.outcome) == ("a-operator", "expired")


def test_sign_out_ends_the_session(app):
    server, security = app
    client, _ = sign_in(server, "a-viewer")
    page = client.get("/auth/signout")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert client.post("/auth/signout", data={"csrf_token": token}).status_code == 302
    assert client.get("/api/v1/probe").status_code == 401
    assert entries(security, actor="a-viewer", action="signout", outcome="ok")


def test_disabling_an_account_ends_its_sessions_at_once(app, clock):
    server, security = app
    client, _ = sign_in(server, "a-operator")
    security.store.set_disabled("a-operator", True, now=clock())
    assert client.get("/api/v1/probe").status_code == 401
    assert entries(security, actor="a-operator", action="session.ended")


# --- CSRF ----------------------------------------------------------------------------------------


def test_state_changes_without_the_csrf_token_are_refused(app):
    server, security = app
    client, _ = sign_in(server, "a-operator")
    assert client.post("/api/v1/do/alarm.acknowledge/lighting").status_code == 403
    assert client.post("/_dash-update-component", json=dash_payload("alarm.acknowledge", "lighting")).status_code == 403
    wrong = {"X-CSRFToken": "forged"}
    assert client.post("/api/v1/do/alarm.acknowledge/lighting", headers=wrong).status_code == 403
    foreign = dict(csrf(client), Origin="https://evil.example")
    assert client.post("/api/v1/do/alarm.acknowledge/lighting", headers=foreign).status_code == 403
    assert client.post("/api/v1/do/alarm.acknowledge/lighting", headers=csrf(client)).status_code == 200
    assert len(entries(security, action="csrf", outcome="refused")) == 4


def test_sign_in_form_without_token_is_refused(app):
    server, security = app
    response = server.test_client().post("/auth/signin", data={"name": "a-admin", "password": PW})
    assert response.status_code == 400 and entries(security, action="csrf")


# --- tokens ---------------------------------------------------------------------------------------


def test_token_revocation_is_effective_within_a_second(app, clock):
    server, security = app
    record_, raw = security.store.create_token("gmao", "viewer", None, device=False, created_by="test", now=clock())
    client, bearer = server.test_client(), {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/probe", headers=bearer).status_code == 200
    admin, _ = sign_in(server, "a-admin")
    started = time.monotonic()
    page = admin.get("/admin/tokens")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert admin.post(f"/admin/tokens/{record_.id}/revoke", data={"csrf_token": token}).status_code == 302
    refused = client.get("/api/v1/probe", headers=bearer)
    elapsed = time.monotonic() - started
    assert refused.status_code == 401 and elapsed < 1.0
    assert entries(security, action="token.revoke", outcome="ok", actor="a-admin")
    assert entries(security, action="token.use", outcome="refused")


def test_wall_screen_signs_in_once_and_survives_a_restart(redis_url, app, clock):
    server, security = app
    record_, raw = security.store.create_token("wall-1", "viewer", None, device=True, created_by="test", now=clock())
    wall = server.test_client()
    form = wall.get("/auth/device")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    answer = wall.post("/auth/device", data={"csrf_token": token, "token": raw})
    device_cookie = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("vigie_device=")][0]
    assert "HttpOnly" in device_cookie and "Max-Age=34560000" in device_cookie
    restarted, _ = build_app(redis_url, clock)  # a new process: only the browser's cookie carries over
    again = restarted.test_client()
    again.set_cookie("vigie_device", raw)
    assert again.get("/", headers={"Accept": "text/html"}).status_code == 200
    assert again.get("/auth/whoami").json == {"name": "wall-1", "role": "viewer", "domains": [], "kind": "device"}
    acting = again.post("/api/v1/do/alarm.acknowledge/lighting", headers=csrf(again))
    assert acting.status_code == 403  # read-only
    security.store.revoke_token(record_.id, now=clock())
    gone = again.get("/", headers={"Accept": "text/html"})
    assert gone.status_code == 302 and any(c.startswith("vigie_device=;") for c in gone.headers.getlist("Set-Cookie"))
    assert entries(security, action="device.signin", outcome="ok") and entries(security, action="device.use", outcome="refused")


def test_commands_are_rate_limited_per_user(app):
    server, security = app
    client, _ = sign_in(server, "a-operator")
    codes = [client.post("/api/v1/do/command.send/lighting", headers=csrf(client)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    (entry,) = entries(security, action="command.send", outcome="refused")
    assert "a minute" in entry.detail


# --- admin pages, audit ---------------------------------------------------------------------------


def test_admin_pages_are_for_admins_and_the_audit_for_engineers_too(app):
    server, _ = app
    expectations = {Role.VIEWER: (403, 403), Role.OPERATOR: (403, 403), Role.ENGINEER: (403, 200),
                    Role.TRAINER: (403, 403), Role.ADMIN: (200, 200)}
    for role, (accounts, audit) in expectations.items():
        client, _ = sign_in(server, f"a-{role}")
        assert client.get("/admin/accounts").status_code == accounts, role
        assert client.get("/admin/audit").status_code == audit, role
        assert client.get("/admin/audit.csv").status_code == audit, role


def test_admin_creates_an_account_and_the_audit_page_exports_csv(app):
    server, security = app
    admin, _ = sign_in(server, "a-admin")
    page = admin.get("/admin/accounts")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    created = admin.post("/admin/accounts", data={"csrf_token": token, "name": "bob", "role": "operator",
                                                  "domains": ["water", "traffic"], "password": "another good password"})
    assert created.status_code == 302 and security.store.get_user("bob").domains == {"water", "traffic"}
    assert admin.post("/admin/accounts/a-admin/disable", data={"csrf_token": token}).status_code == 302
    assert not security.store.get_user("a-admin").disabled  # never the last admin
    sign_in(server, "=HYPERLINK(1)", "whatever password")
    export = admin.get("/admin/audit.csv?action=signin&outcome=failed")
    assert export.mimetype == "text/csv" and "'=hyperlink(1)" in export.text and "signin" in export.text
    listed = admin.get("/admin/audit?user=a-admin").text
    assert "account.create" in listed and "account.disable" in listed


def test_audit_search_by_time_user_action_outcome(app, clock):
    _, security = app
    first = security.audit.record(actor="carol", action="alarm.acknowledge", outcome="ok", domain="water")
    time.sleep(0.005)
    security.audit.record(actor="dave", action="command.send", outcome="failed", domain="lighting")
    ts = int(first.split("-")[0]) / 1000
    assert [e.actor for e in security.audit.search(action="alarm")] == ["carol"]
    assert [e.actor for e in security.audit.search(outcome="failed")] == ["dave"]
    assert [e.actor for e in security.audit.search(until=ts)] == ["carol"]
    assert [e.actor for e in security.audit.search(since=ts + 0.004)] == ["dave"]
    assert [e.action for e in security.audit.search(actor="CAROL", domain="water")] == ["alarm.acknowledge"]


def test_first_admin_comes_from_the_environment_never_a_default(redis_url):
    server, security = build_app(redis_url)
    hint = unescape(server.test_client().get("/auth/signin").text)
    assert security.store.user_count() == 0 and "Aucun compte n'existe encore" in hint
    _, security = build_app(redis_url, admin_user="root-admin", admin_password="a long admin password")
    assert [a.name for a in security.store.active_admins()] == ["root-admin"]
    assert entries(security, action="account.create", actor="cli:environment")


def test_dash_page_and_socket_handshake_need_a_principal(app):
    server, _ = app
    client = server.test_client()
    assert client.post("/_dash-update-component", json=dash_payload("dashboard.view", "lighting")).status_code == 401
    assert json.loads(client.get("/_dash-layout").data)["error"] == "not_signed_in"


# --- language: French by default, English by the site setting or the page's ?lang= ----------------------------


@pytest.mark.parametrize("extra,lang,said", [
    ({}, "fr", ("Se connecter à Vigie", "Nom <input", "Mot de passe <input", "Se connecter</button>")),
    ({"language": "en"}, "en", ("Sign in to Vigie", "Name <input", "Password <input", "Sign in</button>")),
])
def test_sign_in_page_follows_the_site_language_french_by_default(redis_url, extra, lang, said):
    server, _ = build_app(redis_url, **extra)
    page = server.test_client().get("/auth/signin")
    assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
    assert [w for w in said if w not in unescape(page.text)] == []


def test_a_wrong_password_is_said_in_french(app):
    server, _ = app
    _, answer = sign_in(server, "a-operator", "wrong password")
    assert answer.status_code == 401 and "Nom ou mot de passe incorrect, ou compte désactivé." in answer.text


def test_the_lang_chosen_on_a_dash_page_carries_through_sign_in(app):
    server, _ = app
    client = server.test_client()
    bounced = client.get("/?lang=en", headers={"Accept": "text/html"})
    assert bounced.status_code == 302
    page = client.get(bounced.location)
    assert '<html lang="en">' in page.text and 'action="/auth/signin?lang=en"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": token, "name": "a-operator", "next": "/?lang=en"}
    wrong = client.post("/auth/signin?lang=en", data=dict(form, password="wrong password"))
    assert wrong.status_code == 401 and "Wrong name or password, or account disabled." in wrong.text
    signed_in = client.post("/auth/signin?lang=en", data=dict(form, password=PW))
    assert signed_in.status_code == 302 and signed_in.location == "/?lang=en"


@pytest.mark.parametrize("query,lang,headings", [
    ("", "fr", ("Comptes", "Jetons d'API et d'appareil", "Journal d'audit", "Se déconnecter", "Écran mural ou borne")),
    ("?lang=en", "en", ("Accounts", "API and device tokens", "Audit log", "Sign out", "Wall screen or kiosk")),
])
def test_admin_pages_speak_the_site_language_or_the_chosen_one(app, query, lang, headings):
    server, _ = app
    admin, _ = sign_in(server, "a-admin")
    for path, heading in zip(("/admin/accounts", "/admin/tokens", "/admin/audit", "/auth/signout", "/auth/device"), headings):
        page = admin.get(path + query)
        assert page.status_code == 200 and f'<html lang="{lang}">' in page.text, path
        assert f"<h1>{heading}</h1>" in unescape(page.text), path


def test_admin_messages_are_said_in_the_page_language_and_audited_in_english(app):
    server, security = app
    admin, _ = sign_in(server, "a-admin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', admin.get("/admin/accounts").text).group(1)
    account = {"csrf_token": token, "role": "viewer", "password": "another good password"}
    created = admin.post("/admin/accounts", data=dict(account, name="bob"), follow_redirects=True)
    assert "Compte bob créé (viewer)." in created.text
    chosen = admin.post("/admin/accounts?lang=en", data=dict(account, name="carol"))
    assert chosen.location == "/admin/accounts?lang=en" and "Account carol created (viewer)." in admin.get(chosen.location).text
    assert {e.detail for e in entries(security, action="account.create")} == {
        "Account bob created (viewer).", "Account carol created (viewer)."}


def test_a_refusal_page_is_in_french(app):
    server, _ = app
    viewer, _ = sign_in(server, "a-viewer")
    page = viewer.get("/admin/accounts", headers={"Accept": "text/html"})
    assert page.status_code == 403 and "<title>Accès refusé · Vigie</title>" in page.text
    assert "Refusé : accounts.manage demande le rôle administrateur ; a-viewer est observateur." in unescape(page.text)


def test_english_refusals_say_what_the_core_says(redis_url, clock):
    server, security = build_app(redis_url, clock, language="en")
    security.store.create_user("a-viewer", Role.VIEWER, None, PW, now=clock())
    security.store.create_user("a-operator", Role.OPERATOR, ["lighting"], PW, now=clock())
    for name, action, domain in (("a-viewer", "alarm.acknowledge", "lighting"), ("a-operator", "alarm.acknowledge", "water")):
        client, _ = sign_in(server, name)
        api = client.post(f"/api/v1/do/{action}/{domain}", headers=csrf(client))
        dash = client.post("/_dash-update-component", json=dash_payload(action, domain), headers=csrf(client))
        assert api.status_code == 403 and api.json["message"] == dash.json["response"]["result"]["children"]
    operator, _ = sign_in(server, "a-operator")
    answers = [operator.post("/api/v1/do/command.send/lighting", headers=csrf(operator)) for _ in range(4)]
    (refused,) = entries(security, action="command.send", outcome="refused")
    assert answers[-1].status_code == 429 and answers[-1].json["message"] == refused.detail
