"""What a control-room page costs the browser and the wire: the shipped app (app factory) with the three simulators.

1. A cold load of the page in a fresh headless Chromium: bytes transferred (the Network domain's encoded lengths,
   headers included) against the bytes the page decoded, the largest downloads, then the same page loaded again
   (what the browser's cache saves).
2. The page left open for --minutes: every --sample seconds, Chrome's Performance.getMetrics (main-thread task
   time, script time, DOM nodes, JS heap) and the renderer processes' CPU seconds (psutil); per-minute rates.

Usage: .venv/bin/python benchmarks/browser_cost.py [--page /] [--speed 60] [--minutes 2] [--sample 10] [--cold-only]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("VIGIE_ROOT", Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(ROOT))

import psutil
from selenium import webdriver
from selenium.webdriver.chrome.options import Options

from services.settings import Settings
from tests.browser.harness import start_stack


def browser(width: int = 1366, height: int = 768) -> webdriver.Chrome:
    """Headless Chromium whose Network events can be read (performance log)."""
    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", f"--window-size={width},{height}"):
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    d = webdriver.Chrome(options=options)
    d.execute_cdp_cmd("Network.enable", {})
    d.execute_cdp_cmd("Performance.enable", {"timeDomain": "threadTicks"})
    return d


def network(d: webdriver.Chrome) -> dict:
    """Bytes transferred and decoded per request since the last call, from the Network domain's events."""
    urls: dict[str, str] = {}
    decoded: dict[str, int] = {}
    encoded: dict[str, float] = {}
    for entry in d.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Network.requestWillBeSent":
            urls[p["requestId"]] = p["request"]["url"]
        elif method == "Network.dataReceived":
            decoded[p["requestId"]] = decoded.get(p["requestId"], 0) + p.get("dataLength", 0)
        elif method == "Network.loadingFinished":
            encoded[p["requestId"]] = p.get("encodedDataLength", 0)
    rows = [(encoded[r], decoded.get(r, 0), urls.get(r, "?")) for r in encoded]
    return {"transferred": sum(r[0] for r in rows), "decoded": sum(r[1] for r in rows), "requests": len(rows),
            "largest": sorted(rows, reverse=True)[:6], "urls": [r[2] for r in rows]}


def over_https(d: webdriver.Chrome, urls: list[str]) -> float:
    """The bodies of the same requests fetched again with brotli offered, in bytes (headers not counted)."""
    import requests

    s = requests.Session()
    for c in d.get_cookies():
        s.cookies.set(c["name"], c["value"])
    total = 0
    for url in urls:
        if not url.startswith("http") or "/socket.io/" in url:
            continue
        r = s.get(url, headers={"Accept-Encoding": "br, gzip, deflate"}, stream=True, timeout=60)
        total += len(r.raw.read(decode_content=False))
    return total


def ready(d: webdriver.Chrome, timeout: float = 60.0) -> float:
    end = time.monotonic() + timeout
    t0 = time.monotonic()
    while time.monotonic() < end:
        if d.execute_script("return !!(window.vigie && vigie.live && vigie.live.ready && document.querySelector('.leaflet-container'))"):
            return time.monotonic() - t0
        time.sleep(0.1)
    raise TimeoutError("the page did not get live")


def renderer_cpu_s(d: webdriver.Chrome) -> float:
    """CPU seconds of the browser's renderer processes."""
    total = 0.0
    try:
        root = psutil.Process(d.service.process.pid)
        for p in root.children(recursive=True):
            try:
                if "--type=renderer" in " ".join(p.cmdline()):
                    t = p.cpu_times()
                    total += t.user + t.system
            except psutil.Error:
                continue
    except psutil.Error:
        pass
    return total


def metrics(d: webdriver.Chrome) -> dict:
    return {m["name"]: m["value"] for m in d.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--page", default="/")
    p.add_argument("--speed", type=float, default=60.0)
    p.add_argument("--minutes", type=float, default=2.0)
    p.add_argument("--sample", type=float, default=10.0)
    p.add_argument("--cold-only", action="store_true")
    args = p.parse_args()
    stack = start_stack(None, Settings(coalesce_ms=250, simulator_speed=args.speed), simulators=True)
    try:
        stack.wait_for(lambda: len(stack.reader.assets_geo("lighting")) > 29000, 120, "simulated lamps")
        time.sleep(10)
        print(f"code: {ROOT}; page {args.page}; simulators x{args.speed:g}; {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
        d = browser()
        try:
            d.get(stack.url + args.page)
            live_s = ready(d)
            time.sleep(8)  # deferred layers, trend charts
            cold = network(d)
            print(f"cold load: {cold['transferred'] / 1e6:.2f} MB transferred for {cold['decoded'] / 1e6:.2f} MB decoded, "
                  f"{cold['requests']} requests, live after {live_s:.1f} s (target < 3 MB)")
            for enc, dec, url in cold["largest"]:
                print(f"    {enc / 1e3:9.1f} kB  ({dec / 1e3:9.1f} kB decoded)  {url.replace(stack.url, '')[:90]}")
            print(f"the same requests' bodies fetched again with brotli offered: {over_https(d, cold['urls']) / 1e6:.2f} MB "
                  f"(headers not counted)")
            d.get(stack.url + args.page)
            ready(d)
            time.sleep(8)
            warm = network(d)
            print(f"second load, same browser: {warm['transferred'] / 1e6:.2f} MB transferred, {warm['requests']} requests")
            for enc, dec, url in warm["largest"][:4]:
                print(f"    {enc / 1e3:9.1f} kB  ({dec / 1e3:9.1f} kB decoded)  {url.replace(stack.url, '')[:90]}")
            if args.cold_only:
                return 0
            print(f"{'t (s)':>6} {'renderer CPU s':>14} {'main-thread task s':>18} {'script s':>9} {'DOM nodes':>9} {'JS heap MB':>10} {'listeners':>9}")
            t0, c0, m0 = time.monotonic(), renderer_cpu_s(d), metrics(d)
            rows = []
            end = t0 + args.minutes * 60
            while time.monotonic() < end:
                time.sleep(args.sample)
                m, c, t = metrics(d), renderer_cpu_s(d), time.monotonic() - t0
                rows.append((t, c - c0, m.get("TaskDuration", 0) - m0.get("TaskDuration", 0), m.get("ScriptDuration", 0) - m0.get("ScriptDuration", 0),
                             m.get("Nodes", 0), m.get("JSHeapUsedSize", 0) / 1e6, m.get("JSEventListeners", 0)))
                print(f"{rows[-1][0]:6.0f} {rows[-1][1]:14.1f} {rows[-1][2]:18.1f} {rows[-1][3]:9.1f} {rows[-1][4]:9.0f} {rows[-1][5]:10.1f} {rows[-1][6]:9.0f}")
            if rows:
                t, cpu, task, script = rows[-1][:4]
                nodes = [r[4] for r in rows]
                heap = [r[5] for r in rows]
                print(f"per minute: renderer CPU {cpu / t * 60:.1f} s, main-thread tasks {task / t * 60:.1f} s, scripts {script / t * 60:.1f} s; "
                      f"DOM nodes {min(nodes):.0f}-{max(nodes):.0f}; JS heap {min(heap):.1f}-{max(heap):.1f} MB "
                      f"({(heap[-1] - heap[0]) / max(t - rows[0][0], 1) * 3600:+.1f} MB/h from the first sample); target < 6 CPU s/min")
        finally:
            d.quit()
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
