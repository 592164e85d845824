"""Screenshots of the control room for the README: the wall (1920x1080, dark) and the operator screen (1366x768).

Runs the full stack with the three simulators (accelerated so alarms and KPIs have moved), then
headless Chromium. Usage: .venv/bin/python tests/browser/screenshots.py [--out docs/screenshots] [--warm 40]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from services.settings import Settings  # noqa: E402
from tests.browser.chrome import shoot, shot_options  # noqa: E402
from tests.browser.harness import start_stack  # noqa: E402

SHOTS = (
    ("overview-1920x1080-wall.png", "/wall", 1920, 1080),
    ("overview-1366x768.png", "/", 1366, 768),
    ("lighting-1366x768.png", "/lighting", 1366, 768),
    ("overview-1366x768-en.png", "/?lang=en", 1366, 768),
)


def main() -> int:
    args = shot_options(__doc__, ROOT / "docs" / "screenshots", warm=40.0, speed=30.0).parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stack = start_stack(None, Settings(simulator_speed=args.speed), simulators=True)
    try:
        stack.wait_for(lambda: len(stack.reader.assets_geo("lighting")) > 29000, 120, "the lamps")
        time.sleep(args.warm)
        for name, path, w, h in SHOTS:
            if args.only in name:
                shoot(stack.url + path, out / name, w, h)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
