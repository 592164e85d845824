"""Redis Sentinel on real processes: Vigie follows a failover of its Redis and loses nothing a replica holds.

A primary, a replica and three sentinels on free loopback ports; Vigie's services (start_services, as the
engine process runs them) and three supervisors (the shipped Runner) on a `redis+sentinel://` URL; an
operator's writes (accounts, alarm acknowledgements, commands, audit entries) going on all along. The
primary is SIGKILLed mid-stream. Run with `-s` to see the figures (docs/deploy.md quotes them).

What "nothing lost" can mean. Redis replicates asynchronously: the primary answers a write before the
replica has it, so a write the primary acknowledged in the instant before it died may be missing on the
promoted replica. WAIT numreplicas timeout closes that gap for the writes before it: once it says 1, the
replica holds them. The replication stream is one ordered stream, so a marker written and WAITed on
after a write (on any connection) vouches for that write. Here, then:

- every write a replica acknowledged (the marker's WAIT said 1) must be on the new primary: asserted;
- a write the primary alone acknowledged just before the kill may be lost: counted and printed (it is
  bounded by the writes whose marker was not acknowledged before the kill);
- a write that failed while the primary was away was refused to its caller (BusUnavailable), who tries
  again, as an operator does; the alarm store keeps its pending writes and writes them itself once Redis
  answers. Nothing Vigie reported as done is silently dropped, beyond the window above.

Vigie itself does not WAIT on its writes (docs/deploy.md: min-replicas-to-write bounds the window instead).
"""
from __future__ import annotations

import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pytest
import redis
from argon2 import PasswordHasher

from services.accounts.passwords import Passwords
from services.accounts.store import AccountExists, AccountStore
from services.alarms.store import JOURNAL_KEY, STATE_KEY
from services.audit import AUDIT_KEY, AuditLog
from services.commands.store import CommandStore
from services.contract import AssetDef, LightingReading, Point
from services.feed.bus import ERRORS, bounded_client
from services.redis_conn import BusUnavailable, connect
from services.redis_launcher import free_port
from services.runtime import Runtime, start_services
from services.settings import Settings
from services.simulators.base import CommandResult, SupervisorSim
from services.simulators.runner import Runner
from services.web.socketio_queue import CHANNEL, queue_options

pytestmark = pytest.mark.integration

SENTINEL_BIN = shutil.which("redis-sentinel")
SERVER_BIN = shutil.which("redis-server") or "redis-server"  # the integration tests' prerequisite (make test installs it)
if SENTINEL_BIN is None:
    pytest.skip("no redis-sentinel binary (Debian: apt-get install redis-sentinel)", allow_module_level=True)

SERVICE = "vigie"
DOWN_AFTER_MS = 500  # production: a few seconds (docs/deploy.md); small here so the test is quick
FAILOVER_TIMEOUT_MS = 3000
SUPERVISORS = ("lum-a", "lum-b", "lum-c")
ALARMS_EACH = 8
CHEAP = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
MARKER = "test:replication-marker"
ROUND_EVERY_S = 0.02


def wait_until(predicate: Callable[[], object], timeout: float, what: str, every: float = 0.02) -> object:
    """Poll `predicate` until it is truthy; fail the test saying `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except ERRORS:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(every)


# --- the Redis side: one primary, one replica, three sentinels ------------------------------------------------

@dataclass
class Group:
    """The processes of one Sentinel-watched Redis (all started here, all stopped here)."""

    root: Path
    primary: int = 0
    replica: int = 0
    sentinels: list[int] = field(default_factory=list)
    procs: dict[int, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return "redis+sentinel://" + ",".join(f"127.0.0.1:{p}" for p in self.sentinels) + f"/{SERVICE}/0"

    def server(self, port: int, replica_of: int | None = None) -> None:
        data = self.root / str(port)
        data.mkdir()
        args = [SERVER_BIN, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data),
                "--save", "", "--appendonly", "no",  # persistence is not what this test is about
                "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
                "--client-output-buffer-limit", "pubsub 256mb 64mb 60", "--loglevel", "warning"]
        if replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(replica_of)]
        self.procs[port] = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)

    def sentinel(self, port: int) -> None:
        conf = self.root / f"sentinel-{port}.conf"  # a sentinel rewrites its file: one each, writable
        conf.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {self.root}\nlogfile {self.root}/sentinel-{port}.log\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {SERVICE} 1\n", encoding="utf-8")
        self.procs[port] = subprocess.Popen([SENTINEL_BIN, str(conf)], stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def master_port(self, sentinel: int) -> int | None:
        """Where one sentinel says the primary is."""
        with redis.Redis(port=sentinel, protocol=2, socket_timeout=0.5, socket_connect_timeout=0.5) as s:
            addr = s.sentinel_get_master_addr_by_name(SERVICE)
        return int(addr[1]) if addr else None

    def ready(self) -> bool:
        """Every sentinel knows the primary, the replica and the two other sentinels (a failover needs them)."""
        for port in self.sentinels:
            with redis.Redis(port=port, protocol=2, socket_timeout=0.5, socket_connect_timeout=0.5) as s:
                m = s.sentinel_master(SERVICE)
            if m["num-other-sentinels"] != len(self.sentinels) - 1 or m["num-slaves"] != 1 or m["port"] != self.primary:
                return False
        return True

    def kill(self, port: int) -> None:
        self.procs[port].kill()  # SIGKILL: no goodbye to the replica, the sentinels or the clients
        self.procs[port].wait(5)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture
def group(tmp_path: Path):
    g = Group(tmp_path / "redis")
    g.root.mkdir()
    try:
        g.primary, g.replica = free_port(), free_port()
        g.server(g.primary)
        wait_until(lambda: redis.Redis(port=g.primary, socket_timeout=0.5).ping(), 10, "primary answering")
        g.server(g.replica, replica_of=g.primary)
        wait_until(lambda: redis.Redis(port=g.replica, socket_timeout=0.5).info("replication")["master_link_status"] == "up",
                   10, "replica in sync")
        g.sentinels = [free_port() for _ in range(3)]
        for port in g.sentinels:
            g.sentinel(port)
        wait_until(g.ready, 15, "sentinels knowing the replica and each other")  # hello messages every 2 s
        yield g
    finally:
        g.stop()


# --- the supervisors: the shipped Runner driving a small lighting world -----------------------------------------

class SmallLighting(SupervisorSim):
    """Ten lamps, `alarms` of them alarmed, one telemetry message a step."""

    domain = "lighting"
    step_s = 1.0

    def __init__(self, supervisor_id: str, alarms: int) -> None:
        super().__init__(supervisor_id, seed=1, start=datetime.now(timezone.utc))
        self.ids = [f"{supervisor_id}-lamp-{i:02d}" for i in range(10)]
        self.level = 0.0
        for i in range(alarms):
            self.raise_alarm(f"{supervisor_id}-al-{i}", self.ids[i % len(self.ids)], "lamp_off", "major", "Lampe éteinte")

    def asset_defs(self) -> list[AssetDef]:
        return [AssetDef(id=a, type="Streetlight", name=f"Lampe {i}", props={"powerRating": 100.0},
                         geometry=Point(coordinates=(3.87 + i * 1e-3, 43.61 + i * 1e-3))) for i, a in enumerate(self.ids)]

    def _reading(self, asset: str) -> LightingReading:
        return LightingReading(asset=asset, status="ok", powerState="on", illuminanceLevel=self.level, powerConsumption=100.0)

    def current_readings(self) -> list[LightingReading]:
        return [self._reading(a) for a in self.ids]

    def advance(self, now: datetime, dt_s: float) -> None:
        self.level = (self.level + 0.1) % 1.0
        for a in self.ids:
            self.changed(self._reading(a))

    def check_command(self, cmd) -> str | None:
        return "no commands in this test"

    def apply_command(self, cmd) -> CommandResult:
        return CommandResult()


# --- the operator's side: writes through Vigie's own stores, each retried until it is written --------------------

@dataclass
class Item:
    kind: str  # account | alarm | command | audit
    key: str
    done_at: float = field(default_factory=time.monotonic)  # when the write returned
    written: bool = True  # the write returned (an alarm acknowledgement: its store wrote it, not just the engine took it)
    replicated: bool = False  # written, then a marker WAITed on after it reached the replica


class Operator:
    """Writes one item of each kind a round, then a marker it WAITs on; keeps going through the failover."""

    def __init__(self, runtime: Runtime, alarm_ids: list[str]) -> None:
        self.runtime = runtime
        self.client = bounded_client(runtime.redis_url, 1.0)
        self.accounts = AccountStore(self.client, CHEAP)
        self.audit = AuditLog(self.client)
        self.commands = CommandStore(self.client)
        self.alarm_ids = list(alarm_ids)
        self.items: list[Item] = []
        self.failed_attempts = 0
        self.rounds = 0
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-operator", daemon=True)

    def start(self) -> "Operator":
        self._thread.start()
        return self

    def join(self) -> None:
        self.stop.set()
        self._thread.join(30)
        assert not self._thread.is_alive()
        self.client.close()

    def _retry(self, write: Callable[[], None]) -> bool:
        while not self.stop.is_set():
            try:
                write()
                return True
            except (BusUnavailable, *ERRORS):
                self.failed_attempts += 1
                self.stop.wait(0.05)  # the pace of a retry, not a wait for a condition
        return False

    def _account(self, key: str) -> None:
        try:
            self.accounts.create_user(key, "operator", "lighting", f"pass-{key}-phrase", now=time.time())
        except AccountExists:
            pass  # an earlier attempt failed on the way back, yet reached Redis

    def _command(self, key: str) -> None:
        doc = {"id": key, "rev": 1, "requested_at": time.time(), "user": "ada", "targets": [], "feedback": {}, "actual": {}}
        self.commands.save([doc])

    def _alarm(self, key: str) -> bool:
        """Acknowledge once (the engine holds it at once); whether the alarm store has written it yet.

        While Redis is away the store keeps the change and writes it itself later: the operator does nothing more.
        """
        assert self.runtime.engine.acknowledge(key, "ada") is True
        written = self.runtime.alarm_store.flush(timeout=2.0)
        if not written:
            self.failed_attempts += 1
        return written

    def _run(self) -> None:
        marker = bounded_client(self.runtime.redis_url, 1.0)
        while not self.stop.is_set():
            n = self.rounds
            writes: list[tuple[str, str, Callable[[str], object]]] = [
                ("account", f"op-{n:04d}", self._account),
                ("command", f"cmd-{n:04d}", self._command),
                ("audit", f"entry-{n:04d}", lambda k: self.audit.record(actor="ada", action="test.write", outcome="ok", target=k)),
            ]
            if self.alarm_ids:
                writes.append(("alarm", self.alarm_ids.pop(0), self._alarm))
            done: list[Item] = []
            for kind, key, write in writes:
                if kind == "alarm":
                    done.append(Item(kind, key, written=bool(write(key))))
                elif self._retry(lambda write=write, key=key: write(key)):
                    done.append(Item(kind, key))
            self.items += done
            try:  # the marker: once the replica holds it, it holds everything written before it
                pipe = marker.pipeline(transaction=False)
                pipe.incr(MARKER)
                pipe.execute_command("WAIT", 1, 100)
                if pipe.execute()[-1] >= 1:
                    for item in done:
                        item.replicated = item.written
            except ERRORS:
                pass
            self.rounds += 1
            self.stop.wait(ROUND_EVERY_S)  # an operator's pace (busy, still): not a wait for a condition
        marker.close()


def test_vigie_follows_a_sentinel_failover_and_keeps_what_a_replica_acknowledged(group: Group, tmp_path: Path) -> None:
    settings = Settings(redis_url=group.url, state_dir=tmp_path / "state", run_simulators=False, snapshot_interval_s=0.5)
    runtime = start_services(settings)
    runners: list[Runner] = []
    operator: Operator | None = None
    try:
        engine = runtime.engine
        wait_until(lambda: engine.bus_up, 10, "engine subscribed")
        runners = [Runner(SmallLighting(sid, ALARMS_EACH), group.url, speed=10).start() for sid in SUPERVISORS]
        reader = runtime.reader

        def live_since(t: float) -> bool:
            sups = reader.supervisors()
            return len(sups) == len(SUPERVISORS) and all(s["status"] == "live" and s["last_seen"] >= t for s in sups)

        wait_until(lambda: live_since(0), 15, "supervisors live")
        def ours() -> list[str]:
            return sorted(a["id"] for a in reader.alarms() if a["supervisor"] in SUPERVISORS)

        alarm_ids = wait_until(lambda: len(ids := ours()) == len(SUPERVISORS) * ALARMS_EACH and ids, 10, "alarms raised")
        runtime.alarm_store.flush(5)

        operator = Operator(runtime, alarm_ids).start()
        wait_until(lambda: operator.rounds >= 8 and runners[0].published > 20, 15, "writes and telemetry flowing")

        # --- the primary dies mid-stream ---
        killed_at, killed_wall = time.monotonic(), time.time()
        group.kill(group.primary)
        dead_at = time.monotonic()  # a write that returned later went to the new primary
        wait_until(lambda: group.master_port(group.sentinels[0]) == group.replica, 20, "sentinels promoting the replica")
        switched = time.monotonic() - killed_at
        wait_until(lambda: live_since(killed_wall), 30, "every supervisor live again through the new primary")
        live = time.monotonic() - killed_at
        rounds_live = operator.rounds
        wait_until(lambda: operator.rounds >= rounds_live + 5 and not operator.alarm_ids, 30, "the operator writing on the new primary")
        operator.join()
        assert runtime.alarm_store.flush(15), "the alarm store wrote what it kept while Redis was away"

        # --- what the new primary holds ---
        check = connect(group.url, timeout_s=2)
        try:
            journal = [{k.decode(): v.decode() for k, v in raw.items()} for _id, raw in check.xrange(JOURNAL_KEY)]
            audited = {raw[b"target"].decode() for _id, raw in check.xrange(AUDIT_KEY)}
            records = check.hgetall(STATE_KEY)
            present = {
                "account": lambda k: check.exists(f"vigie:user:{k}") == 1,
                "command": lambda k: check.exists(f"vigie:cmd:doc:{k}") == 1,
                "audit": lambda k: k in audited,
                "alarm": lambda k: b'"acked_by":"ada"' in records.get(k.encode(), b"")
                and any(e["alarm"] == k and e["action"] == "acknowledge" and e["who"] == "ada" for e in journal),
            }
            lost = [i for i in operator.items if not present[i.kind](i.key)]
            assert {a.decode() for a in records} >= set(alarm_ids), "every alarm raised before the kill is still held"
            # the Socket.IO queue follows the failover too (a web worker's manager, made from the same URL)
            listener = check.pubsub(ignore_subscribe_messages=True)
            listener.subscribe(CHANNEL)
            manager = queue_options(group.url, write_only=True)["client_manager"]
            manager.emit("probe", {"after": "failover"}, namespace="/")
            relayed = wait_until(lambda: listener.get_message(timeout=0.05), 5, "a Socket.IO message relayed")
            assert b"failover" in relayed["data"]
            listener.close()
        finally:
            check.close()

        replicated = [i for i in operator.items if i.replicated]
        at_risk = [i for i in operator.items if i.done_at < dead_at and i.written and not i.replicated]  # the primary's word only
        kinds = {k: sum(1 for i in operator.items if i.kind == k) for k in present}
        print(f"\nSentinel failover (down-after {DOWN_AFTER_MS} ms): replica promoted {switched:.2f} s after SIGKILL; "
              f"all {len(SUPERVISORS)} supervisors live again (heard through the new primary) after {live:.2f} s")
        print(f"writes: {len(operator.items)} ({', '.join(f'{n} {k}' for k, n in kinds.items())}), "
              f"{operator.failed_attempts} failed attempts retried; replica-acknowledged: {len(replicated)}; "
              f"acknowledged by the primary alone before the kill: {len(at_risk)}; lost: {len(lost)}")
        assert not [i for i in lost if i.replicated], f"replica-acknowledged writes lost: {lost}"
        assert len(lost) <= len(at_risk), f"lost writes the primary never acknowledged alone: {lost}"
        assert kinds["alarm"] == len(alarm_ids) and min(kinds.values()) > 0
        assert operator.failed_attempts > 0, "the operator was writing while the primary was away (mid-stream)"
        assert engine.metrics.rejected == {}
    finally:
        if operator is not None:
            operator.join()
        for r in runners:
            r.stop()
        runtime.stop()
