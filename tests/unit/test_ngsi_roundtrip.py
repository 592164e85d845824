"""Vigie's NGSI-LD output notified back to Vigie changes nothing: every served entity, in every representation a broker
may send it in (keyValues, NGSI-LD normalized, NGSIv2 normalized with `unitCode` metadata, Orion-LD's
x-ngsiv2-normalized), gives back the same values in the same units."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

import msgspec
import pytest

from services.ngsi import outbound
from services.ngsi.entities import read_entity
from services.ngsi.inbound import Mapped, map_entity
from tests.unit.test_ngsi_outbound import territory  # noqa: F401 - the simulated territory, a module fixture

NOW = datetime(2026, 6, 21, 22, 0, tzinfo=timezone.utc)


def key_values(out: outbound.Out) -> dict:
    return outbound.render(out, key_values=True, with_context=False)


def ld_normalized(out: outbound.Out) -> dict:
    return outbound.render(out, key_values=False, with_context=True)


def _v2(out: outbound.Out, ld_types: bool) -> dict:
    """NGSIv2 normalized (`Number`/`Text` types) or Orion-LD's x-ngsiv2-normalized (NGSI-LD types), units as metadata."""
    doc: dict[str, Any] = {"id": out.entity["id"], "type": out.type}
    for name, attr in outbound.normalized(out).items():
        if name in ("id", "type"):
            continue
        value = attr.get("value", attr.get("object"))
        if ld_types:
            kind = attr["type"]
        else:
            kind = {"Relationship": "Relationship", "GeoProperty": "geo:json"}.get(attr["type"]) or _v2_type(value)
        v2: dict[str, Any] = {"type": kind, "value": value, "metadata": {}}
        if "unitCode" in attr:
            v2["metadata"]["unitCode"] = {"type": "Text", "value": attr["unitCode"]}
        doc[name] = v2
    return doc


def _v2_type(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, (int, float)):
        return "Number"
    return "Text" if isinstance(value, str) else "StructuredValue"


REPRESENTATIONS: dict[str, Callable[[outbound.Out], dict]] = {
    "keyValues": key_values, "normalized": ld_normalized, "v2 normalized": lambda o: _v2(o, False),
    "x-ngsiv2-normalized": lambda o: _v2(o, True),
}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == pytest.approx(b, rel=1e-9, abs=1e-9)
    if isinstance(b, datetime):
        return a == b.isoformat().replace("+00:00", "Z") or a == b.timestamp()
    return a == b


@pytest.mark.parametrize("representation", list(REPRESENTATIONS))
def test_every_served_entity_notified_back_keeps_every_value(territory, representation: str) -> None:  # noqa: F811
    assets, _ = territory
    render = REPRESENTATIONS[representation]
    changed: list[str] = []
    compared = 0
    for asset in assets:
        back: dict[str, Any] = {}
        for out in outbound.asset_entities(asset):  # a road is a RoadSegment and its TrafficFlowObserved
            m = map_entity(read_entity(render(out)), now=NOW, hint=asset["domain"])
            assert isinstance(m, Mapped), (asset["id"], m)
            if m.reading is not None:
                back.update({k: v for k, v in msgspec.structs.asdict(m.reading).items() if v is not None and k != "asset"})
        for name, value in (asset.get("values") or {}).items():
            compared += 1
            if name not in back or not _same(value, back[name]):
                changed.append(f"{asset['id']} ({asset['type']}).{name}: {value!r} -> {back.get(name)!r}")
        if asset.get("geometry") and m.asset.geometry is not None:
            assert msgspec.json.decode(msgspec.json.encode(m.asset.geometry))["coordinates"] == _coords(asset["geometry"])
    assert compared > 150_000
    assert changed == [], f"{len(changed)} of {compared} values changed, e.g. {changed[:8]}"


def _coords(geometry: dict) -> list:
    return msgspec.json.decode(msgspec.json.encode(geometry))["coordinates"]
