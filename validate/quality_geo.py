"""Where points fall: inside the province, inside a commune, from the admin-units boundaries.

The schema's bounding box (lon 106.4118–107.5758, lat 10.5797–12.3) also holds parts of Hồ Chí Minh City,
Lâm Đồng and Tây Ninh, so a point can pass the schema and still lie outside Đồng Nai. The boundaries of the
95 communes and wards are in the admin-units dataset; their union is the province. Tests are vectorised
(shapely.contains_xy on prepared geometries): a million points take about a second.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

__all__ = ["Boundaries", "cached"]


class Boundaries:
    """Commune/ward polygons by code, and the province as their union."""

    def __init__(self, units: dict[str, Any]) -> None:
        self.units = units
        for geometry in units.values():
            shapely.prepare(geometry)
        self._province: Any = None

    @classmethod
    def from_geojson(cls, items: Iterable[tuple[Any, Any]]) -> Boundaries:
        """From (code, GeoJSON geometry as text or dict) pairs; empty or unreadable geometries are skipped."""
        units = {}
        for code, geometry in items:
            if not code or not geometry:
                continue
            try:
                value = json.loads(geometry) if isinstance(geometry, str) else geometry
                units[str(code)] = shape(value)
            except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException):
                continue
        return cls(units)

    def __bool__(self) -> bool:
        return bool(self.units)

    @property
    def province(self) -> Any:
        if self._province is None:
            self._province = shapely.union_all(list(self.units.values()))
            shapely.prepare(self._province)
        return self._province

    def inside_province(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """True/False per point; False where a coordinate is missing (callers mask those)."""
        known = ~(np.isnan(lon) | np.isnan(lat))
        out = np.zeros(len(lon), dtype=bool)
        if known.any():
            out[known] = shapely.contains_xy(self.province, lon[known], lat[known])
        return out

    def inside_units(self, lon: np.ndarray, lat: np.ndarray, codes: np.ndarray | pd.Categorical) -> np.ndarray:
        """1.0 inside the unit named on the row, 0.0 outside, NaN when the code or the point is unknown."""
        out = np.full(len(lon), np.nan)
        known = ~(np.isnan(lon) | np.isnan(lat))
        if isinstance(codes, pd.Categorical):  # already small ints (-1: none)
            numbers, uniques = codes.codes, codes.categories
        else:
            numbers, uniques = pd.factorize(pd.Series(codes, dtype=object))  # compare small ints, not texts
        for k, code in enumerate(uniques.tolist()):
            geometry = self.units.get(str(code))
            if geometry is None:
                continue
            rows = known & (numbers == k)
            out[rows] = shapely.contains_xy(geometry, lon[rows], lat[rows]).astype(float)
        return out


_CACHE: dict[Hashable, Boundaries] = {}
_LOCK = threading.Lock()


def cached(key: Hashable, load: Callable[[], Boundaries]) -> Boundaries:
    """Boundaries built once per key (e.g. the database and the admin-units version they came from)."""
    with _LOCK:
        found = _CACHE.get(key)
        if found is None:
            found = _CACHE[key] = load()
            while len(_CACHE) > 8:
                _CACHE.pop(next(iter(_CACHE)))
        return found
