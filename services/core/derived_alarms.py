"""Alarms Vigie derives from maintenance conditions: a street dark at night.

One dead lamp is maintenance (a work order), but `STREET_DARK_LAMPS` dead lamps or more, and at least
`STREET_DARK_SHARE` of a street's lamps, while its cabinet is lit (the schedule says night) leave the street dark:
that the control room must know. Pure: the book tells it which lamp faults are active, it reads the lamps' refs
(`street`, `cabinet`), the cabinet's `powerState` and, to size the streets, the lighting assets.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

STREET_DARK_LAMPS = 3  # dead lamps on one street, at night, that make it an operator alarm ...
STREET_DARK_SHARE = 0.3  # ... when they are at least this share of its lamps
LIT = ("on", "low")


class StreetDark:
    """Active lamp faults by street; says which streets are dark at night now."""

    def __init__(self, asset_of: Callable[[str], Any], lamps: int = STREET_DARK_LAMPS, share: float = STREET_DARK_SHARE,
                 lighting: Callable[[], dict[str, Any]] | None = None) -> None:
        self.asset_of = asset_of
        self.lamps = lamps
        self.share = share
        self.lighting = lighting  # the lighting assets by id (to count each street's lamps); None: no share rule
        self._sizes: dict[str, int] = {}
        self._sized_at = -1
        self._by_street: dict[str, dict[str, str]] = {}  # street -> {lamp fault alarm id: lamp id}
        self._street_of: dict[str, str] = {}

    def fault(self, alarm_id: str, lamp_id: str) -> None:
        """A lamp fault is active."""
        rec = self.asset_of(lamp_id)
        street = (getattr(rec, "refs", None) or {}).get("street")
        if street:
            self._by_street.setdefault(street, {})[alarm_id] = lamp_id
            self._street_of[alarm_id] = street

    def repaired(self, alarm_id: str) -> None:
        """A lamp fault ended (or is gone)."""
        street = self._street_of.pop(alarm_id, None)
        if street is not None:
            lamps = self._by_street.get(street, {})
            lamps.pop(alarm_id, None)
            if not lamps:
                self._by_street.pop(street, None)

    def dark(self) -> dict[str, tuple[int, str]]:
        """Streets dark at night now: street -> (dead lamps, a lamp of it)."""
        out = {}
        sizes = self._street_sizes()
        for street, lamps in self._by_street.items():
            if len(lamps) < self.lamps or len(lamps) < self.share * sizes.get(street, 0):
                continue
            if self._lit(lamps.values()):
                out[street] = (len(lamps), min(lamps.values()))
        return out

    def _street_sizes(self) -> dict[str, int]:
        """Lamps per street, counted again when the number of lighting assets changed."""
        if self.lighting is None:
            return {}
        assets = self.lighting()
        if len(assets) != self._sized_at:
            sizes: dict[str, int] = {}
            for rec in assets.values():
                street = (getattr(rec, "refs", None) or {}).get("street")
                if street:
                    sizes[street] = sizes.get(street, 0) + 1
            self._sizes, self._sized_at = sizes, len(assets)
        return self._sizes

    def _lit(self, lamp_ids: Any) -> bool:
        for lamp in lamp_ids:
            cabinet = (getattr(self.asset_of(lamp), "refs", None) or {}).get("cabinet")
            values = getattr(self.asset_of(cabinet), "values", None) if cabinet else None
            if values and values.get("powerState") in LIT:
                return True
        return False
