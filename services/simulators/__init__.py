"""Simulated domain supervisors (lighting, water, traffic) on real Montpellier geography."""
from __future__ import annotations

from datetime import datetime

from .base import SupervisorSim

SIMULATORS = ("lighting", "water", "traffic")
DEFAULT_IDS = {"lighting": "lum-mtp", "water": "eau-mtp", "traffic": "trafic-mtp"}


def build(domain: str, *, seed: int, start: datetime, supervisor_id: str | None = None, territory: str = "montpellier") -> SupervisorSim:
    """Build the simulator of one domain."""
    sid = supervisor_id or DEFAULT_IDS[domain]
    if domain == "lighting":
        from .lighting import LightingSim

        return LightingSim(sid, seed=seed, start=start, territory=territory)
    if domain == "water":
        from .water import WaterSim

        return WaterSim(sid, seed=seed, start=start, territory=territory)
    if domain == "traffic":
        from .traffic import TrafficSim

        return TrafficSim(sid, seed=seed, start=start, territory=territory)
    raise ValueError(f"unknown domain {domain!r}; choose one of {', '.join(SIMULATORS)}")
