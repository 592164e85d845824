"""Local metres and a grid index of boxes, for nearest-feature searches over the territory.

`planar` turns lon/lat into metres east and north around a reference latitude (good to a
few metres across a city); `BoxGrid` files items under every square cell their bounding
box overlaps, so a search only measures the items of the few cells around a point.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TypeVar

import numpy as np

M_PER_DEG_LON_AT_EQUATOR = 111320.0
M_PER_DEG_LAT = 110540.0

Box = tuple[float, float, float, float]  # min x, min y, max x, max y
Cell = tuple[int, int]
Number = TypeVar("Number", float, np.ndarray)


def planar(lon: Number, lat: Number, lat0: float) -> tuple[Number, Number]:
    """Return metres east and north (equirectangular at latitude `lat0`), for floats or numpy arrays."""
    return lon * M_PER_DEG_LON_AT_EQUATOR * math.cos(math.radians(lat0)), lat * M_PER_DEG_LAT


class BoxGrid:
    """Items (numbered from 0) filed under the square cells their bounding boxes overlap."""

    def __init__(self, cell: float) -> None:
        self.cell = cell
        self._items: dict[Cell, list[int]] = {}

    @classmethod
    def of_boxes(cls, boxes: Iterable[Box], cell: float) -> BoxGrid:
        """Index the boxes, the n-th box as item n."""
        grid = cls(cell)
        for item, (x0, y0, x1, y1) in enumerate(boxes):
            (i0, j0), (i1, j1) = grid.cell_of(x0, y0), grid.cell_of(x1, y1)
            for i in range(i0, i1 + 1):
                for j in range(j0, j1 + 1):
                    grid._items.setdefault((i, j), []).append(item)
        return grid

    def cell_of(self, x: float, y: float) -> Cell:
        """Return the cell holding a point."""
        return int(x // self.cell), int(y // self.cell)

    def block(self, cell: Cell, reach: int) -> list[int]:
        """Return the items of the cells within `reach` cells of `cell` (a square block), sorted, each once."""
        ci, cj = cell
        cells = ((i, j) for i in range(ci - reach, ci + reach + 1) for j in range(cj - reach, cj + reach + 1))
        return sorted({item for c in cells for item in self._items.get(c, ())})
