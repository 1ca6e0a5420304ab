"""Hypotheses that cross a known berth (helper of :mod:`quayside.core.ships`).

A vessel moored at a quay or pier lies *alongside* it: its hull is parallel to the
berth face, fended off by a metre or two, and held by lines fore and aft
(PIANC WG 33, *Guidelines for the design of fender systems*, 2002; the
berth-face geometry of any port handbook). The structures that stick out
over the water at a berth run the other way: the booms of ship-to-shore cranes
and loaders reach out *across* the ship they work, conveyors, gangways and
mooring catwalks run out from the face. Where the analyst has given the piers,
a hypothesis near a pier whose axis is square to the nearest stretch of the
pier's outline, and that does not itself touch the pier, is such a structure
(or the part of one that reaches beyond a moored hull), not a vessel.

Vessels moored stern-to (Mediterranean mooring, ro-ro ramps) touch the berth
with their stern, so the rule leaves bodies within the docking distance alone --
except beside a vessel lying alongside the same berth: a berth where a hull lies
along the face is not one where another is moored square to it, and what stands
square to the face right beside that hull is the boom of the crane working it (or
a gangway, a loader's chute), reaching out from the quay past its bow or stern.
"""

from __future__ import annotations

import math
from typing import Callable, List, Sequence, Tuple

from shapely.ops import transform as shp_transform

CROSSING_DEG = 60.0  # an axis more than this far from the berth face's direction crosses it
BESIDE_GAP_M = 8.0  # a body within this of a vessel alongside the same berth lies beside it (its bow or
# stern may be measured a few metres short)


def _face_direction(boundary, pt, half: float):
    """Unit direction (east, north) of ``boundary`` around its point nearest ``pt``."""
    d = boundary.project(pt)
    a = boundary.interpolate(max(0.0, d - half))
    b = boundary.interpolate(min(boundary.length, d + half))
    vx, vy = b.x - a.x, b.y - a.y
    n = math.hypot(vx, vy)
    if n <= 0:
        return None
    return vx / n, vy / n


def _in_metres(g, f):
    """Geometry ``g`` (CRS) in the local ground metres of ``f`` (see ``frame`` below)."""
    return shp_transform(lambda xs, ys, zs=None: f(xs, ys), g)


def _face_angle(s, geoms, frame, face_half_m):
    """Angle (degrees, 0-90) between a ship's axis and the face of the nearest of ``geoms``
    around it, or None."""
    c = s.polygon.centroid
    f = frame(c.x, c.y)
    hull = _in_metres(s.polygon, f)
    reach = s.polygon.buffer(max(s.polygon.length, 1e-9))
    best = None
    for g in geoms:
        if not g.intersects(reach):
            continue
        gm = _in_metres(g, f)
        dist = hull.distance(gm)
        if best is None or dist < best[0]:
            best = (dist, gm)
    if best is None:
        return None
    gm = best[1]
    boundary = gm.boundary if gm.geom_type in ("Polygon", "MultiPolygon") else gm
    if boundary.geom_type.startswith("Multi"):
        parts = list(boundary.geoms)
        boundary = min(parts, key=lambda b: b.distance(hull))
    face = _face_direction(boundary, hull.centroid, face_half_m)
    if face is None:
        return None
    h = math.radians(s.heading_deg)
    cosang = abs(math.sin(h) * face[0] + math.cos(h) * face[1])
    return math.degrees(math.acos(min(1.0, cosang)))


def crossing_the_berth(ships: List, piers: Sequence[Tuple[object, object]],
                       frame: Callable, dock_dist: float, face_half_m: float) -> List[bool]:
    """For each ship (with ``pier``, ``pier_distance_m``, ``heading_deg`` and ``polygon``
    set), whether it is a structure crossing the face of its pier (see the module
    docstring). ``frame(x0, y0)`` returns a function mapping CRS coordinates to local
    ground metres (east, north) around (x0, y0); ``face_half_m``: half the stretch of
    outline whose direction is taken."""
    geoms = [g for g, _ in piers if g is not None and not g.is_empty]
    angle = [None if s.pier is None or s.pier_distance_m is None else _face_angle(s, geoms, frame, face_half_m)
             for s in ships]
    # vessels lying alongside a berth (within the docking distance, parallel to its face)
    alongside = [i for i, s in enumerate(ships) if angle[i] is not None and s.pier_distance_m <= dock_dist
                 and angle[i] < 90.0 - CROSSING_DEG]
    out = []
    for i, s in enumerate(ships):
        if angle[i] is None or angle[i] <= CROSSING_DEG:
            out.append(False)
            continue
        if s.pier_distance_m > dock_dist:
            out.append(True)
            continue
        # square to the face within the docking distance: moored stern-to, unless it lies right
        # beside a hull moored alongside the same berth
        c = s.polygon.centroid
        f = frame(c.x, c.y)
        hull = _in_metres(s.polygon, f)
        out.append(any(ships[j].pier == s.pier and hull.distance(_in_metres(ships[j].polygon, f)) <= BESIDE_GAP_M
                       for j in alongside if j != i))
    return out


SLIVER_SHARE = 0.7  # share of a body near a pier outline (about a pixel) that makes it a sliver of the edge
SLIVER_ELONG = 6.0  # ... when it is also slimmer than this (length / beam): hulls are beamier


def hugging_the_outline(ships: List, piers: Sequence[Tuple[object, object]], frame: Callable,
                        band_m: float) -> List[bool]:
    """For each ship, whether it is a sliver of a pier's edge rather than a hull: most of
    its area within ``band_m`` (about a pixel) of the outline of a given pier or quay, and
    slimmer than any hull of its length. The mixed pixels and the fender line, kerb or
    shadow along a quay face form such strips; a moored hull reaches a beam away from the
    face."""
    out = []
    geoms = [g for g, _ in piers if g is not None and not g.is_empty]
    for s in ships:
        if s.pier is None or s.width_m <= 0 or s.length_m / s.width_m < SLIVER_ELONG:
            out.append(False)
            continue
        c = s.polygon.centroid
        f = frame(c.x, c.y)
        hull = _in_metres(s.polygon, f)
        if hull.area <= 0:
            out.append(False)
            continue
        reach = s.polygon.buffer(max(s.polygon.length, 1e-9))
        share = 0.0
        for g in geoms:
            if not g.intersects(reach):
                continue
            gm = _in_metres(g, f)
            edge = gm.boundary if gm.geom_type in ("Polygon", "MultiPolygon") else gm
            share = max(share, hull.intersection(edge.buffer(band_m)).area / hull.area)
        out.append(share >= SLIVER_SHARE)
    return out
