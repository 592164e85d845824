"""Map NGSI entities to Vigie's asset definitions, readings and alarm events, or refuse them with a reason."""
from __future__ import annotations

from datetime import datetime

import msgspec

from services.contract.messages import AlarmEvent

from .assetdefs import build_asset
from .entities import Attr, Entity, Unreadable, scalar
from .models import (ALERT_CATEGORY_DOMAIN, ALERT_SEVERITY, ALERT_SUBCATEGORY_DOMAIN, ALERT_TYPES, MODELS, PROPERTY_DOMAIN, Model,
                     words)
from .results import CODE, DOMAINS, UNSAFE_TEXT, Lookup, MapError, Mapped, Refusal, asset_id, ref_id, urn_type
from .units import UnitError, instant

__all__ = ["Lookup", "Mapped", "Refusal", "map_entity"]


def map_entity(entity: Entity | Unreadable, *, now: datetime, hint: str | None = None, lookup: Lookup | None = None) -> Mapped | Refusal:
    """Map one entity; `hint` is the domain the source declared (it decides for Device and Alert, and must agree)."""
    if isinstance(entity, Unreadable):
        return Refusal(entity.id, entity.type, entity.reason, entity.detail)
    model = MODELS.get(entity.type)
    if model is None:
        return Refusal(entity.id[:128], entity.type[:64], "unsupported_type",
                       f"Vigie does not map entities of type {entity.type[:64]!r}; it maps {', '.join(sorted(MODELS))}")
    try:
        domain = _domain(entity, model, hint, lookup or (lambda _id: None))
        if entity.type in ALERT_TYPES:
            return _alert(entity, domain, now)
        return build_asset(entity, model, domain, now)
    except MapError as err:
        return Refusal(entity.id[:128], entity.type[:64], err.reason, err.detail)


# --- domain --------------------------------------------------------------------------------


def _domain(entity: Entity, model: Model, hint: str | None, lookup: Lookup) -> str:
    if hint is not None and hint not in DOMAINS:
        raise MapError("bad_domain", f"unknown domain {hint[:20]!r}")
    if model.domain is not None:
        if hint is not None and hint != model.domain:
            raise MapError("wrong_domain", f"a {entity.type} belongs to {model.domain}, but this source is declared {hint}")
        return model.domain
    if hint is not None:
        return hint
    found = _infer_domain(entity, lookup)
    if found is None:
        raise MapError("no_domain", f"Vigie cannot tell whether this {entity.type} is lighting, water or traffic: "
                                    "add ?domain=... to the subscription's URL, or relate it to a known asset")
    return found


def _infer_domain(entity: Entity, lookup: Lookup) -> str | None:
    related = [scalar(entity.attrs[k])[0] for k in ("alertSource", "controlledAsset", "refDevice", "detectedBy") if k in entity.attrs]
    for value in related:
        for candidate in value if isinstance(value, list) else [value]:
            if not isinstance(candidate, str):
                continue
            t = urn_type(candidate)
            if t in MODELS and MODELS[t].domain is not None:
                return MODELS[t].domain
            known = lookup(candidate)
            if known in DOMAINS:
                return known
    for word in words(entity.attrs.get("controlledProperty")) + words(entity.attrs.get("anomalousProperty")):
        word = word[:1].lower() + word[1:]  # Anomaly's examples write "Pressure"
        if word in PROPERTY_DOMAIN:
            return PROPERTY_DOMAIN[word]
    if entity.type in ALERT_TYPES:
        category, sub = (str(scalar(entity.attrs[k])[0]) if k in entity.attrs else "" for k in ("category", "subCategory"))
        return ALERT_SUBCATEGORY_DOMAIN.get(sub) or ALERT_CATEGORY_DOMAIN.get(category)
    return None




# --- alerts --------------------------------------------------------------------------------


def _alert(entity: Entity, domain: str, now: datetime) -> Mapped:
    """An Alert, Anomaly or WeatherAlert raises one supervisor alarm, cleared once `validTo` has passed or the entity is deleted.

    Severity (informational .. critical) gives the alarm's severity, hence its priority; an alert not valid yet
    (`validFrom` in the future) is taken but not raised: the broker's next notification after that raises it.
    """
    alarm_id = asset_id(entity.id, entity.type)
    attrs = entity.attrs
    text = lambda key: str(scalar(attrs[key])[0]).strip() if key in attrs and scalar(attrs[key])[0] is not None else ""  # noqa: E731
    source = next((scalar(attrs[k])[0] for k in ("alertSource", "detectedBy") if k in attrs), None)
    subject = ref_id(source, None) if isinstance(source, str) and "://" not in source else None
    if entity.type == "Anomaly":
        prop = text("anomalousProperty")
        category, sub = "anomaly", prop[:1].lower() + prop[1:]
        message = text("description") or _anomaly_text(prop, attrs.get("thresholdBreach"))
        issued = _when(attrs.get("dateDetected"))
    else:
        category, sub = text("category"), text("subCategory").replace("/", "_")
        message = text("description") or " ".join(p for p in (category, sub) if p)
        issued = _when(attrs.get("dateIssued"))
    code = ".".join(p for p in (category, sub) if p) or "ngsi_alert"
    if UNSAFE_TEXT.search(message):
        raise MapError("markup_in_text", f"description contains markup or control characters: {message[:60]!r}")
    severity = ALERT_SEVERITY.get(text("severity").lower(), "minor")
    base = {"id": alarm_id, "asset": subject or alarm_id, "severity": severity, "code": code if CODE.match(code) else "ngsi_alert",
            "message": message[:500]}
    starts, ends = _when(attrs.get("validFrom")), _when(attrs.get("validTo"))
    if not entity.deleted and starts is not None and starts > now and (ends is None or ends > starts):
        return Mapped(domain, entity.id, entity.type, warnings=(f"valid from {starts.isoformat()}: not raised before then",))
    events = [] if entity.deleted else [{**base, "action": "raise", "ts": issued}]
    if entity.deleted or (ends is not None and ends <= now):
        events.append({**base, "action": "clear", "ts": ends if ends is not None and ends <= now else now})
    try:
        alarms = tuple(msgspec.convert(ev, AlarmEvent) for ev in events)
    except msgspec.ValidationError as err:
        raise MapError("bad_value", f"alarm refused: {str(err)[:200]}") from err
    return Mapped(domain, entity.id, entity.type, alarms=alarms, remove=entity.deleted)


def _anomaly_text(prop: str, breaches: Attr | None) -> str:
    """'Anomaly on Pressure: 18.91 below the threshold 20' from the last threshold breach, when there is one."""
    head = f"Anomaly on {prop}" if prop else "Anomaly"
    items = scalar(breaches)[0] if breaches is not None else None
    last = items[-1] if isinstance(items, list) and items else None
    if isinstance(last, dict) and isinstance(last.get("value"), dict) and "type" in last:  # normalized: {"type", "value": {...}}
        last = last["value"]
    if not isinstance(last, dict):
        return head
    part = lambda key: scalar(Attr(last.get(key)))[0] if isinstance(last.get(key), dict) else last.get(key)  # noqa: E731
    side = {"LOWER": "below", "UPPER": "above"}.get(str(part("thresholdType")).upper())
    measured, threshold = part("measuredValue"), part("thresholdValue")
    if side and isinstance(measured, (int, float, str)) and isinstance(threshold, (int, float, str)):
        return f"{head}: {measured} {side} the threshold {threshold}"
    return head


def _when(attr: Attr | None) -> datetime | None:
    if attr is None:
        return None
    try:
        return instant(scalar(attr)[0])
    except UnitError:
        return None
