"""Object-level decisions on change candidates (used by :mod:`quayside.core.change`).

A candidate is a connected region of the change mask. Each is decided from what
is inside it and around it, at each date, rather than pixel by pixel:

* **Water.** Share of the region that is water at each date (water masks). Water
  at both dates is dropped (vessels that moved, plumes, glint). Water at one date
  only is a ``water_to_land`` / ``land_to_water`` change *unless* the region sits in
  open water (its surroundings are water at both dates) and what is not water
  looks unlike the stable land next to it: a vessel that arrived or left, not
  land reclaimed or lost (a pier extension continues the pier's own surface).
  A small water body that the scene-wide water mask leaves out (a pond only a few
  metres wide) is recognised locally: the region is dark at one date, its
  surroundings are not, and no raised object beside it could cast it as a shadow.
* **Raised structures** (Huang, Zhang & Zhu 2014): a new building is where the
  Morphological Building Index rises above the scene's building threshold
  (Otsu on the MBI histogram of both dates) and by more than a margin; a removed
  one where it falls. The footprint is those pixels only, cleaned by a small
  opening and hole filling, so new paving, a shadow or an earthwork around a new
  building is not counted in its area. The index of a roof larger than its structuring
  elements is patchy (a warehouse's skylights and ridge break it further): a piece
  that is not shaped like a roof is grown over the connected, outline-free pixels of
  its own interior's colour, within twice that colour's own spread (seeded region
  growing, Adams & Bischof 1994), and kept grown when the whole is shaped like a
  roof. A footprint needs roof evidence over most
  of it *and* either a cast shadow beside it at the date it stands (looked for all
  around the footprint: the sun's direction is not estimated) or a compact,
  rectangular outline (Ok 2013; Sirmacek & Unsalan 2009 use the same shadow cue).
  A roof of the same grey as new paving around it has no index of its own: the image's
  flat segments that cast a shadow are roofs when rectangular, and one that is not (roof and
  paving as one) is opened with discs of growing radius until rectangular pieces are left
  (the paving strips that stick out beyond the roof go). The strip along the roof's far sides
  stays, so the piece is bounded by its walls: each side of its rectangle along which a shadow
  came (went) with it is a down-sun wall, and the roof reaches across it only as far as that
  wall's shadow runs (Ok 2013). A roof piece grown over its own colour is bounded the same way.
  A weak MBI change whose surroundings were in shadow at the other date is the
  sun moving, not a building, and a footprint whose outline stands at both dates
  (the two dates' gradients along it correlate) is a roof whose texture changed
  (re-covered, or its ribs lost in a saturated or hazy image), not a building
  that came or went. Water changes are grown back over the margin that the water
  at both dates took from them, up to the water's edge.
* **Everything else** is ``other_surface`` when the change is strong and wide
  (surface and texture statistics changed, not only pixel positions: a car park
  or a stack of boxes whose cars or boxes moved keeps its local mean and spread),
  and dropped when it is mostly vegetation at either date (seasons: ExG, Woebbecke
  et al. 1995), mostly a shadow at one date only (the sun moved), dark at a date
  and changed in brightness only (a heap's shaded flank, a coal bin under another
  sun: its colour cannot be judged, only a change of texture or from dark to
  bright counts), or in open water and partly water at one date (a vessel).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np
from scipy import ndimage

# evidence raster bands (uint8)
E_LB, E_LA, E_WATER, E_MBI_B, E_MBI_A, E_FLAGS, E_RB, E_BB, E_RA, E_BA, E_SDB, E_SDA = range(12)
N_EVIDENCE = 12
F_SHADOW_B, F_SHADOW_A, F_VEG_B, F_VEG_A = 1, 2, 4, 8
LUM_SCALE = 200.0
MBI_SCALE = 255.0
CHROMA_SCALE = 255.0
SD_SCALE = 1000.0
EXG_VEG = 0.06  # excess green (chromaticity) above which a pixel is vegetation
SHADOW_RATIO = 0.6  # darker than this fraction of its neighbourhood: shadow
SHADOW_MAX_M = 40.0  # widest shadow looked for (metres)
RIB_M = 1.5  # texture finer than this (roof ribs, fittings, cars) is smoothed away before outlines are found
STRUCT_OPEN_M = 3.0  # a built footprint is at least twice this wide (thinner: walls, edges, shifted shadows)
SURFACE_CORE_M = 4.0  # a surface change is at least twice this wide
WATER_COLOUR_DIST = 0.05  # a dark patch this close to the open water's chromaticity is water
POND_SATURATION = 0.1  # or coloured at least this much (distance of (r, b) from neutral grey)
ROOF_COLOUR_DIST = 0.45  # a roof pixel's colour is within this of its roof's (relative brightness + 4 x chroma)
GROW_DIST_MIN = 0.08  # a roof piece grows over pixels at least this near its colour (see _grow_to_roof_colour)
RECT_MIN = 0.55  # a built footprint fills at least this share of its minimum bounding rectangle
RECT_ALONE = 0.75  # ... and this share when no shadow supports it
SHADOW_SUPPORT = 0.3  # share of the ground around a footprint in shadow for the shadow to support it
SEGMENT_RECT = 0.85  # a flat segment is a roof when this rectangular ...
SEGMENT_SHADOW = 0.12  # ... and this much in shadow around it
SEGMENT_SPLIT_M = (3.0, 5.0, 8.0)  # radii (metres) of the openings that split a flat segment into roofs
WALL_SHADOW = 0.4  # a side of a roof piece is a down-sun wall when its shadow runs along this share of it
WALL_TOUCH_M = 3.0  # ... within this distance of it (metres; the outline's blur keeps flat pieces off the shadow)
CHROMA_CHANGE = 0.03  # least change of (r, b) chromaticity of a surface change
MARINE_WATER_SHARE = 0.25  # a surface change in open water that is this much water at one date is a vessel
DARK_TEXTURE_CHANGE = 0.25  # a dark surface's change: its texture changes this much (relative) ...
DARK_BRIGHTNESS_CHANGE = 0.8  # ... or its brightness this much (relative: dark to bright, not darker still)
OUTLINE_SAME = 0.5  # outline gradient correlation above which a footprint stood at both dates ...
OUTLINE_KEPT = 0.8  # ... and above which it certainly did, whatever its building index did (rubble left
# where a building stood keeps part of its outline, about 0.6)
SHADOW_BOTH = 0.1  # cast-shadow support at the other date from which a footprint's shadow stands at both ...
SHADOW_BOTH_TOL = 0.05  # ... when it is no weaker there than at its own date, to this much (rubble left where
# a building stood is often ringed by dark debris: 0.8 against the building's 0.99 on a synthetic port)


DEBUG = False


def _dbg(*a):
    if DEBUG:
        print("   ", *a)


@dataclass
class ObjectContext:
    thr: float  # change-magnitude threshold
    tau_mbi: float  # building threshold on the MBI
    tau_dmbi: float  # minimum MBI rise / fall of a built footprint
    px_m: float
    min_px: int
    clean_r: int
    sun_b: Optional[Tuple[float, float]]
    sun_a: Optional[Tuple[float, float]]
    water_colour: Optional[Tuple[float, float]] = None  # (r, b) chromaticity of the scene's open water
    tau_date: Tuple[float, float] = (0.0, 0.0)  # each date's own building threshold on its MBI (BEFORE, AFTER)


@dataclass
class Decision:
    mask: np.ndarray  # bool, in the object's window
    type: str
    score: float


def evidence_block(xb: np.ndarray, xa: np.ndarray, lb: np.ndarray, la: np.ndarray, water_b: np.ndarray,
                   water_a: np.ndarray, mbi_b: np.ndarray, mbi_a: np.ndarray, px_m: float) -> np.ndarray:
    """The uint8 evidence bands of one block (normalised images ``xb``, ``xa``)."""
    nb = xb.shape[0]
    flags = np.zeros(lb.shape, np.uint8)
    swin = max(5, min(151, int(round(SHADOW_MAX_M / px_m)) | 1))
    sds = []
    for k, (x, lum) in enumerate(((xb, lb), (xa, la))):
        bright = x.max(axis=0)
        # a shadow is darker than the ground around it: the closing (Soille 2003) fills dark structures
        # narrower than SHADOW_MAX_M with the brightness of their surroundings (the MSI's idea); open
        # water, wider, stays dark in the closing and is not a shadow
        local = ndimage.grey_closing(bright, size=(swin, swin))
        shadow = (bright < SHADOW_RATIO * local) & (bright < 0.35) & ~(water_b if k == 0 else water_a)
        flags |= np.where(shadow, F_SHADOW_B if k == 0 else F_SHADOW_A, 0).astype(np.uint8)
        if nb >= 3:
            s = np.clip(x[0], 0, None) + np.clip(x[1], 0, None) + np.clip(x[2], 0, None) + 0.03
            exg = (2 * x[1] - x[0] - x[2]) / s
            flags |= np.where(exg > EXG_VEG, F_VEG_B if k == 0 else F_VEG_A, 0).astype(np.uint8)
        # texture above the scale of ribs and roof fittings: the local spread of a smoothed brightness,
        # high on outlines between surfaces, low inside a roof whether plain or ribbed
        sm = ndimage.gaussian_filter(lum, max(0.7, RIB_M / px_m))
        m1 = ndimage.uniform_filter(sm, 5)
        m2 = ndimage.uniform_filter(sm * sm, 5)
        sds.append(np.sqrt(np.maximum(m2 - m1 * m1, 0)))
    chroma = []
    for x in (xb, xa):
        if nb >= 3:
            s = np.clip(x[:3], 0, None).sum(axis=0) + 0.03
            chroma += [np.clip(x[0], 0, None) / s, np.clip(x[2], 0, None) / s]
        else:
            chroma += [np.zeros_like(lb), np.zeros_like(lb)]

    def u8(v, k):
        return np.clip(np.rint(v * k), 0, 255).astype(np.uint8)

    return np.stack([u8(lb, LUM_SCALE), u8(la, LUM_SCALE), (water_b * 1 + water_a * 2).astype(np.uint8),
                     u8(mbi_b, MBI_SCALE), u8(mbi_a, MBI_SCALE), flags, u8(chroma[0], CHROMA_SCALE),
                     u8(chroma[1], CHROMA_SCALE), u8(chroma[2], CHROMA_SCALE), u8(chroma[3], CHROMA_SCALE),
                     u8(sds[0], SD_SCALE), u8(sds[1], SD_SCALE)])


def _disk(r: int) -> np.ndarray:
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    return (x * x + y * y) <= r * r + 0.5


def _ring(inside: np.ndarray, r: int) -> np.ndarray:
    return ndimage.binary_dilation(inside, _disk(r)) & ~inside


def _down_sun_band(mask: np.ndarray, sun, reach: int) -> np.ndarray:
    band = np.zeros_like(mask)
    ux, uy = sun
    for k in range(1, reach + 1):
        band |= ndimage.shift(mask.astype(np.uint8), (uy * k, ux * k), order=0, mode="constant") > 0
    return band & ~mask


def shadow_support(mask: np.ndarray, shadow: np.ndarray, sun, px_m: float) -> float:
    """Share of the ground just down-sun of ``mask`` that is in shadow (all around it when the sun's
    direction is not known)."""
    reach = max(2, int(round(4.0 / px_m)))
    band = _ring(mask, reach) if sun is None else _down_sun_band(mask, sun, reach)
    if band.sum() < 3:
        return 0.0
    return float(shadow[band].mean())


def rectangularity(mask: np.ndarray) -> float:
    """Area over the area of the minimum-area bounding rectangle (1 for a rectangle)."""
    return _min_rectangle(mask)[0]


def _min_rectangle(mask: np.ndarray) -> Tuple[float, float]:
    """(:func:`rectangularity`, the angle in radians of the minimum-area bounding rectangle's first axis,
    searched in steps of 3 degrees)."""
    ys, xs = np.nonzero(mask)
    if ys.size < 5:
        return 0.0, 0.0
    pts = np.stack([xs, ys], 1).astype(np.float64)
    pts -= pts.mean(axis=0)
    best, best_a = math.inf, 0.0
    for a in np.radians(np.arange(0, 90, 3)):
        c, s = math.cos(a), math.sin(a)
        u = pts[:, 0] * c + pts[:, 1] * s
        v = -pts[:, 0] * s + pts[:, 1] * c
        area = (u.max() - u.min() + 1) * (v.max() - v.min() + 1)
        if area < best:
            best, best_a = area, float(a)
    return float(ys.size / best), best_a


def _within_shadow_walls(comp: np.ndarray, shadow: np.ndarray, px_m: float) -> np.ndarray:
    """The part of ``comp`` (a flat piece joined to the ground beside a roof of its own colour) that its
    cast shadow outlines. A roof's shadow lies along its down-sun walls: a side of the piece's bounding
    rectangle that the shadow runs along is a wall and bounds the roof; across it, the roof reaches as
    far as that wall's shadow does, not as far as the ground of the same colour (Ok 2013 bounds roofs by
    their shadows likewise). ``comp`` itself when no side has a shadow along it."""
    _, a = _min_rectangle(comp)
    ys, xs = np.nonzero(comp)
    c, s = math.cos(a), math.sin(a)
    u = xs * c + ys * s
    v = -xs * s + ys * c
    # the piece's outline pixels that touch the shadow, each on the side of the rectangle it is nearest
    reach_px = max(2, int(round(WALL_TOUCH_M / px_m)))
    touch = (ndimage.binary_dilation(shadow, iterations=reach_px) & ~ndimage.binary_erosion(comp))[ys, xs]
    tol = 1.0
    lo_u, hi_u, lo_v, hi_v = u.min(), u.max(), v.min(), v.max()
    nearest = np.argmin(np.stack([u - lo_u, hi_u - u, v - lo_v, hi_v - v]), axis=0)
    reach = {}
    # a side in contact with the shadow along at least WALL_SHADOW of its length is a down-sun wall; the
    # shadow's extent along it is the wall's
    for k, (side, along, length) in enumerate((("u0", v, hi_v - lo_v), ("u1", v, hi_v - lo_v),
                                               ("v0", u, hi_u - lo_u), ("v1", u, hi_u - lo_u))):
        on = nearest == k
        sel = on & touch
        if sel.sum() < 5:
            continue
        # the wall: the run of the side that the shadow covers (gaps of up to twice its reach bridged)
        lo = along.min()
        bins = np.zeros(int(along.max() - lo) + 2, bool)
        bins[np.rint(along[sel] - lo).astype(int)] = True
        bins = ndimage.binary_closing(bins, np.ones(2 * reach_px, bool))
        lab, n = ndimage.label(bins)
        if n == 0:
            continue
        run = 1 + int(np.argmax(ndimage.sum(bins, lab, np.arange(1, n + 1))))
        idx = np.flatnonzero(lab == run)
        # (the contact reaches reach_px past the shadow's end)
        span = (lo + idx[0] + reach_px - 1, lo + idx[-1] - reach_px + 1)
        _dbg("side", side, "wall", round(span[1] - span[0]), "of", round(float(length)))
        if span[1] - span[0] >= WALL_SHADOW * length:
            reach[side] = span
    _dbg("shadow walls", sorted(reach))
    if not reach:
        return comp
    # along each axis: a wall on a side bounds the roof there; otherwise the walls across that axis
    # (which meet it at their corners) reach as far as the roof does
    u0 = lo_u if "u0" in reach else min([reach[k][0] for k in ("v0", "v1") if k in reach], default=lo_u)
    u1 = hi_u if "u1" in reach else max([reach[k][1] for k in ("v0", "v1") if k in reach], default=hi_u)
    v0 = lo_v if "v0" in reach else min([reach[k][0] for k in ("u0", "u1") if k in reach], default=lo_v)
    v1 = hi_v if "v1" in reach else max([reach[k][1] for k in ("u0", "u1") if k in reach], default=hi_v)
    keep = (u >= u0 - tol) & (u <= u1 + tol) & (v >= v0 - tol) & (v <= v1 + tol)
    out = np.zeros_like(comp)
    out[ys[keep], xs[keep]] = True
    return out


def outline_correlation(comp: np.ndarray, ev: np.ndarray) -> float:
    """Normalised correlation of the two dates' brightness gradients on a band two pixels either side
    of the footprint's outline: near 1 when the same outline stands at both dates, near 0 when one date
    has it and the other does not (cf. the gradient correlation of :mod:`quayside.core.change`)."""
    band = ndimage.binary_dilation(comp, iterations=2) & ~ndimage.binary_erosion(comp, iterations=2)
    if band.sum() < 10:
        return 0.0
    g = []
    for k in (E_LB, E_LA):
        lum = ndimage.gaussian_filter(ev[k].astype(np.float32) / LUM_SCALE, 0.8)
        g.append((ndimage.sobel(lum, axis=1)[band], ndimage.sobel(lum, axis=0)[band]))
    cross = float(np.sum(g[0][0] * g[1][0] + g[0][1] * g[1][1]))
    eb = float(np.sum(g[0][0] ** 2 + g[0][1] ** 2))
    ea = float(np.sum(g[1][0] ** 2 + g[1][1] ** 2))
    return cross / math.sqrt(eb * ea + 1e-12)


def _components(mask: np.ndarray, min_px: int) -> List[np.ndarray]:
    lab, n = ndimage.label(mask)
    if n == 0:
        return []
    sizes = ndimage.sum(np.ones_like(lab), lab, np.arange(1, n + 1))
    return [lab == i + 1 for i in range(n) if sizes[i] >= min_px]


def _clean(mask: np.ndarray, r: int) -> np.ndarray:
    if r > 0:
        mask = ndimage.binary_opening(mask, _disk(r))
        mask = ndimage.binary_closing(mask, _disk(r))
    return ndimage.binary_fill_holes(mask)


def _colour(ev: np.ndarray, sel: np.ndarray, after: bool) -> np.ndarray:
    if after:
        bands = (E_LA, E_RA, E_BA)
        scales = (LUM_SCALE, CHROMA_SCALE, CHROMA_SCALE)
    else:
        bands = (E_LB, E_RB, E_BB)
        scales = (LUM_SCALE, CHROMA_SCALE, CHROMA_SCALE)
    return np.array([np.median(ev[b][sel]) / s for b, s in zip(bands, scales)])


def _score(x: float) -> float:
    return float(np.clip(1.0 - math.exp(-max(0.0, x)), 0.0, 1.0))


def _colour_distance(ev: np.ndarray, c: np.ndarray, after: bool) -> np.ndarray:
    """Each pixel's distance, at one date, to the colour ``c`` (brightness, r and b chromaticity, as
    :func:`_colour` gives it): relative brightness difference plus four times the chromaticity distance."""
    lb, rb, bb = (E_LA, E_RA, E_BA) if after else (E_LB, E_RB, E_BB)
    lum = ev[lb].astype(np.float32) / LUM_SCALE
    r = ev[rb].astype(np.float32) / CHROMA_SCALE
    b = ev[bb].astype(np.float32) / CHROMA_SCALE
    return np.abs(lum - c[0]) / max(c[0], 0.05) + 4 * np.hypot(r - c[1], b - c[2])


def _interior_colour_distance(comp: np.ndarray, ev: np.ndarray, after: bool, r_open: int):
    """(interior, each pixel's :func:`_colour_distance` to the interior's colour) of a footprint, its
    interior being the footprint eroded by ``r_open``; (interior, None) when that is under 20 px."""
    inner = ndimage.binary_erosion(comp, _disk(max(1, r_open)))
    if inner.sum() < 20:
        return inner, None
    return inner, _colour_distance(ev, _colour(ev, inner, after=after), after)


def _continues_land(ev, new_land, land_ring, after: bool) -> bool:
    """Whether the new (or lost) land looks like the stable land beside it (a pier extended,
    a quay filled), rather than a vessel lying against it."""
    if land_ring.sum() < 5 or new_land.sum() < 5:
        return False
    c_new = _colour(ev, new_land, after=after)
    c_ring = _colour(ev, land_ring, after=after)
    d = abs(c_new[0] - c_ring[0]) / max(c_ring[0], 0.05) + 4 * np.hypot(*(c_new[1:] - c_ring[1:]))
    sd = ev[E_SDA if after else E_SDB].astype(np.float32) / SD_SCALE
    t_new, t_ring = float(np.median(sd[new_land])), float(np.median(sd[land_ring]))
    return bool(d <= 0.2 and abs(t_new - t_ring) <= 0.5 * t_ring + 0.005)


def _like_land(ev, land_ring, after: bool) -> np.ndarray:
    """Pixels whose colour is that of the stable land beside the region."""
    if land_ring.sum() < 5:
        return np.zeros(land_ring.shape, bool)
    d = _colour_distance(ev, _colour(ev, land_ring, after=after), after)
    return ndimage.median_filter(d, 5) <= 0.3


def _trim_to_roof_colour(comp: np.ndarray, ev: np.ndarray, after: bool, r_open: int,
                         ctx: ObjectContext) -> np.ndarray:
    """The part of a roof piece that has the colour of its own interior: bright paving or a
    strip of ground that touches a roof in the MBI is cut off."""
    inner, d = _interior_colour_distance(comp, ev, after, r_open)
    if d is None:
        return comp
    keep = comp & (ndimage.median_filter(d, 5) <= ROOF_COLOUR_DIST)
    keep = ndimage.binary_opening(keep, _disk(max(1, r_open)))
    parts = _components(keep, 1)
    if not parts:
        return np.zeros_like(comp)
    best = max(parts, key=lambda p: int(p.sum()))
    # the outline pixels (blurred between roof and ground) belong to the roof
    return ndimage.binary_fill_holes(ndimage.binary_dilation(best, iterations=1) & comp)


def _grow_to_roof_colour(comp: np.ndarray, ev: np.ndarray, after: bool, region: np.ndarray,
                         r_open: int) -> np.ndarray:
    """``comp`` grown over the connected pixels of ``region`` that have the colour of its own interior
    (:func:`_trim_to_roof_colour`'s distance): the building index of a large roof is patchy (its
    structuring elements are smaller than the roof, and skylights and a ridge break it), so a roof's
    pieces are grown back to the whole uniform surface they lie on."""
    inner, d = _interior_colour_distance(comp, ev, after, r_open)
    if d is None:
        return comp
    # not across an outline
    sd = ev[E_SDA if after else E_SDB].astype(np.float32) / SD_SCALE
    flat = sd < _outline_level(sd, region)
    # as far as the roof's own colour varies: twice the spread of its interior's (seeded region growing)
    dm = ndimage.median_filter(d, 5)
    tol = float(np.clip(2.0 * np.percentile(dm[inner], 90), GROW_DIST_MIN, ROOF_COLOUR_DIST))
    like = ndimage.binary_opening(region & flat & (dm <= tol), _disk(max(1, r_open)))
    lab, n = ndimage.label(like)
    ids = np.unique(lab[inner & like])
    grown = np.isin(lab, ids[ids > 0]) | comp
    # the outline pixels (blurred between roof and ground) belong to the roof
    return ndimage.binary_fill_holes(ndimage.binary_dilation(grown, iterations=2) & region)


def _shaped_like_roof(comp, shadow, sun, ctx: ObjectContext) -> bool:
    """Rectangular enough, and more so when no shadow beside it supports it."""
    rect = rectangularity(comp)
    if rect < RECT_MIN:
        return False
    return rect >= RECT_ALONE or shadow_support(comp, shadow, sun, ctx.px_m) >= SHADOW_SUPPORT


def _roof_segments(inside, lum, sd, shadow, sun, ctx: ObjectContext, shadow_came=None) -> np.ndarray:
    """Uniform, rectangular pieces of the region at one date, bounded by edges and casting a
    shadow on their down-sun side: roofs that are not brighter than their surroundings. ``shadow_came``:
    the shadows of this date that the other date does not have (where a piece split from a larger flat
    segment finds its walls, :func:`_within_shadow_walls`)."""
    tau = 2.0 * float(np.median(sd[inside])) + 0.004
    flat = inside & (sd < tau) & ~shadow
    flat = ndimage.binary_opening(flat, _disk(max(1, ctx.clean_r)))
    out = []
    grow = max(2, int(round(2.0 / ctx.px_m)))

    def roof_like(comp):
        # (rectangularity, whether rectangular and casting a shadow enough for a roof)
        rect = rectangularity(comp)
        sup = shadow_support(comp, shadow, sun, ctx.px_m)
        _dbg("segment", int(comp.sum()), "rect", round(rect, 2), "sup", round(sup, 2))
        return rect, rect >= SEGMENT_RECT and sup >= SEGMENT_SHADOW

    def segment(piece):
        # the outline pixels around the flat piece belong to the roof
        comp = ndimage.binary_dilation(piece, _disk(grow)) & inside & ~shadow
        return (comp,) + roof_like(comp)

    for flat_comp in _components(flat, ctx.min_px):
        comp, rect, ok = segment(flat_comp)
        if ok or rect >= SEGMENT_RECT:
            out += [ndimage.binary_fill_holes(comp)] if ok else []
            continue
        # not a roof as a whole: a roof of the same grey as the paving around it, joined to it by strips;
        # its rectangular pieces, bounded by the walls their new shadow outlines (or the whole, when no
        # opening leaves a rectangle, bounded so and a rectangle then)
        pieces = [c for c, _, ok_ in map(segment, _rectangular_cores(flat_comp, ctx)) if ok_]
        if shadow_came is not None:
            if pieces:
                pieces = [_within_shadow_walls(c, shadow_came, ctx.px_m) for c in pieces]
            else:
                walled = _within_shadow_walls(comp, shadow_came, ctx.px_m)
                pieces = [walled] if walled.sum() < comp.sum() and roof_like(walled)[1] else []
        out += [ndimage.binary_fill_holes(c) for c in pieces]
    return out


def _rectangular_cores(comp: np.ndarray, ctx: ObjectContext) -> List[np.ndarray]:
    """The rectangular pieces left by opening a flat segment ``comp`` with discs of growing radius
    (``SEGMENT_SPLIT_M``; a piece not yet rectangular is opened again with the next radius): a roof of
    the same grey as the paving around it is joined to it only by strips narrower than itself, which
    the opening (by distance transforms) removes."""
    out, todo = [], [comp]
    for r_m in SEGMENT_SPLIT_M:
        r = r_m / ctx.px_m
        left = []
        for c in todo:
            core = ndimage.distance_transform_edt(c) > r
            if not core.any():
                continue
            opened = ndimage.distance_transform_edt(~core) <= r
            for p in _components(opened & c, ctx.min_px):
                (out if rectangularity(p) >= SEGMENT_RECT else left).append(p)
        _dbg("split", int(comp.sum()), "r", r_m, "m ->", [int(p.sum()) for p in out], "left", len(left))
        todo = left
    return out


def _outline_level(sd: np.ndarray, sel: np.ndarray) -> float:
    """The local spread of brightness ``sd`` from which a pixel lies on an outline between surfaces:
    three times its median over ``sel`` (mostly the inside of surfaces), plus a floor."""
    return 3.0 * float(np.median(sd[sel])) + 0.005


def _split_by_edges(roof: np.ndarray, sd: np.ndarray, obj: np.ndarray, ctx: ObjectContext) -> List[np.ndarray]:
    """Pieces of a roof mask, separated where the image has edges (adjacent roofs, or a roof and
    the bright paving strip beside it, touch in the MBI but not in the image)."""
    if not roof.any():
        return []
    core = ndimage.binary_erosion(roof & (sd < _outline_level(sd, obj)), _disk(1))
    lab, n = ndimage.label(core)
    if n == 0:
        return []
    dist, (iy, ix) = ndimage.distance_transform_edt(lab == 0, return_indices=True)
    near = lab[iy, ix]
    near[~roof] = 0
    sizes = ndimage.sum(np.ones_like(near), near, np.arange(1, n + 1))
    out = []
    for i in range(n):
        if sizes[i] >= ctx.min_px:
            comp = ndimage.binary_fill_holes(near == i + 1)
            out.append(comp)
    return out


def _regrow(m: np.ndarray, inside: np.ndarray, lum: np.ndarray, open_water: np.ndarray, r: int) -> np.ndarray:
    """A water change ``m`` grown back, by up to ``r`` pixels, over the rim that the margin around the
    water at both dates took from it (a pier extended reaches the water's edge, not a margin short of
    it): within the candidate region, into the pixels whose brightness ``lum`` at the date it is land
    is nearer the piece's own than the open water's (``open_water``: water at both dates)."""
    if not m.any() or not open_water.any():
        return m
    own, sea = float(np.median(lum[m])), float(np.median(lum[open_water]))
    ring = ndimage.binary_dilation(m, _disk(r)) & inside & ~m
    like = np.abs(lum - own) < np.abs(lum - sea)
    return m | (ring & like)


def decide(inside: np.ndarray, mag: np.ndarray, ev: np.ndarray, ctx: ObjectContext) -> List[Decision]:
    """Typed footprints (masks in the window) for one candidate region, possibly none."""
    water = ev[E_WATER]
    wb_px = (water & 1) > 0
    wa_px = (water & 2) > 0
    r_w = max(1, int(round(4.0 / ctx.px_m)))
    wbd = ndimage.binary_dilation(wb_px, _disk(r_w))
    wad = ndimage.binary_dilation(wa_px, _disk(r_w))
    ring_r = max(2, int(round(6.0 / ctx.px_m)))
    stable_land = ~wbd & ~wad
    # water at both dates is left out (vessels that moved, plumes, glint)
    obj = inside & ~(wbd & wad)
    if obj.sum() < ctx.min_px:
        return []
    ring = _ring(inside, ring_r)
    marine = bool(ring.any() and (wbd & wad)[ring].mean() > 0.2)
    land_ring = ring & stable_land
    _dbg("obj", int(obj.sum()), "wb", round(float(wb_px[inside].mean()), 2),
         "wa", round(float(wa_px[inside].mean()), 2), "marine", marine)

    out: List[Decision] = []
    mbi_b = ev[E_MBI_B].astype(np.float32) / MBI_SCALE
    mbi_a = ev[E_MBI_A].astype(np.float32) / MBI_SCALE
    lb = ev[E_LB].astype(np.float32) / LUM_SCALE
    la = ev[E_LA].astype(np.float32) / LUM_SCALE
    sdb = ev[E_SDB].astype(np.float32) / SD_SCALE
    sda = ev[E_SDA].astype(np.float32) / SD_SCALE
    flags = ev[E_FLAGS]
    sh_b = (flags & F_SHADOW_B) > 0
    sh_a = (flags & F_SHADOW_A) > 0
    dm = mbi_a - mbi_b
    used = np.zeros_like(inside)
    on_water = {True: np.zeros_like(inside), False: np.zeros_like(inside)}
    r_struct = max(ctx.clean_r, int(round(STRUCT_OPEN_M / ctx.px_m)))
    grow = ndimage.binary_dilation(obj, _disk(ctx.clean_r))
    for typ, mbi_on, sign, shadow, sun, lum, sd, water_then in (
            ("new_structure", mbi_a, 1.0, sh_a, ctx.sun_a, la, sda, wbd),
            ("removed_structure", mbi_b, -1.0, sh_b, ctx.sun_b, lb, sdb, wad)):
        # roof pixels: the MBI is high at the date the structure stands and rose (fell) since the other
        # date; a smaller rise counts when the whole footprint's cast shadow appeared (disappeared)
        # (not where the other date is in shadow: a shadow's MBI is nil, so a shadow that moved onto a
        # surface reads as an MBI fall without anything having been removed)
        shade_then = sh_b if sign > 0 else sh_a
        roof = obj & (mbi_on > ctx.tau_mbi) & (sign * dm > 0.25 * ctx.tau_dmbi) & ~shade_then
        # roofs as flat, rectangular, shadow-casting segments (whatever their brightness), then the
        # MBI's roofs elsewhere
        roof = ndimage.binary_opening(roof, _disk(r_struct))
        roof = ndimage.binary_closing(roof, _disk(ctx.clean_r))
        roof = ndimage.binary_fill_holes(roof) & grow & ~used
        comps = [_trim_to_roof_colour(c, ev, sign > 0, r_struct, ctx) for c in _split_by_edges(roof, sd, obj, ctx)]
        kept = np.zeros_like(obj)
        for comp in comps:
            if comp.sum() >= ctx.min_px and _shaped_like_roof(comp, shadow, sun, ctx):
                kept |= comp
        # the shadows that came (went) with the structures
        shadow_came = ndimage.binary_opening(shadow & ~shade_then, _disk(1))
        segs = [c & ~kept for c in _roof_segments(obj & ~ndimage.binary_dilation(kept, _disk(ctx.clean_r)), lum, sd,
                                                  shadow, sun, ctx, shadow_came)
                if float(np.mean(sign * dm[c] > 0.25 * ctx.tau_dmbi)) > 0.5]
        _dbg(typ, "roof px", int(roof.sum()), "segments", [int(c.sum()) for c in segs])
        for comp in comps + segs:
            if comp.sum() < ctx.min_px or (comp & used).sum() > 0.5 * comp.sum():
                continue
            if not _shaped_like_roof(comp, shadow, sun, ctx):
                # a piece of a large roof whose building index is patchy: the whole uniform surface it
                # lies on, when that is shaped like a roof
                grown = _grow_to_roof_colour(comp, ev, sign > 0, obj & ~used, r_struct)
                _dbg(typ, "grown", int(comp.sum()), "->", int(grown.sum()), "rect", round(rectangularity(grown), 2))
                if _shaped_like_roof(grown, shadow, sun, ctx):
                    # grown over ground of the roof's colour too: as far as its shadow outlines it
                    comp = _within_shadow_walls(grown, shadow_came, ctx.px_m) | comp
            rect = rectangularity(comp)
            sup = shadow_support(comp, shadow, sun, ctx.px_m)
            other_shadow, other_sun = (sh_b, ctx.sun_b) if sign > 0 else (sh_a, ctx.sun_a)
            sup_other = shadow_support(comp, other_shadow, other_sun, ctx.px_m)
            rise = float(np.mean(np.maximum(sign * dm[comp], 0)))
            _dbg(typ, int(comp.sum()), "rect", round(rect, 2), "sup", round(sup, 2), "sup_other", round(sup_other, 2),
                 "rise", round(rise, 3), "water_then", round(float(water_then[comp].mean()), 2))
            if not _shaped_like_roof(comp, shadow, sun, ctx):
                continue
            if rise < ctx.tau_dmbi and not (sup >= 0.3 and sup_other < 0.15):
                continue
            oc = outline_correlation(comp, ev)
            _dbg(typ, "outline correlation", round(oc, 2))
            if oc > OUTLINE_KEPT:
                # the same outline stands at both dates: the roof's texture or colour changed (re-covered,
                # or its fine ribs lost in a saturated or hazier image), the building did not come or go
                continue
            if oc > OUTLINE_SAME and sup_other >= SHADOW_BOTH and sup_other >= sup - SHADOW_BOTH_TOL:
                # much of the outline stands at both dates and so does the cast shadow: a roof that
                # saturated or lost its shading at one date (white tanks under a higher gain), not a
                # building come or gone -- rubble keeps part of the outline but casts no shadow
                _dbg(typ, "outline and cast shadow at both dates")
                continue
            used |= comp
            # an edge of a roof that stands at both dates (walls, parallax, shadow moved): not a building
            thin = ndimage.binary_opening(comp, _disk(2 * r_struct)).sum() < 0.5 * comp.sum()
            edge = _ring(comp, 2)
            if thin and ((mbi_b > ctx.tau_mbi) & (mbi_a > ctx.tau_mbi))[edge].mean() > 0.3:
                continue
            comp_ring = _ring(comp, ring_r)
            if (wbd | wad)[comp_ring].mean() > 0.3 and water_then[comp].mean() <= 0.3:
                # on the water's edge (water beside it at either date): a vessel moored or gone, not a building
                _dbg("vessel-like, dropped")
                continue
            if water_then[comp].mean() > 0.3:
                # it stands where there was (or is) water: a pier or quay extended, or a vessel
                on_water[sign > 0] |= comp
                continue
            if sup_other > sup + 0.1 and rise < 2 * ctx.tau_dmbi:
                # a weak MBI change whose surroundings were in shadow at the other date and are not now
                # (or the reverse): the sun moved, nothing was built or removed
                continue
            out.append(Decision(comp, typ, _score(rise / ctx.tau_dmbi - 0.5 + sup)))
    for to_land, m in on_water.items():
        if not m.any():
            continue
        pieces = _components(m, ctx.min_px)
        if marine:
            # keep what continues the stable land beside it (a pier or quay extended); a vessel moored
            # alongside is a different colour and is left out
            m = ndimage.binary_opening(m & _like_land(ev, land_ring, after=to_land), _disk(ctx.clean_r))
            pieces = [p for p in _components(m, ctx.min_px) if (_ring(p, r_w + 2) & stable_land).sum() >= 5]
        for p in pieces:
            p = _regrow(ndimage.binary_fill_holes(p), inside, la if to_land else lb, wb_px & wa_px, r_w)
            out.append(Decision(p, "water_to_land" if to_land else "land_to_water",
                                _score(float(mag[p].mean()) / ctx.thr - 0.5)))
    rest = obj & ~ndimage.binary_dilation(used, _disk(max(1, ctx.clean_r)))
    if rest.sum() < ctx.min_px:
        return out
    cm = float(mag[rest].mean())
    _dbg("rest", int(rest.sum()), "cm/thr", round(cm / ctx.thr, 2))
    w2l = rest & wb_px & ~wad
    l2w = rest & wa_px & ~wbd
    for sel, to_land in ((w2l, True), (l2w, False)):
        if sel.sum() >= 0.5 * rest.sum():
            if marine and not _continues_land(ev, sel, land_ring, after=to_land):
                return out
            out.append(Decision(_regrow(rest, inside, la if to_land else lb, wb_px & wa_px, r_w),
                                "water_to_land" if to_land else "land_to_water", _score(cm / ctx.thr - 0.5)))
            return out
    # pond-like: dark at one date only, not a shadow of something raised beside it
    if ring.any():
        rb, ra = float(np.median(lb[ring])), float(np.median(la[ring]))
        ib, ia = float(np.median(lb[rest])), float(np.median(la[rest]))
        # something raised beside it (a building at either date) would explain a dark patch as its shadow
        raised_near = max(float(np.mean(mbi_b[ring] > ctx.tau_mbi)), float(np.mean(mbi_a[ring] > ctx.tau_mbi))) > 0.1
        tb, ta = float(np.median(sdb[rest])), float(np.median(sda[rest]))
        _dbg("pond?", "in b/a", round(ib, 3), round(ia, 3), "ring b/a", round(rb, 3), round(ra, 3), "sd b/a",
             round(tb, 4), round(ta, 4), "raised_near", raised_near)
        if not raised_near and not marine:
            for dark_after, i_d, r_d, i_l, r_l in ((False, ib, rb, ia, ra), (True, ia, ra, ib, rb)):
                if i_d < 0.55 * r_d and i_l > 0.8 * r_l:
                    c = _colour(ev, rest, after=dark_after)[1:]
                    dist = float(np.hypot(*(c - np.asarray(ctx.water_colour)))) if ctx.water_colour else 1.0
                    sat = float(np.hypot(*(c - 1.0 / 3.0)))
                    _dbg("pond colour distance", round(dist, 3), "saturation", round(sat, 3))
                    # the scene's own water colour, or water of another colour (a green pond, a turbid
                    # one): coloured, unlike asphalt, coal or a shadow, which are nearly neutral
                    if dist < WATER_COLOUR_DIST or sat > POND_SATURATION:
                        out.append(Decision(rest, "land_to_water" if dark_after else "water_to_land",
                                            _score(cm / ctx.thr - 0.5)))
                        return out
    if marine and max(float(wbd[rest].mean()), float(wad[rest].mean())) > MARINE_WATER_SHARE:
        # in open water and partly water at one date, yet neither a water change nor land like the quay
        # beside it: a vessel that came or went (its hull and shadow blur the water mask's edge)
        return out
    veg = ((flags & F_VEG_B) > 0) | ((flags & F_VEG_A) > 0)
    _dbg("veg", round(float(veg[rest].mean()), 2), "one_shadow", round(float((sh_b ^ sh_a)[rest].mean()), 2))
    if veg[rest].mean() > 0.5:
        return out
    # a shadow that moved or came and went is not a surface change: judge what is left without it
    rest = rest & ~(sh_b ^ sh_a)
    if rest.sum() < ctx.min_px:
        return out
    # a wide, strong change of the surface itself (earthworks, paving, a yard filled or cleared)
    core = ndimage.binary_opening(rest, _disk(max(1, int(round(SURFACE_CORE_M / ctx.px_m)))))
    if core.sum() < ctx.min_px:
        return out
    mb, ma = float(np.mean(lb[core])), float(np.mean(la[core]))
    dlum = abs(ma - mb) / (0.5 * (ma + mb) + 0.05)
    tb, ta = float(np.mean(sdb[core])), float(np.mean(sda[core]))
    dtex = abs(ta - tb) / (0.5 * (ta + tb) + 0.01)
    cm_core = float(mag[core].mean())
    _dbg("core", int(core.sum()), "cm_core/thr", round(cm_core / ctx.thr, 2), "dlum", round(dlum, 2),
         "dtex", round(dtex, 2))
    # illumination (sun, haze, shading of heaps) changes brightness, not chromaticity: a surface change
    # of colour images must change the colour
    lit = core & (la > 0.1) & (lb > 0.1)
    if lit.sum() >= ctx.min_px // 2 and ev[E_RB][lit].any():
        cb, ca = _colour(ev, lit, after=False), _colour(ev, lit, after=True)
        _dbg("chroma change", round(float(np.hypot(*(ca[1:] - cb[1:]))), 3))
        if float(np.hypot(*(ca[1:] - cb[1:]))) < CHROMA_CHANGE:
            return out
    if lit.sum() < 0.5 * core.sum() and dtex < DARK_TEXTURE_CHANGE and dlum < DARK_BRIGHTNESS_CHANGE:
        # dark at one date or both (a heap's shaded flank, a shadow, a coal bin), so its colour cannot be
        # judged: only a change of texture, or from dark to bright, tells a surface change from the sun
        # and haze brightening or darkening a dark surface
        return out
    if cm_core >= 1.5 * ctx.thr and max(dlum, dtex) > 0.25:
        # a roof that stood (stands) here and whose own cast shadow went (came): a structure, whatever
        # replaced it (rubble, a roof as bright as the ground before)
        for typ, mbi_on, sh_on, sun_on, sh_off, sun_off in (
                ("removed_structure", mbi_b, sh_b, ctx.sun_b, sh_a, ctx.sun_a),
                ("new_structure", mbi_a, sh_a, ctx.sun_a, sh_b, ctx.sun_b)):
            if float(np.median(mbi_on[core])) > ctx.tau_mbi and rectangularity(core) >= 0.75:
                s_on = shadow_support(core, sh_on, sun_on, ctx.px_m)
                s_off = shadow_support(core, sh_off, sun_off, ctx.px_m)
                _dbg(typ, "by shadow", round(s_on, 2), round(s_off, 2))
                if s_on >= 0.3 and s_off < 0.15:
                    out.append(Decision(ndimage.binary_fill_holes(core), typ, _score(cm_core / ctx.thr - 1.0)))
                    return out
        out.append(Decision(rest & ndimage.binary_dilation(core, _disk(ctx.clean_r)), "other_surface",
                            _score(cm_core / ctx.thr - 0.5)))
    return out

