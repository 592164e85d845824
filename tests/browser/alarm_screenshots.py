"""Screenshots of the alarm console and the alarm KPI page (1920x1080 and 1366x768) for docs/screenshots/.

Runs the secured stack with the three simulators (accelerated), trips a lighting cabinet, a pump and a road
segment so flood groups show, has operators acknowledge, take charge of, comment on and shelve a few alarms,
then signs in with headless Chromium. Usage: .venv/bin/python tests/browser/alarm_screenshots.py [--warm 30]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from services.alarms.actions import AlarmActions, parse_params  # noqa: E402
from services.redis_launcher import free_port, start_redis_server, wait_ready  # noqa: E402
from tests.browser.alarm_stack import start_secured  # noqa: E402
from tests.browser.chrome import console_errors  # noqa: E402


def incidents(stack) -> None:
    """A cabinet trip, a pump trip and a road incident: three flood groups."""
    sims = {r.sim.domain: r.sim for r in stack.runtime.simulators.runners}
    light = sims["lighting"]
    w = light.world
    biggest = max(range(len(w.cabinet_ids)), key=lambda c: len(w.cabinet_lamps[c]))
    light.trip_cabinet(w.cabinet_ids[biggest], reset_after_s=7200)
    water = sims["water"]
    water.trip_pump(next(a.id for a in water.asset_defs() if a.type == "Pump"), duration_s=7200)
    traffic = sims["traffic"]
    busiest = max(traffic.segments, key=lambda s: s.daily if len(s.neighbours) >= 2 else 0)
    traffic.start_incident(busiest.id, 90)


def operators(stack) -> None:
    """Some alarms acknowledged, one taken in charge with a comment, one shelved."""
    actions = AlarmActions(stack.runtime.engine)
    alarms = [a for a in stack.runtime.reader.alarms() if a["state"] == "active_unack" and not a["parent"]]
    faults = [a["id"] for a in alarms if a.get("alarm_class", "operator") == "operator" and a["priority"] == "low"]
    actions.apply("ack", faults[:6], "alice", parse_params("ack", {"comment": "tournée de nuit prévenue"}))
    urgent = next((a["id"] for a in alarms if a["priority"] in ("urgent", "high") and a["children"]), None)
    if urgent:
        actions.apply("assign", [urgent], "bob", parse_params("assign", {}))
        actions.apply("comment", [urgent], "bob", parse_params("comment", {"text": "Équipe d'astreinte en route, arrivée 20 min"}))
    if len(faults) > 8:
        actions.apply("shelve", [faults[7]], "alice", parse_params("shelve", {"reason": "Lanterne déposée pour travaux", "minutes": 120}))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    p.add_argument("--warm", type=float, default=30.0, help="seconds of simulation before the shots")
    p.add_argument("--speed", type=float, default=20.0)
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = start_redis_server(port, None, appendonly=False)
    url = f"redis://127.0.0.1:{port}/0"
    wait_ready(url)
    with tempfile.TemporaryDirectory() as tmp:
        stack = start_secured(url, coalesce_ms=250, run_simulators=True, simulator_speed=args.speed, state_dir=Path(tmp),
                              engineers=("eve",))
        try:
            stack.runtime.simulators.wait_started(120)
            stack.wait_for(lambda: len(stack.runtime.reader.assets_geo("lighting")) > 29000, 120, "the lamps")
            time.sleep(args.warm / 2)
            incidents(stack)
            time.sleep(args.warm / 2)
            operators(stack)
            shots(stack, out)
        finally:
            stack.stop()
            proc.terminate()
    return 0


def shots(stack, out: Path) -> None:
    for w, h in ((1920, 1080), (1366, 768)):
        d = stack.browser("alice", "/alarms", width=w, height=h, still=True)
        stack.wait_for(lambda: d.execute_script("return !!(vigie.console && vigie.console.api)"), 20, "the console")
        time.sleep(4)
        parent = d.execute_script("var best = null; vigie.console.api.forEachNodeAfterFilterAndSort(function (n) {"
                                  " if (n.data.children && (!best || n.data.children > best.children)) best = n.data; });"
                                  " return best && best.id;")
        if parent:  # open the biggest flood group, show its history and where it is
            for col in ("group", "locate"):  # the row may be out of view (the grid draws visible rows only)
                d.execute_script("var c = document.querySelector('.ag-row[row-id=\"' + arguments[0] + '\"] [col-id=' + arguments[1] + ']');"
                                 "if (c) c.click();", parent, col)
                time.sleep(0.5)
            time.sleep(4)
        d.save_screenshot(str(out / f"alarms-{w}x{h}.png"))
        if w == 1366:
            d.execute_script("vigie.console.api.forEachNodeAfterFilter(function (n, i) { if (i < 3) n.setSelected(true); });")
            d.execute_script("document.getElementById('alarms-shelve').click()")
            time.sleep(1.5)
            d.save_screenshot(str(out / f"alarms-shelve-{w}x{h}.png"))
        d.execute_script("var c = document.getElementById('alarms-shelve-cancel'); if (c) c.click();")
        time.sleep(1)
        d.execute_script("document.querySelector('#alarms-filter-view input[value=maintenance]').click()")
        time.sleep(2)
        d.save_screenshot(str(out / f"alarms-maintenance-{w}x{h}.png"))
        d.execute_script("document.querySelector('#alarms-filter-view input[value=handle]').click()")
        d.get(stack.url + "/alarms/kpis")
        stack.wait_for(lambda: d.execute_script("return !!document.querySelector('#alarm-kpis-report .main-svg')"), 30, "the KPI page")
        time.sleep(2)
        d.save_screenshot(str(out / f"alarm-kpis-{w}x{h}.png"))
        errors = console_errors(d)
        print(f"{w}x{h}: {len(errors)} console errors", *[e["message"][:200] for e in errors], sep="\n  ")
        e = stack.browser("eve", "/alarms/rationalisation", width=w, height=h, still=True)
        stack.wait_for(lambda: "cabinet_trip" in e.find_element("id", "rat-grid").text, 20, "the records")
        e.execute_script("window.dash_clientside.set_props('rat-code', {value: 'cabinet_trip'})")
        time.sleep(3)
        e.save_screenshot(str(out / f"alarm-rationalisation-{w}x{h}.png"))
        errors = console_errors(e)
        print(f"rationalisation {w}x{h}: {len(errors)} console errors", *[x["message"][:200] for x in errors], sep="\n  ")


if __name__ == "__main__":
    sys.exit(main())
