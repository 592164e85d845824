"""Roles and permissions as a table, passwords, tokens, rate limits and the account store (fakeredis)."""
from __future__ import annotations

import fakeredis
import pytest
from argon2 import PasswordHasher

from services.accounts import (
    PERMISSIONS,
    AccountError,
    AccountExists,
    AccountStore,
    Action,
    Limit,
    Passwords,
    Principal,
    PrincipalKind,
    RateLimiter,
    Refusal,
    Role,
    SigninResult,
    SigninThrottle,
    decide,
    parse_domains,
    signin_delay,
    tokens,
)
from services.accounts.http import content_security_policy, is_passive_dash_update, is_public, safe_next, script_hash
from services.accounts.redis_acl import AclError, supervisor_acl, vigie_acl
from services.audit import AuditEntry, to_csv
from services.redis_conn import BusUnavailable

R = Role
# The specification: who may do what (in their own domain). A row per action, a column per role.
#                                      viewer operator engineer trainer admin
MATRIX: dict[Action, tuple[bool, ...]] = {
    Action.DASHBOARD_VIEW:       (True,  True,  True,  True,  True),
    Action.API_READ:             (True,  True,  True,  True,  True),
    Action.ALARM_ACKNOWLEDGE:    (False, True,  True,  False, False),
    Action.ALARM_SHELVE:         (False, True,  True,  False, False),
    Action.ALARM_COMMENT:        (False, True,  True,  False, False),
    Action.COMMAND_SEND:         (False, True,  True,  False, False),
    Action.SETTINGS_THRESHOLDS:  (False, False, True,  False, False),
    Action.REPLAY_RUN:           (False, False, False, True,  False),
    Action.ACCOUNTS_MANAGE:      (False, False, False, False, True),
    Action.TOKENS_MANAGE:        (False, False, False, False, True),
    Action.AUDIT_READ:           (False, False, True,  False, True),
    Action.NGSI_NOTIFY:          (False, False, True,  False, False),
    Action.SUPERVISORS_MANAGE:   (False, False, True,  False, False),
    Action.WORKORDER_MANAGE:     (False, True,  True,  False, False),
}
ROLES = (R.VIEWER, R.OPERATOR, R.ENGINEER, R.TRAINER, R.ADMIN)
SCOPED = {a for a, rule in PERMISSIONS.items() if rule.scoped}


def principal(role: Role, domains: str = "lighting") -> Principal:
    return Principal(f"a-{role}", role, parse_domains(domains, role))


def cases() -> list[tuple[Role, Action, bool]]:
    return [(role, action, row[i]) for action, row in MATRIX.items() for i, role in enumerate(ROLES)]


def test_the_matrix_covers_every_action_and_role():
    assert set(MATRIX) == set(Action) == set(PERMISSIONS)
    assert all(len(row) == len(Role) for row in MATRIX.values())


@pytest.mark.parametrize(("role", "action", "expected"), cases(), ids=lambda v: str(v))
def test_role_may_or_may_not_act_in_its_own_domain(role, action, expected):
    decision = decide(principal(role), action, "lighting")
    assert bool(decision) is expected
    if not expected:
        assert decision.reason == Refusal.ROLE and decision.http_status == 403 and action in decision.message


@pytest.mark.parametrize(("role", "action"), [(r, a) for a in sorted(SCOPED) for r in ROLES if MATRIX[a][ROLES.index(r)]])
def test_scoped_actions_stop_at_the_principals_domains(role, action):
    decision = decide(principal(role, "lighting"), action, "water")
    assert not decision and decision.reason == Refusal.DOMAIN and "not on water" in decision.message
    assert decide(principal(role, "lighting"), action, None).reason == Refusal.DOMAIN_REQUIRED
    assert decide(principal(role, "all"), action, "water")


@pytest.mark.parametrize(("who", "action", "reason", "status"), [
    (None, "alarm.acknowledge", Refusal.NOT_SIGNED_IN, 401),
    (Principal("x", R.ADMIN), "alarm.explode", Refusal.UNKNOWN_ACTION, 403),
])
def test_refusals_that_are_not_about_roles(who, action, reason, status):
    decision = decide(who, action, "lighting")
    assert (decision.allowed, decision.reason, decision.http_status) == (False, reason, status)


@pytest.mark.parametrize(("raw", "role", "expected"), [
    ("lighting,water", R.OPERATOR, {"lighting", "water"}),
    (" Lighting , ", R.ENGINEER, {"lighting"}),
    ("all", R.OPERATOR, {"lighting", "water", "traffic"}),
    ("lighting", R.VIEWER, set()),  # unscoped roles carry no domains
    (["water"], R.OPERATOR, {"water"}),
])
def test_domains_parse(raw, role, expected):
    assert parse_domains(raw, role) == expected


@pytest.mark.parametrize(("raw", "role"), [("", R.OPERATOR), ("gas", R.ENGINEER), (None, R.ENGINEER)])
def test_bad_domains_are_refused(raw, role):
    with pytest.raises(AccountError):
        parse_domains(raw, role)


def test_labels_say_what_kind_of_principal_acted():
    assert Principal("alice", R.OPERATOR).label == "alice"
    assert Principal("gmao", R.VIEWER, kind=PrincipalKind.TOKEN).label == "token:gmao"
    assert Principal("wall-1", R.VIEWER, kind=PrincipalKind.DEVICE).label == "device:wall-1"


@pytest.mark.parametrize(("failures", "delay"), [(0, 0), (2, 0), (3, 1), (4, 2), (6, 8), (9, 60), (500, 60)])
def test_failed_sign_ins_wait_longer_and_longer(failures, delay):
    assert signin_delay(failures, free=3, base_s=1.0, cap_s=60.0) == delay


def test_tokens_round_trip_and_only_their_digest_is_kept():
    token_id, raw = tokens.new_token()
    assert raw.startswith("vgt_") and tokens.parse_token(raw) == (token_id, raw.split(".")[1])
    assert tokens.matches(tokens.digest(raw.split(".")[1]), raw.split(".")[1])
    assert tokens.bearer(f"Bearer {raw}") == raw and tokens.bearer("Basic abc") is None
    for bad in ("", "vgt_xyz", raw + "x", raw.replace("vgt_", "abc_"), "x" * 500):
        assert tokens.parse_token(bad) is None


@pytest.mark.parametrize(("target", "expected"), [
    ("/alarms?x=1", "/alarms?x=1"), (None, "/"), ("https://evil.example/", "/"), ("//evil.example", "/"),
    ("/\\evil.example", "/"), ("javascript:alert(1)", "/"), ("/ok\r\nSet-Cookie: x", "/"),
])
def test_after_sign_in_only_same_site_paths(target, expected):
    assert safe_next(target) == expected


@pytest.mark.parametrize(("path", "metrics_public", "public"), [
    ("/healthz", True, True), ("/metrics", True, True), ("/metrics", False, False), ("/auth/signin", False, True),
    ("/auth/static/vigie-security.css", False, True), ("/auth/signout", True, False), ("/", True, False),
    ("/api/v1/assets", True, False), ("/_dash-update-component", True, False), ("/admin/accounts", True, False),
])
def test_public_paths(path, metrics_public, public):
    assert is_public(path, metrics_public=metrics_public) is public


@pytest.mark.parametrize(("body", "passive"), [
    (b'{"changedPropIds": ["clock.n_intervals"]}', True),
    (b'{"changedPropIds": ["clock.n_intervals", "ack.n_clicks"]}', False),
    (b'{"changedPropIds": ["details-refresh.data"]}', True),
    (b'{"changedPropIds": ["layer-water.clickData"]}', False),
    (b'{"changedPropIds": []}', False), (b"not json", False), (b"", False),
])
def test_timer_callbacks_are_not_activity(body, passive):
    assert is_passive_dash_update("/_dash-update-component", lambda: body) is passive
    assert not is_passive_dash_update("/api/v1/x", lambda: body)


def test_csp_allows_dash_renderer_only_and_never_eval():
    csp = content_security_policy(script_hashes={script_hash("var renderer = new DashRenderer();")}, host="vigie.local",
                                  secure=True, tile_origin="https://tile.example")
    assert "script-src 'self' 'sha256-" in csp and "unsafe-eval" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "wss://vigie.local" in csp
    assert "img-src 'self' data: blob: https://tile.example" in csp


def test_csv_export_neutralises_spreadsheet_formulas():
    entry = AuditEntry("1700000000000-0", "=cmd|' /C calc'!A0", "user", "", "", "signin", "", "@SUM(1)", "failed", "-2+3")
    text = to_csv([entry])
    assert "'=cmd" in text and "'@SUM" in text and "'-2+3" in text and text.startswith("when,id,actor")


def test_acl_builders_refuse_glob_characters_and_spaces():
    with pytest.raises(AclError):
        supervisor_acl("lighting", "sup*", "pw")
    with pytest.raises(AclError):
        supervisor_acl("gas", "s1", "pw")
    with pytest.raises(AclError):
        vigie_acl("vigie", "has space")
    assert "&sup.water.w-1.*" in supervisor_acl("water", "w-1", "pw") and "&cmd.water.w-1" in supervisor_acl("water", "w-1", "pw")


# --- the store, limits and throttle, over fakeredis -----------------------------------------


@pytest.fixture
def client():
    return fakeredis.FakeRedis()


@pytest.fixture
def store(client):
    return AccountStore(client, Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)))


PW = "correct horse battery"


def test_accounts_are_created_once_with_a_strong_hash(store):
    account = store.create_user("Alice", "operator", "lighting", PW, now=10.0)
    assert (account.name, account.role, account.domains) == ("alice", R.OPERATOR, {"lighting"})
    assert account.password_hash.startswith("$argon2id$") and PW not in repr(account)
    with pytest.raises(AccountExists):
        store.create_user("alice", "viewer", None, PW, now=11.0)


def test_a_connection_lost_while_creating_is_not_taken_for_an_existing_account(store, monkeypatch):
    import redis

    def dropped(self, raise_on_error=True):  # what redis-py raises when the connection dies during a watched transaction
        raise redis.WatchError("A ConnectionError occurred while watching one or more keys")

    with monkeypatch.context() as patch:
        patch.setattr(redis.client.Pipeline, "execute", dropped)
        with pytest.raises(BusUnavailable, match="unreachable while creating 'alice'"):
            store.create_user("alice", "operator", "lighting", PW, now=10.0)
    assert store.get_user("alice") is None


@pytest.mark.parametrize(("name", "password"), [("bad name", PW), ("<img>", PW), ("bob", "short"), ("bob", "bob"),
                                                 ("bob", "aaaaaaaaaaaaaaaa"), ("bob", "x" * 2000)])
def test_bad_names_and_weak_passwords_are_refused(store, name, password):
    with pytest.raises(AccountError):
        store.create_user(name, "viewer", None, password, now=0.0)


def test_password_checks_distinguish_outcomes_for_the_audit_log(store):
    store.create_user("alice", "operator", "lighting", PW, now=0.0)
    assert store.check_password("alice", PW)[0] == SigninResult.OK
    assert store.check_password("alice", "wrong password!")[0] == SigninResult.BAD_PASSWORD
    assert store.check_password("nobody", PW)[0] == SigninResult.UNKNOWN
    store.set_disabled("alice", True, now=1.0)
    assert store.check_password("alice", PW)[0] == SigninResult.DISABLED


def test_disable_and_reset_bump_the_epoch_that_ends_sessions(store):
    first = store.create_user("alice", "operator", "lighting", PW, now=0.0).epoch
    assert store.reset_password("alice", "another good password", now=1.0).epoch == first + 1
    assert store.set_disabled("alice", True, now=2.0).epoch == first + 2
    assert store.set_disabled("alice", False, now=3.0).epoch == first + 2


def test_tokens_resolve_until_revoked(store):
    record, raw = store.create_token("GMAO <Carl>", "operator", "water", device=False, created_by="cli:root", now=5.0)
    assert store.resolve_token(raw).principal() == Principal("GMAO <Carl>", R.OPERATOR, frozenset({"water"}),
                                                            PrincipalKind.TOKEN, token_id=record.id)
    assert store.resolve_token(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    store.revoke_token(record.id, now=6.0)
    assert store.resolve_token(raw) is None and store.get_token(record.id).revoked


@pytest.mark.parametrize(("role", "device"), [("admin", False), ("operator", True), ("admin", True)])
def test_tokens_never_manage_accounts_and_devices_only_look(store, role, device):
    with pytest.raises(AccountError):
        store.create_token("t", role, "lighting", device=device, created_by="x", now=0.0)


def test_rate_limit_counts_per_window(client):
    limiter = RateLimiter(client)
    results = [limiter.hit("command.send", "alice", Limit(3, 60.0), now=120.0 + i) for i in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False] and results[-1].retry_after_s == 57.0
    assert limiter.hit("command.send", "bob", Limit(3, 60.0), now=125.0).allowed
    assert limiter.hit("command.send", "alice", Limit(3, 60.0), now=180.0).allowed


def test_throttle_waits_after_free_failures_and_forgets_on_success(client):
    throttle = SigninThrottle(client, free_per_name=2, free_per_ip=100, base_s=1.0, cap_s=60.0)
    for t in (0.0, 0.1):
        assert throttle.wait_s("alice", "10.0.0.1", now=t) <= 0
        throttle.failed("alice", "10.0.0.1", now=t)
    assert throttle.wait_s("alice", "10.0.0.1", now=0.2) == pytest.approx(0.9)
    assert throttle.wait_s("alice", "10.0.0.1", now=1.2) <= 0
    throttle.succeeded("alice")
    assert throttle.wait_s("alice", "10.0.0.1", now=1.2) <= 0
