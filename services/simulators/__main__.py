"""Run one simulated supervisor: `python -m services.simulators lighting|water|traffic`."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from services.redis_conn import redacted

from . import DEFAULT_IDS, SIMULATORS, build
from .runner import Runner


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the simulator and run it against REDIS_URL until interrupted."""
    p = argparse.ArgumentParser(prog="python -m services.simulators", description=__doc__)
    p.add_argument("domain", choices=SIMULATORS)
    p.add_argument("--speed", type=float, default=1.0, help="time acceleration (60 = one simulated minute per second); sets the territory clock "
                   "in Redis when none runs, else the clock already there is followed (docs/feed-protocol.md, 4.8)")
    p.add_argument("--seed", type=int, default=42, help="random seed (same seed and start, same messages)")
    p.add_argument("--id", default=None, help="supervisor id (default: %s)" % ", ".join(f"{d}={i}" for d, i in DEFAULT_IDS.items()))
    p.add_argument("--start", default=None, help="simulated start time, ISO 8601 with offset (default: now)")
    p.add_argument("--territory", default=os.environ.get("VIGIE_TERRITORY", "montpellier"))
    p.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    start = datetime.fromisoformat(args.start) if args.start else datetime.now(ZoneInfo("Europe/Paris"))
    if start.tzinfo is None:
        p.error("--start needs an offset, e.g. 2026-06-21T18:00:00+02:00")
    sim = build(args.domain, seed=args.seed, start=start, supervisor_id=args.id, territory=args.territory)
    runner = Runner(sim, args.redis_url, speed=args.speed)
    signal.signal(signal.SIGTERM, lambda *_: runner.stop_event.set())
    logging.getLogger(__name__).info("simulator %s (%s) on %s, speed x%g, seed %d", sim.supervisor_id, args.domain, redacted(args.redis_url), args.speed, args.seed)
    try:
        runner.run()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
