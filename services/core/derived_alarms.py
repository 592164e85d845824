"""Alarms Vigie derives from maintenance conditions: a street dark at night.

One dead lamp is maintenance (a work order), but `STREET_DARK_LAMPS` dead lamps on one street while its cabinet is
lit (the schedule says night) leave the street dark: that the control room must know. Pure: the book tells it which
lamp faults are active, it reads the lamps' refs (`street`, `cabinet`) and the cabinet's `powerState`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

STREET_DARK_LAMPS = 3  # dead lamps on one street, at night, that make it an operator alarm
LIT = ("on", "low")


class StreetDark:
    """Active lamp faults by street; says which streets are dark at night now."""

    def __init__(self, asset_of: Callable[[str], Any], lamps: int = STREET_DARK_LAMPS) -> None:
        self.asset_of = asset_of
        self.lamps = lamps
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
        for street, lamps in self._by_street.items():
            if len(lamps) >= self.lamps and self._lit(lamps.values()):
                out[street] = (len(lamps), min(lamps.values()))
        return out

    def _lit(self, lamp_ids: Any) -> bool:
        for lamp in lamp_ids:
            cabinet = (getattr(self.asset_of(lamp), "refs", None) or {}).get("cabinet")
            values = getattr(self.asset_of(cabinet), "values", None) if cabinet else None
            if values and values.get("powerState") in LIT:
                return True
        return False
