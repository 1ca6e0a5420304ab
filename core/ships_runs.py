"""Directional run lengths of a binary mask (helper of :mod:`quayside.core.ships`).

For a direction ``phi`` every pixel lies on exactly one *digital line* of that
direction (a Bresenham-like line built by shearing the grid: along a mostly
horizontal line each step moves one column and ``tan(phi)`` rows, rounded).
The *run* through a land pixel is the maximal stretch of land pixels on its
digital line; :func:`directional_runs` returns, per pixel, the run's length in
ground metres and whether both of its ends stop at water (rather than at the
edge of the array or at invalid pixels, where its true length is unknown).

Shearing is pure index arithmetic, so one direction costs a few passes over
the array (no interpolation, no Python loop over pixels). Runs are exactly a
binary opening by a line segment seen from the other side: a pixel survives
the opening of the land mask by a segment of length ``L`` in direction
``phi`` if and only if its run in that direction is at least ``L`` long
(Soille, *Morphological Image Analysis*, 2003, ch. 9 on line openings and
path openings).
"""

from __future__ import annotations

import math
from typing import Tuple

import numpy as np

# cell codes (STRUCTURE: a known pier or quay; a run may end there on one side only)
WATER, LAND, OUTSIDE, STRUCTURE = 0, 1, 2, 3


def _runs_rows(code: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Run length (pixels) and 'both ends water' flag for LAND cells along rows."""
    h, w = code.shape
    padded = np.full((h, w + 2), OUTSIDE, np.uint8)
    padded[:, 1:-1] = code
    flat = padded.ravel()
    land = flat == LAND
    starts = land.copy()
    starts[1:] &= ~land[:-1]
    ids = np.cumsum(starts, dtype=np.int64)
    ids[~land] = 0
    n = int(ids.max()) if ids.size else 0
    if n == 0:
        z = np.zeros((h, w), np.int32)
        return z, np.zeros((h, w), bool)
    lengths = np.bincount(ids, minlength=n + 1)
    start_idx = np.flatnonzero(starts)
    end_idx = start_idx + lengths[1:] - 1
    ok = np.zeros(n + 1, bool)
    a, b = flat[start_idx - 1], flat[end_idx + 1]
    ok[1:] = ((a == WATER) | (a == STRUCTURE)) & ((b == WATER) | (b == STRUCTURE)) & ((a == WATER) | (b == WATER))
    run = lengths[ids].reshape(h, w + 2)[:, 1:-1]
    good = ok[ids].reshape(h, w + 2)[:, 1:-1]
    run = np.where(land.reshape(h, w + 2)[:, 1:-1], run, 0)
    return run.astype(np.int32), good


def _sheared_runs(code: np.ndarray, t: float) -> Tuple[np.ndarray, np.ndarray]:
    """Runs along digital lines that advance one column and ``t`` rows per step (|t| <= 1)."""
    h, w = code.shape
    off = np.round(np.arange(w) * t).astype(np.int64)
    off -= off.min()
    hh = h + int(off.max())
    sheared = np.full((hh, w), OUTSIDE, np.uint8)
    rows = np.arange(h)[:, None] + off[None, :]
    cols = np.broadcast_to(np.arange(w)[None, :], (h, w))
    sheared[rows, cols] = code
    run_s, ok_s = _runs_rows(sheared)
    return run_s[rows, cols], ok_s[rows, cols]


def directional_runs(code: np.ndarray, phi: float, x_m: float = 1.0, y_m: float = 1.0):
    """Run length (ground metres) through each LAND cell of ``code`` along direction ``phi``.

    ``code`` holds WATER (0), LAND (1), OUTSIDE (2) or STRUCTURE (3); a run is
    bounded ("both ends water") when it ends at water on both sides, or at water
    on one side and at a known structure on the other. ``phi`` is in radians in
    pixel space: 0 = along rows (east), pi/2 = along columns (south). Returns
    (length_m float32 array, both_ends_water bool array); non-land cells get 0.
    """
    c, s = math.cos(phi), math.sin(phi)
    if abs(c) >= abs(s):
        t = s / c
        run, ok = _sheared_runs(code, t)
        step = math.hypot(x_m, t * y_m)
    else:
        t = c / s
        run, ok = _sheared_runs(code.T, t)
        run, ok = run.T, ok.T
        step = math.hypot(y_m, t * x_m)
    return (run * np.float32(step)).astype(np.float32), ok
