"""Post-classification comparison of buildings (used by :mod:`quayside.core.change`).

The change-magnitude path of :mod:`quayside.core.change` assumes that most of the
overlap did not change: its threshold sits above the "no change" noise floor and
its radiometric fit uses unchanged pixels. A suburb built on former woodland or
bare soil (LEVIR-CD's typical tile) breaks that assumption: nearly everything
changed, so the floor and the fit are meaningless there.

This module compares *classifications* instead (post-classification comparison,
Singh 1989; Coppin et al. 2004), so it needs no unchanged pixels at all. At each
date on its own:

* **Building likelihood.** The Morphological Building Index (Huang & Zhang 2011,
  :mod:`quayside.core.change_morph`) of the date's brightness. Its threshold is
  Otsu's (1979) on the MBI histogram of *that image's* non-vegetated pixels (a
  bimodal "ground / bright compact structure" split), so the threshold follows the
  image's own contrast, sun and season, and a tile that changed everywhere is
  thresholded like any other. Vegetation (excess green, Woebbecke et al. 1995) is
  never a roof.
* **Segmentation.** Building pixels opened by a disc of about 1 m (roof fittings,
  cars and the bright rims of shadows go), connected components.
* **Objects** (decided in :func:`judge`): a footprint between the minimum area and
  ``MAX_AREA_M2``, compact and rectangular (its area fills a good share of its
  minimum-area bounding rectangle: Ok 2013's footprint test), neither on water nor
  surrounded by water at the date it stands (a vessel), and not in open water.

A ``new_structure`` is a building of AFTER whose footprint was *not* building-like
at BEFORE (under 30 % of it is BEFORE building) and whose appearance changed (the
median over the footprint of a relative brightness difference plus four times the
distance of (r, b) chromaticities exceeds ``APPEARANCE_MIN``); a building whose
appearance changed very much counts even where the other date's classification
also fired (bare soil or a car park before a house is often MBI-bright too).
Before that, a footprint is not judged where the other date could not show it (mostly in
a non-vegetated shadow at the other date: the sun moved), nor where it stood in water at
the other date (by the water mask and the scene's water colour at that date: a vessel
that came or left), nor where its own surroundings, or the ground up to
``VESSEL_REACH_M`` beyond them, are water at the date it stands (a vessel's hatch
covers or deck cargo). And a footprint whose *outline* stands at both dates (the
normalised correlation of the two dates' brightness gradients along it exceeds
``OUTLINE_SAME``: a roof re-covered in another colour, a house finished) is not new,
however much its colour changed. ``removed_structure`` is the same with the dates swapped. The change-magnitude
path keeps its own decisions (other_surface, water changes, and its structures);
this path adds the buildings it did not find.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy import ndimage

from .change_objects import (
    CHROMA_SCALE,
    E_BA,
    E_BB,
    E_FLAGS,
    E_LA,
    E_LB,
    E_RA,
    E_RB,
    E_WATER,
    EXG_VEG,
    F_SHADOW_A,
    F_SHADOW_B,
    F_VEG_A,
    F_VEG_B,
    LUM_SCALE,
    OUTLINE_SAME,
    WATER_COLOUR_DIST,
    outline_correlation,
    rectangularity,
)

GROW_M = 3.0  # how far a roof's lit facets grow into its shaded ones (metres) ...
GROW_FRACTION = 0.5  # ... into pixels whose MBI is at least this share of the date's threshold
OPEN_M = 1.0  # radius of the opening of each date's building pixels (metres)
MAX_AREA_M2 = 6000.0  # larger connected "buildings" are fields, yards or bare ground
RECT_MIN = 0.55  # share of the minimum bounding rectangle a footprint fills
OTHER_MAX = 0.3  # at most this share of the footprint is building at the other date ...
APPEARANCE_MIN = 0.25  # ... and its appearance changed at least this much
APPEARANCE_STRONG = 0.5  # ... or changed this much whatever the other date's classification says
HIDDEN_MAX = 0.3  # share of the footprint in shadow at the other date above which it is not judged
WATER_MAX = 0.3  # share of water (at the date it stands) above which a bright compact object is a vessel
VESSEL_REACH_M = 20.0  # how far beyond a footprint the sea around a vessel's hull is looked for (metres)
FAR_WATER_MAX = 0.4  # share of water that far out, at the date it stands, above which it is a vessel

DEBUG = False


def vegetation(x: np.ndarray) -> np.ndarray:
    """Excess-green vegetation of a normalised image (bands, h, w); nothing for fewer than 3 bands."""
    if x.shape[0] < 3:
        return np.zeros(x.shape[1:], bool)
    s = np.clip(x[0], 0, None) + np.clip(x[1], 0, None) + np.clip(x[2], 0, None) + 0.03
    return (2 * x[1] - x[0] - x[2]) / s > EXG_VEG


def mbi_histogram(m: np.ndarray, x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """256-bin histogram (0..1) of the MBI over valid, non-vegetated pixels."""
    sel = valid & ~vegetation(x)
    return np.bincount(np.clip((m[sel] * 255).astype(np.int32), 0, 255), minlength=256).astype(np.float64)


def buildings(m: np.ndarray, x: np.ndarray, valid: np.ndarray, tau: float, px_m: float) -> np.ndarray:
    """Building pixels of one date: MBI above the date's own threshold, not vegetation, opened."""
    land = ~vegetation(x) & valid
    seed = (m > tau) & land
    # a roof's shaded facet has a lower MBI than its lit one: grow the lit facets a few metres into
    # pixels of half the threshold (bounded, so that bare ground beside a roof is not swallowed)
    near = ndimage.binary_dilation(seed, _disk(max(1, int(round(GROW_M / px_m)))))
    b = seed | (near & (m > GROW_FRACTION * tau) & land)
    b = ndimage.binary_opening(b, _disk(max(1, int(round(OPEN_M / px_m)))))
    return ndimage.binary_fill_holes(b)


def _disk(r: int) -> np.ndarray:
    y, x = np.mgrid[-r:r + 1, -r:r + 1]
    return (x * x + y * y) <= r * r + 0.5


def appearance_change(ev: np.ndarray) -> np.ndarray:
    """Per-pixel change of appearance from the evidence bands: relative brightness change plus four
    times the change of (r, b) chromaticity, lightly smoothed."""
    lb = ndimage.gaussian_filter(ev[E_LB].astype(np.float32) / LUM_SCALE, 1.0)
    la = ndimage.gaussian_filter(ev[E_LA].astype(np.float32) / LUM_SCALE, 1.0)
    ch = [ndimage.gaussian_filter(ev[k].astype(np.float32) / CHROMA_SCALE, 1.0) for k in (E_RB, E_BB, E_RA, E_BA)]
    return np.abs(la - lb) / (0.5 * (la + lb) + 0.05) + 4.0 * np.hypot(ch[2] - ch[0], ch[3] - ch[1])


@dataclass
class Verdict:
    type: Optional[str]
    score: float
    reason: str


def judge(comp: np.ndarray, other: np.ndarray, ev: np.ndarray, after: bool, px_m: float, min_px: int,
          px_area_m2: float, water_colours=None) -> Verdict:
    """Whether one date's building component (mask ``comp`` in a window, ``other`` the other date's
    building pixels, ``ev`` the evidence bands) is a new (after) / removed (before) structure;
    ``water_colours``: the (r, b) chromaticity of the scene's open water at BEFORE and at AFTER, when
    known."""
    v = _judge(comp, other, ev, after, px_m, min_px, px_area_m2, water_colours)
    if DEBUG:
        print("   pcc", "after" if after else "before", int(comp.sum()), v.type, v.reason)
    return v


def _judge(comp, other, ev, after, px_m, min_px, px_area_m2, water_colours) -> Verdict:
    d_min = APPEARANCE_MIN
    n = int(comp.sum())
    if n < min_px:
        return Verdict(None, 0.0, "small")
    if n * px_area_m2 > MAX_AREA_M2:
        return Verdict(None, 0.0, "too large for a building")
    rect = rectangularity(comp)
    if rect < RECT_MIN:
        return Verdict(None, 0.0, f"not rectangular ({rect:.2f})")
    water = ev[E_WATER]
    w_now = (water & (2 if after else 1)) > 0
    w_both = (water & 3) == 3
    if w_now[comp].mean() > WATER_MAX:
        return Verdict(None, 0.0, "on water at the date it stands (a vessel)")
    r = max(2, int(round(6.0 / px_m)))
    ring = ndimage.binary_dilation(comp, iterations=r) & ~comp
    if ring.any() and (w_both[ring].mean() > 0.2 or w_now[ring].mean() > WATER_MAX):
        # a building's surroundings are land at the date it stands; a bright compact object in water
        # at that date is a vessel (a pier or quay extended is typed by the change-magnitude path)
        return Verdict(None, 0.0, "in water at the date it stands (a vessel)")
    # a hatch cover or a deck cargo: the hull around it is not water, the sea beyond the hull is
    far = ndimage.binary_dilation(comp, iterations=max(r + 1, int(round(VESSEL_REACH_M / px_m)))) & \
        ~ndimage.binary_dilation(comp, iterations=r)
    if far.any() and w_now[far].mean() > FAR_WATER_MAX:
        return Verdict(None, 0.0, f"water beyond its surroundings at the date it stands ({w_now[far].mean():.2f})")
    # where it stands was water at the other date (a vessel that came or left), by the water mask and by
    # the colour of the scene's open water (dark woodland can fool the mask, not the colour test)
    w_other = (water & (1 if after else 2)) > 0
    rk, bk = (E_RB, E_BB) if after else (E_RA, E_BA)
    water_colour = water_colours[0 if after else 1] if water_colours is not None else None
    if water_colour is not None and w_other[comp].mean() > 0.5:
        dist = np.hypot(ev[rk][comp] / CHROMA_SCALE - water_colour[0], ev[bk][comp] / CHROMA_SCALE - water_colour[1])
        if DEBUG:
            print("   other-date colour distance to the water's", float(np.median(dist)))
        if float(np.median(dist)) < 2 * WATER_COLOUR_DIST:
            return Verdict(None, 0.0, "on water at the other date (a vessel that came or left)")
    # mostly in a (non-vegetated) shadow at the other date: the sun moved, or something tall beside it
    # hid it; a roof is not judged absent where it could not be seen
    flags = ev[E_FLAGS]
    hidden = ((flags & (F_SHADOW_B if after else F_SHADOW_A)) > 0) & ((flags & (F_VEG_B if after else F_VEG_A)) == 0)
    if hidden[comp].mean() > HIDDEN_MAX:
        return Verdict(None, 0.0, f"in shadow at the other date ({hidden[comp].mean():.2f})")
    d = float(np.median(appearance_change(ev)[comp]))
    cover = float(other[comp].mean())
    # the same outline at both dates (a roof re-covered, a house finished): not a new structure
    oc = outline_correlation(comp, ev)
    if oc > OUTLINE_SAME:
        return Verdict(None, 0.0, f"same outline at both dates ({oc:.2f})")
    if d < d_min:
        return Verdict(None, 0.0, f"appearance unchanged ({d:.2f} < {d_min:.2f})")
    if cover >= OTHER_MAX and d < max(APPEARANCE_STRONG, 2 * d_min):
        return Verdict(None, 0.0, f"building at both dates ({cover:.2f}, appearance {d:.2f})")
    score = float(np.clip(1.0 - math.exp(-(d / d_min - 0.5) * (1.0 - cover)), 0.0, 1.0))
    return Verdict("new_structure" if after else "removed_structure", score,
                   f"rect {rect:.2f} d {d:.2f} ring water {w_both[ring].mean():.2f}/{(water[ring] > 0).mean():.2f}")
