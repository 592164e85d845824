"""The read API under load: 50 clients against the shipped app while the simulators run, and acknowledgements meanwhile.

The control room comes from the app factory (`app.create_app`, as `make run` builds it) with the three simulated
supervisors at 60x (VIGIE_RUN_SIMULATORS=1, VIGIE_SIM_SPEED=60), a temporary state folder, anonymous viewers, and is
served by Werkzeug's threaded server in this process (as tests/factory.py serves it). The demo's day-archive backfill
is switched off: it is a one-off few minutes of one core at a first start that would be measured as load.

1. quiet: no client for `--idle` seconds; the engine's supervisor ages are sampled every 100 ms.
2. loaded: `--clients` clients (asyncio, keep-alive, in a child process so their CPU is not this process's) ask in
   turn for `/api/v1/assets?domain=lighting&limit=100`, `/api/v1/alarms` and `/api/v1/kpis` for `--seconds` seconds,
   while an operator (signed in through the form, in the same child) acknowledges an alarm every 200 ms.
Prints p50/p95 per endpoint, requests/s, CPU seconds of this process (server, engine, simulators), the supervisor
age p95 loaded vs quiet (read from the core without its lock: now - when the last message the engine applied from
that supervisor was received; a backlog in the engine makes it grow), the CPU a request costs above the quiet
process, and the acknowledgement's p95: the whole HTTP round trip, and the time the request spent reaching and
waiting for the engine (`AlarmActions.domains` + `.apply` inside `perform()`).
Targets: 100-item page p95 < 300 ms, age ratio <= 1.5, acknowledgement reaching the engine p95 < 50 ms.
Usage: .venv/bin/python benchmarks/api_load.py [--clients 50] [--seconds 30] [--idle 15] [--speed 60]
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PATHS = ("/api/v1/assets?domain=lighting&limit=100", "/api/v1/alarms", "/api/v1/kpis")
OPERATOR, PASSWORD = "bench-operator", "bench-operator-password-1"


def pct(xs: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of xs, NaN when empty."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# --- the clients (child process) ---------------------------------------------------------------


async def _get(host: str, port: int, conn: list, path: str) -> int:
    """One GET over a kept-alive connection (opened when needed); returns the status."""
    if conn[0] is None:
        conn[0] = await asyncio.open_connection(host, port)
    reader, writer = conn[0]
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n".encode())
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    length, close = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    await reader.readexactly(length)
    if close:
        writer.close()
        conn[0] = None
    return status


async def _client(i: int, host: str, port: int, stop_at: float, out: dict[str, list[float]], errors: list[str]) -> None:
    conn: list = [None]
    k = i
    while time.monotonic() < stop_at:
        path = PATHS[k % len(PATHS)]
        k += 1
        t = time.perf_counter()
        try:
            status = await _get(host, port, conn, path)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as err:
            errors.append(f"{path}: {type(err).__name__} {err}")
            conn[0] = None
            await asyncio.sleep(0.05)
            continue
        if status != 200:
            errors.append(f"{path}: HTTP {status}")
        out[path].append(time.perf_counter() - t)
    if conn[0] is not None:
        conn[0][1].close()


def _acknowledger(url: str, stop_at: float, out: list[float], errors: list[str]) -> None:
    """Sign in as the operator, then acknowledge an alarm every 200 ms (an unacknowledged one when there is one)."""
    import re

    import requests

    s = requests.Session()
    page = s.get(f"{url}/auth/signin", timeout=60)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = s.post(f"{url}/auth/signin", data={"csrf_token": token, "name": OPERATOR, "password": PASSWORD},
                  allow_redirects=False, timeout=60)
    if done.status_code not in (302, 303):
        errors.append(f"sign-in refused: {done.status_code}")
        return
    s.headers["X-CSRFToken"] = s.cookies.get("_csrf_token")
    ids: list[str] = []
    while time.monotonic() < stop_at:
        if not ids:
            items = s.get(f"{url}/api/v1/alarms", timeout=60).json()["items"]
            ids = [a["id"] for a in items if not a["acknowledged"]] or [a["id"] for a in items[:20]]
            if not ids:
                time.sleep(0.2)
                continue
        aid = ids.pop(0)
        t = time.perf_counter()
        r = s.post(f"{url}/api/v1/alarms/{aid}/ack", json={}, timeout=60)
        out.append(time.perf_counter() - t)
        if r.status_code not in (200, 409, 404):
            errors.append(f"ack: HTTP {r.status_code}")
        time.sleep(0.2)


def clients(url: str, n: int, seconds: float, results: mp.Queue) -> None:
    """The child process: n API clients and one acknowledging operator for `seconds`; puts what it measured."""
    host, port = url.removeprefix("http://").split(":")
    stop_at = time.monotonic() + seconds
    lat: dict[str, list[float]] = {p: [] for p in PATHS}
    acks: list[float] = []
    errors: list[str] = []
    ack_thread = threading.Thread(target=_acknowledger, args=(url, stop_at, acks, errors), daemon=True)
    ack_thread.start()
    t0 = time.monotonic()

    async def run() -> None:
        await asyncio.gather(*(_client(i, host, int(port), stop_at, lat, errors) for i in range(n)))

    asyncio.run(run())
    wall = time.monotonic() - t0
    ack_thread.join(60)
    results.put({"latencies": lat, "acks": acks, "errors": errors[:20], "error_count": len(errors), "wall": wall})


# --- the server (this process) -------------------------------------------------------------------


class AgeSampler:
    """Samples every supervisor's age as the engine sees it (now - last message applied), without its lock."""

    def __init__(self, core, clock, every_s: float = 0.1) -> None:
        self.core, self.clock, self.every_s = core, clock, every_s  # the engine's clock: the territory's, when simulated
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-ages", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            now = self.clock()
            self.samples.extend(max(0.0, now - h.last_seen) for h in list(self.core.health.all()))

    def measure(self, seconds: float) -> list[float]:
        self.samples = []
        if not self._thread.is_alive():
            self._thread.start()
        time.sleep(seconds)
        return list(self.samples)

    def stop(self) -> None:
        self._stop.set()


class EngineWait:
    """Times what `perform()` spends reaching the engine (AlarmActions.domains + .apply), per acknowledgement."""

    def __init__(self, server) -> None:
        import services.web.alarms as web_alarms

        self.samples: list[float] = []
        self._local = threading.local()
        actions = server.extensions["vigie.alarms"].actions
        for name in ("domains", "apply"):
            setattr(actions, name, self._timed(getattr(actions, name)))
        perform = web_alarms.perform

        def timed_perform(*args, **kwargs):
            self._local.t = 0.0
            try:
                return perform(*args, **kwargs)
            finally:
                self.samples.append(self._local.t)

        web_alarms.perform = timed_perform

    def _timed(self, fn):
        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._local.t = getattr(self._local, "t", 0.0) + time.perf_counter() - t
        return timed


def serve(room) -> tuple[str, object]:
    from werkzeug.serving import make_server

    from services.redis_launcher import free_port

    port = free_port()
    http = make_server("127.0.0.1", port, room, threaded=True)
    threading.Thread(target=http.serve_forever, name="bench-http", daemon=True).start()
    return f"http://127.0.0.1:{port}", http


def wait_for(what: str, cond, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--idle", type=float, default=15.0)
    ap.add_argument("--speed", type=float, default=60.0)
    args = ap.parse_args()

    import logging

    logging.basicConfig(level=logging.WARNING)
    import services.history.backfill as backfill
    from app import create_app
    from services.settings import Settings

    backfill.start_backfill = lambda *a, **k: None  # a first start's one-off demo history: not the load measured here
    state = Path(tempfile.mkdtemp(prefix="vigie-api-load-"))
    env = {"VIGIE_RUN_SIMULATORS": "1", "VIGIE_SIM_SPEED": f"{args.speed:g}", "VIGIE_STATE_DIR": str(state)}
    settings = Settings.from_env(env, anonymous_role="viewer", argon2_time_cost=1, argon2_memory_kib=8, secret_key="bench",
                                 access_log=False)
    t0 = time.monotonic()
    room = create_app(settings, wait=False)
    if not room.ready:
        raise SystemExit(f"the control room did not start: {room.reason}")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access line per request
    url, http = serve(room)
    runtime = room.server.extensions["vigie.runtime"]
    engine, reader = runtime.engine, runtime.reader
    room.server.extensions["vigie.security"].store.create_user(OPERATOR, "operator", "all", PASSWORD, now=time.time())
    wait_for("the three territories", lambda: reader.assets(limit=1)[0] >= 38_000, 300)
    wait_for("every supervisor live", lambda: (s := reader.supervisors()) and all(x["status"] == "live" for x in s), 120)
    print(f"control room up in {time.monotonic() - t0:.0f} s: {reader.assets(limit=1)[0]} assets, "
          f"{len(reader.alarms())} active alarms, simulators at {args.speed:g}x; {args.clients} clients, {args.seconds:g} s")
    time.sleep(5.0)  # the first ticks after loading

    ages = AgeSampler(engine.core, engine.clock)
    c0 = cpu_s()
    quiet = ages.measure(args.idle)
    quiet_cpu = (cpu_s() - c0) / args.idle

    waits = EngineWait(room.server)
    results: mp.Queue = mp.get_context("spawn").Queue()
    child = mp.get_context("spawn").Process(target=clients, args=(url, args.clients, args.seconds, results))
    child.start()
    time.sleep(1.0)  # the child's interpreter starts
    c0, w0 = cpu_s(), time.monotonic()
    loaded = ages.measure(args.seconds)
    got = results.get(timeout=args.seconds + 120)
    loaded_cpu, wall = cpu_s() - c0, time.monotonic() - w0
    child.join(30)
    ages.stop()

    lat = got["latencies"]
    total = sum(len(v) for v in lat.values())
    print()
    print("| endpoint | requests | p50 ms | p95 ms |")
    print("| --- | --- | --- | --- |")
    for path in PATHS:
        xs = lat[path]
        print(f"| `{path}` | {len(xs)} | {pct(xs, 50) * 1e3:.0f} | {pct(xs, 95) * 1e3:.0f} |")
    print()
    print(f"requests/s: {total / got['wall']:.0f} ({total} in {got['wall']:.1f} s), errors: {got['error_count']}"
          + (f" e.g. {got['errors'][:3]}" if got["errors"] else ""))
    per_request = (loaded_cpu - quiet_cpu * wall) / max(1, total)
    print(f"CPU of this process: {loaded_cpu:.1f} s over {wall:.1f} s loaded ({loaded_cpu / wall:.2f} cores); "
          f"quiet {quiet_cpu:.2f} cores; {per_request * 1e3:.1f} ms a request above quiet")
    q95, l95 = pct(quiet, 95), pct(loaded, 95)
    print(f"supervisor age p95: quiet {q95:.2f} s, loaded {l95:.2f} s, ratio {l95 / max(q95, 1e-3):.2f} (target <= 1.5); "
          f"max loaded {max(loaded, default=float('nan')):.1f} s")
    acks = got["acks"]
    print(f"acknowledgements: {len(acks)}, HTTP round trip p50 {pct(acks, 50) * 1e3:.0f} ms p95 {pct(acks, 95) * 1e3:.0f} ms; "
          f"reaching the engine p50 {pct(waits.samples, 50) * 1e3:.1f} ms p95 {pct(waits.samples, 95) * 1e3:.1f} ms (target < 50)")
    page95 = pct(lat[PATHS[0]], 95)
    print(f"100-item page p95 {page95 * 1e3:.0f} ms (target < 300 ms)")
    http.shutdown()
    http.server_close()
    room.stop()


if __name__ == "__main__":
    main()
