"""Vessel traffic is not construction (used by :mod:`quayside.core.change`).

In a port most of what changes between two dates floats: ships arrive and leave, are
loaded, and moor at other berths. The object rules of :mod:`.change_objects` drop a
change that is water at both dates, but a ship moored against a quay is not water at
the date it is there, is often the grey of the quay's concrete, and lies against stable
land, so it reads as a quay widened (``water_to_land``), a quay cut back
(``land_to_water``) or a surface change.

Quayside's own ship detector (:func:`quayside.core.ships.detect_ships`) is built to
separate hulls from the quays they lie against. It runs on each date, only around the
footprints that have water near them (an area of interest of ``REACH_M`` around them, so
a hull is seen whole), and a footprint that vessels of either date cover for at least
``COVER_MIN`` of its area is left out; a hull that lies mostly on land at both dates
(``HULL_LAND_MAX``) does not count unless a hull lies there at the other date too: a
hull lies where there was water at the date the vessel was away, or where a vessel lay at
both dates (hatches opened, deck cargo changed), and the detector can take a pier,
extended perhaps, for a ship. A change that hulls of *each* date cover for at least
``DECK_COVER_MIN`` of its area (and of both together ``COVER_MIN``) is on the deck of a
vessel berthed at both dates, whatever share of each other the two hulls overlap (the
detector may find the whole ship at one date and a part of it at the other), unless it is a
water change: a vessel there at both dates changes neither water nor land, whereas a pier
extended under a ship moored at its old end does (``water_to_land`` under both hulls).
Land lost (``land_to_water``) under a hull of BEFORE is a vessel that left, whatever share
of that hull lies on land at both dates: the detector may outline a ship moored at a pier
together with part of the pier, but it is water at AFTER where the footprint lies. (Ports
gain land far more often than they lose it; a pier demolished where the detector saw a
ship at BEFORE would be missed.)
Detections of AFTER are brought onto BEFORE's CRS and moved by the residual shift that
aligned AFTER to BEFORE.

The detector is handed the water masks the change step made of each date (or was given) as its
water reference, so it does not compute one of its own again; a mask that is not in the image's
CRS, or does not cover the image as far as the detector reads around the area of interest
(:func:`quayside.core.ships.read_halo_m`), is not used and the detector makes its own.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Sequence, Tuple

import rasterio
import rasterio.errors
from shapely import affinity
from shapely.geometry import box
from shapely.ops import unary_union

from .errors import InputError
from .geo import crs_units_per_metre, dataset_ground_scale, to_crs

REACH_M = 150.0  # the detectors look this far around a footprint (half the longest common hull)
COVER_MIN = 0.8  # share of a footprint that vessels cover above which it is vessel traffic (a pier extended
# beside a moored ship can be taken into the ship's hull by the detector, but only in part)
HULL_LAND_MAX = 0.3  # a hull at most this much on land at both dates
NEAR_WATER_M = 20.0  # footprints with water within this distance (at either date) are checked
DECK_COVER_MIN = 0.5  # a change that hulls of each date cover this much (and both together COVER_MIN) is on a deck
WATER_TYPES = ("water_to_land", "land_to_water")


def usable_water(water_path: Optional[str], path: str, aoi_geom) -> Optional[str]:
    """``water_path`` when the ship detector can take it as the water reference of the image ``path``
    around ``aoi_geom`` (in the image's CRS): the same CRS, and it covers the image as far around
    the area as the detector reads (:func:`quayside.core.ships.read_halo_m`, ground metres turned
    into CRS units with the image's own ground scale, so that a Web Mercator or a degree grid asks
    for the same ground), to a couple of the mask's pixels; else None."""
    from .ships import read_halo_m

    if not water_path:
        return None
    try:
        with rasterio.open(path) as src, rasterio.open(water_path) as ws:
            if src.crs is None or ws.crs is None or ws.crs != src.crs:
                return None
            scale = dataset_ground_scale(src)
            reach = read_halo_m(scale.mean_m) * crs_units_per_metre(src.transform, scale)
            tol = 2.0 * max(abs(ws.transform.a), abs(ws.transform.e))
            need = box(*src.bounds).intersection(aoi_geom.buffer(reach))
            return water_path if box(*ws.bounds).buffer(tol).contains(need) else None
    except rasterio.errors.RasterioIOError:
        return None


def vessels_near(path: str, crs, aoi_geom, aoi_crs, shift_xy: Tuple[float, float] = (0.0, 0.0),
                 cancel: Optional[Callable[[], bool]] = None, water_path: Optional[str] = None) -> List[object]:
    """Hull polygons (in ``aoi_crs``) that the ship detector finds in ``path`` within ``aoi_geom``
    (given in ``aoi_crs``), moved by ``shift_xy`` (CRS units); none when the image cannot be searched
    (one band, no overlap: the detector's own input errors). ``water_path``: a water mask of the image
    to use as the detector's water reference when it can (:func:`usable_water`)."""
    from .ships import detect_ships

    aoi = to_crs(aoi_geom, aoi_crs, crs)
    try:
        res = detect_ships(path, aoi=[aoi], water_path=usable_water(water_path, path, aoi), cancel=cancel)
    except InputError:
        return []
    out = []
    for s in res.ships:
        p = to_crs(s.polygon, crs, aoi_crs)
        if shift_xy != (0.0, 0.0):
            p = affinity.translate(p, xoff=shift_xy[0], yoff=shift_xy[1])
        out.append(p)
    return out


def drop_vessel_traffic(changes: Sequence, checked: Sequence[bool], before_path: str, after_path: str, crs_before,
                        crs_after, reach_crs: float, after_shift_xy: Tuple[float, float],
                        land_share: Optional[Callable[[object], float]] = None,
                        cancel: Optional[Callable[[], bool]] = None,
                        water_paths: Tuple[Optional[str], Optional[str]] = (None, None)) -> Tuple[list, int]:
    """``changes`` without those that vessels of either date cover (see the module docstring);
    ``checked[i]``: whether change ``i`` is near water and so may be a vessel; ``land_share(polygon)``:
    the share of a polygon that is land at both dates, when known; ``water_paths``: water masks of
    BEFORE and AFTER, each in its image's own georeferencing, for the ship detector (see
    :func:`vessels_near`). Returns the kept changes and how many were left out."""
    near = [c.polygon for c, k in zip(changes, checked) if k]
    if not near:
        return list(changes), 0
    aoi = unary_union([p.buffer(reach_crs) for p in near])
    hulls_b = [h.buffer(0) for h in vessels_near(before_path, crs_before, aoi, crs_before, cancel=cancel,
                                                 water_path=water_paths[0])]
    hulls_a = [h.buffer(0) for h in vessels_near(after_path, crs_after, aoi, crs_before, after_shift_xy,
                                                 cancel=cancel, water_path=water_paths[1])]
    hulls = hulls_b + hulls_a
    if land_share is not None:
        # a hull lies where the water was at the date it was away; one that lies on land at both dates
        # is the detector taking a pier (extended, perhaps) for a ship, unless a hull lies there at the
        # other date too (a ship at both dates, its hatches opened or its deck cargo changed)
        def berthed_at_both(h, others):
            return any(h.intersection(g).area >= 0.5 * h.area for g in others)

        hulls = [h for h in hulls_b if land_share(h) <= HULL_LAND_MAX or berthed_at_both(h, hulls_a)] + \
                [h for h in hulls_a if land_share(h) <= HULL_LAND_MAX or berthed_at_both(h, hulls_b)]
    # a change on the deck of a vessel berthed at both dates (hatches opened, deck cargo changed) lies
    # under hulls of both dates, whatever the detector made of each (the whole ship at one date, a part
    # at the other); a vessel there at both dates changes neither the water nor the land, so only the
    # other types are taken for it (a pier extended under a ship moored at its old end is water_to_land)
    under_b = unary_union(hulls_b) if hulls_b else None  # every hull of BEFORE, counted or not
    under_a = unary_union(hulls_a) if hulls_a else None
    ships = unary_union(hulls) if hulls else None
    if ships is None and under_b is None:
        return list(changes), 0
    under_ab = unary_union([under_b, under_a]) if under_b is not None and under_a is not None else None
    kept = []
    for c, k in zip(changes, checked):
        a = c.polygon.area
        typ = getattr(c, "type", None)
        if k and a > 0:
            if ships is not None and c.polygon.intersection(ships).area >= COVER_MIN * a:
                continue
            if typ == "land_to_water" and under_b is not None and c.polygon.intersection(under_b).area >= COVER_MIN * a:
                continue  # where a vessel of BEFORE lay, water at AFTER: the vessel left
            if (typ not in WATER_TYPES and under_ab is not None
                    and c.polygon.intersection(under_b).area >= DECK_COVER_MIN * a
                    and c.polygon.intersection(under_a).area >= DECK_COVER_MIN * a
                    and c.polygon.intersection(under_ab).area >= COVER_MIN * a):
                continue
        kept.append(c)
    return kept, len(changes) - len(kept)
