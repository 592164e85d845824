"""Territory packages (docs/territory.md): the manifest, CRS, field mapping, road classes, `territory new|check`."""
from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from layouts.details import details_panel
from services.simulators import build, supervisor_ids
from services.simulators.traffic_world import build_world as traffic_world
from services.simulators.traffic_world import classify
from services.territory import roads as r
from services.territory.basemap import base_map
from services.territory.builder import asset_counts, guess
from services.territory.checker import check_package
from services.territory.cli import main as territory
from services.territory.geo import communes, districts, lamp_sites, road_sites
from services.territory.package import (
    DATA_ROOT,
    TerritoryError,
    crs_code,
    load_territory,
    transformer,
)
from tests.conftest import FIXED_NOW
from tests.territory_town import PACKAGE, new_args, write_raw

TOWN = str(PACKAGE)


def test_montpellier_is_a_package_with_its_supervisors_view_and_layers():
    t = load_territory("montpellier")
    assert (t.id, t.timezone, t.language, t.latitude) == ("montpellier", "Europe/Paris", "fr", 43.6108)
    assert t.supervisors == {"lighting": "lum-mtp", "water": "eau-mtp", "traffic": "trafic-mtp"}
    assert (t.center, t.zoom, t.bounds) == ((43.6108, 3.8767), 13, ((43.52, 3.72), (43.70, 4.02)))
    assert set(t.layers) == {"roads", "boundary", "communes", "districts", "lamps", "junctions", "counts"}
    assert t.layer("junctions").crs == "EPSG:2154"


def test_a_territory_is_a_name_under_services_data_or_a_folder_path():
    by_name, by_path = load_territory("montpellier"), load_territory(str(DATA_ROOT / "montpellier"))
    assert by_name.id == by_path.id and by_name.folder == by_path.folder
    town = load_territory(TOWN)
    assert town.id == "bourg-synthetique" and load_territory("bourg-synthetique").folder == town.folder  # pages name it by id
    with pytest.raises(TerritoryError, match="no such folder"):
        load_territory("/nowhere/at/all")


@pytest.mark.parametrize("text, code", [
    ("EPSG:2154", "EPSG:2154"), ("urn:ogc:def:crs:EPSG::32631", "EPSG:32631"), ("urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326"),
    ("3857", "EPSG:3857"), ("epsg:4326", "EPSG:4326"), (None, None), ("", None),
])
def test_crs_names_are_read_as_epsg_codes(text, code):
    assert crs_code(text) == code


def test_any_epsg_code_is_read_through_pyproj_and_lambert93_without_it():
    lon, lat = transformer("EPSG:32631")(634_000.0, 4_976_000.0)  # UTM 31N, near Valence
    assert 4.6 < lon < 4.8 and 44.9 < lat < 45.0
    lon, lat = transformer("EPSG:3857")(545_465.0, 5_608_000.0)
    assert 4.8 < lon < 5.0 and 44.9 < lat < 45.0
    from pyproj import Transformer

    exact = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True).transform(770_000.0, 6_280_000.0)
    assert transformer("EPSG:2154")(770_000.0, 6_280_000.0) == pytest.approx(exact, abs=1e-7)  # the built-in formula
    with pytest.raises(TerritoryError, match="not understood"):
        crs_code("Lambert 93")


def test_field_mapping_is_guessed_from_osm_and_french_open_data_names():
    assert guess("roads", ["osm_id", "name", "highway", "maxspeed", "lanes", "oneway"]) == {
        "id": "osm_id", "name": "name", "oneway": "oneway", "class": "highway", "speed": "maxspeed", "lanes": "lanes"}
    assert guess("roads", ["cleabs", "NOM_1_G", "NATURE", "VITESSE", "NB_VOIES", "SENS"]) == {
        "id": "cleabs", "name": "NOM_1_G", "oneway": "SENS", "class": "NATURE", "speed": "VITESSE", "lanes": "NB_VOIES"}
    assert guess("roads", ["IDARC", "LIB_OFF", "NOMVOI", "LEN", "LONGUEUR"])["name"] == ["LIB_OFF", "NOMVOI"]
    assert guess("communes", ["NOM_COM", "INSEE_COM"]) == {"name": "NOM_COM", "code": "INSEE_COM"}


def _site(road_class="", speed=None, lanes=None, name="", length=100.0, two_way=True):
    return r.RoadSite(1, name, "", length, ((0.0, 0.0), (0.001, 0.0)), two_way, "1", road_class, speed, lanes)


@pytest.mark.parametrize("site, kind", [
    (_site("motorway", name="A 7"), r.MOTORWAY),
    (_site("Type autoroutier"), r.MOTORWAY),
    (_site("Route à 2 chaussées"), r.FAST_ARTERIAL),
    (_site("residential", name="Autoroute du Soleil"), r.LOCAL_STREET),  # the mapped class wins over the name
    (_site(speed=130.0, name="Rue X"), r.MOTORWAY),  # no class: the speed limit
    (_site(speed=30.0), r.LOCAL_STREET),
    (_site(name="Autoroute A9"), r.MOTORWAY),  # neither: the documented fallback, the name
    (_site(name="Avenue de Toulouse", length=500.0), r.FAST_ARTERIAL),
    (_site(name="Impasse des Lilas"), r.ACCESS),
])
def test_road_kind_from_class_then_speed_then_name(site, kind):
    assert r.road_kind(site) == kind


def test_a_motorway_is_classed_a_motorway_with_its_speed_limit_and_lanes():
    rc = classify(_site("motorway", speed=130.0, lanes=3, two_way=False))
    assert (rc.free_flow, rc.capacity, rc.daily) == (130.0, 5400.0, 30000.0)
    segs = [a for a in traffic_world(TOWN).assets if a.name == "A 7"]
    assert len(segs) == 6 and all(a.props["freeFlowSpeed"] == 130.0 and a.props["capacity"] >= 5000 for a in segs)


@pytest.mark.parametrize("value, unknown, two_way", [
    ("yes", True, False), ("-1", True, False), ("no", False, True), ("SENS UNIQUE", True, False),
    ("DOUBLE SENS", False, True), (None, True, True), (None, False, False), ("FICTIF", False, False), (True, True, False),
])
def test_one_way_values(value, unknown, two_way):
    assert r.two_way_of(value, unknown) is two_way


@pytest.mark.parametrize("value, kmh", [("50", 50.0), ("30 mph", 48.27), ("FR:urban", 50.0), ("none", 130.0), (90, 90.0),
                                        ("signals", None), ("", None)])
def test_speed_limits(value, kmh):
    assert r.speed_of(value) == (pytest.approx(kmh) if kmh else None)


def test_the_town_runs_on_roads_and_communes_alone_and_says_what_it_invents():
    assert len(road_sites(TOWN)) == 137 and [c.name for c in communes(TOWN)] == ["Bourg-Synthétique", "Les Granges-Synthétiques"]
    assert [d.id for d in districts(TOWN)] == ["district-1", "district-2"]  # the communes stand for districts
    lamps = lamp_sites(TOWN)
    assert len(lamps) > 400 and all(s.synthetic for s in lamps)
    assert supervisor_ids(TOWN) == {"lighting": "lum-bourgs", "water": "eau-bourgs", "traffic": "trafic-bourgs"}
    for domain in ("lighting", "water", "traffic"):
        sim = build(domain, seed=3, start=FIXED_NOW, territory=TOWN)
        assert sim.supervisor_id == supervisor_ids(TOWN)[domain]
        defs = sim.asset_defs()
        invented = [a for a in defs if a.props.get("synthetic")]
        if domain == "traffic":
            assert not invented  # real roads; an estimated count says counted=False
        else:
            assert len(invented) == len([a for a in defs if a.type != "StreetlightGroup"]) > 0


def test_the_water_network_joins_the_town_the_hamlet_and_the_motorway():
    from services.simulators.water_graph import StreetGraph

    g = StreetGraph(TOWN)
    assert g.links == 2 and len(g.main) == len(g.nodes)
    assert [rd.name for rd in g.roads[-2:]] == ["Liaison", "Liaison"]


def test_the_base_map_draws_what_the_package_has():
    town = [f["properties"]["kind"] for f in base_map(TOWN)["features"]]
    assert town == ["commune", "road"]
    assert [f["properties"]["kind"] for f in base_map("montpellier", roads=False)["features"]] == ["commune", "district"]


def test_the_committed_town_package_is_what_territory_new_builds_today(tmp_path):
    out = tmp_path / "pkg"
    assert territory(new_args(write_raw(tmp_path / "raw"), out), out=io.StringIO()) == 0
    for name in ("territory.json", "supervisors.yaml", "voies-osm.geojson", "communes.geojson"):
        assert (out / name).read_text(encoding="utf-8") == (PACKAGE / name).read_text(encoding="utf-8"), name


def test_territory_new_prints_what_it_found_and_guessed(tmp_path):
    printed = io.StringIO()
    assert territory(new_args(write_raw(tmp_path / "raw"), tmp_path / "pkg"), out=printed) == 0
    text = printed.getvalue()
    for line in ("roads: voies-osm.geojson, 137 features (LineString), CRS EPSG:32631 (from the file)",
                 "  roads.class = highway (guessed)", "  roads.length: not found (measured on the geometry)",
                 "communes: communes.geojson, 2 features (Polygon), CRS EPSG:3857 (declared)",
                 "lamps: none given (lamps are placed along the roads by road class, marked simulated)",
                 "supervisors: lum-bourgs, eau-bourgs, trafic-bourgs"):
        assert line in text.splitlines(), line
    assert "assets: lamps 522" in text


def test_territory_new_overrides_a_guess_with_a_map_flag_and_refuses_an_unknown_attribute(tmp_path):
    files = write_raw(tmp_path / "raw")
    out, err = io.StringIO(), io.StringIO()
    assert territory([*new_args(files, tmp_path / "a"), "--map", "roads.name=highway"], out=out) == 0
    assert "  roads.name = highway (given)" in out.getvalue().splitlines()
    assert territory([*new_args(files, tmp_path / "b"), "--map", "roads.speed=VMAX"], out=out, err=err) == 2
    assert "--map roads.speed=VMAX: voies-osm.geojson has no attribute 'VMAX'" in err.getvalue()


def test_territory_new_asks_for_the_crs_of_a_projected_file_that_does_not_say_it(tmp_path):
    files = write_raw(tmp_path / "raw")
    err = io.StringIO()
    args = [a for a in new_args(files, tmp_path / "pkg") if a not in ("--crs", "communes=EPSG:3857")]
    assert territory(args, out=io.StringIO(), err=err) == 2
    assert "communes.geojson: coordinates" in err.getvalue() and "--crs communes=EPSG:<code>" in err.getvalue()


def _broken(tmp_path: Path) -> Path:
    pkg = tmp_path / "broken"
    shutil.copytree(PACKAGE, pkg)
    doc = json.loads((pkg / "territory.json").read_text(encoding="utf-8"))
    doc["timezone"] = "Europe/Montpelier"
    doc["supervisors"]["water"]["id"] = "eau bourg"
    doc["layers"]["roads"]["fields"]["speed"] = "vmax"
    doc["layers"]["communes"].pop("crs")
    doc["layers"]["districts"] = {"file": "quartiers.geojson"}
    doc["layers"]["counts"] = {"file": "comptages.csv", "fields": {"road": "troncon", "daily": "tmja"}}
    (pkg / "comptages.csv").write_text("troncon,annee\n1,2020\n", encoding="utf-8")
    (pkg / "territory.json").write_text(json.dumps(doc), encoding="utf-8")
    return pkg


def test_territory_check_names_every_problem_by_file_and_field(tmp_path):
    pkg = _broken(tmp_path)
    report = check_package(pkg)
    expected = [
        f"{pkg}/territory.json: timezone: 'Europe/Montpelier' is not a time zone (e.g. Europe/Paris)",
        f"{pkg}/territory.json: supervisors.water.id: 'eau bourg', letters, digits, - and _ only (64 at most)",
        f"{pkg}/voies-osm.geojson: layers.roads.fields.speed: attribute 'vmax' is in no feature",
        (f"{pkg}/communes.geojson: coordinates are not places on Earth once read as EPSG:4326 (no CRS said, degrees assumed): "
        "set layers.communes.crs to the file's EPSG code"),
        f"{pkg}/quartiers.geojson: missing (layers.districts.file)",
        f"{pkg}/comptages.csv: layers.counts.fields.daily: column 'tmja' missing (columns: troncon, annee)",
    ]
    assert len(report.errors) == len(expected)
    for want, got in zip(expected, report.errors):
        assert got.startswith(want), (want, got)
    printed = io.StringIO()
    assert territory(["check", str(pkg)], out=printed) == 1
    assert printed.getvalue().splitlines()[-1] == f"{pkg}: 6 problem(s) to fix, 2 warning(s)"


def test_territory_check_passes_both_shipped_packages():
    assert check_package(DATA_ROOT / "montpellier").ok and check_package(PACKAGE).ok


def test_montpellier_keeps_its_asset_counts():
    counts = asset_counts("montpellier")
    assert {k: counts[k] for k in ("lamps", "cabinets", "road segments", "signals", "water assets", "pumps", "water sensors")} == {
        "lamps": 29969, "cabinets": 798, "road segments": 8011, "signals": 373, "water assets": 1450, "pumps": 6, "water sensors": 400}
    assert counts["lamps placed (synthetic)"] == 0


def test_the_details_panel_says_simulated_for_an_invented_asset():
    from zoneinfo import ZoneInfo

    asset = {"id": "lamp-00001", "type": "Streetlight", "name": "Lanterne 00001", "props": {"synthetic": True}}
    text = json.dumps([c.to_plotly_json() for c in details_panel(asset, [], "fr", ZoneInfo("Europe/Paris"))], default=str, ensure_ascii=False)
    assert "simulé" in text
    real = {**asset, "props": {}}
    assert "simulé" not in json.dumps([c.to_plotly_json() for c in details_panel(real, [], "fr", ZoneInfo("Europe/Paris"))], default=str, ensure_ascii=False)


def test_the_manifest_gives_the_language_unless_vigie_lang_says_otherwise(tmp_path):
    from services.settings import Settings

    pkg = tmp_path / "english"
    shutil.copytree(PACKAGE, pkg)
    doc = json.loads((pkg / "territory.json").read_text(encoding="utf-8"))
    (pkg / "territory.json").write_text(json.dumps({**doc, "language": "en"}), encoding="utf-8")
    assert Settings.from_env({"VIGIE_TERRITORY": str(pkg)}).language == "en"
    assert Settings.from_env({"VIGIE_TERRITORY": str(pkg), "VIGIE_LANG": "fr"}).language == "fr"
    assert Settings.from_env({"VIGIE_TERRITORY": str(tmp_path / "none")}).language == "fr"  # the app says why elsewhere
    assert Settings.from_env({}).language == "fr"


def test_listed_cabinets_feed_their_nearest_lamps_and_are_not_marked_simulated(tmp_path):
    from services.simulators.lighting_world import build_world as lighting_world
    from tests.territory_town import BLOCK_M, ORIGIN

    files = write_raw(tmp_path / "raw")
    dx, dy = BLOCK_M / 78_800.0, BLOCK_M / 111_100.0
    points = [(ORIGIN[0] + 1 * dx, ORIGIN[1] + 1 * dy), (ORIGIN[0] + 6 * dx, ORIGIN[1] + 5 * dy), (ORIGIN[0] + 21 * dx, ORIGIN[1] + 4 * dy)]
    files["cabinets"] = tmp_path / "raw" / "armoires.geojson"
    files["cabinets"].write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"NOM": f"Armoire A{n}"}, "geometry": {"type": "Point", "coordinates": list(p)}}
        for n, p in enumerate(points, start=1)]}), encoding="utf-8")
    out, printed = tmp_path / "pkg", io.StringIO()
    assert territory([*new_args(files, out), "--cabinets", str(files["cabinets"])], out=printed) == 0
    assert "  cabinets.name = NOM (guessed)" in printed.getvalue().splitlines()
    world = lighting_world(str(out))
    cabinets = world.assets[len(world.lamp_ids):]
    assert [c.name for c in cabinets] == ["Armoire A1", "Armoire A2", "Armoire A3"]
    assert not any(c.props.get("synthetic") for c in cabinets) and sum(c.props["lamps"] for c in cabinets) == len(world.lamp_ids)
    assert [c.geometry.coordinates for c in cabinets] == [tuple(p) for p in points]


def test_a_citys_own_attribute_names_in_lambert93_become_a_package_by_flags(tmp_path):
    """The issue's case: roads with their own attribute names in a CRS the file does not say, mapped by flags."""
    from pyproj import Transformer

    from tests.territory_town import raw_features

    to_l93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    roads, communes_ = raw_features()
    words = {"motorway": "Autoroute", "primary": "Route départementale", "secondary": "Route départementale"}
    features = [{"type": "Feature",
                 "properties": {"troncon_ref": f"T{n:04d}", "libelle_voie": f["properties"].get("name", ""),
                                "categorie": words.get(f["properties"]["highway"], "Voie communale"),
                                "vmax": f["properties"].get("maxspeed", "")},
                 "geometry": {"type": "LineString", "coordinates": [list(to_l93.transform(*c)) for c in f["geometry"]["coordinates"]]}}
                for n, f in enumerate(roads)]
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "troncons.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    (raw / "communes.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": communes_}), encoding="utf-8")
    out, printed = tmp_path / "ville", io.StringIO()
    args = ["new", "--name", "Ville-Test", "--roads", str(raw / "troncons.geojson"), "--communes", str(raw / "communes.geojson"),
            "--crs", "roads=EPSG:2154", "--map", "roads.id=troncon_ref", "--map", "roads.name=libelle_voie",
            "--map", "roads.class=categorie", "--map", "roads.speed=vmax", "--out", str(out)]
    assert territory(args, out=printed) == 0, printed.getvalue()
    assert "  roads.class = categorie (given)" in printed.getvalue().splitlines()
    assert check_package(out).ok
    motorway = [s for s in traffic_world(str(out)).segments if s.name == "A 7"]
    assert len(motorway) == 6 and all(s.free_flow == 130.0 for s in motorway)
    lon, lat = road_sites(str(out))[0].coords[0]
    assert 4.89 < lon < 4.91 and 44.92 < lat < 44.94  # Lambert-93 read back to the town's place
    assert supervisor_ids(str(out)) == {"lighting": "lum-villet", "water": "eau-villet", "traffic": "trafic-villet"}
