"""The least-privilege Redis ACLs of docs/security.md, applied to the real redis-server."""
from __future__ import annotations

import socket
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import redis

from argon2 import PasswordHasher
from flask import Flask

from services.accounts import Limit, Passwords
from services.accounts.redis_acl import as_line, supervisor_acl, vigie_acl
from services.contract import cmd_channel, sup_channel
from services.redis_conn import connect
from services.settings import Settings
from services.simulators.runner import Runner
from services.web.security import init_security

pytestmark = pytest.mark.integration
DOCS = Path(__file__).resolve().parents[2] / "docs" / "security.md"


class StubSim:
    """The smallest supervisor the real Runner can drive: a state on start, then telemetry, acks to commands."""

    domain, supervisor_id, step_s = "lighting", "lum-1", 0.05

    def __init__(self) -> None:
        self.commands: list[bytes] = []
        self.now = datetime.now(timezone.utc)  # its world's time: the Runner steps it up to the territory clock's

    def state(self):
        return [(sup_channel(self.domain, self.supervisor_id, "state"), b'{"state":1}')]

    def step(self):
        self.now += timedelta(seconds=self.step_s)
        return [(sup_channel(self.domain, self.supervisor_id, "telemetry"), b'{"t":1}')]

    def heartbeat(self, uptime_s: float, speed: float = 1.0):
        return [(sup_channel(self.domain, self.supervisor_id, "heartbeat"), b'{"hb":1}')]

    def handle_command(self, payload: bytes):
        self.commands.append(payload)
        return [(sup_channel(self.domain, self.supervisor_id, "ack"), b'{"ack":1}')]


@pytest.fixture
def acl_urls(redis_url):
    """Create the Vigie user and one supervisor's user with the documented rules; remove them afterwards."""
    admin = redis.Redis.from_url(redis_url)
    admin.execute_command(*vigie_acl("vigie-test", "vigie-pw"))
    admin.execute_command(*supervisor_acl("lighting", "lum-1", "sup-pw"))
    host = redis_url.split("//", 1)[1].rsplit("/", 1)[0]
    yield {"vigie": f"redis://vigie-test:vigie-pw@{host}/0", "sup": f"redis://sup-lighting-lum-1:sup-pw@{host}/0"}
    admin.execute_command("ACL", "DELUSER", "vigie-test", "sup-lighting-lum-1")
    admin.close()


def refused(call) -> bool:
    try:
        call()
    except redis.exceptions.NoPermissionError:
        return True
    return False


def test_the_documented_lines_are_the_ones_tested():
    text = DOCS.read_text(encoding="utf-8")
    assert as_line(vigie_acl("vigie", "CHANGE-ME")) in text
    assert as_line(supervisor_acl("lighting", "lum-mtp", "CHANGE-ME")) in text


def test_a_supervisor_publishes_only_on_its_own_channels(acl_urls):
    sup = redis.Redis.from_url(acl_urls["sup"], protocol=2)
    assert sup.ping()
    sup.publish("sup.lighting.lum-1.telemetry", b"{}")
    for channel in ("sup.lighting.lum-2.telemetry", "sup.lighting.lum-10.telemetry", "sup.water.lum-1.telemetry",
                    "cmd.lighting.lum-2", "flask-socketio"):
        assert refused(lambda: sup.publish(channel, b"{}")), channel
    for call in (lambda: sup.get("vigie:snap:meta"), lambda: sup.set("x", 1), lambda: sup.keys("*"),
                 lambda: sup.xadd("vigie:audit", {"a": "b"}), lambda: sup.flushall(), lambda: sup.config_get("*")):
        assert refused(call)


def test_a_supervisor_listens_only_to_its_own_command_channel(acl_urls):
    sup = redis.Redis.from_url(acl_urls["sup"], protocol=2)
    mine = sup.pubsub()
    mine.subscribe("cmd.lighting.lum-1")
    assert mine.get_message(timeout=1)["type"] == "subscribe"
    for spy in (lambda p: p.subscribe("cmd.lighting.lum-2"), lambda p: p.psubscribe("cmd.*"),
                lambda p: p.psubscribe("sup.*"), lambda p: p.subscribe("sup.water.eau-mtp.telemetry")):
        other = sup.pubsub()
        with pytest.raises(redis.exceptions.ResponseError, match="(?i)no permissions"):
            spy(other)
            other.get_message(timeout=1)
        other.close()


def test_vigie_reads_the_feeds_and_commands_a_real_runner_under_the_acls(acl_urls):
    vigie = redis.Redis.from_url(acl_urls["vigie"], protocol=2)
    feeds = vigie.pubsub()
    feeds.psubscribe("sup.*")
    feeds.get_message(timeout=1)
    sim = StubSim()
    runner = Runner(sim, acl_urls["sup"], speed=1.0).start()  # the real Runner, as the supervisor's ACL user
    try:
        kinds = set()
        deadline = time.monotonic() + 5
        while {"state", "telemetry"} - kinds and time.monotonic() < deadline:
            msg = feeds.get_message(timeout=0.2)
            if msg and msg["type"] == "pmessage":
                kinds.add(msg["channel"].decode().rsplit(".", 1)[1])
        assert {"state", "telemetry"} <= kinds
        deadline = time.monotonic() + 5
        while not sim.commands and time.monotonic() < deadline:
            vigie.publish(cmd_channel("lighting", "lum-1"), b'{"cmd":1}')
            time.sleep(0.1)
        assert sim.commands and runner.published > 0
    finally:
        runner.stop()
        feeds.close()


def test_vigie_keeps_its_keys_under_its_prefix_and_runs_no_admin_command(acl_urls):
    vigie = redis.Redis.from_url(acl_urls["vigie"], protocol=2)
    vigie.set("vigie:snap:meta", b"{}")
    vigie.xadd("vigie:audit", {"actor": "x"})
    vigie.publish("flask-socketio", b"{}")
    for call in (lambda: vigie.set("other:key", 1), lambda: vigie.keys("*"), lambda: vigie.flushall(),
                 lambda: vigie.config_set("appendonly", "no"), lambda: vigie.execute_command("ACL", "LIST"),
                 lambda: vigie.publish("other.channel", b"{}"), lambda: vigie.execute_command("SHUTDOWN")):
        assert refused(call)


def test_the_security_layer_works_with_only_vigies_acl(acl_urls):
    client = redis.Redis.from_url(acl_urls["vigie"], protocol=2)
    cheap = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    security = init_security(Flask(__name__), Settings(), client, passwords=cheap)
    security.store.create_user("ops", "operator", "water", "correct horse battery", now=1.0)
    _, raw = security.store.create_token("gmao", "viewer", None, device=False, created_by="t", now=1.0)
    assert security.store.resolve_token(raw) and security.store.check_password("ops", "correct horse battery")[0] == "ok"
    security.throttle.failed("ops", "10.0.0.1", now=1.0)
    assert security.limiter.hit("command.send", "ops", Limit(1, 60.0), now=1.0)
    security.audit.record(actor="ops", action="signin", outcome="ok")
    assert security.audit.search(actor="ops")


@pytest.fixture
def tls_redis(tmp_path):
    """A real redis-server that speaks TLS only, with a test CA, and one ACL user; stopped afterwards."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda *args: subprocess.run(["openssl", *args], cwd=tmp_path, check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=vigie-test-ca")
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (tmp_path / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
        "-days", "1", "-extfile", "san.ext")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--tls-cert-file", "server.pem", "--tls-key-file", "server.key",
                             "--tls-ca-cert-file", "ca.pem", "--tls-auth-clients", "no", "--user", "vigie", "on", ">tls-pw", "~vigie:*", "+@all"],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"rediss://vigie:tls-pw@localhost:{port}/0?ssl_ca_certs={tmp_path / 'ca.pem'}"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            connect(url, timeout_s=0.5).ping()
            break
        except redis.RedisError:
            if proc.poll() is not None:
                pytest.skip("this redis-server cannot start with TLS")
            time.sleep(0.05)
    yield url, port
    proc.terminate()
    proc.wait(5)


def test_redis_over_tls_with_a_password_through_redis_url(tls_redis):
    url, port = tls_redis
    client = connect(url)
    assert client.ping() and client.set("vigie:tls", b"1")
    with pytest.raises(redis.ConnectionError):
        connect(f"redis://vigie:tls-pw@localhost:{port}/0", timeout_s=1).ping()  # plain text is not spoken
    with pytest.raises(redis.ConnectionError):
        connect(url.split("?")[0], timeout_s=1).ping()  # a server certificate from an unknown CA is refused
