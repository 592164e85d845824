"""Screenshots of the domain pages' "over the day" panels at 1920x1080 and 1366x768, simulators warmed up, backfill done.

Usage: .venv/bin/python tests/browser/day_screenshots.py [--out docs/screenshots] [--warm 60] [--speed 30]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from services.core.day_series import compared_days  # noqa: E402
from services.history.day_archive import DayArchive  # noqa: E402
from services.settings import DOMAINS, Settings  # noqa: E402
from tests.browser.chrome import chromium, console_errors  # noqa: E402
from tests.browser.domain_stack import start_domain_stack  # noqa: E402

SIZES = ((1920, 1080), (1366, 768))


def backfilled(archive: DayArchive) -> bool:
    """Are yesterday and last week in the archive for every domain?"""
    days = compared_days(datetime.now(archive.tz).date())
    return all(len(archive.present(d, days)) == 2 for d in DOMAINS)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    p.add_argument("--warm", type=float, default=60.0, help="seconds of simulation after the backfill")
    p.add_argument("--speed", type=float, default=1.0, help="simulator speed (faster runs the domains' clock past midnight)")
    p.add_argument("--only", default="", help="shoot only pages containing this")
    p.add_argument("--theme", default="light")
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stack = start_domain_stack(None, Path(tempfile.mkdtemp(prefix="vigie-day-")), Settings(simulator_speed=args.speed), simulators=True)
    try:
        archive = DayArchive(stack.redis_url, stack.engine.core.config.timezone)
        t0 = time.monotonic()
        stack.wait_for(lambda: backfilled(archive), 900, "the backfill")
        print(f"backfill done after {time.monotonic() - t0:.0f} s")
        time.sleep(args.warm)
        for domain in DOMAINS:
            if args.only not in domain:
                continue
            for w, h in SIZES:
                d = chromium(w, h, still=True)
                try:
                    suffix = "" if args.theme == "light" else f"-{args.theme}"
                    d.get(f"{stack.url}/{domain}" + ("" if args.theme == "light" else f"?theme={args.theme}"))
                    stack.wait_for(lambda: d.execute_script("return !!(window.vigie && vigie.live.ready)"), 30, "the page")
                    time.sleep(6)
                    name = f"day-{domain}-{w}x{h}{suffix}.png"
                    try:
                        d.save_screenshot(str(out / name))
                    except Exception:  # noqa: BLE001 - a loaded machine: the renderer answers late once
                        time.sleep(5)
                        d.save_screenshot(str(out / name))
                    errors = console_errors(d)
                    print(f"{name}: {len(errors)} console errors", *[e['message'][:200] for e in errors], sep="\n  ")
                finally:
                    d.quit()
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
