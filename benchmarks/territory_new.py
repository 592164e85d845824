"""How long `territory new` takes to rebuild Montpellier from its raw files, and the assets it produces.

Each round runs `python app.py territory new` in a fresh process (as a user would) on the raw files of
services/data/montpellier into a temporary folder; the baseline, in the same run, is a fresh process that
only builds the three simulators' worlds of the shipped package (what `territory new` adds on top of it is
reading the files, guessing the mapping, copying and writing the manifest). Wall and CPU seconds (user+sys of
the child). Usage: .venv/bin/python benchmarks/territory_new.py [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
M = ROOT / "services" / "data" / "montpellier"
PY = sys.executable


def new_command(out: Path) -> list[str]:
    """`territory new` on Montpellier's raw files (the junctions file names no CRS: Lambert-93 is declared)."""
    return [PY, str(ROOT / "app.py"), "territory", "new", "--name", "Montpellier Méditerranée Métropole", "--id", "montpellier",
            "--out", str(out), "--roads", str(M / "filaire_voies.geojson"), "--boundary", str(M / "VilleMTP_MTP_LimiteCommune.geojson"),
            "--communes", str(M / "communes-metropole.geojson"), "--districts", str(M / "VilleMTP_MTP_Quartiers.geojson"),
            "--lamps", str(M / "eclairage_public_points.geojson"), "--junctions", str(M / "VilleMTP_MTP_Signalisation.geojson"),
            "--counts", str(M / "VilleMTP_MTP_Comptage.csv"), "--crs", "junctions=EPSG:2154", "--force"]


BASELINE = [PY, "-c", "from services.territory.builder import asset_counts; print(asset_counts('montpellier'))"]


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of a child process, and what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.stdout


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    new, base, printed = [], [], ""
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="vigie-territory-new-") as tmp:
            wall, cpu, printed = timed(new_command(Path(tmp) / "montpellier"))
            new.append((wall, cpu))
        base.append(timed(BASELINE)[:2])
    print(next(line for line in printed.splitlines() if line.startswith("assets:")))
    for label, rows in (("territory new (Montpellier, raw files)", new), ("baseline: worlds of the shipped package", base)):
        walls, cpus = [r[0] for r in rows], [r[1] for r in rows]
        print(f"{label}: wall median {statistics.median(walls):.1f} s (min {min(walls):.1f}, max {max(walls):.1f}), "
              f"CPU median {statistics.median(cpus):.1f} s")
    ratio = statistics.median(r[1] for r in new) / statistics.median(r[1] for r in base)
    print(f"CPU ratio territory new / baseline: {ratio:.2f}; load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
