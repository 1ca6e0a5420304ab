"""Construction change between two optical images: footprints with m2 and type.

Classical image analysis (numpy, scipy, rasterio, shapely); nothing learnt,
nothing downloaded. Every full-resolution step runs block by block with a halo,
so a pair of 10000 x 10000 images runs in bounded memory.

Method
------
1. **Common grid** (:mod:`quayside.core.coregister`). AFTER is warped onto
   BEFORE's grid over their overlap, its residual translation is measured by
   gradient phase correlation and folded into the same (single, bilinear)
   resampling. Bands are matched by colour role (red, green, blue) when both
   images have them, so a 4-band uint16 image is compared with a 3-band uint8 one.

2. **Radiometric normalisation.** Sun, haze, season and sensor change the grey
   levels of everything, change or not. AFTER is mapped onto BEFORE band by band
   with a linear relation fitted on *pseudo-invariant features* (Schott, Salvaggio
   & Volchok 1988): pixels whose standardised difference is in the lowest 40 % of
   the overlap, refitted twice (an iteratively reweighted scheme in the spirit of
   IR-MAD, Nielsen 2007), with orthogonal (total least squares) regression so
   neither date is privileged. Both dates are then expressed in BEFORE's robust
   0..1 stretch.

3. **Change measure** (per pixel, both images smoothed by a small Gaussian that
   absorbs the last fraction of a pixel of misregistration):

   * *Colour*: the distance between the normalised colours, split into a
     chromaticity part and a brightness part. A shadow that moved with the sun
     darkens a surface and turns it slightly blue without changing its
     chromaticity much, so the brightness part is discounted where one of the two
     dates is in shadow (dark relative to its neighbourhood) and the other is not.
   * *Structure*: the local gradient structure of each date compared by a
     normalised local gradient correlation (cf. Argyriou & Vlachos 2003 and the
     structure tensor of Foerstner & Guelch 1987): ``S = <g_b . g_a> /
     sqrt(<|g_b|^2> <|g_a|^2>)`` over a Gaussian window, and the structure change
     ``(1 - S) * E`` where ``E`` is the local edge energy of the more textured date
     relative to the image noise. Roofs, walls, piers and stacks appear or vanish
     as edges; illumination changes leave the edges in place.
   * Each part is standardised by its robust spread over the overlap (median and
     median absolute deviation from sample windows) and the change magnitude is
     the root sum of squares, so "no change" has the same scale in every image.

4. **Automatic threshold.** The threshold is the larger of Otsu's threshold
   (Otsu 1979) on the log magnitude sampled over the overlap and a noise floor
   ``median + k * 1.4826 * MAD`` of the magnitude; the floor keeps a pair with no
   change from being split in two. ``sensitivity`` (0..1, default 0.5) lowers
   (above 0.5) or raises (below) both. Pixels above the threshold seed regions
   that grow into pixels above half of it (hysteresis, Canny 1986).

5. **Building index** (:mod:`quayside.core.change_morph`): the Morphological
   Building Index (Huang & Zhang 2011) of each date's normalised brightness (max of
   the visible bands), with linear structuring elements from ``MBI_MIN_M`` to
   ``MBI_MAX_M`` in four directions, computed block by block with a halo as long as
   the longest element; its threshold is Otsu's on the MBI of both dates in sample
   windows, scaled by the sensitivity.

6. **Clean-up**: closing then opening with a disc of about 1.5 m and holes below
   the minimum area filled; polygons of the candidate regions merged across block
   seams; regions below the minimum area dropped.

7. **Object-level decisions** (:mod:`quayside.core.change_objects`), one candidate
   region at a time, on an evidence raster written during the block pass (both
   dates' brightness, chromaticity, smoothed texture, MBI, shadow and vegetation
   flags, water masks): water at both dates is dropped (vessels, plumes, glint);
   new / removed structures are the pixels where the MBI rose / fell and is high at
   the date the structure stands (Huang, Zhang & Zhu 2014), split along image
   outlines, trimmed to their roof's own colour (so paving, earthworks and shadows
   beside a building are not in its area), and accepted when rectangular and/or
   supported by a cast shadow that appeared (disappeared); flat rectangular
   shadow-casting segments complete roofs the MBI misses (one that is no rectangle, a roof
   joined to new paving of its own grey, is split by openings into rectangular pieces bounded by
   the walls that its new cast shadow outlines); a structure on former
   water is ``water_to_land`` when it continues the stable land beside it (a pier
   extended) and dropped when it sits in open water and does not (a vessel);
   ``water_to_land`` / ``land_to_water`` from the water masks (computed with
   :func:`quayside.core.water.water_mask` on a decimated copy of each date), and a
   local test for ponds too narrow for the scene-wide mask (dark at one date only,
   coloured like water, nothing raised beside it); what is left is
   ``other_surface`` only when wide, strong, not vegetation at either date (ExG), not
   a shadow that moved, and its chromaticity changed (illumination changes
   brightness, not colour). Areas and perimeters in metres on the WGS84 ellipsoid
   (local radii of curvature at each footprint, :mod:`quayside.core.geo`).

8. **Buildings of each date compared** (:mod:`quayside.core.change_pcc`): the steps
   above assume that most of the overlap did not change (the noise floor, the
   pseudo-invariant fit). Where nearly everything changed (woodland or bare soil
   turned into a suburb) that fails, so each date is also classified on its own:
   MBI above Otsu's threshold of *that image's* MBI histogram (non-vegetated
   pixels), grown a few metres into the roof's shaded facets, opened, components
   that cannot be one building split along their colour outlines; compact,
   rectangular components away from water, with a cast shadow beside them, at the
   date they stand (a piece split out of a component of a hull's shape is away
   from water only if the whole component is: a ship's deck cut along its deck
   lines is still a vessel). A building of AFTER that was not a building at BEFORE, whose
   appearance changed and whose outline did not stand at BEFORE (gradient
   correlation along the outline), is a ``new_structure``; the reverse a
   ``removed_structure`` (post-classification comparison). These add to the
   structures of step 7 and take their ground from its surface and water
   footprints.

9. **Vessel traffic** (:mod:`quayside.core.change_vessels`): in a port most of
   what changes floats. Around the footprints with water near them, Quayside's
   ship detector runs on each date; a footprint that the hulls of either date
   cover almost whole is a vessel that came, went or moved berth, not
   construction, and is left out (the log says how many). The detector is given
   each date's water mask of step 4 and searches only around those footprints;
   ``vessel_check=False`` skips the step.

Bad input (no overlap, a CRS on one side only, bands that cannot be matched,
all nodata) raises :class:`~quayside.core.errors.InputError`.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np
import rasterio
from rasterio import features
from rasterio.enums import Resampling
from rasterio.transform import Affine
from rasterio.windows import Window
from rasterio.windows import transform as window_transform
from scipy import ndimage
from shapely.geometry import box, shape
from shapely.ops import unary_union

from .change_morph import mbi
from .change_objects import (
    CHROMA_SCALE,
    E_BA,
    E_BB,
    E_LA,
    E_LB,
    E_MBI_A,
    E_MBI_B,
    E_RA,
    E_RB,
    E_WATER,
    LUM_SCALE,
    MBI_SCALE,
    N_EVIDENCE,
    ObjectContext,
    decide,
    evidence_block,
)
from .change_pcc import BESIDE_FOUND as PCC_BESIDE_FOUND
from .change_pcc import MAX_AREA_M2 as PCC_MAX_AREA_M2
from .change_pcc import VESSEL_REACH_M as PCC_REACH_M
from .change_pcc import building_at_other_date as pcc_building_at_other_date
from .change_pcc import building_components as pcc_buildings
from .change_pcc import gradient_scale as pcc_gradient_scale
from .change_pcc import judge as pcc_judge
from .change_pcc import mbi_histogram
from .change_pcc import parent_vessel as pcc_parent_vessel
from .change_vessels import NEAR_WATER_M, REACH_M, drop_vessel_traffic
from .coregister import Shift, aligned_vrt, check_crs_pair, overlap_window, shift_between, shift_sentence
from .errors import InputError
from .geo import GroundScale, ground_scale
from .raster import (
    CancelCheck,
    Progress,
    band_roles,
    check_cancel,
    core_slices,
    iter_windows,
    n_windows,
    read_valid,
    union_over,
    window_from_bounds,
)

TYPES = ("new_structure", "removed_structure", "water_to_land", "land_to_water", "other_surface")
SMOOTH_PX = 0.8  # pre-smoothing of both dates (pixels)
STRUCT_SIGMA_M = 2.0  # integration scale of the gradient correlation (metres), at least 1.5 px
CLEAN_M = 1.5  # radius of the morphological clean-up (metres)
WATER_MAX_PX = 2048  # water masks are computed on copies at most this large
SHADOW_REACH_M = 6.0  # how far beyond a footprint's down-sun edge its shadow is looked for
PIF_FRACTION = 0.4
MBI_SEEDS = False
GAIN_MAX = 2.5  # a fitted gain beyond this (or below its inverse) means the fit found no invariant pixels
MBI_MIN_M = 2.0  # shortest linear structuring element of the MBI (metres)
MBI_MAX_M = 100.0  # longest (metres): buildings up to about this wide in every direction
MBI_MAX_PX = 201  # and at most this many pixels (bounds the halo)
GDAL_CACHE_MB = 128  # GDAL block cache during a run (megabytes)
PARENT_MAX_PX = 4096 * 4096  # a carved piece's parent is judged a vessel only within a window this large
# (12 evidence bands of uint8: 200 MB; the largest hull at 0.3 m fits in about 1500 x 400 px)


@dataclass
class Change:
    """One changed footprint. ``polygon`` in BEFORE's CRS; metres on the ellipsoid
    (pixel units when the rasters have no CRS: see :attr:`ChangeResult.units`)."""

    polygon: object
    area_m2: float
    perimeter_m: float
    type: str
    score: float
    change_mean: float
    before_mean: float
    after_mean: float


@dataclass
class ChangeResult:
    changes: List[Change]
    shift: Shift
    change_raster_path: Optional[str]
    notes: List[str] = field(default_factory=list)
    units: str = "m"
    pixel_size_m: float = 0.0
    threshold: float = 0.0

    @property
    def count(self) -> int:
        return len(self.changes)

    @property
    def total_new_m2(self) -> float:
        return float(sum(c.area_m2 for c in self.changes if c.type == "new_structure"))


# --------------------------------------------------------------------------------------------
# bands


def match_bands(before, after, bands_before=None, bands_after=None) -> Tuple[List[int], List[int], List[str]]:
    """Bands of each image to compare, matched by role. Raises InputError when impossible."""
    notes: List[str] = []
    if bands_before or bands_after:
        bb = [int(b) for b in (bands_before or bands_after)]
        ba = [int(b) for b in (bands_after or bands_before)]
        if len(bb) != len(ba):
            raise InputError(f"{len(bb)} band(s) chosen for BEFORE and {len(ba)} for AFTER: choose the same number "
                             "of bands, in the same order of colours, for both.")
        for name, src, bl in (("BEFORE", before, bb), ("AFTER", after, ba)):
            bad = [b for b in bl if not 1 <= b <= src.count]
            if bad:
                raise InputError(f"{name} has {src.count} band(s); band {bad[0]} does not exist.")
        return bb, ba, notes
    if before.count >= 3 and after.count >= 3:
        rb = band_roles(before)
        ra = band_roles(after)
        if before.count != after.count:
            notes.append(f"BEFORE has {before.count} bands and AFTER {after.count}: compared on their red, green "
                         f"and blue bands (BEFORE {list(rb.visible)}, AFTER {list(ra.visible)}).")
        return list(rb.visible), list(ra.visible), notes
    if before.count == after.count:
        return list(range(1, before.count + 1)), list(range(1, after.count + 1)), notes
    raise InputError(
        f"BEFORE has {before.count} band(s) and AFTER {after.count}: they cannot be matched band for band. Use two "
        "images with the same bands (e.g. both RGB): export the bands to compare from each (Raster > Extraction, "
        "or gdal_translate -b).")


# --------------------------------------------------------------------------------------------
# radiometric normalisation


@dataclass
class _Radiometry:
    gain: np.ndarray  # AFTER -> BEFORE, per band
    offset: np.ndarray
    lo: np.ndarray  # BEFORE's robust stretch
    hi: np.ndarray

    def before(self, x: np.ndarray) -> np.ndarray:
        return (x - self.lo[:, None, None]) / (self.hi - self.lo)[:, None, None]

    def after(self, x: np.ndarray) -> np.ndarray:
        y = x * self.gain[:, None, None] + self.offset[:, None, None]
        return (y - self.lo[:, None, None]) / (self.hi - self.lo)[:, None, None]


def _tls(x: np.ndarray, y: np.ndarray) -> Tuple[float, float]:
    """Orthogonal regression y = a x + b."""
    mx, my = x.mean(), y.mean()
    sxx = np.mean((x - mx) ** 2)
    syy = np.mean((y - my) ** 2)
    sxy = np.mean((x - mx) * (y - my))
    if sxy == 0:
        a = math.sqrt(syy / sxx) if sxx > 0 else 1.0
    else:
        a = (syy - sxx + math.sqrt((syy - sxx) ** 2 + 4 * sxy * sxy)) / (2 * sxy)
    if not np.isfinite(a) or a <= 0:
        a = math.sqrt(syy / sxx) if sxx > 0 else 1.0
    return float(a), float(my - a * mx)


def fit_radiometry(xb: np.ndarray, xa: np.ndarray) -> _Radiometry:
    """PIF normalisation of AFTER onto BEFORE from co-located samples (bands, n)."""
    nb = xb.shape[0]
    med_b = np.median(xb, axis=1)
    med_a = np.median(xa, axis=1)
    iqr_b = np.maximum(np.subtract(*np.percentile(xb, [75, 25], axis=1)), 1e-6)
    iqr_a = np.maximum(np.subtract(*np.percentile(xa, [75, 25], axis=1)), 1e-6)
    gain = iqr_b / iqr_a
    offset = med_b - gain * med_a
    for _ in range(3):
        ya = xa * gain[:, None] + offset[:, None]
        d = np.sqrt(np.sum(((ya - xb) / iqr_b[:, None]) ** 2, axis=0))
        sel = d <= np.quantile(d, PIF_FRACTION)
        if sel.sum() < 50:
            break
        for b in range(nb):
            a, c = _tls(xa[b, sel], xb[b, sel])
            gain[b], offset[b] = a, c
    lo = np.percentile(xb, 1, axis=1)
    hi = np.percentile(xb, 99, axis=1)
    hi = np.where(hi > lo, hi, lo + 1.0)
    return _Radiometry(gain.astype(np.float32), offset.astype(np.float32), lo.astype(np.float32),
                       hi.astype(np.float32))


def match_ranges(xb: np.ndarray, xa: np.ndarray) -> _Radiometry:
    """AFTER mapped onto BEFORE by matching the 2nd and 98th percentiles of each band."""
    pb = np.percentile(xb, [2, 98], axis=1)
    pa = np.percentile(xa, [2, 98], axis=1)
    gain = (pb[1] - pb[0]) / np.maximum(pa[1] - pa[0], 1e-6)
    offset = pb[0] - gain * pa[0]
    lo = np.percentile(xb, 1, axis=1)
    hi = np.percentile(xb, 99, axis=1)
    hi = np.where(hi > lo, hi, lo + 1.0)
    return _Radiometry(gain.astype(np.float32), offset.astype(np.float32), lo.astype(np.float32),
                       hi.astype(np.float32))


# --------------------------------------------------------------------------------------------
# per-block features


@dataclass
class _Scales:
    lum: float = 1.0
    chroma: float = 1.0
    struct: float = 1.0
    noise_grad: float = 1e-3
    med: Tuple[float, float, float] = (0.0, 0.0, 0.0)


def _features(xb: np.ndarray, xa: np.ndarray, px_sigma: float):
    """Raw per-pixel change parts (lum, chroma, struct) and helper images."""
    sb = np.stack([ndimage.gaussian_filter(b, SMOOTH_PX) for b in xb])
    sa = np.stack([ndimage.gaussian_filter(b, SMOOTH_PX) for b in xa])
    lb = sb.mean(axis=0)
    la = sa.mean(axis=0)
    eps = 0.02
    cb = sb / (np.abs(sb).sum(axis=0) + eps * sb.shape[0])
    ca = sa / (np.abs(sa).sum(axis=0) + eps * sa.shape[0])
    # misregistration- and blur-tolerant differences: the smallest difference between a pixel of
    # BEFORE and AFTER's pixels in its 3 x 3 neighbourhood (residual sub-pixel shifts and
    # the resampling's blur move edges by up to a pixel, real change is wider than that)
    chroma = None
    dl = None
    for oy in (-1, 0, 1):
        for ox in (-1, 0, 1):
            ca_s = np.roll(ca, (oy, ox), axis=(1, 2))
            la_s = np.roll(la, (oy, ox), axis=(0, 1))
            c_ = np.sqrt(np.sum((cb - ca_s) ** 2, axis=0)) if sb.shape[0] > 1 else np.zeros_like(lb)
            # relative brightness change (a log ratio, insensitive to gain and to saturation level)
            d_ = (la_s - lb) / (0.5 * (np.abs(la_s) + np.abs(lb)) + 0.1)
            if chroma is None:
                chroma, dl = c_, d_
            else:
                chroma = np.minimum(chroma, c_)
                dl = np.where(np.abs(d_) < np.abs(dl), d_, dl)
    # shadow discount: a date darker than 0.6 x its neighbourhood (a shadow) in one date only
    nb_ = ndimage.uniform_filter(lb, 15)
    na_ = ndimage.uniform_filter(la, 15)
    shade_b = lb < 0.6 * nb_
    shade_a = la < 0.6 * na_
    discount = np.where(shade_b ^ shade_a, 0.35, 1.0).astype(np.float32)
    lum = np.abs(dl) * discount
    gbx = ndimage.sobel(lb, axis=1)
    gby = ndimage.sobel(lb, axis=0)
    gax = ndimage.sobel(la, axis=1)
    gay = ndimage.sobel(la, axis=0)
    cross = ndimage.gaussian_filter(gbx * gax + gby * gay, px_sigma)
    eb = ndimage.gaussian_filter(gbx * gbx + gby * gby, px_sigma)
    ea = ndimage.gaussian_filter(gax * gax + gay * gay, px_sigma)
    return lum, chroma, cross, eb, ea, lb, la, discount


def _struct(cross, eb, ea, noise2, discount):
    s = cross / np.sqrt(eb * ea + noise2 * noise2)
    # edge energy of the more textured date, saturating a few noise levels up: a textured
    # surface is not "more changed" than a plain one for the same loss of correlation
    e = np.sqrt(np.maximum(eb, ea))
    e = e / (e + 4.0 * noise2)
    return np.clip(1.0 - s, 0.0, 2.0) * e * np.sqrt(discount)


def _magnitude(parts, sc: _Scales) -> np.ndarray:
    lum, chroma, struct = parts
    zl = np.maximum(lum - sc.med[0], 0) / sc.lum
    zc = np.maximum(chroma - sc.med[1], 0) / sc.chroma
    zs = np.maximum(struct - sc.med[2], 0) / sc.struct
    return np.sqrt(zl * zl + zc * zc + zs * zs).astype(np.float32)


def _robust(v: np.ndarray) -> Tuple[float, float]:
    med = float(np.median(v))
    mad = float(np.median(np.abs(v - med))) * 1.4826
    return med, max(mad, 1e-6)


# --------------------------------------------------------------------------------------------
# thresholds


def _otsu(v: np.ndarray, bins: int = 256) -> float:
    lo, hi = np.percentile(v, [0.5, 99.9])
    if hi <= lo:
        return float(hi)
    hist, edges = np.histogram(np.clip(v, lo, hi), bins=bins, range=(lo, hi))
    p = hist / max(1, hist.sum())
    c = 0.5 * (edges[1:] + edges[:-1])
    w0 = np.cumsum(p)
    mu = np.cumsum(p * c)
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * w0 - mu) ** 2 / (w0 * (1 - w0))
    between[~np.isfinite(between)] = 0
    return float(edges[int(np.argmax(between[:-1])) + 1])


def choose_threshold(sample: np.ndarray, sensitivity: float) -> Tuple[float, str]:
    """Threshold on the change magnitude: max(Otsu on log magnitude, noise floor), moved by sensitivity."""
    v = sample[np.isfinite(sample)]
    v = v[v > 0]
    if v.size < 100:
        return 6.0, "too few samples: fixed threshold"
    t_otsu = float(np.exp(_otsu(np.log(v))))
    med, mad = _robust(sample)
    k = 8.0 - 6.0 * sensitivity  # 8 MADs at 0, 5 at 0.5, 2 at 1
    floor = med + k * mad
    t = max(t_otsu * (1.4 - 0.8 * sensitivity), floor)
    return float(t), f"Otsu {t_otsu:.2f}, noise floor {floor:.2f}"


# --------------------------------------------------------------------------------------------
# geometry


def _ground_poly(poly, crs, tf_unit: Tuple[float, float]):
    """The polygon in local metres (east, north) around its centroid, on the ellipsoid."""
    from shapely import affinity

    c = poly.centroid
    if crs is None:
        return affinity.scale(poly, tf_unit[0], tf_unit[1], origin=c)
    from .geo import local_radii, lonlat_of

    lon, lat = lonlat_of(crs, [c.x, c.x + 1e-3 * tf_unit[2], c.x], [c.y, c.y, c.y + 1e-3 * tf_unit[3]])
    m, n = local_radii(lat[0])
    kx_lon = math.radians(1.0) * n * math.cos(math.radians(lat[0]))
    ky_lat = math.radians(1.0) * m
    # linear map CRS -> local metres from finite differences at the centroid
    dx = 1e-3 * tf_unit[2]
    dy = 1e-3 * tf_unit[3]
    a = (lon[1] - lon[0]) * kx_lon / dx
    d = (lat[1] - lat[0]) * ky_lat / dx
    b = (lon[2] - lon[0]) * kx_lon / dy
    e = (lat[2] - lat[0]) * ky_lat / dy
    return affinity.affine_transform(poly, [a, b, d, e, -a * c.x - b * c.y, -d * c.x - e * c.y])


# --------------------------------------------------------------------------------------------
# main


def _decimated(src, bands, win: Window, f: int, path: str, nodata=None):
    h = max(1, int(math.ceil(win.height / f)))
    w = max(1, int(math.ceil(win.width / f)))
    data = src.read(bands, window=win, out_shape=(len(bands), h, w), resampling=Resampling.average)
    tf = src.transform * Affine.translation(win.col_off, win.row_off) * Affine.scale(win.width / w, win.height / h)
    prof = {"driver": "GTiff", "width": w, "height": h, "count": len(bands), "dtype": data.dtype.name,
            "crs": src.crs, "transform": tf, "nodata": nodata if nodata is not None else src.nodata}
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(data)
        from rasterio.enums import ColorInterp

        if len(bands) >= 3:
            dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue] + \
                [ColorInterp.undefined] * (len(bands) - 3)
    return path


def _water_on_grid(wsrc, win_tf, shape, crs) -> np.ndarray:
    out = np.zeros(shape, np.uint8)
    src = wsrc.read(1)
    src = np.where(src == 1, 1, 0).astype(np.uint8)
    rasterio.warp.reproject(src, out, src_transform=wsrc.transform, src_crs=wsrc.crs or "EPSG:3857",
                            dst_transform=win_tf, dst_crs=crs or "EPSG:3857", resampling=Resampling.nearest)
    return out.astype(bool)


def _sample_windows(width: int, height: int, size: int, n: int) -> List[Window]:
    size = min(size, width, height)
    k = max(1, int(math.floor(math.sqrt(n))))
    xs = np.unique(np.linspace(0, width - size, k).astype(int))
    ys = np.unique(np.linspace(0, height - size, k).astype(int))
    return [Window(int(x), int(y), size, size) for y in ys for x in xs]


def detect_changes(before_path: str, after_path: str, *, aoi=None, min_area_m2: float = 200.0,
                   sensitivity: float = 0.5, change_raster_path: Optional[str] = None, bands_before=None,
                   bands_after=None, water_before_path=None, water_after_path=None, block: int = 1024,
                   workdir: Optional[str] = None, max_shift_px: float = 32.0, vessel_check: bool = True,
                   progress: Progress = None, cancel: CancelCheck = None) -> ChangeResult:
    """Changed footprints between BEFORE and AFTER; see the module docstring for the method.

    ``vessel_check``: leave out the footprints near water that vessels cover (step 9); off, they
    are kept (the ship detector is not run)."""
    if not 0.0 <= sensitivity <= 1.0:
        raise InputError(f"Sensitivity must be between 0 and 1, not {sensitivity}.")
    if min_area_m2 < 0:
        raise InputError("The minimum area must be 0 m2 or more.")
    tmp = tempfile.mkdtemp(prefix="quayside_change_", dir=workdir)

    def prog(a, b):
        return (lambda v: progress(a + (b - a) * v)) if progress else None

    try:
        # GDAL's block cache would otherwise grow to 5 % of the machine's memory per process on top of
        # the per-block arrays: bounded here. rasterio hands GDAL_CACHEMAX to GDALSetCacheMax, which
        # counts bytes: a bare 128 was a 128-byte cache, no cache at all, and every windowed or
        # decimated read decompressed its tiles again (three times slower, the ship detector most)
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB * 1024 * 1024), rasterio.open(before_path) as before, \
                rasterio.open(after_path) as after:
            return _detect(before, after, tmp, aoi, min_area_m2, sensitivity, change_raster_path, bands_before,
                           bands_after, water_before_path, water_after_path, block, max_shift_px, prog, cancel,
                           vessel_check)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _detect(before, after, tmp, aoi, min_area_m2, sensitivity, change_raster_path, bands_before, bands_after,
            water_before_path, water_after_path, block, max_shift_px, prog, cancel,
            vessel_check=True) -> ChangeResult:
    check_crs_pair(before, after)
    bb, ba, notes = match_bands(before, after, bands_before, bands_after)
    win = overlap_window(before, after)
    from .coregister import _grid_notes

    notes += _grid_notes(before, after, win)
    georef = before.crs is not None
    if georef:
        scale = ground_scale(before.crs, before.transform, before.width, before.height,
                             at=(win.col_off + win.width / 2, win.row_off + win.height / 2))
    else:
        scale = GroundScale(1.0, 1.0, False)
        notes.append("The images have no CRS: areas are in square pixels and perimeters in pixels (units 'px'); the "
                     "minimum area is read in square pixels.")
    units = "m" if georef else "px"
    px_m = scale.mean_m
    px_area = scale.x_m * scale.y_m
    aoi_union = None
    if aoi:
        wb = box(*rasterio.windows.bounds(win, before.transform))
        aoi_union = union_over(aoi, wb, "The area of interest does not cover the overlap of BEFORE and AFTER: "
                               "draw it over both images.")
        x0, y0, x1, y1 = aoi_union.intersection(wb).bounds
        aw = window_from_bounds(x0, y0, x1, y1, before.transform)
        aw = aw.round_offsets(op="floor").round_lengths(op="ceil")
        aw = aw.intersection(win)
        win = Window(int(aw.col_off), int(aw.row_off), int(aw.width), int(aw.height))
    gw, gh = int(win.width), int(win.height)
    win_tf = before.transform * Affine.translation(win.col_off, win.row_off)

    # 1. residual shift
    shift, snotes = shift_between(before, after, win, bands=bb, bands_after=ba, max_shift_px=max_shift_px,
                                  cancel=cancel, progress=prog(0.0, 0.05))
    notes += snotes
    notes.append(shift_sentence(shift, georef))
    avrt = aligned_vrt(before, after, win, (shift.dx_px, shift.dy_px), "bilinear")

    def read_b(w: Window):
        return read_valid(before, Window(w.col_off + win.col_off, w.row_off + win.row_off, w.width, w.height), bb)

    def read_a(w: Window):
        return read_valid(avrt, w, ba)

    try:
        # 2. overview statistics: radiometry, sun
        f_ov = max(1, int(math.ceil(max(gw, gh) / 1024)))
        ov_shape = (max(1, gh // f_ov), max(1, gw // f_ov))
        ovb = before.read(bb, window=win, out_shape=(len(bb),) + ov_shape, out_dtype="float32",
                          resampling=Resampling.average)
        ova = avrt.read(ba, out_shape=(len(ba),) + ov_shape, out_dtype="float32", resampling=Resampling.average)
        okb = _valid_of(ovb, before.nodata)
        oka = _valid_of(ova, avrt.nodata)
        ok = okb & oka
        if not okb.any():
            raise InputError("BEFORE holds no valid pixels over the overlap (all nodata): choose another image or "
                             "fix its nodata value.")
        if not oka.any() or ok.sum() < 16:
            raise InputError("AFTER holds no valid pixels over the overlap (all nodata): choose another image or "
                             "fix its nodata value.")
        step = max(1, int(ok.sum()) // 200000)
        rad = fit_radiometry(ovb[:, ok][:, ::step], ova[:, ok][:, ::step])
        if np.any(rad.gain < 1 / GAIN_MAX) or np.any(rad.gain > GAIN_MAX):
            # so much changed that the pseudo-invariant pixels are not invariant: match robust ranges
            rad = match_ranges(ovb[:, ok][:, ::step], ova[:, ok][:, ::step])
            notes.append("Few pixels are unchanged between the dates: AFTER's brightness range is matched to "
                         "BEFORE's instead of fitted on unchanged pixels.")
        notes.append("Radiometric normalisation (AFTER -> BEFORE, per band gain/offset on pseudo-invariant pixels): "
                     + ", ".join(f"{g:.3g}/{o:+.3g}" for g, o in zip(rad.gain, rad.offset)) + ".")

        # 3. change-part scales from full-resolution sample windows
        struct_sigma = max(1.5, STRUCT_SIGMA_M / px_m)
        halo = int(math.ceil(4 * struct_sigma + 3 * SMOOTH_PX + 16))
        samples = {"lum": [], "chroma": [], "struct": [], "lb": [], "la": []}
        grad_noise = []
        raw_blocks = []
        for sw in _sample_windows(gw, gh, 512, max(1, min(16, (gw * gh) // (512 * 512)))):
            check_cancel(cancel)
            xb, vb = read_b(sw)
            xa, va = read_a(sw)
            v = vb & va
            if v.mean() < 0.3:
                continue
            xb = rad.before(xb)
            xa = rad.after(xa)
            lum, chroma, cross, eb, ea, lb, la, disc = _features(xb, xa, struct_sigma)
            inner = ndimage.binary_erosion(v, iterations=int(2 * struct_sigma) + 2, border_value=0)
            if inner.sum() < 100:
                continue
            grad_noise.append(np.sqrt(np.minimum(eb, ea)[inner]))
            raw_blocks.append((lum[inner], chroma[inner], cross[inner], eb[inner], ea[inner], disc[inner]))
        if not raw_blocks:
            raise InputError("BEFORE and AFTER share too few valid pixels to compare: check their nodata values "
                             "and their overlap.")
        gn = np.concatenate(grad_noise)
        noise = float(np.percentile(gn, 25)) + 1e-4
        sc = _Scales()
        sc.noise_grad = noise
        for lum, chroma, cross, eb, ea, disc in raw_blocks:
            samples["lum"].append(lum)
            samples["chroma"].append(chroma)
            samples["struct"].append(_struct(cross, eb, ea, noise, disc))
        meds, spreads = [], []
        for k in ("lum", "chroma", "struct"):
            m, s = _robust(np.concatenate(samples[k]))
            meds.append(m)
            spreads.append(s)
        sc.med = tuple(meds)
        sc.lum, sc.chroma, sc.struct = spreads
        if len(bb) == 1:
            sc.chroma = 1e9
        mag_sample = _magnitude((np.concatenate(samples["lum"]), np.concatenate(samples["chroma"]),
                                 np.concatenate(samples["struct"])), sc)
        thr, how = choose_threshold(mag_sample, sensitivity)
        notes.append(f"Change threshold {thr:.2f} ({how}; sensitivity {sensitivity:g}).")

        # building index (MBI) threshold: Otsu on the MBI of both dates in a few sample windows
        s_min = max(3, int(round(MBI_MIN_M / px_m)))
        s_max = max(s_min + 4, min(MBI_MAX_PX, int(round(MBI_MAX_M / px_m))))
        hist_mbi = np.zeros(256, np.float64)
        hist_date = [np.zeros(256, np.float64), np.zeros(256, np.float64)]
        grad_date = [[], []]  # each date's median colour gradient in the sample windows (change_pcc.split_merged)
        for sw in _sample_windows(gw, gh, 512, 4):
            check_cancel(cancel)
            xb, vb = read_b(sw)
            xa, va = read_a(sw)
            v = vb & va
            if v.mean() < 0.3:
                continue
            for k, x in enumerate((rad.before(xb), rad.after(xa))):
                m_ = mbi(_fill_invalid(x.max(axis=0), v), s_min, s_max)
                hist_mbi += np.bincount(np.clip((m_[v] * 255).astype(np.int32), 0, 255), minlength=256)
                hist_date[k] += mbi_histogram(m_, x, v)
                grad_date[k].append(pcc_gradient_scale(x, v, px_m))
        tau_mbi = _otsu_hist(hist_mbi) * (1.3 - 0.6 * sensitivity)
        # each date's own building threshold (post-classification comparison, :mod:`.change_pcc`)
        tau_date = [_otsu_hist(h) * (1.3 - 0.6 * sensitivity) for h in hist_date]
        grad_ref = [float(np.median([g_ for g_ in gl if g_ > 0])) if any(g_ > 0 for g_ in gl) else None
                    for gl in grad_date]
        notes.append(f"Building thresholds of each date on its own: BEFORE {tau_date[0]:.2f}, AFTER "
                     f"{tau_date[1]:.2f} (Otsu on the MBI of each image's non-vegetated pixels).")
        tau_dmbi = 0.5 * tau_mbi
        notes.append(f"Building index threshold {tau_mbi:.2f} (Otsu on the MBI of both dates), minimum rise or fall "
                     f"{tau_dmbi:.2f}.")

        # 4. water masks on the grid (decimated)
        fw = max(1, int(math.ceil(max(gw, gh) / WATER_MAX_PX)))
        wsrc_b = _open_water(water_before_path, before, win, bb, fw, os.path.join(tmp, "wb"), notes, "BEFORE",
                             cancel, None)
        wsrc_a = _open_water(water_after_path, avrt, Window(0, 0, gw, gh), ba, fw, os.path.join(tmp, "wa"), notes,
                             "AFTER", cancel, None)
        _p = prog(0.05, 0.15)
        if _p:
            _p(1.0)

        # 5. per-block magnitude, mask, evidence
        # shadows are looked for all around a footprint: the sun's direction is not estimated
        sun_b = sun_a = None
        cr_path = change_raster_path or os.path.join(tmp, "change.tif")
        prof = {"driver": "GTiff", "width": gw, "height": gh, "count": 1, "dtype": "float32", "crs": before.crs,
                "transform": win_tf, "nodata": -1.0, "compress": "deflate", "BIGTIFF": "IF_SAFER"}
        if gw >= 256 and gh >= 256:
            prof.update(tiled=True, blockxsize=256, blockysize=256)
        ev_prof = dict(prof, count=N_EVIDENCE, dtype="uint8", nodata=None)
        halo = max(halo, s_max + 4)
        water_rb = np.zeros(3, np.float64)  # sums of r and b chromaticity over water at both dates, count
        water_rb_a = np.zeros(2, np.float64)  # the same at AFTER
        ev_path = os.path.join(tmp, "evidence.tif")
        size = max(int(block), 2 * halo)
        total = n_windows(gw, gh, size)
        min_px = max(1, int(round(min_area_m2 / px_area)))
        clean_r = max(1, int(round(CLEAN_M / px_m)))
        disk = _disk(clean_r)
        mpath = os.path.join(tmp, "mask.tif")
        # each date's buildings (band 1: 1, or 2 for a piece carved out of a larger component, so that the
        # two are traced apart where they touch at a corner or across a block seam) and the components that
        # were split (band 2: the parents of the carved pieces, change_pcc.building_components)
        bpaths = (os.path.join(tmp, "buildings_before.tif"), os.path.join(tmp, "buildings_after.tif"))
        m_prof = dict(prof, dtype="uint8", nodata=None)
        with rasterio.open(cr_path, "w", **prof) as cdst, rasterio.open(ev_path, "w", **ev_prof) as edst, \
                rasterio.open(mpath, "w", **m_prof) as mdst, \
                rasterio.open(bpaths[0], "w", **dict(m_prof, count=2)) as bdst, \
                rasterio.open(bpaths[1], "w", **dict(m_prof, count=2)) as adst:
            for i, (core, read) in enumerate(iter_windows(gw, gh, size, halo)):
                check_cancel(cancel)
                xb, vb = read_b(read)
                xa, va = read_a(read)
                v = vb & va
                sl = core_slices(core, read)
                shp = v.shape
                rtf = window_transform(read, win_tf)
                if aoi_union is not None:
                    v &= features.rasterize([(aoi_union, 1)], out_shape=shp, transform=rtf, fill=0,
                                            dtype="uint8").astype(bool)
                if not v.any():
                    cdst.write(np.full((1,) + (int(core.height), int(core.width)), -1.0, np.float32), window=core)
                    edst.write(np.zeros((N_EVIDENCE, int(core.height), int(core.width)), np.uint8), window=core)
                    for dst in (mdst, bdst, adst):
                        dst.write(np.zeros((dst.count, int(core.height), int(core.width)), np.uint8), window=core)
                    continue
                xb = rad.before(xb)
                xa = rad.after(xa)
                lum, chroma, cross, eb, ea, lb, la, disc = _features(xb, xa, struct_sigma)
                mag = _magnitude((lum, chroma, _struct(cross, eb, ea, noise, disc)), sc)
                mag = ndimage.gaussian_filter(mag, max(0.7, 0.5 / px_m))
                mag[~v] = 0.0
                seed = mag > thr
                grow = mag > 0.5 * thr
                lab, n = ndimage.label(grow)
                keep = np.zeros(n + 1, bool)
                keep[np.unique(lab[seed])] = True
                keep[0] = False
                mask = keep[lab]
                # building change (Huang, Zhang & Zhu 2014): the MBI rose or fell where it is high at one date
                mbi_b = mbi(_fill_invalid(xb.max(axis=0), v), s_min, s_max)
                mbi_a = mbi(_fill_invalid(xa.max(axis=0), v), s_min, s_max)
                if MBI_SEEDS:
                    bseed = (np.maximum(mbi_a, mbi_b) > tau_mbi) & (np.abs(mbi_a - mbi_b) > tau_dmbi)
                    mask |= ndimage.binary_opening(bseed, disk, border_value=0)
                mask = ndimage.binary_closing(mask, disk, border_value=0)
                mask = ndimage.binary_opening(mask, disk, border_value=0)
                mask = _fill_small_holes(mask, min_px)
                mask &= v
                wb_ = _water_on_grid(wsrc_b, rtf, shp, before.crs) if wsrc_b is not None else np.zeros(shp, bool)
                wa_ = _water_on_grid(wsrc_a, rtf, shp, before.crs) if wsrc_a is not None else np.zeros(shp, bool)
                ev = evidence_block(xb, xa, lb, la, wb_, wa_, mbi_b, mbi_a, px_m)
                ww = (wb_ & wa_ & v)[sl]
                if ww.any():
                    water_rb += (ev[E_RB][sl][ww].sum() / CHROMA_SCALE, ev[E_BB][sl][ww].sum() / CHROMA_SCALE,
                                 ww.sum())
                    water_rb_a += (ev[E_RA][sl][ww].sum() / CHROMA_SCALE, ev[E_BA][sl][ww].sum() / CHROMA_SCALE)
                out = mag.astype(np.float32)
                out[~v] = -1.0
                cdst.write(out[sl][None], window=core)
                edst.write(ev[:, sl[0], sl[1]], window=core)
                mdst.write(mask[sl].astype(np.uint8)[None], window=core)
                for dst, m_, x_, t_, g_ in ((bdst, mbi_b, xb, tau_date[0], grad_ref[0]),
                                            (adst, mbi_a, xa, tau_date[1], grad_ref[1])):
                    b_, merged_ = pcc_buildings(m_, x_, v, t_, px_m, g_)
                    dst.write(np.stack([b_ * (1 + merged_), merged_])[:, sl[0], sl[1]].astype(np.uint8), window=core)
                _p = prog(0.15, 0.85)
                if _p:
                    _p((i + 1) / total)
        # each date's water mask, in its own image's georeferencing (AFTER's is made on the aligned
        # AFTER, whose georeferencing is AFTER's own), for the vessel check's ship detector
        water_paths = tuple(w_.name if w_ is not None else None for w_ in (wsrc_b, wsrc_a))
        for w_ in (wsrc_b, wsrc_a):
            if w_ is not None:
                w_.close()

        # 6. object-level decisions on the candidate regions
        ctx = ObjectContext(thr=thr, tau_mbi=tau_mbi, tau_dmbi=tau_dmbi, px_m=px_m, min_px=min_px, clean_r=clean_r,
                            sun_b=sun_b, sun_a=sun_a,
                            water_colour=(water_rb[0] / water_rb[2], water_rb[1] / water_rb[2]) if water_rb[2] > 100
                            else None,
                            tau_date=(tau_date[0], tau_date[1]))
        polys = _polygonize(mpath, size, cancel)
        changes = []
        unit = (scale.x_m / abs(win_tf.a), scale.y_m / abs(win_tf.e), abs(win_tf.a), abs(win_tf.e))

        def ground(p):
            if georef:
                return _ground_poly(p, before.crs, unit)
            return _ground_poly(p, None, (1.0 / abs(win_tf.a), 1.0 / abs(win_tf.e)))

        with rasterio.open(cr_path) as cs, rasterio.open(ev_path) as es:
            for j, poly in enumerate(polys):
                if j % 50 == 0:
                    check_cancel(cancel)
                if ground(poly).area < min_area_m2:
                    continue
                changes += _object_changes(poly, cs, es, win_tf, ctx, ground, min_area_m2)
            # buildings of one date that were not buildings at the other (post-classification comparison)
            n_before = len(changes)
            water_colours = (ctx.water_colour, (water_rb_a[0] / water_rb[2], water_rb_a[1] / water_rb[2])) \
                if ctx.water_colour is not None else None
            with rasterio.open(bpaths[0]) as b0, rasterio.open(bpaths[1]) as b1:
                for after_side, own, own_src, other in ((True, bpaths[1], b1, b0), (False, bpaths[0], b0, b1)):
                    parents = _Parents(own, size, after_side, es, win_tf, ctx.px_m, water_colours, cancel)
                    for j, poly in enumerate(_polygonize(own, size, cancel)):
                        if j % 50 == 0:
                            check_cancel(cancel)
                        c = _pcc_change(poly, after_side, other, cs, es, win_tf, ctx, ground, min_area_m2,
                                        changes[:n_before], water_colours, own_src, parents)
                        if c is not None:
                            changes.append(c)
            changes = _structures_first(changes, n_before, ground, min_area_m2)
            if len(changes) > n_before:
                notes.append(f"{len(changes) - n_before} structure(s) found by comparing each date's buildings.")
            near_water = [_water_near(c.polygon, es, win_tf, NEAR_WATER_M / px_m) for c in changes] \
                if vessel_check else []
            if georef and any(near_water):
                # vessels that came, went or moved berth (:mod:`.change_vessels`)
                reach = REACH_M / px_m * abs(before.transform.a)
                moved = (shift.dx_px * before.transform.a, shift.dy_px * before.transform.e)
                changes, n_vessels = drop_vessel_traffic(changes, near_water, before.name, after.name, before.crs,
                                                         after.crs, reach, moved,
                                                         lambda p: _stable_land_share(p, es, win_tf), cancel,
                                                         water_paths)
                if n_vessels:
                    notes.append(f"{n_vessels} footprint(s) near water left out: vessels found there at one of the "
                                 "dates (Quayside's ship detector), traffic rather than construction.")
        _p = prog(0.85, 1.0)
        if _p:
            _p(1.0)
        changes.sort(key=lambda c: -c.area_m2)
        return ChangeResult(changes=changes, shift=shift, change_raster_path=change_raster_path, notes=notes,
                            units=units, pixel_size_m=px_m, threshold=thr)
    finally:
        avrt.close()


def _valid_of(data: np.ndarray, nodata) -> np.ndarray:
    ok = np.all(np.isfinite(data), axis=0)
    if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)):
        ok &= ~np.all(data == np.float32(nodata), axis=0)
    return ok


def _disk(r: int) -> np.ndarray:
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    return (x * x + y * y) <= r * r + 0.5


def _fill_small_holes(mask: np.ndarray, max_px: int) -> np.ndarray:
    holes = ndimage.binary_fill_holes(mask) & ~mask
    lab, n = ndimage.label(holes)
    if n == 0:
        return mask
    sizes = ndimage.sum(np.ones_like(lab), lab, np.arange(1, n + 1))
    small = np.zeros(n + 1, bool)
    small[1:] = sizes <= max_px
    return mask | small[lab]


def _open_water(path, src, win, bands, f, stem, notes, label, cancel, _unused):
    if path:
        ws = rasterio.open(path)
        if (ws.crs is None) != (src.crs is None):
            ws.close()
            raise InputError(f"The {label} water mask and the image disagree on having a CRS: give a mask in the "
                             "image's CRS.")
        return ws
    from .water import water_mask

    try:
        dec = _decimated(src, bands, win, f, stem + "_img.tif", nodata=src.nodata)
        kw = {"red": 1, "green": 2, "blue": 3} if len(bands) >= 3 else {}
        if len(bands) < 3:
            return None
        water_mask(dec, stem + "_water.tif", cancel=cancel, **kw)
        return rasterio.open(stem + "_water.tif")
    except InputError:
        notes.append(f"No water mask could be computed for {label}; changes are not typed by water.")
        return None


def _mask_polygons(a: np.ndarray, transform) -> list:
    """Polygons (valid) of the non-zero pixels of ``a``, 8-connected, one per value and piece."""
    out = []
    for geom, _ in features.shapes(a, mask=a > 0, transform=transform, connectivity=8):
        p = shape(geom)
        out.append(p if p.is_valid else p.buffer(0))  # 8-connected pieces can touch themselves at a corner
    return out


def _polygonize(mask_path: str, size: int, cancel, band: int = 1) -> list:
    """Polygons of the mask (``band`` of the raster), block by block, merged across block seams."""
    interior, seam = [], []
    with rasterio.open(mask_path) as m:
        tf = m.transform
        for core, _ in iter_windows(m.width, m.height, size, 0):
            check_cancel(cancel)
            a = m.read(band, window=core)
            if not a.any():
                continue
            wt = window_transform(core, tf)
            x0, y1 = wt * (0, 0)
            x1, y0 = wt * (int(core.width), int(core.height))
            edges = []
            if core.col_off > 0:
                edges.append(("x", x0))
            if core.row_off > 0:
                edges.append(("y", y1))
            if core.col_off + core.width < m.width:
                edges.append(("x", x1))
            if core.row_off + core.height < m.height:
                edges.append(("y", y0))
            for p in _mask_polygons(a, wt):
                bx0, by0, bx1, by1 = p.bounds
                touches = any((k == "x" and (abs(bx0 - v) < 1e-9 or abs(bx1 - v) < 1e-9)) or
                              (k == "y" and (abs(by0 - v) < 1e-9 or abs(by1 - v) < 1e-9)) for k, v in edges)
                (seam if touches else interior).append(p)
    if seam:
        u = unary_union(seam)
        seam = list(getattr(u, "geoms", [u]))
    return interior + seam


def _around(poly, tf, reach_px: float, ds):
    """The window of ``ds`` around ``poly`` with ``reach_px`` (+ 4) pixels of margin, clipped to the
    raster: (window, its transform, its shape, the polygon's pixels in it)."""
    x0, y0, x1, y1 = poly.bounds
    pad = int(math.ceil(reach_px)) + 4
    w = window_from_bounds(x0, y0, x1, y1, tf).round_offsets(op="floor").round_lengths(op="ceil")
    w = Window(w.col_off - pad, w.row_off - pad, w.width + 2 * pad, w.height + 2 * pad)
    w = w.intersection(Window(0, 0, ds.width, ds.height))
    wt = window_transform(w, tf)
    shp = (int(w.height), int(w.width))
    inside = features.rasterize([(poly, 1)], out_shape=shp, transform=wt, fill=0, dtype="uint8").astype(bool)
    return w, wt, shp, inside


def _water_near(poly, es, tf, reach_px: float) -> bool:
    """Whether the water mask of either date (evidence band) holds water within ``reach_px`` of ``poly``."""
    w, _, _, inside = _around(poly, tf, reach_px, es)
    if not inside.any():
        return False
    water = es.read(E_WATER + 1, window=w) > 0
    r = max(1, int(math.ceil(reach_px)))
    return bool(water[ndimage.binary_dilation(inside, _disk(r))].any())


def _stable_land_share(poly, es, tf) -> float:
    """Share of ``poly`` that is land at both dates (neither date's water mask, evidence band)."""
    w, _, _, inside = _around(poly, tf, 0, es)
    if not inside.any():
        return 0.0
    return float((es.read(E_WATER + 1, window=w)[inside] == 0).mean())


def _object_changes(poly, cs, es, tf, ctx: ObjectContext, ground, min_area_m2) -> List[Change]:
    """Typed, measured footprints of one candidate region (see :mod:`.change_objects`)."""
    w, wt, shp, inside = _around(poly, tf, SHADOW_REACH_M / ctx.px_m, cs)
    if not inside.any():
        return []
    mag = cs.read(1, window=w)
    mag = np.where(mag < 0, 0.0, mag)
    ev = es.read(window=w)
    lb = ev[E_LB].astype(np.float32) / LUM_SCALE
    la = ev[E_LA].astype(np.float32) / LUM_SCALE
    out = []
    for d in decide(inside, mag, ev, ctx):
        for p in _mask_polygons(d.mask.astype(np.uint8), wt):
            gp = ground(p)
            if gp.area < min_area_m2:
                continue
            sel = features.rasterize([(p, 1)], out_shape=shp, transform=wt, fill=0, dtype="uint8").astype(bool)
            if not sel.any():
                continue
            out.append(Change(polygon=p, area_m2=float(gp.area), perimeter_m=float(gp.length), type=d.type,
                              score=float(d.score), change_mean=float(mag[sel].mean()),
                              before_mean=float(lb[sel].mean()), after_mean=float(la[sel].mean())))
    return out


class _Parents:
    """The *parents* of one date's carved pieces: the components of its building mask that could not be
    one building and were cut along their outlines (band 2 of the date's building raster,
    :func:`.change_pcc.building_components`), polygonised on first use; and whether each is a vessel
    (:func:`.change_pcc.parent_vessel`), judged once for all of its pieces.

    A piece only knows its own surroundings: one cut out of the middle of a ship's deck has deck, not
    water, around it, and the water at the other date may differ in colour from the open sea (a wake,
    stirred-up silt, a neighbour's shadow). Whether the object is a vessel is a question about the whole
    hull, whose outline lies in water."""

    def __init__(self, path: str, size: int, after: bool, es, tf, px_m: float, water_colours, cancel):
        self.path, self.size, self.after, self.es, self.tf = path, size, after, es, tf
        self.px_m, self.water_colours, self.cancel = px_m, water_colours, cancel
        self._polys = None
        self._bounds = None
        self._why = {}

    def vessel(self, piece) -> Optional[str]:
        """Why the parent of the carved piece ``piece`` (a polygon in the grid's coordinates) is a vessel,
        or None (also when no parent holds it)."""
        if self._polys is None:
            self._polys = _polygonize(self.path, self.size, self.cancel, band=2)
            self._bounds = np.array([p.bounds for p in self._polys], np.float64).reshape(-1, 4)
        at = piece.representative_point()
        b = self._bounds
        # only the parents whose bounding box holds the point are tested (in order: the first that holds it)
        near = np.flatnonzero((b[:, 0] <= at.x) & (b[:, 2] >= at.x) & (b[:, 1] <= at.y) & (b[:, 3] >= at.y))
        k = next((int(k) for k in near if self._polys[k].contains(at)), None)
        if k is None:
            return None
        if k not in self._why:
            w, _, _, inside = _around(self._polys[k], self.tf, PCC_REACH_M / self.px_m, self.es)
            if int(w.width) * int(w.height) > PARENT_MAX_PX:
                # a component grown over a whole district is no hull: not judged (and its window's
                # evidence bands are not read, which keeps memory bounded on any raster)
                self._why[k] = None
            else:
                self._why[k] = pcc_parent_vessel(inside, self.es.read(window=w), self.after, self.px_m,
                                                 self.water_colours)
        return self._why[k]


def _pcc_change(poly, after_side, other_src, cs, es, tf, ctx: ObjectContext, ground, min_area_m2,
                existing, water_colours, own_src, parents: _Parents) -> Optional[Change]:
    """A new (removed) structure from one date's building footprint, or None (see :mod:`.change_pcc`);
    ``own_src``: the date's building raster, ``parents``: the parents of its carved pieces."""
    gp = ground(poly)
    if gp.area < min_area_m2 or gp.area > PCC_MAX_AREA_M2:
        return None
    for c in existing:  # the change-magnitude path found a structure here already
        if c.type in ("new_structure", "removed_structure") and c.polygon.intersects(poly) and \
                c.polygon.intersection(poly).area > 0.2 * poly.area:
            return None
    w, wt, shp, comp = _around(poly, tf, PCC_REACH_M / ctx.px_m, cs)
    if not comp.any():
        return None
    ev = es.read(window=w)
    # the other date's buildings, where its index reaches this date's building level: bare soil that the
    # other date's own threshold took in is not a building there
    other = pcc_building_at_other_date(other_src.read(1, window=w) > 0,
                                       ev[E_MBI_B if after_side else E_MBI_A].astype(np.float32) / MBI_SCALE,
                                       ctx.tau_date[1 if after_side else 0])
    px_area = gp.area / max(1, int(comp.sum()))
    # a piece cut out of a merged component (its outline is the image's, not the building index's)
    carved = float(own_src.read(2, window=w)[comp].mean()) > 0.5
    if carved:
        # a piece cut out of a component that also held a structure the change-magnitude path found: that
        # structure was the building, the pieces along it are its surroundings (paving, a yard)
        edge_px = 2.0 * max(abs(tf.a), abs(tf.e))
        rim = poly.boundary.buffer(edge_px)
        for c in existing:
            if c.type in ("new_structure", "removed_structure") and c.polygon.distance(poly) <= edge_px:
                if c.polygon.buffer(edge_px).intersection(rim).area > PCC_BESIDE_FOUND * rim.area:
                    return None
    v = pcc_judge(comp, other, ev, after_side, ctx.px_m, ctx.min_px, px_area, water_colours,
                  parent=(lambda: parents.vessel(poly)) if carved else None)
    if v.type is None:
        return None
    if v.mask is not None:
        # only part of the component was judged (a roof without the ground the building index took in)
        comp = v.mask
        poly = max(_mask_polygons(comp.astype(np.uint8), wt), key=lambda p: p.area)
        gp = ground(poly)
        if gp.area < min_area_m2:
            return None
    mag = cs.read(1, window=w)
    mag = np.where(mag < 0, 0.0, mag)
    return Change(polygon=poly, area_m2=float(gp.area), perimeter_m=float(gp.length), type=v.type, score=v.score,
                  change_mean=float(mag[comp].mean()), before_mean=float(ev[E_LB][comp].mean() / LUM_SCALE),
                  after_mean=float(ev[E_LA][comp].mean() / LUM_SCALE))


def _structures_first(changes: List[Change], n_first: int, ground, min_area_m2) -> List[Change]:
    """The surface and water footprints of the change-magnitude path (``changes[:n_first]``) lose the
    ground that the comparison of each date's buildings (``changes[n_first:]``) gives to a structure."""
    added = changes[n_first:]
    if not added:
        return changes
    out = []
    for c in changes[:n_first]:
        if c.type in ("new_structure", "removed_structure"):
            out.append(c)
            continue
        hit = [a.polygon for a in added if a.polygon.intersects(c.polygon)]
        if not hit:
            out.append(c)
            continue
        rest = c.polygon.difference(unary_union(hit))
        for p in getattr(rest, "geoms", [rest]):
            if p.is_empty or p.geom_type != "Polygon":
                continue
            gp = ground(p)
            if gp.area >= min_area_m2:
                out.append(Change(polygon=p, area_m2=float(gp.area), perimeter_m=float(gp.length), type=c.type,
                                  score=c.score, change_mean=c.change_mean, before_mean=c.before_mean,
                                  after_mean=c.after_mean))
    return out + added


def _fill_invalid(img: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Invalid pixels take the value of the nearest valid one, so that a nodata edge (a shifted
    image's empty column) does not read as a dark border to the morphological indices."""
    if valid.all() or not valid.any():
        return np.where(valid, img, 0.0).astype(np.float32)
    _, (iy, ix) = ndimage.distance_transform_edt(~valid, return_indices=True)
    return img[iy, ix].astype(np.float32)


def _otsu_hist(hist: np.ndarray) -> float:
    """Otsu's threshold of a 256-bin histogram over 0..1."""
    h = hist.astype(np.float64)
    if h.sum() <= 0:
        return 0.2
    c = (np.arange(256) + 0.5) / 256.0
    w0 = np.cumsum(h)
    w1 = h.sum() - w0
    m0 = np.cumsum(h * c)
    mt = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mt * w0 / h.sum() - m0) ** 2 / (w0 * w1)
    between = np.nan_to_num(between)
    return float(c[int(np.argmax(between))])
