"""Screenshots of the territory clock (issue 20): the header at x60, and a supervisor on the wall clock flagged.

Run against the shipped app with its simulators at a speed, e.g.

    PORT=8731 VIGIE_SIM_SPEED=60 VIGIE_STATE_DIR=/tmp/h1state VIGIE_ANONYMOUS_ROLE=viewer .venv/bin/python app.py
    .venv/bin/python -m tests.browser.clock_screenshots --url http://127.0.0.1:8731

A supervisor "eau-reel" on the wall clock (its heartbeats published here) shows the drift on /supervisors.
Saves docs/screenshots/header-clock-x60-{size}.png and supervisors-clock-drift-{size}.png.
"""
from __future__ import annotations

import argparse
import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import redis

from services.contract import Heartbeat, encode, sup_channel
from tests.browser.chrome import shoot

ROOT = Path(__file__).resolve().parents[2]
SIZES = ((1920, 1080), (1366, 768))


def wall_clock_supervisor(redis_url: str, stop: threading.Event) -> None:
    """Heartbeats of a water supervisor stamped with the wall clock, every second."""
    client, seq = redis.Redis.from_url(redis_url), 0
    while not stop.is_set():
        seq += 1
        hb = Heartbeat(v=1, kind="heartbeat", domain="water", supervisor="eau-reel", ts=datetime.now(UTC), seq=seq)
        client.publish(sup_channel("water", "eau-reel", "heartbeat"), encode(hb))
        stop.wait(1.0)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:8050")
    p.add_argument("--state-dir", default="/tmp/h1state", help="the app's state folder (its private Redis's URL is in redis/redis.json)")
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = p.parse_args()
    out = Path(args.out)
    for w, h in SIZES:
        shoot(f"{args.url}/?lang=fr", out / f"header-clock-x60-{w}x{h}.png", w, h)
    redis_url = json.loads((Path(args.state_dir) / "redis" / "redis.json").read_text())["url"]
    stop = threading.Event()
    beats = threading.Thread(target=wall_clock_supervisor, args=(redis_url, stop), daemon=True)
    beats.start()
    try:
        time.sleep(3)
        for w, h in SIZES:
            shoot(f"{args.url}/supervisors?lang=fr", out / f"supervisors-clock-drift-{w}x{h}.png", w, h)
    finally:
        stop.set()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
