"""Morphological building and shadow indices (MBI, MSI) with linear structuring elements.

The Morphological Building Index (Huang & Zhang 2011, "A multidirectional and
multiscale morphological index for automatic building extraction from
multispectral GeoEye-1 imagery", PE&RS 77(7); Huang & Zhang 2012, IEEE JSTARS
5(1)) measures, at each pixel of the brightness image ``b = max(visible bands)``,
how much brighter the pixel is than what linear structuring elements of growing
length, in several directions, can "see" around it: the white top-hat
``TH(s, d) = b - opening(b, line(s, d))``. Its differential profile
``DMP(s) = TH(s + ds, d) - TH(s, d)`` is large for bright structures whose extent
lies between ``s`` and ``s + ds``, and the MBI is the mean of the differential
profiles over directions and lengths. Because the top-hat grows monotonically with
the length, the sum of the differential profiles over the lengths telescopes to
``TH(s_max) - TH(s_min) = opening(s_min) - opening(s_max)``: two openings per
direction are enough, whatever the number of intermediate lengths. A bright roof
(short in every direction) scores high in all four directions; a road or a long
bright strip scores high in one or two only and its mean is lower. The
Morphological Shadow Index (MSI) is the same with the black top-hat (closings) and
marks dark compact structures such as the shadows that raised objects cast.

Huang, Zhang & Zhu (2014, "Building change detection from multitemporal
high-resolution remotely sensed images based on a morphological building index",
IEEE JSTARS 7(1)) compare the MBI of two dates: a new building is an MBI rise, a
demolished one an MBI fall; shadows (MSI) appearing beside it confirm that what
changed is raised.

Openings with a horizontal or vertical line are two one-dimensional min/max
filters (van Herk / Gil-Werman running extrema in scipy: the cost does not depend
on the length); diagonal lines become columns of a sheared copy of the image.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import ndimage


def _shear(img: np.ndarray, fill: float, anti: bool) -> np.ndarray:
    """Copy in which the image's diagonals (anti-diagonals) are columns."""
    h, w = img.shape
    out = np.full((h, w + h - 1), fill, dtype=img.dtype)
    rows = np.arange(h)
    off = (h - 1 - rows) if anti else rows
    cols = off[:, None] + np.arange(w)[None, :]
    out[rows[:, None], cols] = img
    return out


def _unshear(s: np.ndarray, h: int, w: int, anti: bool) -> np.ndarray:
    rows = np.arange(h)
    off = (h - 1 - rows) if anti else rows
    cols = off[:, None] + np.arange(w)[None, :]
    return s[rows[:, None], cols]


def _open_close_1d(a: np.ndarray, length: int, axis: int, opening: bool, outside: np.ndarray = None) -> np.ndarray:
    """Opening (or closing) along ``axis`` with a line of ``length`` pixels; pixels flagged
    ``outside`` (sheared padding) neither block nor feed the line."""
    first, second = (ndimage.minimum_filter1d, ndimage.maximum_filter1d) if opening else \
        (ndimage.maximum_filter1d, ndimage.minimum_filter1d)
    big = np.float32(1e9)
    x = a
    if outside is not None:
        x = np.where(outside, big if opening else -big, a)
    e = first(x, length, axis=axis, mode="nearest")
    if outside is not None:
        e = np.where(outside, -big if opening else big, e)
    return second(e, length, axis=axis, mode="nearest")


def directional_profile(img: np.ndarray, s_min: int, s_max: int, white: bool = True,
                        directions: Sequence[int] = (0, 45, 90, 135)) -> np.ndarray:
    """Mean over directions of ``TH(s_max) - TH(s_min)`` (white top-hat for the MBI,
    black top-hat for the MSI); lengths in pixels (odd lengths are used)."""
    img = np.asarray(img, np.float32)
    h, w = img.shape
    s_min = max(1, int(s_min) | 1)
    s_max = max(s_min + 2, int(s_max) | 1)
    acc = np.zeros((h, w), np.float32)
    for d in directions:
        if d in (0, 90):
            axis = 1 if d == 0 else 0
            a = _open_close_1d(img, s_min, axis, white)
            b = _open_close_1d(img, s_max, axis, white)
        else:
            anti = d == 45
            s = _shear(img, 0.0, anti)
            out = _shear(np.zeros((h, w), bool), True, anti)
            a = _unshear(_open_close_1d(s, s_min, 0, white, out), h, w, anti)
            b = _unshear(_open_close_1d(s, s_max, 0, white, out), h, w, anti)
        acc += (a - b) if white else (b - a)
    return np.maximum(acc / len(directions), 0.0)


def mbi(brightness: np.ndarray, s_min: int, s_max: int) -> np.ndarray:
    """Morphological Building Index of a brightness image (lengths in pixels)."""
    return directional_profile(brightness, s_min, s_max, white=True)


def msi(brightness: np.ndarray, s_min: int, s_max: int) -> np.ndarray:
    """Morphological Shadow Index of a brightness image (lengths in pixels)."""
    return directional_profile(brightness, s_min, s_max, white=False)
