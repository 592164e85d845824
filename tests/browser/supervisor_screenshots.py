"""Screenshots of the engineers' supervisors page (1920x1080 and 1366x768) for docs/screenshots/.

Runs the secured stack with the three simulators and `VIGIE_SUPERVISORS_APPROVAL=required`, then publishes what
the page is for: a forged supervisor raising an urgent alarm on a valve of eau-mtp (quarantined, the page says
whose valve it is), a new water supervisor waiting in quarantine, one an engineer approved, one rejected, and a
second process publishing under trafic-mtp (two publishers). Signs an engineer in with headless Chromium.
Usage: .venv/bin/python tests/browser/supervisor_screenshots.py [--out docs/screenshots]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from services.contract import Alarm, AlarmEvent, AssetDef, Heartbeat, Point, State, WaterReading  # noqa: E402
from services.redis_launcher import free_port, start_redis_server, wait_ready  # noqa: E402
from services.supervisors.actions import SupervisorActions  # noqa: E402
from services.accounts import AccountStore  # noqa: E402
from tests.browser.alarm_stack import CHEAP, PW, start_secured  # noqa: E402
from tests.browser.chrome import console_errors  # noqa: E402


class Sender:
    """Publishes as one supervisor process with its own counter."""

    def __init__(self, stack, sup: str, domain: str = "water", seq: int = 0) -> None:
        self.stack, self.sup, self.domain, self.seq = stack, sup, domain, seq

    def env(self, kind: str) -> dict:
        self.seq += 1
        return {"v": 1, "kind": kind, "domain": self.domain, "supervisor": self.sup, "ts": datetime.now(timezone.utc), "seq": self.seq}

    def state(self, n: int, lon: float, alarms: list[AlarmEvent] | None = None) -> None:
        assets = [AssetDef(id=f"{self.sup}-valve-{i}", type="Valve", name=f"Vanne {i}", geometry=Point(coordinates=(lon + i * 1e-3, 43.62)))
                  for i in range(n)]
        self.stack.publish(State[WaterReading](**self.env("state"), snapshot=f"{self.sup}-1", assets=assets,
                                               readings=[WaterReading(asset=a.id, position=1.0) for a in assets], alarms=alarms or []))

    def alarm(self, asset: str, severity: str, message: str) -> None:
        self.stack.publish(Alarm(**self.env("alarm"), events=[AlarmEvent(id=f"fault:{asset}", asset=asset, action="raise",
                                                                         severity=severity, code="valve_fault", message=message)]))

    def beat(self) -> None:
        self.stack.publish(Heartbeat(**self.env("heartbeat")))


def scene(stack) -> threading.Event:
    """Quarantine, approval, rejection and two publishers; returns the event that stops the second publisher."""
    valve = next(a["id"] for a in stack.runtime.reader.assets_geo("water") if "valve" in a["id"].lower() or a.get("type") == "Valve")
    Sender(stack, "evil-1").alarm(valve, "critical", "Vanne fermée en urgence")
    Sender(stack, "eau-nord").state(12, 3.86, alarms=[AlarmEvent(id="leak", asset="eau-nord-valve-3", action="raise", severity="major",
                                                                 code="leak", message="Fuite suspectée sur la vanne 3")])
    Sender(stack, "eau-sud").state(8, 3.90)
    Sender(stack, "test-bench").beat()
    stack.wait_for(lambda: len(SupervisorActions(stack.runtime.engine).view()) >= 7, 20, "the newcomers")
    actions = SupervisorActions(stack.runtime.engine)
    actions.decide("approve", "eau-sud", "erin")
    actions.decide("reject", "test-bench", "erin")
    stop = threading.Event()

    def second_publisher() -> None:  # a second process started by mistake under trafic-mtp; eau-sud alive
        twin, sud = Sender(stack, "trafic-mtp", "traffic"), Sender(stack, "eau-sud", seq=1)
        while not stop.is_set():
            twin.beat()
            sud.beat()
            time.sleep(0.5)

    threading.Thread(target=second_publisher, daemon=True).start()
    stack.wait_for(lambda: any(r["flagged"] for r in actions.view()), 30, "two publishers")
    return stop


def engineer(stack, name: str, domains: str) -> None:
    """An engineer account on the stack's Redis (the stack's own operators are not enough to decide)."""
    AccountStore(stack.client, CHEAP).create_user(name, "engineer", domains, PW, now=time.time())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = start_redis_server(port, None, appendonly=False)
    url = f"redis://127.0.0.1:{port}/0"
    wait_ready(url)
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_secured(url, coalesce_ms=250, users=(), run_simulators=True, simulator_speed=10, state_dir=Path(tmp),
                              supervisors_approval="required")
        stop = None
        try:
            engineer(stack, "erin", "all")
            stack.runtime.simulators.wait_started(120)
            stack.wait_for(lambda: len(stack.runtime.reader.assets_geo("water")) > 100, 120, "the water network")
            stack.wait_for(lambda: len(stack.runtime.reader.assets_geo("traffic")) > 8000, 120, "the road network")
            stop = scene(stack)
            for w, h in ((1920, 1080), (1366, 768)):
                d = stack.browser("erin", "/supervisors", width=w, height=h, still=True)
                stack.wait_for(lambda: d.execute_script("return !!document.querySelector('#sup-section-flagged.has-rows')"), 20, "the page")
                time.sleep(3)
                d.save_screenshot(str(out / f"supervisors-{w}x{h}.png"))
                errors = console_errors(d)
                print(f"{w}x{h}: {len(errors)} console errors", *[e["message"][:200] for e in errors], sep="\n  ")
        finally:
            if stop is not None:
                stop.set()
            stack.stop()
            proc.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
