"""Vigie's alarms as FIWARE `Alert` entities, extended with their lifecycle (state, acknowledgement, priority).

`Alert.category` has no value for utility networks: water alarms are `environment` (quality ones
`health`), lighting alarms `security` (public safety at night), traffic ones `traffic`; the exact
Vigie code is always in `alarmCode`. Codes written `<category>.<subCategory>` (alerts that came in
through NGSI) go back out as they came.
"""
from __future__ import annotations

from .outbound import Out, entity_id, escape, ngsi_id, sdm_type_of
from .units import iso

ALERT_CATEGORIES = {"traffic", "naturalDisaster", "weather", "environment", "health", "security", "agriculture"}
DOMAIN_CATEGORY = {"traffic": "traffic", "water": "environment", "lighting": "security"}
CODE_ALERT = {"water_quality": ("health", "waterPollution"), "congestion": ("traffic", "trafficJam"),
              "incident": ("traffic", "hazardOnRoad"), "closure": ("traffic", "roadClosed")}
LIFECYCLE_TEXT = (("ack_comment", "acknowledgeComment"), ("shelved_by", "shelvedBy"), ("shelve_reason", "shelveReason"),
                  ("out_of_service_reason", "outOfServiceReason"), ("assignee", "assignee"))
SEVERITY = {"critical": "critical", "major": "high", "minor": "medium", "warning": "low", "info": "informational"}



def alarm_entity(alarm: dict, asset: dict | None = None) -> Out:
    """Map one Vigie alarm (the reader's dict) to an `Alert`, extended with its lifecycle state."""
    code = alarm["code"]
    head, _, tail = code.partition(".")
    if head in ALERT_CATEGORIES:
        category, sub = head, tail or None
    else:
        category, sub = CODE_ALERT.get(code, (DOMAIN_CATEGORY.get(alarm["domain"], "environment"), None))
    if asset is not None:
        source = entity_id(asset["id"], sdm_type_of(asset))
    elif alarm["asset"].startswith("urn:"):
        source = alarm["asset"]
    else:
        kind = "supervisor" if alarm.get("source") == "vigie" else "asset"
        source = f"urn:vigie:{kind}:{escape(alarm['asset'])}"
    out = Out({"id": ngsi_id(alarm["id"], "Alert"), "type": "Alert", "category": category})
    e = out.entity
    if sub:
        e["subCategory"] = sub
    e.update({"severity": SEVERITY.get(alarm["severity"], "medium"), "alertSource": source,
              "dateIssued": iso(alarm["raised_at"]), "validFrom": iso(alarm["raised_at"]), "dateModified": iso(alarm["updated_at"])})
    out.relationships.add("alertSource")
    if alarm.get("message"):
        e["description"] = alarm["message"]
    if asset is not None and asset.get("geometry"):
        e["location"] = asset["geometry"]
    e.update({"alarmState": alarm["state"], "acknowledged": alarm["acknowledged"], "priority": alarm["priority"],
              "alarmCode": code, "raiseCount": alarm.get("raise_count", 1), "supervisor": alarm["supervisor"], "domain": alarm["domain"]})
    if alarm.get("acked_by"):
        e["acknowledgedBy"] = alarm["acked_by"]
        e["acknowledgedAt"] = iso(alarm.get("acked_at"))
    for key, name in LIFECYCLE_TEXT:
        if alarm.get(key):
            e[name] = alarm[key]
    if alarm.get("shelved_until"):
        e["shelvedUntil"] = iso(alarm["shelved_until"])
    if alarm.get("parent"):
        e["suppressedBy"] = ngsi_id(alarm["parent"], "Alert")
        out.relationships.add("suppressedBy")
    return out
