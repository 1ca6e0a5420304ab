"""Container detection in optical images: stacks, boxes, TEU and yard occupancy.

Classical image analysis (numpy, scipy, rasterio, shapely); no learning, nothing
downloaded. Every step works on one block of the raster at a time (with a halo).

Method
------
1. **Ground model, lit and shadowed.** Bands are put on one common scale (1-99 %
   of the overview over all bands, so colour balance is kept). The yard surface
   is the commonest near-neutral colour: its per-band median over ~60 m (or 20
   pixels at coarse resolution) of near-neutral pixels is the *lit ground*. A
   shadow is lit by the sky alone, so shadowed ground is the lit ground times a
   per-band factor that is the same over the scene (bluish, as the sky is:
   the ratio of direct to diffuse light, Finlayson et al. 2006 on illuminant
   invariance; Tsai 2006 on shadow detection in colour aerial images); the
   factor is measured on the commonest dark level of each block.
2. **Box pixels.** A pixel is box-like when its log-colour distance to the
   nearer of the two ground colours is large: a box differs from the ground it
   stands on in colour or brightness whether it is lit or in the shadow of a
   higher stack (a grey box in shadow is brighter than the shadowed ground, a
   blue one bluer). An opening of ~1.3 m (at least 2 px) removes what is
   narrower than a box: mixed pixels along shadow edges, painted lines, joints,
   crane girders (Soille 2003, ch. 4). At ~1 m, where that opening is 2 x 2, a
   thin bar at an angle survives as a staircase of 2 x 2 steps; only mask parts
   within 2 px of a 3-px-thick core are kept (:func:`_near_core`), which drops
   the girders of gantry cranes over an empty yard.
3. **Blocks and their grid.** Connected pieces of the (slightly closed) mask
   are candidate blocks. Each block's grid orientation comes from the
   structure tensor of the brightness gradient folded to 90 degrees
   (the angle of ``sum |g|^2 exp(4 i phi)``: rows and box ends are at right
   angles, Bigun & Granlund 1987; Kass & Witkin 1987), and the principal axis
   of the block decides which of the two directions runs along the rows. The
   block is resampled into that grid frame (u along the rows, v across).
4. **Rows** (box mode, pixels <= 1 m). The across-row colour-change profile is
   matched with a comb at the row pitch (2.5-3.2 m: 2.44 m boxes with their
   handling gaps); the score is a contrast -- teeth on the gaps minus teeth half
   a pitch away, on the box tops -- so busy box tops do not pull the comb off
   the gaps. This is the one-dimensional form of lattice fitting for regular
   structures (e.g. Hays et al. 2006). A block too narrow for two rows is one
   row centred on its mask.
5. **Bays: a lattice shared by the rows.** In a block, boxes of one bay have
   one length, so box ends line up across the rows. The boundary evidence --
   colour change along the row, the dark dip of door ends and gaps, and where a
   row's boxes start or stop -- is summed over the rows, and the block's extent
   is cut into 20 ft (6.06 m) and 40 ft (12.19 m) bays, each with a 0.25-0.7 m
   gap, by dynamic programming (each boundary scores its evidence minus a
   cost: without evidence one 40 ft bay beats two 20 ft ones). Each lattice
   cell (row x bay) is occupied when the box mask covers nearly half of it
   (``CELL_T``; the opening trims the mask along a box's rim, and a box painted
   near the ground's grey shows part of its top only), or a third of it in a
   cell darker than 0.6 x the lit ground (``CELL_T_SHADOW``: in the shadow of a
   higher stack a box differs less from the shadowed ground; at a 34 degree sun
   the 1 m demo series lost 18 % of its TEU with a half-cover rule): this gives
   box counts, the 20/40 ft split and the footprint at once, and a dark box in
   a shadow is counted with its bay even when its own ends are invisible. The
   granulometric reading of lengths (Matheron 1975; Serra 1982) is what tells
   a 20 ft from a 40 ft box. A block cut by the edge of the image starts (or
   ends) inside a box: there the lattice may begin before the cut (run past
   it) by up to a 40 ft box.
6. **Look-alikes.** At pixels of 0.6 m or finer, a row's boxes must show their own
   ends: a row of a block whose internal bay boundaries show no colour change, gap
   dip or end of cover *in that row* (under half of them, with 3 or more) is a
   surface that the closing merged into the block -- a verge, a car park's paving
   and cars, a roof edge -- cut into cells by the other rows' box ends, and is
   dropped (at 1 m the 0.3-0.5 m gaps are sub-pixel and one row is too faint to
   tell: there it cost 1.3 points of TEU and removed no look-alike; at 0.5 m it
   lost no TEU over five synthetic seeds and removed quay edges, crane rails and
   crane houses on the real 0.5 m terminal). A block is dropped when its fitted
   boxes explain under ~45 % of its area (car and trailer parks: ground between the vehicles), when
   fewer than half of its bay boundaries show a box end (a coal or ore heap, a
   ribbed roof or a slab cut into bays shows none), or when its boxes are all
   one colour -- in brightness or, for 8 boxes or more, in hue: ribs, skylights
   and shade vary a roof's brightness, not its hue -- while a yard block mixes
   the colours of many lines. Many lines paint their boxes white or grey, so a
   block may be mostly neutral: at 0.6 m or finer it is kept when a quarter of
   its boxes lie far from its median hue (a roof's boxes all lie within 0.04; at
   1 m car rows look the same, and the median alone decides). Also at 0.6 m or
   finer, a block of 5 cells or more with over 15 % of its mask in pieces smaller
   than a box is parked cars, each a body of its own (:func:`_small_piece_share`).
   At 0.6-1 m, a block of 8 cells or more whose boundaries repeat more strongly at
   a parked vehicle's pitch (3.3-5 m, across or along its rows) than at a box
   row's (2.5-3.2 m) is a trailer, lorry or car park (:func:`_vehicle_pitch`).
   Also at 0.6-1 m, a block of up to 6 cells whose ground on the side away from the
   sun is not in shadow is the house or girders of a yard crane, 15-21 m up, whose
   shadow falls metres away (:func:`_unshadowed_small_blocks`; the sun's side and
   the shadow to expect are read from the image's blocks, and under a high sun
   nothing is judged). At 0.5 m the row-ends test already removes crane houses.
7. **Coarse pixels** (area mode, > 1 m): boxes are not resolved; the pixels
   of step 2 cover the blocks; their area times the share of a block that is
   box footprint (``AREA_FILL`` = 0.83: 2.44 m boxes at a ~2.8 m row pitch and
   ~0.4 m gaps between 6-12 m boxes along a row) over 14.8 m^2 per TEU gives
   the TEU (:func:`_area_pieces`). Pieces of 1000 m^2 or more are judged first
   on their own and dropped when they are one material: one hue throughout
   (chromaticity spread, brightness removed: a roof, a heap), green throughout
   (trees, grass), dark and colourless (median max - min band under
   ``AREA_NEUTRAL_T`` of the ground's brightness, in linear units because the
   chromaticity of dark pixels is mostly noise: a coal heap), and, where a
   pixel is no larger than a box (3 m), colourless at any brightness (white
   cabins and grey frames of yard machines) or of a hue that changes only
   slowly from pixel to pixel (heaps of two colours side by side, soil, roofs;
   neighbouring pixels of a block see different boxes). At those pixels the
   rest is then grouped into blocks by a closing of one pixel -- the grey and
   white boxes leave holes, and a block's pixels are otherwise scattered
   fragments under the size of two boxes -- and each block is judged again
   the same way and counted whole.
8. **Yards.** Given yards keep the stacks inside them. Without yards, yards
   are found automatically: the stacks closed by ~25 m (4 pixels at coarse
   resolution) into regions, kept when large enough (0.25 ha; 5 ha at coarse
   pixels), at most 2 km^2, compact (area >= 45 % of the convex hull), at
   least 20 % covered by boxes and within 400 m of water (given mask or
   :func:`quayside.core.water.water_mask`); the notes say so. Occupancy = box
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
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import rasterio
from rasterio import features
from rasterio.enums import Resampling
from rasterio.windows import Window
from rasterio.windows import transform as window_transform
from scipy import ndimage
from shapely.geometry import Polygon, box
from shapely.geometry import shape as _shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from .errors import InputError
from .geo import GroundScale, crs_units_per_metre, dataset_ground_scale
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
    union_over,
    window_from_bounds,
)

L20 = 6.06  # ISO 668: 20 ft box, metres
L40 = 12.19  # 40 ft box
BOX_W = 2.44  # both
TEU_M2 = L20 * BOX_W  # 14.8 m2 footprint of one TEU
GAP_M = 0.4  # typical handling gap between boxes in a row
PITCH_MIN_M, PITCH_MAX_M = 2.5, 3.2  # row pitch of a block
AREA_HUE_T = 0.05  # area mode: median chromaticity spread of a covered piece's pixels (8 px or more)
HUE_VARIETY_T = 0.075  # box mode: median chromaticity spread of a block's boxes (8 boxes or more)
HUE_QUARTER_T = 0.25  # fine pixels: ... unless a quarter of its boxes are this far from its median hue
VARIETY_T = 0.2  # median log-colour spread of a block's boxes below which it is one surface
BAY_SUPPORT_T = 0.5  # share of a block's bay boundaries that must show box ends
ROW_ENDS_MIN = 3  # internal boundaries a row needs before its own box ends are asked for
ROW_ENDS_MAX_M = 0.6  # pixels up to this size resolve one row's box ends (0.3-0.5 m gap, door shade)
VEHICLE_PITCH_M = (3.3, 5.0)  # side-by-side pitch of parked trailers, lorries and car pairs, not of box rows
VEHICLE_EXCESS = 0.7  # comb contrast at a vehicle pitch over that at a row pitch that makes a block a park
VEHICLE_MIN_BOXES = 8  # ... judged on blocks of at least this many cells (shorter profiles are noise)
CAR_M2 = 10.0  # a piece of box mask under this is smaller than any box (20 ft: 14.8 m^2; a car: 8.3 m^2)
CAR_SHARE_MAX = 0.15  # at fine pixels, a block with more of its mask than this in such pieces is parked cars
CAR_MIN_BOXES = 5  # ... judged on blocks of at least this many cells
SUN_DIRS = 16  # directions in which the ground beside a block is searched for its shadow
SHADOW_REACH_M = 3.0  # ... within this distance of the block
SUN_REF_MAX_BLOCKS = 2000  # the blocks that show where the sun casts shadows (the first ones found) ...
SUN_SHADOW_MIN = 0.6  # ... when a quarter of them have at least this much shadow on that side (sun low enough)
SMALL_BLOCK_MAX = 6  # a block of at most this many cells ...
SHADOW_REL = 0.5  # ... is dropped when its down-sun ground is under this share of that shadow
CELL_T = 0.45  # share of a lattice cell the box mask must cover for a box to be counted there ...
CELL_T_SHADOW = 0.35  # ... and in a cell darker than SHADOW_CELL_REL x the lit ground (in a stack's shadow)
SHADOW_CELL_REL = 0.6
BAY_COST = 3.0  # evidence (in units of a row's median) a bay boundary needs
GROUND_M = 60.0  # the lit ground is the median surface within this distance
GROUND_PX = 20.0  # ... or within this many pixels, whichever is wider
GROUND_T = 0.28  # log-colour distance to the ground above which a pixel is box
GROUND_T_AREA = 0.28  # coarse pixels (0.2 was tried: +32 % TEU, empty yards 6-14 %)
SHADOW_K = 0.3  # shadowed / lit ground when a window shows too little shadow to measure it
AREA_NEUTRAL_T = 0.085  # area mode: median chroma / ground brightness below which a dark piece is colourless
AREA_LOCAL_HUE_T = 0.065  # area mode: median pixel-to-pixel chromaticity change below which a piece is one material
AREA_MATERIAL_M2 = 1000.0  # area mode: pieces this large (a roof, a heap, a wood) are judged before the closing
AREA_COLOURLESS_T = 0.15  # area mode: ... below which any piece is colourless (machines, white roofs, slabs)
AREA_FILL = 0.83  # box footprint share of a block's covered area (gaps between rows and bays)
AREA_MIN_TEU = 2.0  # area mode: smallest covered piece, in box footprints
AREA_CLOSE = np.ones((3, 3), bool)  # area mode: holes a block's boxes leave (one pixel)
BOX_MODE_MAX_M = 1.0  # pixels up to this size count boxes
HALO_M = 64.0
AUTO_CLOSE_M = 25.0
AUTO_MIN_M2 = 2500.0
AUTO_MIN_TEU = 20.0
AUTO_MIN_M2_AREA = 5.0e4  # at coarse pixels only a terminal-sized yard (5 ha) can be told from a town
AUTO_MAX_M2 = 2.0e6  # a terminal's stacking area is at most a couple of km2
AUTO_MIN_SOLIDITY = 0.45  # yard area / its convex hull: terminals are compact
AUTO_MIN_FILL = 0.2  # box footprint / yard area
AUTO_WATER_M = 400.0  # a terminal lies along a quay

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
    sensitivity: float
    ground_t: float = 0.28
    cell_t: float = CELL_T


# --------------------------------------------------------------------------------------------
# pixels


def _local_median(v: np.ndarray, m: np.ndarray, px: float, size_m: float = 60.0) -> np.ndarray:
    """Median of ``v`` over pixels ``m`` in a ~``size_m`` neighbourhood (on a 4 m decimated copy)."""
    f = max(1, int(round(4.0 / px)))
    h, w = v.shape
    hh, ww = -(-h // f), -(-w // f)
    pad = np.zeros((hh * f, ww * f), np.float32)
    padv = np.zeros((hh * f, ww * f), np.float32)
    pad[:h, :w] = np.where(m, v, 0)
    padv[:h, :w] = m
    s = pad.reshape(hh, f, ww, f).sum(axis=(1, 3))
    n = padv.reshape(hh, f, ww, f).sum(axis=(1, 3))
    ok = n > 0.25 * f * f
    d = np.where(ok, s / np.maximum(n, 1), np.nan)
    fill = float(np.nanmedian(d)) if ok.any() else float(np.median(v))
    d = np.where(ok, d, fill)
    size = max(3, int(round(size_m / (f * px))) | 1)
    g = ndimage.median_filter(d, size=size, mode="nearest")
    up = np.repeat(np.repeat(g, f, axis=0), f, axis=1)[:h, :w]
    return up.astype(np.float32)


def _ground_model(x: np.ndarray, valid: np.ndarray, px: float) -> Tuple[np.ndarray, np.ndarray]:
    """Colour of the lit ground (3, h, w; local) and the per-band ratio of shadowed to lit ground (3,).

    The yard surface is the commonest near-neutral colour; its local median over ~60 m is
    the lit ground. Shadows on it are lit by the sky alone, so a shadowed surface is the
    lit one times a per-band factor that is the same over the scene (bluish: the sky is);
    the factor is the median ratio of the commonest dark level to the lit ground."""
    e = 0.02
    bright = x.mean(axis=0)
    rc = (x.max(axis=0) - x.min(axis=0)) / (bright + e)
    neutral = valid & (rc < 0.25)
    size_m = max(GROUND_M, GROUND_PX * px)  # coarse pixels: wider than a whole terminal
    g0 = _local_median(bright, neutral, px, size_m)
    lit = neutral & (bright > 0.6 * g0) & (bright < 1.6 * g0)
    if lit.sum() < 50:
        lit = neutral if neutral.sum() >= 50 else valid
    gl = np.stack([_local_median(b, lit, px, size_m) for b in x])
    gb = gl.mean(axis=0)
    rb = bright / np.maximum(gb, 1e-4)
    sh = valid & (rb > 0.05) & (rb < 0.55)
    k = np.full(x.shape[0], SHADOW_K, np.float32)
    if sh.sum() >= 200:
        hist, edges = np.histogram(rb[sh], bins=50, range=(0.0, 0.55))
        mode = edges[int(np.argmax(hist))] + 0.0055
        near = sh & (np.abs(rb - mode) < 0.2 * mode)
        if near.sum() >= 100:
            k = np.array([float(np.median(x[b][near] / np.maximum(gl[b][near], 1e-4))) for b in range(x.shape[0])],
                         np.float32)
            k = np.clip(k, 0.05, 0.7)
    return gl, k


def _ground_distance(x: np.ndarray, gl: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Log-colour distance of each pixel to the nearer of the lit and the shadowed ground."""
    e = 0.02
    lx = np.log(x + e)
    dl = np.sqrt(np.mean((lx - np.log(gl + e)) ** 2, axis=0))
    ds = np.sqrt(np.mean((lx - np.log(k[:, None, None] * gl + e)) ** 2, axis=0))
    return np.minimum(dl, ds)


def _container_mask(x: np.ndarray, valid: np.ndarray,
                    p: _Params) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pixels that are neither lit nor shadowed ground, opened at the box scale.

    A box differs from the ground it stands on in colour or in brightness whether it is
    lit or in the shadow of a higher stack (a grey box in shadow is brighter than the
    shadowed ground; a blue one bluer than either). Shadow edges (mixed pixels), painted
    lines, joints and crane girders are narrower than a box and go with the opening."""
    xc = np.clip(x, 0.0, None)
    gl, k = _ground_model(xc, valid, p.px)
    d = _ground_distance(xc, gl, k)
    m = valid & (d > p.ground_t)
    r = max(2, int(round(1.3 / p.px))) if p.box_mode else 1
    if r >= 2:
        m = ndimage.binary_opening(m, np.ones((r, r), bool))
    if r == 2:
        m &= _near_core(m)
    bright = xc.mean(axis=0)
    chroma = xc.max(axis=0) - xc.min(axis=0)
    return m, bright, chroma, gl


def _near_core(m: np.ndarray) -> np.ndarray:
    """Pixels of an opened mask within 2 px of a part that is 3 px thick in both axes.

    At about 1 m a 2 x 2 opening keeps a box row (2.44 m: 2-3 px) but also the
    staircase of a thin bar drawn at an angle: a one-pixel girder of a rubber-tyred
    gantry, a light mast or a fence leaves a chain of 2 x 2 steps that the closing
    joins again into a "row". A box or a block holds a 3-px cross somewhere (its
    middle); a staircase holds none. Parts of the mask further than 2 px from such a
    core go: the 2-px fringes of a block and its shadowed, half-detected boxes stay,
    isolated thin chains do not."""
    core = ndimage.binary_opening(m, ndimage.generate_binary_structure(2, 1))
    return ndimage.binary_dilation(core, np.ones((3, 3), bool), iterations=2)


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
    """Row pitch and phase (chip pixels) of the boundaries between rows.

    A comb of teeth at the boundaries scores the across-row colour change there minus
    the change half a pitch away (inside the boxes): a contrast, so that a block with
    busy box tops does not pull the teeth off the gaps."""
    best = (-1e9, PITCH_MIN_M / px, 0.0)
    for pm in np.arange(PITCH_MIN_M, PITCH_MAX_M + 1e-6, 0.05):
        pp = pm / px
        for ph in np.arange(0.0, pp, 0.2):
            s = _comb(edge, pp, ph) - _comb(edge, pp, ph + pp / 2)
            if s > best[0]:
                best = (s, pp, ph)
    return best[1], best[2]


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
    rgb: Optional[np.ndarray] = None


def _block_boxes(lab_slice, comp: np.ndarray, m: np.ndarray, x: np.ndarray, bright: np.ndarray,
                 p: _Params, colour_scale: float, ground: Optional[np.ndarray] = None) -> List[_Box]:
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
    gch = None if ground is None else ndimage.map_coordinates(ground, coords, order=1, mode="nearest")
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
    def band(vc: float) -> Tuple[int, int]:
        """Chip rows of the band around a row's centre line (0.3 pitch either side)."""
        return max(int(math.floor(vc - 0.3 * pitch)), 0), min(int(math.ceil(vc + 0.3 * pitch)), nv)

    rows_m = []  # per row: (vc, coverage profile, boundary evidence profile, colour profile)
    for vc in centres:
        lo, hi = band(vc)
        if hi - lo < 1:
            continue
        o = mk[lo:hi].mean(axis=0)
        if (o > 0.5).sum() * p.px < 4.0:
            continue
        prof = ch[:, lo:hi, :].mean(axis=1)  # (3, nu)
        bprof = br[lo:hi].mean(axis=0)
        dprof = np.zeros(nu, np.float32)
        dprof[1:-1] = np.abs(prof[:, 2:] - prof[:, :-2]).sum(axis=0)
        env = ndimage.maximum_filter1d(bprof, max(3, int(round(3.0 / p.px)) | 1))
        dip = np.maximum(env - bprof, 0.0)
        ev = dprof + 2.0 * dip
        rows_m.append((vc, o, ev, prof))
    if not rows_m:
        return []
    # a block cut by the edge of the image (or of the window read, which is the image's edge:
    # windows are read with a halo) starts or ends with part of a box
    hh, ww = m.shape
    at_edge = (rows + r0 <= 0) | (rows + r0 >= hh - 1) | (cols + c0 <= 0) | (cols + c0 >= ww - 1)
    # (at one end only: an edge along the rows cuts the block lengthwise, not its bays)
    cut = (False, False)
    if at_edge.any():
        ue = u[at_edge]
        reach = 0.25 * (u.max() - u.min())
        cut = (bool(ue.max() <= u.min() + reach), bool(ue.min() >= u.max() - reach))
    bays = _fit_bays(rows_m, nu, p.px, cut)
    out: List[_Box] = []
    shrink = max(1, int(round(0.6 / p.px)))
    for vc, o, ev, prof in rows_m:
        row_out: List[_Box] = []
        row_bays = []
        lo_, hi_ = band(vc)
        for (ua_px, ub_px, ft) in bays:
            j0 = int(math.floor(ua_px)) + shrink
            j1 = int(math.ceil(ub_px)) - shrink
            j0, j1 = max(j0, 0), min(j1, nu)
            if j1 <= j0:
                continue
            seg = o[j0:j1]
            cov = float(seg.mean())
            t_cell = p.cell_t
            if gch is not None:
                rel = float(br[lo_:hi_, j0:j1].mean()) / max(float(gch[lo_:hi_, j0:j1].mean()), 1e-4)
                if rel < SHADOW_CELL_REL:
                    t_cell = CELL_T_SHADOW
            if cov < t_cell:
                continue
            ua, ub = u0 + ua_px, u0 + ub_px
            va, vb = v0 + vc - half_w, v0 + vc + half_w
            us = np.array([ua, ub, ub, ua])
            vs = np.array([va, va, vb, vb])
            xs = us * ca - vs * sa + c0
            ys = us * sa + vs * ca + r0
            rgb = prof[:, j0:j1].mean(axis=1)
            row_out.append(_Box(np.stack([xs, ys], axis=1), ft, 2.0 if ft == 40 else 1.0,
                                (ub_px - ua_px) * 2 * half_w, _colour_name(rgb, colour_scale),
                                round(min(1.0, cov), 3), rgb))
            row_bays.append((ua_px, ub_px))
        if p.px <= ROW_ENDS_MAX_M and not _row_shows_ends(o, ev, row_bays, p.px):
            continue  # a surface cut into cells by its neighbours' box ends, not a row of boxes
        out.extend(row_out)
    if p.px <= ROW_ENDS_MAX_M and len(out) >= CAR_MIN_BOXES and _small_piece_share(comp, p.px) > CAR_SHARE_MAX:
        return []  # parked cars: separate bodies, each smaller than a box, cut into box-sized cells
    if p.px > ROW_ENDS_MAX_M and len(out) >= VEHICLE_MIN_BOXES:
        du = np.abs(np.diff(ch, axis=2)).sum(axis=0)  # (nv, nu-1): colour change along the rows
        wu = np.maximum(mk[:, 1:], mk[:, :-1])
        edge_u = (du * wu).sum(axis=0) / np.maximum(wu.sum(axis=0), 1.0)
        if _vehicle_pitch(edge_v, edge_u, p.px) > VEHICLE_EXCESS:
            return []  # a park of trailers, lorries or cars cut into box-sized cells
    return out


def _small_piece_share(comp: np.ndarray, px: float) -> float:
    """Share of a block's box mask in connected pieces smaller than any box (``CAR_M2``).

    At 0.5 m the handling gaps between boxes (0.3-0.5 m) are under a pixel and the boxes of
    a block make one piece of mask, or a few (a grey box near the ground's colour breaks it
    up: over the yard blocks of five synthetic ports at most 7 % of the mask, in blocks of 5
    boxes or more, lies in pieces under 10 m^2). Cars are 1.8 m wide at a 2.5 m pitch, so
    the 0.7 m of asphalt between them shows, and each car is a piece of its own of about
    8 m^2: 21-71 % of the mask of the car-park blocks that passed the other tests."""
    lab, n = ndimage.label(comp, structure=np.ones((3, 3), bool))
    if n == 0:
        return 0.0
    area = np.bincount(lab.ravel())[1:] * (px * px)
    return float(area[area < CAR_M2].sum() / area.sum())


def _pitch_contrast(edge: np.ndarray, px: float, lo_m: float, hi_m: float) -> float:
    """Best comb contrast (teeth minus teeth half a pitch away, as in :func:`_fit_rows`) of a
    boundary profile over pitches ``lo_m``..``hi_m`` and all phases, in units of the
    profile's mean (all phases of a pitch at once)."""
    n = len(edge)
    e = edge / max(float(edge.mean()), 1e-9)

    def comb(pp: float, ph: np.ndarray) -> np.ndarray:
        pos = ph[:, None] + pp * np.arange(int(n / pp) + 2)[None, :]
        ok = pos < n - 1
        i = np.floor(np.where(ok, pos, 0.0)).astype(int)
        t = np.where(ok, pos, 0.0) - i
        vals = e[i] * (1 - t) + e[np.minimum(i + 1, n - 1)] * t
        cnt = ok.sum(axis=1)
        return np.where(cnt >= 2, (vals * ok).sum(axis=1) / np.maximum(cnt, 1), -1.0)

    best = -1e9
    for pm in np.arange(lo_m, hi_m + 1e-6, 0.05):
        pp = pm / px
        ph = np.arange(0.0, pp, 0.2)
        best = max(best, float((comb(pp, ph) - comb(pp, ph + pp / 2)).max()))
    return best


def _vehicle_pitch(edge_v: np.ndarray, edge_u: np.ndarray, px: float) -> float:
    """How much more regular a block's boundaries are at a vehicle's pitch than at a box row's.

    Boxes stand in rows 2.44 m wide at a 2.5-3.2 m pitch, end to end along a row (6.1 or
    12.2 m). Vehicles are parked side by side with room to open a door or walk between
    them: trailers and lorries (2.55 m wide) at 3.4-4.5 m; cars, 4.6 m long, stand in pairs
    nose to nose, so across their rows they repeat every 5 m or so. At 1 m a trailer park
    is cut into the lattice of a yard block either way round -- rows along the trailers at
    the wrong pitch, or across them with a trailer gap every 3-4 pixels along each 'row' --
    and its cells pass every other test. Its boundaries
    then repeat more strongly at 3.3-5 m (across or along the rows) than at the row pitch
    across them. Returns that excess (comb contrast in units of each profile's mean; over
    the yard blocks of 8 boxes or more of five synthetic ports at 1 m it is at most 0.5,
    over their trailer and car parks 0.6-1.7). At 0.5 m box tops and shadows add detail at
    every pitch (yard blocks up to 1.3), and a row's own box ends are asked for instead."""
    lo, hi = VEHICLE_PITCH_M
    rows = _pitch_contrast(edge_v, px, PITCH_MIN_M, PITCH_MAX_M)
    vehicles = max(_pitch_contrast(edge_v, px, lo, hi), _pitch_contrast(edge_u, px, lo, hi))
    return vehicles - rows


def _row_shows_ends(o: np.ndarray, ev: np.ndarray, cells: List[Tuple[float, float]], px: float) -> bool:
    """Do the boundaries between a row's adjacent occupied cells show box ends in that row?

    The block's bays are shared by its rows, so a row merged into a block from a
    neighbouring surface (a verge of grass, a roof edge, a slab) is cut into cells by
    the other rows' box ends. A row of boxes shows its own ends -- the colour change or
    the dark gap between two boxes -- at most of its internal boundaries; a surface
    shows none."""
    bounds = [0.5 * (cells[i][1] + cells[i + 1][0]) for i in range(len(cells) - 1)
              if cells[i + 1][0] - cells[i][1] < 1.5 / px]
    if len(bounds) < ROW_ENDS_MIN:
        return True
    occ = o > 0.5
    med = float(np.median(ev[occ])) if occ.any() else 0.0
    trans = np.zeros(len(o), np.float32)
    trans[1:-1] = np.abs(o[2:] - o[:-2])
    e = np.minimum(ev / (med + 0.02), 5.0) + 3.0 * trans
    w = max(1, int(round(0.4 / px)))
    eb = ndimage.maximum_filter1d(e, 2 * w + 1)
    sup = [float(eb[min(max(int(round(b)), 0), len(eb) - 1)]) > BAY_COST for b in bounds]
    return float(np.mean(sup)) >= BAY_SUPPORT_T


def _fit_bays(rows_m, nu: int, px: float, cut: Tuple[bool, bool] = (False, False)) -> List[Tuple[float, float, int]]:
    """Bays of a block shared by all its rows: (start, end, 20 | 40) in chip pixels along u.

    The box ends of a block line up across its rows (a bay holds boxes of one length), so
    the evidence for a bay boundary -- colour change, the dark door-end/gap dip and the end
    of a row's boxes -- is summed over the rows, and the block's occupied extent is cut
    into 20 and 40 ft bays (plus a 0.25-0.7 m handling gap each) by dynamic programming,
    each boundary scoring its evidence minus a cost: without evidence a 40 ft bay wins.

    ``cut`` (start, end): the block is cut there by the edge of the image, so its extent
    starts (ends) inside a box, and the first (last) bay may begin before it (run past it)
    by up to a 40 ft box: held to the cut, the lattice fell between the true box ends and a
    block at the image's edge showed too few of them to pass as boxes (whole blocks lost on
    three of five synthetic ports at 0.5 m)."""
    occ_any = np.zeros(nu, bool)
    e = np.zeros(nu, np.float64)
    n = np.zeros(nu, np.float64)
    near = max(1, int(round(1.5 / px)))
    for _, o, ev, _ in rows_m:
        occ = o > 0.5
        occ_any |= occ
        med = float(np.median(ev[occ])) if occ.any() else 0.0
        trans = np.zeros(nu, np.float32)
        trans[1:-1] = np.abs(o[2:] - o[:-2])
        act = ndimage.maximum_filter1d(occ.astype(np.uint8), 2 * near + 1) > 0
        e += act * (np.minimum(ev / (med + 0.02), 5.0) + 3.0 * trans)
        n += act
    e = e / np.maximum(n, 1.0)
    idx = np.nonzero(occ_any)[0]
    if len(idx) == 0:
        return []
    a, b = int(idx[0]), int(idx[-1]) + 1
    # evidence at a boundary position k (between pixels k-1 and k); positions are offset by
    # ``off`` so that a bay may begin before the chip when the block is cut at its start
    w = max(1, int(round(0.4 / px)))
    free = int(math.ceil((L40 + 0.7) / px))
    off = free if cut[0] else 0
    eb = ndimage.maximum_filter1d(np.concatenate([np.zeros(off), e, np.zeros(free + 1)]), 2 * w + 1)
    a, b = a + off, b + off
    cost = BAY_COST
    steps = []
    for ft, ln in ((20, L20), (40, L40)):
        s_lo = max(1, int(math.floor((ln + 0.25) / px)))
        s_hi = int(math.ceil((ln + 0.7) / px))
        steps.append((ft, ln / px, range(s_lo, s_hi + 1)))
    tol = max(1, int(round(0.8 / px)))
    size = b + tol + 2
    best = np.full(size + 1, -np.inf)
    back = [None] * (size + 1)
    for s0 in range(max(0, a - 1 - off), min(size, a + 2)):
        best[s0] = 0.0
    end_best, end_k, end_ft = -np.inf, None, None
    for k in range(size + 1):
        if not np.isfinite(best[k]):
            continue
        for ft, lpx, rng in steps:
            end = k + lpx
            if abs(end - b) <= tol or (cut[1] and b - tol <= end <= b + lpx):
                sc = best[k] - (0.0 if cut[1] and end >= b else 0.1 * abs(end - b))
                if sc > end_best:
                    end_best, end_k, end_ft = sc, k, ft
            for st in rng:
                j = k + st
                if j > size or j + lpx * 0 > b:
                    continue
                sc = best[k] + float(eb[min(j, nu + off)]) - cost
                if sc > best[j]:
                    best[j] = sc
                    back[j] = (k, ft)
    if end_k is None:
        return []
    out = []
    k, ft = end_k, end_ft
    while True:
        lpx = (L20 if ft == 20 else L40) / px
        out.append((float(k - off), float(k - off) + lpx, ft))
        if back[k] is None:
            break
        k, ft = back[k]
    out = out[::-1]
    if len(out) >= (2 if any(cut) else 3):
        # box ends at the bay boundaries: every boundary of a real block is a gap between
        # boxes somewhere along it; a heap or a roof cut into bays shows none (nor does a
        # short row cut by the image's edge, whose lattice was free to begin anywhere)
        sup = [float(eb[min(int(round(b0)) + off, nu + off)]) > cost for b0, _, _ in out[1:]]
        if np.mean(sup) < BAY_SUPPORT_T:
            return []
    return out


def _hue_spread(rgb: np.ndarray, q: float = 50.0) -> float:
    """Median (or ``q`` percentile) distance of log-chromaticities (brightness removed) to
    their median; rgb (n, 3)."""
    lc = np.log(np.clip(np.asarray(rgb, np.float64), 0.0, None) + 0.02)
    ch = lc - lc.mean(axis=1, keepdims=True)
    return float(np.percentile(np.sqrt(((ch - np.median(ch, axis=0)) ** 2).mean(axis=1)), q))


def _local_hue_change(x: np.ndarray, comp: np.ndarray) -> float:
    """Area mode: median over a piece's pixels of the change of chromaticity from pixel to
    pixel (standard deviation of the log-chromaticity over each pixel's 3 x 3 neighbours
    in the piece, RMS over the bands); ``x`` (3, h, w) and ``comp`` (h, w) cover the piece.

    Neighbouring pixels of a block of boxes see different boxes, painted in the lines'
    colours, so the chromaticity changes from one pixel to the next (0.07-0.18 over the
    synthetic yards' blocks at 3 m). A heap of ore, sulphur or gravel, a roof, bare soil or a
    slab is one material: across it the shading and the relief change the brightness, and
    the chromaticity changes only slowly (0.03-0.055), even where the closing joined heaps of
    two colours into one piece -- which the spread of the piece's hues alone
    (:func:`_hue_spread`) then took for a mix of boxes."""
    lc = np.log(np.clip(x, 0.0, None) + 0.02)
    ch = lc - lc.mean(axis=0, keepdims=True)
    w = comp.astype(np.float64)
    n = np.maximum(ndimage.uniform_filter(w, 3, mode="constant"), 1e-9)
    var = np.zeros(comp.shape)
    for b in range(ch.shape[0]):
        m1 = ndimage.uniform_filter(ch[b] * w, 3, mode="constant") / n
        m2 = ndimage.uniform_filter(ch[b] * ch[b] * w, 3, mode="constant") / n
        var += np.maximum(m2 - m1 * m1, 0.0)
    return float(np.median(np.sqrt(var / ch.shape[0])[comp]))


def _sun_directions(px: float) -> List[np.ndarray]:
    """Per direction (``SUN_DIRS`` around the circle), the structuring element whose dilation of
    a block is the ground within ``SHADOW_REACH_M`` of it on that side (a line of offsets)."""
    reach = max(2, int(round(SHADOW_REACH_M / px)))
    out = []
    for a in np.linspace(0.0, 2.0 * math.pi, SUN_DIRS, endpoint=False):
        se = np.zeros((2 * reach + 1, 2 * reach + 1), bool)
        for k in range(1, reach + 1):
            se[reach + int(round(k * math.sin(a))), reach + int(round(k * math.cos(a)))] = True
        out.append(se)
    return out


def _side_shadow(sl, comp: np.ndarray, m: np.ndarray, shadow: np.ndarray, dirs: List[np.ndarray]) -> np.ndarray:
    """Share of shadowed ground beside a block, per direction (NaN where there is too little
    ground: the image's edge, other boxes). ``comp``: the block's mask in slice ``sl`` of the
    window; ``m``: the box mask and ``shadow`` the shadowed pixels of the window; ``dirs``: from
    :func:`_sun_directions`."""
    reach = dirs[0].shape[0] // 2
    h, w = m.shape
    r0, r1 = max(sl[0].start - reach, 0), min(sl[0].stop + reach, h)
    c0, c1 = max(sl[1].start - reach, 0), min(sl[1].stop + reach, w)
    blk = np.zeros((r1 - r0, c1 - c0), bool)
    blk[sl[0].start - r0:sl[0].stop - r0, sl[1].start - c0:sl[1].stop - c0] = comp
    blk |= ndimage.binary_closing(blk, np.ones((3, 3), bool))
    ground = ~blk & ~m[r0:r1, c0:c1]
    sh = shadow[r0:r1, c0:c1]
    out = np.full(len(dirs), np.nan)
    for i, se in enumerate(dirs):
        band = ndimage.binary_dilation(blk, se) & ground
        if band.sum() >= 3:
            out[i] = float(sh[band].mean())
    return out


def _unshadowed_small_blocks(shares: Dict[int, np.ndarray], small: set) -> set:
    """Small blocks that stand too high or too low to be boxes (ids among ``small``).

    A stack of boxes stands on the ground, 2.6-13 m high, and its shadow touches it on
    the side away from the sun. The house and girders of a yard crane (rubber-tyred
    gantry, straddle carrier: 15-21 m) cast their shadow several metres away from
    themselves, with the lit ground between; a slab or a painted marking casts none.
    ``shares``: per block of the image (id: shadow beside it per direction,
    :func:`_side_shadow`). The side the sun casts to is where the blocks have the most
    shadow beside them in sum; the shadow to expect there is the upper quartile of the
    blocks' (a stack, a loaded trailer). When that is under ``SUN_SHADOW_MIN`` (a sun
    high enough to leave short shadows; too few blocks) nothing is judged."""
    if not small or len(shares) < 8:
        return set()
    v = np.array(list(shares.values()))
    k = int(np.argmax(np.nansum(v, axis=0)))
    col = v[:, k][np.isfinite(v[:, k])]
    if col.size < 8:
        return set()
    expect = float(np.percentile(col, 75))
    if expect < SUN_SHADOW_MIN:
        return set()
    return {i for i in small if np.isfinite(shares[i][k]) and shares[i][k] < SHADOW_REL * expect}


def _colourless_piece(pix: np.ndarray, ground: np.ndarray, fine: bool = True) -> bool:
    """Area mode: is a covered piece (pixels ``pix`` (3, n), lit ground under it (3, n)) one
    colourless material rather than a block of boxes?

    At 2-5 m a pixel of a container block mixes boxes painted in the lines' colours, so
    the pixels of a block are coloured: their median chroma (max - min band) is a sixth or
    more of the ground's brightness (0.22-0.40 over the synthetic yards' blocks, whose lines
    mix red, blue, green, orange, white and grey boxes). What stands in a yard besides boxes
    is colourless: the white cabins and grey steel of straddle carriers and cranes, light
    masts, white roofs, slabs (chroma 0.06-0.15 of the ground's brightness in the emptied
    synthetic yards). A dark piece is held to a lower limit: a coal heap (or a tarred roof)
    is dark and neutral, and the chroma of a dark block is smaller in linear units -- a
    test in linear units, as chromaticity ratios of dark pixels are dominated by noise."""
    gb = max(float(np.median(ground.mean(axis=0))), 1e-3)
    chroma = float(np.median(pix.max(axis=0) - pix.min(axis=0)))
    if chroma < AREA_NEUTRAL_T * gb and float(np.median(pix.mean(axis=0))) < gb:
        return True
    # (``fine``: pixels no larger than a box; a coarser pixel mixes several boxes and its
    # paint is greyer, and only the dark-and-neutral test is made)
    return fine and chroma < AREA_COLOURLESS_T * gb


def _block_ok(boxes: List[_Box], comp_area_px: float, p: _Params) -> bool:
    """A block is containers when its boxes explain its area and differ in colour."""
    if not boxes:
        return False
    box_area = sum(b.area_px for b in boxes)
    if box_area < 0.45 * comp_area_px * (1.0 - 0.3 * (p.sensitivity - 0.5)):
        return False
    if len(boxes) >= 4:
        # a yard block mixes lines' colours; a roof, a heap or a slab is one colour throughout
        rgb = np.array([b.rgb for b in boxes], np.float64)
        lc = np.log(np.clip(rgb, 0.0, None) + 0.02)
        spread = float(np.median(np.sqrt(((lc - np.median(lc, axis=0)) ** 2).mean(axis=1))))
        if spread < VARIETY_T:
            return False
        if len(boxes) >= 8:
            # colour apart from brightness: ribs, skylights and shade vary a roof's
            # brightness, not its hue; a yard block's lines paint boxes in many hues
            if _hue_spread(rgb) < HUE_VARIETY_T and not (p.px <= ROW_ENDS_MAX_M
                                                         and _hue_spread(rgb, 75.0) >= HUE_QUARTER_T):
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


def _components(mask: np.ndarray, min_px: float):
    """(slice, component mask within it, pixel count) of each 4-connected piece of ``mask``
    with at least ``min_px`` pixels."""
    lab, _n = ndimage.label(mask)
    for i, sl in enumerate(ndimage.find_objects(lab)):
        if sl is None:
            continue
        comp = lab[sl] == i + 1
        npx = int(comp.sum())
        if npx >= min_px:
            yield sl, comp, npx


def _geoms_in_raster(geoms, bounds, what):
    verb, it = ("do", "them") if what.endswith("s") else ("does", "it")
    return union_over(geoms, bounds,
                      f"The {what} {verb} not overlap the image: draw {it} over the image (in its CRS) or "
                      "choose another layer.",
                      empty=f"The {what} layer has no geometry: draw or choose at least one polygon.")


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


def _water_in(wsrc, g: BaseGeometry) -> bool:
    """Any water pixel of the water raster inside polygon ``g`` (raster CRS)."""
    win = window_from_bounds(*g.bounds, wsrc.transform).round_offsets().round_lengths()
    win = win.intersection(Window(0, 0, wsrc.width, wsrc.height)) if win.width > 0 and win.height > 0 else None
    if win is None or win.width < 1 or win.height < 1:
        return False
    w = wsrc.read(1, window=win) == 1
    inside = features.rasterize([(g, 1)], out_shape=w.shape, transform=wsrc.window_transform(win), fill=0,
                                all_touched=True).astype(bool)
    return bool((w & inside).any())


def _read_water(wsrc, bounds_geom, shape):
    win = window_from_bounds(*bounds_geom.bounds, wsrc.transform)
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
        notes.append(f"Bands: {roles.describe()} (the NIR band, when there is one, only for the computed water "
                     "mask).")
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
        box_mode = px_m <= BOX_MODE_MAX_M * 1.05  # a nominal 1 m product is 1.0002 m on the ellipsoid
        mode = "boxes" if box_mode else "area"
        s = float(sensitivity)
        params = _Params(px=px_m, box_mode=box_mode, sensitivity=s,
                         ground_t=(GROUND_T if box_mode else GROUND_T_AREA) - 0.12 * (s - 0.5))
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
            boxes_out = []  # (polygon in CRS, _Box, block id)
            # small blocks are judged by their shadow at 0.6-1 m (finer: the row-ends test)
            judge_sun = box_mode and px_m > ROW_ENDS_MAX_M
            dirs = _sun_directions(px_m) if judge_sun else []
            shares: Dict[int, np.ndarray] = {}  # block id: shadow beside the block, per direction
            small = set()  # ids of blocks of at most SMALL_BLOCK_MAX cells
            nblocks = 0
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
                m, bright, chroma, gl_area = _container_mask(x, valid, params)
                cr0 = int(core.row_off - read.row_off)
                cc0 = int(core.col_off - read.col_off)
                cr1, cc1 = cr0 + int(core.height), cc0 + int(core.width)
                if box_mode:
                    closed = ndimage.binary_closing(m, np.ones((3, 3), bool)) | m
                    gb = gl_area.mean(axis=0)
                    shadow = bright < SHADOW_CELL_REL * gb if judge_sun else None
                    for sl, comp, npx in _components(closed, 0.6 * TEU_M2 / (px_m * px_m)):
                        bxs = _block_boxes(sl, comp & m[sl], m, x, bright, params, colour_scale, gb)
                        if not _block_ok(bxs, npx, params):
                            continue
                        mine = [b for b in bxs if cr0 <= b.corners[:, 1].mean() < cr1
                                and cc0 <= b.corners[:, 0].mean() < cc1]
                        if not mine:
                            continue
                        bid = nblocks
                        nblocks += 1
                        if judge_sun and (len(bxs) <= SMALL_BLOCK_MAX or len(shares) < SUN_REF_MAX_BLOCKS):
                            shares[bid] = _side_shadow(sl, comp, m, shadow, dirs)
                            if len(bxs) <= SMALL_BLOCK_MAX:
                                small.add(bid)
                        for b in mine:
                            pts = [rtf * (float(px_), float(py_)) for px_, py_ in b.corners]
                            boxes_out.append((Polygon(pts), b, bid))
                else:
                    core_box = (cr0, cr1, cc0, cc1)
                    tex = None  # local brightness texture of the window: the score of its blocks
                    for sl, comp, npx, poly_mask in _area_pieces(m, x, gl_area, px_m, core_box):
                        shapes = features.shapes(poly_mask.astype(np.uint8), mask=poly_mask,
                                                 transform=window_transform(
                                                     Window(read.col_off + sl[1].start, read.row_off + sl[0].start,
                                                            comp.shape[1], comp.shape[0]), src.transform))
                        poly = unary_union([_shape(g) for g, _ in shapes])
                        rgb = x[:, sl[0], sl[1]][:, comp].mean(axis=1)
                        if tex is None:
                            tex = _texture(bright, valid)
                        blocks_out.append((poly, npx, _colour_name(rgb, colour_scale),
                                           float(min(1.0, tex[sl][comp].mean() / 0.06))))
            # ------------------------------------------------------------------ stacks
            stacks: List[Stack] = []
            if box_mode:
                drop = _unshadowed_small_blocks(shares, small)
                if drop:
                    notes.append(f"{len(drop)} small block(s) without a shadow beside them on the side away from "
                                 "the sun were dropped (yard cranes' houses and girders stand higher than boxes).")
                for poly, b, bid in boxes_out:
                    if bid in drop:
                        continue
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
                yard_list = _auto_yards(stacks, crs_units_per_metre(src.transform, scale), stack_tiers,
                                        (lambda g: _water_in(wsrc, g)) if wsrc is not None else None,
                                        close_m=max(AUTO_CLOSE_M, 4.0 * px_m),
                                        min_m2=AUTO_MIN_M2 if box_mode else AUTO_MIN_M2_AREA)
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


def _fine_pixels(px_m: float) -> bool:
    """Area mode: is a pixel no larger than one box's footprint (at most about 3.8 m)?"""
    return px_m * px_m <= TEU_M2


def _one_material(x: np.ndarray, gl: np.ndarray, comp: np.ndarray, npx: int, px_m: float) -> Optional[str]:
    """Area mode: why a piece (mask ``comp`` over the crops ``x`` (3, h, w) of the image and
    ``gl`` of the lit ground, pixels of ``px_m``) is not a block of boxes, or None when it
    may be one. The change of hue from pixel to pixel, and colour in a bright piece, are asked
    for only where a pixel is no larger than a box's footprint: a coarser pixel averages
    several boxes (six at 10 m), and a block is then as smooth in hue as a heap (0.05 over
    Busan's terminals at 8 m) and greyer than its boxes."""
    fine = _fine_pixels(px_m)
    pix = x[:, comp]
    if npx >= 8 and _hue_spread(pix.T) < AREA_HUE_T:
        return "one hue throughout: a roof, a heap, a slab"
    if npx >= 8 and fine and _local_hue_change(x, comp) < AREA_LOCAL_HUE_T:
        return "one material whose hue changes slowly: heaps, roofs, soil"
    if _colourless_piece(pix, gl[:, comp], fine):
        return "colourless: a machine, a white roof, a coal heap"
    med = np.median(pix, axis=1)
    if med[1] > max(med[0], med[2]) + 0.1 * max(float(med.mean()), 0.02):
        return "green throughout: trees and grass"
    return None


def _area_pieces(m: np.ndarray, x: np.ndarray, gl: np.ndarray, px_m: float, core_box):
    """Area mode: the container blocks of one window, as (slice, box pixels, their count,
    block outline) for blocks whose centre lies in the window's core ``(r0, r1, c0, c1)``.

    At 2-5 m a pixel holds a few boxes and the gaps between them, and the boxes whose paint
    is close to the ground's (grey, white) leave holes: a block's box pixels are scattered
    pieces of a few pixels each, and judged one by one a third of a block's pixels fell in
    pieces under the size of two boxes. So the pieces are judged twice. First each piece of
    8 pixels or more on its own (:func:`_one_material`): a heap, a roof, a wood or a lawn is
    one large piece and goes whole. Then what is left is grouped into blocks by a closing of
    one pixel (the holes of a block, not the lanes between blocks, which are wider), and each
    block is judged again and counted whole: its box pixels (not the closed area) make its
    covered area. Judged after the closing only, a wood, the grass beside it and the yard
    next to them joined into one piece of mixed colours."""
    r0, r1, c0, c1 = core_box
    keep = m.copy()
    for sl, comp, npx in _components(m, max(8.0, AREA_MATERIAL_M2 / (px_m * px_m))):
        if _one_material(x[:, sl[0], sl[1]], gl[:, sl[0], sl[1]], comp, npx, px_m):
            keep[sl] &= ~comp
    closed = ndimage.binary_closing(keep, AREA_CLOSE) | keep if _fine_pixels(px_m) else keep
    for sl, block, _n in _components(closed, 1):
        comp = block & keep[sl]
        npx = int(comp.sum())
        if npx < max(2.0, AREA_MIN_TEU * TEU_M2 / (px_m * px_m)):
            continue
        rr, cc_ = np.nonzero(comp)
        cy_, cx_ = rr.mean() + sl[0].start, cc_.mean() + sl[1].start
        if not (r0 <= cy_ < r1 and c0 <= cx_ < c1):
            continue
        if _one_material(x[:, sl[0], sl[1]], gl[:, sl[0], sl[1]], comp, npx, px_m):
            continue
        yield sl, comp, npx, block


def _area_units(g: BaseGeometry, src, scale: GroundScale) -> float:
    """Area of a CRS polygon in output units (m2 on the ground, or px2 without a CRS)."""
    return g.area / crs_units_per_metre(src.transform, scale) ** 2


def _texture(bright: np.ndarray, valid: np.ndarray) -> np.ndarray:
    m1 = ndimage.uniform_filter(bright, 3)
    m2 = ndimage.uniform_filter(bright * bright, 3)
    return np.sqrt(np.maximum(m2 - m1 * m1, 0.0)) * valid


def _closed_regions(polys: List[BaseGeometry], crs_per_m: float, close_m: float) -> List[BaseGeometry]:
    """Polygons closed by ``close_m`` (a morphological closing on a grid of ~close_m/5 cells)."""

    x0, y0, x1, y1 = unary_union([p.envelope for p in polys]).bounds
    cell = close_m / 5.0 * crs_per_m
    pad = close_m * crs_per_m
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    w, h = int(math.ceil((x1 - x0) / cell)), int(math.ceil((y1 - y0) / cell))
    tf = rasterio.transform.from_origin(x0, y1, cell, cell)
    m = features.rasterize([(p, 1) for p in polys], out_shape=(h, w), transform=tf, fill=0,
                           all_touched=True).astype(bool)
    r = 3  # close_m / 2 in cells (rounded)
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disk = (xx * xx + yy * yy) <= r * r
    m = ndimage.binary_closing(np.pad(m, r + 1), disk)[r + 1:-(r + 1), r + 1:-(r + 1)]
    lab, n = ndimage.label(m)
    out = []
    for g, _v in features.shapes(lab.astype(np.int32), mask=m, transform=tf):
        out.append(_shape(g))
    return out


def _auto_yards(stacks: List[Stack], crs_per_m: float, tiers: int,
                water_near: Optional[Callable[[BaseGeometry], bool]] = None, close_m: float = 25.0,
                min_m2: float = 2500.0):
    """Dense groups of stacks: closed union, kept when large, full, compact and bounded.

    A terminal is a compact paved area next to a quay, filled to a good part with
    stacks; a town or a forest that the coarse classifier partly takes in is larger,
    ragged and sparsely "filled". ``water_near(g)``: is there water within
    ``AUTO_WATER_M`` of polygon ``g`` (None: no water mask, not tested)."""
    if not stacks:
        return []
    from shapely.prepared import prep

    geoms = _closed_regions([st.polygon for st in stacks], crs_per_m, close_m)
    out = []
    k = 0
    per_m2 = crs_per_m ** 2
    cents = [st.polygon.centroid for st in stacks]
    for g in sorted(geoms, key=lambda q: (-q.area)):
        if g.is_empty:
            continue
        area_m2 = g.area / per_m2
        if area_m2 < min_m2 or area_m2 > AUTO_MAX_M2:
            continue
        if g.area < AUTO_MIN_SOLIDITY * g.convex_hull.area:
            continue
        if water_near is not None and not water_near(g.buffer(AUTO_WATER_M * crs_per_m, 2)):
            continue
        pg = prep(g)
        inside = [st for st, c in zip(stacks, cents) if pg.contains(c)]
        teu = sum(st.teu for st in inside) / max(tiers, 1)
        occ = sum(st.area_m2 for st in inside)
        if teu < AUTO_MIN_TEU or occ < AUTO_MIN_FILL * area_m2:
            continue
        k += 1
        out.append((g, f"Auto yard {k}"))
    return out
