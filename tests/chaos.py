"""Chaos on real redis-servers and the project's own simulators: faults, and what Vigie lost to them.

Shared by tests/integration/test_chaos.py (one fault a test) and benchmarks/soak.py (a fault every few minutes).

* `ChaosRedis`: a redis-server of its own (free port, temporary folder, append-only file on, the pub/sub limit
  docs/deploy.md asks for), which can be SIGKILLed and restarted on its port; its log says which subscriber it
  cut for overrunning its output buffer (redis 7.0 has no INFO counter for that; 7.2's is read when present).
* `InProcessVigie` (the runtime `make run` starts, simulators included) and `VigieProcess` (`python app.py`,
  the simulators beside it in this process, so that the whole control room can be SIGSTOPped).
* `Truth`: what Vigie shows of a genuine supervisor against what its simulator told (`told`), read so that a message
  still in flight is not taken for a loss (see `Truth.compare`).
* The faults: a second publisher on one id, `CLIENT KILL TYPE pubsub`, Redis SIGKILLed and restarted, a 43 MB
  publish, a state declaring 100,000 assets, a forged supervisor, the engine paused.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import redis
import requests

from services.contract import (
    Alarm,
    AlarmEvent,
    AssetDef,
    Codec,
    Heartbeat,
    LightingReading,
    Point,
    State,
    StateReady,
    Telemetry,
    WaterReading,
    encode,
    sup_channel,
)
from services.contract.retained import part_key, state_key
from services.redis_launcher import free_port, wait_ready

ROOT = Path(__file__).resolve().parents[1]
PUBSUB_LIMIT = "256mb 64mb 60"  # Vigie's private Redis; docs/deploy.md asks any Redis for at least 64mb / 32mb
GENUINE = ("lum-mtp", "eau-mtp", "trafic-mtp")  # the three simulated supervisors of the territory
CUT = re.compile(rb"Client id=\d+ .*? name=(\S*) .*scheduled to be closed ASAP for overcoming of output buffer limits")
MB = 1024 * 1024
_CODEC = Codec()


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    """Poll `predicate` until truthy; raise TimeoutError naming `what` after `timeout` seconds."""
    end = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except (requests.RequestException, redis.RedisError, OSError, ValueError):
            value = None
        if value:
            return value
        if time.monotonic() > end:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


# --- Redis ---------------------------------------------------------------------------------------


class ChaosRedis:
    """A redis-server of a case's own, restartable on its port with its data (append-only file on)."""

    def __init__(self, folder: Path, pubsub_limit: str = PUBSUB_LIMIT) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = folder / "redis.log"
        self.pubsub_limit = pubsub_limit
        self.proc: subprocess.Popen | None = None
        self._info_cuts = 0  # redis >= 7.2: INFO stats' own counter, summed over the server's lives

    def start(self) -> ChaosRedis:
        """Start (or restart) the server and wait until it answers."""
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--dir", str(self.folder), "--logfile", str(self.log), "--loglevel", "warning",
             "--client-output-buffer-limit", f"pubsub {self.pubsub_limit}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_ready(self.url, 15.0)
        return self

    def client(self) -> redis.Redis:
        """A plain client (the caller closes it)."""
        return redis.Redis.from_url(self.url, socket_timeout=30)

    def kill(self) -> None:
        """SIGKILL: no goodbye on any socket, no last write."""
        self._count_info()
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        """Stop the server if it runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def _count_info(self) -> None:
        try:
            with self.client() as c:
                self._info_cuts += int(c.info("stats").get("client_output_buffer_limit_disconnections", 0))
        except redis.RedisError:
            pass

    def forced_cuts(self) -> list[str]:
        """The names of the clients Redis cut for overrunning their output buffer, from its log (every life of it)."""
        try:
            found = [m.group(1).decode() or "?" for m in CUT.finditer(self.log.read_bytes())]
        except OSError:
            found = []
        live = 0
        try:
            with self.client() as c:
                live = int(c.info("stats").get("client_output_buffer_limit_disconnections", 0))
        except redis.RedisError:
            pass
        return found + ["?"] * max(0, self._info_cuts + live - len(found))


# --- Vigie ---------------------------------------------------------------------------------------


class InProcessVigie:
    """The runtime `make run` starts (services.runtime.start_services), the three simulated supervisors included."""

    def __init__(self, redis_url: str, state_dir: Path, speed: float, **settings: Any) -> None:
        from services.runtime import start_services
        from services.settings import Settings

        self.settings = Settings(redis_url=redis_url, state_dir=state_dir, run_simulators=True, simulator_speed=speed, **settings)
        self.runtime = start_services(self.settings)
        self.reader = self.runtime.reader
        self.engine = self.runtime.engine

    def sims(self) -> dict[str, Any]:
        """The simulated supervisors by id (built in the background: wait for them first)."""
        self.runtime.simulators.wait_started(120)
        return {r.sim.supervisor_id: r.sim for r in self.runtime.simulators.runners}

    def supervisors(self) -> list[dict]:
        """Each supervisor's health, as /healthz shows it."""
        return self.reader.supervisors()

    def feed_cuts(self) -> dict[str, int]:
        """Times the engine's and the recorder's subscriptions were lost, by their own count."""
        rec = self.runtime.recorder
        return {"engine": self.engine.feed_stats()["disconnects"], "recorder": rec.reader.subscriber.losses if rec else 0}

    def rejected(self) -> dict[str, int]:
        """Messages refused, by reason."""
        return dict(self.engine.metrics.rejected)

    def stop(self) -> None:
        """Stop everything the runtime started."""
        self.runtime.stop()


class VigieProcess:
    """`python app.py` on an external Redis (gunicorn master + one worker: the engine), the simulators in this process."""

    def __init__(self, redis_url: str, state_dir: Path, speed: float, **env: str) -> None:
        from services.feed.bus import bounded_client
        from services.feed.reader import RedisReader
        from services.runtime import Simulators
        from services.settings import Settings

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        state_dir.mkdir(parents=True, exist_ok=True)
        self.output = state_dir / "app.log"
        env = {**os.environ, "REDIS_URL": redis_url, "VIGIE_STATE_DIR": str(state_dir), "PORT": str(self.port),
               "VIGIE_RUN_SIMULATORS": "0", "VIGIE_ACCESS_LOG": "0", "VIGIE_ARGON2_TIME_COST": "1",
               "VIGIE_ARGON2_MEMORY_KIB": "8", **env}
        self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.output.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        self.reader = RedisReader(bounded_client(redis_url, 10.0))  # what a web-only worker reads: the engine's snapshots
        self.simulators = Simulators(Settings(redis_url=redis_url, state_dir=state_dir, simulator_speed=speed), redis_url).start()
        self.paused = False

    def wait_up(self, timeout: float = 120.0) -> None:
        """Until /healthz answers 200."""
        wait_for(lambda: requests.get(f"{self.url}/healthz", timeout=2).status_code == 200, timeout, "Vigie's /healthz 200")

    @property
    def worker(self) -> int:
        """The gunicorn worker's pid: the process that runs the engine."""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], check=False, capture_output=True, text=True).stdout.split()
        if len(out) != 1:
            raise RuntimeError(f"expected one gunicorn worker under {self.proc.pid}, found {out}")
        return int(out[0])

    def sims(self) -> dict[str, Any]:
        """The simulated supervisors by id (this process runs them)."""
        self.simulators.wait_started(120)
        return {r.sim.supervisor_id: r.sim for r in self.simulators.runners}

    def health(self) -> dict:
        """/healthz, from the engine's process."""
        return requests.get(f"{self.url}/healthz", timeout=5).json()

    def supervisors(self) -> list[dict]:
        """Each supervisor's health from /healthz (the engine's process, now)."""
        return self.health().get("supervisors", [])

    def metrics(self) -> dict[tuple[str, tuple], float]:
        """/metrics as {(name, labels): value}."""
        from prometheus_client.parser import text_string_to_metric_families

        text = requests.get(f"{self.url}/metrics", timeout=5).text
        return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in text_string_to_metric_families(text) for s in f.samples}

    def feed_cuts(self) -> dict[str, int]:
        """Times the engine's subscription was lost, by its own count (/metrics)."""
        return {"engine": int(self.metrics().get(("vigie_feed_disconnects_total", ()), 0))}

    def rejected(self) -> dict[str, int]:
        """Messages refused, by reason (/metrics)."""
        out: dict[str, int] = {}
        for (name, labels), value in self.metrics().items():
            if name == "vigie_messages_rejected_total":
                reason = dict(labels).get("reason", "?")
                out[reason] = out.get(reason, 0) + int(value)
        return out

    def rss_mb(self) -> float:
        """The engine process's resident memory."""
        with open(f"/proc/{self.worker}/status", encoding="ascii") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024

    def pause(self) -> None:
        """SIGSTOP the whole engine process: its bus reader too, so Redis holds what is published meanwhile."""
        os.kill(self.worker, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        """SIGCONT."""
        os.kill(self.worker, signal.SIGCONT)
        self.paused = False

    def stop(self) -> None:
        """Stop the simulators, then Vigie (SIGTERM, as systemd does; SIGKILL after 40 s)."""
        if self.paused:
            self.resume()
        self.simulators.stop()
        if self.proc.poll() is None:
            try:
                worker: int | None = self.worker
            except RuntimeError:
                worker = None
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                for pid in (worker, self.proc.pid):  # the worker has a process group of its own (app.py, post_fork)
                    if pid is not None:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                self.proc.wait(10)
        self.reader.client.close()


Vigie = InProcessVigie | VigieProcess


def statuses(vigie: Vigie, ids: Iterable[str] = GENUINE) -> dict[str, str]:
    """The status of each of these supervisors ('absent' when Vigie does not list it)."""
    found = {s["id"]: s["status"] for s in vigie.supervisors()}
    return {i: found.get(i, "absent") for i in ids}


def seconds_until_live(vigie: Vigie, since: float, timeout: float = 60.0, ids: Iterable[str] = GENUINE) -> float:
    """Seconds from `since` (time.monotonic) until every one of `ids` is live; TimeoutError past `timeout`."""
    ids = tuple(ids)
    wait_for(lambda: set(statuses(vigie, ids).values()) == {"live"}, max(0.0, since + timeout - time.monotonic()),
             f"{', '.join(ids)} live again", every=0.1)
    return time.monotonic() - since


# --- what was lost -------------------------------------------------------------------------------


def _reading_values(r: Any) -> dict:
    return {k: v for k, v in msgspec.structs.asdict(r).items() if v is not None and k not in ("asset", "observedAt")}


@dataclass(frozen=True)
class Said:
    """What a supervisor had told (published, or tried to) up to its message `seq`."""

    seq: int
    values: dict[str, tuple[dict, ...]]  # each asset's readings as Vigie may rightly show them (see `Told`)
    changed: dict[str, int]  # the message that last changed an asset's readings (by asset id) or an alarm ('alarm:<id>')
    assets: frozenset[str]
    alarms: frozenset[str]
    states: int
    codes: dict[str, str] = field(default_factory=dict)  # each alarm's code (by alarm id), for its class in Vigie's rationale


class Told:
    """Everything one simulated supervisor tells, in order, whether it reached Redis or not: its readings, its assets
    (from its last full state) and its active alarms, each with the number of the message that last changed it.

    A reading may rightly be shown in more than one way: telemetry carries a value once it moves past a deadband,
    while a retained version carries the exact value, and Vigie reads a version only when it needs one (at start,
    after a reconnect or a gap). So an asset's candidates are its readings along both paths (an absent field keeps
    its value, as Vigie merges); a full telemetry reading brings them back to one.
    """

    MAX_CANDIDATES = 64

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seq = 0
        self.values: dict[str, tuple[dict, ...]] = {}
        self.changed: dict[str, int] = {}
        self.assets: frozenset[str] = frozenset()
        self.alarms: set[str] = set()
        self.codes: dict[str, str] = {}
        self.states = 0
        self._collecting: set[str] = set()

    def outgoing(self, out: list[tuple[str, bytes]]) -> None:
        """Note telemetry, alarms and v1 state parts about to be published."""
        with self._lock:
            for channel, payload in out:
                self._note(_CODEC.decode(channel, payload))

    def full_state(self, parts: list[State]) -> None:
        """Note a full state (v1 parts or a v2 retained version): readings added as candidates, assets and alarms replaced."""
        with self._lock:
            for p in parts:
                self._note(p)

    def _note(self, msg: Any) -> None:
        kind, n = getattr(msg, "kind", None), getattr(msg, "seq", 0)
        if kind == "telemetry":
            for r in msg.readings:
                self._set(r.asset, tuple(dict.fromkeys(_frozen({**c, **_reading_values(r)}) for c in self.values.get(r.asset, ({},)))), n)
        elif kind == "alarm":
            for ev in msg.events:
                self.codes[ev.id] = ev.code
                before = ev.id in self.alarms
                (self.alarms.add if ev.action == "raise" else self.alarms.discard)(ev.id)
                if (ev.id in self.alarms) != before:
                    self.changed[f"alarm:{ev.id}"] = n
        elif kind == "state":
            if msg.part == 1:
                self._collecting = set()
            self._collecting.update(a.id for a in msg.assets)
            for r in msg.readings:
                old = self.values.get(r.asset, ())
                self._set(r.asset, tuple(dict.fromkeys((*old, *(_frozen({**c, **_reading_values(r)}) for c in old or ({},))))), n)
            if msg.part == msg.parts:
                self.assets = frozenset(self._collecting)
                listed = {ev.id for ev in msg.alarms}
                self.codes.update((ev.id, ev.code) for ev in msg.alarms)
                for a in listed ^ self.alarms:
                    self.changed[f"alarm:{a}"] = n
                self.alarms = listed
                self.states += 1
        else:
            return
        self.seq = max(self.seq, n)

    def _set(self, asset: str, candidates: tuple, n: int) -> None:
        if len(candidates) > self.MAX_CANDIDATES:  # the path without any version since the first, and the latest ones
            candidates = (candidates[0], *candidates[-(self.MAX_CANDIDATES - 1):])
        if candidates != self.values.get(asset):
            self.values[asset] = candidates
            self.changed[asset] = n

    def said(self) -> Said:
        with self._lock:
            return Said(self.seq, dict(self.values), dict(self.changed), self.assets, frozenset(self.alarms), self.states,
                        dict(self.codes))


class _frozen(dict):
    """A reading's values, hashable (candidates are kept once each)."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))


def told(sim: Any) -> Told:
    """What this simulator has told (`record_what_simulators_tell` must be on before it starts)."""
    return sim.__dict__.setdefault("_chaos_told", Told())


def record_what_simulators_tell() -> Callable[[], None]:
    """Wrap every simulator's outgoing messages (class-wide, in this process) so `told(sim)` follows them; returns an undo."""
    from services.simulators.base import SupervisorSim

    flush, state, retained = SupervisorSim.flush, SupervisorSim.state, SupervisorSim.retained
    if getattr(flush, "chaos", False):
        return lambda: None
    def flush_told(self, *a, **k):
        out = flush(self, *a, **k)
        told(self).outgoing(out)
        return out

    def state_told(self, *a, **k):
        out = state(self, *a, **k)
        told(self).outgoing(out)
        return out

    def retained_told(self, *a, **k):
        version = retained(self, *a, **k)
        channel = sup_channel(self.domain, self.supervisor_id, "state")
        told(self).full_state([_CODEC.decode(channel, p) for p in version.parts])
        return version

    flush_told.chaos = True  # type: ignore[attr-defined]
    SupervisorSim.flush, SupervisorSim.state, SupervisorSim.retained = flush_told, state_told, retained_told

    def undo() -> None:
        SupervisorSim.flush, SupervisorSim.state, SupervisorSim.retained = flush, state, retained

    return undo


@dataclass
class Loss:
    """What Vigie shows wrong of one supervisor, against what the supervisor told."""

    supervisor: str
    stale_readings: list[str] = field(default_factory=list)  # assets whose values Vigie shows are not the last told
    missing_assets: list[str] = field(default_factory=list)
    ghost_assets: list[str] = field(default_factory=list)  # shown by Vigie for this supervisor, not in its last state
    missing_alarms: list[str] = field(default_factory=list)  # active at the supervisor (an alarm in Vigie's rationale), not active in Vigie
    ghost_alarms: list[str] = field(default_factory=list)  # active in Vigie, cleared at the supervisor (or an event there)
    caught_up: bool = True  # Vigie had applied every message the supervisor sent before the comparison

    @property
    def nothing(self) -> bool:
        return self.caught_up and not (self.stale_readings or self.missing_assets or self.ghost_assets or self.missing_alarms
                                       or self.ghost_alarms)

    def counts(self) -> dict[str, int]:
        return {"stale_readings": len(self.stale_readings), "missing_assets": len(self.missing_assets),
                "ghost_assets": len(self.ghost_assets), "missing_alarms": len(self.missing_alarms),
                "ghost_alarms": len(self.ghost_alarms)}


class Truth:
    """The genuine supervisors, by what they told, compared with what Vigie shows of them."""

    def __init__(self, vigie: Vigie, sims: dict[str, Any]) -> None:
        self.vigie = vigie
        self.sims = sims

    def alarmed(self, said: Said) -> frozenset[str]:
        """The supervisor's active alarms Vigie holds as alarms: not those its master alarm database classes as events
        (recorded and counted, never an alarm; services/alarms/rationalisation.yaml, e.g. traffic congestion)."""
        if isinstance(self.vigie, InProcessVigie):
            book = self.vigie.engine.core.alarms.rationale  # the book in force, engineers' edits included
        else:
            from services.alarms.rationale_store import shipped_book

            book = self.__dict__.setdefault("_book", shipped_book())  # a VigieProcess runs the book as shipped
        return frozenset(a for a in said.alarms if str(book.lookup(said.codes.get(a, "")).alarm_class) != "event")

    def applied(self, sim: Any) -> int | None:
        """The number of the supervisor's last message Vigie applied."""
        return next((s.get("seq") for s in self.vigie.reader.supervisors() if s["id"] == sim.supervisor_id), None)

    def shown(self, sim: Any) -> tuple[dict[str, dict], set[str], int | None]:
        """What Vigie shows of a supervisor: its assets' values, its active alarm ids (the supervisor's own), its last seq."""
        sid = sim.supervisor_id
        seq = self.applied(sim)  # the counter first: what is read after it is at least as new (snapshots are written one by one)
        _, page = self.vigie.reader.assets(domain=sim.domain, limit=1_000_000)
        values = {a["id"]: a["values"] for a in page if a.get("supervisor") == sid}
        prefix = f"{sid}/"
        alarms = {a["id"][len(prefix):] for a in self.vigie.reader.alarms() if a["supervisor"] == sid and a["source"] == "supervisor"}
        return values, alarms, seq

    def compare(self, sim: Any, wait_s: float = 10.0) -> Loss:
        """One comparison, blind to what is in flight.

        Note what the supervisor had told (S1, up to its message n), wait until Vigie applied message n, read what
        Vigie shows, note what it had told again (S2). A reading, asset or alarm the same in S1 and S2 must be shown as
        told; one that moved meanwhile is not judged this time.
        """
        s1 = told(sim).said()
        try:
            wait_for(lambda: (n := self.applied(sim)) is not None and n >= s1.seq, wait_s, f"{sim.supervisor_id} applied", 0.1)
            caught_up = True
        except TimeoutError:
            caught_up = False
        values, shown_alarms, _ = self.shown(sim)
        s2 = told(sim).said()
        still = lambda key: s1.changed.get(key) == s2.changed.get(key)
        loss = Loss(sim.supervisor_id, caught_up=caught_up)
        loss.missing_assets = sorted(a for a in s1.assets & s2.assets if a not in values)
        loss.ghost_assets = sorted(a for a in values if a not in s1.assets and a not in s2.assets)
        loss.stale_readings = sorted(a for a, candidates in s1.values.items() if a in values and still(a) and not any(
            all(values[a].get(k) == x for k, x in c.items()) for c in candidates))
        alarmed = self.alarmed(s1)
        loss.missing_alarms = sorted(a for a in alarmed - shown_alarms if still(f"alarm:{a}"))
        loss.ghost_alarms = sorted(a for a in shown_alarms - alarmed if still(f"alarm:{a}"))
        return loss

    def settle(self, timeout: float, ids: Iterable[str] = GENUINE) -> tuple[float | None, dict[str, Loss], dict[str, Loss]]:
        """Compare until nothing is lost or `timeout` passes.

        Returns the seconds until nothing was lost (None: never), the first comparison's losses (what was out of date at
        once) and the last ones (what is still lost)."""
        t0 = time.monotonic()
        pending = list(ids)
        wait_for(lambda: all(told(self.sims[s]).said().states for s in pending), timeout, "a full state told by every supervisor")
        first: dict[str, Loss] = {}
        last: dict[str, Loss] = {}
        while True:
            for sid in list(pending):
                last[sid] = self.compare(self.sims[sid])
                first.setdefault(sid, last[sid])
                if last[sid].nothing:
                    pending.remove(sid)
            if not pending:
                return time.monotonic() - t0, first, last
            if time.monotonic() - t0 > timeout:
                return None, first, last
            time.sleep(0.5)

    def window(self) -> dict[str, Said]:
        """What each supervisor had told now (to count what a fault's window saw)."""
        return {sid: told(sim).said() for sid, sim in self.sims.items()}


# --- faults --------------------------------------------------------------------------------------


def kill_pubsub(r: ChaosRedis) -> int:
    """`CLIENT KILL TYPE pubsub`: every subscription (Vigie's feed and recorder, the simulators' command channels)."""
    with r.client() as c:
        return int(c.execute_command("CLIENT", "KILL", "TYPE", "pubsub"))


def second_publisher(redis_url: str, supervisor: str = "lum-mtp", speed: float = 60.0) -> Any:
    """A second simulator runner publishing under an id that already runs (a simulator started twice: same seed)."""
    from zoneinfo import ZoneInfo

    from services.simulators import build
    from services.simulators.runner import Runner

    domain = {"lum-mtp": "lighting", "eau-mtp": "water", "trafic-mtp": "traffic"}[supervisor]
    sim = build(domain, seed=42, start=datetime.now(ZoneInfo("Europe/Paris")), supervisor_id=supervisor)
    return Runner(sim, redis_url, speed=speed).start()


def huge_publish(r: ChaosRedis, channel: str = "sup.lighting.lum-mtp.state", size: int = 43 * MB) -> int:
    """One message of `size` bytes on a `sup.*` channel; returns how many subscribers received it."""
    with r.client() as c:
        return int(c.publish(channel, b"{" + b" " * (size - 2) + b"}"))


class Forger:
    """A process publishing contract messages under an id of its choosing, with its own counter."""

    def __init__(self, r: ChaosRedis, supervisor: str, domain: str) -> None:
        self.redis, self.supervisor, self.domain, self.seq = r, supervisor, domain, 0

    def env(self, kind: str) -> dict:
        self.seq += 1
        return {"v": 1, "kind": kind, "domain": self.domain, "supervisor": self.supervisor, "ts": datetime.now(UTC),
                "seq": self.seq}

    def send(self, *messages: Any) -> None:
        with self.redis.client() as c:
            pipe = c.pipeline(transaction=False)
            for m in messages:
                pipe.publish(sup_channel(m.domain, m.supervisor, m.kind), encode(m))
            pipe.execute()


def lamps(prefix: str, n: int, start: int = 0) -> list[AssetDef]:
    return [AssetDef(id=f"{prefix}-{i:06d}", type="Streetlight", name=f"Lanterne {i}",
                     geometry=Point(coordinates=(3.80 + (i % 1000) * 1e-4, 43.55 + (i // 1000) * 1e-4))) for i in range(start, start + n)]


def oversized_state_v1(r: ChaosRedis, supervisor: str, assets: int = 100_000, per_part: int = 20_000,
                       declared_parts: int | None = None) -> list[str]:
    """A `state` of `assets` lamps in parts of `per_part` (declaring `declared_parts` parts), published in one pipeline."""
    f = Forger(r, supervisor, "lighting")
    n = -(-assets // per_part)
    parts = [State[LightingReading](**f.env("state"), snapshot=f"{supervisor}-forged", part=i + 1, parts=declared_parts or n,
                                    assets=lamps(supervisor, min(per_part, assets - i * per_part), i * per_part))
             for i in range(n)]
    f.send(*parts)
    return [a.id for p in parts for a in p.assets]


def oversized_state_v2(r: ChaosRedis, supervisor: str, assets: int = 100_000, per_part: int = 20_000) -> list[str]:
    """A retained state (contract v2) of `assets` lamps written in Redis, announced by a `state_ready`."""
    f = Forger(r, supervisor, "lighting")
    env = f.env("state_ready")
    snapshot, n = f"{supervisor}-b1-1", -(-assets // per_part)
    parts = [State[LightingReading](**{**env, "kind": "state"}, snapshot=snapshot, part=i + 1, parts=n,
                                    assets=lamps(supervisor, min(per_part, assets - i * per_part), i * per_part)) for i in range(n)]
    ready = StateReady(**{**env, "v": 2}, boot="b1", version=1, snapshot=snapshot, parts=n, assets=assets, definitions=1,
                       refresh_s=15.0)
    with r.client() as c:
        pipe = c.pipeline(transaction=True)
        for i, p in enumerate(parts, start=1):
            pipe.set(part_key("lighting", supervisor, snapshot, i), encode(p))
        pipe.set(state_key("lighting", supervisor), encode(ready))
        pipe.publish(sup_channel("lighting", supervisor, "state_ready"), encode(ready))
        pipe.execute()
    return [a.id for p in parts for a in p.assets]


def forged_supervisor(r: ChaosRedis, victims: list[str], supervisor: str = "evil-1", domain: str = "water") -> list[str]:
    """A supervisor nobody declared: a heartbeat, a state of its own naming the victims, urgent alarms and readings on them.

    Returns the ids the alarms would have in Vigie."""
    f = Forger(r, supervisor, domain)
    events = [AlarmEvent(id=f"forged:{a}", asset=a, action="raise", severity="critical", code="valve_fault",
                         message="Vanne bloquée (forgée)") for a in victims]
    geom = Point(coordinates=(3.88, 43.61))
    f.send(Heartbeat(**f.env("heartbeat"), assets=len(victims)),
           State[WaterReading](**f.env("state"), snapshot="evil-1", assets=[AssetDef(id=a, type="Valve", name=a, geometry=geom)
                                                                             for a in victims]),
           Alarm(**f.env("alarm"), events=events),
           Telemetry[WaterReading](**f.env("telemetry"), readings=[WaterReading(asset=a, status="fault", flow=0.0) for a in victims]),
           Heartbeat(**f.env("heartbeat"), assets=len(victims)))
    return [f"{supervisor}/{e.id}" for e in events]
