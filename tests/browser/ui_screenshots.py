"""Screenshots of the pages of issue 18 part A (wall, operator screens at 1366x768, words, colours) at both sizes.

Runs the full stack with the simulators (accelerated), then headless Chromium. Usage:
.venv/bin/python tests/browser/ui_screenshots.py [--out docs/screenshots] [--warm 40] [--only wall]
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from services.contract import Alarm, AlarmEvent, Point, State, WaterReading
from services.contract.messages import AssetDef
from services.settings import Settings
from tests.browser.chrome import chromium, console_errors, shoot, shot_options
from tests.browser.domain_stack import start_domain_stack

SIZES = ((1920, 1080), (1366, 768))


def shots(stack) -> list[tuple[str, str, int, int]]:
    """(file, path, width, height) of every page to shoot; assets picked among those the simulators run."""
    pages = [("wall", "/wall?kiosk=1&theme=dark"), ("overview", "/"), ("lighting", "/lighting"), ("water", "/water"),
             ("traffic", "/traffic"), ("overview-en", "/?lang=en"), ("replay", "/replay")]
    for domain, kind in (("lighting", "Streetlight"), ("water", "Pipe"), ("traffic", "TrafficSignal")):
        _n, items = stack.reader.assets(domain=domain, type=kind, limit=1)
        if items:
            pages.append((f"asset-{domain}", "/asset/" + items[0]["id"]))
    out = []
    for name, path in pages:
        for w, h in SIZES:
            if name == "wall" and w != 1920:
                continue
            out.append((f"ui-{name}-{w}x{h}.png", path, w, h))
    return out


def urgent_jump(stack, file: Path) -> None:
    """The wall when an urgent alarm takes it to its domain: the alarm in full at the top of the water frame."""
    stack.publish(State[WaterReading](**stack.env("state", "water", "eau-demo"), snapshot="d1", assets=[
        AssetDef(id="res-demo", type="Reservoir", name="Réservoir de la Colline de Montmaur (cuve nord)",
                 geometry=Point(coordinates=(3.865, 43.635)))], readings=[WaterReading(asset="res-demo", level=4.0)]))
    stack.wait_for(lambda: stack.reader.asset("res-demo") is not None, 10, "the demo reservoir")
    d = chromium(1920, 1080, still=True)
    try:
        d.get(stack.url + "/wall")
        end = time.monotonic() + 30
        while not d.execute_script("return !!(window.vigie && vigie.live && vigie.live.ready && window.vigieWall && vigieWall.playlist)"):
            if time.monotonic() > end:
                raise TimeoutError("the wall did not load")
            time.sleep(0.2)
        time.sleep(3)
        stack.publish(Alarm(**stack.env("alarm", "water", "eau-demo"), events=[AlarmEvent(
            id="low_level:res-demo", asset="res-demo", action="raise", severity="critical", code="low_level",
            message="Niveau très bas : 0,4 m sous le seuil d'alerte, distribution du quartier Hôpitaux-Facultés menacée")]))
        time.sleep(8)
        d.save_screenshot(str(file))
        print(f"{file.name}: {d.execute_script('return location.pathname')}, {len(console_errors(d))} console errors")
    finally:
        d.quit()


def main() -> int:
    args = shot_options(__doc__, ROOT / "docs" / "screenshots", warm=40.0, speed=30.0).parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stack = start_domain_stack(None, Path(tempfile.mkdtemp(prefix="vigie-shots-")), Settings(simulator_speed=args.speed), simulators=True)
    try:
        stack.wait_for(lambda: len(stack.reader.assets_geo("lighting")) > 29000, 180, "the lamps")
        time.sleep(args.warm)
        for name, path, w, h in shots(stack):
            if args.only in name:
                shoot(stack.url + path, out / name, w, h)
        if args.only in "ui-wall-urgent-1920x1080.png":
            urgent_jump(stack, out / "ui-wall-urgent-1920x1080.png")
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
