"""A Hypervisor as versioned JSON and back: the journal's snapshots, a replay session's starting point.

An image has two parts: the asset definitions (identity, place, relations; large, and rarely
changing, so the journal stores each distinct version once) and everything that moves (values,
conditions, supervisor health, alarms with their lifecycle and KPI counters, KPI history, energy
meter, commands). `capture` reads a core, `restore` builds a new one that answers every reader
question as the original did (tests/unit/test_journal_image.py pins that).

The core has no persistence API of its own yet, so this module reads and sets a few of its
private fields, listed in one place below (PRIVATE_FIELDS); the test fails if they move.
"""
from __future__ import annotations

import gc
import hashlib
from collections import deque
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Iterator

import msgspec

from services.contract.messages import READING_TYPES
from services.core import CoreConfig, Hypervisor
from services.core.alarm_record import AlarmPolicy
from services.core.assets import AssetRecord, Condition
from services.core.health import Liveness, SupervisorHealth

FORMAT = 1
DOMAINS = ("lighting", "water", "traffic")
# reading fields that are datetimes in the core (JSON turns them into ISO strings)
DATETIME_FIELDS = frozenset(f for t in READING_TYPES.values() for f, a in t.__annotations__.items() if "Timestamp" in str(a))
# AlarmStats fields kept in an image: name -> kind ("deque:<maxlen attr>", "dict_int", "plain")
STATS_FIELDS = {"started": "plain", "_events": "deque", "_last10": "deque", "_last60": "deque", "_buckets": "dict_int",
                "_per_alarm": "plain", "_meta": "plain", "_by_priority": "plain", "_acks": "deque", "_ack_sum": "plain",
                "_last_seen": "plain", "_standing": "deque", "_maintenance": "deque"}
PRIVATE_FIELDS = ("TerritoryState._assets", "TerritoryState._by_domain", "Hypervisor._domain_ts", "Hypervisor._kpi_ts", "Hypervisor._energy", "Hypervisor._dirty_domains",
                  "SupervisorRegistry._sups", "KpiHistory._series", "KpiHistory._last_sample", "EnergyMeter._last",
                  "EnergyMeter._day", "ChatterDetector._seen", "ChatterDetector._flagged", *(f"AlarmStats.{f}" for f in STATS_FIELDS))

ASSET_SLOTS = ("id", "domain", "supervisor", "type", "name", "geometry", "refs", "props", "values", "condition", "updated", "heard",
               "tally")  # tally: worked out again from the values (TerritoryState.retally)
Defs = dict[str, dict[str, list[dict]]]  # domain -> supervisor -> asset definitions (AssetDef shapes)
_encode = msgspec.json.Encoder().encode
_defs_decoder = msgspec.json.Decoder(Defs)


class ImageError(ValueError):
    """An image that cannot be read (unknown format, damaged)."""


@contextmanager
def gc_paused() -> Iterator[None]:
    """Keep the cycle collector off while millions of small objects are built (3x faster loads)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# --- capture --------------------------------------------------------------------------------


def definitions(core: Hypervisor) -> bytes:
    """The asset definitions, per domain and supervisor, as JSON bytes (AssetDef shapes)."""
    out: dict[str, dict[str, list[dict]]] = {}
    for d in DOMAINS:
        by_sup: dict[str, list[dict]] = out.setdefault(d, {})
        for a in core.state.domain(d).values():
            item: dict[str, Any] = {"id": a.id, "type": a.type}
            if a.name:
                item["name"] = a.name
            if a.geometry is not None:
                item["geometry"] = a.geometry
            if a.refs:
                item["refs"] = a.refs
            if a.props:
                item["props"] = a.props
            by_sup.setdefault(a.supervisor, []).append(item)
    return _encode(out)


def defs_id(raw: bytes) -> str:
    """A content id for a definitions document (the same assets give the same id)."""
    return hashlib.blake2b(raw, digest_size=12).hexdigest()


def capture(core: Hypervisor, now: float, defs: str, only: dict[str, set[str]] | None = None,
            alarms_only: set[str] | None = None) -> dict:
    """Everything that moves in `core`, JSON-ready, naming the definitions document `defs`.

    With `only` and `alarms_only`, the values of those assets and the records of those alarms alone, with
    the ids of every alarm held (a partial image, completed by a full one: `complete`)."""
    stats = core.alarms.stats
    chatter = core.alarms.chatter
    energy = core._energy
    return {
        "format": FORMAT, "t": now, "defs": defs,
        "values": {d: [[a.id, a.values, str(a.condition), a.updated] for a in _assets(core, d, only)] for d in DOMAINS},
        "health": [{k: getattr(h, k) for k in SupervisorHealth.__slots__} for h in core.health.all()],
        "alarms": [a.to_record() for a in core.alarms.all() if alarms_only is None or a.id in alarms_only],
        **({"alarm_ids": [a.id for a in core.alarms.all()]} if alarms_only is not None else {}),
        "policy": core.alarms.policy.to_dict(),
        "alarm_stats": {name: _dump(getattr(stats, name), kind) for name, kind in STATS_FIELDS.items()},
        "chatter": {"seen": {k: list(v) for k, v in chatter._seen.items()}, "flagged": dict(chatter._flagged)},
        "kpi_history": {"series": [[d, k, list(s)] for (d, k), s in core.kpi_history._series.items()],
                        "last_sample": dict(core.kpi_history._last_sample)},
        "energy": {"kwh": energy.kwh, "last": energy._last, "day": energy._day.isoformat() if energy._day else None},
        "domain_ts": dict(core._domain_ts), "kpi_ts": dict(core._kpi_ts), "bus_up": core.bus_up,
        "commands": [r.to_dict() for r in core.commands.records.values()],
        "registry": [e.to_record() for e in core.registry.all()],
    }


def complete(partial: dict, full: dict) -> dict:
    """A partial image made whole with its full image (`full`: values by domain and id, alarms by id)."""
    values = {}
    for domain, by_id in full["values"].items():
        changed = {row[0]: row for row in partial["values"].get(domain, ())}
        values[domain] = [changed.get(aid, row) for aid, row in by_id.items()] + [r for aid, r in changed.items() if aid not in by_id]
    alarms = {a["id"]: a for a in partial["alarms"]}
    held = [alarms.get(aid) or full["alarms"].get(aid) for aid in partial.get("alarm_ids", alarms)]
    return {**partial, "values": values, "alarms": [a for a in held if a is not None]}


def _assets(core: Hypervisor, domain: str, only: dict[str, set[str]] | None) -> list:
    by_id = core.state.domain(domain)
    if only is None:
        return list(by_id.values())
    return [by_id[aid] for aid in only.get(domain, ()) if aid in by_id]


def _dump(value: Any, kind: str) -> Any:
    if kind == "deque":
        return list(value)
    if kind == "dict_int":
        return [[k, v] for k, v in value.items()]
    return value


# --- restore --------------------------------------------------------------------------------


def decode_defs(raw: bytes) -> Defs:
    """Parse a definitions document (written by `definitions`: trusted, so not validated field by field)."""
    try:
        with gc_paused():
            return _defs_decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as err:
        raise ImageError(f"asset definitions unreadable: {err}") from err


def restore(image: dict, defs: Defs, config: CoreConfig | None = None) -> Hypervisor:
    """A new core in the state the image describes."""
    if image.get("format") != FORMAT:
        raise ImageError(f"unknown image format {image.get('format')!r}")
    core = Hypervisor(config)
    try:
        with gc_paused():
            _restore_assets(core, image, defs)
        _restore_health(core, image["health"])
        _restore_registry(core, image)
        core.alarms.set_policy(AlarmPolicy.from_dict(image.get("policy", {})))
        core.alarms.restore(image["alarms"])
        _restore_alarm_counters(core, image)
        _restore_kpis(core, image)
        core.commands.restore(image.get("commands", []), core.state, image["t"])
        core.alarms.take_touched()
        core.alarms.take_journal()
    except (KeyError, TypeError, ValueError) as err:
        raise ImageError(f"damaged image: {type(err).__name__}: {err}") from err
    return core


def _record(domain: str, supervisor: str, d: dict) -> AssetRecord:
    """An asset record straight from a stored definition (its geometry, refs and props are shared, never mutated)."""
    rec = AssetRecord.__new__(AssetRecord)
    rec.id, rec.domain, rec.supervisor, rec.type, rec.name = d["id"], domain, supervisor, d["type"], d.get("name", "")
    rec.geometry, rec.refs, rec.props = d.get("geometry"), d.get("refs", {}), d.get("props", {})
    rec.values, rec.condition, rec.updated, rec.heard = {}, Condition.UNKNOWN, None, None  # heard: Vigie's time, not kept
    rec.tally = None
    return rec


def _restore_assets(core: Hypervisor, image: dict, defs: Defs) -> None:
    everything, by_domain = core.state._assets, core.state._by_domain
    for domain, by_sup in defs.items():
        index = by_domain[domain]
        for supervisor, items in by_sup.items():
            for d in items:
                everything[d["id"]] = index[d["id"]] = _record(domain, supervisor, d)
    for domain, rows in image["values"].items():
        for aid, values, condition, updated in rows:
            rec = core.state.get(aid)
            if rec is None:
                continue
            values = dict(values)  # the image may be shared (a full one completes several partial ones)
            for f in DATETIME_FIELDS.intersection(values):
                if isinstance(values[f], str):
                    values[f] = datetime.fromisoformat(values[f])
            rec.values, rec.condition, rec.updated = values, Condition(condition), updated
    core.state.retally()


def _restore_health(core: Hypervisor, rows: list[dict]) -> None:
    sups = core.health._sups
    for row in rows:
        h = SupervisorHealth(**{k: row[k] for k in SupervisorHealth.__slots__ if k in row})
        h.status = Liveness(h.status)
        sups[h.id] = h


def _restore_registry(core: Hypervisor, image: dict) -> None:
    """The supervisors the core knew (declared ones as learned: a replay has no configuration file of its own)."""
    records = image.get("registry")
    if records is None:  # an image older than the registry: every supervisor it had heard of was approved
        records = [{"id": h["id"], "domain": h["domain"], "standing": "approved", "origin": "learned"} for h in image["health"]]
    core.registry.restore([{**r, "origin": "learned"} if r.get("origin") == "declared" else r for r in records], {})
    core.registry.take_changed()


def _restore_alarm_counters(core: Hypervisor, image: dict) -> None:
    stats = core.alarms.stats
    for name, kind in STATS_FIELDS.items():
        raw = image["alarm_stats"].get(name)
        if raw is None and name in ("_standing", "_maintenance"):
            continue  # an image older than these counters: no samples, no maintenance opened, as the core starts
        if kind == "deque":
            current = getattr(stats, name)
            setattr(stats, name, deque((tuple(x) if isinstance(x, list) else x for x in raw), maxlen=current.maxlen))
        elif kind == "dict_int":
            setattr(stats, name, {int(k): v for k, v in raw})
        elif name == "_meta":
            setattr(stats, name, {k: tuple(v) for k, v in raw.items()})
        else:
            setattr(stats, name, raw)
    chatter = core.alarms.chatter
    chatter._seen = {k: deque(v) for k, v in image["chatter"]["seen"].items()}
    chatter._flagged = dict(image["chatter"]["flagged"])
    for aid in chatter._flagged:
        a = core.alarms.get(aid)
        if a is not None:
            a.chattering = True


def _restore_kpis(core: Hypervisor, image: dict) -> None:
    hist = core.kpi_history
    for domain, key, series in image["kpi_history"]["series"]:
        hist._series[(domain, key)] = deque(tuple(p) for p in series)
    hist._last_sample = dict(image["kpi_history"]["last_sample"])
    e = image["energy"]
    core._energy.kwh = e["kwh"]
    core._energy._last = tuple(e["last"]) if e["last"] else None
    core._energy._day = date.fromisoformat(e["day"]) if e["day"] else None
    core._domain_ts = dict(image["domain_ts"])
    core._kpi_ts = {}  # recomputed at the next tick, from the restored values
    core._dirty_domains = set(DOMAINS)
    core.bus_up = image.get("bus_up", True)
    core.tick(image["t"])  # KPIs from the restored assets; no time has passed, so nothing else moves
