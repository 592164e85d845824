"""A running Vigie with security on, for the alarm console's browser tests, its benchmark and screenshots.

The control room from the app factory (as `make run` builds it), served by Werkzeug in a thread;
operators sign in through the real form in headless Chromium (autoplay allowed: the annunciator sounds).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import redis
from argon2 import PasswordHasher
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.common.by import By

from services.accounts import Passwords
from services.contract import Alarm, AlarmEvent, LightingReading, State, encode, sup_channel
from services.contract.messages import AssetDef, Point

from .harness import serve_room, stop_http, stack_settings, wait_subscribed

PW = "correct horse battery"
CHEAP = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
CENTER = (3.8767, 43.6108)


@dataclass
class Secured:
    """A running Vigie with security on: its URL, runtime, a Redis client to publish with."""

    url: str
    runtime: object
    client: redis.Redis
    seq: int = 0
    drivers: list = field(default_factory=list)
    stops: list = field(default_factory=list)

    def publish(self, msg) -> None:
        self.client.publish(sup_channel(msg.domain, msg.supervisor, msg.kind), encode(msg))

    def env(self, kind: str) -> dict:
        self.seq += 1
        return {"v": 1, "kind": kind, "domain": "lighting", "supervisor": "lum", "ts": datetime.now(timezone.utc), "seq": self.seq}

    def lamps(self, n: int) -> None:
        self.publish(State[LightingReading](**self.env("state"), snapshot="s1", assets=[
            AssetDef(id=f"lamp-{i}", type="Streetlight", name=f"Lanterne {i}, Rue de la Loge", refs={"cabinet": "cab-1"},
                     geometry=Point(coordinates=(CENTER[0] + (i % 30) * 1e-4, CENTER[1] + (i // 30) * 1e-4)))
            for i in range(n)], readings=[LightingReading(asset=f"lamp-{i}", status="ok") for i in range(n)]))

    def alarms(self, *events: tuple[str, str, str]) -> None:
        self.publish(Alarm(**self.env("alarm"), events=[
            AlarmEvent(id=aid, asset=asset, action="raise", severity=sev, code=aid.split(":")[0], message=f"Défaut sur {asset}")
            for aid, asset, sev in events]))

    def wait_for(self, predicate, timeout: float = 10.0, what: str = "condition") -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return
            time.sleep(0.03)
        raise AssertionError(f"timed out waiting for {what}")

    def browser(self, user: str, path: str = "/alarms", width: int = 1366, height: int = 768, still: bool = False) -> webdriver.Chrome:
        """A signed-in Chromium on `path`; `still`: reduced motion (screenshots show the steady outline, not a blink phase)."""
        options = Options()
        if still:
            options.add_argument("--force-prefers-reduced-motion")
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--mute-audio",
                    "--autoplay-policy=no-user-gesture-required", f"--window-size={width},{height}"):
            options.add_argument(arg)
        options.binary_location = "/usr/bin/chromium"
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=options)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.drivers.append(driver)
        driver.get(self.url + "/auth/signin")
        driver.find_element(By.CSS_SELECTOR, "input[name=name]").send_keys(user)
        driver.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(PW)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.wait_for(lambda: "/auth/" not in driver.current_url, what="signed in")
        driver.get(self.url + path)
        self.wait_for(lambda: driver.execute_script("return !!(window.vigie && vigie.live && vigie.live.ready)"), 20, "live page")
        return driver

    def stop(self) -> None:
        for d in self.drivers:
            d.quit()
        for stop in reversed(self.stops):
            stop()


def start_secured(redis_url: str, coalesce_ms: int = 100, users: tuple[str, ...] = ("alice", "bob"),
                  engineers: tuple[str, ...] = (), **settings_changes) -> Secured:
    """The control room from the app factory with sign-in required (no anonymous access), served by Werkzeug in a thread.

    With `run_engine=False` it is a web-only worker (no engine, no push hub: the message queue brings the pushes);
    `users` are the operators it creates (none for a second worker on the same Redis)."""
    from services.settings import Settings

    settings = stack_settings(Settings(redis_url=redis_url, run_simulators=False, coalesce_ms=coalesce_ms,
                                      snapshot_interval_s=0.5)).with_(anonymous_role=None, **settings_changes)
    room, url, http = serve_room(settings)
    runtime = room.runtime
    stops: list = [room.stop, lambda: stop_http(http)]
    security = room.server.extensions["vigie.security"]
    for name in users:
        security.store.create_user(name, "operator", "all", PW, now=time.time())
    for name in engineers:
        security.store.create_user(name, "engineer", "all", PW, now=time.time())
    client = redis.Redis.from_url(redis_url)
    stops.append(client.close)
    if runtime.engine is not None:
        wait_subscribed(runtime.engine)
    return Secured(url=url, runtime=runtime, client=client, stops=stops)
