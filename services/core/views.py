"""Read-only views of the core: immutable snapshots its single writer publishes and any thread reads without a lock.

After each turn, the writer (the engine thread) calls `CoreViews.publish(events, now)`: the next `CoreView` is built
from the previous one and what the events say changed, then one reference is swapped. A reader takes
`views.current` once; everything it reads from that object is one moment of the core, however long it then takes
to filter, sort and serialise. A turn's cost follows what changed: a domain's assets live in a `FrozenMap` whose
next version copies only the buckets holding a changed asset (a bucket is 1/512 of the domain: ~60 lamps of 30,000).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, Iterable, Iterator, Mapping, TypeVar

import msgspec

from .alarm_states import PRIORITY_RANK
from .events import AlarmsChanged, AssetsChanged, AssetsRemoved, Event, KpisChanged, SupervisorChanged

if TYPE_CHECKING:
    from .hypervisor import Hypervisor

V = TypeVar("V")
DOMAINS = ("lighting", "water", "traffic")
BUCKETS = 512
_encode = msgspec.json.Encoder().encode
_EMPTY: dict = {}  # the bucket every empty slot shares (never written)


class FrozenMap(Generic[V]):
    """An immutable map from str; `evolve` returns a new version that shares every bucket it does not change."""

    __slots__ = ("_buckets", "_len")

    def __init__(self, items: Mapping[str, V] | None = None) -> None:
        buckets: list[dict[str, V]] = [_EMPTY] * BUCKETS
        for k, v in (items or {}).items():
            i = hash(k) & (BUCKETS - 1)
            if buckets[i] is _EMPTY:
                buckets[i] = {}
            buckets[i][k] = v
        self._buckets: tuple[dict[str, V], ...] = tuple(buckets)
        self._len = sum(len(b) for b in buckets)

    def get(self, key: str, default: Any = None) -> V | Any:
        """The value of `key`, or `default`."""
        return self._buckets[hash(key) & (BUCKETS - 1)].get(key, default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._buckets[hash(key) & (BUCKETS - 1)]

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[str]:
        for b in self._buckets:
            yield from b

    def values(self) -> Iterator[V]:
        """Every value (in no particular order)."""
        for b in self._buckets:
            yield from b.values()

    def evolve(self, changes: Mapping[str, V | None]) -> tuple["FrozenMap[V]", bool]:
        """A new version with `changes` applied (None removes a key); and whether the set of keys changed."""
        if not changes:
            return self, False
        buckets = list(self._buckets)
        copied: set[int] = set()
        n, keys_changed = self._len, False
        for k, v in changes.items():
            i = hash(k) & (BUCKETS - 1)
            if i not in copied:
                buckets[i] = dict(buckets[i])
                copied.add(i)
            b = buckets[i]
            if v is None:
                if b.pop(k, None) is not None:
                    n -= 1
                    keys_changed = True
            else:
                if k not in b:
                    n += 1
                    keys_changed = True
                b[k] = v
        out = FrozenMap.__new__(FrozenMap)
        out._buckets, out._len = tuple(buckets), n
        return out, keys_changed


class AssetView(msgspec.Struct, frozen=True, gc=False):
    """One asset at one moment: identity, place, relations, a copy of its values, its condition.

    `updated` (time of the latest reading) is read from the live record: a reading that changes nothing makes no
    new version (that would cost a copy per reading), yet says the asset still speaks. The core replaces an asset's
    geometry, refs and props when it is redefined (never edits them), so sharing them is safe; its values dict is
    edited in place, hence the copy.
    """

    id: str
    domain: str
    supervisor: str
    type: str
    name: str
    geometry: dict | None
    refs: dict
    props: dict
    values: dict
    condition: str
    record: Any

    @classmethod
    def of(cls, a: Any) -> "AssetView":
        """The view of an AssetRecord now."""
        return cls(a.id, a.domain, a.supervisor, a.type, a.name, a.geometry, a.refs, a.props, dict(a.values), a.condition, a)

    @property
    def updated(self) -> float | None:
        """When the asset last reported (see the class docstring)."""
        return self.record.updated

    @property
    def point(self) -> tuple[float, float] | None:
        """A representative (lon, lat): the point, or a line's middle vertex."""
        g = self.geometry
        if g is None:
            return None
        c = g["coordinates"]
        if g["type"] == "Point":
            return c[0], c[1]
        mid = c[len(c) // 2]
        return mid[0], mid[1]

    def to_dict(self) -> dict:
        """The asset in AssetRecord.to_dict's shape (nested objects shared: copy before handing it out)."""
        return {"id": self.id, "domain": self.domain, "supervisor": self.supervisor, "type": self.type, "name": self.name,
                "geometry": self.geometry, "refs": self.refs, "props": self.props, "values": self.values,
                "condition": str(self.condition), "updated": self.record.updated}


class AlarmView(msgspec.Struct, frozen=True, gc=False):
    """One alarm at one moment: its domain, what orders it in a list, and its JSON (AlarmRecord.to_dict)."""

    id: str
    domain: str
    active: bool
    rank: int  # PRIORITY_RANK of its priority
    raised_at: float
    updated_at: float
    doc: bytes


class DomainView:
    """One domain's assets at one moment, and their ids in order (sorted once per set of assets, by the first reader)."""

    __slots__ = ("domain", "assets", "_ids")

    def __init__(self, domain: str, assets: FrozenMap[AssetView], ids: tuple[str, ...] | None = None) -> None:
        self.domain = domain
        self.assets = assets
        self._ids = ids

    def ids(self) -> tuple[str, ...]:
        """Every asset id, sorted (two readers racing compute the same tuple: harmless)."""
        ids = self._ids
        if ids is None:
            ids = self._ids = tuple(sorted(self.assets))
        return ids

    def evolve(self, changes: Mapping[str, AssetView | None]) -> tuple["DomainView", bool]:
        """The next version, and whether an asset came or went (else the sorted ids carry over)."""
        assets, keys_changed = self.assets.evolve(changes)
        return DomainView(self.domain, assets, None if keys_changed else self._ids), keys_changed


@dataclass(frozen=True, slots=True)
class CoreView:
    """The core at the end of one turn: what every reader of the live state reads."""

    version: int
    at: float  # the turn's `now`
    domains: Mapping[str, DomainView]
    alarms: FrozenMap[AlarmView]
    kpis: bytes  # core.kpis()
    kpi_history: Mapping[str, bytes]  # domain -> {kpi key: [[t, v], ...]}
    supervisors: bytes  # core.supervisors(at): readers recompute each age on their own clock
    summary: bytes  # core.summary(at)


def _alarm(a: Any) -> AlarmView:
    return AlarmView(a.id, a.domain, a.active, PRIORITY_RANK[a.priority], a.raised_at, a.updated_at, _encode(a.to_dict()))


class CoreViews:
    """The latest CoreView of one core, and how its single writer publishes the next one."""

    def __init__(self, core: "Hypervisor", now: float = 0.0, *, summary_every_s: float = 1.0, alarms_every_s: float = 30.0) -> None:
        self.core = core
        self.summary_every_s = summary_every_s  # the summary's counts and rates move with time
        self.alarms_every_s = alarms_every_s  # every alarm rewritten this often: a safety net for a change without event
        self._health: tuple = ()
        self._bus_up = core.bus_up
        self._sampled: dict[str, float | None] = {}
        self._summary_at = self._alarms_at = now
        self.current = self._everything(now, 0)

    def _everything(self, now: float, version: int) -> CoreView:
        core = self.core
        domains = {d: DomainView(d, FrozenMap({aid: AssetView.of(a) for aid, a in core.state.domain(d).items()})) for d in DOMAINS}
        self._health = self._health_key()
        self._sampled = {d: core.kpi_history.sampled_at(d) for d in DOMAINS}
        return CoreView(version, now, MappingProxyType(domains), FrozenMap({a.id: _alarm(a) for a in core.alarms.all()}),
                        _encode(core.kpis()), MappingProxyType({d: self._history(d) for d in DOMAINS}),
                        _encode(core.supervisors(now)), _encode(core.summary(now)))

    def rebuild(self, now: float) -> CoreView:
        """Publish everything again (O(domain): at start, or after the core changed without events)."""
        self.current = self._everything(now, self.current.version + 1)
        self._summary_at = self._alarms_at = now
        return self.current

    def publish(self, events: Iterable[Event], now: float) -> CoreView:
        """After a turn: the next view, from what `events` say changed (and the supervisors' health, which moves with
        every message). Costs what changed, not the domain's size; returns the same view when nothing did."""
        core, old = self.core, self.current
        assets: dict[str, dict[str, AssetView | None]] = {}
        alarm_ids: set[str] = set()
        kpi_domains: set[str] = set()
        summary = False
        for ev in events:
            t = type(ev)
            if t is AssetsChanged or t is AssetsRemoved:
                assets.setdefault(ev.domain, {}).update(dict.fromkeys(ev.asset_ids))
                summary = summary or t is AssetsRemoved
            elif t is AlarmsChanged:
                alarm_ids.update(ev.alarm_ids)
            elif t is KpisChanged:
                kpi_domains.add(ev.domain)
            elif t is SupervisorChanged:
                summary = True
        domains = old.domains
        if assets:
            get, changed = core.state.get, dict(old.domains)
            for d, ids in assets.items():
                if d not in changed:
                    continue  # not a domain of the territory's model
                for aid in ids:
                    a = get(aid)
                    ids[aid] = AssetView.of(a) if a is not None and a.domain == d else None
                changed[d], came_or_went = old.domains[d].evolve(ids)
                summary = summary or came_or_went
            domains = MappingProxyType(changed)
        alarms = old.alarms
        if now - self._alarms_at >= self.alarms_every_s:
            self._alarms_at = now
            alarms = FrozenMap({a.id: _alarm(a) for a in core.alarms.all()})
            summary = True
        elif alarm_ids:
            alarms, _ = alarms.evolve({aid: (_alarm(a) if (a := core.alarms.get(aid)) is not None else None) for aid in alarm_ids})
            summary = True
        history = old.kpi_history
        sampled = {d: core.kpi_history.sampled_at(d) for d in DOMAINS}
        stale = kpi_domains | {d for d in DOMAINS if sampled[d] != self._sampled.get(d)}
        if stale:
            self._sampled = sampled
            history = MappingProxyType({d: self._history(d) if d in stale else old.kpi_history[d] for d in DOMAINS})
        health = self._health_key()
        supervisors = old.supervisors
        if health != self._health:
            self._health = health
            supervisors = _encode(core.supervisors(now))
        if core.bus_up != self._bus_up or now - self._summary_at >= self.summary_every_s:
            self._bus_up = core.bus_up
            summary = True
        if not (assets or alarms is not old.alarms or kpi_domains or history is not old.kpi_history or supervisors is not old.supervisors
                or summary):
            return old
        if summary:
            self._summary_at = now
        self.current = CoreView(old.version + 1, now, domains, alarms, _encode(core.kpis()) if kpi_domains else old.kpis, history,
                                supervisors, _encode(core.summary(now)) if summary else old.summary)
        return self.current

    def _health_key(self) -> tuple:
        return tuple((h.id, h.last_seen, h.status, h.reason, h.assets, h.seq, sum(h.messages.values())) for h in self.core.health.all())

    def _history(self, domain: str) -> bytes:
        core = self.core
        return _encode({k["key"]: core.kpi_history.series(domain, k["key"]) for k in core.kpis()[domain]})
