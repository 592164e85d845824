"""Sums over a domain's assets kept as each asset changes: the KPIs and the day metrics read them in O(1).

Each asset's contribution (a tuple of integers: counts, and powers or lengths in fixed point) is worked out
when the asset is defined, changes value or goes, and the sums move by the difference. Integers keep the
sums exact whatever the order of the changes (floats would drift over millions of them). The maths of a
contribution lives here once: the live core, the recorder's shadow core and the backfill all use it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

MICRO = 1_000_000  # fixed point of powers (µW) and lengths (µm)
Contribution = tuple[int, ...] | None


def lighting_contribution(a: Any) -> Contribution:
    """(lamps, in service, faulty, lit, power µW, rated power of the lit ones µW), None for what is not a lamp."""
    if a.type != "Streetlight":
        return None
    v = a.values
    status = v.get("status")
    p = v.get("powerConsumption")
    lit = v.get("powerState") in ("on", "low")
    rated = a.props.get("powerRating") if lit else None
    return (1, status == "ok", status is not None and status != "ok", lit,
            round(p * MICRO) if p is not None else 0,
            round(rated * MICRO) if isinstance(rated, (int, float)) and not isinstance(rated, bool) else 0)


def traffic_contribution(a: Any) -> Contribution:
    """(closed, speed × weight, weight, length with a congestion reading, of it congested) for a road segment;
    weights and lengths in millionths."""
    if a.type != "RoadSegment":
        return None
    v = a.values
    if v.get("closed"):
        return (1, 0, 0, 0, 0)
    s, q = v.get("averageVehicleSpeed"), v.get("intensity")
    speed = weight = length = congested = 0
    if s is not None:
        w = q if q else 1.0
        speed, weight = round(s * w * MICRO), round(w * MICRO)
    if "congested" in v:
        seg = a.props.get("lengthM") or a.props.get("length") or 1.0
        seg = seg if isinstance(seg, (int, float)) else 1.0
        length = round(seg * MICRO)
        congested = length if v["congested"] else 0
    return (0, speed, weight, length, congested)


CONTRIBUTIONS: dict[str, tuple[Callable[[Any], Contribution], int]] = {
    "lighting": (lighting_contribution, 6),
    "traffic": (traffic_contribution, 5),
}


class Tally:
    """One domain's sums, moved by each asset's change of contribution (held on the asset record, `tally`).

    The ingest path only notes which records changed (`touch`, a set insertion); the sums are settled when
    read (`totals`), once per record however many readings it had meanwhile."""

    __slots__ = ("_dirty", "_interned", "contribution", "sums")

    def __init__(self, contribution: Callable[[Any], Contribution], width: int) -> None:
        self.contribution = contribution
        self.sums = [0] * width
        self._dirty: set[Any] = set()
        self._interned: dict[tuple[int, ...], tuple[int, ...]] = {}  # equal contributions share one tuple

    def touch(self, rec: Any) -> None:
        """The asset was defined or its values changed: its part is worked out at the next `totals`."""
        self._dirty.add(rec)

    def totals(self) -> list[int]:
        """The sums now (a copy)."""
        if self._dirty:
            dirty, self._dirty = self._dirty, set()
            for rec in dirty:
                self._settle(rec)
        return list(self.sums)

    def _settle(self, rec: Any) -> None:
        new = self.contribution(rec)
        old = rec.tally
        if new == old:
            return
        sums = self.sums
        if old is not None:
            for i, x in enumerate(old):
                sums[i] -= x
        if new is not None:
            if len(self._interned) < 100_000:
                new = self._interned.setdefault(new, new)
            for i, x in enumerate(new):
                sums[i] += x
        rec.tally = new

    def update(self, rec: Any) -> None:
        """Work out the asset's part now."""
        self._dirty.discard(rec)
        self._settle(rec)

    def remove(self, rec: Any) -> None:
        """The asset is gone: take its contribution out."""
        self._dirty.discard(rec)
        old = rec.tally
        if old is not None:
            for i, x in enumerate(old):
                self.sums[i] -= x
            rec.tally = None


def sums_of(domain: str, assets: Iterable[Any]) -> list[int]:
    """The same sums in one pass (records outside a tallied state: the backfill's, a test's)."""
    contribution, width = CONTRIBUTIONS[domain]
    sums = [0] * width
    for a in assets:
        c = contribution(a)
        if c is not None:
            for i, x in enumerate(c):
                sums[i] += x
    return sums


class TalliedValues:
    """A domain's records as `dict.values()` gives them, and the domain's tally beside (None: not tallied)."""

    __slots__ = ("_assets", "tally")

    def __init__(self, assets: dict, tally: Tally | None) -> None:
        self._assets = assets
        self.tally = tally

    def __iter__(self) -> Iterator[Any]:
        return iter(dict.values(self._assets))

    def __len__(self) -> int:
        return len(self._assets)


class DomainAssets(dict):
    """One domain's records by id; `values()` carries the domain's tally, so the KPI maths read the sums."""

    __slots__ = ("tally",)

    def __init__(self, tally: Tally | None = None) -> None:
        super().__init__()
        self.tally = tally

    def values(self) -> TalliedValues:  # type: ignore[override]
        return TalliedValues(self, self.tally)


def tally_sums(domain: str, assets: Iterable[Any]) -> list[int]:
    """The domain's sums: read from its tally when `assets` carries one, else counted in one pass."""
    tally = getattr(assets, "tally", None)
    return tally.totals() if tally is not None else sums_of(domain, assets)
