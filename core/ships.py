"""Ship detection in optical images: find, outline, measure and attribute vessels.

Classical image analysis (numpy, scipy, rasterio, shapely); no learning, nothing
downloaded. Every step works on one block of the raster at a time.

Method
------
1. **Water reference.** A 0/1 mask (given as a raster in the image's CRS, as
   polygons, or computed with :func:`quayside.core.water.water_mask` on a copy
   decimated to at most 4096 pixels a side). It only has to be right at large
   scale; it is refined per block (step 2). Pieces of it that are not joined to
   the sea and are small, or much greener than the sea (dark forest), are not
   used (:func:`_not_water_components`).

2. **Contrast to the local water (CFAR) and the refined water mask**
   (:func:`_water_model`). The background of every pixel is the colour of the
   water nearest to it (normalised convolution, Knutsson & Westin 1993, filled
   outwards over land), the noise is the local mean absolute deviation of water
   around it; ``z_b = (x_b - mu_b) / sigma_b`` per band gives a brightness
   contrast ``zb`` (mean of ``z_b``), a colour distance ``d`` (RMS of ``z_b``) and
   a hue contrast ``dc = sqrt(d^2 - zb^2)``. A pixel is an *object* (not water)
   when it is brighter than water, or of another hue, by more than a
   constant-false-alarm threshold ``k`` (7 sigma at sensitivity 0, 4.5 at 0.5,
   2 at 1), or much darker (slicks and shadows are dark only). This is the
   cell-averaging CFAR of radar ship detection (e.g. Crisp 2004, DSTO-RR-0272)
   applied to optical colour. Water then grows from the reference into what
   looks like water within 30 m of it (gaps between moored boats, mixed pixels
   at a quay face), and farther (up to 300 m) by a flood fill with a local
   tolerance into smooth pixels (green inner basins the reference missed).

3. **Hypotheses** (:func:`_block_candidates`), from three complementary views of
   the objects next to water:

   * *Directional runs* (:mod:`quayside.core.ships_runs`). A ship is a body
     shorter than ``max_length`` that water bounds at both ends along some
     direction: its own axis when it lies along a quay (the quay continues
     beyond bow and stern, the ship does not), any direction when it is
     anchored. For 24 directions the land mask is scanned along digital lines;
     land pixels whose run between two water pixels is at most ``max_length``
     form the residue of a morphological line opening (Soille 2003). Pieces of
     the residues are hypotheses. Known piers, when given, count as the end of a
     run on one side only, so a ship moored at a pier is a body of its own.
   * *Hull colour*: land pixels that differ from the nearest *solid* land (land
     that is not a protrusion in any direction: the quay apron, whose concrete is
     also that of the piers built out of it).
   * *Brightness levels* (the component tree of ``zb``, cf. MSER, Matas et al.
     2002): bright hulls separated from their neighbours, a pontoon or a wake by
     a darker line (packed marinas).

   * *Berth strips* (:func:`_berth_strips`, given piers, coarse pixels): a hull a
     pixel wide along a pier is what the linear mix of pier and water (the pier's
     coverage of each pixel) does not explain, judged against the same band along
     the rest of the face.
   * *Free bodies trailing a wake* (:func:`_trailing_bodies`): a body with water
     all round whose contrast profile along its axis is a plateau followed by a
     decaying ramp is cut at the stern (:mod:`quayside.core.ships_wake`); the
     joined hull and foam may be too long or too slim to pass as a hull.

   Wide pieces are also cut into parallel strips where the colour averaged along
   the axis steps (two hulls rafted side by side), or into a main body and the
   bumps standing out of one side (a tug rafted against part of a hull; a bump over
   part of the hull's length only may be as narrow as any hull, :func:`_craft_alongside`). Pieces
   along a given pier that are too long or too slim for one hull but of a hull's
   beam (ships moored nose to tail, joined when the gap is a pixel or less), and
   at coarse pixels such pieces where the colour steps at a dip of the contrast,
   are cut across their axis as little as needed
   (:mod:`quayside.core.ships_serial`). At coarse pixels (over 5 m) without a
   known berth a long slim body is more often a breakwater or a jetty than a
   line of ships, and is not cut; nor is any body cut side by side there (the
   step between two hulls a few pixels wide is blurred away).

4. **Tests** (:func:`_describe`, :func:`_score`). Second moments give the axis
   and a rectangle-equivalent length and beam: length in [min, max], beam at most
   60 m and plausible for the length (length/beam <= 10: crane booms and conveyor
   bridges are slimmer), a compact outline (filling >= 0.55), an integrated
   contrast ``sum(zb) / sqrt(n)`` above ``4 k`` (a CFAR test on the object), no
   foam-like roughness. The contact with land decides the kind: water all
   round (anchored), land along one long side only (alongside a quay or pier),
   or, for brightness-level pieces, one end in open water among neighbours
   (moored side by side). Pieces joined to land at one end only are shaped like
   jetties, groynes, pier heads and crane booms, and are rejected (on the real
   and synthetic ports such hypotheses were mostly structures). Land counted as
   contact excludes the hypothesis' own piece of land when the hypothesis is
   nearly all of it (an isolated body: at coarse resolution the blurred ends
   trimmed off a hull are not a jetty it is joined to), and the wake cut off a
   free body trailing it. Along a given pier the contact at the ends is measured
   on the outer half of the beam only: the pier's edge runs on past bow and
   stern, the hull does not. Free pieces in a narrow
   wedge behind a brighter ship that itself trails disturbed water, aligned with
   its track or a Kelvin arm, are its wake (:func:`_drop_wakes`), and so are pieces there
   lying alongside 'land' no larger than a ship away from any given pier (the rest of the
   foam, brighter than the threshold, is not a quay); so are dim free
   pieces inside the Kelvin wedge of its bow wave (19.5 deg from the bow), beside the hull
   and its wake; ships anchored
   in a line are not each other's wakes, nor is anything ahead of a ship's bow. A free body with disturbed water on two
   opposite sides is a patch of foam inside a wake, whatever its orientation
   (:func:`_trail_evidence`): a ship under way trails its wake behind it only.
   A body lying against vegetation (excess green of the land beside it) is a
   beach or bank between a wood and the water: vessels moor against quays, piers
   and other vessels. With the analyst's piers, a body near a pier, square to the
   nearest stretch of its outline and not touching it -- or touching it right beside
   a hull moored alongside that pier -- is a crane boom, conveyor
   or catwalk reaching out over the water, and a slim body lying mostly within a
   pixel of a pier's outline is a sliver of its edge (:mod:`quayside.core.ships_piers`).
   At coarse pixels a body against land must be at least ``MIN_DOCKED_PX``
   pixels long (its hull shape resolved), and, away from any given berth, the land it
   lies against must run on past both of its ends, as a quay does, unless that land is
   narrow with water beyond (a jetty, a neighbour): the rim of a wharf or headland cut
   off by the runs turns away at its ends. A body cut lengthwise by the edge
   of the image or by nodata is not classified at all, and an outline measured
   nearly square over four pixels or more is not a hull (:func:`_hull_shaped`).
   Overlapping hypotheses are resolved by greedy non-maximum suppression on
   pixel masks (:func:`_suppress`); a plausible hull replaces accepted hypotheses
   that are small pieces of it within its side lines (:func:`_fragments_of`). With
   the analyst's piers, docked pieces at one pier lying end to end on one line a few
   metres apart are one hull cut across by a crane's boom (:func:`_join_split_hulls`).

5. **Measurement** (:func:`_refine`). Length and beam at half the plateau
   contrast, from profiles of ``d`` along and across the axis, scanned from the
   outside in: a body blurred by the point-spread function still crosses half
   its plateau at its true ends, where a thresholded mask is biased by up to a
   pixel or two. The oriented rectangle is then measured on the ellipsoid
   (local radii of curvature at the ship), so UTM, Web Mercator and geographic
   rasters give the same metres. Heading: the bow-stern axis, 0-180 degrees
   clockwise from grid north. A free hull whose hypothesis runs on into its wake
   is measured to its stern only: the profile along the axis is a plateau (hull)
   then a ramp decaying away from it (foam), and the stern is placed at the
   change point (:func:`quayside.core.ships_wake.wake_cut`) -- when the part cut off
   has the colour of foam, whose contrast to water is brightness, not hue
   (:func:`_foam_coloured`: a dark painted hull with deck cargo, dimmer than its white
   deckhouse, is not a wake); the hull's ends are then taken at half its own plateau,
   not the joined body's (a dark hull beside a brighter wake). A ship at anchor
   that measures shorter than the minimum length by more than
   ``LENGTH_TOL_PX`` working pixels is not reported (nor is any ship measured over the
   maximum by as much): nothing blurs a free hull's ends,
   so it is shorter than the analyst asked for (a whitecap, or the white deckhouse of a
   boat whose dark hull is not seen).

6. **Windows.** The working grid (the image, or a block average when the
   minimum length spans more than 10 pixels) is read in blocks with a halo of
   0.6 x the maximum length + 16 pixels: a ship whose centroid is in a block's
   core lies wholly in the halo and its runs end inside it. Each block keeps the
   ships whose centroid is in its core; a final suppression removes any duplicate
   along the seams.

States: *docked* if the hull touches land, a pier or a docked partner (rafted),
or lies within ``max(10 m, 1.5 px)`` of a given pier; *underway* if a free ship
has a disturbed (bright or rough) trail beyond one end; else *anchored*. Pier:
the nearest given pier geometry within ``max(30 m, 3 px)``, distance in ground
metres.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np
import rasterio
import rasterio.warp
from rasterio import features
from rasterio.enums import Resampling
from rasterio.windows import Window
from rasterio.windows import transform as window_transform
from scipy import ndimage
from shapely.geometry import Polygon, box

from .errors import InputError
from .geo import GroundScale, dataset_ground_scale, local_radii
from .raster import (
    CancelCheck,
    Progress,
    band_roles,
    check_cancel,
    grow_window,
    iter_windows,
    overview,
    robust_stretch,
    union_over,
    window_from_bounds,
)
from .ships_piers import crossing_the_berth, hugging_the_outline
from .ships_runs import LAND, OUTSIDE, STRUCTURE, WATER, directional_runs
from .ships_serial import split_serial
from .ships_wake import wake_cut


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

# geometry of ships
N_DIRECTIONS = 24  # directions of the runs (7.5 deg apart)
MAX_BEAM_M = 60.0  # the widest ships afloat (ULCS, VLCC, Valemax) have a beam of about 60-65 m
MAX_ELONG = 10.0  # hulls are at most ~10 times as long as wide; crane booms are slimmer
MIN_WIDTH_PX = 1.5  # a hull is at least this wide in (blurred) pixels
FOAM_HUE_MAX = 0.2  # a wake's contrast to water is brightness: at most this share of it is hue
# contrast
DARK_FACTOR = 2.5  # darker-only departures need 2.5 x the CFAR threshold
INTEG_K = 4.0  # integrated contrast sum(zb)/sqrt(n) of a body must exceed INTEG_K * k
SPECKLE_MAX = 2.0  # median local roughness over median contrast above this: foam, surf, texture
HULL_K = 1.0  # hull colour: distance to the nearest solid land, in units of the quay texture, > HULL_K * k
QUAY_SCALE_PX = 1.0  # smoothing (pixels) of the solid-land colour before nearest-neighbour filling
GAP_M = 15.0  # typical gap between ships moored nose to tail
JOIN_GAP_M = 4.0  # docked pieces end to end on one line closer than this are one hull cut across
SERIAL_MAX = 4.0  # pieces up to this many maximum lengths long are cut into ships moored nose to tail
SPLIT_K = 3.0  # colour step (noise units, averaged along the axis) that separates parallel hulls
PARTIAL_MAX = 0.6  # a side strip over at most this share of its piece's length is a craft, not a hull's rim
SPLIT_BERTH_MIN = 0.3  # with berths given: share of a split strip's land side that must be a given berth
SHORT_CRAFT_SHARE = 0.4  # a body against at most this share of a hull's length is a small craft ...
SHORT_CRAFT_ELONG = 6.0  # ... and is stubby: tugs, launches, fishing boats and bunker barges are at most this L/B
N_LEVELS = 10  # brightness levels k, 1.4 k, 1.4^2 k, ...
LEVEL_STEP = 1.4
# contact with land
VEG_EXG = 0.3  # excess green above this: vegetation
VEG_SIDE_MAX = 0.5  # share of vegetation in the land beside a body that makes it a bank, not a hull
CONTACT_M = 12.0  # depth of the bands beyond the ends and sides where land contact is measured
UNKNOWN_MAX = 0.5  # a body touching the image edge with more than this share of a side band off it: unclassifiable
BERTH_BAND_PX = 2.0  # a hull too narrow for any other view lies within this many pixels of its given pier
BERTH_SCORE = 0.5  # highest score of such a hull (no resolved outline): below any body found otherwise
FRAGMENT_MAX = 0.25  # a hypothesis inside a hull and at most this share of its area is a piece of it ...
FRAGMENT_MAX_FINE = 0.4  # ... at working pixels up to FINE_PX_M, where a hull's box rows and hatches are resolved
FINE_PX_M = 1.0
SQUARE_RATIO = 0.85  # a measured beam over this share of the length ...
SQUARE_MIN_PX = 4.0  # ... on a ship at least this many (working) pixels long: not a hull
LENGTH_TOL_PX = 1.5  # an anchored ship under the minimum length, or any ship over the maximum, by more: dropped
SHOULDER_MIN = 0.3  # coarse pixels, no berth given: land share just behind the contact beyond each end
BEHIND_PX = 8.0  # ... unless the land behind the body, this many pixels deep, ...
BEHIND_MIN = 0.6  # ... is less than this share of it (a jetty or pier with water beyond)
MIN_DOCKED_PX = 4.0  # a body against land must be at least this many pixels long (its shape must be resolved)
ALLOW_BOW_ON = False  # bodies joined to land at one end only (see _score)
BOW_ON_MAX_M = 150.0
PIER_SEARCH_M = 30.0  # a ship is attributed to the nearest pier within max(30 m, 3 px)
DOCK_M = 10.0  # within max(10 m, 1.5 px) of a pier: docked
# wakes
WAKE_MIN = 0.3  # share of disturbed water beyond an end that makes a free ship 'underway'
TRAIL_MAX = 0.5  # a free body with at least this share of disturbed water on two opposite sides is foam
WAKE_REACH = 3.0  # wake pieces are searched up to this many hull lengths behind a ship
KELVIN_DEG = 19.5  # half-angle of the Kelvin wedge (deep water, any speed)
KELVIN_DIM = 0.25  # peak contrast of Kelvin-arm foam relative to the hull that makes it is below this
# water model
BG_SCALE_M = 40.0  # scale of the water background (normalised convolution)
NEAR_GROW_M = 30.0  # water grows freely this far from the reference
GROW_MAX_M = 300.0  # and by a local-tolerance flood fill this far
ROUGH_K = 2.0  # a pixel rougher than this (noise units, 3 x 3) is not flooded
WATER_MAX_PX = 4096  # the computed water reference has at most this many pixels on its longest side
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

    @property
    def coarse(self) -> bool:
        """Pixels over a third of the gap between ships moored nose to tail (over 5 m): a hull is a
        few pixels wide and its outline says little."""
        return 3 * self.px > GAP_M


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


def _water_model(x: np.ndarray, valid: np.ndarray, water0: np.ndarray, p: _Params):
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
    dist = ndimage.distance_transform_edt(~water, sampling=(p.y_m, p.x_m))
    # close to the reference water, whatever looks like water is water (the gaps between
    # moored boats, mixed pixels at a quay face, a hull's shadow)
    close = valid & ~obj & (dist <= max(NEAR_GROW_M, 3 * p.px))
    water = ndimage.binary_propagation(water, mask=water | close)
    # farther away, flood only into smooth pixels, step by step (basins the reference missed)
    near = dist <= GROW_MAX_M
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
    """Pixels that stand out from water: brighter, different in hue, or much darker.

    ``d^2 = zb^2 + dc^2``: the colour distance splits into a brightness part ``zb`` and a
    chromatic part ``dc`` (the spread of the per-band contrasts). Hulls are brighter than
    water or of another hue (red, green, blue paints); departures that are only darker
    (slicks, current lines, cloud shadows) need a much larger contrast."""
    dc = _hue_contrast(d, zb)
    return ((zb > p.k_obj) | (dc > p.k_obj) | (zb < -DARK_FACTOR * p.k_obj)) & valid


def _hue_contrast(d, zb):
    """The chromatic part ``dc`` of the colour distance to water: ``d^2 = zb^2 + dc^2``."""
    return np.sqrt(np.maximum(d * d - zb * zb, 0.0))


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
    wat = np.zeros((h + 2, w + 2), bool)
    wat[1:-1, 1:-1] = water
    can = np.zeros((h + 2, w + 2), bool)
    can[1:-1, 1:-1] = cand
    nb = xn.shape[0]
    col = np.zeros((nb, h + 2, w + 2), np.float32)
    col[:, 1:-1, 1:-1] = xn
    wat_f, can_f = wat.ravel(), can.ravel()
    col_f = col.reshape(nb, -1)
    ww = w + 2
    offs = np.array([-ww - 1, -ww, -ww + 1, -1, 1, ww - 1, ww, ww + 1])
    front = np.flatnonzero(ndimage.binary_dilation(wat) & can & ~wat)
    for _ in range(max_iter):
        if front.size == 0:
            break
        nbr = front[:, None] + offs[None, :]
        wn = wat_f[nbr]
        cnt = wn.sum(1)
        has = cnt > 0
        front, nbr, wn, cnt = front[has], nbr[has], wn[has], cnt[has]
        diff2 = np.zeros(front.size, np.float32)
        for b in range(nb):
            mean = (col_f[b][nbr] * wn).sum(1) / cnt
            diff2 += (col_f[b][front] - mean) ** 2
        new = front[diff2 / nb <= tau * tau]
        if new.size == 0:
            break
        wat_f[new] = True
        nxt = np.unique((new[:, None] + offs[None, :]).ravel())
        front = nxt[can_f[nxt] & ~wat_f[nxt]]
    return wat[1:-1, 1:-1].copy()


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
    xm = cols * p.x_m
    ym = rows * p.y_m
    mx = np.bincount(ids, xm, n + 1) / safe
    my = np.bincount(ids, ym, n + 1) / safe
    dx = xm - mx[ids]
    dy = ym - my[ids]
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
    if run is not None:
        rv = run[rows, cols].astype(np.float64)
        rmean = np.bincount(ids, rv, n + 1) / safe
        rsd = np.sqrt(np.maximum(np.bincount(ids, rv * rv, n + 1) / safe - rmean ** 2, 0))
    else:
        rmean = np.ones(n + 1)
        rsd = np.zeros(n + 1)
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


def _block_candidates(x, valid, water0, p: _Params, structure: Optional[np.ndarray] = None,
                      cover: Optional[np.ndarray] = None) -> Tuple[List[_Cand], dict]:
    """Ship hypotheses in one block (all coordinates in block pixels).

    ``structure``: pixels of known piers (from the analyst's pier polygons). They are
    neither water nor a place for a hull: a ship moored against a known pier is
    then a body of its own, bounded by the pier on one side. ``cover``: the share of
    each pixel the piers cover (coarse pixels only), for hulls too narrow for any other
    view (:func:`_berth_strips`)."""
    d, zb, sig, water = _water_model(x, valid, water0, p)
    if d is None:
        return [], {}
    land = valid & ~water
    if structure is not None and structure.any():
        land &= ~structure
    # water pieces too small to be sea (dark yards, shadows, gaps in a hull) count as land
    # (a basin must be able to hold a ship of the largest size sought; pieces cut by the block
    # edge are of unknown size and kept)
    hole_px = max(50, int(round((0.5 * p.max_len) ** 2 / (p.x_m * p.y_m))))
    lab_h, nh = ndimage.label(water)
    if nh:
        sizes = np.bincount(lab_h.ravel(), minlength=nh + 1)
        small = sizes <= hole_px
        small[0] = False
        small[np.unique(np.concatenate([lab_h[0], lab_h[-1], lab_h[:, 0], lab_h[:, -1]]))] = False
        land |= small[lab_h]
        water &= ~small[lab_h]
    code = np.full(land.shape, OUTSIDE, np.uint8)
    code[water] = WATER
    if structure is not None:
        code[structure & valid] = STRUCTURE
    code[land] = LAND
    cands: List[_Cand] = []
    ctx = _Ctx(p, x, zb, d, land, water, sig, structure)
    protrusion = np.zeros(land.shape, bool)
    for k in range(p.n_dir):
        phi = math.pi * k / p.n_dir
        run, ok = directional_runs(code, phi, p.x_m, p.y_m)
        res = land & ok & (run <= p.max_len)
        protrusion |= res
        # slivers one pixel wide (the mixed pixels of a slightly oblique quay edge) are not hulls
        res = ndimage.binary_opening(res, structure=np.ones((2, 2), bool))
        lab, n = ndimage.label(res)
        cands += _from_labels(lab, n, k, phi, run, ctx)
    # free bodies that run on into their wake (too long, or too slim, for a hull)
    cands += _trailing_bodies(land, ctx)
    near = ndimage.distance_transform_edt(~water, sampling=(p.y_m, p.x_m)) <= 0.5 * p.max_len
    # hulls that differ from the quay: compare every land pixel with the nearest *solid*
    # land (land that is not a protrusion in any direction: quays, yards), whose colour is also
    # that of the piers and jetties built out of it
    solid = land & ~protrusion
    if solid.sum() >= 50:
        ws = ndimage.binary_erosion(solid, iterations=1).astype(np.float32)
        if ws.sum() >= 50:
            mu_land = np.stack([_nc_fill(x[b], ws, QUAY_SCALE_PX) for b in range(x.shape[0])])
            zl = (x - mu_land) / sig
            # in units of the texture of the quay edge (solid land within a beam of the water)
            edge_land = (ws > 0) & (ndimage.distance_transform_edt(~water, sampling=(p.y_m, p.x_m))
                                    <= max(MAX_BEAM_M, 4 * p.px))
            if edge_land.sum() < 20:
                edge_land = ws > 0
            for b in range(x.shape[0]):
                r = zl[b][edge_land]
                zl[b] /= max(1.0, 1.4826 * float(np.median(np.abs(r - np.median(r)))))
            dl = np.sqrt(np.mean(zl * zl, axis=0))
            hull = land & near & (dl > HULL_K * p.k_obj) & ~solid
            hull = ndimage.binary_opening(hull, structure=np.ones((2, 2), bool))
            lab, n = ndimage.label(hull)
            cands += _from_labels(lab, n, -100, None, None, ctx)
    # brightness levels: bright hulls separated from each other or from a darker pontoon, pier
    # or wake by a darker line (the component tree of the contrast, cf. MSER, Matas et al. 2002)
    roi = land & near
    zr = zb[roi]
    if zr.size:
        top = float(np.percentile(zr, 99.5))
        t = p.k_obj
        level = 0
        hole_px = max(1, int((p.min_len / 3) ** 2 / (p.x_m * p.y_m)))
        while t < top and level < N_LEVELS:
            m = roi & (zb > t)
            holes = ndimage.binary_fill_holes(m) & ~m
            if holes.any():
                hl, nh = ndimage.label(holes)
                small = np.bincount(hl.ravel(), minlength=nh + 1) <= hole_px
                small[0] = False
                m |= small[hl]
            m = ndimage.binary_opening(m, structure=np.ones((2, 2), bool))
            lab, n = ndimage.label(m)
            cands += _from_labels(lab, n, -1 - level, None, None, ctx)
            t *= LEVEL_STEP
            level += 1
    if cover is not None and structure is not None and structure.any():
        cands += _berth_strips(ctx, np.where(valid, cover, 0.0))
    return cands, {"d": d, "land": land, "water": water, "zb": zb, "ctx": ctx}


def _trailing_bodies(land: np.ndarray, ctx: _Ctx) -> List[_Cand]:
    """Hulls cut from free bodies (water all round) that trail their wake.

    Near the stern the foam of a ship under way is nearly as bright as the hull, so the
    land mask joins the two, and the joined body can be longer than any ship, or too slim
    for a hull: the directional runs then reject it. Each such body is profiled along its
    axis and cut where the hull's plateau gives way to the decaying ramp of the wake
    (:func:`quayside.core.ships_wake.wake_cut`); the hull piece is then tested like any
    other hypothesis."""
    p = ctx.p
    lab, n = ndimage.label(land, structure=np.ones((3, 3), bool))
    if n == 0:
        return []
    st = _label_stats(lab, n, p, None, ctx.d, ctx.water)
    ok = ((st["water_ring"] >= 0.8) & (st["length"] >= 4 * st["width"]) & (st["length"] >= p.min_len)
          & (st["length"] <= 8 * p.max_len) & (st["cnt"] >= 12))
    ok[0] = False
    out: List[_Cand] = []
    objs = ndimage.find_objects(lab)
    min_hull = max(2 * p.px, p.min_len - 1.5 * p.px)
    for j in np.flatnonzero(ok):
        sl = objs[j - 1]
        m = lab[sl] == j
        rows, cols = np.nonzero(m)
        theta = float(st["theta"][j])
        ux, uy = math.cos(theta), math.sin(theta)
        gx = (cols + sl[1].start) * p.x_m
        gy = (rows + sl[0].start) * p.y_m
        u = gx * ux + gy * uy
        step = 0.5 * p.px
        ub = np.floor((u - u.min()) / step).astype(int)
        nb = int(ub.max()) + 1
        cnt = np.bincount(ub, minlength=nb)
        prof = np.bincount(ub, ctx.d[rows + sl[0].start, cols + sl[1].start], nb) / np.maximum(cnt, 1)
        prof = np.where(cnt > 0, prof, np.nan)
        t = u.min() + (np.arange(nb) + 0.5) * step
        found = [(side, wake_cut(t, prof, side, float(u.min()), float(u.max()), p.px, min_hull)) for side in (1, -1)]
        found = [(side, pos) for side, pos in found if pos is not None]
        if not found:
            continue
        side, pos = found[0] if len(found) == 1 else min(found, key=lambda f: abs(f[1] - (u.min() if f[0] < 0
                                                                                          else u.max())))
        keep = (u <= pos) if side > 0 else (u >= pos)
        if keep.sum() < 4:
            continue
        sub = np.zeros_like(m)
        sub[rows[keep], cols[keep]] = True
        pl, npl = ndimage.label(sub, structure=np.ones((3, 3), bool))
        if npl > 1:
            sub = pl == (1 + int(np.argmax(np.bincount(pl.ravel())[1:])))
        # the wake cut off is neither land the hull is joined to nor water around it
        c = _describe(sub, sl[0].start, sl[1].start, -200, None, None, ctx, neutral=m & ~sub)
        if c is not None:
            out.append(c)
    return out


def _berth_strips(ctx: _Ctx, cover: np.ndarray) -> List[_Cand]:
    """Hulls under MIN_WIDTH_PX pixels wide moored along a given pier (coarse pixels).

    At 10 m a hull of 9-15 m beam is a pixel wide and blends into the mixed pixels of the
    pier's edge: the openings and the width rule leave no hypothesis of it. Along a *given*
    pier that edge is predictable. A pixel the pier covers by a share ``f`` is, with an empty
    berth, the linear mix ``f * pier + (1 - f) * water`` of the two colours; what remains
    after removing that mix is what the berth holds. The residual is judged in noise units
    against the same band along the rest of the pier (its median: an outline a few metres
    off, a fender line or a kerb raises the whole face, a hull only its own stretch), with
    hysteresis (seeds one CFAR threshold above that level, grown into pixels half as far
    above it: the hull's mixing with water varies along its side). A run along the face as
    long as a ship and no longer is a hull. Such a run has no resolved outline, so it is a
    weaker hypothesis than any body found otherwise (BERTH_SCORE) and only fills a berth
    where nothing else was found."""
    p = ctx.p
    pier = ctx.structure
    k = p.k_obj
    px_y, px_x = p.y_m / p.px, p.x_m / p.px
    d_pier, idx = ndimage.distance_transform_edt(~pier, sampling=(px_y, px_x), return_indices=True)
    d_water = ndimage.distance_transform_edt(~ctx.water, sampling=(px_y, px_x))
    band = (ctx.land | ctx.water) & ~pier & (d_pier <= BERTH_BAND_PX) & (d_water <= BERTH_BAND_PX)
    if band.sum() < 4:
        return []
    # the colour of the water (as in _background) and of each pier, in local noise units
    sel = ndimage.binary_erosion(ctx.water, iterations=1)
    if sel.sum() < 50:
        return []
    s = max(2.0, BG_SCALE_M / p.px)
    w = sel.astype(np.float32)
    z = np.stack([(ctx.x[b] - _nc_fill(ctx.x[b], w, s)) / ctx.sig[b] for b in range(ctx.x.shape[0])])
    lab, n = ndimage.label(pier, structure=np.ones((3, 3), bool))
    core = pier & (cover >= 0.75)
    zp = np.zeros((z.shape[0], n + 1))
    ids = np.arange(1, n + 1)
    for b in range(z.shape[0]):
        whole = np.asarray(ndimage.median(z[b], lab, ids))
        inner = np.asarray(ndimage.median(z[b], np.where(core, lab, 0), ids))
        zp[b, 1:] = np.where(np.isfinite(inner), inner, whole)
    owner = lab[idx[0], idx[1]]  # the pier nearest to each pixel
    zr = z - cover[None] * zp[:, owner]
    zrb = zr.mean(axis=0)
    dr = np.sqrt(np.mean(zr * zr, axis=0))
    dcr = np.sqrt(np.maximum(dr * dr - zrb * zrb, 0.0))
    obj = band & ((zrb > k) | (dcr > k))  # brighter than the mix, or of another hue
    # the same band elsewhere along the face: pixels of the same pier, on the same side (the
    # octant of the direction from the pier) and at the same depth; the light the pier spills
    # into its neighbours (the point-spread function) differs from face to face with the
    # sub-pixel position of the outline
    ang = np.arctan2(np.arange(pier.shape[0])[:, None] - idx[0], np.arange(pier.shape[1])[None, :] - idx[1])
    octant = np.round(ang / (math.pi / 4)).astype(int) % 8
    key = (owner * 8 + octant) * 2 + (d_pier > 1.5)
    ukey, inv = np.unique(np.where(band, key, -1), return_inverse=True)
    inv = inv.reshape(band.shape)
    nk = ukey.size
    cnt = np.bincount(inv[band], minlength=nk)
    med = np.asarray(ndimage.median(dr, np.where(band, inv + 1, 0), np.arange(1, nk + 1)), float)
    # too short a face for a reference of its own: the whole pier's band
    whole = np.asarray(ndimage.median(dr, np.where(band, owner, 0), ids), float)
    whole = np.concatenate([[0.0], np.where(np.isfinite(whole), whole, 0.0)])
    base = np.where(band & (cnt[inv] >= 3 * max(p.min_len, MIN_DOCKED_PX * p.px) / p.px), med[inv], whole[owner])
    excess = dr - np.where(np.isfinite(base), base, 0.0)
    seeds = obj & (excess > k)
    grow = obj & (excess > 0.5 * k)
    raised = ndimage.binary_propagation(seeds, mask=grow, structure=np.ones((3, 3), bool))
    rl, nr = ndimage.label(raised, structure=np.ones((3, 3), bool))
    out: List[_Cand] = []
    tol = 1.5 * p.px
    min_len = max(p.min_len - tol, MIN_DOCKED_PX * p.px if p.coarse else 0.0)
    for j, sl in enumerate(ndimage.find_objects(rl), start=1):
        m = rl[sl] == j
        rows, cols = np.nonzero(m)
        if rows.size < 3:
            continue
        mx, my, theta, length, beam = _moments(rows + sl[0].start, cols + sl[1].start, p)
        if not (min_len <= length <= p.max_len + tol) or beam + p.px < length / MAX_ELONG or length < 2.5 * beam:
            continue
        e = excess[sl][m]
        integ = float(e.sum() / math.sqrt(e.size))
        if integ < INTEG_K * k:
            continue
        zin = zrb[sl][m]
        # the outline of the run (a pixel around it), for its share of water
        big = tuple(slice(max(0, a.start - 1), min(dim, a.stop + 1)) for a, dim in zip(sl, pier.shape))
        mb = rl[big] == j
        ring = ndimage.binary_dilation(mb, structure=np.ones((3, 3), bool)) & ~mb
        feat = dict(L=length, W=beam, n=float(rows.size), fill=1.0, elong=length / max(beam, 1e-6), run_cv=1.0,
                    along=True, zb_mean=float(zin.mean()), zb_top=float(np.sort(zin)[-min(3, zin.size):].mean()),
                    integ=integ, water_ring=float(ctx.water[big][ring].mean()) if ring.any() else 0.0,
                    speckle=0.0, pier_side=1.0, rafted=0.0, veg_side=0.0, edge_cut=False, share=1.0,
                    source="berth", contact="alongside", end_a=0.0, end_b=0.0, side_a=1.0, side_b=0.0)
        score = BERTH_SCORE * (1.0 + (1.0 - math.exp(-float(e.mean()) / (2 * k)))) / 2.0
        out.append(_Cand(sl, m, score, my / p.y_m, mx / p.x_m, theta, length, beam, feat["water_ring"], -300,
                         feat))
    return out


class _Ctx:
    """The per-block images a hypothesis is described against."""

    def __init__(self, p, x, zb, d, land, water, sig, structure=None):
        self.p, self.x, self.zb, self.d, self.land, self.water, self.sig = p, x, zb, d, land, water, sig
        # what a hull can be moored against: land, and the analyst's piers
        self.solid = land if structure is None else (land | structure)
        # pixels whose kind is known (the rest is nodata)
        self.known = (land | water) if structure is None else (land | water | structure)
        self.structure = structure
        self.near_structure = None
        if structure is not None and structure.any():
            self.near_structure = ndimage.binary_dilation(structure, structure=np.ones((3, 3), bool), iterations=2)
        self.xs = x / sig  # colour in local noise units
        self.rough = _roughness(zb)
        # vegetation (excess green of the locally averaged colour, Woebbecke et al. 1995): no
        # vessel is moored against a forest or a lawn
        self.veg = None
        if x.shape[0] >= 3:
            sm = np.stack([ndimage.uniform_filter(x[b], 3, mode="nearest") for b in range(3)])
            self.veg = _excess_green(sm) > VEG_EXG
        # pieces of land and their sizes: a hypothesis that is nearly the whole of its piece is
        # an island of its own (its trimmed fringe is not land it touches)
        self.solid_lab, n = ndimage.label(self.solid, structure=np.ones((3, 3), bool))
        self.solid_size = np.bincount(self.solid_lab.ravel(), minlength=n + 1)


def _moments(rows: np.ndarray, cols: np.ndarray, p: _Params):
    """Centroid (m), axis angle and rectangle-equivalent length and width (m) of a pixel set."""
    xm = cols * p.x_m
    ym = rows * p.y_m
    mx, my = xm.mean(), ym.mean()
    dx, dy = xm - mx, ym - my
    sxx = (dx * dx).mean() + p.x_m ** 2 / 12
    syy = (dy * dy).mean() + p.y_m ** 2 / 12
    sxy = (dx * dy).mean()
    tr = sxx + syy
    disc = math.sqrt(max(tr * tr / 4 - (sxx * syy - sxy * sxy), 0.0))
    theta = 0.5 * math.atan2(2 * sxy, sxx - syy)
    return mx, my, theta, math.sqrt(12 * (tr / 2 + disc)), math.sqrt(12 * max(tr / 2 - disc, 0.0))


def _plausible(length, beam, fill, p: _Params):
    """Length in range, beam plausible for the length (a hull is at most about ten times as
    long as it is wide: the booms of cranes and conveyors are slimmer), a compact outline."""
    tol = 1.5 * p.px
    return ((length >= p.min_len - tol) & (length <= p.max_len + tol)
            & (beam <= np.minimum(0.6 * length, MAX_BEAM_M) + 2 * tol) & (beam >= MIN_WIDTH_PX * p.px)
            & (beam + p.px >= length / MAX_ELONG) & (fill >= 0.55))


def _from_labels(lab, n, k, phi, run, ctx: _Ctx) -> List[_Cand]:
    """Hypotheses from the labelled pieces of one direction's residue (``k`` >= 0, runs
    ``run``), of one brightness level or of the hull mask (``k`` < 0, ``run`` None).

    Pieces of a residue that hold several parallel bodies (a pier with ships on both sides,
    a rafted pair) are also cut into strips along their axis (:func:`_split_parallel`)."""
    if n == 0:
        return []
    p = ctx.p
    st = _label_stats(lab, n, p, run, ctx.d, ctx.water)
    ln, wd = st["length"], st["width"]
    fill = st["cnt"] * p.x_m * p.y_m / np.maximum(ln * wd, 1e-9)
    ring_ok = st["water_ring"] >= (0.3 if run is not None else 0.15)
    keep = _plausible(ln, wd, fill, p) & ring_ok & (st["cnt"] >= 2)
    keep[0] = False
    idx = np.flatnonzero(keep)
    out = []
    # too long or too slim for one hull, but of a hull's beam: ships moored nose to tail
    tol = 1.5 * p.px
    serial = (~keep & ring_ok & (st["cnt"] >= 6) & (fill >= 0.55) & (wd >= MIN_WIDTH_PX * p.px)
              & (wd <= MAX_BEAM_M + 2 * tol) & (ln <= SERIAL_MAX * p.max_len)
              & ((ln > p.max_len + tol) | (wd + p.px < ln / MAX_ELONG)))
    serial[0] = False
    # at coarse pixels (where the gap between hulls is not resolved), only along a known berth:
    # there a long slim body bounded by water is more often a breakwater, a jetty or a quay edge
    # than a line of ships (on the Sentinel-2 ports, cutting such bodies added false alarms)
    berth = np.zeros(n + 1, bool)
    if ctx.near_structure is not None:
        berth[np.unique(lab[ctx.near_structure & (lab > 0)])] = True
    coarse = p.coarse
    if coarse:
        serial &= berth
    objs = ndimage.find_objects(lab) if (idx.size or serial.any()) else []
    for j in np.flatnonzero(serial):
        sl = objs[j - 1]
        m = lab[sl] == j
        runs = run[sl] if run is not None else None
        for part in split_serial(m, sl[0].start, sl[1].start, float(st["theta"][j]), ctx.xs, ctx.d, p.x_m, p.y_m,
                                 p.min_len, p.max_len, MAX_ELONG, SPLIT_K):
            c = _describe(part, sl[0].start, sl[1].start, k, phi, runs, ctx, split=True, neutral=m & ~part)
            if c is not None:
                c.feat["serial"] = True
                out.append(c)
    if idx.size == 0:
        return out
    for j in idx:
        sl = objs[j - 1]
        m = lab[sl] == j
        runs = run[sl] if run is not None else None
        if berth[j] and coarse and ln[j] >= 2 * max(p.min_len, 2 * p.px):
            # coarse pixels: the gap between ships moored nose to tail is not resolved
            parts = []
            for part in split_serial(m, sl[0].start, sl[1].start, float(st["theta"][j]), ctx.xs, ctx.d, p.x_m,
                                     p.y_m, p.min_len, p.max_len, MAX_ELONG, SPLIT_K, force=True):
                c = _describe(part, sl[0].start, sl[1].start, k, phi, runs, ctx, split=True, neutral=m & ~part)
                if c is not None:
                    c.feat["serial"] = True
                    parts.append(c)
            if len(parts) >= 2:
                out += parts
                continue
        whole = _describe(m, sl[0].start, sl[1].start, k, phi, runs, ctx)
        # Side-by-side cuts (parallel strips, bumps) need the boundary between two hulls to be
        # resolved. At coarse pixels (a gap of GAP_M under 3 px) a hull is 1.5-3 px wide and the
        # point-spread function smears the colour step between neighbours over as much, so a
        # step across a piece is more often the rim of a quay or the sides of a pier than two
        # hulls: on the Sentinel-2 ports such cuts were nearly all false alarms, and on the
        # synthetic ports at 10 m no rafted pair was ever separated by them.
        if (whole is not None and run is not None and wd[j] >= 2.5 * p.px and not coarse
                and whole.feat.get("contact") == "alongside"):
            # a ship-like piece wide enough to be two hulls side by side (a rafted pair)
            parts = []
            for sm in _split_parallel(m, sl[0].start, sl[1].start, float(st["theta"][j]), ctx):
                # the other strips are the neighbouring hull: neither land nor water
                c = _describe(sm, sl[0].start, sl[1].start, k, phi, runs, ctx, split=True, neutral=m & ~sm)
                if c is not None and c.feat["elong"] >= 2.0:
                    parts.append(c)
            if len(parts) >= 2:
                out += parts
                continue
        if whole is not None and whole.feat.get("contact") in ("alongside", "anchored") and not coarse:
            # a small craft rafted against part of a hull's side (a tug, a bunker barge)
            parts = []
            for body, bump in _split_bumps(m, sl[0].start, sl[1].start, float(st["theta"][j]), ctx):
                c = _describe(bump, sl[0].start, sl[1].start, k, phi, runs, ctx, split=True, neutral=body,
                              piece_len=float(ln[j]))
                if c is not None and _craft_alongside(c.feat, 2.0, p):
                    parts.append(c)
                    main = body
            if parts:
                c = _describe(main, sl[0].start, sl[1].start, k, phi, runs, ctx, split=True,
                              neutral=m & ~main)
                if c is not None:
                    out += parts + [c]
                    continue
        if whole is not None:
            out.append(whole)
    return out


def _split_bumps(m: np.ndarray, r0: int, c0: int, theta: float, ctx: _Ctx):
    """The main body of a piece (between the median lines of its two sides along its
    axis) and the bumps that stand out of one side over part of its length: a short
    craft rafted against a long hull. Yields (body mask, bump mask) pairs."""
    p = ctx.p
    rows, cols = np.nonzero(m)
    if rows.size < 12:
        return
    ux, uy = math.cos(theta), math.sin(theta)
    gx = (cols + c0) * p.x_m
    gy = (rows + r0) * p.y_m
    u = gx * ux + gy * uy
    v = -gx * uy + gy * ux
    ub = np.floor((u - u.min()) / p.px).astype(int)
    nb = int(ub.max()) + 1
    if nb < 6:
        return
    vmin = np.full(nb, np.inf)
    vmax = np.full(nb, -np.inf)
    np.minimum.at(vmin, ub, v)
    np.maximum.at(vmax, ub, v)
    ok = np.isfinite(vmin)
    lo, hi = float(np.median(vmin[ok])), float(np.median(vmax[ok]))
    body = (v >= lo - 0.75 * p.px) & (v <= hi + 0.75 * p.px)
    bm = np.zeros_like(m)
    bm[rows[body], cols[body]] = True
    for side in (v > hi + 0.75 * p.px, v < lo - 0.75 * p.px):
        if side.sum() < 4:
            continue
        sm = np.zeros_like(m)
        sm[rows[side], cols[side]] = True
        lab, n = ndimage.label(sm)
        for jj in range(1, n + 1):
            part = lab == jj
            if part.sum() >= 4:
                yield bm, part


def _split_parallel(m: np.ndarray, r0: int, c0: int, theta: float, ctx: _Ctx) -> List[np.ndarray]:
    """Cut a piece into strips parallel to its axis where its colour, averaged along the
    axis, steps (projection profile across the axis). Averaging along tens of pixels
    removes the detail of decks and cargo and keeps the long, straight boundaries between
    a hull and a pier, or between two rafted hulls."""
    p = ctx.p
    rows, cols = np.nonzero(m)
    if rows.size < 6:
        return []
    ux, uy = math.cos(theta), math.sin(theta)
    gx = (cols + c0) * p.x_m
    gy = (rows + r0) * p.y_m
    v = -gx * uy + gy * ux
    step = 0.5 * p.px
    vb = np.floor((v - v.min()) / step).astype(int)
    nb = int(vb.max()) + 1
    if nb < 6:
        return []
    cnt = np.bincount(vb, minlength=nb).astype(float)
    prof = np.stack([np.bincount(vb, ctx.xs[b, rows + r0, cols + c0], nb) for b in range(ctx.xs.shape[0])])
    good = cnt >= max(2.0, 0.2 * cnt.max())
    prof = prof / np.maximum(cnt, 1)
    # gradient of the profile over one pixel, only where both sides are well populated
    lag = 2
    g = np.zeros(nb)
    for i in range(lag, nb - lag):
        if good[i - lag] and good[i + lag]:
            g[i] = float(np.sqrt(np.mean((prof[:, i + lag] - prof[:, i - lag]) ** 2)))
    noise = 1.0 / math.sqrt(max(float(np.median(cnt[good])) if good.any() else 1.0, 1.0))
    thr = max(SPLIT_K * (1.0 + 3 * noise), 0.2 * float(g.max()))
    cuts = [i for i in range(1, nb - 1) if g[i] >= thr and g[i] >= g[i - 1] and g[i] > g[i + 1]]
    min_w = max(1.5 * p.px, MIN_WIDTH_PX * p.px)
    edges = [0] + cuts + [nb]
    strips = [(a, b) for a, b in zip(edges[:-1], edges[1:])]
    if len(strips) < 2:
        return []
    out = []
    for a, b in strips:
        if (b - a) * step < min_w:
            continue
        sel = (vb >= a) & (vb < b)
        sm = np.zeros_like(m)
        sm[rows[sel], cols[sel]] = True
        lab, n = ndimage.label(sm)
        for j in range(1, n + 1):
            part = lab == j
            if part.sum() >= 2:
                out.append(part)
    return out


def _describe(m: np.ndarray, r_off: int, c_off: int, k, phi, runs, ctx: _Ctx, split: bool = False,
              neutral: Optional[np.ndarray] = None, piece_len: Optional[float] = None) -> Optional[_Cand]:
    """Features of one hypothesis (mask ``m`` whose [0, 0] is block pixel (r_off, c_off)).

    ``neutral`` (same frame as ``m``): pixels of neighbouring hulls (a rafted partner),
    which count neither as land nor as water in the contact tests. ``piece_len``: length
    of the piece a side strip or bump was cut from (see :func:`_craft_alongside`)."""
    p = ctx.p
    rows, cols = np.nonzero(m)
    if rows.size < 2:
        return None
    mx, my, theta, length, beam = _moments(rows + r_off, cols + c_off, p)
    n = float(rows.size)
    fill = n * p.x_m * p.y_m / max(length * beam, 1e-9)
    if not _plausible(np.array(length), np.array(beam), np.array(fill), p):
        return None
    h, w = ctx.land.shape
    delta = max(1.5 * p.px, CONTACT_M)
    pad = int(math.ceil(delta / min(p.x_m, p.y_m))) + 2
    r0, r1 = max(0, r_off + rows.min() - pad), min(h, r_off + rows.max() + 1 + pad)
    c0, c1 = max(0, c_off + cols.min() - pad), min(w, c_off + cols.max() + 1 + pad)
    big = (slice(r0, r1), slice(c0, c1))
    mb = np.zeros((r1 - r0, c1 - c0), bool)
    mb[rows + r_off - r0, cols + c_off - c0] = True
    ring = ndimage.binary_dilation(mb, structure=np.ones((3, 3), bool)) & ~mb
    n_px = int(rows.size)
    land_b = ctx.solid[big].copy()
    ids = np.unique(ctx.solid_lab[big][mb])
    ids = ids[ids > 0]
    ring_n = int(ring.sum())
    for i_ in ids:
        # the blurred ends and sides of an isolated body, trimmed from the hypothesis, are not
        # land it lies against
        if ctx.solid_size[i_] <= n_px + ring_n:
            land_b &= ctx.solid_lab[big] != i_
    neut = np.zeros_like(mb)
    if neutral is not None and neutral.any():
        nr, nc = np.nonzero(neutral)
        nr, nc = nr + r_off - r0, nc + c_off - c0
        ok_ = (nr >= 0) & (nr < mb.shape[0]) & (nc >= 0) & (nc < mb.shape[1])
        neut[nr[ok_], nc[ok_]] = True
        land_b &= ~neut
    water_ring = float(ctx.water[big][ring].mean()) if ring.any() else 0.0
    ux, uy = math.cos(theta), math.sin(theta)
    # every pixel of the padded box in the hypothesis' frame (metres): u along, v across
    u, v = _frame(p, r0, r1, c0, c1, mx, my, ux, uy)
    lb = land_b & ~mb
    hl, hw = length / 2, beam / 2
    bands = _contact_bands(u, v, hl, hw, delta)
    # within a pixel of the edge (or of nodata): its blurred rim may be all that is left inside
    touches = (r_off + rows.min() <= 1 or r_off + rows.max() >= h - 2 or c_off + cols.min() <= 1
               or c_off + cols.max() >= w - 2 or not ctx.known[big][ring].all())
    # A body cut lengthwise by the edge of the image (or by nodata) lies along ground of
    # unknown kind: the border would pass for a quay it is moored against, and its beam is
    # unknown. It is not reported, but it still claims its pixels in the suppression (the
    # pieces of it are not reported either). Bodies merely near the edge, or cut across their
    # axis, are kept.
    edge_cut = touches and _unknown_share(ctx, r_off + rows.min() - pad, r_off + rows.max() + 1 + pad,
                                          c_off + cols.min() - pad, c_off + cols.max() + 1 + pad,
                                          mx, my, ux, uy, length / 2, beam / 2, delta) > UNKNOWN_MAX
    sides = {}
    pier_side = 0.0
    rafted = 0.0
    pier_sides = {}
    land_px = 0  # the largest piece of land along a side (pixels)
    for name, band in bands.items():
        band &= ~mb
        sides[name] = float(lb[band].mean()) if band.any() else 1.0
        if name.startswith("side") and band.any():
            rafted = max(rafted, float(neut[band].mean()))
            ids_ = ctx.solid_lab[big][band & lb]
            if ids_.size:
                land_px = max(land_px, int(ctx.solid_size[ids_].max()))
            if ctx.structure is not None:
                pier_sides[name] = float(ctx.structure[big][band].mean())
                pier_side = max(pier_side, pier_sides[name])
    # A body lying along a given pier or quay: the berth continues beyond its bow and stern,
    # the hull does not. What stands out of the berth line is the outer half of the beam, so
    # the contact at the ends is measured there only. On the berth side the pier's own edge
    # runs on past the ends (its mixed pixels, a fender line, the tapered tips of the hull
    # trimmed from the hypothesis), and at coarse pixels, where a hull is two pixels wide,
    # that edge alone made half of each end band 'land', so a ship moored against a pier
    # passed for a piece of the pier. A strip of the pier itself (a kerb, a rim) lies in the
    # berth line: land continues beyond its ends across its whole beam, outer half included.
    # Only along a known berth: without one, the 'land' along a body may be anything (on the
    # synthetic ports, strips along the edge of a foam wake then passed for moored hulls).
    berth = max(pier_sides, key=pier_sides.get) if pier_sides else None
    s_lo, s_hi = sorted((sides["side_a"], sides["side_b"]))
    if berth is not None and pier_sides[berth] >= 0.5 and s_hi >= 0.5 and s_lo < 0.3:
        sgn = 1.0 if berth == "side_a" else -1.0
        outer = sgn * v <= 0.25 * p.px
        for name in ("end_a", "end_b"):
            band = bands[name] & outer
            if band.any():
                sides[name] = float(lb[band].mean())
    # The quay a ship lies alongside runs on past its bow and stern: just behind the line of contact,
    # beyond each end, there is land (the quay face, or a neighbour moored there). A piece cut from
    # the rim of a headland, the tip of a jetty or a corner of the coast by the runs' length limit has
    # water there at one end at least, where the shore turns away from the line of contact. Measured
    # on the land side only, from half a pixel to three pixels beyond each end (see _score); only where
    # that rule applies (coarse pixels, no berth given along the body).
    shoulder = 1.0
    if s_hi >= 0.5 and p.coarse and pier_side < 0.5:
        sgn = 1.0 if sides["side_a"] >= sides["side_b"] else -1.0
        vl = sgn * v
        for e_ in (1.0, -1.0):
            band = ((e_ * u > hl + 0.5 * p.px) & (e_ * u <= hl + 3.0 * p.px) & (vl >= hw - 0.5 * p.px)
                    & (vl <= hw + 1.5 * p.px) & ~mb)
            if band.any():
                shoulder = min(shoulder, float(lb[band].mean()))
        if shoulder < SHOULDER_MIN and _behind_share(ctx, mx, my, ux, uy, hl, hw, sgn) < BEHIND_MIN:
            # ... unless what it lies against is narrow, with water beyond: a jetty, a finger pier or
            # a neighbour moored there, past whose end a ship may reach
            shoulder = 1.0
    veg_side = 0.0
    if ctx.veg is not None:
        vb = ctx.veg[big]
        for sgn in (1, -1):
            deep = (sgn * v > hw) & (sgn * v <= hw + 2 * delta) & (np.abs(u) <= 0.8 * hl) & lb
            if deep.sum() >= 3:
                veg_side = max(veg_side, float(vb[deep].mean()))
    zin = ctx.zb[big][mb]
    rough = ctx.rough[big][mb]
    speckle = float(np.median(rough) / max(abs(float(np.median(zin))), 1.0))
    if runs is not None:
        rv = runs[rows, cols]
        run_cv = float(rv.std() / max(rv.mean(), 1e-6))
    else:
        run_cv = 0.0
    axis_px = math.atan2(uy / p.y_m, ux / p.x_m)
    rel = abs(math.remainder(phi - axis_px, math.pi)) if phi is not None else 0.0
    feat = dict(
        L=length, W=beam, n=n, fill=fill, elong=length / max(beam, 1e-6), run_cv=run_cv,
        along=rel < math.pi / 4,
        zb_mean=float(zin.mean()), zb_top=float(np.sort(zin)[-min(3, zin.size):].mean()),
        integ=float(np.maximum(zin, 0).sum() / math.sqrt(n)), water_ring=water_ring,
        speckle=speckle, pier_side=pier_side, shoulder=shoulder, rafted=rafted, veg_side=veg_side, edge_cut=edge_cut,
        berths_given=ctx.structure is not None, side_land_m2=land_px * p.x_m * p.y_m,
        share=length / piece_len if piece_len else 1.0,
        source=("split" if split else "runs") if k >= 0 else {-100: "hull", -200: "free"}.get(k, "level"), **sides,
    )
    score = _score(feat, p)
    if score <= 0:
        return None
    sl = (slice(r0, r1), slice(c0, c1))
    return _Cand(sl, mb, score, my / p.y_m, mx / p.x_m, theta, length, beam, water_ring, k, feat)


def _frame(p: _Params, r0: int, r1: int, c0: int, c1: int, mx: float, my: float, ux: float,
           uy: float) -> Tuple[np.ndarray, np.ndarray]:
    """Every pixel of the box [r0, r1) x [c0, c1) in a hypothesis' frame (metres): ``u`` along
    its axis ``ux, uy`` from its centre ``mx, my``, ``v`` across."""
    rr, cc = np.mgrid[r0:r1, c0:c1]
    gx = cc * p.x_m - mx
    gy = rr * p.y_m - my
    return gx * ux + gy * uy, -gx * uy + gy * ux


def _contact_bands(u: np.ndarray, v: np.ndarray, hl: float, hw: float, delta: float) -> dict:
    """The bands ``delta`` deep beyond the two ends and along the two sides of a body of
    half-length ``hl`` and half-beam ``hw`` (``u`` along its axis, ``v`` across, metres)."""
    return {
        "end_a": (u > hl) & (u <= hl + delta) & (np.abs(v) <= hw),
        "end_b": (u < -hl) & (u >= -hl - delta) & (np.abs(v) <= hw),
        "side_a": (v > hw) & (v <= hw + delta) & (np.abs(u) <= 0.8 * hl),
        "side_b": (v < -hw) & (v >= -hw - delta) & (np.abs(u) <= 0.8 * hl),
    }


def _unknown_share(ctx: _Ctx, r0: int, r1: int, c0: int, c1: int, mx: float, my: float, ux: float, uy: float,
                   hl: float, hw: float, delta: float) -> float:
    """Largest share, over the two side bands of a body, of pixels outside the block or
    neither land nor water (nodata); the box [r0, r1) x [c0, c1) may extend past the block."""
    p = ctx.p
    h, w = ctx.known.shape
    known = np.zeros((r1 - r0, c1 - c0), bool)  # the part of the box outside the block stays unknown
    a0, a1, b0, b1 = max(r0, 0), min(r1, h), max(c0, 0), min(c1, w)
    if a1 > a0 and b1 > b0:
        known[a0 - r0:a1 - r0, b0 - c0:b1 - c0] = ctx.known[a0:a1, b0:b1]
    u, v = _frame(p, r0, r1, c0, c1, mx, my, ux, uy)
    worst = 0.0
    for name, band in _contact_bands(u, v, hl, hw, delta).items():
        if name.startswith("side") and band.any():
            worst = max(worst, 1.0 - float(known[band].mean()))
    return worst


def _behind_share(ctx: _Ctx, mx: float, my: float, ux: float, uy: float, hl: float, hw: float,
                  sgn: float) -> float:
    """Share of land (or known structure) within BEHIND_PX pixels behind the land side of a body
    (centre ``mx, my`` in metres, axis ``ux, uy``, half-length and half-beam ``hl, hw``, land on the
    side ``sgn``), over the middle of its length."""
    p = ctx.p
    h, w = ctx.solid.shape
    reach = hw + BEHIND_PX * p.px
    ext = math.hypot(hl, reach) + p.px
    r0, r1 = max(0, int((my - ext) / p.y_m)), min(h, int((my + ext) / p.y_m) + 2)
    c0, c1 = max(0, int((mx - ext) / p.x_m)), min(w, int((mx + ext) / p.x_m) + 2)
    if r1 <= r0 or c1 <= c0:
        return 1.0
    u, v = _frame(p, r0, r1, c0, c1, mx, my, ux, uy)
    vl = sgn * v
    band = (vl > hw + p.px) & (vl <= reach) & (np.abs(u) <= 0.8 * hl)
    if not band.any():
        return 1.0
    return float(ctx.solid[r0:r1, c0:c1][band].mean())


def _contact_class(f: dict) -> str:
    """How the hypothesis meets land: 'anchored' (water all round), 'alongside'
    (land along one long side only), 'bow-on' (land at one end only) or ''
    (anything else: a piece of a pier, breakwater or coast, not a ship)."""
    e = sorted((f["end_a"], f["end_b"]))
    s = sorted((f["side_a"], f["side_b"]))
    if max(e + s) < 0.25:
        return "anchored"
    if s[1] >= 0.5 and s[0] < 0.3 and (e[1] < 0.5 or (f.get("pier_side", 0.0) >= 0.5 and e[0] < 0.5)):
        # (a ship alongside a known pier may touch the quay at the pier's root with its bow)
        return "alongside"
    if e[1] >= 0.5 and e[0] < 0.3 and s[1] < 0.5:
        return "bow-on"
    return ""


def _score(f: dict, p: _Params) -> float:
    """Plausibility of a ship hypothesis (0 = reject)."""
    cls = _contact_class(f)
    if not cls and f.get("source") in ("level",) and min(f["end_a"], f["end_b"]) < 0.3 and f["water_ring"] >= 0.2:
        # a bright hull among neighbours (boats moored side by side): one end in open water
        cls = "moored"
    f["contact"] = cls
    if not cls:
        return 0.0
    if cls != "anchored" and f.get("veg_side", 0.0) >= VEG_SIDE_MAX:
        # lying against vegetation: a beach or a bank between a wood and the water, not a hull
        return 0.0
    if cls != "anchored" and p.coarse and f["L"] < MIN_DOCKED_PX * p.px:
        # A body against land is told from the land only by its shape (a hull standing out of
        # the quay line, longer than wide). At coarse pixels (where the gap between moored
        # ships is not resolved, see _from_labels) a blob under MIN_DOCKED_PX pixels long has
        # no resolved shape: it is a pier corner, a crane leg or the mixed pixels of a jagged
        # shore as often as a boat (on the Sentinel-2 ports about fifteen such false alarms and
        # no vessel). An anchored body is set off by water all round and needs no shape; at
        # finer pixels the limit is below any length sought.
        return 0.0
    if cls == "alongside" and f.get("shoulder", 1.0) < SHOULDER_MIN:
        # At coarse pixels a hull is two to five pixels wide and its outline says little; what tells a
        # ship alongside a quay from a strip cut off the rim of the land is the quay running on past its
        # ends (see _describe, which measures it at coarse pixels only and never along a berth the
        # analyst drew: there the berth says it). On the Sentinel-2 ports, of the bodies against land
        # with water there at one end, one in ten was a vessel.
        return 0.0
    # matched-filter contrast of the whole body (sum of z over sqrt(n)): a CFAR test on the
    # object rather than on single pixels
    if f["integ"] < INTEG_K * p.k_obj:
        return 0.0
    # foam (wakes), surf and rough textures: the local roughness is larger than the contrast
    if f.get("speckle", 0.0) > SPECKLE_MAX:
        return 0.0
    if cls == "bow-on" and not ALLOW_BOW_ON:
        # a body joined to land at one end only is shaped like a jetty, a groyne, the end of
        # a pier or a crane boom: on real and synthetic ports such hypotheses were mostly
        # structures. Craft moored bow- or stern-on among others are found by the
        # brightness levels ('moored') instead.
        return 0.0
    if cls == "bow-on" and (f["L"] > BOW_ON_MAX_M or f.get("source") == "level"):
        return 0.0
    if f.get("source") == "split" and cls == "anchored" and (f.get("rafted", 0.0) < 0.5
                                                               or not _craft_alongside(f, 2.5, p)):
        # the outer strip of a split must lie against its partner, and be a hull in itself
        return 0.0
    if cls == "anchored" and f["zb_top"] < 2 * p.k_obj:
        return 0.0
    if (f.get("source") == "split" and cls == "alongside" and f.get("berths_given")
            and f.get("pier_side", 0.0) < SPLIT_BERTH_MIN):
        # a strip cut lengthwise off a piece that lies along land where the analyst drew no
        # berth: the land's own rim (a beach's wet edge, a revetment), not a ship moored there
        return 0.0
    if f.get("rafted", 0.0) >= 0.5 and f.get("share", 1.0) <= SHORT_CRAFT_SHARE and f["elong"] > SHORT_CRAFT_ELONG:
        # a body that lies against a short part of a hull's side is a craft alongside (a tug, a
        # launch, a barge), and small craft are stubby; a slender strip there is the hull's own
        # rim, its shadow or the foam along its side, split off by the hull's brightness levels
        return 0.0
    s_shape = min(1.0, (f["elong"] - 1.0) / 3.0) * 0.4 + min(1.0, f["fill"]) * 0.3 + (1 - min(1, f["run_cv"])) * 0.3
    s_con = 1.0 - math.exp(-max(f["zb_mean"], 0) / (2 * p.k_obj))
    return 0.6 * s_shape + 0.25 * s_con + 0.15 * f["water_ring"]


def _craft_alongside(f: dict, wide_px: float, p: _Params) -> bool:
    """Whether a strip or bump cut off the side of a piece is a hull in itself: wider than
    ``wide_px`` pixels, or at least a hull's minimum width and over only part of the piece's
    length. The rim of a hull (its side shell, a walkway, a line of bollards on a quay) runs
    the whole length of the body it borders; a tug or a fishing boat rafted against a ship
    is shorter than the ship, and at a few metres a pixel only one or two pixels wide."""
    if f["W"] >= wide_px * p.px:
        return True
    return f["W"] >= MIN_WIDTH_PX * p.px and f.get("share", 1.0) <= PARTIAL_MAX


def _refine(c: _Cand, ctx: _Ctx) -> None:
    """Sub-pixel length and beam at half contrast (updates ``c`` in place).

    The colour distance to water ``d`` is sampled (bilinear) along the hull axis over
    the central part of the beam, and across it over the central part of the length.
    A body blurred by the sensor's point-spread function still crosses half its plateau
    contrast at its true ends, whatever the blur, whereas a thresholded mask
    is too long or too short by up to a pixel or two depending on the contrast. Where
    the profile leaves the hypothesis into land (a quay, a pier, the next hull) there is
    no water to fall to, and the end of the mask is taken."""
    p = ctx.p
    h, w = ctx.d.shape
    ux, uy = math.cos(c.theta), math.sin(c.theta)
    mx, my = c.cx * p.x_m, c.cy * p.y_m
    # allowed samples: the hypothesis itself and water, in a window around it
    r0, c0 = c.sl[0].start, c.sl[1].start
    pad = 12
    rr0, rr1 = max(0, r0 - pad), min(h, c.sl[0].stop + pad)
    cc0, cc1 = max(0, c0 - pad), min(w, c.sl[1].stop + pad)
    allowed = ctx.water[rr0:rr1, cc0:cc1].astype(np.float32)
    sub = allowed[r0 - rr0:c.sl[0].stop - rr0, c0 - cc0:c.sl[1].stop - cc0]
    sub[c.mask] = 1.0
    weighted = np.minimum(ctx.d[rr0:rr1, cc0:cc1], 1e4).astype(np.float32) * allowed

    def profile(length, width, along):
        """Mean of d along one axis (``along`` = True: along the hull) at 0.25 px steps."""
        step = 0.25 * p.px
        ext = 0.5 * length + 3 * p.px
        t = np.arange(-ext, ext + step / 2, step)
        # near the centre line (a pointed bow narrows the hull long before its tip)
        q = np.linspace(-0.15 * width, 0.15 * width, 3) if width > p.px else np.zeros(1)
        tt, qq = np.meshgrid(t, q, indexing="ij")
        if along:
            gx, gy = mx + tt * ux - qq * uy, my + tt * uy + qq * ux
        else:
            gx, gy = mx - tt * uy + qq * ux, my + tt * ux + qq * uy
        coords = np.array([gy / p.y_m - rr0, gx / p.x_m - cc0])
        val = ndimage.map_coordinates(weighted, coords, order=1, mode="constant")
        wgt = ndimage.map_coordinates(allowed, coords, order=1, mode="constant")
        inside = ndimage.map_coordinates(allowed, coords, order=0, mode="constant")
        prof = np.where(wgt > 0.2, val / np.maximum(wgt, 1e-9), -np.inf).max(axis=1)
        return t, np.where(np.isfinite(prof), prof, np.nan), inside.mean(axis=1)

    rows, cols = np.nonzero(c.mask)
    px_x = (cols + c0) * p.x_m - mx
    px_y = (rows + r0) * p.y_m - my
    mu_ = px_x * ux + px_y * uy
    mv_ = -px_x * uy + px_y * ux

    def extent(t, prof, half_len, lo_lim, hi_lim, core=None):
        """Outermost half-plateau crossings within the mask's extent (+ a margin), scanning
        from outside in, so dark lines inside a hull (hatch coamings, the shadow of a
        superstructure) do not cut it short. ``core``: the samples whose median is the
        plateau (default: the middle of the body)."""
        if core is None:
            core = np.abs(t) <= 0.3 * half_len + 0.5 * p.px
        vals = prof[core & np.isfinite(prof)]
        if vals.size == 0:
            return None
        level = 0.5 * float(np.median(vals))
        if level <= 0:
            return None
        win = (t >= lo_lim) & (t <= hi_lim)
        ends = []
        for sgn in (1, -1):
            idx = np.flatnonzero(win)
            idx = idx[::-1] if sgn > 0 else idx  # from the outside in
            prev = None
            found = None
            for i in idx:
                v = prof[i]
                if np.isfinite(v) and v >= level:
                    if prev is not None and np.isfinite(prof[prev]):
                        vp = prof[prev]
                        f_ = (level - vp) / max(v - vp, 1e-9)
                        found = t[prev] + f_ * (t[i] - t[prev])
                    else:
                        found = t[i]
                    break
                prev = i
            if found is None:
                return None
            ends.append(found)
        return ends[0], ends[1]

    margin = 1.5 * p.px
    t, pa, _ = profile(c.length, c.width, True)
    e = extent(t, pa, 0.5 * c.length, mu_.min() - 0.5 * p.px - margin, mu_.max() + 0.5 * p.px + margin)
    cut = _stern_before_wake(c, ctx, t, pa, mu_)
    if cut is not None:
        side, t_cut = cut
        keep = (mu_ <= t_cut + 0.5 * p.px) if side > 0 else (mu_ >= t_cut - 0.5 * p.px)
        if not _foam_coloured(ctx, rows[~keep] + c.sl[0].start, cols[~keep] + c.sl[1].start,
                              rows[keep] + c.sl[0].start, cols[keep] + c.sl[1].start):
            cut = None
    if cut is not None:
        # the hull's ends at half its own plateau, not the whole body's: a dark hull under a
        # white deckhouse, with a brighter wake behind it, is under half of the joined median
        lo_l, hi_l = mu_.min() - 0.5 * p.px - margin, mu_.max() + 0.5 * p.px + margin
        if side > 0:
            e_h = extent(t, pa, 0.0, lo_l, t_cut, core=(t >= mu_.min()) & (t <= t_cut))
        else:
            e_h = extent(t, pa, 0.0, t_cut, hi_l, core=(t >= t_cut) & (t <= mu_.max()))
        if e_h is not None:
            e = e_h
        if e is None:
            e = (mu_.max() + 0.5 * p.px, mu_.min() - 0.5 * p.px)
        hi, lo = e
        e = (min(hi, t_cut), lo) if side > 0 else (hi, max(lo, t_cut))
        # the wake is not part of the hull: drop its pixels (``keep`` is the hull's) from the mask
        if keep.sum() >= 2:
            c.mask = np.zeros_like(c.mask)
            c.mask[rows[keep], cols[keep]] = True
            c.feat["wake_cut"] = True
    if e is not None:
        hi, lo = e
        new_len = hi - lo
        if (cut is not None or new_len >= 0.5 * c.length) and new_len <= 1.5 * c.length + 2 * p.px:
            shift = 0.5 * (hi + lo)
            mx, my = mx + shift * ux, my + shift * uy
            c.length = new_len
    t, pw, _ = profile(c.width, c.length, False)
    e = extent(t, pw, 0.5 * c.width, mv_.min() - 0.5 * p.px - margin, mv_.max() + 0.5 * p.px + margin)
    if e is not None:
        hi, lo = e
        new_beam = hi - lo
        if new_beam >= 0.5 * c.width and new_beam <= 2.0 * c.width + 2 * p.px:
            shift = 0.5 * (hi + lo)
            mx, my = mx - shift * uy, my + shift * ux
            c.width = new_beam
    c.cx, c.cy = mx / p.x_m, my / p.y_m
    c.feat["wake"], c.feat["wake_side"] = _wake_evidence(c, ctx)
    if c.feat.get("contact") == "anchored":
        c.feat["trail"] = _trail_evidence(c, ctx)


def _hue_share(ctx: _Ctx, rows: np.ndarray, cols: np.ndarray) -> float:
    """Median share of hue in the contrast to water (``dc / d``) of the given block pixels."""
    d = ctx.d[rows, cols]
    return float(np.median(_hue_contrast(d, ctx.zb[rows, cols]) / np.maximum(d, 1e-6)))


def _foam_coloured(ctx: _Ctx, wr, wc, hr, hc) -> bool:
    """Whether the part cut off a hull as its wake (pixels ``wr, wc``; the hull left: ``hr,
    hc``) has the colour of foam. Foam is white: it brightens the water without changing its
    hue, so its contrast is brightness (hue share ``dc / d`` 0.05-0.15 over the synthetic
    wakes). A painted hull or its deck cargo -- a dark green hull with coloured boxes taken
    for the wake of its white deckhouse -- is coloured: a trail with a hue share over
    ``FOAM_HUE_MAX``, and over the hull's own (the blurred end of a coloured hull), is hull."""
    if wr.size == 0 or hr.size == 0:
        return True
    share = _hue_share(ctx, wr, wc)
    return share <= max(FOAM_HUE_MAX, _hue_share(ctx, hr, hc))


def _stern_before_wake(c: _Cand, ctx: _Ctx, t, prof, mu_):
    """(side, position along the axis) of the stern of a free hull whose hypothesis runs
    on into its wake (see :mod:`quayside.core.ships_wake`), or None. Only free bodies
    that trail disturbed water beyond one end are examined, at that end."""
    p = ctx.p
    if c.feat.get("contact") != "anchored" or c.length < 4 * p.px:
        return None
    ends = _beyond_ends(ctx, c.cx * p.x_m, c.cy * p.y_m, c.theta, c.length, max(c.width, 2 * p.px),
                        max(c.length, 10 * p.px))
    min_hull = max(2 * p.px, p.min_len - 1.5 * p.px)
    found = []
    for v, side in zip(ends, (1, -1)):
        pos = wake_cut(t, prof, side, mu_.min(), mu_.max(), p.px, min_hull)
        if pos is not None:
            found.append((-1.0 if v is None else v, side, pos))
    if not found:
        return None
    _, side, pos = max(found)
    return side, pos


def _beyond_ends(ctx: _Ctx, mx: float, my: float, theta: float, length: float, half_w: float, reach: float):
    """Share of disturbed pixels (brighter than water or rough) among the water-or-object
    pixels of the two boxes beyond the ends of a body (centre (mx, my) in metres, axis
    ``theta``, ``reach`` long, ``half_w`` wide on each side of the axis); None for a box
    that holds too few such pixels."""
    p = ctx.p
    h, w = ctx.d.shape
    ux, uy = math.cos(theta), math.sin(theta)
    out = []
    for sgn in (1, -1):
        t = np.arange(0.5 * length + p.px, 0.5 * length + reach + 1e-9, p.px)
        q = np.arange(-half_w, half_w + 1e-9, p.px)
        if t.size == 0 or q.size == 0:
            out.append(None)
            continue
        tt, qq = np.meshgrid(t, q, indexing="ij")
        r = np.round((my + sgn * tt * uy + qq * ux) / p.y_m).astype(int)
        col = np.round((mx + sgn * tt * ux - qq * uy) / p.x_m).astype(int)
        ok = (r >= 0) & (r < h) & (col >= 0) & (col < w)
        r, col = r[ok], col[ok]
        seen = ctx.water[r, col] | ~ctx.land[r, col] | (ctx.zb[r, col] > p.k_obj)
        disturbed = (ctx.zb[r, col] > 0.5 * p.k_obj) | (ctx.rough[r, col] > ROUGH_K)
        out.append(float((disturbed & seen).sum() / seen.sum()) if seen.sum() >= 4 else None)
    return out


def _trail_evidence(c: _Cand, ctx: _Ctx) -> float:
    """How much the body lies *inside* a trail of disturbed water: the largest, over 12
    directions, of the smaller of the disturbed shares beyond its two opposite sides in
    that direction. A ship under way trails its wake behind the stern only, and the water
    ahead of its bow is calm; a patch of foam inside a wake has the trail before and after
    it, whatever its own orientation."""
    p = ctx.p
    best = 0.0
    reach = max(2 * c.width, 5 * p.px)
    for i in range(12):
        a = math.pi * i / 12
        rel = a - c.theta
        half = abs(0.5 * c.length * math.cos(rel)) + abs(0.5 * c.width * math.sin(rel))
        across = abs(0.5 * c.length * math.sin(rel)) + abs(0.5 * c.width * math.cos(rel))
        ends = _beyond_ends(ctx, c.cx * p.x_m, c.cy * p.y_m, a, 2 * half + 2 * p.px, max(0.5 * across, p.px),
                            reach)
        if ends[0] is None or ends[1] is None:
            continue
        best = max(best, min(ends))
    return best


def _wake_evidence(c: _Cand, ctx: _Ctx):
    """Share of the water beyond either end of the hull (a box one hull long and two beams
    wide) that is disturbed (brighter or rougher than water): the turbulent wake of a ship
    under way. Best effort: the larger of the two ends, and that end (+1: along the axis
    ``theta``, -1: against it, 0: unknown), the stern."""
    p = ctx.p
    ends = _beyond_ends(ctx, c.cx * p.x_m, c.cy * p.y_m, c.theta, c.length, max(c.width, 2 * p.px),
                        max(c.length, 10 * p.px))
    vals = [(e, side) for e, side in zip(ends, (1, -1)) if e is not None]
    if not vals:
        return 0.0, 0
    return max(vals)


def _drop_wakes(cands: List[_Cand], p: _Params) -> List[_Cand]:
    """Remove free-floating hypotheses that lie in the wake of a brighter ship.

    The turbulent wake of a ship under way is a bright, foamy trail behind its stern that
    widens slowly (the Kelvin wedge half-angle is 19.5 deg; the turbulent wake much less):
    pieces of it that pass as hulls lie behind a ship, within a narrow wedge around the
    extension of its axis beyond the stern (the end that trails the disturbed water), and
    are dimmer than the ship. Whatever lies ahead of the bow is not its wake (a ship anchored
    in line ahead of one under way). Docked hypotheses are never dropped, nor hypotheses
    brighter than the ship they trail; a piece 'alongside' a piece of land no larger than a
    ship (``max_len`` x MAX_BEAM_M) and not along a given pier counts as free: in a wake
    that land is the rest of the foam, brighter than the CFAR threshold (a synthetic port's
    bulk carrier: a foam patch 70 m behind its hull passed as a craft moored alongside).

    The bow wave spreads behind the bow, not the stern: the arms of the Kelvin wedge
    (half-angle 19.5 deg in deep water whatever the speed) leave the hull near its bow, so
    their crests and the foam along them lie *beside* the hull and beside the turbulent
    wake. Pieces of foam there are small, dim and of no particular orientation (crests
    broken up by the sea): a free piece whose centre lies inside the wedge, behind the bow
    and clear of the hull, and whose peak contrast is under a quarter of the ship's
    (KELVIN_DIM; a vessel near a ship under way is a hull, as bright as hulls are), is foam.
    (At a third, a real 50 m ship beside a larger one on the Sentinel-2 Busan scene, at
    0.28 of its peak contrast, was dropped.)"""
    free = ("anchored", "moored")

    def adrift(b):
        # water all round, or alongside a floating piece of 'land' no larger than a ship (and
        # no given pier): a patch of the foam itself, brighter than the CFAR threshold, is
        # not a quay a vessel is moored against
        if b.feat.get("contact") in free:
            return True
        return (b.feat.get("contact") == "alongside" and b.feat.get("pier_side", 0.0) < 0.5
                and b.feat.get("side_land_m2", math.inf) <= p.max_len * MAX_BEAM_M)

    # patches of foam inside a wake trail (disturbed water on two opposite sides)
    cands = [c for c in cands if c.feat.get("trail", 0.0) < TRAIL_MAX or c.feat.get("rafted", 0.0) >= 0.3]
    order = sorted(cands, key=lambda c: -c.feat.get("zb_top", 0.0))
    dropped = set()
    for i, a in enumerate(order):
        # only a ship that trails a disturbed wake has one: ships anchored in a line are not
        # each other's wakes
        if (id(a) in dropped or a.feat.get("contact") != "anchored" or a.length < 2.5 * a.width
                or a.feat.get("wake", 0.0) < WAKE_MIN):
            continue
        ux, uy = math.cos(a.theta), math.sin(a.theta)
        for b in order[i + 1:]:
            if id(b) in dropped or not adrift(b):
                continue
            dx, dy = (b.cx - a.cx) * p.x_m, (b.cy - a.cy) * p.y_m
            u, v = dx * ux + dy * uy, -dx * uy + dy * ux
            side = a.feat.get("wake_side", 0)
            if side and _in_kelvin_wedge(side * u, v, a.length, a.width, p.px) and b.length < a.length \
                    and b.feat.get("zb_top", 0.0) < KELVIN_DIM * a.feat.get("zb_top", 0.0):
                dropped.add(id(b))  # foam on the arms of the bow wave, beside the hull or its wake
                continue
            if u * side < 0:
                continue  # ahead of the centre: the turbulent wake is behind the stern only
            beyond = abs(u) - 0.5 * a.length
            # a wake piece runs along the track or a Kelvin arm (19.5 deg off it) and is dimmer
            # than the hull that makes it
            aligned = abs(math.remainder(b.theta - a.theta, math.pi)) <= math.radians(35)
            if (0 < beyond <= WAKE_REACH * a.length and abs(v) <= a.width + math.tan(math.radians(12)) * beyond
                    and aligned and b.feat.get("zb_top", 0.0) < a.feat.get("zb_top", 0.0)):
                dropped.add(id(b))
    return [c for c in cands if id(c) not in dropped]


def _in_kelvin_wedge(behind: float, across: float, length: float, beam: float, px: float) -> bool:
    """Whether a point ``behind`` metres from a ship's centre towards its stern and
    ``across`` metres off its axis lies inside the Kelvin wedge of its bow wave and clear of
    its hull: behind the bow, within (1 + WAKE_REACH) hull lengths of it, and at most
    tan(KELVIN_DEG) times that distance (plus half the beam and two pixels for the width of
    the arms) off the track."""
    d = behind + 0.5 * length  # distance behind the bow
    if d <= 0 or d > (1.0 + WAKE_REACH) * length:
        return False
    if abs(across) <= 0.5 * beam + px and abs(behind) <= 0.5 * length:
        return False  # on the hull itself
    return abs(across) <= 0.5 * beam + 2 * px + math.tan(math.radians(KELVIN_DEG)) * d


def _suppress(cands: List[_Cand], shape, p: Optional[_Params] = None) -> List[_Cand]:
    """Greedy non-maximum suppression on pixel overlap, best score first.

    A plausible hull that holds accepted hypotheses which are each a small part of it,
    lying within its side lines (:func:`_fragments_of`), replaces them: they are pieces of
    the hull (a bright deck, a hatch, the rim of one side), which the contrast levels and
    the strip cuts find with a sharper shape than the hull's own outline, and so with a
    higher score. ``p``: the pixel sizes of the frame of the hypotheses' axes (unit pixels
    when None)."""
    claim = np.zeros(shape, np.int32)  # 1 + index into ``out`` of the claiming hypothesis
    out: List[Optional[_Cand]] = []
    for c in sorted(cands, key=lambda c: -c.score):
        sub = claim[c.sl]
        owners = sub[c.mask]
        owners = owners[owners > 0]
        if owners.size:
            ids, cnt = np.unique(owners, return_counts=True)
            parts = [out[i - 1] for i in ids]
            if _fragments_of(c, parts, (p.y_m, p.x_m) if p is not None else (1.0, 1.0)):
                for i, f in zip(ids, parts):
                    fs = claim[f.sl]
                    fs[fs == i] = 0
                    out[i - 1] = None
                sub[c.mask & (sub == 0)] = len(out) + 1
                out.append(c)
                continue
        if owners.size > 0.3 * c.mask.sum():
            continue  # mostly explained already
        # a hypothesis that swallows most of an accepted one is a merge of it with something
        # else (or the whole of which the accepted one is a part): keep the first
        if owners.size:
            if any(n > 0.5 * out[i - 1].mask.sum() for i, n in zip(ids, cnt)):
                continue
        sub[c.mask & (sub == 0)] = len(out) + 1
        out.append(c)
    return [c for c in out if c is not None]


def _fragments_of(c: _Cand, parts: List[_Cand], yx_m: Tuple[float, float]) -> bool:
    """Whether the accepted hypotheses ``parts`` are all fragments of the hull ``c``: each
    at most FRAGMENT_MAX of its area, nearly all inside it, and within the lines of its two
    sides (the median extent across its axis, as in :func:`_split_bumps`). A craft rafted
    against part of a hull stands out of the hull's side line, and a rafted partner or the
    other hulls of a merge are not small parts of it: those keep the first hypothesis.

    At working pixels of 1 m or finer the share is FRAGMENT_MAX_FINE: a strip of a container
    ship's box rows, split off along a bay or a hatch line, can hold a third of the hull
    (held-out seeds at 1 m: F1 0.880 -> 0.904, five fragments fewer, no rafted pair lost).
    At 3 and 10 m the larger share merged rafted pairs."""
    if c.feat.get("contact") not in ("alongside", "anchored") or c.feat.get("source") == "berth":
        return False
    n = float(c.mask.sum())
    ux, uy = math.cos(c.theta), math.sin(c.theta)
    rows, cols = np.nonzero(c.mask)
    rows, cols = rows + c.sl[0].start, cols + c.sl[1].start
    y_m, x_m = yx_m
    px = math.sqrt(x_m * y_m)
    # (5 % slack: a nominal 1 m product measures 1.0002 m on the ellipsoid, as in containers' box mode)
    share = FRAGMENT_MAX_FINE if px <= FINE_PX_M * 1.05 else FRAGMENT_MAX
    u = cols * x_m * ux + rows * y_m * uy
    v = -cols * x_m * uy + rows * y_m * ux
    ub = np.floor((u - u.min()) / px).astype(int)
    nb = int(ub.max()) + 1
    if nb < 6:
        return False
    vmin = np.full(nb, np.inf)
    vmax = np.full(nb, -np.inf)
    np.minimum.at(vmin, ub, v)
    np.maximum.at(vmax, ub, v)
    ok = np.isfinite(vmin)
    lo, hi = float(np.median(vmin[ok])) - 0.75 * px, float(np.median(vmax[ok])) + 0.75 * px
    inside = np.zeros((c.sl[0].stop - c.sl[0].start, c.sl[1].stop - c.sl[1].start), bool)
    inside[c.mask] = True
    for f in parts:
        fr, fc = np.nonzero(f.mask)
        fr, fc = fr + f.sl[0].start, fc + f.sl[1].start
        if fr.size > share * n:
            return False
        rr, cc = fr - c.sl[0].start, fc - c.sl[1].start
        ok_ = (rr >= 0) & (rr < inside.shape[0]) & (cc >= 0) & (cc < inside.shape[1])
        within = np.zeros(fr.size, bool)
        within[ok_] = inside[rr[ok_], cc[ok_]]
        fv = -fc * x_m * uy + fr * y_m * ux
        if within.mean() < 0.9 or ((fv >= lo) & (fv <= hi)).mean() < 0.9:
            return False
    return True


# --------------------------------------------------------------------------------------------
# driver


def _pier_cover(polys, shape, transform, ss: int = 4) -> np.ndarray:
    """Share of each pixel covered by the pier polygons (rasterised ``ss`` x ``ss`` finer)."""
    h, w = shape
    fine = features.rasterize([(g, 1) for g in polys], out_shape=(h * ss, w * ss),
                              transform=transform * transform.scale(1.0 / ss, 1.0 / ss), fill=0, dtype="uint8")
    return fine.reshape(h, ss, w, ss).mean(axis=(1, 3), dtype=np.float32)


def _working_factor(px_m: float, min_len: float) -> int:
    """Decimation so that the minimum ship length spans about 10 working pixels."""
    return max(1, int(min_len / (10.0 * px_m)))


def read_halo_px(px_m: float, min_length_m: float = 15.0, max_length_m: float = 400.0) -> Tuple[int, float]:
    """Halo the detector reads around each block's core (and around an area of interest):
    (working pixels, working pixel size in ground metres). A ship whose centroid is in the
    core lies within half its length of it; its runs end inside the ship, so they are seen
    whole, and longer runs are 'long' either way."""
    pxw = px_m * _working_factor(px_m, min_length_m)
    return int(math.ceil(0.6 * max_length_m / pxw)) + 16, pxw


def read_halo_m(px_m: float, min_length_m: float = 15.0, max_length_m: float = 400.0) -> float:
    """:func:`read_halo_px` in ground metres: how far around an area of interest the detector
    reads the image (and a water mask given to it)."""
    n, pxw = read_halo_px(px_m, min_length_m, max_length_m)
    return n * pxw


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


def _read_water(wsrc, bounds, shape) -> np.ndarray:
    """The water reference (1 = water) over ``bounds`` resampled to ``shape`` (nearest)."""
    win = window_from_bounds(*bounds.bounds, wsrc.transform)
    vals = [win.col_off, win.row_off, win.width, win.height]
    # on a common grid the window is whole pixels: do not let rounding shift it
    vals = [round(v) if abs(v - round(v)) < 1e-3 else v for v in vals]
    win = Window(*vals)
    w = wsrc.read(1, window=win, out_shape=shape, resampling=Resampling.nearest, boundless=True, fill_value=255)
    return w == 1


def _decimated_copy(src, bands, f: int, path: str, cancel) -> None:
    """Write ``bands`` of ``src`` block-averaged by ``f`` (strip by strip) to a GeoTIFF."""
    wd, ht = -(-src.width // f), -(-src.height // f)
    dtype = "float32"
    profile = {"driver": "GTiff", "width": wd, "height": ht, "count": len(bands), "dtype": dtype, "crs": src.crs,
               "transform": src.transform * src.transform.scale(src.width / wd, src.height / ht),
               "nodata": src.nodata, "tiled": False}
    strip = 256
    with rasterio.open(path, "w", **profile) as dst:
        for r in range(0, ht, strip):
            check_cancel(cancel)
            h = min(strip, ht - r)
            r0 = r * f
            nat = Window(0, r0, src.width, min(h * f, src.height - r0))
            data = src.read(list(bands), window=nat, out_shape=(len(bands), h, wd), out_dtype=dtype,
                            resampling=Resampling.average)
            dst.write(data, window=Window(0, r, wd, h))


def _aoi_windows(grid_w: int, grid_h: int, size: int, halo: int, aoi, wtf) -> List[Tuple[Window, Window]]:
    """Blocks (core, read window) over the bounding box of the area of interest ``aoi`` on the
    working grid (transform ``wtf``), instead of over the whole raster: one block when the box with
    its halo holds no more pixels than one standard block with its halo (the memory bound of the
    whole-raster blocks), else the box tiled as the raster is. Blocks whose read window misses the
    area are left out."""
    x0, y0, x1, y1 = aoi.bounds
    w = window_from_bounds(x0, y0, x1, y1, wtf).round_offsets(op="floor").round_lengths(op="ceil")
    try:
        w = w.intersection(Window(0, 0, grid_w, grid_h))
    except rasterio.errors.WindowError:  # the area only touches the raster's edge
        return []
    c0, r0, ww, hh = int(w.col_off), int(w.row_off), int(w.width), int(w.height)
    one = Window(c0, r0, ww, hh)
    rd = grow_window(one, halo, grid_w, grid_h)
    if int(rd.width) * int(rd.height) <= (size + 2 * halo) ** 2:
        cores = [one]
    else:
        cores = [Window(c0 + int(c.col_off), r0 + int(c.row_off), int(c.width), int(c.height))
                 for c, _ in iter_windows(ww, hh, size, 0)]
    out = []
    for core in cores:
        read = grow_window(core, halo, grid_w, grid_h)
        if box(*rasterio.windows.bounds(read, wtf)).intersects(aoi):
            out.append((core, read))
    return out


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
        notes.append(f"Bands: {roles.describe()} (the NIR band, when there is one, only for the computed water mask).")
        bands = list(roles.visible)
        scale = dataset_ground_scale(src)
        units = "m" if scale.georeferenced else "px"
        crs_unit_per_px = 1.0
        if not scale.georeferenced:
            notes.append("The raster has no CRS: lengths, areas and distances are in pixels (units 'px'), and "
                         "the minimum and maximum lengths are read as pixels.")
            crs_unit_per_px = scale.mean_m
            scale = GroundScale(1.0, 1.0, False)
        ov, ov_valid, _ = overview(src, bands)
        stretch = robust_stretch(ov, ov_valid)  # raises InputError when all nodata
        bounds = box(*src.bounds)
        aoi_union = None
        if aoi:
            aoi_union = union_over(aoi, bounds, "The area of interest does not overlap the image: draw it over "
                                   "the image or choose another layer.")
        px_m = scale.mean_m
        f = _working_factor(px_m, min_length_m)
        wx, wy = scale.x_m * f, scale.y_m * f
        pxw = math.sqrt(wx * wy)
        params = _Params(
            x_m=wx, y_m=wy, min_len=min_length_m, max_len=max_length_m, k_obj=_cfar_k(sensitivity),
            n_dir=N_DIRECTIONS, floor=0.004 * (np.asarray(stretch.hi) - np.asarray(stretch.lo)),
        )
        grid_w = -(-src.width // f)
        grid_h = -(-src.height // f)
        halo, _ = read_halo_px(px_m, min_length_m, max_length_m)
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
                # the reference only has to be right at large scale (it is refined per block):
                # compute it on a decimated copy, which bounds its time and memory
                fw = max(1, int(math.ceil(max(src.width, src.height) / WATER_MAX_PX)))
                wbands = bands + ([roles.nir] if roles.nir else [])
                wsrc_path = src_path
                wroles = dict(red=roles.red, green=roles.green, blue=roles.blue, nir=roles.nir)
                if fw > 1:
                    wsrc_path = os.path.join(tmpdir, "decimated.tif")
                    _decimated_copy(src, wbands, fw, wsrc_path, cancel)
                    wroles = dict(red=1, green=2, blue=3, nir=4 if roles.nir else None)
                wprog = (lambda v: progress(0.2 * v)) if progress else None
                wres = water_mask(wsrc_path, water_path_eff, progress=wprog, cancel=cancel, **wroles)
                notes.extend(n for n in wres.notes if "CRS" not in n)
                wsrc = rasterio.open(water_path_eff)
                p0 = 0.2
            elif water_path is not None:
                wsrc = rasterio.open(water_path)
                if (wsrc.crs is None) != (src.crs is None) or (wsrc.crs is not None and wsrc.crs != src.crs):
                    raise InputError("The water mask is not in the image's CRS: give a mask in the same CRS as "
                                     "the image (any pixel size).")
                if not box(*wsrc.bounds).intersects(box(*src.bounds)):
                    raise InputError("The water mask does not overlap the image: give a mask of the same place.")
            # overview of the water reference, for the checks on separate water bodies
            ov_tf = src.transform * src.transform.scale(src.width / ov.shape[2], src.height / ov.shape[1])
            if wsrc is not None:
                ov_water = _read_water(wsrc, box(*src.bounds), ov.shape[1:])
            else:
                ov_water = features.rasterize([(g, 1) for g in water_geoms if g is not None and not g.is_empty],
                                              out_shape=ov.shape[1:], transform=ov_tf, fill=0).astype(bool)
            ov_px_area = scale.x_m * scale.y_m * (src.width / ov.shape[2]) * (src.height / ov.shape[1])
            not_water = _not_water_components(ov, ov_valid, ov_water, SEPARATE_WATER_M2 / ov_px_area)

            pier_polys = [g for g, _ in (piers or []) if g is not None and g.geom_type in ("Polygon", "MultiPolygon")]
            wins = list(iter_windows(grid_w, grid_h, size, halo)) if aoi_union is None else \
                _aoi_windows(grid_w, grid_h, size, halo, aoi_union, wtf)
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
                    water0 = _read_water(wsrc, box(*rasterio.windows.bounds(read, wtf)), shape)
                else:
                    water0 = features.rasterize([(g, 1) for g in water_geoms if g is not None and not g.is_empty],
                                                out_shape=shape, transform=rt, fill=0, dtype="uint8").astype(bool)
                if not_water.any():
                    nw = np.zeros(shape, np.uint8)
                    rasterio.warp.reproject(not_water.astype(np.uint8), nw, src_transform=ov_tf, dst_transform=rt,
                                            src_crs=src.crs or "EPSG:3857", dst_crs=src.crs or "EPSG:3857",
                                            resampling=Resampling.nearest)
                    water0 &= nw == 0
                structure = cover = None
                if pier_polys:
                    structure = features.rasterize([(g, 1) for g in pier_polys], out_shape=shape, transform=rt,
                                                   fill=0, dtype="uint8").astype(bool)
                    if params.coarse:
                        cover = _pier_cover(pier_polys, shape, rt)
                cands, info = _block_candidates(x, valid, water0 & valid, params, structure, cover)
                cands = _suppress(cands, shape, params)
                cands = [c for c in cands if not c.feat.get("edge_cut")]
                for c in cands:
                    _refine(c, info["ctx"])
                cands = _drop_wakes(cands, params)
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
        # hulls found as a residual of the pier's mixed edge have passed a test that its own
        # edge does not pass (see _berth_strips)
        berth = {id(sh) for sh, (c, _) in zip(ships, found) if c.feat.get("source") == "berth"}
        if scale.georeferenced:
            for sh in ships:
                _measure_on_ground(sh, src.crs)
        ships = _dedupe(ships)
        if aoi_union is not None:
            ships = [s for s in ships if aoi_union.contains(s.polygon.centroid)]
        if piers:
            _attribute_piers(ships, piers, src.crs if scale.georeferenced else None,
                             max(PIER_SEARCH_M, 3 * px_m), max(DOCK_M, 1.5 * px_m), 1.0 / crs_unit_per_px)
            # crane booms, conveyors and catwalks reach out square to the berth face
            ships = _drop_crossing(ships, piers, src.crs if scale.georeferenced else None, px_m,
                                   1.0 / crs_unit_per_px, berth)
        if piers and not params.coarse:
            ships = _join_split_hulls(ships, JOIN_GAP_M, max_length_m, src.crs if scale.georeferenced else None)
        # after the piers: a boat moored at a given pier is docked, whatever its contact with land
        ships = _within_lengths(ships, min_length_m, max_length_m, LENGTH_TOL_PX * pxw)
        ships = _hull_shaped(ships, SQUARE_MIN_PX * pxw)
        method = (f"local-water CFAR contrast; hypotheses from directional line-opening residues "
                  f"({N_DIRECTIONS} directions), hull colour against the quay and brightness levels; "
                  f"half-contrast measurement; working pixel {pxw:.2f} {'m' if scale.georeferenced else 'px'}")
    if progress:
        progress(1.0)
    return ShipResult(ships=ships, pixel_size_m=px_m, units=units, method=method, notes=notes)


def _to_ship(c: _Cand, read: Window, wtf, p: _Params) -> Ship:
    """Oriented rectangle of the measured length and beam, in CRS coordinates."""
    cx = c.cx + read.col_off
    cy = c.cy + read.row_off
    ux, uy = math.cos(c.theta), math.sin(c.theta)  # metric axis direction
    length, beam = c.length, c.width
    pts = []
    for a, b in ((0.5, 0.5), (0.5, -0.5), (-0.5, -0.5), (-0.5, 0.5)):
        mx = a * length * ux - b * beam * uy
        my = a * length * uy + b * beam * ux
        pts.append(wtf * (cx + 0.5 + mx / p.x_m, cy + 0.5 + my / p.y_m))
    poly = Polygon(pts)
    # bow-stern axis, clockwise from grid north (rows grow southwards)
    heading = (90.0 + math.degrees(math.atan2(uy, ux))) % 180.0
    area = float(c.mask.sum()) * p.x_m * p.y_m
    contact = c.feat.get("contact", "")
    state = "anchored" if contact == "anchored" and c.feat.get("rafted", 0.0) < 0.3 else "docked"
    if state == "anchored" and c.feat.get("wake", 0.0) >= WAKE_MIN:
        state = "underway"
    ship = Ship(polygon=poly, length_m=float(length), width_m=float(beam), heading_deg=heading, area_m2=area,
                score=float(min(1.0, max(0.0, c.score))), state=state)
    return ship


def _ground_frame(crs, x0: float, y0: float):
    """A function mapping CRS coordinates to local east/north metres around (x0, y0), on the
    ellipsoid (local radii of curvature; exact to well under 0.1 % over a port)."""
    if crs is None:
        return lambda xs, ys: (np.asarray(xs, float) - x0, np.asarray(ys, float) - y0)
    from rasterio.warp import transform as warp_transform

    lon0, lat0 = warp_transform(crs, "EPSG:4326", [x0], [y0])
    lon0, lat0 = lon0[0], lat0[0]
    m, n = local_radii(lat0)
    kx = math.radians(1.0) * n * math.cos(math.radians(lat0))
    ky = math.radians(1.0) * m

    def f(xs, ys):
        lons, lats = warp_transform(crs, "EPSG:4326", list(map(float, xs)), list(map(float, ys)))
        return (np.asarray(lons) - lon0) * kx, (np.asarray(lats) - lat0) * ky

    return f


def _measure_on_ground(ship: Ship, crs) -> None:
    """Length, beam, area and heading of the ship's rectangle in ground metres."""
    xs, ys = ship.polygon.exterior.coords.xy
    c = ship.polygon.centroid
    f = _ground_frame(crs, c.x, c.y)
    ex, ny = f(xs[:4], ys[:4])
    a = math.hypot(ex[1] - ex[0], ny[1] - ny[0])
    b = math.hypot(ex[2] - ex[1], ny[2] - ny[1])
    # corners 0-1 run across the hull, 1-2 along it (see _to_ship)
    if a <= b:
        ship.width_m, ship.length_m = a, b
        ship.heading_deg = math.degrees(math.atan2(ex[2] - ex[1], ny[2] - ny[1])) % 180.0
    else:  # the measured beam came out longer than the length: the long side is the axis
        ship.width_m, ship.length_m = b, a
        ship.heading_deg = math.degrees(math.atan2(ex[1] - ex[0], ny[1] - ny[0])) % 180.0


def _long_axis(poly: Polygon):
    """Unit vector of a rectangle's long side and that side's length (CRS units)."""
    r = poly.minimum_rotated_rectangle
    xs, ys = r.exterior.coords.xy
    e1 = (xs[1] - xs[0], ys[1] - ys[0])
    e2 = (xs[2] - xs[1], ys[2] - ys[1])
    e = e1 if math.hypot(*e1) >= math.hypot(*e2) else e2
    n = math.hypot(*e)
    return (e[0] / n, e[1] / n), n


def _join_split_hulls(ships: List[Ship], max_gap_m: float, max_len: float, crs) -> List[Ship]:
    """Docked pieces at one pier, end to end on one line with a gap under ``max_gap_m``, are
    one hull cut in two by something across it: a quay crane's boom over a container ship
    split off its grey bow as a 21 x 13 m 'ship'. Ships moored nose to tail leave room for
    their mooring lines (``GAP_M``, about 15 m, is typical); the pieces are joined only where
    that gap would be resolved (3 px within ``GAP_M``), when the pieces lie on one line
    (within half a beam; on the longer piece's axis, since a stubby piece has no axis of its
    own) and when the whole is still a plausible hull (no longer than ``max_len``, at most
    ``MAX_ELONG`` times its beam: what :mod:`quayside.core.ships_serial` cut apart stays
    apart). ``crs``: the polygons' CRS for measuring on the ground (None: pixel units)."""
    out = list(ships)
    changed = True
    while changed:
        changed = False
        for i in range(len(out)):
            a = out[i]
            if a.state != "docked" or a.pier is None:
                continue
            for j in range(i + 1, len(out)):
                b = out[j]
                if b.state != "docked" or b.pier != a.pier:
                    continue
                stubby = min(a.length_m / max(a.width_m, 1e-9), b.length_m / max(b.width_m, 1e-9)) < 2.0
                if not stubby and abs((a.heading_deg - b.heading_deg + 90.0) % 180.0 - 90.0) > 8.0:
                    continue
                ref = a if a.length_m >= b.length_m else b  # the longer piece's axis (a stubby one has none)
                (ux, uy), la = _long_axis(ref.polygon)
                m_per = ref.length_m / max(la, 1e-9)
                pa = [x * ux + y * uy for x, y in a.polygon.exterior.coords]
                pb = [x * ux + y * uy for x, y in b.polygon.exterior.coords]
                gap = max(min(pb) - max(pa), min(pa) - max(pb)) * m_per
                ca, cb = a.polygon.centroid, b.polygon.centroid
                lateral = abs(-(cb.x - ca.x) * uy + (cb.y - ca.y) * ux) * m_per
                if gap > max_gap_m or lateral > 0.5 * max(a.width_m, b.width_m):
                    continue
                joined = a.polygon.union(b.polygon).minimum_rotated_rectangle
                ship = Ship(joined, 0.0, 0.0, 0.0, 0.0, max(a.score, b.score), "docked", a.pier, a.pier_distance_m)
                if crs is not None:
                    _measure_on_ground(ship, crs)
                else:
                    (_, _), ln = _long_axis(joined)
                    ship.length_m = ln
                    ship.width_m = joined.area / max(ln, 1e-9)
                    ship.heading_deg = a.heading_deg
                if ship.length_m > max_len or ship.length_m > MAX_ELONG * ship.width_m:
                    continue  # what split_serial cut apart (too long or too slim for one hull) stays apart
                ship.area_m2 = ship.length_m * ship.width_m
                out[i] = ship
                del out[j]
                changed = True
                break
            if changed:
                break
    return out


def _within_lengths(ships: List[Ship], min_len: float, max_len: float, tol: float) -> List[Ship]:
    """The ships whose measured length honours the analyst's limits, within ``tol``.

    A ship at anchor is measured against water at both ends, with no quay, partner or wake to
    blur them: one measured shorter than the minimum (beyond the tolerance the hypotheses are
    allowed) is shorter than the analyst wants reported -- a whitecap, or the deckhouse of a
    boat whose dark hull is not seen. Docked hulls are not judged so (a quay's mixed pixels
    trim their ends, and small true craft there measure short), nor ships under way (the
    cut between hull and wake may take a few metres off a small boat: an 18.5 m boat of the
    demo measured 12.9 m). No ship measured longer than the maximum is reported (the
    hypotheses were held to it, a measured outline may run on into the quay or a neighbour)."""
    return [s for s in ships if (s.state != "anchored" or s.length_m >= min_len - tol) and s.length_m <= max_len + tol]


def _hull_shaped(ships: List[Ship], min_len: float) -> List[Ship]:
    """The ships whose measured outline is longer than wide, once resolved.

    A hull is at least about twice as long as its beam (harbour tugs, the stubbiest craft,
    about 2.5 : 1). The hypotheses are held to that by their moments; the half-contrast
    measurement of the kept outline (:func:`_refine`) can still come out square, and a square
    object ``min_len`` or longer -- several pixels each way, so its shape is seen -- is a crane
    portal, a stack of boxes on a quay's edge or a patch of foam, not a vessel. Smaller ones
    are left alone: a boat two or three pixels long is blurred into a round blob."""
    return [s for s in ships if s.length_m < min_len or s.width_m <= SQUARE_RATIO * s.length_m]


def _dedupe(ships: List[Ship]) -> List[Ship]:
    """Suppress duplicates (the same ship seen from two overlapping windows), best score first."""
    from shapely.strtree import STRtree

    order = sorted(ships, key=lambda s: -s.score)
    kept: List[Ship] = []
    if not order:
        return kept
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = STRtree([s.polygon for s in order])
    index = {id(s.polygon): i for i, s in enumerate(order)}
    dropped = set()
    for i, s in enumerate(order):
        if i in dropped:
            continue
        kept.append(s)
        for g in tree.query(s.polygon):
            j = index[id(g)] if hasattr(g, "geom_type") else int(g)
            if j <= i or j in dropped:
                continue
            o = order[j].polygon
            inter = o.intersection(s.polygon).area
            if inter > 0.3 * min(o.area, s.polygon.area):
                dropped.add(j)
    return kept


def _drop_crossing(ships: List[Ship], piers, crs, px_m: float, unit: float, berth=frozenset()) -> List[Ship]:
    """The ships that are neither structures crossing the face of their pier nor slivers
    along its outline (:mod:`quayside.core.ships_piers`). Ships whose ``id`` is in ``berth``
    were found as what the pier's mixed edge does not explain (:func:`_berth_strips`):
    they are not slivers of that edge."""

    def frame(x0, y0):
        f0 = _ground_frame(crs, x0, y0)
        if crs is not None:
            return f0
        return lambda xs, ys: tuple(np.asarray(v) * unit for v in f0(xs, ys))

    drop = crossing_the_berth(ships, piers, frame, max(DOCK_M, 1.5 * px_m), max(10.0, 2 * px_m))
    sliver = hugging_the_outline(ships, piers, frame, max(px_m, 2.0))
    return [s for s, d, v in zip(ships, drop, sliver) if not (d or (v and id(s) not in berth))]


def _attribute_piers(ships: List[Ship], piers, crs, max_dist: float, dock_dist: float, unit: float = 1.0) -> None:
    """Nearest pier within ``max_dist`` ground metres; a ship within ``dock_dist`` of a pier
    is docked whatever its contact with the land mask said. Without a CRS distances are
    CRS units times ``unit`` (pixels)."""
    geoms = [(g, name) for g, name in piers if g is not None and not g.is_empty]
    if not geoms:
        return
    from shapely.ops import transform as shp_transform

    for s in ships:
        c = s.polygon.centroid
        f0 = _ground_frame(crs, c.x, c.y)
        f = f0 if crs is not None else (lambda xs, ys, f0=f0: tuple(np.asarray(v) * unit for v in f0(xs, ys)))

        def to_m(g, f=f):
            return shp_transform(lambda xs, ys, zs=None: f(xs, ys), g)

        hull = to_m(s.polygon)
        best = None
        # cheap prefilter in CRS units: a generous multiple of the search radius
        crs_per_m = max(s.polygon.length / max(hull.length, 1e-9), 1e-12)
        reach = s.polygon.buffer(3 * max_dist * crs_per_m + 1e-9)
        for g, name in geoms:
            if not g.intersects(reach):
                continue
            dist = hull.distance(to_m(g))
            if dist <= max_dist and (best is None or dist < best[0]):
                best = (dist, name)
        if best is not None:
            s.pier, s.pier_distance_m = best[1], float(best[0])
            if best[0] <= dock_dist and s.state != "docked":
                s.state = "docked"


