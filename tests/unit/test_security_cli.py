"""The admin CLI (`python app.py user|token|audit|redis-acl ...`) over fakeredis."""
from __future__ import annotations

import io
import time

import fakeredis
import pytest
from argon2 import PasswordHasher

from services import cli
from services.accounts import AccountStore, Passwords
from services.audit import AuditLog
from services.settings import Settings

PW = "correct horse battery"


@pytest.fixture
def client():
    return fakeredis.FakeRedis()


def cheap() -> Passwords:
    return Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(cli, "Passwords", cheap)


def run(client, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), Settings(), redis_client=client, stdin=io.StringIO(stdin), stdout=out, stderr=err,
                    clock=time.time)
    return code, out.getvalue(), err.getvalue()


def test_user_create_with_password_from_stdin(client):
    code, out, _ = run(client, "user", "create", "--name", "alice", "--role", "operator", "--domains", "lighting,water",
                       "--password-stdin", stdin=PW + "\n")
    assert code == 0 and "created alice (operator lighting,water)" in out
    store = AccountStore(client, cheap())
    assert store.check_password("alice", PW)[0] == "ok"
    (entry,) = AuditLog(client).search(action="account.create")
    assert entry.actor.startswith("cli:") and entry.target == "alice"


@pytest.mark.parametrize(("argv", "stdin", "code", "says"), [
    (("user", "create", "--name", "bob", "--role", "operator", "--password-stdin"), PW, 1, "needs at least one domain"),
    (("user", "create", "--name", "bob", "--role", "viewer", "--password-stdin"), "short", 1, "at least 12"),
    (("user", "create", "--name", "bob", "--role", "king", "--password-stdin"), PW, 2, ""),
    (("user", "disable", "--name", "nobody"), "", 1, "no account named"),
    (("token", "create", "--role", "operator", "--name", "wall", "--domains", "all", "--device"), "", 1, "read-only"),
    (("token", "revoke", "--id", "0000000000000000"), "", 1, "no token"),
    (("audit", "export", "--since", "yesterday-ish"), "", 1, "cannot read the time"),
])
def test_refusals_say_why_and_exit_non_zero(client, argv, stdin, code, says):
    got, _, err = run(client, *argv, stdin=stdin)
    assert got == code and says in err


def test_token_create_prints_the_token_last_and_revoke_stops_it(client):
    code, out, _ = run(client, "token", "create", "--role", "viewer", "--name", "GMAO Carl")
    token = out.strip().splitlines()[-1]
    store = AccountStore(client, cheap())
    record = store.resolve_token(token)
    assert code == 0 and token.startswith("vgt_") and record.name == "GMAO Carl"
    assert run(client, "token", "list")[1].startswith(f"{record.id}\tGMAO Carl\tviewer")
    assert run(client, "token", "revoke", "--id", record.id)[0] == 0
    assert store.resolve_token(token) is None and "revoked" in run(client, "token", "list")[1]


def test_user_disable_enable_reset_and_list(client):
    run(client, "user", "create", "--name", "carol", "--role", "admin", "--password-stdin", stdin=PW)
    assert run(client, "user", "disable", "--name", "carol")[0] == 0
    assert "carol\tadmin\t-\tdisabled" in run(client, "user", "list")[1]
    assert run(client, "user", "enable", "--name", "carol")[0] == 0
    assert run(client, "user", "reset-password", "--name", "carol", "--password-stdin", stdin="another good one!")[0] == 0
    assert AccountStore(client, cheap()).check_password("carol", "another good one!")[0] == "ok"


def test_audit_export_writes_csv(client, tmp_path):
    AuditLog(client).record(actor="alice", action="command.send", outcome="refused", domain="water", detail="=1+1")
    code, out, _ = run(client, "audit", "export", "--since", "7d", "--action", "command")
    assert code == 0 and out.splitlines()[0].startswith("when,id,actor") and "alice" in out and "'=1+1" in out
    target = tmp_path / "audit.csv"
    assert run(client, "audit", "export", "--output", str(target))[0] == 0 and "command.send" in target.read_text()


def test_redis_acl_lines_need_no_redis():
    out = io.StringIO()
    code = cli.main(["redis-acl", "supervisor", "--domain", "water", "--id", "eau-mtp", "--password-stdin"], Settings(),
                    stdin=io.StringIO("s3cret\n"), stdout=out, stderr=io.StringIO())
    assert code == 0 and out.getvalue().strip() == ("ACL SETUSER sup-water-eau-mtp reset on >s3cret resetkeys ~sup:water:eau-mtp:* "
                                                    "resetchannels &sup.water.eau-mtp.* &cmd.water.eau-mtp -@all +ping +publish +subscribe "
                                                    "+unsubscribe +get +set +exists +expire +multi +exec +discard")


def test_without_redis_url_the_cli_says_so(tmp_path):
    err = io.StringIO()  # an empty state folder: no Redis of a running control room to fall back on
    assert cli.main(["user", "list"], Settings(redis_url=None, state_dir=tmp_path), stdout=io.StringIO(), stderr=err) == 1
    assert "REDIS_URL" in err.getvalue()
