"""A synthetic town's raw files, the kind a city hands over, and its territory package built by `territory new`.

"Bourg-Synthétique" (invented, near Valence): a town grid, a hamlet 2 km away and a motorway that touch nothing
(three disconnected road parts), OSM-style attributes (`osm_id`, `name`, `highway`, `maxspeed`, `lanes`,
`oneway`), roads in UTM 31N (EPSG:32631, said in the file), two communes in Web Mercator (EPSG:3857, not said:
declared with `--crs`), and no lamp, district, junction or count file. Everything is generated: no licence.

`python -m tests.territory_town` rewrites the raw files and rebuilds the package under tests/data/territories/.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from pyproj import Transformer

HERE = Path(__file__).resolve().parent / "data" / "territories"
RAW = HERE / "bourg-synthetique-raw"
PACKAGE = HERE / "bourg-synthetique"
NAME = "Bourg-Synthétique"
ORIGIN = (4.90, 44.93)  # lon, lat of the town grid's south-west corner
BLOCK_M = 130.0
STREETS = ("Rue de la Gare", "Rue Victor Hugo", "Rue des Écoles", "Rue du Marché", "Rue Pasteur", "Rue de la Fontaine",
           "Rue des Tilleuls")
AVENUES = ("Avenue Jean Jaurès", "Boulevard de la République", "Chemin des Vignes", "Rue Émile Zola", "Allée des Cèdres",
           "Rue du Moulin", "Rue Voltaire", "Rue des Lilas", "Rue Carnot")


def _utm() -> tuple[Transformer, Transformer]:
    return (Transformer.from_crs("EPSG:4326", "EPSG:32631", always_xy=True),
            Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True))


def _road(n: int, coords: list, name: str | None, highway: str, maxspeed: str | None = None, lanes: str | None = None,
          oneway: str | None = None) -> dict:
    props = {"osm_id": f"way/{9000 + n}", "highway": highway}
    for key, value in (("name", name), ("maxspeed", maxspeed), ("lanes", lanes), ("oneway", oneway)):
        if value is not None:
            props[key] = value
    return {"type": "Feature", "properties": props, "geometry": {"type": "LineString", "coordinates": coords}}


def raw_features() -> tuple[list[dict], list[dict]]:
    """The roads (in WGS84, before projection) and the two communes' rings."""
    x0, y0 = ORIGIN
    dx, dy = BLOCK_M / 78_800.0, BLOCK_M / 111_100.0  # degrees per block at 45° N
    roads: list[dict] = []

    def add(coords: list, name: str | None, highway: str, **kw: str) -> None:
        roads.append(_road(len(roads), coords, name, highway, **kw))

    cols, rows = 9, 7  # the town: a grid of 9 x 7 junctions, blocks of 130 m
    for j in range(rows):  # east-west streets, one segment per block
        for i in range(cols - 1):
            a, b = (x0 + i * dx, y0 + j * dy), (x0 + (i + 1) * dx, y0 + j * dy)
            main = j == rows // 2
            add([list(a), list(b)], "Avenue de Provence" if main else STREETS[j], "primary" if main else "residential",
                maxspeed="50" if main else "30", lanes="2" if main else None, oneway=None if main or j % 2 else "yes")
    for i in range(cols):  # north-south streets
        for j in range(rows - 1):
            a, b = (x0 + i * dx, y0 + j * dy), (x0 + i * dx, y0 + (j + 1) * dy)
            main = i == cols // 2
            add([list(a), list(b)], AVENUES[i], "secondary" if main else "residential", maxspeed="50" if main else None)
    for k in range(4):  # dead ends: service lanes without a name
        a = (x0 + (2 * k + 1) * dx, y0 + (rows - 1) * dy)
        add([list(a), [a[0] + dx * 0.2, a[1] + dy * 0.6]], None, "service")
    hx, hy = x0 + 20 * dx, y0 + 3 * dy  # the hamlet, 2.6 km east: a 4 x 3 grid
    for j in range(3):
        for i in range(3):
            add([[hx + i * dx, hy + j * dy], [hx + (i + 1) * dx, hy + j * dy]], f"Chemin du Hameau {j + 1}", "unclassified")
    for i in range(4):
        for j in range(2):
            add([[hx + i * dx, hy + j * dy], [hx + i * dx, hy + (j + 1) * dy]], "Route des Granges", "tertiary", maxspeed="FR:rural")
    mx = x0 - 3 * dx  # the motorway, west of the town, north to south, both carriageways as one way each
    for k in range(6):
        add([[mx + 0.1 * k * dx, y0 - 6 * dy + 3 * k * dy], [mx + 0.1 * (k + 1) * dx, y0 - 6 * dy + 3 * (k + 1) * dy]], "A 7", "motorway",
            maxspeed="130", lanes="3", oneway="yes")
    town = [[x0 - 1.5 * dx, y0 - 8 * dy], [x0 + 10 * dx, y0 - 8 * dy], [x0 + 10 * dx, y0 + 10 * dy], [x0 - 5 * dx, y0 + 10 * dy],
            [x0 - 5 * dx, y0 - 8 * dy], [x0 - 1.5 * dx, y0 - 8 * dy]]
    hamlet = [[x0 + 10 * dx, y0 - 8 * dy], [x0 + 26 * dx, y0 - 8 * dy], [x0 + 26 * dx, y0 + 10 * dy], [x0 + 10 * dx, y0 + 10 * dy],
              [x0 + 10 * dx, y0 - 8 * dy]]
    communes = [{"type": "Feature", "properties": {"NOM_COM": NAME, "INSEE_COM": "26999"}, "geometry": {"type": "Polygon", "coordinates": [town]}},
                {"type": "Feature", "properties": {"NOM_COM": "Les Granges-Synthétiques", "INSEE_COM": "26998"},
                 "geometry": {"type": "Polygon", "coordinates": [hamlet]}}]
    return roads, communes


def write_raw(folder: Path) -> dict[str, Path]:
    """Write roads.geojson (EPSG:32631, said in the file) and communes.geojson (EPSG:3857, not said)."""
    to_utm, to_merc = _utm()
    roads, communes = raw_features()
    for f in roads:
        f["geometry"]["coordinates"] = [[round(v, 2) for v in to_utm.transform(*c)] for c in f["geometry"]["coordinates"]]
    for f in communes:
        f["geometry"]["coordinates"] = [[[round(v, 2) for v in to_merc.transform(*c)] for c in ring] for ring in f["geometry"]["coordinates"]]
    folder.mkdir(parents=True, exist_ok=True)
    files = {"roads": folder / "voies-osm.geojson", "communes": folder / "communes.geojson"}
    files["roads"].write_text(json.dumps({"type": "FeatureCollection", "name": "voies",
                                          "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32631"}},
                                          "features": roads}, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    files["communes"].write_text(json.dumps({"type": "FeatureCollection", "features": communes}, ensure_ascii=False, indent=0) + "\n",
                                 encoding="utf-8")
    return files


def new_args(files: dict[str, Path], out: Path) -> list[str]:
    """The `territory new` command line that builds the package from the raw files."""
    return ["new", "--name", NAME, "--roads", str(files["roads"]), "--communes", str(files["communes"]), "--crs", "communes=EPSG:3857",
            "--out", str(out), "--attribution", "Données synthétiques de Vigie (tests), sans licence", "--force"]


def rebuild(out: Path = PACKAGE, raw: Path = RAW) -> int:
    """Write the raw files and build the package with `territory new`, as a city would."""
    from services.territory.cli import main

    return main(new_args(write_raw(raw), out))


if __name__ == "__main__":
    sys.exit(rebuild())
