"""Ship detection in optical images: find, outline, measure and attribute vessels.

Method (classical image analysis, numpy/scipy only)
---------------------------------------------------
1. **Water reference.** A 0/1 water mask (given, rasterised from polygons, or
   computed with :func:`quayside.core.water.water_mask`). It only needs to be
   right at large scale: its job is to say where the sea is, so that the local
   water background can be estimated and runs can be said to "end in water".

2. **Contrast to local water (CFAR).** The water background of each band is
   the median of water pixels in cells a few ship-widths across, interpolated
   between cells; the noise is the robust (MAD) spread of water around it.
   Every pixel gets a colour distance to water in noise units
   ``d = sqrt(mean_b ((x_b - mu_b) / sigma_b)^2)``; pixels with ``d`` above a
   constant-false-alarm threshold (set by ``sensitivity``) are *not water*.
   This is the cell-averaging CFAR idea of radar ship detection (Crisp 2004,
   DSTO-RR-0272) applied to optical colour, with medians instead of means so
   the ships inside the cells do not bias the background.

3. **Ships among the "not water" pixels: directional runs.** Docked ships
   join the quay in any mask, so a component analysis alone cannot find them.
   A ship is an object shorter than ``max_length`` that water bounds on both
   ends *along some direction*: for a ship lying along a quay that direction
   is its own axis (the quay continues beyond the bow and stern, the ship does
   not); for a ship moored bow-on it is across the hull; for an anchored ship
   any direction works. For K directions the land mask is scanned along
   digital lines (:mod:`quayside.core.ships_runs`); the pixels whose run
   between two water pixels is at most ``max_length`` form, per direction,
   the residue of a morphological *line opening* of the land mask
   (Soille 2003). Each connected piece of a residue is a ship hypothesis; a
   real ship is made of runs of nearly equal length (a rectangle), whereas
   the corner of a quay gives tapering runs (a triangle), a pier gives runs
   of the pier's width over a length beyond ``max_length``, and a quay gives
   runs that do not end in water at all.

4. **Shape and contrast tests.** Each hypothesis is measured from its
   second moments (PCA axis, rectangle-equivalent length and width): length
   in [min_length, max_length], beam plausible for the length, filling of the
   oriented rectangle (rectangularity), uniformity of the runs, share of its
   outline on water, contrast to water. Hypotheses found in several
   directions are merged by non-maximum suppression (best score first).

5. **Rafted / touching ships** are split where the run length jumps (two
   ships side by side along a quay rarely have the same length) and where the
   width profile along the axis says two hulls are present.

6. **Measurement.** Length and beam are measured at half contrast from
   profiles of the contrast image along and across the fitted axis (a ship of
   length L blurred by the sensor's point-spread function still crosses half
   its plateau contrast at its ends: binary masks would be biased by the
   threshold and the mixed pixels), in ground metres on the ellipsoid from
   the pixel size at the ship (:func:`quayside.core.geo.ground_scale`), so
   UTM, Web Mercator and geographic rasters give the same metres.

7. **Windows.** The raster is processed in blocks with a halo of 1.5 x the
   maximum ship length (a ship whose centroid is in a block is then wholly
   inside the halo, and a run that reaches the halo edge is longer than any
   ship); each block keeps the ships whose centroid lies in its core, and a
   final suppression removes any duplicate at the seams. Very fine images are
   analysed on a coarser working grid (the minimum ship length spans about 10
   working pixels) and measured back on the native grid.

States: *docked* if the hull touches land or lies within a few metres of a
pier; *underway* if a wake (a bright, turbulent trail in line with the hull)
is seen; else *anchored*. Pier: the nearest pier geometry within
``max(30 m, 3 px)``.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import rasterio
import rasterio.warp
from rasterio import features
from rasterio.enums import Resampling
from rasterio.windows import Window
from rasterio.windows import transform as window_transform
from scipy import ndimage
from shapely.geometry import Polygon, box
from shapely.ops import unary_union

from .errors import InputError
from .geo import dataset_ground_scale, ground_scale, local_radii
from .raster import (
    CancelCheck,
    Progress,
    band_roles,
    check_cancel,
    iter_windows,
    overview,
    robust_stretch,
)
from .ships_runs import LAND, OUTSIDE, WATER, directional_runs


@dataclass
class Ship:
    """One vessel. ``polygon`` is in the raster's CRS; lengths in ground metres
    (or pixels when the raster has no CRS, see :attr:`ShipResult.units`)."""

    polygon: Polygon
    length_m: float
    width_m: float
    heading_deg: float
    area_m2: float
    score: float
    state: str
    pier: Optional[str] = None
    pier_distance_m: Optional[float] = None


@dataclass
class ShipResult:
    ships: List[Ship]
    pixel_size_m: float
    units: str
    method: str
    notes: List[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# parameters

_LAST: list = []
N_DIRECTIONS = 24
MAX_BEAM_M = 60.0  # the widest ships afloat (ULCS, VLCC, Valemax) have a beam of about 60-65 m
DARK_FACTOR = 2.5
BIG_WATER_M2 = 20000.0
MIN_WIDTH_PX = 1.5
BOW_ON_MAX_M = 150.0  # large ships berth alongside; only small craft and ferries moor bow- or stern-on
CONTACT_M = 12.0  # depth of the bands beyond the ends and sides where land contact is measured
BG_SCALE_M = 40.0
WATER_ROUNDS = 3
GROW_MAX_M = 300.0
ROUGH_K = 2.0
SEPARATE_WATER_M2 = 100000.0  # a water body not joined to the sea must be this large to be searched


@dataclass
class _Params:
    x_m: float  # ground metres per working pixel along columns
    y_m: float
    min_len: float
    max_len: float
    k_obj: float  # CFAR threshold on d
    n_dir: int
    floor: np.ndarray  # per-band floor of the water noise (raw units)

    @property
    def px(self) -> float:
        return math.sqrt(self.x_m * self.y_m)


def _cfar_k(sensitivity: float) -> float:
    # 0 -> 7 sigma, 0.5 -> 4.5 sigma, 1 -> 2 sigma
    return 7.0 - 5.0 * sensitivity


# --------------------------------------------------------------------------------------------
# background and contrast


def _nc_fill(a: np.ndarray, w: np.ndarray, s: float) -> np.ndarray:
    """Normalised convolution (Knutsson & Westin 1993): the Gaussian-weighted mean of
    ``a`` over pixels with weight ``w``; where no weight is near, the value of the
    nearest pixel that has one.

    Wide kernels run on a grid decimated by block sums (the result is smooth at
    that scale anyway) and are interpolated back."""
    q = max(1, int(s // 2))
    if q > 1:
        h, wd = a.shape
        ny, nx = -(-h // q), -(-wd // q)
        aw = np.zeros((ny * q, nx * q), np.float32)
        ww = np.zeros((ny * q, nx * q), np.float32)
        aw[:h, :wd] = a * w
        ww[:h, :wd] = w
        num = aw.reshape(ny, q, nx, q).sum(axis=(1, 3))
        den = ww.reshape(ny, q, nx, q).sum(axis=(1, 3)) / (q * q)
        num /= q * q
        s_eff = s / q
    else:
        num, den, s_eff = a * w, w.astype(np.float32), s
    num = ndimage.gaussian_filter(num, s_eff, mode="nearest")
    den = ndimage.gaussian_filter(den, s_eff, mode="nearest")
    good = den > 0.02
    out = np.where(good, num / np.maximum(den, 1e-12), 0).astype(np.float32)
    if not good.any():
        return np.full(a.shape, np.nan, np.float32)
    if not good.all():
        idx = ndimage.distance_transform_edt(~good, return_distances=False, return_indices=True)
        out = out[tuple(idx)]
    if q > 1:
        out = _upsample(out, q, a.shape)
    return out


def _upsample(grid: np.ndarray, q: int, shape) -> np.ndarray:
    """Bilinear interpolation of a grid of q x q cell means back to pixels."""
    h, w = shape
    rr = (np.arange(h, dtype=np.float32) + 0.5) / q - 0.5
    cc = (np.arange(w, dtype=np.float32) + 0.5) / q - 0.5
    r0 = np.clip(np.floor(rr).astype(int), 0, grid.shape[0] - 1)
    r1 = np.clip(r0 + 1, 0, grid.shape[0] - 1)
    fr = np.clip(rr - r0, 0, 1)[:, None]
    c0 = np.clip(np.floor(cc).astype(int), 0, grid.shape[1] - 1)
    c1 = np.clip(c0 + 1, 0, grid.shape[1] - 1)
    fc = np.clip(cc - c0, 0, 1)[None, :]
    top = grid[r0][:, c0] * (1 - fc) + grid[r0][:, c1] * fc
    bot = grid[r1][:, c0] * (1 - fc) + grid[r1][:, c1] * fc
    return (top * (1 - fr) + bot * fr).astype(np.float32)


def _water_model(x: np.ndarray, valid: np.ndarray, water0: np.ndarray, p: "_Params"):
    """Local water background, contrast and a refined water mask.

    The background of every pixel is the colour of the water nearest to it
    (normalised convolution of the water pixels, extended to land by
    nearest-neighbour filling), so a ship is compared with the water right
    next to it, and a green inner basin with its own water, not with the blue
    sea outside. The noise ``sigma_b`` is the local mean absolute deviation of
    water around its background (x 1.2533, the Gaussian factor), never below
    half the block's robust (MAD) spread.

    The reference mask is only trusted at large scale. Pixels that stand out
    from their background (ships, glint) leave the water; and water grows by
    a flood fill with a *local* tolerance (each new pixel must match the water
    pixels next to it and be smooth) into what the reference missed: mixed
    coastal pixels and inner basins whose colour drifts away from the sea's.
    The model is then estimated again on the refined water.

    Returns (d, zb, sig, water) or Nones when the block holds no usable water.
    """
    water = water0 & valid
    if water.sum() < 50:
        return None, None, None, None
    d, zb, sig, glob = _background(x, valid, ndimage.binary_erosion(water, iterations=1), p)
    obj = _objects(d, zb, valid, p)
    water &= ~obj
    near = ndimage.distance_transform_edt(~water, sampling=(p.y_m, p.x_m)) <= GROW_MAX_M
    cand = valid & near & ~obj & ~water & (_roughness(zb) <= ROUGH_K)
    max_iter = int(GROW_MAX_M / p.px) + 1
    grown = _flood(x / glob[:, None, None], water, cand, p.k_obj, max_iter)
    sel = ndimage.binary_erosion(grown, iterations=1) & ~obj
    if sel.sum() < 50:
        return None, None, None, None
    d, zb, sig, _ = _background(x, valid, sel, p)
    obj = _objects(d, zb, valid, p)
    return d, zb, sig, grown & ~obj


def _objects(d, zb, valid, p):
    """Pixels that stand out from water: brighter, or (much more) different in colour.

    Ships are brighter than water or differ in colour; dark-only departures
    (slicks, current lines, cloud shadows) need a much larger contrast."""
    return ((zb > p.k_obj) | (d > DARK_FACTOR * p.k_obj)) & valid


def _background(x, valid, sel, p):
    """(d, zb, sig, block sigma) against the water pixels ``sel``."""
    s = max(2.0, BG_SCALE_M / p.px)
    nb = x.shape[0]
    w = sel.astype(np.float32)
    mu = np.stack([_nc_fill(x[b], w, s) for b in range(nb)])
    res = x - mu
    sig = np.empty_like(x)
    glob = np.empty(nb, np.float32)
    for b in range(nb):
        r = res[b][sel]
        glob[b] = max(1.4826 * float(np.median(np.abs(r - np.median(r)))), float(p.floor[b]))
        local = 1.2533 * _nc_fill(np.abs(res[b]), w, 3 * s)
        sig[b] = np.maximum(local, 0.5 * glob[b])
    z = res / sig
    d = np.sqrt(np.mean(z * z, axis=0))
    zb = np.mean(z, axis=0)
    return d, zb, sig, glob


def _flood(xn: np.ndarray, water: np.ndarray, cand: np.ndarray, tau: float, max_iter: int) -> np.ndarray:
    """Flood fill of ``water`` into ``cand`` with a local colour tolerance.

    A candidate pixel joins when its colour (in noise units) is within ``tau``
    of the mean of its water 8-neighbours. Only the frontier is visited, so the
    cost is proportional to the area grown, not to the block times the
    iterations."""
    h, w = water.shape
    W = np.zeros((h + 2, w + 2), bool)
    W[1:-1, 1:-1] = water
    C = np.zeros((h + 2, w + 2), bool)
    C[1:-1, 1:-1] = cand
    nb = xn.shape[0]
    X = np.zeros((nb, h + 2, w + 2), np.float32)
    X[:, 1:-1, 1:-1] = xn
    Wf, Cf = W.ravel(), C.ravel()
    Xf = X.reshape(nb, -1)
    ww = w + 2
    offs = np.array([-ww - 1, -ww, -ww + 1, -1, 1, ww - 1, ww, ww + 1])
    front = np.flatnonzero(ndimage.binary_dilation(W) & C & ~W)
    for _ in range(max_iter):
        if front.size == 0:
            break
        nbr = front[:, None] + offs[None, :]
        wn = Wf[nbr]
        cnt = wn.sum(1)
        has = cnt > 0
        front, nbr, wn, cnt = front[has], nbr[has], wn[has], cnt[has]
        diff2 = np.zeros(front.size, np.float32)
        for b in range(nb):
            mean = (Xf[b][nbr] * wn).sum(1) / cnt
            diff2 += (Xf[b][front] - mean) ** 2
        new = front[diff2 / nb <= tau * tau]
        if new.size == 0:
            break
        Wf[new] = True
        nxt = np.unique((new[:, None] + offs[None, :]).ravel())
        front = nxt[Cf[nxt] & ~Wf[nxt]]
    return W[1:-1, 1:-1].copy()


def _roughness(zb: np.ndarray) -> np.ndarray:
    """Local standard deviation (3 x 3) of the brightness contrast: water is smooth."""
    m1 = ndimage.uniform_filter(zb, 3, mode="nearest")
    m2 = ndimage.uniform_filter(zb * zb, 3, mode="nearest")
    return np.sqrt(np.maximum(m2 - m1 * m1, 0))


# --------------------------------------------------------------------------------------------
# candidates


@dataclass
class _Cand:
    sl: Tuple[slice, slice]  # bounding box in block pixels
    mask: np.ndarray  # bool, shape of the bbox
    score: float
    cy: float  # centroid (block pixels)
    cx: float
    theta: float  # axis angle in pixel space (radians, atan2(dy, dx) of the major axis in metric units)
    length: float  # moment estimates (m)
    width: float
    water_ring: float
    direction: int
    feat: dict = field(default_factory=dict)


def _label_stats(lab: np.ndarray, n: int, p: _Params, run: np.ndarray, d: np.ndarray, water: np.ndarray):
    """Vectorised per-label measurements (index 0 = background)."""
    rows, cols = np.nonzero(lab)
    ids = lab[rows, cols]
    cnt = np.bincount(ids, minlength=n + 1).astype(np.float64)
    safe = np.maximum(cnt, 1)
    X = cols * p.x_m
    Y = rows * p.y_m
    mx = np.bincount(ids, X, n + 1) / safe
    my = np.bincount(ids, Y, n + 1) / safe
    dx = X - mx[ids]
    dy = Y - my[ids]
    sxx = np.bincount(ids, dx * dx, n + 1) / safe + p.x_m ** 2 / 12
    syy = np.bincount(ids, dy * dy, n + 1) / safe + p.y_m ** 2 / 12
    sxy = np.bincount(ids, dx * dy, n + 1) / safe
    tr = sxx + syy
    det = sxx * syy - sxy * sxy
    disc = np.sqrt(np.maximum(tr * tr / 4 - det, 0))
    l1 = tr / 2 + disc
    l2 = np.maximum(tr / 2 - disc, 0)
    theta = 0.5 * np.arctan2(2 * sxy, sxx - syy)
    length = np.sqrt(12 * l1)
    width = np.sqrt(12 * l2)
    rv = run[rows, cols].astype(np.float64)
    rmean = np.bincount(ids, rv, n + 1) / safe
    rsd = np.sqrt(np.maximum(np.bincount(ids, rv * rv, n + 1) / safe - rmean ** 2, 0))
    dmean = np.bincount(ids, d[rows, cols], n + 1) / safe
    # outline: pixels next to a label but not in it
    dil = ndimage.grey_dilation(lab, size=(3, 3))
    ring = (lab == 0) & (dil > 0)
    rid = dil[ring]
    ring_n = np.bincount(rid, minlength=n + 1).astype(np.float64)
    ring_w = np.bincount(rid, water[ring].astype(np.float64), n + 1)
    water_ring = ring_w / np.maximum(ring_n, 1)
    return dict(cnt=cnt, mx=mx, my=my, theta=theta, length=length, width=width, rmean=rmean, rsd=rsd,
                dmean=dmean, water_ring=water_ring)


def _excess_green(x: np.ndarray) -> np.ndarray:
    """ExG = 2g - r - b in chromaticity coordinates (Woebbecke et al. 1995)."""
    pos = np.maximum(x[:3], 0.0)
    tot = pos.sum(axis=0) + 1e-6
    return (2 * pos[1] - pos[0] - pos[2]) / tot


def _not_water_components(ov: np.ndarray, ov_valid: np.ndarray, ov_water: np.ndarray,
                          min_area_px: float = 0.0) -> np.ndarray:
    """Pieces of the water reference that are vegetation rather than water (overview grid).

    Dark forest passes many visible-band water tests, and a green harbour
    basin can be as green as a forest, so colour alone cannot tell them apart.
    Connectivity can: the largest water body (the sea, and every basin joined
    to it) is always kept; a separate piece is dropped when its excess green
    (Woebbecke et al. 1995) is far above the main mode of the sea's, or when
    it is smaller than ``min_area_px`` (dark patches inside a terminal).
    """
    sel = ov_valid & ov_water
    lab, n = ndimage.label(sel, structure=np.ones((3, 3), bool))
    if n < 2:
        return np.zeros(sel.shape, bool)
    sizes = np.bincount(lab.ravel(), minlength=n + 1)
    sizes[0] = 0
    main = int(np.argmax(sizes))
    e = _excess_green(ov)
    em = e[lab == main]
    hist, edges = np.histogram(np.clip(em, -1, 1), bins=200, range=(-1, 1))
    hist = ndimage.uniform_filter1d(hist.astype(float), 5)
    mode = 0.5 * (edges[:-1] + edges[1:])[int(np.argmax(hist))]
    near = em[np.abs(em - mode) < 0.1]
    spread = 1.4826 * float(np.median(np.abs(near - mode))) if near.size else 0.0
    limit = mode + max(0.12, 4 * spread)
    med = ndimage.median(e, lab, np.arange(1, n + 1))
    bad = np.zeros(n + 1, bool)
    bad[1:] = np.asarray(med) > limit
    # dark patches on land (shadows, dark roofs, container stacks) are separate from the sea
    # and small: a ship needs a basin of some size around it
    bad |= sizes < min_area_px
    bad[main] = False
    bad[0] = False
    return bad[lab]


def _block_candidates(x, valid, water0, p: _Params) -> Tuple[List[_Cand], dict]:
    """Ship hypotheses in one block (all coordinates in block pixels)."""
    d, zb, sig, water = _water_model(x, valid, water0, p)
    if d is None:
        return [], {}
    land = valid & ~water
    # water pieces too small to be sea (dark yards, shadows, gaps in a hull) count as land
    hole_px = max(50, int(round(BIG_WATER_M2 / (p.x_m * p.y_m))))
    lab_h, nh = ndimage.label(water)
    if nh:
        sizes = np.bincount(lab_h.ravel(), minlength=nh + 1)
        small = sizes <= hole_px
        small[0] = False
        land |= small[lab_h]
        water &= ~small[lab_h]
    code = np.full(land.shape, OUTSIDE, np.uint8)
    code[water] = WATER
    code[land] = LAND
    cands: List[_Cand] = []
    px_area = p.x_m * p.y_m
    for k in range(p.n_dir):
        phi = math.pi * k / p.n_dir
        run, ok = directional_runs(code, phi, p.x_m, p.y_m)
        res = land & ok & (run <= p.max_len)
        # slivers one pixel wide (the mixed pixels of a slightly oblique quay edge) are not hulls
        res = ndimage.binary_opening(res, structure=np.ones((2, 2), bool))
        lab, n = ndimage.label(res)
        if n == 0:
            continue
        st = _label_stats(lab, n, p, run, d, water)
        L, Wd = st["length"], st["width"]
        area = st["cnt"] * px_area
        fill = area / np.maximum(L * Wd, 1e-9)
        tol = 1.5 * p.px
        keep = (
            (L >= p.min_len - tol) & (L <= p.max_len + tol)
            & (Wd <= np.minimum(0.6 * L, MAX_BEAM_M) + 2 * tol)
            & (Wd >= MIN_WIDTH_PX * p.px)
            & (fill >= 0.55)
            & (st["water_ring"] >= 0.3)
            & (st["cnt"] >= 2)
        )
        keep[0] = False
        idx = np.flatnonzero(keep)
        if idx.size == 0:
            continue
        objs = ndimage.find_objects(lab)
        for j in idx:
            c = _describe(j, objs[j - 1], lab, st, k, phi, p, x, zb, d, land, water, sig)
            if c is not None:
                cands.append(c)
    return cands, {"d": d, "land": land, "water": water, "zb": zb}


def _describe(j, sl, lab, st, k, phi, p: _Params, x, zb, d, land, water, sig) -> Optional[_Cand]:
    """Features of one hypothesis (label ``j`` of direction ``k``) and its score."""
    h, w = lab.shape
    delta = max(1.5 * p.px, CONTACT_M)
    pad = int(math.ceil(delta / min(p.x_m, p.y_m))) + 2
    r0, r1 = max(0, sl[0].start - pad), min(h, sl[0].stop + pad)
    c0, c1 = max(0, sl[1].start - pad), min(w, sl[1].stop + pad)
    big = (slice(r0, r1), slice(c0, c1))
    m = lab[big] == j
    ring = ndimage.binary_dilation(m, structure=np.ones((3, 3), bool)) & ~m
    theta = float(st["theta"][j])
    L, W = float(st["length"][j]), float(st["width"][j])
    ux, uy = math.cos(theta), math.sin(theta)
    # every pixel of the padded box in the hypothesis' frame (metres): u along, v across
    rr, cc = np.mgrid[r0:r1, c0:c1]
    gx = cc * p.x_m - st["mx"][j]
    gy = rr * p.y_m - st["my"][j]
    u = gx * ux + gy * uy
    v = -gx * uy + gy * ux
    lb = land[big] & ~m
    outside = ~m
    hl, hw = L / 2, W / 2
    bands = {
        "end_a": (u > hl) & (u <= hl + delta) & (np.abs(v) <= hw),
        "end_b": (u < -hl) & (u >= -hl - delta) & (np.abs(v) <= hw),
        "side_a": (v > hw) & (v <= hw + delta) & (np.abs(u) <= 0.8 * hl),
        "side_b": (v < -hw) & (v >= -hw - delta) & (np.abs(u) <= 0.8 * hl),
    }
    sides = {}
    for name, band in bands.items():
        band &= outside
        sides[name] = float(lb[band].mean()) if band.any() else 1.0
    ends_land = min(sides["end_a"], sides["end_b"])
    sides_land = min(sides["side_a"], sides["side_b"])
    is_land = land[big][ring]
    n = float(st["cnt"][j])
    zin = zb[big][m]
    integ = float(np.maximum(zin, 0).sum() / math.sqrt(n))
    # edge between the hypothesis and the land it touches, against its own texture: a hull
    # has an outline, a piece cut out of a quay or pier by the runs does not
    xb = x[:, big[0], big[1]] / sig[:, big[0], big[1]]
    lbb = land[big] & ~m
    e_sum = e_n = i_sum = i_n = 0.0
    for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
        a_sl = (slice(max(0, -dr), m.shape[0] - max(0, dr)), slice(max(0, -dc), m.shape[1] - max(0, dc)))
        b_sl = (slice(max(0, dr), m.shape[0] - max(0, -dr) if max(0, -dr) else None),
                slice(max(0, dc), m.shape[1] - max(0, -dc) if max(0, -dc) else None))
        ma = m[a_sl]
        diff = np.sqrt(np.mean((xb[:, a_sl[0], a_sl[1]] - xb[:, b_sl[0], b_sl[1]]) ** 2, axis=0))
        pe = ma & lbb[b_sl]
        pi = ma & m[b_sl]
        e_sum += float(diff[pe].sum())
        e_n += float(pe.sum())
        i_sum += float(diff[pi].sum())
        i_n += float(pi.sum())
    edge = e_sum / e_n if e_n else float("nan")
    internal = i_sum / i_n if i_n else 0.0
    # colour step between the hypothesis and the land it touches
    lr = ring & land[big]
    if lr.sum() >= 2:
        xin = x[:, big[0], big[1]][:, m].mean(axis=1)
        xl = x[:, big[0], big[1]][:, lr].mean(axis=1)
        sg = sig[:, big[0], big[1]][:, m].mean(axis=1)
        step = float(np.sqrt(np.mean(((xin - xl) / sg) ** 2)))
    else:
        step = float("nan")
    # direction of the runs against the hull axis (pixel-space angle of the axis)
    axis_px = math.atan2(uy / p.y_m, ux / p.x_m)
    rel = abs(math.remainder(phi - axis_px, math.pi))
    feat = dict(
        L=L, W=W, n=n, fill=float(st["cnt"][j] * p.x_m * p.y_m / max(L * W, 1e-9)), elong=L / max(W, 1e-6),
        run_cv=float(st["rsd"][j] / max(st["rmean"][j], 1e-6)), run_mean=float(st["rmean"][j]),
        along=rel < math.pi / 4, zb_mean=float(zin.mean()), zb_top=float(np.sort(zin)[-min(3, zin.size):].mean()),
        integ=integ, water_ring=float(st["water_ring"][j]), ends_land=ends_land, sides_land=sides_land,
        land_ring=float(is_land.mean()), step=step, edge=edge, internal=internal,
        edge_ratio=edge / (internal + 1.0) if e_n else float("nan"), **sides,
    )
    score = _score(feat, p)
    if score <= 0:
        return None
    inner = (slice(sl[0].start, sl[0].stop), slice(sl[1].start, sl[1].stop))
    return _Cand(inner, lab[inner] == j, score, st["my"][j] / p.y_m, st["mx"][j] / p.x_m, theta, L, W,
                 float(st["water_ring"][j]), k, feat)


def _contact_class(f: dict) -> str:
    """How the hypothesis meets land: 'anchored' (water all round), 'alongside'
    (land along one long side only), 'bow-on' (land at one end only) or ''
    (anything else: a piece of a pier, breakwater or coast, not a ship)."""
    e = sorted((f["end_a"], f["end_b"]))
    s = sorted((f["side_a"], f["side_b"]))
    if max(e + s) < 0.25:
        return "anchored"
    if s[1] >= 0.5 and s[0] < 0.3 and e[1] < 0.5:
        return "alongside"
    if e[1] >= 0.5 and e[0] < 0.3 and s[1] < 0.5:
        return "bow-on"
    return ""


def _score(f: dict, p: _Params) -> float:
    """Plausibility of a ship hypothesis (0 = reject)."""
    cls = _contact_class(f)
    f["contact"] = cls
    if not cls:
        return 0.0
    if cls == "bow-on" and f["L"] > BOW_ON_MAX_M:
        return 0.0
    if cls == "anchored" and f["zb_top"] < 2 * p.k_obj:
        return 0.0
    s_shape = min(1.0, (f["elong"] - 1.0) / 3.0) * 0.4 + min(1.0, f["fill"]) * 0.3 + (1 - min(1, f["run_cv"])) * 0.3
    s_con = 1.0 - math.exp(-max(f["zb_mean"], 0) / (2 * p.k_obj))
    return 0.6 * s_shape + 0.25 * s_con + 0.15 * f["water_ring"]


def _suppress(cands: List[_Cand], shape) -> List[_Cand]:
    """Greedy non-maximum suppression on pixel overlap, best score first."""
    claim = np.zeros(shape, bool)
    out = []
    for c in sorted(cands, key=lambda c: -c.score):
        sub = claim[c.sl]
        ov = (sub & c.mask).sum() / max(c.mask.sum(), 1)
        if ov < 0.3:
            sub |= c.mask
            out.append(c)
    return out


# --------------------------------------------------------------------------------------------
# driver


def _working_factor(px_m: float, min_len: float) -> int:
    """Decimation so that the minimum ship length spans about 10 working pixels."""
    return max(1, int(min_len / (10.0 * px_m)))


def _native_window(win: Window, f: int, width: int, height: int) -> Window:
    c0, r0 = int(win.col_off) * f, int(win.row_off) * f
    return Window(c0, r0, min(int(win.width) * f, width - c0), min(int(win.height) * f, height - r0))


def _read_block(src, bands, win: Window, f: int, shape):
    """Bands at working resolution over working-grid window ``win``, and the valid mask."""
    nat = _native_window(win, f, src.width, src.height)
    if f == 1:
        data = src.read(list(bands), window=nat, out_dtype="float32")
    else:
        data = src.read(list(bands), window=nat, out_shape=(len(bands),) + shape, out_dtype="float32",
                        resampling=Resampling.average)
    valid = np.ones(shape, bool)
    if src.nodata is not None and not (isinstance(src.nodata, float) and math.isnan(src.nodata)):
        if f == 1:
            valid &= ~np.any(data == np.float32(src.nodata), axis=0)
        else:
            raw = src.read(list(bands), window=nat, out_shape=(len(bands),) + shape, resampling=Resampling.nearest)
            valid &= ~np.any(raw == src.nodata, axis=0)
    valid &= np.all(np.isfinite(data), axis=0)
    return data, valid


def _read_water(wsrc, win: Window, f: int, shape, width: int, height: int) -> np.ndarray:
    nat = _native_window(win, f, width, height)
    if f == 1:
        return wsrc.read(1, window=nat) == 1
    return wsrc.read(1, window=nat, out_shape=shape, resampling=Resampling.mode) == 1


def _validate(min_length_m, max_length_m, sensitivity):
    if min_length_m < 0 or max_length_m <= 0:
        raise InputError("Ship lengths must be positive: set a minimum of 0 m or more and a maximum above it.")
    if min_length_m > max_length_m:
        raise InputError(
            f"The minimum length ({min_length_m:g} m) is larger than the maximum length ({max_length_m:g} m): "
            "swap them or lower the minimum.")
    if not 0.0 <= sensitivity <= 1.0:
        raise InputError(f"Sensitivity must be between 0 and 1, not {sensitivity}.")


def detect_ships(src_path: str, *, red: Optional[int] = None, green: Optional[int] = None,
                 blue: Optional[int] = None, nir: Optional[int] = None, water_path: Optional[str] = None,
                 water_geoms: Optional[Sequence] = None, aoi: Optional[Sequence] = None,
                 piers: Optional[Sequence[Tuple[object, Optional[str]]]] = None, min_length_m: float = 15.0,
                 max_length_m: float = 400.0, sensitivity: float = 0.5, block: int = 1024,
                 progress: Progress = None, cancel: CancelCheck = None) -> ShipResult:
    """Find the vessels of an optical image; see the module docstring for the method."""
    _validate(min_length_m, max_length_m, sensitivity)
    notes: List[str] = []
    with rasterio.open(src_path) as src:
        roles = band_roles(src, red, green, blue, nir)
        bands = list(roles.visible)
        scale = dataset_ground_scale(src)
        units = "m" if scale.georeferenced else "px"
        if not scale.georeferenced:
            notes.append("The raster has no CRS: lengths and areas are in pixels (units 'px').")
        ov, ov_valid, _ = overview(src, bands)
        stretch = robust_stretch(ov, ov_valid)  # raises InputError when all nodata
        bounds = box(*src.bounds)
        aoi_union = None
        if aoi:
            aoi_union = unary_union([g for g in aoi if g is not None and not g.is_empty])
            if aoi_union.is_empty or not aoi_union.intersects(bounds):
                raise InputError("The area of interest does not overlap the image: draw it over the image or "
                                 "choose another layer.")
        px_m = scale.mean_m
        f = _working_factor(px_m, min_length_m)
        wx, wy = scale.x_m * f, scale.y_m * f
        pxw = math.sqrt(wx * wy)
        params = _Params(
            x_m=wx, y_m=wy, min_len=min_length_m, max_len=max_length_m, k_obj=_cfar_k(sensitivity),
            n_dir=N_DIRECTIONS, floor=0.004 * (np.asarray(stretch.hi) - np.asarray(stretch.lo)),
        )
        W = -(-src.width // f)
        H = -(-src.height // f)
        # a ship whose centroid is in the core lies within half its length of it; its runs
        # end inside the ship, so they are seen whole, and longer runs are 'long' either way
        halo = int(math.ceil(0.6 * max_length_m / pxw)) + 16
        size = max(int(block), 2 * halo)
        wtf = src.transform * src.transform.scale(f, f)

        tmpdir = None
        wsrc = None
        try:
            p0 = 0.0
            if water_path is None and not water_geoms:
                from .water import water_mask

                tmpdir = tempfile.mkdtemp(prefix="quayside_ships_")
                water_path_eff = os.path.join(tmpdir, "water.tif")
                wprog = (lambda v: progress(0.3 * v)) if progress else None
                wres = water_mask(src_path, water_path_eff, red=roles.red, green=roles.green, blue=roles.blue,
                                  nir=roles.nir, progress=wprog, cancel=cancel)
                notes.extend(wres.notes)
                wsrc = rasterio.open(water_path_eff)
                p0 = 0.3
            elif water_path is not None:
                wsrc = rasterio.open(water_path)
                if (wsrc.width, wsrc.height) != (src.width, src.height):
                    raise InputError("The water mask is not on the image's grid: give a mask with the same size "
                                     "and georeferencing as the image.")
            # overview of the water reference, for the checks on separate water bodies
            ov_tf = src.transform * src.transform.scale(src.width / ov.shape[2], src.height / ov.shape[1])
            if wsrc is not None:
                ov_water = wsrc.read(1, out_shape=ov.shape[1:], resampling=Resampling.nearest) == 1
            else:
                ov_water = features.rasterize([(g, 1) for g in water_geoms if g is not None and not g.is_empty],
                                              out_shape=ov.shape[1:], transform=ov_tf, fill=0).astype(bool)
            ov_px_area = scale.x_m * scale.y_m * (src.width / ov.shape[2]) * (src.height / ov.shape[1])
            not_water = _not_water_components(ov, ov_valid, ov_water, SEPARATE_WATER_M2 / ov_px_area)

            wins = list(iter_windows(W, H, size, halo))
            found = []  # (cand, read window)
            for i, (core, read) in enumerate(wins):
                check_cancel(cancel)
                rt = window_transform(read, wtf)
                shape = (int(read.height), int(read.width))
                if aoi_union is not None and not box(*rasterio.windows.bounds(read, wtf)).intersects(aoi_union):
                    continue
                x, valid = _read_block(src, bands, read, f, shape)
                if not valid.any():
                    continue
                if wsrc is not None:
                    water0 = _read_water(wsrc, read, f, shape, src.width, src.height)
                else:
                    water0 = features.rasterize([(g, 1) for g in water_geoms if g is not None and not g.is_empty],
                                                out_shape=shape, transform=rt, fill=0, dtype="uint8").astype(bool)
                if not_water.any():
                    nw = np.zeros(shape, np.uint8)
                    rasterio.warp.reproject(not_water.astype(np.uint8), nw, src_transform=ov_tf, dst_transform=rt,
                                            src_crs=src.crs or "EPSG:3857", dst_crs=src.crs or "EPSG:3857",
                                            resampling=Resampling.nearest)
                    water0 &= nw == 0
                cands, _ = _block_candidates(x, valid, water0 & valid, params)
                cands = _suppress(cands, shape)
                r0 = core.row_off - read.row_off
                c0 = core.col_off - read.col_off
                m = 2
                for c in cands:
                    if r0 - m <= c.cy < r0 + core.height + m and c0 - m <= c.cx < c0 + core.width + m:
                        found.append((c, read))
                if progress:
                    progress(p0 + (0.95 - p0) * (i + 1) / len(wins))
        finally:
            if wsrc is not None:
                wsrc.close()
            if tmpdir is not None:
                import shutil

                shutil.rmtree(tmpdir, ignore_errors=True)

        ships = [_to_ship(c, read, wtf, params) for c, read in found]
        global _LAST
        _LAST = ships
        ships = _dedupe(ships)
        if aoi_union is not None:
            ships = [s for s in ships if aoi_union.contains(s.polygon.centroid)]
        if piers:
            _attribute_piers(ships, piers, src.crs, max(30.0, 3 * px_m) if scale.georeferenced else 3.0)
        method = (f"local-water CFAR contrast + directional line-opening residues ({N_DIRECTIONS} directions), "
                  f"working pixel {pxw:.2f} {'m' if scale.georeferenced else 'px'}")
    if progress:
        progress(1.0)
    return ShipResult(ships=ships, pixel_size_m=px_m, units=units, method=method, notes=notes)


def _to_ship(c: _Cand, read: Window, wtf, p: _Params) -> Ship:
    """Oriented rectangle from the moments, in CRS coordinates."""
    cx = c.cx + read.col_off
    cy = c.cy + read.row_off
    ux, uy = math.cos(c.theta), math.sin(c.theta)  # metric axis direction
    L, Wd = c.length, c.width
    pts = []
    for a, b in ((0.5, 0.5), (0.5, -0.5), (-0.5, -0.5), (-0.5, 0.5)):
        mx = a * L * ux - b * Wd * uy
        my = a * L * uy + b * Wd * ux
        pts.append(wtf * (cx + 0.5 + mx / p.x_m, cy + 0.5 + my / p.y_m))
    poly = Polygon(pts)
    heading = (90.0 + math.degrees(c.theta)) % 180.0
    area = float(c.mask.sum()) * p.x_m * p.y_m
    state = "anchored" if c.feat.get("contact") == "anchored" else "docked"
    ship = Ship(polygon=poly, length_m=float(L), width_m=float(Wd), heading_deg=heading, area_m2=area,
                score=float(min(1.0, max(0.0, c.score))), state=state)
    ship._feat = c.feat  # for evaluation scripts
    return ship


def _dedupe(ships: List[Ship]) -> List[Ship]:
    out: List[Ship] = []
    for s in sorted(ships, key=lambda s: -s.score):
        dup = False
        for o in out:
            if o.polygon.intersects(s.polygon):
                inter = o.polygon.intersection(s.polygon).area
                if inter > 0.3 * min(o.polygon.area, s.polygon.area):
                    dup = True
                    break
        if not dup:
            out.append(s)
    return out


def _attribute_piers(ships, piers, crs, max_dist):
    pass
