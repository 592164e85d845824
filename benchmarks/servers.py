"""Production-server candidates side by side: gunicorn gthread vs gunicorn gevent, each serving the real `python app.py`.

For each candidate, in the same invocation: `python app.py` as a subprocess (its own temporary state folder and
private Redis, a free port, no simulators, anonymous viewer access), lighting messages of the feed contract published
here on that Redis, N headless Chromium tabs on `/`, then three phases:

1. push: a background supervisor changes 200 lamps' power and one lamp's state every 100 ms (a lighting and an alarm
   delta every coalescing window, to every tab) while a probe lamp toggles between ok and defectiveLamp; latency from
   PUBLISH to the DOM of every toggle in every tab (a toggle not shown within --deadline counts as a failure),
   Socket.IO pushes delivered to the tabs (and over which transport), CPU seconds of the server's processes (gunicorn
   master + worker) per push delivered, the worker's RSS;
2. HTTP: --http-clients keep-alive clients on /api/v1/summary for --http-seconds: requests/s, p50/p95, CPU per request;
3. ingest burst: --burst one-reading telemetry messages published at once; how long the engine takes to count them
   all (vigie_messages_total), and /healthz latency meanwhile (does the engine starve the web server?).

Prints one table with the ratio gevent/gthread of every figure. CPU is read from /proc (utime + stime), beside wall
time: on a shared machine the CPU figures are the steadier ones. VIGIE_BENCH_KEEP=1 keeps each server's state folder
and log. gevent needs the `gevent` extra: .venv/bin/pip install -e '.[gevent]'. Figures: docs/deploy.md.
Usage: .venv/bin/python benchmarks/servers.py [--tabs 4] [--changes 40] [--http-clients 20] [--only gthread,gevent]
"""
from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from services.contract import LightingReading, Point, State, Telemetry, encode, sup_channel  # noqa: E402
from services.contract.messages import AssetDef  # noqa: E402
from tests.browser.chrome import chromium  # noqa: E402

CANDIDATES = ("gthread", "gevent")
PROBE = (3.9400, 43.5400)  # an empty spot south-east of the city: the probe lamps cluster alone at zoom 16
BACKGROUND = (3.8200, 43.6400)  # the background supervisor's lamps, out of the probe's view
TICK = os.sysconf("SC_CLK_TCK")
# Counts the Socket.IO event packets ("42...") each tab receives, over WebSocket or HTTP long-polling.
COUNT_PUSHES_JS = r"""
window.__push = {wsOpened: 0, wsFrames: 0, pollFrames: 0};
(function () {
  var WS = window.WebSocket;
  function Counted(url, protocols) {
    var s = protocols === undefined ? new WS(url) : new WS(url, protocols);
    if (String(url).indexOf('/socket.io/') >= 0) {
      s.addEventListener('open', function () { __push.wsOpened += 1; });
      s.addEventListener('message', function (e) {
        if (typeof e.data === 'string' && e.data.lastIndexOf('42', 0) === 0) __push.wsFrames += 1;
      });
    }
    return s;
  }
  Counted.prototype = WS.prototype;
  ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].forEach(function (k) { Counted[k] = WS[k]; });
  window.WebSocket = Counted;
  var open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url) {
    if (method === 'GET' && String(url).indexOf('/socket.io/') >= 0) {
      this.addEventListener('load', function () {
        (this.responseText || '').split('\x1e').forEach(function (p) { if (p.lastIndexOf('42', 0) === 0) __push.pollFrames += 1; });
      });
    }
    return open.apply(this, arguments);
  };
})();
"""
# Records the time of every change of the probe's lamp clusters (class and fault count), as the DOM changes.
WATCH_JS = """
window.__changes = [];
window.__sig = null;
function vigieProbeSig() {
  return Array.prototype.map.call(document.querySelectorAll('.vc'),
    function (e) { return e.className + '/' + e.getAttribute('data-faults'); }).join('|');
}
new MutationObserver(function () {
  var s = vigieProbeSig();
  if (s !== window.__sig) { window.__sig = s; window.__changes.push([performance.timeOrigin + performance.now(), s]); }
}).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['class', 'data-faults']});
window.__sig = vigieProbeSig();
"""
SHOWN_JS = """
var since = arguments[0], want = arguments[1];
for (var i = 0; i < window.__changes.length; i++) {
  var c = window.__changes[i];
  if (c[0] >= since && c[1].indexOf(want) >= 0) return c[0];
}
return null;
"""


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    """Resident set size of one process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


class Server:
    """`python app.py` with one worker class, in its own state folder, on a free port."""

    def __init__(self, worker: str, threads: int) -> None:
        self.worker = worker
        self.state = Path(tempfile.mkdtemp(prefix=f"vigie-bench-{worker}-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PORT": str(self.port), "VIGIE_HOST": "127.0.0.1", "VIGIE_STATE_DIR": str(self.state),
               "VIGIE_RUN_SIMULATORS": "0", "VIGIE_SERVER_WORKER": worker, "VIGIE_WEB_THREADS": str(threads),
               "VIGIE_ANONYMOUS_ROLE": "viewer", "VIGIE_ACCESS_LOG": "0"}
        env.pop("REDIS_URL", None)
        if os.environ.get("VIGIE_BENCH_KEEP"):
            print(f"    state folder and log kept: {self.state}")
        self.log = self.state / "server.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.worker_pid = 0
        self.redis_url = ""

    def wait_ready(self, timeout: float = 90.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.worker}: app.py exited ({self.proc.returncode}); see {self.log}")
            try:
                status, body, _ = get(self.url, "/healthz", timeout=2)
                if status == 200 and json.loads(body).get("engine") == "running":
                    break
            except OSError:
                pass
            time.sleep(0.3)
        else:
            raise TimeoutError(f"{self.worker}: not ready in {timeout:.0f} s; see {self.log}")
        self.redis_url = json.loads((self.state / "redis" / "redis.json").read_text())["url"]
        workers = [p for p in children(self.proc.pid) if b"app.py" in Path(f"/proc/{p}/cmdline").read_bytes()]
        self.worker_pid = workers[0]

    def cpu(self) -> float:
        """CPU seconds of the gunicorn master and its worker (the private redis-server is left out)."""
        return cpu_seconds(self.proc.pid) + cpu_seconds(self.worker_pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                for pid in (self.worker_pid, self.proc.pid):
                    if pid:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                self.proc.wait(10)
        if not os.environ.get("VIGIE_BENCH_KEEP"):
            shutil.rmtree(self.state, ignore_errors=True)


def get(base: str, path: str, timeout: float = 5.0) -> tuple[int, bytes, float]:
    """One GET on a new connection: status, body, seconds."""
    host, port = base.split("//")[1].split(":")
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read(), time.perf_counter() - t0
    finally:
        conn.close()


class Feed:
    """Publishes lighting messages of the contract on the server's Redis, as a supervisor would."""

    def __init__(self, redis_url: str) -> None:
        self.redis = redis.Redis.from_url(redis_url)
        self.seqs: dict[str, int] = {}

    def env(self, kind: str, supervisor: str) -> dict:
        self.seqs[supervisor] = self.seqs.get(supervisor, 0) + 1
        return {"v": 1, "kind": kind, "domain": "lighting", "supervisor": supervisor,
                "ts": datetime.now(timezone.utc), "seq": self.seqs[supervisor]}

    def publish(self, msg) -> None:
        self.redis.publish(sup_channel(msg.domain, msg.supervisor, msg.kind), encode(msg))


def lamps(prefix: str, n: int, at: tuple[float, float], step: float) -> list[AssetDef]:
    return [AssetDef(id=f"{prefix}-{i}", type="Streetlight", name=f"{prefix} {i}",
                     geometry=Point(coordinates=(round(at[0] + (i % 20) * step, 6), round(at[1] + (i // 20) * step, 6))))
            for i in range(n)]


def load_lamps(server: Server, feed: Feed, probes: list[AssetDef], background: list[AssetDef]) -> None:
    """Publish both supervisors' state until the engine holds every lamp (pub/sub keeps nothing)."""
    want = len(probes) + len(background)
    for _ in range(5):
        for sup, assets in (("probe", probes), ("bench-bg", background)):
            feed.publish(State[LightingReading](**feed.env("state", sup), snapshot=f"s{feed.seqs.get(sup, 0)}", assets=assets,
                                                readings=[LightingReading(asset=a.id, status="ok", powerState="on")
                                                          for a in assets]))
        end = time.monotonic() + 5
        while time.monotonic() < end:
            _, body, _ = get(server.url, "/api/v1/assets?domain=lighting&limit=1")
            if json.loads(body).get("total", 0) >= want:
                return
            time.sleep(0.2)
    raise TimeoutError("the engine did not take the lamps")


def background_traffic(feed: Feed, background: list[AssetDef], stop: threading.Event, every_s: float = 0.1) -> None:
    """Every `every_s`: new power readings of the 200 lamps (KPIs) and one lamp failing or repaired (a lighting
    and an alarm delta in every coalescing window)."""
    rng = random.Random(7)
    failed: set[str] = set()
    next_at, k = time.monotonic(), 0
    while not stop.is_set():
        flip = background[k % len(background)].id
        k += 1
        failed.symmetric_difference_update({flip})
        feed.publish(Telemetry[LightingReading](**feed.env("telemetry", "bench-bg"), readings=[
            LightingReading(asset=a.id, powerConsumption=round(rng.uniform(40, 120), 1),
                            **({"status": "defectiveLamp" if a.id in failed else "ok"} if a.id == flip else {}))
            for a in background]))
        next_at += every_s
        stop.wait(max(0.0, next_at - time.monotonic()))


def open_tabs(server: Server, n: int) -> list:
    """N headless Chromium tabs on `/`, zoomed on the probe lamps, watching their clusters."""
    tabs = []
    for _ in range(n):
        d = chromium(1366, 768)
        tabs.append(d)
        d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": COUNT_PUSHES_JS})
        d.get(server.url + "/")
    for d in tabs:
        end = time.monotonic() + 60
        while not d.execute_script("return !!(window.vigie && vigie.live && vigie.live.ready && vigie.map && vigie.map.leaflet)"):
            if time.monotonic() > end:
                raise TimeoutError(f"{server.worker}: the overview did not load its live state")
            time.sleep(0.2)
        d.execute_script(f"vigie.map.leaflet.setView([{PROBE[1]}, {PROBE[0]}], 16, {{animate: false}})")
    time.sleep(2)
    for d in tabs:
        d.execute_script(WATCH_JS)
    return tabs


def pushes(tabs: list) -> tuple[int, int, int]:
    """Socket.IO event packets received by all tabs so far: (over WebSocket, over polling, WebSockets opened)."""
    counts = [d.execute_script("return window.__push") for d in tabs]
    return sum(c["wsFrames"] for c in counts), sum(c["pollFrames"] for c in counts), sum(c["wsOpened"] for c in counts)


def push_phase(server: Server, feed: Feed, tabs: list, changes: int, deadline: float) -> dict:
    """Toggle the probe lamp `changes` times; publish-to-DOM latency in every tab, CPU per push delivered."""
    rng = random.Random(11)
    lat: list[float] = []
    failures = 0
    status = "ok"
    ws0, poll0, _ = pushes(tabs)
    cpu0, t0 = server.cpu(), time.monotonic()
    for _ in range(changes):
        status = "defectiveLamp" if status == "ok" else "ok"
        want = "vc-w4" if status != "ok" else "vc-w0"
        sent = time.time()
        feed.publish(Telemetry[LightingReading](**feed.env("telemetry", "probe"),
                                                readings=[LightingReading(asset="probe-0", status=status)]))
        seen: dict[int, float] = {}
        end = time.monotonic() + deadline
        time.sleep(0.2)  # few looks: the browsers and this script share the machine with the server
        while len(seen) < len(tabs) and time.monotonic() < end:
            for i, d in enumerate(tabs):
                if i not in seen:
                    shown = d.execute_script(SHOWN_JS, 1000 * sent - 5, want)  # the previous change is long past
                    if shown is not None:
                        seen[i] = shown / 1000
            time.sleep(0.1)
        lat += [t - sent for t in seen.values()]
        failures += len(tabs) - len(seen)
        time.sleep(rng.uniform(0.05, 0.35))  # changes land anywhere in the coalescing window
    cpu, wall = server.cpu() - cpu0, time.monotonic() - t0
    ws1, poll1, opened = pushes(tabs)
    delivered = (ws1 - ws0) + (poll1 - poll0)
    return {"changes": changes * len(tabs), "failures": failures, "p50_ms": 1000 * pct(lat, 50),
            "p95_ms": 1000 * pct(lat, 95), "max_ms": 1000 * max(lat, default=float("nan")), "delivered": delivered,
            "over_ws": ws1 - ws0, "ws_opened": opened, "cpu_s": cpu, "wall_s": wall, "cpu_pct": 100 * cpu / wall,
            "cpu_ms_per_push": 1000 * cpu / delivered if delivered else float("nan"), "rss_mb": rss_mb(server.worker_pid)}


def http_phase(server: Server, clients: int, seconds: float, path: str = "/api/v1/summary") -> dict:
    """`clients` keep-alive clients, each GETting `path` in a loop for `seconds`."""
    host, port = "127.0.0.1", server.port
    lat: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    first_error: list[str] = []
    start = threading.Barrier(clients + 1)
    end_at = [0.0]

    def client(k: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        start.wait()
        while time.monotonic() < end_at[0]:
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    errors[k] += 1
                    first_error.append(f"HTTP {resp.status}")
                    continue
                lat[k].append(time.perf_counter() - t0)
                if resp.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=10)
            except (OSError, http.client.HTTPException) as err:
                errors[k] += 1
                first_error.append(repr(err))
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.close()

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    cpu0, t0 = server.cpu(), time.monotonic()
    end_at[0] = t0 + seconds
    start.wait()
    for t in threads:
        t.join(seconds + 30)
    wall, cpu = time.monotonic() - t0, server.cpu() - cpu0
    flat = [x for per in lat for x in per]
    if first_error:
        print(f"    http: {sum(errors)} errors, the first: {first_error[0]}")
    return {"requests": len(flat), "errors": sum(errors), "rps": len(flat) / wall, "p50_ms": 1000 * pct(flat, 50),
            "p95_ms": 1000 * pct(flat, 95), "cpu_ms_per_req": 1000 * cpu / max(1, len(flat)), "rss_mb": rss_mb(server.worker_pid)}


def messages_counted(server: Server) -> float:
    """vigie_messages_total summed over its labels (what the engine has taken from the bus)."""
    _, body, _ = get(server.url, "/metrics", timeout=30)
    return sum(float(m.group(1)) for m in re.finditer(rb"^vigie_messages_total\{[^}]*\} (\S+)$", body, re.M))


def burst_phase(server: Server, feed: Feed, probes: list[AssetDef], n: int) -> dict:
    """Publish `n` one-reading messages at once; time until the engine counted them; /healthz latency meanwhile."""
    rng = random.Random(3)
    channel = sup_channel("lighting", "probe", "telemetry")
    payloads = [encode(Telemetry[LightingReading](**feed.env("telemetry", "probe"), readings=[
        LightingReading(asset=probes[1 + i % (len(probes) - 1)].id, powerConsumption=round(rng.uniform(40, 120), 1))]))
        for i in range(n)]
    base = messages_counted(server)
    lat: list[float] = []
    stop = threading.Event()

    def probe_health() -> None:  # one keep-alive client asking every 10 ms
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                conn.request("GET", "/healthz")
                conn.getresponse().read()
            except (OSError, http.client.HTTPException):
                conn.close()
            lat.append(time.perf_counter() - t0)
            time.sleep(0.01)
        conn.close()

    t = threading.Thread(target=probe_health, daemon=True)
    t.start()
    time.sleep(0.2)
    cpu0, t0 = server.cpu(), time.monotonic()
    pipe = feed.redis.pipeline(transaction=False)
    for i, payload in enumerate(payloads):
        pipe.publish(channel, payload)
        if i % 2000 == 1999:
            pipe.execute()
    pipe.execute()
    published = time.monotonic() - t0
    drained = float("nan")
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if messages_counted(server) >= base + n:
            drained = time.monotonic() - t0
            break
        time.sleep(0.05)
    stop.set()
    t.join(35)
    return {"messages": n, "publish_s": published, "drain_s": drained, "cpu_s": server.cpu() - cpu0,
            "health_n": len(lat), "health_p50_ms": 1000 * pct(lat, 50), "health_max_ms": 1000 * max(lat, default=float("nan"))}


def run(worker: str, args: argparse.Namespace) -> dict:
    print(f"--- {worker}: starting python app.py", flush=True)
    server = Server(worker, args.threads)
    tabs: list = []
    stop = threading.Event()
    try:
        t_start = time.monotonic()
        server.wait_ready()
        boot_s = time.monotonic() - t_start
        feed = Feed(server.redis_url)
        probes = lamps("probe", 5, PROBE, 2e-5)
        background = lamps("bg", 200, BACKGROUND, 4e-4)
        load_lamps(server, feed, probes, background)
        bg = threading.Thread(target=background_traffic, args=(Feed(server.redis_url), background, stop), daemon=True)
        bg.start()
        tabs = open_tabs(server, args.tabs)
        print(f"    ready in {boot_s:.1f} s; {len(tabs)} tabs live; push phase", flush=True)
        push = push_phase(server, feed, tabs, args.changes, args.deadline)
        print(f"    http phase ({args.http_clients} clients, {args.http_seconds:g} s)", flush=True)
        http_ = http_phase(server, args.http_clients, args.http_seconds)
        stop.set()
        bg.join(5)
        print(f"    ingest burst ({args.burst} messages)", flush=True)
        burst = burst_phase(server, Feed(server.redis_url), probes, args.burst)
        return {"boot_s": boot_s, "push": push, "http": http_, "burst": burst,
                "rss_mb": max(push["rss_mb"], http_["rss_mb"], rss_mb(server.worker_pid))}
    finally:
        stop.set()
        for d in tabs:
            try:
                d.quit()
            except Exception:  # noqa: BLE001 - best effort at teardown
                pass
        lines = server.log.read_text(errors="replace").splitlines() if server.log.exists() else []
        errors = [line for line in lines if " ERROR " in line or line.startswith(("Traceback", "RuntimeError"))]
        if errors:
            print(f"    {len(errors)} error lines in the server log, e.g.: {errors[0][:200]}")
        server.stop()


ROWS = [  # (label, path into the results, format, lower is better)
    ("boot to ready (s)", ("boot_s",), "{:.1f}"),
    ("push: phase (s)", ("push", "wall_s"), "{:.0f}"),
    ("push: changes x tabs", ("push", "changes"), "{:.0f}"),
    ("push: not seen within deadline", ("push", "failures"), "{:.0f}"),
    ("push: publish->DOM p50 (ms)", ("push", "p50_ms"), "{:.0f}"),
    ("push: publish->DOM p95 (ms)", ("push", "p95_ms"), "{:.0f}"),
    ("push: publish->DOM max (ms)", ("push", "max_ms"), "{:.0f}"),
    ("push: pushes delivered", ("push", "delivered"), "{:.0f}"),
    ("push: of which over WebSocket", ("push", "over_ws"), "{:.0f}"),
    ("push: server CPU (s)", ("push", "cpu_s"), "{:.2f}"),
    ("push: server CPU, % of one core", ("push", "cpu_pct"), "{:.0f}"),
    ("push: server CPU per push (ms)", ("push", "cpu_ms_per_push"), "{:.2f}"),
    ("worker RSS, max (MB)", ("rss_mb",), "{:.0f}"),
    ("http: requests/s", ("http", "rps"), "{:.0f}"),
    ("http: p50 (ms)", ("http", "p50_ms"), "{:.1f}"),
    ("http: p95 (ms)", ("http", "p95_ms"), "{:.1f}"),
    ("http: errors", ("http", "errors"), "{:.0f}"),
    ("http: server CPU per request (ms)", ("http", "cpu_ms_per_req"), "{:.2f}"),
    ("burst: engine drained (s)", ("burst", "drain_s"), "{:.2f}"),
    ("burst: server CPU (s)", ("burst", "cpu_s"), "{:.2f}"),
    ("burst: /healthz answers meanwhile", ("burst", "health_n"), "{:.0f}"),
    ("burst: /healthz p50 meanwhile (ms)", ("burst", "health_p50_ms"), "{:.0f}"),
    ("burst: /healthz max meanwhile (ms)", ("burst", "health_max_ms"), "{:.0f}"),
]


def value(result: dict, path: tuple[str, ...]) -> float:
    for key in path:
        result = result[key]
    return float(result)


def print_table(results: dict[str, dict]) -> None:
    names = list(results)
    ratio = len(names) == 2
    head = ["figure", *names] + (["gevent/gthread"] if ratio else [])
    print("\n| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for label, path, fmt in ROWS:
        cells = [fmt.format(value(results[n], path)) for n in names]
        if ratio:
            a, b = value(results["gthread"], path), value(results["gevent"], path)
            cells.append("-" if not a or math.isnan(a) or math.isnan(b) else f"{b / a:.2f}")
        print(f"| {label} | " + " | ".join(cells) + " |")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", default=",".join(CANDIDATES), help="comma-separated: gthread, gevent")
    p.add_argument("--tabs", type=int, default=4)
    p.add_argument("--changes", type=int, default=40, help="probe lamp toggles in the push phase")
    p.add_argument("--deadline", type=float, default=3.0, help="seconds for a change to show in a tab")
    p.add_argument("--http-clients", type=int, default=20)
    p.add_argument("--http-seconds", type=float, default=8.0)
    p.add_argument("--burst", type=int, default=20_000)
    p.add_argument("--threads", type=int, default=100, help="VIGIE_WEB_THREADS for gthread")
    args = p.parse_args()
    load = os.getloadavg()
    print(f"{os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; Python {sys.version.split()[0]}; "
          f"{args.tabs} tabs, {args.changes} changes, deadline {args.deadline:g} s; {args.http_clients} HTTP clients x "
          f"{args.http_seconds:g} s; burst {args.burst}")
    results = {}
    for worker in [w.strip() for w in args.only.split(",") if w.strip()]:
        if worker == "gevent" and not all(importlib.util.find_spec(m) for m in ("gevent", "geventwebsocket")):
            print("--- gevent: skipped, not installed (.venv/bin/pip install -e '.[gevent]')")
            continue
        t0, c0 = time.monotonic(), os.times()
        results[worker] = run(worker, args)
        c1 = os.times()
        print(f"    {worker} run: {time.monotonic() - t0:.0f} s wall; this script's own CPU "
              f"{c1.user - c0.user + c1.system - c0.system:.1f} s", flush=True)
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
