"""Build a Vigie asset definition and reading from an NGSI entity of a mapped model.

Only the attributes listed in `models.py` become readings (trusted: they drive conditions and
KPIs). Known static attributes become `props` under their own names; every other attribute is
kept as an untrusted `props["ngsi.<name>"]` (a scalar, or compact JSON up to 200 characters). The attributes'
sub-attributes (NGSI-LD `observedBy`, `providedBy`, `reliability`..., NGSIv2 metadata other than the unit and the
observation time, which are read) are kept together in `props["ngsi.subs"]` (compact JSON up to 4,000 characters), to
go back out on the same attributes (services/ngsi/outbound.py).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Callable

import msgspec

from services.contract.messages import READING_TYPES, AssetDef

from .entities import Attr, Entity, scalar
from .geometry import to_contract_geometry
from .models import DEVICE_READINGS, DEVICE_STATE, SKIPPED, Model, words
from .results import CODE, UNSAFE_TEXT, MapError, Mapped, asset_id, ref_id
from .units import UnitError, convert, instant

MAX_PROPS, MAX_REFS, MAX_PROP_TEXT, MAX_SUBS_TEXT = 32, 16, 200, 4000
SUBS_PROP = "ngsi.subs"
READ_SUBS = frozenset({"unitCode", "observedAt", "TimeInstant", "dateObserved", "timestamp"})  # consumed, not kept
# Where an entity says when its values were observed, most precise first: the readings' own `observedAt` (NGSI-LD)
# or time metadata (NGSIv2), then the entity's TimeInstant (IoT Agents; Cygnus writes "2015-12-12 11:11:11.123"),
# dateObserved (an instant, or the end of an interval), observationDateTime, dateModified.
ENTITY_TIMES = ("TimeInstant", "dateObserved", "dateObservedTo", "observationDateTime", "dateModified")
FUTURE_SLACK = timedelta(minutes=5)  # clocks differ; an observation further ahead than this is not believed


def build_asset(entity: Entity, model: Model, domain: str, now: datetime | None = None) -> Mapped:
    warnings: list[str] = []
    subject = entity
    define_if_new = False
    if entity.type == "DeviceMeasurement" and "refDevice" in entity.attrs:
        device = ref_id(scalar(entity.attrs["refDevice"])[0], "Device")
        if device is None:
            raise MapError("bad_id", "refDevice is not a usable entity id")
        aid, define_if_new = device, True
    elif entity.type == "TrafficFlowObserved" and "refRoadSegment" in entity.attrs:
        # one asset per road: the observation is a reading of its RoadSegment (defined from it only if the source
        # has not described the segment itself)
        segment = ref_id(scalar(entity.attrs["refRoadSegment"])[0], "RoadSegment")
        if segment is None:
            raise MapError("bad_id", "refRoadSegment is not a usable entity id")
        aid, define_if_new = segment, True
    else:
        aid = asset_id(entity.id, entity.type)
    if entity.deleted:
        return Mapped(domain, entity.id, entity.type, AssetDef(id=aid, type=model.asset_type), remove=True)
    name = _name(subject)
    geometry = None
    raw_geo = subject.attrs.get("location") or subject.attrs.get("vertices")
    if raw_geo is not None:
        geometry, problem = to_contract_geometry(scalar(raw_geo)[0])
        if problem:
            warnings.append(f"location: {problem}")
    props: dict[str, Any] = {}
    refs, used = _relations(entity, model, warnings)
    values = _readings(entity, model, domain, warnings, used)
    for src, (prop, conv) in model.props.items():
        if src in entity.attrs:
            used.add(src)
            _put_prop(props, prop, entity.attrs[src], conv, entity, warnings)
    props.update(model.fixed_props)
    if model.asset_type == "RoadSegment" and "freeFlowSpeed" not in props and "maximumAllowedSpeed" in props:
        props["freeFlowSpeed"] = props["maximumAllowedSpeed"]  # congestion is judged against the speed limit
    refs = {k: v for k, v in refs.items() if v != aid}  # a flow observation is now its segment's own reading
    _untrusted(entity, props, used, warnings)
    _sub_attributes(entity, props, warnings)
    try:
        asset = msgspec.convert({"id": aid, "type": model.asset_type, "name": name, "geometry": geometry, "refs": refs, "props": props},
                                AssetDef)
    except msgspec.ValidationError as err:
        raise MapError("bad_value", f"asset definition refused: {str(err)[:200]}") from err
    if values:
        observed = observed_at(entity, used, now, warnings)
        if observed is not None:
            values["observedAt"] = observed
    reading = _reading(domain, aid, values, warnings)
    return Mapped(domain, entity.id, entity.type, asset, reading, define_if_new=define_if_new, warnings=tuple(warnings))


def observed_at(entity: Entity, readings: set[str], now: datetime | None, warnings: list[str]) -> datetime | None:
    """When the entity's values were observed (see ENTITY_TIMES), or None when it does not say."""
    stamps = [entity.attrs[k].observed_at for k in sorted(readings) if k in entity.attrs and entity.attrs[k].observed_at is not None]
    stamps += [scalar(entity.attrs[k])[0] for k in ENTITY_TIMES if k in entity.attrs]
    for raw in stamps:
        try:
            when = instant(raw)
        except UnitError:
            continue
        if now is not None and when > now + FUTURE_SLACK:
            warnings.append(f"observed at {when.isoformat()}, ahead of Vigie's clock: taken as observed on arrival")
            return None
        return when
    return None


def _name(entity: Entity) -> str:
    for key in ("name", "address", "areaServed", "alternateName"):
        attr = entity.attrs.get(key)
        if attr is None:
            continue
        value = scalar(attr)[0]
        if key == "address" and isinstance(value, dict):
            value = value.get("streetAddress")
        if isinstance(value, str) and value.strip():
            text = value.strip()
            if UNSAFE_TEXT.search(text):
                raise MapError("markup_in_text", f"{key} contains markup or control characters: {text[:60]!r}")
            return text[:500]
    return ""


def _relations(entity: Entity, model: Model, warnings: list[str]) -> tuple[dict[str, str], set[str]]:
    refs: dict[str, str] = {}
    used: set[str] = set()
    for src, (ref, target) in model.refs.items():
        if src in entity.attrs:
            used.add(src)
            value = scalar(entity.attrs[src])[0]
            targets = value if isinstance(value, list) else [value]  # a multi-valued relationship keeps every ref
            for n, one in enumerate(targets[:MAX_REFS], start=1):
                rid = ref_id(one, target)
                if rid is None:
                    warnings.append(f"{src}: not a usable entity id")
                elif len(refs) < MAX_REFS:
                    refs[ref if n == 1 else f"{ref}.{n}"] = rid
                else:
                    warnings.append(f"{src}: more than {MAX_REFS} relations, {one!r} not kept")
    return refs, used


def _readings(entity: Entity, model: Model, domain: str, warnings: list[str], used: set[str]) -> dict[str, Any]:
    table = dict(model.readings)
    if entity.type in ("Device", "DeviceMeasurement"):
        table.update(DEVICE_READINGS[domain])
    values: dict[str, Any] = {}
    for src, (field_name, conv) in table.items():
        if src in entity.attrs:
            used.add(src)
            try:
                values[field_name] = conv(entity.attrs[src], entity)
            except (UnitError, TypeError, ValueError) as err:
                warnings.append(f"{src}: {err}")
    if entity.type == "WaterQualityObserved" and "chlorine" not in values:
        _component_chlorine(entity, values, warnings)
    if entity.type == "Device" and "deviceState" in entity.attrs:
        state = str(scalar(entity.attrs["deviceState"])[0]).strip().lower()
        if state in DEVICE_STATE[domain]:
            values["status"] = DEVICE_STATE[domain][state]
    if entity.type == "DeviceMeasurement":
        _measurement(entity, domain, values, warnings, used)
    return values


def _component_chlorine(entity: Entity, values: dict, warnings: list[str]) -> None:
    """WaterQualityObserved's one analysed component (componentAnalyzed Cl / componentName Chlorine) as free chlorine."""
    names = {str(scalar(entity.attrs[k])[0]).strip().lower() for k in ("componentAnalyzed", "componentName") if k in entity.attrs}
    if names & {"cl", "cl2", "chlorine", "free chlorine", "freechlorine"} and "concentration" in entity.attrs:
        value, unit = scalar(entity.attrs["concentration"])
        try:
            values["chlorine"] = round(convert(value, "concentration", unit), 6)
        except UnitError as err:
            warnings.append(f"concentration: {err}")


def _measurement(entity: Entity, domain: str, values: dict, warnings: list[str], used: set[str]) -> None:
    measured = words(entity.attrs.get("controlledProperty"))
    if not measured or "numValue" not in entity.attrs:
        return
    target = DEVICE_READINGS[domain].get(measured[0])
    if target is None:
        return  # numValue is kept below as an untrusted property named after what it measures
    used.add("numValue")
    attr = entity.attrs["numValue"]
    unit_attr = entity.attrs.get("unit")
    declared = scalar(unit_attr)[0] if unit_attr is not None else None
    unit = declared if isinstance(declared, str) and len(declared) <= 4 else None  # a UN/CEFACT code, not "UDT0000016"
    try:
        values[target[0]] = target[1](Attr(attr.value, attr.kind, attr.unit or unit, attr.observed_at, attr.subs), entity)
    except (UnitError, TypeError, ValueError) as err:
        warnings.append(f"numValue: {err}")


def _reading(domain: str, aid: str, values: dict, warnings: list[str]) -> msgspec.Struct | None:
    """The reading, dropping (with a warning) any field out of the contract's range."""
    rtype = READING_TYPES[domain]
    allowed = set(rtype.__struct_fields__)  # observedAt only where the contract carries it
    values = {k: v for k, v in values.items() if k in allowed}
    for _ in range(len(values) + 1):
        if not values.keys() - {"observedAt"}:
            return None
        try:
            return msgspec.convert({"asset": aid, **values}, rtype)
        except msgspec.ValidationError as err:
            bad = next((k for k in values if f"`$.{k}`" in str(err)), None)
            if bad is None:
                warnings.append(f"readings dropped: {str(err)[:120]}")
                return None
            warnings.append(f"{bad}: {str(err)[:120]}")
            del values[bad]
    return None


def _put_prop(props: dict, key: str, attr: Attr, conv: Callable, entity: Entity, warnings: list[str]) -> None:
    try:
        value = conv(attr, entity)
    except (UnitError, TypeError, ValueError) as err:
        warnings.append(f"{key}: {err}")
        return
    clean = _prop_value(value)
    if clean is None:
        warnings.append(f"{key}: not kept (not a short plain value)")
    elif len(props) < MAX_PROPS:
        props[key] = clean


def _prop_value(value: Any) -> str | float | int | bool | None:
    if isinstance(value, bool) or (isinstance(value, (int, float)) and abs(value) < 1e15 and value == value):
        return value
    if isinstance(value, (dict, list)):
        try:
            value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError):
            return None
    if isinstance(value, str) and len(value) <= MAX_PROP_TEXT and not UNSAFE_TEXT.search(value):
        return value
    return None


def _sub_attributes(entity: Entity, props: dict, warnings: list[str]) -> None:
    """Keep the attributes' sub-attributes as `{attr: {sub: {"type", "value"|"object"}}}` (NGSI-LD normalized form)."""
    kept: dict[str, dict[str, dict[str, Any]]] = {}
    for name, attr in entity.attrs.items():
        for sub, s in attr.subs.items():
            if sub in READ_SUBS or not CODE.match(sub) or s.value is None:
                continue
            kept.setdefault(name, {})[sub] = ({"type": "Relationship", "object": s.value} if s.kind == "relationship" else
                                              {"type": "GeoProperty" if s.kind == "geo" else "Property", "value": s.value,
                                               **({"unitCode": s.unit} if s.unit else {})})
    if not kept:
        return
    try:
        text = json.dumps(kept, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    except (TypeError, ValueError):
        warnings.append("sub-attributes not kept (not JSON)")
        return
    if len(text) > MAX_SUBS_TEXT or UNSAFE_TEXT.search(text):
        warnings.append(f"sub-attributes not kept ({len(text)} characters, at most {MAX_SUBS_TEXT}, no markup)")
    elif len(props) >= MAX_PROPS:
        warnings.append("sub-attributes not kept (too many attributes)")
    else:
        props[SUBS_PROP] = text


def _untrusted(entity: Entity, props: dict, used: set[str], warnings: list[str]) -> None:
    """Keep every other attribute as `ngsi.<name>`: shown, never used for condition or KPIs."""
    dropped = 0
    measured = words(entity.attrs.get("controlledProperty"))
    for name, attr in entity.attrs.items():
        if name in used or (name in SKIPPED and name != "numValue"):
            continue
        key = "ngsi." + (measured[0] if name == "numValue" and measured else name)
        value = _prop_value(attr.value)  # as sent (EPANET's {"value", "observedBy"} kept whole), to go back out unchanged
        if value is None or not CODE.match(key) or len(props) >= MAX_PROPS - 1:
            dropped += 1
            continue
        props[key] = value
    if dropped:
        props["ngsi.more"] = dropped
        warnings.append(f"{dropped} attribute(s) not kept (too many, too long, markup or odd names)")
