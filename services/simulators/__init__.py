"""Simulated domain supervisors (lighting, water, traffic) on a territory package's geography (docs/territory.md)."""
from __future__ import annotations

from datetime import datetime

from .base import SupervisorSim

SIMULATORS = ("lighting", "water", "traffic")
DEFAULT_IDS = {"lighting": "lum-mtp", "water": "eau-mtp", "traffic": "trafic-mtp"}  # Montpellier's manifest says these


def supervisor_ids(territory: str = "montpellier") -> dict[str, str]:
    """The simulated supervisors' ids, per domain, as the territory's manifest names them."""
    from services.territory.package import load_territory

    return dict(load_territory(territory).supervisors)


def build(domain: str, *, seed: int, start: datetime, supervisor_id: str | None = None, territory: str = "montpellier") -> SupervisorSim:
    """Build the simulator of one domain."""
    if domain not in SIMULATORS:
        raise ValueError(f"unknown domain {domain!r}; choose one of {', '.join(SIMULATORS)}")
    sid = supervisor_id or supervisor_ids(territory)[domain]
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
