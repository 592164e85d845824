"""Flood control by design: an alarm whose cause is an active alarm upstream is suppressed under it.

The rules are a table: parent code, child code, and the keys that relate them, read from the asset
relations supervisors send in `state` (refs and geometry): a parent and a child sharing a key are
related. Active alarms are indexed by key, so a flood of thousands of children costs a lookup each.
A supervisor may also name the parent itself with the optional `cause` of an alarm event; that wins.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol

from .alarm_record import AlarmRecord


class AssetView(Protocol):
    """What flood rules read of an asset (services.core.assets.AssetRecord fits)."""

    id: str
    refs: dict
    geometry: dict | None


AssetLookup = Callable[[str], Any]
KeyFn = Callable[[AlarmRecord, "AssetView | None"], Iterable[str]]
_ID = re.compile(r"[A-Za-z0-9:._~@/+-]+")


def own_asset_as(key: str) -> KeyFn:
    """The alarm's own asset, as what its children name in `refs[key]` (a cabinet for its lamps)."""

    def keys(alarm: AlarmRecord, asset: AssetView | None) -> tuple[str, ...]:
        return (f"{key}={alarm.asset}",)

    keys.__name__ = f"own_asset_as_{key}"
    return keys


def ref(key: str) -> KeyFn:
    """The asset's `refs[key]`: a lamp's cabinet, a sensor's or a pump's pressure zone."""

    def keys(alarm: AlarmRecord, asset: AssetView | None) -> tuple[str, ...]:
        value = asset.refs.get(key) if asset is not None else None
        return (f"{key}={value}",) if value else ()

    keys.__name__ = f"ref_{key}"
    return keys


UPSTREAM_MAX = 200  # pipes walked up from a sensor (the network is a tree fed from its reservoirs)


def own_pipe(alarm: AlarmRecord, asset: AssetView | None) -> tuple[str, ...]:
    """A leak: the pipe it is on (its children are the sensors on it or downstream of it)."""
    return (f"pipe={alarm.asset}",)


def pipes_upstream(alarm: AlarmRecord, asset: AssetView | None, lookup: AssetLookup) -> tuple[str, ...]:
    """A pressure sensor: its pipe and every pipe upstream of it (each pipe's `refs.upstream`), nearest first."""
    pipe = asset.refs.get("pipe") if asset is not None else None
    out: list[str] = []
    seen: set[str] = set()
    while pipe and pipe not in seen and len(out) < UPSTREAM_MAX:
        seen.add(pipe)
        out.append(f"pipe={pipe}")
        rec = lookup(pipe)
        pipe = (getattr(rec, "refs", None) or {}).get("upstream")
    return tuple(out)


pipes_upstream.needs_lookup = True  # type: ignore[attr-defined]


def ends(alarm: AlarmRecord, asset: AssetView | None) -> tuple[str, ...]:
    """A line's two end points, rounded to 1e-6 degree (segments sharing one are neighbours)."""
    g = asset.geometry if asset is not None else None
    if not g or g.get("type") != "LineString":
        return ()
    c = g["coordinates"]
    return tuple(f"end={round(p[0], 6)},{round(p[1], 6)}" for p in (c[0], c[-1]))


def ends_or_self(alarm: AlarmRecord, asset: AssetView | None) -> tuple[str, ...]:
    """A blocked segment: its end points, and its id (a congestion message may name it)."""
    return (*ends(alarm, asset), alarm.asset)


def ends_or_named(alarm: AlarmRecord, asset: AssetView | None) -> tuple[str, ...]:
    """A congested segment: its end points, and the ids its message names."""
    return (*ends(alarm, asset), *_ID.findall(alarm.message))


@dataclass(frozen=True, slots=True)
class FloodRule:
    """An active `parent_code` alarm suppresses the `child_code` alarms that share one of its keys."""

    parent_code: str
    child_code: str
    parent_keys: KeyFn
    child_keys: KeyFn
    description: str


FLOOD_RULES: tuple[FloodRule, ...] = (
    FloodRule("cabinet_trip", "lamp_off", own_asset_as("cabinet"), ref("cabinet"),
              "a tripped lighting cabinet hides the lamp-off alarms of its lamps (lamp refs.cabinet)"),
    FloodRule("pump_fault", "low_pressure", ref("zone"), ref("zone"),
              "a stopped pump hides the low-pressure alarms of the sensors of its zone (refs.zone)"),
    FloodRule("leak_suspected", "low_pressure", own_pipe, pipes_upstream,
              "a suspected leak hides the low-pressure alarms of the sensors on its pipe or downstream of it "
              "(the sensor's refs.pipe, then each pipe's refs.upstream)"),
    FloodRule("incident", "congestion", ends_or_self, ends_or_named,
              "a blocked segment hides the congestion alarms of the segments sharing one of its ends (or naming it)"),
)
Slot = tuple[int, str]  # (rule index, key)


class Flood:
    """Indexes the active alarms the rules relate, by key: finding a parent or children is a lookup, not a scan."""

    def __init__(self, asset_of: AssetLookup, rules: Iterable[FloodRule] = FLOOD_RULES) -> None:
        self.asset_of = asset_of
        self.rules = tuple(rules)
        self.by_child: dict[str, list[int]] = {}
        self.by_parent: dict[str, list[int]] = {}
        for i, r in enumerate(self.rules):
            self.by_child.setdefault(r.child_code, []).append(i)
            self.by_parent.setdefault(r.parent_code, []).append(i)
        self._parents: dict[Slot, dict[str, AlarmRecord]] = {}
        self._children: dict[Slot, dict[str, AlarmRecord]] = {}
        self._slots: dict[str, list[tuple[dict[Slot, dict[str, AlarmRecord]], Slot]]] = {}  # alarm id -> where it is

    def activate(self, a: AlarmRecord) -> None:
        """Index an alarm whose condition became active (parents and children of some rule only)."""
        if a.id in self._slots or (a.code not in self.by_parent and a.code not in self.by_child):
            return
        asset = self.asset_of(a.asset)
        placed = self._slots[a.id] = []
        for index, i in ((self._parents, i) for i in self.by_parent.get(a.code, ())):
            for key in self.rules[i].parent_keys(a, asset):
                index.setdefault((i, key), {})[a.id] = a
                placed.append((index, (i, key)))
        for index, i in ((self._children, i) for i in self.by_child.get(a.code, ())):
            fn = self.rules[i].child_keys
            for key in fn(a, asset, self.asset_of) if getattr(fn, "needs_lookup", False) else fn(a, asset):
                index.setdefault((i, key), {})[a.id] = a
                placed.append((index, (i, key)))

    def deactivate(self, alarm_id: str) -> None:
        """Forget an alarm whose condition returned to normal (or that is gone)."""
        for index, slot in self._slots.pop(alarm_id, ()):
            found = index.get(slot)
            if found is not None:
                found.pop(alarm_id, None)
                if not found:
                    del index[slot]

    def parent_of(self, child: AlarmRecord) -> AlarmRecord | None:
        """The active alarm upstream that causes `child`, if any (the oldest when several)."""
        best: AlarmRecord | None = None
        for index, slot in self._slots.get(child.id, ()):
            if index is not self._children:
                continue
            for p in self._parents.get(slot, {}).values():
                if p.id != child.id and p.domain == child.domain and (best is None or (p.seen_at, p.id) < (best.seen_at, best.id)):
                    best = p
        return best

    def children_of(self, parent: AlarmRecord) -> list[AlarmRecord]:
        """The active alarms `parent` causes."""
        out: dict[str, AlarmRecord] = {}
        for index, slot in self._slots.get(parent.id, ()):
            if index is self._parents:
                out.update((c.id, c) for c in self._children.get(slot, {}).values() if c.id != parent.id and c.domain == parent.domain)
        return list(out.values())
