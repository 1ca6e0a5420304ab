"""Ground measurement for rasters in any CRS.

A pixel of a Web Mercator raster is ``10 m`` in CRS units but only
``10 * cos(latitude)`` m on the ground, and an EPSG:4326 pixel is in degrees.
Everything Quayside reports in metres is measured on the WGS84 ellipsoid
(Vincenty/Karney-grade accuracy is not needed at port scale: we use the
local radii of curvature of the ellipsoid, exact to well under 0.1 % over a
few kilometres).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)


def local_radii(lat_deg: float) -> Tuple[float, float]:
    """Meridional (M) and prime-vertical (N) radii of curvature in metres."""
    s = math.sin(math.radians(lat_deg))
    w = math.sqrt(1 - WGS84_E2 * s * s)
    n = WGS84_A / w
    m = WGS84_A * (1 - WGS84_E2) / w**3
    return m, n


@dataclass(frozen=True)
class GroundScale:
    """Metres on the ground per raster pixel along x (columns) and y (rows)."""

    x_m: float
    y_m: float
    georeferenced: bool

    @property
    def mean_m(self) -> float:
        return math.sqrt(self.x_m * self.y_m)


def to_crs(geom, src_crs, dst_crs):
    """A shapely geometry reprojected from ``src_crs`` to ``dst_crs`` (unchanged when either
    is None or they are the same)."""
    if src_crs is None or dst_crs is None or src_crs == dst_crs:
        return geom
    from rasterio.warp import transform_geom
    from shapely.geometry import mapping, shape

    return shape(transform_geom(src_crs, dst_crs, mapping(geom)))


def lonlat_of(crs, xs: Sequence[float], ys: Sequence[float]):
    """Transform CRS coordinates to lon/lat degrees with rasterio (GDAL/PROJ)."""
    from rasterio.warp import transform

    return transform(crs, "EPSG:4326", list(xs), list(ys))


def ground_distance_m(crs, p: Tuple[float, float], q: Tuple[float, float]) -> float:
    """Distance in metres on the ellipsoid between two points given in ``crs``.

    With no CRS the answer is the plain Euclidean distance in CRS units.
    """
    if crs is None:
        return math.dist(p, q)
    lons, lats = lonlat_of(crs, [p[0], q[0]], [p[1], q[1]])
    lat0 = 0.5 * (lats[0] + lats[1])
    m, n = local_radii(lat0)
    dlat = math.radians(lats[1] - lats[0])
    dlon = math.radians(lons[1] - lons[0])
    return math.hypot(m * dlat, n * math.cos(math.radians(lat0)) * dlon)


def ground_scale(crs, transform, width: int, height: int, at: Optional[Tuple[float, float]] = None) -> GroundScale:
    """Ground metres per pixel at the raster centre (or at pixel ``at`` = (col, row))."""
    col, row = at if at is not None else (width / 2.0, height / 2.0)
    x0, y0 = transform * (col, row)
    x1, y1 = transform * (col + 1, row)
    x2, y2 = transform * (col, row + 1)
    if crs is None:
        return GroundScale(math.dist((x0, y0), (x1, y1)), math.dist((x0, y0), (x2, y2)), False)
    return GroundScale(
        ground_distance_m(crs, (x0, y0), (x1, y1)),
        ground_distance_m(crs, (x0, y0), (x2, y2)),
        True,
    )


def dataset_ground_scale(src) -> GroundScale:
    """:func:`ground_scale` of an open rasterio dataset."""
    return ground_scale(src.crs, src.transform, src.width, src.height)


def crs_units_per_metre(transform, scale: GroundScale) -> float:
    """CRS units per ground metre at the point ``scale`` was measured: the square root of a pixel's
    area in CRS units over its area on the ground (a Web Mercator unit is cos(latitude) ground metres)."""
    t = transform
    return math.sqrt(abs(t.a * t.e - t.b * t.d) / (scale.x_m * scale.y_m))
