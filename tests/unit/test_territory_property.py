"""Property: on any road network, `territory new`, the three simulators' worlds and the base map never crash and
give plausible counts (hypothesis builds the networks: random grids, gaps, attributes, CRS)."""
from __future__ import annotations

import json
import math
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from services.simulators import build, supervisor_ids
from services.simulators.lighting_world import build_world as lighting_world
from services.simulators.traffic_world import build_world as traffic_world
from services.simulators.water_model import network_assets
from services.simulators.water_network import build_network
from services.territory.basemap import base_map
from services.territory.builder import build_package
from services.territory.geo import haversine_m, road_sites

HIGHWAYS = ("motorway", "trunk", "primary", "secondary", "tertiary", "residential", "service", "unclassified", "track", "weird", "")
SPEEDS = ("30", "50", "70", "90", "130", "FR:urban", "FR:rural", "50 mph", "none", "signals", "")
ONEWAY = ("yes", "no", "-1", "", "DOUBLE SENS", "SENS UNIQUE", "maybe")
CRS = ("EPSG:4326", "EPSG:32631", "EPSG:3857", "EPSG:2154")
START = datetime(2026, 6, 21, 18, 0, tzinfo=UTC)

grid_point = st.tuples(st.integers(0, 12), st.integers(0, 9))
road = st.fixed_dictionaries({
    "a": grid_point, "b": grid_point, "bend": st.booleans(),
    "highway": st.sampled_from(HIGHWAYS), "maxspeed": st.sampled_from(SPEEDS), "lanes": st.sampled_from(("", "1", "2", "4", "2;3", "x")),
    "oneway": st.sampled_from(ONEWAY), "name": st.sampled_from(("", "Rue A", "Avenue B", "Autoroute C", "Chemin D", "Voie E")),
})
network = st.fixed_dictionaries({
    "roads": st.lists(road, min_size=1, max_size=60).filter(lambda rs: any(r["a"] != r["b"] for r in rs)),
    "block_m": st.sampled_from((40.0, 120.0, 400.0)),
    "crs": st.sampled_from(CRS), "with_communes": st.booleans(), "numeric_ids": st.booleans(),
    "junctions": st.lists(grid_point, max_size=6), "counts": st.lists(st.tuples(st.integers(0, 70), st.sampled_from(("120", "0", "#N/A", "8000.5", ""))), max_size=8),
    "lat": st.sampled_from((43.6, 45.0, 48.8)), "lon": st.sampled_from((2.35, 4.9, 5.6)),
})


def _write(folder: Path, net: dict) -> dict[str, Path]:
    to = Transformer.from_crs("EPSG:4326", net["crs"], always_xy=True)
    dlon, dlat = net["block_m"] / (111_320 * math.cos(math.radians(net["lat"]))), net["block_m"] / 110_540
    features = []
    for n, r in enumerate(net["roads"]):
        pts = [(net["lon"] + r["a"][0] * dlon, net["lat"] + r["a"][1] * dlat), (net["lon"] + r["b"][0] * dlon, net["lat"] + r["b"][1] * dlat)]
        if r["bend"]:
            pts.insert(1, ((pts[0][0] + pts[1][0]) / 2 + dlon / 3, (pts[0][1] + pts[1][1]) / 2))
        props = {"id": n + 1 if net["numeric_ids"] else f"w{n % 7}", "name": r["name"], "highway": r["highway"],
                 "maxspeed": r["maxspeed"], "lanes": r["lanes"], "oneway": r["oneway"]}
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "LineString", "coordinates": [list(to.transform(*p)) for p in pts]}})
    doc = {"type": "FeatureCollection", "features": features}
    if net["crs"] != "EPSG:4326":
        doc["crs"] = {"type": "name", "properties": {"name": net["crs"].replace("EPSG:", "urn:ogc:def:crs:EPSG::")}}
    folder.mkdir(parents=True, exist_ok=True)
    files = {"roads": folder / "roads.geojson"}
    files["roads"].write_text(json.dumps(doc), encoding="utf-8")
    if net["with_communes"]:
        x0, y0, x1, y1 = net["lon"] - dlon, net["lat"] - dlat, net["lon"] + 7 * dlon, net["lat"] + 10 * dlat
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        files["communes"] = folder / "communes.geojson"
        files["communes"].write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"nom": "Ouest", "code": "1"}, "geometry": {"type": "Polygon", "coordinates": [ring]}}]}),
            encoding="utf-8")
    if net["junctions"]:
        files["junctions"] = folder / "signaux.geojson"
        files["junctions"].write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"nom": f"Carrefour {i}"},
             "geometry": {"type": "Point", "coordinates": [net["lon"] + x * dlon, net["lat"] + y * dlat]}}
            for i, (x, y) in enumerate(net["junctions"])]}), encoding="utf-8")
    if net["counts"]:
        files["counts"] = folder / "comptages.csv"
        rows = ["id,tmja,annee"] + [f"{road if net['numeric_ids'] else f'w{road % 7}'},{daily},2024" for road, daily in net["counts"]]
        files["counts"].write_text("\n".join(rows) + "\n", encoding="utf-8")
    return files


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=network)
def test_any_road_network_gives_a_running_territory_with_plausible_counts(net):
    with tempfile.TemporaryDirectory(prefix="vigie-territory-") as tmp:
        folder = Path(tmp)
        files = _write(folder / "raw", net)
        out = folder / "pkg"
        mapping = {"counts": {"road": "id"}} if net["counts"] else {}
        built = build_package("Ville aléatoire", files, out, mapping=mapping, territory_id=f"random-{abs(hash(json.dumps(net, sort_keys=True))) % 10**9}")
        t = str(out)
        roads = road_sites(t)
        assert len(roads) == len(net["roads"])  # every LineString is a segment, even a zero-length one
        length_km = sum(sum(haversine_m(a, b) for a, b in zip(r.coords, r.coords[1:])) for r in roads) / 1000

        lw = lighting_world(t)
        assert 1 <= len(lw.lamp_ids) <= len(roads) + length_km * 1000 / 25 + 1
        assert 1 <= len(lw.cabinet_ids) <= len(lw.lamp_ids)
        assert built.counts["lamps"] == len(lw.lamp_ids) == built.counts["lamps placed (synthetic)"]

        tw = traffic_world(t)
        assert len(tw.segments) == len(roads) and len(tw.junctions) == len(net["junctions"])
        assert all(s.free_flow > 0 and s.capacity > 0 and s.daily > 0 for s in tw.segments)
        assert len({a.id for a in tw.assets}) == len(tw.assets)

        connected = any(r.coords[0] != r.coords[-1] for r in roads)
        if connected:
            net_w = build_network(t, 0)
            assets = network_assets(net_w)
            assert 1 <= len(net_w.pumps) <= 6 and 1 <= len(net_w.reservoirs) <= 2
            assert len(net_w.sensors) <= 400 and len({a.id for a, _ in assets}) == len(assets)
            assert all(a.props.get("synthetic") for a, _ in assets)

        for domain in ("lighting", "traffic", "water"):
            sim = build(domain, seed=1, start=START, territory=t)
            sim.incident_rate = 2000.0  # every kind of random incident and fault, at once
            for step in range(1, 4):
                sim.advance(START + timedelta(minutes=step), 60.0)
            prefix = {"lighting": "lum-", "water": "eau-", "traffic": "trafic-"}[domain]
            assert sim.supervisor_id == supervisor_ids(t)[domain] and sim.supervisor_id.startswith(prefix + "random")

        fc = base_map(t)
        kinds = [f["properties"]["kind"] for f in fc["features"]]
        assert kinds[-1] == "road" and len(fc["features"][-1]["geometry"]["coordinates"]) == len(roads)
        assert ("commune" in kinds) == net["with_communes"]
