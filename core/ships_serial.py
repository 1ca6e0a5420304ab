"""Ships moored nose to tail (helper of :mod:`quayside.core.ships`).

Along a busy pier, ships lie one behind the other with a few metres to a few
tens of metres between bow and stern. At coarse resolution (Sentinel-2, 10 m)
that gap is a pixel or less, so the land mask joins the line of hulls into
one body, bounded by the pier on one side and water on the other, that is
too long, or too slim for its beam, to be one hull: the shape tests reject it
and every ship in the line is missed.

Such a body is cut across its axis, as little as needed: the colour averaged
across the beam is profiled along the axis, and a cut is scored by the step of
that colour between the two sides (two hulls of different paint or cargo), and
by the dip of the contrast to water (the gap of water between bow and stern,
even when it is narrower than a pixel). The best-scoring cut that leaves two
pieces at least the minimum length is taken, and pieces that are still
implausible (longer than the maximum length or slimmer than a hull) are cut
again (binary segmentation: Scott & Knott 1974; Killick et al. 2012). The cuts
stop when every piece is a plausible hull or no cut is significant; the pieces
are then tested like any other hypothesis.
"""

from __future__ import annotations

import math
from typing import List

import numpy as np
from scipy import ndimage

FORCE_COL = 2.0  # a body that would pass as one hull is cut only where the colour steps this much
FORCE_GAP = 0.5  # and the contrast dips by this fraction of DIP
FORCE_SCORE = 1.0
DIP = 0.35  # a gap: the contrast to water falls by this share below both neighbouring stretches


def split_serial(m: np.ndarray, r0: int, c0: int, theta: float, xs: np.ndarray, d: np.ndarray, x_m: float,
                 y_m: float, min_len: float, max_len: float, max_elong: float, step_k: float,
                 force: bool = False) -> List[np.ndarray]:
    """Masks (frame of ``m``, whose [0, 0] is block pixel (r0, c0)) of the pieces of a
    line of hulls along axis ``theta`` (see the module docstring), or [] when the body
    cannot be cut into plausible hulls. ``xs``: colour in noise units (bands, h, w);
    ``d``: contrast to water; ``step_k``: the colour step (noise units) that counts.
    ``force``: also cut bodies that would pass as one hull, where a cut is clearly
    significant (coarse pixels, where the gap between hulls is not resolved)."""
    rows, cols = np.nonzero(m)
    if rows.size < 6:
        return []
    px = math.sqrt(x_m * y_m)
    ux, uy = math.cos(theta), math.sin(theta)
    gx = (cols + c0) * x_m
    gy = (rows + r0) * y_m
    u = gx * ux + gy * uy
    v = -gx * uy + gy * ux
    step = 0.5 * px
    ub = np.floor((u - u.min()) / step).astype(int)
    nb = int(ub.max()) + 1
    if nb < 8:
        return []
    cnt = np.bincount(ub, minlength=nb).astype(float)
    nband = xs.shape[0]
    col = np.stack([np.bincount(ub, xs[b, rows + r0, cols + c0], nb) for b in range(nband)])
    dsum = np.bincount(ub, d[rows + r0, cols + c0], nb)
    lag = max(2, int(round(1.5 * px / step)))  # compare 1.5 px on either side of a cut
    # cumulative sums: means over any stretch of bins in O(1)
    ccol = np.concatenate([np.zeros((nband, 1)), np.cumsum(col, axis=1)], axis=1)
    cd = np.concatenate([[0.0], np.cumsum(dsum)])
    ccnt = np.concatenate([[0.0], np.cumsum(cnt)])

    def mean(a, b):
        n = ccnt[b] - ccnt[a]
        if n <= 0:
            return None, None, 0.0
        return (ccol[:, b] - ccol[:, a]) / n, (cd[b] - cd[a]) / n, n

    def cut_score(i):
        """Significance (>= 1: significant) of a cut before bin ``i``."""
        ca, da, na = mean(max(0, i - lag), i)
        cb, db, nb_ = mean(i, min(nb, i + lag))
        if ca is None or cb is None:
            return 0.0, 0.0
        noise = math.sqrt(1.0 / na + 1.0 / nb_)
        stepc = float(np.sqrt(np.mean((ca - cb) ** 2)))
        s_col = stepc / (step_k * (1.0 + 3.0 * noise))
        # the narrowest point of the contrast between the two sides (a gap of water)
        _, dm, nm = mean(max(0, i - 1), min(nb, i + 1))
        ref = min(da, db)
        s_gap = (1.0 - dm / ref) / DIP if (nm > 0 and ref > 0) else 0.0
        return max(s_col, s_gap), min(s_col / FORCE_COL, s_gap / FORCE_GAP)

    def plausible(a, b):
        sel = (ub >= a) & (ub < b)
        if sel.sum() < 3:
            return False
        length = (b - a) * step
        width = math.sqrt(12.0 * float(np.var(v[sel]))) + 0.5 * px
        return length <= max_len + 1.5 * px and width + px >= length / max_elong

    min_piece = max(min_len - 1.5 * px, 2 * px)
    min_bins = int(math.ceil(min_piece / step))
    both = np.array([cut_score(i) for i in range(nb)]).reshape(-1, 2)
    scores = both[:, 0]
    # a body that would pass as one hull is cut only where the colour steps *and* the contrast
    # dips at the same place: a change of paint with a gap of water between (the colour of one
    # hull changes along it too, at its deckhouse, hatches and cargo, but without a gap)
    gaps = both[:, 1]
    segs = [(0, nb)]
    done = []
    while segs:
        a, b = segs.pop()
        ok = plausible(a, b)
        lo, hi = a + min_bins, b - min_bins
        i = lo + int(np.argmax(scores[lo:hi + 1])) if hi > lo else None
        if ok:
            g = lo + int(np.argmax(gaps[lo:hi + 1])) if hi > lo else None
            if force and g is not None and gaps[g] >= FORCE_SCORE and plausible(a, g) and plausible(g, b):
                segs += [(a, g), (g, b)]
            else:
                done.append((a, b))
            continue
        if i is None or scores[i] < 1.0:
            continue  # cannot be cut into hulls: not a line of ships
        segs += [(a, i), (i, b)]
    if len(done) < 2:
        return []
    out = []
    for a, b in done:
        sel = (ub >= a) & (ub < b)
        part = np.zeros_like(m)
        part[rows[sel], cols[sel]] = True
        lab, n = ndimage.label(part, structure=np.ones((3, 3), bool))
        if n > 1:
            part = lab == (1 + int(np.argmax(np.bincount(lab.ravel())[1:])))
        out.append(part)
    return out
