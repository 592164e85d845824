"""Screenshots of the replay pages for docs/screenshots/: the trainer's page and a trainee's exercise view.

Records an hour of the three simulators (ending an hour ago), starts Vigie on it, opens a session
with the "Soirée agitée" scenario, plays part of it, then shoots both pages at 1920x1080 and 1366x768.
Run: `.venv/bin/python -m tests.browser.replay_screenshots [--out docs/screenshots]`.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from services.redis_launcher import resolve_redis
from services.replay.scenario import load_scenario
from services.settings import Settings
from tests.browser.chrome import chromium
from tests.browser.replay_stack import start_replay_stack

SIZES = ((1920, 1080), (1366, 768))


def settle(driver, css: str, timeout: float = 60.0, extra_s: float = 4.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end and not driver.find_elements("css selector", css):
        time.sleep(0.2)
    time.sleep(extra_s)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    ap.add_argument("--minutes", type=float, default=60.0)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    handle = resolve_redis(Settings(state_dir=Path(tempfile.mkdtemp())))
    stack = start_replay_stack(handle.url, Path(tempfile.mkdtemp()), world="simulators", minutes=args.minutes)
    try:
        s = stack.manager.create(name="Soirée agitée — équipe B", start=stack.span[0] + 60, end=stack.span[0] + args.minutes * 60,
                                 trainer="formateur", speed=10, scenario=load_scenario("soiree_agitee.yaml"),
                                 scenario_file="soiree_agitee.yaml")
        s.advance_to(s.start + 33 * 60, budget=None)
        s.join("stagiaire.martin")
        for width, height in SIZES:
            driver = chromium(width, height)
            try:
                driver.get(f"{stack.url}/replay?session={s.id}")
                settle(driver, ".rp-timeline .scatterlayer", extra_s=6.0)
                driver.save_screenshot(str(args.out / f"replay-trainer-{width}.png"))
                driver.get(stack.url + "/replay")
                driver.add_cookie({"name": "vigie_exercise", "value": s.id, "path": "/"})
                for page, name in (("/", "overview"), ("/water", "water"), ("/alarms", "alarms")):
                    driver.get(stack.url + page)
                    settle(driver, ".exercise-banner", extra_s=8.0)
                    driver.save_screenshot(str(args.out / f"replay-trainee-{name}-{width}.png"))
            finally:
                driver.quit()
        print("screenshots in", args.out)
    finally:
        stack.stop()
        handle.stop()


if __name__ == "__main__":
    main()
