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


def _line_sse(y: np.ndarray, x: np.ndarray):
    """Residual sum of squares and slope of a least-squares line through (x, y)."""
    if y.size < 2:
        return 0.0, 0.0
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    if sxx <= 0:
        return float(((y - ym) ** 2).sum()), 0.0
    b = float(((x - xm) * (y - ym)).sum() / sxx)
    r = y - ym - b * (x - xm)
    return float((r * r).sum()), b


def wake_cut(t: np.ndarray, prof: np.ndarray, side: int, lo: float, hi: float, px: float,
             min_hull: float) -> Optional[float]:
    """Position (same unit as ``t``) of the stern of a hull whose wake trails towards
    ``side`` (+1: increasing ``t``, -1: decreasing), or None when the profile does not
    look like a plateau followed by a decaying wake.

    ``t``/``prof``: the contrast profile along the axis; only samples in [lo, hi] (the
    hypothesis' extent) are used. ``px``: pixel size; ``min_hull``: the shortest hull
    that may remain (same unit)."""
    sel = np.isfinite(prof) & (t >= lo) & (t <= hi)
    if sel.sum() < 8:
        return None
    tt, yy = t[sel], prof[sel]
    if side < 0:
        tt, yy = tt[::-1], yy[::-1]
    # start at the bow's half-contrast point (the blurred rise of the bow is neither
    # plateau nor wake)
    top = float(np.max(yy))
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
    total = float(((yy - yy.mean()) ** 2).sum())
    if total <= 0:
        return None
    best = None
    for b in range(b_lo, n - min_w + 1):
        h = yy[:b]
        sse_h = float(((h - h.mean()) ** 2).sum())
        sse_w, slope = _line_sse(yy[b:], x[b:])
        cost = sse_h + sse_w
        if best is None or cost < best[0]:
            best = (cost, b, slope)
    cost, b, slope = best
    plateau = float(np.median(yy[:b]))
    wake = yy[b:]
    if plateau <= 0 or slope > 0 or float(wake.mean()) > DIMMER * plateau:
        return None
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
    # a ramp falling away from the hull (a dark deck behind a bright deckhouse is flat)
    if -slope * float(x[-1] - x[b]) < DECLINE * plateau:
        return None
    if cost > (1.0 - MIN_GAIN) * total:
        return None
    # half-way between the plateau and the wake right behind the stern
    w0 = float(np.median(wake[:min_w]))
    level = 0.5 * (plateau + min(w0, plateau))
    j = b
    while j > 1 and yy[j - 1] < level:
        j -= 1
    while j < n - 1 and yy[j] >= level:
        j += 1
    # interpolate the crossing between samples j-1 (>= level) and j (< level)
    y0, y1 = yy[j - 1], yy[j]
    f = (y0 - level) / max(y0 - y1, 1e-9) if y0 >= level > y1 else 0.0
    return float(tt[j - 1] + f * (tt[j] - tt[j - 1]))
