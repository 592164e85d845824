"""Push figures of the control room, measured in headless Chromium on the full stack.

1. first paint of the overview with the real ~30,000 lamps (target < 3 s);
2. PUBLISH-to-DOM latency p50/p95 over N lamp changes while the three simulators run at full rate
   in their own processes (target p95 < 300 ms, coalescing window included), and the bytes pushed
   per second to one browser;
3. first paint with a synthetic 100,000-lamp territory (target < 4 s), then the time for a status
   change of 1,000 of those lamps to show (target < 300 ms), the three simulators running meanwhile.

Every change counts: one not shown within UNSEEN_S is a failure, reported as such and counted in the
percentiles as never shown (an infinite latency), not left out.

First paint = from navigation start to lamp clusters drawn with their live state (snapshot applied).
Usage: .venv/bin/python benchmarks/push_latency.py [--changes 200] [--speed 60] [--quick]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.contract import LightingReading, Point, State, Telemetry
from services.contract.messages import AssetDef
from services.settings import Settings
from services.simulators import build
from tests.browser.chrome import chromium
from tests.browser.harness import Stack, start_stack

UNSEEN_S = 10.0  # a change not shown after this long is a failure
PROBE = (3.9400, 43.5400)  # an empty spot south-east of the city: the probe lamps cluster alone
FIRST_PAINT_JS = """
window.__vigieFirstPaint = null;
(function watch() {
  var ok = window.vigie && vigie.live && vigie.live.ready && document.querySelector('.vc');
  if (ok) { window.__vigieFirstPaint = performance.now(); return; }
  requestAnimationFrame(watch);
})();
"""
WATCH_JS = """
window.__changes = [];
window.__watchSig = null;
(function watch() {
  var el = document.querySelectorAll('.vc');
  var s = Array.prototype.map.call(el, function (e) { return e.className + '/' + e.getAttribute('data-faults'); }).join('|');
  if (s !== window.__watchSig) { window.__watchSig = s; window.__changes.push([performance.timeOrigin + performance.now(), s]); }
  requestAnimationFrame(watch);
})();
"""


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def publish_all(stack: Stack, out: list[tuple[str, bytes]]) -> None:
    pipe = stack.redis.pipeline(transaction=False)
    for channel, payload in out:
        pipe.publish(channel, payload)
    pipe.execute()


def first_paint(url: str, runs: int = 3) -> list[float]:
    """Navigation start to clusters drawn with live state, in seconds, for fresh browsers.

    One load first, not counted (as any earlier visitor would have): this measures a page load,
    not the server building its caches after a supervisor's full state.
    """
    import urllib.request

    base = url.split("/", 3)
    urllib.request.urlopen(f"{base[0]}//{base[2]}/vigie/geo/lighting?format=columns", timeout=60).read()
    out = []
    for run in range(runs + 1):  # the first load warms the server (its caches, the engine's lock) and is not counted
        d = chromium(1366, 768)
        try:
            d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FIRST_PAINT_JS})
            d.get(url)
            end = time.monotonic() + 30
            while time.monotonic() < end:
                t = d.execute_script("return window.__vigieFirstPaint")
                if t is not None:
                    if run:
                        out.append(t / 1000)
                    break
                time.sleep(0.05)
        finally:
            d.quit()
    return out


def print_profile(p: dict, top: int = 30) -> None:
    """Self and inclusive time per function of a CDP CPU profile (diagnostics)."""
    import collections

    nodes = {n["id"]: n for n in p["nodes"]}
    parent = {c: n["id"] for n in p["nodes"] for c in n.get("children", [])}
    incl, own = collections.Counter(), collections.Counter()
    for sid, delta in zip(p["samples"], p["timeDeltas"]):
        x, seen, first = sid, set(), True
        while x is not None:
            cf = nodes[x]["callFrame"]
            key = f"{cf['functionName'] or '(anon)'} {cf['url'].split('/')[-1][:24]}:{cf['lineNumber']}:{cf['columnNumber']}"
            if first:
                own[key] += delta
                first = False
            if key not in seen:
                incl[key] += delta
                seen.add(key)
            x = parent.get(x)
    for title, counter in (("self", own), ("inclusive", incl)):
        print(f"--- {title}")
        for k, v in counter.most_common(top):
            print(f"{v / 1000:8.0f} ms  {k}")


def probe_lamps(n: int = 5) -> list[AssetDef]:
    return [AssetDef(id=f"probe-{i}", type="Streetlight", name=f"Sonde {i}",
                     geometry=Point(coordinates=(PROBE[0] + i * 2e-5, PROBE[1]))) for i in range(n)]


def simulators(stack: Stack, speed: float) -> list[subprocess.Popen]:
    """The three simulated supervisors in their own processes, on the stack's Redis."""
    env = {"REDIS_URL": stack.redis_url, "PYTHONPATH": str(ROOT), **{k: v for k, v in os.environ.items() if k != "REDIS_URL"}}
    return [subprocess.Popen([sys.executable, "-m", "services.simulators", d, "--speed", str(speed)], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for d in ("lighting", "water", "traffic")]


def stop_all(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(10)


def latency(stack: Stack, changes: int, speed: float) -> dict:
    """Probe lamp changes published among the simulators' traffic; PUBLISH to DOM, per change."""
    sims = simulators(stack, speed)
    d = chromium(1366, 768)
    try:
        stack.publish(State[LightingReading](**stack.env("state", "lighting", "probe"), snapshot="p1", assets=probe_lamps(),
                                             readings=[LightingReading(asset=a.id, status="ok") for a in probe_lamps()]))
        stack.wait_for(lambda: stack.reader.asset("probe-0") is not None, 30, "probe lamps")
        stack.wait_for(lambda: len(stack.reader.assets_geo("lighting")) > 29000, 90, "simulated lamps")
        time.sleep(3)
        d.get(stack.url + "/lighting")
        stack.wait_for(lambda: d.execute_script("return !!(window.vigie && vigie.live.ready && vigie.map.leaflet)"), 30, "page")
        d.execute_script(f"vigie.map.leaflet.setView([{PROBE[1]}, {PROBE[0]}], 16, {{animate: false}}); vigie.live.countBytes = true")
        time.sleep(2)
        d.execute_script(WATCH_JS)
        if os.environ.get("VIGIE_BENCH_PROFILE"):
            d.execute_cdp_cmd("Profiler.enable", {})
            d.execute_cdp_cmd("Profiler.start", {})
        probe_emits: list[float] = []  # wall time of each emit carrying probe-0 (a delta's "t" is the territory's clock)
        emit = stack.hub.emit

        def timed_emit(event: str, message: dict) -> None:
            if any(q.get("ch") == "lighting" and "probe-0" in q.get("assets", {}) for q in message.get("deltas", ())):
                probe_emits.append(time.time())
            emit(event, message)

        stack.hub.emit = timed_emit
        bytes0, hub0, t0 = d.execute_script("return vigie.live.stats.bytes"), stack.hub.emitted_bytes, time.monotonic()
        lat, server = [], []
        status = "ok"
        for i in range(changes):
            status = "defectiveLamp" if status == "ok" else "ok"
            n_before = d.execute_script("return window.__changes.length")
            sent = time.time()
            stack.publish(Telemetry[LightingReading](**stack.env("telemetry", "lighting", "probe"),
                                                     readings=[LightingReading(asset="probe-0", status=status)]))
            want = "vc-w4" if status != "ok" else "vc-w0"
            seen = None
            end = time.monotonic() + UNSEEN_S
            while seen is None and time.monotonic() < end:
                time.sleep(0.01)
                for ts, sig in d.execute_script("return window.__changes.slice(arguments[0])", n_before):
                    if want in sig:
                        seen = ts / 1000
                        break
            lat.append(seen - sent if seen is not None else float("inf"))  # never shown: a failure, counted
            if seen is not None:
                emitted = [t for t in probe_emits if t >= sent]
                if emitted:
                    server.append(emitted[0] - sent)
            time.sleep(random.uniform(0.05, 0.35))  # changes land anywhere in the coalescing window
        elapsed = time.monotonic() - t0
        if os.environ.get("VIGIE_BENCH_PROFILE"):
            print_profile(d.execute_cdp_cmd("Profiler.stop", {})["profile"])
        stats = d.execute_script("return vigie.live.stats")
        return {
            "n": len(lat), "lost": sum(1 for x in lat if x == float("inf")), "p50_ms": 1000 * statistics.median(lat),
            "p95_ms": 1000 * pct(lat, 95), "max_ms": 1000 * max(lat), "server_p50_ms": 1000 * statistics.median(server or [0]),
            "server_p95_ms": 1000 * pct(server or [0], 95), "bytes_per_s_browser": (stats["bytes"] - bytes0) / elapsed,
            "bytes_per_s_hub": (stack.hub.emitted_bytes - hub0) / elapsed, "gaps": stats["gaps"], "deltas": stats["deltas"],
        }
    finally:
        d.quit()
        stop_all(sims)


def synthetic(n: int, seed: int = 7) -> list[AssetDef]:
    rng = random.Random(seed)
    return [AssetDef(id=f"syn-{i:06d}", type="Streetlight", name=f"Synthétique {i}",
                     geometry=Point(coordinates=(round(rng.uniform(3.80, 3.95), 6), round(rng.uniform(43.57, 43.66), 6))))
            for i in range(n)]


def hundred_k(stack: Stack, n: int, changes: int, speed: float) -> dict:
    """First paint with n synthetic lamps, then `changes` of them failing at once (all in view); simulators running."""
    sims = simulators(stack, speed)
    try:
        return _hundred_k(stack, n, changes)
    finally:
        stop_all(sims)


def _hundred_k(stack: Stack, n: int, changes: int) -> dict:
    lamps = synthetic(n)
    parts = [lamps[i : i + 20000] for i in range(0, n, 20000)]
    for k, part in enumerate(parts, start=1):
        stack.publish(State[LightingReading](**stack.env("state", "lighting", "lum-synth"), snapshot="syn", part=k,
                                             parts=len(parts), assets=part,
                                             readings=[LightingReading(asset=a.id, status="ok") for a in part]))
    stack.wait_for(lambda: len(stack.engine.core.state.domain("lighting")) >= n, 180, "synthetic lamps")
    time.sleep(3)
    paints = first_paint(stack.url + "/lighting", runs=2)
    c = (3.8767, 43.6108)
    in_view = [a.id for a in lamps if abs(a.geometry.coordinates[0] - c[0]) < 0.02 and abs(a.geometry.coordinates[1] - c[1]) < 0.012]
    chosen = in_view[:changes]
    d = chromium(1366, 768)
    try:
        d.get(stack.url + "/lighting")
        stack.wait_for(lambda: d.execute_script("return !!(window.vigie && vigie.live.ready && document.querySelector('.vc'))"), 30)
        time.sleep(2)
        d.execute_script("""
            window.__faultsSeen = null;
            (function watch() {
              var s = 0; document.querySelectorAll('.vc').forEach(function (e) { s += +e.getAttribute('data-faults'); });
              s += document.querySelectorAll('.vm-c4').length;
              if (s >= arguments[0]) { window.__faultsSeen = performance.timeOrigin + performance.now(); return; }
              requestAnimationFrame(watch);
            })();""".replace("arguments[0]", str(len(chosen))))
        sent = time.time()
        stack.publish(Telemetry[LightingReading](**stack.env("telemetry", "lighting", "lum-synth"),
                                                 readings=[LightingReading(asset=a, status="defectiveLamp") for a in chosen]))
        try:
            stack.wait_for(lambda: d.execute_script("return window.__faultsSeen") is not None, UNSEEN_S, "1,000 faults visible")
            shown = d.execute_script("return window.__faultsSeen") / 1000 - sent
        except TimeoutError:
            shown = float("inf")  # not all shown: a failure
    finally:
        d.quit()
    return {"first_paint_s": paints, "changed": len(chosen), "change_visible_ms": 1000 * shown}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--changes", type=int, default=200)
    p.add_argument("--speed", type=float, default=60.0, help="simulators' time acceleration during the latency run")
    p.add_argument("--lamps", type=int, default=100_000)
    p.add_argument("--quick", action="store_true", help="40 changes, 20,000 synthetic lamps")
    p.add_argument("--only", choices=("all", "paint", "latency", "synthetic"), default="all")
    args = p.parse_args()
    if args.quick:
        args.changes, args.lamps = 40, 20_000
    settings = Settings(coalesce_ms=250)
    print(f"coalescing window {settings.coalesce_ms} ms, headless Chromium 1366x768, {os.cpu_count()} cores")

    stack = start_stack(None, settings)
    try:
        if args.only == "synthetic":
            raise StopIteration
        for domain in ("lighting", "water", "traffic"):
            publish_all(stack, build(domain, seed=42, start=datetime.now(UTC)).state())
        stack.wait_for(lambda: len(stack.reader.assets_geo("lighting")) > 29000, 90, "real lamps")
        time.sleep(3)
        if args.only in ("all", "paint"):
            paints = first_paint(stack.url + "/")
            print(f"first paint, overview, {len(stack.reader.assets_geo('lighting')):,} lamps: "
                  f"median {statistics.median(paints):.2f} s (runs {', '.join(f'{x:.2f}' for x in paints)}; target < 3 s)")
        if args.only not in ("all", "latency"):
            return 0
        r = latency(stack, args.changes, args.speed)
        print(f"PUBLISH->DOM over {r['n']} changes, {r['lost']} never shown within {UNSEEN_S:.0f} s (each a failure, counted as "
              f"infinite), simulators x{args.speed:g}: "
              f"p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, max {r['max_ms']:.0f} ms (target p95 < 300 ms); "
              f"of which PUBLISH->emit p50 {r['server_p50_ms']:.0f} ms, p95 {r['server_p95_ms']:.0f} ms")
        print(f"pushed to one browser: {r['bytes_per_s_browser'] / 1024:.1f} KiB/s "
              f"(hub emitted {r['bytes_per_s_hub'] / 1024:.1f} KiB/s; {r['deltas']} deltas applied, {r['gaps']} gaps replayed)")
    except StopIteration:
        pass
    finally:
        stack.stop()

    if args.only not in ("all", "synthetic"):
        return 0
    stack = start_stack(None, replace(settings, supervisor_max_assets=max(50_000, 2 * args.lamps)))
    try:
        r = hundred_k(stack, args.lamps, 1000 if not args.quick else 200, args.speed)
        print(f"first paint, {args.lamps:,} synthetic lamps: {', '.join(f'{x:.2f}' for x in r['first_paint_s'])} s (target < 4 s)")
        print(f"{r['changed']:,} of them failing at once: visible after {r['change_visible_ms']:.0f} ms (target < 300 ms)")
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
