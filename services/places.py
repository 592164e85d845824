"""The names of the places assets refer to: `district-4`, `commune-34172`, `street-...` and `zone-5` as an operator
says them (the territory's own district, commune and street names; a water zone by its number)."""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType

from services.territory.geo import communes, districts, road_sites

log = logging.getLogger(__name__)
ZONE = re.compile(r"^zone-(\d+)$")


@lru_cache(maxsize=4)
def place_names(territory_id: str) -> Mapping[str, str]:
    """Every district, commune and street id of the territory with its name (read once per territory)."""
    names: dict[str, str] = {}
    try:
        for area in (*communes(territory_id), *districts(territory_id)):
            names[area.id] = area.name
        for road in road_sites(territory_id):
            if road.name:
                names.setdefault(f"street-{road.street_code or road.idarc}", road.name)
                names.setdefault(f"street-{road.idarc}", road.name)
    except Exception as err:  # noqa: BLE001 - a territory without a layer still shows its ids
        log.warning("place names of %s not read (%s): ids are shown instead", territory_id, err)
    return MappingProxyType(names)


def place_name(territory_id: str, ref: str, zone_word: str = "Zone") -> str | None:
    """The name of a place id, None when it is not a place Vigie knows (an asset id, say)."""
    name = place_names(territory_id).get(ref)
    if name:
        return name
    m = ZONE.match(ref)
    return f"{zone_word} {m.group(1)}" if m else None


def ref_names(reader, territory_id: str, refs: Iterable[str]) -> tuple[dict[str, str], frozenset[str]]:
    """Names of what `refs` point at (an asset's own name, else a place's) and which of them are assets (linked)."""
    names: dict[str, str] = {}
    assets: set[str] = set()
    for ref in dict.fromkeys(str(r) for r in refs if r):
        asset = reader.asset(ref)
        if asset is not None:
            assets.add(ref)
            names[ref] = asset.get("name") or ref
        else:
            name = place_name(territory_id, ref)
            if name:
                names[ref] = name
    return names, frozenset(assets)

