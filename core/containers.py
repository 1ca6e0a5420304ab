"""Container detection in optical images: stacks, boxes, TEU and yard occupancy.

Classical image analysis (numpy, scipy, rasterio, shapely); no learning, nothing
downloaded. Every step works on one block of the raster at a time (with a halo).

Method
------
1. **Box-coloured pixels.** Bands are put on one common scale (1-99 % of the
   overview over all bands, so colour balance is kept). A pixel is *container
   like* when it is coloured -- its absolute chroma ``max(r,g,b) - min(r,g,b)``
   is above a threshold; an absolute rather than a relative chroma keeps
   boxes in shadow (still coloured, only darker) while the neutral yard
   surface, asphalt, concrete and shadows on them stay out -- or when it is
   neutral but clearly brighter than the local ground (white, grey and beige
   boxes). The local ground is a low percentile of brightness over ~60 m
   (a rank filter on a decimated copy; Soille 2003, ch. 4). Dark neutral
   surfaces (coal, asphalt, shadow) are never container like. An opening
   of ~1 m removes painted lines and crane legs.
2. **Blocks and their grid.** Connected pieces of the (slightly closed) mask
   are candidate blocks. Each block's grid orientation comes from the
   structure tensor of the brightness gradient folded to 90 degrees
   (the angle of ``sum |g|^2 exp(4 i phi)``: rows and box ends are at right
   angles, Bigün & Granlund 1987; Kass & Witkin 1987), and the principal axis
   of the block decides which of the two directions runs along the rows.
   The block is resampled into that grid frame (u along the rows, v across).
3. **Rows** (box mode, pixels <= 1 m). The across-row edge profile (colour
   change in v, averaged along u) is matched with a comb of teeth at the row
   pitch (2.5-3.2 m: 2.44 m boxes with their handling gaps) and the best
   pitch and phase define the rows -- a one-dimensional version of the
   lattice fitting used for regular structures (e.g. Hays et al. 2006). A
   block too narrow for two rows is one row centred on its mask.
4. **Boxes along a row.** Runs of container-like pixels along each row
   (holes < 1.5 m closed, runs < 4 m dropped) hold ``round((L + g) / 6.3)``
   TEU slots (a 20 ft box is 6.06 m, a 40 ft box 12.19 m = 2 TEU, gaps ~0.4 m).
   A slot boundary is real when the along-row colour change or the dark dip
   of door ends and gaps is strong there; slots not separated by a boundary
   pair up into 40 ft boxes. This is the granulometric reading of a row
   (Matheron 1975; Serra 1982): lengths, not shapes, give the unit sizes.
5. **Look-alikes.** Rows of trailers and parked cars stand on visible ground
   gaps (trailer pitch 3.4-4.2 m, cars 1.8 m wide) so their rows fit no
   container pitch or break into pieces shorter than a 20 ft box; a block
   whose fitted rows are mostly ground, or whose boxes have no boundaries
   (a uniform or finely ribbed roof), is dropped: a block must show the
   colour variety of mixed boxes (the colour change between boxes is
   measured, roofs have one colour) and box ends at container spacing.
6. **Coarse pixels** (area mode, > 1 m): boxes are not resolved; the covered
   area of accepted blocks (texture and colour, step 1 plus local contrast)
   times the share of a block that is box footprint (gaps between rows and
   bays, ``AREA_FILL``) over 14.8 m^2 per TEU gives the TEU.
7. **Yards.** Given yards keep the stacks inside them. Without yards, yards
   are found automatically: stacks closed by ~25 m into dense regions on land
   (water from the given mask or :func:`quayside.core.water.water_mask`),
   kept when large and dense enough; the notes say so. Occupancy = box
   footprint area / yard area.

TEU = (boxes_20ft + 2 boxes_40ft) x ``stack_tiers`` in box mode and
covered box area / 14.8 m^2 x ``stack_tiers`` in area mode: from above only the
top of a stack is seen, so ``stack_tiers`` (default 1) is the analyst's.
Boxes are kept by the block whose core holds their centre, so window seams
count nothing twice.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import rasterio
from rasterio import features
from rasterio.enums import Resampling
from rasterio.windows import Window
from rasterio.windows import transform as window_transform
from scipy import ndimage
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from .errors import InputError
from .geo import GroundScale, dataset_ground_scale
from .raster import (
    CancelCheck,
    Progress,
    band_roles,
    check_cancel,
    iter_windows,
    n_windows,
    overview,
    read_valid,
    robust_stretch,
)

L20 = 6.06  # ISO 668: 20 ft box, metres
L40 = 12.19  # 40 ft box
BOX_W = 2.44  # both
TEU_M2 = L20 * BOX_W  # 14.8 m2 footprint of one TEU
GAP_M = 0.4  # typical handling gap between boxes in a row
SLOT_M = 6.3  # along-row length per TEU including its share of gaps
PITCH_MIN_M, PITCH_MAX_M = 2.5, 3.2  # row pitch of a block
AREA_FILL = 0.83  # box footprint share of a block's covered area (gaps between rows and bays)
BOX_MODE_MAX_M = 1.0  # pixels up to this size count boxes
HALO_M = 64.0
AUTO_CLOSE_M = 25.0
AUTO_MIN_M2 = 2500.0
AUTO_MIN_TEU = 20.0

COLOURS = {  # name: linear rgb on a 0..1 reflectance-like scale
    "red": (0.36, 0.07, 0.06),
    "orange": (0.50, 0.23, 0.05),
    "yellow": (0.52, 0.44, 0.08),
    "green": (0.07, 0.20, 0.10),
    "blue": (0.06, 0.12, 0.30),
    "white": (0.56, 0.56, 0.54),
    "grey": (0.28, 0.28, 0.28),
    "brown": (0.24, 0.14, 0.09),
}


@dataclass
class Stack:
    """One container stack (box mode: one box footprint) or block (area mode).

    ``polygon`` is in the raster's CRS; ``area_m2`` in ground m2 (px2 without a CRS)."""

    polygon: BaseGeometry
    teu: float
    boxes_20ft: Optional[int]
    boxes_40ft: Optional[int]
    colour: str
    area_m2: float
    yard: Optional[str]
    score: float


@dataclass
class YardSummary:
    name: str
    polygon: BaseGeometry
    yard_area_m2: float
    occupied_area_m2: float
    occupancy_pct: float
    teu: float
    mode: str  # 'boxes' or 'area'


@dataclass
class ContainerResult:
    stacks: List[Stack]
    yards: List[YardSummary]
    mode: str
    pixel_size_m: float
    units: str
    auto_yards: bool
    notes: List[str] = field(default_factory=list)

    @property
    def total_teu(self) -> float:
        return float(sum(s.teu for s in self.stacks))


@dataclass
class _Params:
    px: float  # ground metres per pixel
    box_mode: bool
    chroma_t: float
    bright_k: float
    sensitivity: float


# --------------------------------------------------------------------------------------------
# pixels


def _features(x: np.ndarray):
    """Brightness, absolute chroma of common-scaled bands (3, h, w)."""
    mx = x.max(axis=0)
    mn = x.min(axis=0)
    return x.mean(axis=0), mx - mn


def _local_ground(bright: np.ndarray, neutral: np.ndarray, px: float) -> np.ndarray:
    """Median brightness of neutral pixels over ~60 m: the lit surface the boxes stand on."""
    f = max(1, int(round(4.0 / px)))
    h, w = bright.shape
    hh, ww = -(-h // f), -(-w // f)
    pad = np.zeros((hh * f, ww * f), np.float32)
    padv = np.zeros((hh * f, ww * f), np.float32)
    pad[:h, :w] = np.where(neutral, bright, 0)
    padv[:h, :w] = neutral
    s = pad.reshape(hh, f, ww, f).sum(axis=(1, 3))
    n = padv.reshape(hh, f, ww, f).sum(axis=(1, 3))
    ok = n > 0.25 * f * f
    d = np.where(ok, s / np.maximum(n, 1), np.nan)
    fill = float(np.nanmedian(d)) if ok.any() else 0.0
    d = np.where(ok, d, fill)
    size = max(3, int(round(60.0 / (f * px))) | 1)
    g = ndimage.median_filter(d, size=size, mode="nearest")
    up = np.repeat(np.repeat(g, f, axis=0), f, axis=1)[:h, :w]
    return up.astype(np.float32)


def _container_mask(x: np.ndarray, valid: np.ndarray, p: _Params) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    bright, chroma = _features(x)
    coloured = chroma > p.chroma_t
    ground = _local_ground(bright, valid & ~coloured, p.px)
    neutral_bright = bright > ground * p.bright_k + 0.03
    m = valid & (coloured | neutral_bright)
    r = max(1, int(round(0.9 / p.px)))
    if p.box_mode and r >= 2:
        m = ndimage.binary_opening(m, np.ones((r, r), bool))
    return m, bright, chroma


# --------------------------------------------------------------------------------------------
# geometry of a block


def _orientation(bright: np.ndarray, m: np.ndarray) -> float:
    """Grid angle (radians, image axes: col = x, row = y) modulo 90 degrees."""
    gy = ndimage.sobel(bright, axis=0)
    gx = ndimage.sobel(bright, axis=1)
    w = (gx * gx + gy * gy) * m
    phi = np.arctan2(gy, gx)
    z = np.sum(w * np.exp(4j * phi))
    if abs(z) <= 1e-12:
        return 0.0
    return float(np.angle(z) / 4.0)


def _axis_angle(rows: np.ndarray, cols: np.ndarray, grid: float) -> float:
    """Of ``grid`` and ``grid + 90 deg``, the one closest to the block's principal axis."""
    if len(rows) < 3:
        return grid
    c = np.cov(np.vstack([cols, rows]).astype(np.float64))
    ev, evec = np.linalg.eigh(c)
    major = math.atan2(evec[1, 1], evec[0, 1])
    best, bd = grid, 9.0
    for a in (grid, grid + math.pi / 2):
        d = abs(math.remainder(a - major, math.pi))
        if d < bd:
            best, bd = a, d
    return best


def _comb(profile: np.ndarray, pitch: float, phase: float) -> float:
    n = len(profile)
    pos = np.arange(phase, n - 1, pitch)
    if len(pos) < 2:
        return -1.0
    i = np.floor(pos).astype(int)
    t = pos - i
    vals = profile[i] * (1 - t) + profile[np.minimum(i + 1, n - 1)] * t
    return float(vals.mean())


def _fit_rows(edge: np.ndarray, occ: np.ndarray, px: float) -> Tuple[float, float]:
    """Row pitch and phase (chip pixels) of the boundaries between rows."""
    best = (-1.0, PITCH_MIN_M / px, 0.0)
    for pm in np.arange(PITCH_MIN_M, PITCH_MAX_M + 1e-6, 0.05):
        pp = pm / px
        for ph in np.arange(0.0, pp, 0.2):
            s = _comb(edge, pp, ph)
            if s > best[0]:
                best = (s, pp, ph)
    return best[1], best[2]


def _slot_boxes(run_len_m: float, evidence: Callable[[float], float], thr: float, max_plain: bool = True):
    """Split a run of boxes into 20/40 ft units: list of (start_m, end_m, ft)."""
    t = max(1, int(round((run_len_m + GAP_M) / SLOT_M)))
    slot = (run_len_m + GAP_M) / t
    cuts = [0]
    for j in range(1, t):
        if evidence(j * slot - GAP_M / 2) > thr:
            cuts.append(j)
    cuts.append(t)
    out = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        m = b - a
        if m > 2 and max_plain:
            continue  # longer than a 40 ft box with no box end in it: not boxes
        k = a
        for _ in range(m // 2):
            out.append((k * slot, (k + 2) * slot - GAP_M, 40))
            k += 2
        if m % 2:
            out.append((k * slot, (k + 1) * slot - GAP_M, 20))
    return out


def _colour_name(rgb: np.ndarray, scale: float) -> str:
    v = np.asarray(rgb, np.float64) * scale
    best, bd = "grey", 1e9
    s = v.sum() + 1e-6
    for name, ref in COLOURS.items():
        r = np.asarray(ref)
        # chromaticity dominates, brightness separates white / grey and orange / brown
        d = np.sum((v / s - r / r.sum()) ** 2) * 9.0 + (math.log((s + 0.05) / (r.sum() + 0.05))) ** 2 * 0.15
        if d < bd:
            best, bd = name, d
    return best


@dataclass
class _Box:
    corners: np.ndarray  # (4, 2) col, row in read-window pixels
    ft: Optional[int]
    teu_units: float
    area_px: float
    colour: str
    score: float


def _block_boxes(lab_slice, comp: np.ndarray, m: np.ndarray, x: np.ndarray, bright: np.ndarray,
                 p: _Params, colour_scale: float) -> List[_Box]:
    """Boxes of one block (``comp`` its mask within slice ``lab_slice`` of the read window)."""
    r0, c0 = lab_slice[0].start, lab_slice[1].start
    rows, cols = np.nonzero(comp)
    grid = _orientation(bright[lab_slice], ndimage.binary_dilation(comp, iterations=1))
    ang = _axis_angle(rows, cols, grid)
    ca, sa = math.cos(ang), math.sin(ang)
    # chip frame: u along rows, v across (pixels)
    cc = cols + 0.5
    rr = rows + 0.5
    u = cc * ca + rr * sa
    v = -cc * sa + rr * ca
    pad = 3.0
    u0, u1 = u.min() - pad, u.max() + pad
    v0, v1 = v.min() - pad, v.max() + pad
    nu, nv = int(math.ceil(u1 - u0)), int(math.ceil(v1 - v0))
    if nu < 3 or nv < 2:
        return []
    uu, vv = np.meshgrid(u0 + np.arange(nu) + 0.5, v0 + np.arange(nv) + 0.5)
    cx = uu * ca - vv * sa - 0.5 + c0
    cy = uu * sa + vv * ca - 0.5 + r0
    coords = np.array([cy, cx])
    full_comp = np.zeros((lab_slice[0].stop - r0, lab_slice[1].stop - c0), np.float32)
    full_comp[comp] = 1.0
    cm = ndimage.map_coordinates(full_comp, np.array([cy - r0, cx - c0]), order=1, cval=0.0)
    mk = ndimage.map_coordinates(m.astype(np.float32), coords, order=1, cval=0.0)
    mk = np.minimum(mk, np.clip(cm * 2, 0, 1))
    ch = np.stack([ndimage.map_coordinates(b, coords, order=1, mode="nearest") for b in x])
    br = ch.mean(axis=0)
    # across-row boundaries: colour change in v
    dv = np.abs(np.diff(ch, axis=1)).sum(axis=0)  # (nv-1, nu)
    wv = np.maximum(mk[1:], mk[:-1])
    edge_v = (dv * wv).sum(axis=1) / np.maximum(wv.sum(axis=1), 1.0)
    occ_v = mk.mean(axis=1)
    span_m = (occ_v > 0.15).sum() * p.px
    pmid = 0.5 * (PITCH_MIN_M + PITCH_MAX_M) / p.px
    if span_m < 1.7 * BOX_W:
        # a single row: centred on its mask
        vc = float((occ_v * np.arange(nv)).sum() / max(occ_v.sum(), 1e-6)) + 0.5
        pitch = pmid
        centres = [vc]
    else:
        pitch, phase = _fit_rows(np.concatenate([edge_v, [0.0]]), occ_v, p.px)
        # boundary k at v = phase + 1 + k*pitch (diff index i is between i and i+1)
        b0 = phase + 1.0
        centres = list(np.arange(b0 + pitch / 2 - pitch * math.ceil(b0 / pitch), nv, pitch))
    half_w = 0.5 * BOX_W / p.px
    out: List[_Box] = []
    for vc in centres:
        lo = int(math.floor(vc - 0.3 * pitch))
        hi = int(math.ceil(vc + 0.3 * pitch))
        lo, hi = max(lo, 0), min(hi, nv)
        if hi - lo < 1:
            continue
        o = mk[lo:hi].mean(axis=0)
        occ = o > 0.5
        gap = max(1, int(round(1.5 / p.px)))
        occ = ndimage.binary_closing(np.pad(occ, gap), np.ones(2 * gap + 1, bool))[gap:-gap] | occ
        labs, n = ndimage.label(occ)
        if n == 0:
            continue
        prof = ch[:, lo:hi, :].mean(axis=1)  # (3, nu)
        bprof = br[lo:hi].mean(axis=0)
        dprof = np.zeros(nu, np.float32)
        dprof[1:-1] = np.abs(prof[:, 2:] - prof[:, :-2]).sum(axis=0)
        env = ndimage.maximum_filter1d(bprof, max(3, int(round(3.0 / p.px)) | 1))
        dip = np.maximum(env - bprof, 0.0)
        ev = dprof + 2.0 * dip
        for k in range(1, n + 1):
            idx = np.nonzero(labs == k)[0]
            a, b = idx[0], idx[-1] + 1
            run_m = (b - a) * p.px
            if run_m < 4.2:
                continue
            seg = ev[a:b]
            noise = float(np.median(seg)) if len(seg) > 4 else 0.0
            thr = max(3.0 * noise, 0.06)

            def evidence(pos_m, _a=a, _seg=seg):
                i = pos_m / p.px
                j0 = max(0, int(math.floor(i - 0.7 / p.px)))
                j1 = min(len(_seg), int(math.ceil(i + 0.7 / p.px)) + 1)
                return float(_seg[j0:j1].max()) if j1 > j0 else 0.0

            for (s0, s1, ft) in _slot_boxes(run_m, evidence, thr):
                ua = u0 + a + s0 / p.px
                ub = u0 + a + s1 / p.px
                va, vb = v0 + vc - half_w, v0 + vc + half_w
                us = np.array([ua, ub, ub, ua])
                vs = np.array([va, va, vb, vb])
                xs = us * ca - vs * sa + c0
                ys = us * sa + vs * ca + r0
                j0, j1 = a + int(s0 / p.px), max(a + int(s0 / p.px) + 1, a + int(s1 / p.px))
                rgb = prof[:, j0:j1].mean(axis=1)
                cov = float(o[j0:j1].mean())
                out.append(_Box(np.stack([xs, ys], axis=1), ft, 2.0 if ft == 40 else 1.0,
                                (s1 - s0) * BOX_W / p.px / p.px, _colour_name(rgb, colour_scale),
                                round(min(1.0, cov), 3)))
    return out


def _block_ok(boxes: List[_Box], comp_area_px: float, p: _Params) -> bool:
    """A block is containers when its boxes explain its area and differ in colour."""
    if not boxes:
        return False
    box_area = sum(b.area_px for b in boxes)
    if box_area < 0.45 * comp_area_px * (1.0 - 0.3 * (p.sensitivity - 0.5)):
        return False
    return True


# --------------------------------------------------------------------------------------------
# driver


def _validate(stack_tiers, sensitivity, block):
    if stack_tiers is None or stack_tiers < 1:
        raise InputError(f"Stack tiers must be 1 or more (boxes per stack seen from above), not {stack_tiers}.")
    if not 0.0 <= sensitivity <= 1.0:
        raise InputError(f"Sensitivity must be between 0 and 1, not {sensitivity}.")
    if block < 64:
        raise InputError(f"The block size must be at least 64 pixels, not {block}.")


def _geoms_in_raster(geoms, bounds, what):
    gs = [g for g in geoms if g is not None and not g.is_empty]
    if not gs:
        raise InputError(f"The {what} layer has no geometry: draw or choose at least one polygon.")
    u = unary_union(gs)
    if not u.intersects(bounds):
        raise InputError(f"The {what} do not overlap the image: draw them over the image (in its CRS) or "
                         "choose another layer.")
    return u


def _water_reference(src_path, src, roles, tmpdir, cancel, progress):
    from .ships import _decimated_copy
    from .water import water_mask

    fw = max(1, int(math.ceil(max(src.width, src.height) / 4096)))
    wbands = list(roles.visible) + ([roles.nir] if roles.nir else [])
    wsrc_path = src_path
    wroles = dict(red=roles.red, green=roles.green, blue=roles.blue, nir=roles.nir)
    if fw > 1:
        wsrc_path = os.path.join(tmpdir, "decimated.tif")
        _decimated_copy(src, wbands, fw, wsrc_path, cancel)
        wroles = dict(red=1, green=2, blue=3, nir=4 if roles.nir else None)
    out = os.path.join(tmpdir, "water.tif")
    water_mask(wsrc_path, out, progress=progress, cancel=cancel, **wroles)
    return out


def _read_water(wsrc, bounds_geom, shape):
    win = rasterio.windows.from_bounds(*bounds_geom.bounds, transform=wsrc.transform)
    w = wsrc.read(1, window=win, out_shape=shape, resampling=Resampling.nearest, boundless=True, fill_value=0)
    return w == 1


def detect_containers(src_path: str, *, red: Optional[int] = None, green: Optional[int] = None,
                      blue: Optional[int] = None, nir: Optional[int] = None,
                      yards: Optional[Sequence[Tuple[BaseGeometry, Optional[str]]]] = None,
                      aoi: Optional[Sequence[BaseGeometry]] = None, water_path: Optional[str] = None,
                      stack_tiers: int = 1, sensitivity: float = 0.5, block: int = 1024,
                      progress: Progress = None, cancel: CancelCheck = None,
                      auto_water: bool = True) -> ContainerResult:
    """Container stacks, TEU and yard occupancy of an optical image (see the module docstring).

    ``yards``: (polygon, name) pairs in the raster's CRS; without them yards are found
    automatically. ``aoi``: polygons that limit the search. ``water_path``: a 0/1 water raster
    in the raster's CRS (without it and without yards, water is computed when ``auto_water``).
    """
    _validate(stack_tiers, sensitivity, block)
    notes: List[str] = []
    with rasterio.open(src_path) as src:
        roles = band_roles(src, red, green, blue, nir)
        bands = list(roles.visible)
        scale = dataset_ground_scale(src)
        units = "m" if scale.georeferenced else "px"
        px_real = scale.mean_m
        if not scale.georeferenced:
            notes.append("The raster has no CRS: areas are in squared pixels (units 'px') and the pixel is "
                         "taken as 0.5 m to choose the method; give the raster a CRS for areas in m2.")
            scale = GroundScale(1.0, 1.0, False)
        px_m = scale.mean_m if scale.georeferenced else 0.5
        area_px = scale.x_m * scale.y_m  # ground area of one pixel in output units
        ov, ov_valid, _ = overview(src, bands)
        stretch = robust_stretch(ov, ov_valid)  # InputError when all nodata
        lo = float(min(stretch.lo))
        hi = float(max(stretch.hi))
        span = max(hi - lo, 1e-6)
        bounds = box(*src.bounds)
        aoi_u = _geoms_in_raster(aoi, bounds, "area of interest") if aoi else None
        yard_list: List[Tuple[BaseGeometry, str]] = []
        if yards:
            for i, (g, name) in enumerate(yards):
                if g is None or g.is_empty:
                    continue
                yard_list.append((g, str(name) if name not in (None, "") else f"Yard {i + 1}"))
            _geoms_in_raster([g for g, _ in yard_list], bounds, "yards")
        auto = not yard_list
        box_mode = px_m <= BOX_MODE_MAX_M + 1e-6
        mode = "boxes" if box_mode else "area"
        s = float(sensitivity)
        params = _Params(px=px_m, box_mode=box_mode, chroma_t=(0.05 - 0.04 * (s - 0.5)),
                         bright_k=1.25 - 0.2 * (s - 0.5), sensitivity=s)
        # reflectance-like scale for colour names: the stretch maps ~0.55 reflectance to hi
        colour_scale = 0.5
        search = None
        if yard_list:
            search = unary_union([g for g, _ in yard_list])
        if aoi_u is not None:
            search = aoi_u if search is None else search.intersection(aoi_u)
            if search.is_empty:
                raise InputError("The yards and the area of interest do not overlap: widen the area of interest.")
        halo = int(math.ceil(HALO_M / px_m))
        size = max(int(block), 2 * halo)
        tmpdir = None
        wsrc = None
        try:
            p0 = 0.0
            if water_path is not None:
                wsrc = rasterio.open(water_path)
                if (wsrc.crs is None) != (src.crs is None) or (wsrc.crs is not None and wsrc.crs != src.crs):
                    raise InputError("The water mask is not in the image's CRS: give a mask in the same CRS as "
                                     "the image (any pixel size).")
            elif auto and auto_water:
                tmpdir = tempfile.mkdtemp(prefix="quayside_containers_")
                wprog = (lambda f: progress(0.15 * f)) if progress else None
                try:
                    wsrc = rasterio.open(_water_reference(src_path, src, roles, tmpdir, cancel, wprog))
                except InputError:
                    wsrc = None
                p0 = 0.15
            boxes_out = []  # (polygon in CRS, _Box)
            blocks_out = []  # area mode: (polygon in CRS, covered px, colour, score)
            total = n_windows(src.width, src.height, size)
            for k, (core, read) in enumerate(iter_windows(src.width, src.height, size, halo)):
                check_cancel(cancel)
                if progress:
                    progress(p0 + (0.9 - p0) * k / max(total, 1))
                rtf = window_transform(read, src.transform)
                rb = box(*rasterio.windows.bounds(read, src.transform))
                if search is not None and not search.intersects(rb):
                    continue
                data, valid = read_valid(src, read, bands)
                if not valid.any():
                    continue
                x = (data - lo) / span
                shape = valid.shape
                if search is not None:
                    valid &= features.rasterize([(search, 1)], out_shape=shape, transform=rtf, fill=0,
                                                all_touched=True).astype(bool)
                if wsrc is not None:
                    valid &= ~_read_water(wsrc, rb, shape)
                m, bright, chroma = _container_mask(x, valid, params)
                cr0 = int(core.row_off - read.row_off)
                cc0 = int(core.col_off - read.col_off)
                cr1, cc1 = cr0 + int(core.height), cc0 + int(core.width)
                if box_mode:
                    closed = ndimage.binary_closing(m, np.ones((3, 3), bool)) | m
                    lab, n = ndimage.label(closed)
                    objs = ndimage.find_objects(lab)
                    min_px = 0.6 * TEU_M2 / (px_m * px_m)
                    for i, sl in enumerate(objs):
                        if sl is None:
                            continue
                        comp = lab[sl] == i + 1
                        npx = int(comp.sum())
                        if npx < min_px:
                            continue
                        bxs = _block_boxes(sl, comp & m[sl], m, x, bright, params, colour_scale)
                        if not _block_ok(bxs, npx, params):
                            continue
                        for b in bxs:
                            ccx, ccy = b.corners.mean(axis=0)
                            if not (cr0 <= ccy < cr1 and cc0 <= ccx < cc1):
                                continue
                            pts = [rtf * (float(px_), float(py_)) for px_, py_ in b.corners]
                            boxes_out.append((Polygon(pts), b))
                else:
                    tex = _texture(bright, valid)
                    mm = m & (tex > 0.02) | (m & (chroma > 2 * params.chroma_t))
                    mm = ndimage.binary_closing(mm, np.ones((2, 2), bool)) & valid
                    lab, n = ndimage.label(mm)
                    objs = ndimage.find_objects(lab)
                    min_px = max(2.0, 2 * TEU_M2 / (px_m * px_m))
                    for i, sl in enumerate(objs):
                        if sl is None:
                            continue
                        comp = lab[sl] == i + 1
                        npx = int(comp.sum())
                        if npx < min_px:
                            continue
                        rr, cc_ = np.nonzero(comp)
                        cy_, cx_ = rr.mean() + sl[0].start, cc_.mean() + sl[1].start
                        if not (cr0 <= cy_ < cr1 and cc0 <= cx_ < cc1):
                            continue
                        shapes = features.shapes(comp.astype(np.uint8), mask=comp,
                                                 transform=window_transform(
                                                     Window(read.col_off + sl[1].start, read.row_off + sl[0].start,
                                                            comp.shape[1], comp.shape[0]), src.transform))
                        from shapely.geometry import shape as _shape
                        poly = unary_union([_shape(g) for g, _ in shapes])
                        rgb = x[:, sl[0], sl[1]][:, comp].mean(axis=1)
                        blocks_out.append((poly, npx, _colour_name(rgb, colour_scale),
                                           float(min(1.0, tex[sl][comp].mean() / 0.06))))
            # ------------------------------------------------------------------ stacks
            stacks: List[Stack] = []
            if box_mode:
                for poly, b in boxes_out:
                    stacks.append(Stack(poly, b.teu_units * stack_tiers, 1 if b.ft == 20 else 0,
                                        1 if b.ft == 40 else 0, b.colour, b.area_px * area_px, None, b.score))
            else:
                for poly, npx, colour, score in blocks_out:
                    a = npx * area_px * AREA_FILL
                    teu = a / (TEU_M2 if scale.georeferenced else TEU_M2 / (px_real * px_real)) * stack_tiers
                    stacks.append(Stack(poly, round(teu, 2), None, None, colour, a, None, round(score, 3)))
            if aoi_u is not None:
                stacks = [st for st in stacks if aoi_u.contains(st.polygon.centroid)]
            # ------------------------------------------------------------------ yards
            if auto:
                t = src.transform
                crs_per_m = math.sqrt(abs(t.a * t.e - t.b * t.d) / (scale.x_m * scale.y_m))
                yard_list = _auto_yards(stacks, crs_per_m, stack_tiers)
                notes.append(f"No yards were given: {len(yard_list)} yard(s) were found automatically (dense "
                             "blocks of boxes on land); stacks outside them are not reported.")
            summaries: List[YardSummary] = []
            kept: List[Stack] = []
            for g, name in yard_list:
                g = g.intersection(bounds)
                occ = 0.0
                teu = 0.0
                for st in stacks:
                    if st.yard is None and g.contains(st.polygon.centroid):
                        st.yard = name
                        occ += st.area_m2
                        teu += st.teu
                        kept.append(st)
                ya = _area_units(g, src, scale)
                summaries.append(YardSummary(name, g, ya, occ, 100.0 * occ / ya if ya > 0 else 0.0, teu, mode))
            if progress:
                progress(1.0)
        finally:
            if wsrc is not None:
                wsrc.close()
            if tmpdir:
                shutil.rmtree(tmpdir, ignore_errors=True)
    if not box_mode:
        notes.append(f"Pixels of {px_m:.1f} m are too coarse to see single boxes: TEU is estimated from the "
                     f"covered area ({AREA_FILL:.0%} of a block is box footprint, {TEU_M2:.1f} m2 per TEU).")
    if stack_tiers > 1:
        notes.append(f"TEU counts {stack_tiers} boxes per stack footprint (STACK_TIERS).")
    return ContainerResult(kept, summaries, mode, px_real, units, auto, notes)


def _area_units(g: BaseGeometry, src, scale: GroundScale) -> float:
    """Area of a CRS polygon in output units (m2 on the ground, or px2 without a CRS)."""
    t = src.transform
    crs_px_area = abs(t.a * t.e - t.b * t.d)
    return g.area / crs_px_area * scale.x_m * scale.y_m


def _texture(bright: np.ndarray, valid: np.ndarray) -> np.ndarray:
    m1 = ndimage.uniform_filter(bright, 3)
    m2 = ndimage.uniform_filter(bright * bright, 3)
    return np.sqrt(np.maximum(m2 - m1 * m1, 0.0)) * valid


def _auto_yards(stacks: List[Stack], crs_per_m: float, tiers: int):
    """Dense groups of stacks: buffered union, closed, large and full enough."""
    if not stacks:
        return []
    polys = [st.polygon for st in stacks]
    r = AUTO_CLOSE_M / 2.0 * crs_per_m
    merged = unary_union([p.buffer(r, 4) for p in polys]).buffer(-r * 0.8, 4)
    geoms = list(getattr(merged, "geoms", [merged]))
    out = []
    k = 0
    per_m2 = crs_per_m ** 2
    for g in sorted(geoms, key=lambda q: (-q.area)):
        if g.is_empty:
            continue
        inside = [st for st in stacks if g.contains(st.polygon.centroid)]
        teu = sum(st.teu for st in inside) / max(tiers, 1)
        area_m2 = g.area / per_m2
        if area_m2 < AUTO_MIN_M2 or teu < AUTO_MIN_TEU:
            continue
        k += 1
        out.append((g, f"Auto yard {k}"))
    return out
