"""The product as shipped, as a process: `python app.py` through gunicorn, its private Redis, the CLI beside it,
an orderly stop on SIGTERM and on Ctrl-C, and a start while Redis is down.

Each test runs the real entry point in a subprocess with its own state folder (never the repository's .vigie/).
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests

from tests.integration.test_alarms_api import Feed

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PW = "a process-level password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            value = predicate()
        except (requests.RequestException, OSError, ValueError):
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


class App:
    """`python app.py` with its own environment, in its own session (so a test can send it Ctrl-C as a terminal does)."""

    def __init__(self, state_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PORT": str(self.port), "VIGIE_STATE_DIR": str(state_dir), "VIGIE_RUN_SIMULATORS": "0",
                    "VIGIE_ARGON2_TIME_COST": "1", "VIGIE_ARGON2_MEMORY_KIB": "8", "VIGIE_ACCESS_LOG": "0", **env}
        self.env.pop("REDIS_URL", None) if "REDIS_URL" not in env else None
        self.state_dir = state_dir
        self.log = state_dir / f"app-{self.port}.log"
        state_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)

    def health(self) -> requests.Response:
        return requests.get(f"{self.url}/healthz", timeout=2)

    def wait_up(self, timeout: float = 90.0) -> None:
        wait_for(lambda: self.health().status_code == 200, timeout, "the control room to answer /healthz 200")

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "app.py", *args], cwd=ROOT, env=self.env, input=stdin, text=True,
                              capture_output=True, timeout=60)

    def redis_record(self) -> dict:
        return json.loads((self.state_dir / "redis" / "redis.json").read_text())

    def stop(self, sig: int = signal.SIGTERM, *, group: bool = False, timeout: float = 60.0) -> int:
        if group:
            os.killpg(self.proc.pid, sig)  # Ctrl-C: the terminal signals the whole foreground process group
        else:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """After a failure: nothing left running, the private redis-server (its own session) included."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        try:
            pid = self.redis_record()["pid"]
        except (OSError, ValueError, KeyError):
            return
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def signed_in(app: App, name: str) -> requests.Session:
    s = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(f"{app.url}/auth/signin", timeout=10).text).group(1)
    r = s.post(f"{app.url}/auth/signin", data={"csrf_token": token, "name": name, "password": PW}, allow_redirects=False,
               timeout=30)
    assert r.status_code in (302, 303), r.text[:300]
    s.headers["X-CSRFToken"] = s.cookies.get("_csrf_token")
    return s


@pytest.fixture
def state_dir(tmp_path):
    return tmp_path / "state"


def _ack_then_stop(state_dir: Path, sig: int, group: bool) -> None:
    app = App(state_dir)
    try:
        app.wait_up()
        made = app.cli("user", "create", "--name", "nina", "--role", "operator", "--domains", "all", "--password-stdin",
                       stdin=PW + "\n")
        assert made.returncode == 0, made.stderr
        record = app.redis_record()
        url = record["url"]
        nina = signed_in(app, "nina")  # created by the CLI while the app runs: signs in at once, same Redis
        feed = Feed(url)
        feed.territory()
        wait_for(lambda: requests.get(f"{app.url}/api/v1/assets/lamp-0", cookies=nina.cookies, timeout=5).ok, 30, "the lamps")
        feed.raise_("lighting", "lum", ("lamp_fault:lamp-0", "lamp-0", "minor"))
        wait_for(lambda: nina.get(f"{app.url}/api/v1/alarms", timeout=5).json()["items"], 30, "the alarm")
        r = nina.post(f"{app.url}/api/v1/alarms/lum/lamp_fault:lamp-0/ack", json={"comment": "last action before the stop"},
                      timeout=10)
        assert r.status_code == 200, r.text
        feed.client.close()
        import socketio

        browser = socketio.Client(http_session=nina, reconnection=False)  # a page's push connection, held open
        browser.connect(app.url, transports=["polling"], headers={"Origin": app.url})
        assert browser.connected

        t0 = time.monotonic()
        code = app.stop(sig, group=group)  # at once: the alarm store's writer must flush it
        took = time.monotonic() - t0
        browser.disconnect()
        assert took < 20, f"the stop waited {took:.0f} s (gunicorn's graceful timeout is 30 s: a connection held it)"
        assert code == 0, app.output()[-3000:]
        assert not alive(record["pid"]), "the private redis-server outlived Vigie"
        assert not alive(record["owner"])
        assert not (state_dir / "redis" / "redis.json").exists()
    finally:
        app.kill()

    again = App(state_dir)  # a restart on the same state folder: the same data, the last action in it
    try:
        again.wait_up()
        nina = signed_in(again, "nina")
        alarm = wait_for(lambda: next((a for a in nina.get(f"{again.url}/api/v1/alarms", timeout=5).json()["items"]
                                       if a["id"] == "lum/lamp_fault:lamp-0"), None), 30, "the alarm after restart")
        assert alarm["acked_by"] == "nina"
        assert again.stop() == 0
    finally:
        again.kill()


def test_sigterm_flushes_every_writer_stops_redis_last_and_exits_0(state_dir):
    _ack_then_stop(state_dir, signal.SIGTERM, group=False)


def test_ctrl_c_stops_as_gracefully_as_sigterm(state_dir):
    _ack_then_stop(state_dir, signal.SIGINT, group=True)


def test_the_cli_never_starts_a_second_redis_and_says_what_to_do_when_none_runs(state_dir):
    env = {**os.environ, "VIGIE_STATE_DIR": str(state_dir)}
    env.pop("REDIS_URL", None)
    refused = subprocess.run([sys.executable, "app.py", "user", "list"], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=60)  # nothing running on this state folder
    assert refused.returncode != 0 and "start the control room" in refused.stderr, refused.stderr
    assert not (state_dir / "redis" / "redis.json").exists()
    app = App(state_dir)
    try:
        app.wait_up()
        record = app.redis_record()
        listed = app.cli("user", "list")
        assert listed.returncode == 0, listed.stderr
        servers = subprocess.run(["pgrep", "-f", f"redis-server.*{state_dir}"], capture_output=True, text=True).stdout.split()
        assert len(servers) <= 1
        from services.redis_launcher import resolve_redis
        from services.settings import Settings

        handle = resolve_redis(Settings(state_dir=state_dir))  # a second Vigie process on the same state folder
        assert (handle.url, handle.kind) == (record["url"], "private")
        handle.stop()  # not its own: left running
        assert alive(record["pid"])
        assert app.stop() == 0
    finally:
        app.kill()


def test_a_start_while_redis_is_down_answers_503_and_comes_up_when_redis_arrives(state_dir, tmp_path):
    port = free_port()
    app = App(state_dir, REDIS_URL=f"redis://127.0.0.1:{port}/0", VIGIE_REDIS_RETRY_MAX_S="1")
    server = None
    try:
        doc = wait_for(lambda: (r := app.health()).status_code == 503 and r.json(), 60, "/healthz 503")  # (a 503 is falsy)
        assert doc["ready"] is False and "Redis" in doc["reason"], doc
        assert app.proc.poll() is None, "Vigie died with Redis down"
        server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
        app.wait_up(90)
        assert app.health().json()["status"] == "ok"
        assert app.stop() == 0
        assert server.poll() is None, "an external Redis is never stopped by Vigie"
    finally:
        app.kill()
        if server is not None:
            server.terminate()
            server.wait(10)
