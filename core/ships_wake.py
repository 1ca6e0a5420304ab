"""Separating a ship under way from its wake (helper of :mod:`quayside.core.ships`).

A ship under way drags a turbulent wake behind its stern: foam whose brightness
is highest right at the stern and decays with the distance behind it (the
turbulent wake of a displacement hull thins out over a few to tens of hull
lengths, and its foam coverage falls off roughly monotonically; Milgram et al.
1993, *IEEE Trans. Geosci. Remote Sens.* 31(2); Peltzer et al. 1992). Next to
the stern the foam can be as bright as the water contrast of a dark hull, so a
threshold on contrast joins the two, and a hull measured on the joined mask is
too long by the bright part of its wake.

The hull and the wake differ in the *shape* of their contrast profile along the
ship's axis: the hull is a plateau (roughly constant, up to deck detail) ended by
a step at the stern, the wake a ramp that falls away from the stern. The
profile is therefore fitted by two pieces, a constant (hull) followed by a
straight line (wake), over every breakpoint (a least-squares change point, as in
binary segmentation; Scott & Knott 1974, Killick et al. 2012). The cut is
accepted only when the trailing piece is markedly dimmer than the plateau on
average, falls away from the hull, and the two-piece fit explains the profile
much better than a single plateau; the stern is then placed where the profile
crosses half-way between the plateau and the wake level at the breakpoint (the
half-contrast rule of the length measurement, with the wake as the
"background").

Behind a dark-painted hull the white foam is *brighter* than the hull: the wake
then steps up from the hull's plateau (at least ``BRIGHT_STEP`` times it) and falls
away from its own start, and the stern is where the profile crosses half-way up
that step. A white deckhouse on such a hull is what a first, least-squares pass
from the bow's half-maximum stumbles on; a second, robust pass (half the median,
absolute deviations) then places the stern (:func:`wake_cut`).
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

DIMMER = 0.75  # the wake piece's mean is below this fraction of the hull plateau
DECLINE = 0.3  # and the line fitted to it falls by at least this fraction of the plateau
MIN_GAIN = 0.35  # the two-piece fit removes at least this share of the one-piece residual
DECAY = 0.3  # the far half of the trail is at least this much dimmer than its near half
MIN_TRAIL = 0.33  # the wake piece is at least this fraction of the hull piece long
BRIGHT_STEP = 2.0  # a wake brighter than its hull starts at least this many times the hull plateau


def _level_fit(y: np.ndarray, robust: bool) -> float:
    """Residual of a constant fitted to ``y``: absolute deviations from the median when ``robust``,
    else squared deviations from the mean."""
    if robust:
        return float(np.abs(y - np.median(y)).sum())
    return float(((y - y.mean()) ** 2).sum())


def _line_fit(y: np.ndarray, x: np.ndarray, robust: bool):
    """Residual (sum of squares, or of absolute values when ``robust``) and slope of a
    least-squares line through (x, y)."""
    if y.size < 2:
        return 0.0, 0.0
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    b = float(((x - xm) * (y - ym)).sum() / sxx) if sxx > 0 else 0.0
    r = y - ym - b * (x - xm)
    return (float(np.abs(r).sum()) if robust else float((r * r).sum())), b


def wake_cut(t: np.ndarray, prof: np.ndarray, side: int, lo: float, hi: float, px: float,
             min_hull: float) -> Optional[float]:
    """Position (same unit as ``t``) of the stern of a hull whose wake trails towards
    ``side`` (+1: increasing ``t``, -1: decreasing), or None when the profile does not
    look like a plateau followed by a decaying wake.

    ``t``/``prof``: the contrast profile along the axis; only samples in [lo, hi] (the
    hypothesis' extent) are used. ``px``: pixel size; ``min_hull``: the shortest hull
    that may remain (same unit).

    Two passes. The first fits a plateau and a line by least squares from the bow's
    half-maximum point. A dark hull under a white deckhouse defeats it: half the
    deckhouse's contrast lies above the dark bow, which is skipped, and the deckhouse is a
    spike on the hull's plateau that squared residuals let dominate the fit. Failing the
    first, the second pass starts at half the profile's *median* and fits with absolute
    deviations (about the hull piece's median and the wake's line)."""
    for start, robust in ((np.max, False), (np.median, True)):
        pos = _wake_cut(t, prof, side, lo, hi, px, min_hull, start, robust)
        if pos is not None:
            return pos
    return None


def _wake_cut(t: np.ndarray, prof: np.ndarray, side: int, lo: float, hi: float, px: float,
              min_hull: float, start=np.max, robust: bool = False) -> Optional[float]:
    """One pass of :func:`wake_cut`: started at half ``start(profile)``, with absolute
    deviations when ``robust``, else squared ones."""
    sel = np.isfinite(prof) & (t >= lo) & (t <= hi)
    if sel.sum() < 8:
        return None
    tt, yy = t[sel], prof[sel]
    if side < 0:
        tt, yy = tt[::-1], yy[::-1]
    # start at the bow's half-contrast point (the blurred rise of the bow is neither
    # plateau nor wake)
    top = float(start(yy))
    i0 = int(np.argmax(yy >= 0.5 * top))
    tt, yy = tt[i0:], yy[i0:]
    if yy.size < 8:
        return None
    x = np.abs(tt - tt[0])  # distance from the free (bow) end
    n = yy.size
    step = x[-1] / max(n - 1, 1)
    min_w = max(2, int(math.ceil(1.5 * px / max(step, 1e-9))))  # the wake piece spans >= 1.5 px
    b_lo = max(2, int(math.ceil(min_hull / max(step, 1e-9))))
    if b_lo >= n - min_w:
        return None
    total = _level_fit(yy, robust)
    if total <= 0:
        return None
    best = None
    for b in range(b_lo, n - min_w + 1):
        sse_h = _level_fit(yy[:b], robust)
        sse_w, slope = _line_fit(yy[b:], x[b:], robust)
        cost = sse_h + sse_w
        if best is None or cost < best[0]:
            best = (cost, b, slope)
    cost, b, slope = best
    plateau = float(np.median(yy[:b]))
    wake = yy[b:]
    if plateau <= 0 or slope > 0:
        return None
    # the wake right behind the stern
    w0 = float(np.median(wake[:min_w]))
    # a wake brighter than its hull (white foam behind a dark-painted hull) must step up from the hull
    # clearly, and falls away from its own start rather than from the hull's level
    bright = float(wake.mean()) > DIMMER * plateau
    if bright and w0 < BRIGHT_STEP * plateau:
        return None
    ref = w0 if bright else plateau
    # a trail, not the taper of a pointed bow or stern: longer than 3 px and than a
    # third of the hull left
    if float(x[-1] - x[b]) < max(3 * px, MIN_TRAIL * float(x[b])):
        return None
    # decaying all along (not a stretch of deck that ends in the blurred edge of the far end):
    # the far half of the trail, short of its last pixel, is markedly dimmer than the near half
    body = wake[: max(2, wake.size - int(round(px / max(step, 1e-9))))]
    half = body.size // 2
    if half < 1 or float(body[half:].mean()) > (1.0 - DECAY) * float(body[:half].mean()):
        return None
    # a ramp falling away from the stern (a dark deck behind a bright deckhouse is flat)
    if -slope * float(x[-1] - x[b]) < DECLINE * ref:
        return None
    if cost > (1.0 - MIN_GAIN) * total:
        return None
    # half-way between the plateau and the wake right behind the stern: a step down (a wake dimmer than
    # the hull) or up (a brighter one)
    level = 0.5 * (plateau + w0) if bright else 0.5 * (plateau + min(w0, plateau))
    hull_side = (yy <= level) if bright else (yy >= level)
    j = b
    while j > 1 and not hull_side[j - 1]:
        j -= 1
    while j < n - 1 and hull_side[j]:
        j += 1
    # interpolate the crossing between samples j-1 (hull side) and j (wake side)
    y0, y1 = yy[j - 1], yy[j]
    f = (y0 - level) / (y0 - y1) if hull_side[j - 1] and not hull_side[j] and y0 != y1 else 0.0
    return float(tt[j - 1] + f * (tt[j] - tt[j - 1]))
