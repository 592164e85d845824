"""`python app.py territory new|check`: build a territory package from raw files, or say what is wrong with one."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from .builder import build_package, slug
from .checker import check_package
from .package import DATA_ROOT, LAYERS, TerritoryError

FILE_LAYERS = ("roads", "boundary", "communes", "districts", "lamps", "cabinets", "junctions", "counts")


def build_parser() -> argparse.ArgumentParser:
    """The `territory` command's arguments."""
    parser = argparse.ArgumentParser(prog="python app.py territory", description="Territory packages (docs/territory.md)")
    sub = parser.add_subparsers(dest="command", required=True)
    new = sub.add_parser("new", help="build a package from a city's raw files (roads required)")
    new.add_argument("--name", required=True, help="the territory's name, as operators read it")
    for key in FILE_LAYERS:
        new.add_argument(f"--{key}", type=Path, required=key == "roads", metavar="FILE",
                         help="CSV of traffic counts" if key == "counts" else f"GeoJSON of the {key}")
    new.add_argument("--out", type=Path, help="the package folder (default: services/data/<id>)")
    new.add_argument("--id", dest="territory_id", help="the package id (default: from the name)")
    new.add_argument("--timezone", default="Europe/Paris")
    new.add_argument("--language", default="fr", choices=("fr", "en"))
    new.add_argument("--attribution", default="", help="the data's producers and licences, shown on the map")
    new.add_argument("--crs", action="append", default=[], metavar="LAYER=EPSG:n",
                     help="the CRS of a file that does not say it (e.g. roads=EPSG:2154)")
    new.add_argument("--map", action="append", default=[], metavar="LAYER.FIELD=ATTRIBUTE",
                     help="which attribute is a field (e.g. roads.class=TYPE_ROUTE, roads.speed=VMAX, communes.code=INSEE)")
    new.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    check = sub.add_parser("check", help="say every problem of a package, by file and field")
    check.add_argument("folder", type=Path)
    return parser


def _pairs(values: list[str], flag: str) -> list[tuple[str, str]]:
    out = []
    for v in values:
        key, sep, value = v.partition("=")
        if not sep or not key or not value:
            raise TerritoryError(f"{flag} {v!r}: expected {'LAYER=EPSG:n' if flag == '--crs' else 'LAYER.FIELD=ATTRIBUTE'}")
        out.append((key.strip(), value.strip()))
    return out


def run_new(args: argparse.Namespace, out: TextIO) -> int:
    """Build the package and print what was found, guessed and built."""
    crs = dict(_pairs(args.crs, "--crs"))
    mapping: dict[str, dict[str, str]] = {}
    for key, attr in _pairs(args.map, "--map"):
        layer, dot, fld = key.partition(".")
        if not dot or layer not in LAYERS:
            raise TerritoryError(f"--map {key}={attr}: expected LAYER.FIELD with a layer among {', '.join(LAYERS)}")
        mapping.setdefault(layer, {})[fld] = attr
    files = {k: getattr(args, k) for k in FILE_LAYERS if getattr(args, k) is not None}
    folder = args.out or DATA_ROOT / (args.territory_id or slug(args.name))
    started, cpu = time.perf_counter(), time.process_time()
    built = build_package(args.name, files, folder, territory_id=args.territory_id, timezone=args.timezone, language=args.language,
                          crs=crs, mapping=mapping, attribution=args.attribution, force=args.force)
    for line in built.lines:
        print(line, file=out)
    print("assets: " + ", ".join(f"{k} {v:,}".replace(",", " ") for k, v in built.counts.items()), file=out)
    print(f"package written to {folder} in {time.perf_counter() - started:.1f} s ({time.process_time() - cpu:.1f} s CPU); "
          f"run it with VIGIE_TERRITORY={folder} python app.py", file=out)
    return 0


def run_check(args: argparse.Namespace, out: TextIO) -> int:
    """Print every error and warning; 0 when the package can run."""
    report = check_package(args.folder)
    for e in report.errors:
        print(f"error: {e}", file=out)
    for w in report.warnings:
        print(f"warning: {w}", file=out)
    print(f"{args.folder}: {'ready' if report.ok else f'{len(report.errors)} problem(s) to fix'}"
          f"{f', {len(report.warnings)} warning(s)' if report.warnings else ''}", file=out)
    return 0 if report.ok else 1


def main(argv: list[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run `territory new` or `territory check`; a problem is printed with its reason (exit 2), never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return run_new(args, out) if args.command == "new" else run_check(args, out)
    except TerritoryError as error:
        print(f"territory {args.command}: {error}", file=err)
        return 2
