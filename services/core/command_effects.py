"""Before sending: which assets a selection stands for, what the command will do, and whether it is large.

A selection is asset ids, area ids (cabinet, group, street, district, commune: every asset
whose relations name them) and/or a polygon drawn on the map. `plan_command` expands it
against the live state, checks the command (`CommandInvalid` says why it is refused), and
returns a `Plan`: the supervisor, the targets to send, the expected effect with the current
state, and the large-effect rules it trips (those need a reason and a second confirmation).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

from .assets import AssetRecord, TerritoryState
from .command_specs import ActionSpec, CommandInvalid, LargeRules, ParamValue, spec_for
from .command_impact import current_state, domain_effect, downstream, large_effects

MAX_TARGETS = 200_000  # the contract's limit on one command
MAX_POLYGON_POINTS = 2000
AREA_KEYS = ("cabinet", "group", "street", "district", "commune", "zone", "pipe", "segment")


@dataclass(frozen=True, slots=True)
class Selection:
    """What the operator picked: asset or area ids, and/or a polygon (lon, lat ring) drawn on the map."""

    ids: tuple[str, ...] = ()
    polygon: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """An operator's command before expansion: domain, action, parameters, selection, and the confirmation."""

    domain: str
    action: str
    params: Mapping[str, ParamValue]
    selection: Selection
    reason: str = ""
    confirm: bool = False
    key: str | None = None  # the client's idempotency key

    def fingerprint(self) -> str:
        """A digest of what is commanded (not the reason or the key): a retry has the same one."""
        body = [self.domain, self.action, sorted((k, v) for k, v in self.params.items() if v is not None),
                list(self.selection.ids), [list(p) for p in self.selection.polygon]]
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class LargeEffect:
    """A large-effect rule the command trips, with what it would do."""

    rule: str
    message: str
    values: Mapping[str, Any] = field(default_factory=dict)  # the figures of the message, to say it in other words


@dataclass(frozen=True, slots=True)
class Plan:
    """A checked command, ready to send: who receives it, on what, and what it will do."""

    request: CommandRequest
    params: dict[str, ParamValue]
    supervisor: str
    targets: tuple[str, ...]  # what is sent (lighting may send area ids; the supervisor expands them)
    assets: tuple[str, ...]  # every asset expected to act
    label: str
    effect: dict[str, Any]
    current: dict[str, Any]
    large: tuple[LargeEffect, ...] = ()
    bbox: tuple[float, float, float, float] | None = None
    highlight: tuple[str, ...] = field(default=())  # other assets affected (downstream sensors, nearby segments)

    def to_dict(self, max_ids: int = 2000) -> dict[str, Any]:
        """JSON-ready, for the confirmation dialog and `POST /api/v1/commands/preview`."""
        r = self.request
        return {
            "domain": r.domain, "action": r.action, "params": self.params, "supervisor": self.supervisor, "label": self.label,
            "count": len(self.assets), "assets": list(self.assets[:max_ids]), "targets": list(self.targets[:max_ids]),
            "effect": self.effect, "current": self.current, "large": [{"rule": x.rule, "message": x.message, "values": dict(x.values)} for x in self.large],
            "bbox": list(self.bbox) if self.bbox else None, "highlight": list(self.highlight[:max_ids]),
        }


def inside(lon: float, lat: float, ring: tuple[tuple[float, float], ...]) -> bool:
    """Is the point inside the polygon ring (even-odd rule)?"""
    hit = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / ((yj - yi) or 1e-300) + xi:
            hit = not hit
        j = i
    return hit


def _in_polygon(candidates: Iterable[AssetRecord], ring: tuple[tuple[float, float], ...]) -> list[AssetRecord]:
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    out = []
    for a in candidates:
        p = a.point
        if p is not None and x0 <= p[0] <= x1 and y0 <= p[1] <= y1 and inside(p[0], p[1], ring):
            out.append(a)
    return out


def _check_polygon(ring: tuple[tuple[float, float], ...]) -> None:
    if len(ring) < 3:
        raise CommandInvalid("a drawn area needs at least 3 points", "area")
    if len(ring) > MAX_POLYGON_POINTS:
        raise CommandInvalid(f"a drawn area may have at most {MAX_POLYGON_POINTS} points", "area")
    for lon, lat in ring:
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise CommandInvalid(f"a drawn area's point ({lon}, {lat}) is not a longitude/latitude", "area")


class _Expansion:
    """The assets a selection stands for, the targets to send, and how to name it."""

    def __init__(self, spec: ActionSpec, state: TerritoryState, names: Mapping[str, str]) -> None:
        self.spec, self.state, self.names = spec, state, names
        self.assets: dict[str, AssetRecord] = {}
        self.targets: list[str] = []
        self.parts: list[str] = []

    def add_ids(self, ids: tuple[str, ...]) -> None:
        spec, pool = self.spec, self.state.domain(self.spec.domain)
        areas: dict[str, str] = {}  # area id -> its kind, when known
        for tid in dict.fromkeys(ids):
            rec = self.state.get(tid)
            if rec is not None and rec.domain != spec.domain:
                raise CommandInvalid(f"{tid} is a {rec.domain} {rec.type}: {spec.name} acts on {spec.domain} assets only", "targets")
            if rec is not None and rec.type in spec.types:
                self.assets[tid] = rec
                self.targets.append(tid)
                self.parts.append(rec.name or tid)
            elif spec.areas:
                areas[tid] = ""
            elif rec is not None:
                raise CommandInvalid(f"{tid} is a {rec.type}: {spec.name} acts on {', '.join(sorted(spec.types))} assets only", "targets")
            else:
                raise CommandInvalid(f"unknown asset {tid!r}: not a {spec.domain} asset Vigie knows", "targets")
        if not areas:
            return
        members: dict[str, list[AssetRecord]] = {a: [] for a in areas}
        via: dict[str, list[str]] = {}  # area -> other assets naming it (a street's segments, for its signals)
        for a in pool.values():
            for key, ref in a.refs.items():
                if ref in areas:
                    areas[ref] = areas[ref] or key
                    (members[ref] if a.type in spec.types else via.setdefault(ref, [])).append(a)
        hops = {ref: {x.id for x in recs} for ref, recs in via.items() if not members[ref]}
        if hops:  # two hops: the signals next to a street's segments, the valves on a zone's pipes...
            for a in pool.values():
                if a.type in spec.types:
                    for ref, ids2 in hops.items():
                        if any(r in ids2 for r in a.refs.values()):
                            members[ref].append(a)
        for area, recs in members.items():
            if not recs:
                rec = self.state.get(area)
                what = f"{rec.type} {area}" if rec is not None else f"unknown asset or area {area!r}"
                raise CommandInvalid(f"{what}: no {'/'.join(sorted(spec.types))} of {spec.domain} to command there", "targets")
            for a in recs:
                self.assets.setdefault(a.id, a)
            self.targets.extend([area] if spec.send_areas else [a.id for a in recs])
            rec = self.state.get(area)
            if rec is not None and rec.name:  # a cabinet, a schedule group: their names say what they are
                self.parts.append(rec.name)
            else:
                self.parts.append(f"{areas[area] or 'area'} {self.names.get(area) or area}")

    def add_polygon(self, ring: tuple[tuple[float, float], ...]) -> None:
        _check_polygon(ring)
        pool = (a for a in self.state.domain(self.spec.domain).values() if a.type in self.spec.types)
        found = _in_polygon(pool, ring)
        if not found:
            raise CommandInvalid(f"the drawn area holds no {'/'.join(sorted(self.spec.types))}", "area")
        for a in found:
            if a.id not in self.assets:
                self.assets[a.id] = a
                self.targets.append(a.id)
        self.parts.append(f"drawn area ({len(found)})")


def _bbox(assets: Iterable[AssetRecord]) -> tuple[float, float, float, float] | None:
    pts = [p for p in (a.point for a in assets) if p is not None]
    if not pts:
        return None
    return (min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts))


def plan_command(request: CommandRequest, state: TerritoryState, *, names: Mapping[str, str] | None = None,
                 rules: LargeRules | None = None) -> Plan:
    """Expand, check and assess a command; raise CommandInvalid with the reason when it cannot be sent."""
    spec = spec_for(request.domain, request.action)
    params = spec.check(request.params)
    sel = request.selection
    if not sel.ids and not sel.polygon:
        raise CommandInvalid("nothing selected: pick assets or an area on the map", "targets")
    exp = _Expansion(spec, state, names or {})
    exp.add_ids(sel.ids)
    if sel.polygon:
        exp.add_polygon(sel.polygon)
    assets = list(exp.assets.values())
    if len(assets) > MAX_TARGETS:
        raise CommandInvalid(f"{len(assets):,} assets selected; one command acts on at most {MAX_TARGETS:,}", "targets")
    supervisors = sorted({a.supervisor for a in assets})
    if len(supervisors) > 1:
        raise CommandInvalid(f"the selection spans {len(supervisors)} supervisors ({', '.join(supervisors[:4])}): "
                             "send one command per supervisor", "targets")
    effect, highlight = domain_effect(spec, params, assets, state)
    touched = assets + [a for a in (state.get(x) for x in highlight) if a is not None]
    label = exp.parts[0] if len(exp.parts) == 1 else f"{len(exp.parts)} selections"
    if len(exp.parts) == 1 and sel.ids and len(assets) == 1:
        label = exp.parts[0]
    plan = Plan(request=request, params=params, supervisor=supervisors[0], targets=tuple(dict.fromkeys(exp.targets)),
                assets=tuple(exp.assets), label=label, effect=effect, current=current_state(spec, assets),
                bbox=_bbox(touched), highlight=tuple(highlight))
    large = large_effects(spec, params, plan, state, rules or LargeRules(), names or {})
    return replace(plan, large=tuple(LargeEffect(r, m, v) for r, m, v in large))


def selection_bbox(domain: str, ids: Iterable[str], state: TerritoryState) -> tuple[float, float, float, float] | None:
    """Where a selection lies (the assets named or naming them, and what a valve feeds), whatever the command."""
    wanted = set(ids)
    found = [a for a in state.domain(domain).values() if a.id in wanted or any(r in wanted for r in a.refs.values())]
    for valve in [a for a in found if a.type == "Valve"]:
        pipes, nodes = downstream(valve, state)
        found += [a for a in (state.get(x) for x in pipes + nodes) if a is not None]
    return _bbox(found)


def plan_features(plan: Plan, state: TerritoryState, cap: int = 20_000) -> tuple[dict, dict]:
    """The plan's assets (`h` 0) and the other assets it touches (`h` 1) as GeoJSON: (points, lines), for the map."""
    points, lines = [], []
    for h, ids in ((0, plan.assets[:cap]), (1, plan.highlight[:cap])):
        for aid in ids:
            a = state.get(aid)
            if a is None or a.geometry is None:
                continue
            f = {"type": "Feature", "geometry": a.geometry, "properties": {"id": aid, "h": h}}
            (points if a.geometry["type"] == "Point" else lines).append(f)
    return {"type": "FeatureCollection", "features": points}, {"type": "FeatureCollection", "features": lines}


def confirmation_problem(plan: Plan) -> str | None:
    """Why a large command cannot go yet (no reason, no second confirmation), or None."""
    if not plan.large:
        return None
    rules = "; ".join(x.message for x in plan.large)
    if len(plan.request.reason.strip()) < 5:
        return f"large effect ({rules}): give a reason (at least 5 characters)"
    if not plan.request.confirm:
        return f"large effect ({rules}): confirm a second time"
    return None
