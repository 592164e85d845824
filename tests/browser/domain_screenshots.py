"""Screenshots at 1920x1080 of the pages of issue 7 (asset detail, domain pages, wall) with the simulators running.

Usage: .venv/bin/python tests/browser/domain_screenshots.py [--out docs/screenshots] [--warm 60]
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from services.settings import Settings  # noqa: E402
from tests.browser.chrome import shoot, shot_options  # noqa: E402
from tests.browser.domain_stack import start_domain_stack  # noqa: E402


def shots(stack) -> list[tuple[str, str]]:
    """(file, path) of every page to shoot; assets picked among those the simulators run."""
    out = []
    for domain, kind in (("lighting", "Streetlight"), ("water", None), ("traffic", "RoadSegment")):
        _n, items = stack.reader.assets(domain=domain, type=kind, limit=1)
        if items:
            out.append((f"asset-{domain}-1920x1080.png", "/asset/" + items[0]["id"]))
    return out + [(f"{p.strip('/') or 'overview'}-1920x1080.png", p) for p in ("/lighting", "/water", "/traffic")] \
        + [("wall-1920x1080.png", "/wall")]


def main() -> int:
    args = shot_options(__doc__, ROOT / "docs" / "screenshots", warm=60.0, speed=30.0).parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stack = start_domain_stack(None, Path(tempfile.mkdtemp(prefix="vigie-shots-")), Settings(simulator_speed=args.speed), simulators=True)
    try:
        stack.wait_for(lambda: len(stack.reader.assets_geo("lighting")) > 29000, 120, "the lamps")
        time.sleep(args.warm)
        for name, path in shots(stack):
            if args.only in name:
                shoot(stack.url + path, out / name, 1920, 1080)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
